/* Width mapping for AVX-512 F/BW/VL: 16 float lanes (v_f32), 16 int32 / 8 int64 lanes
 * (v_i32); masks are k registers and tails are masked loads / stores (no access past the
 * arrays). The names and conventions of simd_avx2.h; vpsravq is the floor shift of
 * igq__asr64, so the 64-bit rounding shifts need no bias. Included only from
 * lib/kernels/x86_avx512 files; static inline / macros only. */
#ifndef IGQ_KERNELS_SIMD_AVX512_H
#define IGQ_KERNELS_SIMD_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#define IGQ_SIMD_INLINE static inline __attribute__((always_inline))
#define VF_WIDTH        16 /* float and int32 lanes */
#define VL_WIDTH        8  /* int64 lanes */
#define IGQ_SIMD_MASKED_TAILS 1 /* integer kernels take their tails as one masked vector */

typedef __m512    v_f32;
typedef __mmask16 v_fmask;
typedef __m512i   v_i32;
typedef __mmask16 v_imask;
typedef __m128i   v_cnt;

#define IGQ_X86(op)     _mm512_##op
#define IGQ_X86_SI(op)  _mm512_##op##_si512
#define IGQ_X86_CASTSI  _mm512_castps_si512
#define IGQ_X86_CASTPS  _mm512_castsi512_ps
#define IGQ_X86_SET1_64 _mm512_set1_epi64
#define IGQ_X86_CMPPS   _mm512_cmp_ps_mask
#include "simd_x86.h"

/* ---- float ---- */
IGQ_SIMD_INLINE v_imask vi_tail_mask(int64_t c) { return (__mmask16)((1u << c) - 1u); }
IGQ_SIMD_INLINE v_fmask vf_tail_mask(int64_t c) { return vi_tail_mask(c); }
IGQ_SIMD_INLINE v_f32   vf_load_tail(const float *p, int64_t c)
{
    return _mm512_maskz_loadu_ps(vi_tail_mask(c), p);
}
IGQ_SIMD_INLINE void vf_store_tail(float *p, int64_t c, v_f32 v)
{
    _mm512_mask_storeu_ps(p, vi_tail_mask(c), v);
}
IGQ_SIMD_INLINE v_f32   vf_abs(v_f32 a) { return _mm512_abs_ps(a); }
IGQ_SIMD_INLINE v_f32   vf_select(v_fmask m, v_f32 a, v_f32 b) { return _mm512_mask_blend_ps(m, b, a); }
IGQ_SIMD_INLINE v_f32   vf_keep(v_fmask m, v_f32 a) { return _mm512_maskz_mov_ps(m, a); }
/* lane j + lane j + 8, then j + 4, j + 2, j + 1 */
IGQ_SIMD_INLINE float vf_hsum(v_f32 v)
{
    const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v),
                                    _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}
IGQ_SIMD_INLINE float vf_hmax(v_f32 v) { return _mm512_reduce_max_ps(v); }

/* ---- int32 lanes ---- */
IGQ_SIMD_INLINE v_i32 vi_load_tail(const int32_t *p, int64_t c)
{
    return _mm512_maskz_loadu_epi32(vi_tail_mask(c), p);
}
IGQ_SIMD_INLINE void vi_store_tail(int32_t *p, int64_t c, v_i32 v)
{
    _mm512_mask_storeu_epi32(p, vi_tail_mask(c), v);
}
IGQ_SIMD_INLINE v_imask vi_gt(v_i32 a, v_i32 b) { return _mm512_cmpgt_epi32_mask(a, b); }
IGQ_SIMD_INLINE v_i32   vi_select(v_imask m, v_i32 a, v_i32 b) { return _mm512_mask_blend_epi32(m, b, a); }
IGQ_SIMD_INLINE v_i32   vi_keep(v_imask m, v_i32 a) { return _mm512_maskz_mov_epi32(m, a); }
IGQ_SIMD_INLINE v_i32   vi_gather(const int32_t *base, v_i32 idx)
{
    return _mm512_i32gather_epi32(idx, (const void *)base, 4);
}
/* the 4 bytes at base + idx per lane (unaligned), and the low byte of each lane stored */
IGQ_SIMD_INLINE v_i32 vi_gather_u8(const uint8_t *base, v_i32 idx)
{
    return _mm512_i32gather_epi32(idx, (const void *)base, 1);
}
IGQ_SIMD_INLINE void vi_store_low_u8(uint8_t *p, v_i32 v)
{
    _mm_storeu_si128((__m128i *)p, _mm512_cvtepi32_epi8(v));
}
IGQ_SIMD_INLINE int32_t vi_hmin(v_i32 v) { return _mm512_reduce_min_epi32(v); }
IGQ_SIMD_INLINE int32_t vi_hmax(v_i32 v) { return _mm512_reduce_max_epi32(v); }

/* ---- int64 lanes ---- */
IGQ_SIMD_INLINE v_i32 vl_load_i32(const int32_t *p)
{
    return _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)p));
}
IGQ_SIMD_INLINE v_i32 vl_lo(v_i32 a) { return _mm512_cvtepi32_epi64(_mm512_castsi512_si256(a)); }
IGQ_SIMD_INLINE v_i32 vl_hi(v_i32 a) { return _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(a, 1)); }
IGQ_SIMD_INLINE v_i32 vl_pack(v_i32 a, v_i32 b)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(a)),
                              _mm512_cvtepi64_epi32(b), 1);
}
IGQ_SIMD_INLINE void vl_store_i32x2(int32_t *p, v_i32 a, v_i32 b)
{
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtepi64_epi32(a));
    _mm256_storeu_si256((__m256i *)(p + 8), _mm512_cvtepi64_epi32(b));
}
IGQ_SIMD_INLINE void vl_store_u8x2(uint8_t *p, v_i32 a, v_i32 b)
{
    _mm_storel_epi64((__m128i *)p, _mm512_cvtepi64_epi8(a));
    _mm_storel_epi64((__m128i *)(p + 8), _mm512_cvtepi64_epi8(b));
}
IGQ_SIMD_INLINE v_i32   vl_min(v_i32 a, v_i32 b) { return _mm512_min_epi64(a, b); }
IGQ_SIMD_INLINE v_i32   vl_max(v_i32 a, v_i32 b) { return _mm512_max_epi64(a, b); }
IGQ_SIMD_INLINE int64_t vl_hsum(v_i32 v) { return _mm512_reduce_add_epi64(v); }
IGQ_SIMD_INLINE v_i32   vl_rshift_v(v_i32 v, v_i32 s)
{
    const __m512i one = _mm512_set1_epi64(1);
    const __m512i rnd = _mm512_sllv_epi64(one, _mm512_sub_epi64(s, one));
    return _mm512_srav_epi64(_mm512_add_epi64(v, rnd), s);
}
typedef struct vl_shift {
    __m128i cnt;
    __m512i rnd; /* 2^(s-1), 0 for s = 0 */
} vl_shift;
IGQ_SIMD_INLINE vl_shift vl_shift_make(int32_t s)
{
    vl_shift k;
    k.cnt = _mm_cvtsi32_si128(s);
    k.rnd = _mm512_set1_epi64(s > 0 ? (int64_t)1 << (s - 1) : 0);
    return k;
}
IGQ_SIMD_INLINE v_i32 vl_rshift(v_i32 v, const vl_shift *k)
{
    return _mm512_sra_epi64(_mm512_add_epi64(v, k->rnd), k->cnt);
}

#endif
