/* Integer GELU of int32 accumulators, AVX2 (built with -mavx2 -mfma; reached only through the
 * dispatch table). Semantics: igq__i32_gelu_ref (nonlin.h), bit-exact. Per 8 elements: the
 * dyadic requantization to the Q16 input on two 4-lane halves of 64-bit arithmetic, saturated
 * to int32; then in 8 int32 lanes: index and fraction, two vpgatherdd of the 16 KiB table
 * (T[i], T[i+1]), the interpolation (vpmulld, vpsrad = floor shift), and the two out-of-table
 * cases by blends. Tail (< 8) by the scalar helper. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "../nonlin_inl.h"
#include "nonlin_avx2.h"

NL_INLINE __m256i gelu8(const igq_gelu_params *p, __m256i u)
{
    const __m256i lo = _mm256_set1_epi32(-(8 << IGQ_GELU_FRAC));
    const __m256i hi = _mm256_set1_epi32((8 << IGQ_GELU_FRAC) - 1);
    const __m256i is_lo = _mm256_cmpgt_epi32(lo, u);
    const __m256i is_hi = _mm256_cmpgt_epi32(u, hi);
    /* clamped into the table so that the gathers stay in bounds for every lane */
    const __m256i v  = _mm256_sub_epi32(_mm256_min_epi32(_mm256_max_epi32(u, lo), hi), lo);
    const __m256i i  = _mm256_srli_epi32(v, IGQ_GELU_ISHIFT);
    const __m256i f  = _mm256_and_si256(v, _mm256_set1_epi32((1 << IGQ_GELU_ISHIFT) - 1));
    const __m256i t0 = _mm256_i32gather_epi32((const int *)p->t, i, 4);
    const __m256i t1 = _mm256_i32gather_epi32((const int *)p->t + 1, i, 4);
    __m256i       r  = _mm256_mullo_epi32(_mm256_sub_epi32(t1, t0), f);
    r = _mm256_add_epi32(t0, _mm256_srai_epi32(_mm256_add_epi32(r, _mm256_set1_epi32(1 << (IGQ_GELU_ISHIFT - 1))), IGQ_GELU_ISHIFT));
    r = _mm256_blendv_epi8(r, u, is_hi);
    return _mm256_andnot_si256(is_lo, r);
}

void igq_i32_gelu__avx2(const igq_gelu_params *p, int64_t n, const int32_t *acc,
                        const int32_t *mult, const int32_t *shift, int per_channel,
                        int32_t *out)
{
    const __m256i i32min = _mm256_set1_epi64x(INT32_MIN), i32max = _mm256_set1_epi64x(INT32_MAX);
    int64_t       i      = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i r0, r1;
        if (per_channel) {
            r0 = nl_round_shift_v(_mm256_mul_epi32(nl_load4_i64(acc + i), nl_load4_i64(mult + i)),
                                  nl_load4_i64(shift + i));
            r1 = nl_round_shift_v(_mm256_mul_epi32(nl_load4_i64(acc + i + 4), nl_load4_i64(mult + i + 4)),
                                  nl_load4_i64(shift + i + 4));
        } else {
            const __m256i vm = _mm256_set1_epi64x(mult[0]), vs = _mm256_set1_epi64x(shift[0]);
            r0 = nl_round_shift_v(_mm256_mul_epi32(nl_load4_i64(acc + i), vm), vs);
            r1 = nl_round_shift_v(_mm256_mul_epi32(nl_load4_i64(acc + i + 4), vm), vs);
        }
        r0 = nl_min64(nl_max64(r0, i32min), i32max);
        r1 = nl_min64(nl_max64(r1, i32min), i32max);
        _mm256_storeu_si256((__m256i *)(out + i),
                            gelu8(p, _mm256_setr_m128i(nl_pack4(r0), nl_pack4(r1))));
    }
    for (; i < n; i++) {
        const int64_t c = per_channel ? i : 0;
        out[i]          = igq__gelu_eval(p, igq__requant(acc[i], mult[c], shift[c]));
    }
}

#endif
