/* GPTQ weight rounding of one linear layer (Frantar et al., "GPTQ: Accurate Post-Training
 * Quantization for Generative Pre-trained Transformers", 2023), written from the algorithm.
 *
 * Goal: choose grid points Q for the weights W [K inputs][N outputs] that make XQ close to XW
 * on the calibration inputs X, i.e. minimize per output o the quadratic form
 * (w_o - q_o)ᵀ H (w_o - q_o) with H = XᵀX (+ damping). GPTQ rounds the input channels in order
 * 0..K-1 and, after rounding channel i, moves the weights of the channels not yet rounded so as
 * to absorb i's error optimally; with U the upper Cholesky factor of H⁻¹ the update is
 * w_j -= (w~_i - q_i) / U_ii * U_ij for j > i.
 *
 * What is computed here is the same rounding in closed form. Unrolling the updates gives
 * w - q = Uᵀ e' (e'_i = (w~_i - q_i) / U_ii), so with V = U⁻¹ (upper triangular, H = V Vᵀ):
 *     w~_i = w_i + sum_{j < i} (V_ji / V_ii) (w_j - q_j),     q_i = round(w~_i)
 * where w is the *original* weight: each channel's compensated value is the original plus a
 * fixed linear combination of the rounding errors of the channels before it (this is Babai's
 * nearest-plane rounding in the basis V, which GPTQ is known to be). V needs no inverse: it is
 * the Cholesky factor of H with the index order reversed (R H R = L Lᵀ with R the reversal, then
 * V = R L R). So: one Cholesky (K³/3 flops), no H⁻¹ and no second factorization.
 *
 * Lazy batches (GPTQ's): channels are processed in blocks of BLK; for a block the contribution
 * of all earlier blocks' errors is one GEMM (block x earlier channels times earlier channels x
 * N), the contribution of the earlier channels of the same block is summed in double.
 *
 * Arithmetic and determinism: every step is plain C in a fixed order, or the fp32 GEMM
 * (igq__f32_gemm), whose every element is one fmaf chain at every ISA level; so the result is
 * the same bits at every level, thread count and compiler (-ffp-contract=off). The Cholesky
 * factor is kept in double; its trailing updates are fp32 GEMMs of the fp32-rounded panel
 * (GPTQ itself runs in fp32), subtracted in double.
 *
 * Damping and failure: λ = 1 % of the mean diagonal over the live channels is added to the
 * diagonal; if a pivot is not positive (or not finite) the factorization restarts with 10λ,
 * 100λ, 1000λ; then the layer is rounded to nearest and *fell_back is set. Dead channels (a zero
 * diagonal: the input was zero on every calibration image, so its row and column are zero)
 * get diagonal 1, which decouples them: they are rounded to nearest and feed no error to the
 * others. (GPTQ also zeroes their weights; keeping their nearest rounding gives the same error
 * on the calibration set and keeps the layer's response to inputs calibration never saw.) */
#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/dispatch.h"
#include "gptq.h"

#define BLK 128      /* columns per lazy batch and per Cholesky panel */
#define SLAB 256     /* rows of a trailing-update GEMM */
#define N_DAMP 4     /* damping attempts: λ, 10λ, 100λ, 1000λ */

/* Reverses both indices of the K x K array a (a[i][j] <-> a[K-1-i][K-1-j]): the flat array
 * reversed. */
static void reverse_square(double *a, int64_t K)
{
    size_t i = 0, j = (size_t)(K * K) - 1;
    for (; i < j; i++, j--) {
        double t = a[i];
        a[i]     = a[j];
        a[j]     = t;
    }
}

/* Lower Cholesky factor of the symmetric matrix whose strict upper triangle is A's and whose
 * diagonal is diag + damp, into A's lower triangle, diagonal included; the strict upper
 * triangle is left as it is, so a failed attempt can restart. Blocked right-looking: the
 * diagonal block and the panel below it in double, the trailing update as fp32 GEMMs of the
 * panel into `slab` (SLAB x SLAB floats) with `pf` and `pt` ([K][BLK] floats each); `lt`:
 * BLK x BLK doubles.
 * Returns 0, or -1 if a pivot is not positive or not finite. */
