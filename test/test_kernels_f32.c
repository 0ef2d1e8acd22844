/* fp32 GEMM kernels: every ISA level against the scalar reference, ISA selection and masking,
 * determinism.
 *
 * Each ISA test forces its level with igq__dispatch_force() and calls igq__f32_gemm(); levels
 * the CPU cannot run are skipped (cmocka skip()) and counted.
 *
 * No tolerance: the scalar reference igq__f32_gemm__scalar is the specification (kernels.h),
 * every output the one fmaf chain c = bias[n] (or 0); c = fmaf(A[m][k], B[k][n], c) for
 * k = 0..K-1 in increasing k, so every level must give its bits exactly, whatever its blocking,
 * tile or vector width. The reference itself is checked against an independent model of that
 * chain (fma_model, an exact fmaf without libm) on the smaller cases. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/error.h"
#include "igq/igq.h"
#include "kernels/dispatch.h"
#include "kernels/f32_ref.h"
#include "support/testutil.h"

#define SENTINEL (-1.2345e37f) /* C padding and rows must keep this */

static igq_isa_level g_start; /* the level the once-init chose (IGQ_ISA honoured) */

static igq_isa_level g_level_values[IGQ_ISA_COUNT] = { /* not const: cmocka states are void * */
    IGQ_ISA_SCALAR, IGQ_ISA_AVX2, IGQ_ISA_AVXVNNI, IGQ_ISA_AVX512VNNI};

/* ---- operands -------------------------------------------------------------------------- */

typedef struct gemm_case {
    int64_t  M, N, K, lda, ldc;
    uint64_t seed;
    float   *A, *B, *bias; /* bias NULL or N floats */
    float   *ref;          /* the scalar reference, ldc layout */
} gemm_case;

static float *alloc_f(int64_t n)
{
    float *p = (float *)malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    assert_non_null(p);
    return p;
}

/* Exact sizes (ASan catches any over-read/over-write): the last row needs only K / N. */
static int64_t a_size(const gemm_case *g) { return g->M > 0 ? (g->M - 1) * g->lda + g->K : 0; }
static int64_t c_size(const gemm_case *g) { return g->M > 0 ? (g->M - 1) * g->ldc + g->N : 0; }

/* Normal(0, 1) values: a pool filled once from tu_rng (seed 1); a case reads windows of it
 * at offsets derived from its seed (generating fresh normals for every case would take most
 * of the run time). */
#define POOL_SIZE (1 << 20)
static float *g_pool;

static void pool_init(void)
{
    tu_rng  r;
    int64_t i;
    if (g_pool != NULL) return;
    g_pool = alloc_f(POOL_SIZE);
    tu_rng_seed(&r, 1);
    for (i = 0; i < POOL_SIZE; i++) g_pool[i] = (float)tu_rng_normal(&r);
}

/* Fills p[0:n] from the pool window at a random offset. */
static void fill_normal(tu_rng *r, float *p, int64_t n)
{
    const uint64_t off = tu_rng_next(r);
    int64_t        i;
    for (i = 0; i < n; i++) p[i] = g_pool[(off + (uint64_t)i) & (POOL_SIZE - 1)];
}

/* extreme: magnitudes mixed over 60 decades. A and bias take a scale from {1e30, 1, 1e-30},
 * B from {1e-30, 1, 1e-8}: products range from ~1e-68 (underflow, subnormals) to ~1e31,
 * and no sum can overflow for K <= 768 (|sum| < 768 * 25 * 1e30). */
static void fill(tu_rng *r, float *p, int64_t n, int extreme, int which)
{
    static const float sa[3] = {1e30f, 1.0f, 1e-30f}, sb[3] = {1e-30f, 1.0f, 1e-8f};
    int64_t            i;
    fill_normal(r, p, n);
    if (extreme)
        for (i = 0; i < n; i++) p[i] *= (which == 1 ? sb : sa)[tu_rng_next(r) % 3];
}

static void case_init(gemm_case *g, int64_t M, int64_t N, int64_t K, int64_t pad_a,
                      int64_t pad_c, int with_bias, uint64_t seed, int extreme)
{
    tu_rng  r;
    int64_t i, m, n;
    memset(g, 0, sizeof *g);
    g->M = M, g->N = N, g->K = K, g->lda = K + pad_a, g->ldc = N + pad_c, g->seed = seed;
    pool_init();
    tu_rng_seed(&r, seed);
    g->A = alloc_f(a_size(g));
    g->B = alloc_f(K * N);
    fill(&r, g->A, a_size(g), extreme, 0);
    fill(&r, g->B, K * N, extreme, 1);
    if (with_bias) {
        g->bias = alloc_f(N);
        fill(&r, g->bias, N, extreme, 2);
    }
    g->ref = alloc_f(c_size(g));
    for (i = 0; i < c_size(g); i++) g->ref[i] = SENTINEL; /* the padding must survive */
    igq__f32_gemm__scalar(M, N, K, g->A, g->lda, g->B, g->bias, g->ref, g->ldc);
    for (m = 0; m < M; m++) /* the reference itself must be finite here */
        for (n = 0; n < N; n++) assert_true(isfinite(g->ref[m * g->ldc + n]));
}

static void case_free(gemm_case *g)
{
    free(g->A);
    free(g->B);
    free(g->bias);
    free(g->ref);
}

/* fmaf(a, b, c) computed exactly without libm (glibc's fmaf is fine but is a call, which
 * the sanitizer build makes very slow): a*b is exact in double (24 + 24 bits); s = a*b + c
 * rounds once in double and TwoSum gives the exact error e. Rounding s to float is then
 * correct unless s lies exactly on a float midpoint (a double nearest to the exact sum cannot
 * have a midpoint strictly between them, as midpoints are doubles); there e decides. Checked
 * against fmaf() in test_fma_model. */
static float fma_exact(float a, float b, float c)
{
    const double p = (double)a * (double)b, s = p + (double)c;
    const double v = s - p, e = (p - (s - v)) + ((double)c - v);
    float        r = (float)s;
    const double d = s - (double)r; /* exact (Sterbenz) */
    if (e != 0.0 && d != 0.0) {
        const double other = (double)r + 2.0 * d; /* float iff s is the midpoint r..other */
        if ((double)(float)other == other && ((e > 0.0) == (d > 0.0))) r = (float)other;
    }
    return r;
}

