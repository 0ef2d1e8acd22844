/* Weight quantization: every linear layer per output channel, symmetric, at WEIGHT_BITS (or the
 * bits VT-PTQ's mixed precision chose per layer); the patch embedding and the heads at
 * EDGE_BITS. The weights are fake-quantized in place in the model under construction, rounded
 * to nearest here or by GPTQ (gptq_weights.c) under IGQ_OPT_WEIGHT_ROUNDING. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../quant/gptq.h"
#include "ptq_internal.h"

igq_linear *igq__ptq_linear(struct igq_model *m, int32_t block, int32_t wsite)
{
    if (block < 0) {
        if (wsite == IGQ__SITE_PATCH_W) return &m->patch;
        if (wsite == IGQ__SITE_HEAD_W) return m->head.wt != NULL ? &m->head : NULL;
        return m->head_dist.wt != NULL ? &m->head_dist : NULL;
    }
    switch (wsite) {
    case IGQ__SITE_QKV_W: return &m->blocks[block].qkv;
    case IGQ__SITE_PROJ_W: return &m->blocks[block].proj;
    case IGQ__SITE_FC1_W: return &m->blocks[block].fc1;
    default: return &m->blocks[block].fc2;
    }
}

/* The grid of one weight site: per-output-channel absmax (IGQ_OPT_WEIGHT_CALIBRATOR) of the
 * layer's weights as they are now (fp32) into its quantizer. *lin = the layer, or NULL for the
 * distillation head of a model without one (nothing to do). */
igq_status igq__ptq_weight_grid(igq_ptq *p, int32_t block, int32_t wsite, int bits,
                                igq_linear **lin)
{
    igq_linear           *l = igq__ptq_linear(p->qm, block, wsite);
    struct igq_quantizer *z = igq__qz(p->qm->q, block, wsite);
    float                *col;
    int32_t               o, i;
    *lin = l;
    if (l == NULL) return IGQ_OK;
    memset(z, 0, sizeof *z);
    z->present     = 1;
    z->block       = block;
    z->site        = wsite;
    z->is_weight   = 1;
    z->bits        = bits;
    z->granularity = IGQ__GRAN_CHANNEL;
    IGQ_TRY(igq__ptq_qz_alloc(z, l->out));
    col = (float *)igq__malloc((size_t)l->in * sizeof(float));
    IGQ_CHECK(col != NULL, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    for (o = 0; o < l->out; o++) {
        float a;
        for (i = 0; i < l->in; i++) col[i] = l->wt[(size_t)i * l->out + o];
        a = igq__calibrate_absmax((igq_calib_kind)p->cfg->v[IGQ_OPT_WEIGHT_CALIBRATOR], col,
                                  l->in, bits);
        z->lo[o] = -a;
        z->hi[o] = a;
        z->qp[o] = igq__qp_sym(a, bits, 1);
    }
    igq__free(col);
    return IGQ_OK;
}

/* One weight site rounded to nearest, quantize-dequantized in place. */
static igq_status quantize_weight(igq_ptq *p, int32_t block, int32_t wsite, int bits)
{
    igq_linear *l;
    IGQ_TRY(igq__ptq_weight_grid(p, block, wsite, bits, &l));
    if (l != NULL) igq__gptq_nearest(l->wt, l->in, l->out, igq__qz(p->qm->q, block, wsite)->qp);
    return IGQ_OK;
}

/* Progress "weights" counts the weight sites, each once: four per block, then the patch
 * embedding and the two heads (a missing distillation head counts as done). */
igq_status igq__ptq_quantize_weights(igq_ptq *p)
{
    const int32_t depth = p->fp->d.depth;
    const double  n_sites = (double)depth * 4 + 3;
    int          *wbits = NULL;
    int32_t       b, site, k = 0;
    igq_status    s = IGQ_OK;
    if (p->cfg->v[IGQ_OPT_MIXED_PRECISION_BUDGET] > 0)
        IGQ_TRY(igq__ptq_mixed_precision(p, &wbits));
    if (p->cfg->v[IGQ_OPT_WEIGHT_ROUNDING] == IGQ_ROUNDING_GPTQ) {
        s = igq__ptq_gptq_weights(p, wbits);
        igq__free(wbits);
        return s;
    }
    for (b = 0; b < depth && s == IGQ_OK; b++)
        for (site = IGQ__SITE_QKV_W; site <= IGQ__SITE_FC2_W && s == IGQ_OK; site++) {
            int bits = wbits ? wbits[b * 4 + (site - IGQ__SITE_QKV_W)]
                             : (int)p->cfg->v[IGQ_OPT_WEIGHT_BITS];
            s = quantize_weight(p, b, site, bits);
            if (s == IGQ_OK) s = igq__ptq_progress(p, "weights", ++k / n_sites);
        }
    igq__free(wbits);
    for (site = IGQ__SITE_PATCH_W; site <= IGQ__SITE_HEAD_DIST_W && s == IGQ_OK; site++) {
        s = quantize_weight(p, -1, site, (int)p->cfg->v[IGQ_OPT_EDGE_BITS]);
        if (s == IGQ_OK) s = igq__ptq_progress(p, "weights", ++k / n_sites);
    }
    return s;
}
