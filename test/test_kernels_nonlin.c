/* Integer non-linear kernels (nonlin.h): requantization, softmax, LayerNorm, GELU.
 *
 * Two kinds of checks:
 *  1. Bit-exactness. Every ISA level (forced with igq__dispatch_force(), levels the CPU cannot
 *     run are skipped and counted) against the scalar reference, over sizes 1..70, 197, 577,
 *     1023..1025, 3072 and extreme inputs (INT32_MIN / INT32_MAX, constant rows, alternating
 *     extremes, full-range random), with sentinels after every output row. The scalar
 *     reference is itself checked against the documented integer rule written independently
 *     here (requantization by int64 floor division; isqrt by its defining inequality).
 *  2. Accuracy against the real-valued functions (double precision), with bounds DERIVED from
 *     the integer algorithm's roundings (see each test's comment), never tuned:
 *     - requant: |r - x M| <= 1/2 + |x| |M' - M| (+ the test's own double rounding), and
 *       |r - round(x M)| <= 1 for |x M| < 2^31 - 2;
 *     - softmax: |p - 2^20 P_i| and |code - Q P_i| <= 1/2 + eta_i, eta_i from the table
 *       precision (see softmax_check_row; codes: the same normalization with Q = 2^A - 1,
 *       test/support/oracles.c);
 *     - LayerNorm: |a_c - Y_c / S_y| and, after requantization, |code - (Y_c / s + z)|
 *       <= 1/2 + eta_c (clamped), eta_c from the shifts, the square root, the reciprocal and
 *       the folded multipliers (see ln_check_row);
 *     - GELU: |out - GELU(u 2^-F) 2^F| <= 2.596 + 1e-6 units (F = 20; table + interpolation rounding +
 *       interpolation error).
 *     The measured maxima (and the share of codes differing from the float reference) are
 *     printed; bench_nonlin prints the full tables. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "kernels/dispatch.h"
#include "kernels/nonlin.h"
#include "kernels/nonlin_inl.h"
#include "quant/quant.h"
#include "support/oracles.h"
#include "support/testutil.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define GUARD    16
#define SENT8    0xa5
#define SENT32   ((int32_t)0x7eadbeef)

static igq_isa_level g_start;

static igq_isa_level g_level_values[IGQ_ISA_COUNT] = { /* not const: cmocka state is void * */
    IGQ_ISA_SCALAR, IGQ_ISA_AVX2, IGQ_ISA_AVXVNNI, IGQ_ISA_AVX512VNNI};

/* 1..70, 197, 577 (ViT token counts), 1023..1025 (the softmax e buffer), 3072 */
static int64_t g_sizes[80];
static int     g_nsizes;

static void init_sizes(void)
{
    static const int64_t extra[] = {197, 577, 1023, 1024, 1025, 3072};
    int                  i;
    g_nsizes = 0;
    for (i = 1; i <= 70; i++) g_sizes[g_nsizes++] = i;
    for (i = 0; i < COUNT(extra); i++) g_sizes[g_nsizes++] = extra[i];
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);
    assert_non_null(p);
    return p;
}

static int32_t rnd_i32(tu_rng *r) { return (int32_t)(uint32_t)tu_rng_next(r); }

static int32_t rnd_range(tu_rng *r, int64_t lo, int64_t hi) /* [lo, hi] */
{
    return (int32_t)(lo + (int64_t)(tu_rng_next(r) % (uint64_t)(hi - lo + 1)));
}

