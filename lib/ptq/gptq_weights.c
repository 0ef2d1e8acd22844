/* GPTQ weight rounding of every linear layer (IGQ_OPT_WEIGHT_ROUNDING = IGQ_ROUNDING_GPTQ),
 * in the order the forward meets them: patch embedding, then qkv, proj, fc1, fc2 of each block,
 * then the head(s).
 *
 * A layer's inputs are those the quantized model computes: the forward runs on the model under
 * construction, whose earlier layers are already rounded, with every activation site
 * fake-quantized by its calibrated quantizer (the simulated executor's hook; the activation
 * quantizers are complete before this stage). The integer executor computes the same
 * quantities with integer arithmetic; its activations differ from these by rounding only.
 *
 * To keep the cost near two forwards whatever the depth, three [images][tokens][dim] views of
 * the current block are cached for all calibration images (igq__forward_range): the residual
 * stream entering it, its attention output and its residual stream after the attention
 * branch. qkv's inputs are then LN1 of the first; proj's pass runs qkv and the attention
 * (keeping the attention output); fc1's starts at the proj input (keeping the residual after
 * attention); fc2's starts at LN2 and runs fc1; a last pass from LN2 with fc1 and fc2 rounded
 * gives the next block's residual stream. Each layer runs once per pass that needs its output,
 * with its weights as rounded by then.
 *
 * The second moment H = sum over images and tokens of x xᵀ (its lower triangle, all GPTQ reads)
 * is accumulated per image as fp32 GEMMs (x's transpose times x: one fmaf chain over the
 * image's tokens per element, the same bits at every ISA level) added into double. The constant 2/n of GPTQ's H is left out: the
 * rounding does not depend on H's scale. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/dispatch.h"
#include "../quant/gptq.h"
#include "ptq_internal.h"

#define SLAB 256 /* rows of H per GEMM */

typedef struct cap_ctx {
    igq_sim_ctx sim;          /* fake quantization of every activation site */
    int32_t     block, site;  /* the site whose views are accumulated */
    int64_t     K;
    double     *H[2];         /* [K][K]; HEAD_IN: H[r] from row r (head, distillation head) */
    float      *xt, *xc;      /* [K][rows]; [rows][K] in column panels (accumulate) */
    float      *slab;         /* [SLAB][SLAB] */
} cap_ctx;

/* Lower triangle (and diagonal) of H += xᵀ x for one image's view x [rows][K]: the blocks on
 * or below the diagonal of SLAB x SLAB blocks, each one fp32 GEMM of xᵀ's rows a0.. (xt) by
 * x's column panel c0.. (xc holds x in column panels, panel c0 = [rows][w] contiguous at
 * xc + c0 * rows, as the GEMM takes B). */
static void accumulate(cap_ctx *c, double *H, const float *x, int64_t rows, int64_t ld)
{
    const int64_t K = c->K;
    int64_t       r, k, i, a0, c0;
    if (rows < 16) {
        /* a few rows (the classifier input): rank-one updates in double */
        for (r = 0; r < rows; r++)
            for (i = 0; i < K; i++) {
                const double xi = x[r * ld + i];
                double      *Hi = H + i * K;
                if (xi == 0.0) continue;
                for (k = 0; k <= i; k++) Hi[k] += xi * (double)x[r * ld + k];
            }
        return;
    }
    for (r = 0; r < rows; r++)
        for (k = 0; k < K; k++) {
            const int64_t p0 = k / SLAB * SLAB, w = K - p0 < SLAB ? K - p0 : SLAB;
            c->xt[k * rows + r]                 = x[r * ld + k];
            c->xc[p0 * rows + r * w + (k - p0)] = x[r * ld + k];
        }
    for (a0 = 0; a0 < K; a0 += SLAB) {
        const int64_t n = K - a0 < SLAB ? K - a0 : SLAB;
        for (c0 = 0; c0 <= a0; c0 += SLAB) {
            const int64_t w = K - c0 < SLAB ? K - c0 : SLAB;
            igq__f32_gemm(n, w, rows, c->xt + a0 * rows, rows, c->xc + c0 * rows, NULL, c->slab,
                          w);
            for (i = 0; i < n; i++) {
                double      *Hi = H + (a0 + i) * K + c0;
                const float *si = c->slab + i * w;
                for (k = 0; k < w; k++) Hi[k] += (double)si[k];
            }
        }
    }
}

