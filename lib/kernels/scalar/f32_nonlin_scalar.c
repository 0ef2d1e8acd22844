/* The float non-GEMM kernels at width 1: the generic bodies of lib/kernels/simd/ over the
 * plain-C mapping (fmaf where the SIMD levels fuse, one correctly rounded operation where
 * they do not), i.e. the specification every SIMD level gives the bits of (kernels.h
 * documents each: GELU through erfc, softmax and LayerNorm with 16 partial sums, the fold). */
#include "../kernels.h"

#include "../simd/simd_scalar.h"

#include "../simd/f32_gelu_impl.h"
#include "../simd/f32_layernorm_impl.h"
#include "../simd/f32_softmax_impl.h"
#include "../simd/i32_fold_impl.h"

IGQ_F32_KERNELS(IGQ_KERNEL_DEFINE, scalar)