static int32_t clamp_i32(double v)
{
    v = floor(v + 0.5);
    return v > 2147483647.0 ? INT32_MAX : v < -2147483648.0 ? INT32_MIN : (int32_t)v;
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

/* Group setup: the level the once-init chose (IGQ_ISA honoured), restored after each level
 * test; the size list. */
static int group_setup(void **state)
{
    (void)state;
    g_start = igq__isa_active();
    init_sizes();
    fprintf(stderr, "  detected %s, active %s\n", igq__isa_name(igq__isa_detected()),
            igq__isa_name(g_start));
    return 0;
}

/* ---- integer square root ----------------------------------------------------------------- */

/* Newton's iteration from above (igq__isqrt64 before it took the double root), counting
 * divisions: a second computation of floor sqrt to compare with. */
static uint32_t isqrt_count(uint64_t n, int *divs)
{
    uint64_t x, y;
    *divs = 0;
    if (n == 0) return 0;
    x = (uint64_t)1 << ((igq__bitlen64(n) + 1) / 2);
    for (;;) {
        y = (x + n / x) >> 1;
        (*divs)++;
        if (y >= x) return (uint32_t)x;
        x = y;
    }
}

static void check_isqrt(uint64_t n, int *maxdiv)
{
    const uint64_t r = igq__isqrt64(n);
    int            d;
    assert_true(r <= 0xffffffffu);
    assert_true(r * r <= n);
    if (r < 0xffffffffu) assert_true((r + 1) * (r + 1) > n); /* else (r+1)^2 = 2^64 > n */
    assert_int_equal(isqrt_count(n, &d), r);
    if (d > *maxdiv) *maxdiv = d;
}

/* floor sqrt by its definition: every n <= 2^17, and around r^2 for r at every bit length
 * (r = 2^b - 1, 2^b, 2^b + 1 and random r) n = r^2 - 1, r^2, r^2 + 2r, plus random n of every
 * bit length and UINT64_MAX. The division count of the iteration is at most 7 (nonlin_inl.h). */
static void test_isqrt(void **state)
{
    tu_rng   r;
    uint64_t n;
    int      b, i, maxdiv = 0;
    (void)state;
    tu_rng_seed(&r, 11);
    for (n = 0; n <= (1u << 17); n++) check_isqrt(n, &maxdiv);
    for (b = 0; b <= 32; b++)
        for (i = 0; i < 40; i++) {
            uint64_t rr = i == 0 ? ((uint64_t)1 << b) - 1 : i == 1 ? (uint64_t)1 << b
                          : i == 2 ? ((uint64_t)1 << b) + 1
                                   : (tu_rng_next(&r) >> (64 - (b > 0 ? b : 1))) | ((uint64_t)1 << b >> 1);
            if (rr > 0xffffffffu) rr = 0xffffffffu;
            check_isqrt(rr * rr, &maxdiv);
            if (rr > 0) check_isqrt(rr * rr - 1, &maxdiv);
            check_isqrt(rr * rr + 2 * rr, &maxdiv);
        }
    for (b = 1; b <= 64; b++)
        for (i = 0; i < 2000; i++) check_isqrt(tu_rng_next(&r) >> (64 - b), &maxdiv);
    check_isqrt(UINT64_MAX, &maxdiv);
    assert_int_equal(igq__isqrt64(UINT64_MAX), 0xffffffffu);
    fprintf(stderr, "  max divisions: %d\n", maxdiv);
    assert_true(maxdiv <= 7);
}

/* ---- requantization ---------------------------------------------------------------------- */

/* The documented rule, independently: floor((x m + 2^(s-1)) / 2^s) by int64 division. */
static int64_t spec_requant(int32_t x, int32_t m, int32_t s)
{
    const int64_t num = (int64_t)x * m + (s > 0 ? (int64_t)1 << (s - 1) : 0);
    const int64_t d   = (int64_t)1 << s;
    int64_t       q   = num / d;
    if (num % d != 0 && num < 0) q--;
    return q;
}

static uint8_t spec_code(int32_t x, int32_t m, int32_t s, int32_t z, int32_t qmin, int32_t qmax)
{
    const int64_t v = spec_requant(x, m, s) + z;
    return (uint8_t)(v < qmin ? qmin : v > qmax ? qmax : v);
}

static double rnd_multiplier(tu_rng *r, double lo_log2, double hi_log2)
{
    return exp2(lo_log2 + (hi_log2 - lo_log2) * tu_rng_uniform(r));
}

static void test_requant_multiplier(void **state)
{
    static const double edges[] = {1.0,  0.5,     2.0,    0.75,  1.0 - 1e-12, 1.0 + 1e-12,
                                   1e-9, 3.0e-10, 2.3e-10, 1e-12, 1e-30,      5e8,
                                   1.5e9, 2147483647.0, 2147483647.9, 2147483648.0, 1e20,
                                   2.3283064365386963e-10 /* 2^-32 */,
                                   2.3283064365386963e-10 * (1.0 - 1e-15),
                                   2147483648.0 * (1.0 - 1e-15), 1.0 - 1.1641532182693481e-10};
    tu_rng r;
    int    i;
    (void)state;
    tu_rng_seed(&r, 21);
    for (i = 0; i < COUNT(edges) + 20000; i++) {
        const double M = i < COUNT(edges) ? edges[i] : rnd_multiplier(&r, -40.0, 34.0);
        int32_t      m, s;
        igq__requant_multiplier(M, &m, &s);
        assert_true(s >= 0 && s <= IGQ_RQ_MAX_SHIFT);
        if (m == 0) { /* only below 2^-32 (just below it, frac 2^31 may round up to 2^-32) */
            assert_true(M < ldexp(1.0, -32) && s == 0);
        } else if (M >= ldexp(1.0, 31) - 0.5) { /* frac 2^31 rounds to 2^31: saturating */
            assert_true(m == INT32_MAX && s == 0);
        } else {
            const double Mp = ldexp((double)m, -s);
            assert_true(m >= (1 << 30));
            assert_true(fabs(Mp - M) <= ldexp(1.0, -s - 1));
        }
    }
    {
        int32_t m, s;
        igq__requant_multiplier(0.0, &m, &s);
        assert_true(m == 0 && s == 0);
        igq__requant_multiplier(-1.0, &m, &s);
        assert_true(m == 0 && s == 0);
        igq__requant_multiplier(NAN, &m, &s);
        assert_true(m == 0 && s == 0);
        igq__requant_multiplier(HUGE_VAL, &m, &s);
        assert_true(m == INT32_MAX && s == 0);
        igq__requant_multiplier(0.75, &m, &s); /* 0.75 = 3 2^30 / 2^32 */
        assert_true(m == 3 << 29 && s == 31);
    }
}

/* Scalar helper against the documented rule (exact) and against exact real arithmetic
 * (bounded): |r - x M| <= 1/2 + |x| |M' - M| + |x M| 2^-50 + 2^-20 (the double arithmetic of
 * the test itself), and |r - rne(x M)| <= 1 for |x M| < 2^31 - 2 (then |x (M' - M)| < 1). */
static void test_requant_scalar(void **state)
{
    static const int32_t xs[] = {0, 1, -1, 2, -2, 3, INT32_MAX, INT32_MIN, INT32_MIN + 1,
                                 INT32_MAX - 1, 1 << 30, -(1 << 30), 12345, -12345};
    tu_rng               r;
    int                  i, j, within1 = 0;
    double               maxerr = 0.0;
    (void)state;
    tu_rng_seed(&r, 22);
    for (i = 0; i < 3000; i++) {
        const double M = i < 10 ? ldexp(1.0, -i * 7) : rnd_multiplier(&r, -36.0, 33.0);
        int32_t      m, s;
        igq__requant_multiplier(M, &m, &s);
        for (j = 0; j < COUNT(xs) + 60; j++) {
            const int32_t x   = j < COUNT(xs) ? xs[j] : j & 1 ? rnd_i32(&r) : rnd_range(&r, -70000, 70000);
            const int64_t got = igq__requant64(x, m, s);
            const double  xm  = (double)x * M;
            const double  err = fabs((double)got - xm);
            const double  bnd = 0.5 + fabs((double)x) * fabs(ldexp((double)m, -s) - M) +
                               fabs(xm) * ldexp(1.0, -50) + ldexp(1.0, -20);
            assert_true(got == spec_requant(x, m, s));
            assert_int_equal(igq__requant(x, m, s), igq__sat32(got));
            if (!(m == INT32_MAX && s == 0) && m != 0) {
                if (err > bnd) {
                    fprintf(stderr, "  x %d M %.17g (m %d s %d): r %lld, |r - xM| %.6g > %.6g\n", x, M,
                            m, s, (long long)got, err, bnd);
                    fail();
                }
                if (fabs(xm) < ldexp(1.0, 31) && err - 0.5 > maxerr) maxerr = err - 0.5;
            }
            if (m == 0) assert_true(got == 0 && fabs(xm) < 0.5);
            if (fabs(xm) < ldexp(1.0, 31) - 2.0) {
                assert_true(fabs((double)got - nearbyint(xm)) <= 1.0);
                within1++;
            }
        }
    }
    fprintf(stderr, "  %d values within 1 of rne(x M); max |r - x M| - 1/2 = %.3g for |x M| < 2^31\n", within1,
            maxerr);
}

typedef struct rq_case {
    int64_t  n;
    int32_t *x, *m, *s, *z;
    int      per_channel;
    int32_t  qmin, qmax;
} rq_case;

static void rq_fill(rq_case *c, tu_rng *r, int64_t n, int kind)
{
    int64_t i;
    c->n           = n;
    c->per_channel = kind & 1;
    c->x           = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
    c->m           = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
    c->s           = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
    c->z           = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
    c->qmin = kind % 3 == 0 ? 0 : kind % 3 == 1 ? 0 : 3;
    c->qmax = kind % 3 == 0 ? 255 : kind % 3 == 1 ? 15 : 200;
    for (i = 0; i < n; i++) {
        const int mode = (kind / 2 + (int)i) % 7;
        c->x[i] = mode == 0 ? INT32_MIN : mode == 1 ? INT32_MAX : mode == 2 ? rnd_range(r, -1000, 1000)
                                                                           : rnd_i32(r);
        if (kind / 2 % 4 == 3) { /* raw extremes of the parameters */
            static const int32_t ms[] = {0, 1, 1 << 30, INT32_MAX};
            static const int32_t ss[] = {0, 1, 31, 62};
            static const int32_t zs[] = {INT32_MIN, INT32_MAX, 0, 128};
            c->m[i] = ms[tu_rng_next(r) % 4];
            c->s[i] = ss[tu_rng_next(r) % 4];
            c->z[i] = zs[tu_rng_next(r) % 4];
        } else {
            igq__requant_multiplier(rnd_multiplier(r, -34.0, 2.0), &c->m[i], &c->s[i]);
            c->z[i] = rnd_range(r, -300, 300);
        }
    }
}

static void rq_free(rq_case *c)
{
    free(c->x), free(c->m), free(c->s), free(c->z);
}

/* Every size and parameter kind: the level's row kernel = the reference = the spec, byte for
 * byte, and nothing after out[n) is written. */
static void test_requant_row(void **state)
{
    tu_rng  r;
    int     si, kind, cases = 0;
    uint8_t *got = NULL, *want = NULL;
    (void)enter_level(state);
    tu_rng_seed(&r, 23);
    got  = (uint8_t *)xmalloc(3072 + GUARD);
    want = (uint8_t *)xmalloc(3072 + GUARD);
    for (si = 0; si < g_nsizes; si++)
        for (kind = 0; kind < 16; kind++) {
            const int64_t n = g_sizes[si];
            rq_case       c;
            int64_t       i;
            rq_fill(&c, &r, n, kind);
            memset(got, SENT8, (size_t)n + GUARD);
            igq__kernels()->i32_requant(n, c.x, c.m, c.s, c.z, c.per_channel, c.qmin, c.qmax, got);
            igq__i32_requant__scalar(n, c.x, c.m, c.s, c.z, c.per_channel, c.qmin, c.qmax, want);
            for (i = 0; i < n; i++) {
                const int64_t k = c.per_channel ? i : 0;
                const uint8_t sp = spec_code(c.x[i], c.m[k], c.s[k], c.z[k], c.qmin, c.qmax);
                if (got[i] != want[i] || want[i] != sp) {
                    fprintf(stderr, "  requant n %lld kind %d i %lld: x %d m %d s %d z %d: got %d ref %d spec %d\n",
                            (long long)n, kind, (long long)i, c.x[i], c.m[k], c.s[k], c.z[k],
                            got[i], want[i], sp);
                    fail();
                }
            }
            for (i = n; i < n + GUARD; i++) assert_int_equal(got[i], SENT8);
            rq_free(&c);
            cases++;
        }
    igq__kernels()->i32_requant(0, NULL, NULL, NULL, NULL, 0, 0, 255, NULL); /* n = 0: no access */
    free(got);
    free(want);
    fprintf(stderr, "  %d rows bit-exact\n", cases);
}

/* ---- softmax ----------------------------------------------------------------------------- */

enum { SX_GAUSS, SX_GAUSS_WIDE, SX_FULL, SX_EQUAL_MIN, SX_EQUAL_MAX, SX_ALT, SX_PEAKY, SX_KINDS };

static void fill_logits(tu_rng *r, int32_t *x, int64_t n, int kind, double s_in)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        switch (kind) {
        case SX_GAUSS: x[i] = clamp_i32(tu_rng_normal(r) * 2.0 / s_in); break;
        case SX_GAUSS_WIDE: x[i] = clamp_i32(tu_rng_normal(r) * 12.0 / s_in); break;
        case SX_FULL: x[i] = rnd_i32(r); break;
        case SX_EQUAL_MIN: x[i] = INT32_MIN; break;
        case SX_EQUAL_MAX: x[i] = INT32_MAX; break;
        case SX_ALT: x[i] = i & 1 ? INT32_MAX : INT32_MIN; break;
        default: x[i] = clamp_i32(tu_rng_normal(r) / s_in); break;
        }
    }
    if (kind == SX_PEAKY && n > 0) x[tu_rng_next(r) % (uint64_t)n] = clamp_i32(9.0 / s_in);
}

static const double g_smx_scales[] = {1e-3, 3e-5, 1.0 / 1024, 0.5, 1e-9, 1e-13, 20.0};

/* Bit-exact output, 2 rows with strides, every size, kind and scale. */
static void test_softmax_exact(void **state)
{
    const igq_kernel_table *t;
    igq_softmax_params     *params; /* [scale], made once */
    tu_rng                  r;
    int                     si, kind, sc, cases = 0;
    (void)enter_level(state);
    t      = igq__kernels();
    params = (igq_softmax_params *)xmalloc(sizeof *params * COUNT(g_smx_scales));
    for (sc = 0; sc < COUNT(g_smx_scales); sc++)
        assert_int_equal(igq__softmax_params_init(&params[sc], (float)g_smx_scales[sc]), IGQ_OK);
    tu_rng_seed(&r, 31);
    for (si = 0; si < g_nsizes; si++)
        for (kind = 0; kind < SX_KINDS; kind++)
            for (sc = 0; sc < COUNT(g_smx_scales); sc++) {
                const int64_t             n = g_sizes[si], rows = 2, ldx = n + 3, ldo = n + 5;
                const igq_softmax_params *pp = &params[sc];
                int32_t *x   = (int32_t *)xmalloc((size_t)(rows * ldx) * sizeof(int32_t));
                int32_t *g32 = (int32_t *)xmalloc((size_t)(rows * ldo + GUARD) * sizeof(int32_t));
                int32_t *w32 = (int32_t *)xmalloc((size_t)(rows * ldo + GUARD) * sizeof(int32_t));
                int64_t  i, row;
                fill_logits(&r, x, rows * ldx, kind, g_smx_scales[sc]);
                for (i = 0; i < rows * ldo + GUARD; i++) g32[i] = w32[i] = SENT32;
                t->i32_softmax(pp, rows, n, x, ldx, g32, ldo);
                igq__i32_softmax__scalar(pp, rows, n, x, ldx, w32, ldo);
                for (i = 0; i < rows * ldo + GUARD; i++) {
                    if (g32[i] != w32[i]) {
                        fprintf(stderr, "  softmax n %lld kind %d S %g: [%lld] %d vs %d\n",
                                (long long)n, kind, g_smx_scales[sc], (long long)i, g32[i], w32[i]);
                        fail();
                    }
                }
                for (row = 0; row < rows; row++) /* padding untouched, p in range */
                    for (i = 0; i < ldo; i++) {
                        if (i >= n)
                            assert_int_equal(w32[row * ldo + i], SENT32);
                        else
                            assert_true(w32[row * ldo + i] >= 0 && w32[row * ldo + i] <= (1 << 20));
                    }
                /* uniform rows: p = round(2^20 / n - theta), 0 <= theta < 2^(22 - s) */
                if (kind == SX_EQUAL_MIN || kind == SX_EQUAL_MAX)
                    assert_true(fabs(w32[0] - ldexp(1.0, 20) / (double)n) <= 0.5 + ldexp(1.0, 22 - pp->s_q20));
                /* with column offsets v (every x - v inside int32): the _sub kernel at this
                 * level, its scalar reference, and the softmax of the subtracted rows agree */
                {
                    int32_t *v  = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
                    int32_t *xs = (int32_t *)xmalloc((size_t)(rows * ldx) * sizeof(int32_t));
                    for (i = 0; i < n; i++) {
                        v[i] = kind % 2 ? rnd_range(&r, -(1 << 20), 1 << 20) : rnd_i32(&r) / 4;
                        for (row = 0; row < rows; row++) {
                            const int64_t d = (int64_t)x[row * ldx + i] - v[i];
                            if (d < INT32_MIN || d > INT32_MAX) v[i] = 0;
                        }
                    }
                    for (i = 0; i < rows * ldx; i++) xs[i] = x[i] - (i % ldx < n ? v[i % ldx] : 0);
                    for (i = 0; i < rows * ldo + GUARD; i++) g32[i] = w32[i] = SENT32;
                    t->i32_softmax_sub(pp, rows, n, x, ldx, v, g32, ldo);
                    igq__i32_softmax_sub__scalar(pp, rows, n, x, ldx, v, w32, ldo);
                    for (i = 0; i < rows * ldo + GUARD; i++)
                        if (g32[i] != w32[i]) {
                            fprintf(stderr, "  softmax sub n %lld kind %d S %g: [%lld] %d vs %d\n",
                                    (long long)n, kind, g_smx_scales[sc], (long long)i, g32[i],
                                    w32[i]);
                            fail();
                        }
                    igq__i32_softmax__scalar(pp, rows, n, xs, ldx, g32, ldo);
                    assert_memory_equal(g32, w32, (size_t)(rows * ldo + GUARD) * sizeof(int32_t));
                    free(v), free(xs);
                }
                free(x), free(g32), free(w32);
                cases++;
            }
    free(params);
    fprintf(stderr, "  %d row pairs bit-exact (plain and with column offsets)\n", cases);
}

