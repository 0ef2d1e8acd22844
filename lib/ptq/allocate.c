/* Group-count allocation under a BOP budget (IGQ_OPT_GROUP_BUDGET = Ḡ > 0).
 *
 * Metric of a choice: mean KL(fp32 || model with only that site quantized at G groups) over
 * the calibration images (a model without a classifier: the mean cosine distance of its
 * embeddings). BOP cost of G groups at a site = G x (tokens x C_out + C_in) for a
 * linear input (per-group rescale-accumulate plus assignment distances) and G x heads x tokens
 * for the softmax rows (assignment only), each counted as 32x32-bit ops; the budget is the cost
 * of Ḡ groups everywhere. An exact multiple-choice knapsack picks one G per site
 * (quant/mck.c). */
#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "ptq_internal.h"

const int igq__group_candidates[] = {1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64};
const int igq__n_group_candidates = (int)(sizeof igq__group_candidates / sizeof(int));

/* Mean cosine distance 1 - cos(ref_i, got_i) of n embeddings of width k: the metric for a
 * model without a classifier (an encoder: its embeddings are its output). */
static double mean_cos_dist(const float *ref, const float *got, int64_t n, int32_t k)
{
    double  total = 0.0;
    int64_t i;
    int32_t c;
    for (i = 0; i < n; i++) {
        const float *a = ref + i * k, *b = got + i * k;
        double       ab = 0.0, aa = 0.0, bb = 0.0;
        for (c = 0; c < k; c++) {
            ab += (double)a[c] * b[c];
            aa += (double)a[c] * a[c];
            bb += (double)b[c] * b[c];
        }
        total += aa > 0.0 && bb > 0.0 ? 1.0 - ab / sqrt(aa * bb) : (aa == bb ? 0.0 : 1.0);
    }
    return n > 0 ? total / (double)n : 0.0;
}

static double mean_kl(const float *ref, const float *got, int64_t n, int32_t k)
{
    double  total = 0.0;
    int64_t i;
    int32_t c;
    for (i = 0; i < n; i++) {
        const float *a = ref + i * k, *b = got + i * k;
        double       ma = a[0], mb = b[0], sa = 0.0, sb = 0.0, kl = 0.0;
        for (c = 1; c < k; c++) {
            ma = a[c] > ma ? a[c] : ma;
            mb = b[c] > mb ? b[c] : mb;
        }
        for (c = 0; c < k; c++) {
            sa += exp(a[c] - ma);
            sb += exp(b[c] - mb);
        }
        for (c = 0; c < k; c++) {
            double la = a[c] - ma - log(sa), lb = b[c] - mb - log(sb);
            kl += exp(la) * (la - lb);
        }
        total += kl;
    }
    return total / (double)n;
}

static int64_t site_cout(const igq_vit_dims *d, int32_t site)
{
    switch (site) {
    case IGQ__SITE_QKV_IN: return 3 * (int64_t)d->dim;
    case IGQ__SITE_FC1_IN: return d->mlp;
    default: return d->dim;
    }
}

/* G-dependent BOPs of a site per image, in units of one 32x32-bit op. */
static double group_cost(const igq_vit_dims *d, int32_t site, int G)
{
    if (site == IGQ__SITE_ATTN) return (double)G * d->heads * d->n_tokens;
    return (double)G * ((double)d->n_tokens * site_cout(d, site) + igq__ptq_site_cin(d, site));
}

/* Mean KL of the calibration predictions with only (block, site) quantized at G groups. */
static igq_status site_loss(igq_ptq *p, int32_t block, int32_t site, int G, double *loss)
{
    struct igq_quantizer z;
    igq_sim_ctx          sc;
    igq_site_hook        hook;
    igq_status           s;
    memset(&z, 0, sizeof z);
    s = igq__ptq_build_act(p, block, site, G, &z);
    if (s == IGQ_OK) {
        memset(&sc, 0, sizeof sc);
        /* Only this site is quantized: the metric of one layer's choice. (Measuring it with
         * every other site quantized at the budget average was tried and gave worse
         * allocations on the Fashion-MNIST models.) */
        sc.only       = &z;
        sc.only_block = block;
        sc.only_site  = site;
        sc.stat       = p->stat;
        hook.fn       = igq__sim_hook;
        hook.ctx      = &sc;
        igq__forward_out(p->fp, p->calib, p->n_calib, p->logits, p->scratch, &hook);
        *loss = p->fp->d.classes > 0
                    ? mean_kl(p->fp_logits, p->logits, p->n_calib, p->fp->d.classes)
                    : mean_cos_dist(p->fp_logits, p->logits, p->n_calib, p->fp->d.dim);
    }
    igq__quantizer_clear(&z);
    return s;
}

igq_status igq__ptq_allocate_groups(igq_ptq *p, int **chosen)
{
    const igq_vit_dims  *d        = &p->fp->d;
    static const int32_t sites[5] = {IGQ__SITE_QKV_IN, IGQ__SITE_ATTN, IGQ__SITE_PROJ_IN,
                                     IGQ__SITE_FC1_IN, IGQ__SITE_FC2_IN};
    const int            L = d->depth * 5, C = igq__n_group_candidates;
    const int            Gbar = (int)p->cfg->v[IGQ_OPT_GROUP_BUDGET];
    double               total = 0.0, scale;
    int64_t              budget = 0;
    int                  l, c, n_eval = 0;
    igq_ptq_mck          k;
    igq_status           s = igq__ptq_mck_init(&k, L, C);
    /* Candidates above 4 x the budget average are not considered (keeps the k-means cost
     * bounded); they cannot be afforded by more than a few sites. The candidates ascend, so
     * the ones considered come first. */
    while (n_eval < C && igq__group_candidates[n_eval] <= 4 * Gbar) n_eval++;
    for (l = 0; s == IGQ_OK && l < L; l++) total += group_cost(d, sites[l % 5], Gbar);
    scale = 20000.0 / total;
    for (l = 0; s == IGQ_OK && l < L; l++) {
        int32_t block = l / 5, site = sites[l % 5];
        budget += (int64_t)llround(group_cost(d, site, Gbar) * scale);
        for (c = 0; c < C && s == IGQ_OK; c++) {
            const int G = igq__group_candidates[c];
            if (c >= n_eval) {
                k.cost[(size_t)l * C + c] = -1; /* not a choice */
                continue;
            }
            k.cost[(size_t)l * C + c] = (int64_t)llround(group_cost(d, site, G) * scale);
            s = site_loss(p, block, site, G, &k.loss[(size_t)l * C + c]);
            if (s == IGQ_OK)
                s = igq__ptq_progress(p, "allocate",
                                      (double)(l * n_eval + c + 1) / (double)(L * n_eval));
        }
    }
    s = igq__ptq_mck_solve(&k, s, budget, chosen);
    for (l = 0; s == IGQ_OK && l < L; l++) (*chosen)[l] = igq__group_candidates[(*chosen)[l]];
    return s;
}
