/* The integer executor (qexec.h): build (pack the weights, make the non-linear kernels'
 * parameters) and the per-image forward.
 *
 * Sites and their sources (quantizers from lib/ptq; arithmetic choices documented here):
 *   PATCH_IN  f32 patches              -> codes (per tensor, edge bits)
 *   QKV_IN    integer LN1 output int32 -> codes (per-image channel groups)
 *   Q, K, V   f32 epilogue of qkv      -> codes (per tensor)
 *   ATTN      integer softmax, p 2^-20 -> codes (per-image row groups), per head
 *   PROJ_IN   f32 epilogue of P V      -> codes (per-image channel groups)
 *   FC1_IN    integer LN2 output int32 -> codes (per-image channel groups)
 *   FC2_IN    integer GELU output 2^-16 -> codes (per-image channel groups)
 *   HEAD_IN   integer final LN output  -> codes (per tensor, edge bits)
 * Codes are unsigned (0 .. 2^b - 1) with the quantizer's zero point. A site quantized from
 * f32 uses the simulated executor's arithmetic (x / s, clamp, round half to even, + z); from
 * int32 at a fixed scale S it uses the dyadic requantization of S / s (round half up): the two
 * differ only at exact ties.
 *
 * Linear layer with G input groups (ALGORITHMS.md 1.8): codes are gathered in group order
 * (perm lists the channels group by group), one int GEMM per group k-slice reads the weights
 * through perm (the packed weights are never copied), and
 *   y[n][d] = t_d (sum_g s_g acc_g[n][d] - corr[d]) + b_d,  corr[d] = sum_g s_g z_g S_g[d],
 * S_g[d] = sum over the group's channels of w[c][d], obtained by one more int GEMM whose G
 * rows are the groups' 0/1 indicators. The sum over g is the f32 fold kernel.
 * Attention per head: Q K^T = one int GEMM (K codes offset by 2^(b-1) to int8 and packed per
 * head), zero-point terms that are constant along a row are dropped (softmax ignores them),
 * integer softmax, row groups, P V = one int GEMM, per-row f32 epilogue.
 * Residual stream: f32. LayerNorm input: the f32 rows converted to int32 at a power-of-two
 * scale chosen per image (largest |x| below 2^21), then the integer LayerNorm. */
#include <float.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/dispatch.h"
#include "../kernels/qs8_layout.h"
#include "qexec.h"

/* LayerNorm input: rows converted to |x_int| < 2^IGQ__LN_IN_BITS (igq__rne needs < 2^22). */
#define IGQ__LN_IN_BITS 22
/* ln_eps_tab[j + LN_TAB_OFF] = round(C^2 eps 4^j) (saturated at 2^61) for j = LN_IN_BITS - e - k,
 * e in [-149, 128] (frexpf exponents of finite non-zero floats, plus 0), k in [0, 32]. */
#define LN_TAB_OFF 162
#define LN_TAB_N (LN_TAB_OFF + IGQ__LN_IN_BITS + 150)
#define RUP64(n) ((((size_t)(n)) + 63u) & ~(size_t)63u)

double *igq__int_prof = NULL;

/* ---- the prepared model ----------------------------------------------------------------- */

typedef struct qlin {
    int32_t      in, out, qs4; /* qs4: int4 weights (bits <= 4) */
    void        *packed;
    int32_t     *rowsum;      /* [out] sum over k of w[k][d] */
    float       *t;           /* [out] weight scales */
    const float *b;           /* [out] bias (the model's) */
} qlin;

typedef struct qsite {
    const struct igq_quantizer *z;
    int32_t                     G;          /* 1 for a per-tensor quantizer */
    int32_t                     qmin, qmax;
    float                      *s;          /* [G] scales */
    int32_t                    *zp;         /* [G] zero points */
    double                      src_scale;  /* int32 source scale (0: f32 source) */
    int32_t                    *mult, *shift; /* [G] src_scale / s_g, dyadic (softmax rows) */
    float                      *muli;         /* [G] src_scale / s_g as a float multiplier */
} qsite;

typedef struct qblk {
    qlin               qkv, proj, fc1, fc2;
    igq_ln_params      ln1, ln2;
    igq_softmax_params smx;
    qsite              in_qkv, q, k, v, attn, in_proj, in_fc1, in_fc2;
} qblk;

struct igq_qexec {
    qblk           *blk;
    int32_t         depth;
    qlin            patch, head, head_dist;
    qsite           patch_in, head_in;
    igq_ln_params   norm, fc_norm;
    int             has_norm, has_fc_norm;
    igq_gelu_params gelu;
    int64_t         ln_eps_tab[LN_TAB_N];
    int32_t         gmax;
    size_t          bytes;
    void          **owned;
    int             n_owned, cap_owned;
};

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

#define NOMEM() igq__set_error(IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory (integer executor)")