/* Derived bound of one row (nonlin.h, softmax). With E_i = 2^22 exp(-d_i S) (exact reals):
 *   |e_i - E_i| <= delta_i = 1.01 + E_i (exp(S'/2) - 1) [k0 > 0]
 *     (T_hi rounding 1/2, T_lo rounding 2^22 2^-31 = 2^-9, final rounding 1/2; the pre-shift
 *     moves the argument by <= S'/2; distances past the table have E_i <= 0.51);
 *   |sum e - sum E| <= D = sum delta_i;
 *   |p_i - P_i| <= (delta_i + P_i D) / (sum E - D);
 *   code_i = round_half_up(Q p_i - theta), 0 <= theta < 2^(22 - s);
 * so |code_i - Q P_i| <= 1/2 + Q (delta_i + P_i D) / (sum E - D) + 2^(22 - s). */
typedef struct smx_stats {
    int64_t codes, differ, maxdiff;
    double  max_excess; /* max of |code - Q P| - 1/2 */
} smx_stats;

static void softmax_check_row(const igq_softmax_params *p, int bits, int64_t n, const int32_t *x,
                              const uint8_t *code, const int32_t *q20, smx_stats *st)
{
    const double  Q  = (double)((1 << bits) - 1);
    const int32_t s8 = tu_softmax_codes_shift(bits);
    double  *E = (double *)xmalloc((size_t)n * sizeof(double));
    int32_t  mx = x[0];
    double   sumE = 0.0, D = 0.0, rel = p->k0 > 0 ? expm1(p->s_idx / 2.0) : 0.0;
    int64_t  i;
    for (i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    for (i = 0; i < n; i++) {
        E[i] = ldexp(exp(-((double)mx - (double)x[i]) * p->s_in), IGQ_SMX_F);
        sumE += E[i];
        D += 1.01 + E[i] * rel;
    }
    assert_true(sumE > D);
    for (i = 0; i < n; i++) {
        const double P   = E[i] / sumE;
        const double dlt = 1.01 + E[i] * rel;
        const double b8  = 0.5 + Q * (dlt + P * D) / (sumE - D) + ldexp(1.0, 22 - s8);
        const double b20 = 0.5 + ldexp((dlt + P * D) / (sumE - D), 20) + ldexp(1.0, 22 - p->s_q20);
        const double v8 = P * Q, v20 = ldexp(P, 20);
        const int64_t ref = (int64_t)floor(v8 + 0.5);
        if (fabs(code[i] - v8) > b8 || fabs(q20[i] - v20) > b20) {
            fprintf(stderr, "  softmax S %g A %d n %lld i %lld: code %d vs Q P = %.6f (bound %.6f); q20 %d vs %.3f (bound %.3f)\n",
                    p->s_in, bits, (long long)n, (long long)i, code[i], v8, b8, q20[i], v20, b20);
            fail();
        }
        if (fabs(code[i] - v8) - 0.5 > st->max_excess) st->max_excess = fabs(code[i] - v8) - 0.5;
        st->codes++;
        if (code[i] != ref) st->differ++;
        if (llabs(code[i] - ref) > st->maxdiff) st->maxdiff = llabs(code[i] - ref);
    }
    free(E);
}

/* Accuracy against the exact softmax of the (integer) logits times S, quantized to the same
 * A bits, on Gaussian logits of several real spreads and on peaky rows, fine and coarse S. */
static void test_softmax_accuracy(void **state)
{
    static const double  spreads[] = {0.5, 1.0, 2.0, 4.0, 8.0};
    static const double  scales[]  = {1.0 / 1024, 0.05, 3e-5};
    static const int64_t ns[]      = {17, 50, 197, 577};
    tu_rng               r;
    int                  bits, sc, sp, in, rep;
    (void)state;
    tu_rng_seed(&r, 32);
    for (bits = 8; bits >= 2; bits -= 2) {
        smx_stats st = {0, 0, 0, 0.0};
        for (sc = 0; sc < COUNT(scales); sc++) {
            igq_softmax_params p;
            assert_int_equal(igq__softmax_params_init(&p, (float)scales[sc]), IGQ_OK);
            for (in = 0; in < COUNT(ns); in++)
                for (sp = 0; sp <= COUNT(spreads); sp++)
                    for (rep = 0; rep < 3; rep++) {
                        const int64_t n = ns[in];
                        int32_t      *x = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
                        uint8_t      *c = (uint8_t *)xmalloc((size_t)n);
                        int32_t      *q = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
                        int64_t       i;
                        for (i = 0; i < n; i++)
                            x[i] = clamp_i32(tu_rng_normal(&r) * (sp < COUNT(spreads) ? spreads[sp] : 1.0) / p.s_in);
                        if (sp == COUNT(spreads)) x[0] = clamp_i32((6.0 + 2.0 * rep) / p.s_in); /* peaky */
                        tu_i32_softmax_codes(&p, bits, 1, n, x, n, c, n);
                        igq__i32_softmax(&p, 1, n, x, n, q, n);
                        softmax_check_row(&p, bits, n, x, c, q, &st);
                        free(x), free(c), free(q);
                    }
        }
        fprintf(stderr, "  A = %d: %lld codes, %.4f %% differ from round(Q P), max |diff| %lld, max |code - Q P| - 1/2 = %.2e\n",
                bits, (long long)st.codes, 100.0 * (double)st.differ / (double)st.codes,
                (long long)st.maxdiff, st.max_excess);
        assert_true(st.maxdiff <= 1);
    }
}

/* ---- LayerNorm --------------------------------------------------------------------------- */

enum { LN_SMALL, LN_MID, LN_BIG, LN_HUGE, LN_CONST, LN_ALLMIN, LN_ALT, LN_OUTLIER, LN_FULL, LN_KINDS };

static void fill_ln(tu_rng *r, int32_t *x, int64_t C, int kind)
{
    const double sig[] = {3.0, 1000.0, 1048576.0, 268435456.0};
    const double off   = kind < 4 ? sig[kind] * (tu_rng_uniform(r) - 0.5) * 4.0 : 0.0;
    int64_t      i;
    for (i = 0; i < C; i++) {
        switch (kind) {
        case LN_CONST: x[i] = -77; break;
        case LN_ALLMIN: x[i] = INT32_MIN; break;
        case LN_ALT: x[i] = i & 1 ? INT32_MAX : INT32_MIN; break;
        case LN_OUTLIER: x[i] = i == C / 2 ? INT32_MAX : rnd_range(r, -50, 50); break;
        case LN_FULL: x[i] = rnd_i32(r); break;
        default: x[i] = clamp_i32(off + sig[kind] * tu_rng_normal(r)); break;
        }
    }
}

typedef struct ln_setup {
    float *gamma, *beta;
    float  xs, ys, eps;
} ln_setup;

static void ln_setup_make(ln_setup *u, tu_rng *r, int64_t C, int variant)
{
    int64_t c;
    u->gamma = (float *)xmalloc((size_t)C * sizeof(float));
    u->beta  = (float *)xmalloc((size_t)C * sizeof(float));
    u->xs    = variant & 1 ? 1.0f / 4096 : 0.37f;
    u->ys    = variant & 2 ? 1.0f / 65536 : 1.0f / 512;
    u->eps   = variant & 4 ? 0.0f : 1e-6f;
    for (c = 0; c < C; c++) {
        u->gamma[c] = variant == 7 ? 0.0f : (float)(1.0 + 0.6 * tu_rng_normal(r));
        if (c % 11 == 3) u->gamma[c] = 0.0f;
        u->beta[c] = (float)(variant == 7 ? 40.0 * tu_rng_normal(r) : 0.5 * tu_rng_normal(r));
    }
}

static void ln_setup_free(ln_setup *u)
{
    free(u->gamma), free(u->beta);
}

/* Statistics (row constants) and int32 output bit-exact against the reference, every C, kind
 * and parameter variant. */
static void test_ln_exact(void **state)
{
    const igq_kernel_table *t;
    tu_rng                  r;
    int                     si, kind, cases = 0;
    (void)enter_level(state);
    t = igq__kernels();
    tu_rng_seed(&r, 41);
    for (si = 0; si < g_nsizes; si++)
        for (kind = 0; kind < LN_KINDS; kind++) {
            const int64_t C = g_sizes[si];
            const int     variant = (si + kind) % 8;
            ln_setup      u;
            igq_ln_params p;
            igq_ln_row    rg, rw;
            int32_t      *x   = (int32_t *)xmalloc((size_t)C * sizeof(int32_t));
            int32_t      *g32 = (int32_t *)xmalloc((size_t)(C + GUARD) * sizeof(int32_t));
            int32_t      *w32 = (int32_t *)xmalloc((size_t)(C + GUARD) * sizeof(int32_t));
            int64_t       i;
            ln_setup_make(&u, &r, C, variant);
            assert_int_equal(igq__ln_params_init(&p, C, u.xs, u.eps, u.gamma, u.beta, u.ys), IGQ_OK);
            fill_ln(&r, x, C, kind);
            t->i32_ln_stats(&p, x, &rg);
            igq__i32_ln_stats__scalar(&p, x, &rw);
            if (memcmp(&rg, &rw, sizeof rg) != 0) {
                fprintf(stderr, "  ln stats C %lld kind %d: k %d/%d mu %d/%d sy %d/%d rcp %d/%d t %d/%d\n",
                        (long long)C, kind, rg.k, rw.k, rg.mu_k, rw.mu_k, rg.sum_y, rw.sum_y, rg.rcp,
                        rw.rcp, rg.t, rw.t);
                fail();
            }
            for (i = 0; i < C + GUARD; i++) g32[i] = w32[i] = SENT32;
            t->i32_ln_apply(&p, &rw, x, g32);
            igq__i32_ln_apply__scalar(&p, &rw, x, w32);
            for (i = 0; i < C + GUARD; i++)
                if (g32[i] != w32[i]) {
                    fprintf(stderr, "  ln apply C %lld kind %d variant %d c %lld: %d vs %d\n",
                            (long long)C, kind, variant, (long long)i, g32[i], w32[i]);
                    fail();
                }
            if (kind == LN_CONST || kind == LN_ALLMIN) /* D = V + E_k; V = 0 */
                for (i = 0; i < C; i++)
                    assert_int_equal(w32[i], igq__ln_affine(&p, i, 0));
            igq__ln_params_free(&p);
            ln_setup_free(&u);
            free(x), free(g32), free(w32);
            cases++;
        }
    fprintf(stderr, "  %d rows bit-exact (stats, int32 output)\n", cases);
}

/* LayerNorm from f32 rows (i32_ln_f32): every level bit-exact against the scalar reference, and
 * the reference against the executor's former composition (exec absmax, frexpf / ldexpf, exec
 * scale_rne, E_k copied from the table, then stats + apply). Rows: Gaussian at magnitudes from
 * 1e-30 to 1e30, a large common offset (pre-shift k = 0), exact half-way values, all-zero, a
 * NaN, an infinity, FLT_MAX, denormals (a factor beyond FLT_MAX: converted as a zero row). */
enum { LF_GAUSS, LF_OFFSET, LF_TIES, LF_ZERO, LF_NAN, LF_INF, LF_FLTMAX, LF_DENORM, LF_KINDS };

static void fill_ln_f32(tu_rng *r, float *x, int64_t C, int kind, int mag)
{
    static const double mags[] = {1e-30, 1e-3, 1.0, 37.0, 1e5, 1e30};
    const double        m      = mags[mag % 6];
    int64_t             i;
    for (i = 0; i < C; i++) {
        switch (kind) {
        case LF_OFFSET: x[i] = (float)(m * (1000.0 + 0.01 * tu_rng_normal(r))); break;
        case LF_TIES: x[i] = (float)(rnd_range(r, -4096, 4096) + 0.5) / 1024.0f; break;
        case LF_ZERO: x[i] = i % 3 == 1 ? -0.0f : 0.0f; break;
        case LF_DENORM: x[i] = (float)rnd_range(r, -100, 100) * 1e-43f; break;
        default: x[i] = (float)(m * tu_rng_normal(r)); break;
        }
    }
    if (kind == LF_NAN) x[C / 2] = NAN;
    if (kind == LF_INF) x[C - 1] = C % 2 ? INFINITY : -INFINITY;
    if (kind == LF_FLTMAX) x[C / 3] = C % 2 ? FLT_MAX : -FLT_MAX;
}

static void test_ln_f32_exact(void **state)
{
    enum { OFF = 162, NTAB = OFF + 22 + 150 };
    const igq_kernel_table *t;
    tu_rng                  r;
    int64_t                 tab[NTAB];
    int                     si, kind, j, cases = 0;
    (void)enter_level(state);
    t = igq__kernels();
    tu_rng_seed(&r, 43);
    for (si = 0; si < g_nsizes; si++)
        for (kind = 0; kind < LF_KINDS; kind++) {
            const int64_t C       = g_sizes[si];
            const int     variant = (si + kind) % 8, in_bits = si % 5 == 4 ? 14 : 22;
            ln_setup      u;
            igq_ln_params p, local;
            igq_ln_row    row;
            float        *x   = (float *)xmalloc((size_t)C * sizeof(float));
            int32_t      *xg  = (int32_t *)xmalloc((size_t)(C + GUARD) * sizeof(int32_t));
            int32_t      *xw  = (int32_t *)xmalloc((size_t)(C + GUARD) * sizeof(int32_t));
            int32_t      *g32 = (int32_t *)xmalloc((size_t)(C + GUARD) * sizeof(int32_t));
            int32_t      *w32 = (int32_t *)xmalloc((size_t)(C + GUARD) * sizeof(int32_t));
            int32_t      *o32 = (int32_t *)xmalloc((size_t)(C + GUARD) * sizeof(int32_t));
            int64_t       i;
            float         amax;
            int           e, k;
            ln_setup_make(&u, &r, C, variant);
            assert_int_equal(igq__ln_params_init(&p, C, u.xs, u.eps, u.gamma, u.beta, u.ys), IGQ_OK);
            /* the executor's table: round(C^2 eps 4^j), saturated at 2^61 */
            for (j = 0; j < NTAB; j++) {
                const double v = ldexp((double)C * (double)C * (u.eps + 1e-9), 2 * (j - OFF));
                tab[j] = v >= ldexp(1.0, 61) ? (int64_t)1 << 61 : (int64_t)floor(v + 0.5);
            }
            fill_ln_f32(&r, x, C, kind, si + kind);
            for (i = 0; i < C + GUARD; i++) xg[i] = xw[i] = g32[i] = w32[i] = o32[i] = SENT32;
            t->i32_ln_f32(&p, in_bits, tab + OFF, x, xg, g32);
            igq__i32_ln_f32__scalar(&p, in_bits, tab + OFF, x, xw, w32);
            for (i = 0; i < C + GUARD; i++)
                if (g32[i] != w32[i] || xg[i] != xw[i]) {
                    fprintf(stderr, "  ln f32 C %lld kind %d c %lld: out %d/%d xi %d/%d\n",
                            (long long)C, kind, (long long)i, g32[i], w32[i], xg[i], xw[i]);
                    fail();
                }
            /* the reference against the former composition (scalar helpers) */
            local = p;
            amax  = tu_absmax(C, x);
            if (amax > 0.0f && amax <= FLT_MAX) (void)frexpf(amax, &e);
            if (!(amax > 0.0f) || !(amax <= FLT_MAX) || in_bits - e > 127) {
                e = 0;
                for (i = 0; i < C; i++) o32[i] = 0;
            } else {
                tu_scale_rne(C, x, ldexpf(1.0f, in_bits - e), o32);
            }
            for (k = 0; k <= 32; k++) local.eps_k[k] = tab[in_bits - e - k + OFF];
            for (i = 0; i < C; i++) assert_int_equal(o32[i], xw[i]);
            igq__i32_ln_stats__scalar(&local, o32, &row);
            igq__i32_ln_apply__scalar(&local, &row, o32, g32);
            for (i = 0; i < C; i++)
                if (g32[i] != w32[i]) {
                    fprintf(stderr, "  ln f32 spec C %lld kind %d c %lld: %d vs %d\n",
                            (long long)C, kind, (long long)i, w32[i], g32[i]);
                    fail();
                }
            igq__ln_params_free(&p);
            ln_setup_free(&u);
            free(x), free(xg), free(xw), free(g32), free(w32), free(o32);
            cases++;
        }
    fprintf(stderr, "  %d f32 rows bit-exact (integer row, int32 output)\n", cases);
}

/* Derived bound of one row against LayerNorm in double (nonlin.h, LayerNorm):
 * N_c = (x_c - mean) / sqrt(var + eps / S_x^2) (x in its integer units),
 * A_c = (gamma_c N_c + beta_c) / S_y.
 *   n_c: |n_c - 2^N N_c| <= 1/2 + 2^N |N_c| (2^-29 + 2^-30 + 1/D)          (N = IGQ_LN_NBITS;
 *        rounding of n, relative errors of rcp and of the floor sqrt, rounding of E_k)
 *        + [k > 0] 2^N (1 + |N_c| / 2) / (sigma' - 1/2)                      (the floor pre-shift
 *        moves each y by < 1 and the standard deviation by <= 1/2; sigma' = sqrt(var / 4^k +
 *        eps_y))
 *   a_c: |a_c - A_c| <= 1/2 + (|n_c| + 1) 2^-(gs+1) + |g_c| |n_c - 2^N N_c|, g_c = gm_c 2^-gs
 *   code: |round(a M') + z - (A_c M + z)| <= 1/2 + M |a_c - A_c| + |a_c| |M' - M|, M = S_y / s;
 *   the clamp is 1-Lipschitz. */
typedef struct ln_stats {
    int64_t codes, differ, maxdiff;
    double  max_excess;
} ln_stats;

static void ln_check_row(const igq_ln_params *p, const igq_ln_row *row, const int32_t *x,
                         const float *gamma, const float *beta, const int32_t *a,
                         const uint8_t *code, double s_out, int32_t zero, int32_t qmax,
                         int32_t m, int32_t s, ln_stats *st)
{
    const int64_t C = p->C;
    double        mean = 0.0, var = 0.0, sd, sdy, M = p->y_scale / s_out, Mp = ldexp((double)m, -s);
    double        epsx = p->eps / (p->x_scale * p->x_scale);
    int64_t       c, S1 = 0;
    for (c = 0; c < C; c++) S1 += x[c];
    mean = (double)S1 / (double)C;
    for (c = 0; c < C; c++) var += ((double)x[c] - mean) * ((double)x[c] - mean);
    var /= (double)C;
    sd  = sqrt(var + epsx);
    sdy = sqrt(ldexp(var + epsx, -2 * row->k));
    for (c = 0; c < C; c++) {
        const double N  = sd > 0.0 ? ((double)x[c] - mean) / sd : 0.0;
        const double Dn = C * C * ldexp(var + epsx, -2 * row->k);
        double       dn = 0.5 + ldexp(fabs(N), IGQ_LN_NBITS) * (ldexp(1.0, -29) + ldexp(1.0, -30) + (Dn > 0 ? 1.0 / Dn : 0.0));
        double       A, da, v, bound, want;
        int32_t      n;
        int64_t      ref;
        if (row->k > 0) dn += ldexp(1.0 + fabs(N) / 2.0, IGQ_LN_NBITS) / (sdy - 0.5);
        n  = igq__ln_norm(p, row, x[c]);
        A  = ((double)gamma[c] * N + (beta ? (double)beta[c] : 0.0)) / p->y_scale;
        da = 0.5 + (fabs((double)n) + 1.0) * ldexp(1.0, -p->gs - 1) + fabs(ldexp((double)p->gm[c], -p->gs)) * dn;
        if (fabs((double)a[c] - A) > da) {
            fprintf(stderr, "  ln C %lld c %lld: a %d vs A %.4f (bound %.4f, n %d, N %.6f, k %d)\n",
                    (long long)C, (long long)c, a[c], A, da, n, N, row->k);
            fail();
        }
        v     = A * M + zero;
        want  = v < 0 ? 0 : v > qmax ? qmax : v;
        bound = 0.5 + M * da + fabs((double)a[c]) * fabs(Mp - M);
        if (fabs(code[c] - want) > bound) {
            fprintf(stderr, "  ln C %lld c %lld: code %d vs %.4f (bound %.4f)\n", (long long)C,
                    (long long)c, code[c], want, bound);
            fail();
        }
        if (fabs(code[c] - want) - 0.5 > st->max_excess) st->max_excess = fabs(code[c] - want) - 0.5;
        ref = (int64_t)nearbyint(v); /* the float quantizer: rne, clamp */
        ref = ref < 0 ? 0 : ref > qmax ? qmax : ref;
        st->codes++;
        if (code[c] != ref) st->differ++;
        if (llabs(code[c] - ref) > st->maxdiff) st->maxdiff = llabs(code[c] - ref);
    }
}

/* Accuracy of the int32 output and of its codes (requantized as the executor does) against
 * float LayerNorm + the same quantizer (per-tensor scale
 * from the row's float range, as calibration would give), 8 and 4 bits, residual-like inputs
 * at several magnitudes (k = 0 and k > 0) and with outlier channels. */
static void test_ln_accuracy(void **state)
{
    static const int64_t Cs[]  = {128, 384, 768, 3072};
    static const double  mag[] = {40.0, 3000.0, 3e6, 3e8};
    tu_rng               r;
    int                  bits, ic, im, rep;
    (void)state;
    tu_rng_seed(&r, 42);
    for (bits = 8; bits >= 4; bits -= 4) {
        ln_stats st = {0, 0, 0, 0.0};
        for (ic = 0; ic < COUNT(Cs); ic++)
            for (im = 0; im < COUNT(mag); im++)
                for (rep = 0; rep < 3; rep++) {
                    const int64_t C = Cs[ic];
                    const int32_t qmax = (1 << bits) - 1;
                    float        *gamma = (float *)xmalloc((size_t)C * sizeof(float));
                    float        *beta  = (float *)xmalloc((size_t)C * sizeof(float));
                    int32_t      *x     = (int32_t *)xmalloc((size_t)C * sizeof(int32_t));
                    int32_t      *a     = (int32_t *)xmalloc((size_t)C * sizeof(int32_t));
                    uint8_t      *code  = (uint8_t *)xmalloc((size_t)C);
                    double        lo = 1e300, hi = -1e300, s_out;
                    igq_ln_params p;
                    igq_ln_row    row;
                    int32_t       m, s, zero;
                    int64_t       c;
                    for (c = 0; c < C; c++) {
                        gamma[c] = (float)(1.0 + 0.3 * tu_rng_normal(&r));
                        beta[c]  = (float)(0.2 * tu_rng_normal(&r));
                        x[c]     = clamp_i32(mag[im] * (tu_rng_normal(&r) + (c % 97 == 5 ? 20.0 : 0.0)));
                    }
                    assert_int_equal(igq__ln_params_init(&p, C, 1.0f / 1024, 1e-6f, gamma, beta, 1.0f / 65536),
                                     IGQ_OK);
                    igq__i32_layernorm(&p, 1, x, C, a, C); /* int32 at S_y */
                    for (c = 0; c < C; c++) {
                        const double y = a[c] * p.y_scale;
                        lo = y < lo ? y : lo;
                        hi = y > hi ? y : hi;
                    }
                    s_out = (hi - lo) / qmax;
                    zero  = (int32_t)nearbyint(-lo / s_out);
                    igq__requant_multiplier(p.y_scale / s_out, &m, &s);
                    igq__i32_requant(C, a, &m, &s, &zero, 0, 0, qmax, code); /* the executor's path */
                    igq__i32_ln_stats__scalar(&p, x, &row);
                    ln_check_row(&p, &row, x, gamma, beta, a, code, s_out, zero, qmax, m, s, &st);
                    igq__ln_params_free(&p);
                    free(gamma), free(beta), free(x), free(a), free(code);
                }
        fprintf(stderr, "  %d bits: %lld codes, %.4f %% differ from float LN + quantizer, max |diff| %lld, max |code - exact| - 1/2 = %.2e\n",
                bits, (long long)st.codes, 100.0 * (double)st.differ / (double)st.codes,
                (long long)st.maxdiff, st.max_excess);
        assert_true(st.maxdiff <= 1);
    }
}

/* ---- GELU -------------------------------------------------------------------------------- */

static double gelu_d(double x) { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440)); }

