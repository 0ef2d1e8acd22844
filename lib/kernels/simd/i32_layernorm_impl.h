/* Integer LayerNorm (nonlin.h igq__i32_ln_stats__scalar / igq__i32_ln_apply__scalar) against
 * a width mapping; the row constants (mean, pre-shift, isqrt, reciprocal) and the C mod
 * width tails come from the scalar helpers of nonlin_inl.h.
 * Statistics: pass 1 sums x in 64-bit lanes (both sign-extended halves) with int32 min / max;
 * pass 2 forms y = (x >> k) - (mu >> k) (the arithmetic shift is the floor of igq__asr32) and
 * sums y and y^2 (the signed 32x32 -> 64 product of the even and the odd lanes).
 * Apply: per half of 64-bit lanes z = C y - Sy, n = round(z rcp / 2^t),
 * a = sat32(round((n gm + gb) / 2^gs)) with the rounding shifts of the mapping. Static inline. */
#ifndef IGQ_KERNELS_SIMD_I32_LAYERNORM_IMPL_H
#define IGQ_KERNELS_SIMD_I32_LAYERNORM_IMPL_H

#include "../nonlin_inl.h"

IGQ_SIMD_INLINE v_i32 ln_sum_halves(v_i32 acc, v_i32 v) { return vl_add(vl_add(acc, vl_lo(v)), vl_hi(v)); }

