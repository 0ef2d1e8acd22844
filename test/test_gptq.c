/* GPTQ weight rounding (IGQ_OPT_WEIGHT_ROUNDING = IGQ_ROUNDING_GPTQ).
 *
 * 1. The rounding of one layer (igq__gptq_round) against an independent textbook GPTQ written
 *    here in double: H⁻¹ by Gauss-Jordan, its upper Cholesky factor U, then the column loop
 *    w_j -= (w_i - q_i) / U_ii * U_ij of the paper. The library computes the same rounding in
 *    another form (reversed Cholesky of H, no inverse; lib/quant/gptq.c), so the codes must
 *    agree wherever the oracle's compensated value is not within 1e-4 steps of a rounding tie (after
 *    a near-tie a row is compared no further: the two may legitimately take different paths).
 *    K from 1 to 300 (three lazy batches and a blocked factorization), 2..8 bits.
 * 2. Tiny K (2..6) against brute force over every rounding within ±2 codes of nearest (±1 at
 *    K = 6) of ||X(w - q)||²: the brute-force minimum is never above GPTQ's or nearest's; GPTQ
 *    meets its guarantee (w - q)ᵀ H_λ (w - q) <= (s²/4) Σ_i V_ii² (H_λ = V Vᵀ, V upper: each
 *    channel's compensated value is rounded with at most half a step of error; rows where the
 *    oracle clamps are excluded); and over all trials GPTQ's total error is below nearest's.
 *    GPTQ is greedy, so per row it may lose to nearest; the counts are printed.
 * 3. Constructed cases: a diagonal H (no correlation) gives exactly nearest rounding; nearly
 *    equal columns, where nearest's errors add up, are rounded by GPTQ with < 1/10 of nearest's
 *    error and within 2x the brute-force optimum.
 * 4. Ill-conditioned inputs: duplicate, zero, hugely scaled columns and fewer rows than
 *    columns (damping makes them factorable: no fallback, finite results on the grid, dead
 *    channels rounded to nearest); an indefinite H and a NaN fall back to nearest.
 * 5. The pipeline on tiny ViTs: partial forwards compose into the full one bit for bit; the
 *    patch embedding's rounding is the oracle's on the fake-quantized calibration patches (16
 *    and 300 inputs); every layer's codes equal those of a naive sequencing (a whole simulated
 *    forward per layer through the partly rounded model, H in double); every bit width, both
 *    executors, G = 1 / 8 and per-tensor activations: weights on the grids of nearest rounding
 *    (same scales), different codes, finite logits; the distillation head too.
 * 6. Determinism: twice the same bits, and the same bits at the scalar level as at the native
 *    one. Allocation failures: every failing allocation gives IGQ_ERR_NO_MEMORY and no model
 *    (LeakSanitizer sees no leak). Cancellation at every "weights" call: IGQ_ERR_CANCELLED. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "igq/igq.h"
#include "kernels/dispatch.h"
#include "model/qmodel.h"
#include "model/vit.h"
#include "quant/gptq.h"
#include "support/st_writer.h"
#include "support/testutil.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* X [n][K]: normal values mixed by (I + mix * normal / sqrt(K)), so columns correlate. */
static double *random_x(tu_rng *r, int64_t n, int64_t K, double mix)
{
    double *z = (double *)malloc((size_t)(n * K) * sizeof(double));
    double *A = (double *)malloc((size_t)(K * K) * sizeof(double));
    double *x = (double *)calloc((size_t)(n * K), sizeof(double));
    int64_t i, j, k;
    for (i = 0; i < n * K; i++) z[i] = tu_rng_normal(r);
    for (i = 0; i < K; i++)
        for (j = 0; j < K; j++) A[i * K + j] = (i == j) + mix * tu_rng_normal(r) / sqrt((double)K);
    for (i = 0; i < n; i++)
        for (k = 0; k < K; k++)
            for (j = 0; j < K; j++) x[i * K + j] += z[i * K + k] * A[k * K + j];
    free(z);
    free(A);
    return x;
}

static double *gram(const double *x, int64_t n, int64_t K)
{
    double *H = (double *)calloc((size_t)(K * K), sizeof(double));
    int64_t r, i, j;
    for (r = 0; r < n; r++)
        for (i = 0; i < K; i++)
            for (j = 0; j < K; j++) H[i * K + j] += x[r * K + i] * x[r * K + j];
    return H;
}

/* W [K][N] normal; per output the symmetric grid of its absmax (as the weight calibrator's
 * min/max: restricted symmetric). */
static float *random_w(tu_rng *r, int64_t K, int64_t N, int bits, igq_qparams *qp)
{
    float  *w = (float *)malloc((size_t)(K * N) * sizeof(float));
    int64_t i, o;
    for (i = 0; i < K * N; i++) w[i] = (float)tu_rng_normal(r);
    for (o = 0; o < N; o++) {
        float a = 0.0f;
        for (i = 0; i < K; i++) a = fabsf(w[i * N + o]) > a ? fabsf(w[i * N + o]) : a;
        qp[o] = igq__qp_sym(a, bits, 1);
    }
    return w;
}

/* e = (w - q) of output o; returns eᵀ H e. */
static double quad(const double *H, int64_t K, const float *w, const float *q, int64_t N, int64_t o)
{
    double  s = 0.0;
    int64_t i, j;
    for (i = 0; i < K; i++)
        for (j = 0; j < K; j++)
            s += ((double)w[i * N + o] - q[i * N + o]) * H[i * K + j] *
                 ((double)w[j * N + o] - q[j * N + o]);
    return s;
}

static void nearest(const float *w, float *q, int64_t K, int64_t N, const igq_qparams *qp)
{
    int64_t i, o;
    for (i = 0; i < K; i++)
        for (o = 0; o < N; o++) q[i * N + o] = igq__fq(w[i * N + o], &qp[o]);
}

/* The library's rounding of w (copied) with H (copied). */
static float *lib_gptq(const float *w, int64_t K, int64_t N, const igq_qparams *qp,
                       const double *H, int *fell_back)
{
    float  *q = (float *)malloc((size_t)(K * N) * sizeof(float));
    double *h = (double *)malloc((size_t)(K * K) * sizeof(double));
    memcpy(q, w, (size_t)(K * N) * sizeof(float));
    memcpy(h, H, (size_t)(K * K) * sizeof(double));
    {
        /* only the lower triangle is read: poison the rest */
        int64_t i, j;
        for (i = 0; i < K; i++)
            for (j = i + 1; j < K; j++) h[i * K + j] = NAN;
    }
    assert_int_equal(igq__gptq_round(q, K, N, qp, h, fell_back), IGQ_OK);
    free(h);
    return q;
}

