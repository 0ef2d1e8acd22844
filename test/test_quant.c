/* Quantization maths (lib/quant): uniform quantizers, range calibrators, IGQ group calibration
 * and assignment rules, the multiple-choice knapsack, and the public configuration API
 * (options, bounds, progress/cancellation of igq_quantize_model).
 *
 * Expected values come from first principles: the s/2 rounding bound of a uniform quantizer,
 * order statistics of constructed samples, envelopes of constructed clusters, brute force. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igq/igq.h"
#include "quant/quant.h"
#include "support/st_writer.h"
#include "support/testutil.h"

/* Unit roundoff of binary32. */
#define U32 (FLT_EPSILON / 2.0)

/* Float slack of one quantize-dequantize: v = x * (1/s) carries two roundings (the reciprocal
 * and the product, each relative u), the dequantizing product one more (relative u on a value
 * of magnitude <= |x| + s); the grid itself is anchored at s * (qmin - z) with s = range / levels
 * rounded (relative u on |lo| + |hi|). 8u over the sum of the magnitudes involved bounds all of
 * these with room to spare. */
static double fq_slack(double x, double s, double lo, double hi)
{
    return 8.0 * U32 * (fabs(x) + fabs(lo) + fabs(hi) + s);
}

/* ---- 1. uniform quantizers ---------------------------------------------------------------- */

static void check_asym_range(float lo, float hi, int bits, tu_rng *r)
{
    const igq_qparams p      = igq__qp_asym(lo, hi, bits);
    const int         levels = (1 << bits) - 1;
    const double      s      = p.scale;
    int               i;
    assert_int_equal(p.qmin, 0);
    assert_int_equal(p.qmax, levels);
    assert_true(p.scale > 0.0f && isfinite(p.scale) && isfinite(p.inv_scale));
    /* s = (hi - lo) / (2^b - 1) (ALGORITHMS.md 1.3). */
    assert_true(fabs(s - ((double)hi - lo) / levels) <= 4.0 * U32 * s);
    /* The grid starts within s/2 of lo: z = round(-lo / s). */
    assert_true(fabs(-(double)p.zero * s - lo) <= 0.5 * s + fq_slack(lo, s, lo, hi));
    for (i = 0; i < 2000; i++) {
        float   x = i == 0 ? lo : (i == 1 ? hi : (float)(lo + ((double)hi - lo) * tu_rng_uniform(r)));
        float   y = igq__fq(x, &p);
        int32_t q = igq__quant(x, &p);
        if (!(fabs((double)y - x) <= 0.5 * s + fq_slack(x, s, lo, hi))) {
            fprintf(stderr, "asym [%g, %g] b=%d: x=%.9g -> %.9g, |err| %.3g > s/2 = %.3g\n", lo, hi,
                    bits, x, y, fabs((double)y - x), 0.5 * s);
            fail();
        }
        assert_true(q >= p.qmin && q <= p.qmax);
        /* The code and the dequantized value agree: x^ = s (q - z). */
        assert_true(y == p.scale * (float)(q - p.zero));
    }
    /* Outside the range: clamped to the end codes. */
    for (i = 1; i <= 4; i++) {
        float above = (float)(hi + pow(10.0, i) * s), below = (float)(lo - pow(10.0, i) * s);
        assert_int_equal(igq__quant(above, &p), p.qmax);
        assert_int_equal(igq__quant(below, &p), p.qmin);
        assert_true(igq__fq(above, &p) == p.scale * (float)(p.qmax - p.zero));
        assert_true(igq__fq(below, &p) == p.scale * (float)(p.qmin - p.zero));
    }
    assert_int_equal(igq__quant(INFINITY, &p), p.qmax);
    assert_int_equal(igq__quant(-INFINITY, &p), p.qmin);
    /* Zero is exactly representable when the range contains it. */
    if (lo <= 0.0f && hi >= 0.0f) {
        assert_true(p.zero >= 0 && p.zero <= levels);
        assert_true(igq__fq(0.0f, &p) == 0.0f);
        assert_int_equal(igq__quant(0.0f, &p), p.zero);
    }
}

static void test_qp_asym(void **state)
{
    static const float R[][2] = {{-1.0f, 1.0f},  {-3.0f, 0.5f},   {0.0f, 1.0f},
                                 {2.0f, 5.0f},   {-5.0f, -2.0f},  {-0.001f, 1000.0f},
                                 {-1e-3f, 1e-3f}, {0.25f, 0.2501f}, {-7.5f, 0.0f},
                                 {123.0f, 130.0f}};
    tu_rng r;
    int    bits;
    size_t k;
    (void)state;
    tu_rng_seed(&r, 1);
    for (bits = 2; bits <= 8; bits++)
        for (k = 0; k < sizeof R / sizeof R[0]; k++) check_asym_range(R[k][0], R[k][1], bits, &r);
    /* A range that excludes 0 keeps its full resolution: the zero point lies outside the codes
     * (an unclamped zero point; clamping it to 0 would clip [3, 5] away). */
    {
        igq_qparams p = igq__qp_asym(2.0f, 5.0f, 8);
        assert_true(p.zero < 0);
        assert_true(fabs(igq__fq(5.0f, &p) - 5.0) <= 0.5 * p.scale + 1e-6);
        assert_true(fabs(igq__fq(2.0f, &p) - 2.0) <= 0.5 * p.scale + 1e-6);
    }
}

static void test_qp_asym_degenerate(void **state)
{
    static const float V[] = {0.0f, 3.0f, -2.5f, 1e-20f, -1e-20f, 1000.0f, 1e-30f};
    size_t k;
    int    bits;
    (void)state;
    for (bits = 2; bits <= 8; bits++)
        for (k = 0; k < sizeof V / sizeof V[0]; k++) {
            const float       v = V[k];
            const igq_qparams p = igq__qp_asym(v, v, bits);
            float             y = igq__fq(v, &p);
            int32_t           q = igq__quant(v, &p);
            assert_true(p.scale > 0.0f && isfinite(p.scale));
            assert_true(isfinite(p.inv_scale));
            assert_true(isfinite(y));
            /* lo is reproduced (to float precision: the grid spacing is ~1e-8 |lo|). */
            if (!(fabs((double)y - v) <= 8.0 * U32 * fabs(v))) {
                fprintf(stderr, "degenerate [%g, %g] b=%d -> %.9g\n", v, v, bits, y);
                fail();
            }
            if (!(q >= p.qmin && q <= p.qmax)) {
                fprintf(stderr, "degenerate [%g, %g] b=%d: code %d outside [%d, %d] (zero point %d)\n",
                        v, v, bits, q, p.qmin, p.qmax, p.zero);
                fail();
            }
            /* Values away from the point clamp to the (tiny) grid instead of blowing up. */
            assert_true(isfinite(igq__fq(v + 1.0f, &p)) && isfinite(igq__fq(v - 1.0f, &p)));
            assert_true(igq__fq(v + 1.0f, &p) >= y && igq__fq(v - 1.0f, &p) <= y);
        }
}

static void test_qp_sym(void **state)
{
    static const float A[] = {1.0f, 0.37f, 100.0f, 1e-3f, 6.5f};
    tu_rng r;
    int    bits, restricted;
    size_t k;
    (void)state;
    tu_rng_seed(&r, 2);
    for (bits = 2; bits <= 8; bits++)
        for (restricted = 0; restricted <= 1; restricted++)
            for (k = 0; k < sizeof A / sizeof A[0]; k++) {
                const float       a    = A[k];
                const igq_qparams p    = igq__qp_sym(a, bits, restricted);
                const int         qmax = (1 << (bits - 1)) - 1;
                const double      s    = p.scale;
                int               i;
                assert_int_equal(p.zero, 0);
                assert_int_equal(p.qmax, qmax);
                assert_int_equal(p.qmin, restricted ? -qmax : -qmax - 1);
                assert_true(fabs(s - (double)a / qmax) <= 2.0 * U32 * s);
                for (i = 0; i < 1000; i++) {
                    float   x = (float)(a * (2.0 * tu_rng_uniform(&r) - 1.0));
                    float   y;
                    int32_t q;
                    if (i == 0) x = a;
                    if (i == 1) x = -a;
                    y = igq__fq(x, &p);
                    q = igq__quant(x, &p);
                    assert_true(fabs((double)y - x) <= 0.5 * s + fq_slack(x, s, a, a));
                    assert_true(q >= p.qmin && q <= p.qmax);
                    assert_true(y == p.scale * (float)q);
                }
                assert_true(igq__fq(0.0f, &p) == 0.0f);
                /* Clamping: restricted range is symmetric, full range has one more negative code. */
                assert_int_equal(igq__quant(a * 3.0f, &p), qmax);
                assert_int_equal(igq__quant(-a * 3.0f, &p), restricted ? -qmax : -qmax - 1);
                assert_true(igq__fq(a * 3.0f, &p) == p.scale * (float)qmax);
                assert_true(igq__fq(-a * 3.0f, &p) == p.scale * (float)(restricted ? -qmax : -qmax - 1));
            }
    /* absmax 0 does not divide by zero. */
    {
        igq_qparams p = igq__qp_sym(0.0f, 8, 1);
        assert_true(p.scale > 0.0f && isfinite(p.inv_scale));
        assert_true(igq__fq(0.0f, &p) == 0.0f);
        assert_true(isfinite(igq__fq(1.0f, &p)));
    }
}

