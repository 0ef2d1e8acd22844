/* fp32 reference kernels: the specification every SIMD fp32 kernel gives the bits of.
 * GEMM: B is k-major ([K][N]) so the innermost loop is an axpy over a row of C; every output
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
            for (k = 0; k < K; k++) {
                const float  av = a[k];
                const float *b  = B + k * N + n0;
                for (n = 0; n < nn; n++) acc[n] = fmaf(av, b[n], acc[n]);
            }
            memcpy(c + n0, acc, (size_t)nn * sizeof(float));
        }
    }
}

void igq__f32_layernorm_ref(int64_t rows, int64_t n, const float *x, const float *w,
                            const float *b, float eps, float *y)
{
    int64_t r, i;
    for (r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float       *yr = y + r * n;
        double       mean = 0.0, var = 0.0, inv;
        for (i = 0; i < n; i++) mean += xr[i];
        mean /= (double)n;
        for (i = 0; i < n; i++) {
            double t = xr[i] - mean;
            var += t * t;
        }
        var /= (double)n;
        inv = 1.0 / sqrt(var + (double)eps);
        for (i = 0; i < n; i++) yr[i] = (float)((xr[i] - mean) * inv) * w[i] + b[i];
    }
}

void igq__f32_softmax_ref(int64_t rows, int64_t n, float *x)
{
    int64_t r, i;
    for (r = 0; r < rows; r++) {
        float *xr = x + r * n;
        float  mx = xr[0], sum = 0.0f, inv;
        for (i = 1; i < n; i++) mx = xr[i] > mx ? xr[i] : mx;
        for (i = 0; i < n; i++) {
            xr[i] = expf(xr[i] - mx);
            sum += xr[i];
        }
        inv = 1.0f / sum;
        for (i = 0; i < n; i++) xr[i] *= inv;
    }
}

void igq__f32_gelu_ref(int64_t n, float *x)
{
    int64_t i;
    for (i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

/* exp(d) for d <= 0 (see igq__f32_softmax_scaled_ref in f32_ref.h). */
static float exp_neg(float d)
{
    const float dc = IGQ_SOFTMAX_DMIN > d ? IGQ_SOFTMAX_DMIN : d;
    const float n  = fmaf(dc, IGQ_GELU_LOG2E, IGQ_GELU_MAGIC) - IGQ_GELU_MAGIC;
    float       r, p, s;
    uint32_t    bits;
    r = fmaf(n, -IGQ_GELU_LN2HI, dc);
    r = fmaf(n, -IGQ_GELU_LN2LO, r);
    p = fmaf(IGQ_GELU_E7, r, IGQ_GELU_E6);
    p = fmaf(p, r, IGQ_GELU_E5);
    p = fmaf(p, r, IGQ_GELU_E4);
    p = fmaf(p, r, IGQ_GELU_E3);
    p = fmaf(p, r, IGQ_GELU_E2);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    bits = (uint32_t)((int32_t)n + 127) << 23;
    memcpy(&s, &bits, sizeof s);
    return d < IGQ_SOFTMAX_DMIN ? 0.0f : p * s;
}

void igq__f32_softmax_scaled_ref(int64_t rows, int64_t n, float scale, float *x, int64_t ldx)
{
    int64_t r, i;
    for (r = 0; r < rows; r++) {
        float *xr = x + r * ldx;
        float  m, part[16], inv;
        int    j;
        for (i = 0; i < n; i++) xr[i] *= scale;
        m = xr[0];
        for (i = 1; i < n; i++) m = xr[i] > m ? xr[i] : m;
        for (j = 0; j < 16; j++) part[j] = 0.0f;
        for (i = 0; i < n; i++) {
            xr[i] = exp_neg(xr[i] - m);
            part[i % 16] += xr[i];
        }
        for (j = 0; j < 8; j++) part[j] += part[j + 8];
        for (j = 0; j < 4; j++) part[j] += part[j + 4];
        for (j = 0; j < 2; j++) part[j] += part[j + 2];
        inv = 1.0f / (part[0] + part[1]);
        for (i = 0; i < n; i++) xr[i] *= inv;
    }
}

/* The fixed reduction of 16 partial sums shared by the fp32 kernels (f32_ref.h). */
static float reduce16(float *part)
{
    int j;
    for (j = 0; j < 8; j++) part[j] += part[j + 8];
    for (j = 0; j < 4; j++) part[j] += part[j + 4];
    for (j = 0; j < 2; j++) part[j] += part[j + 2];
    return part[0] + part[1];
}

void igq__f32_layernorm_p16_ref(int64_t rows, int64_t n, const float *x, const float *w,
                                const float *b, float eps, float *y)
{
    int64_t r, i;
    for (r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float       *yr = y + r * n;
        float        part[16], part2[16], mean, c, var, inv;
        int          j;
        for (j = 0; j < 16; j++) part[j] = 0.0f;
        for (i = 0; i < n; i++) part[i % 16] += xr[i];
        mean = reduce16(part) / (float)n;
        for (j = 0; j < 16; j++) part[j] = part2[j] = 0.0f;
        for (i = 0; i < n; i++) {
            const float d = xr[i] - mean;
            part[i % 16] += d;
            part2[i % 16] = fmaf(d, d, part2[i % 16]);
        }
        c   = reduce16(part) / (float)n;
        var = reduce16(part2) / (float)n - c * c;
        inv = 1.0f / sqrtf(var + eps);
        for (i = 0; i < n; i++) yr[i] = fmaf(((xr[i] - mean) - c) * inv, w[i], b[i]);
    }
}
