/* Width mapping for AVX2 + FMA: 8 float lanes (v_f32), 8 int32 / 4 int64 lanes (v_i32).
 * The generic kernels of lib/kernels/simd/ (*_impl.h) are written against the names below;
 * simd_avx512.h and simd_scalar.h define the same names for 16 and 1 lanes. Included only
 * from lib/kernels/x86_avx2 files (built with -mavx2 -mfma); static inline / macros only.
 *
 * Conventions shared by every mapping:
 *   vf_min(a, b) / vf_max(a, b) are minps / maxps: b when either is NaN (C: a < b ? a : b);
 *   masks (v_fmask, v_imask) come from comparisons or from *_tail_mask(c) (lanes < c set);
 *   *_tail(p, c) loads read lanes [0, c) only (0 < c < width) and give 0 in the others;
 *   *_tail stores write lanes [0, c) only;
 *   vl_* operate on the same register as 64-bit lanes (half as many);
 *   vl_rshift_* compute floor((v + 2^(s-1)) / 2^s) of signed 64-bit lanes with |v| < 2^62
 *   (2^-1 read as 0 for s = 0), exactly as igq__asr64 in nonlin_inl.h. AVX2 has no 64-bit
 *   arithmetic shift: v + 2^62 is in [0, 2^63 + 2^62) as an unsigned value, so a logical
 *   shift of it is a floor division, and subtracting 2^62 >> s is exact. */
#ifndef IGQ_KERNELS_SIMD_AVX2_H
#define IGQ_KERNELS_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#define IGQ_SIMD_INLINE static inline __attribute__((always_inline))
#define VF_WIDTH        8 /* float and int32 lanes */
#define VL_WIDTH        4 /* int64 lanes */
/* Tails of the integer kernels in scalar code: an AVX2 masked load or store (vpmaskmovd) and
 * a full-width gather cost more than the few elements they would cover. */
#define IGQ_SIMD_MASKED_TAILS 0

typedef __m256  v_f32;
typedef __m256  v_fmask;
typedef __m256i v_i32;
typedef __m256i v_imask;
typedef __m128i v_cnt; /* a shift count for every lane */

#define IGQ_X86(op)     _mm256_##op
#define IGQ_X86_SI(op)  _mm256_##op##_si256
#define IGQ_X86_CASTSI  _mm256_castps_si256
#define IGQ_X86_CASTPS  _mm256_castsi256_ps
#define IGQ_X86_SET1_64 _mm256_set1_epi64x
#define IGQ_X86_CMPPS   _mm256_cmp_ps
#include "simd_x86.h"

/* ---- float ---- */
IGQ_SIMD_INLINE v_imask vi_tail_mask(int64_t c)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
IGQ_SIMD_INLINE v_fmask vf_tail_mask(int64_t c) { return _mm256_castsi256_ps(vi_tail_mask(c)); }
IGQ_SIMD_INLINE v_f32 vf_load_tail(const float *p, int64_t c)
{
    return _mm256_maskload_ps(p, vi_tail_mask(c));
}
IGQ_SIMD_INLINE void vf_store_tail(float *p, int64_t c, v_f32 v)
{
    _mm256_maskstore_ps(p, vi_tail_mask(c), v);
}
IGQ_SIMD_INLINE v_f32 vf_abs(v_f32 a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
/* m ? a : b per lane */
IGQ_SIMD_INLINE v_f32 vf_select(v_fmask m, v_f32 a, v_f32 b) { return _mm256_blendv_ps(b, a, m); }
/* lanes of a where m is set, else 0 */
IGQ_SIMD_INLINE v_f32 vf_keep(v_fmask m, v_f32 a) { return _mm256_and_ps(m, a); }
/* Sum of the lanes by halving: lane j + lane j + 4, then j + 2, then j + 1. */
IGQ_SIMD_INLINE float vf_hsum(v_f32 v)
{
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}
IGQ_SIMD_INLINE float vf_hmax(v_f32 v)
{
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h        = _mm_max_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_max_ss(h, _mm_shuffle_ps(h, h, 1)));
}

