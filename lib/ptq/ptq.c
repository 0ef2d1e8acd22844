/* igq_quantize_model: observe (observe.c) -> calibrate activations (calibrate_acts.c), with the
 * group counts allocated under a BOP budget (allocate.c) -> VT-PTQ ranking-aware Q/K search
 * (vtptq.c) -> quantize weights (quantize_weights.c), optionally with VT-PTQ mixed precision.
 *
 * Choices the IGQ-ViT paper leaves open, and what this implementation does:
 *  - Group quantizers are calibrated by k-means on per-image (min, max) points of channels
 *    (attention: rows), then widened to the envelope of each cluster (quant/groups.c).
 *  - Run-time assignment: by default the narrowest group whose range covers the channel
 *    (IGQ_ASSIGN_COVER); the paper's nearest-(min, max) rule (IGQ_ASSIGN_NEAREST) clips wide
 *    channels, which at 8 bits costs more than per-tensor rounding.
 *  - Q, K and V use per-tensor quantizers; the softmax output is row-grouped (unsigned).
 *  - Patch embedding and head: per-tensor inputs and per-channel weights at EDGE_BITS.
 *  - Allocation metric and BOP cost: see allocate.c.
 *
 * Progress stages, in order (igq.h documents them for callers): "observe", "calibrate" (0 and
 * 1, with "allocate" between them under a group budget), "ranking", "mixed precision",
 * "weights", "done". Each reports increasing fractions that end at 1. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "ptq_internal.h"

igq_status igq__ptq_progress(const igq_ptq *p, const char *stage, double frac)
{
    if (p->cfg->progress != NULL && p->cfg->progress(p->cfg->user, stage, frac) != 0)
        return igq__set_error(IGQ_ERR_CANCELLED, "igq_quantize_model: cancelled during '%s'",
                              stage);
    return IGQ_OK;
}

igq_status igq__ptq_mck_init(igq_ptq_mck *k, int L, int C)
{
    k->L    = L;
    k->C    = C;
    k->loss = (double *)igq__calloc((size_t)L * C, sizeof(double));
    k->cost = (int64_t *)igq__calloc((size_t)L * C, sizeof(int64_t));
    IGQ_CHECK(k->loss != NULL && k->cost != NULL, IGQ_ERR_NO_MEMORY,
              "igq_quantize_model: out of memory");
    return IGQ_OK;
}

igq_status igq__ptq_mck_solve(igq_ptq_mck *k, igq_status s, int64_t budget, int **choice)
{
    int *pick = NULL;
    if (s == IGQ_OK) {
        pick = (int *)igq__calloc((size_t)k->L, sizeof(int));
        s    = pick != NULL ? igq__mck_solve(k->L, k->C, k->cost, k->loss, budget, pick)
                            : igq__set_error(IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    }
    igq__free(k->loss);
    igq__free(k->cost);
    k->loss = NULL;
    k->cost = NULL;
    if (s != IGQ_OK) {
        igq__free(pick);
        pick = NULL;
    }
    *choice = pick;
    return s;
}

static igq_status run(igq_ptq *p)
{
    const igq_vit_dims *d     = &p->fp->d;
    const int64_t       chunk = igq__forward_chunk(d, p->n_calib);
    IGQ_TRY(igq__ptq_progress(p, "observe", 0.0));
    p->scratch   = (float *)igq__malloc(igq__forward_scratch_floats(d, chunk) * sizeof(float));
    /* outputs compared by the allocation metric: logits, or embeddings without a classifier */
    p->fp_logits = (float *)igq__malloc((size_t)p->n_calib * igq__out_width(d) * sizeof(float));
    p->logits    = (float *)igq__malloc((size_t)p->n_calib * igq__out_width(d) * sizeof(float));
    p->stat      = (float *)igq__malloc(igq__sim_stat_floats(d) * sizeof(float));
    IGQ_CHECK(p->scratch && p->fp_logits && p->logits && p->stat, IGQ_ERR_NO_MEMORY,
              "igq_quantize_model: out of memory");
    IGQ_TRY(igq__ptq_observe(p));
    IGQ_TRY(igq__ptq_calibrate_acts(p));
    if (p->cfg->v[IGQ_OPT_ATTN_RANKING]) IGQ_TRY(igq__ptq_rank_calibrate(p));
    IGQ_TRY(igq__ptq_quantize_weights(p));
    return igq__ptq_progress(p, "done", 1.0);
}

/* The result: a copy of the fp32 model with an empty quantizer state recording cfg. */
static igq_status new_result(igq_ptq *p)
{
    const int32_t depth = p->fp->d.depth;
    igq_qstate   *q;
    IGQ_TRY(igq__model_clone(p->fp, &p->qm));
    q = p->qm->q = (igq_qstate *)igq__calloc(1, sizeof(igq_qstate));
    IGQ_CHECK(q != NULL, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    q->depth = depth;
    memcpy(q->opts, p->cfg->v, sizeof p->cfg->v);
    q->qz = (struct igq_quantizer *)igq__calloc((size_t)(depth + 1) * IGQ__N_QSITES,
                                                sizeof(struct igq_quantizer));
    IGQ_CHECK(q->qz != NULL, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    return IGQ_OK;
}

igq_status igq__quantize(const struct igq_model *fp, const float *calib, int64_t n_calib,
                         const struct igq_config *cfg, struct igq_model **out)
{
    igq_ptq    p = {.fp = fp, .cfg = cfg, .calib = calib, .n_calib = n_calib};
    igq_status s = new_result(&p);
    if (s == IGQ_OK) s = run(&p);
    igq__ptq_obs_free(&p.obs, fp->d.depth);
    igq__free(p.scratch);
    igq__free(p.fp_logits);
    igq__free(p.logits);
    igq__free(p.stat);
    if (s != IGQ_OK) {
        igq__model_destroy(p.qm); /* NULL-safe */
        p.qm = NULL;
    }
    *out = p.qm;
    return s;
}
