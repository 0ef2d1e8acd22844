/* The integer executor's forward (qexec.h): the per-thread scratch, the LayerNorm input
 * conversion, and one image through the patch embedding, the blocks and the classifier.
 * Threads: a batch of at least as many images as the pool has threads is split by images (one
 * image per task, no synchronization); images left over (batch 1 on two threads, say) are run
 * one at a time with the pool's threads sharing each image's work, stage by stage (row ranges,
 * 64-column panels of the GEMMs, attention heads; igq__ipar). Every output element is computed
 * by the same operations either way, so logits are bit-identical for any thread count.
 *
 * Data flow and the sites' arithmetic: qexec.h and qexec_impl.h. Residual stream: f32.
 * LayerNorm input: the f32 rows converted to int32 at a power-of-two scale chosen per row
 * (largest |x| below 2^22), then the integer LayerNorm. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "../kernels/qs8_layout.h"
#include "igq/igq.h"
#include "profile.h"
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
    size_t              off = RUP64(sizeof(igq_ictx)); /* the thread's context comes first */
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

/* ---- threads sharing an image ------------------------------------------------------------- */

struct igq_iteam {
    igq__pool     *pool;
    int32_t        n;      /* threads */
    unsigned char *base;   /* thread t's scratch (and context) at base + t * stride */
    size_t         stride;
};

static igq_ictx *team_ctx(const igq_iteam *tm, int32_t t)
{
    return (igq_ictx *)(void *)(tm->base + (size_t)t * tm->stride);
}

int32_t igq__ithreads(const igq_ictx *c) { return c->team != NULL ? c->team->n : 1; }

typedef struct ijob {
    const igq_iteam *team;
    igq__itask_fn    fn;
    void            *arg;
    int64_t          n;
} ijob;

static void ijob_task(void *ctx, int64_t t, int32_t thread)
{
    const ijob *j = (const ijob *)ctx;
    j->fn(team_ctx(j->team, thread), j->arg, t, j->n);
}

void igq__ipar(igq_ictx *c, int64_t n_tasks, igq__itask_fn fn, void *arg)
{
    int64_t t;
    if (c->team == NULL || n_tasks <= 1) {
        for (t = 0; t < n_tasks; t++) fn(c, arg, t, n_tasks);
    } else {
        const igq_iteam *tm = c->team;
        ijob             j;
        int32_t          i;
        for (i = 1; i < tm->n; i++) { /* the group state the tasks read */
            igq_ictx *o  = team_ctx(tm, i);
            o->G         = c->G;
            o->gperm     = c->gperm;
            o->cur_block = c->cur_block;
        }
        j.team = tm, j.fn = fn, j.arg = arg, j.n = n_tasks;
        igq__pool_run(tm->pool, n_tasks, ijob_task, &j);
    }
}

/* Lays out thread t's context in its scratch slot; with a team, the image's buffers are
 * thread 0's (c0) and only the per-task scratch is the thread's own. */
static igq_ictx *ctx_init(const struct igq_model *m, unsigned char *slot, int prof,
                          igq_prof *lp, int32_t cap_block, int32_t cap_site,
                          int32_t *cap_assign, igq_iteam *team, const igq_ictx *c0)
{
    igq_ictx *c = (igq_ictx *)(void *)slot;
    memset(c, 0, sizeof *c);
    c->m          = m;
    c->x          = m->q->x;
    c->d          = &m->d;
    c->kt         = igq__kernels();
    c->prof       = prof;
    c->lp         = lp;
    c->cap_block  = cap_block;
    c->cap_site   = cap_site;
    c->cap_assign = cap_assign;
    c->team       = team;
    (void)layout(m, c->x->gmax, slot, c);
    if (c0 != NULL) {
        /* shared: everything but xi, patches, lg, p20, oi, rs, rowg, rsp, pc, rowbuf, pk, ws */
        c->xr = c0->xr, c->yf = c0->yf, c->of = c0->of, c->cinv = c0->cinv, c->clo = c0->clo;
        c->chi = c0->chi, c->corr = c0->corr, c->mn = c0->mn, c->mx = c0->mx;
        c->pooledf = c0->pooledf, c->logit2 = c0->logit2, c->acc = c0->acc;
        c->assign = c0->assign, c->perm = c0->perm, c->off = c0->off, c->imn = c0->imn;
        c->imx = c0->imx, c->czero = c0->czero, c->sg = c0->sg, c->pooled = c0->pooled;
        c->cg = c0->cg, c->qc = c0->qc, c->pplan = c0->pplan;
    }
    return c;
}

