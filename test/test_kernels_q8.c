/* Integer GEMM kernels (u8 activations x qs8 / qs4 packed weights -> int32): every ISA level
 * against a plain triple loop over the unpacked weights, bit for bit.
 *
 * The expected value of every case is computed here from W itself, not from the packed bytes:
 *   C[m][n] = sum_{k0 <= k < k1} A[m][k] * W[n][perm[kp]],  kp = kperm ? kperm[k] : k
 * (perm = the pack's K permutation, kperm = the GEMM's), in int64, then checked to fit int32.
 * So the scalar level (the reference kernel), the packing and every SIMD level are all held to
 * the same spec. Each level test forces its level with igq__dispatch_force() and calls the
 * table's qs8/qs4 entries; levels the CPU cannot run are skipped (cmocka skip()) and counted.
 * Random inputs come from tu_rng with a per-case seed; a failure prints the case, its seed and
 * the first mismatch (m, n, got, expected). Columns of C between N and ldc and rows' padding
 * hold a sentinel that must survive. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "kernels/dispatch.h"
#include "kernels/qs8_layout.h"
#include "kernels/qs8_scalar.h"
#include "support/testutil.h"

#define SENTINEL ((int32_t)0x7eadbeef)
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static igq_isa_level g_start;

static igq_isa_level g_level_values[IGQ_ISA_COUNT] = { /* not const: cmocka states are void * */
    IGQ_ISA_SCALAR, IGQ_ISA_AVX2, IGQ_ISA_AVXVNNI, IGQ_ISA_AVX512VNNI};

/* ---- operands ---------------------------------------------------------------------------- */

enum { A_FULL = 0, A_4BIT = 1, A_7BIT = 2 }; /* activation ranges 0..255, 0..15, 0..127 */

typedef struct qcase {
    int      bits;                  /* 8 or 4 (weights) */
    int64_t  M, N, K, k0, k1, lda, ldc;
    uint64_t seed;
    uint8_t *A;                     /* exact size: (M - 1) lda + k1 */
    int8_t  *W;                     /* [N][K] */
    int32_t *perm, *kperm;          /* NULL or permutations of 0..K-1 */
    void    *packed;
    int32_t *rowsum;
    int32_t *want;                  /* ldc layout */
} qcase;

static void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);
    assert_non_null(p);
    return p;
}

static int64_t a_size(const qcase *q) { return q->M > 0 ? (q->M - 1) * q->lda + q->k1 : 0; }
static int64_t c_size(const qcase *q) { return q->M > 0 ? (q->M - 1) * q->ldc + q->N : 0; }

static int32_t *random_perm(tu_rng *r, int64_t K)
{
    int32_t *p = (int32_t *)xmalloc((size_t)K * sizeof(int32_t));
    int64_t  i;
    for (i = 0; i < K; i++) p[i] = (int32_t)i;
    for (i = K - 1; i > 0; i--) {
        const int64_t j = (int64_t)(tu_rng_next(r) % (uint64_t)(i + 1));
        const int32_t t = p[i];
        p[i] = p[j], p[j] = t;
    }
    return p;
}

/* Expected C from W (see the file comment). */
static void compute_want(qcase *q)
{
    const int64_t M = q->M, N = q->N, K = q->K;
    int64_t      *acc = (int64_t *)xmalloc((size_t)(N > 0 ? N : 1) * sizeof(int64_t));
    int32_t      *wt  = (int32_t *)xmalloc((size_t)(K * N > 0 ? K * N : 1) * sizeof(int32_t));
    int64_t       m, n, k;
    for (k = 0; k < K; k++) /* wt[j][n] = packed logical weight Wp[n][j] */
        for (n = 0; n < N; n++) wt[k * N + n] = q->W[n * K + (q->perm ? q->perm[k] : k)];
    q->want = (int32_t *)xmalloc((size_t)(c_size(q) > 0 ? c_size(q) : 1) * sizeof(int32_t));
    for (m = 0; m < M; m++) {
        for (n = 0; n < N; n++) acc[n] = 0;
        for (k = q->k0; k < q->k1; k++) {
            const int64_t  a   = q->A[m * q->lda + k];
            const int32_t *row = wt + (q->kperm ? q->kperm[k] : k) * N;
            for (n = 0; n < N; n++) acc[n] += a * row[n];
        }
        for (n = 0; n < N; n++) {
            assert_true(acc[n] >= INT32_MIN && acc[n] <= INT32_MAX);
            q->want[m * q->ldc + n] = (int32_t)acc[n];
        }
    }
    free(acc);
    free(wt);
}

static void fill_a(tu_rng *r, uint8_t *a, int64_t n, int arange)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        const uint64_t v = tu_rng_next(r);
        a[i] = (uint8_t)(arange == A_4BIT ? v & 15 : arange == A_7BIT ? v & 127 : v & 255);
    }
}

static void fill_w(tu_rng *r, int8_t *w, int64_t n, int bits)
{
    int64_t i;
    for (i = 0; i < n; i++)
        w[i] = (int8_t)(bits == 4 ? (int)(tu_rng_next(r) % 16) - 8 : (int)(tu_rng_next(r) % 256) - 128);
}

/* Allocates and fills a case. use_perm / use_kperm: random permutations for the pack / GEMM.
 * The packing uses the active table's entry (the layout is the same at every level). */
static void case_init(qcase *q, int bits, int64_t M, int64_t N, int64_t K, int64_t k0,
                      int64_t k1, int64_t pad_a, int64_t pad_c, uint64_t seed, int arange,
                      int use_perm, int use_kperm)
{
    tu_rng r;
    memset(q, 0, sizeof *q);
    q->bits = bits, q->M = M, q->N = N, q->K = K, q->k0 = k0, q->k1 = k1;
    q->lda = k1 + pad_a, q->ldc = N + pad_c, q->seed = seed;
    tu_rng_seed(&r, seed);
    q->A = (uint8_t *)xmalloc((size_t)a_size(q));
    fill_a(&r, q->A, a_size(q), arange);
    q->W = (int8_t *)xmalloc((size_t)(N * K));
    fill_w(&r, q->W, N * K, bits);
    if (use_perm && K > 0) q->perm = random_perm(&r, K);
    if (use_kperm && K > 0) q->kperm = random_perm(&r, K);
}

/* Packs (after the caller has possibly overwritten A / W) and computes the expected C. */
static void case_pack(qcase *q)
{
    const igq_kernel_table *t = igq__kernels();
    q->packed = xmalloc(igq__qs8_packed_size(q->N, q->K, q->bits));
    q->rowsum = (int32_t *)xmalloc((size_t)(q->N > 0 ? q->N : 1) * sizeof(int32_t));
    (q->bits == 4 ? t->qs4_pack : t->qs8_pack)(q->N, q->K, q->W, q->perm, q->packed, q->rowsum);
    compute_want(q);
}