/* Packs a linear layer whose f32 weights are stored fake-quantized (w = t_d q). */
static igq_status build_lin(igq_qexec *x, const igq_linear *l, const struct igq_quantizer *z,
                            const char *what, int32_t block, qlin *o)
{
    const int64_t K = l->in, N = l->out;
    int8_t       *w;
    int64_t       n, k;
    IGQ_CHECK(z->present && z->is_weight && z->n_params == N, IGQ_ERR_INTERNAL,
              "integer executor: %s weight quantizer of block %d missing", what, (int)block);
    IGQ_CHECK(z->bits >= 2 && z->bits <= 8, IGQ_ERR_UNSUPPORTED,
              "igq_quantize_model: IGQ_EXECUTOR_INT needs weight bits in [2, 8]; %s of block %d "
              "has %d (use IGQ_EXECUTOR_SIM)", what, (int)block, (int)z->bits);
    o->in  = (int32_t)K;
    o->out = (int32_t)N;
    o->qs4  = z->bits <= 4;
    o->b   = l->b;
    o->packed = xalloc(x, igq__qs8_packed_size(N, K, o->qs4 ? 4 : 8));
    o->rowsum = (int32_t *)xalloc(x, (size_t)N * sizeof(int32_t));
    o->t      = (float *)xalloc(x, (size_t)N * sizeof(float));
    w         = (int8_t *)igq__malloc((size_t)(N * K));
    if (o->packed == NULL || o->rowsum == NULL || o->t == NULL || w == NULL) {
        igq__free(w);
        return NOMEM();
    }
    for (n = 0; n < N; n++) {
        const float s = z->qp[n].scale, inv = z->qp[n].inv_scale;
        o->t[n]       = s;
        for (k = 0; k < K; k++) {
            float v = l->wt[k * N + n] * inv;
            v       = (float)floor((double)v + 0.5);
            v       = v < (float)z->qp[n].qmin ? (float)z->qp[n].qmin
                                               : (v > (float)z->qp[n].qmax ? (float)z->qp[n].qmax : v);
            w[n * K + k] = (int8_t)v;
        }
    }
    if (o->qs4)
        igq__qs4_pack(N, K, w, NULL, o->packed, o->rowsum);
    else
        igq__qs8_pack(N, K, w, NULL, o->packed, o->rowsum);
    igq__free(w);
    return IGQ_OK;
}

/* An activation site; src_scale > 0 for an int32 source at that scale. */
static igq_status build_site(igq_qexec *x, const struct igq_quantizer *z, double src_scale,
                             const char *what, int32_t block, qsite *o)
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
    if (s == IGQ_OK) return IGQ_OK;
    if (s == IGQ_ERR_NO_MEMORY) return NOMEM();
    return igq__set_error(s, "igq_quantize_model: integer LayerNorm %s of block %d: %s", what,
                          (int)block, igq_last_error());
}

igq_status igq__qexec_build(const struct igq_model *m, igq_qexec **out)
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
    x->blk   = (qblk *)xalloc(x, (size_t)(d->depth > 0 ? d->depth : 1) * sizeof(qblk));
    if (x->blk == NULL) {
        igq__qexec_free(x);
        return NOMEM();
    }
    memset(x->blk, 0, (size_t)(d->depth > 0 ? d->depth : 1) * sizeof(qblk));
    x->gmax = 1;
    igq__gelu_params_init(&x->gelu);
    {
        /* the same arithmetic as igq__ln_params_set_x_scale for S_x = 2^-j' (exact scaling) */
        const double e0 = (double)d->dim * (double)d->dim * (double)d->ln_eps;
        int          j;
        for (j = 0; j < LN_TAB_N; j++) {
            const double v = ldexp(e0, 2 * (j - LN_TAB_OFF));
            x->ln_eps_tab[j] = v >= 2305843009213693952.0 ? (int64_t)1 << 61 : (int64_t)floor(v + 0.5);
        }
    }
