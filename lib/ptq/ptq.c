/* igq_quantize_model: observe -> calibrate activations -> (allocate group counts) ->
 * (VT-PTQ ranking-aware Q/K search) -> quantize weights (optionally with VT-PTQ mixed precision).
 *
 * Choices the IGQ-ViT paper leaves open, and what this implementation does:
 *  - Group quantizers are calibrated by k-means on per-image (min, max) points of channels
 *    (attention: rows), then widened to the envelope of each cluster (quant/groups.c).
 *  - Run-time assignment: by default the narrowest group whose range covers the channel
 *    (IGQ_ASSIGN_COVER); the paper's nearest-(min, max) rule (IGQ_ASSIGN_NEAREST) clips wide
 *    channels, which at 8 bits costs more than per-tensor rounding.
 *  - Q, K and V use per-tensor quantizers; the softmax output is row-grouped (unsigned).
 *  - Patch embedding and head: per-tensor inputs and per-channel weights at EDGE_BITS.
 *  - Allocation metric: mean KL(fp32 || model with only that site quantized at G groups) over
 *    the calibration images; BOP cost of G groups at a site = G x (tokens x C_out + C_in) for
 *    a linear input (per-group rescale-accumulate plus assignment distances) and
 *    G x heads x tokens for the softmax rows (assignment only), each counted as 32x32-bit ops;
 *    an exact multiple-choice knapsack picks one G per site (quant/mck.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/f32_ref.h"
#include "ptq.h"

const int igq__group_candidates[] = {1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64};
const int igq__n_group_candidates = (int)(sizeof igq__group_candidates / sizeof(int));

#define RESERVOIR (1 << 18)
#define RANK_IMAGES 4

/* ---- options ------------------------------------------------------------------------------- */

typedef struct opt_info {
    int64_t lo, hi, def;
} opt_info;

static const opt_info OPTS[IGQ__N_OPTIONS] = {
    {2, 8, 8},                  /* WEIGHT_BITS */
    {2, 8, 8},                  /* ACT_BITS */
    {0, 8, 0},                  /* ATTN_BITS (0 = ACT_BITS; 1 rejected) */
    {2, 8, 8},                  /* EDGE_BITS */
    {0, 2, IGQ__GRAN_GROUP},    /* ACT_GRANULARITY */
    {1, 64, 8},                 /* GROUPS */
    {0, 64, 0},                 /* GROUP_BUDGET */
    {0, 3, IGQ__CALIB_MINMAX},  /* CALIBRATOR */
    {0, 3, IGQ__CALIB_MINMAX},  /* WEIGHT_CALIBRATOR */
    {0, INT64_MAX, 0},          /* SEED */
    {0, 1, 0},                  /* EXECUTOR (INT) */
    {0, 1, 0},                  /* ATTN_RANKING */
    {0, 800, 0},                /* MIXED_PRECISION_BUDGET (0 or 200..800) */
    {0, 1, IGQ__ASSIGN_COVER},  /* GROUP_ASSIGNMENT */
    {0, 0, 0},
    {0, 0, 0}};
#define N_PUBLIC_OPTIONS 14

int igq__option_info(int option, int64_t *lo, int64_t *hi, int64_t *def)
{
    if (option < 0 || option >= N_PUBLIC_OPTIONS) return 0;
    if (lo) *lo = OPTS[option].lo;
    if (hi) *hi = OPTS[option].hi;
    if (def) *def = OPTS[option].def;
    return 1;
}

void igq__config_defaults(struct igq_config *c)
{
    int i;
    memset(c, 0, sizeof *c);
    for (i = 0; i < IGQ__N_OPTIONS; i++) c->v[i] = OPTS[i].def;
}

/* ---- observation --------------------------------------------------------------------------- */

typedef struct site_obs {
    float   *samples;  /* reservoir sample of values */
    int64_t  n_seen, n_kept;
    uint64_t rng;
    float   *pm, *pM;  /* per-image channel (or row) (min, max) points */
    int64_t  n_pts, cap_pts;
    float   *keep;     /* captured views of the first images (ranking / mixed precision) */
    int64_t  keep_rows, keep_cols, keep_n;
} site_obs;

typedef struct obs_ctx {
    const igq_vit_dims *d;
    site_obs           *s;           /* [(depth + 1) * IGQ__N_SITES] */
    int64_t             n_keep;      /* images whose views are kept at captured sites */
    int                 keep_qk;     /* keep Q and K (ranking) */
    int                 keep_inputs; /* keep linear inputs (mixed precision) */
    int                 failed;
    int64_t             base;        /* index of the first image of the current call */
} obs_ctx;

