/* Integer LayerNorm, AVX2 (built with -mavx2 -mfma; reached only through the dispatch table).
 * Semantics: igq__i32_ln_{stats,apply,apply_rq}_ref (nonlin.h), bit-exact.
 * Statistics: pass 1 sums x in 64-bit lanes (vpmovsxdq halves) with vpminsd / vpmaxsd; pass 2
 * forms y = (x >> k) - (mu >> k) with vpsrad (a floor shift, as igq__asr32) and sums y and y^2
 * (vpmuldq on even and odd lanes) in 64-bit lanes. The row constants (mean, pre-shift, isqrt,
 * reciprocal) come from the scalar helpers of nonlin_inl.h.
 * Apply: 4-lane halves of 64-bit arithmetic: z = C y - Sy, n = round(z rcp / 2^t),
 * a = sat32(round((n gm + gb) / 2^gs)) with the biased logical shifts of nonlin_avx2.h; the rq
 * variant then requantizes a exactly as the requant kernel. Tails (< 8) by the scalar helpers. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "../nonlin_inl.h"
#include "nonlin_avx2.h"

void igq_i32_ln_stats__avx2(const igq_ln_params *p, const int32_t *x, igq_ln_row *row)
{
    const int64_t C = p->C;
    int64_t       i = 0, S1 = 0, Sy = 0, Syy = 0;
    int32_t       mn = x[0], mx = x[0], k, mu_k;
    if (C >= 8) {
        __m256i vs = _mm256_setzero_si256();
        __m256i vmn = _mm256_set1_epi32(x[0]), vmx = vmn;
        __m128i h;
        for (; i + 8 <= C; i += 8) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(x + i));
            vs  = _mm256_add_epi64(vs, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v)));
            vs  = _mm256_add_epi64(vs, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1)));
            vmn = _mm256_min_epi32(vmn, v);
            vmx = _mm256_max_epi32(vmx, v);
        }
        S1 = nl_hsum64(vs);
        h  = _mm_min_epi32(_mm256_castsi256_si128(vmn), _mm256_extracti128_si256(vmn, 1));
        h  = _mm_min_epi32(h, _mm_shuffle_epi32(h, 0x4e));
        h  = _mm_min_epi32(h, _mm_shuffle_epi32(h, 0xb1));
        mn = _mm_cvtsi128_si32(h);
        h  = _mm_max_epi32(_mm256_castsi256_si128(vmx), _mm256_extracti128_si256(vmx, 1));
        h  = _mm_max_epi32(h, _mm_shuffle_epi32(h, 0x4e));
        h  = _mm_max_epi32(h, _mm_shuffle_epi32(h, 0xb1));
        mx = _mm_cvtsi128_si32(h);
    }
    for (; i < C; i++) {
        S1 += x[i];
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    igq__ln_row_shift(p, S1, mn, mx, &k, &mu_k);
    i = 0;
    if (C >= 8) {
        const __m128i kc  = _mm_cvtsi32_si128(k);
        const __m256i vmu = _mm256_set1_epi32(mu_k);
        __m256i       vs = _mm256_setzero_si256(), vq = _mm256_setzero_si256();
        for (; i + 8 <= C; i += 8) {
            const __m256i y = _mm256_sub_epi32(
                _mm256_sra_epi32(_mm256_loadu_si256((const __m256i *)(x + i)), kc), vmu);
            const __m256i yo = _mm256_srli_epi64(y, 32);
            vs = _mm256_add_epi64(vs, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(y)));
            vs = _mm256_add_epi64(vs, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(y, 1)));
            vq = _mm256_add_epi64(vq, _mm256_mul_epi32(y, y));
            vq = _mm256_add_epi64(vq, _mm256_mul_epi32(yo, yo));
        }
        Sy  = nl_hsum64(vs);
        Syy = nl_hsum64(vq);
    }
    for (; i < C; i++) {
        const int64_t y = igq__asr32(x[i], k) - mu_k;
        Sy += y;
        Syy += y * y;
    }
    igq__ln_row_finish(p, k, mu_k, Sy, Syy, row);
}

typedef struct ln_consts {
    __m128i kc, tc, gsc;
    __m256i mu, C, sy, rcp, rbt, bst, rbg, bsg, i32min, i32max;
} ln_consts;

NL_INLINE ln_consts ln_init(const igq_ln_params *p, const igq_ln_row *row)
{
    const int64_t b62 = (int64_t)1 << 62;
    ln_consts     c;
    c.kc     = _mm_cvtsi32_si128(row->k);
    c.tc     = _mm_cvtsi32_si128(row->t);
    c.gsc    = _mm_cvtsi32_si128(p->gs);
    c.mu     = _mm256_set1_epi32(row->mu_k);
    c.C      = _mm256_set1_epi64x(p->C);
    c.sy     = _mm256_set1_epi64x(row->sum_y);
    c.rcp    = _mm256_set1_epi64x(row->rcp);
    c.rbt    = _mm256_set1_epi64x(b62 + ((int64_t)1 << (row->t - 1)));
    c.bst    = _mm256_set1_epi64x(b62 >> row->t);
    c.rbg    = _mm256_set1_epi64x(b62 + ((int64_t)1 << (p->gs - 1)));
    c.bsg    = _mm256_set1_epi64x(b62 >> p->gs);
    c.i32min = _mm256_set1_epi64x(INT32_MIN);
    c.i32max = _mm256_set1_epi64x(INT32_MAX);
    return c;
}

/* a for 4 channels at x (64-bit lanes, values in int32 range); y4 = the 4 y as int32. */
NL_INLINE __m256i ln_a4(const igq_ln_params *p, const ln_consts *c, __m128i y4, int64_t i)
{
    const __m256i z = _mm256_sub_epi64(_mm256_mul_epi32(_mm256_cvtepi32_epi64(y4), c->C), c->sy);
    const __m256i n = nl_round_shift_u(_mm256_mul_epi32(z, c->rcp), c->tc, c->rbt, c->bst);
    __m256i       v = _mm256_mul_epi32(n, nl_load4_i64(p->gm + i));
    v = _mm256_add_epi64(v, _mm256_loadu_si256((const __m256i *)(p->gb + i)));
    v = nl_round_shift_u(v, c->gsc, c->rbg, c->bsg);
    return nl_min64(nl_max64(v, c->i32min), c->i32max);
}

