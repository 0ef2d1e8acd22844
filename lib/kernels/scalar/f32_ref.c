/* fp32 GEMM reference: the specification every SIMD fp32 GEMM gives the bits of.
 * B is k-major ([K][N]) so the innermost loop is an axpy over a row of C; every output
 * is the one fmaf chain of kernels.h (c = bias; c = fmaf(a, b, c) for k = 0..K-1, increasing
 * k), so results depend neither on blocking nor on the ISA level. */
#include "../f32_ref.h"

#include <math.h>
#include <string.h>

#define NB 256 /* columns of C kept hot while k runs */

void igq__f32_gemm__scalar(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                           const float *B, const float *bias, float *C, int64_t ldc)
{
    int64_t m, n0, k, n;
    for (m = 0; m < M; m++) {
        const float *a = A + m * lda;
        float       *c = C + m * ldc;
        for (n0 = 0; n0 < N; n0 += NB) {
            int64_t nn = N - n0 < NB ? N - n0 : NB;
            float   acc[NB];
            if (bias != NULL)
                memcpy(acc, bias + n0, (size_t)nn * sizeof(float));
            else
                memset(acc, 0, (size_t)nn * sizeof(float));
            /* four k steps per pass over the row (the same chain, k increasing): a quarter of
             * the loads and stores of acc */
            for (k = 0; k + 4 <= K; k += 4) {
                const float  a0 = a[k], a1 = a[k + 1], a2 = a[k + 2], a3 = a[k + 3];
                const float *b0 = B + k * N + n0, *b1 = b0 + N, *b2 = b1 + N, *b3 = b2 + N;
                for (n = 0; n < nn; n++) {
                    float t = fmaf(a0, b0[n], acc[n]);
                    t       = fmaf(a1, b1[n], t);
                    t       = fmaf(a2, b2[n], t);
                    acc[n]  = fmaf(a3, b3[n], t);
                }
            }
            for (; k < K; k++) {
                const float  av = a[k];
                const float *b  = B + k * N + n0;
                for (n = 0; n < nn; n++) acc[n] = fmaf(av, b[n], acc[n]);
            }
            memcpy(c + n0, acc, (size_t)nn * sizeof(float));
        }
    }
}
