/* Grouped-GEMM fold (kernels.h igq_i32_fold_fn) against a width mapping: int32 -> float
 * (round to nearest even, the C conversion) and the two fused multiply-adds of the
 * specification per element, a masked vector for the tail of each row. Static inline. */
#ifndef IGQ_KERNELS_SIMD_I32_FOLD_IMPL_H
#define IGQ_KERNELS_SIMD_I32_FOLD_IMPL_H

#include <stddef.h>
#include <stdint.h>

/* the c (<= width) columns j.. of one row */
IGQ_SIMD_INLINE v_f32 i32_fold_vec(v_f32 s, v_i32 a, v_f32 old, const float *cs,
                                   const float *cb, int64_t j, int64_t c)
{
    v_f32 f = vf_fma(s, vf_from_i32(a), old);
    if (cs != NULL)
        f = c >= VF_WIDTH ? vf_fma(vf_load(cs + j), f, vf_load(cb + j))
                          : vf_fma(vf_load_tail(cs + j, c), f, vf_load_tail(cb + j, c));
    return f;
}

IGQ_SIMD_INLINE void i32_fold_impl(int64_t rows, int64_t n, float s, const int32_t *acc,
                                   int64_t lda, const float *colscale, const float *colbias,
                                   float *out, int64_t ldo, int first)
{
    const v_f32 vs = vf_set1(s);
    int64_t     r, j;
    for (r = 0; r < rows; r++) {
        const int32_t *a = acc + r * lda;
        float         *o = out + r * ldo;
        for (j = 0; j + VF_WIDTH <= n; j += VF_WIDTH) {
            const v_f32 old = first ? vf_zero() : vf_load(o + j);
            vf_store(o + j, i32_fold_vec(vs, vi_load(a + j), old, colscale, colbias, j, VF_WIDTH));
        }
        if (j < n) {
            const v_f32 old = first ? vf_zero() : vf_load_tail(o + j, n - j);
            vf_store_tail(o + j, n - j,
                          i32_fold_vec(vs, vi_load_tail(a + j, n - j), old, colscale, colbias, j, n - j));
        }
    }
}

#endif
