/* Uniform quantizer parameters (ALGORITHMS.md 1.3, 5.1). */
#include <math.h>

#include "quant.h"

igq_qparams igq__qp_asym(float lo, float hi, int bits)
{
    igq_qparams p;
    const int   levels = (1 << bits) - 1;
    float       range;
    if (!(hi >= lo)) hi = lo; /* NaN-safe */
    range = hi - lo;
    /* A degenerate range still needs a positive scale; keep lo representable. */
    if (range < 1e-8f * (fabsf(lo) + fabsf(hi)) || range < 1e-30f)
        range = fmaxf(1e-8f * (fabsf(lo) + fabsf(hi)), 1e-30f) * (float)levels;
    p.scale     = range / (float)levels;
    p.inv_scale = 1.0f / p.scale;
    {
        double z = -(double)lo / (double)p.scale;
        z        = z < -2147483647.0 ? -2147483647.0 : (z > 2147483647.0 ? 2147483647.0 : z);
        p.zero   = (int32_t)nearbyint(z);
    }
    p.qmin = 0;
    p.qmax = levels;
    return p;
}

igq_qparams igq__qp_sym(float absmax, int bits, int restricted)
{
    igq_qparams p;
    const int   qmax = (1 << (bits - 1)) - 1;
    if (!(absmax > 1e-30f)) absmax = 1e-30f;
    p.scale     = absmax / (float)qmax;
    p.inv_scale = 1.0f / p.scale;
    p.zero      = 0;
    p.qmax      = qmax;
    p.qmin      = restricted ? -qmax : -qmax - 1;
    return p;
}

void igq__fake_quant(float *x, int64_t n, int64_t stride, const igq_qparams *p)
{
    int64_t i;
    for (i = 0; i < n; i++) x[i * stride] = igq__fq(x[i * stride], p);
}