/* ---- the textbook oracle ------------------------------------------------------------------- */

typedef struct oracle {
    int64_t K;
    double *U;   /* [K][K] upper Cholesky factor of H_λ⁻¹ (H_λ = U⁻¹ U⁻ᵀ) */
    double *Hl;  /* [K][K] the damped H with dead channels at diagonal 1 */
} oracle;

/* H_λ as documented (dead diagonal -> 1, λ = 1 % of the mean live diagonal), then its inverse
 * (Gauss-Jordan, partial pivoting) and the inverse's upper Cholesky factor. */
static void oracle_init(oracle *or, const double *H, int64_t K)
{
    double *A   = (double *)malloc((size_t)(K * 2 * K) * sizeof(double));
    double  sum = 0.0, lam;
    int64_t i, j, k, live = 0;
    or->K  = K;
    or->U  = (double *)calloc((size_t)(K * K), sizeof(double));
    or->Hl = (double *)malloc((size_t)(K * K) * sizeof(double));
    memcpy(or->Hl, H, (size_t)(K * K) * sizeof(double));
    for (i = 0; i < K; i++)
        if (H[i * K + i] != 0.0) {
            sum += H[i * K + i];
            live++;
        }
    lam = 0.01 * sum / (double)live;
    for (i = 0; i < K; i++) or->Hl[i * K + i] = (H[i * K + i] == 0.0 ? 1.0 : H[i * K + i]) + lam;
    for (i = 0; i < K; i++)
        for (j = 0; j < 2 * K; j++)
            A[i * 2 * K + j] = j < K ? or->Hl[i * K + j] : (double)(j - K == i);
    for (k = 0; k < K; k++) {
        int64_t p = k;
        double  piv;
        for (i = k + 1; i < K; i++)
            if (fabs(A[i * 2 * K + k]) > fabs(A[p * 2 * K + k])) p = i;
        for (j = 0; j < 2 * K; j++) {
            double t           = A[k * 2 * K + j];
            A[k * 2 * K + j]   = A[p * 2 * K + j];
            A[p * 2 * K + j]   = t;
        }
        piv = A[k * 2 * K + k];
        for (j = 0; j < 2 * K; j++) A[k * 2 * K + j] /= piv;
        for (i = 0; i < K; i++)
            if (i != k) {
                const double f = A[i * 2 * K + k];
                for (j = 0; j < 2 * K; j++) A[i * 2 * K + j] -= f * A[k * 2 * K + j];
            }
    }
    /* Hinv = Uᵀ U */
    for (i = 0; i < K; i++) {
        double d = A[i * 2 * K + K + i];
        for (k = 0; k < i; k++) d -= or->U[k * K + i] * or->U[k * K + i];
        assert_true(d > 0.0);
        or->U[i * K + i] = sqrt(d);
        for (j = i + 1; j < K; j++) {
            double v = A[i * 2 * K + K + j];
            for (k = 0; k < i; k++) v -= or->U[k * K + i] * or->U[k * K + j];
            or->U[i * K + j] = v / or->U[i * K + i];
        }
    }
    free(A);
}

static void oracle_free(oracle *or)
{
    free(or->U);
    free(or->Hl);
}

/* GPTQ's column loop for output o: q[i][o] for every i, and per channel the compensated value
 * in steps (wt[i] / scale). Returns 1 if some compensated value fell outside the grid by more
 * than half a step (clamped). */
static int oracle_round(const oracle *or, const float *w, int64_t N, int64_t o,
                        const igq_qparams *qp, float *q, double *steps)
{
    const int64_t K = or->K;
    double       *v = (double *)malloc((size_t)K * sizeof(double));
    int64_t       i, j;
    int           clamped = 0;
    for (i = 0; i < K; i++) v[i] = w[i * N + o];
    for (i = 0; i < K; i++) {
        const float qi = igq__fq((float)v[i], qp);
        double      e;
        steps[i] = v[i] / qp->scale;
        if (steps[i] < qp->qmin - 0.5 || steps[i] > qp->qmax + 0.5) clamped = 1;
        q[i * N + o] = qi;
        e            = (v[i] - qi) / or->U[i * K + i];
        for (j = i + 1; j < K; j++) v[j] -= e * or->U[i * K + j];
    }
    free(v);
    return clamped;
}

/* Within 1e-4 steps of a rounding tie. */
static int near_tie(double steps)
{
    const double f = steps - floor(steps);
    return fabs(f - 0.5) < 1e-4;
}

/* ---- 1. the oracle ------------------------------------------------------------------------ */

static void test_matches_textbook(void **state)
{
    static const struct {
        int64_t n, K, N;
        int     bits;
        double  mix;
    } cases[] = {{50, 1, 3, 4, 0.0},    {40, 2, 5, 2, 2.0},   {30, 5, 4, 3, 2.0},
                 {64, 6, 8, 4, 3.0},    {200, 37, 6, 4, 2.0}, {150, 37, 5, 8, 2.0},
                 {20, 60, 3, 4, 1.0},   {300, 130, 5, 3, 2.0}, {500, 300, 4, 4, 2.0},
                 {400, 257, 7, 2, 1.0}, {800, 600, 3, 4, 2.0}};
    size_t  c;
    int64_t compared = 0, total = 0, differs_from_nearest = 0;
    (void)state;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int64_t n = cases[c].n, K = cases[c].K, N = cases[c].N;
        tu_rng        r;
        igq_qparams  *qp = (igq_qparams *)malloc((size_t)N * sizeof(igq_qparams));
        double       *x, *H, *steps = (double *)malloc((size_t)K * sizeof(double));
        float        *w, *got, *want = (float *)malloc((size_t)(K * N) * sizeof(float));
        oracle        or;
        int           fb = -1;
        int64_t       o, i;
        tu_rng_seed(&r, 100 + c);
        x   = random_x(&r, n, K, cases[c].mix);
        H   = gram(x, n, K);
        w   = random_w(&r, K, N, cases[c].bits, qp);
        got = lib_gptq(w, K, N, qp, H, &fb);
        assert_int_equal(fb, 0);
        oracle_init(&or, H, K);
        for (o = 0; o < N; o++) {
            (void)oracle_round(&or, w, N, o, &qp[o], want, steps);
            total += K;
            for (i = 0; i < K; i++) {
                if (near_tie(steps[i])) break;
                if (got[i * N + o] != want[i * N + o])
                    fail_msg("case %zu (K %lld, %d bits): output %lld channel %lld: %.9g, "
                             "textbook GPTQ %.9g (compensated %.6f steps)",
                             c, (long long)K, cases[c].bits, (long long)o, (long long)i,
                             (double)got[i * N + o], (double)want[i * N + o], steps[i]);
                compared++;
                differs_from_nearest += got[i * N + o] != igq__fq(w[i * N + o], &qp[o]);
            }
        }
        oracle_free(&or);
        free(x), free(H), free(w), free(got), free(want), free(qp), free(steps);
    }
    printf("  textbook GPTQ: %lld of %lld codes compared (the rest follow a near-tie), all "
           "equal; %lld differ from nearest\n",
           (long long)compared, (long long)total, (long long)differs_from_nearest);
    assert_true(compared >= total * 9 / 10);
    assert_true(differs_from_nearest > compared / 10); /* the test is not about nearest */
}