#define TRY(e)                      \
    do {                            \
        if (s == IGQ_OK) s = (e);   \
    } while (0)
    TRY(build_lin(x, &m->patch, igq__qz(q, -1, IGQ__SITE_PATCH_W), "patch embedding", -1,
                  &x->patch));
    TRY(build_lin(x, &m->head, igq__qz(q, -1, IGQ__SITE_HEAD_W), "head", -1, &x->head));
    if (d->has_dist)
        TRY(build_lin(x, &m->head_dist, igq__qz(q, -1, IGQ__SITE_HEAD_DIST_W), "head_dist", -1,
                      &x->head_dist));
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
        qblk            *xb = &x->blk[b];
        const double     s1 = ln_out_scale(igq__qz(q, b, IGQ__SITE_QKV_IN));
        const double     s2 = ln_out_scale(igq__qz(q, b, IGQ__SITE_FC1_IN));
        TRY(build_lin(x, &mb->qkv, igq__qz(q, b, IGQ__SITE_QKV_W), "qkv", b, &xb->qkv));
        TRY(build_lin(x, &mb->proj, igq__qz(q, b, IGQ__SITE_PROJ_W), "proj", b, &xb->proj));
        TRY(build_lin(x, &mb->fc1, igq__qz(q, b, IGQ__SITE_FC1_W), "fc1", b, &xb->fc1));
        TRY(build_lin(x, &mb->fc2, igq__qz(q, b, IGQ__SITE_FC2_W), "fc2", b, &xb->fc2));
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
            const int    ab  = xb->attn.z->bits;
            if (igq__softmax_params_init(&xb->smx, (float)sin, ab < 2 ? 2 : ab) != IGQ_OK)
                s = igq__set_error(IGQ_ERR_UNSUPPORTED,
                                   "igq_quantize_model: integer softmax of block %d: input "
                                   "scale %g", (int)b, sin);
        }
    }
#undef TRY
    if (s != IGQ_OK) {
        igq__qexec_free(x);
        return s;
    }
    x->bytes += sizeof *x;
    *out = x;
    return IGQ_OK;
}

/* ---- per-thread scratch ----------------------------------------------------------------- */

typedef struct ictx {
    const struct igq_model *m;
    const igq_qexec        *x;
    const igq_vit_dims     *d;
    const igq_kernel_table *kt;
    int                     prof;    /* time the stages (image 0 of a profiled run) */
    float   *xr, *yf, *of, *cinv, *csc, *clo, *chi, *corr, *mn, *mx, *patches, *pooledf, *logit2;
    int32_t *xi, *acc, *lg, *p20, *oi, *rs, *rowg, *rsp, *assign, *perm, *off, *imn,
        *imx, *czero, *sg, *pooled;
    uint8_t *cg, *qc, *pc, *ind, *rowbuf;
    void    *pk, *ws;
    /* capture of one site's group assignment (igq_groups_compute), or cap_assign == NULL */
    int32_t  cap_block, cap_site, cur_block;
    int32_t *cap_assign;
    /* group state of the codes in cg */
    int32_t  G;
    const int32_t *gperm; /* NULL: identity */
} ictx;

static int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

#define TAKE(field, type, n)                                       \
    do {                                                           \
        if (base != NULL) c->field = (type *)(base + off);         \
        off += RUP64((size_t)(n) * sizeof(type));                  \
    } while (0)

static size_t layout(const struct igq_model *m, int32_t gmax, unsigned char *base, ictx *c)
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
    TAKE(csc, float, Cm);
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
    TAKE(rowbuf, uint8_t, Cm);
    TAKE(qc, uint8_t, T * 3 * D);
    TAKE(pc, uint8_t, T * T);
    TAKE(ind, uint8_t, G * Cm);
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

/* ---- timing (bench only) ---------------------------------------------------------------- */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#define PROF_BEGIN(c) double prof_t0_ = (c)->prof ? now_ns() : 0.0
#define PROF_END(c, k)                                                       \
    do {                                                                     \
        if ((c)->prof) igq__int_prof[k] += now_ns() - prof_t0_;              \
    } while (0)

/* ---- quantization into codes ------------------------------------------------------------ */

/* Group of a channel (or row) with range [m, M]: igq__group_assign, the simulated executor's
 * rule on the same cover bounds. (A tolerance for the integer kernels' small errors was tried
 * and lowered the agreement with the simulated executor: since the cover bounds sit half a
 * step beyond the calibrated envelopes, no ranges pile up on them.) */
static int assign(const struct igq_quantizer *z, int G, float m, float M)
{
    return igq__group_assign(m, M, z->lo, z->hi, z->clo, z->chi, G, z->policy);
}

/* Counting sort of the channels by group: perm lists them group by group (increasing index
 * inside a group), group g is perm[off[g] .. off[g+1]). */
static void make_perm(ictx *c, int64_t C, int32_t G)
{
    int32_t *off = c->off;
    int64_t  i;
    int32_t  g;
    for (g = 0; g <= G; g++) off[g] = 0;
    for (i = 0; i < C; i++) off[c->assign[i] + 1]++;
    for (g = 0; g < G; g++) off[g + 1] += off[g];
    for (i = 0; i < C; i++) c->perm[off[c->assign[i]]++] = (int32_t)i;
    for (g = G; g > 0; g--) off[g] = off[g - 1];
    off[0] = 0;
}

/* Per-channel quantization parameters: group g = assign[k] (or 0), multiplier mul (1 / s_g, or S / s_g for an int32 source at S). */
static void position_params(ictx *c, const qsite *qs, int64_t C, int i32_source)
{
    int64_t k;
    for (k = 0; k < C; k++) { /* per channel, in channel order (the gather comes after) */
        const int32_t g = qs->G == 1 ? 0 : c->assign[k];
        c->cinv[k]      = i32_source ? qs->muli[g] : qs->z->qp[g].inv_scale;
        c->clo[k]       = (float)(qs->qmin - qs->zp[g]);
        c->chi[k]       = (float)(qs->qmax - qs->zp[g]);
        c->czero[k]     = qs->zp[g];
    }
}

