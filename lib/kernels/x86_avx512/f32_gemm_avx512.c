/* fp32 GEMM, AVX-512 (built with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma; uses only
 * AVX-512F + FMA; reached only through the dispatch table): igq_f32_gemm_fn (kernels.h), the
 * bits of igq__f32_gemm__scalar. The blocking, packing and register tile are
 * f32_gemm_driver.h, here with zmm: a 12 x 32 tile (24 zmm accumulators; the k loop broadcasts
 * A[m][k] and does 24 FMAs with the two B vectors of row k), the panel-outer order when A fits
 * in L2, and packed A for wide N (>= 768 columns, e.g. qkv and fc1: the k loop then broadcasts
 * from one stream instead of 12 row pointers, fewer registers and no spills, measured ~5%
 * faster on those shapes). N tails mask the last vector's B, C and bias accesses (no padding,
 * no over-read); masks cost nothing here, so one tail mode serves packed and in-place B. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>

#define F32G_MR 12
#define F32G_PANEL_OUTER 1
#define F32G_PACK_A 1
#define F32G_TAIL_MODE(full, packb) F32G_TAIL_BC
#define F32G_PF_SECOND 16 /* a B row of the panel is 32 floats: two lines */
#define FV __m512
#define FV_LANES 16
#define FV_MASK __mmask16
#define FV_ZERO() _mm512_setzero_ps()
#define FV_LOADU(p) _mm512_loadu_ps(p)
#define FV_STOREU(p, x) _mm512_storeu_ps((p), (x))
#define FV_LOADU_MASK(p, m) _mm512_maskz_loadu_ps((m), (p))
#define FV_STOREU_MASK(p, m, x) _mm512_mask_storeu_ps((p), (m), (x))
#define FV_BCAST(p) _mm512_set1_ps(*(p))
#define FV_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define FV_MASK_FIRST(n) ((__mmask16)((n) >= 16 ? 0xffffu : (1u << (n)) - 1u))

#include "../f32_gemm_driver.h"

IGQ_F32_GEMM_DECL(igq__f32_gemm_12x32__avx512) { f32g_gemm(M, N, K, A, lda, B, bias, C, ldc); }

#else
typedef int igq_f32_gemm_avx512_empty; /* ISO C forbids an empty translation unit */
#endif
