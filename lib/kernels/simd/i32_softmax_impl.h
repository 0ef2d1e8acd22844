/* Integer softmax to p at 2^-20 (nonlin.h igq__i32_softmax__scalar) against a width mapping.
 * Per row (of x, or of x - v for the _sub kernel: the column offsets subtracted as each
 * vector is loaded): the max (int32 lanes, then the scalar tail); e of VF_WIDTH logits per
 * step: the index arithmetic on int32 lanes, two table gathers (T_hi 1 KiB, T_lo 4 KiB: L1;
 * the index is clamped into the tables for every lane), the 64-bit product on the even and the odd
 * lanes, e written to the output and summed in 64-bit lanes (no overflow for any n); the
 * last n mod width logits as one masked vector whose lanes past the row are 0 where the
 * mapping has IGQ_SIMD_MASKED_TAILS, else by the scalar helpers of nonlin_inl.h; then
 * out = (e factor + 2^(s-1)) >> s with the row factor of nonlin_inl.h. Static inline. */
#ifndef IGQ_KERNELS_SIMD_I32_SOFTMAX_IMPL_H
#define IGQ_KERNELS_SIMD_I32_SOFTMAX_IMPL_H

#include "../nonlin_inl.h"

typedef struct smx_lanes {
    v_i32 rbit, idxmax, lomask, r29;
    v_cnt k0, rsh;
} smx_lanes;

IGQ_SIMD_INLINE smx_lanes smx_lanes_make(const igq_softmax_params *p)
{
    smx_lanes c;
    c.rbit   = vi_set1((int32_t)p->rbit);
    c.idxmax = vi_set1(IGQ_SMX_IDX_MAX);
    c.lomask = vi_set1((1 << IGQ_SMX_LBITS) - 1);
    c.r29    = vl_set1((int64_t)1 << (IGQ_SMX_G - 1));
    c.k0     = vi_cnt((int32_t)p->k0);
    c.rsh    = vi_cnt((int32_t)p->rsh);
    return c;
}

/* e of the logits x (row max vmax) as uint32 lanes, added to *sum (64-bit lanes); lanes
 * outside *m (m NULL: none) give e = 0: their T_hi entry is replaced by 0 */
IGQ_SIMD_INLINE v_i32 smx_exp_lanes(const igq_softmax_params *p, const smx_lanes *c,
                                    v_i32 vmax, v_i32 x, const v_imask *m, v_i32 *sum)
{
    v_i32 d = vi_sub(vmax, x), th, tl, pe, po;
    d  = vi_add(vi_srl(d, c->k0), vi_and(vi_srl(d, c->rsh), c->rbit));
    d  = vi_min_u32(d, c->idxmax);
    th = vi_gather((const int32_t *)p->t_hi, vi_srli(d, IGQ_SMX_LBITS));
    tl = vi_gather((const int32_t *)p->t_lo, vi_and(d, c->lomask));
    if (m != NULL) th = vi_keep(*m, th);
    pe   = vl_srli(vl_add(vl_mul_u32(th, tl), c->r29), IGQ_SMX_G);
    po   = vl_srli(vl_add(vl_mul_u32(vl_srli(th, 32), vl_srli(tl, 32)), c->r29), IGQ_SMX_G);
    *sum = vl_add(*sum, vl_add(pe, po));
    return vi_or(pe, vl_slli(po, 32));
}

/* (e factor + 2^(s-1)) >> s per lane (results < 2^32) */
IGQ_SIMD_INLINE v_i32 smx_norm_lanes(v_i32 e, v_i32 factor, v_i32 rnd, v_cnt s)
{
    const v_i32 pe = vl_srl(vl_add(vl_mul_u32(e, factor), rnd), s);
    const v_i32 po = vl_srl(vl_add(vl_mul_u32(vl_srli(e, 32), factor), rnd), s);
    return vi_or(pe, vl_slli(po, 32));
}