/* One row of codes in group order: quantized in channel order (contiguous, vectorized), then,
 * with groups, gathered through perm from an L1 row buffer (a byte gather per code is cheaper
 * than gathering the 4-byte inputs with vpgatherdd: measured). */
static void gather_row(const ictx *c, int64_t C, uint8_t *out)
{
    int64_t k;
    for (k = 0; k < C; k++) out[k] = c->rowbuf[c->gperm[k]];
}

static void quant_row_i32(ictx *c, int64_t C, const int32_t *a, uint8_t *out)
{
    c->kt->exec.quant_i32(C, a, c->cinv, c->clo, c->chi, c->czero, c->gperm ? c->rowbuf : out);
    if (c->gperm != NULL) gather_row(c, C, out);
}

static void quant_row_f32(ictx *c, int64_t C, const float *x, uint8_t *out)
{
    c->kt->exec.quant_f32(C, x, c->cinv, c->clo, c->chi, c->czero, c->gperm ? c->rowbuf : out);
    if (c->gperm != NULL) gather_row(c, C, out);
}

static void set_tensor_state(ictx *c, int64_t C)
{
    c->G      = 1;
    c->gperm  = NULL;
    c->off[0] = 0;
    c->off[1] = (int32_t)C;
}

/* Codes of int32 values a [rows][C] at the site's source scale S into c->cg (group order)
 * and the group state (c->G, c->gperm, c->off): (float)a * (S / s_g), clamp, round half to
 * even, + z_g (an f32 requantization; exact conversion below 2^24). */
static void quant_i32(ictx *c, const qsite *qs, const int32_t *a, int64_t rows, int64_t C)
{
    const int32_t G = qs->G;
    int64_t       r, i;
    if (G == 1) {
        set_tensor_state(c, C);
    } else {
        PROF_BEGIN(c);
        int32_t     *mn = c->imn, *mx = c->imx;
        const float  S  = (float)qs->src_scale;
        c->kt->exec.colminmax_i32(rows, C, a, C, mn, mx);
        for (i = 0; i < C; i++)
            c->assign[i] = assign(qs->z, G, (float)mn[i] * S, (float)mx[i] * S);
        make_perm(c, C, G);
        c->G     = G;
        c->gperm = c->perm;
        PROF_END(c, IGQ__PROF_ASSIGN);
    }
    {
        PROF_BEGIN(c);
        position_params(c, qs, C, 1);
        for (r = 0; r < rows; r++)
            quant_row_i32(c, C, a + r * C, c->cg + r * C);
        PROF_END(c, IGQ__PROF_QUANT);
    }
}

/* Codes of f32 values x [rows][C] (row stride ld) into out (row stride ldo; group order) with
 * the simulated executor's arithmetic; sets the group state. */
static void quant_f32(ictx *c, const qsite *qs, const float *x, int64_t rows, int64_t C,
                      int64_t ld, uint8_t *out, int64_t ldo)
{
    const int32_t G = qs->G;
    int64_t       r, i;
    if (G == 1) {
        set_tensor_state(c, C);
    } else {
        PROF_BEGIN(c);
        c->kt->exec.colminmax_f32(rows, C, x, ld, c->mn, c->mx);
        for (i = 0; i < C; i++)
            c->assign[i] = assign(qs->z, G, c->mn[i], c->mx[i]);
        make_perm(c, C, G);
        c->G     = G;
        c->gperm = c->perm;
        PROF_END(c, IGQ__PROF_ASSIGN);
    }
    {
        PROF_BEGIN(c);
        position_params(c, qs, C, 0);
        for (r = 0; r < rows; r++)
            quant_row_f32(c, C, x + r * ld, out + r * ldo);
        PROF_END(c, IGQ__PROF_QUANT);
    }
}

/* Records the assignment of the site just quantized (channel -> group) when capturing it. */
static void capture(ictx *c, int32_t block, int32_t site, int64_t C)
{
    int64_t i;
    if (c->cap_assign == NULL || block != c->cap_block || site != c->cap_site) return;
    for (i = 0; i < C; i++) c->cap_assign[i] = c->G == 1 ? 0 : c->assign[i];
}

/* ---- linear layers ---------------------------------------------------------------------- */

static void lin_gemm(const qlin *L, int64_t M, int64_t k0, int64_t k1, const uint8_t *A,
                     const int32_t *perm, int32_t *C)
{
    if (L->qs4)
        igq__qs4_gemm(M, L->out, L->in, k0, k1, A, L->in, L->packed, perm, C, L->out);
    else
        igq__qs8_gemm(M, L->out, L->in, k0, k1, A, L->in, L->packed, perm, C, L->out);
}

