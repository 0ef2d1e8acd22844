/* int32 ymm operations of the integer GEMM driver (qgemm_driver.h) for the levels with 256-bit
 * vectors: AVX2 (vpmaddwd) and AVX-VNNI (vpdpbusd), which differ only in QV_DOT, QGEMM_KR and
 * their staging step. Private header, macros and static inline only; included from files built
 * with at least -mavx2. */
#ifndef IGQ_KERNELS_X86_AVX2_QGEMM_YMM_INL_H
#define IGQ_KERNELS_X86_AVX2_QGEMM_YMM_INL_H

#include <immintrin.h>

#define QGEMM_INLINE static inline __attribute__((always_inline))

#define QGEMM_NV 2 /* tile: 6 rows x 2 ymm (16 columns); 12 accumulators, 2 weight vectors and
                      1 broadcast of the 16 ymm registers */
#define QV __m256i
#define QV_BYTES 32
#define QV_LANES 8
#define QV_MASK __m256i
#define QV_ZERO() _mm256_setzero_si256()
#define QV_LOAD(p) _mm256_load_si256((const __m256i *)(p))
#define QV_LOADU(p) _mm256_loadu_si256((const __m256i *)(p))
#define QV_STOREU(p, x) _mm256_storeu_si256((__m256i *)(p), (x))
#define QV_BCAST(x) _mm256_set1_epi32(x)
#define QV_ADD(x, y) _mm256_add_epi32((x), (y))
#define QV_SRA4(x) _mm256_srai_epi32((x), 4)
#define QV_MASK_FIRST(n) \
    _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define QV_LOADU_MASK(p, m) _mm256_maskload_epi32((const int *)(p), (m))
#define QV_STOREU_MASK(p, m, x) _mm256_maskstore_epi32((int *)(p), (m), (x))
/* f32 vectors of the grouped GEMM (qggemm_driver.h) */
#define QF __m256
#define QF_ZERO() _mm256_setzero_ps()
#define QF_SET1(x) _mm256_set1_ps(x)
#define QF_LOAD(p) _mm256_load_ps(p)
#define QF_STORE(p, x) _mm256_store_ps((p), (x))
#define QF_LOADU(p) _mm256_loadu_ps(p)
#define QF_STOREU(p, x) _mm256_storeu_ps((p), (x))
#define QF_CVT(x) _mm256_cvtepi32_ps(x)
#define QF_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define QF_LOADU_MASK(p, m) _mm256_maskload_ps((p), (m))
#define QF_STOREU_MASK(p, m, x) _mm256_maskstore_ps((p), (m), (x))

#endif
