/* Quantization maths: uniform quantizers, range calibrators, IGQ group calibration and
 * per-instance assignment, and the group-count allocation solver. No graph here.
 * Private header. */
#ifndef IGQ_QUANT_QUANT_H
#define IGQ_QUANT_QUANT_H

#include "../core/compiler.h"

#include <float.h>
#include <stddef.h>
#include <stdint.h>

#include "igq/igq.h"

/* Uniform quantizer: q = clamp(rne(x / scale) + zero, qmin, qmax), x^ = scale * (q - zero).
 * rne = round half to even (the CPU's default rounding, as cvtps2dq). The zero point of an
 * asymmetric quantizer is not clamped into [qmin, qmax]: a range that excludes 0 (e.g. a group
 * of channels in [2, 5]) keeps its full resolution; integer kernels fold the zero point into
 * an int32 correction term, so any int32 zero point is exact. */
typedef struct igq_qparams {
    float   scale;
    float   inv_scale;
    int32_t zero;
    int32_t qmin, qmax;
} igq_qparams;

/* Asymmetric unsigned b-bit quantizer for [lo, hi] (q in [0, 2^b - 1]). The scale is at least
 * max(|lo|, |hi|) / 2^20, so |zero| <= 2^20 (exact in float and in range of igq__rne); a
 * degenerate range (lo == hi) then represents lo exactly. */
igq_qparams igq__qp_asym(float lo, float hi, int bits);
/* Symmetric signed b-bit quantizer for |x| <= absmax: zero 0, q in [-2^(b-1), 2^(b-1) - 1], or
 * [-(2^(b-1) - 1), 2^(b-1) - 1] when restricted. */
igq_qparams igq__qp_sym(float absmax, int bits, int restricted);

/* Round half to even for |v| < 2^22 without libm: adding and removing 1.5 * 2^23 leaves the
 * integer nearest to v under the default rounding mode (the library is never built with
 * -ffast-math, so the compiler keeps both operations; it vectorizes). Callers clamp first. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "igq__rne needs float arithmetic in float precision (FLT_EVAL_METHOD == 0)"
#endif
static inline float igq__rne(float v)
{
    return (v + 12582912.0f) - 12582912.0f;
}

/* Quantize-dequantize one value. Clamping before rounding is equivalent (the bounds are
 * integers) and keeps |v| small enough for igq__rne. */
static inline float igq__fq(float x, const igq_qparams *p)
{
    const float lo = (float)(p->qmin - p->zero), hi = (float)(p->qmax - p->zero);
    float       v  = x * p->inv_scale;
    v              = v < lo ? lo : (v > hi ? hi : v);
    return p->scale * igq__rne(v);
}

/* The integer code of x (q in [qmin, qmax]). */
static inline int32_t igq__quant(float x, const igq_qparams *p)
{
    const float lo = (float)(p->qmin - p->zero), hi = (float)(p->qmax - p->zero);
    float       v  = x * p->inv_scale;
    v              = v < lo ? lo : (v > hi ? hi : v);
    return (int32_t)igq__rne(v) + p->zero;
}
/* Quantize-dequantize n values with stride `stride`. */
void igq__fake_quant(float *x, int64_t n, int64_t stride, const igq_qparams *p);

/* ---- calibrators (on a sample of values) ---- */
typedef enum igq_calib_kind {
    IGQ__CALIB_MINMAX = 0,
    IGQ__CALIB_PERCENTILE = 1,
    IGQ__CALIB_MSE = 2,
    IGQ__CALIB_KL = 3
} igq_calib_kind;

/* Chooses [lo, hi] for an asymmetric b-bit quantizer of the sample x[0..n) (n >= 1; the
 * values of x are reordered or overwritten). Allocation-free. unsigned_only: the tensor is known to be >= 0 (softmax output), lo = 0. */
void igq__calibrate_range(igq_calib_kind kind, float *x, int64_t n, int bits, int unsigned_only,
                          float *lo, float *hi);