static void case_free(qcase *q)
{
    free(q->A);
    free(q->W);
    free(q->perm);
    free(q->kperm);
    free(q->packed);
    free(q->rowsum);
    free(q->want);
}

static void describe(const qcase *q, const char *what)
{
    fprintf(stderr,
            "  [%s] isa %s, qs%d M %lld N %lld K %lld k [%lld, %lld) lda %lld ldc %lld perm %s "
            "kperm %s seed %llu\n",
            what, igq__isa_name(igq__isa_active()), q->bits, (long long)q->M, (long long)q->N,
            (long long)q->K, (long long)q->k0, (long long)q->k1, (long long)q->lda,
            (long long)q->ldc, q->perm ? "yes" : "no", q->kperm ? "yes" : "no",
            (unsigned long long)q->seed);
}

/* Runs the active level's GEMM into a sentinel-filled C and checks it; 1 if all is well. */
static int run_check(const qcase *q, const char *what)
{
    const igq_kernel_table *t = igq__kernels();
    const int64_t           cs = c_size(q);
    int32_t                *c  = (int32_t *)xmalloc((size_t)(cs > 0 ? cs : 1) * sizeof(int32_t));
    int64_t                 i, m, n;
    int                     ok = 1;
    for (i = 0; i < cs; i++) c[i] = SENTINEL;
    (q->bits == 4 ? t->qs4_gemm : t->qs8_gemm)(q->M, q->N, q->K, q->k0, q->k1, q->A, q->lda,
                                             q->packed, q->kperm, c, q->ldc);
    for (m = 0; m < q->M && ok; m++)
        for (n = 0; n < q->ldc && m * q->ldc + n < cs; n++) {
            const int32_t got = c[m * q->ldc + n];
            if (n >= q->N) {
                if (got != SENTINEL) {
                    describe(q, what);
                    fprintf(stderr, "  padding C[%lld][%lld] overwritten: %d\n", (long long)m,
                            (long long)n, got);
                    ok = 0;
                    break;
                }
            } else if (got != q->want[m * q->ldc + n]) {
                describe(q, what);
                fprintf(stderr, "  first mismatch: m %lld n %lld got %d expected %d\n",
                        (long long)m, (long long)n, got, q->want[m * q->ldc + n]);
                ok = 0;
                break;
            }
        }
    free(c);
    return ok;
}

/* One full case: init, pack, run, check, free. */
static void one_case(int bits, int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                     int64_t pad_a, int64_t pad_c, uint64_t seed, int arange, int use_perm,
                     int use_kperm, const char *what)
{
    qcase q;
    int   ok;
    case_init(&q, bits, M, N, K, k0, k1, pad_a, pad_c, seed, arange, use_perm, use_kperm);
    case_pack(&q);
    ok = run_check(&q, what);
    case_free(&q);
    assert_true(ok);
}

/* ---- per-level fixture ------------------------------------------------------------------- */

static igq_isa_level enter_level(void **state)
{
    const igq_isa_level l = *(const igq_isa_level *)*state;
    if (!igq__cpu_supports(l) || igq__isa_clamp(l) != l) {
        fprintf(stderr, "  %s not supported by this CPU: skipped\n", igq__isa_name(l));
        skip();
    }
    igq__dispatch_force(l);
    assert_int_equal(igq__isa_active(), l);
    return l;
}

static int restore_level(void **state)
{
    (void)state;
    igq__dispatch_force(g_start);
    return 0;
}

/* Group setup: the level the once-init chose (IGQ_ISA honoured), restored after every level
 * test. */
static int record_start_level(void **state)
{
    (void)state;
    g_start = igq__isa_active();
    fprintf(stderr, "  detected %s, active %s\n", igq__isa_name(igq__isa_detected()),
            igq__isa_name(g_start));
    return 0;
}

/* ---- layout, packing, rowsum (level-independent) ----------------------------------------- */

/* pos() is an involution of 0..63 and swaps base-4 digits 1 and 2. */
static void test_pos(void **state)
{
    int c, seen[64] = {0};
    (void)state;
    for (c = 0; c < 64; c++) {
        const int p = igq__qs8_pos(c);
        assert_true(p >= 0 && p < 64);
        seen[p]++;
        assert_int_equal(igq__qs8_pos(p), c);
        assert_int_equal(p, 16 * ((c >> 2) & 3) + 4 * (c >> 4) + (c & 3));
    }
    for (c = 0; c < 64; c++) assert_int_equal(seen[c], 1);
    assert_int_equal(igq__qs8_packed_size(0, 10, 8), 0);
    assert_int_equal(igq__qs8_packed_size(1, 10, 8), 640);
    assert_int_equal(igq__qs8_packed_size(65, 10, 8), 1280);
    assert_int_equal(igq__qs8_packed_size(65, 10, 4), 640);
}

/* Every packed weight reads back (accessor = the layout definition), padding columns are zero,
 * rowsum = sum over the packed rows, for both widths, with and without a K permutation. The
 * raw nibble order is checked on bytes: low nibble = position i, high = position i + 32. */
static const int64_t g_pack_shapes[][2] = {{1, 1},    {63, 5},   {64, 7},
                                           {65, 3},   {130, 37}, {17, 0}};

static void test_pack_roundtrip(void **state)
{
    int s, bits, use_perm;
    (void)state;
    for (s = 0; s < COUNT(g_pack_shapes); s++)
        for (bits = 4; bits <= 8; bits += 4)
            for (use_perm = 0; use_perm < 2; use_perm++) {
                const int64_t N = g_pack_shapes[s][0], K = g_pack_shapes[s][1];
                qcase         q;
                int64_t       n, k, np = (N + 63) / 64 * 64;
                case_init(&q, bits, 1, N, K, 0, K, 0, 0, 500 + (uint64_t)(s * 4 + bits + use_perm),
                          A_FULL, use_perm, 0);
                case_pack(&q);
                for (n = 0; n < np; n++)
                    for (k = 0; k < K; k++) {
                        const int want = n < N ? q.W[n * K + (q.perm ? q.perm[k] : k)] : 0;
                        const int got  = bits == 8 ? igq__qs8_w(q.packed, K, n, k)
                                                   : igq__qs4_w(q.packed, K, n, k);
                        if (got != want) {
                            describe(&q, "pack round trip");
                            fprintf(stderr, "  W[%lld][%lld] reads %d, expected %d\n",
                                    (long long)n, (long long)k, got, want);
                            fail();
                        }
                    }
                for (n = 0; n < N; n++) {
                    int64_t sum = 0;
                    for (k = 0; k < K; k++) sum += q.W[n * K + k];
                    assert_int_equal(q.rowsum[n], sum);
                }
                if (bits == 4 && K > 0 && N > 40) { /* raw bytes: columns 0 and 16 of row 0 */
                    const uint8_t b0 = ((const uint8_t *)q.packed)[igq__qs8_pos(0) & 31];
                    const int     p16 = igq__qs8_pos(16); /* = 4: a low nibble */
                    const int     p2  = igq__qs8_pos(40); /* 40 = 32+8 -> 16*2+4*2 = 40: high */
                    const int64_t c0  = q.perm ? q.perm[0] : 0;
                    assert_int_equal(p16, 4);
                    assert_int_equal(p2, 40);
                    assert_int_equal(b0 & 15, (unsigned)q.W[0 * K + c0] & 15);
                    assert_int_equal(((const uint8_t *)q.packed)[4] & 15,
                                     (unsigned)q.W[16 * K + c0] & 15);
                    assert_int_equal(((const uint8_t *)q.packed)[8] >> 4,
                                     (unsigned)q.W[40 * K + c0] & 15);
                }
                case_free(&q);
            }
}