/* ---- LayerNorm ---------------------------------------------------------------------------- */

/* Integer LayerNorm of f32 rows x [rows][C] -> int32 at p's y_scale (xi: C ints of scratch).
 * Each row is converted to int32 at its own power-of-two scale 2^(e-22), e the exponent of the
 * row's largest |x| (|x_int| < 2^22, 22 significant bits whatever the row's magnitude: token
 * norms differ by orders of magnitude inside one image), then normalized by the integer
 * kernels with that row's epsilon term E_k = C^2 eps 4^(22-e-k), read from the model's table
 * (nonlin.h). */
static void layernorm_rows(igq_ictx *c, const igq_ln_params *p, const float *x, int64_t rows,
                           int32_t *xi, int32_t *out)
{
    const int64_t C = p->C;
    int64_t       r;
    IGQ__PROF_BEGIN(c);
    /* per row: |x| < 2^e scaled to |xi| < 2^IGQ__LN_IN_BITS (xi: the thread's row), E_k from
     * the table at the row's exponent, then the integer LayerNorm (nonlin.h i32_ln_f32: the
     * conversion and the first statistics pass in one) */
    for (r = 0; r < rows; r++)
        c->kt->i32_ln_f32(p, IGQ__LN_IN_BITS, c->x->ln_eps_tab + IGQ__LN_TAB_OFF, x + r * C, xi,
                          out + r * C);
    IGQ__PROF_END(c, IGQ__PROF_LAYERNORM);
}

typedef struct ln_job {
    const igq_ln_params *p;
    const float         *x;
    int32_t             *out;
    int64_t              rows;
} ln_job;

static void ln_task(igq_ictx *c, void *arg, int64_t t, int64_t n)
{
    const ln_job *j = (const ln_job *)arg;
    int64_t       r0, r1;
    igq__ichunk(j->rows, t, n, 1, &r0, &r1);
    if (r1 > r0)
        layernorm_rows(c, j->p, j->x + r0 * j->p->C, r1 - r0, c->xi, j->out + r0 * j->p->C);
}

/* layernorm_rows over the image's threads (row ranges). */
static void layernorm_f32in(igq_ictx *c, const igq_ln_params *p, const float *x, int64_t rows,
                            int32_t *out)
{
    const int64_t nt = igq__ithreads(c);
    ln_job        j;
    j.p = p, j.x = x, j.out = out, j.rows = rows;
    igq__ipar(c, nt < rows ? nt : rows, ln_task, &j);
}

/* ---- one image ---------------------------------------------------------------------------- */

typedef struct ew_job { /* an element-wise stage over the image's [T][width] rows */
    const float *y, *ls;
    int64_t      width;
} ew_job;

/* Rows [r0, r1) of x += y (* ls), rows of D: the level's vectorized helper (same bits at every
 * level). */
static void residual_rows(igq_ictx *c, const ew_job *j, int64_t r0, int64_t r1)
{
    const int64_t D = j->width;
    IGQ__PROF_BEGIN(c);
    c->kt->exec.add_rows_f32(r1 - r0, D, c->xr + r0 * D, j->y + r0 * D, j->ls);
    IGQ__PROF_END(c, IGQ__PROF_EPILOGUE);
}

