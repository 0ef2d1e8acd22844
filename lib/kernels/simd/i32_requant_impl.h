/* Requantization of an int32 row to unsigned codes (nonlin.h igq__i32_requant__scalar)
 * against a width mapping: VF_WIDTH values per step as two halves of 64-bit lanes (the exact
 * product x mult, the rounding shift of the mapping, the clamp of r + z in 64 bits, so any
 * int32 zero point is exact), packed to bytes; the n mod width tail by the scalar helpers of
 * nonlin_inl.h. The dyadic step alone (saturated to int32) serves the integer GELU.
 * Static inline. */
#ifndef IGQ_KERNELS_SIMD_I32_REQUANT_IMPL_H
#define IGQ_KERNELS_SIMD_I32_REQUANT_IMPL_H

#include "../nonlin_inl.h"

/* requant64 of VL_WIDTH values at x with per-lane (or, m / s NULL, common) parameters */
IGQ_SIMD_INLINE v_i32 rq_half(const int32_t *x, const int32_t *m, const int32_t *s,
                              v_i32 vm, const vl_shift *k)
{
    if (m != NULL) return vl_rshift_v(vl_mul_i32(vl_load_i32(x), vl_load_i32(m)), vl_load_i32(s));
    return vl_rshift(vl_mul_i32(vl_load_i32(x), vm), k);
}

IGQ_SIMD_INLINE v_i32 rq_clamp(v_i32 r, v_i32 lo, v_i32 hi) { return vl_min(vl_max(r, lo), hi); }

/* codes of the VF_WIDTH values i.. (pc: per-channel parameters) */
IGQ_SIMD_INLINE void rq_block(const int32_t *x, const int32_t *mult, const int32_t *shift,
                              const int32_t *zero, int pc, int64_t i, v_i32 vm, v_i32 vz,
                              const vl_shift *k, v_i32 qmin, v_i32 qmax, uint8_t *out)
{
    const int64_t h  = VL_WIDTH;
    const v_i32   r0 = pc ? vl_add(rq_half(x + i, mult + i, shift + i, vm, k), vl_load_i32(zero + i))
                          : vl_add(rq_half(x + i, NULL, NULL, vm, k), vz);
    const v_i32   r1 = pc ? vl_add(rq_half(x + i + h, mult + i + h, shift + i + h, vm, k),
                                   vl_load_i32(zero + i + h))
                          : vl_add(rq_half(x + i + h, NULL, NULL, vm, k), vz);
    vl_store_u8x2(out + i, rq_clamp(r0, qmin, qmax), rq_clamp(r1, qmin, qmax));
}

IGQ_SIMD_INLINE void i32_requant_impl(int64_t n, const int32_t *x, const int32_t *mult,
                                      const int32_t *shift, const int32_t *zero,
                                      int per_channel, int32_t qmin, int32_t qmax,
                                      uint8_t *out)
{
    if (n <= 0) return; /* no access to the parameters */
    const v_i32    vqmin = vl_set1(qmin), vqmax = vl_set1(qmax);
    const v_i32    vm = vl_set1(mult[0]), vz = vl_set1(zero[0]);
    const vl_shift k  = vl_shift_make(shift[0]);
    int64_t        i  = 0;
    if (per_channel) /* two loops: each inlines rq_block for its case */
        for (; i + VF_WIDTH <= n; i += VF_WIDTH)
            rq_block(x, mult, shift, zero, 1, i, vm, vz, &k, vqmin, vqmax, out);
    else
        for (; i + VF_WIDTH <= n; i += VF_WIDTH)
            rq_block(x, mult, shift, zero, 0, i, vm, vz, &k, vqmin, vqmax, out);
    for (; i < n; i++) {
        const int64_t c = per_channel ? i : 0;
        out[i] = igq__rq_code(igq__requant64(x[i], mult[c], shift[c]), zero[c], qmin, qmax);
    }
}

#endif
