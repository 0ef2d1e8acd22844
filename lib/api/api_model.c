/* Public model functions: argument validation, then the loader / executors. */
#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../core/tensor.h"
#include "../io/checkpoint.h"
#include "../io/igqfile.h"
#include "../model/qmodel.h"

struct igq_load_options {
    igq__load_opts o;
    int            any; /* something was set */
};

static igq_status load(const char *who, const char *path, const igq_load_options *opts,
                       igq_model **out)
{
    igq_map map;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    IGQ_CHECK(path != NULL, IGQ_ERR_INVALID_ARGUMENT, "%s: path is NULL", who);
    IGQ_TRY(igq__map_file(path, &map));
    if (igq__igqf_is_magic(map.data, map.size)) {
        if (opts != NULL && opts->any) {
            igq__map_release(&map);
            return igq__set_error(IGQ_ERR_INVALID_ARGUMENT,
                                  "%s: %s is an .igq file, loaded as it was saved: load options "
                                  "apply to checkpoints",
                                  who, path);
        }
        return igq__igqf_load(&map, path, out);
    }
    igq__map_release(&map);
    return igq__checkpoint_load(path, opts != NULL ? &opts->o : NULL, out);
}

igq_status igq_model_load(const char *path, igq_model **out)
{
    return load("igq_model_load", path, NULL, out);
}

igq_status igq_model_load_with_options(const char *path, const igq_load_options *options,
                                       igq_model **out)
{
    return load("igq_model_load_with_options", path, options, out);
}

igq_status igq_load_options_create(igq_load_options **out)
{
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_load_options_create: out is NULL");
    *out = (igq_load_options *)igq__calloc(1, sizeof **out);
    IGQ_CHECK(*out != NULL, IGQ_ERR_NO_MEMORY, "igq_load_options_create: out of memory");
    return IGQ_OK;
}

void igq_load_options_free(igq_load_options *options) { igq__free(options); }

