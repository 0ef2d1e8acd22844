/* Integer softmax (the spec; algorithm and the choice of a two-level exp table in nonlin.h).
 * Three passes per row: max, sum of e, normalization (e is recomputed, no scratch). */
#include <math.h>
#include <string.h>

#include "../../core/error.h"
#include "../kernels.h"
#include "../nonlin_inl.h"

igq_status igq__softmax_params_init(igq_softmax_params *p, float s_in)
{
    const double S   = (double)s_in;
    const double cut = (IGQ_SMX_F + 1) * 0.69314718055994530942; /* exp(-cut) = 2^-23 */
    double       s_idx;
    uint32_t     k0 = 0;
    int          i;
    IGQ_CHECK(p != NULL, IGQ_ERR_INVALID_ARGUMENT, "softmax params: NULL");
    IGQ_CHECK(S > 0.0 && S < HUGE_VAL, IGQ_ERR_INVALID_ARGUMENT,
              "softmax params: input scale %g must be positive and finite", S);
    while (k0 < 31 && ldexp(S, (int)k0) * IGQ_SMX_IDX_MAX < cut) k0++;
    s_idx = ldexp(S, (int)k0);
    memset(p, 0, sizeof *p);
    for (i = 0; i < (1 << IGQ_SMX_LBITS); i++)
        p->t_lo[i] = (uint32_t)floor(ldexp(exp(-(double)i * s_idx), IGQ_SMX_G) + 0.5);
    for (i = 0; i < IGQ_SMX_HI; i++)
        p->t_hi[i] = (uint32_t)floor(
            ldexp(exp(-(double)i * (double)(1 << IGQ_SMX_LBITS) * s_idx), IGQ_SMX_F) + 0.5);
    /* t_hi[IGQ_SMX_HI ..] stay 0: distances past the table */
    p->k0    = k0;
    p->rsh   = k0 > 0 ? k0 - 1 : 0;
    p->rbit  = k0 > 0 ? 1 : 0;
    p->s_q20 = 32 + IGQ_SMX_F - (IGQ_SMX_Q20_BITS + 1);
    p->s_in  = S;
    p->s_idx = s_idx;
    return IGQ_OK;
}

IGQ_I32_SOFTMAX_PROTO(igq__i32_softmax__scalar)
{
    int64_t r, i;
    if (n <= 0) return;
    for (r = 0; r < rows; r++) {
        const int32_t *xr  = x + r * ldx;
        int32_t       *o   = out + r * ldo;
        int32_t        mx  = xr[0];
        uint64_t       sum = 0;
        uint32_t       f;
        for (i = 1; i < n; i++) mx = xr[i] > mx ? xr[i] : mx;
        for (i = 0; i < n; i++) sum += igq__smx_exp(p, (uint32_t)mx - (uint32_t)xr[i]);
        f = igq__smx_factor(sum, 1u << IGQ_SMX_Q20_BITS, p->s_q20);
        for (i = 0; i < n; i++)
            o[i] = (int32_t)igq__smx_norm(igq__smx_exp(p, (uint32_t)mx - (uint32_t)xr[i]), f,
                                          p->s_q20);
    }
}

/* The softmax of the rows x[r][j] - v[j] (the caller guarantees no int32 overflow): the same
 * as subtracting v from every row and running igq__i32_softmax__scalar. */
IGQ_I32_SOFTMAX_SUB_PROTO(igq__i32_softmax_sub__scalar)
{
    int64_t r, i;
    if (n <= 0) return;
    for (r = 0; r < rows; r++) {
        const int32_t *xr  = x + r * ldx;
        int32_t       *o   = out + r * ldo;
        int32_t        mx  = xr[0] - v[0];
        uint64_t       sum = 0;
        uint32_t       f;
        for (i = 1; i < n; i++) mx = xr[i] - v[i] > mx ? xr[i] - v[i] : mx;
        for (i = 0; i < n; i++) sum += igq__smx_exp(p, (uint32_t)mx - (uint32_t)(xr[i] - v[i]));
        f = igq__smx_factor(sum, 1u << IGQ_SMX_Q20_BITS, p->s_q20);
        for (i = 0; i < n; i++)
            o[i] = (int32_t)igq__smx_norm(
                igq__smx_exp(p, (uint32_t)mx - (uint32_t)(xr[i] - v[i])), f, p->s_q20);
    }
}
