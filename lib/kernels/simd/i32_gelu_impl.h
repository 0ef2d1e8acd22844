/* Integer GELU of int32 accumulators (nonlin.h igq__i32_gelu__scalar) against a width
 * mapping. Per VF_WIDTH elements: the dyadic requantization to the 2^-IGQ_GELU_FRAC input on
 * two halves of 64-bit lanes (i32_requant_impl.h), saturated and packed to int32 lanes; then
 * the table step in int32 lanes: index and fraction of u clamped into the table (so every
 * lane gathers inside it), two gathers (T[i], T[i+1]), the interpolation (the product stays
 * below 2^25, the arithmetic shift is the floor of igq__asr32), and the two out-of-table cases
 * by selects. The n mod width tail by the scalar helpers. out may equal acc: each block is
 * read before it is written. Static inline. */
#ifndef IGQ_KERNELS_SIMD_I32_GELU_IMPL_H
#define IGQ_KERNELS_SIMD_I32_GELU_IMPL_H

#include "../nonlin_inl.h"
#include "i32_requant_impl.h"

IGQ_SIMD_INLINE v_i32 gelu_lanes(const igq_gelu_params *p, v_i32 u)
{
    const v_i32   lo    = vi_set1(-(8 << IGQ_GELU_FRAC));
    const v_i32   hi    = vi_set1((8 << IGQ_GELU_FRAC) - 1);
    const v_imask is_lo = vi_gt(lo, u);
    const v_imask is_hi = vi_gt(u, hi);
    /* u - lo wraps for u < lo and for u near INT32_MAX; as unsigned both are above the table
     * (clamped to its last entry; those lanes take 0 or u below): one unsigned min */
    const v_i32   v     = vi_min_u32(vi_sub(u, lo), vi_set1((16 << IGQ_GELU_FRAC) - 1));
    const v_i32   i     = vi_srli(v, IGQ_GELU_ISHIFT);
    const v_i32   f     = vi_and(v, vi_set1((1 << IGQ_GELU_ISHIFT) - 1));
    const v_i32   t0    = vi_gather(p->t, i);
    const v_i32   t1    = vi_gather(p->t + 1, i);
    /* T[i+1] - T[i] in [-532, 4628] (GELU' in [-0.13, 1.13] times 2^12) and f < 2^12: the
     * 16-bit product is exact */
    v_i32         r     = vi_mul_small(vi_sub(t1, t0), f);
    r = vi_add(t0, vi_srai(vi_add(r, vi_set1(1 << (IGQ_GELU_ISHIFT - 1))), IGQ_GELU_ISHIFT));
    r = vi_select(is_hi, u, r);
    return vi_select(is_lo, vi_zero(), r);
}

IGQ_SIMD_INLINE void i32_gelu_impl(const igq_gelu_params *p, int64_t n, const int32_t *acc,
                                   const int32_t *mult, const int32_t *shift, int per_channel,
                                   int32_t *out)
{
    if (n <= 0) return; /* no access to the parameters */
    const v_i32    lo = vl_set1(INT32_MIN), hi = vl_set1(INT32_MAX);
    const v_i32    vm = vl_set1(mult[0]);
    const vl_shift k  = vl_shift_make(shift[0]);
    const int64_t  h  = VL_WIDTH;
    int64_t        i;
    for (i = 0; i + VF_WIDTH <= n; i += VF_WIDTH) {
        const int32_t *m = per_channel ? mult + i : NULL, *s = per_channel ? shift + i : NULL;
        const v_i32    r0 = rq_half(acc + i, m, s, vm, &k);
        const v_i32    r1 = rq_half(acc + i + h, m != NULL ? m + h : NULL, s != NULL ? s + h : NULL, vm, &k);
        vi_store(out + i, gelu_lanes(p, vl_pack(rq_clamp(r0, lo, hi), rq_clamp(r1, lo, hi))));
    }
    for (; i < n; i++) {
        const int64_t c = per_channel ? i : 0;
        out[i]          = igq__gelu_eval(p, igq__requant(acc[i], mult[c], shift[c]));
    }
}

/* The f32 -> fixed conversion of igq__gelu_f32_eval on VF_WIDTH lanes, shortened where the
 * GELU gives the same output: v = min(2^31 - 128, x mul) (minps returns its second operand, the
 * NaN, for a NaN), then v + (+-0.5 with v's sign) truncated. Against the scalar: -0 gives
 * -0.5 -> 0 as +0.5 -> 0; v below -(2^31 - 128) (not clamped) and NaN convert to INT32_MIN
 * (the indefinite integer) or another value below the table, whose GELU is 0, as the scalar's
 * -(2^31 - 128) and 0 (T[2048] = round(GELU(0)) = 0) are; the rest is the same operations. */
IGQ_SIMD_INLINE v_i32 gelu_fixed_lanes(v_f32 x, v_f32 vmul)
{
    const v_f32 v = vf_min(vf_set1(2147483520.0f), vf_mul(x, vmul));
    return vf_to_i32_trunc(vf_add(v, vf_signed_half(v)));
}

/* nonlin.h igq__i32_gelu_f32__scalar: one pass, each block of x read before out is written
 * (in place allowed); the tail as one masked vector (masked-off lanes read 0: u = 0 gathers
 * inside the table) or by the scalar helper. */
IGQ_SIMD_INLINE void i32_gelu_f32_impl(const igq_gelu_params *p, int64_t n, const float *x,
                                       float mul, int32_t *out)
{
    const v_f32 vmul = vf_set1(mul);
    int64_t     i;
    for (i = 0; i + 2 * VF_WIDTH <= n; i += 2 * VF_WIDTH) {
        const v_i32 u0 = gelu_fixed_lanes(vf_load(x + i), vmul);
        const v_i32 u1 = gelu_fixed_lanes(vf_load(x + i + VF_WIDTH), vmul);
        vi_store(out + i, gelu_lanes(p, u0));
        vi_store(out + i + VF_WIDTH, gelu_lanes(p, u1));
    }
    for (; i + VF_WIDTH <= n; i += VF_WIDTH)
        vi_store(out + i, gelu_lanes(p, gelu_fixed_lanes(vf_load(x + i), vmul)));
    if (i < n && IGQ_SIMD_MASKED_TAILS)
        vi_store_tail(out + i, n - i,
                      gelu_lanes(p, gelu_fixed_lanes(vf_load_tail(x + i, n - i), vmul)));
    else
        for (; i < n; i++) out[i] = igq__gelu_f32_eval(p, x[i], mul);
}

#endif
