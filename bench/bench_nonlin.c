/* Non-GEMM kernels (kernels.h: integer softmax / LayerNorm / GELU / requantization of
 * nonlin.h, the fp32 softmax / LayerNorm / GELU, the grouped-GEMM fold): speed per ISA level,
 * and the integer kernels' accuracy against the real functions, one thread.
 *
 *   build/bench/bench_nonlin [--quick] [--wall] [--isa scalar|avx2|avxvnni|avx512vnni]
 *                            [--no-accuracy]
 *
 * Speed: ns per row (best of >= 3 batches over ~0.1 s, --quick ~0.02 s, this thread's CPU
 * time; --wall: CLOCK_MONOTONIC) and GB/s of the bytes each kernel must read and write
 * (inputs, outputs and per-channel parameters; tables excluded):
 *   softmax q20  rows of N int32 logits -> int32 p at 2^-20, N rows (one head), N = 17, 50, 197
 *   softmax x-v  the attention's softmax of logits minus column terms (igq__i32_softmax_sub,
 *                which replaced a subtracting pass + softmax: 152 -> 153 ns/row at N = 197,
 *                avx512); the logits are copied first (included)
 *   layernorm    197 rows of C int32 -> int32 at S_y; C = 128, 384, 768; "ln f32 in": the
 *                executor's LayerNorm from f32 rows (igq__i32_ln_f32, conversion included)
 *   gelu         197 rows of 4C int32 fc1 accumulators with per-channel dyadic scales -> int32
 *                at 2^-20
 *   requant      197 rows of 768 / 3072 int32 -> u8, per-tensor and per-channel
 *   gelu f32->q20 the executor's GELU from the f32 fc1 output (in place, the time includes
 *                copying the input): igq__i32_gelu_f32 in one pass (it replaced an f32 -> Q20
 *                pass + the int32 kernel: 1433 -> 912 ns/row at N = 1536, avx512)
 *   f32 softmax / layernorm / gelu: the fp32 kernels on the same shapes (softmax and GELU are
 *                in place: the time includes copying their input, scale 1/8 for softmax)
 *   u8 perm      197 rows of N codes into the group order of 8 random groups (quantization
 *                of grouped sites), N = 384, 768, 3072: the table's kernel (vpermi2b with VBMI),
 *                the executor's former byte loop and, on VBMI CPUs, the vpgatherdd fallback
 *   fold         197 rows of N int32 -> f32 with the column epilogue, N = 384, 768, 3072
 * avxvnni has no kernels of its own here (it uses the avx2 ones) and is not timed.
 *
 * Accuracy (the integer kernels are the same bits at every level):
 *   softmax: codes against round(Q P) of the exact softmax of the same integer logits times S,
 *     for this library's table exp (igq__smx_exp) and, for comparison, I-BERT's i-exp
 *     polynomial (n = 30, without its 16-bit requantization of exp) and I-ViT's Shiftmax exp
 *     (n = 15), each followed by the exact normalization round(Q e / sum e) so that only the
 *     exp differs; Gaussian logits of several real spreads and peaky rows, N = 50, 197, 577;
 *   layernorm: codes (the int32 output requantized per-tensor, as the executor does) against
 *     float LayerNorm + the same quantizer (rne), 8 and 4 bits;
 *   gelu: the int32 path against erf GELU; requant: against rne(x M). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/dispatch.h"
#include "kernels/nonlin.h"
#include "kernels/nonlin_inl.h"

static clockid_t g_clock = CLOCK_THREAD_CPUTIME_ID;
static double    g_min_time = 0.1;

static double now(void)
{
    struct timespec ts;
    clock_gettime(g_clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *xalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1Dull;
}
static double uniform(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }
static double normal(void)
{
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
static int32_t iround(double v)
{
    v = floor(v + 0.5);
    return v > 2147483647.0 ? INT32_MAX : v < -2147483648.0 ? INT32_MIN : (int32_t)v;
}

/* ---- timing ---- */

typedef enum {
    OP_SMX_Q20, OP_SMX_F32, OP_LN_I32, OP_LN_F32, OP_GELU, OP_GELU_F32, OP_RQ_PT, OP_RQ_PC,
    OP_FOLD, OP_GELU_FUSED, OP_PERM, OP_SMX_SUB, OP_LNF_FUSED
} op_kind;

