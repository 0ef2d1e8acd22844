/* The AVX-512 VNNI instance of the integer GEMM driver (qgemm_driver.h), shared by the plain
 * (qs8_gemm_avx512vnni.c) and the grouped (qs8_ggemm_avx512vnni.c) GEMM: zmm operations and
 * the staging step. Private header, macros and static inline only; included from files built
 * with the AVX-512 flags.
 *
 * Tile: 6 rows x 64 columns (4 zmm, a whole panel) x KR = 4: 24 zmm accumulators, 4 weight
 * vectors, 1 broadcast. Per k quad: 4 loads of staged weights, 6 vpbroadcastd of A (load-port
 * only), 24 vpdpbusd (u8 A x s8 W, 4 products summed into each int32 lane, no saturation).
 *
 * Staging step (one quad, k = 4q .. 4q + 3; KC = 384, 96 quads x 256 B = 24 KiB): 16c4 order,
 * columns 16v .. 16v + 15 at byte 64 v, lane d = the 4 bytes of column 16v + d. The 4 packed
 * rows, gathered through kperm (the per-image IGQ channel order) or consecutive, become 4 zmm
 * by unpack{lo,hi}_epi8 + unpack{lo,hi}_epi16 (the pos() swizzle of the layout makes these
 * in-lane interleaves yield 16 consecutive columns per register). qs4 rows (32 B) are unpacked
 * to 16 w in the same step: broadcast to both halves, shift the low half's words left by 4,
 * AND 0xF0; the int32 sums are shifted right by 4 at the end (exact: they are multiples of 16;
 * |16 w| <= 128 so the int32 range is that of qs8). Staging takes ~10 cycles per 4 rows
 * (8 shuffles on port 5, branch-free; measured the same with and without kperm, as gathered
 * rows are whole cache lines) and is reused by all ceil(M / 6) row tiles (6 x 4 x 4 = 96
 * vpdpbusd, 12 cycles, per 4 rows): ~2-3 % of the time at M = 197, ~8 % at M = 50. So qs4
 * runs at the qs8 rate while reading half the weight bytes. */
#ifndef IGQ_KERNELS_X86_AVX512_QS8_AVX512_INL_H
#define IGQ_KERNELS_X86_AVX512_QS8_AVX512_INL_H

#include <immintrin.h>
#include <stdint.h>

#define QGEMM_INLINE static inline __attribute__((always_inline))

#define QGEMM_KR 4
#define QGEMM_KC 384
#define QGEMM_NV 4
#define QGEMM_QS4_X16 1
#define QV __m512i
#define QV_BYTES 64
#define QV_LANES 16
#define QV_MASK __mmask16
#define QV_ZERO() _mm512_setzero_si512()
#define QV_LOAD(p) _mm512_load_si512((const void *)(p))
#define QV_LOADU(p) _mm512_loadu_si512((const void *)(p))
#define QV_STOREU(p, x) _mm512_storeu_si512((void *)(p), (x))
#define QV_BCAST(x) _mm512_set1_epi32(x)
#define QV_DOT(acc, a, b) _mm512_dpbusd_epi32((acc), (a), (b))
#define QV_ADD(x, y) _mm512_add_epi32((x), (y))
#define QV_SRA4(x) _mm512_srai_epi32((x), 4)
#define QV_MASK_FIRST(n) ((__mmask16)((n) >= 16 ? 0xffffu : (1u << (n)) - 1u))
#define QV_LOADU_MASK(p, m) _mm512_maskz_loadu_epi32((m), (p))
#define QV_STOREU_MASK(p, m, x) _mm512_mask_storeu_epi32((p), (m), (x))

/* A packed row as 64 int8: qs8 as stored, qs4 as 16 w. */
QGEMM_INLINE __m512i load_row(const int qs4, const uint8_t *row)
{
    if (!qs4) return _mm512_loadu_si512((const void *)row);
    {
        const __m512i x = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)row));
        const __m512i y = _mm512_mask_slli_epi16(x, (__mmask32)0xffff, x, 4);
        return _mm512_and_si512(y, _mm512_set1_epi8((char)0xf0));
    }
}

/* Rows p0 .. p(nrows - 1) of a quad (later rows zeros) -> 4 zmm of 16 columns x 4 k at dst. */
QGEMM_INLINE void qgemm_stage_step(const int qs4, int nrows, const uint8_t *p0,
                                   const uint8_t *p1, const uint8_t *p2, const uint8_t *p3,
                                   uint8_t *dst)
{
    const __m512i z  = _mm512_setzero_si512();
    const __m512i r0 = load_row(qs4, p0);
    const __m512i r1 = nrows > 1 ? load_row(qs4, p1) : z;
    const __m512i r2 = nrows > 2 ? load_row(qs4, p2) : z;
    const __m512i r3 = nrows > 3 ? load_row(qs4, p3) : z;
    const __m512i t0 = _mm512_unpacklo_epi8(r0, r1), t1 = _mm512_unpackhi_epi8(r0, r1);
    const __m512i t2 = _mm512_unpacklo_epi8(r2, r3), t3 = _mm512_unpackhi_epi8(r2, r3);
    _mm512_store_si512((void *)(dst + 0), _mm512_unpacklo_epi16(t0, t2));
    _mm512_store_si512((void *)(dst + 64), _mm512_unpackhi_epi16(t0, t2));
    _mm512_store_si512((void *)(dst + 128), _mm512_unpacklo_epi16(t1, t3));
    _mm512_store_si512((void *)(dst + 192), _mm512_unpackhi_epi16(t1, t3));
}

#include "../qgemm_driver.h"

#endif