/* ---- int32 lanes ---- */
IGQ_SIMD_INLINE v_i32 vi_load_tail(const int32_t *p, int64_t c)
{
    return _mm256_maskload_epi32(p, vi_tail_mask(c));
}
IGQ_SIMD_INLINE void vi_store_tail(int32_t *p, int64_t c, v_i32 v)
{
    _mm256_maskstore_epi32(p, vi_tail_mask(c), v);
}
IGQ_SIMD_INLINE v_imask vi_gt(v_i32 a, v_i32 b) { return _mm256_cmpgt_epi32(a, b); }
IGQ_SIMD_INLINE v_i32   vi_select(v_imask m, v_i32 a, v_i32 b) { return _mm256_blendv_epi8(b, a, m); }
IGQ_SIMD_INLINE v_i32   vi_keep(v_imask m, v_i32 a) { return _mm256_and_si256(m, a); }
/* base[idx] per lane (4-byte elements) */
IGQ_SIMD_INLINE v_i32 vi_gather(const int32_t *base, v_i32 idx)
{
    return _mm256_i32gather_epi32((const int *)base, idx, 4);
}
/* the 4 bytes at base + idx per lane (unaligned), and the low byte of each lane stored */
IGQ_SIMD_INLINE v_i32 vi_gather_u8(const uint8_t *base, v_i32 idx)
{
    return _mm256_i32gather_epi32((const int *)(const void *)base, idx, 1);
}
IGQ_SIMD_INLINE void vi_store_low_u8(uint8_t *p, v_i32 v)
{
    const __m256i b = _mm256_shuffle_epi8(
        v, _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8,
                            12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
    const __m256i w = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    _mm_storel_epi64((__m128i *)p, _mm256_castsi256_si128(w));
}
IGQ_SIMD_INLINE int32_t vi_hmin(v_i32 v)
{
    __m128i h = _mm_min_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h         = _mm_min_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    return _mm_cvtsi128_si32(_mm_min_epi32(h, _mm_shuffle_epi32(h, 0xb1)));
}
IGQ_SIMD_INLINE int32_t vi_hmax(v_i32 v)
{
    __m128i h = _mm_max_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h         = _mm_max_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    return _mm_cvtsi128_si32(_mm_max_epi32(h, _mm_shuffle_epi32(h, 0xb1)));
}

/* ---- int64 lanes ---- */
/* VL_WIDTH int32 at p, sign-extended */
IGQ_SIMD_INLINE v_i32 vl_load_i32(const int32_t *p)
{
    return _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)p));
}
/* the low / high half of the int32 lanes, sign-extended */
IGQ_SIMD_INLINE v_i32 vl_lo(v_i32 a) { return _mm256_cvtepi32_epi64(_mm256_castsi256_si128(a)); }
IGQ_SIMD_INLINE v_i32 vl_hi(v_i32 a) { return _mm256_cvtepi32_epi64(_mm256_extracti128_si256(a, 1)); }
/* int32 lanes from the low 32 bits of a's then b's 64-bit lanes */
IGQ_SIMD_INLINE v_i32 vl_pack(v_i32 a, v_i32 b)
{
    const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    return _mm256_inserti128_si256(_mm256_permutevar8x32_epi32(a, idx),
                                   _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(b, idx)), 1);
}
/* the low 32 bits of a's then b's 64-bit lanes stored as int32 / as bytes (values in [0, 255]) */
IGQ_SIMD_INLINE __m128i vl_pack_half(v_i32 a)
{
    return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(a, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
}
IGQ_SIMD_INLINE void vl_store_i32x2(int32_t *p, v_i32 a, v_i32 b)
{
    _mm_storeu_si128((__m128i *)p, vl_pack_half(a));
    _mm_storeu_si128((__m128i *)(p + 4), vl_pack_half(b));
}
IGQ_SIMD_INLINE void vl_store_u8x2(uint8_t *p, v_i32 a, v_i32 b)
{
    const __m128i w = _mm_packus_epi32(vl_pack_half(a), vl_pack_half(b));
    _mm_storel_epi64((__m128i *)p, _mm_packus_epi16(w, w));
}
IGQ_SIMD_INLINE v_i32 vl_min(v_i32 a, v_i32 b)
{
    return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(a, b));
}
IGQ_SIMD_INLINE v_i32 vl_max(v_i32 a, v_i32 b)
{
    return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(b, a));
}
IGQ_SIMD_INLINE int64_t vl_hsum(v_i32 v)
{
    const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
}
/* rounding shift by a per-lane count s in [0, 62] (s - 1 = -1 for s = 0: vpsllvq by >= 64
 * gives 0, the rounding term of s = 0) */
IGQ_SIMD_INLINE v_i32 vl_rshift_v(v_i32 v, v_i32 s)
{
    const __m256i one  = _mm256_set1_epi64x(1);
    const __m256i bias = _mm256_set1_epi64x((int64_t)1 << 62);
    const __m256i rnd  = _mm256_sllv_epi64(one, _mm256_sub_epi64(s, one));
    const __m256i u    = _mm256_add_epi64(_mm256_add_epi64(v, bias), rnd);
    return _mm256_sub_epi64(_mm256_srlv_epi64(u, s), _mm256_srlv_epi64(bias, s));
}
/* the same for one count s in [0, 62] of every lane, with its constants made once */
typedef struct vl_shift {
    __m128i cnt;
    __m256i rb, bs; /* 2^62 + 2^(s-1), 2^62 >> s */
} vl_shift;
IGQ_SIMD_INLINE vl_shift vl_shift_make(int32_t s)
{
    vl_shift k;
    k.cnt = _mm_cvtsi32_si128(s);
    k.rb  = _mm256_set1_epi64x(((int64_t)1 << 62) + (s > 0 ? (int64_t)1 << (s - 1) : 0));
    k.bs  = _mm256_set1_epi64x(((int64_t)1 << 62) >> s);
    return k;
}
IGQ_SIMD_INLINE v_i32 vl_rshift(v_i32 v, const vl_shift *k)
{
    return _mm256_sub_epi64(_mm256_srl_epi64(_mm256_add_epi64(v, k->rb), k->cnt), k->bs);
}

#endif
