/* The group assignment one image gets at one site (igq_groups_compute): the image runs through
 * the quantized model's own executor, which records the assignment as it makes it. The
 * simulated executor records it in its hook context; the integer executor in its per-image
 * context (its f32 weights are gone, so it cannot borrow the simulated path). */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "qexec.h"

int64_t igq__groups_capture_count(const igq_vit_dims *d, int32_t site)
{
    return site == IGQ__SITE_ATTN      ? (int64_t)d->heads * d->n_tokens
           : site == IGQ__SITE_FC2_IN ? d->mlp
                                      : d->dim;
}

static igq_status capture_int(const struct igq_model *m, const float *image, int32_t block,
                              int32_t site, int32_t *assign, const char *who)
{
    void  *scratch = igq__malloc(igq__forward_int_scratch(m));
    float *logits  = (float *)igq__malloc((size_t)(m->d.classes > 0 ? m->d.classes : 1) * sizeof(float));
    if (scratch != NULL && logits != NULL)
        igq__forward_int_capture(m, image, logits, scratch, block, site, assign);
    igq__free(scratch);
    igq__free(logits);
    return scratch != NULL && logits != NULL
               ? IGQ_OK
               : igq__set_error(IGQ_ERR_NO_MEMORY, "%s: out of memory", who);
}

static igq_status capture_sim(const struct igq_model *m, const float *image, int32_t block,
                              int32_t site, int32_t *assign, const char *who)
{
    float        *scratch, *logits;
    igq_sim_ctx   sc;
    igq_site_hook hook;
    igq_status    s = IGQ_OK;
    scratch = (float *)igq__malloc(igq__forward_scratch_floats(&m->d, 1) * sizeof(float));
    logits  = (float *)igq__malloc((size_t)(m->d.classes > 0 ? m->d.classes : 1) * sizeof(float));
    memset(&sc, 0, sizeof sc);
    sc.q          = m->q;
    sc.stat       = (float *)igq__malloc(igq__sim_stat_floats(&m->d) * sizeof(float));
    sc.cap_image  = 0;
    sc.cap_block  = block;
    sc.cap_site   = site;
    sc.cap_assign = assign;
    hook.fn       = igq__sim_hook;
    hook.ctx      = &sc;
    if (scratch != NULL && logits != NULL && sc.stat != NULL)
        igq__forward(m, image, 1, logits, scratch, &hook);
    else
        s = igq__set_error(IGQ_ERR_NO_MEMORY, "%s: out of memory", who);
    igq__free(scratch);
    igq__free(logits);
    igq__free(sc.stat);
    return s;
}

igq_status igq__groups_capture(const struct igq_model *m, const float *image, int32_t block,
                               int32_t site, int32_t *assign, const char *who)
{
    return m->q->x != NULL ? capture_int(m, image, block, site, assign, who)
                           : capture_sim(m, image, block, site, assign, who);
}