/* y [rows][out] = the layer on codes A [rows][in] (group order of c's group state, site qs):
 *   y = fmaf(t_d, f, b_d - t_d corr_d),  f = the fmaf chain over groups of s_g acc_g,
 *   corr_d = sum_g s_g z_g S_g[d]  (zero-point correction, computed once per call). */
static void qlinear(ictx *c, const qlin *L, const qsite *qs, const uint8_t *A, int64_t rows,
                    float *y)
{
    const int64_t N = L->out, K = L->in;
    int32_t       g, last = -1;
    int           first = 1, any_zero = 0;
    int64_t       n;
    float        *cb = c->corr;
    for (g = 0; g < c->G; g++)
        if (c->off[g + 1] > c->off[g]) {
            last = g;
            if (qs->zp[g] != 0) any_zero = 1;
        }
    {
        PROF_BEGIN(c);
        /* cb = b - t corr */
        if (!any_zero) {
            for (n = 0; n < N; n++) cb[n] = L->b[n];
        } else if (c->G == 1) {
            const float sz = qs->s[0] * (float)qs->zp[0];
            for (n = 0; n < N; n++) cb[n] = L->b[n] - L->t[n] * (sz * (float)L->rowsum[n]);
        } else {
            /* S_g[d] for every group in one GEMM: row g of ind marks group g's k-slice. */
            memset(c->ind, 0, (size_t)(c->G * K));
            for (g = 0; g < c->G; g++)
                memset(c->ind + (size_t)g * K + c->off[g], 1, (size_t)(c->off[g + 1] - c->off[g]));
            lin_gemm(L, c->G, 0, K, c->ind, c->gperm, c->sg);
            for (n = 0; n < N; n++) cb[n] = 0.0f;
            for (g = 0; g < c->G; g++) {
                const float    sz = qs->s[g] * (float)qs->zp[g];
                const int32_t *sr = c->sg + (size_t)g * N;
                if (sz == 0.0f || c->off[g + 1] == c->off[g]) continue;
                for (n = 0; n < N; n++) cb[n] += sz * (float)sr[n];
            }
            for (n = 0; n < N; n++) cb[n] = L->b[n] - L->t[n] * cb[n];
        }
        PROF_END(c, IGQ__PROF_EPILOGUE);
    }
    {
        const igq_kernel_table *kt = igq__kernels();
        const igq_qggemm_fn   gg = L->qs4 ? kt->qs4_ggemm : kt->qs8_ggemm;
        if (gg != NULL) {
            /* fused: per-group sums stay in registers (same bits as the loop below) */
            PROF_BEGIN(c);
            gg(rows, N, K, c->G, c->off, qs->s, A, K, L->packed, c->gperm, L->t, cb, y, N, c->ws);
            PROF_END(c, IGQ__PROF_GEMM);
            return;
        }
    }
    for (g = 0; g < c->G; g++) {
        const int64_t k0 = c->off[g], k1 = c->off[g + 1];
        if (k1 <= k0) continue;
        {
            PROF_BEGIN(c);
            lin_gemm(L, rows, k0, k1, A, c->gperm, c->acc);
            PROF_END(c, IGQ__PROF_GEMM);
        }
        {
            PROF_BEGIN(c);
            igq__i32_fold(rows, N, qs->s[g], c->acc, N, g == last ? L->t : NULL, cb, y, N, first);
            PROF_END(c, IGQ__PROF_EPILOGUE);
        }
        first = 0;
    }
}

/* ---- LayerNorm ---------------------------------------------------------------------------- */

/* Integer LayerNorm of f32 rows x [rows][C] -> int32 at p's y_scale (xi: C ints of scratch).
 * Each row is converted to
 * int32 at its own power-of-two scale 2^(e-22), e the exponent of the row's largest |x|
 * (|x_int| < 2^22, 22 significant bits whatever the row's magnitude: token norms differ by
 * orders of magnitude inside one image), then normalized by the integer kernels with that
 * row's epsilon term E_k = C^2 eps 4^(22-e-k), read from the model's table (nonlin.h). */
static void layernorm_f32in(ictx *c, const igq_ln_params *p, const float *x, int64_t rows,
                            int32_t *xi, int32_t *out)
{
    const int64_t C = p->C;
    int64_t       r, i;
    PROF_BEGIN(c);
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
        for (k = 0; k <= 32; k++) local.eps_k[k] = c->x->ln_eps_tab[IGQ__LN_IN_BITS - e - k + LN_TAB_OFF];
        igq__layernorm(&local, 1, xo, C, out + r * C, C);
    }
    PROF_END(c, IGQ__PROF_LAYERNORM);
}

/* ---- attention ---------------------------------------------------------------------------- */

