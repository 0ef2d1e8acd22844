/* The integer executor's prepared model (qexec_impl.h): weights re-quantized from their stored
 * fake-quantized values and packed for the integer GEMMs, each activation site's scales, zero
 * points and requantization multipliers, and the integer LayerNorm / softmax / GELU
 * parameters. Built once at quantization; read-only afterwards, shared by every thread. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/qs8_layout.h"
#include "qexec_impl.h"

/* Every buffer of the executor is listed in x->owned (one igq__qexec_free releases them all,
 * whichever step of the build failed) and counted in x->bytes. */
static void *xalloc(igq_qexec *x, size_t bytes)
{
    void *p;
    if (x->n_owned == x->cap_owned) {
        int    cap = x->cap_owned ? 2 * x->cap_owned : 64;
        void **o   = (void **)igq__malloc((size_t)cap * sizeof(void *));
        if (o == NULL) return NULL;
        if (x->n_owned) memcpy(o, x->owned, (size_t)x->n_owned * sizeof(void *));
        igq__free(x->owned);
        x->owned     = o;
        x->cap_owned = cap;
    }
    p = igq__malloc(bytes > 0 ? bytes : 1);
    if (p == NULL) return NULL;
    x->owned[x->n_owned++] = p;
    x->bytes += bytes;
    return p;
}

void igq__qexec_free(igq_qexec *x)
{
    int i;
    if (x == NULL) return;
    if (x->blk != NULL)
        for (i = 0; i < x->depth; i++) {
            igq__ln_params_free(&x->blk[i].ln1);
            igq__ln_params_free(&x->blk[i].ln2);
        }
    igq__ln_params_free(&x->norm);
    igq__ln_params_free(&x->fc_norm);
    for (i = 0; i < x->n_owned; i++) igq__free(x->owned[i]);
    igq__free(x->owned);
    igq__free(x);
}

size_t igq__qexec_bytes(const igq_qexec *x) { return x != NULL ? x->bytes : 0; }

