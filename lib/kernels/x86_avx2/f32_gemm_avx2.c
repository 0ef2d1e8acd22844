/* fp32 GEMM, AVX2 + FMA (built with -mavx2 -mfma; reached only through the dispatch table):
 * igq_f32_gemm_fn (kernels.h), the bits of igq__f32_gemm__scalar. The blocking and packing
 * are f32_gemm_driver.h (always the GotoBLAS order, A read in place); this file gives it a
 * 6 x 16 register tile: 12 ymm accumulators, 2 B vectors, 1 broadcast = 15 of the 16 ymm
 * registers. A packed B panel (KC x 16, 16 KiB) is zero-padded on the right for an N tail, so
 * the k loop never needs a masked load there; C, bias and B read in place are masked
 * (vmaskmovps) in the last vector of a tail. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

#define F32G_MR 6
#define F32G_NR 16
#define F32G_PANEL_OUTER 0
#define F32G_PACK_A 0

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Tail modes of tile(): which accesses to the last 8-column vector are masked. */
#define FULL 0    /* none: all NR' columns exist */
#define TAIL_C 1  /* C / bias loads and C stores (B is a zero-padded packed panel) */
#define TAIL_BC 2 /* C / bias and B (B read in place) */

/* One mr x NR' tile (NR' = 8 or 16 columns: two = NR' > 8). mask selects the existing
 * columns of the last vector. init: row i starts from init + i*ldi, or 0 when NULL.
 * mr, two and mode are compile-time constants at every call. */