static int cholesky(double *A, int64_t K, const double *diag, double damp, float *pf, float *pt,
                    float *slab, double *lt)
{
    int64_t k0, i, j, p;
    /* restore the lower triangle from the upper one */
    for (i = 0; i < K; i++) {
        for (j = 0; j < i; j++) A[i * K + j] = A[j * K + i];
        A[i * K + i] = diag[i] + damp;
    }
    for (k0 = 0; k0 < K; k0 += BLK) {
        const int64_t k1 = k0 + BLK < K ? k0 + BLK : K, nb = k1 - k0, n2 = K - k1;
        /* Row by row (each row's segment stays in cache), every element of row i being
         *     L_ij = (A_ij - L_i,k0 L_j,k0 - L_i,k0+1 L_j,k0+1 - ... - L_i,j-1 L_j,j-1) / L_jj
         * (the diagonal: sqrt of the same difference), subtracted in this order; written as
         * updates of the whole row by each finished L_ip, with lt[p][j] = L_j,k0+p (the
         * block's factor transposed), so the inner loops run over independent elements.
         * Diagonal block first, then the panel below it. */
        for (i = k0; i < K; i++) {
            double       *ri   = A + i * K + k0;
            const int64_t last = i < k1 ? i - k0 : nb; /* columns of row i in the block */
            for (p = 0; p < last; p++) {
                const double *lp = lt + p * BLK;
                ri[p] /= lp[p];
                for (j = p + 1; j < last; j++) ri[j] -= ri[p] * lp[j];
                if (i < k1) ri[last] -= ri[p] * ri[p];
            }
            if (i < k1) {
                const double d = ri[last];
                if (!(d > 0.0) || !isfinite(d)) return -1;
                ri[last] = sqrt(d);
                for (p = 0; p <= last; p++) lt[p * BLK + last] = ri[p];
            }
        }
        if (n2 == 0) break;
        /* trailing lower triangle -= P Pᵀ, P = A[k1:K][k0:k1]: pf = P [n2][nb]; pt = Pᵀ in
         * column panels of SLAB (panel c: [nb][w_c] at pt + c0 * nb, contiguous as the GEMM
         * takes it), so only the blocks on or below the diagonal are computed */
        for (i = 0; i < n2; i++) {
            const int64_t c0 = i / SLAB * SLAB, w = n2 - c0 < SLAB ? n2 - c0 : SLAB;
            for (p = 0; p < nb; p++) {
                const float v              = (float)A[(k1 + i) * K + k0 + p];
                pf[i * nb + p]             = v;
                pt[c0 * nb + p * w + (i - c0)] = v;
            }
        }
        for (i = 0; i < n2; i += SLAB) {
            const int64_t r = i + SLAB < n2 ? SLAB : n2 - i;
            int64_t       c0, a, b;
            for (c0 = 0; c0 <= i; c0 += SLAB) {
                const int64_t w = n2 - c0 < SLAB ? n2 - c0 : SLAB;
                igq__f32_gemm(r, w, nb, pf + i * nb, nb, pt + c0 * nb, NULL, slab, w);
                for (a = 0; a < r; a++) {
                    double *row = A + (k1 + i + a) * K + k1 + c0;
                    /* the diagonal block: its lower part only (the upper keeps the original) */
                    const int64_t bend = c0 == i ? a + 1 : w;
                    for (b = 0; b < bend; b++) row[b] -= (double)slab[a * w + b];
                }
            }
        }
    }
    return 0;
}

void igq__gptq_nearest(float *wt, int64_t K, int64_t N, const igq_qparams *qp)
{
    int64_t i, o;
    for (i = 0; i < K; i++)
        for (o = 0; o < N; o++) wt[i * N + o] = igq__fq(wt[i * N + o], &qp[o]);
}