/* The kernel contract: c = bias (or 0); for k: c = fmaf(a, b, c). */
static void fma_model(const gemm_case *g, float *out)
{
    const int64_t M = g->M, N = g->N, K = g->K;
    int64_t       m, n, k;
    for (m = 0; m < M; m++) {
        const float *a = g->A + m * g->lda;
        float       *o = out + m * g->ldc;
        for (n = 0; n < N; n++) {
            const float *b = g->B + n;
            float        c = g->bias != NULL ? g->bias[n] : 0.0f;
            for (k = 0; k < K; k++, b += N) c = fma_exact(a[k], *b, c);
            o[n] = c;
        }
    }
}

static float *run_active(const gemm_case *g)
{
    float  *c = alloc_f(c_size(g));
    int64_t i;
    for (i = 0; i < c_size(g); i++) c[i] = SENTINEL;
    igq__f32_gemm(g->M, g->N, g->K, g->A, g->lda, g->B, g->bias, c, g->ldc);
    return c;
}

static void describe(const gemm_case *g, const char *what)
{
    fprintf(stderr, "  [%s] isa %s, M %lld N %lld K %lld lda %lld ldc %lld bias %s seed %llu\n",
            what, igq__isa_name(igq__isa_active()), (long long)g->M, (long long)g->N,
            (long long)g->K, (long long)g->lda, (long long)g->ldc, g->bias ? "yes" : "no",
            (unsigned long long)g->seed);
}

/* Checks C from the active level: padding untouched, every element equal bit for bit to want
 * (the reference, or the fmaf-chain model). Returns 0 and prints the first mismatch on failure. */
static int check_c(const gemm_case *g, const float *c, const float *want, const char *what)
{
    int64_t m, n;
    for (m = 0; m < g->M; m++)
        for (n = 0; n < g->ldc && m * g->ldc + n < c_size(g); n++) {
            const float got = c[m * g->ldc + n];
            if (n >= g->N) {
                if (memcmp(&got, &(float){SENTINEL}, sizeof got) != 0) {
                    describe(g, what);
                    fprintf(stderr, "  padding C[%lld][%lld] overwritten: %g\n", (long long)m,
                            (long long)n, (double)got);
                    return 0;
                }
            } else if (memcmp(&got, &want[m * g->ldc + n], sizeof got) != 0) {
                describe(g, what);
                fprintf(stderr, "  C[%lld][%lld] = %.9g (%a), expected bit-exact %.9g (%a)\n",
                        (long long)m, (long long)n, (double)got, (double)got,
                        (double)want[m * g->ldc + n], (double)want[m * g->ldc + n]);
                return 0;
            }
        }
    return 1;
}

/* The level's C against the reference and, when model is set, the reference against the
 * fmaf-chain model. */
static int check_level(const gemm_case *g, const float *c, int model, const char *what)
{
    int ok = check_c(g, c, g->ref, what);
    if (ok && model) {
        float *chain = alloc_f(c_size(g));
        int64_t i;
        for (i = 0; i < c_size(g); i++) chain[i] = SENTINEL;
        fma_model(g, chain);
        ok = check_c(g, g->ref, chain, "reference vs fmaf chain");
        free(chain);
    }
    return ok;
}

/* fma_exact() equals libm fmaf() bit for bit: random triples over all magnitudes (incl.
 * subnormals and cancellation) and constructed midpoint cases. */
static void test_fma_model(void **state)
{
    tu_rng  r;
    int64_t i, bad = 0;
    (void)state;
    tu_rng_seed(&r, 2024);
    for (i = 0; i < 2000000; i++) {
        float    v[3];
        uint32_t bits;
        int      j;
        for (j = 0; j < 3; j++) {
            if (i % 4 == 0) { /* random bit patterns, finite only, exponents kept in range */
                bits = (uint32_t)tu_rng_next(&r);
                bits = (bits & 0x807fffffu) | ((uint32_t)(tu_rng_next(&r) % 190) << 23);
                memcpy(&v[j], &bits, sizeof bits);
            } else {
                v[j] = (float)tu_rng_normal(&r) * ldexpf(1.0f, (int)(tu_rng_next(&r) % 80) - 40);
            }
        }
        if (i % 4 == 1) v[2] = -v[0] * v[1]; /* cancellation: c ~ -a*b */
        if (i % 4 == 2 || i % 4 == 3) { /* a*b = +-half an ulp of c (+- 2^-70): ties */
            v[2] = 1.0f + (float)(tu_rng_next(&r) % 1000) * ldexpf(1.0f, -23);
            v[0] = ldexpf(1.0f, -24);
            v[1] = 1.0f;
            if (i % 4 == 3) { /* a*b = 2^-24 - 2^-70: the double sum rounds onto the tie */
                v[0] *= 1.0f + ldexpf(1.0f, -23);
                v[1] = 1.0f - ldexpf(1.0f, -23);
            }
            if (tu_rng_next(&r) & 1) v[1] = -v[1];
            if (tu_rng_next(&r) & 1) v[2] = -v[2];
        }
        {
            const float want = fmaf(v[0], v[1], v[2]), got = fma_exact(v[0], v[1], v[2]);
            if (isfinite(want) && memcmp(&want, &got, sizeof got) != 0 && bad++ < 5)
                fprintf(stderr, "  fma_exact(%a, %a, %a) = %a, fmaf = %a\n", (double)v[0],
                        (double)v[1], (double)v[2], (double)got, (double)want);
        }
    }
    assert_int_equal(bad, 0);
}

/* ---- per-level fixture ----------------------------------------------------------------- */

/* Forces the level of this test (skips when the CPU cannot run it). */
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

/* ---- shape sweep ----------------------------------------------------------------------- */

static const int64_t g_ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 50, 197};
static const int64_t g_ns[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
                               14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
                               27, 28, 29, 30, 31, 32, 33, 48, 64, 96, 130, 384};
