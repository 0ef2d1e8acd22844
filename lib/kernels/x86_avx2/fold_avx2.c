/* Grouped-GEMM fold, AVX2 + FMA (reached only through the dispatch table). Semantics:
 * igq__i32_fold_ref, bit-exact: cvtdq2ps (round to nearest even, as the C conversion), then
 * fused multiply-adds in the reference's order. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>
#include <math.h>

void igq_i32_fold__avx2(int64_t rows, int64_t n, float s, const int32_t *acc, int64_t lda,
                        const float *colscale, const float *colbias, float *out, int64_t ldo,
                        int first)
{
    const __m256 vs = _mm256_set1_ps(s);
    int64_t      r, j;
    for (r = 0; r < rows; r++) {
        const int32_t *a = acc + r * lda;
        float         *o = out + r * ldo;
        for (j = 0; j + 8 <= n; j += 8) {
            const __m256 x = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(a + j)));
            __m256       f = _mm256_fmadd_ps(vs, x, first ? _mm256_setzero_ps() : _mm256_loadu_ps(o + j));
            if (colscale != NULL)
                f = _mm256_fmadd_ps(_mm256_loadu_ps(colscale + j), f, _mm256_loadu_ps(colbias + j));
            _mm256_storeu_ps(o + j, f);
        }
        for (; j < n; j++) {
            float f = fmaf(s, (float)a[j], first ? 0.0f : o[j]);
            if (colscale != NULL) f = fmaf(colscale[j], f, colbias[j]);
            o[j] = f;
        }
    }
}

#endif
