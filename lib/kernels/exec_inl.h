/* Element-wise helpers of the integer executor (quantize f32 / int32 rows to codes, column
 * min/max, f32 -> fixed point, LayerNorm input conversion, attention row helpers), written
 * once as plain C loops. Private header, static inline only: kernels.h's IGQ_EXEC_HELPERS list
 * defines igq__exec_<name>__<isa> from them in lib/kernels/scalar/exec_scalar.c for the
 * baseline target and in lib/kernels/x86_avx2|x86_avx512/exec_*.c for their ISA (built with
 * -O3 so the compiler vectorizes the loops). Only exact operations are used (float multiply,
 * compare, the add/subtract rounding of igq__rne, conversions of integral floats; no
 * contraction under -std=c99), so every instantiation gives the same bits. */
#ifndef IGQ_KERNELS_EXEC_INL_H
#define IGQ_KERNELS_EXEC_INL_H

#include <stdint.h>
#include <string.h>

#include "qs8_gsum_inl.h"

/* Quantization of one row into codes, with per-channel parameters: for i < n,
 *   out[i] = clamp(rne(x[i] mul[i]), lo[i], hi[i]) + zero[i]
 * lo/hi = qmin - z, qmax - z (the result is in [qmin, qmax] <= 255), mul = 1 / scale (f32
 * source) or S / scale (int32 source at scale S, converted to float first: exact below 2^24).
 * rne: igq__rne's add/subtract of 1.5 * 2^23 (|v| <= 2^22 after the clamp: |zero| <= 2^20).
 * A NaN (a NaN pixel, or a NaN/inf parameter of a loaded model) clamps to lo: the comparisons
 * are written so that NaN fails them (maxps / minps with v first at the SIMD levels), never
 * reaching the int conversion, which would be undefined. */
#define EXEC_QUANT_BODY(LOADX)                                                         \
    int64_t i;                                                                         \
    for (i = 0; i < n; i++) {                                                          \
        float v = (LOADX) * mul[i];                                                    \
        v       = v > lo[i] ? v : lo[i];                                               \
        v       = v < hi[i] ? v : hi[i];                                               \
        v       = (v + 12582912.0f) - 12582912.0f;                                     \
        out[i]  = (uint8_t)((int32_t)v + zero[i]);                                     \
    }

static inline void exec_quant_f32(int64_t n, const float *x, const float *mul, const float *lo,
                                  const float *hi, const int32_t *zero, uint8_t *out)
{
    EXEC_QUANT_BODY(x[i])
}

static inline void exec_quant_i32(int64_t n, const int32_t *x, const float *mul,
                                  const float *lo, const float *hi, const int32_t *zero,
                                  uint8_t *out)
{
    EXEC_QUANT_BODY((float)x[i])
}
#undef EXEC_QUANT_BODY

/* out[i] = scale * (float)(x[i] + add) (the P V epilogue of a row; x[i] + add must not
 * overflow int32) */
static inline void exec_affine_i32(int64_t n, const int32_t *x, int32_t add, float scale,
                                   float *out)
{
    int64_t i;
    for (i = 0; i < n; i++) out[i] = scale * (float)(x[i] + add);
}

/* mn[c], mx[c] over rows of a [rows][C] (row stride ld); rows >= 1. One body for the int32
 * and the float rows (exact: comparisons only). */
#define EXEC_COLMINMAX_BODY(T)                                                         \
    int64_t r, c;                                                                      \
    for (c = 0; c < C; c++) mn[c] = mx[c] = a[c];                                      \
    for (r = 1; r < rows; r++) {                                                       \
        const T *ar = a + r * ld;                                                      \
        for (c = 0; c < C; c++) {                                                      \
            mn[c] = ar[c] < mn[c] ? ar[c] : mn[c];                                     \
            mx[c] = ar[c] > mx[c] ? ar[c] : mx[c];                                     \
        }                                                                              \
    }

static inline void exec_colminmax_i32(int64_t rows, int64_t C, const int32_t *a, int64_t ld,
                                      int32_t *mn, int32_t *mx)
{
    EXEC_COLMINMAX_BODY(int32_t)
}

