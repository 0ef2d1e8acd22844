/* Peak loops of the avx512vnni level (kernels.h igq_peak_fn): zmm vpdpbusd (64 multiply-adds)
 * and zmm FMA (16), 12 independent chains each. */
#include <immintrin.h>

#include "../kernels.h"

double igq__peak__avx512vnni(int64_t n, int kind, const void *in, void *sink)
{
    int64_t i;
    int     j;
    if (kind == IGQ_PEAK_INT8) {
        const __m512i a = _mm512_loadu_si512(in);
        const __m512i b = _mm512_set1_epi32(((const int32_t *)in)[3]);
        __m512i       acc[12];
        for (j = 0; j < 12; j++) acc[j] = _mm512_setzero_si512();
        for (i = 0; i < n; i++)
            for (j = 0; j < 12; j++) acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
        for (j = 1; j < 12; j++) acc[0] = _mm512_xor_si512(acc[0], acc[j]);
        _mm512_storeu_si512(sink, acc[0]);
        _mm256_zeroupper();
        return 12.0 * 64.0 * (double)n;
    } else {
        const __m512 a = _mm512_loadu_ps(in);
        const __m512 b = _mm512_set1_ps(((const float *)in)[5]);
        __m512       acc[12];
        for (j = 0; j < 12; j++) acc[j] = a;
        for (i = 0; i < n; i++)
            for (j = 0; j < 12; j++) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
        for (j = 1; j < 12; j++) acc[0] = _mm512_add_ps(acc[0], acc[j]);
        _mm512_storeu_ps(sink, acc[0]);
        _mm256_zeroupper();
        return 12.0 * 16.0 * (double)n;
    }
}
