/* fp32 GELU, AVX-512F (16 lanes, masked tail): igq__f32_gelu_erfc_ref (f32_ref.h) with the same
 * operations in the same order, so the same bits. Built with the avx512 directory's flags;
 * reached only through the dispatch table. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

#include "../f32_ref.h"

#define SET1 _mm512_set1_ps

static inline __attribute__((always_inline)) __m512 gelu16(__m512 x)
{
    const __m512 ax = _mm512_abs_ps(x);
    const __m512 t  = _mm512_min_ps(ax, SET1(IGQ_GELU_TMAX)); /* NaN -> TMAX */
    const __m512 hi = _mm512_mul_ps(t, t);
    const __m512 lo = _mm512_fmsub_ps(t, t, hi);
    const __m512 y  = _mm512_mul_ps(SET1(-0.5f), hi);
    const __m512 n  = _mm512_sub_ps(_mm512_fmadd_ps(y, SET1(IGQ_GELU_LOG2E), SET1(IGQ_GELU_MAGIC)),
                                    SET1(IGQ_GELU_MAGIC));
    __m512 r, p, e, u, q, h, w, s;
    __m512i bits;
    r = _mm512_fmadd_ps(n, SET1(-IGQ_GELU_LN2HI), y);
    r = _mm512_fmadd_ps(n, SET1(-IGQ_GELU_LN2LO), r);
    p = _mm512_fmadd_ps(SET1(IGQ_GELU_E7), r, SET1(IGQ_GELU_E6));
    p = _mm512_fmadd_ps(p, r, SET1(IGQ_GELU_E5));
    p = _mm512_fmadd_ps(p, r, SET1(IGQ_GELU_E4));
    p = _mm512_fmadd_ps(p, r, SET1(IGQ_GELU_E3));
    p = _mm512_fmadd_ps(p, r, SET1(IGQ_GELU_E2));
    p = _mm512_fmadd_ps(p, r, SET1(1.0f));
    p = _mm512_fmadd_ps(p, r, SET1(1.0f));
    bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    s    = _mm512_castsi512_ps(bits);
    e    = _mm512_mul_ps(p, s);
    e    = _mm512_fmadd_ps(_mm512_mul_ps(SET1(-0.5f), lo), e, e);
    u    = _mm512_div_ps(SET1(1.0f), _mm512_add_ps(SET1(1.0f), _mm512_mul_ps(SET1(0.5f), t)));
    q    = _mm512_fmadd_ps(SET1(IGQ_GELU_P10), u, SET1(IGQ_GELU_P9));
    q    = _mm512_fmadd_ps(q, u, SET1(IGQ_GELU_P8));
    q    = _mm512_fmadd_ps(q, u, SET1(IGQ_GELU_P7));
    q    = _mm512_fmadd_ps(q, u, SET1(IGQ_GELU_P6));
    q    = _mm512_fmadd_ps(q, u, SET1(IGQ_GELU_P5));
    q    = _mm512_fmadd_ps(q, u, SET1(IGQ_GELU_P4));
    q    = _mm512_fmadd_ps(q, u, SET1(IGQ_GELU_P3));
    q    = _mm512_fmadd_ps(q, u, SET1(IGQ_GELU_P2));
    q    = _mm512_fmadd_ps(q, u, SET1(IGQ_GELU_P1));
    q    = _mm512_fmadd_ps(q, u, SET1(IGQ_GELU_P0));
    h    = _mm512_mul_ps(SET1(0.5f), _mm512_mul_ps(e, _mm512_mul_ps(u, q)));
    h    = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, SET1(IGQ_GELU_TMAX), _CMP_GT_OQ), h,
                                _mm512_setzero_ps());
    w    = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ), h,
                                _mm512_sub_ps(SET1(1.0f), h));
    return _mm512_mul_ps(_mm512_max_ps(SET1(IGQ_GELU_XMIN), x), w); /* NaN stays NaN */
}

void igq_f32_gelu__avx512(int64_t n, float *x)
{
    int64_t i;
    for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, gelu16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, m, gelu16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

#else
typedef int igq_f32_gelu_avx512_empty; /* ISO C forbids an empty translation unit */
#endif
