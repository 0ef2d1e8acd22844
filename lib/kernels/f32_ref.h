/* fp32 reference kernels (plain C). Private header. */
#ifndef IGQ_KERNELS_F32_REF_H
#define IGQ_KERNELS_F32_REF_H

#include <stddef.h>
#include <stdint.h>

/* C[m][n] = bias[n] + sum_k A[m][k] * B[k][n]; A row stride lda, C row stride ldc,
 * B is [K][N] contiguous. The k sum runs in increasing k for every element. */
void igq__f32_gemm_ref(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                       const float *B, const float *bias, float *C, int64_t ldc);

/* y[t][:] = (x[t][:] - mean) / sqrt(var + eps) * w + b, over rows of length n. */
void igq__f32_layernorm_ref(int64_t rows, int64_t n, const float *x, const float *w,
                            const float *b, float eps, float *y);

/* In-place numerically stable softmax over each row of length n. */
void igq__f32_softmax_ref(int64_t rows, int64_t n, float *x);

/* In-place exact GELU: 0.5 x (1 + erf(x / sqrt 2)). */
void igq__f32_gelu_ref(int64_t n, float *x);

#endif
