/* fp32 GELU in place (kernels.h igq_f32_gelu_fn) against a width mapping: vf_gelu on every
 * full vector, the last n mod width elements as one masked (tail) vector. Static inline. */
#ifndef IGQ_KERNELS_SIMD_F32_GELU_IMPL_H
#define IGQ_KERNELS_SIMD_F32_GELU_IMPL_H

#include "f32_math_impl.h"

IGQ_SIMD_INLINE void f32_gelu_impl(int64_t n, float *x)
{
    int64_t i;
    for (i = 0; i + VF_WIDTH <= n; i += VF_WIDTH) vf_store(x + i, vf_gelu(vf_load(x + i)));
    if (i < n) vf_store_tail(x + i, n - i, vf_gelu(vf_load_tail(x + i, n - i)));
}

#endif
