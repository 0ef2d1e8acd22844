/* Grouped-GEMM fold, AVX-512 F (reached only through the dispatch table). Semantics:
 * igq__i32_fold_ref, bit-exact: vcvtdq2ps (round to nearest even), separate multiply and add
 * (no FMA); masked tail. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

void igq_i32_fold__avx512(int64_t n, float s, const int32_t *acc, float *out, int first)
{
    const __m512 vs = _mm512_set1_ps(s);
    int64_t      i  = 0;
    for (; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1u);
        const __m512    a = _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(m, acc + i));
        __m512          r = _mm512_mul_ps(vs, a);
        if (!first) r = _mm512_add_ps(_mm512_maskz_loadu_ps(m, out + i), r);
        _mm512_mask_storeu_ps(out + i, m, r);
    }
}

#endif
