/* fp32 reference kernels (plain C). Private header. */
#ifndef IGQ_KERNELS_F32_REF_H
#define IGQ_KERNELS_F32_REF_H

#include "../core/compiler.h"

#include <stddef.h>
#include <stdint.h>

/* C[m][n] = bias[n] + sum_k A[m][k] * B[k][n]; A row stride lda, C row stride ldc,
 * B is [K][N] contiguous. Every element is the fmaf chain c = bias (or 0); c = fmaf(A[m][k],
 * B[k][n], c) for k = 0..K-1: the specification of every SIMD fp32 GEMM. */
void igq__f32_gemm__scalar(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                           const float *B, const float *bias, float *C, int64_t ldc);

#endif
