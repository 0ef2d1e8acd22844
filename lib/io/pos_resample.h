/* Resampling a position embedding's patch grid to another size, as each checkpoint family's
 * own code does it. Private header. */
#ifndef IGQ_IO_POS_RESAMPLE_H
#define IGQ_IO_POS_RESAMPLE_H

#include <stdint.h>

#include "igq/igq.h"

typedef enum igq__pos_method {
    /* timm resample_abs_pos_embed: F.interpolate(bicubic, antialias=True) */
    IGQ__POS_TORCH_BICUBIC_AA = 0,
    /* Hugging Face interpolate_pos_encoding: F.interpolate(bicubic, align_corners=False) */
    IGQ__POS_TORCH_BICUBIC = 1,
    /* torchvision interpolate_embeddings: F.interpolate(bicubic, align_corners=True) */
    IGQ__POS_TORCH_BICUBIC_CORNERS = 2
} igq__pos_method;

/* Taps of one output position at most (the antialiased filter when shrinking by up to 64x). */
#define IGQ__POS_TAPS_MAX 260

/* dst [nh][nw][D] = src [gh][gw][D] resampled; every side >= 1. IGQ_ERR_NO_MEMORY. */
igq_status igq__pos_resample(igq__pos_method method, const float *src, int64_t gh, int64_t gw,
                             int64_t nh, int64_t nw, int64_t D, float *dst);

#endif
