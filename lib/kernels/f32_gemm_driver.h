/* The fp32 GEMM of the SIMD levels (igq_f32_gemm_fn, kernels.h), written once: blocking, B
 * panel packing, optional A packing, the register tile and the M / N tails. Private header,
 * static inline functions and macros only (STYLE 2.6): an ISA file (AVX2, AVX-512) defines
 * the parameters and vector operations below, then includes it.
 * Each output is the one fmaf chain of kernels.h whatever the blocking: a tile starts from
 * bias (first k block) or from C (later k blocks, which hold the float partial sums), so
 * the order of the loops below and the rows computed together never change a bit.
 *
 * Parameters (macros):
 *   F32G_MR            rows of the register tile (at most 12); its columns are two vectors,
 *                      F32G_NR = 2 FV_LANES, the width of a B panel
 *   F32G_PANEL_OUTER   1: when the row block's A rows (all of K) fit in F32G_A_L2_BYTES, loop
 *                      k blocks inside column panels (each C tile then stays in L1 across its
 *                      k blocks); 0: always the GotoBLAS order below
 *   F32G_PACK_A        1: in the panel-outer order with N >= F32G_PACK_A_MIN_N, pack A once
 *                      per row block, tile by tile ([k][MR]: the k loop then broadcasts from
 *                      one stream instead of MR row pointers; needs heap scratch, read in place
 *                      when the allocation fails: same bits)
 *   F32G_TAIL_MODE(full, packb)  which accesses to the last vector of a row are masked (below)
 *                      for a tile whose last vector is full or not, B packed or not
 *   F32G_PF_SECOND     offset (floats) of the second prefetch of a B row of the next panel
 *   FV, FV_LANES, FV_MASK and FV_ZERO, FV_LOADU, FV_STOREU, FV_LOADU_MASK (masked-out lanes
 *                      read as 0 and are not accessed), FV_STOREU_MASK, FV_BCAST (broadcast of
 *                      the float at a pointer), FV_FMA(a, b, c) = a b + c rounded once,
 *                      FV_MASK_FIRST(n) (the first n lanes)
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

#include <immintrin.h>
#include <stdint.h>

#include "../core/alloc.h"

#define F32G_INLINE static inline __attribute__((always_inline))
#define F32G_NR (2 * FV_LANES)

#define F32G_KC 256          /* k block: a packed B panel is KC x NR floats on the stack */
#define F32G_MC 480          /* row block: the A block MC x KC (480 KiB) stays in L2 */
#define F32G_PACK_MIN_M 48   /* pack B only when at least this many rows share a panel */
#define F32G_KC_DIRECT 64    /* k block when B is read in place */
#define F32G_A_L2_BYTES (1 << 20) /* A rows of a block up to this size: panel-outer order */
#define F32G_PACK_A_MIN_N 768 /* pack A when N has at least this many columns */

/* Tail modes of f32g_tile: which accesses to the last vector of a row are masked. */
#define F32G_FULL 0    /* none: all the tile's columns exist */
#define F32G_TAIL_C 1  /* C / bias loads and C stores (B is a zero-padded packed panel) */
#define F32G_TAIL_BC 2 /* C / bias and B (B read in place) */

/* One mr x NR' tile (NR' = FV_LANES or F32G_NR columns: two = NR' > FV_LANES) over kc values
 * of k; mask selects the existing columns of the last vector (as mode says). init: row i
 * starts from init + i ldi, or 0 when NULL. pa: A packed ([k][MR]) instead of mr rows lda
 * apart. pf: pf_n rows of the next B panel, pf_ld floats apart, prefetched one every 4 k steps.
 * mr, two, mode and pa are compile-time constants at every call. */
