/* Activation quantizers from what the fp32 pass observed: per-tensor ranges from the reservoir
 * sample (IGQ_OPT_CALIBRATOR), IGQ group ranges by k-means on per-image (min, max) points of
 * channels or softmax rows (quant/groups.c), or the dynamic per-channel upper bound. Q, K and V
 * stay per-tensor; the patch-embedding and head inputs are per-tensor at EDGE_BITS. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "ptq_internal.h"

igq_status igq__ptq_qz_alloc(struct igq_quantizer *z, int32_t n)
{
    z->n_params = n;
    if (n == 0) return IGQ_OK;
    z->lo = (float *)igq__calloc((size_t)n, sizeof(float));
    z->hi = (float *)igq__calloc((size_t)n, sizeof(float));
    z->qp = (igq_qparams *)igq__calloc((size_t)n, sizeof(igq_qparams));
    IGQ_CHECK(z->lo && z->hi && z->qp, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    return IGQ_OK;
}

/* Per-tensor quantizer from a site's reservoir sample. */
static igq_status build_tensor(const igq_ptq *p, struct igq_quantizer *z, const igq_site_obs *s,
                               int bits, int unsigned_only)
{
    float *tmp;
    IGQ_CHECK(s->n_kept > 0, IGQ_ERR_INTERNAL, "igq_quantize_model: site never observed");
    z->granularity   = IGQ__GRAN_TENSOR;
    z->bits          = bits;
    z->unsigned_only = unsigned_only;
    IGQ_TRY(igq__ptq_qz_alloc(z, 1));
    tmp = (float *)igq__malloc((size_t)s->n_kept * sizeof(float));
    IGQ_CHECK(tmp != NULL, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    memcpy(tmp, s->samples, (size_t)s->n_kept * sizeof(float));
    igq__calibrate_range((igq_calib_kind)p->cfg->v[IGQ_OPT_CALIBRATOR], tmp, s->n_kept, bits,
                         unsigned_only, &z->lo[0], &z->hi[0]);
    igq__free(tmp);
    z->qp[0] = igq__qp_asym(z->lo[0], z->hi[0], bits);
    return IGQ_OK;
}

/* Group quantizer with G groups from a site's (min, max) points. */
static igq_status build_groups(const igq_ptq *p, struct igq_quantizer *z, const igq_site_obs *s,
                               int G, int bits, int unsigned_only)
{
    const uint64_t seed = (uint64_t)p->cfg->v[IGQ_OPT_SEED];
    float         *zeros = NULL;
    int            g, it;
    z->granularity   = IGQ__GRAN_GROUP;
    z->bits          = bits;
    z->unsigned_only = unsigned_only;
    z->policy        = (int32_t)p->cfg->v[IGQ_OPT_GROUP_ASSIGNMENT];
    IGQ_TRY(igq__ptq_qz_alloc(z, G));
    if (unsigned_only) {
        /* Softmax rows: the lower end is 0 by construction; group on the row maxima only. */
        zeros = (float *)igq__calloc((size_t)s->n_pts, sizeof(float));
        IGQ_CHECK(zeros != NULL, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    }
    it = igq__groups_calibrate(zeros != NULL ? zeros : s->pm, s->pM, s->n_pts, G, seed, z->lo,
                               z->hi);
    igq__free(zeros);
    IGQ_CHECK(it >= 0, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    z->clo = (float *)igq__calloc((size_t)G, sizeof(float));
    z->chi = (float *)igq__calloc((size_t)G, sizeof(float));
    IGQ_CHECK(z->clo != NULL && z->chi != NULL, IGQ_ERR_NO_MEMORY,
              "igq_quantize_model: out of memory");
    for (g = 0; g < G; g++) {
        z->qp[g] = igq__qp_asym(z->lo[g], z->hi[g], bits);
        igq__cover_bounds(&z->qp[g], &z->clo[g], &z->chi[g]);
    }
    return IGQ_OK;
}

igq_status igq__ptq_build_act(igq_ptq *p, int32_t block, int32_t site, int G,
                              struct igq_quantizer *z)
{
    const igq_site_obs *s    = igq__obs_at(&p->obs, block, site);
    const int64_t      *v    = p->cfg->v;
    const int           gran = (int)v[IGQ_OPT_ACT_GRANULARITY];
    const int           uns  = site == IGQ__SITE_ATTN;
    /* ATTN_BITS = 0: the softmax output at ACT_BITS like every other site */
    const int bits = (int)(site == IGQ__SITE_ATTN && v[IGQ_OPT_ATTN_BITS] ? v[IGQ_OPT_ATTN_BITS]
                                                                          : v[IGQ_OPT_ACT_BITS]);
    memset(z, 0, sizeof *z);
    z->present = 1;
    z->block   = block;
    z->site    = site;
    z->rows    = site == IGQ__SITE_ATTN;
    if (block < 0) return build_tensor(p, z, s, (int)v[IGQ_OPT_EDGE_BITS], 0);
    if (!igq__ptq_is_group_site(site) || gran == IGQ__GRAN_TENSOR)
        return build_tensor(p, z, s, bits, uns);
    if (gran == IGQ__GRAN_CHANNEL) {
        z->granularity   = IGQ__GRAN_CHANNEL;
        z->bits          = bits;
        z->unsigned_only = uns;
        return IGQ_OK;
    }
    return build_groups(p, z, s, G, bits, uns);
}

/* Builds the quantizers of every activation site of p->qm: the patch and head inputs at block
 * -1, the ten block sites elsewhere, each group site with G groups; chosen (if not NULL)
 * rebuilds only the group sites, with the counts the allocation picked. */
static igq_status build_sites(igq_ptq *p, int G, const int *chosen)
{
    /* slot of a group site in a block's row of chosen (allocate.c's order) */
    static const int slot[IGQ__N_SITES] = {0, -1, -1, 1, -1, 2, 3, 4, -1, -1};
    int32_t          b, site;
    for (b = -1; b < p->fp->d.depth; b++)
        for (site = 0; site < IGQ__N_SITES; site++) {
            struct igq_quantizer *z    = igq__qz(p->qm->q, b, site);
            const int             edge = site == IGQ__SITE_PATCH_IN || site == IGQ__SITE_HEAD_IN;
            if ((b < 0) != edge) continue;
            if (chosen != NULL && (b < 0 || !igq__ptq_is_group_site(site))) continue;
            igq__quantizer_clear(z);
            IGQ_TRY(igq__ptq_build_act(p, b, site, chosen ? chosen[b * 5 + slot[site]] : G, z));
        }
    return IGQ_OK;
}

/* Every site with G = IGQ_OPT_GROUPS (or, under a budget, its average Ḡ); then, under a
 * budget, the group sites again with the allocated counts. */
igq_status igq__ptq_calibrate_acts(igq_ptq *p)
{
    const int  budget = (int)p->cfg->v[IGQ_OPT_GROUP_BUDGET];
    int       *chosen = NULL;
    igq_status s;
    IGQ_TRY(igq__ptq_progress(p, "calibrate", 0.0));
    IGQ_TRY(build_sites(p, budget > 0 ? budget : (int)p->cfg->v[IGQ_OPT_GROUPS], NULL));
    if (budget > 0 && p->cfg->v[IGQ_OPT_ACT_GRANULARITY] == IGQ__GRAN_GROUP) {
        IGQ_TRY(igq__ptq_allocate_groups(p, &chosen));
        s = build_sites(p, 0, chosen);
        igq__free(chosen);
        IGQ_TRY(s);
    }
    return igq__ptq_progress(p, "calibrate", 1.0);
}
