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

#include "qs8_avx512_inl.h"

/* The int32 sums of one group for an mr x (16 nv) tile (the plain GEMM's tile, into the int32
 * tile ct in L1), folded into the f32 tile ft [6][64]: ft = fma(scale, (float)sums,
 * first ? +0 : ft). Not inlined into the group loop: a separate function per group keeps the
 * 24 accumulators in registers (with the group loop around the k loop in one function gcc
 * spilled them: half the speed, measured). */
QGEMM_INLINE void gdot(const int mr, const int nv, int64_t nq, int t, const uint8_t *a,
                       int64_t lda, const uint8_t *b, float *ft, float scale, int first,
                       int shift)
{
    int32_t      ct[QGEMM_MR * 64] __attribute__((aligned(64)));
    const __m512 vg = _mm512_set1_ps(scale);
    int          i, v;
    qgemm_tile(mr, nv, nq, t, a, lda, b, ct, 64, 1, shift, 1, (__mmask16)0xffff);
    /* the fold runs after the k loop, so no extra register lives across it */
    for (i = 0; i < mr; i++)
        for (v = 0; v < nv; v++) {
            const int    o  = i * 64 + 16 * v;
            const __m512 x  = _mm512_cvtepi32_ps(_mm512_load_si512((const void *)(ct + o)));
            const __m512 f0 = first ? _mm512_setzero_ps() : _mm512_load_ps(ft + o);
            _mm512_store_ps(ft + o, _mm512_fmadd_ps(vg, x, f0));
        }
}

static __attribute__((noinline)) void gdot_any(int mr, int nv, int64_t nq, int t,
                                               const uint8_t *a, int64_t lda, const uint8_t *b,
                                               float *ft, float scale, int first, int shift)
{
    QGEMM_INSTANTIATE(gdot, mr, nv, nq, t, a, lda, b, ft, scale, first, shift)
}

/* One mr x nn tile (nn <= 64 columns of a panel) over all groups (gdot_any per group, which
 * folds into ft), then y = fma(colscale, f, colbias). */
static void gtile(int mr, int nv, int32_t G, const int32_t *off, const int64_t *qoff,
                  const float *gs, const uint8_t *a, int64_t lda, const uint8_t *ws,
                  const float *cs, const float *cb, float *y, int64_t ldy, int shift,
                  __mmask16 mlast)
{
    float   ft[QGEMM_MR * 64] __attribute__((aligned(64)));
    int32_t g;
    int     i, v, first = 1;
    for (g = 0; g < G; g++) {
        const int64_t len = (int64_t)off[g + 1] - off[g];
        if (len <= 0) continue;
        gdot_any(mr, nv, len / 4, (int)(len % 4), a + off[g], lda, ws + qoff[g] * 256, ft, gs[g],
                 first, shift);
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

static void ggemm(int bits, int64_t M, int64_t N, int64_t K, int32_t G, const int32_t *off,
                  const float *gs, const uint8_t *A, int64_t lda, const void *packed,
                  const int32_t *kperm, const float *colscale, const float *colbias, float *Y,
                  int64_t ldy, void *ws)
{
    const int     qs4   = bits == 4;
    const int64_t rb    = igq__qs8_row_bytes(bits);
    const int     shift = qs4 && QGEMM_QS4_X16;
    uint8_t      *buf   = (uint8_t *)ws;
    int64_t       qoff_small[65], *qoff = qoff_small;
    int64_t       nb, i;
    int32_t       g;
    if (M <= 0 || N <= 0) return;
    /* quad offsets of the groups in the staged panel (kept after the staged bytes when G is
     * large) */
    if (G > 64)
        qoff = (int64_t *)(buf + igq__qs8_ggemm_ws_size(K, G) - (size_t)(G + 1) * sizeof(int64_t));
    qoff[0] = 0;
    for (g = 0; g < G; g++) {
        const int64_t len = off[g + 1] > off[g] ? (int64_t)off[g + 1] - off[g] : 0;
        qoff[g + 1]       = qoff[g] + (len + 3) / 4;
    }
    for (nb = 0; nb * IGQ_QS8_NR < N; nb++) {
        const uint8_t  *panel = (const uint8_t *)packed + nb * K * rb;
        const int64_t   nn    = N - nb * IGQ_QS8_NR < IGQ_QS8_NR ? N - nb * IGQ_QS8_NR : IGQ_QS8_NR;
        const int       nv    = (int)((nn + 15) / 16);
        const __mmask16 mlast = QV_MASK_FIRST((int)(nn - 16 * (nv - 1)));
        const int64_t   n0    = nb * IGQ_QS8_NR;
        for (g = 0; g < G; g++) {
            const int64_t len = (int64_t)off[g + 1] - off[g];
            if (len > 0) qgemm_stage_any(qs4, panel, kperm, off[g], len, buf + qoff[g] * 256);
        }
        for (i = 0; i < M; i += QGEMM_MR) {
            const int mr = M - i < QGEMM_MR ? (int)(M - i) : QGEMM_MR;
            gtile(mr, nv, G, off, qoff, gs, A + i * lda, lda, buf, colscale + n0, colbias + n0,
                  Y + i * ldy + n0, ldy, shift, mlast);
        }
    }
}

IGQ_QGGEMM_ENTRIES(igq__qs8_ggemm_6x64c4__avx512vnni, igq__qs4_ggemm_6x64c4__avx512vnni, ggemm)

#else
typedef int igq_qs8_ggemm_avx512vnni_empty; /* ISO C forbids an empty translation unit */
#endif
