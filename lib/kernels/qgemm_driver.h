/* The integer GEMM of every SIMD level (igq_qgemm_fn, kernels.h), written once: blocking,
 * k-block sizing, staging of the weight panels (rows gathered through kperm, qs4 nibbles
 * unpacked on the way), the register-tile microkernel and the M / N / K tails. Private header,
 * static inline functions and macros only (STYLE 2.6): an ISA file defines the parameters and
 * vector operations below, includes this header, and defines its entry points with
 * IGQ_QGEMM_ENTRIES(..., qgemm) (kernels.h). Every level computes exact int32 sums, so the
 * blocking never changes a result bit.
 *
 * Parameters (macros):
 *   QGEMM_KR     k values per 4-byte lane of the dot instruction: 4 for vpdpbusd (u8 A x s8 W,
 *                A read in place, 4 bytes per broadcast) or 2 for vpmaddwd (int16 pairs: A is
 *                first widened to u16 rows by QGEMM_EXPAND_A, 2 values per broadcast)
 *   QGEMM_KC     k block; the staged block is QGEMM_KC / QGEMM_KR steps of 256 bytes (24 KiB)
 *   QGEMM_NV     vectors per row of the register tile (2 or 4): 6 rows x QGEMM_NV vectors of
 *                int32 accumulators, QGEMM_NV * QV_LANES columns of the 64-column panel
 *   QGEMM_QS4_X16  1 when the staging step stores qs4 weights as 16 w (sums shifted right by 4
 *                at the end: exact, they are multiples of 16), 0 when it stores w
 *   QGEMM_EXPAND_A (only with QGEMM_KR 2) function (mr, kc, A, lda, a16): A[i][0..kc) of mr
 *                rows widened to u16 rows of stride QGEMM_KC, zero-padded to an even count
 *   QV, QV_BYTES, QV_LANES, QV_MASK and the operations QV_ZERO, QV_LOAD (aligned), QV_LOADU,
 *                QV_STOREU, QV_BCAST (int32), QV_DOT (acc += a . b per int32 lane), QV_ADD,
 *                QV_SRA4, QV_MASK_FIRST (first n lanes), QV_LOADU_MASK, QV_STOREU_MASK
 *   QGEMM_I16_WIN (optional) the accumulators hold int16 lanes (QV_DOT adds int16 pair sums,
 *                e.g. vpmaddubsw + vpaddw) for at most this many steps, then QV_WIDEN (int16
 *                pairs -> int32, e.g. vpmaddwd with ones) adds them to an int32 tile in L1;
 *                the level proves that |one step's lane| x QGEMM_I16_WIN <= 32767
 *   QGEMM_INLINE static inline with always_inline
 * and the staging step, a function
 *   qgemm_stage_step(qs4, nrows, p0, p1, p2, p3, dst)
 * that interleaves the packed rows p0 .. p(nrows - 1) (nrows <= QGEMM_KR; later rows read as
 * zeros) of one k step into the 256 bytes at dst: vector v (QV_BYTES at dst + v QV_BYTES)
 * holds the panel's columns v QV_LANES .., lane d the QGEMM_KR weights of column
 * v QV_LANES + d in k order (bytes, or int16 when QGEMM_KR is 2). The pos() order of the
 * packed rows (qs8_layout.h) lets it do so with in-lane interleaves only.
 *
 * Loops: [row blocks of QGEMM_MC] > 64-column panels > k blocks (stage the panel's block into
 * an L1 stack buffer) > row tiles of 6 (A of the tile: in place, or widened once) > column
 * groups of QGEMM_NV vectors. The first k block stores C, later ones add to it. k blocks have
 * equal sizes rounded up to a multiple of 4, so only the last one has a partial step; A is read
 * only in A[m][k0..k1) (the last partial quad byte by byte). M tails use the tile instantiated
 * for 1..5 rows, N tails fewer vectors and a masked last vector (the panel's padding columns
 * are zero, so the staged block needs no tail). */