/* Every level's table packs the bytes of the plain-C packer (the layout is shared). */
static void test_pack_levels(void **state)
{
    const igq_kernel_table *t;
    int                     s, bits, use_perm;
    (void)enter_level(state);
    t = igq__kernels();
    for (s = 0; s < COUNT(g_pack_shapes); s++)
        for (bits = 4; bits <= 8; bits += 4)
            for (use_perm = 0; use_perm < 2; use_perm++) {
                const int64_t N = g_pack_shapes[s][0], K = g_pack_shapes[s][1];
                const size_t  size = igq__qs8_packed_size(N, K, bits);
                uint8_t      *mine = (uint8_t *)xmalloc(size), *want = (uint8_t *)xmalloc(size);
                int32_t      *rs_mine = (int32_t *)xmalloc((size_t)N * sizeof(int32_t));
                int32_t      *rs_want = (int32_t *)xmalloc((size_t)N * sizeof(int32_t));
                qcase         q;
                case_init(&q, bits, 1, N, K, 0, K, 0, 0, 500 + (uint64_t)(s * 4 + bits + use_perm),
                          A_FULL, use_perm, 0);
                memset(mine, 0xa5, size);
                (bits == 4 ? igq__qs4_pack__scalar : igq__qs8_pack__scalar)(N, K, q.W, q.perm, want,
                                                                            rs_want);
                (bits == 4 ? t->qs4_pack : t->qs8_pack)(N, K, q.W, q.perm, mine, rs_mine);
                if (size > 0) assert_memory_equal(mine, want, size);
                if (N > 0) assert_memory_equal(rs_mine, rs_want, (size_t)N * sizeof(int32_t));
                free(mine), free(want), free(rs_mine), free(rs_want);
                case_free(&q);
            }
}

/* int4: values -8..7 survive pack -> unpack; out-of-range values keep their low 4 bits, and
 * rowsum follows the stored values. */
static void test_int4_nibbles(void **state)
{
    int8_t  w[2 * 16], wrapped[2 * 16];
    int32_t rs[2];
    uint8_t packed[16 * 32];
    int64_t n, k;
    (void)state;
    for (k = 0; k < 16; k++) {
        w[k]      = (int8_t)(k - 8); /* row 0: -8..7 */
        w[16 + k] = (int8_t)(k * 17 - 128); /* row 1: arbitrary int8 */
    }
    igq__qs4_pack__scalar(2, 16, w, NULL, packed, rs);
    for (n = 0; n < 2; n++)
        for (k = 0; k < 16; k++) {
            const int v = w[n * 16 + k], want = ((v & 15) ^ 8) - 8;
            wrapped[n * 16 + k] = (int8_t)want;
            assert_int_equal(igq__qs4_w(packed, 16, n, k), want);
        }
    assert_int_equal(rs[0], -8);
    {
        int sum = 0;
        for (k = 0; k < 16; k++) sum += wrapped[16 + k];
        assert_int_equal(rs[1], sum);
    }
}

/* ---- shape sweep ------------------------------------------------------------------------- */

static const int64_t g_ns[] = {1,  2,  7,  8,  9,  15,  16,  17,  24,  31,  32, 33,
                               47, 48, 49, 63, 64, 65, 100, 127, 128, 129, 200};
static const int64_t g_ks[] = {0,  1,  2,  3,  4,   5,   6,   7,   8,   9,   15,  16,
                               17, 31, 32, 33, 63,  64,  65,  100, 127, 128, 129, 191,
                               192, 193, 383, 384, 385, 386, 387, 390, 769};

static int in_list(int64_t v, const int64_t *list, int n)
{
    int i;
    for (i = 0; i < n; i++)
        if (list[i] == v) return 1;
    return 0;
}

/* M = 1..7 (1..MR+1): every N x K with K <= 129 (all tails of 4-quads, 2-pairs, 8/16/64
 * columns), deeper K (k blocks of 192 / 384, partial last quads) on fewer N. */
static int in_sweep_small(int64_t N, int64_t K)
{
    static const int64_t nbig[] = {1, 17, 64, 65, 129};
    return K <= 129 || in_list(N, nbig, COUNT(nbig));
}

static void test_sweep(void **state)
{
    int      im, in, ik, bits, cases = 0;
    uint64_t seed = 1000;
    (void)enter_level(state);
    for (bits = 8; bits >= 4; bits -= 4)
        for (im = 1; im <= 7; im++)
            for (in = 0; in < COUNT(g_ns); in++)
                for (ik = 0; ik < COUNT(g_ks); ik++) {
                    const int64_t M = im, N = g_ns[in], K = g_ks[ik];
                    seed++;
                    if (!in_sweep_small(N, K)) continue;
                    /* every other case strided; every 3rd a K permutation in the GEMM, every
                     * 5th in the pack; activation ranges rotate (u8, 4-bit, 7-bit) */
                    one_case(bits, M, N, K, 0, K, (seed & 1) ? 1 + (int64_t)(seed % 5) : 0,
                             (seed & 1) ? 1 + (int64_t)(seed % 7) : 0, seed, (int)(seed % 3),
                             seed % 5 == 0, seed % 3 == 0, "sweep");
                    cases++;
                }
    fprintf(stderr, "  %d cases\n", cases);
}