/* Ties x = (k + 1/2) s with a power-of-two scale (so x / s is exact) round to the even code. */
static void test_round_half_even(void **state)
{
    int k;
    (void)state;
    {
        /* asym [0, 255/4]: s = 1/4 exactly, z = 0. */
        igq_qparams p = igq__qp_asym(0.0f, 63.75f, 8);
        assert_true(p.scale == 0.25f);
        assert_int_equal(p.zero, 0);
        for (k = 0; k < 254; k++) {
            float x    = ((float)k + 0.5f) * 0.25f;
            int   want = (k % 2 == 0) ? k : k + 1;
            assert_int_equal(igq__quant(x, &p), want);
            assert_true(igq__fq(x, &p) == 0.25f * (float)want);
        }
    }
    {
        /* sym restricted, absmax 127/8: s = 1/8 exactly; ties on both signs. */
        igq_qparams p = igq__qp_sym(15.875f, 8, 1);
        assert_true(p.scale == 0.125f);
        for (k = -127; k < 127; k++) {
            float x    = ((float)k + 0.5f) * 0.125f;
            int   want = (((k % 2) + 2) % 2 == 0) ? k : k + 1;
            assert_int_equal(igq__quant(x, &p), want);
        }
    }
    {
        /* asym with a zero point: [-2, 1.75] at 4 bits -> s = 0.25, z = 8; ties of x / s. */
        igq_qparams p = igq__qp_asym(-2.0f, 1.75f, 4);
        assert_true(p.scale == 0.25f);
        assert_int_equal(p.zero, 8);
        for (k = -8; k < 7; k++) {
            float x    = ((float)k + 0.5f) * 0.25f;
            int   want = ((((k % 2) + 2) % 2 == 0) ? k : k + 1) + 8;
            assert_int_equal(igq__quant(x, &p), want);
        }
    }
}

static void test_fake_quant_strided(void **state)
{
    float       x[12], y[12];
    igq_qparams p = igq__qp_asym(-1.0f, 1.0f, 3);
    int         i;
    (void)state;
    for (i = 0; i < 12; i++) x[i] = y[i] = -1.2f + 0.2f * (float)i;
    igq__fake_quant(y, 4, 3, &p); /* elements 0, 3, 6, 9 */
    for (i = 0; i < 12; i++) {
        if (i % 3 == 0)
            assert_true(y[i] == igq__fq(x[i], &p));
        else
            assert_true(y[i] == x[i]);
    }
}

/* ---- 2. calibrators ----------------------------------------------------------------------- */

static void shuffle(float *x, int64_t n, tu_rng *r)
{
    int64_t i;
    for (i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(tu_rng_next(r) % (uint64_t)(i + 1));
        float   t = x[i];
        x[i]      = x[j];
        x[j]      = t;
    }
}

static double sq_err(const float *x, int64_t n, float lo, float hi, int bits)
{
    igq_qparams p = igq__qp_asym(lo, hi, bits);
    double      e = 0.0;
    int64_t     i;
    for (i = 0; i < n; i++) {
        double d = (double)x[i] - igq__fq(x[i], &p);
        e += d * d;
    }
    return e;
}

static void test_calib_minmax(void **state)
{
    const int64_t n = 1000;
    float        *x = (float *)malloc((size_t)n * sizeof(float));
    float         mn = INFINITY, mx = -INFINITY, lo, hi;
    tu_rng        r;
    int64_t       i;
    (void)state;
    tu_rng_seed(&r, 3);
    for (i = 0; i < n; i++) {
        x[i] = (float)(3.0 * tu_rng_normal(&r) + 1.0);
        mn   = x[i] < mn ? x[i] : mn;
        mx   = x[i] > mx ? x[i] : mx;
    }
    igq__calibrate_range(IGQ__CALIB_MINMAX, x, n, 8, 0, &lo, &hi);
    assert_true(lo == mn && hi == mx);
    igq__calibrate_range(IGQ__CALIB_MINMAX, x, n, 8, 1, &lo, &hi);
    assert_true(lo == 0.0f && hi == mx);
    assert_true(igq__calibrate_absmax(IGQ__CALIB_MINMAX, x, n, 8) == fmaxf(-mn, mx));
    free(x);
}

static void test_calib_percentile(void **state)
{
    const int64_t n = 100000;
    float        *x = (float *)malloc((size_t)n * sizeof(float));
    float         lo, hi;
    tu_rng        r;
    int64_t       i;
    (void)state;
    tu_rng_seed(&r, 4);
    for (i = 0; i < n; i++) x[i] = (float)i;
    shuffle(x, n, &r);
    igq__calibrate_range(IGQ__CALIB_PERCENTILE, x, n, 8, 0, &lo, &hi);
    /* The 0.01th percentile of 0..99999 sits at position 1e-4 * 99999 = 9.9999 of the sorted
     * sample, the 99.99th at 99989.0001: the calibrator returns an order statistic next to them
     * (at most 10 = 1e-4 n values clip per tail). */
    if (!(lo >= 9.0f && lo <= 10.0f && hi >= 99989.0f && hi <= 99990.0f)) {
        fprintf(stderr, "percentile of 0..99999: [%g, %g]\n", lo, hi);
        fail();
    }
    for (i = 0; i < n; i++) x[i] = (float)i;
    shuffle(x, n, &r);
    igq__calibrate_range(IGQ__CALIB_PERCENTILE, x, n, 8, 1, &lo, &hi);
    assert_true(lo == 0.0f && hi >= 99989.0f && hi <= 99990.0f);
    /* absmax folds the sign: -(0..99999) has the same magnitudes. */
    for (i = 0; i < n; i++) x[i] = -(float)i;
    shuffle(x, n, &r);
    hi = igq__calibrate_absmax(IGQ__CALIB_PERCENTILE, x, n, 8);
    assert_true(hi >= 99989.0f && hi <= 99990.0f);
    free(x);
}

static void test_calib_mse(void **state)
{
    /* 4 bits: with 20000 N(0,1) values and 5 outliers at 50, the min/max step is 54/15 = 3.6
     * (noise ~ s^2/12 * n ~ 2.2e4) while clipping the outliers to ~7 costs 5 * 43^2 ~ 9e3: the
     * least-squares range clips them. */
    const int64_t n = 20005;
    float        *x = (float *)malloc((size_t)n * sizeof(float));
    float        *c = (float *)malloc((size_t)n * sizeof(float));
    float         lo, hi, mn = INFINITY, mx = -INFINITY;
    double        e_mse, e_mm;
    tu_rng        r;
    int64_t       i;
    (void)state;
    tu_rng_seed(&r, 5);
    for (i = 0; i < n; i++) {
        x[i] = i < 5 ? 50.0f : (float)tu_rng_normal(&r);
        mn   = x[i] < mn ? x[i] : mn;
        mx   = x[i] > mx ? x[i] : mx;
    }
    shuffle(x, n, &r);
    memcpy(c, x, (size_t)n * sizeof(float));
    igq__calibrate_range(IGQ__CALIB_MSE, c, n, 4, 0, &lo, &hi);
    e_mse = sq_err(x, n, lo, hi, 4);
    e_mm  = sq_err(x, n, mn, mx, 4);
    if (!(hi < 25.0f && hi > 2.0f && lo < -1.0f && lo >= mn && e_mse <= e_mm)) {
        fprintf(stderr, "MSE: [%g, %g] err %g vs min/max [%g, %g] err %g\n", lo, hi, e_mse, mn, mx,
                e_mm);
        fail();
    }
    /* One-sided data (|N(0,1)| plus the outliers): the other search branch. */
    for (i = 0; i < n; i++) x[i] = fabsf(x[i]);
    memcpy(c, x, (size_t)n * sizeof(float));
    mn = INFINITY;
    for (i = 0; i < n; i++) mn = x[i] < mn ? x[i] : mn;
    igq__calibrate_range(IGQ__CALIB_MSE, c, n, 4, 0, &lo, &hi);
    assert_true(hi < 25.0f && hi > 2.0f);
    assert_true(sq_err(x, n, lo, hi, 4) <= sq_err(x, n, mn, 50.0f, 4));
    /* Symmetric search on magnitudes: clips the outliers too, and beats absmax 50. */
    memcpy(c, x, (size_t)n * sizeof(float));
    hi = igq__calibrate_absmax(IGQ__CALIB_MSE, c, n, 4);
    assert_true(hi < 25.0f && hi > 2.0f);
    free(x);
    free(c);
}