/* K codes of one head (T rows of hd at stride ld) as the "weights" of Q K^T (N = T output
 * columns, K = hd rows), offset by -ok to int8, straight into the packed layout (qs8_layout.h:
 * byte (b hd + k) 64 + pos(c) = key 64 b + c, channel k; padding columns zero), with
 * rs[j] = sum_k (K[j][k] - ok). Same bytes as igq__qs8_pack of the offset [T][hd] matrix. */
static void pack_keys(const uint8_t *kh, int64_t ld, int64_t T, int64_t hd, int32_t ok,
                      uint8_t *pk, int32_t *rs)
{
    int64_t j, k;
    if (T % IGQ_QS8_NR != 0) /* zero the last panel's padding columns */
        memset(pk + (T / IGQ_QS8_NR) * hd * IGQ_QS8_NR, 0, (size_t)(hd * IGQ_QS8_NR));
    for (j = 0; j < T; j++) {
        const uint8_t *src = kh + j * ld;
        uint8_t       *dst = pk + (j / IGQ_QS8_NR) * hd * IGQ_QS8_NR + igq__qs8_pos((int)(j % IGQ_QS8_NR));
        int32_t        sum = 0;
        for (k = 0; k < hd; k++) {
            const int32_t v     = (int32_t)src[k] - ok;
            dst[k * IGQ_QS8_NR] = (uint8_t)(int8_t)v;
            sum += v;
        }
        rs[j] = sum;
    }
}

/* V codes of one head as the "weights" of P V (N = hd output columns, K = T rows): packed row
 * j of panel b holds V[j][64 b .. 64 b + 63] - ov in pos() order; rs[c] = sum_j (V[j][c] - ov).
 * Same bytes as igq__qs8_pack of the offset, transposed [hd][T] matrix, without the transpose. */
static void pack_values(const uint8_t *vh, int64_t ld, int64_t T, int64_t hd, int32_t ov,
                        uint8_t *pk, int32_t *rs)
{
    int64_t b, j, cc;
    for (cc = 0; cc < hd; cc++) rs[cc] = 0;
    for (b = 0; b * IGQ_QS8_NR < hd; b++) {
        const int64_t nn = hd - b * IGQ_QS8_NR < IGQ_QS8_NR ? hd - b * IGQ_QS8_NR : IGQ_QS8_NR;
        for (j = 0; j < T; j++) {
            const uint8_t *src = vh + j * ld + b * IGQ_QS8_NR;
            uint8_t       *dst = pk + (b * T + j) * IGQ_QS8_NR;
            int            cq;
            if (nn < IGQ_QS8_NR) memset(dst, 0, IGQ_QS8_NR);
            for (cq = 0; cq < nn; cq++) {
                const int32_t v        = (int32_t)src[cq] - ov;
                dst[igq__qs8_pos(cq)] = (uint8_t)(int8_t)v;
                rs[b * IGQ_QS8_NR + cq] += v;
            }
        }
    }
}