typedef struct job {
    op_kind                   op;
    int64_t                   rows, n;
    const int32_t            *x;
    const float              *xf;
    float                    *yf;
    uint8_t                  *o8;
    int32_t                  *o32;
    const igq_softmax_params *smx;
    const igq_ln_params      *ln;
    const igq_gelu_params    *gelu;
    const float              *gamma, *beta;
    const int32_t            *m, *s, *z;
    igq_u8_perm_plan_fn       perm_plan; /* OP_PERM: plan + permutation of rows x n bytes */
    igq_u8_perm_fn            perm;
    void                     *plan;
    const int64_t            *eps_tab; /* OP_LNF_FUSED: E table (index in_bits - e - k) */
    int32_t                  *xi;      /* OP_LNF_FUSED: one integer row */
} job;

static void run(const job *j)
{
    int64_t r;
    switch (j->op) {
    case OP_SMX_Q20: igq__i32_softmax(j->smx, j->rows, j->n, j->x, j->n, j->o32, j->n); break;
    case OP_SMX_SUB: /* copy the logits (included), then the fused kernel */
        memcpy(j->yf, j->x, (size_t)(j->rows * j->n) * sizeof(int32_t));
        igq__kernels()->i32_softmax_sub(j->smx, j->rows, j->n, (const int32_t *)j->yf, j->n,
                                        j->s, j->o32, j->n);
        break;
    case OP_SMX_F32:
        memcpy(j->yf, j->xf, (size_t)(j->rows * j->n) * sizeof(float));
        igq__f32_softmax(j->rows, j->n, 0.125f, j->yf, j->n);
        break;
    case OP_LN_I32: igq__i32_layernorm(j->ln, j->rows, j->x, j->n, j->o32, j->n); break;
    case OP_LNF_FUSED:
        for (r = 0; r < j->rows; r++)
            igq__kernels()->i32_ln_f32(j->ln, 22, j->eps_tab, j->xf + r * j->n, j->xi,
                                       j->o32 + r * j->n);
        break;
    case OP_LN_F32: igq__f32_layernorm(j->rows, j->n, j->xf, j->gamma, j->beta, 1e-6f, j->yf); break;
    case OP_GELU:
        for (r = 0; r < j->rows; r++)
            igq__i32_gelu(j->gelu, j->n, j->x + r * j->n, j->m, j->s, 1, j->o32 + r * j->n);
        break;
    case OP_GELU_F32:
        memcpy(j->yf, j->xf, (size_t)(j->rows * j->n) * sizeof(float));
        igq__f32_gelu(j->rows * j->n, j->yf);
        break;
    case OP_RQ_PT:
    case OP_RQ_PC:
        for (r = 0; r < j->rows; r++)
            igq__i32_requant(j->n, j->x + r * j->n, j->m, j->s, j->z, j->op == OP_RQ_PC, 0, 255,
                             j->o8 + r * j->n);
        break;
    case OP_GELU_FUSED:
        memcpy(j->yf, j->xf, (size_t)(j->rows * j->n) * sizeof(float));
        igq__i32_gelu_f32(j->gelu, j->rows * j->n, j->yf, (float)(1 << IGQ_GELU_FRAC),
                          (int32_t *)j->yf);
        break;
    case OP_PERM: /* the executor's use: one plan per call, then 4 rows per permutation */
        j->perm_plan(j->n, j->m, j->plan);
        for (r = 0; r < j->rows; r += 4)
            j->perm(j->rows - r < 4 ? j->rows - r : 4, j->n, (const uint8_t *)j->xf + r * j->n,
                    j->n, j->m, j->plan, j->o8 + r * j->n, j->n);
        break;
    case OP_FOLD:
        igq__i32_fold(j->rows, j->n, 0.01f, j->x, j->n, j->gamma, j->beta, j->yf, j->n, 0);
        break;
    }
}