#ifndef IGQ_KERNELS_QGEMM_DRIVER_H
#define IGQ_KERNELS_QGEMM_DRIVER_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "qs8_layout.h"

#define QGEMM_MR 6
#define QGEMM_MC 1536 /* row block: the A block QGEMM_MC x QGEMM_KC stays in L2 */
#define QGEMM_GW (QGEMM_NV * QV_LANES) /* columns of a tile */

/* 4 bytes of A (one broadcast). */
QGEMM_INLINE int32_t qgemm_ld32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The first t (1..3) bytes at p, zero-extended: the last partial quad of A. */
QGEMM_INLINE int32_t qgemm_ld_tail(const uint8_t *p, int t)
{
    uint32_t v = p[0];
    if (t > 1) v |= (uint32_t)p[1] << 8;
    if (t > 2) v |= (uint32_t)p[2] << 16;
    return (int32_t)v;
}

/* k-block size for a range of klen > 0: equal blocks of at most kc_max, rounded up to a
 * multiple of 4 (kc_max is one), so only the last block has a partial quad. */
static inline int64_t qgemm_kblock(int64_t klen, int64_t kc_max)
{
    const int64_t nkb = (klen + kc_max - 1) / kc_max;
    return ((klen + nkb - 1) / nkb + 3) & ~(int64_t)3;
}

/* Stages packed rows kb .. kb + kc - 1 of a panel (through kperm when perm, a compile-time
 * flag) into dst: whole steps branch-free, with the rows 8 ahead prefetched (rows gathered
 * through kperm defeat the hardware prefetcher; each is one cache line), then the partial
 * last step with zero rows. */
QGEMM_INLINE void qgemm_stage(const int qs4, const int perm, const uint8_t *panel,
                              const int32_t *kperm, int64_t kb, int64_t kc, uint8_t *dst)
{
    const int64_t  rb = igq__qs8_row_bytes(qs4 ? 4 : 8);
    const int64_t  ns = kc / QGEMM_KR, nt = kc % QGEMM_KR;
    const int32_t *kp = perm ? kperm + kb : NULL;
    int64_t        s;
#define QGEMM_ROW(k) (panel + (perm ? (int64_t)kp[k] : kb + (k)) * rb)
    for (s = 0; s < ns; s++, dst += 256) {
        const int64_t k = QGEMM_KR * s;
        if (s + 8 / QGEMM_KR < ns) {
            _mm_prefetch((const char *)QGEMM_ROW(k + 8), _MM_HINT_T0);
            _mm_prefetch((const char *)QGEMM_ROW(k + 9), _MM_HINT_T0);
            if (QGEMM_KR == 4) {
                _mm_prefetch((const char *)QGEMM_ROW(k + 10), _MM_HINT_T0);
                _mm_prefetch((const char *)QGEMM_ROW(k + 11), _MM_HINT_T0);
            }
        }
        qgemm_stage_step(qs4, QGEMM_KR, QGEMM_ROW(k), QGEMM_ROW(k + 1),
                         QGEMM_KR == 4 ? QGEMM_ROW(k + 2) : NULL,
                         QGEMM_KR == 4 ? QGEMM_ROW(k + 3) : NULL, dst);
    }
    if (nt > 0) {
        const int64_t k = QGEMM_KR * ns;
        qgemm_stage_step(qs4, (int)nt, QGEMM_ROW(k), nt > 1 ? QGEMM_ROW(k + 1) : NULL,
                         nt > 2 ? QGEMM_ROW(k + 2) : NULL, NULL, dst);
    }
#undef QGEMM_ROW
}

/* qgemm_stage with the weight width and the kperm flag made compile-time constants. */
static inline void qgemm_stage_any(int qs4, const uint8_t *panel, const int32_t *kperm,
                                   int64_t kb, int64_t kc, uint8_t *dst)
{
    if (kperm != NULL) {
        if (qs4) qgemm_stage(1, 1, panel, kperm, kb, kc, dst);
        else qgemm_stage(0, 1, panel, kperm, kb, kc, dst);
    } else {
        if (qs4) qgemm_stage(1, 0, panel, NULL, kb, kc, dst);
        else qgemm_stage(0, 0, panel, NULL, kb, kc, dst);
    }
}

