/* The tensor names of each checkpoint family, mapped onto the canonical graph (model/vit.h):
 * one table per family. A family is recognized by the name of its patch embedding; entries a
 * table leaves out are tensors the family does not have. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "ckpt_loader.h"

/* timm VisionTransformer / DeiT (also distilled, register tokens, layer scale, fc_norm). */
static const igq__ckpt_scheme SCHEME_TIMM = {
    .label = "timm", .naming = IGQ_NAMING_TIMM,
    .cls = "cls_token", .dist = "dist_token", .reg = "reg_token", .pos = "pos_embed",
    .patch_w = "patch_embed.proj.weight", .patch_b = "patch_embed.proj.bias",
    .norm_w = "norm.weight", .norm_b = "norm.bias",
    .fc_norm_w = "fc_norm.weight", .fc_norm_b = "fc_norm.bias",
    .head_w = "head.weight|head.fc.weight", .head_b = "head.bias|head.fc.bias",
    .head_dist_w = "head_dist.weight", .head_dist_b = "head_dist.bias",
    .block_prefix = "blocks.",
    .ln1_w = "norm1.weight", .ln1_b = "norm1.bias",
    .qkv_w = "attn.qkv.weight", .qkv_b = "attn.qkv.bias",
    .proj_w = "attn.proj.weight", .proj_b = "attn.proj.bias",
    .ln2_w = "norm2.weight", .ln2_b = "norm2.bias",
    .fc1_w = "mlp.fc1.weight", .fc1_b = "mlp.fc1.bias",
    .fc2_w = "mlp.fc2.weight", .fc2_b = "mlp.fc2.bias",
    .ls1 = "ls1.gamma|gamma_1", .ls2 = "ls2.gamma|gamma_2",
};

/* Hugging Face: ViTForImageClassification ("vit.") and DeiT ("deit.") share one layout with
 * separate q, k, v projections; they differ in the prefix and the classifier names. */
#define HF_SCHEME(P, HEAD_W, HEAD_B, HD_W, HD_B)                                               \
    {                                                                                          \
        .label = "Hugging Face", .naming = IGQ_NAMING_HF,                                      \
        .cls = P "embeddings.cls_token", .dist = P "embeddings.distillation_token",            \
        .pos = P "embeddings.position_embeddings",                                             \
        .patch_w = P "embeddings.patch_embeddings.projection.weight",                          \
        .patch_b = P "embeddings.patch_embeddings.projection.bias",                            \
        .norm_w = P "layernorm.weight", .norm_b = P "layernorm.bias",                          \
        .head_w = HEAD_W, .head_b = HEAD_B, .head_dist_w = HD_W, .head_dist_b = HD_B,          \
        .block_prefix = P "encoder.layer.",                                                    \
        .ln1_w = "layernorm_before.weight", .ln1_b = "layernorm_before.bias",                  \
        .q_w = "attention.attention.query.weight", .q_b = "attention.attention.query.bias",    \
        .k_w = "attention.attention.key.weight", .k_b = "attention.attention.key.bias",        \
        .v_w = "attention.attention.value.weight", .v_b = "attention.attention.value.bias",    \
        .proj_w = "attention.output.dense.weight", .proj_b = "attention.output.dense.bias",    \
        .ln2_w = "layernorm_after.weight", .ln2_b = "layernorm_after.bias",                    \
        .fc1_w = "intermediate.dense.weight", .fc1_b = "intermediate.dense.bias",              \
        .fc2_w = "output.dense.weight", .fc2_b = "output.dense.bias",                          \
    }

static const igq__ckpt_scheme SCHEME_HF_VIT =
    HF_SCHEME("vit.", "classifier.weight", "classifier.bias", NULL, NULL);
static const igq__ckpt_scheme SCHEME_HF_DEIT =
    HF_SCHEME("deit.", "cls_classifier.weight|classifier.weight",
              "cls_classifier.bias|classifier.bias", "distillation_classifier.weight",
              "distillation_classifier.bias");

