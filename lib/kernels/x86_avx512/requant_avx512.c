/* Requantization of an int32 row to unsigned codes, AVX-512 (F/BW/VL; built with the
 * x86_avx512 flags, reached only through the dispatch table). Semantics and rounding:
 * igq__i32_requant_ref (nonlin.h), bit-exact. 8 elements per step in 64-bit lanes: vpmuldq,
 * the rounding shift by vpsravq (per-lane shifts), vpminsq/vpmaxsq clamp of r + z, vpmovqb.
 * The tail is the same code under a lane mask (masked loads and stores only). */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "nonlin_avx512.h"

void igq_i32_requant__avx512(int64_t n, const int32_t *x, const int32_t *mult,
                             const int32_t *shift, const int32_t *zero, int per_channel,
                             int32_t qmin, int32_t qmax, uint8_t *out)
{
    const __m512i vqmin = _mm512_set1_epi64(qmin), vqmax = _mm512_set1_epi64(qmax);
    int64_t       i;
    if (n <= 0) return;
    if (per_channel) {
        for (i = 0; i < n; i += 8) {
            const __mmask8 m = nl_mask8(n - i);
            const __m512i  p = _mm512_mul_epi32(nl_load8_i64(m, x + i), nl_load8_i64(m, mult + i));
            const __m512i  r = nl_round_shift_v(p, nl_load8_i64(m, shift + i));
            nl_store8_code(out + i, m, r, nl_load8_i64(m, zero + i), vqmin, vqmax);
        }
    } else {
        const int32_t s   = shift[0];
        const __m512i vm  = _mm512_set1_epi64(mult[0]), vz = _mm512_set1_epi64(zero[0]);
        const __m512i rnd = _mm512_set1_epi64(s > 0 ? (int64_t)1 << (s - 1) : 0);
        const __m128i cnt = _mm_cvtsi32_si128(s);
        for (i = 0; i < n; i += 8) {
            const __mmask8 m = nl_mask8(n - i);
            const __m512i  r = nl_round_shift_u(_mm512_mul_epi32(nl_load8_i64(m, x + i), vm), rnd, cnt);
            nl_store8_code(out + i, m, r, vz, vqmin, vqmax);
        }
    }
}

#endif