/* M = 17, 50, 197 (several row tiles and a partial one: 197 = 32 x 6 + 5). */
static void test_sweep_rows(void **state)
{
    static const int64_t ms[] = {17, 50, 197};
    static const int64_t ns[] = {1, 17, 64, 65, 130, 384};
    static const int64_t ks[] = {1, 5, 64, 100, 385, 768};
    int                  im, in, ik, bits, cases = 0;
    uint64_t             seed = 50000;
    (void)enter_level(state);
    for (bits = 8; bits >= 4; bits -= 4)
        for (im = 0; im < COUNT(ms); im++)
            for (in = 0; in < COUNT(ns); in++)
                for (ik = 0; ik < COUNT(ks); ik++) {
                    const int64_t M = ms[im], N = ns[in], K = ks[ik];
                    seed++;
                    if (M * N * K > 12000000) continue; /* keep the scalar spec loop short */
                    one_case(bits, M, N, K, 0, K, (seed & 1) ? 3 : 0, (seed & 1) ? 5 : 0, seed,
                             (int)(seed % 3), seed % 4 == 0, seed % 2 == 0, "rows");
                    cases++;
                }
    /* MC row blocks (1536 rows) */
    one_case(8, 1600, 70, 50, 0, 50, 2, 1, 77, A_FULL, 0, 1, "row blocks");
    one_case(4, 1600, 70, 50, 0, 50, 0, 0, 78, A_FULL, 1, 0, "row blocks");
    fprintf(stderr, "  %d cases\n", cases + 2);
}

/* ---- k slices, permutations, groups ------------------------------------------------------ */

/* Every k0 (aligned or not to 2 / 4, at block edges) with slice lengths 0..5, 63..65 and to
 * the end; A holds only what the slice may read (exact sizes: ASan catches reads past k1). */
static void test_kslices(void **state)
{
    static const int64_t k0s[]  = {0, 1, 2, 3, 4, 5, 7, 64, 65, 150, 191, 193, 299, 300};
    static const int64_t lens[] = {0, 1, 2, 3, 4, 5, 63, 64, 65, 200};
    const int64_t        K = 300;
    int                  i, j, bits, cases = 0;
    uint64_t             seed = 70000;
    (void)enter_level(state);
    for (bits = 8; bits >= 4; bits -= 4)
        for (i = 0; i < COUNT(k0s); i++)
            for (j = 0; j <= COUNT(lens); j++) {
                const int64_t k0 = k0s[i], k1 = j < COUNT(lens) ? k0 + lens[j] : K;
                if (k1 > K || (j == COUNT(lens) && k0 == K)) continue;
                seed++;
                one_case(bits, 7, 70, K, k0, k1, (int64_t)(seed % 3), 2, seed, (int)(seed % 3),
                         seed % 2 == 0, seed % 3 == 0, "k slice");
                cases++;
            }
    fprintf(stderr, "  %d cases\n", cases);
}

/* IGQ's grouped GEMM both ways: (a) weights packed with the group permutation, slices with
 * kperm = NULL; (b) weights packed once in natural order, the permutation passed as kperm.
 * Both must give the expected slice sums, and the slices must add up to the full product.
 * Groups include empty and 1..3-channel ones (partial quads at both ends). */
static void test_groups(void **state)
{
    static const int64_t sizes[] = {0, 1, 2, 3, 37, 5, 64, 0, 100, 45}; /* sum 257 */
    const int64_t        M = 13, N = 100, K = 257, G = COUNT(sizes);
    int                  bits, way;
    (void)enter_level(state);
    for (bits = 8; bits >= 4; bits -= 4)
        for (way = 0; way < 2; way++) {
            qcase    q;
            int32_t *perm, *sum, *c;
            int64_t  g, off = 0, i;
            case_init(&q, bits, M, N, K, 0, K, 3, 1, 900 + (uint64_t)(bits + way), A_FULL, 1, 0);
            perm = q.perm; /* the group order of this "image" */
            if (way == 1) {
                q.perm  = NULL;
                q.kperm = perm;
            }
            case_pack(&q);
            sum = (int32_t *)calloc((size_t)c_size(&q), sizeof(int32_t));
            c   = (int32_t *)xmalloc((size_t)c_size(&q) * sizeof(int32_t));
            assert_non_null(sum);
            for (g = 0; g < G; g++) {
                const igq_kernel_table *t = igq__kernels();
                qcase                   s = q;
                s.k0 = off, s.k1 = off + sizes[g];
                s.want = NULL;
                compute_want(&s);
                assert_true(run_check(&s, way == 0 ? "group, permuted pack" : "group, kperm"));
                (bits == 4 ? t->qs4_gemm : t->qs8_gemm)(M, N, K, s.k0, s.k1, q.A, q.lda, q.packed,
                                                      q.kperm, c, q.ldc);
                for (i = 0; i < c_size(&q); i++)
                    if (i % q.ldc < N) sum[i] += c[i];
                free(s.want);
                off += sizes[g];
            }
            assert_int_equal(off, K);
            for (i = 0; i < c_size(&q); i++)
                if (i % q.ldc < N) assert_int_equal(sum[i], q.want[i]);
            free(sum);
            free(c);
            case_free(&q);
        }
}

/* ---- extreme values and int32 range ------------------------------------------------------ */

enum { W_MIN, W_MAX, W_ALT, W_RAND };

/* A = a_val everywhere (or random when a_val < 0), W = the extreme of its width. */
static void extreme_case(int bits, int64_t M, int64_t N, int64_t K, int a_val, int wmode,
                         int use_kperm, uint64_t seed, int64_t closed_form)
{
    const int wmin = bits == 4 ? -8 : -128, wmax = bits == 4 ? 7 : 127;
    qcase     q;
    int64_t   i;
    int       ok;
    case_init(&q, bits, M, N, K, 0, K, 1, 2, seed, A_FULL, 0, use_kperm);
    if (a_val >= 0) memset(q.A, a_val, (size_t)a_size(&q));
    for (i = 0; i < N * K; i++)
        if (wmode != W_RAND)
            q.W[i] = (int8_t)(wmode == W_MIN ? wmin : wmode == W_MAX ? wmax : (i % 2 ? wmax : wmin));
    case_pack(&q);
    if (closed_form != INT64_MIN) assert_true(q.want[0] == closed_form);
    ok = run_check(&q, "extreme");
    case_free(&q);
    assert_true(ok);
}