static inline void exec_colminmax_f32(int64_t rows, int64_t C, const float *a, int64_t ld,
                                      float *mn, float *mx)
{
    EXEC_COLMINMAX_BODY(float)
}
#undef EXEC_COLMINMAX_BODY

/* Group of each of n channels with range [m_i, M_i] under the COVER policy (quant.h
 * igq__group_assign with IGQ__ASSIGN_COVER, groups sorted by width): the first g with
 * clo[g] <= m_i and chi[g] >= M_i, taken as G vectorizable passes from the last group down
 * (each keeps g where g covers: the smallest covering g remains); channels no group covers
 * (out still -1: rare, or a NaN bound) then take the least clipping cl + ch, the first of equal
 * ones, by the same scalar loop as igq__group_assign. The int32 form reads m_i = (float)mn[i] S
 * (the int32 sites' ranges at their source scale S). */
#define EXEC_GROUP_COVER_BODY(LOADM, LOADX)                                            \
    int64_t i;                                                                         \
    int32_t g;                                                                         \
    for (i = 0; i < n; i++) out[i] = -1;                                               \
    for (g = G - 1; g >= 0; g--) {                                                     \
        const float cl = clo[g], ch = chi[g];                                          \
        for (i = 0; i < n; i++) {                                                      \
            const float m = (LOADM), M = (LOADX);                                      \
            out[i]        = ((cl <= m) & (ch >= M)) ? g : out[i];                       \
        }                                                                              \
    }                                                                                  \
    for (i = 0; i < n; i++)                                                            \
        if (out[i] < 0) {                                                              \
            const float m = (LOADM), M = (LOADX);                                      \
            float       bestv = 0.0f;                                                  \
            int32_t     best  = 0;                                                     \
            for (g = 0; g < G; g++) {                                                  \
                float cl = clo[g] > m ? clo[g] - m : 0.0f, ch = M > chi[g] ? M - chi[g] : 0.0f; \
                float v  = cl + ch;                                                    \
                if (g == 0 || v < bestv) {                                             \
                    bestv = v;                                                         \
                    best  = g;                                                         \
                }                                                                      \
            }                                                                          \
            out[i] = best;                                                             \
        }

static inline void exec_group_cover_f32(int64_t n, const float *mn, const float *mx, int32_t G,
                                        const float *clo, const float *chi, int32_t *out)
{
    EXEC_GROUP_COVER_BODY(mn[i], mx[i])
}

static inline void exec_group_cover_i32(int64_t n, const int32_t *mn, const int32_t *mx,
                                        float S, int32_t G, const float *clo, const float *chi,
                                        int32_t *out)
{
    EXEC_GROUP_COVER_BODY((float)mn[i] * S, (float)mx[i] * S)
}
#undef EXEC_GROUP_COVER_BODY

/* max of x[0..n), n >= 1 */
static inline int32_t exec_rowmax_i32(int64_t n, const int32_t *x)
{
    int32_t m = x[0];
    int64_t i;
    for (i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

/* sum of n bytes (n < 2^23: no overflow) */
static inline int32_t exec_sum_u8(int64_t n, const uint8_t *x)
{
    int32_t s = 0;
    int64_t i;
    for (i = 0; i < n; i++) s += x[i];
    return s;
}

/* The residual update of contiguous rows [rows][n]: x[r n + j] += y[r n + j] (ls NULL) or
 * += y[r n + j] * ls[j] (layer scale; the product rounded, then the sum: no contraction) */
static inline void exec_add_rows_f32(int64_t rows, int64_t n, float *x, const float *y,
                                     const float *ls)
{
    int64_t r, j;
    if (ls == NULL)
        for (j = 0; j < rows * n; j++) x[j] += y[j];
    else
        for (r = 0; r < rows; r++) {
            float       *xr = x + r * n;
            const float *yr = y + r * n;
            for (j = 0; j < n; j++) xr[j] += yr[j] * ls[j];
        }
}

#endif
