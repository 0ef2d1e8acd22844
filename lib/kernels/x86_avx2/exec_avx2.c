/* Executor helpers (exec_inl.h) compiled for this level's ISA at -O3 (vectorized by the compiler). */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "../exec_inl.h"

void igq_exec_quant_f32__avx2(int64_t n, const float *x, const float *mul, const float *lo,
                         const float *hi, const int32_t *zero, uint8_t *out)
{
    exec_quant_f32(n, x, mul, lo, hi, zero, out);
}

void igq_exec_quant_i32__avx2(int64_t n, const int32_t *x, const float *mul, const float *lo,
                         const float *hi, const int32_t *zero, uint8_t *out)
{
    exec_quant_i32(n, x, mul, lo, hi, zero, out);
}

void igq_exec_affine_i32__avx2(int64_t n, const int32_t *x, int32_t add, float scale, float *out)
{
    exec_affine_i32(n, x, add, scale, out);
}

void igq_exec_colminmax_i32__avx2(int64_t rows, int64_t C, const int32_t *a, int64_t ld,
                             int32_t *mn, int32_t *mx)
{
    exec_colminmax_i32(rows, C, a, ld, mn, mx);
}

void igq_exec_colminmax_f32__avx2(int64_t rows, int64_t C, const float *x, int64_t ld, float *mn,
                             float *mx)
{
    exec_colminmax_f32(rows, C, x, ld, mn, mx);
}

void igq_exec_f32_to_fixed__avx2(int64_t n, const float *x, float mul, int32_t *out) { exec_f32_to_fixed(n, x, mul, out); }

float igq_exec_absmax__avx2(int64_t n, const float *x) { return exec_absmax(n, x); }

void igq_exec_scale_rne__avx2(int64_t n, const float *x, float f, int32_t *out)
{
    exec_scale_rne(n, x, f, out);
}

void igq_exec_sub_rows_i32__avx2(int64_t rows, int64_t n, int32_t *x, int64_t ld, const int32_t *v)
{
    exec_sub_rows_i32(rows, n, x, ld, v);
}

int32_t igq_exec_rowmax_i32__avx2(int64_t n, const int32_t *x) { return exec_rowmax_i32(n, x); }

int32_t igq_exec_sum_u8__avx2(int64_t n, const uint8_t *x) { return exec_sum_u8(n, x); }

#else
typedef int igq_exec_avx2_empty; /* ISO C forbids an empty translation unit */
#endif