/* ---- 2. brute force ------------------------------------------------------------------------ */

/* Least ||X(w - q)||² (= (w-q)ᵀ H (w-q)) of output o over the codes within ±span of nearest. */
static double brute(const double *H, int64_t K, const float *w, int64_t N, int64_t o,
                    const igq_qparams *qp, int span)
{
    float  *q = (float *)malloc((size_t)(K * N) * sizeof(float));
    int     idx[8], i, done = 0;
    double  best = INFINITY;
    for (i = 0; i < K; i++) idx[i] = -span;
    while (!done) {
        int ok = 1;
        for (i = 0; i < K; i++) {
            const int c = igq__quant(w[i * N + o], &qp[o]) + idx[i];
            if (c < qp[o].qmin || c > qp[o].qmax) ok = 0;
            q[i * N + o] = qp[o].scale * (float)(c - qp[o].zero);
        }
        if (ok) {
            const double e = quad(H, K, w, q, N, o);
            best           = e < best ? e : best;
        }
        for (i = 0; i < K; i++) {
            if (++idx[i] <= span) break;
            idx[i] = -span;
        }
        done = i == K;
    }
    free(q);
    return best;
}

static void test_brute_force(void **state)
{
    double  sum_g = 0.0, sum_n = 0.0, sum_b = 0.0;
    int64_t rows = 0, g_best = 0, g_worse = 0, bound_rows = 0;
    int     K, trial;
    (void)state;
    for (K = 2; K <= 6; K++)
        for (trial = 0; trial < 40; trial++) {
            const int64_t N = 3, n = 12;
            const int     bits = 2 + trial % 3, span = K == 6 ? 1 : 2;
            tu_rng        r;
            igq_qparams   qp[3];
            double       *x, *H, steps[8];
            float        *w, *g, *q0 = (float *)malloc((size_t)(K * N) * sizeof(float));
            float        *oq = (float *)malloc((size_t)(K * N) * sizeof(float));
            oracle        or;
            int           fb;
            int64_t       o, i;
            tu_rng_seed(&r, 1000 + 100 * (uint64_t)K + (uint64_t)trial);
            x = random_x(&r, n, K, 3.0);
            H = gram(x, n, K);
            w = random_w(&r, K, N, bits, qp);
            g = lib_gptq(w, K, N, qp, H, &fb);
            assert_int_equal(fb, 0);
            nearest(w, q0, K, N, qp);
            oracle_init(&or, H, K);
            for (o = 0; o < N; o++) {
                const double eg = quad(H, K, w, g, N, o), en = quad(H, K, w, q0, N, o);
                const double eb = brute(H, K, w, N, o, qp, span);
                int          in_box = 1;
                for (i = 0; i < K; i++) {
                    const int d = igq__quant(g[i * N + o], &qp[o]) -
                                  igq__quant(w[i * N + o], &qp[o]);
                    if (d < -span || d > span) in_box = 0;
                }
                /* the minimum is a minimum (tolerance: float rounding of the products) */
                assert_true(eb <= en * (1 + 1e-9) + 1e-12);
                if (in_box) assert_true(eb <= eg * (1 + 1e-9) + 1e-12);
                /* GPTQ's guarantee in H_λ, where the oracle does not clamp and agrees */
                if (!oracle_round(&or, w, N, o, &qp[o], oq, steps)) {
                    double bound = 0.0;
                    int    same  = 1;
                    for (i = 0; i < K; i++) {
                        bound += 1.0 / (or.U[i * K + i] * or.U[i * K + i]);
                        same = same && oq[i * N + o] == g[i * N + o];
                    }
                    bound *= 0.25 * (double)qp[o].scale * qp[o].scale;
                    if (same) {
                        assert_true(quad(or.Hl, K, w, g, N, o) <= bound * (1 + 1e-9));
                        bound_rows++;
                    }
                }
                sum_g += eg;
                sum_n += en;
                sum_b += eb;
                rows++;
                g_best += eg <= eb * (1 + 1e-9) + 1e-12;
                g_worse += eg > en * (1 + 1e-9);
            }
            oracle_free(&or);
            free(x), free(H), free(w), free(g), free(q0), free(oq);
        }
    printf("  brute force, K 2..6, %lld rows: error sum GPTQ %.4g, nearest %.4g, optimum %.4g; "
           "GPTQ optimal in %lld rows, worse than nearest in %lld; bound checked in %lld\n",
           (long long)rows, sum_g, sum_n, sum_b, (long long)g_best, (long long)g_worse,
           (long long)bound_rows);
    assert_true(sum_g < sum_n);
    assert_true(bound_rows >= rows / 2);
}

/* ---- 3. constructed cases ------------------------------------------------------------------ */