static void cap_hook(void *ctx, int64_t image, int32_t block, int32_t site, int32_t head, float *x,
                     int64_t rows, int64_t cols, int64_t ld)
{
    cap_ctx *c = (cap_ctx *)ctx;
    igq__sim_hook(&c->sim, image, block, site, head, x, rows, cols, ld);
    if (block != c->block || site != c->site || cols != c->K) return;
    if (site == IGQ__SITE_HEAD_IN) {
        int64_t r;
        for (r = 0; r < rows && r < 2; r++)
            if (c->H[r] != NULL) accumulate(c, c->H[r], x + r * ld, 1, ld);
        return;
    }
    accumulate(c, c->H[0], x, rows, ld);
}

/* One layer's H is ready in c->H[slot]: its grid from the fp32 weights, then the rounding.
 * A failed factorization is reported as a progress stage of its own. */
static igq_status round_layer(igq_ptq *p, cap_ctx *c, int slot, int32_t block, int32_t wsite,
                              int bits, double frac)
{
    igq_linear *l;
    int         fell_back = 0;
    IGQ_TRY(igq__ptq_weight_grid(p, block, wsite, bits, &l));
    if (l == NULL) return IGQ_OK;
    IGQ_TRY(igq__gptq_round(l->wt, l->in, l->out, igq__qz(p->qm->q, block, wsite)->qp,
                            c->H[slot], &fell_back));
    if (fell_back) IGQ_TRY(igq__ptq_progress(p, "weights: GPTQ fell back to nearest", frac));
    return IGQ_OK;
}

/* H of (block, in_site) over the calibration images by the partial forward r (c->H[0..1]
 * allocated zeroed, K inputs). */
static igq_status capture(igq_ptq *p, cap_ctx *c, int32_t block, int32_t in_site, int64_t K,
                          int two, const igq_forward_range *r)
{
    igq_site_hook hook;
    c->block = block;
    c->site  = in_site;
    c->K     = K;
    c->H[0]  = (double *)igq__calloc((size_t)(K * K), sizeof(double));
    c->H[1]  = two ? (double *)igq__calloc((size_t)(K * K), sizeof(double)) : NULL;
    IGQ_CHECK(c->H[0] != NULL && (!two || c->H[1] != NULL), IGQ_ERR_NO_MEMORY,
              "igq_quantize_model: out of memory (GPTQ)");
    hook.fn  = cap_hook;
    hook.ctx = c;
    igq__forward_range(p->qm, p->calib, p->n_calib, p->logits, p->scratch, &hook, r);
    return IGQ_OK;
}

static void release(cap_ctx *c)
{
    igq__free(c->H[0]);
    igq__free(c->H[1]);
    c->H[0] = c->H[1] = NULL;
}

