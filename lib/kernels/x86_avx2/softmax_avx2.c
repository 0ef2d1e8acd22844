/* Integer softmax, AVX2 (built with -mavx2 -mfma; reached only through the dispatch table).
 * Semantics: igq__i32_softmax_{u8,q20}_ref (nonlin.h), bit-exact. Per row:
 *   pass 1: vpmaxsd over 8 lanes;
 *   pass 2: e for 8 lanes: d = max - x, vpminud / add / shift / vpminud for the index, two
 *           vpgatherdd (T_hi 1 KiB, T_lo 4 KiB: L1), vpmuludq on even and odd lanes for the
 *           64-bit product, shift by 30; e is summed in 64-bit lanes (no overflow for any n)
 *           and kept: in the output itself (q20) or in a 4 KiB stack buffer for the first 1024
 *           elements (u8; e of later elements is computed again in pass 3);
 *   pass 3: out = (e factor + 2^(s-1)) >> s, vpmuludq on even and odd lanes, then stored as
 *           int32 (q20) or packed to bytes (u8).
 * The row factor and the tails (< 8 elements) use the scalar helpers of nonlin_inl.h. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "../nonlin_inl.h"
#include "nonlin_avx2.h"

#define CAP 1024 /* e values kept on the stack by the u8 kernel */

typedef struct smx_consts {
    __m256i rbit, idxmax, lomask, r29;
    __m128i k0, rsh;
} smx_consts;

NL_INLINE smx_consts smx_init(const igq_softmax_params *p)
{
    smx_consts c;
    c.rbit   = _mm256_set1_epi32((int32_t)p->rbit);
    c.rsh    = _mm_cvtsi32_si128((int)p->rsh);
    c.idxmax = _mm256_set1_epi32(IGQ_SMX_IDX_MAX);
    c.lomask = _mm256_set1_epi32((1 << IGQ_SMX_LBITS) - 1);
    c.r29    = _mm256_set1_epi64x((int64_t)1 << (IGQ_SMX_G - 1));
    c.k0     = _mm_cvtsi32_si128((int)p->k0);
    return c;
}

/* e of 8 logits; adds them to *sum (4 x 64-bit). */
NL_INLINE __m256i smx_exp8(const igq_softmax_params *p, const smx_consts *c, __m256i vmax,
                           __m256i x, __m256i *sum)
{
    __m256i d = _mm256_sub_epi32(vmax, x);
    __m256i th, tl, pe, po;
    d  = _mm256_add_epi32(_mm256_srl_epi32(d, c->k0), _mm256_and_si256(_mm256_srl_epi32(d, c->rsh), c->rbit));
    d  = _mm256_min_epu32(d, c->idxmax);
    th = _mm256_i32gather_epi32((const int *)p->t_hi, _mm256_srli_epi32(d, IGQ_SMX_LBITS), 4);
    tl = _mm256_i32gather_epi32((const int *)p->t_lo, _mm256_and_si256(d, c->lomask), 4);
    pe = _mm256_mul_epu32(th, tl);
    po = _mm256_mul_epu32(_mm256_srli_epi64(th, 32), _mm256_srli_epi64(tl, 32));
    pe = _mm256_srli_epi64(_mm256_add_epi64(pe, c->r29), IGQ_SMX_G);
    po = _mm256_srli_epi64(_mm256_add_epi64(po, c->r29), IGQ_SMX_G);
    *sum = _mm256_add_epi64(*sum, _mm256_add_epi64(pe, po));
    return _mm256_or_si256(pe, _mm256_slli_epi64(po, 32));
}

/* (e factor + 2^(s-1)) >> s for 8 lanes (results < 2^32). */
NL_INLINE __m256i smx_norm8(__m256i e, __m256i factor, __m256i rnd, __m128i s)
{
    __m256i pe = _mm256_mul_epu32(e, factor);
    __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(e, 32), factor);
    pe         = _mm256_srl_epi64(_mm256_add_epi64(pe, rnd), s);
    po         = _mm256_srl_epi64(_mm256_add_epi64(po, rnd), s);
    return _mm256_or_si256(pe, _mm256_slli_epi64(po, 32));
}

static int32_t row_max(int64_t n, const int32_t *x)
{
    int64_t i = 0;
    int32_t mx;
    if (n >= 8) {
        __m256i m = _mm256_loadu_si256((const __m256i *)x);
        __m128i h;
        for (i = 8; i + 8 <= n; i += 8) m = _mm256_max_epi32(m, _mm256_loadu_si256((const __m256i *)(x + i)));
        h  = _mm_max_epi32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
        h  = _mm_max_epi32(h, _mm_shuffle_epi32(h, 0x4e));
        h  = _mm_max_epi32(h, _mm_shuffle_epi32(h, 0xb1));
        mx = _mm_cvtsi128_si32(h);
    } else {
        mx = x[0];
        i  = 1;
    }
    for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    return mx;
}

