/* Packing of the attention operands as GEMM weights, AVX-512 (BW + VNNI): byte for byte the
 * scalar reference (lib/kernels/scalar/attn_pack_scalar.c, semantics in kernels.h).
 *
 * Keys: a transpose. For each 64-key panel and each quad of channels k .. k+3, four dword
 * gathers fetch the quad of 16 keys each (gather x: keys 16x .. 16x+15); a byte shuffle per
 * 128-bit lane turns lane y's four keys x four channels around, so dword k of lane y holds
 * channel k of keys 16x+4y .. 16x+4y+3, which is dword 4y+x of packed row k (pos() order:
 * key 16x+4y+z sits at byte 16y+4x+z); a 4 x 4 dword transpose across the four registers then
 * yields the four packed rows. Row sums: vpdpbusd of the gathered quads with 1-bytes (0 for
 * channels past hd). Keys past T are masked off the gathers (zero, as the padding must be).
 * Values: no transpose; each 64-byte row is offset and put in pos() order by one vpermd
 * (pos() swaps whole dwords), and its column sums accumulate in int32 from the unpermuted
 * bytes. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>
#include <string.h>

#include "../qs8_layout.h"

void igq__qs8_pack_keys__avx512(const uint8_t *kh, int64_t ld, int64_t T, int64_t hd, int32_t ok,
                                uint8_t *pk, int32_t *rs)
{
    /* per 128-bit lane: dword d = byte d of each of the lane's four dwords */
    const __m512i tr4 = _mm512_broadcast_i32x4(
        _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    const __m512i vok = _mm512_set1_epi8((char)ok);
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                                             11, 12, 13, 14, 15),
                                           _mm512_set1_epi32((int)ld));
    int64_t       b, k;
    int           x;
    for (b = 0; b * IGQ_QS8_NR < T; b++) {
        const int64_t j0 = b * IGQ_QS8_NR;
        uint8_t      *panel = pk + b * hd * IGQ_QS8_NR;
        __mmask16     km[4];
        __mmask64     bm[4];
        __m512i       sum[4];
        for (x = 0; x < 4; x++) {
            const int64_t left = T - j0 - 16 * x;
            km[x]  = left >= 16 ? (__mmask16)0xffff
                               : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1u);
            /* the 4 bytes of each kept key (all 32 bits of its dwords set) */
            bm[x]  = _mm512_movepi8_mask(_mm512_maskz_set1_epi32(km[x], -1));
            sum[x] = _mm512_setzero_si512();
        }
        for (k = 0; k < hd; k += 4) {
            const int      nk = hd - k < 4 ? (int)(hd - k) : 4;
            /* 1-bytes for the channels k .. k + nk - 1 of each dword */
            const __m512i  ones = _mm512_set1_epi32((int)(0x01010101u >> (8 * (4 - nk))));
            __m512i        g[4], t0, t1, t2, t3;
            for (x = 0; x < 4; x++) {
                const uint8_t *base = kh + (j0 + 16 * x) * ld + k;
                g[x] = km[x] ? _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), km[x], idx,
                                                           (const void *)base, 1)
                             : _mm512_setzero_si512();
                g[x]   = _mm512_maskz_sub_epi8(bm[x], g[x], vok);
                sum[x] = _mm512_dpbusd_epi32(sum[x], ones, g[x]);
                g[x]   = _mm512_shuffle_epi8(g[x], tr4);
            }
            /* dword k of lane y of g[x] -> dword 4y + x of row k + k' */
            t0 = _mm512_unpacklo_epi32(g[0], g[1]); /* k0: x0 x1, k1: x0 x1 */
            t1 = _mm512_unpackhi_epi32(g[0], g[1]); /* k2, k3 */
            t2 = _mm512_unpacklo_epi32(g[2], g[3]);
            t3 = _mm512_unpackhi_epi32(g[2], g[3]);
            {
                const __m512i r0 = _mm512_unpacklo_epi64(t0, t2), r1 = _mm512_unpackhi_epi64(t0, t2);
                const __m512i r2 = _mm512_unpacklo_epi64(t1, t3), r3 = _mm512_unpackhi_epi64(t1, t3);
                _mm512_storeu_si512((void *)(panel + k * IGQ_QS8_NR), r0);
                if (nk > 1) _mm512_storeu_si512((void *)(panel + (k + 1) * IGQ_QS8_NR), r1);
                if (nk > 2) _mm512_storeu_si512((void *)(panel + (k + 2) * IGQ_QS8_NR), r2);
                if (nk > 3) _mm512_storeu_si512((void *)(panel + (k + 3) * IGQ_QS8_NR), r3);
            }
        }
        for (x = 0; x < 4; x++) {
            const int64_t left = T - j0 - 16 * x;
            if (left > 0) _mm512_mask_storeu_epi32(rs + j0 + 16 * x, km[x], sum[x]);
        }
    }
}

void igq__qs8_pack_values__avx512(const uint8_t *vh, int64_t ld, int64_t T, int64_t hd,
                                  int32_t ov, uint8_t *pk, int32_t *rs)
{
    /* output dword 4a + b = input dword 4b + a (pos() on whole dwords) */
    const __m512i perm = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i vov  = _mm512_set1_epi8((char)ov);
    int64_t       b, j;
    for (b = 0; b * IGQ_QS8_NR < hd; b++) {
        const int64_t   nn = hd - b * IGQ_QS8_NR < IGQ_QS8_NR ? hd - b * IGQ_QS8_NR : IGQ_QS8_NR;
        const __mmask64 m  = nn == 64 ? ~(__mmask64)0 : (((__mmask64)1 << nn) - 1);
        __m512i         s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
        for (j = 0; j < T; j++) {
            const __m512i v =
                _mm512_maskz_sub_epi8(m, _mm512_maskz_loadu_epi8(m, vh + j * ld + b * IGQ_QS8_NR), vov);
            _mm512_storeu_si512((void *)(pk + (b * T + j) * IGQ_QS8_NR),
                                _mm512_permutexvar_epi32(perm, v));
            s0 = _mm512_add_epi32(s0, _mm512_cvtepi8_epi32(_mm512_castsi512_si128(v)));
            s1 = _mm512_add_epi32(s1, _mm512_cvtepi8_epi32(_mm512_extracti32x4_epi32(v, 1)));
            s2 = _mm512_add_epi32(s2, _mm512_cvtepi8_epi32(_mm512_extracti32x4_epi32(v, 2)));
            s3 = _mm512_add_epi32(s3, _mm512_cvtepi8_epi32(_mm512_extracti32x4_epi32(v, 3)));
        }
        {
            int32_t tmp[64];
            _mm512_storeu_si512((void *)tmp, s0);
            _mm512_storeu_si512((void *)(tmp + 16), s1);
            _mm512_storeu_si512((void *)(tmp + 32), s2);
            _mm512_storeu_si512((void *)(tmp + 48), s3);
            memcpy(rs + b * IGQ_QS8_NR, tmp, (size_t)nn * sizeof(int32_t));
        }
    }
}

#else
typedef int igq_attn_pack_avx512_empty; /* ISO C forbids an empty translation unit */
#endif