static void residual_task(igq_ictx *c, void *arg, int64_t t, int64_t n)
{
    int64_t r0, r1;
    igq__ichunk(c->d->n_tokens, t, n, 1, &r0, &r1);
    residual_rows(c, (const ew_job *)arg, r0, r1);
}

static void residual(igq_ictx *c, const float *y, const float *ls)
{
    const int64_t nt = igq__ithreads(c), T = c->d->n_tokens;
    ew_job        j;
    j.y = y, j.ls = ls, j.width = c->d->dim;
    igq__ipar(c, nt < T ? nt : T, residual_task, &j);
}

/* Rows [r0, r1) of the fc1 output in c->yf (f32) to Q20 and the integer GELU in one pass, in
 * place: int32 GELU output over the (no longer needed) f32 fc1 output. */
static void gelu_rows(igq_ictx *c, int64_t r0, int64_t r1)
{
    const int64_t Mm = c->d->mlp;
    float        *yf = c->yf + r0 * Mm;
    IGQ__PROF_BEGIN(c);
    c->kt->i32_gelu_f32(&c->x->gelu, (r1 - r0) * Mm, yf, (float)(1 << IGQ_GELU_FRAC),
                        (int32_t *)yf);
    IGQ__PROF_END(c, IGQ__PROF_GELU);
}

static void gelu_task(igq_ictx *c, void *arg, int64_t t, int64_t n)
{
    int64_t r0, r1;
    (void)arg;
    igq__ichunk(c->d->n_tokens, t, n, 1, &r0, &r1);
    if (r1 > r0) gelu_rows(c, r0, r1);
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
    igq__qexec_quant_patches(c, &c->x->patch_in, img, NP, cpp, c->cg);
    igq__qexec_linear(c, &c->x->patch, &c->x->patch_in, c->cg, NP, c->yf);
    for (t = 0; t < NP * D; t++) c->xr[np * D + t] = c->yf[t] + pos[t];
    if (np > 0) {
        memcpy(c->xr, m->prefix, (size_t)(np * D) * sizeof(float));
        if (d->pos_has_prefix)
            for (t = 0; t < np * D; t++) c->xr[t] += m->pos[t];
    }
}

/* Profile counters (igq_session_profile_layer; doc/profiling.md): operations per element of
 * the non-GEMM layers, and the bytes a linear layer moves on `rows` rows (codes in, packed
 * weights and their sums, f32 out). */
#define OPS_LN 8.0
#define OPS_QUANT 4.0
#define OPS_SOFTMAX 6.0
#define OPS_GELU 10.0
#define OPS_RESIDUAL 2.0

static double lin_bytes(const igq_qlin *l, int64_t rows)
{
    return (double)rows * l->in + (double)igq__qs8_packed_size(l->out, l->in, l->qs4 ? 4 : 8) +
           4.0 * l->out + 4.0 * (double)rows * l->out;
}

static void prof_lin(igq_ictx *c, double t0, const char *what, int32_t b, const igq_qlin *l,
                     int64_t rows)
{
    igq__prof_add(c->lp, t0, what, b, IGQ_LAYER_LINEAR, rows, l->out, l->in,
                  2.0 * (double)rows * l->out * l->in, lin_bytes(l, rows));
}

