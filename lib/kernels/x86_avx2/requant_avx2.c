/* Requantization of an int32 row to unsigned codes, AVX2 (built with -mavx2 -mfma; reached
 * only through the dispatch table). Semantics and rounding: igq__i32_requant_ref (nonlin.h),
 * bit-exact. 8 elements per step as two 4-lane halves of 64-bit arithmetic: vpmuldq for the
 * 64-bit product, the rounding shift of nonlin_avx2.h (vpsrlvq: per-lane shifts), the clamp
 * in 64 bits (any int32 zero point), then vpackusdw/vpackuswb. Tail (< 8) by the scalar
 * helper. No reads outside x[0..n) and the parameter arrays' used entries. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "../nonlin_inl.h"
#include "nonlin_avx2.h"

/* Per-channel: everything from the arrays at offset i. */
NL_INLINE __m128i rq4_pc(const int32_t *x, const int32_t *m, const int32_t *s,
                         const int32_t *z, __m256i qmin, __m256i qmax)
{
    const __m256i p = _mm256_mul_epi32(nl_load4_i64(x), nl_load4_i64(m));
    const __m256i r = nl_round_shift_v(p, nl_load4_i64(s));
    return nl_code4(r, nl_load4_i64(z), qmin, qmax);
}

void igq_i32_requant__avx2(int64_t n, const int32_t *x, const int32_t *mult,
                           const int32_t *shift, const int32_t *zero, int per_channel,
                           int32_t qmin, int32_t qmax, uint8_t *out)
{
    const __m256i vqmin = _mm256_set1_epi64x(qmin), vqmax = _mm256_set1_epi64x(qmax);
    int64_t       i     = 0;
    if (n <= 0) return;
    if (per_channel) {
        for (; i + 8 <= n; i += 8)
            nl_store8_u8(out + i, rq4_pc(x + i, mult + i, shift + i, zero + i, vqmin, vqmax),
                         rq4_pc(x + i + 4, mult + i + 4, shift + i + 4, zero + i + 4, vqmin,
                                vqmax));
        for (; i < n; i++)
            out[i] = igq__rq_code(igq__requant64(x[i], mult[i], shift[i]), zero[i], qmin, qmax);
    } else {
        const int32_t s  = shift[0];
        const __m256i vm = _mm256_set1_epi64x(mult[0]);
        const __m128i cnt = _mm_cvtsi32_si128(s);
        const __m256i rb  = _mm256_set1_epi64x(((int64_t)1 << 62) + (s > 0 ? (int64_t)1 << (s - 1) : 0));
        const __m256i bs  = _mm256_set1_epi64x(((int64_t)1 << 62) >> s);
        /* clamp r to [qmin - z, qmax - z], then add z */
        const __m256i vz  = _mm256_set1_epi64x(zero[0]);
        for (; i + 8 <= n; i += 8) {
            const __m256i r0 = nl_round_shift_u(_mm256_mul_epi32(nl_load4_i64(x + i), vm), cnt, rb, bs);
            const __m256i r1 = nl_round_shift_u(_mm256_mul_epi32(nl_load4_i64(x + i + 4), vm), cnt, rb, bs);
            nl_store8_u8(out + i, nl_code4(r0, vz, vqmin, vqmax), nl_code4(r1, vz, vqmin, vqmax));
        }
        for (; i < n; i++)
            out[i] = igq__rq_code(igq__requant64(x[i], mult[0], s), zero[0], qmin, qmax);
    }
}

#endif
