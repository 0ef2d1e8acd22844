/* Option lookups and defaults from the one option table (options.h), and the compile-time ties
 * between the public enums of igq.h and their private twins in quant/ and model/: the library
 * passes values between them by cast, so a reordered or renumbered twin must not compile. */
#include <string.h>

#include "options.h"
#include "ptq.h"

/* ---- the table ---------------------------------------------------------------------------- */

#define IGQ__OPTION_INFO(name, lo, hi, def, zero) {"IGQ_OPT_" #name, lo, hi, def, zero},
static const igq_option_info OPTIONS[IGQ__N_PUBLIC_OPTIONS] = {IGQ__OPTION_TABLE(IGQ__OPTION_INFO)};
#undef IGQ__OPTION_INFO

/* Each row sits at its public value, so OPTIONS[IGQ_OPT_x] is x's row; appending an option
 * to igq.h without a row leaves it unknown (igq_config_set refuses it), never misread. An
 * unset 0 lies below MIN - 1, so MIN - 1 is refused like every value outside the range; the
 * default is accepted. */
#define IGQ__OPTION_TIE(name, lo, hi, def, zero)                                          \
    IGQ__STATIC_ASSERT(opt_##name, IGQ_OPT_##name == (int)IGQ__OPTROW_##name);            \
    IGQ__STATIC_ASSERT(opt_range_##name, (lo) <= (hi) && ((zero) == 0 || (lo) > 1));      \
    IGQ__STATIC_ASSERT(opt_default_##name,                                                \
                       ((lo) <= (def) && (def) <= (hi)) || ((zero) == 1 && (def) == 0));
IGQ__OPTION_TABLE(IGQ__OPTION_TIE)
#undef IGQ__OPTION_TIE
/* Quantized models keep the options they were made with in igq_qstate.opts. */
IGQ__STATIC_ASSERT(opt_storage, IGQ__N_PUBLIC_OPTIONS <= IGQ__N_OPTIONS);

const igq_option_info *igq__option_info(int option)
{
    return option >= 0 && option < IGQ__N_PUBLIC_OPTIONS ? &OPTIONS[option] : NULL;
}

int igq__option_accepts(const igq_option_info *o, int64_t value)
{
    return (value >= o->lo && value <= o->hi) || (o->zero && value == 0);
}

void igq__config_defaults(struct igq_config *c)
{
    int i;
    memset(c, 0, sizeof *c);
    for (i = 0; i < IGQ__N_PUBLIC_OPTIONS; i++) c->v[i] = OPTIONS[i].def;
}

/* ---- public enums and their private twins -------------------------------------------------- */

IGQ__STATIC_ASSERT(gran_tensor, (int)IGQ_GRANULARITY_TENSOR == IGQ__GRAN_TENSOR);
IGQ__STATIC_ASSERT(gran_group, (int)IGQ_GRANULARITY_GROUP == IGQ__GRAN_GROUP);
IGQ__STATIC_ASSERT(gran_channel, (int)IGQ_GRANULARITY_CHANNEL == IGQ__GRAN_CHANNEL);

IGQ__STATIC_ASSERT(calib_minmax, (int)IGQ_CALIBRATOR_MINMAX == (int)IGQ__CALIB_MINMAX);
IGQ__STATIC_ASSERT(calib_percentile, (int)IGQ_CALIBRATOR_PERCENTILE == (int)IGQ__CALIB_PERCENTILE);
IGQ__STATIC_ASSERT(calib_mse, (int)IGQ_CALIBRATOR_MSE == (int)IGQ__CALIB_MSE);
IGQ__STATIC_ASSERT(calib_kl, (int)IGQ_CALIBRATOR_KL == (int)IGQ__CALIB_KL);

IGQ__STATIC_ASSERT(assign_cover, (int)IGQ_ASSIGN_COVER == (int)IGQ__ASSIGN_COVER);
IGQ__STATIC_ASSERT(assign_nearest, (int)IGQ_ASSIGN_NEAREST == (int)IGQ__ASSIGN_NEAREST);

IGQ__STATIC_ASSERT(site_qkv_in, (int)IGQ_SITE_QKV_IN == IGQ__SITE_QKV_IN);
IGQ__STATIC_ASSERT(site_q, (int)IGQ_SITE_Q == IGQ__SITE_Q);
IGQ__STATIC_ASSERT(site_k, (int)IGQ_SITE_K == IGQ__SITE_K);
IGQ__STATIC_ASSERT(site_attn, (int)IGQ_SITE_ATTN == IGQ__SITE_ATTN);
IGQ__STATIC_ASSERT(site_v, (int)IGQ_SITE_V == IGQ__SITE_V);
IGQ__STATIC_ASSERT(site_proj_in, (int)IGQ_SITE_PROJ_IN == IGQ__SITE_PROJ_IN);
IGQ__STATIC_ASSERT(site_fc1_in, (int)IGQ_SITE_FC1_IN == IGQ__SITE_FC1_IN);
IGQ__STATIC_ASSERT(site_fc2_in, (int)IGQ_SITE_FC2_IN == IGQ__SITE_FC2_IN);
IGQ__STATIC_ASSERT(site_patch_in, (int)IGQ_SITE_PATCH_IN == IGQ__SITE_PATCH_IN);
IGQ__STATIC_ASSERT(site_head_in, (int)IGQ_SITE_HEAD_IN == IGQ__SITE_HEAD_IN);
IGQ__STATIC_ASSERT(site_qkv_w, (int)IGQ_SITE_QKV_WEIGHT == IGQ__SITE_QKV_W);
IGQ__STATIC_ASSERT(site_proj_w, (int)IGQ_SITE_PROJ_WEIGHT == IGQ__SITE_PROJ_W);
IGQ__STATIC_ASSERT(site_fc1_w, (int)IGQ_SITE_FC1_WEIGHT == IGQ__SITE_FC1_W);
IGQ__STATIC_ASSERT(site_fc2_w, (int)IGQ_SITE_FC2_WEIGHT == IGQ__SITE_FC2_W);
IGQ__STATIC_ASSERT(site_patch_w, (int)IGQ_SITE_PATCH_WEIGHT == IGQ__SITE_PATCH_W);
IGQ__STATIC_ASSERT(site_head_w, (int)IGQ_SITE_HEAD_WEIGHT == IGQ__SITE_HEAD_W);
IGQ__STATIC_ASSERT(site_head_dist_w, (int)IGQ_SITE_HEAD_DIST_WEIGHT == IGQ__SITE_HEAD_DIST_W);
IGQ__STATIC_ASSERT(site_count, (int)IGQ_SITE_HEAD_DIST_WEIGHT + 1 == IGQ__N_QSITES);
