/* fp32 GEMM, AVX2 + FMA (built with -mavx2 -mfma; reached only through the dispatch table).
 *
 * Same blocking as the AVX-512 kernel with a 6 x 16 register tile (12 ymm accumulators,
 * 2 B vectors, 1 broadcast = 15 of the 16 ymm registers):
 *   for each block of MC rows / KC values of k / panel of NR = 16 columns:
 *     copy B[k0:k0+KC][n0:n0+16] into a KC x 16 stack buffer (16 KiB), zero-padded on the
 *     right for an N tail so the k loop never needs a masked load, then run every 6-row tile.
 * The accumulators start from bias (first k block) or C (later k blocks), so each output is
 * the one fmaf chain of kernels.h. N tails store with vmaskmovps. The row tiles prefetch the
 * next panel into L2 while they run (one row every 4 k steps). Small M (< 48) reads B in
 * place (stride N, masked loads for the tail) in 64-deep k blocks, as in the AVX-512 kernel. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

#define MR 6
#define NR 16
#define KC 256        /* k block: a packed B panel is KC x NR floats = 16 KiB of stack */
#define MC 480        /* row block: the A block MC x KC (480 KiB) stays in L2 */
#define PACK_MIN_M 48 /* pack B only when at least this many rows share a panel */
#define KC_DIRECT 64  /* k block when B is read in place */

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Tail modes of tile(): which accesses to the last 8-column vector are masked. */
#define FULL 0    /* none: all NR' columns exist */
#define TAIL_C 1  /* C / bias loads and C stores (B is a zero-padded packed panel) */
#define TAIL_BC 2 /* C / bias and B (B read in place) */

/* One mr x NR' tile (NR' = 8 or 16 columns: two = NR' > 8). mask selects the existing
 * columns of the last vector. init: row i starts from init + i*ldi, or 0 when NULL.
 * mr, two and mode are compile-time constants at every call. */
