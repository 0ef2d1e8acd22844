/* State shared by the stages of igq_quantize_model, one file each: observe.c (the fp32 pass
 * that records every site), calibrate_acts.c (activation quantizers), allocate.c (group counts
 * under a BOP budget), vtptq.c (VT-PTQ ranking-aware Q/K ranges and mixed-precision bits),
 * quantize_weights.c, and ptq.c (the pipeline). Private to lib/ptq. */
#ifndef IGQ_PTQ_PTQ_INTERNAL_H
#define IGQ_PTQ_PTQ_INTERNAL_H

#include "ptq.h"

/* Values per site kept in the reservoir sample that the per-tensor calibrators see. */
#define IGQ__PTQ_RESERVOIR (1 << 18)
/* Calibration images whose whole views VT-PTQ keeps (Q and K for ranking, linear inputs for
 * mixed precision). */
#define IGQ__PTQ_KEEP_IMAGES 4

/* What the fp32 pass recorded at one (block, site). */
typedef struct igq_site_obs {
    float   *samples;  /* reservoir sample of values */
    int64_t  n_seen, n_kept;
    uint64_t rng;
    float   *pm, *pM;  /* per-image channel (or row) (min, max) points */
    int64_t  n_pts, cap_pts;
    float   *keep;     /* views of the first images (ranking / mixed precision) */
    int64_t  keep_rows, keep_cols, keep_n;
} igq_site_obs;

typedef struct igq_obs {
    const igq_vit_dims *d;
    igq_site_obs       *s;           /* [(depth + 1) * IGQ__N_SITES] */
    int64_t             n_keep;      /* images whose views are kept at captured sites */
    int                 keep_qk;     /* keep Q and K (ranking) */
    int                 keep_inputs; /* keep linear inputs (mixed precision) */
    int                 failed;
    int64_t             base;        /* index of the first image of the current call */
} igq_obs;

typedef struct igq_ptq {
    const struct igq_model  *fp;
    struct igq_model        *qm;        /* the result under construction */
    const struct igq_config *cfg;
    const float             *calib;
    int64_t                  n_calib;
    igq_obs                  obs;
    float                   *fp_logits; /* [n_calib][igq__out_width]: logits or embeddings */
    float                   *scratch;   /* forward scratch for n_calib images */
    float                   *logits;    /* [n_calib][igq__out_width] */
    float                   *stat;      /* simulated-executor statistics */
} igq_ptq;

static inline igq_site_obs *igq__obs_at(igq_obs *o, int32_t block, int32_t site)
{
    return &o->s[(size_t)(block + 1) * IGQ__N_SITES + (size_t)site];
}

/* Sites with group quantizers: the inputs of the four linear layers and the softmax rows. */
static inline int igq__ptq_is_linear_input(int32_t site)
{
    return site == IGQ__SITE_QKV_IN || site == IGQ__SITE_PROJ_IN || site == IGQ__SITE_FC1_IN ||
           site == IGQ__SITE_FC2_IN;
}

static inline int igq__ptq_is_group_site(int32_t site)
{
    return igq__ptq_is_linear_input(site) || site == IGQ__SITE_ATTN;
}

/* Input channels of the linear layer a site feeds. */
static inline int64_t igq__ptq_site_cin(const igq_vit_dims *d, int32_t site)
{
    return site == IGQ__SITE_FC2_IN ? d->mlp : d->dim;
}

/* Reports progress of a stage to the caller's callback; IGQ_ERR_CANCELLED if it asks to stop. */
igq_status igq__ptq_progress(const igq_ptq *p, const char *stage, double frac);

/* A multiple-choice knapsack of L layers x C choices each (quant/mck.c), as the group-count
 * allocation and the mixed precision pose it: loss and cost are [L][C] (cost -1: not a
 * choice). */
typedef struct igq_ptq_mck {
    int      L, C;
    double  *loss;
    int64_t *cost;
} igq_ptq_mck;

igq_status igq__ptq_mck_init(igq_ptq_mck *k, int L, int C);
/* If s is IGQ_OK, solves k under budget into *choice, a new [L] array of choice indices (NULL
 * on failure); frees k's arrays either way. Returns s or the solver's status. */
igq_status igq__ptq_mck_solve(igq_ptq_mck *k, igq_status s, int64_t budget, int **choice);

/* observe.c: allocates p->obs and runs the fp32 forward over the calibration images. */
igq_status igq__ptq_observe(igq_ptq *p);
void       igq__ptq_obs_free(igq_obs *o, int32_t depth);

/* calibrate_acts.c */
/* Allocates z's parameter arrays for n quantizers. */
igq_status igq__ptq_qz_alloc(struct igq_quantizer *z, int32_t n);
/* The activation quantizer of (block, site) with G groups where the site is grouped. */
igq_status igq__ptq_build_act(igq_ptq *p, int32_t block, int32_t site, int G,
                              struct igq_quantizer *z);
/* Every activation quantizer of p->qm; group counts allocated under IGQ_OPT_GROUP_BUDGET. */
igq_status igq__ptq_calibrate_acts(igq_ptq *p);

/* allocate.c: *chosen = a new [depth * 5] array of group counts per (block, group site). */
igq_status igq__ptq_allocate_groups(igq_ptq *p, int **chosen);

/* vtptq.c */
igq_status igq__ptq_rank_calibrate(igq_ptq *p);
/* *bits = a new [depth * 4] array of weight bits per (block, linear layer). */
igq_status igq__ptq_mixed_precision(igq_ptq *p, int **bits);

/* quantize_weights.c */
/* The linear layer of a weight site (block -1: patch embedding and heads); NULL for the
 * distillation head of a model without one. */
igq_linear *igq__ptq_linear(struct igq_model *m, int32_t block, int32_t wsite);
igq_status  igq__ptq_quantize_weights(igq_ptq *p);
/* The per-output-channel grid of a weight site from its current (fp32) weights, into its
 * quantizer; *lin = the layer (NULL: absent distillation head). */
igq_status igq__ptq_weight_grid(igq_ptq *p, int32_t block, int32_t wsite, int bits,
                                igq_linear **lin);

/* gptq_weights.c: every weight site rounded by GPTQ (bits: VT-PTQ's per-layer bits, or NULL);
 * reports progress "weights" like igq__ptq_quantize_weights. */
igq_status igq__ptq_gptq_weights(igq_ptq *p, const int *bits);

#endif