static void test_diagonal_is_nearest(void **state)
{
    const int64_t K = 150, N = 5;
    tu_rng        r;
    igq_qparams   qp[5];
    double       *H = (double *)calloc((size_t)(K * K), sizeof(double));
    float        *w, *g, *q0 = (float *)malloc((size_t)(K * N) * sizeof(float));
    int64_t       i;
    int           fb, bits;
    (void)state;
    for (bits = 2; bits <= 8; bits++) {
        tu_rng_seed(&r, 7 + (uint64_t)bits);
        for (i = 0; i < K; i++) H[i * K + i] = i % 7 == 3 ? 0.0 : 0.1 + 10 * tu_rng_uniform(&r);
        w = random_w(&r, K, N, bits, qp);
        g = lib_gptq(w, K, N, qp, H, &fb);
        nearest(w, q0, K, N, qp);
        assert_int_equal(fb, 0);
        assert_memory_equal(g, q0, (size_t)(K * N) * sizeof(float));
        free(w), free(g);
    }
    free(H), free(q0);
}

static void test_correlated_columns(void **state)
{
    /* columns nearly equal, every weight 0.31 steps above a code: nearest's errors add up,
     * GPTQ rounds some of them up to cancel them */
    const int64_t K = 6, N = 1, n = 40;
    tu_rng        r;
    igq_qparams   qp;
    double       *x = (double *)malloc((size_t)(n * K) * sizeof(double)), *H;
    float         w[6], q0[6], *g;
    int64_t       t, i;
    int           fb;
    double        eg, en, eb;
    (void)state;
    tu_rng_seed(&r, 77);
    for (t = 0; t < n; t++) {
        const double base = tu_rng_normal(&r);
        for (i = 0; i < K; i++) x[t * K + i] = base + 0.02 * tu_rng_normal(&r);
    }
    H  = gram(x, n, K);
    qp = igq__qp_sym(7.0f, 4, 1); /* scale 1 */
    assert_true(qp.scale == 1.0f);
    for (i = 0; i < K; i++) w[i] = 2.31f;
    g = lib_gptq(w, K, N, &qp, H, &fb);
    nearest(w, q0, K, N, &qp);
    eg = quad(H, K, w, g, N, 0);
    en = quad(H, K, w, q0, N, 0);
    eb = brute(H, K, w, N, 0, &qp, 1);
    printf("  correlated columns: error GPTQ %.4g, nearest %.4g, optimum %.4g\n", eg, en, eb);
    assert_int_equal(fb, 0);
    assert_true(eg < 0.1 * en);
    assert_true(eg <= 2.0 * eb);
    free(x), free(H), free(g);
}

/* ---- 4. ill-conditioned inputs ------------------------------------------------------------- */

static void assert_on_grid(const float *q, int64_t K, int64_t N, const igq_qparams *qp)
{
    int64_t i, o;
    for (i = 0; i < K; i++)
        for (o = 0; o < N; o++) {
            assert_true(isfinite(q[i * N + o]));
            assert_true(q[i * N + o] == igq__fq(q[i * N + o], &qp[o]));
        }
}

static void test_ill_conditioned(void **state)
{
    const int64_t K = 10, N = 4, n = 3;
    tu_rng        r;
    igq_qparams   qp[4];
    double       *x, *H;
    float        *w, *g, q0[40];
    int64_t       t, o;
    int           fb, bits;
    (void)state;
    for (bits = 2; bits <= 8; bits += 3) {
        tu_rng_seed(&r, 5 + (uint64_t)bits);
        x = random_x(&r, n, K, 1.0);
        for (t = 0; t < n; t++) {
            x[t * K + 0] = 0.0;              /* dead */
            x[t * K + 7] = 0.0;              /* dead */
            x[t * K + 3] = x[t * K + 1];     /* duplicate */
            x[t * K + 5] = 2 * x[t * K + 1]; /* collinear */
            x[t * K + 2] *= 1e4;             /* badly scaled */
            x[t * K + 9] *= 1e-4;
        }
        H = gram(x, n, K); /* rank <= 3 of 10 */
        w = random_w(&r, K, N, bits, qp);
        g = lib_gptq(w, K, N, qp, H, &fb);
        nearest(w, q0, K, N, qp);
        assert_int_equal(fb, 0);
        assert_on_grid(g, K, N, qp);
        for (o = 0; o < N; o++) {
            assert_true(g[0 * N + o] == q0[0 * N + o]);
            assert_true(g[7 * N + o] == q0[7 * N + o]);
        }
        free(x), free(H), free(w), free(g);
    }
}

static void test_fallback(void **state)
{
    const int64_t K = 2, N = 3;
    tu_rng        r;
    igq_qparams   qp[3];
    double        Hind[4] = {1.0, 100.0, 100.0, 1.0}; /* indefinite even with 1000x damping */
    double        Hnan[4] = {1.0, NAN, NAN, 1.0}, Hneg[4] = {-1.0, 0.0, 0.0, -2.0};
    double        Hzero[4] = {0.0, 0.0, 0.0, 0.0};
    double       *Hs[4] = {Hind, Hnan, Hneg, Hzero};
    float        *w, *g, q0[6];
    int           fb, k;
    (void)state;
    tu_rng_seed(&r, 9);
    w = random_w(&r, K, N, 3, qp);
    nearest(w, q0, K, N, qp);
    for (k = 0; k < 4; k++) {
        g = lib_gptq(w, K, N, qp, Hs[k], &fb);
        assert_int_equal(fb, k < 3); /* an all-zero H is not a failure: nothing to compensate */
        assert_memory_equal(g, q0, sizeof q0);
        free(g);
    }
    free(w);
}

/* ---- 5. the pipeline ----------------------------------------------------------------------- */

typedef struct tiny {
    char       *dir;
    igq_model  *m, *md; /* plain, distilled */
    igq_model  *mw;     /* patches of 3 x 10 x 10 = 300 inputs (more than a 256 panel) */
    igq_tensor *calib, *test, *calib_w;
} tiny;

static igq_tensor *random_images(const igq_model *m, int64_t n, uint64_t seed)
{
    int64_t     C = 0, H = 0, W = 0, i;
    igq_tensor *t = NULL;
    tu_rng      r;
    assert_int_equal(igq_model_info(m, IGQ_PROP_IN_CHANNELS, &C), IGQ_OK);
    assert_int_equal(igq_model_info(m, IGQ_PROP_IMAGE_HEIGHT, &H), IGQ_OK);
    assert_int_equal(igq_model_info(m, IGQ_PROP_IMAGE_WIDTH, &W), IGQ_OK);
    {
        int64_t shape[4] = {n, C, H, W};
        assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &t), IGQ_OK);
    }
    tu_rng_seed(&r, seed);
    for (i = 0; i < igq_tensor_numel(t); i++) ((float *)igq_tensor_data(t))[i] = (float)tu_rng_normal(&r);
    return t;
}