ALWAYS_INLINE void tile(const int mr, const int two, const int mode, int64_t kc, const float *a,
                        int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                        const float *init, int64_t ldi, __m256i mask, const float *pf,
                        int64_t pf_ld, int64_t pf_n)
{
    __m256       z = _mm256_setzero_ps();
    __m256       c0a = z, c0b = z, c1a = z, c1b = z, c2a = z, c2b = z;
    __m256       c3a = z, c3b = z, c4a = z, c4b = z, c5a = z, c5b = z;
    const float *a0 = a, *a1 = a, *a2 = a, *a3 = a, *a4 = a, *a5 = a;
    int64_t      k;

#define ROW_PTR(i) if (mr > i) a##i = a + (i) * lda;
    ROW_PTR(1) ROW_PTR(2) ROW_PTR(3) ROW_PTR(4) ROW_PTR(5)
#undef ROW_PTR

/* Load / store of the last vector of a row at p (the first when !two). */
#define LOAD_LAST(p, m) ((m) != FULL ? _mm256_maskload_ps((p), mask) : _mm256_loadu_ps(p))
#define STORE_LAST(p, v) \
    ((mode) != FULL ? _mm256_maskstore_ps((p), mask, (v)) : _mm256_storeu_ps((p), (v)))

    if (init != NULL) {
#define ROW_INIT(i)                                                                  \
        if (mr > i) {                                                                \
            const float *p = init + (i) * ldi;                                       \
            if (two) {                                                               \
                c##i##a = _mm256_loadu_ps(p);                                        \
                c##i##b = LOAD_LAST(p + 8, mode);                                    \
            } else {                                                                 \
                c##i##a = LOAD_LAST(p, mode);                                        \
            }                                                                        \
        }
        ROW_INIT(0) ROW_INIT(1) ROW_INIT(2) ROW_INIT(3) ROW_INIT(4) ROW_INIT(5)
#undef ROW_INIT
    }

    for (k = 0; k < kc; k++) {
        /* One row (16 floats, one or two lines) of the next B panel every 4 k steps. */
        if ((k & 3) == 0 && pf_n > 0) {
            _mm_prefetch((const char *)pf, _MM_HINT_T1);
            _mm_prefetch((const char *)(pf + 15), _MM_HINT_T1);
            pf += pf_ld;
            pf_n--;
        }
        {
        const __m256 b0 = two ? _mm256_loadu_ps(b) : LOAD_LAST(b, mode == TAIL_BC ? 1 : FULL);
        const __m256 b1 = two ? LOAD_LAST(b + 8, mode == TAIL_BC ? 1 : FULL) : z;
#define ROW_FMA(i)                                                                   \
        if (mr > i) {                                                                \
            const __m256 av = _mm256_broadcast_ss(a##i + k);                         \
            c##i##a = _mm256_fmadd_ps(av, b0, c##i##a);                              \
            if (two) c##i##b = _mm256_fmadd_ps(av, b1, c##i##b);                     \
        }
        ROW_FMA(0) ROW_FMA(1) ROW_FMA(2) ROW_FMA(3) ROW_FMA(4) ROW_FMA(5)
#undef ROW_FMA
        }
        b += ldb;
    }

#define ROW_STORE(i)                                                                 \
    if (mr > i) {                                                                    \
        float *p = c + (i) * ldc;                                                    \
        if (two) {                                                                   \
            _mm256_storeu_ps(p, c##i##a);                                            \
            STORE_LAST(p + 8, c##i##b);                                              \
        } else {                                                                     \
            STORE_LAST(p, c##i##a);                                                  \
        }                                                                            \
    }
    ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
#undef ROW_STORE
#undef LOAD_LAST
#undef STORE_LAST
}

/* Instantiates tile() for the runtime row count (1..MR), width and tail mode. */
static void tile_any(int mr, int two, int mode, int64_t kc, const float *a, int64_t lda,
                     const float *b, int64_t ldb, float *c, int64_t ldc, const float *init,
                     int64_t ldi, __m256i mask, const float *pf, int64_t pf_ld, int64_t pf_n)
{
#define ARGS kc, a, lda, b, ldb, c, ldc, init, ldi, mask, pf, pf_ld, pf_n
#define CASE(r)                                                                      \
    case r:                                                                          \
        if (mode == FULL) {                                                          \
            if (two) tile(r, 1, FULL, ARGS);                                         \
            else tile(r, 0, FULL, ARGS);                                             \
        } else if (mode == TAIL_C) {                                                 \
            if (two) tile(r, 1, TAIL_C, ARGS);                                       \
            else tile(r, 0, TAIL_C, ARGS);                                           \
        } else {                                                                     \
            if (two) tile(r, 1, TAIL_BC, ARGS);                                      \
            else tile(r, 0, TAIL_BC, ARGS);                                          \
        }                                                                            \
        break;
    switch (mr) {
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
    default: break;
    }
#undef CASE
#undef ARGS
}

/* dst[k][0:NR] = src[k*lds + 0:nn], zero beyond nn, for k < kc. */
static void pack_panel(int64_t kc, int64_t nn, const float *src, int64_t lds, float *dst)
{
    int64_t k;
    if (nn == NR) {
        for (k = 0; k < kc; k++, src += lds, dst += NR) {
            _mm256_storeu_ps(dst, _mm256_loadu_ps(src));
            _mm256_storeu_ps(dst + 8, _mm256_loadu_ps(src + 8));
        }
    } else {
        for (k = 0; k < kc; k++, src += lds, dst += NR) {
            int64_t n;
            for (n = 0; n < nn; n++) dst[n] = src[n];
            for (; n < NR; n++) dst[n] = 0.0f;
        }
    }
}

void igq__f32_gemm_6x16__avx2(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                             const float *B, const float *bias, float *C, int64_t ldc)
{
    float         bpack[KC * NR] __attribute__((aligned(64)));
    const int     packb = M >= PACK_MIN_M;
    const int64_t kcb   = packb ? KC : KC_DIRECT;
    int64_t       m0, k0, n0, i;

    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (i = 0; i < M; i++) {
            float  *c = C + i * ldc;
            int64_t n;
            for (n = 0; n < N; n++) c[n] = bias != NULL ? bias[n] : 0.0f;
        }
        return;
    }
    for (m0 = 0; m0 < M; m0 += MC) {
        const int64_t mc = M - m0 < MC ? M - m0 : MC;
        for (k0 = 0; k0 < K; k0 += kcb) {
            const int64_t kc = K - k0 < kcb ? K - k0 : kcb;
            for (n0 = 0; n0 < N; n0 += NR) {
                const int64_t nn    = N - n0 < NR ? N - n0 : NR;
                const int     two   = nn > 8;
                const int64_t nlast = two ? nn - 8 : nn;
                const __m256i mask  = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nlast),
                                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
                const int     mode  = nlast == 8 ? FULL : packb ? TAIL_C : TAIL_BC;
                const float  *bp    = B + k0 * N + n0;
                int64_t       ldb   = N;
                if (packb) {
                    pack_panel(kc, nn, bp, N, bpack);
                    bp  = bpack;
                    ldb = NR;
                }
                /* The next packed panel (same k block, next columns; else the next k
                 * block's first panel) is prefetched into L2 by the row tiles, a slice of
                 * its rows each, so its copy does not wait for B (see the AVX-512 kernel). */
                const int64_t nk0    = !packb ? -1 : n0 + NR < N ? k0 : k0 + kc < K ? k0 + kc : -1;
                const int64_t nn0    = n0 + NR < N ? n0 + NR : 0;
                const int64_t nkc    = nk0 < 0 ? 0 : K - nk0 < kcb ? K - nk0 : kcb;
                const int64_t ntiles = (mc + MR - 1) / MR;
                for (i = 0; i < mc; i += MR) {
                    const int     mr = mc - i < MR ? (int)(mc - i) : MR;
                    const int64_t t = i / MR, r0 = t * nkc / ntiles, r1 = (t + 1) * nkc / ntiles;
                    float        *c  = C + (m0 + i) * ldc + n0;
                    const float  *init;
                    int64_t       ldi;
                    if (k0 == 0) {
                        init = bias != NULL ? bias + n0 : NULL;
                        ldi  = 0;
                    } else {
                        init = c;
                        ldi  = ldc;
                    }
                    tile_any(mr, two, mode, kc, A + (m0 + i) * lda + k0, lda, bp, ldb, c, ldc,
                             init, ldi, mask, nk0 >= 0 ? B + (nk0 + r0) * N + nn0 : NULL, N,
                             r1 - r0);
                }
            }
        }
    }
}

#else
typedef int igq_f32_gemm_avx2_empty; /* ISO C forbids an empty translation unit */
#endif