static void fill_gelu(tu_rng *r, int32_t *acc, int32_t *m, int32_t *s, int64_t n, int kind)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        const double sc = rnd_multiplier(r, -14.0, -4.0); /* real per unit of acc */
        acc[i] = kind == 0 ? rnd_i32(r) : kind == 1 ? (i & 1 ? INT32_MAX : INT32_MIN)
                                          : clamp_i32(tu_rng_normal(r) * 4.0 / sc);
        igq__requant_multiplier(ldexp(sc, IGQ_GELU_FRAC), &m[i], &s[i]);
        if (kind == 3 && i % 3 == 0) m[i] = INT32_MAX, s[i] = 0; /* saturating */
    }
}

static void test_gelu_exact(void **state)
{
    const igq_kernel_table *t;
    igq_gelu_params        *p;
    tu_rng                  r;
    int                     si, kind, pc, cases = 0;
    (void)enter_level(state); /* before allocating: it skips levels the CPU lacks */
    p = (igq_gelu_params *)xmalloc(sizeof *p);
    t = igq__kernels();
    igq__gelu_params_init(p);
    tu_rng_seed(&r, 51);
    for (si = 0; si < g_nsizes; si++)
        for (kind = 0; kind < 4; kind++)
            for (pc = 0; pc < 2; pc++) {
                const int64_t n   = g_sizes[si];
                int32_t      *acc = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
                int32_t      *m   = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
                int32_t      *s   = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
                int32_t      *g   = (int32_t *)xmalloc((size_t)(n + GUARD) * sizeof(int32_t));
                int32_t      *w   = (int32_t *)xmalloc((size_t)(n + GUARD) * sizeof(int32_t));
                int64_t       i;
                fill_gelu(&r, acc, m, s, n, kind);
                for (i = 0; i < n + GUARD; i++) g[i] = w[i] = SENT32;
                t->i32_gelu(p, n, acc, m, s, pc, g);
                igq__i32_gelu__scalar(p, n, acc, m, s, pc, w);
                /* in place (out == acc, allowed for GELU): the same values */
                {
                    int32_t *ip = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
                    memcpy(ip, acc, (size_t)n * sizeof(int32_t));
                    t->i32_gelu(p, n, ip, m, s, pc, ip);
                    for (i = 0; i < n; i++) assert_int_equal(ip[i], w[i]);
                    free(ip);
                }
                for (i = 0; i < n + GUARD; i++)
                    if (g[i] != w[i]) {
                        fprintf(stderr, "  gelu n %lld kind %d pc %d i %lld: %d vs %d\n", (long long)n,
                                kind, pc, (long long)i, g[i], w[i]);
                        fail();
                    }
                free(acc), free(m), free(s), free(g), free(w);
                cases++;
            }
    t->i32_gelu(p, 0, NULL, NULL, NULL, 0, NULL); /* n = 0: no access */
    t->i32_softmax(NULL, 3, 0, NULL, 0, NULL, 0);
    free(p);
    fprintf(stderr, "  %d rows bit-exact\n", cases);
}

