/* Weight staging and A loads shared by the AVX-512 VNNI integer GEMMs (qs8_gemm_avx512vnni.c,
 * qs8_ggemm_avx512vnni.c). Static inline only (STYLE 2.6); included from files built with the
 * AVX-512 flags. */
#ifndef IGQ_KERNELS_X86_AVX512_QS8_AVX512_INL_H
#define IGQ_KERNELS_X86_AVX512_QS8_AVX512_INL_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE int32_t ld32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The first t (1..3) bytes at p, zero-extended: the last partial quad of A. */
ALWAYS_INLINE int32_t ld_tail(const uint8_t *p, int t)
{
    uint32_t v = p[0];
    if (t > 1) v |= (uint32_t)p[1] << 8;
    if (t > 2) v |= (uint32_t)p[2] << 16;
    return (int32_t)v;
}

/* A packed row as 64 int8: qs8 as stored, qs4 as 16 w. */
ALWAYS_INLINE __m512i load_row(const int qs4, const uint8_t *row)
{
    if (!qs4) return _mm512_loadu_si512((const void *)row);
    {
        const __m512i x = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)row));
        const __m512i y = _mm512_mask_slli_epi16(x, (__mmask32)0xffff, x, 4);
        return _mm512_and_si512(y, _mm512_set1_epi8((char)0xf0));
    }
}

/* Interleaves 4 rows (k = 4q .. 4q + 3) into 16c4: 4 zmm of 16 columns x 4 k at dst. */
ALWAYS_INLINE void interleave4(__m512i r0, __m512i r1, __m512i r2, __m512i r3, uint8_t *dst)
{
    const __m512i t0 = _mm512_unpacklo_epi8(r0, r1), t1 = _mm512_unpackhi_epi8(r0, r1);
    const __m512i t2 = _mm512_unpacklo_epi8(r2, r3), t3 = _mm512_unpackhi_epi8(r2, r3);
    _mm512_store_si512((void *)(dst + 0), _mm512_unpacklo_epi16(t0, t2));
    _mm512_store_si512((void *)(dst + 64), _mm512_unpackhi_epi16(t0, t2));
    _mm512_store_si512((void *)(dst + 128), _mm512_unpacklo_epi16(t1, t3));
    _mm512_store_si512((void *)(dst + 192), _mm512_unpackhi_epi16(t1, t3));
}

/* Stages A columns kb .. kb + kc - 1 of a panel: quad q (A columns kb + 4q .. kb + 4q + 3) of
 * columns 16v .. 16v + 15 at dst + 256 q + 64 v, lane d = 4 bytes (k = 4q .. 4q + 3) of column
 * 16v + d. Rows past kc are zeros. perm: kperm != NULL (compile-time). Whole quads run
 * branch-free with the 4 rows of two quads ahead prefetched (rows gathered through kperm
 * defeat the hardware prefetcher). */
ALWAYS_INLINE void stage(const int qs4, const int perm, const uint8_t *panel,
                         const int32_t *kperm, int64_t kb, int64_t kc, uint8_t *dst)
{
    const int64_t  rb = qs4 ? 32 : 64;
    const int64_t  nq = kc / 4;
    const int32_t *kp = perm ? kperm + kb : NULL;
    int64_t        q, i;
#define ROW(k) (panel + (perm ? (int64_t)kp[k] : kb + (k)) * rb)
    for (q = 0; q < nq; q++, dst += 256) {
        const int64_t k = 4 * q;
        if (q + 2 < nq) {
            _mm_prefetch((const char *)ROW(k + 8), _MM_HINT_T0);
            _mm_prefetch((const char *)ROW(k + 9), _MM_HINT_T0);
            _mm_prefetch((const char *)ROW(k + 10), _MM_HINT_T0);
            _mm_prefetch((const char *)ROW(k + 11), _MM_HINT_T0);
        }
        interleave4(load_row(qs4, ROW(k)), load_row(qs4, ROW(k + 1)), load_row(qs4, ROW(k + 2)),
                    load_row(qs4, ROW(k + 3)), dst);
    }
    if (kc % 4) {
        __m512i r[3];
        for (i = 0; i < 3; i++)
            r[i] = 4 * nq + i < kc ? load_row(qs4, ROW(4 * nq + i)) : _mm512_setzero_si512();
        interleave4(r[0], r[1], r[2], _mm512_setzero_si512(), dst);
    }
#undef ROW
}

#endif