/* Hugging Face Dinov2Model (no prefix, no classifier: embeddings only; Dinov2ForImageClassification's classifier reads the class token and the mean patch
 * token together, which is refused as an unused tensor). LayerNorm eps 1e-6. */
static const igq__ckpt_scheme SCHEME_HF_DINOV2 = {
    .label = "Hugging Face DINOv2", .naming = IGQ_NAMING_HF, .eps = 1e-6f,
    .cls = "embeddings.cls_token",
    .pos = "embeddings.position_embeddings",
    .patch_w = "embeddings.patch_embeddings.projection.weight",
    .patch_b = "embeddings.patch_embeddings.projection.bias",
    .norm_w = "layernorm.weight", .norm_b = "layernorm.bias",
    .block_prefix = "encoder.layer.",
    .ln1_w = "norm1.weight", .ln1_b = "norm1.bias",
    .q_w = "attention.attention.query.weight", .q_b = "attention.attention.query.bias",
    .k_w = "attention.attention.key.weight", .k_b = "attention.attention.key.bias",
    .v_w = "attention.attention.value.weight", .v_b = "attention.attention.value.bias",
    .proj_w = "attention.output.dense.weight", .proj_b = "attention.output.dense.bias",
    .ln2_w = "norm2.weight", .ln2_b = "norm2.bias",
    .fc1_w = "mlp.fc1.weight", .fc1_b = "mlp.fc1.bias",
    .fc2_w = "mlp.fc2.weight", .fc2_b = "mlp.fc2.bias",
    .ls1 = "layer_scale1.lambda1", .ls2 = "layer_scale2.lambda1",
};

/* torchvision VisionTransformer ("mlp.0" in older releases, "mlp.linear_1" in newer). */
static const igq__ckpt_scheme SCHEME_TORCHVISION = {
    .label = "torchvision", .naming = IGQ_NAMING_TORCHVISION,
    .cls = "class_token", .pos = "encoder.pos_embedding",
    .patch_w = "conv_proj.weight", .patch_b = "conv_proj.bias",
    .norm_w = "encoder.ln.weight", .norm_b = "encoder.ln.bias",
    .head_w = "heads.head.weight", .head_b = "heads.head.bias",
    .block_prefix = "encoder.layers.encoder_layer_",
    .ln1_w = "ln_1.weight", .ln1_b = "ln_1.bias",
    .qkv_w = "self_attention.in_proj_weight", .qkv_b = "self_attention.in_proj_bias",
    .proj_w = "self_attention.out_proj.weight", .proj_b = "self_attention.out_proj.bias",
    .ln2_w = "ln_2.weight", .ln2_b = "ln_2.bias",
    .fc1_w = "mlp.0.weight|mlp.linear_1.weight", .fc1_b = "mlp.0.bias|mlp.linear_1.bias",
    .fc2_w = "mlp.3.weight|mlp.linear_2.weight", .fc2_b = "mlp.3.bias|mlp.linear_2.bias",
};

/* ---- families and features the loader does not support --------------------------------- */

/* A tensor name that marks a family or a feature libigq does not run, and what to say. `where`:
 * 0 the name starts with `pat`, 1 contains it. */
typedef struct unsupported_sig {
    const char *pat;
    int         where;
    const char *what;
} unsupported_sig;