static igq_model *load_tiny(const char *dir, int distilled, uint64_t seed, int wide)
{
    stw        w;
    igq_model *m = NULL;
    char      *path;
    stw_init(&w);
    if (wide) /* depth 1, D 16, 2 heads, MLP 32, 5 classes, 3 channels, 20x20, patch 10 */
        stw_timm_vit(&w, 1, 16, 2, 32, 5, 3, 20, 10, 0, seed);
    else /* depth 2, D 16, 2 heads, MLP 32, 5 classes, 1 channel, 12x12 image, patch 4 */
        stw_timm_vit(&w, 2, 16, 2, 32, 5, 1, 12, 4, distilled, seed);
    path = stw_write(&w, dir, wide ? "w.safetensors" : distilled ? "d.safetensors" : "p.safetensors");
    assert_int_equal(igq_model_load(path, &m), IGQ_OK);
    free(path);
    stw_free(&w);
    return m;
}

static int setup(void **state)
{
    tiny *t  = (tiny *)calloc(1, sizeof *t);
    t->dir   = tu_make_tmpdir();
    t->m     = load_tiny(t->dir, 0, 41, 0);
    t->md    = load_tiny(t->dir, 1, 42, 0);
    t->mw    = load_tiny(t->dir, 0, 43, 1);
    t->calib = random_images(t->m, 12, 301);
    t->calib_w = random_images(t->mw, 12, 303);
    t->test  = random_images(t->m, 6, 302);
    *state   = t;
    return 0;
}

static int teardown(void **state)
{
    tiny *t = (tiny *)*state;
    igq_model_free(t->m);
    igq_model_free(t->md);
    igq_model_free(t->mw);
    igq_tensor_free(t->calib_w);
    igq_tensor_free(t->calib);
    igq_tensor_free(t->test);
    tu_rmdir_r(t->dir);
    free(t->dir);
    free(t);
    return 0;
}

typedef struct qcase {
    int executor, wbits, abits, gran, groups, rounding;
} qcase;

static igq_config *config(const qcase *k)
{
    igq_config *c = NULL;
    assert_int_equal(igq_config_create(&c), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_EXECUTOR, k->executor), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_WEIGHT_BITS, k->wbits), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_EDGE_BITS, k->wbits), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_ACT_BITS, k->abits), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_ACT_GRANULARITY, k->gran), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_GROUPS, k->groups), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_WEIGHT_ROUNDING, k->rounding), IGQ_OK);
    return c;
}

static igq_model *quantize(const igq_model *m, const igq_tensor *calib, const qcase *k)
{
    igq_config *c = config(k);
    igq_model  *q = NULL;
    igq_status  s = igq_quantize_model(m, calib, c, &q);
    if (s != IGQ_OK) fail_msg("quantize: %s", igq_last_error());
    igq_config_free(c);
    return q;
}

/* The partial forwards of GPTQ compose into the full forward, bit for bit. */
static void test_forward_range(void **state)
{
    tiny               *t = (tiny *)*state;
    const igq_model    *m = t->md;
    const igq_vit_dims *d = &m->d;
    const int64_t       n = igq_tensor_dim(t->calib, 0);
    const int64_t       chunk = igq__forward_chunk(d, n);
    float *scratch = (float *)igq__malloc(igq__forward_scratch_floats(d, chunk) * sizeof(float));
    float *full    = (float *)malloc((size_t)(n * d->classes) * sizeof(float));
    float *part    = (float *)malloc((size_t)(n * d->classes) * sizeof(float));
    float *resid   = (float *)malloc((size_t)(n * d->n_tokens * d->dim) * sizeof(float));
    const float      *img = (const float *)igq_tensor_data(t->calib);
    igq_forward_range r;
    int32_t           b;
    igq__forward(m, img, n, full, scratch, NULL);
    memset(&r, 0, sizeof r);
    r.stop_block = -2;
    r.x_out      = resid;
    igq__forward_range(m, img, n, part, scratch, NULL, &r);
    for (b = 0; b < d->depth; b++) {
        r.b0   = b;
        r.b1   = b + 1;
        r.x_in = resid;
        igq__forward_range(m, NULL, n, part, scratch, NULL, &r);
    }
    r.b0    = d->depth;
    r.b1    = d->depth;
    r.x_out = NULL;
    memset(part, 0, (size_t)(n * d->classes) * sizeof(float));
    igq__forward_range(m, NULL, n, part, scratch, NULL, &r);
    assert_memory_equal(full, part, (size_t)(n * d->classes) * sizeof(float));
    igq__free(scratch);
    free(full), free(part), free(resid);
}

/* The patch embedding is rounded like the oracle does with H from the fake-quantized
 * calibration patches (its inputs need no forward, so they are rebuilt here); 16 inputs, and
 * 300 (more than one 256-column panel of the accumulation and the factorization). */
static void patch_oracle(const igq_model *m, igq_tensor *calib)
{
    static const qcase k = {IGQ_EXECUTOR_SIM, 3, 4, IGQ_GRANULARITY_GROUP, 8, IGQ_ROUNDING_GPTQ};
    igq_model           *q = quantize(m, calib, &k);
    const igq_vit_dims  *d = &m->d;
    const int64_t        n = igq_tensor_dim(calib, 0), K = (int64_t)d->in_chans * d->patch * d->patch;
    const int64_t        N = d->dim, rows = n * d->n_patches;
    const struct igq_quantizer *zin = igq__qz(q->q, -1, IGQ__SITE_PATCH_IN);
    const struct igq_quantizer *zw  = igq__qz(q->q, -1, IGQ__SITE_PATCH_W);
    double      *x = (double *)malloc((size_t)(rows * K) * sizeof(double)), *H;
    double      *steps = (double *)malloc((size_t)K * sizeof(double));
    float       *patch = (float *)malloc((size_t)K * sizeof(float)), *want;
    const float *img = (const float *)igq_tensor_data(calib);
    const size_t isz = (size_t)d->in_chans * d->img_h * d->img_w;
    oracle       or;
    int64_t      i, p, o, compared = 0, changed = 0;
    for (i = 0; i < n; i++)
        for (p = 0; p < d->n_patches; p++) {
            int64_t c;
            igq__extract_patch(d, img + (size_t)i * isz, p, patch);
            for (c = 0; c < K; c++)
                x[(i * d->n_patches + p) * K + c] = igq__fq(patch[c], &zin->qp[0]);
        }
    H    = gram(x, rows, K);
    want = (float *)malloc((size_t)(K * N) * sizeof(float));
    oracle_init(&or, H, K);
    for (o = 0; o < N; o++) {
        (void)oracle_round(&or, m->patch.wt, N, o, &zw->qp[o], want, steps);
        for (i = 0; i < K; i++) {
            if (near_tie(steps[i])) break;
            assert_true(q->patch.wt[i * N + o] == want[i * N + o]);
            changed += want[i * N + o] != igq__fq(m->patch.wt[i * N + o], &zw->qp[o]);
            compared++;
        }
    }
    printf("  patch embedding, %lld inputs: %lld of %lld codes compared with the oracle, %lld "
           "not nearest\n", (long long)K, (long long)compared, (long long)(K * N),
           (long long)changed);
    assert_true(compared >= K * N * 3 / 4); /* not vacuous */
    assert_true(changed > 0);
    oracle_free(&or);
    free(x), free(H), free(patch), free(want), free(steps);
    igq_model_free(q);
}