/* Best seconds per call. */
static double time_job(const job *j)
{
    double best = 1e30, total = 0.0;
    int    batches = 0, reps = 1;
    for (;;) {
        const double t0 = now();
        double       dt;
        int          i;
        for (i = 0; i < reps; i++) run(j);
        dt = (now() - t0) / reps;
        if (dt < best) best = dt;
        total += dt * reps;
        batches++;
        if (dt * reps < 2e-3) reps *= 2;
        if (batches >= 3 && total >= g_min_time) break;
    }
    return best;
}

static void print_row(const char *label, const char *isa, int64_t shape, int64_t rows,
                      double sec, double bytes)
{
    printf("  %-22s %-11s %6lld %10.1f %9.2f\n", label, isa, (long long)shape,
           1e9 * sec / (double)rows, bytes / sec * 1e-9);
}

static void bench_speed(int only)
{
    static const int64_t smx_n[]  = {17, 50, 197};
    static const int64_t ln_c[]   = {128, 384, 768};
    static const int64_t rq_n[]   = {768, 3072};
    static const int64_t fold_n[] = {384, 768, 3072};
    const int64_t        maxe  = 197 * 3072;
    const igq_isa_level  start = igq__isa_active();
    int32_t             *x     = (int32_t *)xalloc((size_t)maxe * sizeof(int32_t));
    float               *xf    = (float *)xalloc((size_t)maxe * sizeof(float));
    float               *yf    = (float *)xalloc((size_t)maxe * sizeof(float));
    uint8_t             *o8    = (uint8_t *)xalloc((size_t)maxe);
    int32_t             *o32   = (int32_t *)xalloc((size_t)maxe * sizeof(int32_t));
    int32_t             *m     = (int32_t *)xalloc(3072 * sizeof(int32_t));
    int32_t             *s     = (int32_t *)xalloc(3072 * sizeof(int32_t));
    int32_t             *z     = (int32_t *)xalloc(3072 * sizeof(int32_t));
    float               *gamma = (float *)xalloc(3072 * sizeof(float));
    float               *beta  = (float *)xalloc(3072 * sizeof(float));
    int32_t             *xi    = (int32_t *)xalloc(3072 * sizeof(int32_t));
    static int64_t       eps_tab[334];
    igq_softmax_params  *smx   = (igq_softmax_params *)xalloc(sizeof *smx);
    igq_gelu_params     *gp    = (igq_gelu_params *)xalloc(sizeof *gp);
    int                  lv, i;
    int64_t              e;

    for (i = 0; i < 3072; i++) {
        z[i]     = (int32_t)(rnd() % 256);
        gamma[i] = (float)(1.0 + 0.3 * normal());
        beta[i]  = (float)(0.2 * normal());
    }
    for (i = 0; i < 334; i++) { /* E table of the executor's form: C^2 eps 4^j, C = 384 */
        const double v = ldexp(384.0 * 384.0 * 1e-6 * 4096.0 * 4096.0, 2 * (i - 162));
        eps_tab[i]     = v >= ldexp(1.0, 61) ? (int64_t)1 << 61 : (int64_t)floor(v + 0.5);
    }
    igq__softmax_params_init(smx, 1.0f / 1024);
    igq__gelu_params_init(gp);

    printf("\nSpeed (1 thread; GB/s of input + output + per-channel parameters)\n");
    printf("  %-22s %-11s %6s %10s %9s\n", "kernel", "isa", "N/C", "ns/row", "GB/s");
    for (lv = 0; lv < IGQ_ISA_COUNT; lv++) {
        const char *isa = igq__isa_name((igq_isa_level)lv);
        job         j;
        int         k;
        if (lv == IGQ_ISA_AVXVNNI) continue; /* = avx2 for these kernels */
        if (only >= 0 && lv != only) continue;
        if ((int)igq__isa_clamp((igq_isa_level)lv) != lv) continue;
        igq__dispatch_force((igq_isa_level)lv);
        memset(&j, 0, sizeof j);
        j.x = x, j.xf = xf, j.yf = yf, j.o8 = o8, j.o32 = o32, j.smx = smx, j.gelu = gp;
        j.m = m, j.s = s, j.z = z, j.gamma = gamma, j.beta = beta;
        j.eps_tab = eps_tab + 162, j.xi = xi;
        for (k = 0; k < 3; k++) { /* softmax: N rows of N (one head) */
            const int64_t n = smx_n[k];
            for (e = 0; e < n * n; e++) {
                x[e]  = iround(2.0 * normal() * 1024.0);
                xf[e] = (float)x[e] / 128.0f;
            }
            j.rows = n, j.n = n;
            j.op = OP_SMX_Q20;
            print_row("softmax q20", isa, n, n, time_job(&j), 8.0 * n * n);
            j.op = OP_SMX_F32;
            print_row("softmax f32", isa, n, n, time_job(&j), 8.0 * n * n);
            for (e = 0; e < n; e++) s[e] = (int32_t)(rnd() % 2001) - 1000; /* v */
            j.op = OP_SMX_SUB;
            print_row("softmax x-v (fused)", isa, n, n, time_job(&j), 8.0 * n * n);
        }
        for (k = 0; k < 3; k++) { /* layernorm: 197 tokens */
            const int64_t C = ln_c[k];
            igq_ln_params p;
            for (e = 0; e < 197 * C; e++) {
                x[e]  = iround((normal() + (e % C == 7 ? 30.0 : 0.0)) * 4096.0);
                xf[e] = (float)x[e] / 4096.0f;
            }
            if (igq__ln_params_init(&p, C, 1.0f / 4096, 1e-6f, gamma, beta, 1.0f / 65536) != IGQ_OK) exit(1);
            j.ln = &p, j.rows = 197, j.n = C;
            j.op = OP_LN_I32;
            print_row("layernorm -> int32", isa, C, 197, time_job(&j), 197.0 * C * 8.0 + 12.0 * C);
            j.op = OP_LNF_FUSED;
            print_row("ln f32 in (fused)", isa, C, 197, time_job(&j), 197.0 * C * 8.0 + 12.0 * C);
            j.op = OP_LN_F32;
            print_row("layernorm f32", isa, C, 197, time_job(&j), 197.0 * C * 8.0 + 8.0 * C);
            igq__ln_params_free(&p);
        }
        for (k = 0; k < 2; k++) { /* gelu: 197 rows of fc1 accumulators, 4C = 1536 / 3072 */
            const int64_t n = k == 0 ? 1536 : 3072;
            for (e = 0; e < 197 * n; e++) {
                x[e]  = iround(normal() * 3.0 / 1e-3); /* real input ~ N(0, 9), scale 1e-3 */
                xf[e] = (float)x[e] * 1e-3f;
            }
            for (i = 0; i < n; i++) igq__requant_multiplier(ldexp(1e-3, IGQ_GELU_FRAC), &m[i], &s[i]);
            j.rows = 197, j.n = n;
            j.op = OP_GELU;
            print_row("gelu int32 -> q20", isa, n, 197, time_job(&j), 197.0 * n * 8.0 + 8.0 * n);
            j.op = OP_GELU_F32;
            print_row("gelu f32", isa, n, 197, time_job(&j), 197.0 * n * 8.0);
            j.op = OP_GELU_FUSED;
            print_row("gelu f32->q20 fused", isa, n, 197, time_job(&j), 197.0 * n * 8.0);
        }
        for (i = 0; i < 3072; i++)
            igq__requant_multiplier(ldexp(1.0, -16) / (0.01 + 0.04 * uniform()), &m[i], &s[i]);
        for (k = 0; k < 2; k++) { /* requant */
            const int64_t n = rq_n[k];
            for (e = 0; e < 197 * n; e++) x[e] = iround(normal() * 65536.0);
            j.rows = 197, j.n = n;
            j.op = OP_RQ_PT;
            print_row("requant per-tensor", isa, n, 197, time_job(&j), 197.0 * n * 5.0);
            j.op = OP_RQ_PC;
            print_row("requant per-channel", isa, n, 197, time_job(&j), 197.0 * n * 5.0 + 12.0 * n);
        }
        for (k = 0; k < 3; k++) { /* byte permutation into group order (8 groups) */
            const int64_t n    = fold_n[k];
            int32_t      *grp  = (int32_t *)xalloc((size_t)n * sizeof(int32_t));
            int32_t       cnt[9] = {0};
            int           v;
            for (i = 0; i < n; i++) grp[i] = (int32_t)(rnd() % 8), cnt[grp[i] + 1]++;
            for (v = 0; v < 8; v++) cnt[v + 1] += cnt[v];
            for (i = 0; i < n; i++) m[cnt[grp[i]]++] = i; /* counting sort by group */
            free(grp);
            for (e = 0; e < 197 * n; e++) ((uint8_t *)xf)[e] = (uint8_t)rnd();
            j.plan = xalloc(IGQ_U8_PERM_PLAN_SIZE(n));
            j.rows = 197, j.n = n, j.op = OP_PERM;
            j.perm_plan = igq__kernels()->u8_perm_plan, j.perm = igq__kernels()->u8_perm;
            print_row("u8 perm (table)", isa, n, 197, time_job(&j), 197.0 * n * 2.0);
            if (lv != IGQ_ISA_SCALAR) { /* before: the byte loop of the executor */
                j.perm_plan = igq__u8_perm_plan__scalar, j.perm = igq__u8_perm__scalar;
                print_row("u8 perm (byte loop)", isa, n, 197, time_job(&j), 197.0 * n * 2.0);
            }
#ifdef IGQ_X86_KERNELS
            if (lv == IGQ_ISA_AVX512VNNI && igq__cpu_has_avx512vbmi()) {
                j.perm_plan = igq__u8_perm_plan__avx512, j.perm = igq__u8_perm__avx512;
                print_row("u8 perm (vpgatherdd)", isa, n, 197, time_job(&j), 197.0 * n * 2.0);
            }
#endif
            free(j.plan);
        }
        for (i = 0; i < 3072; i++)
            igq__requant_multiplier(ldexp(1.0, -16) / (0.01 + 0.04 * uniform()), &m[i], &s[i]);
        for (k = 0; k < 3; k++) { /* fold: the last group's epilogue */
            const int64_t n = fold_n[k];
            for (e = 0; e < 197 * n; e++) x[e] = iround(normal() * 1e5), yf[e] = 0.0f;
            j.rows = 197, j.n = n;
            j.op = OP_FOLD;
            print_row("fold", isa, n, 197, time_job(&j), 197.0 * n * 12.0 + 8.0 * n);
        }
    }
    igq__dispatch_force(start);
    free(x), free(xf), free(yf), free(o8), free(o32), free(m), free(s), free(z);
    free(gamma), free(beta), free(xi), free(smx), free(gp);
}