static const int64_t g_ks[] = {0, 1, 3, 7, 8, 15, 16, 17, 64, 100, 768};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int in_list(int64_t v, const int64_t *list, int n)
{
    int i;
    for (i = 0; i < n; i++)
        if (list[i] == v) return 1;
    return 0;
}

/* The full cross product of g_ms x g_ns x g_ks for M <= 17 and K < 768 (every tail of the
 * 12x32 / 6x16 tiles and of the 16/8-lane vectors); K = 768 (three 256-deep k blocks) and
 * M = 50, 197 (several row tiles, packed B) on the subsets below, to stay within ~1 s per
 * level on one core. */
static int in_sweep(int64_t M, int64_t N, int64_t K)
{
    static const int64_t n768[]  = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 130};
    static const int64_t k50[]   = {0, 1, 7, 16, 17, 100};
    static const int64_t n197[]  = {1, 2, 15, 16, 17, 31, 32, 33, 48, 64, 96, 130, 384};
    static const int64_t k197[]  = {0, 1, 17, 100};
    static const int64_t nbig[]  = {17, 130, 384};
    if (M <= 17) return K < 768 || in_list(N, n768, COUNT(n768));
    if (M == 50) return in_list(K, k50, COUNT(k50)) || (K == 768 && (N == 33 || N == 384));
    return (in_list(N, n197, COUNT(n197)) && in_list(K, k197, COUNT(k197))) ||
           (K == 768 && in_list(N, nbig, COUNT(nbig)));
}

static void test_sweep(void **state)
{
    const igq_isa_level l = enter_level(state);
    int                 im, in, ik, bias, cases = 0, model_cases = 0;
    uint64_t            seed = 1000;
    for (im = 0; im < COUNT(g_ms); im++)
        for (in = 0; in < COUNT(g_ns); in++)
            for (ik = 0; ik < COUNT(g_ks); ik++)
                for (bias = 0; bias < 2; bias++) {
                    const int64_t M = g_ms[im], N = g_ns[in], K = g_ks[ik];
                    /* every other case strided: lda > K, ldc > N */
                    const int64_t pad_a = (seed & 1) ? 3 + (seed % 5) : 0;
                    const int64_t pad_c = (seed & 1) ? 1 + (seed % 7) : 0;
                    /* the reference against the chain model, once (scalar level), when small */
                    const int     model = l == IGQ_ISA_SCALAR && M * N * K <= 60000;
                    gemm_case     g;
                    float        *c;
                    int           ok;
                    seed++;
                    if (!in_sweep(M, N, K)) continue;
                    case_init(&g, M, N, K, pad_a, pad_c, bias, seed, 0);
                    c  = run_active(&g);
                    ok = check_level(&g, c, model, "sweep");
                    free(c);
                    case_free(&g);
                    assert_true(ok);
                    cases++;
                    model_cases += model;
                }
    fprintf(stderr, "  %s: %d GEMMs bit-exact with the reference", igq__isa_name(l), cases);
    if (model_cases > 0) fprintf(stderr, ", %d references = the fmaf-chain model", model_cases);
    fprintf(stderr, "\n");
}

/* Mixed magnitudes 1e30 / 1 / 1e-30 (subnormal products, large cancellation). */
static void test_extreme(void **state)
{
    static const int64_t shapes[][3] = {{5, 33, 64}, {17, 48, 100}, {3, 130, 768},
                                        {13, 17, 257}, {1, 384, 768}};
    const igq_isa_level  l = enter_level(state);
    int                  i, bias;
    for (i = 0; i < COUNT(shapes); i++)
        for (bias = 0; bias < 2; bias++) {
            gemm_case g;
            float    *c;
            int       ok;
            case_init(&g, shapes[i][0], shapes[i][1], shapes[i][2], i, 2 * i, bias,
                      77 + (uint64_t)(2 * i + bias), 1);
            c  = run_active(&g);
            ok = check_level(&g, c, l == IGQ_ISA_SCALAR, "extreme values");
            free(c);
            case_free(&g);
            assert_true(ok);
        }
}

/* Shapes that reach the other blocking paths: K deep enough that A rows leave L2 (the
 * k-block-outer order, 1400 = 5 x 256 + 120), and M > 480 (two row blocks, 480 + 20). */
static void test_blocking(void **state)
{
    static const int64_t shapes[][3] = {{197, 40, 1400}, {500, 33, 600}, {61, 130, 4500},
                                        {61, 811, 300},  {530, 790, 200}};
    const igq_isa_level  l = enter_level(state);
    int                  i;
    for (i = 0; i < COUNT(shapes); i++) {
        gemm_case g;
        float    *c;
        int       ok;
        case_init(&g, shapes[i][0], shapes[i][1], shapes[i][2], 1, 3, i != 1, 31 + (uint64_t)i,
                  0);
        c  = run_active(&g);
        ok = check_level(&g, c, l == IGQ_ISA_SCALAR, "blocking");
        free(c);
        case_free(&g);
        assert_true(ok);
    }
}

/* Same call twice: same bytes. Row m of a 197-row call equals the row computed alone
 * (M = 1, unpacked B) and inside differently aligned sub-batches (M = 3 and M = 13), bit for
 * bit: batching never changes results. K = 768 spans several k blocks. */
static void test_determinism(void **state)
{
    gemm_case g;
    float    *c1, *c2, *one;
    int64_t   m, s;
    (void)enter_level(state);
    case_init(&g, 197, 130, 768, 5, 3, 1, 4242, 0);
    c1 = run_active(&g);
    c2 = run_active(&g);
    assert_memory_equal(c1, c2, (size_t)c_size(&g) * sizeof(float));
    one = alloc_f(13 * g.ldc);
    for (m = 0; m < g.M; m++) {
        igq__f32_gemm(1, g.N, g.K, g.A + m * g.lda, g.lda, g.B, g.bias, one, g.ldc);
        if (memcmp(one, c1 + m * g.ldc, (size_t)g.N * sizeof(float)) != 0) {
            describe(&g, "row alone");
            fprintf(stderr, "  row %lld differs when computed alone\n", (long long)m);
            fail();
        }
    }
    for (s = 0; s + 13 <= g.M; s += 11) {
        const int64_t sub = (s / 11) % 2 ? 13 : 3;
        igq__f32_gemm(sub, g.N, g.K, g.A + s * g.lda, g.lda, g.B, g.bias, one, g.ldc);
        for (m = 0; m < sub; m++)
            if (memcmp(one + m * g.ldc, c1 + (s + m) * g.ldc, (size_t)g.N * sizeof(float)) != 0) {
                describe(&g, "sub-batch");
                fprintf(stderr, "  row %lld differs in a %lld-row batch at %lld\n",
                        (long long)(s + m), (long long)sub, (long long)s);
                fail();
            }
    }
    free(one);
    free(c1);
    free(c2);
    case_free(&g);
}

