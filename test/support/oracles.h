/* Reference computations the tests compare the library with, which the library itself never
 * runs: the integer softmax normalized to A-bit codes. */
#ifndef IGQ_TEST_ORACLES_H
#define IGQ_TEST_ORACLES_H

#include <stdint.h>

#include "kernels/nonlin.h"

/* The integer softmax of nonlin.h with Q = 2^bits - 1 instead of 2^20: A-bit codes of [0, 1]
 * (scale 1 / (2^A - 1)) of rows x n logits, bits in [2, 8]; s = 54 - bitlen(Q) (theta <
 * 2^(22 - s)). */
void tu_i32_softmax_codes(const igq_softmax_params *p, int bits, int64_t rows, int64_t n,
                          const int32_t *x, int64_t ldx, uint8_t *out, int64_t ldo);
/* The normalization shift s of tu_i32_softmax_codes for A = bits. */
int32_t tu_softmax_codes_shift(int bits);

#endif
