/* Grouped integer GEMM with the f32 group epilogue fused, AVX-512 VNNI (reached only through
 * the dispatch table). Semantics: igq_qggemm_fn (kernels.h), bit-exact with
 * igq__qs8_ggemm__scalar. The algorithm (per-group sums in registers, folded with the group
 * scale into an f32 tile in L1; the whole K of a panel staged once into the workspace) is
 * qggemm_driver.h, shared with the ymm levels; here its tile is the plain GEMM's 6 x 64 zmm
 * tile (qs8_avx512_inl.h), so a panel is one column group. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "qs8_avx512_inl.h"

#define QF __m512
#define QF_ZERO() _mm512_setzero_ps()
#define QF_SET1(x) _mm512_set1_ps(x)
#define QF_LOAD(p) _mm512_load_ps(p)
#define QF_STORE(p, x) _mm512_store_ps((p), (x))
#define QF_LOADU(p) _mm512_loadu_ps(p)
#define QF_STOREU(p, x) _mm512_storeu_ps((p), (x))
#define QF_CVT(x) _mm512_cvtepi32_ps(x)
#define QF_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define QF_LOADU_MASK(p, m) _mm512_maskz_loadu_ps((m), (p))
#define QF_STOREU_MASK(p, m, x) _mm512_mask_storeu_ps((p), (m), (x))

#include "../qggemm_driver.h"

IGQ_QGGEMM_ENTRIES(igq__qs8_ggemm_6x64c4__avx512vnni, igq__qs4_ggemm_6x64c4__avx512vnni, qggemm)

#else
typedef int igq_qs8_ggemm_avx512vnni_empty; /* ISO C forbids an empty translation unit */
#endif
