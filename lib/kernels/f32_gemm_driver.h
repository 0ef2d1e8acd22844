/* The blocking and packing of the fp32 GEMMs (igq_f32_gemm_fn, kernels.h), written once for the
 * AVX2 and AVX-512 levels. Private header, static inline functions and macros only
 * (STYLE 2.6): an ISA file defines the parameters and its register tile, then includes it.
 * Each output is the one fmaf chain of kernels.h whatever the blocking: a tile starts from
 * bias (first k block) or from C (later k blocks, which hold the float partial sums), so
 * the order of the loops below and the rows computed together never change a bit.
 *
 * Parameters (macros):
 *   F32G_MR, F32G_NR   register tile: rows, and columns (two vectors) of a B panel
 *   F32G_PANEL_OUTER   1: when the row block's A rows (all of K) fit in F32G_A_L2_BYTES, loop
 *                      k blocks inside column panels (each C tile then stays in L1 across its
 *                      k blocks); 0: always the GotoBLAS order below
 *   F32G_PACK_A        1: in the panel-outer order with N >= F32G_PACK_A_MIN_N, pack A once
 *                      per row block, tile by tile ([k][MR]: the k loop then broadcasts from
 *                      one stream instead of MR row pointers; needs heap scratch, read in place
 *                      when the allocation fails: same bits)
 * and two functions:
 *   f32g_pack_panel(kc, nn, src, lds, dst): dst[k][0..NR) = src[k lds + 0..nn), zeros beyond
 *   f32g_tile_any(mr, nn, packb, pa, kc, a, lda, b, ldb, c, ldc, init, ldi, pf, pf_ld, pf_n):
 *     the mr x nn tile (mr <= MR, nn <= NR) over kc values of k: row i starts from
 *     init + i ldi (ldi 0: bias) or 0 (init NULL) and is stored to c + i ldc; A row i at
 *     a + i lda (pa: packed, a[k MR + i]); B row k at b + k ldb (packb: a zero-padded panel of
 *     NR columns, else B in place, nn columns readable); while it runs it prefetches pf_n rows
 *     (pf_ld floats apart) of the next panel, one every 4 k steps.
 *
 * Blocking: B is copied panel by panel (KC = 256 rows x NR columns) into a stack buffer that
 * all row tiles of the block reuse, and A is read in place:
 *   for each block of MC = 480 rows of A (the MC x KC block of A stays in L2), in one order:
 *     - panel-outer (F32G_PANEL_OUTER, rows fit): for each panel, for each k block: copy, run
 *       every row tile;
 *     - GotoBLAS: for each k block, for each panel: copy, run every row tile.
 * While a panel is used, the row tiles prefetch the next panel (in loop order) into L2, a slice
 * of its rows each, spread over their k loops: the copy otherwise waits for B (rows N floats
 * apart, usually in L3), ~15 % of the time at M = 197.
 * Small M (< 48 rows, e.g. one 17-token image) is bound by reading B once: there the copy does
 * not pay, and B is read in place with stride N in shallow k blocks (64), so the rows of B in
 * flight are walked left to right as the panels advance, which the hardware prefetchers follow
 * (measured 1.3-2x faster than packing for M = 4..36 at N = 768..3072). */
#ifndef IGQ_KERNELS_F32_GEMM_DRIVER_H
#define IGQ_KERNELS_F32_GEMM_DRIVER_H

#include <stdint.h>

#include "../core/alloc.h"

#define F32G_KC 256          /* k block: a packed B panel is KC x NR floats on the stack */
#define F32G_MC 480          /* row block: the A block MC x KC (480 KiB) stays in L2 */
#define F32G_PACK_MIN_M 48   /* pack B only when at least this many rows share a panel */
#define F32G_KC_DIRECT 64    /* k block when B is read in place */
#define F32G_A_L2_BYTES (1 << 20) /* A rows of a block up to this size: panel-outer order */
#define F32G_PACK_A_MIN_N 768 /* pack A when N has at least this many columns */

/* Packs rows [0, mc) x columns [0, kext) of A (row stride lda) tile by tile: the MR rows of
 * tile t go to dst[t*MR*kext + k*MR + i] (rows past mc are neither written nor read). */
static inline void f32g_pack_a(int64_t mc, int64_t kext, const float *a, int64_t lda, float *dst)
{
    int64_t t, i, k;
    for (t = 0; t * F32G_MR < mc; t++) {
        float *d = dst + t * F32G_MR * kext;
        for (i = 0; i < F32G_MR && t * F32G_MR + i < mc; i++) {
            const float *src = a + (t * F32G_MR + i) * lda;
            for (k = 0; k < kext; k++) d[k * F32G_MR + i] = src[k];
        }
    }
}