static void test_calib_kl(void **state)
{
    /* TensorRT entropy calibration ignores a handful of far outliers: 100000 N(0,1) values and
     * 10 at +-50 sigma give a threshold well inside (< 10 sigma) but beyond the bulk (> 2 sigma). */
    const int64_t n = 100010;
    float        *x = (float *)malloc((size_t)n * sizeof(float));
    float         lo, hi, t;
    tu_rng        r;
    int64_t       i;
    (void)state;
    tu_rng_seed(&r, 6);
    for (i = 0; i < n; i++) x[i] = i < 10 ? (i % 2 ? 50.0f : -50.0f) : (float)tu_rng_normal(&r);
    shuffle(x, n, &r);
    igq__calibrate_range(IGQ__CALIB_KL, x, n, 8, 0, &lo, &hi);
    if (!(hi > 2.0f && hi < 10.0f && lo < -2.0f && lo > -10.0f)) {
        fprintf(stderr, "KL: [%g, %g]\n", lo, hi);
        fail();
    }
    t = igq__calibrate_absmax(IGQ__CALIB_KL, x, n, 8);
    assert_true(t > 2.0f && t < 10.0f);
    /* One-sided (unsigned) data: the threshold is on x itself and lo stays 0. */
    for (i = 0; i < n; i++) x[i] = fabsf(x[i]);
    igq__calibrate_range(IGQ__CALIB_KL, x, n, 8, 1, &lo, &hi);
    assert_true(lo == 0.0f && hi > 2.0f && hi < 10.0f);
    free(x);
}

/* unsigned_only (softmax output): every calibrator returns lo = 0 exactly. The sample is
 * strictly positive (like a softmax sample), so lo = 0 is not the sample minimum. */
static void test_calib_unsigned_only(void **state)
{
    static const igq_calib_kind K[] = {IGQ__CALIB_MINMAX, IGQ__CALIB_PERCENTILE, IGQ__CALIB_MSE,
                                       IGQ__CALIB_KL};
    const int64_t n = 5000;
    float        *x = (float *)malloc((size_t)n * sizeof(float));
    tu_rng        r;
    size_t        k;
    int           bits;
    (void)state;
    for (bits = 2; bits <= 8; bits += 2)
        for (k = 0; k < sizeof K / sizeof K[0]; k++) {
            float   lo = -1.0f, hi = -1.0f;
            int64_t i;
            tu_rng_seed(&r, 7 + k);
            for (i = 0; i < n; i++) x[i] = (float)(0.2 + 0.8 * tu_rng_uniform(&r));
            igq__calibrate_range(K[k], x, n, bits, 1, &lo, &hi);
            if (!(lo == 0.0f && hi > 0.2f && hi <= 1.0f)) {
                fprintf(stderr, "unsigned_only, calibrator %d, %d bits: [%g, %g] (lo must be 0)\n",
                        (int)K[k], bits, lo, hi);
                fail();
            }
        }
    free(x);
}

/* Every calibrator returns lo <= hi inside [min, max] of the sample, on positive, negative and
 * mixed samples; on a uniform sample without outliers (nothing worth clipping) an 8-bit range
 * keeps at least 95% of the values, whatever the sign of the data. */
static void test_calib_range_invariants(void **state)
{
    static const igq_calib_kind K[] = {IGQ__CALIB_MINMAX, IGQ__CALIB_PERCENTILE, IGQ__CALIB_MSE,
                                       IGQ__CALIB_KL};
    static const double U[][2] = {{5.0, 10.0}, {-10.0, -5.0}, {-3.0, 7.0}, {-7.0, 3.0}};
    const int64_t n = 4000;
    float        *x = (float *)malloc((size_t)n * sizeof(float));
    float        *c = (float *)malloc((size_t)n * sizeof(float));
    tu_rng        r;
    size_t        k, s;
    int           bits, failures = 0;
    (void)state;
    tu_rng_seed(&r, 13);
    for (s = 0; s < 6; s++)
        for (k = 0; k < sizeof K / sizeof K[0]; k++)
            for (bits = 2; bits <= 8; bits += 2) {
                float   lo, hi, mn = INFINITY, mx = -INFINITY;
                int64_t i, clipped = 0;
                for (i = 0; i < n; i++) {
                    double v;
                    if (s < 4) v = U[s][0] + (U[s][1] - U[s][0]) * tu_rng_uniform(&r);
                    else if (s == 4) v = -(fabs(tu_rng_normal(&r)) + 1.0);
                    else v = tu_rng_normal(&r) * 2.0 + 0.5;
                    x[i] = (float)v;
                    mn   = x[i] < mn ? x[i] : mn;
                    mx   = x[i] > mx ? x[i] : mx;
                }
                memcpy(c, x, (size_t)n * sizeof(float));
                igq__calibrate_range(K[k], c, n, bits, 0, &lo, &hi);
                for (i = 0; i < n; i++) clipped += x[i] < lo || x[i] > hi;
                if (!(lo <= hi && lo >= mn && hi <= mx) ||
                    (s < 4 && bits == 8 && clipped > n / 20)) {
                    fprintf(stderr,
                            "calibrator %d, %d bits, sample %d in [%g, %g]: range [%g, %g] clips "
                            "%lld of %lld values\n",
                            (int)K[k], bits, (int)s, mn, mx, lo, hi, (long long)clipped,
                            (long long)n);
                    failures++;
                }
            }
    free(x);
    free(c);
    assert_int_equal(failures, 0);
}

/* Tiny and constant samples: every calibrator returns a finite range containing the value. */
static void test_calib_degenerate_samples(void **state)
{
    static const igq_calib_kind K[] = {IGQ__CALIB_MINMAX, IGQ__CALIB_PERCENTILE, IGQ__CALIB_MSE,
                                       IGQ__CALIB_KL};
    size_t k;
    (void)state;
    for (k = 0; k < sizeof K / sizeof K[0]; k++) {
        float one[1] = {2.5f}, cst[64], neg[1] = {-4.0f}, lo, hi;
        int   i;
        igq__calibrate_range(K[k], one, 1, 8, 0, &lo, &hi);
        assert_true(lo == 2.5f && hi == 2.5f);
        igq__calibrate_range(K[k], neg, 1, 8, 0, &lo, &hi);
        assert_true(lo == -4.0f && hi == -4.0f);
        for (i = 0; i < 64; i++) cst[i] = 0.0f;
        igq__calibrate_range(K[k], cst, 64, 8, 0, &lo, &hi);
        assert_true(lo == 0.0f && hi == 0.0f);
        for (i = 0; i < 64; i++) cst[i] = -1.5f;
        igq__calibrate_range(K[k], cst, 64, 4, 0, &lo, &hi);
        assert_true(lo == -1.5f && hi == -1.5f);
        for (i = 0; i < 64; i++) cst[i] = 0.0f;
        hi = igq__calibrate_absmax(K[k], cst, 64, 8);
        assert_true(isfinite(hi) && hi >= 0.0f);
    }
}

/* ---- 3. IGQ groups ------------------------------------------------------------------------ */

typedef struct cluster {
    double cm, cM, spread; /* centre (m, M) and half-width of the jitter */
    int    count;
} cluster;

/* Fills points of the clusters in shuffled order; cl[i] receives the cluster of point i. */
static int64_t make_clusters(const cluster *c, int nc, float *m, float *M, int *cl, tu_rng *r)
{
    int64_t n = 0, i;
    int     k, j;
    for (k = 0; k < nc; k++)
        for (j = 0; j < c[k].count; j++) {
            m[n]  = (float)(c[k].cm + c[k].spread * (2.0 * tu_rng_uniform(r) - 1.0));
            M[n]  = (float)(c[k].cM + c[k].spread * (2.0 * tu_rng_uniform(r) - 1.0));
            cl[n] = k;
            n++;
        }
    for (i = n - 1; i > 0; i--) {
        int64_t t = (int64_t)(tu_rng_next(r) % (uint64_t)(i + 1));
        float   a = m[i], b = M[i];
        int     c2 = cl[i];
        m[i] = m[t], M[i] = M[t], cl[i] = cl[t];
        m[t] = a, M[t] = b, cl[t] = c2;
    }
    return n;
}

