/* Grouped integer GEMM with the f32 group epilogue fused, AVX-512 VNNI (reached only through
 * the dispatch table). Semantics: igq_qggemm_fn (kernels.h), bit-exact with
 * igq__qs8_ggemm__scalar.
 *
 * IGQ's linear layer: the input channels come in G groups (k-ranges of A, in group order; the
 * weights are read through kperm), each with its own scale. The plain GEMM needs one call per
 * group and an int32 C per group that the fold kernel then scales and sums: G passes over
 * M x N int32 in memory. Here the per-group sums never leave the core: per 6 x 64 tile, for
 * each group the int32 accumulators (24 zmm, the plain GEMM's tile) are zeroed, run over the
 * group's quads with vpdpbusd, converted and fused-multiply-added with the group scale into a
 * 6 x 64 f32 tile on the stack (L1); after the last group y = fma(colscale, f, colbias) is
 * stored. (A first version kept f in 12 more zmm with a 6 x 32 tile: 40 % of the vpdpbusd
 * peak against 75-90 % for this one.)
 *
 * Staging: for each 64-column panel all of K is staged once (every group's rows gathered
 * through kperm into 16c4 order, each group starting on a fresh quad, its partial last quad
 * zero-filled) into the caller's workspace (igq__qs8_ggemm_ws_size bytes: up to ~200 KiB for
 * K = 3072, held in L2), then every row tile runs over it. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>
#include <string.h>

#include "../qs8_layout.h"
#include "qs8_avx512_inl.h"

#define MR 6

/* The int32 sums of one group for an mr x (16 nv) tile, folded into the f32 tile ft [MR][64]
 * (L1): ft = fma(scale, (float)sums, first ? +0 : ft). A separate
 * (not inlined) function per group keeps the 24 accumulators in registers: with the group
 * loop around the k loop in one function gcc spilled them (half the speed, measured). */
ALWAYS_INLINE void gdot(const int mr, const int nv, int64_t nq, int t, const uint8_t *a,
                        int64_t lda, const uint8_t *b, float *ft, float scale, int first, int qs4)
{
    int32_t        ct[MR * 64] __attribute__((aligned(64)));
    const __m512i  zi = _mm512_setzero_si512();
    __m512i        c00 = zi, c01 = zi, c02 = zi, c03 = zi, c10 = zi, c11 = zi, c12 = zi, c13 = zi;
    __m512i        c20 = zi, c21 = zi, c22 = zi, c23 = zi, c30 = zi, c31 = zi, c32 = zi, c33 = zi;
    __m512i        c40 = zi, c41 = zi, c42 = zi, c43 = zi, c50 = zi, c51 = zi, c52 = zi, c53 = zi;
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
#define LOAD_B()                                                                       \
    const __m512i b0 = _mm512_load_si512((const void *)b);                             \
    const __m512i b1 = nv > 1 ? _mm512_load_si512((const void *)(b + 64)) : zi;        \
    const __m512i b2 = nv > 2 ? _mm512_load_si512((const void *)(b + 128)) : zi;       \
    const __m512i b3 = nv > 3 ? _mm512_load_si512((const void *)(b + 192)) : zi;
    for (q = 0; q < nq; q++, b += 256) {
        LOAD_B()
        ROW_DP(0, _mm512_set1_epi32(ld32(a0 + 4 * q)))
        ROW_DP(1, _mm512_set1_epi32(ld32(a1 + 4 * q)))
        ROW_DP(2, _mm512_set1_epi32(ld32(a2 + 4 * q)))
        ROW_DP(3, _mm512_set1_epi32(ld32(a3 + 4 * q)))
        ROW_DP(4, _mm512_set1_epi32(ld32(a4 + 4 * q)))
        ROW_DP(5, _mm512_set1_epi32(ld32(a5 + 4 * q)))
    }
    if (t > 0) {
        LOAD_B()
        ROW_DP(0, _mm512_set1_epi32(ld_tail(a0 + 4 * nq, t)))
        ROW_DP(1, _mm512_set1_epi32(ld_tail(a1 + 4 * nq, t)))
        ROW_DP(2, _mm512_set1_epi32(ld_tail(a2 + 4 * nq, t)))
        ROW_DP(3, _mm512_set1_epi32(ld_tail(a3 + 4 * nq, t)))
        ROW_DP(4, _mm512_set1_epi32(ld_tail(a4 + 4 * nq, t)))
        ROW_DP(5, _mm512_set1_epi32(ld_tail(a5 + 4 * nq, t)))
    }
#undef LOAD_B
#undef ROW_DP
#define ST(i, v)                                                                       \
    if (mr > i && nv > v) {                                                            \
        __m512i x = c##i##v;                                                           \
        if (qs4) x = _mm512_srai_epi32(x, 4);                                           \
        _mm512_store_si512((void *)(ct + (i) * 64 + 16 * (v)), x);                     \
    }
#define ST_ROW(i) ST(i, 0) ST(i, 1) ST(i, 2) ST(i, 3)
    ST_ROW(0) ST_ROW(1) ST_ROW(2) ST_ROW(3) ST_ROW(4) ST_ROW(5)
#undef ST_ROW
#undef ST
    {
        /* fold into ft (after the k loop, so no extra register lives across it) */
        const __m512 vg = _mm512_set1_ps(scale);
        int          i, v;
        for (i = 0; i < mr; i++)
            for (v = 0; v < nv; v++) {
                float       *fp = ft + i * 64 + 16 * v;
                const __m512 x  = _mm512_cvtepi32_ps(_mm512_load_si512((const void *)(ct + i * 64 + 16 * v)));
                _mm512_store_ps(fp, _mm512_fmadd_ps(vg, x, first ? _mm512_setzero_ps() : _mm512_load_ps(fp)));
            }
    }
}

