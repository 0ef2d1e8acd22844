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

igq_status igq__ckpt_detect_scheme(igq__ckpt_loader *L)
{
    static const igq__ckpt_scheme *const all[] = {&SCHEME_TIMM, &SCHEME_HF_VIT, &SCHEME_HF_DEIT,
                                                  &SCHEME_TORCHVISION};
    size_t i;
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
                          "'conv_proj.weight' is present)",
                          L->path);
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
        if (t != NULL) return t;
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
