/* Argument checks shared by the public entry points. Private header. */
#ifndef IGQ_API_CHECK_H
#define IGQ_API_CHECK_H

#include "../core/tensor.h"
#include "../model/vit.h"

/* images must be an f32 [B, C, H, W] tensor whose C, H, W are model m's input (B >= 1 holds
 * for every tensor). The one rule of every entry point that takes images (igq_run,
 * igq_session_run, igq_quantize_model, igq_groups_compute); who names it in the message.
 * Every value must be finite. Returns IGQ_OK, IGQ_ERR_INVALID_ARGUMENT (dtype; a NaN or
 * infinite value: the message names the image, channel, row and column) or IGQ_ERR_SHAPE. */
igq_status igq__check_images(const char *who, const struct igq_model *m,
                             const igq_tensor *images);

#endif