static __attribute__((noinline)) void gdot_any(int mr, int nv, int64_t nq, int t,
                                               const uint8_t *a, int64_t lda, const uint8_t *b,
                                               float *ft, float scale, int first, int qs4)
{
#define CASE(r)                                                                        \
    case r:                                                                            \
        switch (nv) {                                                                  \
        case 1: gdot(r, 1, nq, t, a, lda, b, ft, scale, first, qs4); break;                           \
        case 2: gdot(r, 2, nq, t, a, lda, b, ft, scale, first, qs4); break;                           \
        case 3: gdot(r, 3, nq, t, a, lda, b, ft, scale, first, qs4); break;                           \
        default: gdot(r, 4, nq, t, a, lda, b, ft, scale, first, qs4); break;                          \
        }                                                                              \
        break;
    switch (mr) {
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
    default: break;
    }
#undef CASE
}

/* One mr x nn tile (nn <= 64 columns of a panel) over all groups (gdot_any per group, which
 * folds into ft), then y = fma(colscale, f, colbias). */
static void gtile(int mr, int nv, int32_t G, const int32_t *off, const int64_t *qoff,
                  const float *gs, const uint8_t *a, int64_t lda, const uint8_t *ws,
                  const float *cs, const float *cb, float *y, int64_t ldy, int qs4,
                  __mmask16 mlast)
{
    float   ft[MR * 64] __attribute__((aligned(64)));
    int32_t g;
    int     i, v, first = 1;
    for (g = 0; g < G; g++) {
        const int64_t len = (int64_t)off[g + 1] - off[g];
        if (len <= 0) continue;
        gdot_any(mr, nv, len / 4, (int)(len % 4), a + off[g], lda, ws + qoff[g] * 256, ft, gs[g],
                 first, qs4);
        first = 0;
    }
    for (i = 0; i < mr; i++)
        for (v = 0; v < nv; v++) {
            const __mmask16 m = v == nv - 1 ? mlast : (__mmask16)0xffff;
            const __m512    f = first ? _mm512_setzero_ps() : _mm512_load_ps(ft + i * 64 + 16 * v);
            _mm512_mask_storeu_ps(y + i * ldy + 16 * v, m,
                                  _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, cs + 16 * v), f,
                                                  _mm512_maskz_loadu_ps(m, cb + 16 * v)));
        }
}

