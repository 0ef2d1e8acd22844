/* Integer GEMM, AVX2 (built with -mavx2 -mfma; reached only through the dispatch table):
 * u8 activations x qs8 / qs4 packed weights -> int32, semantics of igq_qgemm_fn (kernels.h),
 * bit-exact with igq__qs8_gemm__scalar.
 *
 * Arithmetic: vpmaddwd on int16 pairs, exact. Weights are sign-extended (vpmovsxbw) and A
 * zero-extended (vpmovzxbw) to int16; vpmaddwd gives a0 w0 + a1 w1 in int32 (|.| <= 65280, no
 * saturation: that needs both pairs -32768 * -32768), then vpaddd. vpmaddubsw is NOT used:
 * it adds the two u8 x s8 products in int16 with saturation, wrong for e.g. a = 255, w = 127
 * in both pairs (64770 > 32767); it is only exact for activations <= 127.
 *
 * Tile: MR = 6 rows x 16 columns (2 ymm) x KR = 2: 12 ymm accumulators, 2 weight vectors,
 * 1 broadcast. Per k pair: 2 loads, 6 vpbroadcastd (load-port only), 12 vpmaddwd + 12 vpaddd.
 *
 * Weights: k-row panels (qs8_layout.h), staged per 64-column panel and k block (KC = 192) as
 * int16 pairs into a 24 KiB stack buffer: pair p (k = 2p, 2p + 1), columns 8v .. 8v + 7 at
 * byte 256 p + 32 v, lane d = (w[8v + d][2p], w[8v + d][2p + 1]). From the pos() order, each
 * 16-byte chunk of two rows goes through vpmovsxbw + unpack{lo,hi}_epi16, and vperm2i128 of two
 * neighbouring chunks yields 8 consecutive columns. qs4 nibbles are unpacked to 16 w (AND /
 * shift + AND), sign-extended, then shifted right by 4 to w. The row tile's A block (6 x KC)
 * is zero-extended once into a u16 stack buffer, padded to an even count with zeros, and reused
 * by the panel's four column groups. Loops: [row blocks] > panels > k blocks (stage) >
 * row tiles (expand A) > column groups. N tails by vpmaskmovd. Only A[m][k0..k1) is read. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>
#include <string.h>

#include "../qs8_layout.h"

#define MR 6
#define KC 192 /* k block: 96 pairs x 256 B = 24 KiB staged */
#define MC 1536

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE int32_t ld32(const uint16_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* 16-byte chunk L (positions 16L .. 16L + 15) of a packed row, as int16 weights. */
ALWAYS_INLINE __m256i load_chunk(const int qs4, const uint8_t *row, int L)
{
    if (!qs4) return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(row + 16 * L)));
    {
        const __m128i x = _mm_loadu_si128((const __m128i *)(row + 16 * (L & 1)));
        const __m128i y = L < 2 ? _mm_slli_epi16(x, 4) : x; /* low nibbles: positions 0..31 */
        const __m128i w16 = _mm_and_si128(y, _mm_set1_epi8((char)0xf0));
        return _mm256_srai_epi16(_mm256_cvtepi8_epi16(w16), 4);
    }
}

/* Interleaves rows k = 2p, 2p + 1 (p1 NULL: zeros) into 8 vectors of int16 pairs at dst. */
ALWAYS_INLINE void interleave2(const int qs4, const uint8_t *p0, const uint8_t *p1, uint8_t *dst)
{
    __m256i lo[4], hi[4];
    int     L, e;
    for (L = 0; L < 4; L++) {
        const __m256i s0 = load_chunk(qs4, p0, L);
        const __m256i s1 = p1 != NULL ? load_chunk(qs4, p1, L) : _mm256_setzero_si256();
        lo[L]            = _mm256_unpacklo_epi16(s0, s1); /* cols 4L+i | 32+4L+i */
        hi[L]            = _mm256_unpackhi_epi16(s0, s1); /* cols 16+4L+i | 48+4L+i */
    }
    for (e = 0; e < 2; e++) {
        _mm256_store_si256((__m256i *)(dst + 32 * e), _mm256_permute2x128_si256(lo[2 * e], lo[2 * e + 1], 0x20));
        _mm256_store_si256((__m256i *)(dst + 32 * (4 + e)), _mm256_permute2x128_si256(lo[2 * e], lo[2 * e + 1], 0x31));
        _mm256_store_si256((__m256i *)(dst + 32 * (2 + e)), _mm256_permute2x128_si256(hi[2 * e], hi[2 * e + 1], 0x20));
        _mm256_store_si256((__m256i *)(dst + 32 * (6 + e)), _mm256_permute2x128_si256(hi[2 * e], hi[2 * e + 1], 0x31));
    }
}

