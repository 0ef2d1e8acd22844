/* Scalar reference of the grouped-GEMM fold (kernels.h igq_i32_fold_fn). */
#include <math.h>

#include "../kernels.h"

void igq__i32_fold_ref(int64_t rows, int64_t n, float s, const int32_t *acc, int64_t lda,
                       const float *colscale, const float *colbias, float *out, int64_t ldo,
                       int first)
{
    int64_t r, j;
    for (r = 0; r < rows; r++) {
        const int32_t *a = acc + r * lda;
        float         *o = out + r * ldo;
        for (j = 0; j < n; j++) {
            float f = fmaf(s, (float)a[j], first ? 0.0f : o[j]);
            if (colscale != NULL) f = fmaf(colscale[j], f, colbias[j]);
            o[j] = f;
        }
    }
}
