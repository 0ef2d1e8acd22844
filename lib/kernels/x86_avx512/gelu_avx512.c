/* Integer GELU of int32 accumulators, AVX-512 (F/BW/VL; built with the x86_avx512 flags,
 * reached only through the dispatch table). Semantics: igq__i32_gelu_ref (nonlin.h),
 * bit-exact. 16 elements per step: the dyadic requantization to the Q16 input on two 8-lane
 * halves of 64-bit arithmetic (vpsravq), saturated and narrowed (vpmovqd); then on 16 int32
 * lanes: index / fraction, two vpgatherdd of the table (index clamped into it for every lane),
 * interpolation (vpmulld, vpsrad), out-of-table cases by mask moves. Tails are masked. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "nonlin_avx512.h"

NL_INLINE __m512i gelu16(const igq_gelu_params *p, __m512i u)
{
    const __m512i   lo    = _mm512_set1_epi32(-(8 << IGQ_GELU_FRAC));
    const __m512i   hi    = _mm512_set1_epi32((8 << IGQ_GELU_FRAC) - 1);
    const __mmask16 is_lo = _mm512_cmplt_epi32_mask(u, lo);
    const __mmask16 is_hi = _mm512_cmpgt_epi32_mask(u, hi);
    const __m512i   v     = _mm512_sub_epi32(_mm512_min_epi32(_mm512_max_epi32(u, lo), hi), lo);
    const __m512i   i     = _mm512_srli_epi32(v, IGQ_GELU_ISHIFT);
    const __m512i   f     = _mm512_and_si512(v, _mm512_set1_epi32((1 << IGQ_GELU_ISHIFT) - 1));
    const __m512i   t0    = _mm512_i32gather_epi32(i, (const void *)p->t, 4);
    const __m512i   t1    = _mm512_i32gather_epi32(i, (const void *)(p->t + 1), 4);
    __m512i         r     = _mm512_mullo_epi32(_mm512_sub_epi32(t1, t0), f);
    r = _mm512_add_epi32(t0, _mm512_srai_epi32(_mm512_add_epi32(r, _mm512_set1_epi32(1 << (IGQ_GELU_ISHIFT - 1))), IGQ_GELU_ISHIFT));
    r = _mm512_mask_mov_epi32(r, is_hi, u);
    return _mm512_maskz_mov_epi32((__mmask16)~is_lo, r);
}

NL_INLINE __m256i u8_q16(const int32_t *acc, const int32_t *mult, const int32_t *shift,
                         int per_channel, int64_t i, __mmask8 m)
{
    __m512i r;
    if (per_channel)
        r = nl_round_shift_v(_mm512_mul_epi32(nl_load8_i64(m, acc + i), nl_load8_i64(m, mult + i)),
                             nl_load8_i64(m, shift + i));
    else
        r = nl_round_shift_v(_mm512_mul_epi32(nl_load8_i64(m, acc + i), _mm512_set1_epi64(mult[0])),
                             _mm512_set1_epi64(shift[0]));
    return _mm512_cvtepi64_epi32(nl_sat32(r));
}

void igq_i32_gelu__avx512(const igq_gelu_params *p, int64_t n, const int32_t *acc,
                          const int32_t *mult, const int32_t *shift, int per_channel,
                          int32_t *out)
{
    int64_t i;
    for (i = 0; i < n; i += 16) {
        const __mmask16 m  = nl_mask16(n - i);
        const __m256i   u0 = u8_q16(acc, mult, shift, per_channel, i, nl_mask8(n - i));
        const __m256i   u1 = u8_q16(acc, mult, shift, per_channel, i + 8, nl_mask8(n - i - 8 > 0 ? n - i - 8 : 0));
        const __m512i   u  = _mm512_inserti64x4(_mm512_castsi256_si512(u0), u1, 1);
        _mm512_mask_storeu_epi32(out + i, m, gelu16(p, u));
    }
}

#endif
