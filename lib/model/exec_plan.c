/* The scratch plan of a run (exec_plan.h): one allocation sized from the model's dimensions, the
 * chunk of images the fp32 forward processes together and the thread count, then the forward
 * of the executor the model's state selects. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "exec_plan.h"

#define RUP64(n) ((((size_t)(n)) + 63u) & ~(size_t)63u)

static igq_status plan_alloc(igq_exec_plan *e, const struct igq_model *model, int64_t chunk,
                             int32_t threads, const char *who)
{
    const igq_vit_dims *d      = &model->d;
    const int           quant  = model->q != NULL && model->q->x == NULL;
    const size_t        hook_b = quant ? RUP64((size_t)threads * sizeof(igq_site_hook)) : 0;
    const size_t        sim_b  = quant ? RUP64((size_t)threads * sizeof(igq_sim_ctx)) : 0;
    const size_t        fwd_f  = igq__forward_scratch_floats_par(d, chunk, threads);
    const size_t        stat_f = quant ? igq__sim_stat_floats(d) : 0;
    size_t              floats = 0, bytes = 0;
    unsigned char      *p;
    int32_t             t;
    memset(e, 0, sizeof *e);
    if (model->q != NULL && model->q->x != NULL) {
        size_t per = igq__forward_int_scratch(model);
        IGQ_CHECK(igq__mul_size(per, (size_t)threads, &bytes), IGQ_ERR_NO_MEMORY,
                  "%s: scratch size overflows", who);
        e->block = igq__malloc(bytes);
        IGQ_CHECK(e->block != NULL, IGQ_ERR_NO_MEMORY, "%s: cannot allocate %zu bytes of scratch",
                  who, bytes);
        e->iscratch = e->block;
        e->chunk    = INT64_MAX; /* the integer executor's scratch does not grow with batch */
        e->threads  = threads;
        return IGQ_OK;
    }
    if (!igq__mul_size(stat_f, (size_t)threads, &floats) || floats > SIZE_MAX - fwd_f ||
        !igq__mul_size(floats + fwd_f, sizeof(float), &bytes) ||
        bytes > SIZE_MAX - hook_b - sim_b)
        return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: scratch size overflows", who);
    p = (unsigned char *)igq__malloc(hook_b + sim_b + bytes);
    IGQ_CHECK(p != NULL, IGQ_ERR_NO_MEMORY, "%s: cannot allocate %zu bytes of scratch", who,
              hook_b + sim_b + bytes);
    e->block   = p;
    e->chunk   = chunk;
    e->threads = threads;
    e->scratch = (float *)(p + hook_b + sim_b);
    if (quant) {
        igq_sim_ctx *sims = (igq_sim_ctx *)(p + hook_b);
        e->hooks          = (igq_site_hook *)p;
        for (t = 0; t < threads; t++) {
            memset(&sims[t], 0, sizeof sims[t]);
            sims[t].q       = model->q;
            sims[t].stat    = e->scratch + fwd_f + (size_t)t * stat_f;
            e->hooks[t].fn  = igq__sim_hook;
            e->hooks[t].ctx = &sims[t];
        }
    }
    return IGQ_OK;
}

void igq__exec_plan_free(igq_exec_plan *p)
{
    igq__free(p->block);
    memset(p, 0, sizeof *p);
}

igq_status igq__exec_plan_reserve(igq_exec_plan *p, const struct igq_model *m, int64_t batch,
                                  int32_t threads, const char *who)
{
    int64_t       chunk = igq__forward_chunk(&m->d, batch);
    igq_exec_plan grown;
    if (p->block != NULL) {
        if (chunk <= p->chunk && threads <= p->threads) return IGQ_OK;
        if (chunk < p->chunk) chunk = p->chunk;
        if (threads < p->threads) threads = p->threads;
    }
    IGQ_TRY(plan_alloc(&grown, m, chunk, threads, who));
    igq__exec_plan_free(p);
    *p = grown;
    return IGQ_OK;
}

void igq__exec_plan_run(const igq_exec_plan *p, const struct igq_model *m, const float *images,
                        int64_t batch, float *out, int feat, igq__pool *pool, igq_prof *prof)
{
    if (p->iscratch != NULL)
        igq__forward_int(m, images, batch, out, feat, p->iscratch, pool, prof);
    else
        igq__forward_par(m, images, batch, out, feat, p->scratch, p->hooks, pool, prof);
}
