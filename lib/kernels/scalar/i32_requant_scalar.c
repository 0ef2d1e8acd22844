/* Dyadic requantization (the spec; nonlin.h): the fixed-point multiplier of a real M and the
 * row kernel int32 -> unsigned codes with a per-channel or per-tensor (mult, shift, zero). */
#include <math.h>

#include "../kernels.h"
#include "../nonlin_inl.h"

void igq__requant_multiplier(double M, int32_t *mult, int32_t *shift)
{
    double frac, m;
    int    e;
    if (!(M > 0.0)) { /* 0, negative, NaN */
        *mult = 0, *shift = 0;
        return;
    }
    if (M >= 2147483648.0) { /* saturating for every x != 0; also +inf */
        *mult = INT32_MAX, *shift = 0;
        return;
    }
    frac = frexp(M, &e);
    /* frac 2^31 has at most 22 fraction bits: + 0.5 and floor are exact (round half up) */
    m = floor(ldexp(frac, 31) + 0.5);
    if (m >= 2147483648.0) {
        m = 1073741824.0;
        e += 1;
    }
    if (31 - e < 0) { /* M rounded up to 2^31 */
        *mult = INT32_MAX, *shift = 0;
        return;
    }
    if (31 - e > IGQ_RQ_MAX_SHIFT) { /* M < 2^-32: every |x M| < 1/2 */
        *mult = 0, *shift = 0;
        return;
    }
    *mult  = (int32_t)m;
    *shift = 31 - e;
}

IGQ_I32_REQUANT_PROTO(igq__i32_requant__scalar)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        const int64_t c = per_channel ? i : 0;
        out[i] = igq__rq_code(igq__requant64(x[i], mult[c], shift[c]), zero[c], qmin, qmax);
    }
}