static void ggemm(int qs4, int64_t M, int64_t N, int64_t K, int32_t G, const int32_t *off,
                  const float *gs, const uint8_t *A, int64_t lda, const void *packed,
                  const int32_t *kperm, const float *colscale, const float *colbias, float *Y,
                  int64_t ldy, void *ws)
{
    const int64_t rb = qs4 ? 32 : 64;
    uint8_t      *buf = (uint8_t *)ws;
    int64_t       qoff_small[65], *qoff = qoff_small;
    int64_t       nb, i;
    int32_t       g;
    if (M <= 0 || N <= 0) return;
    /* quad offsets of the groups in the staged panel (kept after the staged bytes when G is
     * large) */
    if (G > 64) qoff = (int64_t *)(buf + igq__qs8_ggemm_ws_size(K, G) - (size_t)(G + 1) * sizeof(int64_t));
    qoff[0] = 0;
    for (g = 0; g < G; g++) {
        const int64_t len = off[g + 1] > off[g] ? (int64_t)off[g + 1] - off[g] : 0;
        qoff[g + 1]       = qoff[g] + (len + 3) / 4;
    }
    for (nb = 0; nb * IGQ_QS8_NR < N; nb++) {
        const uint8_t *panel = (const uint8_t *)packed + nb * K * rb;
        const int64_t  nn    = N - nb * IGQ_QS8_NR < IGQ_QS8_NR ? N - nb * IGQ_QS8_NR : IGQ_QS8_NR;
        for (g = 0; g < G; g++) {
            const int64_t len = (int64_t)off[g + 1] - off[g];
            if (len <= 0) continue;
            if (kperm != NULL) {
                if (qs4) stage(1, 1, panel, kperm, off[g], len, buf + qoff[g] * 256);
                else stage(0, 1, panel, kperm, off[g], len, buf + qoff[g] * 256);
            } else {
                if (qs4) stage(1, 0, panel, kperm, off[g], len, buf + qoff[g] * 256);
                else stage(0, 0, panel, kperm, off[g], len, buf + qoff[g] * 256);
            }
        }
        {
            const int       nv    = (int)((nn + 15) / 16);
            const int       nlast = (int)(nn - 16 * (nv - 1));
            const __mmask16 mlast = (__mmask16)(nlast == 16 ? 0xffff : (1u << nlast) - 1);
            const int64_t   n0    = nb * IGQ_QS8_NR;
            for (i = 0; i < M; i += MR) {
                const int mr = M - i < MR ? (int)(M - i) : MR;
                gtile(mr, nv, G, off, qoff, gs, A + i * lda, lda, buf, colscale + n0,
                          colbias + n0, Y + i * ldy + n0, ldy, qs4, mlast);
            }
        }
    }
}

void igq__qs8_ggemm_6x64c4__avx512vnni(int64_t M, int64_t N, int64_t K, int32_t G,
                                      const int32_t *off, const float *gs, const uint8_t *A,
                                      int64_t lda, const void *packed, const int32_t *kperm,
                                      const float *colscale, const float *colbias, float *Y,
                                      int64_t ldy, void *ws)
{
    ggemm(0, M, N, K, G, off, gs, A, lda, packed, kperm, colscale, colbias, Y, ldy, ws);
}

void igq__qs4_ggemm_6x64c4__avx512vnni(int64_t M, int64_t N, int64_t K, int32_t G,
                                      const int32_t *off, const float *gs, const uint8_t *A,
                                      int64_t lda, const void *packed, const int32_t *kperm,
                                      const float *colscale, const float *colbias, float *Y,
                                      int64_t ldy, void *ws)
{
    ggemm(1, M, N, K, G, off, gs, A, lda, packed, kperm, colscale, colbias, Y, ldy, ws);
}

#else
typedef int igq_qs8_ggemm_avx512vnni_empty; /* ISO C forbids an empty translation unit */
#endif