/* K = 768 (three k blocks) at M = 50 with every column tail of both tile widths (N = 130):
 * each level gives the reference's bits, so all levels agree. */
static void test_levels_agree(void **state)
{
    const igq_isa_level l = enter_level(state);
    gemm_case           g;
    float              *c;
    case_init(&g, 50, 130, 768, 1, 2, 1, 99, 0);
    c = run_active(&g);
    assert_true(check_level(&g, c, l == IGQ_ISA_SCALAR, "levels agree"));
    free(c);
    case_free(&g);
}

/* Degenerate sizes: nothing is written when M or N is 0; K = 0 writes bias or zeros. */
static void test_degenerate(void **state)
{
    float   a[4] = {1, 2, 3, 4}, b[4] = {1, 1, 1, 1}, bias[3] = {1.5f, -2.0f, 0.25f};
    float   c[12];
    int64_t i;
    (void)enter_level(state);
    for (i = 0; i < 12; i++) c[i] = SENTINEL;
    igq__f32_gemm(0, 3, 2, a, 2, b, bias, c, 3);
    igq__f32_gemm(2, 0, 2, a, 2, b, bias, c, 3);
    for (i = 0; i < 12; i++) assert_true(c[i] == SENTINEL);
    igq__f32_gemm(3, 3, 0, a, 0, b, bias, c, 4);
    for (i = 0; i < 12; i++) assert_true(c[i] == ((i % 4) < 3 ? bias[i % 4] : SENTINEL));
    igq__f32_gemm(3, 3, 0, a, 0, b, NULL, c, 4);
    for (i = 0; i < 12; i++) assert_true(c[i] == ((i % 4) < 3 ? 0.0f : SENTINEL));
}

/* ---- GELU ------------------------------------------------------------------------------ */

/* GELU in double: 0.5 x erfc(-x / sqrt 2) (no cancellation for x < 0). */
static double gelu_d(double x) { return 0.5 * x * erfc(-x * 0.70710678118654752440); }