NL_INLINE __m256i ln_y8(const ln_consts *c, const int32_t *x)
{
    return _mm256_sub_epi32(_mm256_sra_epi32(_mm256_loadu_si256((const __m256i *)x), c->kc), c->mu);
}

void igq_i32_ln_apply__avx2(const igq_ln_params *p, const igq_ln_row *row, const int32_t *x,
                            int32_t *out)
{
    const ln_consts c = ln_init(p, row);
    int64_t         i = 0;
    for (; i + 8 <= p->C; i += 8) {
        const __m256i y = ln_y8(&c, x + i);
        _mm_storeu_si128((__m128i *)(out + i), nl_pack4(ln_a4(p, &c, _mm256_castsi256_si128(y), i)));
        _mm_storeu_si128((__m128i *)(out + i + 4),
                         nl_pack4(ln_a4(p, &c, _mm256_extracti128_si256(y, 1), i + 4)));
    }
    for (; i < p->C; i++) out[i] = igq__ln_affine(p, i, igq__ln_norm(p, row, x[i]));
}

void igq_i32_ln_apply_rq__avx2(const igq_ln_params *p, const igq_ln_row *row,
                               const int32_t *x, const int32_t *mult, const int32_t *shift,
                               const int32_t *zero, int per_channel, int32_t qmin,
                               int32_t qmax, uint8_t *out)
{
    const ln_consts c     = ln_init(p, row);
    const __m256i   vqmin = _mm256_set1_epi64x(qmin), vqmax = _mm256_set1_epi64x(qmax);
    int64_t         i     = 0;
    if (per_channel) {
        for (; i + 8 <= p->C; i += 8) {
            const __m256i y  = ln_y8(&c, x + i);
            const __m256i a0 = ln_a4(p, &c, _mm256_castsi256_si128(y), i);
            const __m256i a1 = ln_a4(p, &c, _mm256_extracti128_si256(y, 1), i + 4);
            const __m256i r0 = nl_round_shift_v(_mm256_mul_epi32(a0, nl_load4_i64(mult + i)),
                                                nl_load4_i64(shift + i));
            const __m256i r1 = nl_round_shift_v(_mm256_mul_epi32(a1, nl_load4_i64(mult + i + 4)),
                                                nl_load4_i64(shift + i + 4));
            nl_store8_u8(out + i, nl_code4(r0, nl_load4_i64(zero + i), vqmin, vqmax),
                         nl_code4(r1, nl_load4_i64(zero + i + 4), vqmin, vqmax));
        }
    } else {
        const __m256i vm = _mm256_set1_epi64x(mult[0]), vs = _mm256_set1_epi64x(shift[0]);
        const __m256i vz = _mm256_set1_epi64x(zero[0]);
        for (; i + 8 <= p->C; i += 8) {
            const __m256i y  = ln_y8(&c, x + i);
            const __m256i a0 = ln_a4(p, &c, _mm256_castsi256_si128(y), i);
            const __m256i a1 = ln_a4(p, &c, _mm256_extracti128_si256(y, 1), i + 4);
            nl_store8_u8(out + i, nl_code4(nl_round_shift_v(_mm256_mul_epi32(a0, vm), vs), vz, vqmin, vqmax),
                         nl_code4(nl_round_shift_v(_mm256_mul_epi32(a1, vm), vs), vz, vqmin, vqmax));
        }
    }
    for (; i < p->C; i++) {
        const int32_t a = igq__ln_affine(p, i, igq__ln_norm(p, row, x[i]));
        const int64_t q = per_channel ? i : 0;
        out[i]          = igq__rq_code(igq__requant64(a, mult[q], shift[q]), zero[q], qmin, qmax);
    }
}

#endif
