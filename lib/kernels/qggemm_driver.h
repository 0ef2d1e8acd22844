/* The grouped integer GEMM with the f32 group epilogue fused (igq_qggemm_fn, kernels.h) of
 * every SIMD level, written once on top of the plain GEMM's driver (qgemm_driver.h, included
 * first: its tile, staging and parameters). Private header, static functions only; an ISA file
 * includes it after qgemm_driver.h and defines its entries with IGQ_QGGEMM_ENTRIES(...,
 * qggemm) (or one entry with IGQ_QGGEMM_DECL when its two weight widths use different tiles).
 *
 * IGQ's linear layer: the input channels come in G groups (k-ranges of A, in group order; the
 * weights are read through kperm), each with its own scale. The plain GEMM needs one call per
 * group and an int32 C per group that the fold kernel then scales and sums: G passes over
 * M x N int32 in memory. Here the per-group sums never leave the core: per row tile x column
 * group (QGEMM_MR x QGEMM_GW, the plain GEMM's register tile), for each group the int32
 * accumulators are zeroed, run over the group's steps, stored to an int32 tile in L1 and
 * fused-multiply-added with the group scale into an f32 tile on the stack (L1); after the
 * last group y = fma(colscale, f, colbias) is stored. The operations and their order are those
 * of igq_qgemm_fn per group + igq_i32_fold_fn (f = fmaf(s_g, (float)acc_g, first ? +0 : f)),
 * so both paths give the same bits. (The zmm level measured a first version that kept f in
 * registers with a smaller tile: 40 % of the vpdpbusd peak against 75-90 % for this one.)
 *
 * Staging: for each 64-column panel all of K is staged once (every group's rows gathered
 * through kperm, each group starting on a fresh step of QGEMM_KR rows, its partial last step
 * zero-filled) into the caller's workspace (igq__qs8_ggemm_ws_size bytes, held in L2), then
 * every row tile runs over it. With QGEMM_KR 2 (int16 pairs) the row tile's A is widened
 * once per panel into the workspace, each group padded with a zero to whole pairs.
 *
 * Extra parameters (float vectors of QV_LANES lanes): QF, QF_ZERO, QF_SET1, QF_LOAD (aligned),
 * QF_STORE (aligned), QF_LOADU, QF_STOREU, QF_CVT (int32 QV -> QF, round to nearest even),
 * QF_FMA(a, b, c) (a b + c rounded once), QF_LOADU_MASK(p, m), QF_STOREU_MASK(p, m, x);
 * with QGEMM_KR 2 also QGEMM_EXPAND_AS(mr, len, A, lda, a16, stride16): A[i][0..len) of mr
 * rows widened to u16 at a16 + i stride16, zero-padded to an even count. */
#ifndef IGQ_KERNELS_QGGEMM_DRIVER_H
#define IGQ_KERNELS_QGGEMM_DRIVER_H

/* The int32 sums of one group for an mr x (nv QV_LANES) tile (the plain GEMM's tile, into
 * the int32 tile ct in L1), folded into the f32 tile ft [QGEMM_MR][QGEMM_GW]:
 * ft = fma(scale, (float)sums, first ? +0 : ft). Not inlined into the group loop: a separate
 * function per group keeps the accumulators in registers (with the group loop around the
 * k loop in one function gcc spilled them: half the speed, measured at the zmm level). */
QGEMM_INLINE void qgg_dot(const int mr, const int nv, int64_t ns, int t, const uint8_t *a,
                          int64_t lda, const uint8_t *b, float *ft, float scale, int first,
                          int shift)
{
    int32_t  ct[QGEMM_MR * QGEMM_GW] __attribute__((aligned(64)));
    const QF vg = QF_SET1(scale);
    int      i, v;
    qgemm_tile(mr, nv, ns, t, a, lda, b, ct, QGEMM_GW, 1, shift, 1, QV_MASK_FIRST(QV_LANES));
    /* the fold runs after the k loop, so no extra register lives across it */
    for (i = 0; i < mr; i++)
        for (v = 0; v < nv; v++) {
            const int o  = i * QGEMM_GW + QV_LANES * v;
            const QF  x  = QF_CVT(QV_LOAD(ct + o));
            const QF  f0 = first ? QF_ZERO() : QF_LOAD(ft + o);
            QF_STORE(ft + o, QF_FMA(vg, x, f0));
        }
}

static __attribute__((noinline)) void qgg_dot_any(int mr, int nv, int64_t ns, int t,
                                                  const uint8_t *a, int64_t lda,
                                                  const uint8_t *b, float *ft, float scale,
                                                  int first, int shift)
{
    QGEMM_INSTANTIATE(qgg_dot, mr, nv, ns, t, a, lda, b, ft, scale, first, shift)
}

/* One mr x nn tile (nn <= 64 columns of a staged panel ws) over all groups, column group by
 * column group: qgg_dot_any per group (which folds into ft), then y = fma(colscale, f,
 * colbias). a: the tile's A (u8 in place; with QGEMM_KR 2 the widened rows, lda bytes apart,
 * group g at pair qoff[g]). */
