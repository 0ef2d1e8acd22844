/* Peak loops of the avxvnni level (kernels.h igq_peak_fn): ymm vpdpbusd (VEX, 32 multiply-adds)
 * and ymm FMA (8), 12 independent chains each. */
#include <immintrin.h>

#include "../kernels.h"

double igq__peak__avxvnni(int64_t n, int kind, const void *in, void *sink)
{
    int64_t i;
    int     j;
    if (kind == IGQ_PEAK_INT8) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)in);
        const __m256i b = _mm256_loadu_si256((const __m256i *)in + 1);
        __m256i       acc[12];
        for (j = 0; j < 12; j++) acc[j] = _mm256_setzero_si256();
        for (i = 0; i < n; i++)
            for (j = 0; j < 12; j++) acc[j] = _mm256_dpbusd_avx_epi32(acc[j], a, b);
        for (j = 1; j < 12; j++) acc[0] = _mm256_xor_si256(acc[0], acc[j]);
        _mm256_storeu_si256((__m256i *)sink, acc[0]);
        return 12.0 * 32.0 * (double)n;
    }
    return igq__peak__avx2(n, kind, in, sink);
}
