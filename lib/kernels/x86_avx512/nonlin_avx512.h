/* AVX-512 helpers of the integer non-linear kernels (static inline only; included only from
 * the lib/kernels/x86_avx512 files). Uses AVX-512 F/BW/VL only. 64-bit arithmetic runs on 8
 * lanes (vpmovsxdq of 8 int32); vpsravq is the floor shift of igq__asr64 (nonlin_inl.h), so
 * no bias is needed here. Tails are masked (the masks also keep loads inside the arrays). */
#ifndef IGQ_KERNELS_NONLIN_AVX512_H
#define IGQ_KERNELS_NONLIN_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#define NL_INLINE static inline __attribute__((always_inline))

/* Lanes [0, n) of 8 / 16 (n may exceed the width). */
NL_INLINE __mmask8 nl_mask8(int64_t n) { return n >= 8 ? (__mmask8)0xff : (__mmask8)((1u << n) - 1); }
NL_INLINE __mmask16 nl_mask16(int64_t n)
{
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

NL_INLINE __m512i nl_load8_i64(__mmask8 m, const int32_t *p)
{
    return _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(m, p));
}

/* floor((v + 2^(s-1)) / 2^s) per lane, s in [0, 62] (s = 0: vpsllvq by 2^64 - 1 gives 0). */
NL_INLINE __m512i nl_round_shift_v(__m512i v, __m512i s)
{
    const __m512i one = _mm512_set1_epi64(1);
    const __m512i rnd = _mm512_sllv_epi64(one, _mm512_sub_epi64(s, one));
    return _mm512_srav_epi64(_mm512_add_epi64(v, rnd), s);
}

/* Same with one shift for all lanes: rnd = 2^(s-1) (0 for s = 0), cnt = s. */
NL_INLINE __m512i nl_round_shift_u(__m512i v, __m512i rnd, __m128i cnt)
{
    return _mm512_sra_epi64(_mm512_add_epi64(v, rnd), cnt);
}

/* clamp(r + z, qmin, qmax) of 8 lanes stored as bytes at out (mask m). */
NL_INLINE void nl_store8_code(uint8_t *out, __mmask8 m, __m512i r, __m512i z, __m512i qmin,
                              __m512i qmax)
{
    const __m512i v = _mm512_min_epi64(_mm512_max_epi64(_mm512_add_epi64(r, z), qmin), qmax);
    _mm_mask_storeu_epi8(out, m, _mm512_cvtepi64_epi8(v));
}

NL_INLINE __m512i nl_sat32(__m512i v)
{
    return _mm512_min_epi64(_mm512_max_epi64(v, _mm512_set1_epi64(INT32_MIN)),
                            _mm512_set1_epi64(INT32_MAX));
}

#endif
