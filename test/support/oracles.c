/* Test oracles (oracles.h). */
#include "support/oracles.h"

#include "kernels/nonlin_inl.h"

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

float tu_absmax(int64_t n, const float *x)
{
    uint32_t m = 0, u;
    float    r;
    int64_t  i;
    for (i = 0; i < n; i++) {
        memcpy(&u, &x[i], sizeof u);
        u &= 0x7fffffffu;
        m = u > m ? u : m;
    }
    memcpy(&r, &m, sizeof r);
    return r;
}

void tu_scale_rne(int64_t n, const float *x, float f, int32_t *out)
{
    int64_t i;
    for (i = 0; i < n; i++) out[i] = (int32_t)((x[i] * f + 12582912.0f) - 12582912.0f);
}

void tu_f32_to_fixed(int64_t n, const float *x, float mul, int32_t *out)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        float v = x[i] * mul;
        v       = v > 2147483520.0f ? 2147483520.0f : v;
        v       = v < -2147483520.0f ? -2147483520.0f : v;
        v       = v == v ? v : 0.0f;
        out[i]  = (int32_t)(v >= 0.0f ? v + 0.5f : v - 0.5f);
    }
}
