/* Integer softmax, AVX-512 (F/BW/VL; built with the x86_avx512 flags, reached only through
 * the dispatch table). Semantics: igq__i32_softmax_{u8,q20}_ref (nonlin.h), bit-exact. The
 * passes of the AVX2 kernel on 16 int32 lanes: vpmaxsd; index arithmetic, two vpgatherdd
 * (the index is clamped into the tables for every lane, so masked-off lanes gather valid
 * entries and are zeroed afterwards), vpmuludq on even / odd lanes, 64-bit sums; then the
 * normalization multiply. Tails are masked. e is kept in the q20 output, or (u8) in a 4 KiB
 * stack buffer for the first 1024 elements and recomputed after that. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "../nonlin_inl.h"
#include "nonlin_avx512.h"

#define CAP 1024

typedef struct smx_consts {
    __m512i rbit, idxmax, lomask, r29;
    __m128i k0, rsh;
} smx_consts;

NL_INLINE smx_consts smx_init(const igq_softmax_params *p)
{
    smx_consts c;
    c.rbit   = _mm512_set1_epi32((int32_t)p->rbit);
    c.rsh    = _mm_cvtsi32_si128((int)p->rsh);
    c.idxmax = _mm512_set1_epi32(IGQ_SMX_IDX_MAX);
    c.lomask = _mm512_set1_epi32((1 << IGQ_SMX_LBITS) - 1);
    c.r29    = _mm512_set1_epi64((int64_t)1 << (IGQ_SMX_G - 1));
    c.k0     = _mm_cvtsi32_si128((int)p->k0);
    return c;
}

/* e of 16 logits (lanes outside m are 0); adds them to *sum (8 x 64-bit). */
NL_INLINE __m512i smx_exp16(const igq_softmax_params *p, const smx_consts *c, __m512i vmax,
                            __m512i x, __mmask16 m, __m512i *sum)
{
    __m512i d = _mm512_sub_epi32(vmax, x);
    __m512i th, tl, pe, po, e;
    d  = _mm512_add_epi32(_mm512_srl_epi32(d, c->k0), _mm512_and_si512(_mm512_srl_epi32(d, c->rsh), c->rbit));
    d  = _mm512_min_epu32(d, c->idxmax);
    th = _mm512_i32gather_epi32(_mm512_srli_epi32(d, IGQ_SMX_LBITS), (const void *)p->t_hi, 4);
    tl = _mm512_i32gather_epi32(_mm512_and_si512(d, c->lomask), (const void *)p->t_lo, 4);
    pe = _mm512_mul_epu32(th, tl);
    po = _mm512_mul_epu32(_mm512_srli_epi64(th, 32), _mm512_srli_epi64(tl, 32));
    pe = _mm512_srli_epi64(_mm512_add_epi64(pe, c->r29), IGQ_SMX_G);
    po = _mm512_srli_epi64(_mm512_add_epi64(po, c->r29), IGQ_SMX_G);
    e  = _mm512_maskz_mov_epi32(m, _mm512_or_si512(pe, _mm512_slli_epi64(po, 32)));
    *sum = _mm512_add_epi64(*sum, _mm512_add_epi64(_mm512_and_si512(e, _mm512_set1_epi64(0xffffffff)),
                                                   _mm512_srli_epi64(e, 32)));
    return e;
}

NL_INLINE __m512i smx_norm16(__m512i e, __m512i factor, __m512i rnd, __m128i s)
{
    __m512i pe = _mm512_mul_epu32(e, factor);
    __m512i po = _mm512_mul_epu32(_mm512_srli_epi64(e, 32), factor);
    pe         = _mm512_srl_epi64(_mm512_add_epi64(pe, rnd), s);
    po         = _mm512_srl_epi64(_mm512_add_epi64(po, rnd), s);
    return _mm512_or_si512(pe, _mm512_slli_epi64(po, 32));
}

