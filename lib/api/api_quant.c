/* Public quantization API: configuration, igq_quantize_model, quantizer views, group
 * assignments. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../core/tensor.h"
#include "../model/qexec.h"
#include "../ptq/ptq.h"
#include "api_check.h"

igq_status igq_config_create(igq_config **out)
{
    struct igq_config *c;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_config_create: out is NULL");
    *out = NULL;
    c    = (struct igq_config *)igq__calloc(1, sizeof *c);
    IGQ_CHECK(c != NULL, IGQ_ERR_NO_MEMORY, "igq_config_create: out of memory");
    igq__config_defaults(c);
    *out = c;
    return IGQ_OK;
}

void igq_config_free(igq_config *config) { igq__free(config); }

igq_status igq_option_bounds(igq_option option, int64_t *min_value, int64_t *max_value)
{
    const igq_option_info *o = igq__option_info((int)option);
    IGQ_CHECK(min_value != NULL && max_value != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_option_bounds: NULL argument");
    IGQ_CHECK(o != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_option_bounds: unknown option %d",
              (int)option);
    *min_value = o->lo;
    *max_value = o->hi;
    return IGQ_OK;
}

igq_status igq_config_set(igq_config *config, igq_option option, int64_t value)
{
    const igq_option_info *o = igq__option_info((int)option);
    IGQ_CHECK(config != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_config_set: config is NULL");
    IGQ_CHECK(o != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_config_set: unknown option %d",
              (int)option);
    IGQ_CHECK(igq__option_accepts(o, value), IGQ_ERR_OUT_OF_RANGE,
              "igq_config_set: %s = %lld is outside [%lld, %lld]%s", o->name, (long long)value,
              (long long)o->lo, (long long)o->hi, o->zero ? " and is not 0 (unset)" : "");
    config->v[option] = value;
    return IGQ_OK;
}

igq_status igq_config_get(const igq_config *config, igq_option option, int64_t *value)
{
    IGQ_CHECK(config != NULL && value != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_config_get: NULL argument");
    IGQ_CHECK(igq__option_info((int)option) != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_config_get: unknown option %d", (int)option);
    *value = config->v[option];
    return IGQ_OK;
}

igq_status igq_model_config(const igq_model *model, igq_config **out)
{
    struct igq_config *c;
    int                i;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_model_config: out is NULL");
    *out = NULL;
    IGQ_CHECK(model != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_model_config: model is NULL");
    IGQ_CHECK(model->q != NULL, IGQ_ERR_NOT_FOUND,
              "igq_model_config: the model is fp32 (it has no quantization configuration)");
    c = (struct igq_config *)igq__calloc(1, sizeof *c);
    IGQ_CHECK(c != NULL, IGQ_ERR_NO_MEMORY, "igq_model_config: out of memory");
    for (i = 0; i < IGQ__N_OPTIONS; i++) c->v[i] = model->q->opts[i];
    *out = c;
    return IGQ_OK;
}

igq_status igq_config_set_progress(igq_config *config, igq_progress_fn fn, void *user)
{
    IGQ_CHECK(config != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_config_set_progress: config is NULL");
    config->progress = fn;
    config->user     = user;
    return IGQ_OK;
}

igq_status igq_quantize_model(const igq_model *fp32_model, const igq_tensor *calib_images,
                              const igq_config *config, igq_model **out_quantized)
{
    struct igq_config defaults;
    IGQ_CHECK(out_quantized != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_quantize_model: out_quantized is NULL");
    *out_quantized = NULL;
    IGQ_CHECK(fp32_model != NULL && calib_images != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_quantize_model: NULL argument");
    IGQ_CHECK(fp32_model->q == NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_quantize_model: the model is already quantized");
    IGQ_TRY(igq__check_images("igq_quantize_model", fp32_model, calib_images));
    if (config == NULL) {
        igq__config_defaults(&defaults);
        config = &defaults;
    }
    if (config->v[IGQ_OPT_EXECUTOR] == IGQ_EXECUTOR_INT &&
        config->v[IGQ_OPT_ACT_GRANULARITY] == IGQ__GRAN_CHANNEL)
        return igq__set_error(IGQ_ERR_UNSUPPORTED,
                              "igq_quantize_model: IGQ_EXECUTOR_INT cannot run per-channel "
                              "activation quantizers (a per-channel scale cannot be taken out of "
                              "an integer dot product): use groups, or IGQ_EXECUTOR_SIM");
    {
        igq_model *qm = NULL;
        IGQ_TRY(igq__quantize(fp32_model, (const float *)calib_images->data,
                              calib_images->shape[0], config, &qm));
        if (config->v[IGQ_OPT_EXECUTOR] == IGQ_EXECUTOR_INT) {
            igq_status s = igq__qexec_attach(qm);
            if (s != IGQ_OK) {
                igq_model_free(qm);
                return s;
            }
        }
        *out_quantized = qm;
        return IGQ_OK;
    }
}

int32_t igq_model_is_quantized(const igq_model *model)
{
    if (model == NULL) return -1;
    return model->q != NULL;
}

igq_status igq_model_quantizer(const igq_model *model, int32_t block, igq_site site,
                               const igq_quantizer **out)
{
    const struct igq_quantizer *z;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_model_quantizer: out is NULL");
    *out = NULL;
    IGQ_CHECK(model != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_model_quantizer: model is NULL");
    IGQ_CHECK(model->q != NULL, IGQ_ERR_BAD_STATE, "igq_model_quantizer: the model is fp32");
    IGQ_CHECK((int)site >= 0 && (int)site < IGQ__N_QSITES, IGQ_ERR_INVALID_ARGUMENT,
              "igq_model_quantizer: unknown site %d", (int)site);
    {
        int edge = site == IGQ_SITE_PATCH_IN || site == IGQ_SITE_HEAD_IN ||
                   site == IGQ_SITE_PATCH_WEIGHT || site == IGQ_SITE_HEAD_WEIGHT ||
                   site == IGQ_SITE_HEAD_DIST_WEIGHT;
        IGQ_CHECK(edge ? block == -1 : (block >= 0 && block < model->d.depth),
                  IGQ_ERR_INVALID_ARGUMENT,
                  "igq_model_quantizer: block %d is invalid for site %d (depth %d; patch and "
                  "head sites take block -1)", (int)block, (int)site, (int)model->d.depth);
    }
    z = igq__qz(model->q, block, (int32_t)site);
    IGQ_CHECK(z->present, IGQ_ERR_NOT_FOUND, "igq_model_quantizer: site %d of block %d is not "
              "quantized", (int)site, (int)block);
    *out = z;
    return IGQ_OK;
}

int32_t igq_quantizer_bits(const igq_quantizer *q) { return q != NULL ? q->bits : -1; }

igq_granularity igq_quantizer_granularity(const igq_quantizer *q)
{
    return q != NULL ? (igq_granularity)q->granularity : IGQ_GRANULARITY_INVALID;
}

int32_t igq_quantizer_num_groups(const igq_quantizer *q) { return q != NULL ? q->n_params : -1; }

igq_status igq_quantizer_params(const igq_quantizer *q, float *scales, int32_t *zero_points,
                                float *lo, float *hi, int32_t capacity)
{
    int32_t i;
    IGQ_CHECK(q != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_quantizer_params: q is NULL");
    IGQ_CHECK(capacity >= q->n_params, IGQ_ERR_BUFFER_TOO_SMALL,
              "igq_quantizer_params: capacity %d below %d quantizers", (int)capacity,
              (int)q->n_params);
    for (i = 0; i < q->n_params; i++) {
        if (scales) scales[i] = q->qp[i].scale;
        if (zero_points) zero_points[i] = q->qp[i].zero;
        if (lo) lo[i] = q->lo[i];
        if (hi) hi[i] = q->hi[i];
    }
    return IGQ_OK;
}

/* ---- group assignments --------------------------------------------------------------------- */

