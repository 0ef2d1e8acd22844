/* Scalar reference of the grouped-GEMM fold (kernels.h igq_i32_fold_fn). */
#include "../kernels.h"

void igq__i32_fold_ref(int64_t n, float s, const int32_t *acc, float *out, int first)
{
    int64_t i;
    if (first)
        for (i = 0; i < n; i++) out[i] = s * (float)acc[i];
    else
        for (i = 0; i < n; i++) out[i] = out[i] + s * (float)acc[i];
}