static void test_extreme(void **state)
{
    const int64_t big = IGQ_QS8_MAX_K; /* 255 * 128 * 65793 = 2147483520 <= 2^31 - 1 */
    (void)enter_level(state);
    /* qs8: A = 255 with W = -128 / 127 / alternating, K = 4096 (2 rows tiles, 2 panels) */
    extreme_case(8, 7, 65, 4096, 255, W_MIN, 0, 1, -255LL * 128 * 4096);
    extreme_case(8, 7, 65, 4096, 255, W_MAX, 1, 2, 255LL * 127 * 4096);
    extreme_case(8, 7, 65, 4096, 255, W_ALT, 0, 3, 255LL * -1 * 2048);
    extreme_case(8, 3, 17, 4096, -1, W_MIN, 1, 4, INT64_MIN);
    /* the int32 limit: K = 65793, every product 255 * -128 (and 255 * 127) */
    extreme_case(8, 2, 17, big, 255, W_MIN, 0, 5, -255LL * 128 * big);
    extreme_case(8, 7, 3, big, 255, W_MAX, 1, 6, 255LL * 127 * big);
    /* qs4: -8 / 7, with u8 and 4-bit activations */
    extreme_case(4, 7, 65, 4096, 255, W_MIN, 0, 7, -255LL * 8 * 4096);
    extreme_case(4, 7, 65, 4096, 255, W_MAX, 1, 8, 255LL * 7 * 4096);
    extreme_case(4, 7, 65, 4095, 15, W_ALT, 0, 9, 15LL * -1 * 2047 + 15LL * -8);
    extreme_case(4, 2, 17, big, 255, W_MIN, 1, 10, -255LL * 8 * big);
    /* zeros */
    extreme_case(8, 7, 65, 100, 0, W_MIN, 0, 11, 0);
    extreme_case(4, 7, 65, 100, 0, W_MAX, 1, 12, 0);
}

/* ---- degenerate sizes -------------------------------------------------------------------- */

static void test_degenerate(void **state)
{
    const igq_kernel_table *t;
    uint8_t                 a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int8_t                  w[3 * 2] = {1, -1, 2, -2, 3, -3};
    uint8_t                 packed[64 * 2];
    int32_t                 c[12];
    int                     i, bits;
    (void)enter_level(state);
    t = igq__kernels();
    for (bits = 8; bits >= 4; bits -= 4) {
        const igq_qgemm_fn gemm = bits == 4 ? t->qs4_gemm : t->qs8_gemm;
        (bits == 4 ? t->qs4_pack : t->qs8_pack)(3, 2, w, NULL, packed, NULL);
        for (i = 0; i < 12; i++) c[i] = SENTINEL;
        gemm(0, 3, 2, 0, 2, a, 2, packed, NULL, c, 4); /* M = 0 */
        gemm(3, 0, 2, 0, 2, a, 2, packed, NULL, c, 4); /* N = 0 */
        for (i = 0; i < 12; i++) assert_int_equal(c[i], SENTINEL);
        gemm(3, 3, 2, 1, 1, a, 2, packed, NULL, c, 4); /* empty slice: zeros, padding kept */
        for (i = 0; i < 12; i++) assert_int_equal(c[i], (i % 4) < 3 ? 0 : SENTINEL);
        gemm(3, 3, 0, 0, 0, a, 0, packed, NULL, c, 4); /* K = 0 */
        for (i = 0; i < 12; i++) assert_int_equal(c[i], (i % 4) < 3 ? 0 : SENTINEL);
        gemm(2, 3, 2, 0, 2, a, 2, packed, NULL, c, 4); /* 2x2 by hand */
        assert_int_equal(c[0], 1 * 1 + 2 * -1);
        assert_int_equal(c[1], 1 * 2 + 2 * -2);
        assert_int_equal(c[2], 1 * 3 + 2 * -3);
        assert_int_equal(c[4], 3 * 1 + 4 * -1);
        assert_int_equal(c[3], SENTINEL);
    }
}

/* ---- concurrency ------------------------------------------------------------------------- */

typedef struct thread_job {
    const qcase *q;
    int32_t     *c;
} thread_job;

static void *thread_main(void *arg)
{
    thread_job  *j = (thread_job *)arg;
    const qcase *q = j->q;
    int          r;
    for (r = 0; r < 3; r++)
        igq__qs8_gemm(q->M, q->N, q->K, q->k0, q->k1, q->A, q->lda, q->packed, q->kperm,
                     j->c + r * c_size(q), q->ldc);
    return NULL;
}

/* Concurrent calls (stack scratch only) give the expected bytes. */
static void test_threads(void **state)
{
    qcase      q;
    pthread_t  th[3];
    thread_job jobs[3];
    int        t, r;
    int64_t    m, n;
    (void)state;
    case_init(&q, 8, 97, 200, 300, 0, 300, 0, 0, 555, A_FULL, 0, 1);
    case_pack(&q);
    for (t = 0; t < 3; t++) {
        jobs[t].q = &q;
        jobs[t].c = (int32_t *)xmalloc((size_t)(3 * c_size(&q)) * sizeof(int32_t));
        assert_int_equal(pthread_create(&th[t], NULL, thread_main, &jobs[t]), 0);
    }
    for (t = 0; t < 3; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        for (r = 0; r < 3; r++)
            for (m = 0; m < q.M; m++)
                for (n = 0; n < q.N; n++)
                    assert_int_equal(jobs[t].c[r * c_size(&q) + m * q.ldc + n],
                                     q.want[m * q.ldc + n]);
        free(jobs[t].c);
    }
    case_free(&q);
}

/* ---- grouped GEMM with the fused epilogue ------------------------------------------------ */

/* Random group boundaries 0 = off[0] <= ... <= off[G] = K (some empty when G is large). */
static void random_offsets(tu_rng *r, int64_t K, int32_t G, int32_t *off)
{
    int32_t g;
    off[0] = 0;
    for (g = 1; g < G; g++) off[g] = (int32_t)(tu_rng_next(r) % (uint64_t)(K + 1));
    off[G] = (int32_t)K;
    for (g = 1; g < G; g++) { /* insertion sort */
        int32_t v = off[g], h = g;
        while (h > 1 && off[h - 1] > v) off[h] = off[h - 1], h--;
        off[h] = v;
    }
}

/* The level's qs8_ggemm (where it has one) against the scalar reference, bit for bit; the
 * reference against per-group igq_qgemm_fn + igq_i32_fold_fn of the same level (the same
 * bits by contract: that is the path taken where no fused kernel exists). Shapes: row tails
 * 1..7, 13, 50, 197; column tails around 16/32/64; group lengths with every remainder mod 4,
 * empty groups, one group; kperm or not; extreme operands. */
