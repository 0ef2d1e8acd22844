/* Attention of one block in the integer executor, per head (the heads are the tasks the
 * image's threads share): Q K^T is one int GEMM (K codes
 * offset by 2^(b-1) to int8 and packed per head); zero-point terms that are constant along a
 * row are dropped (softmax ignores them); integer softmax (p at 2^-20); each row's group from
 * its largest p and its codes; P V is one int GEMM (V codes offset and packed per head); a
 * per-row f32 epilogue puts the head's output into its columns of the block's f32 output. */
#include <string.h>

#include "../kernels/qs8_layout.h"
#include "qexec_impl.h"

/* Head h of the block's attention, on the thread's scratch (c->pk, rs, lg, p20, rsp, rowg,
 * pc, oi), into its hd columns of c->of. */
static void head(igq_ictx *c, const igq_qblk *xb, int64_t h)
{
    const igq_vit_dims *d = c->d;
    const int64_t       T = d->n_tokens, D = d->dim, hd = d->head_dim;
    const int32_t       bk = xb->k.z->bits, bv = xb->v.z->bits;
    const int32_t       ok = 1 << (bk - 1), ov = 1 << (bv - 1);
    const int32_t       zq = xb->q.zp[0], zv = xb->v.zp[0];
    const igq_qsite    *qa = &xb->attn;
    const float         sv = xb->v.s[0];
    int64_t             i, j, k;
    {
        const uint8_t *qh = c->qc + h * hd, *kh = c->qc + D + h * hd, *vh = c->qc + 2 * D + h * hd;
        int64_t        cmax = 0;
        {
            IGQ__PROF_BEGIN(c);
            /* logits: sum_c qQ (qK - ok) - zQ sum_c (qK - ok) (+ terms constant in a row) */
            c->kt->qs8_pack_keys(kh, 3 * D, T, hd, ok, (uint8_t *)c->pk, c->rs);
            igq__qs8_gemm(T, T, hd, 0, hd, qh, 3 * D, c->pk, NULL, c->lg, T);
            IGQ__PROF_END(c, IGQ__PROF_ATTN_GEMM);
        }
        {
            IGQ__PROF_BEGIN(c);
            for (j = 0; j < T; j++) {
                const int64_t v = (int64_t)zq * c->rs[j];
                cmax            = v > cmax ? v : (-v > cmax ? -v : cmax);
            }
            if (cmax + (int64_t)hd * 255 * 128 < ((int64_t)1 << 31)) {
                /* the column terms subtracted inside the softmax (no pass writing lg - rsp) */
                for (j = 0; j < T; j++) c->rsp[j] = zq * c->rs[j];
                c->kt->i32_softmax_sub(&xb->smx, T, T, c->lg, T, c->rsp, c->p20, T);
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
                igq__i32_softmax(&xb->smx, T, T, c->lg, T, c->p20, T);
            }
            IGQ__PROF_END(c, IGQ__PROF_SOFTMAX);
        }
        {
            IGQ__PROF_BEGIN(c);
            /* row groups from each row's largest p, then the row's codes */
            for (i = 0; i < T; i++) {
                const int32_t *p  = c->p20 + i * T;
                const int32_t  pm = c->kt->exec.rowmax_i32(T, p);
                int32_t        g  = 0;
                if (qa->G > 1)
                    g = igq__qexec_group(qa->z, qa->G, 0.0f, (float)pm * (float)qa->src_scale);
                c->rowg[i] = g;
                if (c->cap_assign != NULL && c->cur_block == c->cap_block &&
                    c->cap_site == IGQ__SITE_ATTN)
                    c->cap_assign[h * T + i] = g;
                c->kt->i32_requant(T, p, &qa->mult[g], &qa->shift[g], &qa->zp[g], 0, qa->qmin,
                                   qa->qmax, c->pc + i * T);
                c->rsp[i] = c->kt->exec.sum_u8(T, c->pc + i * T);
            }
            IGQ__PROF_END(c, IGQ__PROF_QUANT);
        }
        {
            IGQ__PROF_BEGIN(c);
            /* P V: V^T codes offset to int8, packed per head; column sums cs = rowsum */
            c->kt->qs8_pack_values(vh, 3 * D, T, hd, ov, (uint8_t *)c->pk, c->rs);
            igq__qs8_gemm(T, hd, T, 0, T, c->pc, T, c->pk, NULL, c->oi, hd);
            IGQ__PROF_END(c, IGQ__PROF_ATTN_GEMM);
        }
        {
            IGQ__PROF_BEGIN(c);
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
            IGQ__PROF_END(c, IGQ__PROF_EPILOGUE);
        }
    }
}

static void head_task(igq_ictx *c, void *arg, int64_t t, int64_t n)
{
    (void)n;
    head(c, (const igq_qblk *)arg, t);
}

void igq__qexec_attention(igq_ictx *c, const igq_qblk *xb)
{
    igq__ipar(c, c->d->heads, head_task, (void *)(uintptr_t)xb);
}
