/* Grouped integer GEMM with the f32 group epilogue fused, AVX-512 VNNI (reached only through
 * the dispatch table). Semantics: igq_q8_ggemm_fn (kernels.h), bit-exact with
 * igq__qs8_ggemm_ref.
 *
 * IGQ's linear layer: the input channels come in G groups (k-ranges of A, in group order; the
 * weights are read through kperm), each with its own scale. The plain GEMM needs one call per
 * group and an int32 C per group that the fold kernel then scales and sums: G passes over
 * M x N int32 in memory. Here the per-group sums never leave registers: per 6 x 32 tile,
 * for each group the int32 accumulators (12 zmm) are zeroed, run over the group's quads with
 * vpdpbusd, converted and fused-multiply-added with the group scale into f32 accumulators
 * (12 zmm); after the last group y = fma(colscale, f, colbias) is stored. 12 + 12 + 2 weight
 * vectors + 1 broadcast + 1 scale = 28 zmm.
 *
 * Staging: for each 64-column panel all of K is staged once (every group's rows gathered
 * through kperm into 16c4 order, each group starting on a fresh quad, its partial last quad
 * zero-filled) into the caller's workspace (igq__q8_ggemm_ws_size bytes: up to ~200 KiB for
 * K = 3072, held in L2), then every row tile runs over it twice (two 32-column halves). */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>
#include <string.h>

#include "../q8_layout.h"
#include "q8_avx512_inl.h"

#define MR 6

