/* Argument checks shared by the public entry points (api_check.h). */
#include "api_check.h"

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
    return IGQ_OK;
}
