/* Linear layers of the integer executor on codes with G input groups (ALGORITHMS.md 1.8).
 * The codes arrive in group order (qexec_codes.c: perm lists the channels group by group); one
 * int GEMM per group k-slice reads the weights through perm (the packed weights are never
 * copied), and
 *   y[n][d] = t_d (sum_g s_g acc_g[n][d] - corr[d]) + b_d,  corr[d] = sum_g s_g z_g S_g[d],
 * S_g[d] = sum over the group's channels of w[c][d], obtained by one more int GEMM whose G
 * rows are the groups' 0/1 indicators. The sum over g is the f32 fold kernel, or the fused
 * grouped GEMM where the ISA level has one (same bits). */
#include <string.h>

#include "qexec_impl.h"

static void lin_gemm(const igq_qlin *L, int64_t M, int64_t k0, int64_t k1, const uint8_t *A,
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
void igq__qexec_linear(igq_ictx *c, const igq_qlin *L, const igq_qsite *qs, const uint8_t *A,
                       int64_t rows, float *y)
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
        IGQ__PROF_BEGIN(c);
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
        IGQ__PROF_END(c, IGQ__PROF_EPILOGUE);
    }
    {
        const igq_kernel_table *kt = igq__kernels();
        const igq_qggemm_fn   gg = L->qs4 ? kt->qs4_ggemm : kt->qs8_ggemm;
        if (gg != NULL) {
            /* fused: per-group sums stay in registers (same bits as the loop below) */
            IGQ__PROF_BEGIN(c);
            gg(rows, N, K, c->G, c->off, qs->s, A, K, L->packed, c->gperm, L->t, cb, y, N, c->ws);
            IGQ__PROF_END(c, IGQ__PROF_GEMM);
            return;
        }
    }
    for (g = 0; g < c->G; g++) {
        const int64_t k0 = c->off[g], k1 = c->off[g + 1];
        if (k1 <= k0) continue;
        {
            IGQ__PROF_BEGIN(c);
            lin_gemm(L, rows, k0, k1, A, c->gperm, c->acc);
            IGQ__PROF_END(c, IGQ__PROF_GEMM);
        }
        {
            IGQ__PROF_BEGIN(c);
            igq__i32_fold(rows, N, qs->s[g], c->acc, N, g == last ? L->t : NULL, cb, y, N, first);
            IGQ__PROF_END(c, IGQ__PROF_EPILOGUE);
        }
        first = 0;
    }
}
