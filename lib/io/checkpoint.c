/* Checkpoint loading: maps timm, Hugging Face and torchvision ViT/DeiT tensor names onto the
 * canonical graph (model/vit.h), infers the architecture from the shapes and reads what
 * shapes cannot say from metadata, a config.json beside the file, or defaults.
 *
 * Order of sources for heads / LayerNorm eps / mean, std / image size:
 *   1. safetensors __metadata__: num_heads, layer_norm_eps, mean, std, image_size ("H,W")
 *   2. <dir>/config.json: num_attention_heads | num_heads | model_args.num_heads,
 *      layer_norm_eps, image_size (int or [H, W]) | pretrained_cfg.input_size [C, H, W],
 *      pretrained_cfg.mean/std | mean/std; then <dir>/preprocessor_config.json image_mean/std
 *   3. defaults: head dim 64; eps 1e-6 (timm, torchvision) or 1e-12 (Hugging Face);
 *      square image from the position embedding; mean/std unknown.
 * Tensors the graph does not use (e.g. a pooler) are ignored. */
#include "checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "file.h"
#include "json.h"
#include "safetensors.h"

#define NAME_CAP 256

/* One naming scheme. Block names are prefix + index + '.' + suffix. A NULL entry means the
 * scheme has no such tensor; "a|b" lists accepted alternatives (first match wins). */
typedef struct scheme {
    const char *label;
    igq_naming  naming;
    const char *cls, *dist, *reg, *pos, *patch_w, *patch_b;
    const char *norm_w, *norm_b, *fc_norm_w, *fc_norm_b;
    const char *head_w, *head_b, *head_dist_w, *head_dist_b;
    const char *block_prefix;
    const char *ln1_w, *ln1_b, *qkv_w, *qkv_b;
    const char *q_w, *q_b, *k_w, *k_b, *v_w, *v_b; /* separate projections (HF) */
    const char *proj_w, *proj_b, *ln2_w, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b, *ls1, *ls2;
} scheme;

static const scheme SCHEME_TIMM = {
    "timm", IGQ_NAMING_TIMM,
    "cls_token", "dist_token", "reg_token", "pos_embed", "patch_embed.proj.weight",
    "patch_embed.proj.bias", "norm.weight", "norm.bias", "fc_norm.weight", "fc_norm.bias",
    "head.weight|head.fc.weight", "head.bias|head.fc.bias", "head_dist.weight", "head_dist.bias",
    "blocks.",
    "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias",
    NULL, NULL, NULL, NULL, NULL, NULL,
    "attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
    "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias",
    "ls1.gamma|gamma_1", "ls2.gamma|gamma_2"};

/* Hugging Face: ViTForImageClassification ("vit.") and DeiT ("deit.") share one layout. */
#define HF_SCHEME(P, HEAD_W, HEAD_B, HD_W, HD_B)                                              \
    {"Hugging Face", IGQ_NAMING_HF,                                                          \
     P "embeddings.cls_token", P "embeddings.distillation_token", NULL,                      \
     P "embeddings.position_embeddings", P "embeddings.patch_embeddings.projection.weight",  \
     P "embeddings.patch_embeddings.projection.bias", P "layernorm.weight",                  \
     P "layernorm.bias", NULL, NULL, HEAD_W, HEAD_B, HD_W, HD_B,                             \
     P "encoder.layer.",                                                                     \
     "layernorm_before.weight", "layernorm_before.bias", NULL, NULL,                         \
     "attention.attention.query.weight", "attention.attention.query.bias",                   \
     "attention.attention.key.weight", "attention.attention.key.bias",                       \
     "attention.attention.value.weight", "attention.attention.value.bias",                   \
     "attention.output.dense.weight", "attention.output.dense.bias",                         \
     "layernorm_after.weight", "layernorm_after.bias",                                       \
     "intermediate.dense.weight", "intermediate.dense.bias",                                 \
     "output.dense.weight", "output.dense.bias", NULL, NULL}

static const scheme SCHEME_HF_VIT =
    HF_SCHEME("vit.", "classifier.weight", "classifier.bias", NULL, NULL);