/* pass 1 over any int32 row: S1 in 64-bit lanes, min, max */
IGQ_SIMD_INLINE void ln_pass1(int64_t C, const int32_t *x, int64_t *S1, int32_t *mn, int32_t *mx)
{
    v_i32   vs = vl_set1(0), vmn = vi_set1(x[0]), vmx = vmn;
    int64_t i, s;
    int32_t lo, hi;
    for (i = 0; i + VF_WIDTH <= C; i += VF_WIDTH) {
        const v_i32 v = vi_load(x + i);
        vs  = ln_sum_halves(vs, v);
        vmn = vi_min(vmn, v);
        vmx = vi_max(vmx, v);
    }
    s = vl_hsum(vs), lo = vi_hmin(vmn), hi = vi_hmax(vmx);
    for (; i < C; i++) {
        s += x[i];
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    *S1 = s, *mn = lo, *mx = hi;
}

/* pass 2: Sy and Syy of y = (x >> k) - mu_k. |y| <= 2^B and C 2^B < 2^30 (nonlin.h), so the
 * sum of y, and every partial sum of it, fits int32 lanes; y^2 is summed in 64-bit lanes
 * (the even and the odd lanes' signed products). */
IGQ_SIMD_INLINE void ln_pass2(int64_t C, const int32_t *x, int32_t k, int32_t mu_k, int64_t *Sy,
                              int64_t *Syy)
{
    const v_cnt kc  = vi_cnt(k);
    const v_i32 vmu = vi_set1(mu_k);
    v_i32       vs = vi_set1(0), vq = vl_set1(0);
    int64_t     i, s, q;
    for (i = 0; i + VF_WIDTH <= C; i += VF_WIDTH) {
        const v_i32 y = vi_sub(vi_sra(vi_load(x + i), kc), vmu), yo = vl_srli(y, 32);
        vs = vi_add(vs, y);
        vq = vl_add(vl_add(vq, vl_mul_i32(y, y)), vl_mul_i32(yo, yo));
    }
    s = vl_hsum(ln_sum_halves(vl_set1(0), vs)), q = vl_hsum(vq);
    for (; i < C; i++) {
        const int64_t y = igq__asr32(x[i], k) - mu_k;
        s += y;
        q += y * y;
    }
    *Sy = s, *Syy = q;
}

IGQ_SIMD_INLINE void i32_ln_stats_impl(const igq_ln_params *p, const int32_t *x, igq_ln_row *row)
{
    int64_t S1, Sy, Syy;
    int32_t mn, mx, k, mu_k;
    ln_pass1(p->C, x, &S1, &mn, &mx);
    igq__ln_row_shift(p, S1, mn, mx, &k, &mu_k);
    ln_pass2(p->C, x, k, mu_k, &Sy, &Syy);
    igq__ln_row_finish(p, k, mu_k, Sy, Syy, row);
}

typedef struct ln_lanes {
    v_cnt    kc;
    v_i32    mu, C, sy, rcp, i32min, i32max;
    vl_shift t, g;
} ln_lanes;

/* a of the VL_WIDTH channels i.. from their y (sign-extended to 64-bit lanes) */
IGQ_SIMD_INLINE v_i32 ln_a_half(const igq_ln_params *p, const ln_lanes *c, v_i32 y, int64_t i)
{
    const v_i32 z = vl_sub(vl_mul_i32(y, c->C), c->sy);
    const v_i32 n = vl_rshift(vl_mul_i32(z, c->rcp), &c->t);
    const v_i32 v = vl_add(vl_mul_i32(n, vl_load_i32(p->gm + i)), vl_load(p->gb + i));
    return vl_min(vl_max(vl_rshift(v, &c->g), c->i32min), c->i32max);
}

IGQ_SIMD_INLINE void i32_ln_apply_impl(const igq_ln_params *p, const igq_ln_row *row,
                                       const int32_t *x, int32_t *out)
{
    ln_lanes c;
    int64_t  i;
    c.kc     = vi_cnt(row->k);
    c.mu     = vi_set1(row->mu_k);
    c.C      = vl_set1(p->C);
    c.sy     = vl_set1(row->sum_y);
    c.rcp    = vl_set1(row->rcp);
    c.i32min = vl_set1(INT32_MIN);
    c.i32max = vl_set1(INT32_MAX);
    c.t      = vl_shift_make(row->t);
    c.g      = vl_shift_make(p->gs);
    for (i = 0; i + VF_WIDTH <= p->C; i += VF_WIDTH) {
        const v_i32 y = vi_sub(vi_sra(vi_load(x + i), c.kc), c.mu);
        vl_store_i32x2(out + i, ln_a_half(p, &c, vl_lo(y), i), ln_a_half(p, &c, vl_hi(y), i + VL_WIDTH));
    }
    for (; i < p->C; i++) out[i] = igq__ln_affine(p, i, igq__ln_norm(p, row, x[i]));
}

/* LayerNorm from f32 (nonlin.h igq__i32_ln_f32__scalar): max |x| as an int32 max of the
 * magnitude bit patterns (all below 2^31, NaN patterns above infinity's, as the scalar unsigned
 * max); then, when the factor is finite and in_bits <= 22 (|xi| <= 2^22), the conversion with
 * the pass-1 statistics in one pass, the sum in int32 lanes flushed to 64-bit lanes every 256
 * vectors (256 2^22 < 2^31); else the conversion, then the 64-bit pass 1 of any int32 row. */
IGQ_SIMD_INLINE void i32_ln_f32_impl(const igq_ln_params *p, int32_t in_bits,
                                     const int64_t *eps_tab, const float *x, int32_t *xi,
                                     int32_t *out)
{
    const int64_t C = p->C;
    const v_i32   mag = vi_set1(0x7fffffff);
    v_i32         va = vi_set1(0);
    int64_t       i, S1, Sy, Syy;
    int32_t       mn, mx, k, mu_k;
    int           e;
    igq_ln_row    row;
    float         amax, f;
    {
        int32_t m;
        for (i = 0; i + VF_WIDTH <= C; i += VF_WIDTH)
            va = vi_max(va, vi_and(vi_load((const int32_t *)(const void *)(x + i)), mag));
        m = vi_hmax(va);
        for (; i < C; i++) {
            int32_t u;
            memcpy(&u, &x[i], sizeof u);
            u &= 0x7fffffff;
            m = u > m ? u : m;
        }
        memcpy(&amax, &m, sizeof amax);
    }
    f = igq__ln_f32_factor(amax, in_bits, &e);
    if (f == 0.0f) {
        memset(xi, 0, (size_t)C * sizeof *xi);
        S1 = 0, mn = mx = 0;
    } else if (in_bits <= 22 && f <= FLT_MAX) {
        const v_f32 vf = vf_set1(f), magic = vf_set1(12582912.0f);
        v_i32       vs = vl_set1(0), vmn = vi_set1(INT32_MAX), vmx = vi_set1(INT32_MIN);
        int64_t     blk;
        mn = INT32_MAX, mx = INT32_MIN;
        for (i = 0; i + VF_WIDTH <= C;) {
            v_i32 v32 = vi_set1(0);
            for (blk = 0; blk < 256 && i + VF_WIDTH <= C; blk++, i += VF_WIDTH) {
                const v_i32 v =
                    vf_to_i32_trunc(vf_sub(vf_add(vf_mul(vf_load(x + i), vf), magic), magic));
                vi_store(xi + i, v);
                v32 = vi_add(v32, v);
                vmn = vi_min(vmn, v);
                vmx = vi_max(vmx, v);
            }
            vs = ln_sum_halves(vs, v32);
        }
        S1 = vl_hsum(vs);
        if (i > 0) mn = vi_hmin(vmn), mx = vi_hmax(vmx);
        for (; i < C; i++) {
            xi[i] = (int32_t)((x[i] * f + 12582912.0f) - 12582912.0f);
            S1 += xi[i];
            mn = xi[i] < mn ? xi[i] : mn;
            mx = xi[i] > mx ? xi[i] : mx;
        }
    } else {
        for (i = 0; i < C; i++) xi[i] = (int32_t)((x[i] * f + 12582912.0f) - 12582912.0f);
        ln_pass1(C, xi, &S1, &mn, &mx);
    }
    igq__ln_row_shift(p, S1, mn, mx, &k, &mu_k);
    ln_pass2(C, xi, k, mu_k, &Sy, &Syy);
    igq__ln_row_finish_e(p, k, mu_k, Sy, Syy, eps_tab[in_bits - e - k], &row);
    i32_ln_apply_impl(p, &row, xi, out);
}

#endif
