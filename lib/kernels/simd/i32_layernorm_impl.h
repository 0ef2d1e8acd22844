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

IGQ_SIMD_INLINE void i32_ln_stats_impl(const igq_ln_params *p, const int32_t *x, igq_ln_row *row)
{
    const int64_t C = p->C;
    v_i32         vs = vl_set1(0), vq = vl_set1(0), vmn = vi_set1(x[0]), vmx = vmn, vmu;
    v_cnt         kc;
    int64_t       i, S1, Sy, Syy;
    int32_t       mn, mx, k, mu_k;
    for (i = 0; i + VF_WIDTH <= C; i += VF_WIDTH) {
        const v_i32 v = vi_load(x + i);
        vs  = ln_sum_halves(vs, v);
        vmn = vi_min(vmn, v);
        vmx = vi_max(vmx, v);
    }
    S1 = vl_hsum(vs), mn = vi_hmin(vmn), mx = vi_hmax(vmx);
    for (; i < C; i++) {
        S1 += x[i];
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    igq__ln_row_shift(p, S1, mn, mx, &k, &mu_k);
    kc  = vi_cnt(k);
    vmu = vi_set1(mu_k);
    vs  = vl_set1(0);
    for (i = 0; i + VF_WIDTH <= C; i += VF_WIDTH) {
        const v_i32 y = vi_sub(vi_sra(vi_load(x + i), kc), vmu), yo = vl_srli(y, 32);
        vs = ln_sum_halves(vs, y);
        vq = vl_add(vl_add(vq, vl_mul_i32(y, y)), vl_mul_i32(yo, yo));
    }
    Sy = vl_hsum(vs), Syy = vl_hsum(vq);
    for (; i < C; i++) {
        const int64_t y = igq__asr32(x[i], k) - mu_k;
        Sy += y;
        Syy += y * y;
    }
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

#endif