static void block(igq_ictx *c, int32_t b)
{
    const igq_vit_dims *d  = c->d;
    const igq_block    *mb = &c->m->blocks[b];
    const igq_qblk     *xb = &c->x->blk[b];
    const int64_t       T = d->n_tokens, D = d->dim, Mm = d->mlp, H = d->heads, hd = d->head_dim;
    const double        TD = (double)T * D, TM = (double)T * Mm, TT = (double)T * T;
    igq_prof           *lp = c->lp;
    double              t;

    c->cur_block = b;
    t            = igq__prof_t0(lp);
    layernorm_f32in(c, &xb->ln1, c->xr, T, (int32_t *)c->of); /* of is free here */
    igq__prof_add(lp, t, "norm1", b, IGQ_LAYER_LAYER_NORM, T, D, 0, OPS_LN * TD, 8.0 * TD);
    t = igq__prof_t0(lp);
    igq__qexec_quant_i32(c, &xb->in_qkv, (const int32_t *)c->of, T, D);
    igq__qexec_capture(c, b, IGQ__SITE_QKV_IN, D);
    igq__prof_add(lp, t, "attn.qkv.quantize", b, IGQ_LAYER_QUANTIZE, T, D, 0, OPS_QUANT * TD,
                  5.0 * TD);
    t = igq__prof_t0(lp);
    igq__qexec_linear(c, &xb->qkv, &xb->in_qkv, c->cg, T, c->yf);
    prof_lin(c, t, "attn.qkv", b, &xb->qkv, T);
    t = igq__prof_t0(lp);
    igq__qexec_quant_f32(c, &xb->q, c->yf, T, D, 3 * D, c->qc, 3 * D);
    igq__qexec_quant_f32(c, &xb->k, c->yf + D, T, D, 3 * D, c->qc + D, 3 * D);
    igq__qexec_quant_f32(c, &xb->v, c->yf + 2 * D, T, D, 3 * D, c->qc + 2 * D, 3 * D);
    igq__qexec_attention(c, xb);
    igq__prof_add(lp, t, "attn", b, IGQ_LAYER_ATTENTION, T, T, hd,
                  4.0 * TT * (double)H * hd + OPS_SOFTMAX * TT * H + 3.0 * OPS_QUANT * TD,
                  16.0 * TD);
    t = igq__prof_t0(lp);
    igq__qexec_quant_f32(c, &xb->in_proj, c->of, T, D, D, c->cg, D);
    igq__qexec_capture(c, b, IGQ__SITE_PROJ_IN, D);
    igq__prof_add(lp, t, "attn.proj.quantize", b, IGQ_LAYER_QUANTIZE, T, D, 0, OPS_QUANT * TD,
                  5.0 * TD);
    t = igq__prof_t0(lp);
    igq__qexec_linear(c, &xb->proj, &xb->in_proj, c->cg, T, c->yf);
    prof_lin(c, t, "attn.proj", b, &xb->proj, T);
    t = igq__prof_t0(lp);
    residual(c, c->yf, mb->ls1);
    igq__prof_add(lp, t, "residual1", b, IGQ_LAYER_RESIDUAL, T, D, 0, OPS_RESIDUAL * TD,
                  12.0 * TD);

    t = igq__prof_t0(lp);
    layernorm_f32in(c, &xb->ln2, c->xr, T, (int32_t *)c->of); /* consumed by proj */
    igq__prof_add(lp, t, "norm2", b, IGQ_LAYER_LAYER_NORM, T, D, 0, OPS_LN * TD, 8.0 * TD);
    t = igq__prof_t0(lp);
    igq__qexec_quant_i32(c, &xb->in_fc1, (const int32_t *)c->of, T, D);
    igq__qexec_capture(c, b, IGQ__SITE_FC1_IN, D);
    igq__prof_add(lp, t, "mlp.fc1.quantize", b, IGQ_LAYER_QUANTIZE, T, D, 0, OPS_QUANT * TD,
                  5.0 * TD);
    t = igq__prof_t0(lp);
    igq__qexec_linear(c, &xb->fc1, &xb->in_fc1, c->cg, T, c->yf);
    prof_lin(c, t, "mlp.fc1", b, &xb->fc1, T);
    t = igq__prof_t0(lp);
    {
        const int64_t nt = igq__ithreads(c);
        igq__ipar(c, nt < T ? nt : T, gelu_task, NULL);
    }
    igq__prof_add(lp, t, "mlp.gelu", b, IGQ_LAYER_GELU, T, Mm, 0, OPS_GELU * TM, 8.0 * TM);
    t = igq__prof_t0(lp);
    igq__qexec_quant_i32(c, &xb->in_fc2, (const int32_t *)c->yf, T, Mm);
    igq__qexec_capture(c, b, IGQ__SITE_FC2_IN, Mm);
    igq__prof_add(lp, t, "mlp.fc2.quantize", b, IGQ_LAYER_QUANTIZE, T, Mm, 0, OPS_QUANT * TM,
                  5.0 * TM);
    t = igq__prof_t0(lp);
    igq__qexec_linear(c, &xb->fc2, &xb->in_fc2, c->cg, T, c->yf);
    prof_lin(c, t, "mlp.fc2", b, &xb->fc2, T);
    t = igq__prof_t0(lp);
    residual(c, c->yf, mb->ls2);
    igq__prof_add(lp, t, "residual2", b, IGQ_LAYER_RESIDUAL, T, D, 0, OPS_RESIDUAL * TD,
                  12.0 * TD);
}

