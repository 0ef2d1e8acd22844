/* Integer GEMM, AVX-512 VNNI (built with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma;
 * reached only through the dispatch table): u8 activations x qs8 / qs4 packed weights ->
 * int32, semantics of igq_qgemm_fn (kernels.h), bit-exact with igq__qs8_gemm__scalar.
 *
 * Tile: MR = 6 rows x 64 columns (4 zmm) x KR = 4: 24 zmm accumulators, 4 weight vectors,
 * 1 broadcast. Per k quad: 4 loads of staged weights, 6 vpbroadcastd of A (load-port only),
 * 24 vpdpbusd (u8 A x s8 W, 4 products summed into each int32 lane, no saturation).
 *
 * Weights come in the k-row panel layout (qs8_layout.h). For each 64-column panel and each
 * k block of up to KC = 384 A columns, the block is staged in 16c4 order into a 24 KiB stack
 * buffer (L1): 4 packed rows, gathered through kperm (the per-image IGQ channel order) or
 * consecutive, become 4 zmm by unpack{lo,hi}_epi8 + unpack{lo,hi}_epi16 (the pos() swizzle of
 * the layout makes these in-lane interleaves yield 16 consecutive columns per register).
 * qs4 rows (32 B) are unpacked to 16 w in the same step: broadcast to both halves, shift the
 * low half's words left by 4, AND 0xF0; the int32 sums are shifted right by 4 at the end
 * (exact: they are multiples of 16; |16 w| <= 128 so the int32 range is that of qs8).
 * Staging takes ~10 cycles per 4 rows (8 shuffles on port 5, branch-free; measured the same with
 * and without kperm, as gathered rows are whole cache lines) and is reused by all ceil(M / 6)
 * row tiles (6 x 4 x 4 = 96 vpdpbusd, 12 cycles, per 4 rows): ~2-3 % of the time at M = 197,
 * ~8 % at M = 50. So qs4 runs at the qs8 rate while reading half the weight bytes.
 * bench_gemm_q8 (this host, 1 thread): 85-95 % of the measured zmm vpdpbusd peak at M = 197;
 * shapes whose weights + C exceed L2 (K 768 x N 2304/3072, and M = 394) are the low end.
 *
 * Loops: [row blocks of MC] > panels > k blocks (stage) > row tiles. The A block (MC x KC)
 * stays in L2, the staged weights in L1; C tiles are stored after the first k block and
 * accumulated by later ones. A is read in place: whole quads with vpbroadcastd, the last
 * partial quad of the range (k1 - k0 not a multiple of 4) from its valid bytes only; nothing
 * outside A[m][k0..k1) is read. N tails use masked stores (the panel's padding columns are zero).
 * M tails use the tile instantiated for 1..5 rows. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>
#include <string.h>

#include "../qs8_layout.h"
#include "qs8_avx512_inl.h"

#define MR 6
#define KC 384  /* k block: staged 96 quads x 256 B = 24 KiB */
#define MC 1536 /* row block: A block MC x KC = 576 KiB in L2 */

/* One mr x (16 nv) tile over nq whole quads plus a partial quad of t = 0..3 columns; b is the
 * staged block. first: store, else add to C. qs4: shift the sums right by 4. The last vector is
 * stored with mlast. mr and nv are compile-time constants at every call. */
ALWAYS_INLINE void tile(const int mr, const int nv, int64_t nq, int t, const uint8_t *a,
                        int64_t lda, const uint8_t *b, int32_t *c, int64_t ldc, int first, int qs4,
                        __mmask16 mlast)
{
    const __m512i  z = _mm512_setzero_si512();
    __m512i        c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
    __m512i        c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
    __m512i        c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
    const uint8_t *a0 = a, *a1 = a, *a2 = a, *a3 = a, *a4 = a, *a5 = a;
    int64_t        q;

    if (mr > 1) a1 = a + lda;
    if (mr > 2) a2 = a + 2 * lda;
    if (mr > 3) a3 = a + 3 * lda;
    if (mr > 4) a4 = a + 4 * lda;
    if (mr > 5) a5 = a + 5 * lda;

#define ROW_DP(i, av)                                                                  \
    if (mr > i) {                                                                      \
        const __m512i x = av;                                                          \
        c##i##0         = _mm512_dpbusd_epi32(c##i##0, x, b0);                         \
        if (nv > 1) c##i##1 = _mm512_dpbusd_epi32(c##i##1, x, b1);                     \
        if (nv > 2) c##i##2 = _mm512_dpbusd_epi32(c##i##2, x, b2);                     \
        if (nv > 3) c##i##3 = _mm512_dpbusd_epi32(c##i##3, x, b3);                     \
    }
    for (q = 0; q < nq; q++, b += 256) {
        const __m512i b0 = _mm512_load_si512((const void *)b);
        const __m512i b1 = nv > 1 ? _mm512_load_si512((const void *)(b + 64)) : z;
        const __m512i b2 = nv > 2 ? _mm512_load_si512((const void *)(b + 128)) : z;
        const __m512i b3 = nv > 3 ? _mm512_load_si512((const void *)(b + 192)) : z;
        ROW_DP(0, _mm512_set1_epi32(ld32(a0 + 4 * q)))
        ROW_DP(1, _mm512_set1_epi32(ld32(a1 + 4 * q)))
        ROW_DP(2, _mm512_set1_epi32(ld32(a2 + 4 * q)))
        ROW_DP(3, _mm512_set1_epi32(ld32(a3 + 4 * q)))
        ROW_DP(4, _mm512_set1_epi32(ld32(a4 + 4 * q)))
        ROW_DP(5, _mm512_set1_epi32(ld32(a5 + 4 * q)))
    }
    if (t > 0) {
        const __m512i b0 = _mm512_load_si512((const void *)b);
        const __m512i b1 = nv > 1 ? _mm512_load_si512((const void *)(b + 64)) : z;
        const __m512i b2 = nv > 2 ? _mm512_load_si512((const void *)(b + 128)) : z;
        const __m512i b3 = nv > 3 ? _mm512_load_si512((const void *)(b + 192)) : z;
        ROW_DP(0, _mm512_set1_epi32(ld_tail(a0 + 4 * nq, t)))
        ROW_DP(1, _mm512_set1_epi32(ld_tail(a1 + 4 * nq, t)))
        ROW_DP(2, _mm512_set1_epi32(ld_tail(a2 + 4 * nq, t)))
        ROW_DP(3, _mm512_set1_epi32(ld_tail(a3 + 4 * nq, t)))
        ROW_DP(4, _mm512_set1_epi32(ld_tail(a4 + 4 * nq, t)))
        ROW_DP(5, _mm512_set1_epi32(ld_tail(a5 + 4 * nq, t)))
    }
#undef ROW_DP

#define VEC_STORE(i, v)                                                                \
    if (mr > i && nv > v) {                                                            \
        int32_t        *p = c + (i) * ldc + 16 * (v);                                  \
        const __mmask16 m = (v) == nv - 1 ? mlast : (__mmask16)0xffff;                 \
        __m512i         x = c##i##v;                                                   \
        if (qs4) x = _mm512_srai_epi32(x, 4);                                           \
        if (!first) x = _mm512_add_epi32(x, _mm512_maskz_loadu_epi32(m, p));           \
        _mm512_mask_storeu_epi32(p, m, x);                                             \
    }
#define ROW_STORE(i) VEC_STORE(i, 0) VEC_STORE(i, 1) VEC_STORE(i, 2) VEC_STORE(i, 3)
    ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
#undef ROW_STORE
#undef VEC_STORE
}

