/* The integer executor's forward (qexec.h): the per-thread scratch, the LayerNorm input
 * conversion, and one image through the patch embedding, the blocks and the classifier.
 * One task per image, so logits are bit-identical for any thread count.
 *
 * Data flow and the sites' arithmetic: qexec.h and qexec_impl.h. Residual stream: f32.
 * LayerNorm input: the f32 rows converted to int32 at a power-of-two scale chosen per row
 * (largest |x| below 2^22), then the integer LayerNorm. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "../kernels/qs8_layout.h"
#include "qexec_impl.h"

#define RUP64(n) ((((size_t)(n)) + 63u) & ~(size_t)63u)

#ifdef IGQ_TESTING
double *igq__int_prof = NULL;
#endif

/* ---- per-thread scratch ----------------------------------------------------------------- */

static int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

#define TAKE(field, type, n)                                       \
    do {                                                           \
        if (base != NULL) c->field = (type *)(base + off);         \
        off += RUP64((size_t)(n) * sizeof(type));                  \
    } while (0)

static size_t layout(const struct igq_model *m, int32_t gmax, unsigned char *base, igq_ictx *c)
{
    const igq_vit_dims *d   = &m->d;
    const int64_t       T = d->n_tokens, D = d->dim, Mm = d->mlp, hd = d->head_dim;
    const int64_t       cpp = (int64_t)d->in_chans * d->patch * d->patch, NP = d->n_patches;
    const int64_t       Cm  = imax(imax(D, Mm), imax(cpp, T));
    const int64_t       Nm  = imax(imax(3 * D, Mm), d->classes);
    const int64_t       R   = imax(T, NP);
    const int64_t       G   = gmax > 0 ? gmax : 1;
    size_t              off = 0;
    TAKE(xr, float, T * D);
    TAKE(yf, float, R * Nm);
    TAKE(of, float, T * D);
    TAKE(cinv, float, Cm);
    TAKE(clo, float, Cm);
    TAKE(chi, float, Cm);
    TAKE(corr, float, Nm);
    TAKE(mn, float, Cm);
    TAKE(mx, float, Cm);
    TAKE(patches, float, cpp);
    TAKE(pooledf, float, 2 * D);
    TAKE(logit2, float, 2 * d->classes);
    TAKE(xi, int32_t, D);
    /* per-group int32 results: only where no fused grouped GEMM exists at this ISA level */
    TAKE(acc, int32_t, igq__kernels()->qs8_ggemm != NULL ? 0 : R * Nm);
    TAKE(lg, int32_t, T * T);
    TAKE(p20, int32_t, T * T);
    TAKE(oi, int32_t, T * hd);
    TAKE(rs, int32_t, imax(T, hd));
    TAKE(rowg, int32_t, T);
    TAKE(rsp, int32_t, T);
    TAKE(assign, int32_t, Cm);
    TAKE(perm, int32_t, Cm);
    TAKE(off, int32_t, G + 1);
    TAKE(imn, int32_t, Cm);
    TAKE(imx, int32_t, Cm);
    TAKE(czero, int32_t, Cm);
    TAKE(sg, int32_t, G * Nm);
    TAKE(pooled, int32_t, 2 * D);
    TAKE(cg, uint8_t, R * Cm);
    TAKE(rowbuf, uint8_t, IGQ__QROWS * Cm + 64); /* + the permutation's over-read */
    TAKE(qc, uint8_t, T * 3 * D);
    TAKE(pc, uint8_t, T * T);
    TAKE(ind, uint8_t, G * Cm);
    TAKE(pplan, unsigned char, IGQ_U8_PERM_PLAN_SIZE(Cm));
    TAKE(ws, unsigned char, igq__qs8_ggemm_ws_size(Cm, (int32_t)G));
    TAKE(pk, unsigned char, imax((int64_t)igq__qs8_packed_size(T, hd, 8),
                                 (int64_t)igq__qs8_packed_size(hd, T, 8)));
    return off;
}
#undef TAKE

size_t igq__forward_int_scratch(const struct igq_model *m)
{
    const igq_qexec *x = m->q != NULL ? m->q->x : NULL;
    return layout(m, x != NULL ? x->gmax : 1, NULL, NULL);
}

/* ---- LayerNorm ---------------------------------------------------------------------------- */

/* Integer LayerNorm of f32 rows x [rows][C] -> int32 at p's y_scale (xi: C ints of scratch).
 * Each row is converted to int32 at its own power-of-two scale 2^(e-22), e the exponent of the
 * row's largest |x| (|x_int| < 2^22, 22 significant bits whatever the row's magnitude: token
 * norms differ by orders of magnitude inside one image), then normalized by the integer
 * kernels with that row's epsilon term E_k = C^2 eps 4^(22-e-k), read from the model's table
 * (nonlin.h). */
