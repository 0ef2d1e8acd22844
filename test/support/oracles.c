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
