/* Integer helpers of the non-linear kernels (nonlin.h), shared by the scalar reference and the
 * SIMD levels so that row constants and scalar tails are computed by one piece of code.
 * Private header; static inline functions only (included from ISA files). Every function is
 * pure integer arithmetic without undefined behaviour: right shifts of negative values go
 * through igq__asr64/32 (floor division by 2^k, portable). */
#ifndef IGQ_KERNELS_NONLIN_INL_H
#define IGQ_KERNELS_NONLIN_INL_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nonlin.h"

/* Number of significant bits of v (0 for v = 0). */
static inline int igq__bitlen64(uint64_t v)
{
    int b = 0;
    while (v != 0) v >>= 1, b++;
    return b;
}

/* floor(v / 2^k), 0 <= k <= 63. */
static inline int64_t igq__asr64(int64_t v, int k)
{
    return v >= 0 ? v >> k : ~((~v) >> k);
}

static inline int32_t igq__asr32(int32_t v, int k)
{
    return v >= 0 ? v >> k : ~((~v) >> k);
}

static inline int32_t igq__sat32(int64_t v)
{
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

/* floor((x m + 2^(s-1)) / 2^s), |result| < 2^62; m in [0, 2^31), s in [0, 62]. */
static inline int64_t igq__requant64(int32_t x, int32_t m, int32_t s)
{
    const int64_t p = (int64_t)x * m;
    return igq__asr64(p + (s > 0 ? (int64_t)1 << (s - 1) : 0), s);
}

/* The int32-saturated requantization igq__requant (nonlin.h). */
static inline int32_t igq__requant(int32_t x, int32_t m, int32_t s)
{
    return igq__sat32(igq__requant64(x, m, s));
}

/* clamp(r + zero, qmin, qmax) as a code; r from igq__requant64. */
static inline uint8_t igq__rq_code(int64_t r, int32_t zero, int32_t qmin, int32_t qmax)
{
    const int64_t v = r + zero;
    return (uint8_t)(v < qmin ? qmin : v > qmax ? qmax : v);
}

/* floor(sqrt(n)) for any uint64 n: the double square root of (double)n (n rounded to 53
 * bits, the root rounded once: within 1 of floor sqrt n for every n), clamped to 2^32 - 1,
 * then corrected by the exact integer tests x^2 <= n < (x+1)^2 (x <= 2^32 - 1: the squares fit
 * uint64). One sqrtsd instead of the up to 7 divisions of Newton's iteration it replaced
 * (test_kernels_nonlin checks both against the definition). The result is unique, so the
 * way it is computed changes no bit. */
static inline uint32_t igq__isqrt64(uint64_t n)
{
    uint64_t x = (uint64_t)sqrt((double)n);
    if (x > 0xffffffffu) x = 0xffffffffu;
    while (x * x > n) x--;
    while (x < 0xffffffffu && (x + 1) * (x + 1) <= n) x++;
    return (uint32_t)x;
}

/* ---- softmax ---- */

/* e for a distance d = max - x (uint32). */
static inline uint32_t igq__smx_exp(const igq_softmax_params *p, uint32_t d)
{
    uint32_t idx = (d >> p->k0) + ((d >> p->rsh) & p->rbit);
    if (idx > IGQ_SMX_IDX_MAX) idx = IGQ_SMX_IDX_MAX;
    return (uint32_t)(((uint64_t)p->t_hi[idx >> IGQ_SMX_LBITS] *
                           p->t_lo[idx & ((1u << IGQ_SMX_LBITS) - 1)] +
                       ((uint64_t)1 << (IGQ_SMX_G - 1))) >>
                      IGQ_SMX_G);
}

/* floor(Q 2^s / sum) for sum >= 2^22 (< 2^32 by the choice of s). */
static inline uint32_t igq__smx_factor(uint64_t sum, uint32_t Q, int32_t s)
{
    return (uint32_t)((((uint64_t)Q) << s) / sum);
}

static inline uint32_t igq__smx_norm(uint32_t e, uint32_t factor, int32_t s)
{
    return (uint32_t)(((uint64_t)e * factor + ((uint64_t)1 << (s - 1))) >> s);
}

/* ---- LayerNorm ---- */

/* From pass 1 (S1 = sum x, mn, mx): the pre-shift k and mu >> k. */
static inline void igq__ln_row_shift(const igq_ln_params *p, int64_t S1, int32_t mn,
                                     int32_t mx, int32_t *k, int32_t *mu_k)
{
    const int64_t C = p->C;
    /* mu = floor((2 S1 + C) / (2 C)) with floor division; |2 S1 + C| < 2^49 */
    const int64_t num = 2 * S1 + C, den = 2 * C;
    int64_t       mu  = num / den, R;
    int           kk;
    if (num % den != 0 && num < 0) mu -= 1;
    R  = (int64_t)mx - mu > mu - (int64_t)mn ? (int64_t)mx - mu : mu - (int64_t)mn;
    kk = igq__bitlen64((uint64_t)R) - p->bbits;
    if (kk < 0) kk = 0;
    *k    = kk;
    *mu_k = (int32_t)igq__asr64(mu, kk); /* mu in [mn, mx] fits int32 */
}

/* From pass 2 (Sy, Syy) and the epsilon term E of the row's pre-shift k: the row constants. */
static inline void igq__ln_row_finish_e(const igq_ln_params *p, int32_t k, int32_t mu_k,
                                        int64_t Sy, int64_t Syy, int64_t E, igq_ln_row *row)
{
    const int64_t V = p->C * Syy - Sy * Sy;
    const int64_t D = V + E;
    row->k     = k;
    row->mu_k  = mu_k;
    row->sum_y = (int32_t)Sy;
    if (D <= 0) {
        row->rcp = 0;
        row->t   = 60 - IGQ_LN_NBITS;
    } else {
        const int      j     = (62 - igq__bitlen64((uint64_t)D)) / 2;
        const uint64_t sigma = igq__isqrt64((uint64_t)D << (2 * j));
        row->rcp = (int32_t)((((uint64_t)1 << 60) + sigma / 2) / sigma);
        row->t   = 60 - IGQ_LN_NBITS - j;
    }
}

/* From pass 2 with the params' own E_k. */
static inline void igq__ln_row_finish(const igq_ln_params *p, int32_t k, int32_t mu_k,
                                      int64_t Sy, int64_t Syy, igq_ln_row *row)
{
    igq__ln_row_finish_e(p, k, mu_k, Sy, Syy, p->eps_k[k], row);
}

/* LayerNorm from f32 (nonlin.h igq__i32_ln_f32__scalar): max |x| of a row as the largest
 * magnitude bit pattern (NaN inputs give a NaN): for non-NaN floats the order of
 * (bits & 0x7fffffff) as unsigned integers is the order of |x|, and an integer max vectorizes. */
static inline float igq__ln_f32_absmax(int64_t n, const float *x)
{
    uint32_t m = 0, u;
    float    r;
    int64_t  i;
    for (i = 0; i < n; i++) {
        memcpy(&u, &x[i], sizeof u);
        u &= 0x7fffffffu;
        m = u > m ? u : m;
    }
    memcpy(&r, &m, sizeof r);
    return r;
}

/* The row's conversion factor 2^(in_bits - e) with amax < 2^e (frexpf), and e; 0 (and e = 0)
 * for an all-zero or non-finite row, and for a row whose factor would exceed FLT_MAX (its
 * integer row is then all zero; an infinite factor made x f infinite or NaN, and its
 * conversion to int32 undefined). */
static inline float igq__ln_f32_factor(float amax, int32_t in_bits, int *e)
{
    if (!(amax > 0.0f) || !(amax <= FLT_MAX)) {
        *e = 0;
        return 0.0f;
    }
    (void)frexpf(amax, e);
    if (in_bits - *e > FLT_MAX_EXP - 1) {
        *e = 0;
        return 0.0f;
    }
    return ldexpf(1.0f, in_bits - *e);
}

/* n_c at scale 2^-IGQ_LN_NBITS for input x_c. */
static inline int32_t igq__ln_norm(const igq_ln_params *p, const igq_ln_row *row, int32_t x)
{
    const int32_t y = igq__asr32(x, row->k) - row->mu_k;
    const int64_t z = (int64_t)p->C * y - row->sum_y;
    return (int32_t)igq__asr64(z * row->rcp + ((int64_t)1 << (row->t - 1)), row->t);
}

/* a_c from n_c. */
static inline int32_t igq__ln_affine(const igq_ln_params *p, int64_t c, int32_t n)
{
    const int64_t v = (int64_t)n * p->gm[c] + p->gb[c] + ((int64_t)1 << (p->gs - 1));
    return igq__sat32(igq__asr64(v, p->gs));
}

/* ---- GELU (b) ---- */

static inline int32_t igq__gelu_eval(const igq_gelu_params *p, int32_t u)
{
    const int32_t lo = -(8 << IGQ_GELU_FRAC), hi = 8 << IGQ_GELU_FRAC;
    int32_t       v, i, f;
    if (u < lo) return 0;
    if (u >= hi) return u;
    v = u - lo;
    i = v >> IGQ_GELU_ISHIFT;
    f = v & ((1 << IGQ_GELU_ISHIFT) - 1);
    return p->t[i] + igq__asr32((p->t[i + 1] - p->t[i]) * f + (1 << (IGQ_GELU_ISHIFT - 1)),
                                IGQ_GELU_ISHIFT);
}

/* GELU of one f32 value at the fixed-point scale mul (nonlin.h igq__i32_gelu_f32__scalar) */
static inline int32_t igq__gelu_f32_eval(const igq_gelu_params *p, float x, float mul)
{
    float v = x * mul;
    v       = v > 2147483520.0f ? 2147483520.0f : v;
    v       = v < -2147483520.0f ? -2147483520.0f : v;
    v       = v == v ? v : 0.0f;
    return igq__gelu_eval(p, (int32_t)(v >= 0.0f ? v + 0.5f : v - 0.5f));
}

#endif
