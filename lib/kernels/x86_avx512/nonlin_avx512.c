/* The non-GEMM kernels at this level: the generic bodies of lib/kernels/simd/ over the
 * simd_avx512.h mapping (kernels.h lists them: fp32 GELU / softmax / LayerNorm, the
 * grouped-GEMM fold, integer requantization / softmax / LayerNorm / GELU, the byte
 * permutation). Reached only through the dispatch table. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "../simd/simd_avx512.h"

#include "../simd/f32_gelu_impl.h"
#include "../simd/f32_layernorm_impl.h"
#include "../simd/f32_softmax_impl.h"
#include "../simd/i32_fold_impl.h"
#include "../simd/i32_gelu_impl.h"
#include "../simd/i32_layernorm_impl.h"
#include "../simd/i32_requant_impl.h"
#include "../simd/i32_softmax_impl.h"
#include "../simd/u8_perm_impl.h"

IGQ_SIMD_KERNELS_DEFINE(avx512)

#else
typedef int igq_nonlin_avx512_empty; /* ISO C forbids an empty translation unit */
#endif
