/* Integer LayerNorm (the spec; algorithm in nonlin.h): statistics in two integer passes,
 * exact floor square root, per-channel affine folded into one multiplier and one int64 term. */
#include <math.h>
#include <string.h>

#include "../../core/alloc.h"
#include "../../core/error.h"
#include "../kernels.h"
#include "../nonlin_inl.h"

igq_status igq__ln_params_init(igq_ln_params *p, int64_t C, float x_scale, float eps,
                               const float *gamma, const float *beta, float y_scale)
{
    const double two61 = 2305843009213693952.0, two31 = 2147483648.0;
    double       gmax = 0.0, bmax = 0.0;
    int64_t      c;
    int          gs;
    void        *mem;
    IGQ_CHECK(p != NULL && gamma != NULL, IGQ_ERR_INVALID_ARGUMENT, "layernorm params: NULL");
    IGQ_CHECK(C >= 1 && C <= IGQ_LN_MAX_C, IGQ_ERR_INVALID_ARGUMENT,
              "layernorm params: C = %lld outside [1, %d]", (long long)C, IGQ_LN_MAX_C);
    IGQ_CHECK(x_scale > 0.0f && y_scale > 0.0f && eps >= 0.0f && isfinite(x_scale) &&
                  isfinite(y_scale) && isfinite(eps),
              IGQ_ERR_INVALID_ARGUMENT,
              "layernorm params: scales must be positive and finite, eps >= 0");
    for (c = 0; c < C; c++) {
        const double g = fabs((double)gamma[c]) * ldexp(1.0, -IGQ_LN_NBITS) / y_scale;
        const double b = beta != NULL ? fabs((double)beta[c]) / y_scale : 0.0;
        IGQ_CHECK(isfinite(g) && isfinite(b), IGQ_ERR_INVALID_ARGUMENT,
                  "layernorm params: gamma/beta of channel %lld not finite", (long long)c);
        gmax = g > gmax ? g : gmax;
        bmax = b > bmax ? b : bmax;
    }
    /* largest gs <= 62 with round(g 2^gs) < 2^31 and round(b 2^gs) <= 2^61 for all channels */
    for (gs = 62; gs >= 1; gs--)
        if (ldexp(gmax, gs) < two31 - 1.0 && ldexp(bmax, gs) < two61 - 1.0) break;
    IGQ_CHECK(gs >= 1, IGQ_ERR_OUT_OF_RANGE,
              "layernorm params: output scale %g too fine for gamma/beta (max |gamma| 2^-22 / "
              "S_y = %g, max |beta| / S_y = %g)",
              (double)y_scale, gmax, bmax);
    mem = igq__malloc((size_t)C * (sizeof(int64_t) + sizeof(int32_t)));
    IGQ_CHECK(mem != NULL, IGQ_ERR_NO_MEMORY, "layernorm params: out of memory");
    memset(p, 0, sizeof *p);
    p->mem   = mem;
    p->gb    = (int64_t *)mem;
    p->gm    = (int32_t *)(p->gb + C);
    p->C     = C;
    p->bbits = 30 - igq__bitlen64((uint64_t)C);
    p->gs    = gs;
    for (c = 0; c < C; c++) {
        const double g = (double)gamma[c] * ldexp(1.0, -IGQ_LN_NBITS) / y_scale;
        const double b = beta != NULL ? (double)beta[c] / y_scale : 0.0;
        p->gm[c] = (int32_t)floor(ldexp(g, gs) + 0.5);
        p->gb[c] = (int64_t)floor(ldexp(b, gs) + 0.5);
    }
    p->y_scale = y_scale;
    p->eps     = eps;
    igq__ln_params_set_x_scale(p, x_scale);
    return IGQ_OK;
}

void igq__ln_params_set_x_scale(igq_ln_params *p, float x_scale)
{
    const double two61 = 2305843009213693952.0;
    /* E_k = round(C^2 eps / (S_x^2 4^k)), saturated at 2^61 */
    const double e0 = (double)p->C * (double)p->C * p->eps / ((double)x_scale * (double)x_scale);
    int          k;
    for (k = 0; k <= 32; k++) {
        const double v = ldexp(e0, -2 * k);
        p->eps_k[k]    = v >= two61 ? (int64_t)1 << 61 : (int64_t)floor(v + 0.5);
    }
    p->x_scale = x_scale;
}

void igq__ln_params_free(igq_ln_params *p)
{
    if (p == NULL) return;
    igq__free(p->mem);
    p->mem = NULL, p->gm = NULL, p->gb = NULL;
}

IGQ_I32_LN_STATS_PROTO(igq__i32_ln_stats__scalar)
{
    const int64_t C  = p->C;
    int64_t       S1 = 0, Sy = 0, Syy = 0, c;
    int32_t       mn = x[0], mx = x[0], k, mu_k;
    for (c = 0; c < C; c++) {
        S1 += x[c];
        mn = x[c] < mn ? x[c] : mn;
        mx = x[c] > mx ? x[c] : mx;
    }
    igq__ln_row_shift(p, S1, mn, mx, &k, &mu_k);
    for (c = 0; c < C; c++) {
        const int64_t y = igq__asr32(x[c], k) - mu_k;
        Sy += y;
        Syy += y * y;
    }
    igq__ln_row_finish(p, k, mu_k, Sy, Syy, row);
}

IGQ_I32_LN_APPLY_PROTO(igq__i32_ln_apply__scalar)
{
    int64_t c;
    for (c = 0; c < p->C; c++) out[c] = igq__ln_affine(p, c, igq__ln_norm(p, row, x[c]));
}

IGQ_I32_LN_F32_PROTO(igq__i32_ln_f32__scalar)
{
    const int64_t C  = p->C;
    int64_t       S1 = 0, Sy = 0, Syy = 0, c;
    int32_t       mn, mx, k, mu_k;
    int           e;
    igq_ln_row    row;
    const float   f = igq__ln_f32_factor(igq__ln_f32_absmax(C, x), in_bits, &e);
    for (c = 0; c < C; c++)
        xi[c] = f == 0.0f ? 0 : (int32_t)((x[c] * f + 12582912.0f) - 12582912.0f);
    mn = mx = xi[0];
    for (c = 0; c < C; c++) {
        S1 += xi[c];
        mn = xi[c] < mn ? xi[c] : mn;
        mx = xi[c] > mx ? xi[c] : mx;
    }
    igq__ln_row_shift(p, S1, mn, mx, &k, &mu_k);
    for (c = 0; c < C; c++) {
        const int64_t y = igq__asr32(xi[c], k) - mu_k;
        Sy += y;
        Syy += y * y;
    }
    igq__ln_row_finish_e(p, k, mu_k, Sy, Syy, eps_tab[in_bits - e - k], &row);
    igq__i32_ln_apply__scalar(p, &row, xi, out);
}
