/* fp32 GELU, AVX2 + FMA (8 lanes; the tail goes through an 8-float buffer):
 * igq__f32_gelu_erfc_ref (f32_ref.h) with the same operations in the same order, so the same
 * bits. Built with the avx2 directory's flags; reached only through the dispatch table. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

#include "../f32_ref.h"

#define SET1 _mm256_set1_ps

static inline __attribute__((always_inline)) __m256 gelu8(__m256 x)
{
    const __m256 ax = _mm256_andnot_ps(SET1(-0.0f), x);
    const __m256 t  = _mm256_min_ps(ax, SET1(IGQ_GELU_TMAX)); /* NaN -> TMAX */
    const __m256 hi = _mm256_mul_ps(t, t);
    const __m256 lo = _mm256_fmsub_ps(t, t, hi);
    const __m256 y  = _mm256_mul_ps(SET1(-0.5f), hi);
    const __m256 n  = _mm256_sub_ps(_mm256_fmadd_ps(y, SET1(IGQ_GELU_LOG2E), SET1(IGQ_GELU_MAGIC)),
                                    SET1(IGQ_GELU_MAGIC));
    __m256 r, p, e, u, q, h, w, s;
    __m256i bits;
    r = _mm256_fmadd_ps(n, SET1(-IGQ_GELU_LN2HI), y);
    r = _mm256_fmadd_ps(n, SET1(-IGQ_GELU_LN2LO), r);
    p = _mm256_fmadd_ps(SET1(IGQ_GELU_E7), r, SET1(IGQ_GELU_E6));
    p = _mm256_fmadd_ps(p, r, SET1(IGQ_GELU_E5));
    p = _mm256_fmadd_ps(p, r, SET1(IGQ_GELU_E4));
    p = _mm256_fmadd_ps(p, r, SET1(IGQ_GELU_E3));
    p = _mm256_fmadd_ps(p, r, SET1(IGQ_GELU_E2));
    p = _mm256_fmadd_ps(p, r, SET1(1.0f));
    p = _mm256_fmadd_ps(p, r, SET1(1.0f));
    bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    s    = _mm256_castsi256_ps(bits);
    e    = _mm256_mul_ps(p, s);
    e    = _mm256_fmadd_ps(_mm256_mul_ps(SET1(-0.5f), lo), e, e);
    u    = _mm256_div_ps(SET1(1.0f), _mm256_add_ps(SET1(1.0f), _mm256_mul_ps(SET1(0.5f), t)));
    q    = _mm256_fmadd_ps(SET1(IGQ_GELU_P10), u, SET1(IGQ_GELU_P9));
    q    = _mm256_fmadd_ps(q, u, SET1(IGQ_GELU_P8));
    q    = _mm256_fmadd_ps(q, u, SET1(IGQ_GELU_P7));
    q    = _mm256_fmadd_ps(q, u, SET1(IGQ_GELU_P6));
    q    = _mm256_fmadd_ps(q, u, SET1(IGQ_GELU_P5));
    q    = _mm256_fmadd_ps(q, u, SET1(IGQ_GELU_P4));
    q    = _mm256_fmadd_ps(q, u, SET1(IGQ_GELU_P3));
    q    = _mm256_fmadd_ps(q, u, SET1(IGQ_GELU_P2));
    q    = _mm256_fmadd_ps(q, u, SET1(IGQ_GELU_P1));
    q    = _mm256_fmadd_ps(q, u, SET1(IGQ_GELU_P0));
    h    = _mm256_mul_ps(SET1(0.5f), _mm256_mul_ps(e, _mm256_mul_ps(u, q)));
    h    = _mm256_andnot_ps(_mm256_cmp_ps(ax, SET1(IGQ_GELU_TMAX), _CMP_GT_OQ), h);
    w    = _mm256_blendv_ps(h, _mm256_sub_ps(SET1(1.0f), h),
                            _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
    return _mm256_mul_ps(_mm256_max_ps(SET1(IGQ_GELU_XMIN), x), w); /* NaN stays NaN */
}

void igq_f32_gelu__avx2(int64_t n, float *x)
{
    int64_t i;
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        float   buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int64_t j;
        for (j = 0; j < n - i; j++) buf[j] = x[i + j];
        _mm256_storeu_ps(buf, gelu8(_mm256_loadu_ps(buf)));
        for (j = 0; j < n - i; j++) x[i + j] = buf[j];
    }
}

#else
typedef int igq_f32_gelu_avx2_empty; /* ISO C forbids an empty translation unit */
#endif