/* The pooled embedding of igq_run_features: the head's input before its quantization, in f32
 * (int32 LayerNorm outputs times their scale, or the f32 values), a distilled model's two
 * tokens averaged as timm's pre_logits does. */
static void features_out(const igq_ictx *c, const int32_t *pi, const float *pf, int64_t rows,
                         float *out)
{
    const int64_t D     = c->d->dim;
    const double  scale = c->x->head_in.src_scale;
    int64_t       i;
    for (i = 0; i < D; i++) {
        float v = pi != NULL ? (float)((double)pi[i] * scale) : pf[i];
        if (rows == 2) {
            const float w = pi != NULL ? (float)((double)pi[D + i] * scale) : pf[D + i];
            v             = 0.5f * (v + w);
        }
        out[i] = v;
    }
}

/* Final norm, pooling, head of the image in c->xr: logits, or (c->feat) the pooled embedding
 * (D floats). */
static void classify(igq_ictx *c, float *logits)
{
    const igq_qexec    *x = c->x;
    const igq_vit_dims *d = c->d;
    const int64_t       T = d->n_tokens, D = d->dim, np = d->n_prefix;
    int64_t             rows = 1, t, i;
    const igq_qsite    *qh = &x->head_in;
    const int32_t      *pi = NULL; /* the head's input: int32 at qh->src_scale, or f32 */
    const float        *pf = NULL;
    IGQ__PROF_BEGIN(c);
    if (d->pool == IGQ_POOL_TOKEN) {
        rows = d->has_dist ? 2 : 1;
        if (x->has_norm) {
            layernorm_f32in(c, &x->norm, c->xr, rows, c->pooled);
            pi = c->pooled;
        } else {
            pf = c->xr;
        }
    } else {
        /* mean of the patch tokens: of the integer-normed tokens (int32 at the head scale) or
         * of the residual (f32) */
        if (x->has_norm) {
            int32_t *ln = (int32_t *)c->of;
            layernorm_f32in(c, &x->norm, c->xr, T, ln);
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
            layernorm_f32in(c, &x->fc_norm, c->pooledf, 1, c->pooled);
            pi = c->pooled;
        } else {
            pf = c->pooledf;
        }
    }
    if (c->feat || d->classes == 0) { /* (a model without a classifier gives only these) */
        if (c->feat) features_out(c, pi, pf, rows, logits);
        IGQ__PROF_END(c, IGQ__PROF_OTHER);
        return;
    }
    if (pi != NULL)
        igq__qexec_quant_i32(c, qh, pi, rows, D);
    else
        igq__qexec_quant_f32(c, qh, pf, rows, D, D, c->cg, D);
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
    igq_prof               *prof; /* [threads] recorders, or NULL */
    int                     feat;   /* outputs: pooled embeddings (D each), not logits */
    int64_t                 ow;     /* floats per image of the output */
} irun;

