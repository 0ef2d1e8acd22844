/* Peak loops of the avx2 level (kernels.h igq_peak_fn): the qs8 GEMM's vpmaddwd + vpaddd pair
 * (16 multiply-adds) and ymm FMA (8), 12 independent chains each. */
#include <immintrin.h>

#include "../kernels.h"

double igq__peak__avx2(int64_t n, int kind, const void *in, void *sink)
{
    int64_t i;
    int     j;
    if (kind == IGQ_PEAK_INT8) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)in);
        const __m256i b = _mm256_loadu_si256((const __m256i *)in + 1);
        __m256i       acc[12];
        for (j = 0; j < 12; j++) acc[j] = _mm256_setzero_si256();
        for (i = 0; i < n; i++)
            for (j = 0; j < 12; j++) acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(a, b));
        for (j = 1; j < 12; j++) acc[0] = _mm256_xor_si256(acc[0], acc[j]);
        _mm256_storeu_si256((__m256i *)sink, acc[0]);
        return 12.0 * 16.0 * (double)n;
    } else {
        const __m256 a = _mm256_loadu_ps((const float *)in);
        const __m256 b = _mm256_loadu_ps((const float *)in + 8);
        __m256       acc[12];
        for (j = 0; j < 12; j++) acc[j] = a;
        for (i = 0; i < n; i++)
            for (j = 0; j < 12; j++) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
        for (j = 1; j < 12; j++) acc[0] = _mm256_add_ps(acc[0], acc[j]);
        _mm256_storeu_ps((float *)sink, acc[0]);
        return 12.0 * 8.0 * (double)n;
    }
}