/* Instantiates tile() for the runtime row count (1..MR) and vector count (1..4). */
static void tile_any(int mr, int nv, int64_t nq, int t, const uint8_t *a, int64_t lda,
                     const uint8_t *b, int32_t *c, int64_t ldc, int first, int qs4, __mmask16 mlast)
{
#define CASE(r)                                                                        \
    case r:                                                                            \
        switch (nv) {                                                                  \
        case 1: tile(r, 1, nq, t, a, lda, b, c, ldc, first, qs4, mlast); break;         \
        case 2: tile(r, 2, nq, t, a, lda, b, c, ldc, first, qs4, mlast); break;         \
        case 3: tile(r, 3, nq, t, a, lda, b, c, ldc, first, qs4, mlast); break;         \
        default: tile(r, 4, nq, t, a, lda, b, c, ldc, first, qs4, mlast); break;        \
        }                                                                              \
        break;
    switch (mr) {
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
    default: break;
    }
#undef CASE
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
    uint8_t       buf[KC * IGQ_QS8_NR] __attribute__((aligned(64)));
    const int64_t rb = qs4 ? 32 : 64;
    int64_t       klen, nkb, kcb, m0, nb, kb, i;

    if (M <= 0 || N <= 0) return;
    if (k1 <= k0) {
        for (i = 0; i < M; i++) memset(C + i * ldc, 0, (size_t)N * sizeof(int32_t));
        return;
    }
    /* k blocks of equal size (a multiple of 4, so only the last one has a partial quad) */
    klen = k1 - k0;
    nkb  = (klen + KC - 1) / KC;
    kcb  = ((klen + nkb - 1) / nkb + 3) & ~(int64_t)3;
    for (m0 = 0; m0 < M; m0 += MC) {
        const int64_t mc = M - m0 < MC ? M - m0 : MC;
        for (nb = 0; nb * IGQ_QS8_NR < N; nb++) {
            const uint8_t  *panel = (const uint8_t *)packed + nb * K * rb;
            const int64_t   nn    = N - nb * IGQ_QS8_NR < IGQ_QS8_NR ? N - nb * IGQ_QS8_NR : IGQ_QS8_NR;
            const int       nv    = (int)((nn + 15) / 16);
            const int       nlast = (int)(nn - 16 * (nv - 1));
            const __mmask16 mlast = (__mmask16)(nlast == 16 ? 0xffff : (1u << nlast) - 1);
            for (kb = k0; kb < k1; kb += kcb) {
                const int64_t kc = k1 - kb < kcb ? k1 - kb : kcb;
                stage_any(qs4, panel, kperm, kb, kc, buf);
                for (i = 0; i < mc; i += MR) {
                    const int mr = mc - i < MR ? (int)(mc - i) : MR;
                    tile_any(mr, nv, kc / 4, (int)(kc % 4), A + (m0 + i) * lda + kb, lda, buf,
                             C + (m0 + i) * ldc + nb * IGQ_QS8_NR, ldc, kb == k0, qs4, mlast);
                }
            }
        }
    }
}

void igq__qs8_gemm_6x64c4__avx512vnni(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                                     const uint8_t *A, int64_t lda, const void *packed,
                                     const int32_t *kperm, int32_t *C, int64_t ldc)
{
    gemm(0, M, N, K, k0, k1, A, lda, packed, kperm, C, ldc);
}

void igq__qs4_gemm_6x64c4__avx512vnni(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                                     const uint8_t *A, int64_t lda, const void *packed,
                                     const int32_t *kperm, int32_t *C, int64_t ldc)
{
    gemm(1, M, N, K, k0, k1, A, lda, packed, kperm, C, ldc);
}

#else
typedef int igq_qs8_gemm_avx512vnni_empty; /* ISO C forbids an empty translation unit */
#endif
