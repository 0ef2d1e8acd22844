/* Uniform quantizer parameters (ALGORITHMS.md 1.3, 5.1). */
#include <math.h>

#include "quant.h"

igq_qparams igq__qp_asym(float lo, float hi, int bits)
{
    igq_qparams p;
    const int   levels = (1 << bits) - 1;
    float       mag, floor_scale;
    if (!(hi >= lo)) hi = lo; /* NaN-safe */
    mag         = fabsf(lo) > fabsf(hi) ? fabsf(lo) : fabsf(hi);
    floor_scale = mag / 1048576.0f; /* 2^20: keeps |zero| <= 2^20 */
    if (floor_scale < 1e-30f) floor_scale = 1e-30f;
    p.scale = (hi - lo) / (float)levels;
    if (!(p.scale >= floor_scale)) p.scale = floor_scale;
    p.inv_scale = 1.0f / p.scale;
    {
        double z = -(double)lo / (double)p.scale;
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