static void check_envelope_sorted(const float *m, const float *M, int64_t n, const float *lo,
                                  const float *hi, int G)
{
    int64_t i;
    int     g;
    for (g = 0; g < G; g++) {
        assert_true(isfinite(lo[g]) && isfinite(hi[g]) && lo[g] <= hi[g]);
        if (g > 0) assert_true(hi[g] - lo[g] >= hi[g - 1] - lo[g - 1]); /* sorted by width */
    }
    for (i = 0; i < n; i++) {
        int covered = 0;
        for (g = 0; g < G && !covered; g++) covered = lo[g] <= m[i] && hi[g] >= M[i];
        if (!covered) {
            fprintf(stderr, "point %lld (%g, %g) is covered by no group\n", (long long)i, m[i], M[i]);
            fail();
        }
    }
}

/* Four well-separated clusters of channel (min, max) points: the calibrated ranges are exactly
 * the clusters' envelopes, whatever the cluster sizes (equal-count init chunks then mix
 * neighbouring clusters and k-means has to move points). */
static void test_groups_recover_clusters(void **state)
{
    static const cluster C1[4] = {{-0.25, 0.25, 0.02, 50}, {-1.0, 1.0, 0.05, 50},
                                  {0.0, 6.0, 0.1, 50},     {-8.0, 4.0, 0.2, 50}};
    static const cluster C2[4] = {{-0.25, 0.25, 0.02, 20}, {-1.0, 1.0, 0.05, 80},
                                  {0.0, 6.0, 0.1, 30},     {-8.0, 4.0, 0.2, 70}};
    const cluster *sets[2] = {C1, C2};
    float          m[200], M[200], lo[4], hi[4], lo2[4], hi2[4];
    int            cl[200], s;
    tu_rng         r;
    (void)state;
    tu_rng_seed(&r, 8);
    for (s = 0; s < 2; s++) {
        int64_t n = make_clusters(sets[s], 4, m, M, cl, &r), i;
        float   elo[4], ehi[4];
        int     k, g, it;
        for (k = 0; k < 4; k++) {
            elo[k] = INFINITY;
            ehi[k] = -INFINITY;
        }
        for (i = 0; i < n; i++) {
            elo[cl[i]] = m[i] < elo[cl[i]] ? m[i] : elo[cl[i]];
            ehi[cl[i]] = M[i] > ehi[cl[i]] ? M[i] : ehi[cl[i]];
        }
        it = igq__groups_calibrate(m, M, n, 4, 0, lo, hi);
        assert_true(it >= 1 && it <= 100);
        check_envelope_sorted(m, M, n, lo, hi, 4);
        /* Every cluster's envelope is one of the ranges (widths differ: 0.5, 2, 6, 12). */
        for (k = 0; k < 4; k++) {
            int found = 0;
            for (g = 0; g < 4; g++) found += lo[g] == elo[k] && hi[g] == ehi[k];
            if (found != 1) {
                fprintf(stderr, "set %d: cluster %d envelope [%g, %g] not recovered\n", s, k,
                        elo[k], ehi[k]);
                for (g = 0; g < 4; g++) fprintf(stderr, "  group %d: [%g, %g]\n", g, lo[g], hi[g]);
                fail();
            }
        }
        /* Each point is covered by its own cluster's range, and the cover rule picks it (the
         * narrowest covering range is the own cluster's: the others are wider or miss it). */
        for (i = 0; i < n; i++) {
            int a = igq__group_assign(m[i], M[i], lo, hi, lo, hi, 4, IGQ__ASSIGN_COVER);
            assert_true(lo[a] == elo[cl[i]] && hi[a] == ehi[cl[i]]);
        }
        /* Deterministic: same input, same bytes; the seed changes nothing today. */
        igq__groups_calibrate(m, M, n, 4, 0, lo2, hi2);
        assert_memory_equal(lo, lo2, sizeof lo);
        assert_memory_equal(hi, hi2, sizeof hi);
        igq__groups_calibrate(m, M, n, 4, 12345, lo2, hi2);
        assert_memory_equal(lo, lo2, sizeof lo);
        assert_memory_equal(hi, hi2, sizeof hi);
    }
}

/* Random points, several G: envelope property and width order always hold. */
static void test_groups_envelope_random(void **state)
{
    tu_rng r;
    int    trial;
    (void)state;
    tu_rng_seed(&r, 9);
    for (trial = 0; trial < 40; trial++) {
        int64_t n = 1 + (int64_t)(tu_rng_next(&r) % 300), i;
        int     G = 1 + (int)(tu_rng_next(&r) % 16);
        float  *m = (float *)malloc((size_t)n * sizeof(float));
        float  *M = (float *)malloc((size_t)n * sizeof(float));
        float   lo[16], hi[16];
        for (i = 0; i < n; i++) {
            double a = tu_rng_normal(&r) * 2.0, w = fabs(tu_rng_normal(&r)) * (1 + trial % 5);
            m[i]     = (float)a;
            M[i]     = (float)(a + w);
        }
        igq__groups_calibrate(m, M, n, G, (uint64_t)trial, lo, hi);
        check_envelope_sorted(m, M, n, lo, hi, G);
        free(m);
        free(M);
    }
}

/* More groups than distinct points, duplicates, a single point, no points: no crash, finite
 * sorted ranges, every point covered. */
static void test_groups_more_groups_than_points(void **state)
{
    float m[10], M[10], lo[64], hi[64];
    int   i;
    (void)state;
    m[0] = -1.0f, M[0] = 1.0f;
    m[1] = 0.0f, M[1] = 3.0f;
    m[2] = -2.0f, M[2] = -1.0f;
    igq__groups_calibrate(m, M, 3, 8, 0, lo, hi);
    check_envelope_sorted(m, M, 3, lo, hi, 8);
    igq__groups_calibrate(m, M, 3, 64, 0, lo, hi);
    check_envelope_sorted(m, M, 3, lo, hi, 64);
    for (i = 0; i < 10; i++) m[i] = -0.5f, M[i] = 0.75f; /* all identical */
    igq__groups_calibrate(m, M, 10, 4, 0, lo, hi);
    check_envelope_sorted(m, M, 10, lo, hi, 4);
    igq__groups_calibrate(m, M, 1, 5, 0, lo, hi);
    check_envelope_sorted(m, M, 1, lo, hi, 5);
    igq__groups_calibrate(m, M, 0, 3, 0, lo, hi);
    for (i = 0; i < 3; i++) assert_true(isfinite(lo[i]) && isfinite(hi[i]) && lo[i] <= hi[i]);
}

/* Cover bounds: inside [clo, chi] a value's quantization error is at most half a step (the
 * end codes absorb up to half a step beyond lo / hi); just outside it exceeds half a step. */
static void test_cover_bounds(void **state)
{
    static const float ranges[][2] = {{-1.0f, 1.0f}, {0.0f, 1.0f}, {2.0f, 5.0f}, {-0.17f, 3.3f},
                                      {-7.5f, -7.25f}, {0.0f, 0.0123f}};
    int r, bits;
    (void)state;
    for (r = 0; r < (int)(sizeof ranges / sizeof ranges[0]); r++)
        for (bits = 2; bits <= 8; bits++) {
            const igq_qparams p = igq__qp_asym(ranges[r][0], ranges[r][1], bits);
            float             clo, chi;
            int               i;
            igq__cover_bounds(&p, &clo, &chi);
            assert_true(clo < ranges[r][0] + 1e-6f && chi > ranges[r][1] - 1e-6f);
            for (i = 0; i <= 1000; i++) {
                const float x = clo + (chi - clo) * (float)i / 1000.0f;
                assert_true(fabsf(igq__fq(x, &p) - x) <= 0.5f * p.scale * (1.0f + 1e-4f));
            }
            assert_true(fabsf(igq__fq(clo - 0.01f * p.scale, &p) - (clo - 0.01f * p.scale)) >
                        0.5f * p.scale);
            assert_true(fabsf(igq__fq(chi + 0.01f * p.scale, &p) - (chi + 0.01f * p.scale)) >
                        0.5f * p.scale);
        }
}