static const scheme SCHEME_HF_DEIT =
    HF_SCHEME("deit.", "cls_classifier.weight|classifier.weight",
              "cls_classifier.bias|classifier.bias", "distillation_classifier.weight",
              "distillation_classifier.bias");

static const scheme SCHEME_TV = {
    "torchvision", IGQ_NAMING_TORCHVISION,
    "class_token", NULL, NULL, "encoder.pos_embedding", "conv_proj.weight", "conv_proj.bias",
    "encoder.ln.weight", "encoder.ln.bias", NULL, NULL, "heads.head.weight", "heads.head.bias",
    NULL, NULL,
    "encoder.layers.encoder_layer_",
    "ln_1.weight", "ln_1.bias", "self_attention.in_proj_weight", "self_attention.in_proj_bias",
    NULL, NULL, NULL, NULL, NULL, NULL,
    "self_attention.out_proj.weight", "self_attention.out_proj.bias", "ln_2.weight", "ln_2.bias",
    "mlp.0.weight|mlp.linear_1.weight", "mlp.0.bias|mlp.linear_1.bias",
    "mlp.3.weight|mlp.linear_2.weight", "mlp.3.bias|mlp.linear_2.bias", NULL, NULL};

typedef struct loader {
    const char       *path;
    igq_safetensors  *st;
    const scheme     *sc;
    igq_json         *config;      /* config.json beside the file, or NULL */
    igq_json         *preproc;     /* preprocessor_config.json, or NULL */
    const char       *config_path; /* for messages */
    char              config_buf[1024];
    struct igq_model *m;
} loader;

/* ---- small helpers ------------------------------------------------------------------------- */

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

/* Finds the first existing alternative of an "a|b" pattern (with an optional block prefix). */
static const igq_st_tensor *find_alt(const loader *L, const char *prefix, const char *pattern,
                                     char *name_out)
{
    const char *p = pattern;
    if (pattern == NULL) return NULL;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t      len = bar ? (size_t)(bar - p) : strlen(p);
        const igq_st_tensor *t;
        snprintf(name_out, NAME_CAP, "%s%.*s", prefix ? prefix : "", (int)len, p);
        t = igq__st_find(L->st, name_out);
        if (t != NULL) return t;
        if (!bar) break;
        p = bar + 1;
    }
    /* Report the first alternative as the missing name. */
    {
        const char *bar = strchr(pattern, '|');
        size_t      len = bar ? (size_t)(bar - pattern) : strlen(pattern);
        snprintf(name_out, NAME_CAP, "%s%.*s", prefix ? prefix : "", (int)len, pattern);
    }
    return NULL;
}

/* Reads a tensor as f32 after checking its shape. expect[i] < 0 accepts any extent (the real
 * one is returned in got[]). Missing and required: IGQ_ERR_FORMAT. Missing and optional:
 * IGQ_OK with *out == NULL. */
static igq_status read_param(loader *L, const char *prefix, const char *pattern, int required,
                             int32_t ndim, const int64_t *expect, int64_t *got, float **out)
{
    char                 name[NAME_CAP], want[128], have[128];
    const igq_st_tensor *t;
    int32_t              i;
    int                  ok;
    float               *buf;
    *out = NULL;
    t    = find_alt(L, prefix, pattern, name);
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
    buf = (float *)igq__malloc((size_t)t->numel * sizeof(float));
    IGQ_CHECK(buf != NULL, IGQ_ERR_NO_MEMORY, "%s: tensor '%s': out of memory", L->path, name);
    {
        igq_status s = igq__st_read_f32(L->st, t, buf, t->numel);
        if (s != IGQ_OK) {
            igq__free(buf);
            return s;
        }
    }
    *out = buf;
    return IGQ_OK;
}

/* Reads a [out][in] weight (optionally from three row blocks) into l->wt = [in][out]. */
static igq_status linear_from(igq_linear *l, const float *w_oi, int32_t out, int32_t in)
{
    int32_t o, i;
    l->out = out;
    l->in  = in;
    l->wt  = (float *)igq__malloc((size_t)out * in * sizeof(float));
    IGQ_CHECK(l->wt != NULL, IGQ_ERR_NO_MEMORY, "out of memory");
    for (o = 0; o < out; o++)
        for (i = 0; i < in; i++) l->wt[(size_t)i * out + o] = w_oi[(size_t)o * in + i];
    return IGQ_OK;
}

