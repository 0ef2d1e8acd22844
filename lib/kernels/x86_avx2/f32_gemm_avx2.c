/* fp32 GEMM, AVX2 + FMA (built with -mavx2 -mfma; reached only through the dispatch table):
 * igq_f32_gemm_fn (kernels.h), the bits of igq__f32_gemm__scalar. The blocking, packing and
 * register tile are f32_gemm_driver.h, here with ymm: a 6 x 16 tile (12 ymm accumulators,
 * 2 B vectors, 1 broadcast = 15 of the 16 ymm registers), always in the GotoBLAS order with A
 * read in place. A packed B panel (KC x 16, 16 KiB) is zero-padded on the right for an N tail,
 * so the k loop loads it unmasked; C, bias and B read in place are masked (vmaskmovps) in the
 * last vector of a tail only, as a masked access costs more than a plain one here. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

#define F32G_MR 6
#define F32G_PANEL_OUTER 0
#define F32G_PACK_A 0
#define F32G_TAIL_MODE(full, packb) ((full) ? F32G_FULL : (packb) ? F32G_TAIL_C : F32G_TAIL_BC)
#define F32G_PF_SECOND 15 /* a B row of the panel is 16 floats: one or two lines */
#define FV __m256
#define FV_LANES 8
#define FV_MASK __m256i
#define FV_ZERO() _mm256_setzero_ps()
#define FV_LOADU(p) _mm256_loadu_ps(p)
#define FV_STOREU(p, x) _mm256_storeu_ps((p), (x))
#define FV_LOADU_MASK(p, m) _mm256_maskload_ps((p), (m))
#define FV_STOREU_MASK(p, m, x) _mm256_maskstore_ps((p), (m), (x))
#define FV_BCAST(p) _mm256_broadcast_ss(p)
#define FV_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define FV_MASK_FIRST(n) \
    _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))

#include "../f32_gemm_driver.h"

IGQ_F32_GEMM_DECL(igq__f32_gemm_6x16__avx2) { f32g_gemm(M, N, K, A, lda, B, bias, C, ldc); }

#else
typedef int igq_f32_gemm_avx2_empty; /* ISO C forbids an empty translation unit */
#endif