/* perm: kperm != NULL (compile-time); whole pairs branch-free, rows of 4 pairs ahead
 * prefetched; an odd last row is paired with zeros. */
ALWAYS_INLINE void stage(const int qs4, const int perm, const uint8_t *panel,
                         const int32_t *kperm, int64_t kb, int64_t kc, uint8_t *dst)
{
    const int64_t  rb = qs4 ? 32 : 64;
    const int64_t  np = kc / 2;
    const int32_t *kp = perm ? kperm + kb : NULL;
    int64_t        p;
#define ROW(k) (panel + (perm ? (int64_t)kp[k] : kb + (k)) * rb)
    for (p = 0; p < np; p++, dst += 256) {
        const int64_t k = 2 * p;
        if (p + 4 < np) {
            _mm_prefetch((const char *)ROW(k + 8), _MM_HINT_T0);
            _mm_prefetch((const char *)ROW(k + 9), _MM_HINT_T0);
        }
        interleave2(qs4, ROW(k), ROW(k + 1), dst);
    }
    if (kc % 2) interleave2(qs4, ROW(2 * np), NULL, dst);
#undef ROW
}

ALWAYS_INLINE __m256i lanes(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* One mr x 16 tile over np k pairs; a: expanded u16 rows with stride KC; b: staged block offset
 * to the column group; nn <= 16 valid columns. */
ALWAYS_INLINE void tile(const int mr, int64_t np, const uint16_t *a, const uint8_t *b, int32_t *c,
                        int64_t ldc, int first, int nn)
{
    const __m256i z = _mm256_setzero_si256();
    __m256i       c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
    __m256i       c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
    int64_t       p;
#define ROW_MAC(i)                                                                     \
    if (mr > i) {                                                                      \
        const __m256i x = _mm256_set1_epi32(ld32(a + (i) * KC + 2 * p));               \
        c##i##0         = _mm256_add_epi32(c##i##0, _mm256_madd_epi16(x, b0));         \
        c##i##1         = _mm256_add_epi32(c##i##1, _mm256_madd_epi16(x, b1));         \
    }
    for (p = 0; p < np; p++, b += 256) {
        const __m256i b0 = _mm256_load_si256((const __m256i *)b);
        const __m256i b1 = _mm256_load_si256((const __m256i *)(b + 32));
        ROW_MAC(0) ROW_MAC(1) ROW_MAC(2) ROW_MAC(3) ROW_MAC(4) ROW_MAC(5)
    }
#undef ROW_MAC
    if (nn == 16) {
#define ROW_STORE(i)                                                                   \
    if (mr > i) {                                                                      \
        int32_t *q = c + (i) * ldc;                                                    \
        __m256i  x0 = c##i##0, x1 = c##i##1;                                           \
        if (!first) {                                                                  \
            x0 = _mm256_add_epi32(x0, _mm256_loadu_si256((const __m256i *)q));         \
            x1 = _mm256_add_epi32(x1, _mm256_loadu_si256((const __m256i *)(q + 8)));   \
        }                                                                              \
        _mm256_storeu_si256((__m256i *)q, x0);                                         \
        _mm256_storeu_si256((__m256i *)(q + 8), x1);                                   \
    }
        ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
#undef ROW_STORE
    } else {
        const __m256i m0 = lanes(nn < 8 ? nn : 8), m1 = lanes(nn > 8 ? nn - 8 : 0);
#define ROW_STORE(i)                                                                   \
    if (mr > i) {                                                                      \
        int32_t *q = c + (i) * ldc;                                                    \
        __m256i  x0 = c##i##0, x1 = c##i##1;                                           \
        if (!first) {                                                                  \
            x0 = _mm256_add_epi32(x0, _mm256_maskload_epi32((const int *)q, m0));      \
            x1 = _mm256_add_epi32(x1, _mm256_maskload_epi32((const int *)(q + 8), m1)); \
        }                                                                              \
        _mm256_maskstore_epi32((int *)q, m0, x0);                                      \
        _mm256_maskstore_epi32((int *)(q + 8), m1, x1);                                \
    }
        ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
#undef ROW_STORE
    }
}

/* Zero-extends A[i][0..kc) of mr rows into a16 (row stride KC), zero-padded to an even kc. */
static void expand_a(int mr, int64_t kc, const uint8_t *A, int64_t lda, uint16_t *a16)
{
    int     i;
    int64_t k;
    for (i = 0; i < mr; i++) {
        const uint8_t *src = A + i * lda;
        uint16_t      *dst = a16 + (int64_t)i * KC;
        for (k = 0; k + 16 <= kc; k += 16)
            _mm256_storeu_si256((__m256i *)(dst + k),
                                _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(src + k))));
        for (; k < kc; k++) dst[k] = src[k];
        if (kc & 1) dst[kc] = 0;
    }
}