static void attention(ictx *c, const qblk *xb)
{
    const igq_vit_dims *d = c->d;
    const int64_t       T = d->n_tokens, D = d->dim, hd = d->head_dim, H = d->heads;
    const int32_t       bk = xb->k.z->bits, bv = xb->v.z->bits;
    const int32_t       ok = 1 << (bk - 1), ov = 1 << (bv - 1);
    const int32_t       zq = xb->q.zp[0], zv = xb->v.zp[0];
    const qsite        *qa = &xb->attn;
    const float         sv = xb->v.s[0];
    int64_t             h, i, j, k;
    for (h = 0; h < H; h++) {
        const uint8_t *qh = c->qc + h * hd, *kh = c->qc + D + h * hd, *vh = c->qc + 2 * D + h * hd;
        int64_t        cmax = 0;
        {
            PROF_BEGIN(c);
            /* logits: sum_c qQ (qK - ok) - zQ sum_c (qK - ok) (+ terms constant in a row) */
            pack_keys(kh, 3 * D, T, hd, ok, (uint8_t *)c->pk, c->rs);
            igq__qs8_gemm(T, T, hd, 0, hd, qh, 3 * D, c->pk, NULL, c->lg, T);
            PROF_END(c, IGQ__PROF_ATTN_GEMM);
        }
        {
            PROF_BEGIN(c);
            for (j = 0; j < T; j++) {
                const int64_t v = (int64_t)zq * c->rs[j];
                cmax            = v > cmax ? v : (-v > cmax ? -v : cmax);
            }
            if (cmax + (int64_t)hd * 255 * 128 < ((int64_t)1 << 31)) {
                for (j = 0; j < T; j++) c->rsp[j] = zq * c->rs[j];
                c->kt->exec.sub_rows_i32(T, T, c->lg, T, c->rsp);
            } else {
                /* extreme zero points: exact in int64, then shifted by the row max (softmax
                 * ignores it) and clamped to int32 (distances past 2^31 give p = 0 anyway). */
                for (i = 0; i < T; i++) {
                    int32_t *l = c->lg + i * T;
                    int64_t  mx = INT64_MIN;
                    for (j = 0; j < T; j++) {
                        const int64_t v = (int64_t)l[j] - (int64_t)zq * c->rs[j];
                        mx              = v > mx ? v : mx;
                    }
                    for (j = 0; j < T; j++) {
                        int64_t v = (int64_t)l[j] - (int64_t)zq * c->rs[j] - mx;
                        l[j]      = v < -(int64_t)INT32_MAX ? -INT32_MAX : (int32_t)v;
                    }
                }
            }
            igq__softmax_q20(&xb->smx, T, T, c->lg, T, c->p20, T);
            PROF_END(c, IGQ__PROF_SOFTMAX);
        }
        {
            PROF_BEGIN(c);
            /* row groups from each row's largest p, then the row's codes */
            for (i = 0; i < T; i++) {
                const int32_t *p  = c->p20 + i * T;
                const int32_t  pm = c->kt->exec.rowmax_i32(T, p);
                int32_t        g  = 0;
                if (qa->G > 1)
                    g = assign(qa->z, qa->G, 0.0f, (float)pm * (float)qa->src_scale);
                c->rowg[i] = g;
                if (c->cap_assign != NULL && c->cur_block == c->cap_block &&
                    c->cap_site == IGQ__SITE_ATTN)
                    c->cap_assign[h * T + i] = g;
                igq__requant_row(T, p, &qa->mult[g], &qa->shift[g], &qa->zp[g], 0, qa->qmin,
                                 qa->qmax, c->pc + i * T);
                c->rsp[i] = c->kt->exec.sum_u8(T, c->pc + i * T);
            }
            PROF_END(c, IGQ__PROF_QUANT);
        }
        {
            PROF_BEGIN(c);
            /* P V: V^T codes offset to int8, packed per head; column sums cs = rowsum */
            pack_values(vh, 3 * D, T, hd, ov, (uint8_t *)c->pk, c->rs);
            igq__qs8_gemm(T, hd, T, 0, T, c->pc, T, c->pk, NULL, c->oi, hd);
            PROF_END(c, IGQ__PROF_ATTN_GEMM);
        }
        {
            PROF_BEGIN(c);
            /* sum_j (qP - zP)(qV - zV) = oi + (ov - zV) rsP - zP cs - zP (ov - zV) T */
            for (i = 0; i < T; i++) {
                const int32_t  g   = c->rowg[i];
                const int64_t  zp  = qa->zp[g];
                const float    sc  = qa->s[g] * sv;
                const int64_t  rc  = (int64_t)(ov - zv) * c->rsp[i] - zp * (int64_t)(ov - zv) * T;
                const int32_t *oi  = c->oi + i * hd;
                float         *o   = c->of + i * D + h * hd;
                if (zp == 0 && rc > -((int64_t)1 << 30) && rc < ((int64_t)1 << 30) &&
                    (int64_t)T * 255 * 128 < ((int64_t)1 << 30))
                    c->kt->exec.affine_i32(hd, oi, (int32_t)rc, sc, o); /* no overflow: < 2^31 */
                else
                    for (k = 0; k < hd; k++)
                        o[k] = sc * (float)((int64_t)oi[k] + rc - zp * c->rs[k]);
            }
            PROF_END(c, IGQ__PROF_EPILOGUE);
        }
    }
}

/* ---- one image ---------------------------------------------------------------------------- */

static void residual(ictx *c, const float *y, const float *ls)
{
    const int64_t n = (int64_t)c->d->n_tokens * c->d->dim, D = c->d->dim;
    int64_t       i;
    PROF_BEGIN(c);
    if (ls == NULL)
        for (i = 0; i < n; i++) c->xr[i] += y[i];
    else
        for (i = 0; i < n; i++) c->xr[i] += y[i] * ls[i % D];
    PROF_END(c, IGQ__PROF_EPILOGUE);
}

static void embed(ictx *c, const float *img)
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
            PROF_BEGIN(c);
            igq__extract_patch(d, img, t, c->patches);
            PROF_END(c, IGQ__PROF_OTHER);
        }
        quant_f32(c, &c->x->patch_in, c->patches, 1, cpp, cpp, c->cg + t * cpp, cpp);
    }
    qlinear(c, &c->x->patch, &c->x->patch_in, c->cg, NP, c->yf);
    for (t = 0; t < NP * D; t++) c->xr[np * D + t] = c->yf[t] + pos[t];
    if (np > 0) {
        memcpy(c->xr, m->prefix, (size_t)(np * D) * sizeof(float));
        if (d->pos_has_prefix)
            for (t = 0; t < np * D; t++) c->xr[t] += m->pos[t];
    }
}