/* f32 inputs at the fixed-point scale 2^20 (the executor's fc1 output): random of several
 * spreads, values at and next to the rounding ties (k + 1/2 units) and the table ends, the
 * saturation bounds, infinities, NaN, -0, denormals. Every level against the scalar kernel,
 * the scalar kernel against its definition (the exec f32 -> fixed conversion followed by the
 * int32 kernel with the identity scale 2^30 / 2^30), in place too. */
static float gelu_f32_value(tu_rng *r, int kind, int64_t i)
{
    static const float special[] = {0.0f, -0.0f, 1e-45f, -1e-45f, 8.0f, -8.0f, 7.99999952f,
                                     -8.00000095f, 2047.99988f, -2048.0f, 2048.0f, 4096.0f,
                                     -1e30f, 1e30f, 3.4e38f, -3.4e38f};
    const double u = tu_rng_normal(r);
    switch (kind) {
    case 0: return (float)(u * 3.0);
    case 1: return (float)(u * 40.0);
    case 2: /* ties of the rounding: (k + 1/2) 2^-20 and the floats next to them */
    {
        const float t = (float)ldexp((double)rnd_range(r, -(9 << 20), 9 << 20) + 0.5, -20);
        const int   w = (int)(tu_rng_next(r) % 3);
        return w == 0 ? t : w == 1 ? nextafterf(t, 1e9f) : nextafterf(t, -1e9f);
    }
    default:
        if (i % 7 == 3) return i % 2 ? INFINITY : -INFINITY;
        if (i % 7 == 5) return NAN;
        return special[tu_rng_next(r) % COUNT(special)];
    }
}

