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

typedef struct quant_job {
    const igq_qsite *qs;
    const int32_t   *a;
    const float     *x;
    int64_t          rows, C, ld, ldo;
    uint8_t         *out;
} quant_job;

/* Columns [c0, c1): their range over the rows and their group. */
static void assign_cols(igq_ictx *c, const quant_job *j, int64_t c0, int64_t c1)
{
    const igq_qsite *qs = j->qs;
    const int32_t    G  = qs->G;
    int64_t          i;
    IGQ__PROF_BEGIN(c);
    /* COVER (the default policy): the level's vectorized form of igq__group_assign, the same
     * groups (exec_inl.h group_cover); NEAREST: the scalar rule per channel */
    const int        cover = qs->z->policy == IGQ__ASSIGN_COVER;
    if (j->a != NULL) {
        const float S = (float)qs->src_scale;
        c->kt->exec.colminmax_i32(j->rows, c1 - c0, j->a + c0, j->ld, c->imn + c0, c->imx + c0);
        if (cover)
            c->kt->exec.group_cover_i32(c1 - c0, c->imn + c0, c->imx + c0, S, G, qs->z->clo,
                                        qs->z->chi, c->assign + c0);
        else
            for (i = c0; i < c1; i++)
                c->assign[i] =
                    igq__qexec_group(qs->z, G, (float)c->imn[i] * S, (float)c->imx[i] * S);
    } else {
        c->kt->exec.colminmax_f32(j->rows, c1 - c0, j->x + c0, j->ld, c->mn + c0, c->mx + c0);
        if (cover)
            c->kt->exec.group_cover_f32(c1 - c0, c->mn + c0, c->mx + c0, G, qs->z->clo,
                                        qs->z->chi, c->assign + c0);
        else
            for (i = c0; i < c1; i++)
                c->assign[i] = igq__qexec_group(qs->z, G, c->mn[i], c->mx[i]);
    }
    IGQ__PROF_END(c, IGQ__PROF_ASSIGN);
}

static void assign_task(igq_ictx *c, void *arg, int64_t t, int64_t n)
{
    const quant_job *j = (const quant_job *)arg;
    int64_t          c0, c1;
    igq__ichunk(j->C, t, n, 64, &c0, &c1);
    if (c1 > c0) assign_cols(c, j, c0, c1);
}

/* Rows [r0, r1) of codes: IGQ__QROWS rows at a time quantized in channel order (contiguous,
 * vectorized) into the thread's L1 row buffer, then permuted into group order by the
 * byte-permutation kernel (u8_perm: vpermi2b where the CPU has AVX-512 VBMI, else byte
 * gathers) with the plan quant_rows made from perm. */
static void quant_rows_range(igq_ictx *c, const quant_job *j, int64_t r0, int64_t r1)
{
    const int64_t C = j->C;
    int64_t       r, k;
    IGQ__PROF_BEGIN(c);
    if (c->gperm == NULL) {
        for (r = r0; r < r1; r++) {
            if (j->a != NULL)
                c->kt->exec.quant_i32(C, j->a + r * j->ld, c->cinv, c->clo, c->chi, c->czero,
                                      j->out + r * j->ldo);
            else
                c->kt->exec.quant_f32(C, j->x + r * j->ld, c->cinv, c->clo, c->chi, c->czero,
                                      j->out + r * j->ldo);
        }
    } else {
        for (r = r0; r < r1; r += IGQ__QROWS) {
            const int64_t nr = r1 - r < IGQ__QROWS ? r1 - r : IGQ__QROWS;
            for (k = 0; k < nr; k++) {
                if (j->a != NULL)
                    c->kt->exec.quant_i32(C, j->a + (r + k) * j->ld, c->cinv, c->clo, c->chi,
                                          c->czero, c->rowbuf + k * C);
                else
                    c->kt->exec.quant_f32(C, j->x + (r + k) * j->ld, c->cinv, c->clo, c->chi,
                                          c->czero, c->rowbuf + k * C);
            }
            c->kt->u8_perm(nr, C, c->rowbuf, C, c->gperm, c->pplan, j->out + r * j->ldo,
                           j->ldo);
        }
    }
    IGQ__PROF_END(c, IGQ__PROF_QUANT);
}