static void test_ggemm(void **state)
{
    static const int64_t Ms[] = {1, 2, 5, 6, 7, 13, 50, 197};
    static const int64_t Ns[] = {1, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 130};
    static const int64_t Ks[] = {1, 3, 4, 5, 17, 64, 127, 384, 385, 800};
    static const int32_t Gs[] = {1, 2, 3, 8, 13, 70};
    const igq_kernel_table *t;
    tu_rng                  r;
    int                     cases = 0, it;
    (void)enter_level(state);
    t = igq__kernels();
    if (igq__isa_active() == IGQ_ISA_SCALAR) {
        assert_null(t->qs8_ggemm);
        assert_null(t->qs4_ggemm);
    } else {
        assert_non_null(t->qs8_ggemm);
        assert_non_null(t->qs4_ggemm);
    }
    tu_rng_seed(&r, 4242);
    for (it = 0; it < 400; it++) {
        const int     bits = it % 2 ? 4 : 8;
        const int64_t M = Ms[tu_rng_next(&r) % COUNT(Ms)], N = Ns[tu_rng_next(&r) % COUNT(Ns)];
        const int64_t K = Ks[tu_rng_next(&r) % COUNT(Ks)];
        const int32_t G = Gs[tu_rng_next(&r) % COUNT(Gs)];
        const int     extreme = it % 7 == 3, use_kperm = it % 3 != 0;
        const int64_t lda = K + (int64_t)(tu_rng_next(&r) % 5), ldy = N + 3;
        uint8_t      *A  = (uint8_t *)xmalloc((size_t)(M * lda));
        int8_t       *W  = (int8_t *)xmalloc((size_t)(N * K));
        int32_t      *kp = use_kperm ? random_perm(&r, K) : NULL;
        int32_t      *off = (int32_t *)xmalloc((size_t)(G + 1) * sizeof(int32_t));
        float        *gs = (float *)xmalloc((size_t)G * sizeof(float));
        float        *cs = (float *)xmalloc((size_t)N * sizeof(float));
        float        *cb = (float *)xmalloc((size_t)N * sizeof(float));
        float        *want = (float *)xmalloc((size_t)(M * ldy) * sizeof(float));
        float        *got  = (float *)xmalloc((size_t)(M * ldy) * sizeof(float));
        float        *fold = (float *)xmalloc((size_t)(M * ldy) * sizeof(float));
        int32_t      *acc  = (int32_t *)xmalloc((size_t)(M * N) * sizeof(int32_t));
        void         *packed = xmalloc(igq__qs8_packed_size(N, K, bits));
        void         *ws = igq__malloc(igq__qs8_ggemm_ws_size(K, G));
        int64_t       i;
        int32_t       g, last = -1;
        int           first = 1;
        assert_non_null(ws);
        fill_a(&r, A, M * lda, bits == 4 && it % 4 == 1 ? A_4BIT : A_FULL);
        fill_w(&r, W, N * K, bits);
        if (extreme) {
            memset(A, 255, (size_t)(M * lda));
            for (i = 0; i < N * K; i++) W[i] = (int8_t)(bits == 4 ? (i % 3 ? -8 : 7) : (i % 3 ? -128 : 127));
        }
        random_offsets(&r, K, G, off);
        for (g = 0; g < G; g++) gs[g] = (float)(1 + tu_rng_next(&r) % 1000) * (g % 2 ? 1e-5f : 3e-3f);
        for (i = 0; i < N; i++) {
            cs[i] = (float)(1 + tu_rng_next(&r) % 1000) * 1e-3f;
            cb[i] = (float)((int)(tu_rng_next(&r) % 2001) - 1000) * 1e-2f;
        }
        for (i = 0; i < M * ldy; i++) want[i] = got[i] = fold[i] = -7.0f; /* sentinels */
        (bits == 4 ? t->qs4_pack : t->qs8_pack)(N, K, W, NULL, packed, NULL);
        (bits == 4 ? igq__qs4_ggemm__scalar : igq__qs8_ggemm__scalar)(M, N, K, G, off, gs, A, lda, packed,
                                                              kp, cs, cb, want, ldy, NULL);
        /* per group GEMM + fold on this level */
        for (g = 0; g < G; g++)
            if (off[g + 1] > off[g]) last = g;
        for (g = 0; g < G; g++) {
            if (off[g + 1] <= off[g]) continue;
            (bits == 4 ? t->qs4_gemm : t->qs8_gemm)(M, N, K, off[g], off[g + 1], A, lda, packed, kp,
                                                  acc, N);
            t->i32_fold(M, N, gs[g], acc, N, g == last ? cs : NULL, cb, fold, ldy, first);
            first = 0;
        }
        if (last < 0) /* all groups empty: f = 0, y = colbias */
            for (i = 0; i < M * ldy; i++)
                if (i % ldy < N) fold[i] = cb[i % ldy];
        if (memcmp(want, fold, (size_t)(M * ldy) * sizeof(float)) != 0) {
            fprintf(stderr, "  ggemm ref vs gemm+fold: qs%d M %lld N %lld K %lld G %d\n", bits,
                    (long long)M, (long long)N, (long long)K, (int)G);
            fail();
        }
        if (t->qs8_ggemm != NULL) {
            (bits == 4 ? t->qs4_ggemm : t->qs8_ggemm)(M, N, K, G, off, gs, A, lda, packed, kp, cs,
                                                    cb, got, ldy, ws);
            if (memcmp(want, got, (size_t)(M * ldy) * sizeof(float)) != 0) {
                for (i = 0; i < M * ldy; i++)
                    if (memcmp(&want[i], &got[i], sizeof(float)) != 0) break;
                fprintf(stderr, "  ggemm qs%d M %lld N %lld K %lld G %d kperm %d: [%lld][%lld] %.9g vs %.9g\n",
                        bits, (long long)M, (long long)N, (long long)K, (int)G, use_kperm,
                        (long long)(i / ldy), (long long)(i % ldy), want[i], got[i]);
                fail();
            }
        }
        free(A), free(W), free(kp), free(off), free(gs), free(cs), free(cb), free(want), free(got);
        free(fold), free(acc), free(packed);
        igq__free(ws);
        cases++;
    }
    fprintf(stderr, "  %d grouped cases bit-exact (%s)\n", cases,
            t->qs8_ggemm != NULL ? "fused kernel and gemm + fold" : "gemm + fold");
}

/* ---- group column sums (exec qs8_gsum, the zero-point correction) ------------------------ */

/* The level's qs8_gsum against the definition (sums of the logical weights W[n][kperm[j]]
 * over each group's j range, in int64) and against the scalar instantiation: column tails
 * around the 64-column panel, empty groups, one group, qs4 and qs8, extreme weights. */