static site_obs *obs_at(obs_ctx *o, int32_t block, int32_t site)
{
    return &o->s[(size_t)(block + 1) * IGQ__N_SITES + (size_t)site];
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static int is_group_site(int32_t site)
{
    return site == IGQ__SITE_QKV_IN || site == IGQ__SITE_PROJ_IN || site == IGQ__SITE_FC1_IN ||
           site == IGQ__SITE_FC2_IN || site == IGQ__SITE_ATTN;
}

static int is_linear_input(int32_t site)
{
    return site == IGQ__SITE_QKV_IN || site == IGQ__SITE_PROJ_IN || site == IGQ__SITE_FC1_IN ||
           site == IGQ__SITE_FC2_IN;
}

static void observe_hook(void *ctx, int64_t image, int32_t block, int32_t site, int32_t head,
                         float *x, int64_t rows, int64_t cols, int64_t ld)
{
    obs_ctx  *o = (obs_ctx *)ctx;
    site_obs *s = obs_at(o, block, site);
    int64_t   r, c;
    if (o->failed) return;
    /* Reservoir sample (deterministic: the forward visits values in a fixed order). */
    if (s->samples == NULL) {
        s->samples = (float *)igq__malloc(RESERVOIR * sizeof(float));
        if (s->samples == NULL) {
            o->failed = 1;
            return;
        }
    }
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) {
            float v = x[r * ld + c];
            s->n_seen++;
            if (s->n_kept < RESERVOIR) {
                s->samples[s->n_kept++] = v;
            } else {
                uint64_t j = rng_next(&s->rng) % (uint64_t)s->n_seen;
                if (j < RESERVOIR) s->samples[j] = v;
            }
        }
    /* (min, max) points of channels (attention: rows). */
    if (block >= 0 && is_group_site(site)) {
        int64_t need = site == IGQ__SITE_ATTN ? rows : cols;
        if (s->n_pts + need > s->cap_pts) {
            o->failed = 1;
            return;
        }
        if (site == IGQ__SITE_ATTN) {
            for (r = 0; r < rows; r++) {
                float m = x[r * ld], M = m;
                for (c = 1; c < cols; c++) {
                    m = x[r * ld + c] < m ? x[r * ld + c] : m;
                    M = x[r * ld + c] > M ? x[r * ld + c] : M;
                }
                s->pm[s->n_pts]   = m;
                s->pM[s->n_pts++] = M;
            }
        } else {
            float *pm = s->pm + s->n_pts, *pM = s->pM + s->n_pts;
            for (c = 0; c < cols; c++) pm[c] = pM[c] = x[c];
            for (r = 1; r < rows; r++)
                for (c = 0; c < cols; c++) {
                    float v = x[r * ld + c];
                    pm[c]   = v < pm[c] ? v : pm[c];
                    pM[c]   = v > pM[c] ? v : pM[c];
                }
            s->n_pts += cols;
        }
    }
    /* Keep whole views of the first images where a later stage needs them. */
    image += o->base;
    if (s->keep != NULL && image < o->n_keep && head < 0) {
        float *dst = s->keep + (size_t)image * rows * cols;
        for (r = 0; r < rows; r++) memcpy(dst + r * cols, x + r * ld, (size_t)cols * sizeof(float));
        s->keep_rows = rows;
        s->keep_cols = cols;
        if (image + 1 > s->keep_n) s->keep_n = image + 1;
    }
}

static void obs_free(obs_ctx *o, int32_t depth)
{
    size_t i;
    if (o->s == NULL) return;
    for (i = 0; i < (size_t)(depth + 1) * IGQ__N_SITES; i++) {
        igq__free(o->s[i].samples);
        igq__free(o->s[i].pm);
        igq__free(o->s[i].pM);
        igq__free(o->s[i].keep);
    }
    igq__free(o->s);
    o->s = NULL;
}

/* ---- pipeline state ------------------------------------------------------------------------ */

typedef struct ptq {
    const struct igq_model  *fp;
    struct igq_model        *qm;      /* the result under construction */
    const struct igq_config *cfg;
    const float             *calib;
    int64_t                  n_calib;
    obs_ctx                  obs;
    float                   *fp_logits; /* [n_calib][classes] */
    float                   *scratch;   /* forward scratch for n_calib images */
    float                   *logits;    /* [n_calib][classes] */
    float                   *stat;
    const char              *stage;
} ptq;

static igq_status progress(ptq *p, const char *stage, double frac)
{
    p->stage = stage;
    if (p->cfg->progress != NULL && p->cfg->progress(p->cfg->user, stage, frac) != 0)
        return igq__set_error(IGQ_ERR_CANCELLED, "igq_quantize_model: cancelled during '%s'",
                              stage);
    return IGQ_OK;
}

static int act_bits(const ptq *p) { return (int)p->cfg->v[IGQ_OPT_ACT_BITS]; }
static int attn_bits(const ptq *p)
{
    return p->cfg->v[IGQ_OPT_ATTN_BITS] ? (int)p->cfg->v[IGQ_OPT_ATTN_BITS] : act_bits(p);
}

