/* The two VT-PTQ stages (Liu et al., "Post-Training Quantization for Vision Transformer"):
 *  - ranking-aware calibration of the Q and K quantizers (IGQ_OPT_ATTN_RANKING): a grid search
 *    of their range factors for the attention scores that best keep the fp32 scores' order;
 *  - nuclear-norm mixed precision (IGQ_OPT_MIXED_PRECISION_BUDGET): bits per linear layer
 *    under a weight-size budget.
 * Both work on the views of the first IGQ__PTQ_KEEP_IMAGES calibration images that the fp32
 * pass kept. */
#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/f32_ref.h"
#include "ptq_internal.h"

/* ---- ranking-aware Q/K calibration --------------------------------------------------------- */

/* Sums over the fp32 scores A and their row orders that the objective needs and that do not
 * depend on the quantizers: computed once per block, each in the order the objective visits
 * the scores (image, head, query row, key), so every candidate sees the same values as if it
 * had summed them itself. */
typedef struct rank_sums {
    double sx, sxx, n; /* sum of scores, of their squares, their count */
    double gap;        /* sum of the gaps between neighbours in each row's descending order */
} rank_sums;

/* Objective of VT-PTQ for attention scores: Pearson correlation of the quantized and fp scores
 * minus a ranking hinge over adjacent pairs (in fp order) of every score row. qbuf and kbuf
 * hold [T][D], row [T]. */
static double rank_objective(const igq_vit_dims *d, const float *Q, const float *K,
                             const struct igq_quantizer *zq, const struct igq_quantizer *zk,
                             int64_t n_img, float *qbuf, float *kbuf, float *row,
                             const float *Aref, const int32_t *order, const rank_sums *ref)
{
    const int64_t T = d->n_tokens, D = d->dim, hd = d->head_dim;
    const float   sc = 1.0f / sqrtf((float)hd);
    double        sy = 0, syy = 0, sxy = 0, hinge = 0;
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
                const float   *ai  = Ai + ((size_t)h * T + i) * T;
                const float   *qi  = qbuf + i * D + h * hd;
                for (j = 0; j < T; j++) {
                    const float *kj  = kbuf + j * D + h * hd;
                    double       acc = 0.0;
                    float        y;
                    for (c = 0; c < hd; c++) acc += qi[c] * kj[c];
                    y      = (float)acc * sc;
                    row[j] = y;
                    sy += y;
                    syy += (double)y * y;
                    sxy += (double)ai[j] * y;
                }
                for (j = 0; j + 1 < T; j++) {
                    /* ord sorts the row by fp score, descending: quantized order should agree
                     * to within half of each fp gap (gaps are differences of floats). */
                    const double margin = 0.5 * (double)(ai[ord[j]] - ai[ord[j + 1]]);
                    const double t      = margin - (double)(row[ord[j]] - row[ord[j + 1]]);
                    hinge += t > 0.0 ? t : 0.0;
                }
            }
    }
    {
        const double n = ref->n, sx = ref->sx;
        double cov = sxy - sx * sy / n, vx = ref->sxx - sx * sx / n, vy = syy - sy * sy / n;
        double pearson = (vx > 0 && vy > 0) ? cov / sqrt(vx * vy) : 0.0;
        return pearson - (ref->gap > 0 ? hinge / ref->gap : 0.0);
    }
}

/* Indices of row sorted by descending value, equal values in index order: a bottom-up stable
 * merge sort (O(n log n); tmp holds n indices). Taking the right run's head only when it is
 * strictly greater keeps ties in index order, so for rows without NaN the order is exactly
 * that of the insertion sort used before (which was O(n^2) per row, O(T^3) per head). */
static void order_desc(const float *row, int32_t *o, int32_t *tmp, int64_t n)
{
    int32_t *src = o, *dst = tmp, *t;
    int64_t  w, lo, i;
    for (i = 0; i < n; i++) o[i] = (int32_t)i;
    for (w = 1; w < n; w *= 2) {
        for (lo = 0; lo < n; lo += 2 * w) {
            const int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t       a = lo, b = mid, k = lo;
            while (a < mid && b < hi) dst[k++] = row[src[b]] > row[src[a]] ? src[b++] : src[a++];
            while (a < mid) dst[k++] = src[a++];
            while (b < hi) dst[k++] = src[b++];
        }
        t   = src;
        src = dst;
        dst = t;
    }
    if (src != o) memcpy(o, src, (size_t)n * sizeof(int32_t));
}