static void test_patch_embedding_oracle(void **state)
{
    tiny *t = (tiny *)*state;
    patch_oracle(t->m, t->calib);
    patch_oracle(t->mw, t->calib_w);
}

static const igq_linear *layer_of(const igq_model *m, int32_t b, int32_t site)
{
    if (b < 0)
        return site == IGQ__SITE_PATCH_W ? &m->patch : site == IGQ__SITE_HEAD_W ? &m->head
                                                                                : &m->head_dist;
    switch (site) {
    case IGQ__SITE_QKV_W: return &m->blocks[b].qkv;
    case IGQ__SITE_PROJ_W: return &m->blocks[b].proj;
    case IGQ__SITE_FC1_W: return &m->blocks[b].fc1;
    default: return &m->blocks[b].fc2;
    }
}

static igq_linear *layer_mut(igq_model *m, int32_t b, int32_t site)
{
    if (b < 0)
        return site == IGQ__SITE_PATCH_W ? &m->patch : site == IGQ__SITE_HEAD_W ? &m->head
                                                                                : &m->head_dist;
    switch (site) {
    case IGQ__SITE_QKV_W: return &m->blocks[b].qkv;
    case IGQ__SITE_PROJ_W: return &m->blocks[b].proj;
    case IGQ__SITE_FC1_W: return &m->blocks[b].fc1;
    default: return &m->blocks[b].fc2;
    }
}

/* ---- the sequencing, naively ---------------------------------------------------------------- */

typedef struct seq_ctx {
    igq_sim_ctx sim;
    int32_t     block, site;
    int64_t     K;
    int         row;  /* HEAD_IN: the classifier input row (0 head, 1 distillation head) */
    double     *H;
} seq_ctx;

static void seq_hook(void *ctx, int64_t image, int32_t block, int32_t site, int32_t head, float *x,
                     int64_t rows, int64_t cols, int64_t ld)
{
    seq_ctx *c = (seq_ctx *)ctx;
    int64_t  r, i, j;
    igq__sim_hook(&c->sim, image, block, site, head, x, rows, cols, ld);
    if (block != c->block || site != c->site) return;
    for (r = 0; r < rows; r++) {
        if (site == IGQ__SITE_HEAD_IN && r != c->row) continue;
        for (i = 0; i < c->K; i++)
            for (j = 0; j < c->K; j++) c->H[i * c->K + j] += (double)x[r * ld + i] * x[r * ld + j];
    }
}

/* GPTQ's layer order and inputs, the slow way: for each layer, the whole simulated forward of
 * the calibration images through a copy of the fp32 model whose earlier layers hold this
 * test's rounding, with the library's activation quantizers; H in double from the hooked
 * inputs; the layer rounded by igq__gptq_round (checked against the textbook above) on the
 * library's grid. The library's GPTQ model must hold the same codes, except where a value's H
 * differs by fp32 summation enough to move a near-tie (then later layers see slightly
 * different inputs too): at most 1 % of the codes, and none in the first layer. */
static void test_sequencing(void **state)
{
    static const qcase k = {IGQ_EXECUTOR_SIM, 3, 4, IGQ_GRANULARITY_GROUP, 8, IGQ_ROUNDING_GPTQ};
    static const int32_t in_site[4] = {IGQ__SITE_QKV_IN, IGQ__SITE_PROJ_IN, IGQ__SITE_FC1_IN,
                                       IGQ__SITE_FC2_IN};
    tiny            *t  = (tiny *)*state;
    const igq_model *fp = t->md;
    igq_model       *q  = quantize(fp, t->calib, &k), *w = NULL;
    const igq_vit_dims *d = &fp->d;
    const int64_t    n = igq_tensor_dim(t->calib, 0);
    float *scratch = (float *)igq__malloc(igq__forward_scratch_floats(d, igq__forward_chunk(d, n)) * sizeof(float));
    float *logits  = (float *)malloc((size_t)(n * d->classes) * sizeof(float));
    float *stat    = (float *)malloc(igq__sim_stat_floats(d) * sizeof(float));
    int64_t differ = 0, total = 0, first_differ = -1;
    int32_t L, layer;
    seq_ctx c;
    igq_site_hook hook = {seq_hook, &c};
    assert_int_equal(igq__model_clone(fp, &w), IGQ_OK);
    memset(&c, 0, sizeof c);
    c.sim.q    = q->q;
    c.sim.stat = stat;
    L          = 1 + 4 * d->depth + 1 + d->has_dist;
    for (layer = 0; layer < L; layer++) {
        int32_t           b, wsite;
        igq_linear       *lw;
        const igq_linear *lq;
        int               fb;
        int64_t           e;
        if (layer == 0) {
            b = -1, wsite = IGQ__SITE_PATCH_W, c.site = IGQ__SITE_PATCH_IN;
        } else if (layer <= 4 * d->depth) {
            b = (layer - 1) / 4, wsite = IGQ__SITE_QKV_W + (layer - 1) % 4;
            c.site = in_site[(layer - 1) % 4];
        } else {
            b = -1, wsite = layer == L - 1 && d->has_dist ? IGQ__SITE_HEAD_DIST_W : IGQ__SITE_HEAD_W;
            c.site = IGQ__SITE_HEAD_IN;
        }
        c.block = b;
        c.row   = wsite == IGQ__SITE_HEAD_DIST_W;
        lw      = layer_mut(w, b, wsite);
        lq      = layer_of(q, b, wsite);
        c.K     = lw->in;
        c.H     = (double *)calloc((size_t)(c.K * c.K), sizeof(double));
        igq__forward(w, (const float *)igq_tensor_data(t->calib), n, logits, scratch, &hook);
        assert_int_equal(igq__gptq_round(lw->wt, lw->in, lw->out, igq__qz(q->q, b, wsite)->qp, c.H, &fb), IGQ_OK);
        assert_int_equal(fb, 0);
        for (e = 0; e < (int64_t)lw->in * lw->out; e++) {
            const int dif = lw->wt[e] != lq->wt[e];
            differ += dif;
            if (dif && first_differ < 0) first_differ = layer;
        }
        total += (int64_t)lw->in * lw->out;
        free(c.H);
    }
    printf("  naive sequencing: %lld of %lld codes differ (first in layer %lld of %d)\n",
           (long long)differ, (long long)total, (long long)first_differ, (int)L);
    assert_true(first_differ != 0);
    assert_true(differ * 100 <= total);
    igq__model_destroy(w);
    igq__free(scratch);
    free(logits), free(stat);
    igq_model_free(q);
}

