/* Grouped-GEMM fold, AVX2 (built with -mavx2 -mfma; reached only through the dispatch table).
 * Semantics: igq__i32_fold_ref, bit-exact: cvtdq2ps (round to nearest even, as the C
 * conversion), then a separate multiply and add (never an FMA, which would round once). */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

void igq_i32_fold__avx2(int64_t n, float s, const int32_t *acc, float *out, int first)
{
    const __m256 vs = _mm256_set1_ps(s);
    int64_t      i  = 0;
    if (first) {
        for (; i + 8 <= n; i += 8) {
            const __m256 a = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(acc + i)));
            _mm256_storeu_ps(out + i, _mm256_mul_ps(vs, a));
        }
        for (; i < n; i++) out[i] = s * (float)acc[i];
    } else {
        for (; i + 8 <= n; i += 8) {
            const __m256 a = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(acc + i)));
            _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(out + i), _mm256_mul_ps(vs, a)));
        }
        for (; i < n; i++) out[i] = out[i] + s * (float)acc[i];
    }
}

#endif
