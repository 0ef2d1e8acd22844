/* Integer GEMM scalar kernels (the specification) and weight packing (plain C). Private
 * header.
 * Semantics: igq_qgemm_fn / igq_qpack_fn in kernels.h; layout in qs8_layout.h. */
#ifndef IGQ_KERNELS_QS8_SCALAR_H
#define IGQ_KERNELS_QS8_SCALAR_H

#include "../core/compiler.h"

#include <stdint.h>

#include "kernels.h"

/* lib/kernels/scalar/qs8_gemm_scalar.c: the spec every level must match bit for bit
 * (igq_qgemm_fn, igq_qggemm_fn; the grouped ones do not use ws). */
IGQ_QGEMM_DECL(igq__qs8_gemm__scalar);
IGQ_QGEMM_DECL(igq__qs4_gemm__scalar);
IGQ_QGGEMM_DECL(igq__qs8_ggemm__scalar);
IGQ_QGGEMM_DECL(igq__qs4_ggemm__scalar);

/* lib/kernels/pack/qs8_pack.c: W [N][K] int8 -> the shared k-row panel layout. */
void igq__qs8_pack__scalar(int64_t N, int64_t K, const int8_t *W, const int32_t *perm,
                           void *packed, int32_t *rowsum);
void igq__qs4_pack__scalar(int64_t N, int64_t K, const int8_t *W, const int32_t *perm,
                           void *packed, int32_t *rowsum);

#endif