/* ---- accuracy: softmax ---- */

/* I-BERT i-exp (ALGORITHMS.md 4.2) of q <= 0 at scale S: e (any positive scale). */
static double ibert_exp(int64_t q, double S)
{
    const double  a = 0.35815147, b = 0.96963238 / 0.35815147, c = 1.0 / 0.35815147;
    const int64_t n = 30, x0 = (int64_t)floor(-0.6931 / S);
    const int64_t bi = (int64_t)floor(b / S), ci = (int64_t)floor(c / (S * S));
    int64_t       z, r, e;
    (void)a;
    if (q < n * x0) q = n * x0;
    z = q / x0; /* both negative: floor = trunc here (q / x0 >= 0) */
    r = q - x0 * z;
    e = r * (r + bi) + ci;
    return e < 0 ? 0.0 : ldexp((double)e, (int)(n - z));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

/* I-ViT Shiftmax exp (ALGORITHMS.md 4.3) of q <= 0 at scale S. */
static double shift_exp(int64_t q, double S)
{
    const int64_t n = 15, q1 = (int64_t)floor(-1.0 / S);
    int64_t       z, r, e2;
    q = q + floor_div(q, 2) - floor_div(q, 16);
    if (q < n * q1) q = n * q1;
    z  = floor_div(q, q1);
    r  = q - z * q1;
    e2 = r - 2 * q1;
    return floor(ldexp((double)e2, (int)(n - z)) / 2.0);
}

typedef struct acc_stat {
    int64_t codes, differ, maxdiff, rows;
    double  sumdev; /* sum over rows of |sum codes - Q| */
    int64_t maxdev;
} acc_stat;

static void acc_add(acc_stat *st, const int32_t *code, const double *P, int64_t n, int32_t Q)
{
    int64_t i, sum = 0;
    for (i = 0; i < n; i++) {
        const int64_t ref = (int64_t)nearbyint(P[i] * Q);
        const int64_t d   = llabs((int64_t)code[i] - ref);
        st->codes++;
        st->differ += d != 0;
        if (d > st->maxdiff) st->maxdiff = d;
        sum += code[i];
    }
    st->rows++;
    st->sumdev += (double)llabs(sum - Q);
    if (llabs(sum - Q) > st->maxdev) st->maxdev = llabs(sum - Q);
}

static void accuracy_softmax(void)
{
    static const double  spreads[] = {1.0, 2.0, 4.0, 8.0, -1.0}; /* -1: peaky */
    static const int64_t ns[]      = {50, 197, 577};
    static const double  scales[]  = {1.0 / 1024, 0.05};
    int                  bits, isp, ic, in, rep, meth;
    printf("\nSoftmax accuracy: codes vs round(Q P) of the exact softmax of the same integer "
           "logits (Q = 2^A - 1),\n  %d rows per cell (N = 50, 197, 577; 10 rows each); "
           "'differ' = share of codes != reference, 'max' = max |diff|,\n  'sum dev' = mean "
           "(max) |sum of a row's codes - Q| (per-element rounding: the exact reference's own\n  "
           "codes deviate the same wherever 'differ' is 0)\n",
           3 * 10);
    for (ic = 0; ic < 2; ic++) {
        const double S = scales[ic];
        printf("  S_in = %g (logit step), data: N(0, spread^2) logits in real units; peaky = "
               "N(0,1) + one logit at +8\n",
               S);
        printf("  %-2s %-7s | %-28s | %-28s | %-28s\n", "A", "spread", "table exp (this library)",
               "I-BERT i-exp", "Shiftmax exp");
        for (bits = 8; bits >= 4; bits -= 2) {
            igq_softmax_params p;
            const int32_t      Q = (1 << bits) - 1;
            igq__softmax_params_init(&p, (float)S);
            for (isp = 0; isp < 5; isp++) {
                acc_stat st[3];
                memset(st, 0, sizeof st);
                for (in = 0; in < 3; in++)
                    for (rep = 0; rep < 10; rep++) {
                        const int64_t n = ns[in];
                        int32_t      *x = (int32_t *)xalloc((size_t)n * sizeof(int32_t));
                        int32_t      *c  = (int32_t *)xalloc((size_t)n * sizeof(int32_t));
                        double       *P  = (double *)xalloc((size_t)n * sizeof(double));
                        double       *e  = (double *)xalloc((size_t)n * sizeof(double));
                        double        sum = 0.0;
                        int32_t       mx;
                        int64_t       i;
                        for (i = 0; i < n; i++)
                            x[i] = iround((spreads[isp] > 0 ? spreads[isp] : 1.0) * normal() / S);
                        if (spreads[isp] < 0) x[rnd() % (uint64_t)n] = iround(8.0 / S);
                        mx = x[0];
                        for (i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
                        for (i = 0; i < n; i++) sum += (P[i] = exp(((double)x[i] - mx) * S));
                        for (i = 0; i < n; i++) P[i] /= sum;
                        for (meth = 0; meth < 3; meth++) {
                            double se = 0.0;
                            for (i = 0; i < n; i++) {
                                const int64_t q = (int64_t)x[i] - mx;
                                se += (e[i] = meth == 0   ? igq__smx_exp(&p, (uint32_t)mx - (uint32_t)x[i])
                                              : meth == 1 ? ibert_exp(q, S)
                                                          : shift_exp(q, S));
                            }
                            for (i = 0; i < n; i++) c[i] = (int32_t)floor(Q * e[i] / se + 0.5);
                            acc_add(&st[meth], c, P, n, Q);
                        }
                        free(x), free(c), free(P), free(e);
                    }
                if (spreads[isp] > 0)
                    printf("  %-2d %-7.0f", bits, spreads[isp]);
                else
                    printf("  %-2d %-7s", bits, "peaky");
                for (meth = 0; meth < 3; meth++)
                    printf(" | %6.3f%% max %2lld sum dev %4.2f (%2lld)",
                           100.0 * (double)st[meth].differ / (double)st[meth].codes,
                           (long long)st[meth].maxdiff, st[meth].sumdev / (double)st[meth].rows,
                           (long long)st[meth].maxdev);
                printf("\n");
            }
        }
    }
}

/* ---- accuracy: layernorm ---- */

static void accuracy_ln(void)
{
    static const int64_t Cs[]  = {384, 768, 3072};
    static const double  mag[] = {64.0, 4096.0, 1048576.0}; /* x units per real 1 */
    int                  bits, ic, im, rep;
    printf("\nLayerNorm accuracy: codes (int32 output, then requantized) vs float LayerNorm "
           "(double) + the same per-tensor quantizer (rne),\n  row range as the quantizer range; residual-like rows N(0,1) with "
           "an outlier channel every 97 (+20), 20 rows per cell\n");
    printf("  %-5s %-6s %-9s | %-10s %-6s %-s\n", "bits", "C", "x/real", "differ", "max", "pre-shift k");
    for (bits = 8; bits >= 4; bits -= 4)
        for (ic = 0; ic < 3; ic++)
            for (im = 0; im < 3; im++) {
                const int64_t C = Cs[ic];
                const int32_t qmax = (1 << bits) - 1;
                int64_t       codes = 0, differ = 0, maxdiff = 0;
                int           kmax = 0;
                for (rep = 0; rep < 20; rep++) {
                    float        *gamma = (float *)xalloc((size_t)C * sizeof(float));
                    float        *beta  = (float *)xalloc((size_t)C * sizeof(float));
                    int32_t      *x     = (int32_t *)xalloc((size_t)C * sizeof(int32_t));
                    uint8_t      *code  = (uint8_t *)xalloc((size_t)C);
                    int32_t      *a     = (int32_t *)xalloc((size_t)C * sizeof(int32_t));
                    double       *y     = (double *)xalloc((size_t)C * sizeof(double));
                    double        mean = 0.0, var = 0.0, lo = 1e300, hi = -1e300, s_out;
                    const double  xs = 1.0 / mag[im];
                    igq_ln_params p;
                    igq_ln_row    row;
                    int32_t       m, s, zero;
                    int64_t       c;
                    for (c = 0; c < C; c++) {
                        gamma[c] = (float)(1.0 + 0.3 * normal());
                        beta[c]  = (float)(0.2 * normal());
                        x[c]     = iround(mag[im] * (normal() + (c % 97 == 5 ? 20.0 : 0.0)));
                        mean += x[c];
                    }
                    mean /= (double)C;
                    for (c = 0; c < C; c++) var += (x[c] - mean) * (x[c] - mean);
                    var /= (double)C;
                    for (c = 0; c < C; c++) {
                        y[c] = gamma[c] * (x[c] - mean) / sqrt(var + 1e-6 / (xs * xs)) + beta[c];
                        lo   = y[c] < lo ? y[c] : lo;
                        hi   = y[c] > hi ? y[c] : hi;
                    }
                    s_out = (hi - lo) / qmax;
                    zero  = (int32_t)nearbyint(-lo / s_out);
                    igq__ln_params_init(&p, C, (float)xs, 1e-6f, gamma, beta, 1.0f / 65536);
                    igq__requant_multiplier(p.y_scale / s_out, &m, &s);
                    igq__i32_layernorm(&p, 1, x, C, a, C);
                    igq__i32_requant(C, a, &m, &s, &zero, 0, 0, qmax, code);
                    igq__i32_ln_stats__scalar(&p, x, &row);
                    kmax = row.k > kmax ? row.k : kmax;
                    for (c = 0; c < C; c++) {
                        int64_t ref = (int64_t)nearbyint(y[c] / s_out) + zero, d;
                        ref = ref < 0 ? 0 : ref > qmax ? qmax : ref;
                        d   = llabs(code[c] - ref);
                        codes++;
                        differ += d != 0;
                        maxdiff = d > maxdiff ? d : maxdiff;
                    }
                    igq__ln_params_free(&p);
                    free(gamma), free(beta), free(x), free(code), free(a), free(y);
                }
                printf("  %-5d %-6lld %-9.0f | %8.4f%% %-6lld %d\n", bits, (long long)C, mag[im],
                       100.0 * (double)differ / (double)codes, (long long)maxdiff, kmax);
            }
}

/* ---- accuracy: gelu, requant ---- */

static double gelu_d(double x) { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440)); }

