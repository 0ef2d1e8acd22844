/* Integer GELU (the spec; nonlin.h): a 2^12-interval table over [-8, 8) with fixed-point linear
 * interpolation for int32 accumulators with a dyadic per-channel scale. */
#include <math.h>

#include "../kernels.h"
#include "../nonlin_inl.h"

static double gelu(double x) { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440)); }

void igq__gelu_params_init(igq_gelu_params *p)
{
    const int nt = 1 << IGQ_GELU_TBITS;
    int       i;
    for (i = 0; i <= nt; i++)
        p->t[i] = (int32_t)floor(ldexp(gelu(-8.0 + ldexp((double)i, -8)), IGQ_GELU_FRAC) + 0.5);
    for (i = nt + 1; i < nt + 8; i++) p->t[i] = p->t[nt];
}

IGQ_I32_GELU_PROTO(igq__i32_gelu__scalar)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        const int64_t c = per_channel ? i : 0;
        out[i]          = igq__gelu_eval(p, igq__requant(acc[i], mult[c], shift[c]));
    }
}

IGQ_I32_GELU_F32_PROTO(igq__i32_gelu_f32__scalar)
{
    int64_t i;
    for (i = 0; i < n; i++) out[i] = igq__gelu_f32_eval(p, x[i], mul);
}
