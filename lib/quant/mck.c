/* Exact multiple-choice knapsack by dynamic programming over the integer budget:
 * best[l][b] = least loss of layers 0..l-1 with total cost exactly... at most b. O(L * B * C). */
#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "quant.h"

igq_status igq__mck_solve(int n_layers, int n_cand, const int64_t *cost, const double *loss,
                          int64_t budget, int *choice)
{
    const int64_t W = budget + 1;
    double       *best, *next;
    int          *pick; /* [n_layers][W] candidate chosen for layer l at budget b */
    int           l, c;
    int64_t       b;
    IGQ_CHECK(n_layers > 0 && n_cand > 0 && budget >= 0, IGQ_ERR_INVALID_ARGUMENT,
              "allocation: empty problem");
    IGQ_CHECK(budget < ((int64_t)1 << 26), IGQ_ERR_OUT_OF_RANGE, "allocation: budget too large");
    best = (double *)igq__malloc((size_t)W * sizeof(double));
    next = (double *)igq__malloc((size_t)W * sizeof(double));
    pick = (int *)igq__malloc((size_t)n_layers * (size_t)W * sizeof(int));
    if (best == NULL || next == NULL || pick == NULL) {
        igq__free(best);
        igq__free(next);
        igq__free(pick);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "allocation: out of memory");
    }
    for (b = 0; b < W; b++) best[b] = 0.0; /* no layers: zero loss within any budget */
    for (l = 0; l < n_layers; l++) {
        int *pl = pick + (size_t)l * W;
        for (b = 0; b < W; b++) {
            double bv = INFINITY;
            int    bc = -1;
            for (c = 0; c < n_cand; c++) {
                int64_t k = cost[(size_t)l * n_cand + c];
                double  v;
                if (k < 0 || k > b || !isfinite(best[b - k])) continue;
                v = best[b - k] + loss[(size_t)l * n_cand + c];
                if (v < bv) {
                    bv = v;
                    bc = c;
                }
            }
            next[b] = bv;
            pl[b]   = bc;
        }
        memcpy(best, next, (size_t)W * sizeof(double));
    }
    if (!isfinite(best[budget])) {
        igq__free(best);
        igq__free(next);
        igq__free(pick);
        return igq__set_error(IGQ_ERR_OUT_OF_RANGE, "allocation: no choice fits the budget");
    }
    /* Walk back from the full budget. */
    b = budget;
    for (l = n_layers - 1; l >= 0; l--) {
        c         = pick[(size_t)l * W + b];
        choice[l] = c;
        b -= cost[(size_t)l * n_cand + c];
    }
    igq__free(best);
    igq__free(next);
    igq__free(pick);
    return IGQ_OK;
}
