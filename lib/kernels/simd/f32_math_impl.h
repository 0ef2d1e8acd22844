/* The float element functions of the fp32 kernels (exp, GELU) and the fixed-order sums,
 * written once against a width mapping (simd_scalar.h, simd_avx2.h or simd_avx512.h,
 * included first). Every instantiation runs the same float operations in the same order, so
 * the scalar (width 1) instantiation is the reference and every width gives its bits.
 * Static inline only. */
#ifndef IGQ_KERNELS_SIMD_F32_MATH_IMPL_H
#define IGQ_KERNELS_SIMD_F32_MATH_IMPL_H

#include <stdint.h>

/* exp: 2^n exp(r), n = round(y log2 e) (the add / subtract of 1.5 2^23 rounds to an integer),
 * r = y - n ln 2 with ln 2 in two parts (LN2HI has 16 bits, so n LN2HI is exact), exp(r) by
 * its degree-7 Taylor polynomial in Horner form (|r| <= ln 2 / 2). */
#define IGQ_F32_LOG2E 1.44269504088896341f
#define IGQ_F32_MAGIC 12582912.0f /* 1.5 2^23 */
#define IGQ_F32_LN2HI 0.693145751953125f
#define IGQ_F32_LN2LO 1.42860682028622680e-6f
#define IGQ_F32_E7    1.98412698412698413e-4f /* 1/7!, ..., 1/2! */
#define IGQ_F32_E6    1.38888888888888889e-3f
#define IGQ_F32_E5    8.33333333333333333e-3f
#define IGQ_F32_E4    4.16666666666666667e-2f
#define IGQ_F32_E3    1.66666666666666667e-1f
#define IGQ_F32_E2    0.5f
/* softmax: exp(d) of d < DMIN is 0 (n = round(d log2 e) >= -126 keeps 2^n normal above) */
#define IGQ_F32_SOFTMAX_DMIN (-87.0f)
/* GELU (kernels.h igq_f32_gelu_fn) */
#define IGQ_F32_GELU_TMAX 13.0f    /* |x| clamp; Phi(-|x|) = 0 beyond it */
#define IGQ_F32_GELU_XMIN (-14.0f) /* x clamp of the negative branch (keeps -inf * 0 away) */
#define IGQ_F32_GELU_P10  (-4.905799776e-02f) /* P(u) = P0 + P1 u + ... + P10 u^10 */
#define IGQ_F32_GELU_P9   2.102689743e-01f
#define IGQ_F32_GELU_P8   (-2.166200280e-01f)
#define IGQ_F32_GELU_P7   (-3.971850276e-01f)
#define IGQ_F32_GELU_P6   1.222208619e+00f
#define IGQ_F32_GELU_P5   (-1.119195223e+00f)
#define IGQ_F32_GELU_P4   2.253875136e-01f
#define IGQ_F32_GELU_P3   1.588569768e-02f
#define IGQ_F32_GELU_P2   3.113668561e-01f
#define IGQ_F32_GELU_P1   3.979651332e-01f
#define IGQ_F32_GELU_P0   3.989755213e-01f

#define VF_C(c) vf_set1(c)

/* exp(y) for y in [-87.4, 0] (2^n normal) */
IGQ_SIMD_INLINE v_f32 vf_exp_core(v_f32 y)
{
    const v_f32 n = vf_sub(vf_fma(y, VF_C(IGQ_F32_LOG2E), VF_C(IGQ_F32_MAGIC)), VF_C(IGQ_F32_MAGIC));
    v_f32       r, p;
    r = vf_fma(n, VF_C(-IGQ_F32_LN2HI), y);
    r = vf_fma(n, VF_C(-IGQ_F32_LN2LO), r);
    p = vf_fma(VF_C(IGQ_F32_E7), r, VF_C(IGQ_F32_E6));
    p = vf_fma(p, r, VF_C(IGQ_F32_E5));
    p = vf_fma(p, r, VF_C(IGQ_F32_E4));
    p = vf_fma(p, r, VF_C(IGQ_F32_E3));
    p = vf_fma(p, r, VF_C(IGQ_F32_E2));
    p = vf_fma(p, r, VF_C(1.0f));
    p = vf_fma(p, r, VF_C(1.0f));
    return vf_mul(p, vf_pow2i(n));
}