/* x[i] - v[i] (v NULL: x[i]); VF_WIDTH lanes / c < VF_WIDTH lanes (others 0) */
IGQ_SIMD_INLINE v_i32 smx_load(const int32_t *x, const int32_t *v, int64_t i)
{
    return v != NULL ? vi_sub(vi_load(x + i), vi_load(v + i)) : vi_load(x + i);
}
IGQ_SIMD_INLINE v_i32 smx_load_tail(const int32_t *x, const int32_t *v, int64_t i, int64_t c)
{
    return v != NULL ? vi_sub(vi_load_tail(x + i, c), vi_load_tail(v + i, c))
                     : vi_load_tail(x + i, c);
}
IGQ_SIMD_INLINE int32_t smx_at(const int32_t *x, const int32_t *v, int64_t i)
{
    return v != NULL ? x[i] - v[i] : x[i];
}

IGQ_SIMD_INLINE int32_t i32_row_max_sub(int64_t n, const int32_t *x, const int32_t *v)
{
    v_i32   vm = vi_set1(smx_at(x, v, 0));
    int32_t m;
    int64_t i;
    for (i = 0; i + VF_WIDTH <= n; i += VF_WIDTH) vm = vi_max(vm, smx_load(x, v, i));
    m = vi_hmax(vm);
    for (; i < n; i++) m = smx_at(x, v, i) > m ? smx_at(x, v, i) : m;
    return m;
}

/* the softmax of x[r][j] - v[j] (v NULL: of x), nonlin.h igq__i32_softmax_sub__scalar */
IGQ_SIMD_INLINE void i32_softmax_sub_impl(const igq_softmax_params *p, int64_t rows, int64_t n,
                                          const int32_t *x, int64_t ldx, const int32_t *v,
                                          int32_t *out, int64_t ldo)
{
    if (n <= 0 || rows <= 0) return;
    const smx_lanes c    = smx_lanes_make(p);
    const int32_t   s    = p->s_q20;
    const v_i32     rnd  = vl_set1((int64_t)1 << (s - 1));
    const v_cnt     scnt = vi_cnt(s);
    const int64_t   nf   = n - n % VF_WIDTH;
    int64_t         r, i;
    for (r = 0; r < rows; r++) {
        const int32_t *xr   = x + r * ldx;
        int32_t       *o    = out + r * ldo;
        const int32_t  mx   = i32_row_max_sub(n, xr, v);
        const v_i32    vmax = vi_set1(mx);
        v_i32          vsum = vl_set1(0), vf;
        uint64_t       sum  = 0;
        uint32_t       f;
        for (i = 0; i < nf; i += VF_WIDTH)
            vi_store(o + i, smx_exp_lanes(p, &c, vmax, smx_load(xr, v, i), NULL, &vsum));
        if (nf < n && IGQ_SIMD_MASKED_TAILS) {
            const v_imask m = vi_tail_mask(n - nf);
            vi_store_tail(o + nf, n - nf,
                          smx_exp_lanes(p, &c, vmax, smx_load_tail(xr, v, nf, n - nf), &m, &vsum));
        } else
            for (i = nf; i < n; i++) {
                const uint32_t e = igq__smx_exp(p, (uint32_t)mx - (uint32_t)smx_at(xr, v, i));
                o[i]             = (int32_t)e;
                sum += e;
            }
        f  = igq__smx_factor(sum + (uint64_t)vl_hsum(vsum), 1u << IGQ_SMX_Q20_BITS, s);
        vf = vl_set1(f);
        for (i = 0; i < nf; i += VF_WIDTH)
            vi_store(o + i, smx_norm_lanes(vi_load(o + i), vf, rnd, scnt));
        if (nf < n && IGQ_SIMD_MASKED_TAILS)
            vi_store_tail(o + nf, n - nf,
                          smx_norm_lanes(vi_load_tail(o + nf, n - nf), vf, rnd, scnt));
        else
            for (i = nf; i < n; i++) o[i] = (int32_t)igq__smx_norm((uint32_t)o[i], f, s);
    }
}

IGQ_SIMD_INLINE void i32_softmax_impl(const igq_softmax_params *p, int64_t rows, int64_t n,
                                      const int32_t *x, int64_t ldx, int32_t *out, int64_t ldo)
{
    i32_softmax_sub_impl(p, rows, n, x, ldx, NULL, out, ldo);
}

#endif
