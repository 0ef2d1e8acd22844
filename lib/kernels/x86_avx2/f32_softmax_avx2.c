/* fp32 softmax of scaled rows, AVX2 + FMA: igq__f32_softmax_scaled_ref (f32_ref.h) with the
 * same operations in the same order, so the same bits. Elements go 16 at a time as two ymm
 * halves, so the two sum accumulators hold the reference's partial sums 0..7 and 8..15; the
 * tail (n mod 16 elements) goes through a zero-padded 16-float buffer. Reached only through
 * the dispatch table. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

#include "../f32_ref.h"

#define SET1 _mm256_set1_ps

/* exp(d) for d <= 0, as exp_neg() in lib/kernels/scalar/f32_ref.c. */
static inline __attribute__((always_inline)) __m256 exp_neg8(__m256 d)
{
    const __m256 dc = _mm256_max_ps(SET1(IGQ_SOFTMAX_DMIN), d);
    const __m256 n  = _mm256_sub_ps(_mm256_fmadd_ps(dc, SET1(IGQ_GELU_LOG2E), SET1(IGQ_GELU_MAGIC)),
                                    SET1(IGQ_GELU_MAGIC));
    __m256       r, p, s;
    r = _mm256_fmadd_ps(n, SET1(-IGQ_GELU_LN2HI), dc);
    r = _mm256_fmadd_ps(n, SET1(-IGQ_GELU_LN2LO), r);
    p = _mm256_fmadd_ps(SET1(IGQ_GELU_E7), r, SET1(IGQ_GELU_E6));
    p = _mm256_fmadd_ps(p, r, SET1(IGQ_GELU_E5));
    p = _mm256_fmadd_ps(p, r, SET1(IGQ_GELU_E4));
    p = _mm256_fmadd_ps(p, r, SET1(IGQ_GELU_E3));
    p = _mm256_fmadd_ps(p, r, SET1(IGQ_GELU_E2));
    p = _mm256_fmadd_ps(p, r, SET1(1.0f));
    p = _mm256_fmadd_ps(p, r, SET1(1.0f));
    s = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
    return _mm256_and_ps(_mm256_cmp_ps(d, SET1(IGQ_SOFTMAX_DMIN), _CMP_NLT_UQ),
                         _mm256_mul_ps(p, s));
}

/* e = exp(x - m) on the 16 floats at p (written back); lanes >= valid give 0 in the sums. */
static inline __attribute__((always_inline)) void exp_block(float *p, __m256 vm, int valid,
                                                            __m256 *lo, __m256 *hi)
{
    __m256 e0 = exp_neg8(_mm256_sub_ps(_mm256_loadu_ps(p), vm));
    __m256 e1 = exp_neg8(_mm256_sub_ps(_mm256_loadu_ps(p + 8), vm));
    if (valid < 16) {
        const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i m0  = _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), idx);
        const __m256i m1  = _mm256_cmpgt_epi32(_mm256_set1_epi32(valid - 8), idx);
        e0 = _mm256_and_ps(e0, _mm256_castsi256_ps(m0));
        e1 = _mm256_and_ps(e1, _mm256_castsi256_ps(m1));
    }
    _mm256_storeu_ps(p, e0);
    _mm256_storeu_ps(p + 8, e1);
    *lo = _mm256_add_ps(*lo, e0);
    *hi = _mm256_add_ps(*hi, e1);
}

void igq_f32_softmax__avx2(int64_t rows, int64_t n, float scale, float *x, int64_t ldx)
{
    const int64_t nf = n & ~(int64_t)15;
    const int     rem = (int)(n - nf);
    int64_t       r, i;
    int           j;
    for (r = 0; r < rows; r++) {
        float *xr = x + r * ldx;
        float  buf[16], m, s2[4];
        __m256 vm, lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps(), inv;
        __m128 s4, h;
        for (i = 0; i < nf; i += 8)
            _mm256_storeu_ps(xr + i, _mm256_mul_ps(_mm256_loadu_ps(xr + i), SET1(scale)));
        for (i = nf; i < n; i++) xr[i] *= scale;
        vm = SET1(xr[0]);
        for (i = 0; i < nf; i += 8) vm = _mm256_max_ps(_mm256_loadu_ps(xr + i), vm);
        h  = _mm_max_ps(_mm256_castps256_ps128(vm), _mm256_extractf128_ps(vm, 1));
        h  = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h  = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
        m  = _mm_cvtss_f32(h);
        for (i = nf; i < n; i++) m = xr[i] > m ? xr[i] : m;
        vm = SET1(m);
        for (i = 0; i < nf; i += 16) exp_block(xr + i, vm, 16, &lo, &hi);
        if (rem > 0) {
            for (j = 0; j < 16; j++) buf[j] = j < rem ? xr[nf + j] : 0.0f;
            exp_block(buf, vm, rem, &lo, &hi);
            for (j = 0; j < rem; j++) xr[nf + j] = buf[j];
        }
        lo = _mm256_add_ps(lo, hi);
        s4 = _mm_add_ps(_mm256_castps256_ps128(lo), _mm256_extractf128_ps(lo, 1));
        _mm_storeu_ps(s2, s4);
        inv = SET1(1.0f / ((s2[0] + s2[2]) + (s2[1] + s2[3])));
        for (i = 0; i < nf; i += 8)
            _mm256_storeu_ps(xr + i, _mm256_mul_ps(_mm256_loadu_ps(xr + i), inv));
        for (i = nf; i < n; i++) xr[i] *= _mm256_cvtss_f32(inv);
    }
}

#else
typedef int igq_f32_softmax_avx2_empty; /* ISO C forbids an empty translation unit */
#endif