/* Every weight site of q: present, on the same grid as nearest's model r, and the codes differ
 * somewhere. */
static void check_weights(const igq_model *q, const igq_model *r, const igq_model *fp)
{
    const int32_t depth = q->d.depth;
    int32_t       b, site;
    int64_t       differ = 0, total = 0;
    for (b = -1; b < depth; b++)
        for (site = IGQ__SITE_QKV_W; site <= IGQ__SITE_HEAD_DIST_W; site++) {
            const int edge = site >= IGQ__SITE_PATCH_W;
            const struct igq_quantizer *zq, *zr;
            const igq_linear *lq, *lr;
            int64_t           i, o;
            if ((b < 0) != edge) continue;
            if (site == IGQ__SITE_HEAD_DIST_W && !fp->d.has_dist) continue;
            zq = igq__qz(q->q, b, site);
            zr = igq__qz(r->q, b, site);
            assert_true(zq->present && zr->present);
            assert_int_equal(zq->n_params, zr->n_params);
            assert_memory_equal(zq->qp, zr->qp, (size_t)zq->n_params * sizeof(igq_qparams));
            lq = layer_of(q, b, site);
            lr = layer_of(r, b, site);
            for (i = 0; i < lq->in; i++)
                for (o = 0; o < lq->out; o++) {
                    const float v = lq->wt[(size_t)i * lq->out + o];
                    assert_true(v == igq__fq(v, &zq->qp[o]));
                    differ += v != lr->wt[(size_t)i * lr->out + o];
                    total++;
                }
        }
    assert_true(differ > 0 && differ < total);
}

static void test_pipeline_cases(void **state)
{
    tiny       *t = (tiny *)*state;
    const int   grans[3][2] = {{IGQ_GRANULARITY_GROUP, 8}, {IGQ_GRANULARITY_GROUP, 1},
                               {IGQ_GRANULARITY_TENSOR, 1}};
    int         bits, g, mi, ex;
    float      *logits = NULL;
    for (mi = 0; mi < 2; mi++)
        for (bits = 2; bits <= 8; bits++)
            for (g = 0; g < 3; g++)
                for (ex = 0; ex < 2; ex++) {
                    const igq_model *m = mi ? t->md : t->m;
                    qcase k = {ex ? IGQ_EXECUTOR_INT : IGQ_EXECUTOR_SIM, bits, bits < 4 ? 4 : bits,
                               grans[g][0], grans[g][1], IGQ_ROUNDING_GPTQ};
                    igq_model *q = quantize(m, t->calib, &k), *r;
                    int64_t    shape[2] = {igq_tensor_dim(t->test, 0), 5}, i;
                    igq_tensor *lt = NULL;
                    igq_config *c  = NULL;
                    int64_t     v  = -1;
                    assert_int_equal(igq_model_config(q, &c), IGQ_OK);
                    assert_int_equal(igq_config_get(c, IGQ_OPT_WEIGHT_ROUNDING, &v), IGQ_OK);
                    assert_int_equal(v, IGQ_ROUNDING_GPTQ);
                    igq_config_free(c);
                    if (!ex) {
                        k.rounding = IGQ_ROUNDING_NEAREST;
                        r          = quantize(m, t->calib, &k);
                        check_weights(q, r, m);
                        igq_model_free(r);
                    }
                    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, shape, &lt), IGQ_OK);
                    assert_int_equal(igq_run(q, t->test, lt), IGQ_OK);
                    logits = (float *)igq_tensor_data(lt);
                    for (i = 0; i < shape[0] * shape[1]; i++) assert_true(isfinite(logits[i]));
                    igq_tensor_free(lt);
                    igq_model_free(q);
                }
}

/* ---- 6. determinism, allocation failures, cancellation ------------------------------------ */

static float *logits_of(const igq_model *q, igq_tensor *images)
{
    int64_t     shape[2] = {igq_tensor_dim(images, 0), 5};
    igq_tensor *lt       = NULL;
    float      *out      = (float *)malloc((size_t)(shape[0] * 5) * sizeof(float));
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, shape, &lt), IGQ_OK);
    assert_int_equal(igq_run(q, images, lt), IGQ_OK);
    memcpy(out, igq_tensor_data(lt), (size_t)(shape[0] * 5) * sizeof(float));
    igq_tensor_free(lt);
    return out;
}

static void assert_same_weights(const igq_model *a, const igq_model *b)
{
    int32_t blk;
    size_t  pn = (size_t)a->patch.in * a->patch.out, hn = (size_t)a->head.in * a->head.out;
    assert_memory_equal(a->patch.wt, b->patch.wt, pn * sizeof(float));
    assert_memory_equal(a->head.wt, b->head.wt, hn * sizeof(float));
    if (a->d.has_dist) assert_memory_equal(a->head_dist.wt, b->head_dist.wt, hn * sizeof(float));
    for (blk = 0; blk < a->d.depth; blk++) {
        const igq_block *x = &a->blocks[blk], *y = &b->blocks[blk];
        assert_memory_equal(x->qkv.wt, y->qkv.wt, (size_t)x->qkv.in * x->qkv.out * sizeof(float));
        assert_memory_equal(x->proj.wt, y->proj.wt, (size_t)x->proj.in * x->proj.out * sizeof(float));
        assert_memory_equal(x->fc1.wt, y->fc1.wt, (size_t)x->fc1.in * x->fc1.out * sizeof(float));
        assert_memory_equal(x->fc2.wt, y->fc2.wt, (size_t)x->fc2.in * x->fc2.out * sizeof(float));
    }
}