static float f_of_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static uint32_t bits_of(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* Error of the reference at x against double precision: relative where |GELU(x)| > 1e-36
 * (kernels.h promises < 6e-7), else absolute (<= 1e-36: x < -13 flushes to -0). */
typedef struct gelu_err {
    double max_rel, x_rel, max_abs_small;
    long   n;
} gelu_err;

static void gelu_check_one(gelu_err *e, float x)
{
    float  y = x;
    double ref;
    igq__f32_gelu__scalar(1, &y);
    ref = gelu_d((double)x);
    e->n++;
    if (fabs(ref) > 1e-36) {
        const double rel = fabs((double)y - ref) / fabs(ref);
        if (!(rel <= e->max_rel)) e->max_rel = rel, e->x_rel = x;
    } else {
        const double ab = fabs((double)y - ref);
        if (!(ab <= e->max_abs_small)) e->max_abs_small = ab;
    }
}

/* The reference against double precision: every 4093rd float bit pattern of both signs
 * (all binades, denormals included), a dense grid with step 2^-12 on [-16, 16], and the
 * neighbourhoods of the branch points 0 and +-13. */
static void test_gelu_accuracy(void **state)
{
    gelu_err e = {0, 0, 0, 0};
    uint32_t b;
    int      i;
    (void)state;
    for (b = 0; b < 0x7f800000u; b += 4093) {
        gelu_check_one(&e, f_of_bits(b));
        gelu_check_one(&e, f_of_bits(b | 0x80000000u));
    }
    for (i = -65536; i <= 65536; i++) gelu_check_one(&e, (float)i / 4096.0f);
    for (i = -200; i <= 200; i++) {
        gelu_check_one(&e, nextafterf(13.0f, 0.0f) + (float)i * 9.5367431640625e-07f);
        gelu_check_one(&e, -13.0f + (float)i * 9.5367431640625e-07f);
        gelu_check_one(&e, (float)i * 1e-3f);
    }
    fprintf(stderr, "  gelu vs double erfc: %ld points, max rel err %.3g (at x = %.9g), "
                    "max abs err where |GELU| <= 1e-36: %.3g\n",
            e.n, e.max_rel, e.x_rel, e.max_abs_small);
    assert_true(e.max_rel < 6e-7);
    assert_true(e.max_abs_small <= 1e-36);
}

/* Special values of the reference (kernels.h IGQ_F32_GELU_PROTO). */
static void test_gelu_special(void **state)
{
    float x[10] = {INFINITY, -INFINITY, NAN, -0.0f, 0.0f, 1e-40f, -1e-40f, 1e30f, -1e30f, FLT_MAX};
    (void)state;
    igq__f32_gelu__scalar(10, x);
    assert_true(x[0] == INFINITY);
    assert_true(x[1] == 0.0f && signbit(x[1]));
    assert_true(isnan(x[2]));
    assert_true(x[3] == 0.0f && signbit(x[3]));
    assert_true(x[4] == 0.0f && !signbit(x[4]));
    assert_true(x[5] == 0.5e-40f && x[6] == -0.5e-40f);
    assert_true(x[7] == 1e30f);
    assert_true(x[8] == 0.0f && signbit(x[8]));
    assert_true(x[9] == FLT_MAX);
}

/* Inputs for the level tests: normals of several scales, extremes and special values. */
static void gelu_inputs(tu_rng *r, float *x, int64_t n)
{
    static const float sc[6] = {1.0f, 4.0f, 0.01f, 1e-30f, 1e30f, 12.0f};
    static const float sp[10] = {INFINITY, -INFINITY, NAN, -0.0f, 0.0f, 1e-40f, -1e-40f,
                                 13.0f, -13.0f, -14.5f};
    int64_t            i;
    fill_normal(r, x, n);
    for (i = 0; i < n; i++) {
        const uint64_t v = tu_rng_next(r) % 16;
        x[i] = v < 6 ? x[i] * sc[v] : v < 10 ? sp[(tu_rng_next(r) % 10)] : x[i] * 3.0f;
    }
}

/* The active level against the reference bit for bit (NaN: both NaN) on every length
 * 0..67 and a long odd one, at odd offsets; nothing outside [0, n) is written. */
static void test_gelu_levels(void **state)
{
    tu_rng  r;
    int64_t n, i;
    (void)enter_level(state);
    pool_init();
    tu_rng_seed(&r, 7);
    for (n = 0; n <= 70; n++) {
        const int64_t len = n <= 67 ? n : n == 68 ? 10007 : n == 69 ? 4096 + 15 : 1536 * 3;
        float        *x = alloc_f(len + 3), *y = alloc_f(len + 3);
        gelu_inputs(&r, x, len + 3);
        memcpy(y, x, (size_t)(len + 3) * sizeof(float));
        x[0] = y[0] = SENTINEL;
        x[len + 2] = y[len + 2] = SENTINEL;
        igq__f32_gelu__scalar(len, x + 1);
        igq__f32_gelu(len, y + 1);
        assert_true(y[0] == SENTINEL && y[len + 2] == SENTINEL);
        for (i = 0; i < len + 3; i++) {
            if (isnan(x[i]) && isnan(y[i])) continue;
            if (bits_of(x[i]) != bits_of(y[i])) {
                fprintf(stderr, "  gelu %s n=%lld i=%lld: ref %.9g simd %.9g\n",
                        igq__isa_name(igq__isa_active()), (long long)len, (long long)i, x[i],
                        y[i]);
                fail();
            }
        }
        free(x);
        free(y);
    }
}

/* ---- softmax --------------------------------------------------------------------------- */

/* Softmax rows: n of 1..300 and 197 (DeiT tokens), logits of scale 3 and 30 (with a few -inf
 * and very negative entries), scale 1 and 1/8, against double precision on the same float
 * logits v = x * scale (the kernel's first rounding). Derived bound, first order in
 * u = 2^-24, with Y_i = exp(v_i - max) / sum_j exp(v_j - max):
 *   e_i = exp(fl(v_i - max)): the difference rounds by u |v_i - max|, which the exp turns into
 *     that much relative error; the exp itself errs by < 3 u (Horner with positive
 *     coefficients on |r| <= ln 2 / 2: the fma roundings weigh at most 1 + r + r^2 + ... < 1.54
 *     u, r's rounding 0.35 u, the final product u; the degree-7 truncation 6e-9 is below u);
 *   the sum in 16 partials of p = ceil(n / 16) terms: (p + 3) u of the positive sum, and its
 *     terms carry 3 u + u W, W = sum_j Y_j |v_j - max| (their weighted difference roundings);
 *   1 / sum and the product: 2 u; so |y_i / Y_i - 1| <= (p + 11) u + u (|v_i - max| + W).
 * Exponentials of v - max < -87 are flushed to 0 (true value < 1.7e-38 <= Y_i): 1e-37
 * absolute covers them and the rounding of subnormal outputs. */
static void test_softmax_accuracy(void **state)
{
    tu_rng  r;
    int64_t n, i;
    double  worst = 0.0;
    float  *x = alloc_f(300), *y = alloc_f(300);
    double *d = (double *)malloc(300 * sizeof(double));
    (void)state;
    assert_non_null(d);
    pool_init();
    tu_rng_seed(&r, 11);
    for (n = 1; n <= 300; n += (n < 40 ? 1 : 17)) {
        const int64_t nn = n == 290 ? 197 : n;
        int           rep;
        for (rep = 0; rep < 4; rep++) {
            const float scale = rep & 1 ? 0.125f : 1.0f;
            const float mag   = rep < 2 ? 3.0f : 30.0f;
            double      mx = -INFINITY, sum = 0.0, W;
            fill_normal(&r, x, nn);
            for (i = 0; i < nn; i++) {
                x[i] *= mag;
                if (tu_rng_next(&r) % 29 == 0) x[i] = -INFINITY;
                if (tu_rng_next(&r) % 31 == 0) x[i] = -1e30f;
            }
            x[tu_rng_next(&r) % nn] = 1.0f; /* not all -inf */
            memcpy(y, x, (size_t)nn * sizeof(float));
            igq__f32_softmax__scalar(1, nn, scale, y, nn);
            for (i = 0; i < nn; i++) {
                d[i] = (double)(x[i] * scale);
                mx   = d[i] > mx ? d[i] : mx;
            }
            for (i = 0; i < nn; i++) sum += exp(d[i] - mx);
            for (i = 0, W = 0.0; i < nn; i++)
                if (d[i] > -INFINITY) W += exp(d[i] - mx) / sum * fabs(d[i] - mx);
            for (i = 0; i < nn; i++) {
                const double ref = exp(d[i] - mx) / sum, err = fabs((double)y[i] - ref);
                const double rel = 0x1p-24 * ((double)((nn + 15) / 16) + 11.0 + fabs(d[i] - mx) + W);
                if (err != 0.0 && !(err <= rel * ref + 1e-37)) {
                    fprintf(stderr, "  n=%lld i=%lld x=%.9g: %.9g vs %.9g\n", (long long)nn,
                            (long long)i, x[i], y[i], ref);
                    fail();
                }
                if (ref > 1e-30 && err > 0.0 && err / (rel * ref) > worst)
                    worst = err / (rel * ref);
            }
        }
    }
    fprintf(stderr, "  softmax vs double: max error / bound %.3g\n", worst);
    free(x);
    free(y);
    free(d);
}

/* The active level against the reference bit for bit: every n in 1..70, 197 and 1000, several
 * rows with a row stride > n (the gap must not be touched), logits with -inf entries. */
static void test_softmax_levels(void **state)
{
    tu_rng  r;
    int64_t n, i;
    (void)enter_level(state);
    pool_init();
    tu_rng_seed(&r, 13);
    for (n = 1; n <= 72; n++) {
        const int64_t nn = n <= 70 ? n : n == 71 ? 197 : 1000, rows = 3, ld = nn + 5;
        float        *x = alloc_f(rows * ld), *y = alloc_f(rows * ld);
        fill_normal(&r, x, rows * ld);
        for (i = 0; i < rows * ld; i++) {
            x[i] *= (float)(1 + tu_rng_next(&r) % 20);
            if (tu_rng_next(&r) % 23 == 0) x[i] = -INFINITY;
            if (i % ld >= nn) x[i] = SENTINEL;
            if (i % ld == 0) x[i] = 0.5f;
        }
        memcpy(y, x, (size_t)(rows * ld) * sizeof(float));
        igq__f32_softmax__scalar(rows, nn, 0.125f, x, ld);
        igq__f32_softmax(rows, nn, 0.125f, y, ld);
        for (i = 0; i < rows * ld; i++)
            if (bits_of(x[i]) != bits_of(y[i])) {
                fprintf(stderr, "  softmax %s n=%lld i=%lld: ref %.9g simd %.9g\n",
                        igq__isa_name(igq__isa_active()), (long long)nn, (long long)i, x[i],
                        y[i]);
                fail();
            }
        free(x);
        free(y);
    }
}

/* ---- LayerNorm ------------------------------------------------------------------------- */

/* LayerNorm input rows: normals times a scale, plus an offset (the mean must be removed
 * before the variance sum: the two-pass form has no cancellation), weights and biases. */
static void ln_inputs(tu_rng *r, float *x, int64_t rows, int64_t n, float scale, float off)
{
    int64_t i;
    fill_normal(r, x, rows * n);
    for (i = 0; i < rows * n; i++) x[i] = x[i] * scale + off;
}

/* Bound of the float LayerNorm (kernels.h IGQ_F32_LAYERNORM_PROTO) against LayerNorm in double,
 * first order in u = 2^-24, for one row of n values. A sum in the kernel's 16 partials of
 * p = ceil(n / 16) terms each (p - 1 roundings in a partial, 4 in the tree) errs by at most
 * (p + 4) u sum |terms|. With mu, s2 the row's exact mean and variance, r0 = 1 / sqrt(s2 + eps),
 * t0 = (x - mu) r0, y0 = t0 w + b:
 *   mean m:       |m - mu| <= Em = (p + 4) u mean|x| + u |mu|              (sum, division)
 *   d = x - m:    rounded once, |d - (x - m)| <= u |x - m| <= u (|x - mu| + Em)
 *   c = sum d / n: |c - (mu - m)| <= Ec = (p + 6) u A, A = mean|x - mu| + Em (the d roundings,
 *                 the sum, the division; |c| <= A)
 *   var v = sum fmaf(d, d, .) / n - c c: the sum of squares errs by (p + 5) u M2 and the
 *                 squared roundings of d by 2 u M2, M2 = mean (x - m)^2 <= s2 + Em^2; c c against
 *                 (mu - m)^2 by Ec (2 Em + Ec) + u (Em + Ec)^2; the subtraction by u s2:
 *                 |v - s2| <= Ev = (p + 7) u (s2 + Em^2) + Ec (2 Em + Ec) + u (Em + Ec)^2 + u s2
 *   r = 1 / sqrtf(v + eps): |r / r0 - 1| <= Er = Ev / (2 (s2 + eps)) + 3 u  (add, sqrt, divide)
 *   t = ((x - m) - c) r: |t - t0| <= Et = r0 (u |x - mu| + u (|x - mu| + Em) + Ec) (1 + Er)
 *                 + |t0| (Er + u)
 *   y = fmaf(t, w, b): |y - y0| <= |w| Et + u (|y0| + |w| Et)
 * times 1.01 for the second-order terms left out (each below 1e-3 of its first-order term
 * for n <= 1000). */
static void ln_row_bound(int64_t n, const float *x, float eps, double *t0, double *e_t)
{
    const double u = 0x1p-24, p = (double)((n + 15) / 16);
    double       mu = 0.0, s2 = 0.0, ax = 0.0, adev = 0.0, Em, A, Ec, Ev, Er, r0;
    int64_t      i;
    for (i = 0; i < n; i++) mu += x[i], ax += fabs(x[i]);
    mu /= (double)n, ax /= (double)n;
    for (i = 0; i < n; i++) s2 += (x[i] - mu) * (x[i] - mu), adev += fabs(x[i] - mu);
    s2 /= (double)n, adev /= (double)n;
    Em = (p + 4.0) * u * ax + u * fabs(mu);
    A  = adev + Em;
    Ec = (p + 6.0) * u * A;
    Ev = (p + 7.0) * u * (s2 + Em * Em) + Ec * (2.0 * Em + Ec) + u * (Em + Ec) * (Em + Ec) + u * s2;
    Er = Ev / (2.0 * (s2 + eps)) + 3.0 * u;
    r0 = 1.0 / sqrt(s2 + eps);
    for (i = 0; i < n; i++) {
        const double dev = fabs(x[i] - mu);
        t0[i]  = (x[i] - mu) * r0;
        e_t[i] = r0 * (u * dev + u * (dev + Em) + Ec) * (1.0 + Er) + fabs(t0[i]) * (Er + u);
    }
}

/* The float reference against LayerNorm in double within the derived bound above, for n in
 * 1..40, 197, 384, 768, 1000, inputs of scale 1e-3 and 3 with offsets 0 and 1e3 (an offset
 * 1e6 times the spread: the mean's rounding must be corrected). */
static void test_layernorm_accuracy(void **state)
{
    static const int64_t ns[6] = {1, 17, 197, 384, 768, 1000};
    tu_rng               r;
    int64_t              k, i, rows = 3;
    double               worst = 0.0;
    (void)state;
    pool_init();
    tu_rng_seed(&r, 17);
    for (k = 0; k < 46; k++) {
        const int64_t n = k < 40 ? k + 1 : ns[k - 40];
        float        *x = alloc_f(rows * n), *w = alloc_f(n), *b = alloc_f(n), *y = alloc_f(rows * n);
        double       *t0 = (double *)malloc((size_t)n * sizeof(double));
        double       *et = (double *)malloc((size_t)n * sizeof(double));
        int64_t       row;
        assert_non_null(t0);
        assert_non_null(et);
        ln_inputs(&r, x, rows, n, k % 3 == 0 ? 1e-3f : 3.0f, k % 2 ? 1e3f : 0.0f);
        ln_inputs(&r, w, 1, n, 0.1f, 1.0f);
        ln_inputs(&r, b, 1, n, 0.1f, 0.0f);
        igq__f32_layernorm__scalar(rows, n, x, w, b, 1e-6f, y);
        for (row = 0; row < rows; row++) {
            ln_row_bound(n, x + row * n, 1e-6f, t0, et);
            for (i = 0; i < n; i++) {
                const double y0    = t0[i] * w[i] + b[i];
                const double wt    = fabs((double)w[i]) * et[i];
                const double bound = 1.01 * (wt + 0x1p-24 * (fabs(y0) + wt));
                const double err   = fabs((double)y[row * n + i] - y0);
                if (!(err <= bound)) {
                    fprintf(stderr, "  layernorm n=%lld i=%lld: %.9g vs %.9g (bound %.3g)\n",
                            (long long)n, (long long)i, y[row * n + i], y0, bound);
                    fail();
                }
                if (err / bound > worst) worst = err / bound;
            }
        }
        free(x), free(w), free(b), free(y), free(t0), free(et);
    }
    fprintf(stderr, "  layernorm float vs double: max error / derived bound %.3g\n", worst);
}

/* The active level against the reference bit for bit on every n in 1..70, 197, 384, 768. */
static void test_layernorm_levels(void **state)
{
    static const int64_t ns[3] = {197, 384, 768};
    tu_rng               r;
    int64_t              k, i, rows = 3;
    (void)enter_level(state);
    pool_init();
    tu_rng_seed(&r, 19);
    for (k = 0; k < 73; k++) {
        const int64_t n = k < 70 ? k + 1 : ns[k - 70];
        float        *x = alloc_f(rows * n), *w = alloc_f(n), *b = alloc_f(n);
        float        *y = alloc_f(rows * n + 1), *z = alloc_f(rows * n + 1);
        ln_inputs(&r, x, rows, n, 2.0f, k % 2 ? 5.0f : 0.0f);
        ln_inputs(&r, w, 1, n, 0.1f, 1.0f);
        ln_inputs(&r, b, 1, n, 0.1f, 0.0f);
        y[rows * n] = z[rows * n] = SENTINEL;
        igq__f32_layernorm__scalar(rows, n, x, w, b, 1e-5f, y);
        igq__f32_layernorm(rows, n, x, w, b, 1e-5f, z);
        for (i = 0; i <= rows * n; i++)
            if (bits_of(y[i]) != bits_of(z[i])) {
                fprintf(stderr, "  layernorm %s n=%lld i=%lld: ref %.9g simd %.9g\n",
                        igq__isa_name(igq__isa_active()), (long long)n, (long long)i, y[i],
                        z[i]);
                fail();
            }
        free(x), free(w), free(b), free(y), free(z);
    }
}

/* Kernels that allocate scratch (the AVX-512 GEMM packs A for N >= 768) fall back to reading
 * A in place when the allocation fails: same bits. */
static void test_gemm_no_memory(void **state)
{
    gemm_case g;
    float    *c0, *c1;
    (void)enter_level(state);
    case_init(&g, 99, 800, 300, 1, 2, 1, 77, 0);
    c0 = run_active(&g);
    igq__alloc_fail_after(0);
    c1 = run_active(&g);
    igq__alloc_fail_after(-1);
    assert_true(check_c(&g, c1, c0, "GEMM without scratch memory"));
    free(c0);
    free(c1);
    case_free(&g);
}

/* ---- concurrency ----------------------------------------------------------------------- */

typedef struct thread_job {
    const gemm_case *g;
    float           *c;
} thread_job;

static void *thread_main(void *arg)
{
    thread_job *j = (thread_job *)arg;
    int         r;
    for (r = 0; r < 3; r++)
        igq__f32_gemm(j->g->M, j->g->N, j->g->K, j->g->A, j->g->lda, j->g->B, j->g->bias,
                      j->c + r * c_size(j->g), j->g->ldc);
    return NULL;
}

/* Concurrent calls (the kernels keep scratch on the stack) give the single-thread bytes. */
static void test_threads(void **state)
{
    gemm_case  g;
    float     *want;
    pthread_t  th[3];
    thread_job jobs[3];
    int        t, r;
    (void)state;
    case_init(&g, 97, 200, 300, 0, 0, 1, 555, 0);
    want = run_active(&g);
    for (t = 0; t < 3; t++) {
        jobs[t].g = &g;
        jobs[t].c = alloc_f(3 * c_size(&g));
        assert_int_equal(pthread_create(&th[t], NULL, thread_main, &jobs[t]), 0);
    }
    for (t = 0; t < 3; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        for (r = 0; r < 3; r++)
            assert_memory_equal(jobs[t].c + r * c_size(&g), want,
                                (size_t)c_size(&g) * sizeof(float));
        free(jobs[t].c);
    }
    free(want);
    case_free(&g);
}

/* ---- ISA selection --------------------------------------------------------------------- */

/* Group setup, before any level is forced: the once-init's choice, restored after every level
 * test. */
static int record_start_level(void **state)
{
    (void)state;
    g_start = igq__isa_active();
    return 0;
}

/* The once-init's choice (recorded before any level was forced) follows IGQ_ISA. */
static void test_initial_level(void **state)
{
    const char   *env = getenv("IGQ_ISA");
    igq_isa_level want;
    (void)state;
    want = igq__isa_from_env(env);
    assert_int_equal(g_start, want);
    assert_string_equal(igq_active_isa(), igq__isa_name(want));
    assert_true(g_start <= igq__isa_detected());
    assert_true(igq__cpu_supports(g_start));
    fprintf(stderr, "  detected %s, active %s (IGQ_ISA=%s)\n", igq__isa_name(igq__isa_detected()),
            igq_active_isa(), env != NULL ? env : "(unset)");
}

static void test_isa_names(void **state)
{
    igq_isa_level l = IGQ_ISA_SCALAR;
    int           i;
    (void)state;
    for (i = 0; i < IGQ_ISA_COUNT; i++) {
        assert_true(igq__isa_parse(igq__isa_name(g_level_values[i]), &l));
        assert_int_equal(l, g_level_values[i]);
    }
    assert_string_equal(igq__isa_name(IGQ_ISA_SCALAR), "scalar");
    assert_string_equal(igq__isa_name(IGQ_ISA_AVX2), "avx2");
    assert_string_equal(igq__isa_name(IGQ_ISA_AVXVNNI), "avxvnni");
    assert_string_equal(igq__isa_name(IGQ_ISA_AVX512VNNI), "avx512vnni");
    assert_string_equal(igq__isa_name((igq_isa_level)7), "unknown");
    assert_string_equal(igq__isa_name((igq_isa_level)-1), "unknown");
    assert_false(igq__isa_parse("AVX2", &l));
    assert_false(igq__isa_parse("avx", &l));
    assert_false(igq__isa_parse("avx2 ", &l));
    assert_false(igq__isa_parse("", &l));
    assert_false(igq__isa_parse(NULL, &l));
}

/* IGQ_ISA can only lower the level: the result is the best supported level <= request. */
static void test_isa_masking(void **state)
{
    const igq_isa_level det = igq__isa_detected();
    int                 i;
    (void)state;
    for (i = 0; i < IGQ_ISA_COUNT; i++) {
        const igq_isa_level req = g_level_values[i];
        const igq_isa_level got = igq__isa_from_env(igq__isa_name(req));
        assert_int_equal(got, igq__isa_clamp(req));
        assert_true(got <= req);
        assert_true(got <= det);
        assert_true(igq__cpu_supports(got));
        if (igq__cpu_supports(req) && req <= det) assert_int_equal(got, req);
        igq__dispatch_force(req); /* the test hook obeys the same rule */
        assert_int_equal(igq__isa_active(), got);
    }
    igq__dispatch_force(g_start);
    assert_int_equal(igq__isa_from_env("scalar"), IGQ_ISA_SCALAR);
    assert_int_equal(igq__isa_from_env("avx512vnni"), det); /* never above the CPU */
    assert_int_equal(igq__isa_from_env(NULL), det);
    assert_int_equal(igq__isa_from_env(""), det);
    igq__set_error(IGQ_OK, "%s", "");
    assert_int_equal(igq__isa_from_env("sse9"), det); /* unknown: ignored, recorded */
    assert_non_null(strstr(igq_last_error(), "IGQ_ISA"));
    assert_non_null(strstr(igq_last_error(), "sse9"));
}

/* Feature bits -> levels, on made-up CPUs. */
static void test_cpu_feature_rules(void **state)
{
    igq_cpu_features f;
    (void)state;
    memset(&f, 0, sizeof f);
    assert_true(igq__cpu_features_support(&f, IGQ_ISA_SCALAR));
    assert_false(igq__cpu_features_support(&f, IGQ_ISA_AVX2));
    f.avx = f.avx2 = f.fma = f.os_ymm = 1;
    assert_true(igq__cpu_features_support(&f, IGQ_ISA_AVX2));
    assert_false(igq__cpu_features_support(&f, IGQ_ISA_AVXVNNI));
    assert_false(igq__cpu_features_support(&f, IGQ_ISA_AVX512VNNI));
    f.fma = 0; /* AVX2 without FMA is not enough */
    assert_false(igq__cpu_features_support(&f, IGQ_ISA_AVX2));
    f.fma = 1;
    f.os_ymm = 0; /* the OS does not save YMM state */
    assert_false(igq__cpu_features_support(&f, IGQ_ISA_AVX2));
    f.os_ymm = 1;
    /* Ice Lake / Zen 4 style: AVX-512 VNNI but no AVX-VNNI */
    f.avx512f = f.avx512bw = f.avx512vl = f.avx512vnni = f.os_zmm = 1;
    assert_true(igq__cpu_features_support(&f, IGQ_ISA_AVX512VNNI));
    assert_false(igq__cpu_features_support(&f, IGQ_ISA_AVXVNNI));
    f.os_zmm = 0; /* the OS does not save ZMM/opmask state */
    assert_false(igq__cpu_features_support(&f, IGQ_ISA_AVX512VNNI));
    f.os_zmm = 1;
    f.avx512bw = 0;
    assert_false(igq__cpu_features_support(&f, IGQ_ISA_AVX512VNNI));
    f.avxvnni = 1;
    assert_true(igq__cpu_features_support(&f, IGQ_ISA_AVXVNNI));
    /* this CPU: the detected level is supported and nothing above it is */
    assert_true(igq__cpu_supports(igq__isa_detected()));
    assert_true(igq__isa_clamp((igq_isa_level)(IGQ_ISA_COUNT - 1)) == igq__isa_detected());
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
        cmocka_unit_test(test_initial_level),
        cmocka_unit_test(test_isa_names),
        cmocka_unit_test(test_isa_masking),
        cmocka_unit_test(test_cpu_feature_rules),
        cmocka_unit_test(test_fma_model),
        LEVEL_TESTS(test_degenerate, "degenerate"),
        LEVEL_TESTS(test_sweep, "sweep"),
        LEVEL_TESTS(test_extreme, "extreme"),
        LEVEL_TESTS(test_blocking, "blocking"),
        LEVEL_TESTS(test_determinism, "determinism"),
        LEVEL_TESTS(test_gemm_no_memory, "no memory"),
        LEVEL_TESTS(test_levels_agree, "agree"),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_gelu_accuracy),
        cmocka_unit_test(test_gelu_special),
        LEVEL_TESTS(test_gelu_levels, "gelu levels"),
        cmocka_unit_test(test_softmax_accuracy),
        LEVEL_TESTS(test_softmax_levels, "softmax levels"),
        cmocka_unit_test(test_layernorm_accuracy),
        LEVEL_TESTS(test_layernorm_levels, "layernorm levels"),
    };
    int                     failed = cmocka_run_group_tests(tests, record_start_level, NULL);
    free(g_pool);
    return failed;
}
