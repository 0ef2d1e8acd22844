/* Integer GEMM reference kernels and weight packing (plain C). Private header.
 * Semantics: igq_qgemm_fn / igq_qpack_fn in kernels.h; layout in qs8_layout.h. */
#ifndef IGQ_KERNELS_QS8_SCALAR_H
#define IGQ_KERNELS_QS8_SCALAR_H

#include <stdint.h>

/* lib/kernels/scalar/qs8_gemm_scalar.c: the spec every level must match bit for bit. */
void igq__qs8_gemm__scalar(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                       const uint8_t *A, int64_t lda, const void *packed, const int32_t *kperm,
                       int32_t *C, int64_t ldc);
void igq__qs4_gemm__scalar(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                       const uint8_t *A, int64_t lda, const void *packed, const int32_t *kperm,
                       int32_t *C, int64_t ldc);

/* Grouped GEMM with the f32 epilogue (igq_qggemm_fn in kernels.h); ws unused. */
void igq__qs8_ggemm__scalar(int64_t M, int64_t N, int64_t K, int32_t G, const int32_t *off,
                        const float *gs, const uint8_t *A, int64_t lda, const void *packed,
                        const int32_t *kperm, const float *colscale, const float *colbias,
                        float *Y, int64_t ldy, void *ws);
void igq__qs4_ggemm__scalar(int64_t M, int64_t N, int64_t K, int32_t G, const int32_t *off,
                        const float *gs, const uint8_t *A, int64_t lda, const void *packed,
                        const int32_t *kperm, const float *colscale, const float *colbias,
                        float *Y, int64_t ldy, void *ws);

/* lib/kernels/pack/qs8_pack.c: W [N][K] int8 -> the shared k-row panel layout. */
void igq__qs8_pack__scalar(int64_t N, int64_t K, const int8_t *W, const int32_t *perm, void *packed,
                   int32_t *rowsum);
void igq__qs4_pack__scalar(int64_t N, int64_t K, const int8_t *W, const int32_t *perm, void *packed,
                   int32_t *rowsum);

#endif
