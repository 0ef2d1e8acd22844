/* fp32 LayerNorm, AVX2 + FMA: igq__f32_layernorm_p16_ref (f32_ref.h) with the same
 * operations in the same order, so the same bits. The sums take 16 elements at a time as two
 * ymm halves (the reference's partial sums 0..7 and 8..15); the n mod 16 tail goes through a
 * zero-padded buffer. Reached only through the dispatch table. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>
#include <math.h>

#include "../f32_ref.h"

static inline __attribute__((always_inline)) float reduce16(__m256 lo, __m256 hi)
{
    const __m256 s8 = _mm256_add_ps(lo, hi);
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    float        s2[4];
    _mm_storeu_ps(s2, s4);
    return (s2[0] + s2[2]) + (s2[1] + s2[3]);
}

void igq_f32_layernorm__avx2(int64_t rows, int64_t n, const float *x, const float *w,
                             const float *b, float eps, float *y)
{
    const int64_t nf = n & ~(int64_t)15, rem = n - nf;
    int64_t       r, i;
    for (r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float       *yr = y + r * n;
        float        buf[16], mean, c, var, inv;
        __m256       lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps(), vm, vc, vi;
        __m256       lo2 = _mm256_setzero_ps(), hi2 = _mm256_setzero_ps();
        for (i = 0; i < 16; i++) buf[i] = i < rem ? xr[nf + i] : 0.0f;
        for (i = 0; i < nf; i += 16) {
            lo = _mm256_add_ps(lo, _mm256_loadu_ps(xr + i));
            hi = _mm256_add_ps(hi, _mm256_loadu_ps(xr + i + 8));
        }
        if (rem > 0) {
            lo = _mm256_add_ps(lo, _mm256_loadu_ps(buf));
            hi = _mm256_add_ps(hi, _mm256_loadu_ps(buf + 8));
        }
        mean = reduce16(lo, hi) / (float)n;
        vm   = _mm256_set1_ps(mean);
        lo = hi = _mm256_setzero_ps();
        for (i = 0; i < nf; i += 16) {
            const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(xr + i), vm);
            const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(xr + i + 8), vm);
            lo              = _mm256_add_ps(lo, d0);
            hi              = _mm256_add_ps(hi, d1);
            lo2             = _mm256_fmadd_ps(d0, d0, lo2);
            hi2             = _mm256_fmadd_ps(d1, d1, hi2);
        }
        if (rem > 0) {
            __m256 d0, d1;
            for (i = 0; i < 16; i++) buf[i] = i < rem ? xr[nf + i] - mean : 0.0f;
            d0  = _mm256_loadu_ps(buf);
            d1  = _mm256_loadu_ps(buf + 8);
            lo  = _mm256_add_ps(lo, d0);
            hi  = _mm256_add_ps(hi, d1);
            lo2 = _mm256_fmadd_ps(d0, d0, lo2);
            hi2 = _mm256_fmadd_ps(d1, d1, hi2);
        }
        c   = reduce16(lo, hi) / (float)n;
        var = reduce16(lo2, hi2) / (float)n - c * c;
        inv = 1.0f / sqrtf(var + eps);
        vc  = _mm256_set1_ps(c);
        vi  = _mm256_set1_ps(inv);
        for (i = 0; i + 8 <= n; i += 8) {
            const __m256 t = _mm256_mul_ps(
                _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), vm), vc), vi);
            _mm256_storeu_ps(yr + i, _mm256_fmadd_ps(t, _mm256_loadu_ps(w + i),
                                                     _mm256_loadu_ps(b + i)));
        }
        for (; i < n; i++) yr[i] = fmaf(((xr[i] - mean) - c) * inv, w[i], b[i]);
    }
}

#else
typedef int igq_f32_layernorm_avx2_empty; /* ISO C forbids an empty translation unit */
#endif