/* One mr x (16 nv) tile (nv = 1 or 2 vectors of a 32-column half) over all groups. */
ALWAYS_INLINE void gtile(const int mr, const int nv, int32_t G, const int32_t *off,
                         const int64_t *qoff, const float *gs, const uint8_t *a, int64_t lda,
                         const uint8_t *ws, const float *cs, const float *cb, float *y,
                         int64_t ldy, int q4, __mmask16 mlast)
{
    const __m512i zi = _mm512_setzero_si512();
    const __m512  zf = _mm512_setzero_ps();
    __m512        f00 = zf, f01 = zf, f10 = zf, f11 = zf, f20 = zf, f21 = zf;
    __m512        f30 = zf, f31 = zf, f40 = zf, f41 = zf, f50 = zf, f51 = zf;
    int32_t       g;
    for (g = 0; g < G; g++) {
        const int64_t  len = (int64_t)off[g + 1] - off[g];
        const int64_t  nq  = len / 4;
        const int      t   = (int)(len % 4);
        const uint8_t *b   = ws + qoff[g] * 256;
        const uint8_t *a0 = a + off[g], *a1 = a0, *a2 = a0, *a3 = a0, *a4 = a0, *a5 = a0;
        __m512i        c00 = zi, c01 = zi, c10 = zi, c11 = zi, c20 = zi, c21 = zi;
        __m512i        c30 = zi, c31 = zi, c40 = zi, c41 = zi, c50 = zi, c51 = zi;
        int64_t        q;
        if (len <= 0) continue;
        if (mr > 1) a1 = a0 + lda;
        if (mr > 2) a2 = a0 + 2 * lda;
        if (mr > 3) a3 = a0 + 3 * lda;
        if (mr > 4) a4 = a0 + 4 * lda;
        if (mr > 5) a5 = a0 + 5 * lda;
#define ROW_DP(i, av)                                                                  \
    if (mr > i) {                                                                      \
        const __m512i x = av;                                                          \
        c##i##0         = _mm512_dpbusd_epi32(c##i##0, x, b0);                         \
        if (nv > 1) c##i##1 = _mm512_dpbusd_epi32(c##i##1, x, b1);                     \
    }
        for (q = 0; q < nq; q++, b += 256) {
            const __m512i b0 = _mm512_load_si512((const void *)b);
            const __m512i b1 = nv > 1 ? _mm512_load_si512((const void *)(b + 64)) : zi;
            ROW_DP(0, _mm512_set1_epi32(ld32(a0 + 4 * q)))
            ROW_DP(1, _mm512_set1_epi32(ld32(a1 + 4 * q)))
            ROW_DP(2, _mm512_set1_epi32(ld32(a2 + 4 * q)))
            ROW_DP(3, _mm512_set1_epi32(ld32(a3 + 4 * q)))
            ROW_DP(4, _mm512_set1_epi32(ld32(a4 + 4 * q)))
            ROW_DP(5, _mm512_set1_epi32(ld32(a5 + 4 * q)))
        }
        if (t > 0) {
            const __m512i b0 = _mm512_load_si512((const void *)b);
            const __m512i b1 = nv > 1 ? _mm512_load_si512((const void *)(b + 64)) : zi;
            ROW_DP(0, _mm512_set1_epi32(ld_tail(a0 + 4 * nq, t)))
            ROW_DP(1, _mm512_set1_epi32(ld_tail(a1 + 4 * nq, t)))
            ROW_DP(2, _mm512_set1_epi32(ld_tail(a2 + 4 * nq, t)))
            ROW_DP(3, _mm512_set1_epi32(ld_tail(a3 + 4 * nq, t)))
            ROW_DP(4, _mm512_set1_epi32(ld_tail(a4 + 4 * nq, t)))
            ROW_DP(5, _mm512_set1_epi32(ld_tail(a5 + 4 * nq, t)))
        }
#undef ROW_DP
        {
            const __m512 vg = _mm512_set1_ps(gs[g]);
#define FOLD(i, v)                                                                     \
    if (mr > i && nv > v) {                                                            \
        __m512i x = c##i##v;                                                           \
        if (q4) x = _mm512_srai_epi32(x, 4);                                           \
        f##i##v = _mm512_fmadd_ps(vg, _mm512_cvtepi32_ps(x), f##i##v);                 \
    }
            FOLD(0, 0) FOLD(0, 1) FOLD(1, 0) FOLD(1, 1) FOLD(2, 0) FOLD(2, 1)
            FOLD(3, 0) FOLD(3, 1) FOLD(4, 0) FOLD(4, 1) FOLD(5, 0) FOLD(5, 1)
#undef FOLD
        }
    }
    {
        const __mmask16 m0 = nv == 1 ? mlast : (__mmask16)0xffff;
        const __m512    s0 = _mm512_maskz_loadu_ps(m0, cs), o0 = _mm512_maskz_loadu_ps(m0, cb);
        const __m512    s1 = nv > 1 ? _mm512_maskz_loadu_ps(mlast, cs + 16) : zf;
        const __m512    o1 = nv > 1 ? _mm512_maskz_loadu_ps(mlast, cb + 16) : zf;
#define STORE(i)                                                                             \
    if (mr > i) {                                                                            \
        _mm512_mask_storeu_ps(y + (i) * ldy, m0, _mm512_fmadd_ps(s0, f##i##0, o0));          \
        if (nv > 1) _mm512_mask_storeu_ps(y + (i) * ldy + 16, mlast, _mm512_fmadd_ps(s1, f##i##1, o1)); \
    }
        STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
#undef STORE
    }
}

static void gtile_any(int mr, int nv, int32_t G, const int32_t *off, const int64_t *qoff,
                      const float *gs, const uint8_t *a, int64_t lda, const uint8_t *ws,
                      const float *cs, const float *cb, float *y, int64_t ldy, int q4,
                      __mmask16 mlast)
{
#define CASE(r)                                                                                \
    case r:                                                                                    \
        if (nv == 1) gtile(r, 1, G, off, qoff, gs, a, lda, ws, cs, cb, y, ldy, q4, mlast);     \
        else gtile(r, 2, G, off, qoff, gs, a, lda, ws, cs, cb, y, ldy, q4, mlast);             \
        break;
    switch (mr) {
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
    default: break;
    }
#undef CASE
}

static void ggemm(int q4, int64_t M, int64_t N, int64_t K, int32_t G, const int32_t *off,
                  const float *gs, const uint8_t *A, int64_t lda, const void *packed,
                  const int32_t *kperm, const float *colscale, const float *colbias, float *Y,
                  int64_t ldy, void *ws)
{
    const int64_t rb = q4 ? 32 : 64;
    uint8_t      *buf = (uint8_t *)ws;
    int64_t       qoff_small[65], *qoff = qoff_small;
    int64_t       nb, i, h;
    int32_t       g;
    if (M <= 0 || N <= 0) return;
    /* quad offsets of the groups in the staged panel (kept after the staged bytes when G is
     * large) */
    if (G > 64) qoff = (int64_t *)(buf + igq__q8_ggemm_ws_size(K, G) - (size_t)(G + 1) * sizeof(int64_t));
    qoff[0] = 0;
    for (g = 0; g < G; g++) {
        const int64_t len = off[g + 1] > off[g] ? (int64_t)off[g + 1] - off[g] : 0;
        qoff[g + 1]       = qoff[g] + (len + 3) / 4;
    }
    for (nb = 0; nb * IGQ_Q8_NR < N; nb++) {
        const uint8_t *panel = (const uint8_t *)packed + nb * K * rb;
        const int64_t  nn    = N - nb * IGQ_Q8_NR < IGQ_Q8_NR ? N - nb * IGQ_Q8_NR : IGQ_Q8_NR;
        for (g = 0; g < G; g++) {
            const int64_t len = (int64_t)off[g + 1] - off[g];
            if (len <= 0) continue;
            if (kperm != NULL) {
                if (q4) stage(1, 1, panel, kperm, off[g], len, buf + qoff[g] * 256);
                else stage(0, 1, panel, kperm, off[g], len, buf + qoff[g] * 256);
            } else {
                if (q4) stage(1, 0, panel, kperm, off[g], len, buf + qoff[g] * 256);
                else stage(0, 0, panel, kperm, off[g], len, buf + qoff[g] * 256);
            }
        }
        for (h = 0; h < 2 && 32 * h < nn; h++) {
            const int64_t   hn    = nn - 32 * h < 32 ? nn - 32 * h : 32;
            const int       nv    = (int)((hn + 15) / 16);
            const int       nlast = (int)(hn - 16 * (nv - 1));
            const __mmask16 mlast = (__mmask16)(nlast == 16 ? 0xffff : (1u << nlast) - 1);
            const int64_t   n0    = nb * IGQ_Q8_NR + 32 * h;
            for (i = 0; i < M; i += MR) {
                const int mr = M - i < MR ? (int)(M - i) : MR;
                gtile_any(mr, nv, G, off, qoff, gs, A + i * lda, lda, buf + 128 * h, colscale + n0,
                          colbias + n0, Y + i * ldy + n0, ldy, q4, mlast);
            }
        }
    }
}

void igq_qs8_ggemm_6x32c4__avx512vnni(int64_t M, int64_t N, int64_t K, int32_t G,
                                      const int32_t *off, const float *gs, const uint8_t *A,
                                      int64_t lda, const void *packed, const int32_t *kperm,
                                      const float *colscale, const float *colbias, float *Y,
                                      int64_t ldy, void *ws)
{
    ggemm(0, M, N, K, G, off, gs, A, lda, packed, kperm, colscale, colbias, Y, ldy, ws);
}

void igq_qs4_ggemm_6x32c4__avx512vnni(int64_t M, int64_t N, int64_t K, int32_t G,
                                      const int32_t *off, const float *gs, const uint8_t *A,
                                      int64_t lda, const void *packed, const int32_t *kperm,
                                      const float *colscale, const float *colbias, float *Y,
                                      int64_t ldy, void *ws)
{
    ggemm(1, M, N, K, G, off, gs, A, lda, packed, kperm, colscale, colbias, Y, ldy, ws);
}

#else
typedef int igq_q8_ggemm_avx512vnni_empty; /* ISO C forbids an empty translation unit */
#endif
