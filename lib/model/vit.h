/* The ViT/DeiT graph: dimensions and fp32 parameters in one canonical layout, whatever the
 * checkpoint's naming scheme. Private header. */
#ifndef IGQ_MODEL_VIT_H
#define IGQ_MODEL_VIT_H

#include <stdint.h>

#include "igq/igq.h"

typedef enum igq_naming {
    IGQ_NAMING_TIMM        = 0,
    IGQ_NAMING_HF          = 1,
    IGQ_NAMING_TORCHVISION = 2
} igq_naming;

typedef enum igq_pool {
    IGQ_POOL_TOKEN = 0, /* classifier reads the class token (and the distillation token) */
    IGQ_POOL_MEAN  = 1  /* classifier reads the mean of the patch tokens (timm global_pool=avg) */
} igq_pool;

typedef struct igq_vit_dims {
    int32_t img_h, img_w;     /* pixels */
    int32_t in_chans;
    int32_t patch;            /* square patch side = conv stride */
    int32_t grid_h, grid_w;   /* patches per column / row */
    int32_t n_patches;
    int32_t n_prefix;         /* class (+ distillation) (+ register) tokens before the patches */
    int32_t n_tokens;         /* n_prefix + n_patches */
    int32_t dim;
    int32_t depth;
    int32_t heads;
    int32_t head_dim;
    int32_t mlp;
    int32_t classes;
    int32_t has_dist;         /* distillation token and head_dist */
    int32_t pos_has_prefix;   /* position embedding covers the prefix tokens too */
    int32_t pool;             /* igq_pool */
    int32_t naming;           /* igq_naming of the source checkpoint */
    float   ln_eps;
} igq_vit_dims;

/* y[T][out] = x[T][in] * W + b. Weights are kept transposed, wt[in][out] (k-major), so the
 * reference GEMM streams rows of wt; PyTorch's [out][in] is transposed at load. */
typedef struct igq_linear {
    int32_t in, out;
    float  *wt;  /* [in][out] */
    float  *b;   /* [out], zeros when the checkpoint has no bias */
} igq_linear;

typedef struct igq_block {
    float     *ln1_w, *ln1_b;
    igq_linear qkv;             /* out = 3D: [q | k | v], heads contiguous inside each */
    igq_linear proj;
    float     *ls1;             /* layer scale of the attention branch, or NULL */
    float     *ln2_w, *ln2_b;
    igq_linear fc1, fc2;
    float     *ls2;             /* layer scale of the MLP branch, or NULL */
} igq_block;

struct igq_model {
    igq_vit_dims d;
    igq_linear   patch;          /* in = C*P*P in (c, py, px) order, out = D */
    float       *prefix;         /* [n_prefix][D]: class, distillation, register tokens */
    float       *pos;            /* [n_pos][D]; n_pos = n_tokens or n_patches */
    igq_block   *blocks;         /* [depth] */
    float       *norm_w, *norm_b;       /* final LayerNorm over all tokens, or NULL */
    float       *fc_norm_w, *fc_norm_b; /* LayerNorm after mean pooling, or NULL */
    igq_linear   head;
    igq_linear   head_dist;      /* wt == NULL unless has_dist */
    int32_t      has_norm_stats;
    float       *mean, *std;     /* [in_chans] when has_norm_stats */
};

/* Frees everything a model owns (NULL-safe). */
void igq__model_destroy(struct igq_model *m);

/* Bytes of scratch one image needs in the fp32 forward. */
size_t igq__f32_scratch_floats(const igq_vit_dims *d);

/* fp32 forward of `batch` images [B][C][H][W] into logits [B][classes].
 * scratch holds igq__f32_scratch_floats() floats (64-byte aligned). */
void igq__forward_f32(const struct igq_model *m, const float *images, int64_t batch,
                      float *logits, float *scratch);

#endif
