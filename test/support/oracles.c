/* Test oracles (oracles.h). */
#include "support/oracles.h"

#include <math.h>

#include "kernels/nonlin_inl.h"

void tu_f32_layernorm_f64(int64_t rows, int64_t n, const float *x, const float *w,
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

int32_t tu_softmax_codes_shift(int bits)
{
    return 32 + IGQ_SMX_F - igq__bitlen64((uint64_t)((1u << bits) - 1u));
}

void tu_i32_softmax_codes(const igq_softmax_params *p, int bits, int64_t rows, int64_t n,
                          const int32_t *x, int64_t ldx, uint8_t *out, int64_t ldo)
{
    const uint32_t Q = (1u << bits) - 1u;
    const int32_t  s = tu_softmax_codes_shift(bits);
    int64_t        r, i;
    for (r = 0; r < rows; r++) {
        const int32_t *xr  = x + r * ldx;
        int32_t        mx  = xr[0];
        uint64_t       sum = 0;
        uint32_t       f;
        for (i = 1; i < n; i++) mx = xr[i] > mx ? xr[i] : mx;
        for (i = 0; i < n; i++) sum += igq__smx_exp(p, (uint32_t)mx - (uint32_t)xr[i]);
        f = igq__smx_factor(sum, Q, s);
        for (i = 0; i < n; i++)
            out[r * ldo + i] = (uint8_t)igq__smx_norm(igq__smx_exp(p, (uint32_t)mx - (uint32_t)xr[i]), f, s);
    }
}
