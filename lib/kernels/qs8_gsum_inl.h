/* Group column sums of packed integer weights (the zero-point correction of IGQ's grouped
 * linear layers, lib/model/qexec_linear.c), written once as plain C loops: an exec helper
 * (kernels.h IGQ_EXEC_HELPERS) compiled per level at -O3 like exec_inl.h. Integer sums only,
 * so every level gives the same bits. Private header, static inline only. */
#ifndef IGQ_KERNELS_QS8_GSUM_INL_H
#define IGQ_KERNELS_QS8_GSUM_INL_H

#include <stdint.h>
#include <string.h>

#include "qs8_layout.h"

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
    int64_t       nb, j;
    int32_t       g;
    for (nb = 0; nb * IGQ_QS8_NR < N; nb++) {
        const uint8_t *panel = (const uint8_t *)packed + nb * K * rb;
        const int64_t  nn    = N - nb * IGQ_QS8_NR < IGQ_QS8_NR ? N - nb * IGQ_QS8_NR : IGQ_QS8_NR;
        for (g = 0; g < G; g++) {
            int32_t acc[IGQ_QS8_NR];
            int     c;
            memset(acc, 0, sizeof acc);
            if (bits == 4) {
                for (j = off[g]; j < off[g + 1]; j++) {
                    const uint8_t *row = panel + (int64_t)kperm[j] * 32;
                    for (c = 0; c < 32; c++) {
                        acc[c] += (int32_t)((row[c] & 15u) ^ 8u) - 8;
                        acc[c + 32] += (int32_t)((row[c] >> 4) ^ 8u) - 8;
                    }
                }
            } else {
                for (j = off[g]; j < off[g + 1]; j++) {
                    const int8_t *row = (const int8_t *)(panel + (int64_t)kperm[j] * 64);
                    for (c = 0; c < 64; c++) acc[c] += row[c];
                }
            }
            for (c = 0; c < nn; c++) S[g * ld + nb * IGQ_QS8_NR + c] = acc[igq__qs8_pos(c)];
        }
    }
}

#endif