/* Linear layer with weight [out][in] (out/in < 0: any) and optional bias [out]. */
static igq_status read_linear(loader *L, const char *prefix, const char *wname, const char *bname,
                              int32_t out, int32_t in, igq_linear *l)
{
    int64_t    e[2] = {out, in}, got[2];
    float     *w = NULL, *b = NULL;
    igq_status s;
    IGQ_TRY(read_param(L, prefix, wname, 1, 2, e, got, &w));
    s = linear_from(l, w, (int32_t)got[0], (int32_t)got[1]);
    igq__free(w);
    IGQ_TRY(s);
    {
        int64_t eb[1] = {got[0]};
        IGQ_TRY(read_param(L, prefix, bname, 0, 1, eb, NULL, &b));
    }
    if (b == NULL) b = (float *)igq__calloc((size_t)got[0], sizeof(float));
    IGQ_CHECK(b != NULL, IGQ_ERR_NO_MEMORY, "out of memory");
    l->b = b;
    return IGQ_OK;
}

/* ---- metadata and config.json ------------------------------------------------------------- */

static const char *meta(const loader *L, const char *key) { return igq__st_metadata(L->st, key); }

/* Parses "a,b,c" (spaces allowed) into at most cap floats; returns the count or -1. */
static int parse_floats(const char *s, float *out, int cap)
{
    int n = 0;
    while (*s) {
        char  *end;
        double v;
        while (*s == ' ' || *s == '[') s++;
        if (*s == '\0' || *s == ']') break;
        errno = 0;
        v     = strtod(s, &end);
        if (end == s || errno != 0 || !isfinite(v) || n >= cap) return -1;
        out[n++] = (float)v;
        s        = end;
        while (*s == ' ' || *s == ']') s++;
        if (*s == ',') s++;
        else if (*s != '\0') return -1;
    }
    return n;
}

static const igq_json *cfg_path(const igq_json *root, const char *a, const char *b)
{
    const igq_json *v = igq__json_get(root, a);
    if (v != NULL && b != NULL) v = igq__json_get(v, b);
    return v;
}

static igq_status load_json_beside(loader *L, const char *fname, igq_json **out, char *pathbuf,
                                   size_t cap)
{
    const char    *slash = strrchr(L->path, '/');
    unsigned char *buf;
    size_t         size;
    igq_status     s;
    *out = NULL;
    if (slash != NULL)
        snprintf(pathbuf, cap, "%.*s/%s", (int)(slash - L->path), L->path, fname);
    else
        snprintf(pathbuf, cap, "%s", fname);
    if (!igq__file_exists(pathbuf)) return IGQ_OK;
    IGQ_TRY(igq__read_file(pathbuf, &buf, &size));
    s = igq__json_parse((const char *)buf, size, out);
    igq__free(buf);
    if (s != IGQ_OK) {
        igq__error_prefix(pathbuf);
        return s;
    }
    if ((*out)->type != IGQ_JSON_OBJECT) {
        igq__json_free(*out);
        *out = NULL;
        return igq__set_error(IGQ_ERR_FORMAT, "%s: not a JSON object", pathbuf);
    }
    return IGQ_OK;
}

/* A positive integer from a JSON number; -1 if absent, -2 if malformed. */
static int64_t json_pos_int(const igq_json *v)
{
    if (v == NULL) return -1;
    if (v->type != IGQ_JSON_NUMBER || !v->is_integer || v->integer <= 0 || v->integer > INT32_MAX)
        return -2;
    return v->integer;
}

/* Reads a JSON array of numbers into out; returns count or -1. */
static int json_floats(const igq_json *v, float *out, int cap)
{
    size_t i;
    if (v == NULL || v->type != IGQ_JSON_ARRAY || v->count > (size_t)cap) return -1;
    for (i = 0; i < v->count; i++) {
        if (v->items[i].type != IGQ_JSON_NUMBER) return -1;
        out[i] = (float)v->items[i].number;
    }
    return (int)v->count;
}

