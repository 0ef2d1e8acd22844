/* fp32 GEMM, AVX-512 (built with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma; uses only
 * AVX-512F + FMA; reached only through the dispatch table).
 *
 * Blocking: A is read in place; B is copied panel by panel (KC = 256 rows x NR = 32 columns)
 * into a contiguous 32 KiB stack buffer that all row tiles of the block then reuse.
 *   for each block of MC = 480 rows of A, in one of two orders:
 *     - the block's rows of A (all of K) fit in 1 MiB of L2: for each 32-column panel, for
 *       each k block: copy, run every row tile (a C tile stays in L1 across its k blocks);
 *     - else the GotoBLAS order: for each k block (the MC x KC block of A stays in L2), for
 *       each panel: copy, run every row tile.
 *   A row tile: MR = 12 rows x 32 columns in 24 zmm accumulators; the k loop broadcasts
 *   A[m][k] and does 24 FMAs with the two B vectors of row k.
 * The accumulators start from bias (first k block) or from C (later k blocks, exact since C
 * holds the float partial sum), so each output is the one fmaf chain of kernels.h no matter
 * how M, N or K are split. N tails use masked loads/stores (no padding, no over-read); M tails
 * use the same micro-kernel instantiated for 1..11 rows.
 * While a panel is used, the row tiles prefetch the next panel (in loop order) into L2, one
 * row every 4 k steps, so its copy does not wait for B (weights, usually in L3).
 * For wide N (>= 768 columns, e.g. qkv and fc1) in the panel-outer order, A is also packed
 * once per row block, tile by tile ([k][12], heap scratch): the k loop then broadcasts from
 * one stream instead of 12 row pointers (fewer registers, no spills); measured ~5% faster on
 * those shapes. If the allocation fails A is read in place (same bits).
 * Small M (< 48 rows, e.g. one 17-token image) is bound by reading B once: there the copy does
 * not pay, and B is read in place with stride N in shallow k blocks (64), so the rows of B in
 * flight are walked left to right as the panels advance, which the hardware prefetchers follow
 * (measured 1.3-2x faster than packing for M = 4..36 at N = 768..3072). */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

#include "../../core/alloc.h"