static void test_assign_hand_cases(void **state)
{
    const float lo[3] = {-1.0f, -2.0f, -10.0f}, hi[3] = {1.0f, 2.0f, 10.0f};
    (void)state;
    assert_int_equal(igq__group_assign(-0.5f, 0.5f, lo, hi, lo, hi, 3, IGQ__ASSIGN_COVER), 0);
    assert_int_equal(igq__group_assign(-1.5f, 0.5f, lo, hi, lo, hi, 3, IGQ__ASSIGN_COVER), 1);
    assert_int_equal(igq__group_assign(-1.0f, 1.0f, lo, hi, lo, hi, 3, IGQ__ASSIGN_COVER), 0); /* edges */
    assert_int_equal(igq__group_assign(-3.0f, 0.0f, lo, hi, lo, hi, 3, IGQ__ASSIGN_COVER), 2);
    /* (-20, 0): no cover; clipping 19, 18, 10 -> the widest */
    assert_int_equal(igq__group_assign(-20.0f, 0.0f, lo, hi, lo, hi, 3, IGQ__ASSIGN_COVER), 2);
    /* (-10.5, 9): no cover; clipping 9.5, 8.5, 0.5 */
    assert_int_equal(igq__group_assign(-10.5f, 9.0f, lo, hi, lo, hi, 3, IGQ__ASSIGN_COVER), 2);
    /* nearest: (-1.5, 0.5): d = 0.5, 2.5, 163.5 */
    assert_int_equal(igq__group_assign(-1.5f, 0.5f, lo, hi, lo, hi, 3, IGQ__ASSIGN_NEAREST), 0);
    /* nearest clips: (-3, 3) is closer to (-2, 2) (d = 2) than to (-10, 10) (d = 98) */
    assert_int_equal(igq__group_assign(-3.0f, 3.0f, lo, hi, lo, hi, 3, IGQ__ASSIGN_NEAREST), 1);
    assert_int_equal(igq__group_assign(-9.0f, 9.0f, lo, hi, lo, hi, 3, IGQ__ASSIGN_NEAREST), 2);
    assert_int_equal(igq__group_assign(5.0f, 6.0f, lo, hi, lo, hi, 1, IGQ__ASSIGN_COVER), 0);
    assert_int_equal(igq__group_assign(5.0f, 6.0f, lo, hi, lo, hi, 1, IGQ__ASSIGN_NEAREST), 0);
}

static int cmp_width(const void *a, const void *b)
{
    const float *x = (const float *)a, *y = (const float *)b;
    float        wx = x[1] - x[0], wy = y[1] - y[0];
    return (wx > wy) - (wx < wy);
}

/* Brute force over random points and width-sorted random ranges (as the calibration outputs). */
static void test_assign_brute_force(void **state)
{
    tu_rng r;
    int    trial, covered_cases = 0, fallback_cases = 0, nearest_exact = 0, nearest_total = 0;
    (void)state;
    tu_rng_seed(&r, 10);
    for (trial = 0; trial < 3000; trial++) {
        int   G = 1 + (int)(tu_rng_next(&r) % 8), g, a;
        float rg[8][2], lo[8], hi[8];
        float m, M;
        for (g = 0; g < G; g++) {
            double c = tu_rng_normal(&r), w = 0.1 + 4.0 * tu_rng_uniform(&r);
            rg[g][0] = (float)(c - w * tu_rng_uniform(&r));
            rg[g][1] = rg[g][0] + (float)w;
        }
        qsort(rg, (size_t)G, sizeof rg[0], cmp_width);
        for (g = 0; g < G; g++) lo[g] = rg[g][0], hi[g] = rg[g][1];
        {
            double c = tu_rng_normal(&r), w = 3.0 * tu_rng_uniform(&r);
            m = (float)(c - w * tu_rng_uniform(&r));
            M = m + (float)w;
        }
        /* COVER */
        a = igq__group_assign(m, M, lo, hi, lo, hi, G, IGQ__ASSIGN_COVER);
        assert_true(a >= 0 && a < G);
        {
            double best_w = INFINITY, best_clip = INFINITY, clip_a;
            for (g = 0; g < G; g++) {
                double clip = fmax((double)lo[g] - m, 0.0) + fmax((double)M - hi[g], 0.0);
                if (lo[g] <= m && hi[g] >= M && (double)hi[g] - lo[g] < best_w)
                    best_w = (double)hi[g] - lo[g];
                best_clip = fmin(best_clip, clip);
            }
            clip_a = fmax((double)lo[a] - m, 0.0) + fmax((double)M - hi[a], 0.0);
            if (best_w < INFINITY) {
                covered_cases++;
                assert_true(lo[a] <= m && hi[a] >= M);
                assert_true((double)hi[a] - lo[a] <= best_w);
            } else {
                fallback_cases++;
                assert_true(clip_a <= best_clip + 1e-6 * (1.0 + fabs(m) + fabs(M)));
            }
        }
        /* NEAREST */
        a = igq__group_assign(m, M, lo, hi, lo, hi, G, IGQ__ASSIGN_NEAREST);
        assert_true(a >= 0 && a < G);
        {
            double best = INFINITY, da;
            int    arg = 0;
            for (g = 0; g < G; g++) {
                double dl = (double)m - lo[g], dh = (double)M - hi[g], d = dl * dl + dh * dh;
                if (d < best) best = d, arg = g;
            }
            da = ((double)m - lo[a]) * ((double)m - lo[a]) + ((double)M - hi[a]) * ((double)M - hi[a]);
            assert_true(da <= best * (1.0 + 1e-5) + 1e-12);
            nearest_exact += a == arg;
            nearest_total++;
        }
    }
    /* Both cover branches were exercised, and float vs double rounding decides at most a few
     * near-ties of the nearest rule. */
    assert_true(covered_cases > 300 && fallback_cases > 300);
    assert_true(nearest_exact >= nearest_total - 3);
}

/* ---- 4. multiple-choice knapsack ---------------------------------------------------------- */

static void test_mck_brute_force(void **state)
{
    tu_rng r;
    int    trial, feasible = 0, infeasible = 0;
    (void)state;
    tu_rng_seed(&r, 11);
    for (trial = 0; trial < 400; trial++) {
        int        L = 2 + (int)(tu_rng_next(&r) % 4), C = 2 + (int)(tu_rng_next(&r) % 3);
        int64_t    cost[5 * 4], budget;
        double     loss[5 * 4], best = INFINITY;
        int        choice[5], idx[5], l, c, combos = 1, k;
        igq_status s;
        for (l = 0; l < L; l++)
            for (c = 0; c < C; c++) {
                cost[l * C + c] = (int64_t)(tu_rng_next(&r) % 11);
                /* half-integers in [-5, 5]: plenty of exact ties */
                loss[l * C + c] = 0.5 * (double)((int)(tu_rng_next(&r) % 21) - 10);
            }
        budget = (int64_t)(tu_rng_next(&r) % (uint64_t)(L * 10 + 3));
        if (trial % 10 == 0) budget = 0;
        for (l = 0; l < L; l++) combos *= C;
        for (k = 0; k < combos; k++) {
            int64_t tc = 0;
            double  tl = 0.0;
            int     v  = k;
            for (l = 0; l < L; l++) {
                idx[l] = v % C;
                v /= C;
                tc += cost[l * C + idx[l]];
                tl += loss[l * C + idx[l]];
            }
            if (tc <= budget && tl < best) best = tl;
        }
        for (l = 0; l < 5; l++) choice[l] = -1;
        s = igq__mck_solve(L, C, cost, loss, budget, choice);
        if (best == INFINITY) {
            infeasible++;
            assert_int_equal(s, IGQ_ERR_OUT_OF_RANGE);
        } else {
            int64_t tc = 0;
            double  tl = 0.0;
            feasible++;
            assert_int_equal(s, IGQ_OK);
            for (l = 0; l < L; l++) {
                assert_true(choice[l] >= 0 && choice[l] < C);
                tc += cost[l * C + choice[l]];
                tl += loss[l * C + choice[l]];
            }
            assert_true(tc <= budget);
            if (fabs(tl - best) > 1e-9) {
                fprintf(stderr, "mck trial %d: loss %g, optimum %g\n", trial, tl, best);
                fail();
            }
        }
    }
    assert_true(feasible >= 100 && infeasible >= 20);
}

