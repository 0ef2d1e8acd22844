/* Argument checks shared by the public entry points (api_check.h). */
#include "api_check.h"

#include <string.h>

#include "../core/error.h"

igq_status igq__check_images(const char *who, const struct igq_model *m,
                             const igq_tensor *images)
{
    const igq_vit_dims *d = &m->d;
    IGQ_CHECK(images->dtype == IGQ_DTYPE_F32, IGQ_ERR_INVALID_ARGUMENT, "%s: images must be f32",
              who);
    IGQ_CHECK(images->ndim == 4 && images->shape[1] == d->in_chans &&
                  images->shape[2] == d->img_h && images->shape[3] == d->img_w,
              IGQ_ERR_SHAPE, "%s: images must be [B, %d, %d, %d], got ndim %d [%lld, %lld, %lld, %lld]",
              who, (int)d->in_chans, (int)d->img_h, (int)d->img_w, (int)images->ndim,
              (long long)images->shape[0], (long long)(images->ndim > 1 ? images->shape[1] : 0),
              (long long)(images->ndim > 2 ? images->shape[2] : 0),
              (long long)(images->ndim > 3 ? images->shape[3] : 0));
    {
        /* NaN and +-Inf are refused: the executors would otherwise differ (NaN logits in fp32,
         * an undefined float-to-int conversion in the integer one). An exponent of all ones is
         * exactly those values; the test on the bits vectorizes and costs ~0.1 ns a value. */
        const float  *x = (const float *)images->data;
        const int64_t n = images->shape[0] * images->shape[1] * images->shape[2] * images->shape[3];
        int64_t       i, bad = -1;
        uint32_t      any = 0;
        for (i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &x[i], 4);
            any |= (u & 0x7f800000u) == 0x7f800000u;
        }
        for (i = 0; any && bad < 0 && i < n; i++) {
            uint32_t u;
            memcpy(&u, &x[i], 4);
            if ((u & 0x7f800000u) == 0x7f800000u) bad = i;
        }
        if (bad >= 0) {
            const int64_t hw = (int64_t)d->img_h * d->img_w, chw = d->in_chans * hw;
            return igq__set_error(IGQ_ERR_INVALID_ARGUMENT,
                                  "%s: image %lld has a non-finite value (%g) at channel %lld, "
                                  "row %lld, column %lld",
                                  who, (long long)(bad / chw), (double)x[bad],
                                  (long long)(bad % chw / hw), (long long)(bad % hw / d->img_w),
                                  (long long)(bad % d->img_w));
        }
    }
    return IGQ_OK;
}
