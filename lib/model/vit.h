/* The ViT/DeiT graph: dimensions and fp32 parameters in one canonical layout, whatever the
 * checkpoint's naming scheme. Private header. */
#ifndef IGQ_MODEL_VIT_H
#define IGQ_MODEL_VIT_H

#include <stdint.h>

#include "igq/igq.h"
#include "preproc.h"
#include "profile.h"

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
    /* the image size the checkpoint was trained at, when a load option runs it at another
     * (img_h x img_w, position grid resampled); 0 otherwise (and in .igq files) */
    int32_t trained_h, trained_w;
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
    int32_t      has_preproc;    /* the checkpoint (or .igq file) declared the transform */
    igq_preproc  preproc;        /* when has_preproc; else igq__model_preproc's default */
    struct igq_qstate *q;        /* quantizers of a quantized model (weights above are then
                                    stored fake-quantized); NULL for an fp32 model */
    /* A model read from a .igq file: the arrays above (not blocks, not q) point into the
     * read-only view *backing and are not freed one by one; NULL otherwise. */
    struct igq_map *backing;
    /* Class names (n_labels == classes), or NULL / 0 when the source names none. labels[i]
     * points into label_blob (owned) or, for a loaded .igq, into its mapping. */
    const char    **labels;
    char           *label_blob;
    int32_t         n_labels;
    /* Provenance, saved in .igq files: the checkpoint the model came from (NULL if unknown). */
    char           *src_name;
    int64_t         src_size;
};

/* Sets m->labels from n strings (copied into one owned blob): 1, or 0 when out of memory. */
int igq__model_set_labels(struct igq_model *m, const char *const *names, int32_t n);

/* Deep copy of a model (without its quantization state). */
igq_status igq__model_clone(const struct igq_model *src, struct igq_model **out);

/* Frees everything a model owns (NULL-safe). */
void igq__model_destroy(struct igq_model *m);

/* Activation sites, in the order the forward meets them. Block sites carry the block index;
 * IGQ_SITE_PATCH_IN and IGQ_SITE_HEAD_IN are called with block -1. */
enum {
    IGQ__SITE_QKV_IN = 0,  /* LN1 output [T][D] */
    IGQ__SITE_Q      = 1,  /* queries [T][D] (row stride 3D) */
    IGQ__SITE_K      = 2,  /* keys [T][D] (row stride 3D) */
    IGQ__SITE_ATTN   = 3,  /* softmax output of one head [T][T] */
    IGQ__SITE_V      = 4,  /* values [T][D] (row stride 3D) */
    IGQ__SITE_PROJ_IN = 5, /* attention output [T][D] */
    IGQ__SITE_FC1_IN = 6,  /* LN2 output [T][D] */
    IGQ__SITE_FC2_IN = 7,  /* GELU output [T][M] */
    IGQ__SITE_PATCH_IN = 8, /* image patches [P][C*p*p] (block -1) */
    IGQ__SITE_HEAD_IN = 9,  /* classifier input [1 or 2][D] (block -1) */
    IGQ__N_SITES = 10
};

/* Called at every site with a view x[rows][cols] (row stride ld) of one image's tensor just
 * before it is consumed; it may rewrite the values in place (fake quantization) or only read
 * them (calibration observers). head is the head index for IGQ__SITE_ATTN, else -1.
 * image is the index within the batch passed to igq__forward. */
typedef struct igq_site_hook {
    void (*fn)(void *ctx, int64_t image, int32_t block, int32_t site, int32_t head, float *x,
               int64_t rows, int64_t cols, int64_t ld);
    void *ctx;
} igq_site_hook;

/* Patch p (row-major over the grid) of one image [C][H][W] as C*P*P floats in (c, py, px)
 * order, the layout of igq_linear patch.wt's rows (im2col of the patch-embedding conv). */
void igq__extract_patch(const igq_vit_dims *d, const float *img, int64_t p, float *out);

/* Floats of scratch igq__forward needs for chunks of up to `chunk` images. */
size_t igq__forward_scratch_floats(const igq_vit_dims *d, int64_t chunk);
/* Images processed together (sizes the scratch); depends only on the dimensions. */
int64_t igq__forward_chunk(const igq_vit_dims *d, int64_t batch);