/* A bigger instance (8 layers x 3 candidates, costs up to 2000) still matches brute force. */
static void test_mck_larger(void **state)
{
    tu_rng r;
    int    trial;
    (void)state;
    tu_rng_seed(&r, 12);
    for (trial = 0; trial < 6; trial++) {
        enum { L = 8, C = 3 };
        int64_t cost[L * C], budget = 4000 + 1000 * trial, tc = 0;
        double  loss[L * C], best = INFINITY, tl = 0.0;
        int     choice[L], l, c, k, combos = 6561;
        for (l = 0; l < L; l++)
            for (c = 0; c < C; c++) {
                cost[l * C + c] = 200 * c + (int64_t)(tu_rng_next(&r) % 500);
                loss[l * C + c] = 1.0 / (1.0 + c) + 0.1 * tu_rng_uniform(&r);
            }
        for (k = 0; k < combos; k++) {
            int64_t kc = 0;
            double  kl = 0.0;
            int     v  = k;
            for (l = 0; l < L; l++) {
                kc += cost[l * C + v % C];
                kl += loss[l * C + v % C];
                v /= C;
            }
            if (kc <= budget && kl < best) best = kl;
        }
        assert_int_equal(igq__mck_solve(L, C, cost, loss, budget, choice), IGQ_OK);
        for (l = 0; l < L; l++) {
            tc += cost[l * C + choice[l]];
            tl += loss[l * C + choice[l]];
        }
        assert_true(tc <= budget);
        assert_true(fabs(tl - best) <= 1e-12);
    }
}

static void test_mck_arguments(void **state)
{
    int64_t cost[2] = {1, 2};
    double  loss[2] = {1.0, 0.0};
    int     choice[1];
    (void)state;
    assert_int_equal(igq__mck_solve(0, 2, cost, loss, 5, choice), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__mck_solve(1, 0, cost, loss, 5, choice), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__mck_solve(1, 2, cost, loss, -1, choice), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__mck_solve(1, 2, cost, loss, 0, choice), IGQ_ERR_OUT_OF_RANGE);
    assert_int_equal(igq__mck_solve(1, 2, cost, loss, 1, choice), IGQ_OK);
    assert_int_equal(choice[0], 0);
    assert_int_equal(igq__mck_solve(1, 2, cost, loss, 2, choice), IGQ_OK);
    assert_int_equal(choice[0], 1);
}

/* ---- 5. configuration API ----------------------------------------------------------------- */

typedef struct opt_spec {
    igq_option opt;
    int64_t    lo, hi, def;
    int        zero; /* 0 is accepted too, below lo (the option's unset value) */
} opt_spec;

/* Bounds, defaults and unset values as igq.h documents them. */
static const opt_spec SPECS[] = {
    {IGQ_OPT_WEIGHT_BITS, 2, 8, 8, 0},
    {IGQ_OPT_ACT_BITS, 2, 8, 8, 0},
    {IGQ_OPT_ATTN_BITS, 2, 8, 0, 1},
    {IGQ_OPT_EDGE_BITS, 2, 8, 8, 0},
    {IGQ_OPT_ACT_GRANULARITY, IGQ_GRANULARITY_TENSOR, IGQ_GRANULARITY_CHANNEL, IGQ_GRANULARITY_GROUP, 0},
    {IGQ_OPT_GROUPS, 1, 64, 8, 0},
    {IGQ_OPT_GROUP_BUDGET, 0, 64, 0, 0},
    {IGQ_OPT_CALIBRATOR, IGQ_CALIBRATOR_MINMAX, IGQ_CALIBRATOR_KL, IGQ_CALIBRATOR_MINMAX, 0},
    {IGQ_OPT_WEIGHT_CALIBRATOR, IGQ_CALIBRATOR_MINMAX, IGQ_CALIBRATOR_KL, IGQ_CALIBRATOR_MINMAX, 0},
    {IGQ_OPT_SEED, 0, INT64_MAX, 0, 0},
    {IGQ_OPT_EXECUTOR, IGQ_EXECUTOR_INT, IGQ_EXECUTOR_SIM, IGQ_EXECUTOR_INT, 0},
    {IGQ_OPT_ATTN_RANKING, 0, 1, 0, 0},
    {IGQ_OPT_MIXED_PRECISION_BUDGET, 200, 800, 0, 1},
    {IGQ_OPT_GROUP_ASSIGNMENT, IGQ_ASSIGN_COVER, IGQ_ASSIGN_NEAREST, IGQ_ASSIGN_COVER, 0},
    {IGQ_OPT_WEIGHT_ROUNDING, IGQ_ROUNDING_NEAREST, IGQ_ROUNDING_GPTQ, IGQ_ROUNDING_NEAREST, 0},
};
#define N_SPECS (sizeof SPECS / sizeof SPECS[0])

static void test_config_defaults_and_bounds(void **state)
{
    igq_config *c = NULL;
    size_t      k;
    int64_t     v, lo, hi;
    (void)state;
    assert_int_equal(igq_config_create(&c), IGQ_OK);
    assert_non_null(c);
    for (k = 0; k < N_SPECS; k++) {
        const opt_spec *sp = &SPECS[k];
        assert_int_equal(igq_config_get(c, sp->opt, &v), IGQ_OK);
        if (v != sp->def) {
            fprintf(stderr, "option %d: default %lld, documented %lld\n", (int)sp->opt,
                    (long long)v, (long long)sp->def);
            fail();
        }
        assert_int_equal(igq_option_bounds(sp->opt, &lo, &hi), IGQ_OK);
        if (lo != sp->lo || hi != sp->hi) {
            fprintf(stderr, "option %d: bounds [%lld, %lld], documented [%lld, %lld]\n",
                    (int)sp->opt, (long long)lo, (long long)hi, (long long)sp->lo,
                    (long long)sp->hi);
            fail();
        }
    }
    /* SPECS lists every option the library knows */
    assert_int_equal(igq_option_bounds((igq_option)N_SPECS, &lo, &hi), IGQ_ERR_INVALID_ARGUMENT);
    igq_config_free(c);
    igq_config_free(NULL);
}

/* Sets option o to value on c, expecting status want; on refusal the old value stays. */
static void expect_set(igq_config *c, igq_option o, int64_t value, igq_status want)
{
    int64_t    before, after;
    igq_status got;
    assert_int_equal(igq_config_get(c, o, &before), IGQ_OK);
    got = igq_config_set(c, o, value);
    if (got != want) {
        fprintf(stderr, "option %d = %lld: status %d, expected %d\n", (int)o, (long long)value,
                (int)got, (int)want);
        fail();
    }
    assert_int_equal(igq_config_get(c, o, &after), IGQ_OK);
    assert_true(after == (got == IGQ_OK ? value : before)); /* nothing is clamped */
}

/* igq_option_bounds tells the truth: every value of [lo, hi] is accepted, lo - 1 and hi + 1
 * are refused with IGQ_ERR_OUT_OF_RANGE, and 0 is accepted exactly where documented. SEED's
 * range (up to INT64_MAX) is walked at both ends. */
static void test_config_set_ranges(void **state)
{
    igq_config *c = NULL;
    size_t      k;
    (void)state;
    assert_int_equal(igq_config_create(&c), IGQ_OK);
    for (k = 0; k < N_SPECS; k++) {
        const opt_spec *sp = &SPECS[k];
        int64_t         lo, hi, v;
        assert_int_equal(igq_option_bounds(sp->opt, &lo, &hi), IGQ_OK);
        assert_true(lo <= hi);
        if (sp->zero) assert_true(lo > 1); /* 0 stands apart from the range */
        for (v = lo; v <= hi && v - lo <= 1000; v++) expect_set(c, sp->opt, v, IGQ_OK);
        for (v = hi; v >= lo && hi - v <= 1000; v--) expect_set(c, sp->opt, v, IGQ_OK);
        expect_set(c, sp->opt, lo - 1, IGQ_ERR_OUT_OF_RANGE);
        if (hi < INT64_MAX) expect_set(c, sp->opt, hi + 1, IGQ_ERR_OUT_OF_RANGE);
        expect_set(c, sp->opt, INT64_MIN, IGQ_ERR_OUT_OF_RANGE);
        expect_set(c, sp->opt, -1, IGQ_ERR_OUT_OF_RANGE);
        /* 0 outside the bounds: accepted exactly for the documented unset values */
        if (lo > 0) expect_set(c, sp->opt, 0, sp->zero ? IGQ_OK : IGQ_ERR_OUT_OF_RANGE);
        expect_set(c, sp->opt, sp->def, IGQ_OK);
    }
    igq_config_free(c);
}