struct igq_groups {
    int64_t  count;
    int32_t  n_groups;
    int32_t *assign;
};

igq_status igq_groups_compute(const igq_model *model, const igq_tensor *image, int32_t block,
                              igq_site site, igq_groups **out)
{
    const struct igq_quantizer *z;
    struct igq_groups          *g;
    igq_status                  s;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_groups_compute: out is NULL");
    *out = NULL;
    IGQ_CHECK(model != NULL && image != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_groups_compute: NULL argument");
    IGQ_CHECK(model->q != NULL, IGQ_ERR_BAD_STATE, "igq_groups_compute: the model is fp32");
    IGQ_CHECK(block >= 0 && block < model->d.depth, IGQ_ERR_INVALID_ARGUMENT,
              "igq_groups_compute: block %d outside 0..%d", (int)block, (int)model->d.depth - 1);
    IGQ_CHECK(site == IGQ_SITE_QKV_IN || site == IGQ_SITE_ATTN || site == IGQ_SITE_PROJ_IN ||
                  site == IGQ_SITE_FC1_IN || site == IGQ_SITE_FC2_IN,
              IGQ_ERR_INVALID_ARGUMENT, "igq_groups_compute: site %d has no groups", (int)site);
    IGQ_TRY(igq__check_images("igq_groups_compute", model, image));
    IGQ_CHECK(image->shape[0] == 1, IGQ_ERR_SHAPE, "igq_groups_compute: pass one image, got %lld",
              (long long)image->shape[0]);
    z = igq__qz(model->q, block, (int32_t)site);
    IGQ_CHECK(z->present && z->granularity == IGQ__GRAN_GROUP, IGQ_ERR_BAD_STATE,
              "igq_groups_compute: site %d of block %d is not group-quantized", (int)site,
              (int)block);
    g = (struct igq_groups *)igq__calloc(1, sizeof *g);
    IGQ_CHECK(g != NULL, IGQ_ERR_NO_MEMORY, "igq_groups_compute: out of memory");
    g->n_groups = z->n_params;
    g->count    = igq__groups_capture_count(&model->d, (int32_t)site);
    g->assign   = (int32_t *)igq__calloc((size_t)g->count, sizeof(int32_t));
    s = g->assign != NULL ? igq__groups_capture(model, (const float *)image->data, block,
                                                (int32_t)site, g->assign, "igq_groups_compute")
                          : igq__set_error(IGQ_ERR_NO_MEMORY, "igq_groups_compute: out of memory");
    if (s != IGQ_OK) {
        igq_groups_free(g);
        return s;
    }
    *out = g;
    return IGQ_OK;
}

void igq_groups_free(igq_groups *groups)
{
    if (groups == NULL) return;
    igq__free(groups->assign);
    igq__free(groups);
}

int64_t igq_groups_count(const igq_groups *groups) { return groups ? groups->count : -1; }

int32_t igq_groups_num_groups(const igq_groups *groups) { return groups ? groups->n_groups : -1; }

igq_status igq_groups_assignment(const igq_groups *groups, int32_t *group_of, int64_t capacity)
{
    IGQ_CHECK(groups != NULL && group_of != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_groups_assignment: NULL argument");
    IGQ_CHECK(capacity >= groups->count, IGQ_ERR_BUFFER_TOO_SMALL,
              "igq_groups_assignment: capacity %lld below %lld", (long long)capacity,
              (long long)groups->count);
    memcpy(group_of, groups->assign, (size_t)groups->count * sizeof(int32_t));
    return IGQ_OK;
}

igq_status igq_groups_sizes(const igq_groups *groups, int64_t *sizes, int32_t capacity)
{
    int64_t i;
    IGQ_CHECK(groups != NULL && sizes != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_groups_sizes: NULL argument");
    IGQ_CHECK(capacity >= groups->n_groups, IGQ_ERR_BUFFER_TOO_SMALL,
              "igq_groups_sizes: capacity %d below %d groups", (int)capacity, (int)groups->n_groups);
    memset(sizes, 0, (size_t)groups->n_groups * sizeof(int64_t));
    for (i = 0; i < groups->count; i++) sizes[groups->assign[i]]++;
    return IGQ_OK;
}