static igq_status resolve_heads(loader *L)
{
    igq_vit_dims *d = &L->m->d;
    const char   *s = meta(L, "num_heads");
    int64_t       heads = -1;
    if (s != NULL) {
        char *end;
        long  v;
        errno = 0;
        v     = strtol(s, &end, 10);
        IGQ_CHECK(end != s && *end == '\0' && errno == 0 && v > 0 && v <= 4096, IGQ_ERR_FORMAT,
                  "%s: metadata num_heads '%s' is not a positive integer", L->path, s);
        heads = v;
    } else if (L->config != NULL) {
        static const char *const keys[][2] = {
            {"num_attention_heads", NULL}, {"num_heads", NULL}, {"model_args", "num_heads"}};
        size_t k;
        for (k = 0; k < 3 && heads < 0; k++) {
            const igq_json *v = cfg_path(L->config, keys[k][0], keys[k][1]);
            heads             = json_pos_int(v);
            IGQ_CHECK(heads != -2, IGQ_ERR_FORMAT, "%s: '%s' is not a positive integer",
                      L->config_path, keys[k][1] ? keys[k][1] : keys[k][0]);
        }
    }
    if (heads < 0) {
        IGQ_CHECK(d->dim % 64 == 0, IGQ_ERR_FORMAT,
                  "%s: number of heads unknown: embed dim %d is not a multiple of the default "
                  "head dim 64; add a num_heads metadata entry or a config.json",
                  L->path, (int)d->dim);
        heads = d->dim / 64;
    }
    IGQ_CHECK(d->dim % heads == 0, IGQ_ERR_FORMAT,
              "%s: %lld heads do not divide embed dim %d", L->path, (long long)heads, (int)d->dim);
    d->heads    = (int32_t)heads;
    d->head_dim = d->dim / d->heads;
    return IGQ_OK;
}

static igq_status resolve_eps(loader *L)
{
    igq_vit_dims *d = &L->m->d;
    const char   *s = meta(L, "layer_norm_eps");
    d->ln_eps       = d->naming == IGQ_NAMING_HF ? 1e-12f : 1e-6f;
    if (s != NULL) {
        char  *end;
        double v;
        errno = 0;
        v     = strtod(s, &end);
        IGQ_CHECK(end != s && *end == '\0' && errno == 0 && v >= 0.0 && v < 1.0, IGQ_ERR_FORMAT,
                  "%s: metadata layer_norm_eps '%s' is not a number in [0, 1)", L->path, s);
        d->ln_eps = (float)v;
    } else if (L->config != NULL) {
        const igq_json *v = igq__json_get(L->config, "layer_norm_eps");
        if (v != NULL) {
            IGQ_CHECK(v->type == IGQ_JSON_NUMBER && v->number >= 0.0 && v->number < 1.0,
                      IGQ_ERR_FORMAT, "%s: layer_norm_eps is not a number in [0, 1)",
                      L->config_path);
            d->ln_eps = (float)v->number;
        }
    }
    return IGQ_OK;
}

static igq_status set_norm_stats(loader *L, const float *mean, int nm, const float *std, int ns,
                                 const char *where)
{
    struct igq_model *m = L->m;
    int32_t           C = m->d.in_chans, c;
    IGQ_CHECK((nm == C || nm == 1) && (ns == C || ns == 1), IGQ_ERR_FORMAT,
              "%s: mean/std have %d/%d values for %d input channels", where, nm, ns, (int)C);
    m->mean = (float *)igq__malloc((size_t)C * sizeof(float));
    m->std  = (float *)igq__malloc((size_t)C * sizeof(float));
    IGQ_CHECK(m->mean != NULL && m->std != NULL, IGQ_ERR_NO_MEMORY, "out of memory");
    for (c = 0; c < C; c++) {
        m->mean[c] = mean[nm == 1 ? 0 : c];
        m->std[c]  = std[ns == 1 ? 0 : c];
        IGQ_CHECK(m->std[c] > 0.0f, IGQ_ERR_FORMAT, "%s: std must be positive", where);
    }
    m->has_norm_stats = 1;
    return IGQ_OK;
}

