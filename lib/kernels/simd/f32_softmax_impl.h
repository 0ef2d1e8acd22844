/* fp32 softmax of scale * x in place over rows (kernels.h igq_f32_softmax_fn) against a width
 * mapping. Per row: v = x * scale; m = max v (exact, any order); e = exp(v - m) written back
 * and summed in the 16 partials of f32_math_impl.h, 16 elements per step (the last n mod 16
 * through masked vectors whose lanes past the row are 0); x = e * (1 / sum). Static inline. */
#ifndef IGQ_KERNELS_SIMD_F32_SOFTMAX_IMPL_H
#define IGQ_KERNELS_SIMD_F32_SOFTMAX_IMPL_H

#include "f32_math_impl.h"

IGQ_SIMD_INLINE float f32_row_max(int64_t n, const float *x)
{
    v_f32   vm = vf_set1(x[0]);
    float   m;
    int64_t i;
    for (i = 0; i + VF_WIDTH <= n; i += VF_WIDTH) vm = vf_max(vf_load(x + i), vm);
    m = vf_hmax(vm);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

IGQ_SIMD_INLINE void f32_softmax_impl(int64_t rows, int64_t n, float scale, float *x, int64_t ldx)
{
    const int64_t nf = n & ~(int64_t)15;
    int64_t       r, i;
    int           k;
    for (r = 0; r < rows; r++) {
        float *xr = x + r * ldx;
        v_f32  vm, acc[F32_NV];
        f32_scale_row(n, xr, scale);
        vm = vf_set1(f32_row_max(n, xr));
        for (k = 0; k < F32_NV; k++) acc[k] = vf_zero();
        for (i = 0; i < nf; i += 16)
            for (k = 0; k < F32_NV; k++) {
                float      *p = xr + i + k * VF_WIDTH;
                const v_f32 e = vf_exp_neg(vf_sub(vf_load(p), vm));
                vf_store(p, e);
                acc[k] = vf_add(acc[k], e);
            }
        for (k = 0; k < F32_NV && nf + k * VF_WIDTH < n; k++) {
            const int64_t c = n - nf - k * VF_WIDTH;
            float        *p = xr + nf + k * VF_WIDTH;
            v_f32         e;
            if (c >= VF_WIDTH) {
                e = vf_exp_neg(vf_sub(vf_load(p), vm));
                vf_store(p, e);
            } else {
                e = vf_keep(vf_tail_mask(c), vf_exp_neg(vf_sub(vf_load_tail(p, c), vm)));
                vf_store_tail(p, c, e);
            }
            acc[k] = vf_add(acc[k], e);
        }
        f32_scale_row(n, xr, 1.0f / f32_sum16(acc));
    }
}

#endif