static const unsupported_sig UNSUPPORTED[] = {
    {"features.0.0.weight", 0, "a torchvision Swin Transformer (features.N: not supported)"},
    {"swin.", 0, "a Hugging Face Swin Transformer (not supported)"},
    {"layers.0.blocks.0.attn.relative_position_bias_table", 0,
     "a timm Swin Transformer (not supported)"},
    {"visual.conv1.weight", 0, "an OpenAI / open_clip CLIP model (not supported yet)"},
    {"vision_model.head.probe", 0, "a SigLIP vision tower (attention-pooling head: not supported)"},
    {"vision_model.embeddings.patch_embedding.weight", 0,
     "a Hugging Face CLIP / SigLIP vision tower (not supported yet)"},
    {"dinov2.", 0, "a Hugging Face Dinov2ForImageClassification (its classifier reads the class "
                   "and mean patch tokens together: not supported; load the Dinov2Model)"},
    {"embeddings.register_tokens", 0,
     "Hugging Face Dinov2WithRegisters (its position embedding covers the class token but not "
     "the registers: not supported yet)"},
    {"encoder.layer.0.mlp.weights_in.weight", 0, "a SwiGLU MLP (DINOv2 giant style: not "
                                                  "supported)"},
    {"beit.", 0, "a Hugging Face BEiT model (not supported)"},
    {"data2vec_vision.", 0, "a Hugging Face Data2Vec-vision model (BEiT layout: not supported)"},
    {".attn.relative_position_bias_table", 1,
     "a BEiT-style model (relative position bias in every block: not supported)"},
    {"rel_pos_bias.relative_position_bias_table", 0,
     "a BEiT-style model (shared relative position bias: not supported)"},
    {".attn.q_proj.weight", 1, "an EVA-style model (separate q/k/v projections: not supported)"},
    {"rope.", 0, "an EVA-style model (rotary position embedding: not supported)"},
    {".mlp.fc1_g.weight", 1, "a SwiGLU MLP (EVA-02 style: not supported)"},
    {".mlp.w12.weight", 1, "a SwiGLU MLP (DINOv2 giant style: not supported)"},
    {".attn.q_norm.weight", 1, "qk-norm (attn.q_norm / attn.k_norm: not supported yet)"},
    {".attn.k_norm.weight", 1, "qk-norm (attn.q_norm / attn.k_norm: not supported yet)"},
    {"norm_pre.weight", 0, "a pre-norm before the blocks (norm_pre, CLIP-style: not supported "
                           "yet)"},
    {"patch_embed.norm.weight", 0, "a LayerNorm inside the patch embedding (not supported)"},
    {"attn_pool.", 0, "attention pooling (timm global_pool='map': not supported)"},
    {"heads.pre_logits.weight", 0, "a torchvision pre-logits layer (representation_size: not "
                                   "supported)"},
};

/* IGQ_ERR_UNSUPPORTED naming the first tensor that marks an unsupported family or feature. */
static igq_status refuse_unsupported(const igq__ckpt_loader *L)
{
    size_t i, k;
    for (i = 0; i < L->st->count; i++) {
        const char *n = L->st->tensors[i].name;
        for (k = 0; k < sizeof UNSUPPORTED / sizeof UNSUPPORTED[0]; k++) {
            const unsupported_sig *u = &UNSUPPORTED[k];
            const int hit = u->where == 0 ? strncmp(n, u->pat, strlen(u->pat)) == 0
                                          : strstr(n, u->pat) != NULL;
            if (hit)
                return igq__set_error(IGQ_ERR_UNSUPPORTED, "%s: tensor '%s': %s", L->path, n,
                                      u->what);
        }
    }
    return IGQ_OK;
}

igq_status igq__ckpt_detect_scheme(igq__ckpt_loader *L)
{
    static const igq__ckpt_scheme *const all[] = {&SCHEME_TIMM, &SCHEME_HF_VIT, &SCHEME_HF_DEIT,
                                                  &SCHEME_HF_DINOV2, &SCHEME_TORCHVISION};
    size_t i;
    IGQ_TRY(refuse_unsupported(L));
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (igq__st_find(L->st, all[i]->patch_w) != NULL) {
            L->sc = all[i];
            return IGQ_OK;
        }
    }
    return igq__set_error(IGQ_ERR_FORMAT,
                          "%s: not a ViT/DeiT checkpoint of a known naming scheme (none of "
                          "'patch_embed.proj.weight', "
                          "'vit.embeddings.patch_embeddings.projection.weight', "
                          "'deit.embeddings.patch_embeddings.projection.weight', "
                          "'embeddings.patch_embeddings.projection.weight', "
                          "'conv_proj.weight' is present)",
                          L->path);
}

/* ---- tensors the graph did not use ------------------------------------------------------- */

