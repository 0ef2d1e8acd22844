/* Checkpoint → canonical ViT graph. Private header. */
#ifndef IGQ_IO_CHECKPOINT_H
#define IGQ_IO_CHECKPOINT_H

#include "../model/vit.h"

/* Values an application passes when loading (igq_load_options; all optional). */
typedef struct igq__load_opts {
    int32_t heads;          /* 0: from the file or the rules */
    int32_t img_h, img_w;   /* 0: as trained; else run at this size (position grid resampled) */
    int32_t has_eps;
    float   eps;
    int32_t n_stats;        /* 0: mean/std from the file; else replaced by these */
    float   mean[64], std[64];
} igq__load_opts;

/* Loads a checkpoint (timm, Hugging Face or torchvision names): safetensors, or a torch.save zip
 * archive (.pth, .pt, .bin; pth.h), told apart by content. opts may be NULL. */
igq_status igq__checkpoint_load(const char *path, const igq__load_opts *opts,
                                struct igq_model **out);

#endif
