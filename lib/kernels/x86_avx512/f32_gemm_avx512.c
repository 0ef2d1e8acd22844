/* fp32 GEMM, AVX-512 (built with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma; uses only
 * AVX-512F + FMA; reached only through the dispatch table): igq_f32_gemm_fn (kernels.h), the
 * bits of igq__f32_gemm__scalar. The blocking and packing are f32_gemm_driver.h, with the
 * panel-outer order and packed A; this file gives it a 12 x 32 register tile: 24 zmm
 * accumulators, the k loop broadcasts A[m][k] and does 24 FMAs with the two B vectors of row k.
 * N tails use masked loads/stores (no padding, no over-read); M tails use the same tile
 * instantiated for 1..11 rows. Packed A (wide N, >= 768 columns, e.g. qkv and fc1): the k loop
 * broadcasts from one stream instead of 12 row pointers (fewer registers, no spills), measured
 * ~5% faster on those shapes. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

#define F32G_MR 12
#define F32G_NR 32
#define F32G_PANEL_OUTER 1
#define F32G_PACK_A 1
#define PF_EVERY 4 /* a row tile prefetches one row of the next B panel per 4 k steps */

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* One mr x NR' tile (mr <= 12 rows, NR' = 16 or 32 columns: two = NR' > 16), with the
 * last 16-column vector masked by mlast. init: row i starts from init + i*ldi (ldi = 0 for
 * bias), or from 0 when init is NULL. mr and two are compile-time constants at every call. */
