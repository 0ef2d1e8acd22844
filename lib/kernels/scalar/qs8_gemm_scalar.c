/* Integer GEMM, scalar: the specification of every level (igq_qgemm_fn, igq_qggemm_fn in
 * kernels.h), u8 activations x qs8 / qs4 packed weights -> int32.
 *   C[m][n] = sum_{k0 <= k < k1} A[m][k] * Wp[n][kperm ? kperm[k] : k]
 * Wp is read through igq__qs8_w() / igq__qs4_w() (qs8_layout.h). Products are < 2^15 in
 * magnitude and the sum is exact in int32 for k1 - k0 <= IGQ_QS8_MAX_K; it is accumulated in
 * int64 here anyway, so the reference stays exact (and UB-free) even beyond that bound, where
 * the SIMD levels would wrap. For speed the k loop runs over whole packed rows of a panel
 * (64 accumulators in packed-position order), which changes nothing for integers. */
#include "../qs8_scalar.h"

#include <math.h>

#include "../qs8_layout.h"

/* acc[pos] = sum_{k0 <= k < k1} a[k] * (packed row kperm[k] or k of the panel)[pos] */
static void panel_sums(int bits, const uint8_t *panel, const uint8_t *a, int64_t k0, int64_t k1,
                       const int32_t *kperm, int64_t *acc)
{
    const int64_t rb = igq__qs8_row_bytes(bits);
    int64_t       k, c;
    for (c = 0; c < IGQ_QS8_NR; c++) acc[c] = 0;
    for (k = k0; k < k1; k++) {
        const int64_t  av  = a[k];
        const uint8_t *row = panel + (kperm != NULL ? kperm[k] : k) * rb;
        if (av == 0) continue;
        if (bits == 8) {
            for (c = 0; c < IGQ_QS8_NR; c++) acc[c] += av * (int8_t)row[c];
        } else {
            for (c = 0; c < 32; c++) { /* low nibble: position c; high: c + 32 */
                acc[c] += av * ((int)((row[c] & 15u) ^ 8u) - 8);
                acc[c + 32] += av * ((int)((row[c] >> 4) ^ 8u) - 8);
            }
        }
    }
}

static void gemm_scalar(int bits, int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                        const uint8_t *A, int64_t lda, const void *packed, const int32_t *kperm,
                        int32_t *C, int64_t ldc)
{
    const int64_t rb = igq__qs8_row_bytes(bits);
    int64_t       m, nb, c;
    for (m = 0; m < M; m++) {
        const uint8_t *a = A + m * lda;
        int32_t       *o = C + m * ldc;
        for (nb = 0; nb * IGQ_QS8_NR < N; nb++) {
            const int64_t nn = N - nb * IGQ_QS8_NR < IGQ_QS8_NR ? N - nb * IGQ_QS8_NR : IGQ_QS8_NR;
            int64_t       acc[IGQ_QS8_NR];
            panel_sums(bits, (const uint8_t *)packed + nb * K * rb, a, k0, k1, kperm, acc);
            for (c = 0; c < nn; c++) o[nb * IGQ_QS8_NR + c] = (int32_t)acc[igq__qs8_pos((int)c)];
        }
    }
}

/* Grouped GEMM with the f32 epilogue (igq_qggemm_fn): the group sums of gemm_scalar folded
 * with fmaf in group order, then fmaf(colscale, f, colbias); ws is not used. */
static void ggemm_scalar(int bits, int64_t M, int64_t N, int64_t K, int32_t G,
                         const int32_t *off, const float *gs, const uint8_t *A, int64_t lda,
                         const void *packed, const int32_t *kperm, const float *colscale,
                         const float *colbias, float *Y, int64_t ldy, void *ws)
{
    const int64_t rb = igq__qs8_row_bytes(bits);
    int64_t       m, nb, c;
    int32_t       g;
    (void)ws;
    for (m = 0; m < M; m++)
        for (nb = 0; nb * IGQ_QS8_NR < N; nb++) {
            const int64_t nn = N - nb * IGQ_QS8_NR < IGQ_QS8_NR ? N - nb * IGQ_QS8_NR : IGQ_QS8_NR;
            float         f[IGQ_QS8_NR];
            int64_t       acc[IGQ_QS8_NR];
            for (c = 0; c < nn; c++) f[c] = 0.0f;
            for (g = 0; g < G; g++) {
                if (off[g + 1] <= off[g]) continue;
                panel_sums(bits, (const uint8_t *)packed + nb * K * rb, A + m * lda, off[g],
                           off[g + 1], kperm, acc);
                for (c = 0; c < nn; c++)
                    f[c] = fmaf(gs[g], (float)(int32_t)acc[igq__qs8_pos((int)c)], f[c]);
            }
            for (c = 0; c < nn; c++) {
                const int64_t n = nb * IGQ_QS8_NR + c;
                Y[m * ldy + n]  = fmaf(colscale[n], f[c], colbias[n]);
            }
        }
}

IGQ_QGGEMM_ENTRIES(igq__qs8_ggemm__scalar, igq__qs4_ggemm__scalar, ggemm_scalar)
IGQ_QGEMM_ENTRIES(igq__qs8_gemm__scalar, igq__qs4_gemm__scalar, gemm_scalar)