static void test_config_bad_arguments(void **state)
{
    static const int bad[] = {-1, 15, 16, 17, 100, 0x7fffffff};
    igq_config      *c = NULL;
    int64_t          v, lo, hi;
    size_t           k;
    (void)state;
    assert_int_equal(igq_config_create(NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_config_create(&c), IGQ_OK);
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        igq_option o = (igq_option)bad[k];
        assert_int_equal(igq_config_set(c, o, 0), IGQ_ERR_INVALID_ARGUMENT);
        assert_int_equal(igq_config_get(c, o, &v), IGQ_ERR_INVALID_ARGUMENT);
        assert_int_equal(igq_option_bounds(o, &lo, &hi), IGQ_ERR_INVALID_ARGUMENT);
    }
    assert_int_equal(igq_config_set(NULL, IGQ_OPT_GROUPS, 4), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_config_get(NULL, IGQ_OPT_GROUPS, &v), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_config_get(c, IGQ_OPT_GROUPS, NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_option_bounds(IGQ_OPT_GROUPS, NULL, &hi), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_option_bounds(IGQ_OPT_GROUPS, &lo, NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_config_set_progress(NULL, NULL, NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_config_set_progress(c, NULL, NULL), IGQ_OK);
    igq_config_free(c);
}

/* ---- quantize_model arguments and progress (tiny generated model) ------------------------- */

typedef struct qctx {
    char       *dir;
    igq_model  *m;
    igq_tensor *calib;
} qctx;

static int setup_model(void **state)
{
    qctx   *t = (qctx *)calloc(1, sizeof *t);
    stw     w;
    char   *path;
    int64_t shape[4] = {6, 1, 8, 8};
    float  *p;
    tu_rng  r;
    int     i;
    t->dir = tu_make_tmpdir();
    stw_init(&w);
    stw_timm_vit(&w, 2, 16, 2, 32, 5, 1, 8, 4, 0, 21);
    path = stw_write(&w, t->dir, "tiny.safetensors");
    stw_free(&w);
    if (igq_model_load(path, &t->m) != IGQ_OK) {
        fprintf(stderr, "load: %s\n", igq_last_error());
        free(path);
        return -1;
    }
    free(path);
    if (igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &t->calib) != IGQ_OK) return -1;
    p = (float *)igq_tensor_data(t->calib);
    tu_rng_seed(&r, 22);
    for (i = 0; i < 6 * 64; i++) p[i] = (float)tu_rng_normal(&r);
    *state = t;
    return 0;
}

static int teardown_model(void **state)
{
    qctx *t = (qctx *)*state;
    igq_tensor_free(t->calib);
    igq_model_free(t->m);
    tu_rmdir_r(t->dir);
    free(t->dir);
    free(t);
    return 0;
}

static void test_quantize_arguments(void **state)
{
    qctx       *t = (qctx *)*state;
    igq_model  *q = NULL, *q2 = (igq_model *)&q;
    igq_config *c = NULL;
    igq_tensor *bad = NULL, *bad3 = NULL;
    int64_t     bs[4] = {2, 1, 8, 12}, b3[3] = {1, 8, 8};
    assert_int_equal(igq_config_create(&c), IGQ_OK);
    assert_int_equal(igq_quantize_model(t->m, t->calib, c, NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_quantize_model(NULL, t->calib, c, &q2), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(q2);
    q2 = (igq_model *)&q;
    assert_int_equal(igq_quantize_model(t->m, NULL, c, &q2), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(q2);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, bs, &bad), IGQ_OK);
    q2 = (igq_model *)&q;
    assert_int_equal(igq_quantize_model(t->m, bad, c, &q2), IGQ_ERR_SHAPE);
    assert_null(q2);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 3, b3, &bad3), IGQ_OK);
    q2 = (igq_model *)&q;
    assert_int_equal(igq_quantize_model(t->m, bad3, c, &q2), IGQ_ERR_SHAPE);
    assert_null(q2);
    /* INT executor: per-channel activation quantizers have no integer form. */
    assert_int_equal(igq_config_set(c, IGQ_OPT_EXECUTOR, IGQ_EXECUTOR_INT), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_ACT_GRANULARITY, IGQ_GRANULARITY_CHANNEL), IGQ_OK);
    q2 = (igq_model *)&q;
    assert_int_equal(igq_quantize_model(t->m, t->calib, c, &q2), IGQ_ERR_UNSUPPORTED);
    assert_null(q2);
    assert_non_null(strstr(igq_last_error(), "per-channel"));
    assert_int_equal(igq_config_set(c, IGQ_OPT_ACT_GRANULARITY, IGQ_GRANULARITY_GROUP), IGQ_OK);
    assert_int_equal(igq_quantize_model(t->m, t->calib, c, &q2), IGQ_OK);
    igq_model_free(q2);
    assert_int_equal(igq_config_set(c, IGQ_OPT_EXECUTOR, IGQ_EXECUTOR_SIM), IGQ_OK);
    /* NULL config = defaults; a quantized model cannot be quantized again. */
    assert_int_equal(igq_quantize_model(t->m, t->calib, NULL, &q), IGQ_OK);
    assert_non_null(q);
    assert_int_equal(igq_model_is_quantized(q), 1);
    assert_int_equal(igq_model_is_quantized(t->m), 0);
    assert_int_equal(igq_model_is_quantized(NULL), -1);
    q2 = (igq_model *)&q;
    assert_int_equal(igq_quantize_model(q, t->calib, c, &q2), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(q2);
    igq_model_free(q);
    igq_tensor_free(bad);
    igq_tensor_free(bad3);
    igq_config_free(c);
}

#define MAX_CALLS 4096
typedef struct prog {
    int    calls, cancel_at; /* cancel_at < 0: never */
    char   stage[MAX_CALLS][24];
    double frac[MAX_CALLS];
    int    bad_fraction;
} prog;

static int progress_cb(void *user, const char *stage, double fraction)
{
    prog *p = (prog *)user;
    int   k = p->calls++;
    if (k < MAX_CALLS) {
        snprintf(p->stage[k], sizeof p->stage[k], "%s", stage ? stage : "(null)");
        p->frac[k] = fraction;
    }
    if (!(fraction >= 0.0 && fraction <= 1.0)) p->bad_fraction = 1;
    return p->cancel_at >= 0 && k >= p->cancel_at;
}

static int saw_stage(const prog *p, const char *name)
{
    int k;
    for (k = 0; k < p->calls && k < MAX_CALLS; k++)
        if (strcmp(p->stage[k], name) == 0) return 1;
    return 0;
}

/* As igq.h documents the callback: the stages come in this order (those of options that are
 * off are skipped; "allocate" runs between the two "calibrate" calls); within a stage the
 * fractions strictly increase (each reported once), only a stage's first call may report 0,
 * and its last reports 1; "done" is the single last call. */
static void check_progress(const prog *p)
{
    static const char *const order[] = {"observe", "calibrate", "allocate", "calibrate",
                                        "ranking", "mixed precision", "weights", "done"};
    const int n_order = (int)(sizeof order / sizeof order[0]);
    int       k, j, pos = 0;
    assert_int_equal(p->bad_fraction, 0);
    assert_true(p->calls >= 1 && p->calls <= MAX_CALLS);
    for (k = 0; k < p->calls; k++) {
        int first = k == 0 || strcmp(p->stage[k], p->stage[k - 1]) != 0;
        if (first) { /* a new run of calls: the next documented stage of that name */
            while (pos < n_order && strcmp(order[pos], p->stage[k]) != 0) pos++;
            if (pos == n_order) {
                fprintf(stderr, "stage '%s' (call %d) unknown or out of order\n", p->stage[k], k);
                fail();
            }
            pos++;
        }
        if (!first && p->frac[k] == 0.0) {
            fprintf(stderr, "stage %s: fraction 0 after its first call\n", p->stage[k]);
            fail();
        }
        for (j = k + 1; j < p->calls; j++)
            if (strcmp(p->stage[j], p->stage[k]) == 0) {
                if (!(p->frac[j] > p->frac[k])) {
                    fprintf(stderr, "stage %s: fraction %g after %g\n", p->stage[k], p->frac[j],
                            p->frac[k]);
                    fail();
                }
                break;
            }
        if (j == p->calls && p->frac[k] != 1.0) {
            fprintf(stderr, "stage %s ends at %g, not 1\n", p->stage[k], p->frac[k]);
            fail();
        }
    }
    assert_string_equal(p->stage[p->calls - 1], "done");
    for (k = 0; k + 1 < p->calls; k++) assert_true(strcmp(p->stage[k], "done") != 0);
}

/* Calls of one stage. */
static int stage_calls(const prog *p, const char *name)
{
    int k, n = 0;
    for (k = 0; k < p->calls; k++) n += strcmp(p->stage[k], name) == 0;
    return n;
}

static void test_progress_and_cancel(void **state)
{
    qctx       *t = (qctx *)*state;
    igq_config *c = NULL;
    igq_model  *q = NULL;
    prog       *p = (prog *)calloc(1, sizeof *p);
    int         total, k;
    assert_int_equal(igq_config_create(&c), IGQ_OK);
    /* Count the calls of a full run. */
    p->cancel_at = -1;
    assert_int_equal(igq_config_set_progress(c, progress_cb, p), IGQ_OK);
    assert_int_equal(igq_quantize_model(t->m, t->calib, c, &q), IGQ_OK);
    igq_model_free(q);
    check_progress(p);
    assert_true(saw_stage(p, "observe") && saw_stage(p, "calibrate") && saw_stage(p, "weights"));
    /* the tiny model: depth 2, so 4 x 2 block weight sites, patch embedding and two heads */
    assert_int_equal(stage_calls(p, "weights"), 4 * 2 + 3);
    assert_int_equal(stage_calls(p, "calibrate"), 2);
    total = p->calls;
    assert_true(total >= 3);
    /* Cancelling at any call stops the run: IGQ_ERR_CANCELLED, no model, no further calls. */
    for (k = 0; k < total; k++) {
        igq_model *out = (igq_model *)&q;
        memset(p, 0, sizeof *p);
        p->cancel_at = k;
        assert_int_equal(igq_quantize_model(t->m, t->calib, c, &out), IGQ_ERR_CANCELLED);
        assert_null(out);
        assert_int_equal(p->calls, k + 1);
    }
    /* With the allocation, ranking and mixed precision on: more stages, same rules. */
    assert_int_equal(igq_config_set(c, IGQ_OPT_GROUP_BUDGET, 4), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_ATTN_RANKING, 1), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_MIXED_PRECISION_BUDGET, 700), IGQ_OK);
    memset(p, 0, sizeof *p);
    p->cancel_at = -1;
    assert_int_equal(igq_quantize_model(t->m, t->calib, c, &q), IGQ_OK);
    igq_model_free(q);
    check_progress(p);
    assert_true(saw_stage(p, "allocate"));
    assert_int_equal(stage_calls(p, "ranking"), 2);
    assert_int_equal(stage_calls(p, "mixed precision"), 4 * 2);
    assert_int_equal(stage_calls(p, "weights"), 4 * 2 + 3);
    total = p->calls;
    {
        /* cancel at the first and last call of every distinct stage */
        prog *ref = (prog *)malloc(sizeof *ref);
        memcpy(ref, p, sizeof *ref);
        for (k = 0; k < total; k++) {
            int first = k == 0 || strcmp(ref->stage[k], ref->stage[k - 1]) != 0;
            int last  = k == total - 1 || strcmp(ref->stage[k], ref->stage[k + 1]) != 0;
            igq_model *out = (igq_model *)&q;
            if (!first && !last) continue;
            memset(p, 0, sizeof *p);
            p->cancel_at = k;
            assert_int_equal(igq_quantize_model(t->m, t->calib, c, &out), IGQ_ERR_CANCELLED);
            assert_null(out);
            assert_int_equal(p->calls, k + 1);
        }
        free(ref);
    }
    free(p);
    igq_config_free(c);
}