static void rows_task(igq_ictx *c, void *arg, int64_t t, int64_t n)
{
    const quant_job *j = (const quant_job *)arg;
    int64_t          r0, r1;
    igq__ichunk(j->rows, t, n, 1, &r0, &r1);
    if (r1 > r0) quant_rows_range(c, j, r0, r1);
}

/* Codes of rows [rows][C] of int32 (a, at the site's source scale S: (float)a * (S / s_g), an
 * f32 requantization, exact conversion below 2^24) or of f32 (x), row stride ld, into out (row
 * stride ldo) in group order: clamp, round half to even, + z_g. With groups, each channel's
 * group comes from its range over the rows (the image's threads take column ranges), then the
 * permutation, its byte-permutation plan and the per-channel parameters (one thread), then the
 * rows (row ranges, quant_rows_range). */
static void quant_rows(igq_ictx *c, const igq_qsite *qs, const int32_t *a, const float *x,
                       int64_t rows, int64_t C, int64_t ld, uint8_t *out, int64_t ldo)
{
    const int32_t G  = qs->G;
    const int64_t nt = igq__ithreads(c);
    quant_job     j;
    j.qs = qs, j.a = a, j.x = x, j.rows = rows, j.C = C, j.ld = ld, j.out = out, j.ldo = ldo;
    if (G == 1) {
        c->G      = 1;
        c->gperm  = NULL;
        c->off[0] = 0;
        c->off[1] = (int32_t)C;
    } else {
        const int64_t cb = (C + 63) / 64;
        igq__ipar(c, nt < cb ? nt : cb, assign_task, &j);
        {
            IGQ__PROF_BEGIN(c);
            make_perm(c, C, G);
            c->G     = G;
            c->gperm = c->perm;
            IGQ__PROF_END(c, IGQ__PROF_ASSIGN);
        }
    }
    {
        IGQ__PROF_BEGIN(c);
        position_params(c, qs, C, a != NULL);
        if (c->gperm != NULL) c->kt->u8_perm_plan(C, c->gperm, c->pplan);
        IGQ__PROF_END(c, IGQ__PROF_QUANT);
    }
    igq__ipar(c, nt < rows ? nt : rows, rows_task, &j);
}

/* Rows of patches: rows_task on each patch extracted into the thread's scratch. */
typedef struct patch_job {
    quant_job        q;
    const float     *img;
} patch_job;

static void patch_task(igq_ictx *c, void *arg, int64_t t, int64_t n)
{
    const patch_job *pj = (const patch_job *)arg;
    quant_job        j  = pj->q;
    int64_t          r0, r1, r;
    igq__ichunk(j.rows, t, n, 1, &r0, &r1);
    j.x = c->patches;
    for (r = r0; r < r1; r++) {
        {
            IGQ__PROF_BEGIN(c);
            igq__extract_patch(c->d, pj->img, r, c->patches);
            IGQ__PROF_END(c, IGQ__PROF_OTHER);
        }
        j.out = pj->q.out + r * j.ldo;
        quant_rows_range(c, &j, 0, 1);
    }
}

void igq__qexec_quant_patches(igq_ictx *c, const igq_qsite *qs, const float *img, int64_t np,
                              int64_t cpp, uint8_t *out)
{
    const int64_t nt = igq__ithreads(c);
    patch_job     pj; /* PATCH_IN is a per-tensor site (qexec_impl.h) */
    c->G      = 1;
    c->gperm  = NULL;
    c->off[0] = 0;
    c->off[1] = (int32_t)cpp;
    position_params(c, qs, cpp, 0);
    pj.q.qs = qs, pj.q.a = NULL, pj.q.x = NULL, pj.q.rows = np, pj.q.C = cpp, pj.q.ld = cpp;
    pj.q.out = out, pj.q.ldo = cpp, pj.img = img;
    igq__ipar(c, nt < np ? nt : np, patch_task, &pj);
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
