/* Group column sums of packed integer weights (the zero-point correction of IGQ's grouped
 * linear layers, lib/model/qexec_linear.c): an exec helper (kernels.h IGQ_EXEC_HELPERS)
 * compiled once per level like exec_inl.h. The plain C loop is the reference; where the
 * translation unit is compiled for AVX2 or AVX-512BW the row adds use that level's vectors
 * (written out: gcc -O3 jams two rows of the plain loop into a scalar loop). Integer sums only,
 * so every level gives the same bits. Private header, static inline only. */
#ifndef IGQ_KERNELS_QS8_GSUM_INL_H
#define IGQ_KERNELS_QS8_GSUM_INL_H

#include <stdint.h>
#include <string.h>

#if defined(__AVX2__)
#include <immintrin.h>
/* rows gathered through kperm defeat the hardware prefetcher: fetch the row this far ahead */
#define QS8_GSUM_AHEAD 12
#define QS8_GSUM_PREFETCH(p) _mm_prefetch((const char *)(const void *)(p), _MM_HINT_T0)
#endif

#include "qs8_layout.h"

/* acc[p] += the sum over rows[0 .. n) of packed byte p (qs8) or nibble p (qs4: p < 32 the low
 * nibble of byte p, else the high nibble of byte p - 32), for p < 64: the panel's columns in
 * pos() order. rows: kperm indices into panel (one 64- or 32-byte row each). */
static inline void qs8_gsum_rows(int32_t bits, const uint8_t *panel, const int32_t *rows, int64_t n,
                                 int32_t *acc)
{
    int64_t j;
#if defined(__AVX512BW__)
    /* int16 sums of at most 256 rows (|w| <= 128, qs4 |w| <= 8), then widened */
    const int64_t chunk = bits == 4 ? 4096 : 256;
    __m512i       a32[4];
    int           v;
    for (v = 0; v < 4; v++) a32[v] = _mm512_loadu_si512((const void *)(acc + 16 * v));
    for (j = 0; j < n;) {
        const int64_t e  = n - j < chunk ? n : j + chunk;
        __m512i       s0 = _mm512_setzero_si512(), s1 = s0;
        if (bits == 4) {
            const __m512i m15 = _mm512_set1_epi16(15), x8 = _mm512_set1_epi16(8);
            for (; j < e; j++) {
                if (j + QS8_GSUM_AHEAD < n)
                    QS8_GSUM_PREFETCH(panel + (int64_t)rows[j + QS8_GSUM_AHEAD] * 32);
                const __m512i b = _mm512_cvtepu8_epi16(_mm256_loadu_si256(
                    (const __m256i *)(const void *)(panel + (int64_t)rows[j] * 32)));
                const __m512i lo =
                    _mm512_sub_epi16(_mm512_xor_si512(_mm512_and_si512(b, m15), x8), x8);
                const __m512i hi =
                    _mm512_sub_epi16(_mm512_xor_si512(_mm512_srli_epi16(b, 4), x8), x8);
                s0 = _mm512_add_epi16(s0, lo);
                s1 = _mm512_add_epi16(s1, hi);
            }
        } else {
            for (; j < e; j++) {
                const __m512i b = _mm512_loadu_si512((const void *)(panel + (int64_t)rows[j] * 64));
                if (j + QS8_GSUM_AHEAD < n)
                    QS8_GSUM_PREFETCH(panel + (int64_t)rows[j + QS8_GSUM_AHEAD] * 64);
                s0 = _mm512_add_epi16(s0, _mm512_cvtepi8_epi16(_mm512_castsi512_si256(b)));
                s1 = _mm512_add_epi16(s1, _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(b, 1)));
            }
        }
        a32[0] = _mm512_add_epi32(a32[0], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(s0)));
        a32[1] = _mm512_add_epi32(a32[1], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(s0, 1)));
        a32[2] = _mm512_add_epi32(a32[2], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(s1)));
        a32[3] = _mm512_add_epi32(a32[3], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(s1, 1)));
    }
    for (v = 0; v < 4; v++) _mm512_storeu_si512((void *)(acc + 16 * v), a32[v]);