/* Tensors a checkpoint may hold that inference does not need: training buffers and parts of
 * the model outside the classification path (documented in README, "Supported checkpoints"). */
static int known_irrelevant(const char *n)
{
    static const char *const suffix[] = {"num_batches_tracked", ".relative_position_index",
                                         "embeddings.position_ids"};
    static const char *const exact[]  = {"mask_token", "vit.embeddings.mask_token",
                                         "embeddings.mask_token",
                                         "deit.embeddings.mask_token", "vit.pooler.dense.weight",
                                         "vit.pooler.dense.bias", "deit.pooler.dense.weight",
                                         "deit.pooler.dense.bias"};
    const size_t             len      = strlen(n);
    size_t                   k;
    for (k = 0; k < sizeof suffix / sizeof suffix[0]; k++) {
        const size_t sl = strlen(suffix[k]);
        if (len >= sl && strcmp(n + len - sl, suffix[k]) == 0) return 1;
    }
    for (k = 0; k < sizeof exact / sizeof exact[0]; k++)
        if (strcmp(n, exact[k]) == 0) return 1;
    return 0;
}

igq_status igq__ckpt_check_unused(const igq__ckpt_loader *L)
{
    size_t i;
    if (L->used == NULL) return IGQ_OK;
    for (i = 0; i < L->st->count; i++) {
        const char *n = L->st->tensors[i].name;
        if (L->used[i] || known_irrelevant(n)) continue;
        return igq__set_error(IGQ_ERR_UNSUPPORTED,
                              "%s: tensor '%s' is not part of the %s ViT layout this loader "
                              "runs; refusing rather than computing a different network",
                              L->path, n, L->sc->label);
    }
    return IGQ_OK;
}

const igq_st_tensor *igq__ckpt_find(const igq__ckpt_loader *L, const char *prefix,
                                    const char *pattern, char *name_out)
{
    const char *p = pattern;
    if (pattern == NULL) return NULL;
    while (*p) {
        const char          *bar = strchr(p, '|');
        size_t               len = bar ? (size_t)(bar - p) : strlen(p);
        const igq_st_tensor *t;
        snprintf(name_out, IGQ__CKPT_NAME_CAP, "%s%.*s", prefix ? prefix : "", (int)len, p);
        t = igq__st_find(L->st, name_out);
        if (t != NULL) {
            if (L->used != NULL) L->used[t - L->st->tensors] = 1;
            return t;
        }
        if (!bar) break;
        p = bar + 1;
    }
    /* Report the first alternative as the missing name. */
    {
        const char *bar = strchr(pattern, '|');
        size_t      len = bar ? (size_t)(bar - pattern) : strlen(pattern);
        snprintf(name_out, IGQ__CKPT_NAME_CAP, "%s%.*s", prefix ? prefix : "", (int)len,
                 pattern);
    }
    return NULL;
}

/* Every index below the largest must be present too: read_block finds a gap as a missing
 * tensor. */
igq_status igq__ckpt_count_blocks(const igq__ckpt_loader *L, int32_t *depth)
{
    const char *pre  = L->sc->block_prefix;
    size_t      plen = strlen(pre), i;
    long        maxi = -1;
    for (i = 0; i < L->st->count; i++) {
        const char *n = L->st->tensors[i].name;
        char       *end;
        long        v;
        if (strncmp(n, pre, plen) != 0) continue;
        if (n[plen] < '0' || n[plen] > '9') continue;
        errno = 0;
        v     = strtol(n + plen, &end, 10);
        IGQ_CHECK(errno == 0 && *end == '.' && v >= 0 && v < 100000, IGQ_ERR_FORMAT,
                  "%s: tensor '%s': bad block index", L->path, n);
        if (v > maxi) maxi = v;
    }
    IGQ_CHECK(maxi >= 0, IGQ_ERR_FORMAT, "%s: no transformer blocks ('%sN.*') found", L->path, pre);
    *depth = (int32_t)(maxi + 1);
    return IGQ_OK;
}
