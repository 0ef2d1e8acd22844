/* Width mapping for plain C: one float lane. The float part of the names of simd_avx2.h,
 * each written as the C expression whose rounding the SIMD instruction has (fmaf for the
 * fused multiply-add, minps / maxps NaN rules as a < b ? a : b), so a generic kernel
 * instantiated here is the scalar reference of the same kernel at every other width.
 * Integer kernels have hand-written scalar references (nonlin.h) and need no int mapping. */
#ifndef IGQ_KERNELS_SIMD_SCALAR_H
#define IGQ_KERNELS_SIMD_SCALAR_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define IGQ_SIMD_INLINE static inline __attribute__((always_inline))
#else
#define IGQ_SIMD_INLINE static inline
#endif
#define VF_WIDTH        1

typedef float   v_f32;
typedef int     v_fmask;
typedef int32_t v_i32;

IGQ_SIMD_INLINE v_f32   vf_set1(float a) { return a; }
IGQ_SIMD_INLINE v_f32   vf_zero(void) { return 0.0f; }
IGQ_SIMD_INLINE v_f32   vf_load(const float *p) { return *p; }
IGQ_SIMD_INLINE void    vf_store(float *p, v_f32 v) { *p = v; }
IGQ_SIMD_INLINE v_fmask vf_tail_mask(int64_t c) { return c > 0; }
/* never called: the width-1 loops have no tails */
IGQ_SIMD_INLINE v_f32 vf_load_tail(const float *p, int64_t c) { return c > 0 ? *p : 0.0f; }
IGQ_SIMD_INLINE void  vf_store_tail(float *p, int64_t c, v_f32 v)
{
    if (c > 0) *p = v;
}
IGQ_SIMD_INLINE v_f32   vf_add(v_f32 a, v_f32 b) { return a + b; }
IGQ_SIMD_INLINE v_f32   vf_sub(v_f32 a, v_f32 b) { return a - b; }
IGQ_SIMD_INLINE v_f32   vf_mul(v_f32 a, v_f32 b) { return a * b; }
IGQ_SIMD_INLINE v_f32   vf_div(v_f32 a, v_f32 b) { return a / b; }
IGQ_SIMD_INLINE v_f32   vf_fma(v_f32 a, v_f32 b, v_f32 c) { return fmaf(a, b, c); }
IGQ_SIMD_INLINE v_f32   vf_fms(v_f32 a, v_f32 b, v_f32 c) { return fmaf(a, b, -c); }
IGQ_SIMD_INLINE v_f32   vf_min(v_f32 a, v_f32 b) { return a < b ? a : b; }
IGQ_SIMD_INLINE v_f32   vf_max(v_f32 a, v_f32 b) { return a > b ? a : b; }
IGQ_SIMD_INLINE v_f32   vf_abs(v_f32 a) { return fabsf(a); }
IGQ_SIMD_INLINE v_fmask vf_gt(v_f32 a, v_f32 b) { return a > b; }
IGQ_SIMD_INLINE v_fmask vf_ge(v_f32 a, v_f32 b) { return a >= b; }
IGQ_SIMD_INLINE v_fmask vf_lt(v_f32 a, v_f32 b) { return a < b; }
IGQ_SIMD_INLINE v_f32   vf_select(v_fmask m, v_f32 a, v_f32 b) { return m ? a : b; }
IGQ_SIMD_INLINE v_f32   vf_keep(v_fmask m, v_f32 a) { return m ? a : 0.0f; }
IGQ_SIMD_INLINE v_f32   vf_pow2i(v_f32 n)
{
    const uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float          s;
    memcpy(&s, &bits, sizeof s);
    return s;
}
IGQ_SIMD_INLINE v_f32 vf_from_i32(v_i32 a) { return (float)a; }
IGQ_SIMD_INLINE float vf_hsum(v_f32 v) { return v; }
IGQ_SIMD_INLINE float vf_hmax(v_f32 v) { return v; }
IGQ_SIMD_INLINE v_i32 vi_load(const int32_t *p) { return *p; }
IGQ_SIMD_INLINE v_i32 vi_load_tail(const int32_t *p, int64_t c) { return c > 0 ? *p : 0; }

#endif