#elif defined(__AVX2__)
    const int64_t chunk = bits == 4 ? 4096 : 256;
    __m256i       a32[8];
    int           v;
    for (v = 0; v < 8; v++)
        a32[v] = _mm256_loadu_si256((const __m256i *)(const void *)(acc + 8 * v));
    for (j = 0; j < n;) {
        const int64_t e = n - j < chunk ? n : j + chunk;
        __m256i       s[4];
        for (v = 0; v < 4; v++) s[v] = _mm256_setzero_si256();
        for (; j < e; j++) {
            const uint8_t *p = panel + (int64_t)rows[j] * (bits == 4 ? 32 : 64);
            if (j + QS8_GSUM_AHEAD < n)
                QS8_GSUM_PREFETCH(panel +
                                  (int64_t)rows[j + QS8_GSUM_AHEAD] * (bits == 4 ? 32 : 64));
            if (bits == 4) {
                const __m256i m15 = _mm256_set1_epi16(15), x8 = _mm256_set1_epi16(8);
                const __m256i b0 =
                    _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p));
                const __m256i b1 =
                    _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
                s[0] = _mm256_add_epi16(
                    s[0], _mm256_sub_epi16(_mm256_xor_si256(_mm256_and_si256(b0, m15), x8), x8));
                s[1] = _mm256_add_epi16(
                    s[1], _mm256_sub_epi16(_mm256_xor_si256(_mm256_and_si256(b1, m15), x8), x8));
                s[2] = _mm256_add_epi16(
                    s[2], _mm256_sub_epi16(_mm256_xor_si256(_mm256_srli_epi16(b0, 4), x8), x8));
                s[3] = _mm256_add_epi16(
                    s[3], _mm256_sub_epi16(_mm256_xor_si256(_mm256_srli_epi16(b1, 4), x8), x8));
            } else {
                for (v = 0; v < 4; v++)
                    s[v] = _mm256_add_epi16(s[v], _mm256_cvtepi8_epi16(_mm_loadu_si128((
                                                      const __m128i *)(const void *)(p + 16 * v))));
            }
        }
        for (v = 0; v < 4; v++) {
            a32[2 * v] =
                _mm256_add_epi32(a32[2 * v], _mm256_cvtepi16_epi32(_mm256_castsi256_si128(s[v])));
            a32[2 * v + 1] = _mm256_add_epi32(
                a32[2 * v + 1], _mm256_cvtepi16_epi32(_mm256_extracti128_si256(s[v], 1)));
        }
    }
    for (v = 0; v < 8; v++) _mm256_storeu_si256((__m256i *)(void *)(acc + 8 * v), a32[v]);
#else
    int c;
    for (j = 0; j < n; j++) {
        if (bits == 4) {
            const uint8_t *row = panel + (int64_t)rows[j] * 32;
            for (c = 0; c < 32; c++) {
                acc[c] += (int32_t)((row[c] & 15u) ^ 8u) - 8;
                acc[c + 32] += (int32_t)((row[c] >> 4) ^ 8u) - 8;
            }
        } else {
            const int8_t *row = (const int8_t *)(panel + (int64_t)rows[j] * 64);
            for (c = 0; c < 64; c++) acc[c] += row[c];
        }
    }
#endif
}

/* For g < G and n < N:
 *   S[g][n] = sum_{off[g] <= j < off[g+1]} Wp[n][kperm[j]]
 * Wp: qs8 (bits 8) or qs4 (bits 4) weights packed with K rows per panel (qs8_layout.h), N
 * columns from the first panel at `packed`; kperm[j] in [0, K) for j in [0, off[G]); rows of S
 * ld apart. Each panel's rows are added straight from the packed bytes (one 64- or 32-byte row
 * per k, in pos() order; the columns are put back in order at the store): a pass over the
 * weights without the staging and tiles of a GEMM. Exact while off[G] <= 2^24. */
static inline void exec_qs8_gsum(int64_t N, int64_t K, int32_t bits, const void *packed,
                                 const int32_t *kperm, int32_t G, const int32_t *off, int32_t *S,
                                 int64_t ld)
{
    const int64_t rb = igq__qs8_row_bytes(bits);
    int64_t       nb;
    int32_t       g;
    for (nb = 0; nb * IGQ_QS8_NR < N; nb++) {
        const uint8_t *panel = (const uint8_t *)packed + nb * K * rb;
        const int64_t  nn    = N - nb * IGQ_QS8_NR < IGQ_QS8_NR ? N - nb * IGQ_QS8_NR : IGQ_QS8_NR;
        for (g = 0; g < G; g++) {
            int32_t acc[IGQ_QS8_NR];
            int     c;
            memset(acc, 0, sizeof acc);
            if (off[g + 1] > off[g])
                qs8_gsum_rows(bits, panel, kperm + off[g], (int64_t)off[g + 1] - off[g], acc);
            for (c = 0; c < nn; c++) S[g * ld + nb * IGQ_QS8_NR + c] = acc[igq__qs8_pos(c)];
        }
    }
}

#endif