/* Symmetric: returns absmax for igq__qp_sym. */
float igq__calibrate_absmax(igq_calib_kind kind, float *x, int64_t n, int bits);

/* ---- IGQ groups ---- */
typedef enum igq_assign_policy {
    IGQ__ASSIGN_COVER   = 0, /* smallest group range that covers [m, M]; else least clipping */
    IGQ__ASSIGN_NEAREST = 1  /* nearest (lo, hi) in squared Euclidean distance (clips) */
} igq_assign_policy;

/* Calibrates G group ranges from n points (m_i, M_i) (per channel/row min and max over one
 * image, collected over the calibration images): k-means on the 2-D points (squared Euclidean;
 * init by sorting on M - m and splitting into G equal-count chunks; at most 100 iterations;
 * an empty group is re-seeded with the point farthest from its centroid), then each group's
 * range is the envelope (min of m, max of M) of its members, so no calibration point is clipped
 * by its own group. Deterministic: ties break by index; seed perturbs nothing but the
 * tie-breaking order of equal points (kept for future randomized inits).
 * Output lo/hi sorted by width. Returns the number of iterations. */
int igq__groups_calibrate(const float *m, const float *M, int64_t n, int G, uint64_t seed,
                          float *lo, float *hi);

/* Cover bounds of a group quantizer: [s (qmin - z - 1/2), s (qmax - z + 1/2)], the values
 * whose rounding error stays within half a step (values just outside [lo, hi] clamp to the end
 * code with no more error than rounding inside). COVER tests containment in these bounds, not
 * in the calibrated [lo, hi] envelope: channel ranges pile up exactly on envelope bounds (the
 * class token's row is the same in every image before the first attention; GELU outputs flatten
 * at GELU's minimum), and a test right at a bound would flip on the last bit of a value. */
static inline void igq__cover_bounds(const igq_qparams *p, float *clo, float *chi)
{
    *clo = p->scale * ((float)(p->qmin - p->zero) - 0.5f);
    *chi = p->scale * ((float)(p->qmax - p->zero) + 0.5f);
}

/* Group of a channel (or row) with range [m, M] among G groups. COVER: the first group (groups
 * are sorted by width) whose cover bounds [clo, chi] contain [m, M]; else the one clipping
 * least beyond them. NEAREST: the least (m - lo)^2 + (M - hi)^2 over the calibrated ranges. */
static inline int igq__group_assign(float m, float M, const float *lo, const float *hi,
                                    const float *clo, const float *chi, int G, int policy)
{
    int   g, best = 0;
    float bestv = 0.0f;
    if (policy == IGQ__ASSIGN_NEAREST) {
        for (g = 0; g < G; g++) {
            float dl = m - lo[g], dh = M - hi[g], v = dl * dl + dh * dh;
            if (g == 0 || v < bestv) {
                bestv = v;
                best  = g;
            }
        }
        return best;
    }
    /* cover: groups are sorted by width, so the first covering group is the narrowest. */
    for (g = 0; g < G; g++)
        if (clo[g] <= m && chi[g] >= M) return g;
    for (g = 0; g < G; g++) {
        float cl = clo[g] > m ? clo[g] - m : 0.0f, ch = M > chi[g] ? M - chi[g] : 0.0f;
        float v  = cl + ch;
        if (g == 0 || v < bestv) {
            bestv = v;
            best  = g;
        }
    }
    return best;
}

/* ---- multiple-choice knapsack (group-count allocation, mixed precision) ---- */
/* For n_layers layers with n_cand candidates each (cost[l*n_cand + c] >= 0 integer units,
 * loss[l*n_cand + c]), picks one candidate per layer minimizing the total loss subject to
 * total cost <= budget. Exact dynamic programming over the integer budget; ties prefer the
 * lower candidate index; a negative cost marks a candidate as unavailable. Returns
 * IGQ_ERR_OUT_OF_RANGE if no choice fits. choice[l] receives
 * the candidate index. */
igq_status igq__mck_solve(int n_layers, int n_cand, const int64_t *cost, const double *loss,
                          int64_t budget, int *choice);

#endif
