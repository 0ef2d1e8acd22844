/* Range calibrators (ALGORITHMS.md 5.2) on a sample of activation values.
 *  - MINMAX:     [min, max] of the sample.
 *  - PERCENTILE: the 0.01th and 99.99th percentiles (one value in 10^4 per tail may clip).
 *  - MSE:        the range minimizing the squared quantization error of the sample, searched
 *                over 100 shrink factors of the min/max range (lower and upper bounds shrunk
 *                independently on a 20 x 20 grid when the range straddles 0).
 *  - KL:         TensorRT's entropy calibration: a 2048-bin histogram of |x| (or x for a
 *                one-sided range), for every threshold bin i >= the number of quantization
 *                levels the clipped distribution P (outliers folded into the last bin) is
 *                compared with its quantized version Q (i bins merged into `levels` groups and
 *                spread back over the non-empty bins); the threshold with the least KL(P||Q)
 *                wins. Asymmetric ranges clip both ends at that threshold. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void minmax(const float *x, int64_t n, float *lo, float *hi)
{
    int64_t i;
    float   a = x[0], b = x[0];
    for (i = 1; i < n; i++) {
        a = x[i] < a ? x[i] : a;
        b = x[i] > b ? x[i] : b;
    }
    *lo = a;
    *hi = b;
}

/* The error searches run on a 2048-bin histogram of the sample (count and mean value per
 * bin), so a candidate range costs 2048 steps whatever the sample size. */
#define MSE_BINS 2048

typedef struct mse_hist {
    double cnt[MSE_BINS], mean[MSE_BINS];
} mse_hist;

static void mse_hist_build(mse_hist *h, const float *x, int64_t n, float a, float b)
{
    const double w = (double)b - (double)a;
    int64_t      i;
    int          k;
    memset(h, 0, sizeof *h);
    for (i = 0; i < n; i++) {
        int bin = w > 0 ? (int)(((double)x[i] - a) / w * MSE_BINS) : 0;
        bin     = bin < 0 ? 0 : (bin >= MSE_BINS ? MSE_BINS - 1 : bin);
        h->cnt[bin] += 1.0;
        h->mean[bin] += x[i];
    }
    for (k = 0; k < MSE_BINS; k++)
        if (h->cnt[k] > 0) h->mean[k] /= h->cnt[k];
}

static double sq_error_hist(const mse_hist *h, float lo, float hi, int bits)
{
    igq_qparams p = igq__qp_asym(lo, hi, bits);
    double      e = 0.0;
    int         k;
    for (k = 0; k < MSE_BINS; k++) {
        double d;
        if (h->cnt[k] == 0) continue;
        d = h->mean[k] - igq__fq((float)h->mean[k], &p);
        e += h->cnt[k] * d * d;
    }
    return e;
}

static void calib_mse(const float *x, int64_t n, int bits, int unsigned_only, float *lo, float *hi)
{
    static const int GRID = 20;
    mse_hist *h = NULL;
    float     a = x[0], b = x[0], best_lo, best_hi;
    double    best;
    int64_t   k;
    int       i, j;
    mse_hist  local;
    for (k = 1; k < n; k++) {
        a = x[k] < a ? x[k] : a;
        b = x[k] > b ? x[k] : b;
    }
    if (unsigned_only) a = 0.0f;
    h = &local;
    mse_hist_build(h, x, n, a, b);
    best_lo = a;
    best_hi = b;
    best    = sq_error_hist(h, a, b, bits);
    if (unsigned_only || a >= 0.0f || b <= 0.0f) {
        for (i = 1; i < 100; i++) {
            float  f = 1.0f - 0.01f * (float)i;
            float  l = a >= 0.0f ? a : a * f, u = b <= 0.0f ? b : b * f;
            double e;
            if (unsigned_only) l = 0.0f;
            e = sq_error_hist(h, l, u, bits);
            if (e < best) {
                best    = e;
                best_lo = l;
                best_hi = u;
            }
        }
    } else {
        for (i = 0; i < GRID; i++)
            for (j = 0; j < GRID; j++) {
                float  l = a * (1.0f - 0.045f * (float)i), u = b * (1.0f - 0.045f * (float)j);
                double e = sq_error_hist(h, l, u, bits);
                if (e < best) {
                    best    = e;
                    best_lo = l;
                    best_hi = u;
                }
            }
    }
    *lo = best_lo;
    *hi = best_hi;
}

/* TensorRT-style threshold for `levels` levels on the magnitudes v_i = sign * (x_i - base)
 * (>= 0 for every i; vmax their maximum). The histogram lives on the stack (3 x 2048 doubles);
 * thresholds are tried every `step` bins (about 256 candidates; TensorRT tries every bin). */
