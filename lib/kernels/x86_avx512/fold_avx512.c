/* Grouped-GEMM fold, AVX-512 F (reached only through the dispatch table). Semantics:
 * igq__i32_fold_ref, bit-exact: vcvtdq2ps (round to nearest even), fused multiply-adds in the
 * reference's order; masked tail. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

void igq_i32_fold__avx512(int64_t rows, int64_t n, float s, const int32_t *acc, int64_t lda,
                          const float *colscale, const float *colbias, float *out, int64_t ldo,
                          int first)
{
    const __m512 vs = _mm512_set1_ps(s);
    int64_t      r, j;
    for (r = 0; r < rows; r++) {
        const int32_t *a = acc + r * lda;
        float         *o = out + r * ldo;
        for (j = 0; j < n; j += 16) {
            const __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1u);
            const __m512    x = _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(m, a + j));
            __m512 f = _mm512_fmadd_ps(vs, x, first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m, o + j));
            if (colscale != NULL)
                f = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, colscale + j), f,
                                    _mm512_maskz_loadu_ps(m, colbias + j));
            _mm512_mask_storeu_ps(o + j, m, f);
        }
    }
}

#endif