F32G_INLINE void f32g_tile(const int mr, const int two, const int mode, const int pa,
                           int64_t kc, const float *a, int64_t lda, const float *b, int64_t ldb,
                           float *c, int64_t ldc, const float *init, int64_t ldi, FV_MASK mask,
                           const float *pf, int64_t pf_ld, int64_t pf_n)
{
    const FV     z = FV_ZERO();
    FV           c0a = z, c0b = z, c1a = z, c1b = z, c2a = z, c2b = z, c3a = z, c3b = z;
    FV           c4a = z, c4b = z, c5a = z, c5b = z, c6a = z, c6b = z, c7a = z, c7b = z;
    FV           c8a = z, c8b = z, c9a = z, c9b = z, c10a = z, c10b = z, c11a = z, c11b = z;
    const float *a0 = a, *a1 = a, *a2 = a, *a3 = a, *a4 = a, *a5 = a;
    const float *a6 = a, *a7 = a, *a8 = a, *a9 = a, *a10 = a, *a11 = a;
    int64_t      k;

#define F32G_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define F32G_ROW_PTR(i) if (mr > i && !pa) a##i = a + (i) * lda;
    F32G_ROWS(F32G_ROW_PTR)
#undef F32G_ROW_PTR

/* Load / store of the last vector of a row at p (the first when !two). */
#define F32G_LOAD_LAST(p, masked) ((masked) ? FV_LOADU_MASK((p), mask) : FV_LOADU(p))
#define F32G_STORE_LAST(p, v)                                                              \
    if (mode != F32G_FULL) FV_STOREU_MASK((p), mask, (v));                                 \
    else FV_STOREU((p), (v));

    if (init != NULL) {
#define F32G_ROW_INIT(i)                                                                   \
        if (mr > i) {                                                                      \
            const float *p = init + (i) * ldi;                                             \
            if (two) {                                                                     \
                c##i##a = FV_LOADU(p);                                                     \
                c##i##b = F32G_LOAD_LAST(p + FV_LANES, mode != F32G_FULL);                 \
            } else {                                                                       \
                c##i##a = F32G_LOAD_LAST(p, mode != F32G_FULL);                            \
            }                                                                              \
        }
        F32G_ROWS(F32G_ROW_INIT)
#undef F32G_ROW_INIT
    }

    for (k = 0; k < kc; k++) {
        if ((k & 3) == 0 && pf_n > 0) {
            _mm_prefetch((const char *)pf, _MM_HINT_T1);
            _mm_prefetch((const char *)(pf + F32G_PF_SECOND), _MM_HINT_T1);
            pf += pf_ld;
            pf_n--;
        }
        {
            const FV b0 = two ? FV_LOADU(b) : F32G_LOAD_LAST(b, mode == F32G_TAIL_BC);
            const FV b1 = two ? F32G_LOAD_LAST(b + FV_LANES, mode == F32G_TAIL_BC) : z;
#define F32G_ROW_FMA(i)                                                                    \
            if (mr > i) {                                                                  \
                const FV av = FV_BCAST(pa ? a + k * F32G_MR + (i) : a##i + k);             \
                c##i##a     = FV_FMA(av, b0, c##i##a);                                     \
                if (two) c##i##b = FV_FMA(av, b1, c##i##b);                                \
            }
            F32G_ROWS(F32G_ROW_FMA)
#undef F32G_ROW_FMA
        }
        b += ldb;
    }

#define F32G_ROW_STORE(i)                                                                  \
    if (mr > i) {                                                                          \
        float *p = c + (i) * ldc;                                                          \
        if (two) {                                                                         \
            FV_STOREU(p, c##i##a);                                                         \
            F32G_STORE_LAST(p + FV_LANES, c##i##b)                                         \
        } else {                                                                           \
            F32G_STORE_LAST(p, c##i##a)                                                    \
        }                                                                                  \
    }
    F32G_ROWS(F32G_ROW_STORE)
#undef F32G_ROW_STORE
#undef F32G_STORE_LAST
#undef F32G_LOAD_LAST
#undef F32G_ROWS
}

/* f32g_tile for the runtime row count (1..MR), width (nn columns of the panel) and A layout,
 * with the tail mode of the ISA (F32G_TAIL_MODE); combinations an ISA does not use compile to
 * nothing. noclone: gcc's constant-propagated clone of it measured 3-5 % slower (AVX-512,
 * M = 197..394, N = 1536). */
#if defined(__clang__)
#define F32G_NOCLONE /* clang has no such attribute (nor gcc's clone) */
#else
#define F32G_NOCLONE __attribute__((noclone))
#endif
static inline F32G_NOCLONE void
f32g_tile_any(int mr, int nn, int packb, int pa, int64_t kc, const float *a, int64_t lda,
              const float *b, int64_t ldb, float *c, int64_t ldc, const float *init,
              int64_t ldi, const float *pf, int64_t pf_ld, int64_t pf_n)
{
    const int     two   = nn > FV_LANES;
    const int     nlast = two ? nn - FV_LANES : nn;
    const FV_MASK mask  = FV_MASK_FIRST(nlast);
    const int     mode  = F32G_TAIL_MODE(nlast == FV_LANES, packb);
    (void)packb;
#define F32G_ARGS kc, a, lda, b, ldb, c, ldc, init, ldi, mask, pf, pf_ld, pf_n
#define F32G_TWO(r, m, p)                                                                  \
    {                                                                                      \
        if (two) f32g_tile(r, 1, m, p, F32G_ARGS);                                         \
        else f32g_tile(r, 0, m, p, F32G_ARGS);                                             \
    }
#define F32G_MODES(r, p)                                                                   \
    {                                                                                      \
        if (mode == F32G_FULL) F32G_TWO(r, F32G_FULL, p)                                   \
        else if (mode == F32G_TAIL_C) F32G_TWO(r, F32G_TAIL_C, p)                          \
        else F32G_TWO(r, F32G_TAIL_BC, p)                                                  \
    }
#define F32G_CASE(r)                                                                       \
    case r:                                                                                \
        if (r > F32G_MR) break;                                                            \
        if (F32G_PACK_A && pa) F32G_MODES(r, 1)                                            \
        else F32G_MODES(r, 0)                                                              \
        break;
    switch (mr) {
        F32G_CASE(1) F32G_CASE(2) F32G_CASE(3) F32G_CASE(4) F32G_CASE(5) F32G_CASE(6)
        F32G_CASE(7) F32G_CASE(8) F32G_CASE(9) F32G_CASE(10) F32G_CASE(11) F32G_CASE(12)
    default: break;
    }
#undef F32G_CASE
#undef F32G_MODES
#undef F32G_TWO
#undef F32G_ARGS
}

/* B panel copy: dst[k][0..NR) = src[k lds + 0..nn), zeros beyond nn, for k < kc. */
static inline void f32g_pack_panel(int64_t kc, int64_t nn, const float *src, int64_t lds,
                                   float *dst)
{
    int64_t k;
    if (nn == F32G_NR) {
        for (k = 0; k < kc; k++, src += lds, dst += F32G_NR) {
            FV_STOREU(dst, FV_LOADU(src));
            FV_STOREU(dst + FV_LANES, FV_LOADU(src + FV_LANES));
        }
    } else {
        const FV_MASK m0 = FV_MASK_FIRST(nn >= FV_LANES ? FV_LANES : (int)nn);
        const FV_MASK m1 = FV_MASK_FIRST(nn > FV_LANES ? (int)nn - FV_LANES : 0);
        for (k = 0; k < kc; k++, src += lds, dst += F32G_NR) {
            FV_STOREU(dst, FV_LOADU_MASK(src, m0));
            FV_STOREU(dst + FV_LANES, FV_LOADU_MASK(src + FV_LANES, m1));
        }
    }
}

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

/* The fp32 GEMM of igq_f32_gemm_fn; a level defines its entry point with
 * IGQ_F32_GEMM_DECL(name) { f32g_gemm(M, N, K, A, lda, B, bias, C, ldc); }. */
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