static igq_status run(igq_ptq *p, cap_ctx *c, float *resid, float *o_cache, float *mid,
                      const int *bits)
{
    static const int32_t in_site[4] = {IGQ__SITE_QKV_IN, IGQ__SITE_PROJ_IN, IGQ__SITE_FC1_IN,
                                       IGQ__SITE_FC2_IN};
    const igq_vit_dims  *d          = &p->fp->d;
    const int            edge       = (int)p->cfg->v[IGQ_OPT_EDGE_BITS];
    const double         n_sites    = (double)d->depth * 4 + 3;
    const int64_t        cpp        = (int64_t)d->in_chans * d->patch * d->patch;
    igq_forward_range    r;
    igq_site_hook        sim;
    int32_t              b, k;
    double               done = 0.0;
    igq_status           s;
    sim.fn  = igq__sim_hook;
    sim.ctx = &c->sim;
    /* patch embedding: its inputs are the fake-quantized patches */
    memset(&r, 0, sizeof r);
    r.stop_block = -1;
    r.stop_site  = IGQ__SITE_PATCH_IN;
    s            = capture(p, c, -1, IGQ__SITE_PATCH_IN, cpp, 0, &r);
    if (s == IGQ_OK) s = round_layer(p, c, 0, -1, IGQ__SITE_PATCH_W, edge, (done + 1) / n_sites);
    release(c);
    IGQ_TRY(s);
    IGQ_TRY(igq__ptq_progress(p, "weights", ++done / n_sites));
    /* the embedding into the cache */
    memset(&r, 0, sizeof r);
    r.stop_block = -2;
    r.x_out      = resid;
    igq__forward_range(p->qm, p->calib, p->n_calib, p->logits, p->scratch, &sim, &r);
    for (b = 0; b < d->depth; b++) {
        for (k = 0; k < 4; k++) {
            const int bk = bits != NULL ? bits[b * 4 + k] : (int)p->cfg->v[IGQ_OPT_WEIGHT_BITS];
            memset(&r, 0, sizeof r);
            r.b0         = b;
            r.b1         = b + 1;
            r.stop_block = b;
            r.stop_site  = in_site[k];
            r.x_in       = resid;
            /* qkv, proj: from the block's start (proj's pass keeps the attention output);
             * fc1: from the proj input (keeps the residual after attention); fc2: from LN2 */
            if (k == 1) r.o_out = o_cache;
            if (k == 2) {
                r.start_phase = 1;
                r.o_in        = o_cache;
                r.mid_out     = mid;
            }
            if (k == 3) {
                r.start_phase = 2;
                r.x_in        = mid;
            }
            s = capture(p, c, b, in_site[k], igq__ptq_site_cin(d, in_site[k]), 0, &r);
            if (s == IGQ_OK)
                s = round_layer(p, c, 0, b, IGQ__SITE_QKV_W + k, bk, (done + 1) / n_sites);
            release(c);
            IGQ_TRY(s);
            IGQ_TRY(igq__ptq_progress(p, "weights", ++done / n_sites));
        }
        /* the MLP with fc1 and fc2 rounded moves the cache on */
        memset(&r, 0, sizeof r);
        r.b0          = b;
        r.b1          = b + 1;
        r.stop_block  = -2;
        r.start_phase = 2;
        r.x_in        = mid;
        r.x_out       = resid;
        igq__forward_range(p->qm, NULL, p->n_calib, p->logits, p->scratch, &sim, &r);
    }
    /* the heads: rows 0 and 1 of the classifier input */
    memset(&r, 0, sizeof r);
    r.b0         = d->depth;
    r.b1         = d->depth;
    r.stop_block = -2;
    r.x_in       = resid;
    s            = capture(p, c, -1, IGQ__SITE_HEAD_IN, d->dim, d->has_dist, &r);
    if (s == IGQ_OK)
        s = round_layer(p, c, 0, -1, IGQ__SITE_HEAD_W, edge, (done + 1) / n_sites);
    if (s == IGQ_OK) s = igq__ptq_progress(p, "weights", ++done / n_sites);
    if (s == IGQ_OK && d->has_dist)
        s = round_layer(p, c, 1, -1, IGQ__SITE_HEAD_DIST_W, edge, (done + 1) / n_sites);
    release(c);
    IGQ_TRY(s);
    return igq__ptq_progress(p, "weights", 1.0);
}

igq_status igq__ptq_gptq_weights(igq_ptq *p, const int *bits)
{
    const igq_vit_dims *d     = &p->fp->d;
    const int64_t       cpp   = (int64_t)d->in_chans * d->patch * d->patch;
    const int64_t       maxr  = d->n_tokens > d->n_patches ? d->n_tokens : d->n_patches;
    int64_t             maxK  = d->mlp > d->dim ? d->mlp : d->dim;
    const size_t        view  = (size_t)(p->n_calib * d->n_tokens * d->dim) * sizeof(float);
    float              *resid = NULL, *o_cache = NULL, *mid = NULL;
    cap_ctx             c;
    igq_status          s = IGQ_OK;
    if (cpp > maxK) maxK = cpp;
    memset(&c, 0, sizeof c);
    c.sim.q    = p->qm->q;
    c.sim.stat = p->stat;
    resid      = (float *)igq__malloc(view);
    o_cache    = (float *)igq__malloc(view);
    mid        = (float *)igq__malloc(view);
    c.xt       = (float *)igq__malloc((size_t)(maxK * maxr) * sizeof(float));
    c.xc       = (float *)igq__malloc((size_t)(maxK * maxr) * sizeof(float));
    c.slab     = (float *)igq__malloc((size_t)(SLAB * SLAB) * sizeof(float));
    if (!resid || !o_cache || !mid || !c.xt || !c.xc || !c.slab)
        s = igq__set_error(IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory (GPTQ)");
    if (s == IGQ_OK) s = run(p, &c, resid, o_cache, mid, bits);
    igq__free(resid);
    igq__free(o_cache);
    igq__free(mid);
    igq__free(c.xt);
    igq__free(c.xc);
    igq__free(c.slab);
    return s;
}