static void test_gsum(void **state)
{
    static const int64_t Ns[] = {1, 15, 16, 17, 63, 64, 65, 100, 130, 192};
    static const int64_t Ks[] = {1, 3, 4, 5, 17, 64, 127, 384, 1536};
    static const int32_t Gs[] = {1, 2, 3, 8, 13};
    const igq_kernel_table *t;
    tu_rng                  r;
    int                     cases = 0, it;
    (void)enter_level(state);
    t = igq__kernels();
    tu_rng_seed(&r, 777);
    for (it = 0; it < 200; it++) {
        const int     bits = it % 2 ? 4 : 8;
        const int64_t N = Ns[tu_rng_next(&r) % COUNT(Ns)], K = Ks[tu_rng_next(&r) % COUNT(Ks)];
        const int32_t G  = Gs[tu_rng_next(&r) % COUNT(Gs)];
        const int64_t ld = N + 5;
        int8_t       *W  = (int8_t *)xmalloc((size_t)(N * K));
        int32_t      *kp = random_perm(&r, K);
        int32_t      *off = (int32_t *)xmalloc((size_t)(G + 1) * sizeof(int32_t));
        int32_t      *got = (int32_t *)xmalloc((size_t)(G * ld) * sizeof(int32_t));
        int32_t      *ref = (int32_t *)xmalloc((size_t)(G * ld) * sizeof(int32_t));
        void         *packed = xmalloc(igq__qs8_packed_size(N, K, bits));
        int64_t       i, n, j;
        int32_t       g;
        fill_w(&r, W, N * K, bits);
        if (it % 7 == 3)
            for (i = 0; i < N * K; i++) W[i] = (int8_t)(bits == 4 ? (i % 5 ? -8 : 7) : (i % 5 ? -128 : 127));
        random_offsets(&r, K, G, off);
        (bits == 4 ? t->qs4_pack : t->qs8_pack)(N, K, W, NULL, packed, NULL);
        for (i = 0; i < G * ld; i++) got[i] = ref[i] = 0x5a5a5a5a; /* sentinels past N */
        t->exec.qs8_gsum(N, K, bits, packed, kp, G, off, got, ld);
        igq__exec_qs8_gsum__scalar(N, K, bits, packed, kp, G, off, ref, ld);
        assert_memory_equal(got, ref, (size_t)(G * ld) * sizeof(int32_t));
        for (g = 0; g < G; g++)
            for (n = 0; n < ld; n++) {
                int64_t want = 0;
                if (n >= N) {
                    assert_int_equal(got[g * ld + n], 0x5a5a5a5a);
                    continue;
                }
                for (j = off[g]; j < off[g + 1]; j++) want += W[n * K + kp[j]];
                if (got[g * ld + n] != want) {
                    fprintf(stderr, "  gsum qs%d N %lld K %lld G %d: S[%d][%lld] %d, want %lld\n",
                            bits, (long long)N, (long long)K, (int)G, (int)g, (long long)n,
                            (int)got[g * ld + n], (long long)want);
                    fail();
                }
            }
        free(W), free(kp), free(off), free(got), free(ref), free(packed);
        cases++;
    }
    fprintf(stderr, "  %d gsum cases exact\n", cases);
}

/* ---- attention operands packed as weights (qs8_pack_keys / qs8_pack_values) ------------- */

/* The level's packers against the scalar reference byte for byte (padding included), and the
 * reference against the definition through igq__qs8_w: token counts around the 64-column
 * panel, head dims with every remainder mod 4 (keys read up to 3 bytes past hd), offsets of
 * 2..8-bit codes, extreme codes. */
static void test_pack_kv(void **state)
{
    static const int64_t Ts[] = {1, 3, 15, 16, 17, 50, 63, 64, 65, 128, 197, 257};
    static const int64_t Hs[] = {1, 2, 3, 4, 5, 7, 8, 32, 33, 48, 63, 64, 65, 80, 96, 128};
    const igq_kernel_table *t;
    tu_rng                  r;
    int                     cases = 0, it;
    (void)enter_level(state);
    t = igq__kernels();
    tu_rng_seed(&r, 99);
    for (it = 0; it < 300; it++) {
        const int64_t T = Ts[tu_rng_next(&r) % COUNT(Ts)], hd = Hs[tu_rng_next(&r) % COUNT(Hs)];
        const int     bits = 2 + (int)(tu_rng_next(&r) % 7);
        const int32_t off  = 1 << (bits - 1);
        const int64_t ld   = ((hd + 3) & ~(int64_t)3) + (int64_t)(tu_rng_next(&r) % 9);
        const size_t  ksz = igq__qs8_packed_size(T, hd, 8), vsz = igq__qs8_packed_size(hd, T, 8);
        uint8_t      *x  = (uint8_t *)xmalloc((size_t)(T * ld));
        uint8_t      *p1 = (uint8_t *)xmalloc(ksz > vsz ? ksz : vsz);
        uint8_t      *p2 = (uint8_t *)xmalloc(ksz > vsz ? ksz : vsz);
        int32_t      *r1 = (int32_t *)xmalloc((size_t)(T > hd ? T : hd) * sizeof(int32_t));
        int32_t      *r2 = (int32_t *)xmalloc((size_t)(T > hd ? T : hd) * sizeof(int32_t));
        int64_t       i, j, k;
        for (i = 0; i < T * ld; i++) {
            const uint64_t v = tu_rng_next(&r);
            x[i] = (uint8_t)(it % 9 == 4 ? (uint64_t)(i % 2 ? (1 << bits) - 1 : 0) : v % (1u << bits));
        }
        /* keys */
        memset(p1, 0xa5, ksz), memset(p2, 0x5a, ksz);
        t->qs8_pack_keys(x, ld, T, hd, off, p1, r1);
        igq__qs8_pack_keys__scalar(x, ld, T, hd, off, p2, r2);
        assert_memory_equal(p1, p2, ksz);
        assert_memory_equal(r1, r2, (size_t)T * sizeof(int32_t));
        for (j = 0; j < T; j++) {
            int32_t sum = 0;
            for (k = 0; k < hd; k++) {
                assert_int_equal(igq__qs8_w(p2, hd, j, k), (int)x[j * ld + k] - off);
                sum += (int)x[j * ld + k] - off;
            }
            assert_int_equal(r2[j], sum);
        }
        for (j = T; j % 64 != 0; j++)
            for (k = 0; k < hd; k++) assert_int_equal(igq__qs8_w(p2, hd, j, k), 0);
        /* values */
        memset(p1, 0xa5, vsz), memset(p2, 0x5a, vsz);
        t->qs8_pack_values(x, ld, T, hd, off, p1, r1);
        igq__qs8_pack_values__scalar(x, ld, T, hd, off, p2, r2);
        assert_memory_equal(p1, p2, vsz);
        assert_memory_equal(r1, r2, (size_t)hd * sizeof(int32_t));
        for (k = 0; k < hd; k++) {
            int32_t sum = 0;
            for (j = 0; j < T; j++) {
                assert_int_equal(igq__qs8_w(p2, T, k, j), (int)x[j * ld + k] - off);
                sum += (int)x[j * ld + k] - off;
            }
            assert_int_equal(r2[k], sum);
        }
        free(x), free(p1), free(p2), free(r1), free(r2);
        cases++;
    }
    fprintf(stderr, "  %d pack_kv cases exact\n", cases);
}

