/* Integer GELU (the spec; nonlin.h): (a) a per-code lookup table for <= 8-bit inputs, exact up
 * to the output rounding; (b) a 2^12-interval table over [-8, 8) with fixed-point linear
 * interpolation for int32 accumulators with a dyadic per-channel scale. */
#include <math.h>

#include "../../core/error.h"
#include "../nonlin.h"
#include "../nonlin_inl.h"

static double gelu(double x) { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440)); }

/* round half to even of v (|v| < 2^52) */
static double rne(double v)
{
    double f = floor(v), d = v - f;
    if (d > 0.5 || (d == 0.5 && fmod(f, 2.0) != 0.0)) f += 1.0;
    return f;
}

igq_status igq__gelu_lut_init(igq_gelu_lut *lut, float s_in, int32_t z_in, float s_out,
                              int32_t z_out, int out_bits)
{
    const double qmax = (double)((1 << (out_bits >= 1 && out_bits <= 8 ? out_bits : 1)) - 1);
    int          q;
    IGQ_CHECK(lut != NULL, IGQ_ERR_INVALID_ARGUMENT, "gelu lut: NULL");
    IGQ_CHECK(s_in > 0.0f && s_out > 0.0f && isfinite(s_in) && isfinite(s_out),
              IGQ_ERR_INVALID_ARGUMENT, "gelu lut: scales must be positive and finite");
    IGQ_CHECK(out_bits >= 1 && out_bits <= 8, IGQ_ERR_INVALID_ARGUMENT,
              "gelu lut: output bits %d outside [1, 8]", out_bits);
    for (q = 0; q < 256; q++) {
        const double g = gelu((double)s_in * ((double)q - (double)z_in));
        double       v = g / (double)s_out, w = ldexp(g, IGQ_GELU_FRAC);
        v              = v < -4e9 ? -4e9 : v > 4e9 ? 4e9 : v;
        v              = rne(v) + (double)z_out;
        lut->u8[q]     = (uint8_t)(v < 0.0 ? 0.0 : v > qmax ? qmax : v);
        w              = floor(w + 0.5);
        lut->q16[q]    = w >= 2147483647.0 ? INT32_MAX : w <= -2147483648.0 ? INT32_MIN : (int32_t)w;
    }
    return IGQ_OK;
}

void igq__gelu_lut_u8(const igq_gelu_lut *lut, int64_t n, const uint8_t *q, uint8_t *out)
{
    int64_t i;
    for (i = 0; i < n; i++) out[i] = lut->u8[q[i]];
}

void igq__gelu_lut_q16(const igq_gelu_lut *lut, int64_t n, const uint8_t *q, int32_t *out)
{
    int64_t i;
    for (i = 0; i < n; i++) out[i] = lut->q16[q[i]];
}

void igq__gelu_params_init(igq_gelu_params *p)
{
    const int nt = 1 << IGQ_GELU_TBITS;
    int       i;
    for (i = 0; i <= nt; i++)
        p->t[i] = (int32_t)floor(ldexp(gelu(-8.0 + ldexp((double)i, -8)), IGQ_GELU_FRAC) + 0.5);
    for (i = nt + 1; i < nt + 8; i++) p->t[i] = p->t[nt];
}

void igq__i32_gelu_ref(const igq_gelu_params *p, int64_t n, const int32_t *acc,
                       const int32_t *mult, const int32_t *shift, int per_channel,
                       int32_t *out)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        const int64_t c = per_channel ? i : 0;
        out[i]          = igq__gelu_eval(p, igq__requant(acc[i], mult[c], shift[c]));
    }
}
