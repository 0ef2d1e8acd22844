/* State and steps shared by the checkpoint loader's three files. Private header.
 *   ckpt_names.c  the naming schemes (timm, Hugging Face, torchvision) and name lookup
 *   ckpt_meta.c   what shapes cannot say: safetensors metadata, config.json, defaults
 *   checkpoint.c  tensor reading and the graph build (the entry point, checkpoint.h) */
#ifndef IGQ_IO_CKPT_LOADER_H
#define IGQ_IO_CKPT_LOADER_H

#include "../model/vit.h"
#include "checkpoint.h"
#include "json.h"
#include "safetensors.h"

/* Largest config.json / preprocessor_config.json read beside a checkpoint (bytes). */
#define IGQ__CKPT_CONFIG_MAX (8u << 20)

/* Longest tensor name the loader builds (block prefix + index + suffix). */
#define IGQ__CKPT_NAME_CAP 256

/* One naming scheme. Block names are block_prefix + index + '.' + suffix. A NULL entry means
 * the scheme has no such tensor; "a|b" lists accepted alternatives (first match wins). */
typedef struct igq__ckpt_scheme {
    const char *label; /* for messages */
    igq_naming  naming;
    float       eps;   /* default LayerNorm eps of the family; 0: by naming (ckpt_meta.c) */
    const char *cls, *dist, *reg, *pos, *patch_w, *patch_b;
    const char *norm_w, *norm_b, *fc_norm_w, *fc_norm_b;
    const char *head_w, *head_b, *head_dist_w, *head_dist_b;
    const char *block_prefix;
    const char *ln1_w, *ln1_b, *qkv_w, *qkv_b;
    const char *q_w, *q_b, *k_w, *k_b, *v_w, *v_b; /* separate projections (Hugging Face) */
    const char *proj_w, *proj_b, *ln2_w, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b, *ls1, *ls2;
} igq__ckpt_scheme;

typedef struct igq__ckpt_loader {
    const char             *path;
    igq_safetensors        *st;
    const igq__ckpt_scheme *sc;
    igq_json               *config;      /* config.json beside the file, or NULL */
    igq_json               *preproc;     /* preprocessor_config.json, or NULL */
    const char             *config_path; /* for messages */
    const igq__load_opts   *opts;        /* the application's values, or NULL */
    unsigned char          *used;        /* [st->count]: tensors the graph read (igq__ckpt_find
                                            marks them), or NULL */
    char                    config_buf[1024];
    struct igq_model       *m;
} igq__ckpt_loader;

/* ---- ckpt_names.c ---- */

/* Sets L->sc to the scheme whose patch embedding is present; IGQ_ERR_FORMAT if none is;
 * IGQ_ERR_UNSUPPORTED naming the tensor when a tensor marks a family or feature libigq does
 * not run (Swin, CLIP, SigLIP, BEiT, EVA, qk-norm, norm_pre, ...). */
igq_status igq__ckpt_detect_scheme(igq__ckpt_loader *L);

/* The first present alternative of an "a|b" pattern, prefixed; NULL if none is (also for a
 * NULL pattern). name_out (IGQ__CKPT_NAME_CAP bytes) receives the name found, or the first
 * alternative when none is. */
const igq_st_tensor *igq__ckpt_find(const igq__ckpt_loader *L, const char *prefix,
                                    const char *pattern, char *name_out);

/* IGQ_ERR_UNSUPPORTED naming the first tensor the graph did not use, unless it is one of the
 * documented tensors inference does not need (training buffers, Hugging Face's pooler). */
igq_status igq__ckpt_check_unused(const igq__ckpt_loader *L);

/* Number of blocks: 1 + the largest index N in names "<block_prefix>N.<...>". */
igq_status igq__ckpt_count_blocks(const igq__ckpt_loader *L, int32_t *depth);

/* ---- ckpt_meta.c ---- */

/* Parses config.json and preprocessor_config.json beside the checkpoint, when present. */
igq_status igq__ckpt_open_configs(igq__ckpt_loader *L);
void       igq__ckpt_close_configs(igq__ckpt_loader *L);

/* Declared image size: (0, 0) when nothing declares it. */
igq_status igq__ckpt_image_size(const igq__ckpt_loader *L, int32_t *h, int32_t *w);

/* Heads, LayerNorm eps and mean/std of L->m, once its shapes are known. */
igq_status igq__ckpt_resolve_meta(const igq__ckpt_loader *L);

#endif