static void test_gelu_f32_exact(void **state)
{
    const igq_kernel_table *t;
    igq_gelu_params        *p;
    const float             mul = (float)(1 << IGQ_GELU_FRAC);
    const int32_t           one_m = 1 << 30, one_s = 30;
    tu_rng                  r;
    int                     si, kind, cases = 0;
    (void)enter_level(state); /* before allocating: it skips levels the CPU lacks */
    p = (igq_gelu_params *)xmalloc(sizeof *p);
    t = igq__kernels();
    igq__gelu_params_init(p);
    tu_rng_seed(&r, 53);
    for (si = 0; si < g_nsizes; si++)
        for (kind = 0; kind < 4; kind++) {
            const int64_t n  = g_sizes[si];
            float        *x  = (float *)xmalloc((size_t)n * sizeof(float));
            int32_t      *g  = (int32_t *)xmalloc((size_t)(n + GUARD) * sizeof(int32_t));
            int32_t      *w  = (int32_t *)xmalloc((size_t)(n + GUARD) * sizeof(int32_t));
            int32_t      *fx = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
            float        *ip = (float *)xmalloc((size_t)n * sizeof(float));
            int64_t       i;
            for (i = 0; i < n; i++) x[i] = gelu_f32_value(&r, kind, i);
            for (i = 0; i < n + GUARD; i++) g[i] = w[i] = SENT32;
            t->i32_gelu_f32(p, n, x, mul, g);
            igq__i32_gelu_f32__scalar(p, n, x, mul, w);
            /* the definition: f32 -> fixed, then the int32 kernel with the identity scale */
            tu_f32_to_fixed(n, x, mul, fx);
            igq__i32_gelu__scalar(p, n, fx, &one_m, &one_s, 0, fx);
            for (i = 0; i < n; i++) assert_int_equal(w[i], fx[i]);
            for (i = 0; i < n + GUARD; i++)
                if (g[i] != w[i]) {
                    fprintf(stderr, "  gelu f32 n %lld kind %d i %lld (x %a): %d vs %d\n",
                            (long long)n, kind, (long long)i, i < n ? (double)x[i] : 0.0, g[i],
                            w[i]);
                    fail();
                }
            /* in place: int32 out over the f32 input */
            memcpy(ip, x, (size_t)n * sizeof(float));
            t->i32_gelu_f32(p, n, ip, mul, (int32_t *)(void *)ip);
            for (i = 0; i < n; i++) {
                int32_t v;
                memcpy(&v, &ip[i], sizeof v);
                assert_int_equal(v, w[i]);
            }
            free(x), free(g), free(w), free(fx), free(ip);
            cases++;
        }
    t->i32_gelu_f32(p, 0, NULL, mul, NULL); /* n = 0: no access */
    free(p);
    fprintf(stderr, "  %d rows bit-exact\n", cases);
}

/* Every fixed-point input u in [-9, 9] (F = IGQ_GELU_FRAC fraction bits; step 1/16 of a
 * table interval, plus all interval ends) within the derived bound
 *   1/2 + 1/2 + 2^-16 / 8 max|GELU''| 2^F  units of 2^-F  (nonlin.h; 2.596 for F = 20)
 * of GELU(u 2^-F) 2^F; outside the table the exact answers 0 and u. Against the real input
 * acc M (before its rounding to the grid) the error adds <= max|GELU'| / 2 = 0.5645 units plus
 * the multiplier's relative error. */
static void test_gelu_accuracy(void **state)
{
    const int        F = IGQ_GELU_FRAC, I = 1 << (IGQ_GELU_FRAC - 8); /* units per interval */
    const double     B = 1.0 + ldexp(0.7979 / 8.0, F - 16) + 1e-6;
    igq_gelu_params *p = (igq_gelu_params *)xmalloc(sizeof *p);
    double           maxe = 0.0, maxe_real = 0.0;
    int32_t          u;
    tu_rng           r;
    int              i;
    (void)state;
    igq__gelu_params_init(p);
    for (u = -(9 << F); u <= (9 << F); u += (u % I == 0) ? 1 : I / 16) {
        const int32_t out = igq__gelu_eval(p, u);
        const double  e   = fabs(out - ldexp(gelu_d(ldexp((double)u, -F)), F));
        if (e > B) {
            fprintf(stderr, "  gelu u %d: out %d vs %.4f\n", u, out, ldexp(gelu_d(ldexp((double)u, -F)), F));
            fail();
        }
        if (e > maxe) maxe = e;
    }
    assert_int_equal(igq__gelu_eval(p, INT32_MIN), 0);
    assert_int_equal(igq__gelu_eval(p, INT32_MAX), INT32_MAX);
    assert_int_equal(igq__gelu_eval(p, 8 << F), 8 << F);
    assert_int_equal(igq__gelu_eval(p, -(8 << F) - 1), 0);
    tu_rng_seed(&r, 52);
    for (i = 0; i < 200000; i++) {
        const double  sc  = rnd_multiplier(&r, -14.0, -4.0);
        const int32_t acc = clamp_i32(tu_rng_normal(&r) * 3.0 / sc);
        int32_t       m, s, out;
        double        e, bound;
        igq__requant_multiplier(ldexp(sc, F), &m, &s);
        igq__i32_gelu__scalar(p, 1, &acc, &m, &s, 0, &out);
        e     = fabs(out - ldexp(gelu_d(acc * sc), F));
        bound = B + 1.12899 * (0.5 + fabs((double)acc) * fabs(ldexp((double)m, -s) - ldexp(sc, F)));
        if (e > bound) {
            fprintf(stderr, "  gelu acc %d scale %g: out %d vs %.4f (bound %.4f)\n", acc, sc, out,
                    ldexp(gelu_d(acc * sc), F), bound);
            fail();
        }
        if (e > maxe_real) maxe_real = e;
    }
    fprintf(stderr, "  GELU: max |out - GELU(u)| = %.4f units of 2^-%d on the grid (bound %.4f), %.4f against the real input (%.2e absolute)\n",
          maxe, F, B, maxe_real, ldexp(maxe_real, -F));
    free(p);
}

/* ---- parameters -------------------------------------------------------------------------- */

static void test_params(void **state)
{
    igq_softmax_params sp;
    igq_ln_params      lp;
    float              g[4] = {1.0f, 2.0f, -1.0f, 0.0f}, b[4] = {0.0f, 0.5f, 0.0f, 1.0f};
    (void)state;
    assert_int_equal(igq__softmax_params_init(&sp, 0.0f), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__softmax_params_init(&sp, -1.0f), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__softmax_params_init(&sp, NAN), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__softmax_params_init(&sp, INFINITY), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__softmax_params_init(NULL, 1.0f), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__softmax_params_init(&sp, 1e-3f), IGQ_OK);
    assert_int_equal(sp.k0, 0);
    assert_int_equal(sp.t_hi[0], 1u << 22);
    assert_int_equal(sp.t_lo[0], 1u << 30);
    assert_int_equal(sp.t_hi[IGQ_SMX_HI], 0);
    assert_int_equal(sp.s_q20, 33);
    assert_int_equal(tu_softmax_codes_shift(8), 46);
    assert_int_equal(igq__softmax_params_init(&sp, 1e-6f), IGQ_OK);
    assert_true(sp.k0 > 0 && ldexp(sp.s_idx, 18) >= 23 * log(2.0) && ldexp(sp.s_idx, 17) < 23 * log(2.0));
    memset(&lp, 0, sizeof lp);
    igq__ln_params_free(&lp);
    igq__ln_params_free(NULL);
    assert_int_equal(igq__ln_params_init(&lp, 0, 1.0f, 0.0f, g, b, 1.0f), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__ln_params_init(&lp, IGQ_LN_MAX_C + 1, 1.0f, 0.0f, g, b, 1.0f),
                     IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__ln_params_init(&lp, 4, 0.0f, 0.0f, g, b, 1.0f), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__ln_params_init(&lp, 4, 1.0f, -1.0f, g, b, 1.0f), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__ln_params_init(&lp, 4, 1.0f, 0.0f, NULL, b, 1.0f), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__ln_params_init(&lp, 4, 1.0f, 0.0f, g, b, 1e-30f), IGQ_ERR_OUT_OF_RANGE);
    igq__alloc_fail_after(0);
    assert_int_equal(igq__ln_params_init(&lp, 4, 1.0f, 0.0f, g, b, 1.0f), IGQ_ERR_NO_MEMORY);
    igq__alloc_fail_after(-1);
    assert_int_equal(igq__ln_params_init(&lp, 4, 1.0f, 1e-5f, g, NULL, 1.0f / 4096), IGQ_OK);
    assert_int_equal(lp.bbits, 27);
    assert_true(lp.gm[3] == 0 && lp.gb[1] == 0);
    assert_true(lp.eps_k[0] == (int64_t)floor(16 * 1e-5f + 0.5));
    igq__ln_params_free(&lp);
    igq__ln_params_free(&lp); /* twice: fine */
}


/* Grouped-GEMM fold: every row length, 1 and 3 rows with padded strides, both modes, with and
 * without the column epilogue, extreme accumulators (|acc| up to 2^31, where the int -> float
 * conversion rounds). The level equals the reference bit for bit and writes nothing outside
 * its rows x n; the reference is within the fmaf rounding of the exact value. */