static void test_determinism(void **state)
{
    static const qcase ks = {IGQ_EXECUTOR_SIM, 3, 4, IGQ_GRANULARITY_GROUP, 8, IGQ_ROUNDING_GPTQ};
    static const qcase ki = {IGQ_EXECUTOR_INT, 4, 4, IGQ_GRANULARITY_GROUP, 4, IGQ_ROUNDING_GPTQ};
    tiny               *t     = (tiny *)*state;
    const igq_isa_level start = igq__isa_active();
    igq_model          *a, *b, *ia, *ib;
    float              *la, *lb;
    int                 lvl;
    /* one layer of 600 inputs: five lazy batches, a blocked factorization, several panels */
    const int64_t K = 600, N = 24;
    tu_rng        r;
    igq_qparams   qp[24];
    double       *x, *H;
    float        *w, *g0, *g;
    int           fb;
    tu_rng_seed(&r, 4242);
    x  = random_x(&r, 700, K, 2.0);
    H  = gram(x, 700, K);
    w  = random_w(&r, K, N, 3, qp);
    g0 = lib_gptq(w, K, N, qp, H, &fb);
    a  = quantize(t->md, t->calib, &ks);
    ia = quantize(t->md, t->calib, &ki);
    la = logits_of(ia, t->test);
    for (lvl = IGQ_ISA_SCALAR; lvl <= (int)start; lvl++) {
        igq__dispatch_force((igq_isa_level)lvl);
        if ((int)igq__isa_active() != lvl) continue; /* a level this CPU lacks */
        g  = lib_gptq(w, K, N, qp, H, &fb);
        b  = quantize(t->md, t->calib, &ks);
        ib = quantize(t->md, t->calib, &ki);
        igq__dispatch_force(start);
        assert_memory_equal(g, g0, (size_t)(K * N) * sizeof(float));
        free(g);
        lb = logits_of(ib, t->test);
        assert_same_weights(a, b);
        assert_memory_equal(la, lb, (size_t)(igq_tensor_dim(t->test, 0) * 5) * sizeof(float));
        printf("  GPTQ at level %s: same bits as at %s\n", igq__isa_name((igq_isa_level)lvl),
               igq__isa_name(start));
        igq_model_free(b);
        igq_model_free(ib);
        free(lb);
    }
    igq__dispatch_force(start);
    igq_model_free(a);
    igq_model_free(ia);
    free(la);
    free(x), free(H), free(w), free(g0);
}

static void test_alloc_failures(void **state)
{
    static const qcase k = {IGQ_EXECUTOR_INT, 4, 4, IGQ_GRANULARITY_GROUP, 4, IGQ_ROUNDING_GPTQ};
    tiny              *t = (tiny *)*state;
    igq_config        *c = config(&k);
    long               n_fail;
    for (n_fail = 0;; n_fail++) {
        igq_model *q = (igq_model *)&n_fail;
        igq_status s;
        igq__alloc_fail_after(n_fail);
        s = igq_quantize_model(t->md, t->calib, c, &q);
        igq__alloc_fail_after(-1);
        if (s == IGQ_OK) {
            igq_model_free(q);
            break;
        }
        if (s != IGQ_ERR_NO_MEMORY || q != NULL)
            fail_msg("allocation %ld failing: status %d, model %p, '%s'", n_fail, (int)s,
                     (void *)q, igq_last_error());
    }
    printf("  GPTQ quantization: each of its first %ld allocations failed in turn\n", n_fail);
    assert_true(n_fail > 10);
    igq_config_free(c);
}

typedef struct cancel_ctx {
    int weights_calls, cancel_at;
} cancel_ctx;

static int cancel_cb(void *user, const char *stage, double frac)
{
    cancel_ctx *cc = (cancel_ctx *)user;
    (void)frac;
    if (strcmp(stage, "weights") != 0) return 0;
    return ++cc->weights_calls == cc->cancel_at;
}

static void test_cancel(void **state)
{
    static const qcase k = {IGQ_EXECUTOR_SIM, 4, 4, IGQ_GRANULARITY_GROUP, 4, IGQ_ROUNDING_GPTQ};
    tiny              *t = (tiny *)*state;
    igq_config        *c = config(&k);
    cancel_ctx         cc = {0, 0};
    igq_model         *q  = NULL;
    int                total, at;
    assert_int_equal(igq_config_set_progress(c, cancel_cb, &cc), IGQ_OK);
    assert_int_equal(igq_quantize_model(t->md, t->calib, c, &q), IGQ_OK);
    igq_model_free(q);
    total = cc.weights_calls;
    assert_int_equal(total, 2 * 4 + 3); /* once per weight site */
    for (at = 1; at <= total; at++) {
        cc.weights_calls = 0;
        cc.cancel_at     = at;
        q                = (igq_model *)&cc;
        assert_int_equal(igq_quantize_model(t->md, t->calib, c, &q), IGQ_ERR_CANCELLED);
        assert_null(q);
        assert_non_null(strstr(igq_last_error(), "cancelled"));
    }
    igq_config_free(c);
}

int main(void)
{
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_matches_textbook),
        cmocka_unit_test(test_brute_force),
        cmocka_unit_test(test_diagonal_is_nearest),
        cmocka_unit_test(test_correlated_columns),
        cmocka_unit_test(test_ill_conditioned),
        cmocka_unit_test(test_fallback),
    };
    const struct CMUnitTest pipeline[] = {
        cmocka_unit_test(test_forward_range),
        cmocka_unit_test(test_patch_embedding_oracle),
        cmocka_unit_test(test_sequencing),
        cmocka_unit_test(test_pipeline_cases),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_cancel),
    };
    int fails = cmocka_run_group_tests_name("gptq rounding", unit, NULL, NULL);
    fails += cmocka_run_group_tests_name("gptq pipeline", pipeline, setup, teardown);
    return fails;
}
