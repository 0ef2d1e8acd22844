/* Linear layers of the integer executor on codes with G input groups (ALGORITHMS.md 1.8).
 * The codes arrive in group order (qexec_codes.c: perm lists the channels group by group); one
 * int GEMM per group k-slice reads the weights through perm (the packed weights are never
 * copied), and
 *   y[n][d] = t_d (sum_g s_g acc_g[n][d] - corr[d]) + b_d,  corr[d] = sum_g s_g z_g S_g[d],
 * S_g[d] = sum over the group's channels of w[c][d], the group column sums of the packed
 * weights (exec qs8_gsum). The sum over g is the f32 fold kernel, or the fused
 * grouped GEMM where the ISA level has one (same bits). */
#include <string.h>

#include "../kernels/qs8_layout.h"
#include "qexec_impl.h"

/* Columns n0 .. n1 - 1 (n0 a multiple of the 64-column panel) of the per-group int GEMM. */
static void lin_gemm(const igq_qlin *L, int64_t M, int64_t n0, int64_t n1, int64_t k0, int64_t k1,
                     const uint8_t *A, int64_t lda, const int32_t *perm, int32_t *C, int64_t ldc)
{
    const uint8_t *pk = (const uint8_t *)L->packed +
                        n0 / IGQ_QS8_NR * L->in * igq__qs8_row_bytes(L->qs4 ? 4 : 8);
    if (L->qs4)
        igq__qs4_gemm(M, n1 - n0, L->in, k0, k1, A, lda, pk, perm, C + n0, ldc);
    else
        igq__qs8_gemm(M, n1 - n0, L->in, k0, k1, A, lda, pk, perm, C + n0, ldc);
}

typedef struct lin_job {
    const igq_qlin  *L;
    const igq_qsite *qs;
    const uint8_t   *A;
    int64_t          rows;
    float           *y;
    int32_t          last;
    int              any_zero;
} lin_job;

/* Columns [n0, n1) of the layer (n0 at a panel's start). */
static void lin_cols(igq_ictx *c, const lin_job *j, int64_t n0, int64_t n1)
{
    const igq_qlin  *L = j->L;
    const igq_qsite *qs = j->qs;
    const int64_t    N = L->out, K = L->in, rows = j->rows;
    const uint8_t   *A = j->A;
    float           *y = j->y, *cb = c->corr;
    int32_t          g;
    int              first = 1;
    int64_t          n;
    {
        IGQ__PROF_BEGIN(c);
        /* cb = b - t corr */
        if (!j->any_zero) {
            for (n = n0; n < n1; n++) cb[n] = L->b[n];
        } else if (c->G == 1) {
            const float sz = qs->s[0] * (float)qs->zp[0];
            for (n = n0; n < n1; n++) cb[n] = L->b[n] - L->t[n] * (sz * (float)L->rowsum[n]);
        } else {
            /* S_g[d] for every group: the weight rows of each group's k-slice added up */
            c->kt->exec.qs8_gsum(n1 - n0, K, L->qs4 ? 4 : 8,
                                 (const uint8_t *)L->packed +
                                     n0 / IGQ_QS8_NR * K * igq__qs8_row_bytes(L->qs4 ? 4 : 8),
                                 c->gperm, c->G, c->off, c->sg + n0, N);
            for (n = n0; n < n1; n++) cb[n] = 0.0f;
            for (g = 0; g < c->G; g++) {
                const float    sz = qs->s[g] * (float)qs->zp[g];
                const int32_t *sr = c->sg + (size_t)g * N;
                if (sz == 0.0f || c->off[g + 1] == c->off[g]) continue;
                for (n = n0; n < n1; n++) cb[n] += sz * (float)sr[n];
            }
            for (n = n0; n < n1; n++) cb[n] = L->b[n] - L->t[n] * cb[n];
        }
        IGQ__PROF_END(c, IGQ__PROF_EPILOGUE);
    }
    {
        const igq_kernel_table *kt = c->kt;
        const igq_qggemm_fn     gg = L->qs4 ? kt->qs4_ggemm : kt->qs8_ggemm;
        if (gg != NULL) {
            /* fused: per-group sums stay in registers (same bits as the loop below) */
            const uint8_t *pk = (const uint8_t *)L->packed +
                                n0 / IGQ_QS8_NR * K * igq__qs8_row_bytes(L->qs4 ? 4 : 8);
            IGQ__PROF_BEGIN(c);
            gg(rows, n1 - n0, K, c->G, c->off, qs->s, A, K, pk, c->gperm, L->t + n0, cb + n0,
               y + n0, N, c->ws);
            IGQ__PROF_END(c, IGQ__PROF_GEMM);
            return;
        }
    }
    for (g = 0; g < c->G; g++) {
        const int64_t k0 = c->off[g], k1 = c->off[g + 1];
        if (k1 <= k0) continue;
        {
            IGQ__PROF_BEGIN(c);
            lin_gemm(L, rows, n0, n1, k0, k1, A, K, c->gperm, c->acc, N);
            IGQ__PROF_END(c, IGQ__PROF_GEMM);
        }
        {
            IGQ__PROF_BEGIN(c);
            igq__i32_fold(rows, n1 - n0, qs->s[g], c->acc + n0, N, g == j->last ? L->t + n0 : NULL,
                          cb + n0, y + n0, N, first);
            IGQ__PROF_END(c, IGQ__PROF_EPILOGUE);
        }
        first = 0;
    }
}

static void lin_task(igq_ictx *c, void *arg, int64_t t, int64_t n)
{
    const lin_job *j = (const lin_job *)arg;
    int64_t        n0, n1;
    igq__ichunk(j->L->out, t, n, IGQ_QS8_NR, &n0, &n1);
    /* panel by panel: the zero-point pass (group sums) reads a panel's weights from memory
     * once, and the GEMM right after stages them from cache (a pass over all weights first
     * and the GEMM after it would stream them twice: ~3 ms of DeiT-S at G = 8, measured) */
    if (!j->any_zero || c->G == 1) {
        if (n1 > n0) lin_cols(c, j, n0, n1);
        return;
    }
    for (; n0 < n1; n0 += IGQ_QS8_NR)
        lin_cols(c, j, n0, n1 - n0 < IGQ_QS8_NR ? n1 : n0 + IGQ_QS8_NR);
}

/* y [rows][out] = the layer on codes A [rows][in] (group order of c's group state, site qs):
 *   y = fmaf(t_d, f, b_d - t_d corr_d),  f = the fmaf chain over groups of s_g acc_g,
 *   corr_d = sum_g s_g z_g S_g[d]  (zero-point correction, computed once per call).
 * The image's threads take whole 64-column panels each (every thread stages only its own
 * weights). */
void igq__qexec_linear(igq_ictx *c, const igq_qlin *L, const igq_qsite *qs, const uint8_t *A,
                       int64_t rows, float *y)
{
    lin_job       j;
    int32_t       g;
    int64_t       panels = (L->out + IGQ_QS8_NR - 1) / IGQ_QS8_NR, nt = igq__ithreads(c);
    j.L = L, j.qs = qs, j.A = A, j.rows = rows, j.y = y, j.last = -1, j.any_zero = 0;
    for (g = 0; g < c->G; g++)
        if (c->off[g + 1] > c->off[g]) {
            j.last = g;
            if (qs->zp[g] != 0) j.any_zero = 1;
        }
    igq__ipar(c, nt < panels ? nt : panels, lin_task, &j);
}