void igq_i32_softmax_u8__avx2(const igq_softmax_params *p, int64_t rows, int64_t n,
                              const int32_t *x, int64_t ldx, uint8_t *out, int64_t ldo)
{
    if (n <= 0 || rows <= 0) return;
    const smx_consts c    = smx_init(p);
    const int32_t    s    = p->s_u8;
    const __m256i    rnd  = _mm256_set1_epi64x((int64_t)1 << (s - 1));
    const __m128i    scnt = _mm_cvtsi32_si128(s);
    const __m256i    perm = _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0);
    uint32_t         buf[CAP];
    int64_t          r, i;
    for (r = 0; r < rows; r++) {
        const int32_t *xr   = x + r * ldx;
        uint8_t       *o    = out + r * ldo;
        const int32_t  mx   = row_max(n, xr);
        const __m256i  vmax = _mm256_set1_epi32(mx);
        __m256i        vsum = _mm256_setzero_si256(), vf;
        uint64_t       sum;
        uint32_t       f;
        for (i = 0; i + 8 <= n; i += 8) {
            const __m256i e = smx_exp8(p, &c, vmax, _mm256_loadu_si256((const __m256i *)(xr + i)), &vsum);
            if (i < CAP) _mm256_storeu_si256((__m256i *)(buf + i), e);
        }
        sum = (uint64_t)nl_hsum64(vsum);
        for (; i < n; i++) {
            const uint32_t e = igq__smx_exp(p, (uint32_t)mx - (uint32_t)xr[i]);
            if (i < CAP) buf[i] = e;
            sum += e;
        }
        f  = igq__smx_factor(sum, p->q_u8, s);
        vf = _mm256_set1_epi64x(f);
        for (i = 0; i + 8 <= n; i += 8) {
            __m256i e, v;
            if (i < CAP)
                e = _mm256_loadu_si256((const __m256i *)(buf + i));
            else
                e = smx_exp8(p, &c, vmax, _mm256_loadu_si256((const __m256i *)(xr + i)), &vsum);
            v = smx_norm8(e, vf, rnd, scnt);
            v = _mm256_packus_epi32(v, v);
            v = _mm256_packus_epi16(v, v);
            v = _mm256_permutevar8x32_epi32(v, perm);
            _mm_storel_epi64((__m128i *)(o + i), _mm256_castsi256_si128(v));
        }
        for (; i < n; i++) {
            const uint32_t e = i < CAP ? buf[i] : igq__smx_exp(p, (uint32_t)mx - (uint32_t)xr[i]);
            o[i]             = (uint8_t)igq__smx_norm(e, f, s);
        }
    }
}

void igq_i32_softmax_q20__avx2(const igq_softmax_params *p, int64_t rows, int64_t n,
                               const int32_t *x, int64_t ldx, int32_t *out, int64_t ldo)
{
    if (n <= 0 || rows <= 0) return;
    const smx_consts c    = smx_init(p);
    const int32_t    s    = p->s_q20;
    const __m256i    rnd  = _mm256_set1_epi64x((int64_t)1 << (s - 1));
    const __m128i    scnt = _mm_cvtsi32_si128(s);
    int64_t          r, i;
    for (r = 0; r < rows; r++) {
        const int32_t *xr   = x + r * ldx;
        int32_t       *o    = out + r * ldo;
        const int32_t  mx   = row_max(n, xr);
        const __m256i  vmax = _mm256_set1_epi32(mx);
        __m256i        vsum = _mm256_setzero_si256(), vf;
        uint64_t       sum;
        uint32_t       f;
        for (i = 0; i + 8 <= n; i += 8)
            _mm256_storeu_si256((__m256i *)(o + i),
                                smx_exp8(p, &c, vmax, _mm256_loadu_si256((const __m256i *)(xr + i)), &vsum));
        sum = (uint64_t)nl_hsum64(vsum);
        for (; i < n; i++) {
            const uint32_t e = igq__smx_exp(p, (uint32_t)mx - (uint32_t)xr[i]);
            o[i]             = (int32_t)e;
            sum += e;
        }
        f  = igq__smx_factor(sum, 1u << IGQ_SMX_Q20_BITS, s);
        vf = _mm256_set1_epi64x(f);
        for (i = 0; i + 8 <= n; i += 8)
            _mm256_storeu_si256((__m256i *)(o + i),
                                smx_norm8(_mm256_loadu_si256((const __m256i *)(o + i)), vf, rnd, scnt));
        for (; i < n; i++) o[i] = (int32_t)igq__smx_norm((uint32_t)o[i], f, s);
    }
}

#endif
