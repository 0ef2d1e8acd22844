/* AVX2 helpers of the integer non-linear kernels (static inline only; included only from
 * the lib/kernels/x86_avx2 files, built with -mavx2 -mfma). 64-bit arithmetic runs on 4-lane halves
 * (vpmovsxdq of 4 int32). AVX2 has no 64-bit arithmetic right shift, so floor(v / 2^s) of a
 * signed v with |v| < 2^62 is computed as ((v + 2^62) >>> s) - (2^62 >>> s): v + 2^62 is in
 * [0, 2^63 + 2^62) as an unsigned value, so the logical shift is a floor division, and the
 * subtraction is exact. Results equal igq__asr64 (nonlin_inl.h) bit for bit. */
#ifndef IGQ_KERNELS_NONLIN_AVX2_H
#define IGQ_KERNELS_NONLIN_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#define NL_INLINE static inline __attribute__((always_inline))

NL_INLINE __m256i nl_load4_i64(const int32_t *p)
{
    return _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)p));
}

/* floor((v + 2^(s-1)) / 2^s) per 64-bit lane, s in [0, 62] per lane, |v| < 2^62 (v + the
 * rounding term may reach 2^62 + 2^61: still fine as unsigned after the bias). */
NL_INLINE __m256i nl_round_shift_v(__m256i v, __m256i s)
{
    const __m256i one  = _mm256_set1_epi64x(1);
    const __m256i bias = _mm256_set1_epi64x((int64_t)1 << 62);
    /* s - 1 = -1 for s = 0: vpsllvq by >= 64 gives 0, the rounding term of s = 0 */
    const __m256i rnd = _mm256_sllv_epi64(one, _mm256_sub_epi64(s, one));
    const __m256i u   = _mm256_add_epi64(_mm256_add_epi64(v, bias), rnd);
    return _mm256_sub_epi64(_mm256_srlv_epi64(u, s), _mm256_srlv_epi64(bias, s));
}

/* Same with one shift s for all lanes (cnt = s in the low 64 bits), rb = 2^62 + 2^(s-1),
 * bs = 2^62 >> s precomputed by the caller. */
NL_INLINE __m256i nl_round_shift_u(__m256i v, __m128i cnt, __m256i rb, __m256i bs)
{
    return _mm256_sub_epi64(_mm256_srl_epi64(_mm256_add_epi64(v, rb), cnt), bs);
}

NL_INLINE __m256i nl_max64(__m256i a, __m256i b)
{
    return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(b, a));
}

NL_INLINE __m256i nl_min64(__m256i a, __m256i b)
{
    return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(a, b));
}

/* The low 32 bits of the 4 lanes as 4 int32. */
NL_INLINE __m128i nl_pack4(__m256i v)
{
    return _mm256_castsi256_si128(
        _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
}

/* Codes of 4 requantized values r (64-bit lanes): clamp(r + z, qmin, qmax) as 4 int32. */
NL_INLINE __m128i nl_code4(__m256i r, __m256i z, __m256i qmin, __m256i qmax)
{
    __m256i v = _mm256_add_epi64(r, z);
    v         = nl_min64(nl_max64(v, qmin), qmax);
    return nl_pack4(v);
}

/* 8 int32 in [0, 255] -> 8 bytes at out. */
NL_INLINE void nl_store8_u8(uint8_t *out, __m128i a, __m128i b)
{
    const __m128i w = _mm_packus_epi32(a, b);
    _mm_storel_epi64((__m128i *)out, _mm_packus_epi16(w, w));
}

NL_INLINE int64_t nl_hsum64(__m256i v)
{
    const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
}

#endif
