/* Integer GEMM reference (the spec): u8 activations x qs8 / qs4 packed weights -> int32.
 *   C[m][n] = sum_{k0 <= k < k1} A[m][k] * Wp[n][kperm ? kperm[k] : k]
 * Wp is read through igq__q8_w() / igq__q4_w() (q8_layout.h). Products are < 2^15 in
 * magnitude and the sum is exact in int32 for k1 - k0 <= IGQ_Q8_MAX_K; it is accumulated in
 * int64 here anyway, so the reference stays exact (and UB-free) even beyond that bound, where
 * the SIMD levels would wrap. For speed the k loop runs over whole packed rows of a panel
 * (64 accumulators in packed-position order), which changes nothing for integers. */
#include "../q8_ref.h"

#include "../q8_layout.h"

static void gemm_ref(int bits, int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                     const uint8_t *A, int64_t lda, const void *packed, const int32_t *kperm,
                     int32_t *C, int64_t ldc)
{
    const int64_t rb = igq__q8_row_bytes(bits);
    int64_t       m, nb, k, c;
    for (m = 0; m < M; m++) {
        const uint8_t *a = A + m * lda;
        int32_t       *o = C + m * ldc;
        for (nb = 0; nb * IGQ_Q8_NR < N; nb++) {
            const uint8_t *panel = (const uint8_t *)packed + nb * K * rb;
            const int64_t  nn    = N - nb * IGQ_Q8_NR < IGQ_Q8_NR ? N - nb * IGQ_Q8_NR : IGQ_Q8_NR;
            int64_t        acc[IGQ_Q8_NR];
            for (c = 0; c < IGQ_Q8_NR; c++) acc[c] = 0;
            for (k = k0; k < k1; k++) {
                const int64_t  av  = a[k];
                const uint8_t *row = panel + (kperm != NULL ? kperm[k] : k) * rb;
                if (av == 0) continue;
                if (bits == 8) {
                    for (c = 0; c < IGQ_Q8_NR; c++) acc[c] += av * (int8_t)row[c];
                } else {
                    for (c = 0; c < 32; c++) { /* low nibble: position c; high: c + 32 */
                        acc[c] += av * ((int)((row[c] & 15u) ^ 8u) - 8);
                        acc[c + 32] += av * ((int)((row[c] >> 4) ^ 8u) - 8);
                    }
                }
            }
            for (c = 0; c < nn; c++) o[nb * IGQ_Q8_NR + c] = (int32_t)acc[igq__q8_pos((int)c)];
        }
    }
}

void igq__qs8_gemm_ref(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                       const uint8_t *A, int64_t lda, const void *packed, const int32_t *kperm,
                       int32_t *C, int64_t ldc)
{
    gemm_ref(8, M, N, K, k0, k1, A, lda, packed, kperm, C, ldc);
}

void igq__qs4_gemm_ref(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                       const uint8_t *A, int64_t lda, const void *packed, const int32_t *kperm,
                       int32_t *C, int64_t ldc)
{
    gemm_ref(4, M, N, K, k0, k1, A, lda, packed, kperm, C, ldc);
}
