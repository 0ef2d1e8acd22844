/* Position embeddings at another image size (igq_load_options IMAGE_HEIGHT / IMAGE_WIDTH): the
 * patch grid's embeddings resampled with the bicubic each family's own code uses, prefix
 * tokens kept (pos_resample.h). Weights and sums in double; the result rounded to f32 once. */
#include "pos_resample.h"

#include <math.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../model/preproc.h"

/* Cubic convolution kernel with parameter a (PyTorch's plain bicubic: -0.75). */
static double cubic(double x, double a)
{
    x = fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
    return 0.0;
}

/* Taps of output index i of a 1-D resampling from n_in to n_out: first input index *first,
 * *count weights into w (at most IGQ__POS_TAPS_MAX), for the method. */
static int taps(igq__pos_method method, int64_t n_in, int64_t n_out, int64_t i, int64_t *first,
                double *w)
{
    double  src, t;
    int64_t k, x0;
    if (method == IGQ__POS_TORCH_BICUBIC_AA) /* the antialiased filter of Pillow (preproc.h) */
        return (int)igq__aa_taps(n_in, n_out, i, 1, w, IGQ__POS_TAPS_MAX, first);
    /* PyTorch's bicubic without antialiasing (a = -0.75), 4 taps clamped at the borders; source
     * coordinate with align_corners false ((i + 0.5) n_in / n_out - 0.5) or true
     * (i (n_in - 1) / (n_out - 1)) */
    if (method == IGQ__POS_TORCH_BICUBIC_CORNERS)
        src = n_out > 1 ? (double)i * (double)(n_in - 1) / (double)(n_out - 1) : 0.0;
    else
        src = ((double)i + 0.5) * (double)n_in / (double)n_out - 0.5;
    x0 = (int64_t)floor(src);
    t  = src - (double)x0;
    for (k = 0; k < 4; k++) w[k] = cubic(t - (double)(k - 1), -0.75);
    *first = x0 - 1; /* the caller clamps each index */
    return 4;
}

static int64_t clampi(int64_t v, int64_t n) { return v < 0 ? 0 : v >= n ? n - 1 : v; }

igq_status igq__pos_resample(igq__pos_method method, const float *src, int64_t gh, int64_t gw,
                             int64_t nh, int64_t nw, int64_t D, float *dst)
{
    /* separable: rows first (gh x nw), then columns, all in double */
    double *tmp = (double *)igq__malloc((size_t)(gh * nw * D) * sizeof(double));
    double *acc = (double *)igq__malloc((size_t)D * sizeof(double));
    double  w[IGQ__POS_TAPS_MAX];
    int64_t y, x, k, c, first;
    int     n;
    if (tmp == NULL || acc == NULL) {
        igq__free(tmp);
        igq__free(acc);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "position embedding resampling: out of memory");
    }
    for (x = 0; x < nw; x++) {
        n = taps(method, gw, nw, x, &first, w);
        for (y = 0; y < gh; y++) {
            double *o = tmp + (y * nw + x) * D;
            for (c = 0; c < D; c++) o[c] = 0.0;
            for (k = 0; k < n; k++) {
                const float *in = src + (y * gw + clampi(first + k, gw)) * D;
                for (c = 0; c < D; c++) o[c] += w[k] * (double)in[c];
            }
        }
    }
    for (y = 0; y < nh; y++) {
        n = taps(method, gh, nh, y, &first, w);
        for (x = 0; x < nw; x++) {
            for (c = 0; c < D; c++) acc[c] = 0.0;
            for (k = 0; k < n; k++) {
                const double *in = tmp + (clampi(first + k, gh) * nw + x) * D;
                for (c = 0; c < D; c++) acc[c] += w[k] * in[c];
            }
            for (c = 0; c < D; c++) dst[(y * nw + x) * D + c] = (float)acc[c];
        }
    }
    igq__free(tmp);
    igq__free(acc);
    return IGQ_OK;
}