/* The range of a per-tensor quantizer. */
static void tensor_range(const igq_model *q, igq_site site, float *lo, float *hi)
{
    const igq_quantizer *z = NULL;
    assert_int_equal(igq_model_quantizer(q, 0, site, &z), IGQ_OK);
    assert_int_equal(igq_quantizer_num_groups(z), 1);
    assert_int_equal(igq_quantizer_params(z, NULL, NULL, lo, hi, 1), IGQ_OK);
}

/* 1 if (lo, hi) is (lo0, hi0) times one of the ranking search's factors 0.5, 0.55, .., 1.2. */
static int is_searched_range(float lo, float hi, float lo0, float hi0)
{
    int t;
    for (t = 0; t <= 14; t++) {
        float f = 0.5f + 0.05f * (float)t;
        if (lo == lo0 * f && hi == hi0 * f) return 1;
    }
    return 0;
}

/* VT-PTQ ranking on a model with more than 4,096 tokens (66 x 66 patches of 1 pixel plus the
 * class token: 4,357): the ranking objective once kept a score row in a 4,096-float stack
 * array indexed by token and overran it here (make check-asan runs this under ASan). The
 * search must still work: the Q and K ranges it returns are the calibrated ones (those of the
 * same run without ranking) times one of its factors. */
static void test_ranking_many_tokens(void **state)
{
    char       *dir = tu_make_tmpdir(), *path;
    stw         w;
    igq_model  *m = NULL, *q = NULL, *q0 = NULL;
    igq_tensor *calib = NULL;
    igq_config *c = NULL;
    int64_t     shape[4] = {1, 1, 64, 64}, tokens = 0;
    float      *x, lo, hi, lo0, hi0;
    tu_rng      r;
    int         i, s;
    (void)state;
    stw_init(&w);
    stw_timm_vit(&w, 1, 4, 1, 8, 3, 1, 64, 1, 0, 31);
    path = stw_write(&w, dir, "many_tokens.safetensors");
    stw_free(&w);
    assert_int_equal(igq_model_load(path, &m), IGQ_OK);
    assert_int_equal(igq_model_info(m, IGQ_PROP_NUM_TOKENS, &tokens), IGQ_OK);
    assert_true(tokens > 4096);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &calib), IGQ_OK);
    x = (float *)igq_tensor_data(calib);
    tu_rng_seed(&r, 32);
    for (i = 0; i < 64 * 64; i++) x[i] = (float)tu_rng_normal(&r);
    assert_int_equal(igq_config_create(&c), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_EXECUTOR, IGQ_EXECUTOR_SIM), IGQ_OK);
    assert_int_equal(igq_quantize_model(m, calib, c, &q0), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_ATTN_RANKING, 1), IGQ_OK);
    assert_int_equal(igq_quantize_model(m, calib, c, &q), IGQ_OK);
    for (s = 0; s < 2; s++) {
        igq_site site = s == 0 ? IGQ_SITE_Q : IGQ_SITE_K;
        tensor_range(q0, site, &lo0, &hi0);
        tensor_range(q, site, &lo, &hi);
        assert_true(lo0 < hi0);
        assert_true(is_searched_range(lo, hi, lo0, hi0));
    }
    igq_model_free(q);
    igq_model_free(q0);
    igq_config_free(c);
    igq_tensor_free(calib);
    igq_model_free(m);
    tu_rmdir_r(dir);
    free(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qp_asym),
        cmocka_unit_test(test_qp_asym_degenerate),
        cmocka_unit_test(test_qp_sym),
        cmocka_unit_test(test_round_half_even),
        cmocka_unit_test(test_fake_quant_strided),
        cmocka_unit_test(test_calib_minmax),
        cmocka_unit_test(test_calib_percentile),
        cmocka_unit_test(test_calib_mse),
        cmocka_unit_test(test_calib_kl),
        cmocka_unit_test(test_calib_unsigned_only),
        cmocka_unit_test(test_calib_range_invariants),
        cmocka_unit_test(test_calib_degenerate_samples),
        cmocka_unit_test(test_groups_recover_clusters),
        cmocka_unit_test(test_groups_envelope_random),
        cmocka_unit_test(test_groups_more_groups_than_points),
        cmocka_unit_test(test_cover_bounds),
        cmocka_unit_test(test_assign_hand_cases),
        cmocka_unit_test(test_assign_brute_force),
        cmocka_unit_test(test_mck_brute_force),
        cmocka_unit_test(test_mck_larger),
        cmocka_unit_test(test_mck_arguments),
        cmocka_unit_test(test_config_defaults_and_bounds),
        cmocka_unit_test(test_config_set_ranges),
        cmocka_unit_test(test_config_bad_arguments),
        cmocka_unit_test_setup_teardown(test_quantize_arguments, setup_model, teardown_model),
        cmocka_unit_test_setup_teardown(test_progress_and_cancel, setup_model, teardown_model),
        cmocka_unit_test(test_ranking_many_tokens),
    };
    return cmocka_run_group_tests_name("quant", tests, NULL, NULL);
}