/* The fp32 GEMM of igq_f32_gemm_fn. */
static inline void f32g_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                             const float *B, const float *bias, float *C, int64_t ldc)
{
    float         bpack[F32G_KC * F32G_NR] __attribute__((aligned(64)));
    const int     packb = M >= F32G_PACK_MIN_M;
    const int64_t kcb   = packb ? F32G_KC : F32G_KC_DIRECT;
    const int64_t mcmax = M < F32G_MC ? M : F32G_MC;
    float        *apack = NULL;
    int64_t       m0, i;

    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (i = 0; i < M; i++) {
            float  *c = C + i * ldc;
            int64_t n;
            for (n = 0; n < N; n++) c[n] = bias != NULL ? bias[n] : 0.0f;
        }
        return;
    }
    /* packed A: all of K of the first, largest row block (panel-outer order only) */
    if (F32G_PACK_A && F32G_PANEL_OUTER && packb && N >= F32G_PACK_A_MIN_N &&
        mcmax * K * (int64_t)sizeof(float) <= F32G_A_L2_BYTES)
        apack = (float *)igq__malloc((size_t)(((mcmax + F32G_MR - 1) / F32G_MR * F32G_MR) * K) *
                                     sizeof(float));
    for (m0 = 0; m0 < M; m0 += F32G_MC) {
        const int64_t mc = M - m0 < F32G_MC ? M - m0 : F32G_MC;
        /* B read in place: k blocks outside, so the rows of B are swept left to right */
        const int     nfirst  = F32G_PANEL_OUTER && packb &&
                                mc * K * (int64_t)sizeof(float) <= F32G_A_L2_BYTES;
        const int64_t n_outer = nfirst ? N : K, s_outer = nfirst ? F32G_NR : kcb;
        const int64_t n_inner = nfirst ? K : N, s_inner = nfirst ? kcb : F32G_NR;
        const int64_t ntiles  = (mc + F32G_MR - 1) / F32G_MR;
        const int     pa      = apack != NULL && nfirst;
        int64_t       outer, inner;
        if (pa) f32g_pack_a(mc, K, A + m0 * lda, lda, apack);
        for (outer = 0; outer < n_outer; outer += s_outer)
            for (inner = 0; inner < n_inner; inner += s_inner) {
                const int64_t k0 = nfirst ? inner : outer, n0 = nfirst ? outer : inner;
                const int64_t kc = K - k0 < kcb ? K - k0 : kcb;
                const int64_t nn = N - n0 < F32G_NR ? N - n0 : F32G_NR;
                const float  *bp = B + k0 * N + n0;
                int64_t       ldb = N, nk0 = -1, nn0 = 0, nkc = 0;
                if (packb) {
                    f32g_pack_panel(kc, nn, bp, N, bpack);
                    bp  = bpack;
                    ldb = F32G_NR;
                    /* the next panel in loop order (none after the block's last one) */
                    if (nfirst) {
                        nk0 = k0 + kc < K ? k0 + kc : n0 + F32G_NR < N ? 0 : -1;
                        nn0 = k0 + kc < K ? n0 : n0 + F32G_NR;
                    } else {
                        nk0 = n0 + F32G_NR < N ? k0 : k0 + kc < K ? k0 + kc : -1;
                        nn0 = n0 + F32G_NR < N ? n0 + F32G_NR : 0;
                    }
                    if (nk0 >= 0) nkc = K - nk0 < kcb ? K - nk0 : kcb;
                }
                for (i = 0; i < mc; i += F32G_MR) {
                    const int     mr = mc - i < F32G_MR ? (int)(mc - i) : F32G_MR;
                    const int64_t t = i / F32G_MR, r0 = t * nkc / ntiles;
                    const int64_t r1 = (t + 1) * nkc / ntiles;
                    float        *c  = C + (m0 + i) * ldc + n0;
                    /* first k block from bias (or 0), later ones from the partial sums in C */
                    const float  *init = k0 == 0 ? (bias != NULL ? bias + n0 : NULL) : c;
                    f32g_tile_any(mr, (int)nn, packb, pa, kc,
                                  pa ? apack + t * F32G_MR * K + k0 * F32G_MR
                                     : A + (m0 + i) * lda + k0,
                                  lda, bp, ldb, c, ldc, init, k0 == 0 ? 0 : ldc,
                                  nk0 >= 0 ? B + (nk0 + r0) * N + nn0 : NULL, N, r1 - r0);
                }
            }
    }
    igq__free(apack);
}

#endif