igq_status igq__gptq_round(float *wt, int64_t K, int64_t N, const igq_qparams *qp, double *H,
                           int *fell_back)
{
    double    *diag = NULL, *acc = NULL, *lt = NULL, sum = 0.0, damp;
    float     *pf = NULL, *pt = NULL, *slab = NULL, *D = NULL, *ct = NULL, *tmp = NULL;
    int64_t    i, j, o, live = 0, i1;
    int        attempt, ok = 0;
    igq_status s = IGQ_OK;
    *fell_back   = 0;
    if (K <= 0 || N <= 0) return IGQ_OK;
    diag = (double *)igq__malloc((size_t)K * sizeof(double));
    acc  = (double *)igq__malloc((size_t)N * sizeof(double));
    lt   = (double *)igq__malloc((size_t)BLK * BLK * sizeof(double));
    pf   = (float *)igq__malloc((size_t)K * BLK * sizeof(float));
    pt   = (float *)igq__malloc((size_t)K * BLK * sizeof(float));
    slab = (float *)igq__malloc((size_t)SLAB * SLAB * sizeof(float));
    D    = (float *)igq__malloc((size_t)(K * N) * sizeof(float));
    ct   = (float *)igq__malloc((size_t)K * BLK * sizeof(float));
    tmp  = (float *)igq__malloc((size_t)N * BLK * sizeof(float));
    if (!diag || !acc || !lt || !pf || !pt || !slab || !D || !ct || !tmp) {
        s = igq__set_error(IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory (GPTQ)");
        goto done;
    }
    /* Dead channels get diagonal 1 (decoupled); λ from the live ones. */
    for (i = 0; i < K; i++) {
        diag[i] = H[i * K + i];
        if (diag[i] != 0.0) {
            sum += diag[i];
            live++;
        }
    }
    for (i = 0; i < K; i++)
        if (diag[i] == 0.0) {
            for (j = 0; j < K; j++) H[i * K + j] = H[j * K + i] = 0.0;
            diag[i] = 1.0;
        }
    damp = live > 0 ? 0.01 * sum / (double)live : 0.0;
    if (live == 0 || !isfinite(damp) || !(damp > 0.0)) {
        /* every channel dead (or H not finite): nothing to compensate */
        *fell_back = live > 0;
        igq__gptq_nearest(wt, K, N, qp);
        goto done;
    }
    /* R H R, so the ordinary Cholesky gives R V R (see the top of the file); the diagonal
     * reversed with it. */
    reverse_square(H, K);
    for (i = 0; i < K / 2; i++) {
        double t        = diag[i];
        diag[i]         = diag[K - 1 - i];
        diag[K - 1 - i] = t;
    }
    for (attempt = 0; attempt < N_DAMP && !ok; attempt++, damp *= 10.0)
        ok = cholesky(H, K, diag, damp, pf, pt, slab, lt) == 0;
    if (!ok) {
        *fell_back = 1;
        igq__gptq_nearest(wt, K, N, qp);
        goto done;
    }
    /* With L = the factor of R H R in H's lower triangle, V_ji = L[K-1-j][K-1-i], so the
     * coefficient of channel j's error in channel i (j < i) is
     *     c(i, j) = L[K-1-j][K-1-i] / L[K-1-i][K-1-i]. */
    for (i1 = 0; i1 < K; i1 += BLK) {
        const int64_t i2 = i1 + BLK < K ? i1 + BLK : K, nb = i2 - i1;
        /* ct[a][j] = c(i1 + a, j) for j < i2 */
        for (i = i1; i < i2; i++) {
            const int64_t ci  = K - 1 - i;
            const double  inv = 1.0 / H[ci * K + ci];
            float        *row = ct + (i - i1) * i2;
            for (j = 0; j < i; j++) row[j] = (float)(H[(K - 1 - j) * K + ci] * inv);
        }
        /* earlier blocks: tmp = ct[:, 0:i1] D[0:i1] */
        if (i1 > 0) igq__f32_gemm(nb, N, i1, ct, i2, D, NULL, tmp, N);
        for (i = i1; i < i2; i++) {
            const float *row = ct + (i - i1) * i2;
            float       *w   = wt + i * N;
            for (o = 0; o < N; o++) acc[o] = 0.0;
            for (j = i1; j < i; j++) {
                const double c  = row[j];
                const float *dj = D + j * N;
                for (o = 0; o < N; o++) acc[o] += c * (double)dj[o];
            }
            for (o = 0; o < N; o++) {
                double wc = (double)w[o] + acc[o];
                float  q;
                if (i1 > 0) wc += (double)tmp[(i - i1) * N + o];
                q            = igq__fq((float)wc, &qp[o]);
                D[i * N + o] = w[o] - q;
                w[o]         = q;
            }
        }
    }
done:
    igq__free(diag);
    igq__free(acc);
    igq__free(lt);
    igq__free(pf);
    igq__free(pt);
    igq__free(slab);
    igq__free(D);
    igq__free(ct);
    igq__free(tmp);
    return s;
}
