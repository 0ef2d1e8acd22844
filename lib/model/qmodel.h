/* Quantized-model state: the quantizer of every site and the simulated (fake-quant) executor.
 * Private header. */
#ifndef IGQ_MODEL_QMODEL_H
#define IGQ_MODEL_QMODEL_H

#include "../quant/quant.h"
#include "vit.h"

/* Site numbers: activations 0..9 as in vit.h, then weights. Public values are identical. */
enum {
    IGQ__SITE_QKV_W = 10,
    IGQ__SITE_PROJ_W = 11,
    IGQ__SITE_FC1_W = 12,
    IGQ__SITE_FC2_W = 13,
    IGQ__SITE_PATCH_W = 14,
    IGQ__SITE_HEAD_W = 15,
    IGQ__SITE_HEAD_DIST_W = 16,
    IGQ__N_QSITES = 17
};

enum { IGQ__GRAN_TENSOR = 0, IGQ__GRAN_GROUP = 1, IGQ__GRAN_CHANNEL = 2 };

#define IGQ__N_OPTIONS 16

/* One quantizer. Activation sites: n_params = number of static quantizers (1 for a tensor,
 * G for groups, 0 for the dynamic per-channel upper bound). Weight sites: one symmetric
 * quantizer per output channel. */
struct igq_quantizer {
    int32_t      present;
    int32_t      block, site;
    int32_t      is_weight;
    int32_t      bits;
    int32_t      granularity;  /* IGQ__GRAN_* */
    int32_t      unsigned_only;/* softmax output */
    int32_t      rows;         /* groups of rows (attention) instead of channels */
    int32_t      policy;       /* igq_assign_policy for groups */
    int32_t      n_params;
    float       *lo, *hi;      /* [n_params] calibrated ranges (weights: -absmax, absmax) */
    float       *clo, *chi;    /* [n_params] cover bounds of groups (igq__cover_bounds), or NULL */
    igq_qparams *qp;           /* [n_params] */
};

struct igq_qexec;

typedef struct igq_qstate {
    int64_t               opts[IGQ__N_OPTIONS]; /* the configuration used */
    struct igq_qexec     *x;  /* integer executor (IGQ_EXECUTOR_INT), or NULL (simulated) */
    int32_t               depth;
    struct igq_quantizer *qz; /* [(depth + 1) * IGQ__N_QSITES]: block b at (b + 1) * N, edge at 0 */
} igq_qstate;

static inline struct igq_quantizer *igq__qz(const igq_qstate *q, int32_t block, int32_t site)
{
    return &q->qz[(size_t)(block + 1) * IGQ__N_QSITES + (size_t)site];
}

void igq__quantizer_clear(struct igq_quantizer *z);
void igq__qstate_free(igq_qstate *q);

/* Fake-quantizes one view in place with quantizer z (activation). Per-image statistics for
 * groups / channels need cols (channels) or rows floats of scratch in stat[2 * n]. When
 * assign != NULL it receives the group index of each channel (or row). */
void igq__fake_quant_site(const struct igq_quantizer *z, float *x, int64_t rows, int64_t cols,
                          int64_t ld, float *stat, int32_t *assign);

/* Hook context of the simulated executor. */
typedef struct igq_sim_ctx {
    const igq_qstate           *q;
    const struct igq_quantizer *only;      /* if set: quantize only this one site */
    int32_t                     only_block, only_site;
    float                      *stat;      /* scratch, 2 * max(cols, rows) floats */
    /* Capture of one site's assignment for one image (igq_groups). */
    int64_t                     cap_image;
    int32_t                     cap_block, cap_site;
    int32_t                    *cap_assign; /* channels, or heads * rows for attention */
} igq_sim_ctx;

/* Scratch floats of the sim hook for a model. */
size_t igq__sim_stat_floats(const igq_vit_dims *d);
void   igq__sim_hook(void *ctx, int64_t image, int32_t block, int32_t site, int32_t head, float *x,
                     int64_t rows, int64_t cols, int64_t ld);

/* Values of a group assignment at site (a channel site with groups, or IGQ__SITE_ATTN): the
 * channels, or heads x tokens rows (head-major) for the attention. */
int64_t igq__groups_capture_count(const igq_vit_dims *d, int32_t site);

/* Runs one image [C][H][W] through quantized model m with its own executor (simulated or
 * integer) and records the group of each channel / row at (block, site) into assign
 * (igq__groups_capture_count values); block and site must be group-quantized. Returns IGQ_OK
 * or IGQ_ERR_NO_MEMORY (the message names `who`). */
igq_status igq__groups_capture(const struct igq_model *m, const float *image, int32_t block,
                               int32_t site, int32_t *assign, const char *who);

#endif