static float kl_threshold(const float *x, int64_t n, float base, float sign, float vmax, int levels)
{
    enum { BINS = 2048 };
    double  hist[BINS], p[BINS], q[BINS];
    double  best = INFINITY;
    int64_t k;
    int     i, best_i = BINS, step;
    float   t;
    if (!(vmax > 0.0f)) return vmax;
    memset(hist, 0, sizeof hist);
    for (k = 0; k < n; k++) {
        double v = (double)(sign * (x[k] - base));
        int    b = (int)(v / vmax * BINS);
        hist[b >= BINS ? BINS - 1 : (b < 0 ? 0 : b)] += 1.0;
    }
    if (levels > BINS) levels = BINS;
    step = (BINS - levels) / 256 + 1;
    for (i = levels; i <= BINS; i += (i + step <= BINS || i == BINS) ? step : BINS - i) {
        double outliers = 0.0, psum = 0.0, qsum = 0.0, kl = 0.0;
        int    j, g;
        for (j = i; j < BINS; j++) outliers += hist[j];
        for (j = 0; j < i; j++) p[j] = hist[j];
        p[i - 1] += outliers;
        /* Merge the i bins into `levels` groups, spread each group's mass over its non-empty
         * bins. */
        for (g = 0; g < levels; g++) {
            int    s0 = (int)((long)g * i / levels), e = (int)((long)(g + 1) * i / levels);
            double mass = 0.0;
            int    nz   = 0;
            if (e <= s0) e = s0 + 1;
            for (j = s0; j < e && j < i; j++) {
                mass += hist[j];
                nz += hist[j] > 0.0;
            }
            for (j = s0; j < e && j < i; j++) q[j] = (hist[j] > 0.0 && nz) ? mass / nz : 0.0;
        }
        for (j = 0; j < i; j++) {
            psum += p[j];
            qsum += q[j];
        }
        if (psum <= 0.0 || qsum <= 0.0) continue;
        for (j = 0; j < i; j++) {
            double pj = p[j] / psum, qj = q[j] / qsum;
            if (pj <= 0.0) continue;
            if (qj <= 0.0) qj = 1e-12;
            kl += pj * log(pj / qj);
        }
        if (kl < best) {
            best   = kl;
            best_i = i;
        }
        if (i == BINS) break;
    }
    t = (float)(((double)best_i + 0.5) * (double)vmax / BINS);
    return t < vmax ? t : vmax;
}

/* Symmetric threshold on |x|; folds x to |x| in place. */
static float kl_threshold_abs(float *x, int64_t n, float vmax, int levels)
{
    int64_t i;
    for (i = 0; i < n; i++) x[i] = fabsf(x[i]);
    return kl_threshold(x, n, 0.0f, 1.0f, vmax, levels);
}

void igq__calibrate_range(igq_calib_kind kind, float *x, int64_t n, int bits, int unsigned_only,
                          float *lo, float *hi)
{
    float a, b;
    minmax(x, n, &a, &b);
    if (unsigned_only) a = 0.0f;
    switch (kind) {
    case IGQ__CALIB_MINMAX: break;
    case IGQ__CALIB_PERCENTILE: {
        int64_t k = (int64_t)floor((double)(n - 1) * 1e-4), K = (n - 1) - k;
        qsort(x, (size_t)n, sizeof(float), cmp_float);
        a = unsigned_only ? 0.0f : x[k];
        b = x[K];
        break;
    }
    case IGQ__CALIB_MSE: {
        calib_mse(x, n, bits, unsigned_only, &a, &b);
        break;
    }
    case IGQ__CALIB_KL: {
        /* One-sided data (all >= 0, or all <= 0) gets a threshold on its distance from the
         * near end; signed data a symmetric threshold on |x|. */
        int64_t i;
        if (unsigned_only || a >= 0.0f) {
            const float base = unsigned_only ? 0.0f : a;
            b = base + kl_threshold(x, n, base, 1.0f, b - base, (1 << bits) - 1);
        } else if (b <= 0.0f) {
            a = b - kl_threshold(x, n, b, -1.0f, b - a, (1 << bits) - 1);
        } else {
            float vmax = 0.0f, t;
            for (i = 0; i < n; i++) vmax = fabsf(x[i]) > vmax ? fabsf(x[i]) : vmax;
            t = kl_threshold_abs(x, n, vmax, (1 << (bits - 1)) - 1);
            a = a < -t ? -t : a;
            b = b > t ? t : b;
        }
        break;
    }
    }
    *lo = a;
    *hi = b;
}

float igq__calibrate_absmax(igq_calib_kind kind, float *x, int64_t n, int bits)
{
    float   lo, hi;
    int64_t i;
    /* Fold to |x|: a symmetric quantizer only needs the magnitude distribution. */
    for (i = 0; i < n; i++) x[i] = fabsf(x[i]);
    if (kind == IGQ__CALIB_KL) {
        float vmax = 0.0f;
        for (i = 0; i < n; i++) vmax = x[i] > vmax ? x[i] : vmax;
        return kl_threshold(x, n, 0.0f, 1.0f, vmax, (1 << (bits - 1)) - 1);
    }
    if (kind == IGQ__CALIB_MSE) {
        /* Search the symmetric clip directly: error of the signed quantizer on |x|. */
        float       mx = 0.0f, best_t;
        double      best = INFINITY;
        int         k;
        for (i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
        best_t = mx;
        for (k = 0; k < 100; k++) {
            float       t = mx * (1.0f - 0.01f * (float)k);
            igq_qparams p = igq__qp_sym(t, bits, 1);
            double      e = 0.0;
            for (i = 0; i < n; i++) {
                double d = (double)x[i] - igq__fq(x[i], &p);
                e += d * d;
            }
            if (e < best) {
                best   = e;
                best_t = t;
            }
        }
        return best_t;
    }
    igq__calibrate_range(kind, x, n, bits, 1, &lo, &hi);
    return hi;
}