/* fp32 attention scores of block b's kept Q and K, A[im][h][i][T], each row's order, and the
 * sums of them the objective needs. */
static void fp_scores(const igq_vit_dims *d, const float *Q, const float *K, int64_t n_img,
                      float *A, int32_t *ord, int32_t *tmp, rank_sums *ref)
{
    const int64_t T = d->n_tokens, D = d->dim, hd = d->head_dim;
    int64_t       im, h, i, j, c;
    memset(ref, 0, sizeof *ref);
    for (im = 0; im < n_img; im++)
        for (h = 0; h < d->heads; h++)
            for (i = 0; i < T; i++) {
                float   *row = A + (((size_t)im * d->heads + h) * T + i) * T;
                int32_t *o   = ord + (((size_t)im * d->heads + h) * T + i) * T;
                for (j = 0; j < T; j++) {
                    double acc = 0.0;
                    for (c = 0; c < hd; c++)
                        acc += Q[(size_t)im * T * D + i * D + h * hd + c] *
                               K[(size_t)im * T * D + j * D + h * hd + c];
                    row[j] = (float)acc / sqrtf((float)hd);
                    ref->sx += row[j];
                    ref->sxx += (double)row[j] * row[j];
                    ref->n += 1.0;
                }
                order_desc(row, o, tmp, T);
                for (j = 0; j + 1 < T; j++) ref->gap += row[o[j]] - row[o[j + 1]];
            }
}