static void qgg_tile(int mr, int nn, int32_t G, const int32_t *off, const int64_t *qoff,
                     const float *gs, const uint8_t *a, int64_t lda, const uint8_t *ws,
                     const float *cs, const float *cb, float *y, int64_t ldy, int shift)
{
    float ft[QGEMM_MR * QGEMM_GW] __attribute__((aligned(64)));
    int   c0;
    for (c0 = 0; c0 < nn; c0 += QGEMM_GW) {
        const int     nv   = (nn - c0 < QGEMM_GW ? nn - c0 + QV_LANES - 1 : QGEMM_GW) / QV_LANES;
        const int     last = nn - c0 - (nv - 1) * QV_LANES; /* lanes of the last vector (may
                                                               exceed QV_LANES: then full) */
        const QV_MASK mlast = QV_MASK_FIRST(last);
        int32_t       g;
        int           i, v, first = 1;
        for (g = 0; g < G; g++) {
            const int64_t len = (int64_t)off[g + 1] - off[g];
            if (len <= 0) continue;
#if QGEMM_KR == 2
            qgg_dot_any(mr, nv, qoff[g + 1] - qoff[g], 0, a + 4 * qoff[g], lda,
                        ws + qoff[g] * 256 + 4 * c0, ft, gs[g], first, shift);
#else
            qgg_dot_any(mr, nv, len / 4, (int)(len % 4), a + off[g], lda,
                        ws + qoff[g] * 256 + 4 * c0, ft, gs[g], first, shift);
#endif
            first = 0;
        }
        for (i = 0; i < mr; i++)
            for (v = 0; v < nv; v++) {
                const int    o = i * QGEMM_GW + QV_LANES * v;
                const QF     f = first ? QF_ZERO() : QF_LOAD(ft + o);
                const float *s = cs + c0 + QV_LANES * v, *bb = cb + c0 + QV_LANES * v;
                float       *p = y + i * ldy + c0 + QV_LANES * v;
                if (v < nv - 1 || last >= QV_LANES)
                    QF_STOREU(p, QF_FMA(QF_LOADU(s), f, QF_LOADU(bb)));
                else
                    QF_STOREU_MASK(p, mlast,
                                   QF_FMA(QF_LOADU_MASK(s, mlast), f, QF_LOADU_MASK(bb, mlast)));
            }
    }
}

/* The grouped GEMM of igq_qggemm_fn for qs8 (bits 8) or qs4 (bits 4) weights. */
static inline void qggemm(int bits, int64_t M, int64_t N, int64_t K, int32_t G,
                          const int32_t *off, const float *gs, const uint8_t *A, int64_t lda,
                          const void *packed, const int32_t *kperm, const float *colscale,
                          const float *colbias, float *Y, int64_t ldy, void *ws)
{
    const int     qs4   = bits == 4;
    const int64_t rb    = igq__qs8_row_bytes(bits);
    const int     shift = qs4 && QGEMM_QS4_X16;
    uint8_t      *buf   = (uint8_t *)ws;
    int64_t       qoff_small[65], *qoff = qoff_small;
    int64_t       nb, i;
    int32_t       g;
    if (M <= 0 || N <= 0) return;
    /* step offsets of the groups in the staged panel (kept at the end of the workspace when
     * G is large) */
    if (G > 64)
        qoff = (int64_t *)(buf + igq__qs8_ggemm_ws_size(K, G) - (size_t)(G + 1) * sizeof(int64_t));
    qoff[0] = 0;
    for (g = 0; g < G; g++) {
        const int64_t len = off[g + 1] > off[g] ? (int64_t)off[g + 1] - off[g] : 0;
        qoff[g + 1]       = qoff[g] + (len + QGEMM_KR - 1) / QGEMM_KR;
    }
    for (nb = 0; nb * IGQ_QS8_NR < N; nb++) {
        const uint8_t *panel = (const uint8_t *)packed + nb * K * rb;
        const int      nn    = (int)(N - nb * IGQ_QS8_NR < IGQ_QS8_NR ? N - nb * IGQ_QS8_NR
                                                                      : IGQ_QS8_NR);
        const int64_t  n0    = nb * IGQ_QS8_NR;
        for (g = 0; g < G; g++) {
            const int64_t len = (int64_t)off[g + 1] - off[g];
            if (len > 0) qgemm_stage_any(qs4, panel, kperm, off[g], len, buf + qoff[g] * 256);
        }
        for (i = 0; i < M; i += QGEMM_MR) {
            const int mr = M - i < QGEMM_MR ? (int)(M - i) : QGEMM_MR;
#if QGEMM_KR == 2
            /* widened rows after the staged panel: row r at pair 2 qoff[G] r, group g at
             * pair qoff[g] of its row */
            uint16_t *a16 = (uint16_t *)(buf + qoff[G] * 256);
            for (g = 0; g < G; g++) {
                const int64_t len = (int64_t)off[g + 1] - off[g];
                if (len > 0)
                    QGEMM_EXPAND_AS(mr, len, A + i * lda + off[g], lda, a16 + 2 * qoff[g],
                                    2 * qoff[G]);
            }
            qgg_tile(mr, nn, G, off, qoff, gs, (const uint8_t *)a16, 4 * qoff[G], buf,
                     colscale + n0, colbias + n0, Y + i * ldy + n0, ldy, shift);
#else
            qgg_tile(mr, nn, G, off, qoff, gs, A + i * lda, lda, buf, colscale + n0,
                     colbias + n0, Y + i * ldy + n0, ldy, shift);
#endif
        }
    }
}

#endif