static igq_status resolve_norm_stats(loader *L)
{
    float       mean[64], std[64];
    int         nm, ns;
    const char *sm = meta(L, "mean"), *ss = meta(L, "std");
    if (sm != NULL || ss != NULL) {
        IGQ_CHECK(sm != NULL && ss != NULL, IGQ_ERR_FORMAT,
                  "%s: metadata has only one of mean and std", L->path);
        nm = parse_floats(sm, mean, 64);
        ns = parse_floats(ss, std, 64);
        IGQ_CHECK(nm > 0 && ns > 0, IGQ_ERR_FORMAT,
                  "%s: metadata mean '%s' / std '%s' are not comma-separated numbers", L->path, sm,
                  ss);
        return set_norm_stats(L, mean, nm, std, ns, L->path);
    }
    if (L->config != NULL) {
        const igq_json *jm = cfg_path(L->config, "pretrained_cfg", "mean");
        const igq_json *js = cfg_path(L->config, "pretrained_cfg", "std");
        if (jm == NULL) jm = igq__json_get(L->config, "mean");
        if (js == NULL) js = igq__json_get(L->config, "std");
        if (jm != NULL || js != NULL) {
            nm = json_floats(jm, mean, 64);
            ns = json_floats(js, std, 64);
            IGQ_CHECK(nm > 0 && ns > 0, IGQ_ERR_FORMAT,
                      "%s: mean/std must both be arrays of numbers", L->config_path);
            return set_norm_stats(L, mean, nm, std, ns, L->config_path);
        }
    }
    if (L->preproc != NULL) {
        const igq_json *jm = igq__json_get(L->preproc, "image_mean");
        const igq_json *js = igq__json_get(L->preproc, "image_std");
        if (jm != NULL || js != NULL) {
            nm = json_floats(jm, mean, 64);
            ns = json_floats(js, std, 64);
            IGQ_CHECK(nm > 0 && ns > 0, IGQ_ERR_FORMAT,
                      "preprocessor_config.json: image_mean/image_std must be arrays of numbers");
            return set_norm_stats(L, mean, nm, std, ns, "preprocessor_config.json");
        }
    }
    return IGQ_OK;
}

/* Declared image size: (0, 0) when nothing declares it. */
static igq_status declared_image_size(loader *L, int32_t *h, int32_t *w)
{
    const char *s = meta(L, "image_size");
    *h = *w = 0;
    if (s != NULL) {
        float v[2];
        int   n = parse_floats(s, v, 2);
        IGQ_CHECK(n >= 1 && v[0] >= 1.0f && v[n - 1] >= 1.0f && v[0] <= 65536.0f &&
                      v[n - 1] <= 65536.0f && v[0] == floorf(v[0]) && v[n - 1] == floorf(v[n - 1]),
                  IGQ_ERR_FORMAT, "%s: metadata image_size '%s' is not 'H,W' or 'S'", L->path, s);
        *h = (int32_t)v[0];
        *w = (int32_t)v[n - 1];
        return IGQ_OK;
    }
    if (L->config != NULL) {
        const igq_json *v = igq__json_get(L->config, "image_size");
        const igq_json *in = cfg_path(L->config, "pretrained_cfg", "input_size");
        float           f[3];
        if (v != NULL && v->type == IGQ_JSON_NUMBER) {
            int64_t s1 = json_pos_int(v);
            IGQ_CHECK(s1 > 0, IGQ_ERR_FORMAT, "%s: image_size is not a positive integer",
                      L->config_path);
            *h = *w = (int32_t)s1;
        } else if (v != NULL) {
            int n = json_floats(v, f, 2);
            IGQ_CHECK(n == 2 && f[0] >= 1 && f[1] >= 1, IGQ_ERR_FORMAT,
                      "%s: image_size must be an integer or [H, W]", L->config_path);
            *h = (int32_t)f[0];
            *w = (int32_t)f[1];
        } else if (in != NULL) {
            int n = json_floats(in, f, 3);
            IGQ_CHECK(n == 3 && f[1] >= 1 && f[2] >= 1, IGQ_ERR_FORMAT,
                      "%s: pretrained_cfg.input_size must be [C, H, W]", L->config_path);
            *h = (int32_t)f[1];
            *w = (int32_t)f[2];
        }
    }
    return IGQ_OK;
}

/* ---- architecture -------------------------------------------------------------------------- */

static const scheme *detect_scheme(const igq_safetensors *st)
{
    static const scheme *const all[] = {&SCHEME_TIMM, &SCHEME_HF_VIT, &SCHEME_HF_DEIT, &SCHEME_TV};
    size_t                     i;
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *pw = all[i]->patch_w;
        if (igq__st_find(st, pw) != NULL) return all[i];
    }
    return NULL;
}

