/* Peak loops of the scalar level (kernels.h igq_peak_fn): 12 independent chains in plain C. */
#include <math.h>
#include <string.h>

#include "../kernels.h"

double igq__peak__scalar(int64_t n, int kind, const void *in, void *sink)
{
    int64_t i;
    int     j;
    if (kind == IGQ_PEAK_INT8) {
        int32_t a[12], x[12], acc[12] = {0};
        memcpy(x, in, sizeof x);
        for (j = 0; j < 12; j++) a[j] = x[j] & 0x7f;
        for (i = 0; i < n; i++)
            for (j = 0; j < 12; j++) acc[j] += a[j] * x[j];
        memcpy(sink, acc, sizeof acc);
    } else {
        float a[12], acc[12];
        memcpy(a, in, sizeof a);
        for (j = 0; j < 12; j++) acc[j] = a[j];
        for (i = 0; i < n; i++)
            for (j = 0; j < 12; j++) acc[j] = acc[j] * a[j] + a[11 - j];
        memcpy(sink, acc, sizeof acc);
    }
    return 12.0 * (double)n;
}
