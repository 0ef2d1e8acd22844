/* What tensor shapes cannot say about a checkpoint: heads, LayerNorm eps, mean/std and a
 * non-square image size. Sources, first found wins:
 *   1. safetensors __metadata__: num_heads, layer_norm_eps, mean, std, image_size ("H,W")
 *   2. <dir>/config.json: num_attention_heads | num_heads | model_args.num_heads,
 *      layer_norm_eps, image_size (int or [H, W]) | pretrained_cfg.input_size [C, H, W],
 *      pretrained_cfg.mean/std | mean/std; then <dir>/preprocessor_config.json image_mean/std
 *   3. defaults: heads of the published widths (192/3, 384/6, 768/12, 1024/16, 1280/16,
 *      1408/16, 1536/24, 1664/16), else head dim 64; eps 1e-6 (timm, torchvision) or 1e-12
 *      (Hugging Face);
 *      square image from the position embedding; mean/std unknown.
 * The evaluation transform (igq_image_preprocess): metadata interpolation, crop_pct,
 * crop_mode; else config.json pretrained_cfg.interpolation / crop_pct / crop_mode; else
 * preprocessor_config.json do_resize, size, resample, do_center_crop, crop_size, do_rescale,
 * rescale_factor; else the naming scheme's default (lib/model/preproc.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "ckpt_loader.h"
#include "file.h"

/* Most mean/std values a checkpoint may declare. */
#define MAX_STATS 64

static const char *meta(const igq__ckpt_loader *L, const char *key)
{
    return igq__st_metadata(L->st, key);
}

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
        v     = igq__strtod_c(s, &end);
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

/* ---- config files beside the checkpoint --------------------------------------------------- */

static igq_status load_json_beside(const igq__ckpt_loader *L, const char *fname, igq_json **out,
                                   char *pathbuf, size_t cap)
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
    /* a config becomes a JSON tree of up to ~50x its size: cap it (Hugging Face configs with
     * the 21,843 ImageNet-21k labels are under 1 MB) */
    if (size > IGQ__CKPT_CONFIG_MAX) {
        igq__free(buf);
        return igq__set_error(IGQ_ERR_FORMAT, "%s: %zu bytes; a configuration file may have at "
                              "most %u", pathbuf, size, (unsigned)IGQ__CKPT_CONFIG_MAX);
    }
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

igq_status igq__ckpt_open_configs(igq__ckpt_loader *L)
{
    char pre_path[1024];
    L->config_path = L->config_buf;
    IGQ_TRY(load_json_beside(L, "config.json", &L->config, L->config_buf, sizeof L->config_buf));
    return load_json_beside(L, "preprocessor_config.json", &L->preproc, pre_path,
                            sizeof pre_path);
}

void igq__ckpt_close_configs(igq__ckpt_loader *L)
{
    igq__json_free(L->config);
    igq__json_free(L->preproc);
    L->config  = NULL;
    L->preproc = NULL;
}

/* ---- heads, eps, mean/std, image size ----------------------------------------------------- */

