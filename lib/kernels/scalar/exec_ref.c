/* Executor helpers for the baseline target (exec_inl.h): the reference every level matches. */
#include "../kernels.h"

#include "../exec_inl.h"

void igq__exec_quant_f32_ref(int64_t n, const float *x, const float *mul, const float *lo,
                         const float *hi, const int32_t *zero, uint8_t *out)
{
    exec_quant_f32(n, x, mul, lo, hi, zero, out);
}

void igq__exec_quant_i32_ref(int64_t n, const int32_t *x, const float *mul, const float *lo,
                         const float *hi, const int32_t *zero, uint8_t *out)
{
    exec_quant_i32(n, x, mul, lo, hi, zero, out);
}

void igq__exec_affine_i32_ref(int64_t n, const int32_t *x, int32_t add, float scale, float *out)
{
    exec_affine_i32(n, x, add, scale, out);
}

void igq__exec_colminmax_i32_ref(int64_t rows, int64_t C, const int32_t *a, int64_t ld,
                             int32_t *mn, int32_t *mx)
{
    exec_colminmax_i32(rows, C, a, ld, mn, mx);
}

void igq__exec_colminmax_f32_ref(int64_t rows, int64_t C, const float *x, int64_t ld, float *mn,
                             float *mx)
{
    exec_colminmax_f32(rows, C, x, ld, mn, mx);
}

void igq__exec_f32_to_fixed_ref(int64_t n, const float *x, float mul, int32_t *out) { exec_f32_to_fixed(n, x, mul, out); }

float igq__exec_absmax_ref(int64_t n, const float *x) { return exec_absmax(n, x); }

void igq__exec_scale_rne_ref(int64_t n, const float *x, float f, int32_t *out)
{
    exec_scale_rne(n, x, f, out);
}

void igq__exec_sub_rows_i32_ref(int64_t rows, int64_t n, int32_t *x, int64_t ld, const int32_t *v)
{
    exec_sub_rows_i32(rows, n, x, ld, v);
}

int32_t igq__exec_rowmax_i32_ref(int64_t n, const int32_t *x) { return exec_rowmax_i32(n, x); }

int32_t igq__exec_sum_u8_ref(int64_t n, const uint8_t *x) { return exec_sum_u8(n, x); }