/* One image on context c (alone, or thread 0 of a team). */
static void run_ctx(igq_ictx *c, const float *img, float *logits)
{
    const igq_vit_dims *d = c->d;
    const igq_qexec    *x = c->x;
    const int64_t       NP = d->n_patches, D = d->dim, T = d->n_tokens;
    const int64_t       cpp = (int64_t)d->in_chans * d->patch * d->patch;
    const int64_t       hr  = d->has_dist ? 2 : 1;
    int32_t             b;
    double              t;
    igq__prof_start(c->lp);
    t = igq__prof_t0(c->lp);
    embed(c, img);
    igq__prof_add(c->lp, t, "patch_embed", -1, IGQ_LAYER_PATCH_EMBED, NP, D, cpp,
                  2.0 * (double)NP * D * cpp + OPS_QUANT * (double)NP * cpp,
                  lin_bytes(&x->patch, NP) + 4.0 * (double)NP * cpp + 8.0 * (double)T * D);
    for (b = 0; b < d->depth; b++) block(c, b);
    t = igq__prof_t0(c->lp);
    classify(c, logits);
    if (c->feat) /* final norm and pooling only */
        igq__prof_add(c->lp, t, "head", -1, IGQ_LAYER_HEAD, hr, D, 0, OPS_LN * (double)T * D,
                      4.0 * (double)T * D + 4.0 * D);
    else
        igq__prof_add(c->lp, t, "head", -1, IGQ_LAYER_HEAD, hr, d->classes, D,
                      2.0 * (double)hr * d->classes * D + OPS_LN * (double)T * D,
                      4.0 * (double)T * D + (double)hr * lin_bytes(&x->head, 1));
}

static void image_task(void *ctx, int64_t i, int32_t thread)
{
    irun               *r = (irun *)ctx;
    const igq_vit_dims *d = &r->m->d;
    igq_ictx *c = ctx_init(r->m, r->scratch + (size_t)thread * r->stride, IGQ__PROF_ON(i),
                           r->prof != NULL ? &r->prof[thread] : NULL, -1, -1, NULL, NULL, NULL);
    c->feat     = r->feat;
    run_ctx(c, r->images + (size_t)i * d->in_chans * d->img_h * d->img_w,
            r->logits + (size_t)i * r->ow);
}

void igq__forward_int_capture(const struct igq_model *m, const float *image, float *logits,
                              void *scratch, int32_t block, int32_t site, int32_t *assign)
{
    igq_ictx *c = ctx_init(m, (unsigned char *)scratch, 0, NULL, block, site, assign, NULL, NULL);
    run_ctx(c, image, logits);
}

void igq__forward_int(const struct igq_model *m, const float *images, int64_t batch,
                      float *logits, int feat, void *scratch, igq__pool *pool, igq_prof *prof)
{
    const igq_vit_dims *d  = &m->d;
    const int32_t       nt = igq__pool_size(pool);
    const int64_t       whole = batch / nt * nt; /* images split one per task */
    irun                r;
    int64_t             i;
    int32_t             t;
    r.m       = m;
    r.images  = images;
    r.logits  = logits;
    r.scratch = (unsigned char *)scratch;
    r.stride  = igq__forward_int_scratch(m);
    r.prof    = prof;
    r.feat    = feat;
    r.ow      = feat ? d->dim : d->classes;
    if (whole > 0) igq__pool_run(pool, whole, image_task, &r);
    for (i = whole; i < batch; i++) {
        /* the rest, one image at a time on all threads */
        igq_iteam team;
        igq_ictx *c0;
        team.pool   = pool;
        team.n      = nt;
        team.base   = r.scratch;
        team.stride = r.stride;
        c0 = ctx_init(m, r.scratch, IGQ__PROF_ON(i), prof, -1, -1, NULL, &team, NULL);
        c0->feat = feat;
        for (t = 1; t < nt; t++)
            (void)ctx_init(m, r.scratch + (size_t)t * r.stride, 0, NULL, -1, -1, NULL, &team,
                           c0);
        run_ctx(c0, images + (size_t)i * d->in_chans * d->img_h * d->img_w,
                logits + (size_t)i * r.ow);
    }
}