/* Number of blocks: 1 + the largest index N in names "<block_prefix>N.<...>"; every index
 * below it must be present (checked when the block's tensors are read). */
static igq_status count_blocks(loader *L, int32_t *depth)
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

static igq_status read_block(loader *L, int32_t bi)
{
    struct igq_model *m = L->m;
    igq_vit_dims     *d = &m->d;
    igq_block        *b = &m->blocks[bi];
    const scheme     *sc = L->sc;
    char              pre[NAME_CAP];
    const int64_t     vD[1] = {d->dim};
    const int32_t     D = d->dim;
    snprintf(pre, sizeof pre, "%s%d.", sc->block_prefix, (int)bi);

    IGQ_TRY(read_param(L, pre, sc->ln1_w, 1, 1, vD, NULL, &b->ln1_w));
    IGQ_TRY(read_param(L, pre, sc->ln1_b, 1, 1, vD, NULL, &b->ln1_b));
    if (sc->qkv_w != NULL) {
        IGQ_TRY(read_linear(L, pre, sc->qkv_w, sc->qkv_b, 3 * D, D, &b->qkv));
    } else {
        /* Separate q, k, v projections: stack them as rows [q; k; v] of one [3D][D] weight. */
        const char *wn[3] = {sc->q_w, sc->k_w, sc->v_w}, *bn[3] = {sc->q_b, sc->k_b, sc->v_b};
        const int64_t eW[2] = {D, D};
        float        *w3 = (float *)igq__malloc((size_t)3 * D * D * sizeof(float));
        float        *b3 = (float *)igq__calloc((size_t)3 * D, sizeof(float));
        igq_status    s = (w3 && b3) ? IGQ_OK : igq__set_error(IGQ_ERR_NO_MEMORY, "out of memory");
        int           j;
        for (j = 0; j < 3 && s == IGQ_OK; j++) {
            float *tmp = NULL;
            s = read_param(L, pre, wn[j], 1, 2, eW, NULL, &tmp);
            if (s == IGQ_OK) memcpy(w3 + (size_t)j * D * D, tmp, (size_t)D * D * sizeof(float));
            igq__free(tmp);
            tmp = NULL;
            if (s == IGQ_OK) s = read_param(L, pre, bn[j], 0, 1, vD, NULL, &tmp);
            if (s == IGQ_OK && tmp != NULL) memcpy(b3 + (size_t)j * D, tmp, (size_t)D * sizeof(float));
            igq__free(tmp);
        }
        if (s == IGQ_OK) s = linear_from(&b->qkv, w3, 3 * D, D);
        igq__free(w3);
        if (s != IGQ_OK) {
            igq__free(b3);
            return s;
        }
        b->qkv.b = b3;
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

/* Prefix tokens (class, distillation, registers) and the position embedding → token layout
 * and image size. */
static igq_status read_tokens(loader *L)
{
    struct igq_model *m = L->m;
    igq_vit_dims     *d = &m->d;
    const scheme     *sc = L->sc;
    const int64_t     e3[3] = {1, 1, d->dim}, eR[3] = {1, -1, d->dim}, eP[3] = {1, -1, d->dim};
    float            *cls = NULL, *dist = NULL, *reg = NULL;
    int64_t           gotR[3] = {0, 0, 0}, gotP[3];
    int32_t           n_reg = 0, dh, dw, n_pos;
    igq_status        s;

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
    IGQ_TRY(declared_image_size(L, &dh, &dw));
    if (dh > 0) {
        IGQ_CHECK(dh >= d->patch && dw >= d->patch, IGQ_ERR_SHAPE,
                  "%s: image size %dx%d is smaller than the patch %d", L->path, (int)dh, (int)dw,
                  (int)d->patch);
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
    return IGQ_OK;
}

static igq_status build(loader *L)
{
    struct igq_model *m = L->m;
    igq_vit_dims     *d = &m->d;
    const scheme     *sc = L->sc;
    int64_t           ePW[4] = {-1, -1, -1, -1}, gotPW[4];
    float            *pw = NULL;
    int32_t           i;
    igq_status        s;

    d->naming = sc->naming;
    /* Patch embedding: conv weight [D][C][P][P]. */
    IGQ_TRY(read_param(L, NULL, sc->patch_w, 1, 4, ePW, gotPW, &pw));
    d->dim      = (int32_t)gotPW[0];
    d->in_chans = (int32_t)gotPW[1];
    d->patch    = (int32_t)gotPW[2];
    if (gotPW[2] != gotPW[3]) {
        igq__free(pw);
        return igq__set_error(IGQ_ERR_UNSUPPORTED, "%s: tensor '%s': non-square %lldx%lld patches",
                              L->path, sc->patch_w, (long long)gotPW[2], (long long)gotPW[3]);
    }
    s = linear_from(&m->patch, pw, d->dim, d->in_chans * d->patch * d->patch);
    igq__free(pw);
    IGQ_TRY(s);
    {
        const int64_t vD[1] = {d->dim};
        IGQ_TRY(read_param(L, NULL, sc->patch_b, 0, 1, vD, NULL, &m->patch.b));
        if (m->patch.b == NULL) m->patch.b = (float *)igq__calloc((size_t)d->dim, sizeof(float));
        IGQ_CHECK(m->patch.b != NULL, IGQ_ERR_NO_MEMORY, "out of memory");
    }
    IGQ_TRY(read_tokens(L));

    IGQ_TRY(count_blocks(L, &d->depth));
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

    IGQ_TRY(read_linear(L, NULL, sc->head_w, sc->head_b, -1, d->dim, &m->head));
    d->classes = m->head.out;
    if (d->has_dist) {
        IGQ_CHECK(sc->head_dist_w != NULL, IGQ_ERR_FORMAT,
                  "%s: distillation token but the naming has no distillation head", L->path);
        IGQ_TRY(read_linear(L, NULL, sc->head_dist_w, sc->head_dist_b, d->classes, d->dim,
                            &m->head_dist));
    } else {
        char name[NAME_CAP];
        IGQ_CHECK(find_alt(L, NULL, sc->head_dist_w, name) == NULL, IGQ_ERR_FORMAT,
                  "%s: tensor '%s' without a distillation token", L->path, name);
    }
    if (igq__st_find(L->st, "heads.pre_logits.weight") != NULL)
        return igq__set_error(IGQ_ERR_UNSUPPORTED,
                              "%s: tensor 'heads.pre_logits.weight': a pre-logits layer is not "
                              "supported", L->path);

    IGQ_TRY(resolve_heads(L));
    IGQ_TRY(resolve_eps(L));
    IGQ_TRY(resolve_norm_stats(L));
    return IGQ_OK;
}

igq_status igq__checkpoint_load(const char *path, struct igq_model **out)
{
    loader     L;
    char       pre_path[1024];
    igq_status s;
    *out = NULL;
    memset(&L, 0, sizeof L);
    L.path = path;
    IGQ_TRY(igq__st_open(path, &L.st));
    L.sc = detect_scheme(L.st);
    if (L.sc == NULL) {
        igq__st_close(L.st);
        return igq__set_error(IGQ_ERR_FORMAT,
                              "%s: not a ViT/DeiT checkpoint of a known naming scheme (none of "
                              "'patch_embed.proj.weight', "
                              "'vit.embeddings.patch_embeddings.projection.weight', "
                              "'conv_proj.weight' is present)",
                              path);
    }
    L.config_path = L.config_buf;
    s = load_json_beside(&L, "config.json", &L.config, L.config_buf, sizeof L.config_buf);
    if (s == IGQ_OK)
        s = load_json_beside(&L, "preprocessor_config.json", &L.preproc, pre_path, sizeof pre_path);
    if (s == IGQ_OK) {
        L.m = (struct igq_model *)igq__calloc(1, sizeof *L.m);
        s   = L.m != NULL ? build(&L) : igq__set_error(IGQ_ERR_NO_MEMORY, "out of memory");
    }
    igq__json_free(L.config);
    igq__json_free(L.preproc);
    igq__st_close(L.st);
    if (s != IGQ_OK) {
        igq__model_destroy(L.m);
        return s;
    }
    *out = L.m;
    return IGQ_OK;
}
