/* Reference computations the tests compare the library with, which the library itself never
 * runs: the integer softmax normalized to A-bit codes; the executor's former LayerNorm input
 * conversion and f32 -> fixed conversion (now fused into i32_ln_f32 / i32_gelu_f32, whose
 * definitions they are). */
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

/* max |x[i]| (0 for n = 0) as the largest magnitude bit pattern; a NaN input gives a NaN. */
float tu_absmax(int64_t n, const float *x);
/* out[i] = x[i] f rounded half to even (1.5 * 2^23 added and subtracted) for |x[i] f| < 2^22. */
void tu_scale_rne(int64_t n, const float *x, float f, int32_t *out);
/* out[i] = x[i] mul rounded half away from zero in float additions, saturated to
 * +-(2^31 - 128), NaN -> 0 (nonlin.h, i32_gelu_f32). */
void tu_f32_to_fixed(int64_t n, const float *x, float mul, int32_t *out);

#endif
