/* Kernel function types and the ISA kernels' entry points. Private header.
 * Included from ISA files, so it holds only declarations (no function bodies). */
#ifndef IGQ_KERNELS_KERNELS_H
#define IGQ_KERNELS_KERNELS_H

#include <stdint.h>

/* x86-64 ISA kernels exist in this build (the Makefile compiles lib/kernels/x86_* only on
 * x86-64 targets; the files' bodies are guarded by the same test). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define IGQ_X86_KERNELS 1
#endif

/* fp32 GEMM: C[m][n] = bias[n] + sum_k A[m][k] * B[k][n] for m < M, n < N.
 * A has row stride lda, C row stride ldc, B is [K][N] contiguous row-major; bias may be NULL
 * (treated as 0). M, N, K >= 0; K == 0 writes bias (or 0). C must not overlap A, B or bias.
 * Contract of the SIMD variants: every C element is the single fmaf chain
 *   c = bias[n] (or 0); for k = 0..K-1: c = fmaf(A[m][k], B[k][n], c)
 * so results are identical whatever the blocking, the rows computed together, or the ISA
 * (avx2 and avx512 give the same bits). The scalar reference rounds the product first. */
typedef void (*igq_f32_gemm_fn)(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                                const float *B, const float *bias, float *C, int64_t ldc);

#ifdef IGQ_X86_KERNELS
/* lib/kernels/x86_avx2/f32_gemm_avx2.c: 6x16 register tile (ymm), 16-column B panels. */
void igq_f32_gemm_6x16__avx2(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                             const float *B, const float *bias, float *C, int64_t ldc);
/* lib/kernels/x86_avx512/f32_gemm_avx512.c: 12x32 register tile (zmm), 32-column B panels. */
void igq_f32_gemm_12x32__avx512(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                                const float *B, const float *bias, float *C, int64_t ldc);
#endif

#endif