static igq_status resolve_heads(const igq__ckpt_loader *L)
{
    igq_vit_dims *d = &L->m->d;
    const char   *s = meta(L, "num_heads");
    int64_t       heads = -1;
    int           declared;
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
    declared = heads > 0;
    if (heads < 0 && L->opts != NULL && L->opts->heads > 0) heads = L->opts->heads;
    if (heads < 0) {
        /* The published ViT/DeiT widths and their heads (timm, torchvision, Hugging Face, DINOv2
         * agree): Ti 192/3, S 384/6, B 768/12, L 1024/16, H 1280/16, g 1408/16, DINOv2-g
         * 1536/24, bigG 1664/16. A head dimension of 64 would give H 20 heads: a different
         * network. Other widths: head dimension 64. */
        static const int32_t known[][2] = {{192, 3},   {384, 6},   {768, 12},  {1024, 16},
                                           {1280, 16}, {1408, 16}, {1536, 24}, {1664, 16}};
        size_t               k;
        for (k = 0; k < sizeof known / sizeof known[0]; k++)
            if (d->dim == known[k][0]) heads = known[k][1];
        if (heads < 0) {
            IGQ_CHECK(d->dim % 64 == 0, IGQ_ERR_FORMAT,
                      "%s: number of heads unknown: embed dim %d is not a published ViT width "
                      "nor a multiple of the default head dim 64; add a num_heads metadata "
                      "entry or a config.json, or pass IGQ_LOAD_NUM_HEADS",
                      L->path, (int)d->dim);
            heads = d->dim / 64;
        }
    }
    if (L->opts != NULL && L->opts->heads > 0) {
        /* the application's count: used where the file says nothing, checked where it does */
        IGQ_CHECK(!declared || heads == L->opts->heads, IGQ_ERR_INVALID_ARGUMENT,
                  "%s: the file declares %lld heads, the load option %d", L->path,
                  (long long)heads, (int)L->opts->heads);
        heads = L->opts->heads;
    }
    IGQ_CHECK(d->dim % heads == 0, IGQ_ERR_FORMAT,
              "%s: %lld heads do not divide embed dim %d", L->path, (long long)heads, (int)d->dim);
    d->heads    = (int32_t)heads;
    d->head_dim = d->dim / d->heads;
    return IGQ_OK;
}

static igq_status resolve_eps(const igq__ckpt_loader *L)
{
    igq_vit_dims *d = &L->m->d;
    const char   *s = meta(L, "layer_norm_eps");
    d->ln_eps       = L->sc->eps > 0.0f ? L->sc->eps : d->naming == IGQ_NAMING_HF ? 1e-12f : 1e-6f;
    if (s != NULL) {
        char  *end;
        double v;
        errno = 0;
        v     = igq__strtod_c(s, &end);
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
    if (L->opts != NULL && L->opts->has_eps) d->ln_eps = L->opts->eps; /* the application's */
    return IGQ_OK;
}

static igq_status set_norm_stats(const igq__ckpt_loader *L, const float *mean, int nm,
                                 const float *std, int ns, const char *where)
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

static igq_status resolve_norm_stats(const igq__ckpt_loader *L)
{
    float       mean[MAX_STATS], std[MAX_STATS];
    int         nm, ns;
    const char *sm = meta(L, "mean"), *ss = meta(L, "std");
    if (L->opts != NULL && L->opts->n_stats > 0) /* the application's, replacing the file's */
        return set_norm_stats(L, L->opts->mean, L->opts->n_stats, L->opts->std,
                              L->opts->n_stats, "load options");
    if (sm != NULL || ss != NULL) {
        IGQ_CHECK(sm != NULL && ss != NULL, IGQ_ERR_FORMAT,
                  "%s: metadata has only one of mean and std", L->path);
        nm = parse_floats(sm, mean, MAX_STATS);
        ns = parse_floats(ss, std, MAX_STATS);
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
            nm = json_floats(jm, mean, MAX_STATS);
            ns = json_floats(js, std, MAX_STATS);
            IGQ_CHECK(nm > 0 && ns > 0, IGQ_ERR_FORMAT,
                      "%s: mean/std must both be arrays of numbers", L->config_path);
            return set_norm_stats(L, mean, nm, std, ns, L->config_path);
        }
    }
    if (L->preproc != NULL) {
        const igq_json *jm = igq__json_get(L->preproc, "image_mean");
        const igq_json *js = igq__json_get(L->preproc, "image_std");
        if (jm != NULL || js != NULL) {
            nm = json_floats(jm, mean, MAX_STATS);
            ns = json_floats(js, std, MAX_STATS);
            IGQ_CHECK(nm > 0 && ns > 0, IGQ_ERR_FORMAT,
                      "preprocessor_config.json: image_mean/image_std must be arrays of numbers");
            return set_norm_stats(L, mean, nm, std, ns, "preprocessor_config.json");
        }
    }
    return IGQ_OK;
}

/* An image side as a config file may state it: an integer in [1, 65536] (checked in floating
 * point, before any conversion to an integer type). */
static int valid_side(double v) { return v >= 1.0 && v <= 65536.0 && v == floor(v); }