static void block(ictx *c, int32_t b)
{
    const igq_vit_dims *d  = c->d;
    const igq_block    *mb = &c->m->blocks[b];
    const qblk         *xb = &c->x->blk[b];
    const int64_t       T = d->n_tokens, D = d->dim, Mm = d->mlp;

    c->cur_block = b;
    layernorm_f32in(c, &xb->ln1, c->xr, T, c->xi, (int32_t *)c->of); /* of is free here */
    quant_i32(c, &xb->in_qkv, (const int32_t *)c->of, T, D);
    capture(c, b, IGQ__SITE_QKV_IN, D);
    qlinear(c, &xb->qkv, &xb->in_qkv, c->cg, T, c->yf);
    quant_f32(c, &xb->q, c->yf, T, D, 3 * D, c->qc, 3 * D);
    quant_f32(c, &xb->k, c->yf + D, T, D, 3 * D, c->qc + D, 3 * D);
    quant_f32(c, &xb->v, c->yf + 2 * D, T, D, 3 * D, c->qc + 2 * D, 3 * D);
    attention(c, xb);
    quant_f32(c, &xb->in_proj, c->of, T, D, D, c->cg, D);
    capture(c, b, IGQ__SITE_PROJ_IN, D);
    qlinear(c, &xb->proj, &xb->in_proj, c->cg, T, c->yf);
    residual(c, c->yf, mb->ls1);

    layernorm_f32in(c, &xb->ln2, c->xr, T, c->xi, (int32_t *)c->of); /* consumed by proj */
    quant_i32(c, &xb->in_fc1, (const int32_t *)c->of, T, D);
    capture(c, b, IGQ__SITE_FC1_IN, D);
    qlinear(c, &xb->fc1, &xb->in_fc1, c->cg, T, c->yf);
    {
        PROF_BEGIN(c);
        /* fc1 output to Q20 (the f32 epilogue's int32 result), then the integer GELU */
        static const int32_t one_m = 1 << 30, one_s = 30;
        /* in place: both are element-wise (same index read, then written) */
        c->kt->exec.f32_to_fixed(T * Mm, c->yf, (float)(1 << IGQ_GELU_FRAC), (int32_t *)c->yf);
        /* GELU output over the (no longer needed) f32 fc1 output */
        igq__gelu_q16(&c->x->gelu, T * Mm, (const int32_t *)c->yf, &one_m, &one_s, 0,
                      (int32_t *)c->yf);
        PROF_END(c, IGQ__PROF_GELU);
    }
    quant_i32(c, &xb->in_fc2, (const int32_t *)c->yf, T, Mm);
    capture(c, b, IGQ__SITE_FC2_IN, Mm);
    qlinear(c, &xb->fc2, &xb->in_fc2, c->cg, T, c->yf);
    residual(c, c->yf, mb->ls2);
}

/* Final norm, pooling, head of the image in c->xr. */
static void classify(ictx *c, float *logits)
{
    const struct igq_model *m = c->m;
    const igq_qexec        *x = c->x;
    const igq_vit_dims     *d = c->d;
    const int64_t           T = d->n_tokens, D = d->dim, np = d->n_prefix;
    int64_t                 rows = 1, t, i;
    const qsite            *qh = &x->head_in;
    PROF_BEGIN(c);
    if (d->pool == IGQ_POOL_TOKEN) {
        rows = d->has_dist ? 2 : 1;
        if (x->has_norm) {
            layernorm_f32in(c, &x->norm, c->xr, rows, c->xi, c->pooled);
            quant_i32(c, qh, c->pooled, rows, D);
        } else {
            quant_f32(c, qh, c->xr, rows, D, D, c->cg, D);
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
            quant_i32(c, qh, c->pooled, 1, D);
        } else {
            quant_f32(c, qh, c->pooledf, 1, D, D, c->cg, D);
        }
    }
    if (d->has_dist) {
        qlinear(c, &x->head, qh, c->cg, 1, c->logit2);
        qlinear(c, &x->head_dist, qh, c->cg + D, 1, c->logit2 + d->classes);
        for (i = 0; i < d->classes; i++)
            logits[i] = 0.5f * (c->logit2[i] + c->logit2[d->classes + i]);
    } else {
        qlinear(c, &x->head, qh, c->cg, 1, logits);
    }
    (void)m;
    PROF_END(c, IGQ__PROF_OTHER);
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
    ictx                c;
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
              igq__int_prof != NULL && i == 0, -1, -1, NULL);
}

void igq__forward_int_capture(const struct igq_model *m, const float *image, float *logits,
                              void *scratch, int32_t block, int32_t site, int32_t *assign)
{
    run_image(m, image, logits, (unsigned char *)scratch, 0, block, site, assign);
}

void igq__qexec_release_f32(struct igq_model *m)
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
