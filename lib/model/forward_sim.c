/* The simulated quantized executor: the fp32 forward with quantize-dequantize at every site.
 * Weights of a quantized model are already stored fake-quantized; this hook handles the
 * activations, with per-image (instance-aware) group assignment. */
#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../kernels/dispatch.h"
#include "qexec.h"

void igq__quantizer_clear(struct igq_quantizer *z)
{
    igq__free(z->lo);
    igq__free(z->hi);
    igq__free(z->clo);
    igq__free(z->chi);
    igq__free(z->qp);
    memset(z, 0, sizeof *z);
}

void igq__qstate_free(igq_qstate *q)
{
    size_t i;
    if (q == NULL) return;
    igq__qexec_free(q->x);
    if (q->qz != NULL)
        for (i = 0; i < (size_t)(q->depth + 1) * IGQ__N_QSITES; i++) igq__quantizer_clear(&q->qz[i]);
    igq__free(q->qz);
    igq__free(q);
}

size_t igq__sim_stat_floats(const igq_vit_dims *d)
{
    size_t n = (size_t)d->mlp;
    if ((size_t)d->dim > n) n = (size_t)d->dim;
    if ((size_t)d->n_tokens > n) n = (size_t)d->n_tokens;
    if ((size_t)d->in_chans * d->patch * d->patch > n) n = (size_t)d->in_chans * d->patch * d->patch;
    return 6 * n; /* min, max, then per-column inverse scale, scale, low and high clamp */
}

void igq__fake_quant_site(const struct igq_quantizer *z, float *x, int64_t rows, int64_t cols,
                          int64_t ld, float *stat, int32_t *assign)
{
    int64_t r, c;
    if (z->granularity == IGQ__GRAN_TENSOR) {
        for (r = 0; r < rows; r++) igq__fake_quant(x + r * ld, cols, 1, &z->qp[0]);
        return;
    }
    if (z->rows) {
        /* One quantizer per row (attention: per query token), chosen from this row's range. */
        for (r = 0; r < rows; r++) {
            float      *xr = x + r * ld, m = xr[0], M = xr[0];
            igq_qparams own;
            for (c = 1; c < cols; c++) {
                m = xr[c] < m ? xr[c] : m;
                M = xr[c] > M ? xr[c] : M;
            }
            if (z->unsigned_only) m = 0.0f;
            if (z->granularity == IGQ__GRAN_CHANNEL) {
                own = igq__qp_asym(m, M, z->bits);
                igq__fake_quant(xr, cols, 1, &own);
                if (assign) assign[r] = (int32_t)r;
            } else {
                int g = igq__group_assign(m, M, z->lo, z->hi, z->clo, z->chi, z->n_params, z->policy);
                igq__fake_quant(xr, cols, 1, &z->qp[g]);
                if (assign) assign[r] = g;
            }
        }
        return;
    }
    /* Channel statistics of this image (the integer executor's column min/max kernel: exact,
     * so the same at every level), then each column's quantizer as four vectors, then one
     * row-major quantization pass (vectorizable; same arithmetic as igq__fq). */
    {
        float *mn = stat, *mx = stat + cols, *inv = stat + 2 * cols, *sc = stat + 3 * cols;
        float *lo = stat + 4 * cols, *hi = stat + 5 * cols;
        igq__kernels()->exec.colminmax_f32(rows, cols, x, ld, mn, mx);
        for (c = 0; c < cols; c++) {
            igq_qparams p;
            if (z->granularity == IGQ__GRAN_CHANNEL) {
                p = igq__qp_asym(mn[c], mx[c], z->bits);
                if (assign) assign[c] = (int32_t)c;
            } else {
                int g = igq__group_assign(mn[c], mx[c], z->lo, z->hi, z->clo, z->chi, z->n_params,
                                           z->policy);
                p     = z->qp[g];
                if (assign) assign[c] = g;
            }
            inv[c] = p.inv_scale;
            sc[c]  = p.scale;
            lo[c]  = (float)(p.qmin - p.zero);
            hi[c]  = (float)(p.qmax - p.zero);
        }
        for (r = 0; r < rows; r++) {
            float *xr = x + r * ld;
            for (c = 0; c < cols; c++) {
                float v = xr[c] * inv[c];
                v       = v < lo[c] ? lo[c] : (v > hi[c] ? hi[c] : v);
                xr[c]   = sc[c] * igq__rne(v);
            }
        }
    }
}

void igq__sim_hook(void *ctx, int64_t image, int32_t block, int32_t site, int32_t head, float *x,
                   int64_t rows, int64_t cols, int64_t ld)
{
    igq_sim_ctx                *s = (igq_sim_ctx *)ctx;
    const struct igq_quantizer *z;
    int32_t                    *assign = NULL;
    if (s->only != NULL) {
        if (block != s->only_block || site != s->only_site) return;
        z = s->only;
    } else {
        z = igq__qz(s->q, block, site);
        if (!z->present) return;
    }
    if (s->cap_assign != NULL && image == s->cap_image && block == s->cap_block &&
        site == s->cap_site)
        assign = s->cap_assign + (head > 0 ? (size_t)head * (size_t)rows : 0);
    igq__fake_quant_site(z, x, rows, cols, ld, s->stat, assign);
}
