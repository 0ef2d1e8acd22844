/* Weight packing for the integer GEMMs: W [N][K] int8 (qs4: values -8..7) -> the k-row panel
 * layout of qs8_layout.h, optionally with the K dimension permuted (packed row j =
 * W[:, perm[j]]), plus the row sums rowsum[n] = sum_j Wp[n][j] that callers need for the
 * activation zero-point term (vpdpbusd multiplies u8 by s8, so A carries its zero point and
 * sum_k (a - z) w = sum_k a w - z * rowsum). One layout serves every ISA level, so this plain C
 * packer is the table's qs8_pack / qs4_pack at all levels. It runs once per model (the kernels
 * apply the per-image IGQ channel permutation themselves, see qs8_layout.h); cost is one
 * transposing pass over W (bench_gemm_q8 prints it).
 *
 * qs4 nibble order: byte i (0..31) of a packed row holds packed position i in its low nibble
 * and position i + 32 in its high nibble, 4-bit two's complement. Kernels unpack with one AND
 * (high: b & 0xF0 = 16 w) and a shift + AND (low: (b << 4) & 0xF0 = 16 w), i.e. the weights
 * times 16 as int8, and shift the int32 sums right by 4 (exact). Values outside -8..7 keep
 * only their low 4 bits (wrap); rowsum is computed from the stored values. */
#include "../qs8_scalar.h"

#include <string.h>

#include "../qs8_layout.h"

#define KB 64 /* k rows per block: the 64 source rows x KB bytes stay in L1 */

static void pack(int bits, int64_t N, int64_t K, const int8_t *W, const int32_t *perm,
                 void *packed, int32_t *rowsum)
{
    const int64_t rb = igq__qs8_row_bytes(bits);
    uint8_t      *out = (uint8_t *)packed;
    int64_t       nb, k0, k, n;
    int           c;
    if (N <= 0 || K <= 0) {
        for (n = 0; rowsum != NULL && n < N; n++) rowsum[n] = 0;
        return;
    }
    memset(out, 0, igq__qs8_packed_size(N, K, bits));
    for (nb = 0; nb * IGQ_QS8_NR < N; nb++) {
        const int64_t nn = N - nb * IGQ_QS8_NR < IGQ_QS8_NR ? N - nb * IGQ_QS8_NR : IGQ_QS8_NR;
        for (k0 = 0; k0 < K; k0 += KB) {
            const int64_t ke = K - k0 < KB ? K : k0 + KB;
            for (c = 0; c < nn; c++) {
                const int8_t *w   = W + (nb * IGQ_QS8_NR + c) * K;
                const int     pos = igq__qs8_pos(c);
                for (k = k0; k < ke; k++) {
                    const int8_t v   = w[perm != NULL ? perm[k] : k];
                    uint8_t     *row = out + (nb * K + k) * rb;
                    if (bits == 8)
                        row[pos] = (uint8_t)v;
                    else if (pos < 32)
                        row[pos] = (uint8_t)(row[pos] | ((unsigned)v & 15u));
                    else
                        row[pos - 32] = (uint8_t)(row[pos - 32] | (((unsigned)v & 15u) << 4));
                }
            }
        }
    }
    if (rowsum != NULL)
        for (n = 0; n < N; n++) {
            const int8_t *w = W + n * K;
            int64_t       s = 0;
            for (k = 0; k < K; k++) {
                const int v = w[perm != NULL ? perm[k] : k];
                s += bits == 8 ? v : (int)(((unsigned)v & 15u) ^ 8u) - 8;
            }
            rowsum[n] = (int32_t)s;
        }
}

void igq__qs8_pack__scalar(int64_t N, int64_t K, const int8_t *W, const int32_t *perm,
                           void *packed, int32_t *rowsum)
{
    pack(8, N, K, W, perm, packed, rowsum);
}

void igq__qs4_pack__scalar(int64_t N, int64_t K, const int8_t *W, const int32_t *perm,
                           void *packed, int32_t *rowsum)
{
    pack(4, N, K, W, perm, packed, rowsum);
}