static void test_fold_exact(void **state)
{
    const igq_kernel_table *t;
    tu_rng                  r;
    int                     si, first, kind, last, cases = 0;
    (void)enter_level(state);
    t = igq__kernels();
    tu_rng_seed(&r, 61);
    for (si = 0; si < g_nsizes; si++)
        for (first = 0; first < 2; first++)
            for (last = 0; last < 2; last++)
                for (kind = 0; kind < 3; kind++) {
                    const int64_t n = g_sizes[si], rows = kind == 1 ? 1 : 3;
                    const int64_t lda = n + 3, ldo = n + 5, tot = rows * ldo + GUARD;
                    const float   sc = kind == 0 ? 1.0f : kind == 1 ? 3.0517578e-05f : -7.123e-3f;
                    int32_t      *acc = (int32_t *)xmalloc((size_t)(rows * lda) * sizeof(int32_t));
                    float        *cs  = (float *)xmalloc((size_t)n * sizeof(float));
                    float        *cb  = (float *)xmalloc((size_t)n * sizeof(float));
                    float        *g   = (float *)xmalloc((size_t)tot * sizeof(float));
                    float        *w   = (float *)xmalloc((size_t)tot * sizeof(float));
                    float        *o0  = (float *)xmalloc((size_t)tot * sizeof(float));
                    int64_t       i, j;
                    for (i = 0; i < rows * lda; i++)
                        acc[i] = kind == 0 ? rnd_range(&r, -300, 300)
                                           : (i % 5 == 0 ? (i % 2 ? INT32_MAX : INT32_MIN) : rnd_i32(&r));
                    for (j = 0; j < n; j++) {
                        cs[j] = (float)rnd_range(&r, 1, 1000) * 1e-4f;
                        cb[j] = (float)rnd_range(&r, -1000, 1000) * 0.01f;
                    }
                    for (i = 0; i < tot; i++) g[i] = w[i] = o0[i] = (float)rnd_range(&r, -1000, 1000) * 0.125f;
                    t->i32_fold(rows, n, sc, acc, lda, last ? cs : NULL, cb, g, ldo, first);
                    igq__i32_fold__scalar(rows, n, sc, acc, lda, last ? cs : NULL, cb, w, ldo, first);
                    if (memcmp(g, w, (size_t)tot * sizeof(float)) != 0) {
                        fprintf(stderr, "  fold n %lld rows %lld first %d last %d kind %d differs\n",
                                (long long)n, (long long)rows, first, last, kind);
                        fail();
                    }
                    for (i = 0; i < rows; i++)
                        for (j = 0; j < ldo; j++) {
                            const int64_t p = i * ldo + j;
                            if (j >= n) {
                                assert_true(memcmp(&w[p], &o0[p], sizeof(float)) == 0);
                                continue;
                            }
                            {
                                /* f: s * (float)acc (exact in double) + old, one rounding */
                                const double a  = (double)(float)acc[i * lda + j];
                                const double ex = (double)sc * a + (first ? 0.0 : (double)o0[p]);
                                const float  f  = (float)ex;
                                assert_true(fabs((double)f - ex) <= fabs(ex) * 0x1p-24);
                                if (!last) { /* out = f: the one rounding above */
                                    assert_true(fabs((double)w[p] - ex) <= fabs(ex) * 0x1p-24);
                                } else {
                                    /* out = fmaf(cs, f, cb): |cs| |f - ex| plus one rounding of
                                     * cs f + cb, |cs f + cb| <= |ey| + |cs| |f - ex| */
                                    const double ey = (double)cs[j] * ex + cb[j];
                                    const double ce = fabs((double)cs[j] * ex);
                                    assert_true(fabs((double)w[p] - ey) <=
                                                (ce + fabs(ey) + ce * 0x1p-24) * 0x1p-24);
                                }
                            }
                        }
                    for (i = rows * ldo; i < tot; i++) assert_true(memcmp(&w[i], &o0[i], sizeof(float)) == 0);
                    free(acc), free(cs), free(cb), free(g), free(w), free(o0);
                    cases++;
                }
    fprintf(stderr, "  %d cases bit-exact\n", cases);
}

/* Integer-executor helpers (exec_inl.h): each level's instantiation against the baseline one,
 * bit for bit, over every size and aligned / offset rows, with extreme inputs (values far
 * outside the clamp range, +-inf, NaN for the fixed-point conversion); plus their specs: codes
 * equal igq__quant's for the same quantizer, column min/max, fixed-point rounding. */
/* Group assignment (exec group_cover_f32 / _i32) against quant.h igq__group_assign (COVER),
 * channel by channel: G = 1..8 cover bounds widening with g (as calibrated groups sorted by
 * width, some equal, some nested oddly), ranges inside, across and beyond them (the
 * least-clipping fallback, with ties), NaN bounds of f32 ranges, int32 ranges at a scale. */
static void test_group_cover(void **state)
{
    const igq_kernel_table *t;
    tu_rng                  r;
    int                     si, G, cases = 0;
    (void)enter_level(state);
    t = igq__kernels();
    tu_rng_seed(&r, 73);
    for (si = 0; si < g_nsizes; si++)
        for (G = 1; G <= 8; G++) {
            const int64_t n = g_sizes[si];
            const float   S = si % 2 ? 1.0f / 1048576 : 0.37f;
            float         clo[8], chi[8];
            float        *mn  = (float *)xmalloc((size_t)n * sizeof(float));
            float        *mx  = (float *)xmalloc((size_t)n * sizeof(float));
            int32_t      *imn = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
            int32_t      *imx = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
            int32_t      *a1  = (int32_t *)xmalloc((size_t)(n + GUARD) * sizeof(int32_t));
            int32_t      *a2  = (int32_t *)xmalloc((size_t)(n + GUARD) * sizeof(int32_t));
            int64_t       i;
            int           g;
            for (g = 0; g < G; g++) {
                clo[g] = -(float)(g + 1) * 0.5f - (g == 3 ? 4.0f : 0.0f);
                chi[g] = (float)(g + 1) * (g % 3 == 2 ? 0.25f : 0.75f);
            }
            if (G > 2) clo[1] = clo[0], chi[1] = chi[0]; /* equal groups: the first wins */
            for (i = 0; i < n; i++) {
                const double w = (double)(G + 2) * tu_rng_uniform(&r);
                double       lo = -w * tu_rng_uniform(&r), hi = w * tu_rng_uniform(&r);
                if (i % 7 == 3) lo = clo[i % G], hi = chi[(i / 3) % G]; /* on the bounds */
                if (i % 11 == 5) lo = -100.0, hi = 100.0;                /* equal clipping */
                mn[i] = (float)lo, mx[i] = (float)hi;
                if (i % 17 == 9) mn[i] = NAN;
                if (i % 19 == 4) mx[i] = NAN;
                imn[i] = (int32_t)floor(lo / S), imx[i] = (int32_t)ceil(hi / S);
                if (i % 23 == 1) imn[i] = INT32_MIN, imx[i] = INT32_MAX;
            }
            for (i = 0; i < n + GUARD; i++) a1[i] = a2[i] = SENT32;
            t->exec.group_cover_f32(n, mn, mx, G, clo, chi, a1);
            igq__exec_group_cover_f32__scalar(n, mn, mx, G, clo, chi, a2);
            for (i = 0; i < n + GUARD; i++) {
                const int32_t want = i < n ? igq__group_assign(mn[i], mx[i], NULL, NULL, clo, chi,
                                                               G, IGQ__ASSIGN_COVER)
                                           : SENT32;
                if (a1[i] != want || a2[i] != want) {
                    fprintf(stderr, "  cover f32 n %lld G %d i %lld: %d %d want %d\n",
                            (long long)n, G, (long long)i, a1[i], a2[i], want);
                    fail();
                }
            }
            for (i = 0; i < n + GUARD; i++) a1[i] = a2[i] = SENT32;
            t->exec.group_cover_i32(n, imn, imx, S, G, clo, chi, a1);
            igq__exec_group_cover_i32__scalar(n, imn, imx, S, G, clo, chi, a2);
            for (i = 0; i < n + GUARD; i++) {
                const int32_t want =
                    i < n ? igq__group_assign((float)imn[i] * S, (float)imx[i] * S, NULL, NULL,
                                              clo, chi, G, IGQ__ASSIGN_COVER)
                          : SENT32;
                if (a1[i] != want || a2[i] != want) {
                    fprintf(stderr, "  cover i32 n %lld G %d i %lld: %d %d want %d\n",
                            (long long)n, G, (long long)i, a1[i], a2[i], want);
                    fail();
                }
            }
            free(mn), free(mx), free(imn), free(imx), free(a1), free(a2);
            cases++;
        }
    fprintf(stderr, "  %d channel sets assigned as igq__group_assign\n", cases);
}