igq_status igq__ckpt_image_size(const igq__ckpt_loader *L, int32_t *h, int32_t *w)
{
    const char *s = meta(L, "image_size");
    *h = *w = 0;
    if (s != NULL) {
        float v[2];
        int   n = parse_floats(s, v, 2);
        IGQ_CHECK(n >= 1 && valid_side(v[0]) && valid_side(v[n - 1]), IGQ_ERR_FORMAT, "%s: metadata image_size '%s' is not 'H,W' or 'S'", L->path, s);
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
            IGQ_CHECK(s1 > 0 && s1 <= 65536, IGQ_ERR_FORMAT,
                      "%s: image_size is not an integer in [1, 65536]", L->config_path);
            *h = *w = (int32_t)s1;
        } else if (v != NULL) {
            int n = json_floats(v, f, 2);
            IGQ_CHECK(n == 2 && valid_side(f[0]) && valid_side(f[1]), IGQ_ERR_FORMAT,
                      "%s: image_size must be an integer or [H, W] (integers in [1, 65536])",
                      L->config_path);
            *h = (int32_t)f[0];
            *w = (int32_t)f[1];
        } else if (in != NULL) {
            int n = json_floats(in, f, 3);
            IGQ_CHECK(n == 3 && valid_side(f[1]) && valid_side(f[2]), IGQ_ERR_FORMAT,
                      "%s: pretrained_cfg.input_size must be [C, H, W] (H, W integers in "
                      "[1, 65536])", L->config_path);
            *h = (int32_t)f[1];
            *w = (int32_t)f[2];
        }
    }
    return IGQ_OK;
}

