/* Packed-weight layout of the integer GEMMs (qs8 / qs4 weights, u8 activations), shared by
 * every ISA level. Private header; included from ISA files, so static inline only.
 *
 * Logical weights: W[n][k], n < N output channels, k < K input channels, int8 (qs8) or int4
 * values -8..7 (qs4). Packing (lib/kernels/pack/qs8_pack.c) may permute K:
 * packed row j holds W[:, perm[j]].
 *
 * Layout: "k-row panels". N is cut into panels of IGQ_QS8_NR = 64 columns (the last one padded
 * with zero columns); panel b stores its K rows one after the other:
 *   qs8: byte  (b*K + j)*64 + pos(c)            = W[64b + c][perm[j]]          (64 B a row)
 *   qs4: byte  (b*K + j)*32 + (pos(c) & 31)     holds W[64b + c][perm[j]] in its
 *        low nibble if pos(c) < 32, else in its high nibble (two's complement 4-bit). (32 B)
 * pos() swaps the base-4 digits 1 and 2 of the column: c = 16x + 4y + z -> 16y + 4x + z
 * (an involution). It is the order in which the byte/word interleaves of the kernels' staging
 * step (unpack{lo,hi}_epi8 then unpack{lo,hi}_epi16 on 128-bit lanes) deliver 16 (zmm) or 8
 * (ymm) consecutive columns per register, so no lane-crossing shuffle is needed there.
 * The layout is the same for all levels (scalar reads it through igq__qs8_w()), so weights
 * packed once stay valid whatever level the dispatch table holds.
 *
 * Why k rows, and not the vpdpbusd "16c4" order (4 consecutive k per column): IGQ gathers the
 * input channels of each activation group together, with a permutation that changes with every
 * image (ALGORITHMS.md 1.8). With k rows, the kernels take that permutation (kperm) and gather
 * whole 64-byte rows (one cache line, 32 B for qs4) while they stage a KC x 64 block into the
 * c4 (or c2) order in an L1 buffer; the staged block is then reused by every row tile of A.
 * Staging through kperm costs the same as staging in order (measured), so the per-image
 * permutation is free and the weights are never repacked per image. A 16c4 layout would have
 * to be repacked per image: one transposing pass over all weights (~85 MB for ViT-B), which
 * bench_gemm_q8 measures at about twice the time of the GEMM itself ("repack" columns).
 * What the caller still does per image: gather A's columns into group order (done for free
 * while quantizing the activations, ALGORITHMS.md 1.8b), and one GEMM call per group k-slice,
 * each writing its own int32 C (G x the output traffic; the grouped column of the bench). */
#ifndef IGQ_KERNELS_QS8_LAYOUT_H
#define IGQ_KERNELS_QS8_LAYOUT_H

#include "../core/compiler.h"

#include <stddef.h>
#include <stdint.h>

#define IGQ_QS8_NR 64 /* columns of a panel */

/* Largest k-range for which every int32 result is exact: 255 * 128 * K <= 2^31 - 1. */
#define IGQ_QS8_MAX_K 65793

/* Position of panel column c (0..63) in a packed row. */
static inline int igq__qs8_pos(int c) { return (c & 3) | ((c & 0x0c) << 2) | ((c & 0x30) >> 2); }

/* Bytes of one packed row of a panel: 64 (qs8) or 32 (qs4). */
static inline int64_t igq__qs8_row_bytes(int bits) { return bits == 4 ? 32 : 64; }

/* Size in bytes of packed weights: ceil(N / 64) panels of K rows. N, K >= 0. */
static inline size_t igq__qs8_packed_size(int64_t N, int64_t K, int bits)
{
    return (size_t)((N + IGQ_QS8_NR - 1) / IGQ_QS8_NR) * (size_t)K * (size_t)igq__qs8_row_bytes(bits);
}

/* Logical weight of packed qs8 weights: column n, packed row j (K rows per panel). */
static inline int igq__qs8_w(const void *packed, int64_t K, int64_t n, int64_t j)
{
    const int8_t *p = (const int8_t *)packed;
    return p[((n / IGQ_QS8_NR) * K + j) * IGQ_QS8_NR + igq__qs8_pos((int)(n % IGQ_QS8_NR))];
}

/* Logical weight (-8..7) of packed qs4 weights. */
static inline int igq__qs4_w(const void *packed, int64_t K, int64_t n, int64_t j)
{
    const uint8_t *p   = (const uint8_t *)packed;
    const int      pos = igq__qs8_pos((int)(n % IGQ_QS8_NR));
    const unsigned b   = p[((n / IGQ_QS8_NR) * K + j) * 32 + (pos & 31)];
    const unsigned nib = pos < 32 ? (b & 15u) : (b >> 4);
    return (int)(nib ^ 8u) - 8;
}

/* Workspace bytes of the grouped GEMM (igq_qggemm_fn, qggemm_driver.h) for K rows in G
 * groups, for every level: one panel's staged rows (each group padded to whole steps of 2 or 4
 * rows, 256 bytes a step: at most P = (K + 1) / 2 + G steps), the int16-pair levels' widened
 * A of a row tile (6 rows of 2 P u16), and G + 1 step offsets. */
static inline size_t igq__qs8_ggemm_ws_size(int64_t K, int32_t G)
{
    const size_t P = (size_t)((K + 1) / 2 + G);
    return P * (256u + 6u * 2u * 2u) + (size_t)(G + 1) * sizeof(int64_t);
}

#endif