static void accuracy_gelu_requant(void)
{
    const int        F = IGQ_GELU_FRAC;
    igq_gelu_params *p = (igq_gelu_params *)xalloc(sizeof *p);
    double           maxg = 0.0, maxr = 0.0, sum = 0.0;
    int64_t          i, cnt = 0, differ = 0;
    int32_t          u;
    igq__gelu_params_init(p);
    for (u = -(9 << F); u <= (9 << F); u++) {
        const double e = fabs(igq__gelu_eval(p, u) - ldexp(gelu_d(ldexp((double)u, -F)), F));
        maxg = e > maxg ? e : maxg;
        sum += e;
        cnt++;
    }
    for (i = 0; i < 1000000; i++) {
        const double  sc  = exp2(-14.0 + 10.0 * uniform());
        const int32_t acc = iround(normal() * 3.0 / sc);
        int32_t       m, s, out;
        igq__requant_multiplier(ldexp(sc, F), &m, &s);
        igq__i32_gelu__scalar(p, 1, &acc, &m, &s, 0, &out);
        if (fabs(out - ldexp(gelu_d(acc * sc), F)) > maxr) maxr = fabs(out - ldexp(gelu_d(acc * sc), F));
    }
    printf("\nGELU (int32 path, 2^12 intervals over [-8, 8), linear interpolation, out at 2^-%d):\n"
           "  every input at 2^-%d in [-9, 9]: max |out - GELU(u)| = %.4f units (%.2e), mean %.4f; "
           "bound 2.596 (nonlin.h)\n  1e6 random accumulators x dyadic scales: max %.4f units (%.2e) "
           "against the real input\n",
           F, F, maxg, ldexp(maxg, -F), sum / (double)cnt, maxr, ldexp(maxr, -F));
    cnt  = 0;
    maxr = 0.0;
    for (i = 0; i < 2000000; i++) { /* |x M| < 2^12 (codes), then |x M| < 2^30 */
        const int     big = i >= 1000000;
        const double  M   = exp2(-30.0 + 30.0 * uniform());
        const double  lim = big ? ldexp(1.0, 30) : ldexp(1.0, 12);
        const int32_t x   = iround((2.0 * uniform() - 1.0) * fmin(lim / M, 2147483647.0));
        const double  xm  = (double)x * M;
        int32_t       m, s;
        int64_t       d;
        igq__requant_multiplier(M, &m, &s);
        d = llabs(igq__requant64(x, m, s) - (int64_t)nearbyint(xm));
        if (d > 1) maxr = 1e9;
        if (big) cnt += d != 0;
        else differ += d != 0;
    }
    printf("Requant: r != rne(x M) for %.5f%% of 1e6 random (x, M) with |x M| < 2^12 and %.4f%% with "
           "|x M| < 2^30\n  (ties, and the multiplier's relative error 2^-31 once |x M| is large); "
           "never by more than 1%s\n",
           100.0 * (double)differ / 1e6, 100.0 * (double)cnt / 1e6, maxr > 1e8 ? " -- VIOLATED" : "");
    free(p);
}

int main(int argc, char **argv)
{
    int only = -1, accuracy = 1, i;
    for (i = 1; i < argc; i++) {
        igq_isa_level lv;
        if (strcmp(argv[i], "--quick") == 0) g_min_time = 0.02;
        else if (strcmp(argv[i], "--wall") == 0) g_clock = CLOCK_MONOTONIC;
        else if (strcmp(argv[i], "--no-accuracy") == 0) accuracy = 0;
        else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc && igq__isa_parse(argv[i + 1], &lv)) {
            only = (int)lv;
            i++;
        } else {
            fprintf(stderr, "usage: %s [--quick] [--wall] [--isa scalar|avx2|avxvnni|avx512vnni] [--no-accuracy]\n",
                    argv[0]);
            return 2;
        }
    }
    printf("bench_nonlin: detected %s, active %s\n", igq__isa_name(igq__isa_detected()),
           igq__isa_name(igq__isa_active()));
    bench_speed(only);
    if (accuracy) {
        accuracy_softmax();
        accuracy_ln();
        accuracy_gelu_requant();
    }
    return 0;
}
