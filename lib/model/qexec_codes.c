/* Quantization into codes for the integer executor (qexec_impl.h): the per-image group of each
 * channel, the channel permutation that puts the groups' channels side by side, and the rows
 * of codes in that group order, which the grouped GEMMs (qexec_linear.c) read as k-slices. */
#include "qexec_impl.h"

/* igq__group_assign, the simulated executor's rule on the same cover bounds. (A tolerance for
 * the integer kernels' small errors was tried and lowered the agreement with the simulated
 * executor: since the cover bounds sit half a step beyond the calibrated envelopes, no ranges
 * pile up on them.) */
int igq__qexec_group(const struct igq_quantizer *z, int G, float m, float M)
{
    return igq__group_assign(m, M, z->lo, z->hi, z->clo, z->chi, G, z->policy);
}

/* Counting sort of the channels by group: perm lists them group by group (increasing index
 * inside a group), group g is perm[off[g] .. off[g+1]). */
static void make_perm(igq_ictx *c, int64_t C, int32_t G)
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

/* Per-channel quantization parameters: group g = assign[k] (or 0), multiplier 1 / s_g (f32
 * source) or S / s_g (int32 source at scale S). */
static void position_params(igq_ictx *c, const igq_qsite *qs, int64_t C, int i32_source)
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

/* Codes of rows [rows][C] of int32 (a, at the site's source scale S: (float)a * (S / s_g), an
 * f32 requantization, exact conversion below 2^24) or of f32 (x), row stride ld, into out (row
 * stride ldo) in group order: clamp, round half to even, + z_g. With groups, each channel's
 * group comes from its range over the rows; then IGQ__QROWS rows at a time are quantized in
 * channel order (contiguous, vectorized) into an L1 row buffer and permuted into group order
 * by the byte-permutation kernel (u8_perm: vpermi2b where the CPU has AVX-512 VBMI, else byte
 * gathers), whose plan is made once per call from perm. */
static void quant_rows(igq_ictx *c, const igq_qsite *qs, const int32_t *a, const float *x,
                       int64_t rows, int64_t C, int64_t ld, uint8_t *out, int64_t ldo)
{
    const int32_t G = qs->G;
    int64_t       r, i;
    if (G == 1) {
        c->G      = 1;
        c->gperm  = NULL;
        c->off[0] = 0;
        c->off[1] = (int32_t)C;
    } else {
        IGQ__PROF_BEGIN(c);
        if (a != NULL) {
            const float S = (float)qs->src_scale;
            c->kt->exec.colminmax_i32(rows, C, a, ld, c->imn, c->imx);
            for (i = 0; i < C; i++)
                c->assign[i] =
                    igq__qexec_group(qs->z, G, (float)c->imn[i] * S, (float)c->imx[i] * S);
        } else {
            c->kt->exec.colminmax_f32(rows, C, x, ld, c->mn, c->mx);
            for (i = 0; i < C; i++) c->assign[i] = igq__qexec_group(qs->z, G, c->mn[i], c->mx[i]);
        }
        make_perm(c, C, G);
        c->G     = G;
        c->gperm = c->perm;
        IGQ__PROF_END(c, IGQ__PROF_ASSIGN);
    }
    {
        IGQ__PROF_BEGIN(c);
        position_params(c, qs, C, a != NULL);
        if (c->gperm == NULL) {
            for (r = 0; r < rows; r++) {
                if (a != NULL)
                    c->kt->exec.quant_i32(C, a + r * ld, c->cinv, c->clo, c->chi, c->czero,
                                          out + r * ldo);
                else
                    c->kt->exec.quant_f32(C, x + r * ld, c->cinv, c->clo, c->chi, c->czero,
                                          out + r * ldo);
            }
        } else {
            c->kt->u8_perm_plan(C, c->gperm, c->pplan);
            for (r = 0; r < rows; r += IGQ__QROWS) {
                const int64_t nr = rows - r < IGQ__QROWS ? rows - r : IGQ__QROWS;
                int64_t       k;
                for (k = 0; k < nr; k++) {
                    if (a != NULL)
                        c->kt->exec.quant_i32(C, a + (r + k) * ld, c->cinv, c->clo, c->chi,
                                              c->czero, c->rowbuf + k * C);
                    else
                        c->kt->exec.quant_f32(C, x + (r + k) * ld, c->cinv, c->clo, c->chi,
                                              c->czero, c->rowbuf + k * C);
                }
                c->kt->u8_perm(nr, C, c->rowbuf, C, c->gperm, c->pplan, out + r * ldo, ldo);
            }
        }
        IGQ__PROF_END(c, IGQ__PROF_QUANT);
    }
}

void igq__qexec_quant_i32(igq_ictx *c, const igq_qsite *qs, const int32_t *a, int64_t rows,
                          int64_t C)
{
    quant_rows(c, qs, a, NULL, rows, C, C, c->cg, C);
}

void igq__qexec_quant_f32(igq_ictx *c, const igq_qsite *qs, const float *x, int64_t rows,
                          int64_t C, int64_t ld, uint8_t *out, int64_t ldo)
{
    quant_rows(c, qs, NULL, x, rows, C, ld, out, ldo);
}

void igq__qexec_capture(igq_ictx *c, int32_t block, int32_t site, int64_t C)
{
    int64_t i;
    if (c->cap_assign == NULL || block != c->cap_block || site != c->cap_site) return;
    for (i = 0; i < C; i++) c->cap_assign[i] = c->G == 1 ? 0 : c->assign[i];
}
