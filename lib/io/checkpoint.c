/* Checkpoint loading: reads the tensors of a timm, Hugging Face or torchvision ViT/DeiT
 * checkpoint (names: ckpt_names.c) into the canonical graph (model/vit.h). The architecture
 * comes from the tensor shapes; what shapes cannot say comes from ckpt_meta.c. Tensors the
 * graph does not use (e.g. a pooler) are ignored. */
#include "checkpoint.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "ckpt_loader.h"
#include "pos_resample.h"
#include "pth.h"

/* ---- reading tensors ----------------------------------------------------------------------- */

static void shape_str(const int64_t *shape, int32_t ndim, char *buf, size_t cap)
{
    size_t  n = 0;
    int32_t i;
    n += (size_t)snprintf(buf + n, cap - n, "[");
    for (i = 0; i < ndim && n < cap; i++)
        n += shape[i] < 0 ? (size_t)snprintf(buf + n, cap - n, "%s?", i ? ", " : "")
                          : (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "",
                                             (long long)shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

/* Finds a tensor and checks its shape. expect[i] < 0 accepts any extent (the real one is
 * returned in got[]). Missing and required: IGQ_ERR_FORMAT. Missing and optional: IGQ_OK with
 * *out == NULL. name receives the tensor's full name. */
static igq_status find_param(const igq__ckpt_loader *L, const char *prefix, const char *pattern,
                             int required, int32_t ndim, const int64_t *expect, int64_t *got,
                             const igq_st_tensor **out, char *name)
{
    char                 want[128], have[128];
    const igq_st_tensor *t;
    int32_t              i;
    int                  ok;
    *out = NULL;
    t    = igq__ckpt_find(L, prefix, pattern, name);
    if (t == NULL) {
        IGQ_CHECK(!required, IGQ_ERR_FORMAT, "%s: missing tensor '%s' (%s naming)", L->path,
                  name, L->sc->label);
        return IGQ_OK;
    }
    ok = t->ndim == ndim;
    for (i = 0; ok && i < ndim; i++)
        if (expect[i] >= 0 && t->shape[i] != expect[i]) ok = 0;
    if (!ok) {
        int64_t e[IGQ_MAX_DIMS];
        for (i = 0; i < ndim; i++) e[i] = expect[i];
        shape_str(e, ndim, want, sizeof want);
        shape_str(t->shape, t->ndim, have, sizeof have);
        return igq__set_error(IGQ_ERR_SHAPE, "%s: tensor '%s': expected shape %s, got %s",
                              L->path, name, want, have);
    }
    for (i = 0; i < ndim; i++) {
        IGQ_CHECK(t->shape[i] > 0 && t->shape[i] <= INT32_MAX, IGQ_ERR_SHAPE,
                  "%s: tensor '%s': dimension %d has extent %lld", L->path, name, (int)i,
                  (long long)t->shape[i]);
        if (got != NULL) got[i] = t->shape[i];
    }
    *out = t;
    return IGQ_OK;
}

/* Reads a tensor as f32 after checking its shape (find_param) into a new buffer. */
static igq_status read_param(const igq__ckpt_loader *L, const char *prefix, const char *pattern,
                             int required, int32_t ndim, const int64_t *expect, int64_t *got,
                             float **out)
{
    char                 name[IGQ__CKPT_NAME_CAP];
    const igq_st_tensor *t;
    float               *buf;
    *out = NULL;
    IGQ_TRY(find_param(L, prefix, pattern, required, ndim, expect, got, &t, name));
    if (t == NULL) return IGQ_OK;
    buf = (float *)igq__malloc((size_t)t->numel * sizeof(float));
    IGQ_CHECK(buf != NULL, IGQ_ERR_NO_MEMORY, "%s: tensor '%s': out of memory", L->path, name);
    {
        igq_status s = igq__st_read_f32(L->st, t, buf, t->numel);
        if (s != IGQ_OK) {
            igq__free(buf);
            return s;
        }
    }
    igq__st_drop(L->st, t);
    *out = buf;
    return IGQ_OK;
}

/* Gives l an uninitialised weight l->wt = [in][out] and sets its extents. name: the tensor the
 * weight comes from, for the message (NULL when several do). */
static igq_status linear_alloc(const igq__ckpt_loader *L, igq_linear *l, int32_t out, int32_t in,
                               const char *name)
{
    l->out = out;
    l->in  = in;
    l->wt  = (float *)igq__malloc((size_t)out * in * sizeof(float));
    if (l->wt == NULL && name != NULL)
        return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: tensor '%s': out of memory", L->path, name);
    IGQ_CHECK(l->wt != NULL, IGQ_ERR_NO_MEMORY, "out of memory");
    return IGQ_OK;
}

/* Transposes weight t, viewed as [rows][l->in], straight from the file into rows r0 .. r0 +
 * rows of the output dimension of l->wt ([in][out]): no f32 copy of the tensor in between.
 * Its pages of the mapping are then dropped, so loading needs the model's own weights plus
 * about one tensor of the file (not the whole file) resident. */
static igq_status weight_into(const igq__ckpt_loader *L, const igq_st_tensor *t, int32_t rows,
                              igq_linear *l, int32_t r0)
{
    IGQ_TRY(igq__st_read_f32_transposed(L->st, t, rows, l->in, l->wt + r0, l->out));
    igq__st_drop(L->st, t);
    return IGQ_OK;
}

/* Linear layer with weight [out][in] (out/in < 0: any) and optional bias [out]. */
static igq_status read_linear(const igq__ckpt_loader *L, const char *prefix, const char *wname,
                              const char *bname, int32_t out, int32_t in, igq_linear *l)
{
    int64_t              e[2] = {out, in}, got[2];
    char                 name[IGQ__CKPT_NAME_CAP];
    const igq_st_tensor *t;
    float               *b = NULL;
    IGQ_TRY(find_param(L, prefix, wname, 1, 2, e, got, &t, name));
    IGQ_TRY(linear_alloc(L, l, (int32_t)got[0], (int32_t)got[1], name));
    IGQ_TRY(weight_into(L, t, l->out, l, 0));
    {
        int64_t eb[1] = {got[0]};
        IGQ_TRY(read_param(L, prefix, bname, 0, 1, eb, NULL, &b));
    }
    if (b == NULL) b = (float *)igq__calloc((size_t)got[0], sizeof(float));
    IGQ_CHECK(b != NULL, IGQ_ERR_NO_MEMORY, "out of memory");
    l->b = b;
    return IGQ_OK;
}

/* ---- the graph ----------------------------------------------------------------------------- */

static igq_status read_block(const igq__ckpt_loader *L, int32_t bi)
{
    struct igq_model       *m = L->m;
    igq_vit_dims           *d = &m->d;
    igq_block              *b = &m->blocks[bi];
    const igq__ckpt_scheme *sc = L->sc;
    char                    pre[IGQ__CKPT_NAME_CAP];
    const int64_t           vD[1] = {d->dim};
    const int32_t           D = d->dim;
    snprintf(pre, sizeof pre, "%s%d.", sc->block_prefix, (int)bi);

    IGQ_TRY(read_param(L, pre, sc->ln1_w, 1, 1, vD, NULL, &b->ln1_w));
    IGQ_TRY(read_param(L, pre, sc->ln1_b, 1, 1, vD, NULL, &b->ln1_b));
    if (sc->qkv_w != NULL) {
        IGQ_TRY(read_linear(L, pre, sc->qkv_w, sc->qkv_b, 3 * D, D, &b->qkv));
    } else {
        /* Separate q, k, v projections: stacked as rows [q; k; v] of one [3D][D] weight,
         * each transposed straight into its block of output columns. */
        const char *wn[3] = {sc->q_w, sc->k_w, sc->v_w}, *bn[3] = {sc->q_b, sc->k_b, sc->v_b};
        const int64_t eW[2] = {D, D};
        int           j;
        IGQ_TRY(linear_alloc(L, &b->qkv, 3 * D, D, NULL));
        b->qkv.b = (float *)igq__calloc((size_t)3 * D, sizeof(float));
        IGQ_CHECK(b->qkv.b != NULL, IGQ_ERR_NO_MEMORY, "out of memory");
        for (j = 0; j < 3; j++) {
            char                 name[IGQ__CKPT_NAME_CAP];
            const igq_st_tensor *t;
            IGQ_TRY(find_param(L, pre, wn[j], 1, 2, eW, NULL, &t, name));
            IGQ_TRY(weight_into(L, t, D, &b->qkv, j * D));
            IGQ_TRY(find_param(L, pre, bn[j], 0, 1, vD, NULL, &t, name));
            if (t != NULL) IGQ_TRY(igq__st_read_f32(L->st, t, b->qkv.b + (size_t)j * D, D));
        }
    }
    IGQ_TRY(read_linear(L, pre, sc->proj_w, sc->proj_b, D, D, &b->proj));
    IGQ_TRY(read_param(L, pre, sc->ln2_w, 1, 1, vD, NULL, &b->ln2_w));
    IGQ_TRY(read_param(L, pre, sc->ln2_b, 1, 1, vD, NULL, &b->ln2_b));
    /* The MLP width comes from block 0; every later block must agree. */
    IGQ_TRY(read_linear(L, pre, sc->fc1_w, sc->fc1_b, bi == 0 ? -1 : d->mlp, D, &b->fc1));
    if (bi == 0) d->mlp = b->fc1.out;
    IGQ_TRY(read_linear(L, pre, sc->fc2_w, sc->fc2_b, D, d->mlp, &b->fc2));
    IGQ_TRY(read_param(L, pre, sc->ls1, 0, 1, vD, NULL, &b->ls1));
    IGQ_TRY(read_param(L, pre, sc->ls2, 0, 1, vD, NULL, &b->ls2));
    return IGQ_OK;
}

static int32_t isqrt_exact(int64_t n)
{
    int64_t r = (int64_t)floor(sqrt((double)n) + 0.5);
    return (r * r == n) ? (int32_t)r : -1;
}

/* The model run at the image size of the load options: the patch grid's position embeddings
 * resampled as the family's own code does (timm: antialiased bicubic; Hugging Face: bicubic;
 * torchvision: bicubic with aligned corners), the prefix tokens' kept. */
static igq_status resize_grid(const igq__ckpt_loader *L)
{
    struct igq_model *m = L->m;
    igq_vit_dims     *d = &m->d;
    const int32_t     H = L->opts->img_h, W = L->opts->img_w, P = d->patch;
    const int64_t     D = d->dim, np = d->pos_has_prefix ? d->n_prefix : 0;
    int64_t           nh, nw;
    float            *pos;
    igq__pos_method   method = d->naming == IGQ_NAMING_HF            ? IGQ__POS_TORCH_BICUBIC
                               : d->naming == IGQ_NAMING_TORCHVISION ? IGQ__POS_TORCH_BICUBIC_CORNERS
                                                                     : IGQ__POS_TORCH_BICUBIC_AA;
    IGQ_CHECK(H % P == 0 && W % P == 0, IGQ_ERR_INVALID_ARGUMENT,
              "%s: load option image size %dx%d is not a multiple of the patch %d", L->path,
              (int)H, (int)W, (int)P);
    nh = H / P, nw = W / P;
    if (nh == d->grid_h && nw == d->grid_w) return IGQ_OK;
    IGQ_CHECK(nh * nw <= (int64_t)1 << 20, IGQ_ERR_INVALID_ARGUMENT,
              "%s: load option image size %dx%d with patch %d gives more than 2^20 patches",
              L->path, (int)H, (int)W, (int)P);
    IGQ_CHECK(nh * 64 >= d->grid_h && nw * 64 >= d->grid_w, IGQ_ERR_INVALID_ARGUMENT,
              "%s: load option image size %dx%d shrinks the %dx%d patch grid more than 64 times",
              L->path, (int)H, (int)W, (int)d->grid_h, (int)d->grid_w);
    pos = (float *)igq__malloc((size_t)((np + nh * nw) * D) * sizeof(float));
    IGQ_CHECK(pos != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", L->path);
    memcpy(pos, m->pos, (size_t)(np * D) * sizeof(float));
    {
        igq_status s = igq__pos_resample(method, m->pos + np * D, d->grid_h, d->grid_w, nh, nw, D,
                                         pos + np * D);
        if (s != IGQ_OK) {
            igq__free(pos);
            return s;
        }
    }
    igq__free(m->pos);
    m->pos       = pos;
    d->trained_h = d->img_h;
    d->trained_w = d->img_w;
    d->img_h     = H;
    d->img_w     = W;
    d->grid_h    = (int32_t)nh;
    d->grid_w    = (int32_t)nw;
    d->n_patches = (int32_t)(nh * nw);
    d->n_tokens  = d->n_patches + d->n_prefix;
    return IGQ_OK;
}

/* Prefix tokens (class, distillation, registers) and the position embedding → token layout
 * and image size. */
static igq_status read_tokens(const igq__ckpt_loader *L)
{
    struct igq_model       *m = L->m;
    igq_vit_dims           *d = &m->d;
    const igq__ckpt_scheme *sc = L->sc;
    const int64_t           e3[3] = {1, 1, d->dim}, eR[3] = {1, -1, d->dim};
    const int64_t           eP[3] = {1, -1, d->dim};
    float                  *cls = NULL, *dist = NULL, *reg = NULL;
    int64_t                 gotR[3] = {0, 0, 0}, gotP[3];
    int32_t                 n_reg = 0, dh, dw, n_pos;
    igq_status              s;

    s = read_param(L, NULL, sc->cls, 0, 3, e3, NULL, &cls);
    if (s == IGQ_OK) s = read_param(L, NULL, sc->dist, 0, 3, e3, NULL, &dist);
    if (s == IGQ_OK) s = read_param(L, NULL, sc->reg, 0, 3, eR, gotR, &reg);
    if (s == IGQ_OK && reg != NULL) n_reg = (int32_t)gotR[1];
    if (s == IGQ_OK && dist != NULL && cls == NULL)
        s = igq__set_error(IGQ_ERR_FORMAT, "%s: distillation token without a class token", L->path);
    if (s == IGQ_OK) {
        d->n_prefix = (cls ? 1 : 0) + (dist ? 1 : 0) + n_reg;
        d->has_dist = dist != NULL;
        if (d->n_prefix > 0) {
            m->prefix = (float *)igq__malloc((size_t)d->n_prefix * d->dim * sizeof(float));
            if (m->prefix == NULL) s = igq__set_error(IGQ_ERR_NO_MEMORY, "out of memory");
        }
    }
    if (s == IGQ_OK) {
        float *p = m->prefix;
        if (cls) memcpy(p, cls, (size_t)d->dim * sizeof(float)), p += d->dim;
        if (dist) memcpy(p, dist, (size_t)d->dim * sizeof(float)), p += d->dim;
        if (reg) memcpy(p, reg, (size_t)n_reg * d->dim * sizeof(float));
    }
    igq__free(cls);
    igq__free(dist);
    igq__free(reg);
    IGQ_TRY(s);

    IGQ_TRY(read_param(L, NULL, sc->pos, 1, 3, eP, gotP, &m->pos));
    n_pos = (int32_t)gotP[1];
    IGQ_TRY(igq__ckpt_image_size(L, &dh, &dw));
    if (dh > 0) {
        IGQ_CHECK(dh >= d->patch && dw >= d->patch, IGQ_ERR_SHAPE,
                  "%s: image size %dx%d is smaller than the patch %d", L->path, (int)dh, (int)dw,
                  (int)d->patch);
        /* sides are <= 65536 (ckpt_meta.c), so the patch count needs 64 bits (65536^2) */
        IGQ_CHECK((int64_t)(dh / d->patch) * (dw / d->patch) <= (int64_t)1 << 20, IGQ_ERR_SHAPE,
                  "%s: image size %dx%d with patch %d gives more than 2^20 patches", L->path,
                  (int)dh, (int)dw, (int)d->patch);
        d->img_h  = dh;
        d->img_w  = dw;
        d->grid_h = dh / d->patch;
        d->grid_w = dw / d->patch;
        d->n_patches = d->grid_h * d->grid_w;
        if (n_pos == d->n_patches + d->n_prefix)
            d->pos_has_prefix = d->n_prefix > 0;
        else if (n_pos == d->n_patches)
            d->pos_has_prefix = 0;
        else
            return igq__set_error(IGQ_ERR_SHAPE,
                                  "%s: position embedding has %d tokens, but a %dx%d image with "
                                  "patch %d gives %d patches and %d prefix tokens",
                                  L->path, (int)n_pos, (int)dh, (int)dw, (int)d->patch,
                                  (int)d->n_patches, (int)d->n_prefix);
    } else {
        int32_t side = n_pos > d->n_prefix ? isqrt_exact(n_pos - d->n_prefix) : -1;
        if (side > 0) {
            d->pos_has_prefix = d->n_prefix > 0;
        } else {
            side = isqrt_exact(n_pos);
            IGQ_CHECK(side > 0, IGQ_ERR_SHAPE,
                      "%s: position embedding has %d tokens with %d prefix tokens: not a square "
                      "patch grid; declare image_size metadata ('H,W')",
                      L->path, (int)n_pos, (int)d->n_prefix);
            d->pos_has_prefix = 0;
        }
        d->grid_h = d->grid_w = side;
        d->img_h = d->img_w = side * d->patch;
        d->n_patches        = side * side;
    }
    d->n_tokens = d->n_patches + d->n_prefix;
    if (L->opts != NULL && L->opts->img_h > 0) IGQ_TRY(resize_grid(L));
    return IGQ_OK;
}

static igq_status build(const igq__ckpt_loader *L)
{
    struct igq_model       *m = L->m;
    igq_vit_dims           *d = &m->d;
    const igq__ckpt_scheme *sc = L->sc;
    int64_t                 ePW[4] = {-1, -1, -1, -1}, gotPW[4];
    char                    pname[IGQ__CKPT_NAME_CAP];
    const igq_st_tensor    *pw;
    int32_t                 i;
    igq_status              s;

    d->naming = sc->naming;
    /* Patch embedding: conv weight [D][C][P][P]. */
    IGQ_TRY(find_param(L, NULL, sc->patch_w, 1, 4, ePW, gotPW, &pw, pname));
    d->dim      = (int32_t)gotPW[0];
    d->in_chans = (int32_t)gotPW[1];
    d->patch    = (int32_t)gotPW[2];
    /* Each extent fits int32 (find_param); the inputs of one patch must too. */
    IGQ_CHECK(gotPW[1] * gotPW[2] <= INT32_MAX / gotPW[3], IGQ_ERR_SHAPE,
              "%s: tensor '%s': a %lldx%lldx%lld patch has too many values", L->path, pname,
              (long long)gotPW[1], (long long)gotPW[2], (long long)gotPW[3]);
    /* Read before the squareness check, so that an unreadable dtype is reported first. */
    IGQ_TRY(linear_alloc(L, &m->patch, d->dim, (int32_t)(gotPW[1] * gotPW[2] * gotPW[3]), pname));
    IGQ_TRY(weight_into(L, pw, d->dim, &m->patch, 0));
    IGQ_CHECK(gotPW[2] == gotPW[3], IGQ_ERR_UNSUPPORTED,
              "%s: tensor '%s': non-square %lldx%lld patches", L->path, sc->patch_w,
              (long long)gotPW[2], (long long)gotPW[3]);
    {
        const int64_t vD[1] = {d->dim};
        IGQ_TRY(read_param(L, NULL, sc->patch_b, 0, 1, vD, NULL, &m->patch.b));
        if (m->patch.b == NULL) m->patch.b = (float *)igq__calloc((size_t)d->dim, sizeof(float));
        IGQ_CHECK(m->patch.b != NULL, IGQ_ERR_NO_MEMORY, "out of memory");
    }
    IGQ_TRY(read_tokens(L));

    IGQ_TRY(igq__ckpt_count_blocks(L, &d->depth));
    m->blocks = (igq_block *)igq__calloc((size_t)d->depth, sizeof(igq_block));
    IGQ_CHECK(m->blocks != NULL, IGQ_ERR_NO_MEMORY, "out of memory");
    for (i = 0; i < d->depth; i++) {
        s = read_block(L, i);
        if (s == IGQ_ERR_FORMAT && i < d->depth - 1) {
            char depth_note[64];
            snprintf(depth_note, sizeof depth_note, "inconsistent depth (%d blocks by index)",
                     (int)d->depth);
            igq__error_prefix(depth_note);
        }
        IGQ_TRY(s);
    }

    {
        const int64_t vD[1] = {d->dim};
        IGQ_TRY(read_param(L, NULL, sc->norm_w, 0, 1, vD, NULL, &m->norm_w));
        IGQ_TRY(read_param(L, NULL, sc->norm_b, m->norm_w != NULL, 1, vD, NULL, &m->norm_b));
        IGQ_TRY(read_param(L, NULL, sc->fc_norm_w, 0, 1, vD, NULL, &m->fc_norm_w));
        IGQ_TRY(read_param(L, NULL, sc->fc_norm_b, m->fc_norm_w != NULL, 1, vD, NULL,
                           &m->fc_norm_b));
        IGQ_CHECK(m->norm_w != NULL || m->fc_norm_w != NULL, IGQ_ERR_FORMAT,
                  "%s: missing tensor '%s' (final LayerNorm)", L->path, sc->norm_w);
    }
    d->pool = (m->fc_norm_w != NULL || d->n_prefix == 0) ? IGQ_POOL_MEAN : IGQ_POOL_TOKEN;
    IGQ_CHECK(!(d->has_dist && d->pool == IGQ_POOL_MEAN), IGQ_ERR_UNSUPPORTED,
              "%s: distillation token with mean pooling", L->path);

    {
        /* No classifier (timm num_classes=0, DINOv2, a bare encoder): 0 classes, embeddings
         * only (igq_run_features); a bias without its weight is malformed. */
        char name[IGQ__CKPT_NAME_CAP], wname[IGQ__CKPT_NAME_CAP];
        if (igq__ckpt_find(L, NULL, sc->head_w, wname) == NULL &&
            (sc->head_dist_w == NULL || igq__ckpt_find(L, NULL, sc->head_dist_w, name) == NULL)) {
            IGQ_CHECK(igq__ckpt_find(L, NULL, sc->head_b, name) == NULL, IGQ_ERR_FORMAT,
                      "%s: tensor '%s' without its classifier weight: missing tensor '%s'",
                      L->path, name, wname);
            d->classes = 0;
            IGQ_TRY(igq__ckpt_check_unused(L));
            return igq__ckpt_resolve_meta(L);
        }
    }
    IGQ_TRY(read_linear(L, NULL, sc->head_w, sc->head_b, -1, d->dim, &m->head));
    d->classes = m->head.out;
    if (d->has_dist) {
        IGQ_CHECK(sc->head_dist_w != NULL, IGQ_ERR_FORMAT,
                  "%s: distillation token but the naming has no distillation head", L->path);
        IGQ_TRY(read_linear(L, NULL, sc->head_dist_w, sc->head_dist_b, d->classes, d->dim,
                            &m->head_dist));
    } else {
        char name[IGQ__CKPT_NAME_CAP];
        IGQ_CHECK(igq__ckpt_find(L, NULL, sc->head_dist_w, name) == NULL, IGQ_ERR_FORMAT,
                  "%s: tensor '%s' without a distillation token", L->path, name);
    }
    IGQ_TRY(igq__ckpt_check_unused(L));
    return igq__ckpt_resolve_meta(L);
}

/* The tensor table of a safetensors file or a torch.save archive, told apart by content. */
static igq_status open_tensors(const char *path, igq_safetensors **st)
{
    igq_map    map;
    igq_status s;
    int        pickle;
    IGQ_TRY(igq__map_file(path, &map));
    if (igq__pth_is_zip(map.data, map.size)) return igq__pth_parse_map(&map, path, st);
    if (igq__pth_is_legacy(map.data, map.size)) {
        s = igq__pth_refuse_pickle(map.data, map.size, path);
        igq__map_release(&map);
        return s;
    }
    /* A safetensors header length may begin with the bytes a pickle does: a file that starts
     * like a pickle is said to be one only if it is not valid safetensors. */
    pickle = igq__pth_is_pickle(map.data, map.size);
    s      = igq__st_parse_map(&map, path, st);
    if (s == IGQ_ERR_FORMAT && pickle) s = igq__pth_refuse_pickle(NULL, 0, path);
    return s;
}

igq_status igq__checkpoint_load(const char *path, const igq__load_opts *opts,
                                struct igq_model **out)
{
    igq__ckpt_loader L;
    igq_status       s;
    *out = NULL;
    memset(&L, 0, sizeof L);
    L.path = path;
    L.opts = opts;
    IGQ_TRY(open_tensors(path, &L.st));
    s = igq__ckpt_detect_scheme(&L);
    if (s == IGQ_OK && L.st->count > 0) {
        L.used = (unsigned char *)igq__calloc(L.st->count, 1);
        if (L.used == NULL) s = igq__set_error(IGQ_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    if (s == IGQ_OK) s = igq__ckpt_open_configs(&L);
    if (s == IGQ_OK) {
        L.m = (struct igq_model *)igq__calloc(1, sizeof *L.m);
        s   = L.m != NULL ? build(&L) : igq__set_error(IGQ_ERR_NO_MEMORY, "out of memory");
    }
    if (s == IGQ_OK) { /* provenance, for igq_model_save */
        const size_t n = strlen(path) + 1;
        L.m->src_size  = (int64_t)L.st->file_size;
        L.m->src_name  = (char *)igq__malloc(n);
        if (L.m->src_name != NULL)
            memcpy(L.m->src_name, path, n);
        else
            s = igq__set_error(IGQ_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    igq__ckpt_close_configs(&L);
    igq__free(L.used);
    igq__st_close(L.st);
    if (s == IGQ_OK)
        *out = L.m;
    else
        igq__model_destroy(L.m);
    return s;
}