#define MR 12
#define NR 32
#define KC 256         /* k block: a packed B panel is KC x NR floats = 32 KiB of stack */
#define MC 480         /* row block: the A block MC x KC (480 KiB) stays in L2 */
#define PACK_MIN_M 48  /* pack B only when at least this many rows share a panel */
#define KC_DIRECT 64   /* k block when B is read in place */
#define A_L2_BYTES (1 << 20) /* A rows of a block up to this size: panel-outer order */
#define PACK_A_MIN_N 768 /* pack A when N has at least this many columns (24 panels) */
#define PF_EVERY 4     /* a row tile prefetches one row of the next B panel per 4 k steps */

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* One MR' x NR' tile (MR' = mr <= MR rows, NR' = 16 or 32 columns: two = NR' > 16), with the
 * last 16-column vector masked by mlast. init: row i starts from init + i*ldi (ldi = 0 for
 * bias), or from 0 when init is NULL. mr and two are compile-time constants at every call. */
ALWAYS_INLINE void tile(const int mr, const int two, const int pa, int64_t kc, const float *a,
                        int64_t lda,
                        const float *b, int64_t ldb, float *c, int64_t ldc, const float *init,
                        int64_t ldi, __mmask16 mlast, const float *pf, int64_t pf_ld,
                        int64_t pf_n)
{
    __m512      z = _mm512_setzero_ps();
    __m512      c0a = z, c0b = z, c1a = z, c1b = z, c2a = z, c2b = z, c3a = z, c3b = z;
    __m512      c4a = z, c4b = z, c5a = z, c5b = z, c6a = z, c6b = z, c7a = z, c7b = z;
    __m512      c8a = z, c8b = z, c9a = z, c9b = z, c10a = z, c10b = z, c11a = z, c11b = z;
    const float *a0 = a, *a1 = a, *a2 = a, *a3 = a, *a4 = a, *a5 = a;
    const float *a6 = a, *a7 = a, *a8 = a, *a9 = a, *a10 = a, *a11 = a;
    int64_t      k;

#define ROW_PTR(i) if (mr > i && !pa) a##i = a + (i) * lda;
    ROW_PTR(1) ROW_PTR(2) ROW_PTR(3) ROW_PTR(4) ROW_PTR(5) ROW_PTR(6)
    ROW_PTR(7) ROW_PTR(8) ROW_PTR(9) ROW_PTR(10) ROW_PTR(11)
#undef ROW_PTR

    if (init != NULL) {
#define ROW_INIT(i)                                                                  \
        if (mr > i) {                                                                \
            const float *p = init + (i) * ldi;                                       \
            if (two) {                                                               \
                c##i##a = _mm512_loadu_ps(p);                                        \
                c##i##b = _mm512_maskz_loadu_ps(mlast, p + 16);                      \
            } else {                                                                 \
                c##i##a = _mm512_maskz_loadu_ps(mlast, p);                           \
            }                                                                        \
        }
        ROW_INIT(0) ROW_INIT(1) ROW_INIT(2) ROW_INIT(3) ROW_INIT(4) ROW_INIT(5)
        ROW_INIT(6) ROW_INIT(7) ROW_INIT(8) ROW_INIT(9) ROW_INIT(10) ROW_INIT(11)
#undef ROW_INIT
    }

    for (k = 0; k < kc; k++) {
        /* One row (two lines) of the next B panel every PF_EVERY k steps. */
        if ((k & (PF_EVERY - 1)) == 0 && pf_n > 0) {
            _mm_prefetch((const char *)pf, _MM_HINT_T1);
            _mm_prefetch((const char *)(pf + 16), _MM_HINT_T1);
            pf += pf_ld;
            pf_n--;
        }
        {
        const __m512 b0 = two ? _mm512_loadu_ps(b) : _mm512_maskz_loadu_ps(mlast, b);
        const __m512 b1 = two ? _mm512_maskz_loadu_ps(mlast, b + 16) : z;
#define ROW_FMA(i)                                                                   \
        if (mr > i) {                                                                \
            const __m512 av = _mm512_set1_ps(pa ? a[k * MR + (i)] : a##i[k]);       \
            c##i##a = _mm512_fmadd_ps(av, b0, c##i##a);                              \
            if (two) c##i##b = _mm512_fmadd_ps(av, b1, c##i##b);                     \
        }
        ROW_FMA(0) ROW_FMA(1) ROW_FMA(2) ROW_FMA(3) ROW_FMA(4) ROW_FMA(5)
        ROW_FMA(6) ROW_FMA(7) ROW_FMA(8) ROW_FMA(9) ROW_FMA(10) ROW_FMA(11)
#undef ROW_FMA
        }
        b += ldb;
    }

#define ROW_STORE(i)                                                                 \
    if (mr > i) {                                                                    \
        float *p = c + (i) * ldc;                                                    \
        if (two) {                                                                   \
            _mm512_storeu_ps(p, c##i##a);                                            \
            _mm512_mask_storeu_ps(p + 16, mlast, c##i##b);                           \
        } else {                                                                     \
            _mm512_mask_storeu_ps(p, mlast, c##i##a);                                \
        }                                                                            \
    }
    ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
    ROW_STORE(6) ROW_STORE(7) ROW_STORE(8) ROW_STORE(9) ROW_STORE(10) ROW_STORE(11)
#undef ROW_STORE
}

/* Instantiates tile() for the runtime row count (1..MR) and width. */
static void tile_any(int mr, int two, int pa, int64_t kc, const float *a, int64_t lda,
                     const float *b,
                     int64_t ldb, float *c, int64_t ldc, const float *init, int64_t ldi,
                     __mmask16 mlast, const float *pf, int64_t pf_ld, int64_t pf_n)
{
#define CASE(r)                                                                      \
    case r:                                                                          \
        if (pa && two) tile(r, 1, 1, kc, a, lda, b, ldb, c, ldc, init, ldi, mlast, pf, pf_ld,    \
                            pf_n);                                                          \
        else if (pa) tile(r, 0, 1, kc, a, lda, b, ldb, c, ldc, init, ldi, mlast, pf, pf_ld,    \
                          pf_n);                                                            \
        else if (two) tile(r, 1, 0, kc, a, lda, b, ldb, c, ldc, init, ldi, mlast, pf, pf_ld,   \
                           pf_n);                                                           \
        else tile(r, 0, 0, kc, a, lda, b, ldb, c, ldc, init, ldi, mlast, pf, pf_ld, pf_n);    \
        break;
    switch (mr) {
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
        CASE(7) CASE(8) CASE(9) CASE(10) CASE(11) CASE(12)
    default: break;
    }
#undef CASE
}

/* dst[k][0:nn] = src[k*lds + 0:nn] for k < kc, dst row stride NR. */
static void pack_panel(int64_t kc, int64_t nn, const float *src, int64_t lds, float *dst)
{
    int64_t k;
    if (nn == NR) {
        for (k = 0; k < kc; k++, src += lds, dst += NR) {
            _mm512_storeu_ps(dst, _mm512_loadu_ps(src));
            _mm512_storeu_ps(dst + 16, _mm512_loadu_ps(src + 16));
        }
    } else {
        const __mmask16 m0 = (__mmask16)(nn >= 16 ? 0xffff : (1u << nn) - 1);
        const __mmask16 m1 = (__mmask16)(nn <= 16 ? 0 : (1u << (nn - 16)) - 1);
        for (k = 0; k < kc; k++, src += lds, dst += NR) {
            _mm512_storeu_ps(dst, _mm512_maskz_loadu_ps(m0, src));
            _mm512_storeu_ps(dst + 16, _mm512_maskz_loadu_ps(m1, src + 16));
        }
    }
}

/* Packs rows [0, mc) x columns [0, kext) of A (row stride lda) tile by tile: the MR rows of
 * tile t go to dst[t*MR*kext + k*MR + i] (rows past mc are neither written nor read), so the
 * k loop of a tile broadcasts from one contiguous stream instead of MR rows. */
static void pack_a(int64_t mc, int64_t kext, const float *a, int64_t lda, float *dst)
{
    int64_t t, i, k;
    for (t = 0; t * MR < mc; t++) {
        float *d = dst + t * MR * kext;
        for (i = 0; i < MR && t * MR + i < mc; i++) {
            const float *src = a + (t * MR + i) * lda;
            for (k = 0; k < kext; k++) d[k * MR + i] = src[k];
        }
    }
}

void igq__f32_gemm_12x32__avx512(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                                const float *B, const float *bias, float *C, int64_t ldc)
{
    float         bpack[KC * NR] __attribute__((aligned(64)));
    const int     packb = M >= PACK_MIN_M;
    const int64_t kcb   = packb ? KC : KC_DIRECT;
    int64_t       m0, i;
    float        *apack = NULL;

    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (i = 0; i < M; i++) {
            float  *c = C + i * ldc;
            int64_t n;
            for (n = 0; n < N; n++) c[n] = bias != NULL ? bias[n] : 0.0f;
        }
        return;
    }
    if (packb && N >= PACK_A_MIN_N) {
        /* Packed A (panel-outer order only, so once per row block): all of K of the first,
         * largest row block. No memory: A is read in place (same results either way). */
        const int64_t rows = ((M < MC ? M : MC) + MR - 1) / MR * MR;
        if ((M < MC ? M : MC) * K * (int64_t)sizeof(float) <= A_L2_BYTES)
            apack = (float *)igq__malloc((size_t)(rows * K) * sizeof(float));
    }
    for (m0 = 0; m0 < M; m0 += MC) {
        const int64_t mc = M - m0 < MC ? M - m0 : MC;
        /* Packed B: k blocks inside column panels when this block's rows of A (all of K) fit
         * in L2 (each C tile then stays in L1 across its k blocks); else the GotoBLAS order,
         * k blocks outside, so only the MC x KC block of A needs to stay in L2. B read in
         * place: k blocks outside, so the rows of B are swept left to right. */
        const int     nfirst = packb && mc * K * (int64_t)sizeof(float) <= A_L2_BYTES;
        const int64_t n_outer = nfirst ? N : K, s_outer = nfirst ? NR : kcb;
        const int64_t n_inner = nfirst ? K : N, s_inner = nfirst ? kcb : NR;
        int64_t       outer, inner;
        const int     pa = apack != NULL && nfirst;
        if (pa) pack_a(mc, K, A + m0 * lda, lda, apack);
        for (outer = 0; outer < n_outer; outer += s_outer)
            for (inner = 0; inner < n_inner; inner += s_inner) {
                const int64_t   k0    = nfirst ? inner : outer, n0 = nfirst ? outer : inner;
                const int64_t   kc    = K - k0 < kcb ? K - k0 : kcb;
                const int64_t   nn    = N - n0 < NR ? N - n0 : NR;
                const int       two   = nn > 16;
                const int64_t   nlast = two ? nn - 16 : nn;
                const __mmask16 mlast = (__mmask16)(nlast == 16 ? 0xffff : (1u << nlast) - 1);
                const float    *bp    = B + k0 * N + n0;
                int64_t         ldb   = N;
                if (packb) {
                    pack_panel(kc, nn, bp, N, bpack);
                    bp  = bpack;
                    ldb = NR;
                }
                /* The next packed panel in loop order (none after the last one of this
                 * row block) is prefetched into L2 by the row tiles, a slice of its rows
                 * each, spread over their k loops: copying a panel otherwise waits for B
                 * (rows N floats apart, usually in L3), ~15% of the time at M = 197. */
                int64_t nk0 = -1, nn0 = 0, nkc = 0;
                const int64_t ntiles = (mc + MR - 1) / MR;
                if (packb) {
                    if (nfirst) {
                        nk0 = k0 + kc < K ? k0 + kc : n0 + NR < N ? 0 : -1;
                        nn0 = k0 + kc < K ? n0 : n0 + NR;
                    } else {
                        nk0 = n0 + NR < N ? k0 : k0 + kc < K ? k0 + kc : -1;
                        nn0 = n0 + NR < N ? n0 + NR : 0;
                    }
                    if (nk0 >= 0) nkc = K - nk0 < kcb ? K - nk0 : kcb;
                }
                for (i = 0; i < mc; i += MR) {
                    const int     mr = mc - i < MR ? (int)(mc - i) : MR;
                    const int64_t t = i / MR, r0 = t * nkc / ntiles, r1 = (t + 1) * nkc / ntiles;
                    float        *c = C + (m0 + i) * ldc + n0;
                    const float  *init;
                    int64_t       ldi;
                    if (k0 == 0) {
                        init = bias != NULL ? bias + n0 : NULL;
                        ldi  = 0;
                    } else {
                        init = c;
                        ldi  = ldc;
                    }
                    tile_any(mr, two, pa, kc,
                             pa ? apack + t * MR * K + k0 * MR : A + (m0 + i) * lda + k0, lda,
                             bp, ldb, c, ldc, init, ldi, mlast,
                             nk0 >= 0 ? B + (nk0 + r0) * N + nn0 : NULL, N, r1 - r0);
                }
            }
    }
    igq__free(apack);
}

#else
typedef int igq_f32_gemm_avx512_empty; /* ISO C forbids an empty translation unit */
#endif