igq_status igq__ptq_rank_calibrate(igq_ptq *p)
{
    const igq_vit_dims *d = &p->fp->d;
    const int64_t       T = d->n_tokens, D = d->dim;
    const int64_t       n_img = p->obs.n_keep;
    const size_t        n_scores = (size_t)n_img * d->heads * T * T;
    float              *qbuf = (float *)igq__malloc((size_t)T * D * sizeof(float));
    float              *kbuf = (float *)igq__malloc((size_t)T * D * sizeof(float));
    float              *row  = (float *)igq__malloc((size_t)T * sizeof(float));
    int32_t            *tmp  = (int32_t *)igq__malloc((size_t)T * sizeof(int32_t));
    float              *A    = (float *)igq__malloc(n_scores * sizeof(float));
    int32_t            *ord  = (int32_t *)igq__malloc(n_scores * sizeof(int32_t));
    int32_t             b;
    igq_status          s = IGQ_OK;
    if (!qbuf || !kbuf || !row || !tmp || !A || !ord)
        s = igq__set_error(IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    for (b = 0; s == IGQ_OK && b < d->depth; b++) {
        const igq_site_obs   *oq = igq__obs_at(&p->obs, b, IGQ__SITE_Q);
        const igq_site_obs   *ok = igq__obs_at(&p->obs, b, IGQ__SITE_K);
        struct igq_quantizer *zq = igq__qz(p->qm->q, b, IGQ__SITE_Q), *zk = igq__qz(p->qm->q, b, IGQ__SITE_K);
        float                 lq = zq->lo[0], hq = zq->hi[0], lk = zk->lo[0], hk = zk->hi[0];
        int                   round, k;
        float                 fq = 1.0f, fk = 1.0f;
        rank_sums              ref;
        fp_scores(d, oq->keep, ok->keep, n_img, A, ord, tmp, &ref);
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
                    v = rank_objective(d, oq->keep, ok->keep, zq, zk, n_img, qbuf, kbuf, row, A,
                                       ord, &ref);
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
        s = igq__ptq_progress(p, "ranking", (double)(b + 1) / d->depth);
    }
    igq__free(qbuf);
    igq__free(kbuf);
    igq__free(row);
    igq__free(tmp);
    igq__free(A);
    igq__free(ord);
    return s;
}

/* ---- nuclear-norm mixed precision ---------------------------------------------------------- */

/* Nuclear norm of Y [r][c] = sum of singular values = sum of sqrt(eigenvalues of Y Y^T), the
 * eigenvalues from cyclic Jacobi rotations on the r x r Gram matrix; -1 if out of memory. */
static double nuclear_norm(const float *Y, int64_t r, int64_t c)
{
    double *G = (double *)igq__calloc((size_t)(r * r), sizeof(double));
    double  sum = 0.0;
    int64_t i, j, k;
    int     sweep;
    if (G == NULL) return -1.0;
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

/* A layer's size in units of `unit` parameters (rounded, at least 1). */
static int64_t layer_units(const igq_linear *lin, double unit)
{
    const int64_t u = (int64_t)llround((double)lin->in * lin->out / unit);
    return u > 0 ? u : 1;
}

/* Bits per linear layer maximizing sum(bits x nuclear norm of the layer's output on the kept
 * images) under a total weight-size budget; candidate bits are WEIGHT_BITS - 1 .. WEIGHT_BITS
 * + 1 (within 2..8). VT-PTQ's objective is linear in the bits, so it drives layers to the ends
 * of the candidate range; a range of +-2 put layers at 2 bits in a W4 model and lost 2 points
 * (measured), hence +-1. The layers are read from the model under construction, whose weights
 * are still the fp32 ones (quantize_weights.c runs after this). */
igq_status igq__ptq_mixed_precision(igq_ptq *p, int **bits)
{
    static const int32_t in_site[4] = {IGQ__SITE_QKV_IN, IGQ__SITE_PROJ_IN, IGQ__SITE_FC1_IN,
                                       IGQ__SITE_FC2_IN};
    static const int32_t w_site[4] = {IGQ__SITE_QKV_W, IGQ__SITE_PROJ_W, IGQ__SITE_FC1_W,
                                      IGQ__SITE_FC2_W};
    const int  L = p->fp->d.depth * 4, W = (int)p->cfg->v[IGQ_OPT_WEIGHT_BITS];
    const int  bmin = W - 1 < 2 ? 2 : W - 1, bmax = W + 1 > 8 ? 8 : W + 1, C = bmax - bmin + 1;
    double      total_params = 0.0, unit;
    int64_t     budget, sum_units = 0;
    int         l, c;
    igq_ptq_mck k;
    igq_status  s = igq__ptq_mck_init(&k, L, C);
    for (l = 0; s == IGQ_OK && l < L; l++) {
        const igq_linear *lin = igq__ptq_linear(p->qm, l / 4, w_site[l % 4]);
        total_params += (double)lin->in * lin->out;
    }
    /* Each layer's size in units of total/2500 parameters; a layer at b bits costs b x units,
     * and the budget is (average bits) x (sum of units), so a uniform allocation at the
     * average is always exactly affordable. */
    unit = total_params / 2500.0;
    for (l = 0; s == IGQ_OK && l < L; l++)
        sum_units += layer_units(igq__ptq_linear(p->qm, l / 4, w_site[l % 4]), unit);
    budget = sum_units * p->cfg->v[IGQ_OPT_MIXED_PRECISION_BUDGET] / 100;
    for (l = 0; s == IGQ_OK && l < L; l++) {
        const igq_linear   *lin = igq__ptq_linear(p->qm, l / 4, w_site[l % 4]);
        const igq_site_obs *o   = igq__obs_at(&p->obs, l / 4, in_site[l % 4]);
        float *Y = (float *)igq__malloc((size_t)o->keep_rows * lin->out * sizeof(float));
        double nuc;
        if (Y == NULL) {
            s = igq__set_error(IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
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
            k.cost[(size_t)l * C + c] = (int64_t)(bmin + c) * layer_units(lin, unit);
            k.loss[(size_t)l * C + c] = -(double)(bmin + c) * nuc;
        }
        s = igq__ptq_progress(p, "mixed precision", (double)(l + 1) / L);
    }
    s = igq__ptq_mck_solve(&k, s, budget, bits);
    for (l = 0; s == IGQ_OK && l < L; l++) (*bits)[l] += bmin;
    return s;
}