static void test_exec_helpers(void **state)
{
    const igq_kernel_table *t;
    tu_rng                  r;
    int                     si, cases = 0;
    (void)enter_level(state);
    t = igq__kernels();
    tu_rng_seed(&r, 71);
    for (si = 0; si < g_nsizes; si++) {
        const int64_t n = g_sizes[si], rows = 3;
        float        *x   = (float *)xmalloc((size_t)(rows * n) * sizeof(float));
        int32_t      *xi  = (int32_t *)xmalloc((size_t)(rows * n) * sizeof(int32_t));
        float        *mul = (float *)xmalloc((size_t)n * sizeof(float));
        float        *lo  = (float *)xmalloc((size_t)n * sizeof(float));
        float        *hi  = (float *)xmalloc((size_t)n * sizeof(float));
        int32_t      *z   = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
        uint8_t      *c1  = (uint8_t *)xmalloc((size_t)n + GUARD);
        uint8_t      *c2  = (uint8_t *)xmalloc((size_t)n + GUARD);
        int32_t      *q1  = (int32_t *)xmalloc((size_t)(rows * n + GUARD) * sizeof(int32_t));
        int32_t      *q2  = (int32_t *)xmalloc((size_t)(rows * n + GUARD) * sizeof(int32_t));
        float        *f1  = (float *)xmalloc((size_t)(rows * n + GUARD) * sizeof(float));
        float        *f2  = (float *)xmalloc((size_t)(rows * n + GUARD) * sizeof(float));
        igq_qparams   qp[4];
        int64_t       i, k;
        int           bits = 2 + si % 7, row;
        for (k = 0; k < 4; k++)
            qp[k] = igq__qp_asym(-(float)(k + 1) * 0.7f, (float)(k * k) + 0.3f, bits);
        for (i = 0; i < rows * n; i++) {
            const uint64_t u = tu_rng_next(&r);
            x[i]  = (float)((int64_t)(u % 20001) - 10000) * 1e-3f * (i % 11 == 0 ? 1e4f : 1.0f);
            xi[i] = i % 13 == 0 ? (i % 2 ? INT32_MAX : INT32_MIN) : rnd_range(&r, -5000000, 5000000);
        }
        if (n > 2) x[1] = INFINITY, x[2] = -INFINITY;
        for (i = 0; i < n; i++) {
            const igq_qparams *p = &qp[i % 4];
            mul[i] = p->inv_scale;
            lo[i]  = (float)(p->qmin - p->zero);
            hi[i]  = (float)(p->qmax - p->zero);
            z[i]   = p->zero;
        }
        for (row = 0; row < 2; row++) { /* rows 0 and 1: aligned and offset inputs */
            const float   *xr  = x + row * n;
            const int32_t *xir = xi + row * n;
            memset(c1, 0xA5, (size_t)n + GUARD);
            memset(c2, 0xA5, (size_t)n + GUARD);
            t->exec.quant_f32(n, xr, mul, lo, hi, z, c1);
            igq__exec_quant_f32__scalar(n, xr, mul, lo, hi, z, c2);
            assert_memory_equal(c1, c2, (size_t)n + GUARD);
            for (i = 0; i < n; i++) /* spec: the simulated executor's quantizer */
                assert_int_equal(c2[i], igq__quant(xr[i], &qp[i % 4]));
            t->exec.quant_i32(n, xir, mul, lo, hi, z, c1);
            igq__exec_quant_i32__scalar(n, xir, mul, lo, hi, z, c2);
            assert_memory_equal(c1, c2, (size_t)n + GUARD);
            for (i = 0; i < n; i++)
                assert_int_equal(c2[i], igq__quant((float)xir[i], &qp[i % 4]));
        }
        {
            int32_t *mn1 = q1, *mx1 = q1 + n, *mn2 = q2, *mx2 = q2 + n;
            float   *fn1 = f1, *fx1 = f1 + n, *fn2 = f2, *fx2 = f2 + n;
            t->exec.colminmax_i32(rows, n, xi, n, mn1, mx1);
            igq__exec_colminmax_i32__scalar(rows, n, xi, n, mn2, mx2);
            assert_memory_equal(q1, q2, (size_t)(2 * n) * sizeof(int32_t));
            t->exec.colminmax_f32(rows, n, x, n, fn1, fx1);
            igq__exec_colminmax_f32__scalar(rows, n, x, n, fn2, fx2);
            assert_memory_equal(f1, f2, (size_t)(2 * n) * sizeof(float));
            for (i = 0; i < n; i++) {
                int32_t a = xi[i], b = xi[i];
                for (k = 1; k < rows; k++) {
                    a = xi[k * n + i] < a ? xi[k * n + i] : a;
                    b = xi[k * n + i] > b ? xi[k * n + i] : b;
                }
                assert_int_equal(mn2[i], a);
                assert_int_equal(mx2[i], b);
            }
        }
        {
            for (i = 0; i < rows * n; i++) x[i] = isfinite(x[i]) ? x[i] : 0.5f;
            for (i = 0; i < rows * n; i++) xi[i] = xi[i] / 4; /* keep x + add in range */
            t->exec.affine_i32(rows * n, xi, -7, 3.5e-4f, f1);
            igq__exec_affine_i32__scalar(rows * n, xi, -7, 3.5e-4f, f2);
            assert_memory_equal(f1, f2, (size_t)(rows * n) * sizeof(float));
            /* residual update, without and with a layer scale (mul mixes in): every level the
             * scalar bits, and the scalar the C expression */
            for (k = 0; k < 2; k++) {
                const float *ls = k == 0 ? NULL : mul;
                for (i = 0; i < rows * n; i++) f1[i] = f2[i] = (float)xi[i] * 1e-3f;
                t->exec.add_rows_f32(rows, n, f1, x, ls);
                igq__exec_add_rows_f32__scalar(rows, n, f2, x, ls);
                assert_memory_equal(f1, f2, (size_t)(rows * n) * sizeof(float));
                for (i = 0; i < rows * n; i++) {
                    const float want =
                        (float)xi[i] * 1e-3f + (ls != NULL ? x[i] * ls[i % n] : x[i]);
                    assert_true(memcmp(&f2[i], &want, sizeof want) == 0);
                }
            }
        }
        {
            /* row helpers of the attention: row max, byte sums */
            int64_t sum = 0;
            int32_t mx;
            for (i = 0; i < rows * n; i++) q1[i] = rnd_range(&r, -1000000000, 1000000000);
            mx = q1[0];
            for (i = 1; i < rows * n; i++) mx = q1[i] > mx ? q1[i] : mx;
            assert_int_equal(t->exec.rowmax_i32(rows * n, q1), mx);
            assert_int_equal(igq__exec_rowmax_i32__scalar(rows * n, q1), mx);
            for (i = 0; i < n; i++) {
                c1[i] = (uint8_t)tu_rng_next(&r);
                sum += c1[i];
            }
            assert_int_equal(t->exec.sum_u8(n, c1), (int32_t)sum);
            assert_int_equal(igq__exec_sum_u8__scalar(n, c1), (int32_t)sum);
        }
        free(x), free(xi), free(mul), free(lo), free(hi), free(z), free(c1), free(c2);
        free(q1), free(q2), free(f1), free(f2);
        cases++;
    }
    fprintf(stderr, "  %d sizes bit-exact\n", cases);
}

/* ---- byte permutation (kernels.h IGQ_U8_PERM_PROTO) --------------------------------------- */

/* perm kinds: 0 random, 1 group order of G random groups (as the executor's), 2 identity,
 * 3 reversed */
static void make_perm_kind(tu_rng *r, int32_t *perm, int64_t n, int kind)
{
    int64_t i;
    if (kind == 0 || kind == 2 || kind == 3) {
        for (i = 0; i < n; i++) perm[i] = (int32_t)(kind == 3 ? n - 1 - i : i);
        if (kind == 0)
            for (i = n - 1; i > 0; i--) {
                const int64_t j = (int64_t)(tu_rng_next(r) % (uint64_t)(i + 1));
                const int32_t t = perm[i];
                perm[i] = perm[j], perm[j] = t;
            }
    } else {
        const int G = 1 + (int)(tu_rng_next(r) % 8);
        int64_t   cnt[10] = {0};
        int32_t  *g = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
        int       k;
        for (i = 0; i < n; i++) g[i] = (int32_t)(tu_rng_next(r) % (uint64_t)G), cnt[g[i] + 1]++;
        for (k = 0; k < G; k++) cnt[k + 1] += cnt[k];
        for (i = 0; i < n; i++) perm[cnt[g[i]]++] = (int32_t)i;
        free(g);
    }
}

/* One kernel pair against the scalar loop: rows 1..6 (the 4-row and 1-row paths), a source
 * row stride past n, the source allocated with exactly the 3 readable bytes the contract
 * asks past the last row (ASan catches more), destination guards. */
static void check_perm(const char *name, igq_u8_perm_plan_fn plan_fn, igq_u8_perm_fn fn,
                       tu_rng *r, int *cases)
{
    int si, kind;
    for (si = 0; si < g_nsizes; si++)
        for (kind = 0; kind < 4; kind++) {
            const int64_t n = g_sizes[si], rows = 1 + (int64_t)(tu_rng_next(r) % 6);
            const int64_t lds = n + (int64_t)(tu_rng_next(r) % 3) * 5, ldd = n + 7;
            int32_t      *perm = (int32_t *)xmalloc((size_t)n * sizeof(int32_t));
            uint8_t      *src  = (uint8_t *)xmalloc((size_t)((rows - 1) * lds + n + 3));
            uint8_t      *d1   = (uint8_t *)xmalloc((size_t)(rows * ldd + GUARD));
            uint8_t      *d2   = (uint8_t *)xmalloc((size_t)(rows * ldd + GUARD));
            void         *plan = xmalloc(IGQ_U8_PERM_PLAN_SIZE(n));
            int64_t       i;
            make_perm_kind(r, perm, n, kind);
            for (i = 0; i < (rows - 1) * lds + n + 3; i++) src[i] = (uint8_t)tu_rng_next(r);
            memset(d1, SENT8, (size_t)(rows * ldd + GUARD));
            memset(d2, SENT8, (size_t)(rows * ldd + GUARD));
            plan_fn(n, perm, plan);
            fn(rows, n, src, lds, perm, plan, d1, ldd);
            igq__u8_perm__scalar(rows, n, src, lds, perm, NULL, d2, ldd);
            for (i = 0; i < rows * ldd + GUARD; i++)
                if (d1[i] != d2[i]) {
                    fprintf(stderr, "  %s n %lld kind %d rows %lld byte %lld: %d vs %d\n", name,
                            (long long)n, kind, (long long)rows, (long long)i, d1[i], d2[i]);
                    fail();
                }
            for (i = 0; i < n; i++) assert_int_equal(d2[i], src[perm[i]]); /* the spec */
            free(perm), free(src), free(d1), free(d2), free(plan);
            (*cases)++;
        }
}

static void test_u8_perm(void **state)
{
    const igq_isa_level     l = enter_level(state);
    const igq_kernel_table *t = igq__kernels();
    tu_rng                  r;
    int                     cases = 0;
    tu_rng_seed(&r, 61);
    check_perm("table", t->u8_perm_plan, t->u8_perm, &r, &cases);
#ifdef IGQ_X86_KERNELS
    /* the avx512vnni level has two kernels: vpermi2b (VBMI CPUs) and the gather fallback */
    if (l == IGQ_ISA_AVX512VNNI) {
        check_perm("avx512 gather", igq__u8_perm_plan__avx512, igq__u8_perm__avx512, &r, &cases);
        if (igq__cpu_has_avx512vbmi())
            check_perm("avx512 vbmi", igq__u8_perm_plan__avx512vbmi, igq__u8_perm__avx512vbmi,
                       &r, &cases);
        else
            fprintf(stderr, "  no AVX-512 VBMI on this CPU: vpermi2b kernel not run\n");
    }
#else
    (void)l;
#endif
    fprintf(stderr, "  %d permutations bit-exact\n", cases);
}

#define LEVEL_TESTS(fn, label)                                                                  \
    {label "/scalar", fn, NULL, restore_level, (void *)&g_level_values[IGQ_ISA_SCALAR]},        \
        {label "/avx2", fn, NULL, restore_level, (void *)&g_level_values[IGQ_ISA_AVX2]},        \
        {label "/avxvnni", fn, NULL, restore_level, (void *)&g_level_values[IGQ_ISA_AVXVNNI]},  \
        {label "/avx512vnni", fn, NULL, restore_level,                                          \
         (void *)&g_level_values[IGQ_ISA_AVX512VNNI]}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isqrt),
        cmocka_unit_test(test_requant_multiplier),
        cmocka_unit_test(test_requant_scalar),
        cmocka_unit_test(test_params),
        LEVEL_TESTS(test_requant_row, "requant"),
        LEVEL_TESTS(test_softmax_exact, "softmax"),
        LEVEL_TESTS(test_ln_exact, "layernorm"),
        LEVEL_TESTS(test_ln_f32_exact, "layernorm f32"),
        LEVEL_TESTS(test_gelu_exact, "gelu"),
        LEVEL_TESTS(test_gelu_f32_exact, "gelu f32"),
        LEVEL_TESTS(test_fold_exact, "fold"),
        LEVEL_TESTS(test_exec_helpers, "exec"),
        LEVEL_TESTS(test_group_cover, "group cover"),
        LEVEL_TESTS(test_u8_perm, "u8 perm"),
        cmocka_unit_test(test_softmax_accuracy),
        cmocka_unit_test(test_ln_accuracy),
        cmocka_unit_test(test_gelu_accuracy),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