ALWAYS_INLINE void row_tile(const int mr, int64_t np, const uint16_t *a16, const uint8_t *b,
                            int32_t *c, int64_t ldc, int first, int nn)
{
    int g;
    for (g = 0; 16 * g < nn; g++)
        tile(mr, np, a16, b + 64 * g, c + 16 * g, ldc, first, nn - 16 * g < 16 ? nn - 16 * g : 16);
}

static void row_tile_any(int mr, int64_t np, const uint16_t *a16, const uint8_t *b, int32_t *c,
                         int64_t ldc, int first, int nn)
{
    switch (mr) {
    case 1: row_tile(1, np, a16, b, c, ldc, first, nn); break;
    case 2: row_tile(2, np, a16, b, c, ldc, first, nn); break;
    case 3: row_tile(3, np, a16, b, c, ldc, first, nn); break;
    case 4: row_tile(4, np, a16, b, c, ldc, first, nn); break;
    case 5: row_tile(5, np, a16, b, c, ldc, first, nn); break;
    default: row_tile(6, np, a16, b, c, ldc, first, nn); break;
    }
}

static void stage_any(int qs4, const uint8_t *panel, const int32_t *kperm, int64_t kb,
                      int64_t kc, uint8_t *dst)
{
    if (kperm != NULL) {
        if (qs4) stage(1, 1, panel, kperm, kb, kc, dst);
        else stage(0, 1, panel, kperm, kb, kc, dst);
    } else {
        if (qs4) stage(1, 0, panel, kperm, kb, kc, dst);
        else stage(0, 0, panel, kperm, kb, kc, dst);
    }
}

static void gemm(int qs4, int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                 const uint8_t *A, int64_t lda, const void *packed, const int32_t *kperm,
                 int32_t *C, int64_t ldc)
{
    uint8_t       buf[KC / 2 * 256] __attribute__((aligned(64)));
    uint16_t      a16[MR * KC] __attribute__((aligned(64)));
    const int64_t rb = qs4 ? 32 : 64;
    int64_t       klen, nkb, kcb, m0, nb, kb, i;

    if (M <= 0 || N <= 0) return;
    if (k1 <= k0) {
        for (i = 0; i < M; i++) memset(C + i * ldc, 0, (size_t)N * sizeof(int32_t));
        return;
    }
    klen = k1 - k0;
    nkb  = (klen + KC - 1) / KC;
    kcb  = ((klen + nkb - 1) / nkb + 3) & ~(int64_t)3;
    for (m0 = 0; m0 < M; m0 += MC) {
        const int64_t mc = M - m0 < MC ? M - m0 : MC;
        for (nb = 0; nb * IGQ_QS8_NR < N; nb++) {
            const uint8_t *panel = (const uint8_t *)packed + nb * K * rb;
            const int nn = (int)(N - nb * IGQ_QS8_NR < IGQ_QS8_NR ? N - nb * IGQ_QS8_NR : IGQ_QS8_NR);
            for (kb = k0; kb < k1; kb += kcb) {
                const int64_t kc = k1 - kb < kcb ? k1 - kb : kcb;
                stage_any(qs4, panel, kperm, kb, kc, buf);
                for (i = 0; i < mc; i += MR) {
                    const int mr = mc - i < MR ? (int)(mc - i) : MR;
                    expand_a(mr, kc, A + (m0 + i) * lda + kb, lda, a16);
                    row_tile_any(mr, (kc + 1) / 2, a16, buf, C + (m0 + i) * ldc + nb * IGQ_QS8_NR,
                                 ldc, kb == k0, nn);
                }
            }
        }
    }
}

void igq__qs8_gemm_6x16c2__avx2(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                               const uint8_t *A, int64_t lda, const void *packed,
                               const int32_t *kperm, int32_t *C, int64_t ldc)
{
    gemm(0, M, N, K, k0, k1, A, lda, packed, kperm, C, ldc);
}

void igq__qs4_gemm_6x16c2__avx2(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                               const uint8_t *A, int64_t lda, const void *packed,
                               const int32_t *kperm, int32_t *C, int64_t ldc)
{
    gemm(1, M, N, K, k0, k1, A, lda, packed, kperm, C, ldc);
}

#else
typedef int igq_qs8_gemm_avx2_empty; /* ISO C forbids an empty translation unit */
#endif