#define NOMEM()                                                                              \
    igq__set_error(IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory (integer executor)")

/* Packs a linear layer whose f32 weights are stored fake-quantized (w = t_d q), or takes
 * its packed weights as they were saved (pre != NULL). */
static igq_status build_lin(igq_qexec *x, const igq_linear *l, const struct igq_quantizer *z,
                            const char *what, int32_t block, const igq_qlin_packed *pre,
                            igq_qlin *o)
{
    const int64_t K = l->in, N = l->out;
    int8_t       *w;
    void         *packed;
    int32_t      *rowsum;
    float        *t;
    int64_t       n, k;
    IGQ_CHECK(z->present && z->is_weight && z->n_params == N, IGQ_ERR_INTERNAL,
              "integer executor: %s weight quantizer of block %d missing", what, (int)block);
    IGQ_CHECK(z->bits >= 2 && z->bits <= 8, IGQ_ERR_UNSUPPORTED,
              "igq_quantize_model: IGQ_EXECUTOR_INT needs weight bits in [2, 8]; %s of block %d "
              "has %d (use IGQ_EXECUTOR_SIM)", what, (int)block, (int)z->bits);
    o->in  = (int32_t)K;
    o->out = (int32_t)N;
    o->qs4 = z->bits <= 4;
    o->b   = l->b;
    o->t = t = (float *)xalloc(x, (size_t)N * sizeof(float));
    if (t == NULL) return NOMEM();
    for (n = 0; n < N; n++) t[n] = z->qp[n].scale;
    if (pre != NULL) {
        o->packed = pre->packed;
        o->rowsum = pre->rowsum;
        return IGQ_OK;
    }
    o->packed = packed = xalloc(x, igq__qs8_packed_size(N, K, o->qs4 ? 4 : 8));
    o->rowsum = rowsum = (int32_t *)xalloc(x, (size_t)N * sizeof(int32_t));
    w                  = (int8_t *)igq__malloc((size_t)(N * K));
    if (packed == NULL || rowsum == NULL || w == NULL) {
        igq__free(w);
        return NOMEM();
    }
    for (n = 0; n < N; n++) {
        const float inv = z->qp[n].inv_scale;
        for (k = 0; k < K; k++) {
            float v = l->wt[k * N + n] * inv;
            v       = (float)floor((double)v + 0.5);
            v       = v < (float)z->qp[n].qmin   ? (float)z->qp[n].qmin
                      : v > (float)z->qp[n].qmax ? (float)z->qp[n].qmax
                                                 : v;
            w[n * K + k] = (int8_t)v;
        }
    }
    if (o->qs4)
        igq__qs4_pack(N, K, w, NULL, packed, rowsum);
    else
        igq__qs8_pack(N, K, w, NULL, packed, rowsum);
    igq__free(w);
    return IGQ_OK;
}

/* An activation site; src_scale > 0 for an int32 source at that scale. */
static igq_status build_site(igq_qexec *x, const struct igq_quantizer *z, double src_scale,
                             const char *what, int32_t block, igq_qsite *o)
{
    int g;
    IGQ_CHECK(z->present && !z->is_weight, IGQ_ERR_INTERNAL,
              "integer executor: %s quantizer of block %d missing", what, (int)block);
    IGQ_CHECK(z->granularity != IGQ__GRAN_CHANNEL, IGQ_ERR_UNSUPPORTED,
              "igq_quantize_model: IGQ_EXECUTOR_INT cannot run per-channel activation "
              "quantizers (%s of block %d; a per-channel scale cannot be taken out of an "
              "integer dot product): use groups or IGQ_EXECUTOR_SIM", what, (int)block);
    IGQ_CHECK(z->n_params >= 1 && z->bits >= 2 && z->bits <= 8, IGQ_ERR_UNSUPPORTED,
              "igq_quantize_model: IGQ_EXECUTOR_INT: %s of block %d has %d bits", what,
              (int)block, (int)z->bits);
    o->z    = z;
    o->G    = z->granularity == IGQ__GRAN_TENSOR ? 1 : z->n_params;
    o->qmin = z->qp[0].qmin;
    o->qmax = z->qp[0].qmax;
    o->s    = (float *)xalloc(x, (size_t)o->G * sizeof(float));
    o->zp   = (int32_t *)xalloc(x, (size_t)o->G * sizeof(int32_t));
    o->mult = (int32_t *)xalloc(x, (size_t)o->G * sizeof(int32_t));
    o->shift = (int32_t *)xalloc(x, (size_t)o->G * sizeof(int32_t));
    o->muli  = (float *)xalloc(x, (size_t)o->G * sizeof(float));
    if (o->s == NULL || o->zp == NULL || o->mult == NULL || o->shift == NULL || o->muli == NULL)
        return NOMEM();
    o->src_scale = src_scale;
    for (g = 0; g < o->G; g++) {
        o->s[g]    = z->qp[g].scale;
        o->zp[g]   = z->qp[g].zero;
        o->muli[g] = (float)(src_scale / (double)z->qp[g].scale);
        if (src_scale > 0.0)
            igq__requant_multiplier(src_scale / (double)z->qp[g].scale, &o->mult[g],
                                    &o->shift[g]);
        else
            o->mult[g] = o->shift[g] = 0;
    }
    if (o->G > x->gmax) x->gmax = o->G;
    return IGQ_OK;
}

/* Output scale of an integer LayerNorm feeding site z: 2^-16 of its finest scale (the
 * requantization to codes then has 16 fraction bits, so its round-half-up differs from the
 * simulated round-half-even on a negligible share of values). */
static double ln_out_scale(const struct igq_quantizer *z)
{
    int   g;
    float s = z->qp[0].scale;
    for (g = 1; g < z->n_params; g++) s = z->qp[g].scale < s ? z->qp[g].scale : s;
    return (double)s / 65536.0;
}

static igq_status build_ln(const float *w, const float *b, int64_t C, float eps, double y_scale,
                           const char *what, int32_t block, igq_ln_params *p)
{
    igq_status s = igq__ln_params_init(p, C, 1.0f, eps, w, b, (float)y_scale);
    char       why[256];
    if (s == IGQ_OK) return IGQ_OK;
    if (s == IGQ_ERR_NO_MEMORY) return NOMEM();
    /* a copy: igq__set_error writes the buffer igq_last_error() returns */
    snprintf(why, sizeof why, "%s", igq_last_error());
    return igq__set_error(s, "igq_quantize_model: integer LayerNorm %s of block %d: %s", what,
                          (int)block, why);
}

static igq_status build(const struct igq_model *m, const igq_qlin_packed *pre, igq_qexec **out)
{
    const igq_vit_dims *d = &m->d;
    const igq_qstate   *q = m->q;
    igq_qexec          *x;
    igq_status          s = IGQ_OK;
    int32_t             b;
    *out = NULL;
    IGQ_CHECK(q != NULL, IGQ_ERR_INTERNAL, "integer executor: model is not quantized");
    x = (igq_qexec *)igq__calloc(1, sizeof *x);
    if (x == NULL) return NOMEM();
    x->depth = d->depth;
    x->blk   = (igq_qblk *)xalloc(x, (size_t)(d->depth > 0 ? d->depth : 1) * sizeof(igq_qblk));
    if (x->blk == NULL) {
        igq__qexec_free(x);
        return NOMEM();
    }
    memset(x->blk, 0, (size_t)(d->depth > 0 ? d->depth : 1) * sizeof(igq_qblk));
    x->gmax = 1;
    igq__gelu_params_init(&x->gelu);
    {
        /* the same arithmetic as igq__ln_params_set_x_scale for S_x = 2^-j' (exact scaling) */
        const double e0 = (double)d->dim * (double)d->dim * (double)d->ln_eps;
        int          j;
        for (j = 0; j < IGQ__LN_TAB_N; j++) {
            const double v = ldexp(e0, 2 * (j - IGQ__LN_TAB_OFF));
            x->ln_eps_tab[j] =
                v >= 2305843009213693952.0 ? (int64_t)1 << 61 : (int64_t)floor(v + 0.5);
        }
    }
#define TRY(e)                      \
    do {                            \
        if (s == IGQ_OK) s = (e);   \
    } while (0)
#define PRE(i) (pre != NULL ? &pre[i] : NULL)
    TRY(build_lin(x, &m->patch, igq__qz(q, -1, IGQ__SITE_PATCH_W), "patch embedding", -1,
                  PRE(IGQ__QLIN_PATCH(d->depth)), &x->patch));
    if (d->classes > 0) /* else no classifier: embeddings only */
        TRY(build_lin(x, &m->head, igq__qz(q, -1, IGQ__SITE_HEAD_W), "head", -1,
                      PRE(IGQ__QLIN_PATCH(d->depth) + 1), &x->head));
    if (d->has_dist)
        TRY(build_lin(x, &m->head_dist, igq__qz(q, -1, IGQ__SITE_HEAD_DIST_W), "head_dist", -1,
                      PRE(IGQ__QLIN_PATCH(d->depth) + 2), &x->head_dist));
    TRY(build_site(x, igq__qz(q, -1, IGQ__SITE_PATCH_IN), 0.0, "patch input", -1, &x->patch_in));
    if (s == IGQ_OK) {
        const struct igq_quantizer *zh = igq__qz(q, -1, IGQ__SITE_HEAD_IN);
        const double                sh = ln_out_scale(zh);
        TRY(build_site(x, zh, sh, "head input", -1, &x->head_in));
        if (m->norm_w != NULL) {
            x->has_norm = 1;
            TRY(build_ln(m->norm_w, m->norm_b, d->dim, d->ln_eps, sh, "norm", -1, &x->norm));
        }
        if (m->fc_norm_w != NULL) {
            x->has_fc_norm = 1;
            TRY(build_ln(m->fc_norm_w, m->fc_norm_b, d->dim, d->ln_eps, sh, "fc_norm", -1,
                         &x->fc_norm));
        }
    }
    for (b = 0; b < d->depth && s == IGQ_OK; b++) {
        const igq_block *mb = &m->blocks[b];
        igq_qblk        *xb = &x->blk[b];
        const double     s1 = ln_out_scale(igq__qz(q, b, IGQ__SITE_QKV_IN));
        const double     s2 = ln_out_scale(igq__qz(q, b, IGQ__SITE_FC1_IN));
        TRY(build_lin(x, &mb->qkv, igq__qz(q, b, IGQ__SITE_QKV_W), "qkv", b, PRE(4 * b),
                      &xb->qkv));
        TRY(build_lin(x, &mb->proj, igq__qz(q, b, IGQ__SITE_PROJ_W), "proj", b, PRE(4 * b + 1),
                      &xb->proj));
        TRY(build_lin(x, &mb->fc1, igq__qz(q, b, IGQ__SITE_FC1_W), "fc1", b, PRE(4 * b + 2),
                      &xb->fc1));
        TRY(build_lin(x, &mb->fc2, igq__qz(q, b, IGQ__SITE_FC2_W), "fc2", b, PRE(4 * b + 3),
                      &xb->fc2));
        TRY(build_site(x, igq__qz(q, b, IGQ__SITE_QKV_IN), s1, "qkv input", b, &xb->in_qkv));
        TRY(build_site(x, igq__qz(q, b, IGQ__SITE_Q), 0.0, "queries", b, &xb->q));
        TRY(build_site(x, igq__qz(q, b, IGQ__SITE_K), 0.0, "keys", b, &xb->k));
        TRY(build_site(x, igq__qz(q, b, IGQ__SITE_V), 0.0, "values", b, &xb->v));
        TRY(build_site(x, igq__qz(q, b, IGQ__SITE_ATTN), ldexp(1.0, -IGQ_SMX_Q20_BITS),
                       "attention", b, &xb->attn));
        TRY(build_site(x, igq__qz(q, b, IGQ__SITE_PROJ_IN), 0.0, "proj input", b, &xb->in_proj));
        TRY(build_site(x, igq__qz(q, b, IGQ__SITE_FC1_IN), s2, "fc1 input", b, &xb->in_fc1));
        TRY(build_site(x, igq__qz(q, b, IGQ__SITE_FC2_IN), ldexp(1.0, -IGQ_GELU_FRAC),
                       "fc2 input", b, &xb->in_fc2));
        if (s == IGQ_OK &&
            (xb->q.G != 1 || xb->k.G != 1 || xb->v.G != 1))
            s = igq__set_error(IGQ_ERR_UNSUPPORTED,
                               "igq_quantize_model: IGQ_EXECUTOR_INT needs per-tensor Q/K/V "
                               "quantizers (block %d)", (int)b);
        TRY(build_ln(mb->ln1_w, mb->ln1_b, d->dim, d->ln_eps, s1, "norm1", b, &xb->ln1));
        TRY(build_ln(mb->ln2_w, mb->ln2_b, d->dim, d->ln_eps, s2, "norm2", b, &xb->ln2));
        if (s == IGQ_OK) {
            const double sin = (double)xb->q.s[0] * (double)xb->k.s[0] / sqrt((double)d->head_dim);
            if (igq__softmax_params_init(&xb->smx, (float)sin) != IGQ_OK)
                s = igq__set_error(IGQ_ERR_UNSUPPORTED,
                                   "igq_quantize_model: integer softmax of block %d: input "
                                   "scale %g", (int)b, sin);
        }
    }
#undef TRY
#undef PRE
    if (s != IGQ_OK) {
        igq__qexec_free(x);
        return s;
    }
    x->bytes += sizeof *x;
    *out = x;
    return IGQ_OK;
}

/* Frees the f32 weight matrices of the linear layers (the executor has packed its own). */
static void release_f32(struct igq_model *m)
{
    int32_t b;
    for (b = 0; b < m->d.depth; b++) {
        igq_block *bl = &m->blocks[b];
        igq__free(bl->qkv.wt), bl->qkv.wt = NULL;
        igq__free(bl->proj.wt), bl->proj.wt = NULL;
        igq__free(bl->fc1.wt), bl->fc1.wt = NULL;
        igq__free(bl->fc2.wt), bl->fc2.wt = NULL;
    }
    igq__free(m->patch.wt), m->patch.wt = NULL;
    igq__free(m->head.wt), m->head.wt = NULL;
    igq__free(m->head_dist.wt), m->head_dist.wt = NULL;
}

igq_status igq__qexec_attach(struct igq_model *m)
{
    IGQ_TRY(build(m, NULL, &m->q->x));
    release_f32(m);
    return IGQ_OK;
}

igq_status igq__qexec_attach_packed(struct igq_model *m, const igq_qlin_packed *layers)
{
    return build(m, layers, &m->q->x);
}

int igq__qexec_layer(const igq_qexec *x, int32_t i, igq_qlin_packed *w, int32_t *in,
                     int32_t *out, int32_t *qs4)
{
    const igq_qlin *L;
    if (i < 0 || i >= IGQ__QLIN_COUNT(x->depth)) return 0;
    if (i < 4 * x->depth) {
        const igq_qblk *b = &x->blk[i / 4];
        L = i % 4 == 0 ? &b->qkv : i % 4 == 1 ? &b->proj : i % 4 == 2 ? &b->fc1 : &b->fc2;
    } else {
        i -= 4 * x->depth;
        L = i == 0 ? &x->patch : i == 1 ? &x->head : &x->head_dist;
    }
    if (L->packed == NULL) return 0;
    w->packed = L->packed;
    w->rowsum = L->rowsum;
    *in       = L->in;
    *out      = L->out;
    *qs4      = L->qs4;
    return 1;
}