igq_status igq_load_options_set(igq_load_options *options, igq_load_option option, int64_t value)
{
    IGQ_CHECK(options != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_load_options_set: options is NULL");
    switch (option) {
    case IGQ_LOAD_NUM_HEADS:
        IGQ_CHECK(value >= 0 && value <= 4096, IGQ_ERR_OUT_OF_RANGE,
                  "igq_load_options_set: heads %lld outside 0..4096", (long long)value);
        options->o.heads = (int32_t)value;
        break;
    case IGQ_LOAD_IMAGE_HEIGHT:
    case IGQ_LOAD_IMAGE_WIDTH:
        IGQ_CHECK(value >= 0 && value <= 65536, IGQ_ERR_OUT_OF_RANGE,
                  "igq_load_options_set: image side %lld outside 0..65536", (long long)value);
        if (option == IGQ_LOAD_IMAGE_HEIGHT)
            options->o.img_h = (int32_t)value;
        else
            options->o.img_w = (int32_t)value;
        /* one side given: square; both 0: as trained */
        if (options->o.img_h == 0 && options->o.img_w > 0) options->o.img_h = options->o.img_w;
        if (options->o.img_w == 0 && options->o.img_h > 0) options->o.img_w = options->o.img_h;
        if (value == 0) options->o.img_h = options->o.img_w = 0;
        break;
    case IGQ_LOAD_FORCE32:
    default:
        return igq__set_error(IGQ_ERR_INVALID_ARGUMENT, "igq_load_options_set: unknown option %d",
                              (int)option);
    }
    options->any = 1;
    return IGQ_OK;
}

igq_status igq_load_options_set_layer_norm_eps(igq_load_options *options, float eps)
{
    IGQ_CHECK(options != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_load_options_set_layer_norm_eps: options is NULL");
    IGQ_CHECK(eps >= 0.0f && eps < 1.0f, IGQ_ERR_OUT_OF_RANGE,
              "igq_load_options_set_layer_norm_eps: eps %g outside [0, 1)", (double)eps);
    options->o.has_eps = 1;
    options->o.eps     = eps;
    options->any       = 1;
    return IGQ_OK;
}

igq_status igq_load_options_set_normalization(igq_load_options *options, const float *mean,
                                              const float *std, int32_t channels)
{
    int32_t c;
    IGQ_CHECK(options != NULL && mean != NULL && std != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_load_options_set_normalization: NULL argument");
    IGQ_CHECK(channels >= 1 && channels <= 64, IGQ_ERR_OUT_OF_RANGE,
              "igq_load_options_set_normalization: channels %d outside 1..64", (int)channels);
    for (c = 0; c < channels; c++)
        IGQ_CHECK(isfinite(mean[c]) && isfinite(std[c]) && std[c] > 0.0f, IGQ_ERR_OUT_OF_RANGE,
                  "igq_load_options_set_normalization: channel %d: mean %g, std %g (finite, std "
                  "> 0)", (int)c, (double)mean[c], (double)std[c]);
    for (c = 0; c < channels; c++) {
        options->o.mean[c] = mean[c];
        options->o.std[c]  = std[c];
    }
    options->o.n_stats = channels;
    options->any       = 1;
    return IGQ_OK;
}

igq_status igq_model_load_buffer(const void *data, size_t size, igq_model **out)
{
    igq_map map;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_model_load_buffer: out is NULL");
    *out = NULL;
    IGQ_CHECK(data != NULL || size == 0, IGQ_ERR_INVALID_ARGUMENT,
              "igq_model_load_buffer: data is NULL");
    IGQ_CHECK(igq__igqf_is_magic(data, size), IGQ_ERR_FORMAT,
              "igq_model_load_buffer: not an .igq file (bad magic; %zu bytes)", size);
    IGQ_TRY(igq__map_copy(data, size, "igq_model_load_buffer", &map));
    return igq__igqf_load(&map, "<buffer>", out);
}

igq_status igq_model_save(const igq_model *model, const char *path)
{
    IGQ_CHECK(model != NULL && path != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_model_save: NULL argument");
    return igq__igqf_save(model, path);
}

void igq_model_free(igq_model *model) { igq__model_destroy(model); }

igq_status igq_model_info(const igq_model *model, igq_model_prop prop, int64_t *value)
{
    const igq_vit_dims *d;
    igq_preproc         pp;
    IGQ_CHECK(model != NULL && value != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_model_info: NULL argument");
    d = &model->d;
    igq__model_preproc(model, &pp);
    switch (prop) {
    case IGQ_PROP_IMAGE_HEIGHT: *value = d->img_h; break;
    case IGQ_PROP_IMAGE_WIDTH: *value = d->img_w; break;
    case IGQ_PROP_IN_CHANNELS: *value = d->in_chans; break;
    case IGQ_PROP_PATCH_SIZE: *value = d->patch; break;
    case IGQ_PROP_EMBED_DIM: *value = d->dim; break;
    case IGQ_PROP_DEPTH: *value = d->depth; break;
    case IGQ_PROP_HEADS: *value = d->heads; break;
    case IGQ_PROP_MLP_DIM: *value = d->mlp; break;
    case IGQ_PROP_NUM_CLASSES: *value = d->classes; break;
    case IGQ_PROP_PREFIX_TOKENS: *value = d->n_prefix; break;
    case IGQ_PROP_NUM_TOKENS: *value = d->n_tokens; break;
    case IGQ_PROP_RESIZE_MODE: *value = pp.resize_mode; break;
    case IGQ_PROP_RESIZE_HEIGHT: *value = pp.resize_h; break;
    case IGQ_PROP_RESIZE_WIDTH: *value = pp.resize_w; break;
    case IGQ_PROP_INTERPOLATION: *value = pp.interp; break;
    case IGQ_PROP_PREPROC_DECLARED: *value = model->has_preproc; break;
    case IGQ_PROP_FEATURE_DIM: *value = d->dim; break;
    case IGQ_PROP_FORCE32:
    default:
        return igq__set_error(IGQ_ERR_INVALID_ARGUMENT, "igq_model_info: unknown property %d",
                              (int)prop);
    }
    return IGQ_OK;
}

igq_status igq_model_layer_norm_eps(const igq_model *model, float *eps)
{
    IGQ_CHECK(model != NULL && eps != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_model_layer_norm_eps: NULL argument");
    *eps = model->d.ln_eps;
    return IGQ_OK;
}

igq_status igq_model_normalization(const igq_model *model, float *mean, float *std,
                                   int32_t capacity)
{
    IGQ_CHECK(model != NULL && mean != NULL && std != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_model_normalization: NULL argument");
    IGQ_CHECK(model->has_norm_stats, IGQ_ERR_NOT_FOUND,
              "igq_model_normalization: the checkpoint declares no mean/std");
    IGQ_CHECK(capacity >= model->d.in_chans, IGQ_ERR_BUFFER_TOO_SMALL,
              "igq_model_normalization: capacity %d below %d channels", (int)capacity,
              (int)model->d.in_chans);
    memcpy(mean, model->mean, (size_t)model->d.in_chans * sizeof(float));
    memcpy(std, model->std, (size_t)model->d.in_chans * sizeof(float));
    return IGQ_OK;
}

/* igq_run lives in api_session.c: it shares the argument checks and the scratch plan with
 * igq_session_run. */

igq_status igq_model_label(const igq_model *model, int64_t class_index, const char **name)
{
    IGQ_CHECK(name != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_model_label: name is NULL");
    *name = NULL;
    IGQ_CHECK(model != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_model_label: model is NULL");
    IGQ_CHECK(class_index >= 0 && class_index < model->d.classes, IGQ_ERR_INVALID_ARGUMENT,
              "igq_model_label: class %lld outside 0 .. %d", (long long)class_index,
              (int)model->d.classes - 1);
    IGQ_CHECK(model->n_labels > 0, IGQ_ERR_NOT_FOUND,
              "igq_model_label: the checkpoint names no classes");
    *name = model->labels[class_index];
    return IGQ_OK;
}
