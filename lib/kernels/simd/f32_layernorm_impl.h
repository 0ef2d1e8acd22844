/* fp32 LayerNorm of contiguous rows (kernels.h igq_f32_layernorm_fn) against a width mapping:
 * the sums in the 16 partials of f32_math_impl.h, 16 elements per step (masked vectors
 * whose lanes past the row are 0 for the last n mod 16), then the affine map per vector with
 * a masked tail. Static inline. */
#ifndef IGQ_KERNELS_SIMD_F32_LAYERNORM_IMPL_H
#define IGQ_KERNELS_SIMD_F32_LAYERNORM_IMPL_H

#include <math.h>

#include "f32_math_impl.h"

IGQ_SIMD_INLINE void f32_layernorm_impl(int64_t rows, int64_t n, const float *x, const float *w,
                                        const float *b, float eps, float *y)
{
    const int64_t nf = n & ~(int64_t)15, rem = n - nf;
    int64_t       r, i;
    int           k;
    for (r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float       *yr = y + r * n;
        v_f32        acc[F32_NV], acc2[F32_NV], vm, vc, vi;
        float        mean, c, var;
        for (k = 0; k < F32_NV; k++) acc[k] = acc2[k] = vf_zero();
        for (i = 0; i < nf; i += 16)
            for (k = 0; k < F32_NV; k++) acc[k] = vf_add(acc[k], vf_load(xr + i + k * VF_WIDTH));
        if (rem > 0)
            for (k = 0; k < F32_NV; k++) acc[k] = vf_add(acc[k], vf_block_load(xr + nf, rem, k));
        mean = f32_sum16(acc) / (float)n;
        vm   = vf_set1(mean);
        for (k = 0; k < F32_NV; k++) acc[k] = vf_zero();
        for (i = 0; i < nf; i += 16)
            for (k = 0; k < F32_NV; k++) {
                const v_f32 d = vf_sub(vf_load(xr + i + k * VF_WIDTH), vm);
                acc[k]        = vf_add(acc[k], d);
                acc2[k]       = vf_fma(d, d, acc2[k]);
            }
        for (k = 0; k < F32_NV && k * VF_WIDTH < rem; k++) {
            const int64_t ck = rem - (int64_t)k * VF_WIDTH; /* lanes < ck are in the row */
            const v_f32   d  = vf_keep(vf_tail_mask(ck), vf_sub(vf_block_load(xr + nf, rem, k), vm));
            acc[k]           = vf_add(acc[k], d);
            acc2[k]          = vf_fma(d, d, acc2[k]);
        }
        c   = f32_sum16(acc) / (float)n;
        var = f32_sum16(acc2) / (float)n - c * c;
        vc  = vf_set1(c);
        vi  = vf_set1(1.0f / sqrtf(var + eps));
        for (i = 0; i + VF_WIDTH <= n; i += VF_WIDTH) {
            const v_f32 t = vf_mul(vf_sub(vf_sub(vf_load(xr + i), vm), vc), vi);
            vf_store(yr + i, vf_fma(t, vf_load(w + i), vf_load(b + i)));
        }
        if (i < n) {
            const v_f32 t = vf_mul(vf_sub(vf_sub(vf_load_tail(xr + i, n - i), vm), vc), vi);
            vf_store_tail(yr + i, n - i,
                          vf_fma(t, vf_load_tail(w + i, n - i), vf_load_tail(b + i, n - i)));
        }
    }
}

#endif