ALWAYS_INLINE void tile(const int mr, const int two, const int pa, int64_t kc, const float *a,
                        int64_t lda,
                        const float *b, int64_t ldb, float *c, int64_t ldc, const float *init,
                        int64_t ldi, __mmask16 mlast, const float *pf, int64_t pf_ld,
                        int64_t pf_n)
{
    __m512      z = _mm512_setzero_ps();
    __m512      c0a = z, c0b = z, c1a = z, c1b = z, c2a = z, c2b = z, c3a = z, c3b = z;
    __m512      c4a = z, c4b = z, c5a = z, c5b = z, c6a = z, c6b = z, c7a = z, c7b = z;
    __m512      c8a = z, c8b = z, c9a = z, c9b = z, c10a = z, c10b = z, c11a = z, c11b = z;
    const float *a0 = a, *a1 = a, *a2 = a, *a3 = a, *a4 = a, *a5 = a;
    const float *a6 = a, *a7 = a, *a8 = a, *a9 = a, *a10 = a, *a11 = a;
    int64_t      k;

#define ROW_PTR(i) if (mr > i && !pa) a##i = a + (i) * lda;
    ROW_PTR(1) ROW_PTR(2) ROW_PTR(3) ROW_PTR(4) ROW_PTR(5) ROW_PTR(6)
    ROW_PTR(7) ROW_PTR(8) ROW_PTR(9) ROW_PTR(10) ROW_PTR(11)
#undef ROW_PTR

    if (init != NULL) {
#define ROW_INIT(i)                                                                  \
        if (mr > i) {                                                                \
            const float *p = init + (i) * ldi;                                       \
            if (two) {                                                               \
                c##i##a = _mm512_loadu_ps(p);                                        \
                c##i##b = _mm512_maskz_loadu_ps(mlast, p + 16);                      \
            } else {                                                                 \
                c##i##a = _mm512_maskz_loadu_ps(mlast, p);                           \
            }                                                                        \
        }
        ROW_INIT(0) ROW_INIT(1) ROW_INIT(2) ROW_INIT(3) ROW_INIT(4) ROW_INIT(5)
        ROW_INIT(6) ROW_INIT(7) ROW_INIT(8) ROW_INIT(9) ROW_INIT(10) ROW_INIT(11)
#undef ROW_INIT
    }

    for (k = 0; k < kc; k++) {
        /* One row (two lines) of the next B panel every PF_EVERY k steps. */
        if ((k & (PF_EVERY - 1)) == 0 && pf_n > 0) {
            _mm_prefetch((const char *)pf, _MM_HINT_T1);
            _mm_prefetch((const char *)(pf + 16), _MM_HINT_T1);
            pf += pf_ld;
            pf_n--;
        }
        {
        const __m512 b0 = two ? _mm512_loadu_ps(b) : _mm512_maskz_loadu_ps(mlast, b);
        const __m512 b1 = two ? _mm512_maskz_loadu_ps(mlast, b + 16) : z;
#define ROW_FMA(i)                                                                   \
        if (mr > i) {                                                                \
            const __m512 av = _mm512_set1_ps(pa ? a[k * F32G_MR + (i)] : a##i[k]);       \
            c##i##a = _mm512_fmadd_ps(av, b0, c##i##a);                              \
            if (two) c##i##b = _mm512_fmadd_ps(av, b1, c##i##b);                     \
        }
        ROW_FMA(0) ROW_FMA(1) ROW_FMA(2) ROW_FMA(3) ROW_FMA(4) ROW_FMA(5)
        ROW_FMA(6) ROW_FMA(7) ROW_FMA(8) ROW_FMA(9) ROW_FMA(10) ROW_FMA(11)
#undef ROW_FMA
        }
        b += ldb;
    }

#define ROW_STORE(i)                                                                 \
    if (mr > i) {                                                                    \
        float *p = c + (i) * ldc;                                                    \
        if (two) {                                                                   \
            _mm512_storeu_ps(p, c##i##a);                                            \
            _mm512_mask_storeu_ps(p + 16, mlast, c##i##b);                           \
        } else {                                                                     \
            _mm512_mask_storeu_ps(p, mlast, c##i##a);                                \
        }                                                                            \
    }
    ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
    ROW_STORE(6) ROW_STORE(7) ROW_STORE(8) ROW_STORE(9) ROW_STORE(10) ROW_STORE(11)
#undef ROW_STORE
}

/* The driver's tile (f32_gemm_driver.h): tile() instantiated for the runtime row count
 * (1..12), width (16 or 32 columns) and A layout. */
static void f32g_tile_any(int mr, int nn, int packb, int pa, int64_t kc, const float *a,
                          int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                          const float *init, int64_t ldi, const float *pf, int64_t pf_ld,
                          int64_t pf_n)
{
    const int       two   = nn > 16;
    const int       nlast = two ? nn - 16 : nn;
    const __mmask16 mlast = (__mmask16)(nlast == 16 ? 0xffff : (1u << nlast) - 1);
    (void)packb; /* the last vector is masked either way */
#define ARGS kc, a, lda, b, ldb, c, ldc, init, ldi, mlast, pf, pf_ld, pf_n
#define CASE(r)                                                                      \
    case r:                                                                          \
        if (pa && two) tile(r, 1, 1, ARGS);                                          \
        else if (pa) tile(r, 0, 1, ARGS);                                            \
        else if (two) tile(r, 1, 0, ARGS);                                           \
        else tile(r, 0, 0, ARGS);                                                    \
        break;
    switch (mr) {
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
        CASE(7) CASE(8) CASE(9) CASE(10) CASE(11) CASE(12)
    default: break;
    }
#undef CASE
#undef ARGS
}

/* The driver's B panel copy: dst[k][0:32] = src[k*lds + 0:nn], zero beyond nn, for k < kc. */
static void f32g_pack_panel(int64_t kc, int64_t nn, const float *src, int64_t lds, float *dst)
{
    int64_t k;
    if (nn == F32G_NR) {
        for (k = 0; k < kc; k++, src += lds, dst += F32G_NR) {
            _mm512_storeu_ps(dst, _mm512_loadu_ps(src));
            _mm512_storeu_ps(dst + 16, _mm512_loadu_ps(src + 16));
        }
    } else {
        const __mmask16 m0 = (__mmask16)(nn >= 16 ? 0xffff : (1u << nn) - 1);
        const __mmask16 m1 = (__mmask16)(nn <= 16 ? 0 : (1u << (nn - 16)) - 1);
        for (k = 0; k < kc; k++, src += lds, dst += F32G_NR) {
            _mm512_storeu_ps(dst, _mm512_maskz_loadu_ps(m0, src));
            _mm512_storeu_ps(dst + 16, _mm512_maskz_loadu_ps(m1, src + 16));
        }
    }
}

#include "../f32_gemm_driver.h"

void igq__f32_gemm_12x32__avx512(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                                 const float *B, const float *bias, float *C, int64_t ldc)
{
    f32g_gemm(M, N, K, A, lda, B, bias, C, ldc);
}

#else
typedef int igq_f32_gemm_avx512_empty; /* ISO C forbids an empty translation unit */
#endif
