/* fp32 reference kernels (plain C). Private header. */
#ifndef IGQ_KERNELS_F32_REF_H
#define IGQ_KERNELS_F32_REF_H

#include <stddef.h>
#include <stdint.h>

/* C[m][n] = bias[n] + sum_k A[m][k] * B[k][n]; A row stride lda, C row stride ldc,
 * B is [K][N] contiguous. Every element is the fmaf chain c = bias (or 0); c = fmaf(A[m][k],
 * B[k][n], c) for k = 0..K-1: the specification of every SIMD fp32 GEMM. */
void igq__f32_gemm__scalar(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                           const float *B, const float *bias, float *C, int64_t ldc);

/* y[t][:] = (x[t][:] - mean) / sqrt(var + eps) * w + b, over rows of length n. */
void igq__f32_layernorm_ref(int64_t rows, int64_t n, const float *x, const float *w,
                            const float *b, float eps, float *y);

/* In-place numerically stable softmax over each row of length n. */
void igq__f32_softmax_ref(int64_t rows, int64_t n, float *x);

/* In-place exact GELU: 0.5 x (1 + erf(x / sqrt 2)). */
void igq__f32_gelu_ref(int64_t n, float *x);

/* In-place GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) = 0.5 x erfc(-x / sqrt 2), computed
 * from erfc with its own approximation (no libm erff), so that every ISA level (scalar here,
 * igq_f32_gelu__avx2, igq_f32_gelu__avx512) runs the same float operations in the same order
 * and gives the same bits. With t = min(|x|, 13):
 *   E = exp(-t^2 / 2) * u * P(u),  u = 1 / (1 + t / 2),  P the degree-10 polynomial below
 *   (a Chebyshev fit of erfc(t / sqrt 2) exp(t^2 / 2) / u on t in [0, 13], our own);
 *   h = E / 2 (= Phi(-|x|)), or 0 when |x| > 13;
 *   gelu(x) = x (1 - h) for x >= 0, max(x, -14) h for x < 0 (no cancellation either side).
 * exp(-t^2/2): t^2 is split exactly into hi + lo with an fma; exp(-hi/2) = 2^n exp(r) with
 * n = round((-hi/2) log2 e), r reduced with a two-part ln 2 and a degree-7 Taylor polynomial;
 * the lo part enters as the factor (1 - lo/2).
 * Accuracy against the double-precision 0.5 x (1 + erf(x / sqrt 2)): relative error below
 * 6e-7 for every finite x whose GELU is above 1e-36 in magnitude (measured: 4.3e-7 over every
 * 7th float of both signs; the libm form 0.5 x (1 + erff) loses all digits for x < -5); below
 * that, absolute error <= 1e-37 (x < -13 gives -0). Every SIMD level matched this function
 * on all 2^32 inputs when it was written. Special values:
 * gelu(+inf) = +inf, gelu(-inf) = -0, NaN -> NaN, gelu(-0) = -0, denormals -> x / 2. */
void igq__f32_gelu_erfc_ref(int64_t n, float *x);

/* In-place softmax of scale * x over each of `rows` rows of n >= 1 floats (row stride ldx),
 * with the library's own exp, so that every ISA level (igq_f32_softmax__avx2,
 * igq_f32_softmax__avx512) gives the same bits. Per row:
 *   v[i] = x[i] * scale; m = max v; e[i] = exp(v[i] - m) (exp below); the sum of e runs in 16
 *   interleaved partial sums (partial j adds e[i] for i = j mod 16 in increasing i), reduced
 *   as (p[j] + p[j+8]) for j < 8, then halves again (4, 2, 1); y[i] = e[i] * (1 / sum).
 * exp(d), d <= 0: the exp of igq__f32_gelu_erfc_ref on max(d, -87) (n = round(d log2 e) >=
 * -126, so 2^n is normal), and 0 for d < -87 (true value < 1.7e-38: relative error of the
 * exp < 2e-7). Rows with NaN give unspecified values; -inf entries give 0 (unless the whole
 * row is -inf). */
void igq__f32_softmax_scaled_ref(int64_t rows, int64_t n, float scale, float *x, int64_t ldx);
#define IGQ_SOFTMAX_DMIN (-87.0f)

/* LayerNorm of `rows` contiguous rows of n >= 1 floats (x and y row stride n), in float with
 * a fixed summation order, so that every ISA level (igq_f32_layernorm__avx2 / __avx512) gives
 * the same bits. Per row, every sum in 16 interleaved partials reduced as in
 * igq__f32_softmax_scaled_ref (partial j adds the terms i = j mod 16; then 8, 4, 2, 1):
 *   mean = (sum x) / n; d[i] = x[i] - mean; c = (sum d) / n; var = (sum of fmaf(d, d, .)) / n
 *   - c * c; r = 1 / sqrtf(var + eps); y[i] = fmaf(((x[i] - mean) - c) * r, w[i], b[i]).
 * c corrects the rounding of the float mean (the corrected two-pass algorithm; x - mean is
 * exact near the mean), so rows with a large offset keep their accuracy: within ~2e-6 of the
 * double-precision igq__f32_layernorm_ref relative to |(x - mean) r w| + |b|. */
void igq__f32_layernorm_p16_ref(int64_t rows, int64_t n, const float *x, const float *w,
                                const float *b, float eps, float *y);

/* Constants of igq__f32_gelu_erfc_ref, shared by the SIMD levels (same values, same order). */
#define IGQ_GELU_TMAX 13.0f         /* |x| clamp; h = 0 beyond it */
#define IGQ_GELU_XMIN (-14.0f)      /* x clamp of the negative branch (keeps -inf * 0 away) */
#define IGQ_GELU_LOG2E 1.44269504088896341f
#define IGQ_GELU_MAGIC 12582912.0f  /* 1.5 * 2^23: adding and subtracting rounds to an integer */
#define IGQ_GELU_LN2HI 0.693145751953125f /* ln 2 = LN2HI + LN2LO, LN2HI with 16 bits */
#define IGQ_GELU_LN2LO 1.42860682028622680e-6f
#define IGQ_GELU_E7 1.98412698412698413e-4f /* 1/7!, ..., 1/2!: Taylor terms of exp(r) */
#define IGQ_GELU_E6 1.38888888888888889e-3f
#define IGQ_GELU_E5 8.33333333333333333e-3f
#define IGQ_GELU_E4 4.16666666666666667e-2f
#define IGQ_GELU_E3 1.66666666666666667e-1f
#define IGQ_GELU_E2 0.5f
#define IGQ_GELU_P10 (-4.905799776e-02f) /* P(u) = P0 + P1 u + ... + P10 u^10 */
#define IGQ_GELU_P9 2.102689743e-01f
#define IGQ_GELU_P8 (-2.166200280e-01f)
#define IGQ_GELU_P7 (-3.971850276e-01f)
#define IGQ_GELU_P6 1.222208619e+00f
#define IGQ_GELU_P5 (-1.119195223e+00f)
#define IGQ_GELU_P4 2.253875136e-01f
#define IGQ_GELU_P3 1.588569768e-02f
#define IGQ_GELU_P2 3.113668561e-01f
#define IGQ_GELU_P1 3.979651332e-01f
#define IGQ_GELU_P0 3.989755213e-01f

#endif
