/* Integer GEMM, AVX2 (built with -mavx2 -mfma; reached only through the dispatch table):
 * u8 activations x qs8 / qs4 packed weights -> int32, igq_qgemm_fn (kernels.h), bit-exact with
 * igq__qs8_gemm__scalar. The driver (blocking, staging, tile, tails) is qgemm_driver.h; this
 * file gives it the k-pair arithmetic and its staging step; the grouped GEMM (igq_qggemm_fn)
 * is qggemm_driver.h on the same tile, with A widened per row tile and panel.
 *
 * Arithmetic: vpmaddwd on int16 pairs, exact. Weights are sign-extended (vpmovsxbw) and A
 * zero-extended (vpmovzxbw) to int16; vpmaddwd gives a0 w0 + a1 w1 in int32 (|.| <= 65280, no
 * saturation: that needs both pairs -32768 * -32768), then vpaddd. vpmaddubsw is NOT used:
 * it adds the two u8 x s8 products in int16 with saturation, wrong for e.g. a = 255, w = 127
 * in both pairs (64770 > 32767); it is only exact for activations <= 127. Splitting 8-bit
 * codes (a = lo7 + 128 hi1) to make it exact costs two vpmaddubsw per 32 products plus the
 * widening: no fewer uops than vpmaddwd + vpaddd (16 products per pair of instructions), so
 * qs8 x u8 stays here; qs4 weights (|w| <= 8) are exact with vpmaddubsw for any u8 A and take
 * that faster tile (qs4_gemm_avx2.c).
 *
 * Tile: 6 rows x 16 columns (2 ymm) x KR = 2: per k pair 2 loads, 6 vpbroadcastd (load-port
 * only), 12 vpmaddwd + 12 vpaddd. k block KC = 192 (96 pairs x 256 B = 24 KiB staged).
 *
 * Staging step (one pair p: k = 2p, 2p + 1): columns 8v .. 8v + 7 at byte 32 v, lane d =
 * (w[8v + d][2p], w[8v + d][2p + 1]). From the pos() order, each 16-byte chunk of the two rows
 * goes through vpmovsxbw + unpack{lo,hi}_epi16, and vperm2i128 of two neighbouring chunks
 * yields 8 consecutive columns. qs4 nibbles are unpacked to 16 w (AND / shift + AND),
 * sign-extended, then shifted right by 4 to w, so the sums need no shift. The row tile's A
 * block (6 x KC) is zero-extended once into a u16 stack buffer, padded to an even count with
 * zeros, and reused by the panel's four column groups. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "qgemm_ymm_inl.h"

#define QGEMM_KR 2
#define QGEMM_KC 192
#define QGEMM_QS4_X16 0
#define QGEMM_EXPAND_A expand_a
#define QV_DOT(acc, a, b) _mm256_add_epi32((acc), _mm256_madd_epi16((a), (b)))

/* 16-byte chunk L (positions 16L .. 16L + 15) of a packed row, as int16 weights. */
QGEMM_INLINE __m256i load_chunk(const int qs4, const uint8_t *row, int L)
{
    if (!qs4) return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(row + 16 * L)));
    {
        const __m128i x   = _mm_loadu_si128((const __m128i *)(row + 16 * (L & 1)));
        const __m128i y   = L < 2 ? _mm_slli_epi16(x, 4) : x; /* low nibbles: positions 0..31 */
        const __m128i w16 = _mm_and_si128(y, _mm_set1_epi8((char)0xf0));
        return _mm256_srai_epi16(_mm256_cvtepi8_epi16(w16), 4);
    }
}

/* Rows p0, p1 (p1 zeros when nrows is 1) -> 8 vectors of int16 pairs at dst. */
QGEMM_INLINE void qgemm_stage_step(const int qs4, int nrows, const uint8_t *p0,
                                   const uint8_t *p1, const uint8_t *p2, const uint8_t *p3,
                                   uint8_t *dst)
{
    __m256i lo[4], hi[4];
    int     L, e;
    (void)p2, (void)p3;
    for (L = 0; L < 4; L++) {
        const __m256i s0 = load_chunk(qs4, p0, L);
        const __m256i s1 = nrows > 1 ? load_chunk(qs4, p1, L) : _mm256_setzero_si256();
        lo[L]            = _mm256_unpacklo_epi16(s0, s1); /* cols 4L+i | 32+4L+i */
        hi[L]            = _mm256_unpackhi_epi16(s0, s1); /* cols 16+4L+i | 48+4L+i */
    }
    for (e = 0; e < 2; e++) {
        const __m256i l0 = lo[2 * e], l1 = lo[2 * e + 1], h0 = hi[2 * e], h1 = hi[2 * e + 1];
        _mm256_store_si256((__m256i *)(dst + 32 * e), _mm256_permute2x128_si256(l0, l1, 0x20));
        _mm256_store_si256((__m256i *)(dst + 32 * (4 + e)), _mm256_permute2x128_si256(l0, l1, 0x31));
        _mm256_store_si256((__m256i *)(dst + 32 * (2 + e)), _mm256_permute2x128_si256(h0, h1, 0x20));
        _mm256_store_si256((__m256i *)(dst + 32 * (6 + e)), _mm256_permute2x128_si256(h0, h1, 0x31));
    }
}

/* Zero-extends A[i][0..kc) of mr rows into a16 (row stride stride16), zero-padded to an even
 * kc. */
static void expand_rows(int mr, int64_t kc, const uint8_t *A, int64_t lda, uint16_t *a16,
                        int64_t stride16)
{
    int     i;
    int64_t k;
    for (i = 0; i < mr; i++) {
        const uint8_t *src = A + i * lda;
        uint16_t      *dst = a16 + (int64_t)i * stride16;
        for (k = 0; k + 16 <= kc; k += 16)
            _mm256_storeu_si256((__m256i *)(dst + k),
                                _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(src + k))));
        for (; k < kc; k++) dst[k] = src[k];
        if (kc & 1) dst[kc] = 0;
    }
}

/* The plain GEMM's tile block: row stride KC. */
static void expand_a(int mr, int64_t kc, const uint8_t *A, int64_t lda, uint16_t *a16)
{
    expand_rows(mr, kc, A, lda, a16, QGEMM_KC);
}
#define QGEMM_EXPAND_AS expand_rows

#include "../qgemm_driver.h"
#include "../qggemm_driver.h"

/* qs8 only: qs4 weights take the exact vpmaddubsw tile of qs4_gemm_avx2.c. */
IGQ_QGEMM_DECL(igq__qs8_gemm_6x16c2__avx2)
{
    qgemm(8, M, N, K, k0, k1, A, lda, packed, kperm, C, ldc);
}
IGQ_QGGEMM_DECL(igq__qs8_ggemm_6x16c2__avx2)
{
    qggemm(8, M, N, K, G, off, gs, A, lda, packed, kperm, colscale, colbias, Y, ldy, ws);
}

#else
typedef int igq_qs8_gemm_avx2_empty; /* ISO C forbids an empty translation unit */
#endif
