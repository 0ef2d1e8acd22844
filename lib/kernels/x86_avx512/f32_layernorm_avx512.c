/* fp32 LayerNorm, AVX-512F (16 lanes, masked tail): igq__f32_layernorm_p16_ref (f32_ref.h)
 * with the same operations in the same order, so the same bits: lane j of each accumulator
 * is the reference's partial sum j. Reached only through the dispatch table. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>
#include <math.h>

#include "../f32_ref.h"

/* (p[j] + p[j+8]), then halves again: the reference's reduce16. */
static inline __attribute__((always_inline)) float reduce16(__m512 v)
{
    const __m256 h8 = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), h8);
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    float        s2[4];
    _mm_storeu_ps(s2, s4);
    return (s2[0] + s2[2]) + (s2[1] + s2[3]);
}

void igq_f32_layernorm__avx512(int64_t rows, int64_t n, const float *x, const float *w,
                               const float *b, float eps, float *y)
{
    const int64_t   nf   = n & ~(int64_t)15;
    const __mmask16 tail = (__mmask16)((1u << (n - nf)) - 1);
    int64_t         r, i;
    for (r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float       *yr = y + r * n;
        __m512       acc = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(), vm, vc, vi;
        float        mean, c, var;
        for (i = 0; i < nf; i += 16) acc = _mm512_add_ps(acc, _mm512_loadu_ps(xr + i));
        if (tail) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(tail, xr + nf));
        mean = reduce16(acc) / (float)n;
        vm   = _mm512_set1_ps(mean);
        acc  = _mm512_setzero_ps();
        for (i = 0; i < nf; i += 16) {
            const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(xr + i), vm);
            acc            = _mm512_add_ps(acc, d);
            acc2           = _mm512_fmadd_ps(d, d, acc2);
        }
        if (tail) {
            const __m512 d = _mm512_maskz_sub_ps(tail, _mm512_maskz_loadu_ps(tail, xr + nf), vm);
            acc            = _mm512_add_ps(acc, d);
            acc2           = _mm512_fmadd_ps(d, d, acc2);
        }
        c   = reduce16(acc) / (float)n;
        var = reduce16(acc2) / (float)n - c * c;
        vc  = _mm512_set1_ps(c);
        vi  = _mm512_set1_ps(1.0f / sqrtf(var + eps));
        for (i = 0; i < nf; i += 16) {
            const __m512 t = _mm512_mul_ps(
                _mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(xr + i), vm), vc), vi);
            _mm512_storeu_ps(yr + i, _mm512_fmadd_ps(t, _mm512_loadu_ps(w + i),
                                                     _mm512_loadu_ps(b + i)));
        }
        if (tail) {
            const __m512 t = _mm512_mul_ps(
                _mm512_sub_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, xr + nf), vm), vc), vi);
            _mm512_mask_storeu_ps(yr + nf, tail,
                                  _mm512_fmadd_ps(t, _mm512_maskz_loadu_ps(tail, w + nf),
                                                  _mm512_maskz_loadu_ps(tail, b + nf)));
        }
    }
}

#else
typedef int igq_f32_layernorm_avx512_empty; /* ISO C forbids an empty translation unit */
#endif