static void layernorm_f32in(igq_ictx *c, const igq_ln_params *p, const float *x, int64_t rows,
                            int32_t *xi, int32_t *out)
{
    const int64_t C = p->C;
    int64_t       r, i;
    IGQ__PROF_BEGIN(c);
    igq_ln_params local = *p;
    for (r = 0; r < rows; r++) {
        const float *xr   = x + r * C;
        int32_t     *xo   = xi; /* one row of C */
        const float  amax = c->kt->exec.absmax(C, xr);
        int          e, k;
        if (!(amax > 0.0f) || !(amax <= FLT_MAX)) {
            e = 0; /* an all-zero row (or non-finite input: no meaningful output) */
            for (i = 0; i < C; i++) xo[i] = 0;
        } else {
            (void)frexpf(amax, &e); /* amax < 2^e */
            c->kt->exec.scale_rne(C, xr, ldexpf(1.0f, IGQ__LN_IN_BITS - e), xo);
        }
        for (k = 0; k <= 32; k++)
            local.eps_k[k] = c->x->ln_eps_tab[IGQ__LN_IN_BITS - e - k + IGQ__LN_TAB_OFF];
        igq__i32_layernorm(&local, 1, xo, C, out + r * C, C);
    }
    IGQ__PROF_END(c, IGQ__PROF_LAYERNORM);
}

/* ---- one image ---------------------------------------------------------------------------- */

static void residual(igq_ictx *c, const float *y, const float *ls)
{
    IGQ__PROF_BEGIN(c);
    /* x += y (* ls), rows of D: the level's vectorized helper (same bits at every level) */
    c->kt->exec.add_rows_f32(c->d->n_tokens, c->d->dim, c->xr, y, ls);
    IGQ__PROF_END(c, IGQ__PROF_EPILOGUE);
}

static void embed(igq_ictx *c, const float *img)
{
    const struct igq_model *m  = c->m;
    const igq_vit_dims     *d  = c->d;
    const int64_t           D = d->dim, np = d->n_prefix, NP = d->n_patches;
    const int64_t           cpp = (int64_t)d->in_chans * d->patch * d->patch;
    const float            *pos = d->pos_has_prefix ? m->pos + np * D : m->pos;
    int64_t                 t;
    /* patches are extracted and quantized one at a time (per-tensor quantizer) */
    for (t = 0; t < NP; t++) {
        {
            IGQ__PROF_BEGIN(c);
            igq__extract_patch(d, img, t, c->patches);
            IGQ__PROF_END(c, IGQ__PROF_OTHER);
        }
        igq__qexec_quant_f32(c, &c->x->patch_in, c->patches, 1, cpp, cpp, c->cg + t * cpp, cpp);
    }
    igq__qexec_linear(c, &c->x->patch, &c->x->patch_in, c->cg, NP, c->yf);
    for (t = 0; t < NP * D; t++) c->xr[np * D + t] = c->yf[t] + pos[t];
    if (np > 0) {
        memcpy(c->xr, m->prefix, (size_t)(np * D) * sizeof(float));
        if (d->pos_has_prefix)
            for (t = 0; t < np * D; t++) c->xr[t] += m->pos[t];
    }
}

static void block(igq_ictx *c, int32_t b)
{
    const igq_vit_dims *d  = c->d;
    const igq_block    *mb = &c->m->blocks[b];
    const igq_qblk     *xb = &c->x->blk[b];
    const int64_t       T = d->n_tokens, D = d->dim, Mm = d->mlp;

    c->cur_block = b;
    layernorm_f32in(c, &xb->ln1, c->xr, T, c->xi, (int32_t *)c->of); /* of is free here */
    igq__qexec_quant_i32(c, &xb->in_qkv, (const int32_t *)c->of, T, D);
    igq__qexec_capture(c, b, IGQ__SITE_QKV_IN, D);
    igq__qexec_linear(c, &xb->qkv, &xb->in_qkv, c->cg, T, c->yf);
    igq__qexec_quant_f32(c, &xb->q, c->yf, T, D, 3 * D, c->qc, 3 * D);
    igq__qexec_quant_f32(c, &xb->k, c->yf + D, T, D, 3 * D, c->qc + D, 3 * D);
    igq__qexec_quant_f32(c, &xb->v, c->yf + 2 * D, T, D, 3 * D, c->qc + 2 * D, 3 * D);
    igq__qexec_attention(c, xb);
    igq__qexec_quant_f32(c, &xb->in_proj, c->of, T, D, D, c->cg, D);
    igq__qexec_capture(c, b, IGQ__SITE_PROJ_IN, D);
    igq__qexec_linear(c, &xb->proj, &xb->in_proj, c->cg, T, c->yf);
    residual(c, c->yf, mb->ls1);

    layernorm_f32in(c, &xb->ln2, c->xr, T, c->xi, (int32_t *)c->of); /* consumed by proj */
    igq__qexec_quant_i32(c, &xb->in_fc1, (const int32_t *)c->of, T, D);
    igq__qexec_capture(c, b, IGQ__SITE_FC1_IN, D);
    igq__qexec_linear(c, &xb->fc1, &xb->in_fc1, c->cg, T, c->yf);
    {
        IGQ__PROF_BEGIN(c);
        /* fc1 output (f32) to Q20 and the integer GELU in one pass, in place: int32 GELU
         * output over the (no longer needed) f32 fc1 output */
        c->kt->i32_gelu_f32(&c->x->gelu, T * Mm, c->yf, (float)(1 << IGQ_GELU_FRAC),
                            (int32_t *)c->yf);
        IGQ__PROF_END(c, IGQ__PROF_GELU);
    }
    igq__qexec_quant_i32(c, &xb->in_fc2, (const int32_t *)c->yf, T, Mm);
    igq__qexec_capture(c, b, IGQ__SITE_FC2_IN, Mm);
    igq__qexec_linear(c, &xb->fc2, &xb->in_fc2, c->cg, T, c->yf);
    residual(c, c->yf, mb->ls2);
}