/* Allocates z's parameter arrays for n quantizers. */
static igq_status qz_alloc(struct igq_quantizer *z, int32_t n)
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
static igq_status build_tensor(ptq *p, struct igq_quantizer *z, site_obs *s, int bits,
                               int unsigned_only)
{
    float *tmp;
    IGQ_CHECK(s->n_kept > 0, IGQ_ERR_INTERNAL, "igq_quantize_model: site never observed");
    z->granularity   = IGQ__GRAN_TENSOR;
    z->bits          = bits;
    z->unsigned_only = unsigned_only;
    IGQ_TRY(qz_alloc(z, 1));
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
static igq_status build_groups(ptq *p, struct igq_quantizer *z, site_obs *s, int G, int bits,
                               int unsigned_only)
{
    int g;
    z->granularity   = IGQ__GRAN_GROUP;
    z->bits          = bits;
    z->unsigned_only = unsigned_only;
    z->policy        = (int32_t)p->cfg->v[IGQ_OPT_GROUP_ASSIGNMENT];
    IGQ_TRY(qz_alloc(z, G));
    if (unsigned_only) {
        /* Softmax rows: the lower end is 0 by construction; group on the row maxima only. */
        float *zeros = (float *)igq__calloc((size_t)s->n_pts, sizeof(float));
        IGQ_CHECK(zeros != NULL, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
        int it = igq__groups_calibrate(zeros, s->pM, s->n_pts, G,
                                       (uint64_t)p->cfg->v[IGQ_OPT_SEED], z->lo, z->hi);
        igq__free(zeros);
        IGQ_CHECK(it >= 0, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    } else {
        int it = igq__groups_calibrate(s->pm, s->pM, s->n_pts, G,
                                       (uint64_t)p->cfg->v[IGQ_OPT_SEED], z->lo, z->hi);
        IGQ_CHECK(it >= 0, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    }
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

/* The activation quantizer of (block, site) with G groups where the site is grouped. */
static igq_status build_act(ptq *p, int32_t block, int32_t site, int G, struct igq_quantizer *z)
{
    site_obs *s    = obs_at(&p->obs, block, site);
    int       gran = (int)p->cfg->v[IGQ_OPT_ACT_GRANULARITY];
    int       uns  = site == IGQ__SITE_ATTN;
    int       bits = site == IGQ__SITE_ATTN ? attn_bits(p) : act_bits(p);
    memset(z, 0, sizeof *z);
    z->present = 1;
    z->block   = block;
    z->site    = site;
    z->rows    = site == IGQ__SITE_ATTN;
    if (block < 0) return build_tensor(p, z, s, (int)p->cfg->v[IGQ_OPT_EDGE_BITS], 0);
    if (!is_group_site(site) || gran == IGQ__GRAN_TENSOR) return build_tensor(p, z, s, bits, uns);
    if (gran == IGQ__GRAN_CHANNEL) {
        z->granularity   = IGQ__GRAN_CHANNEL;
        z->bits          = bits;
        z->unsigned_only = uns;
        return IGQ_OK;
    }
    return build_groups(p, z, s, G, bits, uns);
}

/* ---- KL of predictions --------------------------------------------------------------------- */

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

/* ---- group-count allocation ---------------------------------------------------------------- */

static int64_t site_cout(const igq_vit_dims *d, int32_t site)
{
    switch (site) {
    case IGQ__SITE_QKV_IN: return 3 * (int64_t)d->dim;
    case IGQ__SITE_FC1_IN: return d->mlp;
    default: return d->dim;
    }
}

static int64_t site_cin(const igq_vit_dims *d, int32_t site)
{
    return site == IGQ__SITE_FC2_IN ? d->mlp : d->dim;
}

/* G-dependent BOPs of a site per image, in units of one 32x32-bit op. */
static double group_cost(const igq_vit_dims *d, int32_t site, int G)
{
    if (site == IGQ__SITE_ATTN) return (double)G * d->heads * d->n_tokens;
    return (double)G * ((double)d->n_tokens * site_cout(d, site) + site_cin(d, site));
}

static igq_status allocate_groups(ptq *p, int *chosen)
{
    const igq_vit_dims *d = &p->fp->d;
    static const int32_t sites[5] = {IGQ__SITE_QKV_IN, IGQ__SITE_ATTN, IGQ__SITE_PROJ_IN,
                                     IGQ__SITE_FC1_IN, IGQ__SITE_FC2_IN};
    const int  L = d->depth * 5, C = igq__n_group_candidates;
    const int  Gbar = (int)p->cfg->v[IGQ_OPT_GROUP_BUDGET];
    double    *loss = (double *)igq__calloc((size_t)L * C, sizeof(double));
    int64_t   *cost = (int64_t *)igq__calloc((size_t)L * C, sizeof(int64_t));
    int       *pick = (int *)igq__calloc((size_t)L, sizeof(int));
    double     total = 0.0, scale;
    int64_t    budget = 0;
    igq_status s = (loss && cost && pick) ? IGQ_OK : igq__set_error(IGQ_ERR_NO_MEMORY, "out of memory");
    int        l, c;
    for (l = 0; s == IGQ_OK && l < L; l++) total += group_cost(d, sites[l % 5], Gbar);
    scale = 20000.0 / total;
    for (l = 0; s == IGQ_OK && l < L; l++) {
        int32_t block = l / 5, site = sites[l % 5];
        budget += (int64_t)llround(group_cost(d, site, Gbar) * scale);
        for (c = 0; c < C && s == IGQ_OK; c++) {
            struct igq_quantizer z;
            igq_sim_ctx          sc;
            igq_site_hook        hook;
            if (igq__group_candidates[c] > 4 * Gbar) {
                /* Candidates above 4 x the budget average are not considered (keeps the
                 * k-means cost bounded); they cannot be afforded by more than a few sites. */
                cost[(size_t)l * C + c] = -1;
                continue;
            }
            cost[(size_t)l * C + c] = (int64_t)llround(group_cost(d, site, igq__group_candidates[c]) * scale);
            memset(&z, 0, sizeof z);
            s = build_act(p, block, site, igq__group_candidates[c], &z);
            if (s == IGQ_OK) {
                memset(&sc, 0, sizeof sc);
                /* Only this site is quantized: the metric of one layer's choice. (Measuring it
                 * with every other site quantized at the budget average was tried and gave
                 * worse allocations on the Fashion-MNIST models.) */
                sc.only       = &z;
                sc.only_block = block;
                sc.only_site  = site;
                sc.stat       = p->stat;
                hook.fn       = igq__sim_hook;
                hook.ctx      = &sc;
                igq__forward(p->fp, p->calib, p->n_calib, p->logits, p->scratch, &hook);
                loss[(size_t)l * C + c] = mean_kl(p->fp_logits, p->logits, p->n_calib, d->classes);
            }
            igq__quantizer_clear(&z);
            if (s == IGQ_OK) s = progress(p, "allocate", (double)(l * C + c + 1) / (double)(L * C));
        }
    }
    if (s == IGQ_OK) s = igq__mck_solve(L, C, cost, loss, budget, pick);
    for (l = 0; s == IGQ_OK && l < L; l++) chosen[l] = igq__group_candidates[pick[l]];
    igq__free(loss);
    igq__free(cost);
    igq__free(pick);
    return s;
}

/* ---- VT-PTQ ranking-aware Q/K calibration -------------------------------------------------- */

/* Objective of VT-PTQ for attention scores: Pearson correlation of the quantized and fp scores
 * minus a ranking hinge over adjacent pairs (in fp order) of every score row. */
static double rank_objective(const igq_vit_dims *d, const float *Q, const float *K,
                             const struct igq_quantizer *zq, const struct igq_quantizer *zk,
                             int64_t n_img, float *qbuf, float *kbuf, const float *Aref,
                             const int32_t *order)
{
    const int64_t T = d->n_tokens, D = d->dim, hd = d->head_dim;
    const float   sc = 1.0f / sqrtf((float)hd);
    double        sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, hinge = 0, n = 0, gap = 0;
    int64_t       im, h, i, j, c, e;
    for (im = 0; im < n_img; im++) {
        const float *Ai = Aref + (size_t)im * d->heads * T * T;
        for (e = 0; e < T * D; e++) {
            qbuf[e] = igq__fq(Q[(size_t)im * T * D + e], &zq->qp[0]);
            kbuf[e] = igq__fq(K[(size_t)im * T * D + e], &zk->qp[0]);
        }
        for (h = 0; h < d->heads; h++)
            for (i = 0; i < T; i++) {
                const int32_t *ord = order + (((size_t)im * d->heads + h) * T + i) * T;
                float          row[4096];
                for (j = 0; j < T && j < 4096; j++) {
                    double acc = 0.0, a = Ai[((size_t)h * T + i) * T + j];
                    for (c = 0; c < hd; c++) acc += qbuf[i * D + h * hd + c] * kbuf[j * D + h * hd + c];
                    row[j] = (float)acc * sc;
                    sx += a;
                    sy += row[j];
                    sxx += a * a;
                    syy += (double)row[j] * row[j];
                    sxy += a * row[j];
                    n += 1.0;
                }
                for (j = 0; j + 1 < T && j + 1 < 4096; j++) {
                    /* ord sorts the row by fp score, descending: quantized order should agree. */
                    double da = Ai[((size_t)h * T + i) * T + ord[j]] - Ai[((size_t)h * T + i) * T + ord[j + 1]];
                    double dq = row[ord[j]] - row[ord[j + 1]];
                    double margin = 0.5 * da;
                    gap += da;
                    hinge += margin - dq > 0 ? margin - dq : 0.0;
                }
            }
    }
    {
        double cov = sxy - sx * sy / n, vx = sxx - sx * sx / n, vy = syy - sy * sy / n;
        double pearson = (vx > 0 && vy > 0) ? cov / sqrt(vx * vy) : 0.0;
        return pearson - (gap > 0 ? hinge / gap : 0.0);
    }
}

/* Indices of row sorted by descending value (insertion sort: rows are short, and qsort has no
 * context argument that would keep this reentrant). */
static void order_desc(const float *row, int32_t *o, int64_t n)
{
    int64_t i, j;
    for (i = 0; i < n; i++) o[i] = (int32_t)i;
    for (i = 1; i < n; i++) {
        int32_t v = o[i];
        for (j = i; j > 0 && row[o[j - 1]] < row[v]; j--) o[j] = o[j - 1];
        o[j] = v;
    }
}

static igq_status rank_calibrate(ptq *p)
{
    const igq_vit_dims *d = &p->fp->d;
    const int64_t       T = d->n_tokens, D = d->dim, hd = d->head_dim;
    int32_t             b;
    igq_status          s = IGQ_OK;
    int64_t             n_img = p->n_calib < RANK_IMAGES ? p->n_calib : RANK_IMAGES;
    float   *qbuf = (float *)igq__malloc((size_t)T * D * sizeof(float));
    float   *kbuf = (float *)igq__malloc((size_t)T * D * sizeof(float));
    float   *A    = (float *)igq__malloc((size_t)n_img * d->heads * T * T * sizeof(float));
    int32_t *ord  = (int32_t *)igq__malloc((size_t)n_img * d->heads * T * T * sizeof(int32_t));
    if (!qbuf || !kbuf || !A || !ord) s = igq__set_error(IGQ_ERR_NO_MEMORY, "out of memory");
    for (b = 0; s == IGQ_OK && b < d->depth; b++) {
        site_obs             *oq = obs_at(&p->obs, b, IGQ__SITE_Q), *ok = obs_at(&p->obs, b, IGQ__SITE_K);
        struct igq_quantizer *zq = igq__qz(p->qm->q, b, IGQ__SITE_Q), *zk = igq__qz(p->qm->q, b, IGQ__SITE_K);
        float                 lq = zq->lo[0], hq = zq->hi[0], lk = zk->lo[0], hk = zk->hi[0];
        int64_t               im, h, i, j, c;
        int                   round, k;
        float                 fq = 1.0f, fk = 1.0f;
        /* fp scores and their per-row order. */
        for (im = 0; im < n_img; im++)
            for (h = 0; h < d->heads; h++)
                for (i = 0; i < T; i++) {
                    float   *row = A + (((size_t)im * d->heads + h) * T + i) * T;
                    int32_t *o   = ord + (((size_t)im * d->heads + h) * T + i) * T;
                    for (j = 0; j < T; j++) {
                        double acc = 0.0;
                        for (c = 0; c < hd; c++)
                            acc += oq->keep[(size_t)im * T * D + i * D + h * hd + c] *
                                   ok->keep[(size_t)im * T * D + j * D + h * hd + c];
                        row[j] = (float)acc / sqrtf((float)hd);
                    }
                    order_desc(row, o, T);
                }
        /* Alternate: best Q range factor with K fixed, then K with Q fixed (two rounds); the
         * candidate factors span 0.5..1.2 of the calibrated range (EasyQuant/VT-PTQ grid). */
        for (round = 0; round < 2; round++)
            for (k = 0; k < 2; k++) {
                float  best_f = k == 0 ? fq : fk;
                double best   = -INFINITY;
                int    t;
                for (t = 0; t <= 14; t++) {
                    float  f = 0.5f + 0.05f * (float)t;
                    double v;
                    if (k == 0) {
                        zq->qp[0] = igq__qp_asym(lq * f, hq * f, zq->bits);
                        zk->qp[0] = igq__qp_asym(lk * fk, hk * fk, zk->bits);
                    } else {
                        zq->qp[0] = igq__qp_asym(lq * fq, hq * fq, zq->bits);
                        zk->qp[0] = igq__qp_asym(lk * f, hk * f, zk->bits);
                    }
                    v = rank_objective(d, oq->keep, ok->keep, zq, zk, n_img, qbuf, kbuf, A, ord);
                    if (v > best) {
                        best   = v;
                        best_f = f;
                    }
                }
                if (k == 0) fq = best_f; else fk = best_f;
            }
        zq->lo[0] = lq * fq;
        zq->hi[0] = hq * fq;
        zk->lo[0] = lk * fk;
        zk->hi[0] = hk * fk;
        zq->qp[0] = igq__qp_asym(zq->lo[0], zq->hi[0], zq->bits);
        zk->qp[0] = igq__qp_asym(zk->lo[0], zk->hi[0], zk->bits);
        s = progress(p, "ranking", (double)(b + 1) / d->depth);
    }
    igq__free(qbuf);
    igq__free(kbuf);
    igq__free(A);
    igq__free(ord);
    return s;
}

/* ---- weights ------------------------------------------------------------------------------- */

/* Nuclear norm of Y [r][c] = sum of singular values = sum of sqrt(eigenvalues of Y Y^T), the
 * eigenvalues from cyclic Jacobi rotations on the r x r Gram matrix. */
static double nuclear_norm(const float *Y, int64_t r, int64_t c)
{
    double *G = (double *)igq__calloc((size_t)(r * r), sizeof(double));
    double  sum = 0.0;
    int64_t i, j, k;
    int     sweep;
    if (G == NULL) return -1.0; /* out of memory */
    for (i = 0; i < r; i++)
        for (j = i; j < r; j++) {
            double acc = 0.0;
            for (k = 0; k < c; k++) acc += (double)Y[i * c + k] * Y[j * c + k];
            G[i * r + j] = G[j * r + i] = acc;
        }
    for (sweep = 0; sweep < 30; sweep++) {
        double off = 0.0;
        for (i = 0; i < r; i++)
            for (j = i + 1; j < r; j++) off += G[i * r + j] * G[i * r + j];
        if (off < 1e-22) break;
        for (i = 0; i < r; i++)
            for (j = i + 1; j < r; j++) {
                double aij = G[i * r + j], th, t, cs, sn;
                if (fabs(aij) < 1e-300) continue;
                th = (G[j * r + j] - G[i * r + i]) / (2.0 * aij);
                t  = (th >= 0 ? 1.0 : -1.0) / (fabs(th) + sqrt(th * th + 1.0));
                cs = 1.0 / sqrt(t * t + 1.0);
                sn = t * cs;
                for (k = 0; k < r; k++) {
                    double gki = G[k * r + i], gkj = G[k * r + j];
                    G[k * r + i] = cs * gki - sn * gkj;
                    G[k * r + j] = sn * gki + cs * gkj;
                }
                for (k = 0; k < r; k++) {
                    double gik = G[i * r + k], gjk = G[j * r + k];
                    G[i * r + k] = cs * gik - sn * gjk;
                    G[j * r + k] = sn * gik + cs * gjk;
                }
            }
    }
    for (i = 0; i < r; i++) sum += sqrt(G[i * r + i] > 0 ? G[i * r + i] : 0.0);
    igq__free(G);
    return sum;
}

static igq_linear *block_linear(struct igq_model *m, int32_t block, int32_t wsite)
{
    if (block < 0) {
        if (wsite == IGQ__SITE_PATCH_W) return &m->patch;
        if (wsite == IGQ__SITE_HEAD_W) return &m->head;
        return m->head_dist.wt != NULL ? &m->head_dist : NULL;
    }
    switch (wsite) {
    case IGQ__SITE_QKV_W: return &m->blocks[block].qkv;
    case IGQ__SITE_PROJ_W: return &m->blocks[block].proj;
    case IGQ__SITE_FC1_W: return &m->blocks[block].fc1;
    default: return &m->blocks[block].fc2;
    }
}

/* Per-output-channel symmetric quantization of a weight, in place (fake-quantized floats). */
static igq_status quantize_weight(ptq *p, int32_t block, int32_t wsite, int bits)
{
    igq_linear           *l = block_linear(p->qm, block, wsite);
    struct igq_quantizer *z = igq__qz(p->qm->q, block, wsite);
    float                *col;
    int32_t               o, i;
    if (l == NULL) return IGQ_OK;
    memset(z, 0, sizeof *z);
    z->present     = 1;
    z->block       = block;
    z->site        = wsite;
    z->is_weight   = 1;
    z->bits        = bits;
    z->granularity = IGQ__GRAN_CHANNEL;
    IGQ_TRY(qz_alloc(z, l->out));
    col = (float *)igq__malloc((size_t)l->in * sizeof(float));
    IGQ_CHECK(col != NULL, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    for (o = 0; o < l->out; o++) {
        float a;
        for (i = 0; i < l->in; i++) col[i] = l->wt[(size_t)i * l->out + o];
        a         = igq__calibrate_absmax((igq_calib_kind)p->cfg->v[IGQ_OPT_WEIGHT_CALIBRATOR], col,
                                          l->in, bits);
        z->lo[o]  = -a;
        z->hi[o]  = a;
        z->qp[o]  = igq__qp_sym(a, bits, 1);
        igq__fake_quant(l->wt + o, l->in, l->out, &z->qp[o]);
    }
    igq__free(col);
    return IGQ_OK;
}

/* VT-PTQ mixed precision: bits per linear layer maximizing sum(bits x nuclear norm of the
 * layer's output on the first calibration images) under a total weight-size budget; candidate
 * bits are WEIGHT_BITS - 1 .. WEIGHT_BITS + 1 (within 2..8). VT-PTQ's objective is linear in
 * the bits, so it drives layers to the ends of the candidate range; a range of +-2 put layers
 * at 2 bits in a W4 model and lost 2 points (measured), hence +-1. */
static igq_status mixed_precision(ptq *p, int *bits_out)
{
    const igq_vit_dims *d = &p->fp->d;
    static const int32_t in_site[4] = {IGQ__SITE_QKV_IN, IGQ__SITE_PROJ_IN, IGQ__SITE_FC1_IN,
                                       IGQ__SITE_FC2_IN};
    static const int32_t w_site[4] = {IGQ__SITE_QKV_W, IGQ__SITE_PROJ_W, IGQ__SITE_FC1_W,
                                      IGQ__SITE_FC2_W};
    const int  L = d->depth * 4, W = (int)p->cfg->v[IGQ_OPT_WEIGHT_BITS];
    const int  bmin = W - 1 < 2 ? 2 : W - 1, bmax = W + 1 > 8 ? 8 : W + 1, C = bmax - bmin + 1;
    double    *loss = (double *)igq__calloc((size_t)L * C, sizeof(double));
    int64_t   *cost = (int64_t *)igq__calloc((size_t)L * C, sizeof(int64_t));
    int       *pick = (int *)igq__calloc((size_t)L, sizeof(int));
    double     total_params = 0.0, unit;
    int64_t    budget, sum_units = 0;
    int        l, c;
    igq_status s = (loss && cost && pick) ? IGQ_OK : igq__set_error(IGQ_ERR_NO_MEMORY, "out of memory");
    for (l = 0; s == IGQ_OK && l < L; l++) {
        igq_linear *lin = block_linear((struct igq_model *)p->fp, l / 4, w_site[l % 4]);
        total_params += (double)lin->in * lin->out;
    }
    /* Each layer's size in units of total/2500 parameters (rounded, at least 1); a layer at b
     * bits costs b x units, and the budget is (average bits) x (sum of units), so a uniform
     * allocation at the average is always exactly affordable. */
    unit = total_params / 2500.0;
    for (l = 0; s == IGQ_OK && l < L; l++) {
        igq_linear *lin = block_linear((struct igq_model *)p->fp, l / 4, w_site[l % 4]);
        int64_t     u   = (int64_t)llround((double)lin->in * lin->out / unit);
        sum_units += u > 0 ? u : 1;
    }
    budget = sum_units * p->cfg->v[IGQ_OPT_MIXED_PRECISION_BUDGET] / 100;
    for (l = 0; s == IGQ_OK && l < L; l++) {
        igq_linear *lin = block_linear((struct igq_model *)p->fp, l / 4, w_site[l % 4]);
        site_obs   *o   = obs_at(&p->obs, l / 4, in_site[l % 4]);
        float      *Y   = (float *)igq__malloc((size_t)o->keep_rows * lin->out * sizeof(float));
        double      nuc;
        if (Y == NULL) {
            s = igq__set_error(IGQ_ERR_NO_MEMORY, "out of memory");
            break;
        }
        igq__f32_gemm__scalar(o->keep_rows, lin->out, lin->in, o->keep, lin->in, lin->wt, NULL, Y,
                                 lin->out);
        nuc = nuclear_norm(Y, o->keep_rows, lin->out);
        igq__free(Y);
        if (nuc < 0.0) {
            s = igq__set_error(IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
            break;
        }
        for (c = 0; c < C; c++) {
            int64_t u = (int64_t)llround((double)lin->in * lin->out / unit);
            cost[(size_t)l * C + c] = (int64_t)(bmin + c) * (u > 0 ? u : 1);
            loss[(size_t)l * C + c] = -(double)(bmin + c) * nuc;
        }
        s = progress(p, "mixed precision", (double)(l + 1) / L);
    }
    if (s == IGQ_OK) s = igq__mck_solve(L, C, cost, loss, budget, pick);
    for (l = 0; s == IGQ_OK && l < L; l++) bits_out[l] = bmin + pick[l];
    igq__free(loss);
    igq__free(cost);
    igq__free(pick);
    return s;
}

/* ---- the pipeline -------------------------------------------------------------------------- */

static igq_status run(ptq *p)
{
    const igq_vit_dims *d     = &p->fp->d;
    const int32_t       depth = d->depth;
    const int64_t       chunk = igq__forward_chunk(d, p->n_calib);
    int                *chosen = NULL, *wbits = NULL;
    int32_t             b, site;
    int                 pass;
    igq_site_hook       hook;
    igq_status          s = IGQ_OK;

    IGQ_TRY(progress(p, "observe", 0.0));
    p->scratch   = (float *)igq__malloc(igq__forward_scratch_floats(d, chunk) * sizeof(float));
    p->fp_logits = (float *)igq__malloc((size_t)p->n_calib * d->classes * sizeof(float));
    p->logits    = (float *)igq__malloc((size_t)p->n_calib * d->classes * sizeof(float));
    p->stat      = (float *)igq__malloc(igq__sim_stat_floats(d) * sizeof(float));
    p->obs.s     = (site_obs *)igq__calloc((size_t)(depth + 1) * IGQ__N_SITES, sizeof(site_obs));
    IGQ_CHECK(p->scratch && p->fp_logits && p->logits && p->stat && p->obs.s, IGQ_ERR_NO_MEMORY,
              "igq_quantize_model: out of memory");
    p->obs.d           = d;
    p->obs.n_keep      = p->n_calib < RANK_IMAGES ? p->n_calib : RANK_IMAGES;
    p->obs.keep_qk     = p->cfg->v[IGQ_OPT_ATTN_RANKING] != 0;
    p->obs.keep_inputs = p->cfg->v[IGQ_OPT_MIXED_PRECISION_BUDGET] != 0;
    for (b = -1; b < depth; b++)
        for (site = 0; site < IGQ__N_SITES; site++) {
            site_obs *o = obs_at(&p->obs, b, site);
            int64_t   T = d->n_tokens, view = 0;
            o->rng      = 0x9E3779B97F4A7C15ull ^ ((uint64_t)p->cfg->v[IGQ_OPT_SEED] * 0x100000001B3ull) ^
                     ((uint64_t)(b + 1) * 131u + (uint64_t)site);
            if (o->rng == 0) o->rng = 1;
            if (b >= 0 && is_group_site(site)) {
                o->cap_pts = p->n_calib * (site == IGQ__SITE_ATTN ? (int64_t)d->heads * T
                                                                  : site_cin(d, site));
                o->pm = (float *)igq__malloc((size_t)o->cap_pts * sizeof(float));
                o->pM = (float *)igq__malloc((size_t)o->cap_pts * sizeof(float));
                IGQ_CHECK(o->pm && o->pM, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
            }
            if (b >= 0 && p->obs.keep_qk && (site == IGQ__SITE_Q || site == IGQ__SITE_K)) view = T * d->dim;
            if (b >= 0 && p->obs.keep_inputs && is_linear_input(site)) view = T * site_cin(d, site);
            if (view > 0) {
                o->keep = (float *)igq__malloc((size_t)(p->obs.n_keep * view) * sizeof(float));
                IGQ_CHECK(o->keep != NULL, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
            }
        }
    /* Observe: one fp32 pass over the calibration images, chunk by chunk for progress. */
    hook.fn  = observe_hook;
    hook.ctx = &p->obs;
    {
        const size_t img = (size_t)d->in_chans * d->img_h * d->img_w;
        int64_t      i;
        for (i = 0; i < p->n_calib; i += chunk) {
            int64_t n = p->n_calib - i < chunk ? p->n_calib - i : chunk;
            p->obs.base = i; /* the hook sees indices within this call */
            igq__forward(p->fp, p->calib + (size_t)i * img, n, p->fp_logits + (size_t)i * d->classes,
                         p->scratch, &hook);
            IGQ_TRY(progress(p, "observe", (double)(i + n) / (double)p->n_calib));
        }
    }
    IGQ_CHECK(!p->obs.failed, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory while observing");

    /* Activation quantizers: every site with G = IGQ_OPT_GROUPS (or the budget average); then,
     * under a budget, the group sites are rebuilt with the allocated counts. */
    IGQ_TRY(progress(p, "calibrate", 0.0));
    for (pass = 0; pass < 2; pass++) {
        const int budget = (int)p->cfg->v[IGQ_OPT_GROUP_BUDGET];
        if (pass == 1) {
            if (budget == 0 || p->cfg->v[IGQ_OPT_ACT_GRANULARITY] != IGQ__GRAN_GROUP) break;
            chosen = (int *)igq__malloc((size_t)depth * 5 * sizeof(int));
            IGQ_CHECK(chosen != NULL, IGQ_ERR_NO_MEMORY, "out of memory");
            s = allocate_groups(p, chosen);
            if (s != IGQ_OK) {
                igq__free(chosen);
                return s;
            }
        }
        for (b = -1; b < depth && s == IGQ_OK; b++)
            for (site = 0; site < IGQ__N_SITES; site++) {
                static const int slot[IGQ__N_SITES] = {0, -1, -1, 1, -1, 2, 3, 4, -1, -1};
                int G = budget > 0 ? budget : (int)p->cfg->v[IGQ_OPT_GROUPS];
                if (b < 0 && site != IGQ__SITE_PATCH_IN && site != IGQ__SITE_HEAD_IN) continue;
                if (b >= 0 && (site == IGQ__SITE_PATCH_IN || site == IGQ__SITE_HEAD_IN)) continue;
                if (pass == 1) {
                    if (b < 0 || !is_group_site(site)) continue;
                    G = chosen[b * 5 + slot[site]];
                }
                igq__quantizer_clear(igq__qz(p->qm->q, b, site));
                s = build_act(p, b, site, G, igq__qz(p->qm->q, b, site));
                if (s != IGQ_OK) break;
            }
        igq__free(chosen);
        chosen = NULL;
        IGQ_TRY(s);
    }
    IGQ_TRY(progress(p, "calibrate", 1.0));
    if (p->cfg->v[IGQ_OPT_ATTN_RANKING]) IGQ_TRY(rank_calibrate(p));

    /* Weights. */
    if (p->cfg->v[IGQ_OPT_MIXED_PRECISION_BUDGET] > 0) {
        wbits = (int *)igq__malloc((size_t)depth * 4 * sizeof(int));
        IGQ_CHECK(wbits != NULL, IGQ_ERR_NO_MEMORY, "out of memory");
        s = mixed_precision(p, wbits);
        if (s != IGQ_OK) {
            igq__free(wbits);
            return s;
        }
    }
    for (b = 0; b < depth && s == IGQ_OK; b++)
        for (site = IGQ__SITE_QKV_W; site <= IGQ__SITE_FC2_W && s == IGQ_OK; site++) {
            int bits = wbits ? wbits[b * 4 + (site - IGQ__SITE_QKV_W)] : (int)p->cfg->v[IGQ_OPT_WEIGHT_BITS];
            s = quantize_weight(p, b, site, bits);
            if (s == IGQ_OK) s = progress(p, "weights", (double)(b + 1) / depth);
        }
    igq__free(wbits);
    IGQ_TRY(s);
    for (site = IGQ__SITE_PATCH_W; site <= IGQ__SITE_HEAD_DIST_W; site++)
        IGQ_TRY(quantize_weight(p, -1, site, (int)p->cfg->v[IGQ_OPT_EDGE_BITS]));
    return progress(p, "done", 1.0);
}

igq_status igq__quantize(const struct igq_model *fp, const float *calib, int64_t n_calib,
                         const struct igq_config *cfg, struct igq_model **out)
{
    ptq        p;
    igq_status s;
    *out = NULL;
    memset(&p, 0, sizeof p);
    p.fp      = fp;
    p.cfg     = cfg;
    p.calib   = calib;
    p.n_calib = n_calib;
    s         = igq__model_clone(fp, &p.qm);
    if (s == IGQ_OK) {
        p.qm->q = (igq_qstate *)igq__calloc(1, sizeof(igq_qstate));
        if (p.qm->q != NULL) {
            p.qm->q->depth = fp->d.depth;
            memcpy(p.qm->q->opts, cfg->v, sizeof cfg->v);
            p.qm->q->qz = (struct igq_quantizer *)igq__calloc(
                (size_t)(fp->d.depth + 1) * IGQ__N_QSITES, sizeof(struct igq_quantizer));
        }
        if (p.qm->q == NULL || p.qm->q->qz == NULL)
            s = igq__set_error(IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    }
    if (s == IGQ_OK) s = run(&p);
    obs_free(&p.obs, fp->d.depth);
    igq__free(p.scratch);
    igq__free(p.fp_logits);
    igq__free(p.logits);
    igq__free(p.stat);
    if (s != IGQ_OK) {
        igq__model_destroy(p.qm);
        return s;
    }
    *out = p.qm;
    return IGQ_OK;
}