/* Class names from a JSON array of strings (`where` names the source in messages). */
static igq_status labels_from_array(const igq__ckpt_loader *L, const igq_json *v,
                                    const char *where)
{
    const char **names;
    size_t       i;
    int          ok;
    IGQ_CHECK(v->type == IGQ_JSON_ARRAY, IGQ_ERR_FORMAT, "%s: labels must be a JSON array of "
              "strings", where);
    IGQ_CHECK(v->count == (size_t)L->m->d.classes, IGQ_ERR_FORMAT,
              "%s: %zu labels for %d classes", where, v->count, (int)L->m->d.classes);
    for (i = 0; i < v->count; i++)
        IGQ_CHECK(v->items[i].type == IGQ_JSON_STRING &&
                      strlen(v->items[i].string) == v->items[i].string_len,
                  IGQ_ERR_FORMAT, "%s: label %zu is not a string (without NUL)", where, i);
    names = (const char **)igq__malloc(v->count * sizeof *names + 1);
    IGQ_CHECK(names != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", where);
    for (i = 0; i < v->count; i++) names[i] = v->items[i].string;
    ok = igq__model_set_labels(L->m, names, (int32_t)v->count);
    igq__free((void *)(uintptr_t)names);
    IGQ_CHECK(ok, IGQ_ERR_NO_MEMORY, "%s: out of memory", where);
    return IGQ_OK;
}

/* Hugging Face id2label: {"0": "tench", ...} with the keys 0 .. classes - 1 exactly. */
static igq_status labels_from_id2label(const igq__ckpt_loader *L, const igq_json *v)
{
    const char *where = L->config_path;
    const char **names;
    size_t       i;
    int          ok;
    IGQ_CHECK(v->type == IGQ_JSON_OBJECT, IGQ_ERR_FORMAT, "%s: id2label must be an object",
              where);
    IGQ_CHECK(v->count == (size_t)L->m->d.classes, IGQ_ERR_FORMAT,
              "%s: id2label has %zu entries for %d classes", where, v->count,
              (int)L->m->d.classes);
    names = (const char **)igq__calloc(v->count + 1, sizeof *names);
    IGQ_CHECK(names != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", where);
    for (i = 0; i < v->count; i++) {
        const char *k = v->keys[i], *end = NULL;
        long        idx;
        int         good = k[0] >= '0' && k[0] <= '9' && strlen(k) <= 9;
        idx              = good ? strtol(k, (char **)(uintptr_t)&end, 10) : -1;
        good             = good && end != NULL && *end == '\0' && idx < (long)v->count &&
               names[idx] == NULL && v->items[i].type == IGQ_JSON_STRING &&
               strlen(v->items[i].string) == v->items[i].string_len;
        if (!good) {
            igq__free((void *)(uintptr_t)names);
            return igq__set_error(IGQ_ERR_FORMAT,
                                  "%s: id2label entry '%s' is not a class index 0 .. %d with a "
                                  "string (or repeats one)", where, k, (int)v->count - 1);
        }
        names[idx] = v->items[i].string;
    }
    ok = igq__model_set_labels(L->m, names, (int32_t)v->count);
    igq__free((void *)(uintptr_t)names);
    IGQ_CHECK(ok, IGQ_ERR_NO_MEMORY, "%s: out of memory", where);
    return IGQ_OK;
}

/* Class names: safetensors metadata `labels` (a JSON array as text), else config.json's
 * Hugging Face `id2label` or timm `label_names`; none is fine (no names). */
static igq_status resolve_labels(const igq__ckpt_loader *L)
{
    const char *s = meta(L, "labels");
    if (s != NULL) {
        igq_json  *v = NULL;
        igq_status st;
        char       where[512];
        snprintf(where, sizeof where, "%s: metadata labels", L->path);
        st = igq__json_parse(s, strlen(s), &v);
        if (st != IGQ_OK) {
            igq__error_prefix(where);
            return st;
        }
        st = labels_from_array(L, v, where);
        igq__json_free(v);
        return st;
    }
    if (L->config != NULL) {
        const igq_json *v = igq__json_get(L->config, "id2label");
        if (v != NULL) return labels_from_id2label(L, v);
        v = igq__json_get(L->config, "label_names");
        if (v != NULL) return labels_from_array(L, v, L->config_path);
    }
    return IGQ_OK;
}

/* ---- the evaluation transform (igq_image_preprocess) -------------------------------------- */

/* "bilinear" / "bicubic" as Pillow's filter numbers; 0 if anything else. */
static int32_t interp_of(const char *s)
{
    if (strcmp(s, "bilinear") == 0) return IGQ__INTERP_BILINEAR;
    if (strcmp(s, "bicubic") == 0) return IGQ__INTERP_BICUBIC;
    return 0;
}

/* timm's keys (interpolation, crop_pct, crop_mode), as strings from the metadata or JSON
 * values from pretrained_cfg; absent keys take timm's ViT defaults (bicubic, 0.9, center). */
static igq_status timm_transform(const igq__ckpt_loader *L, const char *interp, double crop_pct,
                                 int has_crop_pct, const char *mode, const char *where)
{
    struct igq_model *m = L->m;
    int32_t           f = IGQ__INTERP_BICUBIC;
    int               squash = 0;
    if (interp != NULL) {
        f = interp_of(interp);
        IGQ_CHECK(f != 0, IGQ_ERR_UNSUPPORTED,
                  "%s: interpolation '%s' is not supported (bilinear or bicubic)", where, interp);
    }
    if (!has_crop_pct) crop_pct = 0.9;
    IGQ_CHECK(crop_pct > 0.0 && crop_pct <= 1.0 && isfinite(crop_pct) &&
                  floor((double)m->d.img_h / crop_pct) <= 65536.0 &&
                  floor((double)m->d.img_w / crop_pct) <= 65536.0,
              IGQ_ERR_FORMAT, "%s: crop_pct must be a number in (0, 1] (and the resize at most "
              "65536 pixels)", where);
    if (mode != NULL) {
        IGQ_CHECK(strcmp(mode, "center") == 0 || strcmp(mode, "squash") == 0,
                  IGQ_ERR_UNSUPPORTED, "%s: crop_mode '%s' is not supported (center or squash)",
                  where, mode);
        squash = strcmp(mode, "squash") == 0;
    }
    igq__preproc_timm(m->d.img_h, m->d.img_w, crop_pct, squash, f, &m->preproc);
    m->has_preproc = 1;
    return IGQ_OK;
}

static igq_status preproc_from_metadata(const igq__ckpt_loader *L, int *found)
{
    const char *fi = meta(L, "interpolation"), *fc = meta(L, "crop_pct");
    const char *fm = meta(L, "crop_mode");
    double      pct = 0.0;
    *found          = fi != NULL || fc != NULL || fm != NULL;
    if (!*found) return IGQ_OK;
    if (fc != NULL) {
        char *end;
        errno = 0;
        pct   = igq__strtod_c(fc, &end);
        IGQ_CHECK(end != fc && *end == '\0' && errno == 0, IGQ_ERR_FORMAT,
                  "%s: metadata crop_pct '%s' is not a number", L->path, fc);
    }
    return timm_transform(L, fi, pct, fc != NULL, fm, L->path);
}

static igq_status preproc_from_timm_config(const igq__ckpt_loader *L, int *found)
{
    const igq_json *ji = cfg_path(L->config, "pretrained_cfg", "interpolation");
    const igq_json *jc = cfg_path(L->config, "pretrained_cfg", "crop_pct");
    const igq_json *jm = cfg_path(L->config, "pretrained_cfg", "crop_mode");
    *found             = ji != NULL || jc != NULL || jm != NULL;
    if (!*found) return IGQ_OK;
    IGQ_CHECK((ji == NULL || ji->type == IGQ_JSON_STRING) &&
                  (jm == NULL || jm->type == IGQ_JSON_STRING) &&
                  (jc == NULL || jc->type == IGQ_JSON_NUMBER),
              IGQ_ERR_FORMAT, "%s: pretrained_cfg interpolation / crop_mode must be strings and "
              "crop_pct a number", L->config_path);
    return timm_transform(L, ji ? ji->string : NULL, jc ? jc->number : 0.0, jc != NULL,
                          jm ? jm->string : NULL, L->config_path);
}

/* Hugging Face's {height, width}, {shortest_edge} or an int; shortest set for the latter. */
static igq_status hf_size(const igq_json *v, const char *key, int32_t *h, int32_t *w,
                          int *shortest)
{
    static const char where[] = "preprocessor_config.json";
    const igq_json   *a, *b;
    *shortest = 0;
    if (v->type == IGQ_JSON_NUMBER) {
        IGQ_CHECK(valid_side(v->number), IGQ_ERR_FORMAT,
                  "%s: %s is not an integer in [1, 65536]", where, key);
        *h = *w = (int32_t)v->number;
        return IGQ_OK;
    }
    a = igq__json_get(v, "shortest_edge");
    if (a != NULL) {
        IGQ_CHECK(a->type == IGQ_JSON_NUMBER && valid_side(a->number), IGQ_ERR_FORMAT,
                  "%s: %s.shortest_edge is not an integer in [1, 65536]", where, key);
        *h = *w   = (int32_t)a->number;
        *shortest = 1;
        return IGQ_OK;
    }
    a = igq__json_get(v, "height");
    b = igq__json_get(v, "width");
    IGQ_CHECK(a != NULL && b != NULL && a->type == IGQ_JSON_NUMBER &&
                  b->type == IGQ_JSON_NUMBER && valid_side(a->number) && valid_side(b->number),
              IGQ_ERR_FORMAT, "%s: %s must be an integer, {\"height\", \"width\"} or "
              "{\"shortest_edge\"} (integers in [1, 65536])", where, key);
    *h = (int32_t)a->number;
    *w = (int32_t)b->number;
    return IGQ_OK;
}

static int json_flag(const igq_json *v, int dflt)
{
    if (v == NULL) return dflt;
    if (v->type == IGQ_JSON_TRUE) return 1;
    if (v->type == IGQ_JSON_FALSE) return 0;
    return -1;
}

static igq_status preproc_from_hf(const igq__ckpt_loader *L)
{
    static const char where[] = "preprocessor_config.json";
    struct igq_model *m = L->m;
    const igq_json   *P = L->preproc;
    const igq_json   *js = igq__json_get(P, "size"), *jr = igq__json_get(P, "resample");
    const igq_json   *jc = igq__json_get(P, "crop_size"), *jf = igq__json_get(P, "rescale_factor");
    int               do_resize = json_flag(igq__json_get(P, "do_resize"), 1);
    int               do_crop   = json_flag(igq__json_get(P, "do_center_crop"), 0);
    int               do_rescale = json_flag(igq__json_get(P, "do_rescale"), 1);
    igq_preproc       p;
    int               shortest = 0;
    if (js == NULL && jr == NULL && jc == NULL && jf == NULL &&
        igq__json_get(P, "do_resize") == NULL)
        return IGQ_OK;
    IGQ_CHECK(do_resize >= 0 && do_crop >= 0 && do_rescale >= 0, IGQ_ERR_FORMAT,
              "%s: do_resize, do_center_crop and do_rescale must be true or false", where);
    p.interp      = IGQ__INTERP_BILINEAR; /* ViTImageProcessor's default */
    p.rescale_div = 255.0f;
    p.resize_mode = IGQ__RESIZE_EXACT;
    p.resize_h    = m->d.img_h;
    p.resize_w    = m->d.img_w;
    if (jr != NULL) {
        IGQ_CHECK(jr->type == IGQ_JSON_NUMBER && (jr->number == 2.0 || jr->number == 3.0),
                  IGQ_ERR_UNSUPPORTED, "%s: resample must be 2 (bilinear) or 3 (bicubic)",
                  where);
        p.interp = (int32_t)jr->number;
    }
    if (!do_resize)
        p.resize_mode = IGQ__RESIZE_NONE;
    else if (js != NULL) {
        IGQ_TRY(hf_size(js, "size", &p.resize_h, &p.resize_w, &shortest));
        p.resize_mode = shortest ? IGQ__RESIZE_SHORTER : IGQ__RESIZE_EXACT;
    }
    if (do_crop && jc != NULL) {
        int32_t ch, cw;
        int     sh;
        IGQ_TRY(hf_size(jc, "crop_size", &ch, &cw, &sh));
        IGQ_CHECK(!sh && ch == m->d.img_h && cw == m->d.img_w, IGQ_ERR_FORMAT,
                  "%s: crop_size differs from the model's %d x %d input", where,
                  (int)m->d.img_h, (int)m->d.img_w);
    }
    if (!do_rescale)
        p.rescale_div = 1.0f;
    else if (jf != NULL) {
        IGQ_CHECK(jf->type == IGQ_JSON_NUMBER && jf->number > 0.0 && jf->number <= 1.0,
                  IGQ_ERR_FORMAT, "%s: rescale_factor must be a number in (0, 1]", where);
        p.rescale_div = (float)(1.0 / jf->number);
    }
    m->preproc     = p;
    m->has_preproc = 1;
    return IGQ_OK;
}

static igq_status resolve_preproc(const igq__ckpt_loader *L)
{
    struct igq_model   *m = L->m;
    const igq_vit_dims *d = &m->d;
    int                 found = 0;
    IGQ_TRY(preproc_from_metadata(L, &found));
    if (!found && L->config != NULL) IGQ_TRY(preproc_from_timm_config(L, &found));
    if (!found && L->preproc != NULL) IGQ_TRY(preproc_from_hf(L));
    if (m->has_preproc && d->trained_h > 0 && m->preproc.resize_mode != IGQ__RESIZE_NONE) {
        /* run at another size (load option): the declared resize scaled with the crop, so the
         * crop keeps its share of the resized image */
        double rh = floor((double)m->preproc.resize_h * d->img_h / d->trained_h + 0.5);
        double rw = floor((double)m->preproc.resize_w * d->img_w / d->trained_w + 0.5);
        m->preproc.resize_h = (int32_t)(rh < 1.0 ? 1.0 : rh > 65536.0 ? 65536.0 : rh);
        m->preproc.resize_w = (int32_t)(rw < 1.0 ? 1.0 : rw > 65536.0 ? 65536.0 : rw);
    }
    return IGQ_OK;
}

igq_status igq__ckpt_resolve_meta(const igq__ckpt_loader *L)
{
    IGQ_TRY(resolve_heads(L));
    IGQ_TRY(resolve_eps(L));
    IGQ_TRY(resolve_labels(L));
    IGQ_TRY(resolve_norm_stats(L));
    return resolve_preproc(L);
}