/* The level's grouped GEMM (where it has one) against the scalar reference on small edge
 * shapes: K = 1..9 (every remainder of a pair / quad, shorter than a step), G = 1..9 groups
 * (random boundaries, so many empty groups; G > K always has some), row tails 1 / 7, column
 * tails 1 / 17 / 67, kperm on and off, and the operands at their extremes: A codes 0 / 255
 * (alternating by 3 and 2, or all 255) with weights -128 / 127 (qs4 -8 / 7) - the largest
 * products, so a saturating or wrapping step shows up. */
static void test_ggemm_edges(void **state)
{
    static const int64_t Ms[] = {1, 7}, Ns[] = {1, 17, 67};
    const igq_kernel_table *t;
    tu_rng                  r;
    int                     cases = 0, bits, mi, ni;
    int64_t                 K;
    int32_t                 G;
    (void)enter_level(state);
    t = igq__kernels();
    if (t->qs8_ggemm == NULL) skip();
    tu_rng_seed(&r, 9090);
    for (bits = 8; bits >= 4; bits -= 4)
        for (K = 1; K <= 9; K++)
            for (G = 1; G <= 9; G++)
                for (mi = 0; mi < COUNT(Ms); mi++)
                    for (ni = 0; ni < COUNT(Ns); ni++) {
                        const int64_t M = Ms[mi], N = Ns[ni], lda = K + 1, ldy = N + 2;
                        const int     mode = (int)(tu_rng_next(&r) % 4), use_kperm = cases % 2;
                        uint8_t      *A   = (uint8_t *)xmalloc((size_t)(M * lda));
                        int8_t       *W   = (int8_t *)xmalloc((size_t)(N * K));
                        int32_t      *kp  = use_kperm ? random_perm(&r, K) : NULL;
                        int32_t      *off = (int32_t *)xmalloc((size_t)(G + 1) * sizeof(int32_t));
                        float         gs[9], *cs = (float *)xmalloc((size_t)N * sizeof(float));
                        float        *cb   = (float *)xmalloc((size_t)N * sizeof(float));
                        float        *want = (float *)xmalloc((size_t)(M * ldy) * sizeof(float));
                        float        *got  = (float *)xmalloc((size_t)(M * ldy) * sizeof(float));
                        void         *packed = xmalloc(igq__qs8_packed_size(N, K, bits));
                        void         *ws     = igq__malloc(igq__qs8_ggemm_ws_size(K, G));
                        const int     wlo = bits == 4 ? -8 : -128, whi = bits == 4 ? 7 : 127;
                        int64_t       i;
                        int32_t       g;
                        assert_non_null(ws);
                        for (i = 0; i < M * lda; i++)
                            A[i] = (uint8_t)(mode == 0 ? 255 : mode == 1 ? (i % 3 ? 255 : 0)
                                                                         : tu_rng_next(&r) & 255);
                        for (i = 0; i < N * K; i++)
                            W[i] = (int8_t)(mode == 3 ? (int)(tu_rng_next(&r) % (uint64_t)(whi - wlo + 1)) + wlo
                                            : (mode == 2 ? i % 2 : (i / N) % 2) ? whi : wlo);
                        random_offsets(&r, K, G, off);
                        for (g = 0; g < G; g++) gs[g] = (float)(1 + g) * (g % 2 ? 1e-5f : 3e-3f);
                        for (i = 0; i < N; i++) {
                            cs[i] = (float)(1 + i % 7) * 1e-3f;
                            cb[i] = (float)((int)(i % 5) - 2) * 0.25f;
                        }
                        for (i = 0; i < M * ldy; i++) want[i] = got[i] = -7.0f;
                        (bits == 4 ? t->qs4_pack : t->qs8_pack)(N, K, W, NULL, packed, NULL);
                        (bits == 4 ? igq__qs4_ggemm__scalar : igq__qs8_ggemm__scalar)(
                            M, N, K, G, off, gs, A, lda, packed, kp, cs, cb, want, ldy, NULL);
                        (bits == 4 ? t->qs4_ggemm : t->qs8_ggemm)(M, N, K, G, off, gs, A, lda,
                                                                packed, kp, cs, cb, got, ldy, ws);
                        if (memcmp(want, got, (size_t)(M * ldy) * sizeof(float)) != 0) {
                            fprintf(stderr, "  ggemm edge qs%d M %lld N %lld K %lld G %d mode %d "
                                    "kperm %d\n", bits, (long long)M, (long long)N, (long long)K,
                                    (int)G, mode, use_kperm);
                            fail();
                        }
                        free(A), free(W), free(kp), free(off), free(cs), free(cb), free(want);
                        free(got), free(packed);
                        igq__free(ws);
                        cases++;
                    }
    fprintf(stderr, "  %d grouped edge cases bit-exact\n", cases);
}

#define LEVEL_TESTS(fn, label)                                                                  \
    {label "/scalar", fn, NULL, restore_level, &g_level_values[IGQ_ISA_SCALAR]},        \
        {label "/avx2", fn, NULL, restore_level, &g_level_values[IGQ_ISA_AVX2]},        \
        {label "/avxvnni", fn, NULL, restore_level, &g_level_values[IGQ_ISA_AVXVNNI]},  \
        {label "/avx512vnni", fn, NULL, restore_level,                                          \
         &g_level_values[IGQ_ISA_AVX512VNNI]}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pos),
        cmocka_unit_test(test_pack_roundtrip),
        cmocka_unit_test(test_int4_nibbles),
        LEVEL_TESTS(test_pack_levels, "pack"),
        LEVEL_TESTS(test_degenerate, "degenerate"),
        LEVEL_TESTS(test_sweep, "sweep"),
        LEVEL_TESTS(test_sweep_rows, "rows"),
        LEVEL_TESTS(test_kslices, "kslices"),
        LEVEL_TESTS(test_groups, "groups"),
        LEVEL_TESTS(test_ggemm, "ggemm"),
        LEVEL_TESTS(test_gsum, "gsum"),
        LEVEL_TESTS(test_pack_kv, "pack_kv"),
        LEVEL_TESTS(test_ggemm_edges, "ggemm_edges"),
        LEVEL_TESTS(test_extreme, "extreme"),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, record_start_level, NULL);
}
