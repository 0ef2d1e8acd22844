/* Integer LayerNorm, AVX-512 (F/BW/VL; built with the x86_avx512 flags, reached only through
 * the dispatch table). Semantics: igq__i32_ln_{stats,apply,apply_rq}_ref (nonlin.h),
 * bit-exact. Statistics on 16 int32 lanes (64-bit sums from vpmovsxdq halves, masked min/max,
 * vpsrad for the floor pre-shift, vpmuldq even / odd for y^2); row constants from the scalar
 * helpers of nonlin_inl.h. Apply on 8 channels per step in 64-bit lanes (vpmuldq, vpsraq for
 * the rounding shifts, vpminsq/vpmaxsq saturation, vpmovqd / vpmovqb). Tails are masked. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "../nonlin_inl.h"
#include "nonlin_avx512.h"

NL_INLINE __m512i add_halves_i64(__m512i acc, __m512i v)
{
    acc = _mm512_add_epi64(acc, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v)));
    return _mm512_add_epi64(acc, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1)));
}

void igq_i32_ln_stats__avx512(const igq_ln_params *p, const int32_t *x, igq_ln_row *row)
{
    const int64_t C   = p->C;
    __m512i       vs  = _mm512_setzero_si512(), vq = _mm512_setzero_si512();
    __m512i       vmn = _mm512_set1_epi32(INT32_MAX), vmx = _mm512_set1_epi32(INT32_MIN);
    __m512i       vmu;
    __m128i       kc;
    int64_t       i;
    int32_t       k, mu_k;
    for (i = 0; i < C; i += 16) {
        const __mmask16 m = nl_mask16(C - i);
        const __m512i   v = _mm512_maskz_loadu_epi32(m, x + i);
        vs  = add_halves_i64(vs, v);
        vmn = _mm512_mask_min_epi32(vmn, m, vmn, v);
        vmx = _mm512_mask_max_epi32(vmx, m, vmx, v);
    }
    igq__ln_row_shift(p, _mm512_reduce_add_epi64(vs), _mm512_reduce_min_epi32(vmn),
                      _mm512_reduce_max_epi32(vmx), &k, &mu_k);
    kc  = _mm_cvtsi32_si128(k);
    vmu = _mm512_set1_epi32(mu_k);
    vs  = _mm512_setzero_si512();
    for (i = 0; i < C; i += 16) {
        const __mmask16 m = nl_mask16(C - i);
        const __m512i   y = _mm512_maskz_sub_epi32(
            m, _mm512_sra_epi32(_mm512_maskz_loadu_epi32(m, x + i), kc), vmu);
        const __m512i yo = _mm512_srli_epi64(y, 32);
        vs = add_halves_i64(vs, y);
        vq = _mm512_add_epi64(vq, _mm512_mul_epi32(y, y));
        vq = _mm512_add_epi64(vq, _mm512_mul_epi32(yo, yo));
    }
    igq__ln_row_finish(p, k, mu_k, _mm512_reduce_add_epi64(vs), _mm512_reduce_add_epi64(vq), row);
}

typedef struct ln_consts {
    __m128i kc, tc, gsc;
    __m256i mu;
    __m512i C, sy, rcp, rndt, rndg;
} ln_consts;

NL_INLINE ln_consts ln_init(const igq_ln_params *p, const igq_ln_row *row)
{
    ln_consts c;
    c.kc   = _mm_cvtsi32_si128(row->k);
    c.tc   = _mm_cvtsi32_si128(row->t);
    c.gsc  = _mm_cvtsi32_si128(p->gs);
    c.mu   = _mm256_set1_epi32(row->mu_k);
    c.C    = _mm512_set1_epi64(p->C);
    c.sy   = _mm512_set1_epi64(row->sum_y);
    c.rcp  = _mm512_set1_epi64(row->rcp);
    c.rndt = _mm512_set1_epi64((int64_t)1 << (row->t - 1));
    c.rndg = _mm512_set1_epi64((int64_t)1 << (p->gs - 1));
    return c;
}

/* a for the 8 channels i.. (mask m) in 64-bit lanes, int32 range. */
NL_INLINE __m512i ln_a8(const igq_ln_params *p, const ln_consts *c, const int32_t *x, int64_t i,
                        __mmask8 m)
{
    const __m256i y = _mm256_sub_epi32(_mm256_sra_epi32(_mm256_maskz_loadu_epi32(m, x + i), c->kc), c->mu);
    const __m512i z = _mm512_sub_epi64(_mm512_mul_epi32(_mm512_cvtepi32_epi64(y), c->C), c->sy);
    const __m512i n = nl_round_shift_u(_mm512_mul_epi32(z, c->rcp), c->rndt, c->tc);
    __m512i       v = _mm512_mul_epi32(n, nl_load8_i64(m, p->gm + i));
    v = _mm512_add_epi64(v, _mm512_maskz_loadu_epi64(m, p->gb + i));
    return nl_sat32(nl_round_shift_u(v, c->rndg, c->gsc));
}

void igq_i32_ln_apply__avx512(const igq_ln_params *p, const igq_ln_row *row, const int32_t *x,
                              int32_t *out)
{
    const ln_consts c = ln_init(p, row);
    int64_t         i;
    for (i = 0; i < p->C; i += 8) {
        const __mmask8 m = nl_mask8(p->C - i);
        _mm256_mask_storeu_epi32(out + i, m, _mm512_cvtepi64_epi32(ln_a8(p, &c, x, i, m)));
    }
}

void igq_i32_ln_apply_rq__avx512(const igq_ln_params *p, const igq_ln_row *row,
                                 const int32_t *x, const int32_t *mult, const int32_t *shift,
                                 const int32_t *zero, int per_channel, int32_t qmin,
                                 int32_t qmax, uint8_t *out)
{
    const ln_consts c     = ln_init(p, row);
    const __m512i   vqmin = _mm512_set1_epi64(qmin), vqmax = _mm512_set1_epi64(qmax);
    int64_t         i;
    if (per_channel) {
        for (i = 0; i < p->C; i += 8) {
            const __mmask8 m = nl_mask8(p->C - i);
            const __m512i  a = ln_a8(p, &c, x, i, m);
            const __m512i  r = nl_round_shift_v(_mm512_mul_epi32(a, nl_load8_i64(m, mult + i)),
                                                nl_load8_i64(m, shift + i));
            nl_store8_code(out + i, m, r, nl_load8_i64(m, zero + i), vqmin, vqmax);
        }
    } else {
        const int32_t s   = shift[0];
        const __m512i vm  = _mm512_set1_epi64(mult[0]), vz = _mm512_set1_epi64(zero[0]);
        const __m512i rnd = _mm512_set1_epi64(s > 0 ? (int64_t)1 << (s - 1) : 0);
        const __m128i cnt = _mm_cvtsi32_si128(s);
        for (i = 0; i < p->C; i += 8) {
            const __mmask8 m = nl_mask8(p->C - i);
            const __m512i  a = ln_a8(p, &c, x, i, m);
            nl_store8_code(out + i, m, nl_round_shift_u(_mm512_mul_epi32(a, vm), rnd, cnt), vz,
                           vqmin, vqmax);
        }
    }
}

#endif