ALWAYS_INLINE void tile(const int mr, const int two, const int mode, int64_t kc, const float *a,
                        int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                        const float *init, int64_t ldi, __m256i mask, const float *pf,
                        int64_t pf_ld, int64_t pf_n)
{
    __m256       z = _mm256_setzero_ps();
    __m256       c0a = z, c0b = z, c1a = z, c1b = z, c2a = z, c2b = z;
    __m256       c3a = z, c3b = z, c4a = z, c4b = z, c5a = z, c5b = z;
    const float *a0 = a, *a1 = a, *a2 = a, *a3 = a, *a4 = a, *a5 = a;
    int64_t      k;

#define ROW_PTR(i) if (mr > i) a##i = a + (i) * lda;
    ROW_PTR(1) ROW_PTR(2) ROW_PTR(3) ROW_PTR(4) ROW_PTR(5)
#undef ROW_PTR

/* Load / store of the last vector of a row at p (the first when !two). */
#define LOAD_LAST(p, m) ((m) != FULL ? _mm256_maskload_ps((p), mask) : _mm256_loadu_ps(p))
#define STORE_LAST(p, v) \
    ((mode) != FULL ? _mm256_maskstore_ps((p), mask, (v)) : _mm256_storeu_ps((p), (v)))

    if (init != NULL) {
#define ROW_INIT(i)                                                                  \
        if (mr > i) {                                                                \
            const float *p = init + (i) * ldi;                                       \
            if (two) {                                                               \
                c##i##a = _mm256_loadu_ps(p);                                        \
                c##i##b = LOAD_LAST(p + 8, mode);                                    \
            } else {                                                                 \
                c##i##a = LOAD_LAST(p, mode);                                        \
            }                                                                        \
        }
        ROW_INIT(0) ROW_INIT(1) ROW_INIT(2) ROW_INIT(3) ROW_INIT(4) ROW_INIT(5)
#undef ROW_INIT
    }

    for (k = 0; k < kc; k++) {
        /* One row (16 floats, one or two lines) of the next B panel every 4 k steps. */
        if ((k & 3) == 0 && pf_n > 0) {
            _mm_prefetch((const char *)pf, _MM_HINT_T1);
            _mm_prefetch((const char *)(pf + 15), _MM_HINT_T1);
            pf += pf_ld;
            pf_n--;
        }
        {
        const __m256 b0 = two ? _mm256_loadu_ps(b) : LOAD_LAST(b, mode == TAIL_BC ? 1 : FULL);
        const __m256 b1 = two ? LOAD_LAST(b + 8, mode == TAIL_BC ? 1 : FULL) : z;
#define ROW_FMA(i)                                                                   \
        if (mr > i) {                                                                \
            const __m256 av = _mm256_broadcast_ss(a##i + k);                         \
            c##i##a = _mm256_fmadd_ps(av, b0, c##i##a);                              \
            if (two) c##i##b = _mm256_fmadd_ps(av, b1, c##i##b);                     \
        }
        ROW_FMA(0) ROW_FMA(1) ROW_FMA(2) ROW_FMA(3) ROW_FMA(4) ROW_FMA(5)
#undef ROW_FMA
        }
        b += ldb;
    }

#define ROW_STORE(i)                                                                 \
    if (mr > i) {                                                                    \
        float *p = c + (i) * ldc;                                                    \
        if (two) {                                                                   \
            _mm256_storeu_ps(p, c##i##a);                                            \
            STORE_LAST(p + 8, c##i##b);                                              \
        } else {                                                                     \
            STORE_LAST(p, c##i##a);                                                  \
        }                                                                            \
    }
    ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
#undef ROW_STORE
#undef LOAD_LAST
#undef STORE_LAST
}

/* The driver's tile (f32_gemm_driver.h): tile() instantiated for the runtime row count
 * (1..6), width (8 or 16 columns) and tail mode. */
static void f32g_tile_any(int mr, int nn, int packb, int pa, int64_t kc, const float *a,
                          int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                          const float *init, int64_t ldi, const float *pf, int64_t pf_ld,
                          int64_t pf_n)
{
    const int     two   = nn > 8;
    const int     nlast = two ? nn - 8 : nn;
    const __m256i mask  = _mm256_cmpgt_epi32(_mm256_set1_epi32(nlast),
                                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const int     mode  = nlast == 8 ? FULL : packb ? TAIL_C : TAIL_BC;
    (void)pa; /* F32G_PACK_A is 0 */
#define ARGS kc, a, lda, b, ldb, c, ldc, init, ldi, mask, pf, pf_ld, pf_n
#define CASE(r)                                                                      \
    case r:                                                                          \
        if (mode == FULL) {                                                          \
            if (two) tile(r, 1, FULL, ARGS);                                         \
            else tile(r, 0, FULL, ARGS);                                             \
        } else if (mode == TAIL_C) {                                                 \
            if (two) tile(r, 1, TAIL_C, ARGS);                                       \
            else tile(r, 0, TAIL_C, ARGS);                                           \
        } else {                                                                     \
            if (two) tile(r, 1, TAIL_BC, ARGS);                                      \
            else tile(r, 0, TAIL_BC, ARGS);                                          \
        }                                                                            \
        break;
    switch (mr) {
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
    default: break;
    }
#undef CASE
#undef ARGS
}

/* The driver's B panel copy: dst[k][0:16] = src[k*lds + 0:nn], zero beyond nn, for k < kc. */
static void f32g_pack_panel(int64_t kc, int64_t nn, const float *src, int64_t lds, float *dst)
{
    int64_t k;
    if (nn == F32G_NR) {
        for (k = 0; k < kc; k++, src += lds, dst += F32G_NR) {
            _mm256_storeu_ps(dst, _mm256_loadu_ps(src));
            _mm256_storeu_ps(dst + 8, _mm256_loadu_ps(src + 8));
        }
    } else {
        for (k = 0; k < kc; k++, src += lds, dst += F32G_NR) {
            int64_t n;
            for (n = 0; n < nn; n++) dst[n] = src[n];
            for (; n < F32G_NR; n++) dst[n] = 0.0f;
        }
    }
}

#include "../f32_gemm_driver.h"

void igq__f32_gemm_6x16__avx2(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                              const float *B, const float *bias, float *C, int64_t ldc)
{
    f32g_gemm(M, N, K, A, lda, B, bias, C, ldc);
}

#else
typedef int igq_f32_gemm_avx2_empty; /* ISO C forbids an empty translation unit */
#endif