static int32_t row_max(int64_t n, const int32_t *x)
{
    __m512i m = _mm512_set1_epi32(INT32_MIN);
    int64_t i;
    for (i = 0; i < n; i += 16) {
        const __mmask16 k = nl_mask16(n - i);
        m = _mm512_mask_max_epi32(m, k, m, _mm512_maskz_loadu_epi32(k, x + i));
    }
    return _mm512_reduce_max_epi32(m);
}

void igq_i32_softmax_u8__avx512(const igq_softmax_params *p, int64_t rows, int64_t n,
                                const int32_t *x, int64_t ldx, uint8_t *out, int64_t ldo)
{
    if (n <= 0 || rows <= 0) return;
    const smx_consts c    = smx_init(p);
    const int32_t    s    = p->s_u8;
    const __m512i    rnd  = _mm512_set1_epi64((int64_t)1 << (s - 1));
    const __m128i    scnt = _mm_cvtsi32_si128(s);
    uint32_t         buf[CAP];
    int64_t          r, i;
    for (r = 0; r < rows; r++) {
        const int32_t *xr   = x + r * ldx;
        uint8_t       *o    = out + r * ldo;
        const __m512i  vmax = _mm512_set1_epi32(row_max(n, xr));
        __m512i        vsum = _mm512_setzero_si512(), vf;
        for (i = 0; i < n; i += 16) {
            const __mmask16 m = nl_mask16(n - i);
            const __m512i   e = smx_exp16(p, &c, vmax, _mm512_maskz_loadu_epi32(m, xr + i), m, &vsum);
            if (i < CAP) _mm512_storeu_si512((void *)(buf + i), e);
        }
        vf = _mm512_set1_epi64(igq__smx_factor((uint64_t)_mm512_reduce_add_epi64(vsum), p->q_u8, s));
        for (i = 0; i < n; i += 16) {
            const __mmask16 m = nl_mask16(n - i);
            const __m512i   e = i < CAP ? _mm512_loadu_si512((const void *)(buf + i))
                                        : smx_exp16(p, &c, vmax, _mm512_maskz_loadu_epi32(m, xr + i), m, &vsum);
            _mm_mask_storeu_epi8(o + i, m, _mm512_cvtepi32_epi8(smx_norm16(e, vf, rnd, scnt)));
        }
    }
}

void igq_i32_softmax_q20__avx512(const igq_softmax_params *p, int64_t rows, int64_t n,
                                 const int32_t *x, int64_t ldx, int32_t *out, int64_t ldo)
{
    if (n <= 0 || rows <= 0) return;
    const smx_consts c    = smx_init(p);
    const int32_t    s    = p->s_q20;
    const __m512i    rnd  = _mm512_set1_epi64((int64_t)1 << (s - 1));
    const __m128i    scnt = _mm_cvtsi32_si128(s);
    int64_t          r, i;
    for (r = 0; r < rows; r++) {
        const int32_t *xr   = x + r * ldx;
        int32_t       *o    = out + r * ldo;
        const __m512i  vmax = _mm512_set1_epi32(row_max(n, xr));
        __m512i        vsum = _mm512_setzero_si512(), vf;
        for (i = 0; i < n; i += 16) {
            const __mmask16 m = nl_mask16(n - i);
            _mm512_mask_storeu_epi32(o + i, m,
                                     smx_exp16(p, &c, vmax, _mm512_maskz_loadu_epi32(m, xr + i), m, &vsum));
        }
        vf = _mm512_set1_epi64(igq__smx_factor((uint64_t)_mm512_reduce_add_epi64(vsum),
                                               1u << IGQ_SMX_Q20_BITS, s));
        for (i = 0; i < n; i += 16) {
            const __mmask16 m = nl_mask16(n - i);
            _mm512_mask_storeu_epi32(o + i, m,
                                     smx_norm16(_mm512_maskz_loadu_epi32(m, o + i), vf, rnd, scnt));
        }
    }
}

#endif
