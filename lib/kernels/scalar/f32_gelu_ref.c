/* GELU through the library's own erfc approximation: the specification of the SIMD fp32 GELU
 * kernels (f32_ref.h documents the formula, accuracy and special values). Every operation is
 * written out in the order the SIMD levels run it: fmaf where they use an FMA, a product and
 * a sum where they do not, one correctly rounded division, so all levels give the same bits. */
#include <math.h>
#include <string.h>

#include "../f32_ref.h"

static float gelu1(float x)
{
    const float ax = fabsf(x);
    const float t  = ax < IGQ_GELU_TMAX ? ax : IGQ_GELU_TMAX; /* NaN -> TMAX, as minps */
    const float hi = t * t;
    const float lo = fmaf(t, t, -hi); /* t^2 = hi + lo exactly */
    const float y  = -0.5f * hi;
    const float n  = fmaf(y, IGQ_GELU_LOG2E, IGQ_GELU_MAGIC) - IGQ_GELU_MAGIC;
    float       r, p, e, u, q, h, w, xc, s;
    uint32_t    bits;
    r = fmaf(n, -IGQ_GELU_LN2HI, y);
    r = fmaf(n, -IGQ_GELU_LN2LO, r);
    p = fmaf(IGQ_GELU_E7, r, IGQ_GELU_E6);
    p = fmaf(p, r, IGQ_GELU_E5);
    p = fmaf(p, r, IGQ_GELU_E4);
    p = fmaf(p, r, IGQ_GELU_E3);
    p = fmaf(p, r, IGQ_GELU_E2);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    bits = (uint32_t)((int32_t)n + 127) << 23; /* 2^n, n in [-122, 0] */
    memcpy(&s, &bits, sizeof s);
    e = p * s;
    e = fmaf(-0.5f * lo, e, e); /* exp(-(hi + lo) / 2) ~ exp(-hi / 2) (1 - lo / 2) */
    u = 1.0f / (1.0f + 0.5f * t);
    q = fmaf(IGQ_GELU_P10, u, IGQ_GELU_P9);
    q = fmaf(q, u, IGQ_GELU_P8);
    q = fmaf(q, u, IGQ_GELU_P7);
    q = fmaf(q, u, IGQ_GELU_P6);
    q = fmaf(q, u, IGQ_GELU_P5);
    q = fmaf(q, u, IGQ_GELU_P4);
    q = fmaf(q, u, IGQ_GELU_P3);
    q = fmaf(q, u, IGQ_GELU_P2);
    q = fmaf(q, u, IGQ_GELU_P1);
    q = fmaf(q, u, IGQ_GELU_P0);
    h  = 0.5f * (e * (u * q)); /* Phi(-|x|) = erfc(|x| / sqrt 2) / 2 */
    h  = ax > IGQ_GELU_TMAX ? 0.0f : h;
    w  = x >= 0.0f ? 1.0f - h : h;
    xc = IGQ_GELU_XMIN > x ? IGQ_GELU_XMIN : x; /* NaN stays NaN, as maxps(XMIN, x) */
    return xc * w;
}

void igq__f32_gelu_erfc_ref(int64_t n, float *x)
{
    int64_t i;
    for (i = 0; i < n; i++) x[i] = gelu1(x[i]);
}