/* exp(d) for d <= 0 (softmax): 0 below DMIN; NaN stays NaN */
IGQ_SIMD_INLINE v_f32 vf_exp_neg(v_f32 d)
{
    const v_f32 e = vf_exp_core(vf_max(VF_C(IGQ_F32_SOFTMAX_DMIN), d));
    return vf_select(vf_lt(d, VF_C(IGQ_F32_SOFTMAX_DMIN)), vf_zero(), e);
}

/* GELU(x) = x Phi(x) through erfc (kernels.h igq_f32_gelu_fn documents the approximation). */
IGQ_SIMD_INLINE v_f32 vf_gelu(v_f32 x)
{
    const v_f32 ax = vf_abs(x);
    const v_f32 t  = vf_min(ax, VF_C(IGQ_F32_GELU_TMAX)); /* NaN -> TMAX */
    const v_f32 hi = vf_mul(t, t);
    const v_f32 lo = vf_fms(t, t, hi); /* t^2 = hi + lo exactly */
    v_f32       e, u, q, h, w;
    e = vf_exp_core(vf_mul(VF_C(-0.5f), hi));
    e = vf_fma(vf_mul(VF_C(-0.5f), lo), e, e); /* exp(-(hi + lo) / 2) ~ exp(-hi / 2) (1 - lo / 2) */
    u = vf_div(VF_C(1.0f), vf_add(VF_C(1.0f), vf_mul(VF_C(0.5f), t)));
    q = vf_fma(VF_C(IGQ_F32_GELU_P10), u, VF_C(IGQ_F32_GELU_P9));
    q = vf_fma(q, u, VF_C(IGQ_F32_GELU_P8));
    q = vf_fma(q, u, VF_C(IGQ_F32_GELU_P7));
    q = vf_fma(q, u, VF_C(IGQ_F32_GELU_P6));
    q = vf_fma(q, u, VF_C(IGQ_F32_GELU_P5));
    q = vf_fma(q, u, VF_C(IGQ_F32_GELU_P4));
    q = vf_fma(q, u, VF_C(IGQ_F32_GELU_P3));
    q = vf_fma(q, u, VF_C(IGQ_F32_GELU_P2));
    q = vf_fma(q, u, VF_C(IGQ_F32_GELU_P1));
    q = vf_fma(q, u, VF_C(IGQ_F32_GELU_P0));
    h = vf_mul(VF_C(0.5f), vf_mul(e, vf_mul(u, q))); /* Phi(-|x|) = erfc(|x| / sqrt 2) / 2 */
    h = vf_select(vf_gt(ax, VF_C(IGQ_F32_GELU_TMAX)), vf_zero(), h);
    w = vf_select(vf_ge(x, vf_zero()), vf_sub(VF_C(1.0f), h), h);
    return vf_mul(vf_max(VF_C(IGQ_F32_GELU_XMIN), x), w); /* NaN stays NaN */
}

/* ---- sums in 16 interleaved partials ----------------------------------------------------
 * The fp32 row sums run in 16 partial sums (partial j adds the terms i = j mod 16 in
 * increasing i), reduced as p[j] + p[j+8] for j < 8, then halves again (4, 2, 1): whatever
 * the width, the same additions in the same order. F32_NV vectors hold the 16 partials. */
#define F32_NV (16 / VF_WIDTH)

/* Lanes [c, 16) of a block of 16 partials: what a row of c < 16 remaining terms adds. */
IGQ_SIMD_INLINE v_f32 vf_block_load(const float *p, int64_t c, int k)
{
    const int64_t ck = c - (int64_t)k * VF_WIDTH;
    return ck >= VF_WIDTH ? vf_load(p + k * VF_WIDTH) : ck > 0 ? vf_load_tail(p + k * VF_WIDTH, ck)
                                                                : vf_zero();
}

IGQ_SIMD_INLINE float f32_sum16(v_f32 *acc)
{
    int h, k;
    for (h = F32_NV / 2; h >= 1; h /= 2)
        for (k = 0; k < h; k++) acc[k] = vf_add(acc[k], acc[k + h]);
    return vf_hsum(acc[0]);
}

/* x[i] *= s for i < n */
IGQ_SIMD_INLINE void f32_scale_row(int64_t n, float *x, float s)
{
    const v_f32 vs = vf_set1(s);
    int64_t     i;
    for (i = 0; i + VF_WIDTH <= n; i += VF_WIDTH) vf_store(x + i, vf_mul(vf_load(x + i), vs));
    for (; i < n; i++) x[i] *= s;
}

#endif