/* One mr x nv-vector tile: ns whole k steps (4 bytes of each A row per step) plus, when t > 0,
 * a last step of which only t (1..3) A bytes are read; b: the staged block at the tile's first
 * vector (steps 256 bytes apart); a: row 0 of A at the block's first k, rows lda bytes apart.
 * The sums go to C (first) or are added to it; shift: qs4 sums of 16 w, shifted right by 4.
 * The last vector is accessed through mlast unless full (plain stores also keep gcc from
 * spilling accumulators in the grouped GEMM's k loop). mr and nv are compile-time constants
 * at every call. */
QGEMM_INLINE void qgemm_tile(const int mr, const int nv, int64_t ns, int t, const uint8_t *a,
                             int64_t lda, const uint8_t *b, int32_t *c, int64_t ldc, int first,
                             int shift, int full, QV_MASK mlast)
{
    const QV       z = QV_ZERO();
    QV             c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
    QV             c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
    QV             c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
    const uint8_t *a0 = a, *a1 = a, *a2 = a, *a3 = a, *a4 = a, *a5 = a;
    int64_t        s;

    if (mr > 1) a1 = a + lda;
    if (mr > 2) a2 = a + 2 * lda;
    if (mr > 3) a3 = a + 3 * lda;
    if (mr > 4) a4 = a + 4 * lda;
    if (mr > 5) a5 = a + 5 * lda;

#define QGEMM_LOAD_B()                                                                     \
    const QV b0 = QV_LOAD(b);                                                              \
    const QV b1 = nv > 1 ? QV_LOAD(b + QV_BYTES) : z;                                      \
    const QV b2 = nv > 2 ? QV_LOAD(b + 2 * QV_BYTES) : z;                                  \
    const QV b3 = nv > 3 ? QV_LOAD(b + 3 * QV_BYTES) : z;
#define QGEMM_ROW_DOT(i, av)                                                               \
    if (mr > i) {                                                                          \
        const QV x = QV_BCAST(av);                                                         \
        c##i##0    = QV_DOT(c##i##0, x, b0);                                               \
        if (nv > 1) c##i##1 = QV_DOT(c##i##1, x, b1);                                      \
        if (nv > 2) c##i##2 = QV_DOT(c##i##2, x, b2);                                      \
        if (nv > 3) c##i##3 = QV_DOT(c##i##3, x, b3);                                      \
    }
#define QGEMM_STEP(s)                                                                      \
    {                                                                                      \
        QGEMM_LOAD_B()                                                                     \
        QGEMM_ROW_DOT(0, qgemm_ld32(a0 + 4 * (s)))                                         \
        QGEMM_ROW_DOT(1, qgemm_ld32(a1 + 4 * (s)))                                         \
        QGEMM_ROW_DOT(2, qgemm_ld32(a2 + 4 * (s)))                                         \
        QGEMM_ROW_DOT(3, qgemm_ld32(a3 + 4 * (s)))                                         \
        QGEMM_ROW_DOT(4, qgemm_ld32(a4 + 4 * (s)))                                         \
        QGEMM_ROW_DOT(5, qgemm_ld32(a5 + 4 * (s)))                                         \
    }
#define QGEMM_TAIL()                                                                       \
    {                                                                                      \
        QGEMM_LOAD_B()                                                                     \
        QGEMM_ROW_DOT(0, qgemm_ld_tail(a0 + 4 * ns, t))                                    \
        QGEMM_ROW_DOT(1, qgemm_ld_tail(a1 + 4 * ns, t))                                    \
        QGEMM_ROW_DOT(2, qgemm_ld_tail(a2 + 4 * ns, t))                                    \
        QGEMM_ROW_DOT(3, qgemm_ld_tail(a3 + 4 * ns, t))                                    \
        QGEMM_ROW_DOT(4, qgemm_ld_tail(a4 + 4 * ns, t))                                    \
        QGEMM_ROW_DOT(5, qgemm_ld_tail(a5 + 4 * ns, t))                                    \
    }
#if defined(QGEMM_I16_WIN)
    {
        /* int16 windows: the accumulators hold int16 lanes for at most QGEMM_I16_WIN steps
         * (exact: the level's bound on one step's |lane| times QGEMM_I16_WIN stays
         * <= 32767), then are widened (QV_WIDEN: int16 pairs -> int32, exact) into the int32
         * tile wt in L1; afterwards the accumulators are reloaded from wt as int32. */
        int32_t     wt[QGEMM_MR * QGEMM_GW] __attribute__((aligned(64)));
        int64_t     s0 = 0;
        int         wfirst = 1;
        const int64_t nwin = ns + (t > 0);
#define QGEMM_ZERO_ROW(i) c##i##0 = z, c##i##1 = z, c##i##2 = z, c##i##3 = z;
#define QGEMM_WIDEN1(i, v)                                                                 \
        if (mr > i && nv > v) {                                                            \
            QV *const p = (QV *)(wt + (i) * QGEMM_GW + (v) * QV_LANES);                    \
            const QV  x = QV_WIDEN(c##i##v);                                               \
            *p          = wfirst ? x : QV_ADD(x, *p);                                      \
        }
#define QGEMM_WIDEN_ROW(i) QGEMM_WIDEN1(i, 0) QGEMM_WIDEN1(i, 1) QGEMM_WIDEN1(i, 2) QGEMM_WIDEN1(i, 3)
#define QGEMM_RELOAD1(i, v)                                                                \
        if (mr > i && nv > v) c##i##v = *(const QV *)(wt + (i) * QGEMM_GW + (v) * QV_LANES);
#define QGEMM_RELOAD_ROW(i) QGEMM_RELOAD1(i, 0) QGEMM_RELOAD1(i, 1) QGEMM_RELOAD1(i, 2) QGEMM_RELOAD1(i, 3)
        while (s0 < nwin) {
            const int64_t s1 = nwin - s0 < QGEMM_I16_WIN ? nwin : s0 + QGEMM_I16_WIN;
            const int64_t se = s1 < ns ? s1 : ns;
            QGEMM_ZERO_ROW(0) QGEMM_ZERO_ROW(1) QGEMM_ZERO_ROW(2)
            QGEMM_ZERO_ROW(3) QGEMM_ZERO_ROW(4) QGEMM_ZERO_ROW(5)
            for (s = s0; s < se; s++, b += 256) QGEMM_STEP(s)
            if (s1 > ns) QGEMM_TAIL()
            QGEMM_WIDEN_ROW(0) QGEMM_WIDEN_ROW(1) QGEMM_WIDEN_ROW(2)
            QGEMM_WIDEN_ROW(3) QGEMM_WIDEN_ROW(4) QGEMM_WIDEN_ROW(5)
            wfirst = 0;
            s0     = s1;
        }
        if (wfirst) {
            QGEMM_ZERO_ROW(0) QGEMM_ZERO_ROW(1) QGEMM_ZERO_ROW(2)
            QGEMM_ZERO_ROW(3) QGEMM_ZERO_ROW(4) QGEMM_ZERO_ROW(5)
        } else {
            QGEMM_RELOAD_ROW(0) QGEMM_RELOAD_ROW(1) QGEMM_RELOAD_ROW(2)
            QGEMM_RELOAD_ROW(3) QGEMM_RELOAD_ROW(4) QGEMM_RELOAD_ROW(5)
        }
#undef QGEMM_RELOAD_ROW
#undef QGEMM_RELOAD1
#undef QGEMM_WIDEN_ROW
#undef QGEMM_WIDEN1
#undef QGEMM_ZERO_ROW
    }
#else
    for (s = 0; s < ns; s++, b += 256) QGEMM_STEP(s)
    if (t > 0) QGEMM_TAIL()
#endif
#undef QGEMM_TAIL
#undef QGEMM_STEP
#undef QGEMM_ROW_DOT
#undef QGEMM_LOAD_B

#define QGEMM_STORE(i, v)                                                                  \
    if (mr > i && nv > v) {                                                                \
        int32_t *p = c + (i) * ldc + (v) * QV_LANES;                                       \
        QV       x = c##i##v;                                                              \
        if (shift) x = QV_SRA4(x);                                                         \
        if ((v) < nv - 1 || full) {                                                        \
            if (!first) x = QV_ADD(x, QV_LOADU(p));                                        \
            QV_STOREU(p, x);                                                               \
        } else {                                                                           \
            if (!first) x = QV_ADD(x, QV_LOADU_MASK(p, mlast));                            \
            QV_STOREU_MASK(p, mlast, x);                                                   \
        }                                                                                  \
    }
#define QGEMM_STORE_ROW(i) QGEMM_STORE(i, 0) QGEMM_STORE(i, 1) QGEMM_STORE(i, 2) QGEMM_STORE(i, 3)
    QGEMM_STORE_ROW(0) QGEMM_STORE_ROW(1) QGEMM_STORE_ROW(2)
    QGEMM_STORE_ROW(3) QGEMM_STORE_ROW(4) QGEMM_STORE_ROW(5)
#undef QGEMM_STORE_ROW
#undef QGEMM_STORE
}

/* Calls fn(r, nv, ...) with nv (1..QGEMM_NV) made a compile-time constant. */
#define QGEMM_FOR_NV(fn, r, nv, ...)                                                       \
    if ((nv) <= 1) fn(r, 1, __VA_ARGS__);                                                  \
    else if ((nv) == 2 || QGEMM_NV == 2) fn(r, 2, __VA_ARGS__);                            \
    else if ((nv) == 3) fn(r, 3, __VA_ARGS__);                                             \
    else fn(r, 4, __VA_ARGS__);
/* Calls fn(mr, nv, ...) with mr (1..6) and nv (1..QGEMM_NV) made compile-time constants. */
#define QGEMM_NV_CASES(fn, r, nv, ...)                                                     \
    case r: QGEMM_FOR_NV(fn, r, nv, __VA_ARGS__) break;
#define QGEMM_INSTANTIATE(fn, mr, nv, ...)                                                 \
    switch (mr) {                                                                          \
        QGEMM_NV_CASES(fn, 1, nv, __VA_ARGS__)                                             \
        QGEMM_NV_CASES(fn, 2, nv, __VA_ARGS__)                                             \
        QGEMM_NV_CASES(fn, 3, nv, __VA_ARGS__)                                             \
        QGEMM_NV_CASES(fn, 4, nv, __VA_ARGS__)                                             \
        QGEMM_NV_CASES(fn, 5, nv, __VA_ARGS__)                                             \
        QGEMM_NV_CASES(fn, 6, nv, __VA_ARGS__)                                             \
    default: break;                                                                        \
    }

/* One row tile of mr rows (a compile-time constant) over the nn valid columns of a staged
 * panel: the whole column groups with the full tile, then the partial one (fewer vectors, the
 * last one masked). */
QGEMM_INLINE void qgemm_groups(const int mr, int64_t ns, int t, const uint8_t *a, int64_t lda,
                               const uint8_t *b, int32_t *c, int64_t ldc, int first, int shift,
                               int nn)
{
    int c0;
    /* staged vector c0 / QV_LANES starts at byte 4 c0 of a step */
    for (c0 = 0; c0 + QGEMM_GW <= nn; c0 += QGEMM_GW)
        qgemm_tile(mr, QGEMM_NV, ns, t, a, lda, b + 4 * c0, c + c0, ldc, first, shift, 1,
                   QV_MASK_FIRST(QV_LANES));
    if (c0 < nn) {
        const int nv = (nn - c0 + QV_LANES - 1) / QV_LANES, last = nn - c0 - (nv - 1) * QV_LANES;
        QGEMM_FOR_NV(qgemm_tile, mr, nv, ns, t, a, lda, b + 4 * c0, c + c0, ldc, first, shift,
                     0, QV_MASK_FIRST(last))
    }
}

/* qgemm_groups for the runtime row count (1..6). */
static inline void qgemm_row_tile(int mr, int64_t ns, int t, const uint8_t *a, int64_t lda,
                                  const uint8_t *b, int32_t *c, int64_t ldc, int first,
                                  int shift, int nn)
{
    switch (mr) {
    case 1: qgemm_groups(1, ns, t, a, lda, b, c, ldc, first, shift, nn); break;
    case 2: qgemm_groups(2, ns, t, a, lda, b, c, ldc, first, shift, nn); break;
    case 3: qgemm_groups(3, ns, t, a, lda, b, c, ldc, first, shift, nn); break;
    case 4: qgemm_groups(4, ns, t, a, lda, b, c, ldc, first, shift, nn); break;
    case 5: qgemm_groups(5, ns, t, a, lda, b, c, ldc, first, shift, nn); break;
    default: qgemm_groups(6, ns, t, a, lda, b, c, ldc, first, shift, nn); break;
    }
}

/* The GEMM of igq_qgemm_fn for qs8 (bits 8) or qs4 (bits 4) weights. */
static inline void qgemm(int bits, int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                         const uint8_t *A, int64_t lda, const void *packed,
                         const int32_t *kperm, int32_t *C, int64_t ldc)
{
    uint8_t       buf[QGEMM_KC / QGEMM_KR * 256] __attribute__((aligned(64)));
#if QGEMM_KR == 2
    uint16_t      a16[QGEMM_MR * QGEMM_KC] __attribute__((aligned(64)));
#endif
    const int     qs4   = bits == 4;
    const int64_t rb    = igq__qs8_row_bytes(bits);
    const int     shift = qs4 && QGEMM_QS4_X16;
    int64_t       kcb, m0, nb, kb, i;

    if (M <= 0 || N <= 0) return;
    if (k1 <= k0) {
        for (i = 0; i < M; i++) memset(C + i * ldc, 0, (size_t)N * sizeof(int32_t));
        return;
    }
    kcb = qgemm_kblock(k1 - k0, QGEMM_KC);
    for (m0 = 0; m0 < M; m0 += QGEMM_MC) {
        const int64_t mc = M - m0 < QGEMM_MC ? M - m0 : QGEMM_MC;
        for (nb = 0; nb * IGQ_QS8_NR < N; nb++) {
            const int64_t  n0    = nb * IGQ_QS8_NR;
            const uint8_t *panel = (const uint8_t *)packed + nb * K * rb;
            const int      nn    = (int)(N - n0 < IGQ_QS8_NR ? N - n0 : IGQ_QS8_NR);
            for (kb = k0; kb < k1; kb += kcb) {
                const int64_t kc = k1 - kb < kcb ? k1 - kb : kcb;
                qgemm_stage_any(qs4, panel, kperm, kb, kc, buf);
                for (i = 0; i < mc; i += QGEMM_MR) {
                    const int      mr = mc - i < QGEMM_MR ? (int)(mc - i) : QGEMM_MR;
                    int32_t       *c  = C + (m0 + i) * ldc + n0;
#if QGEMM_KR == 2
                    /* int16 pairs: widen the tile's A block once for the panel's groups */
                    QGEMM_EXPAND_A(mr, kc, A + (m0 + i) * lda + kb, lda, a16);
                    qgemm_row_tile(mr, (kc + 1) / 2, 0, (const uint8_t *)a16, 2 * QGEMM_KC,
                                   buf, c, ldc, kb == k0, shift, nn);
#else
                    qgemm_row_tile(mr, kc / 4, (int)(kc % 4), A + (m0 + i) * lda + kb, lda,
                                   buf, c, ldc, kb == k0, shift, nn);
#endif
                }
            }
        }
    }
}

#endif