/* Forward of `batch` images [B][C][H][W] into logits [B][classes], with an optional hook at
 * every activation site (NULL: plain fp32). scratch: igq__forward_scratch_floats(d, chunk)
 * floats with chunk = igq__forward_chunk(d, batch); 64-byte aligned. Logits of an image do not
 * depend on the other images of the batch. */
void igq__forward(const struct igq_model *m, const float *images, int64_t batch, float *logits,
                  float *scratch, const igq_site_hook *hook);

/* The model's output per image for calibration metrics: igq__forward's logits, or for a model
 * without a classifier (0 classes) its pooled embedding (igq__out_width floats per image). */
void igq__forward_out(const struct igq_model *m, const float *images, int64_t batch, float *out,
                      float *scratch, const igq_site_hook *hook);
static inline int32_t igq__out_width(const igq_vit_dims *d)
{
    return d->classes > 0 ? d->classes : d->dim;
}

/* Floats of scratch igq__forward_par needs with a pool of `threads` threads (>= 1): the
 * shared activations of a chunk plus per-thread attention / classifier buffers. Equals
 * igq__forward_scratch_floats(d, chunk) for one thread; grows with chunk and threads. */
size_t igq__forward_scratch_floats_par(const igq_vit_dims *d, int64_t chunk, int32_t threads);

/* igq__forward with the work of each step split over the threads of pool (NULL: the caller's
 * thread only). Logits are bit-identical for any pool size: work is split over output tiles
 * (GEMM row tiles, token rows, (image, head) pairs, images), never over a sum. hooks: NULL,
 * or igq__pool_size(pool) hooks; a site is hooked with hooks[t] of the thread t running it,
 * so each context needs its own scratch but no locking; different images' hooks may run
 * concurrently. scratch: igq__forward_scratch_floats_par(d, chunk, igq__pool_size(pool))
 * floats, chunk = igq__forward_chunk(d, batch). Allocates nothing. Thread safety: concurrent
 * calls on one model are safe; calls sharing a pool run their steps one job at a time.
 * feat = 1: logits receives each image's pooled embedding [B][D] instead (igq_run_features).
 * prof: NULL, or the calling thread's layer recorder (profile.h): each step is timed as a
 * whole by the calling thread, which drives the steps. */
void igq__forward_par(const struct igq_model *m, const float *images, int64_t batch,
                      float *logits, int feat, float *scratch, const igq_site_hook *hooks,
                      igq_threadpool *pool, igq_prof *prof);

/* Part of the forward, for stage-by-stage calibration (GPTQ): blocks [b0, b1) (b0 <= b1 <=
 * depth), starting from the patches of `images` (x_in NULL) or from x_in, the residual stream
 * [batch][tokens][dim] entering block b0 (images unused, may be NULL); stopping right after
 * the hooks of (stop_block, stop_site) if the forward meets that site (stop_block -1 with
 * IGQ__SITE_PATCH_IN: after the patches), else writing the residual stream leaving block
 * b1 - 1 (after the embedding when b0 == b1 == 0) to x_out (if not NULL; it may be x_in) and,
 * when b1 == depth, the logits (then not NULL). Single-threaded.
 * Block b0 may start inside (x_in given): start_phase 1 at the proj input site, from x_in
 * (the residual stream entering the block) and o_in (the attention output [batch][tokens][dim]
 * before the proj-input hook, as o_out saved it); start_phase 2 at LN2, from x_in = the
 * residual stream after the attention branch (as mid_out saved it). o_out and mid_out (if not
 * NULL) receive those two of block b0 when the forward computes them. */
typedef struct igq_forward_range {
    int32_t      b0, b1;
    int32_t      stop_block, stop_site; /* stop_block -2: run to the end */
    const float *x_in;
    float       *x_out;
    int32_t      start_phase;
    const float *o_in;
    float       *o_out, *mid_out;
} igq_forward_range;

void igq__forward_range(const struct igq_model *m, const float *images, int64_t batch,
                        float *logits, float *scratch, const igq_site_hook *hook,
                        const igq_forward_range *range);

#endif
