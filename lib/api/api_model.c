/* Public model functions: argument validation, then the loader / executors. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../core/tensor.h"
#include "../io/checkpoint.h"
#include "../io/igqfile.h"
#include "../model/qmodel.h"

igq_status igq_model_load(const char *path, igq_model **out)
{
    igq_map map;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_model_load: out is NULL");
    *out = NULL;
    IGQ_CHECK(path != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_model_load: path is NULL");
    IGQ_TRY(igq__map_file(path, &map));
    if (igq__igqf_is_magic(map.data, map.size)) return igq__igqf_load(&map, path, out);
    igq__map_release(&map);
    return igq__checkpoint_load(path, out);
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
