/* fp32 softmax of scaled rows, AVX-512F (16 lanes, masked tail): igq__f32_softmax_scaled_ref
 * (f32_ref.h) with the same operations in the same order, so the same bits: lane j of the sum
 * accumulator is the reference's partial sum j. Reached only through the dispatch table. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

#include "../f32_ref.h"

#define SET1 _mm512_set1_ps

/* exp(d) for d <= 0, as exp_neg() in lib/kernels/scalar/f32_ref.c. */
static inline __attribute__((always_inline)) __m512 exp_neg16(__m512 d)
{
    const __m512 dc = _mm512_max_ps(SET1(IGQ_SOFTMAX_DMIN), d);
    const __m512 n  = _mm512_sub_ps(_mm512_fmadd_ps(dc, SET1(IGQ_GELU_LOG2E), SET1(IGQ_GELU_MAGIC)),
                                    SET1(IGQ_GELU_MAGIC));
    __m512       r, p, s;
    r = _mm512_fmadd_ps(n, SET1(-IGQ_GELU_LN2HI), dc);
    r = _mm512_fmadd_ps(n, SET1(-IGQ_GELU_LN2LO), r);
    p = _mm512_fmadd_ps(SET1(IGQ_GELU_E7), r, SET1(IGQ_GELU_E6));
    p = _mm512_fmadd_ps(p, r, SET1(IGQ_GELU_E5));
    p = _mm512_fmadd_ps(p, r, SET1(IGQ_GELU_E4));
    p = _mm512_fmadd_ps(p, r, SET1(IGQ_GELU_E3));
    p = _mm512_fmadd_ps(p, r, SET1(IGQ_GELU_E2));
    p = _mm512_fmadd_ps(p, r, SET1(1.0f));
    p = _mm512_fmadd_ps(p, r, SET1(1.0f));
    s = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(d, SET1(IGQ_SOFTMAX_DMIN), _CMP_NLT_UQ),
                               _mm512_mul_ps(p, s));
}

void igq_f32_softmax__avx512(int64_t rows, int64_t n, float scale, float *x, int64_t ldx)
{
    const int64_t   nf   = n & ~(int64_t)15;
    const __mmask16 tail = (__mmask16)((1u << (n - nf)) - 1);
    int64_t         r, i;
    for (r = 0; r < rows; r++) {
        float *xr = x + r * ldx;
        __m512 vm, sum = _mm512_setzero_ps(), inv;
        __m256 s8;
        __m128 s4;
        float  m, s2[4];
        for (i = 0; i < nf; i += 16)
            _mm512_storeu_ps(xr + i, _mm512_mul_ps(_mm512_loadu_ps(xr + i), SET1(scale)));
        if (tail)
            _mm512_mask_storeu_ps(xr + nf, tail,
                                  _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, xr + nf), SET1(scale)));
        /* max: exact, so lanes may be combined in any order (NaN rows are unspecified) */
        vm = SET1(xr[0]);
        for (i = 0; i < nf; i += 16) vm = _mm512_max_ps(_mm512_loadu_ps(xr + i), vm);
        if (tail) vm = _mm512_mask_max_ps(vm, tail, _mm512_maskz_loadu_ps(tail, xr + nf), vm);
        m = _mm512_reduce_max_ps(vm);
        for (i = 0; i < nf; i += 16) {
            const __m512 e = exp_neg16(_mm512_sub_ps(_mm512_loadu_ps(xr + i), SET1(m)));
            _mm512_storeu_ps(xr + i, e);
            sum = _mm512_add_ps(sum, e);
        }
        if (tail) {
            const __m512 e = _mm512_maskz_mov_ps(
                tail, exp_neg16(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, xr + nf), SET1(m))));
            _mm512_mask_storeu_ps(xr + nf, tail, e);
            sum = _mm512_add_ps(sum, e);
        }
        s8 = _mm256_add_ps(_mm512_castps512_ps256(sum),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sum), 1)));
        s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
        _mm_storeu_ps(s2, s4);
        inv = SET1(1.0f / ((s2[0] + s2[2]) + (s2[1] + s2[3])));
        for (i = 0; i < nf; i += 16)
            _mm512_storeu_ps(xr + i, _mm512_mul_ps(_mm512_loadu_ps(xr + i), inv));
        if (tail)
            _mm512_mask_storeu_ps(xr + nf, tail,
                                  _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, xr + nf), inv));
    }
}

#else
typedef int igq_f32_softmax_avx512_empty; /* ISO C forbids an empty translation unit */
#endif