/* Final norm, pooling, head of the image in c->xr. */
static void classify(igq_ictx *c, float *logits)
{
    const igq_qexec    *x = c->x;
    const igq_vit_dims *d = c->d;
    const int64_t       T = d->n_tokens, D = d->dim, np = d->n_prefix;
    int64_t             rows = 1, t, i;
    const igq_qsite    *qh = &x->head_in;
    IGQ__PROF_BEGIN(c);
    if (d->pool == IGQ_POOL_TOKEN) {
        rows = d->has_dist ? 2 : 1;
        if (x->has_norm) {
            layernorm_f32in(c, &x->norm, c->xr, rows, c->xi, c->pooled);
            igq__qexec_quant_i32(c, qh, c->pooled, rows, D);
        } else {
            igq__qexec_quant_f32(c, qh, c->xr, rows, D, D, c->cg, D);
        }
    } else {
        /* mean of the patch tokens: of the integer-normed tokens (int32 at the head scale) or
         * of the residual (f32) */
        if (x->has_norm) {
            int32_t *ln = (int32_t *)c->of;
            layernorm_f32in(c, &x->norm, c->xr, T, c->xi, ln);
            for (i = 0; i < D; i++) {
                int64_t s = 0;
                for (t = np; t < T; t++) s += ln[t * D + i];
                c->pooledf[i] = (float)((double)s / (double)d->n_patches * qh->src_scale);
            }
        } else {
            for (i = 0; i < D; i++) {
                double s = 0.0;
                for (t = np; t < T; t++) s += c->xr[t * D + i];
                c->pooledf[i] = (float)(s / (double)d->n_patches);
            }
        }
        if (x->has_fc_norm) {
            layernorm_f32in(c, &x->fc_norm, c->pooledf, 1, c->xi, c->pooled);
            igq__qexec_quant_i32(c, qh, c->pooled, 1, D);
        } else {
            igq__qexec_quant_f32(c, qh, c->pooledf, 1, D, D, c->cg, D);
        }
    }
    if (d->has_dist) {
        igq__qexec_linear(c, &x->head, qh, c->cg, 1, c->logit2);
        igq__qexec_linear(c, &x->head_dist, qh, c->cg + D, 1, c->logit2 + d->classes);
        for (i = 0; i < d->classes; i++)
            logits[i] = 0.5f * (c->logit2[i] + c->logit2[d->classes + i]);
    } else {
        igq__qexec_linear(c, &x->head, qh, c->cg, 1, logits);
    }
    IGQ__PROF_END(c, IGQ__PROF_OTHER);
}

typedef struct irun {
    const struct igq_model *m;
    const float            *images;
    float                  *logits;
    unsigned char          *scratch;
    size_t                  stride;
} irun;

static void run_image(const struct igq_model *m, const float *img, float *logits,
                      unsigned char *scratch, int prof, int32_t cap_block, int32_t cap_site,
                      int32_t *cap_assign)
{
    const igq_vit_dims *d = &m->d;
    igq_ictx            c;
    int32_t             b;
    memset(&c, 0, sizeof c);
    c.m          = m;
    c.x          = m->q->x;
    c.d          = d;
    c.kt         = igq__kernels();
    c.prof       = prof;
    c.cap_block  = cap_block;
    c.cap_site   = cap_site;
    c.cap_assign = cap_assign;
    (void)layout(m, c.x->gmax, scratch, &c);
    embed(&c, img);
    for (b = 0; b < d->depth; b++) block(&c, b);
    classify(&c, logits);
}

static void image_task(void *ctx, int64_t i, int32_t thread)
{
    irun               *r = (irun *)ctx;
    const igq_vit_dims *d = &r->m->d;
    run_image(r->m, r->images + (size_t)i * d->in_chans * d->img_h * d->img_w,
              r->logits + (size_t)i * d->classes, r->scratch + (size_t)thread * r->stride,
              IGQ__PROF_ON(i), -1, -1, NULL);
}

void igq__forward_int_capture(const struct igq_model *m, const float *image, float *logits,
                              void *scratch, int32_t block, int32_t site, int32_t *assign)
{
    run_image(m, image, logits, (unsigned char *)scratch, 0, block, site, assign);
}

void igq__forward_int(const struct igq_model *m, const float *images, int64_t batch,
                      float *logits, void *scratch, igq__pool *pool)
{
    irun r;
    r.m       = m;
    r.images  = images;
    r.logits  = logits;
    r.scratch = (unsigned char *)scratch;
    r.stride  = igq__forward_int_scratch(m);
    igq__pool_run(pool, batch, image_task, &r);
}
