/* GPTQ weight rounding of one linear layer (gptq.c). Private header. */
#ifndef IGQ_QUANT_GPTQ_H
#define IGQ_QUANT_GPTQ_H

#include "quant.h"

/* Rounds wt [K][N] (row i: input channel i's weights of the N outputs, the igq_linear layout)
 * in place onto the grids qp[N] (one per output channel), by GPTQ with the input second moment
 * H [K][K] (symmetric, e.g. XᵀX of the layer's calibration inputs; any positive scale), of
 * which only the lower triangle and the diagonal are read. H is used as scratch and left
 * unspecified. If H cannot be factored even with 1000x the damping
 * (or is not finite), wt is rounded to nearest and *fell_back is set to 1 (else 0).
 * Returns IGQ_OK, or IGQ_ERR_NO_MEMORY (wt then unchanged). Allocates O(K x max(N, 128))
 * floats besides H. */
igq_status igq__gptq_round(float *wt, int64_t K, int64_t N, const igq_qparams *qp, double *H,
                           int *fell_back);

/* Nearest rounding of wt [K][N] onto the grids qp[N]: what IGQ_ROUNDING_NEAREST does. */
void igq__gptq_nearest(float *wt, int64_t K, int64_t N, const igq_qparams *qp);

#endif
