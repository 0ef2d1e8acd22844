/* Kernel function types and the ISA kernels' entry points. Private header.
 * Included from ISA files, so it holds only declarations (no function bodies). */
#ifndef IGQ_KERNELS_KERNELS_H
#define IGQ_KERNELS_KERNELS_H

#include <stdint.h>

/* x86-64 ISA kernels exist in this build (the Makefile compiles lib/kernels/x86_* only on
 * x86-64 targets; the files' bodies are guarded by the same test). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define IGQ_X86_KERNELS 1
#endif

/* fp32 GEMM: C[m][n] = bias[n] + sum_k A[m][k] * B[k][n] for m < M, n < N.
 * A has row stride lda, C row stride ldc, B is [K][N] contiguous row-major; bias may be NULL
 * (treated as 0). M, N, K >= 0; K == 0 writes bias (or 0). C must not overlap A, B or bias.
 * Contract of the SIMD variants: every C element is the single fmaf chain
 *   c = bias[n] (or 0); for k = 0..K-1: c = fmaf(A[m][k], B[k][n], c)
 * so results are identical whatever the blocking, the rows computed together, or the ISA
 * (scalar, avx2 and avx512 give the same bits: the scalar reference is this chain). */
typedef void (*igq_f32_gemm_fn)(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                                const float *B, const float *bias, float *C, int64_t ldc);
/* Prototype of an igq_f32_gemm_fn kernel. */
#define IGQ_F32_GEMM_DECL(fn)                                                              \
    void fn(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B,  \
            const float *bias, float *C, int64_t ldc)

/* fp32 GELU in place on x[0..n): the formula, accuracy and special values of
 * igq__f32_gelu_erfc_ref (f32_ref.h); every level gives the bits of that reference. */
typedef void (*igq_f32_gelu_fn)(int64_t n, float *x);

/* fp32 softmax of scale * x in place over rows of n >= 1 floats (row stride ldx): the
 * operations, summation order and exp of igq__f32_softmax_scaled_ref (f32_ref.h); every level
 * gives the bits of that reference. */
typedef void (*igq_f32_softmax_fn)(int64_t rows, int64_t n, float scale, float *x, int64_t ldx);

/* fp32 LayerNorm of contiguous rows: the operations and summation order of
 * igq__f32_layernorm_p16_ref (f32_ref.h); every level gives the bits of that reference. */
typedef void (*igq_f32_layernorm_fn)(int64_t rows, int64_t n, const float *x, const float *w,
                                     const float *b, float eps, float *y);

/* Integer GEMM, u8 activations x int8 (qs8) or int4 (qs4) weights, int32 raw dot products:
 *   C[m][n] = sum_{k0 <= k < k1} A[m][k] * Wp[n][kperm != NULL ? kperm[k] : k]
 * for m < M, n < N, where Wp is the packed weight (packed row j = W[:, perm[j]] of the pack
 * call; layout in qs8_layout.h, shared by all levels). A: u8 codes (0..255; 4-bit activations
 * are the same bytes with values 0..15), row stride lda; only A[m][k0..k1) is read. C: row
 * stride ldc, overwritten (k1 <= k0 writes zeros); columns >= N are not touched.
 * K: rows of the packed panels (the pack call's K); 0 <= k0, k1 <= K for kperm == NULL,
 * else kperm[k] in [0, K) for k in [k0, k1) (kperm is read only there).
 * Exact (no saturation, no rounding) while k1 - k0 <= IGQ_QS8_MAX_K = 65793; every level gives
 * the same bits as the scalar reference. Thread safety: any thread (stack scratch only). */
typedef void (*igq_qgemm_fn)(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                             const uint8_t *A, int64_t lda, const void *packed,
                             const int32_t *kperm, int32_t *C, int64_t ldc);

/* Weight packing for igq_qgemm_fn: W is [N][K] int8 row-major (qs4: values -8..7; only the
 * low 4 bits are stored). packed row j = W[:, perm[j]] (perm NULL = identity; entries in
 * [0, K)). packed: igq__qs8_packed_size(N, K, 8 or 4) bytes (64-byte alignment recommended),
 * padding columns are written as zeros. rowsum (may be NULL): rowsum[n] = sum_j Wp[n][j]. */
typedef void (*igq_qpack_fn)(int64_t N, int64_t K, const int8_t *W, const int32_t *perm,
                             void *packed, int32_t *rowsum);

/* Grouped integer GEMM with the f32 group epilogue fused (IGQ's linear layer, ALGORITHMS.md
 * 1.8). The K columns of A are in G groups, group g = A columns off[g] .. off[g+1] - 1
 * (0 = off[0] <= ... <= off[G] = K; empty groups allowed). For m < M, n < N:
 *   acc_g = sum_{off[g] <= k < off[g+1]} A[m][k] * Wp[n][kperm != NULL ? kperm[k] : k]
 *   f = 0; for g = 0..G-1 with a non-empty range: f = fmaf(gs[g], (float)acc_g, f)
 *   Y[m][n] = fmaf(colscale[n], f, colbias[n])
 * acc_g exact as in igq_qgemm_fn; the same operations as igq_qgemm_fn per group followed
 * by igq_i32_fold_fn, so the two paths give the same bits. ws: igq__qs8_ggemm_ws_size(K, G)
 * bytes of 64-byte aligned scratch (qs8_layout.h). Y must not overlap the inputs. */
typedef void (*igq_qggemm_fn)(int64_t M, int64_t N, int64_t K, int32_t G, const int32_t *off,
                              const float *gs, const uint8_t *A, int64_t lda,
                              const void *packed, const int32_t *kperm, const float *colscale,
                              const float *colbias, float *Y, int64_t ldy, void *ws);

/* Prototypes of igq_qgemm_fn / igq_qggemm_fn kernels, and the definitions of a level's two
 * entry points (qs8 and qs4 weights) from one function taking the weight bits (8 or 4) first,
 * then the entry's arguments. */
#define IGQ_QGEMM_DECL(fn)                                                                 \
    void fn(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1, const uint8_t *A,     \
            int64_t lda, const void *packed, const int32_t *kperm, int32_t *C, int64_t ldc)
#define IGQ_QGGEMM_DECL(fn)                                                                \
    void fn(int64_t M, int64_t N, int64_t K, int32_t G, const int32_t *off, const float *gs, \
            const uint8_t *A, int64_t lda, const void *packed, const int32_t *kperm,       \
            const float *colscale, const float *colbias, float *Y, int64_t ldy, void *ws)
#define IGQ_QGEMM_ENTRIES(qs8_fn, qs4_fn, impl)                                            \
    IGQ_QGEMM_DECL(qs8_fn) { impl(8, M, N, K, k0, k1, A, lda, packed, kperm, C, ldc); }    \
    IGQ_QGEMM_DECL(qs4_fn) { impl(4, M, N, K, k0, k1, A, lda, packed, kperm, C, ldc); }
#define IGQ_QGGEMM_ENTRIES(qs8_fn, qs4_fn, impl)                                           \
    IGQ_QGGEMM_DECL(qs8_fn)                                                                \
    {                                                                                      \
        impl(8, M, N, K, G, off, gs, A, lda, packed, kperm, colscale, colbias, Y, ldy, ws); \
    }                                                                                      \
    IGQ_QGGEMM_DECL(qs4_fn)                                                                \
    {                                                                                      \
        impl(4, M, N, K, G, off, gs, A, lda, packed, kperm, colscale, colbias, Y, ldy, ws); \
    }

/* Element-wise helpers of the integer executor (semantics in exec_inl.h; one plain-C source
 * compiled per level, so all levels give the same bits). */
typedef struct igq_exec_fns {
    void (*quant_f32)(int64_t n, const float *x, const float *mul, const float *lo,
                      const float *hi, const int32_t *zero, uint8_t *out);
    void (*quant_i32)(int64_t n, const int32_t *x, const float *mul, const float *lo,
                      const float *hi, const int32_t *zero, uint8_t *out);
    void (*affine_i32)(int64_t n, const int32_t *x, int32_t add, float scale, float *out);
    void (*colminmax_i32)(int64_t rows, int64_t C, const int32_t *a, int64_t ld, int32_t *mn,
                          int32_t *mx);
    void (*colminmax_f32)(int64_t rows, int64_t C, const float *x, int64_t ld, float *mn,
                          float *mx);
    void (*f32_to_fixed)(int64_t n, const float *x, float mul, int32_t *out);
    float (*absmax)(int64_t n, const float *x);
    void (*scale_rne)(int64_t n, const float *x, float f, int32_t *out);
    void (*sub_rows_i32)(int64_t rows, int64_t n, int32_t *x, int64_t ld, const int32_t *v);
    int32_t (*rowmax_i32)(int64_t n, const int32_t *x);
    int32_t (*sum_u8)(int64_t n, const uint8_t *x);
} igq_exec_fns;
void igq__exec_quant_f32_ref(int64_t n, const float *x, const float *mul, const float *lo,
                         const float *hi, const int32_t *zero, uint8_t *out);
void igq__exec_quant_i32_ref(int64_t n, const int32_t *x, const float *mul, const float *lo,
                         const float *hi, const int32_t *zero, uint8_t *out);
void igq__exec_affine_i32_ref(int64_t n, const int32_t *x, int32_t add, float scale, float *out);
void igq__exec_colminmax_i32_ref(int64_t rows, int64_t C, const int32_t *a, int64_t ld,
                             int32_t *mn, int32_t *mx);
void igq__exec_colminmax_f32_ref(int64_t rows, int64_t C, const float *x, int64_t ld, float *mn,
                             float *mx);
void igq__exec_f32_to_fixed_ref(int64_t n, const float *x, float mul, int32_t *out);
float igq__exec_absmax_ref(int64_t n, const float *x);
void igq__exec_scale_rne_ref(int64_t n, const float *x, float f, int32_t *out);
void igq__exec_sub_rows_i32_ref(int64_t rows, int64_t n, int32_t *x, int64_t ld, const int32_t *v);
int32_t igq__exec_rowmax_i32_ref(int64_t n, const int32_t *x);
int32_t igq__exec_sum_u8_ref(int64_t n, const uint8_t *x);

/* Integer non-linear kernels (semantics, parameter structs and scalar references in nonlin.h;
 * every level gives the same bits as the reference). */
#include "nonlin.h"

/* int32 row -> unsigned codes, per-channel or per-tensor (mult, shift, zero). */
typedef void (*igq_i32_requant_fn)(int64_t n, const int32_t *x, const int32_t *mult,
                                   const int32_t *shift, const int32_t *zero, int per_channel,
                                   int32_t qmin, int32_t qmax, uint8_t *out);
/* Softmax over rows x n int32 logits -> A-bit codes / p at scale 2^-20. */
typedef void (*igq_i32_softmax_u8_fn)(const igq_softmax_params *p, int64_t rows, int64_t n,
                                      const int32_t *x, int64_t ldx, uint8_t *out, int64_t ldo);
typedef void (*igq_i32_softmax_q20_fn)(const igq_softmax_params *p, int64_t rows, int64_t n,
                                       const int32_t *x, int64_t ldx, int32_t *out,
                                       int64_t ldo);
/* LayerNorm of one row of p->C values: statistics, then apply (int32 at S_y, or codes). */
typedef void (*igq_i32_ln_stats_fn)(const igq_ln_params *p, const int32_t *x, igq_ln_row *row);
typedef void (*igq_i32_ln_apply_fn)(const igq_ln_params *p, const igq_ln_row *row,
                                    const int32_t *x, int32_t *out);
typedef void (*igq_i32_ln_apply_rq_fn)(const igq_ln_params *p, const igq_ln_row *row,
                                       const int32_t *x, const int32_t *mult,
                                       const int32_t *shift, const int32_t *zero,
                                       int per_channel, int32_t qmin, int32_t qmax,
                                       uint8_t *out);
/* GELU of int32 accumulators with a dyadic scale -> int32 at 2^-IGQ_GELU_FRAC. */
typedef void (*igq_i32_gelu_fn)(const igq_gelu_params *p, int64_t n, const int32_t *acc,
                                const int32_t *mult, const int32_t *shift, int per_channel,
                                int32_t *out);

/* Grouped-GEMM fold over rows x n: for every row r and column j,
 *   f = fmaf(s, (float)acc[r][j], first ? 0 : out[r][j]);
 *   out[r][j] = colscale != NULL ? fmaf(colscale[j], f, colbias[j]) : f
 * (int32 -> float rounds to nearest even; fmaf rounds once). Every level gives the bits of the
 * scalar reference. Used by the integer executor to sum IGQ's per-group int32 partial sums
 * with the groups' scales and, at the last group, apply the per-output-channel weight scale
 * and the bias (ALGORITHMS.md 1.8); the fused grouped GEMM (igq_qggemm_fn) follows the same
 * operation order. out must not overlap acc. */
typedef void (*igq_i32_fold_fn)(int64_t rows, int64_t n, float s, const int32_t *acc,
                                int64_t lda, const float *colscale, const float *colbias,
                                float *out, int64_t ldo, int first);
void igq__i32_fold_ref(int64_t rows, int64_t n, float s, const int32_t *acc, int64_t lda,
                       const float *colscale, const float *colbias, float *out, int64_t ldo,
                       int first);

#ifdef IGQ_X86_KERNELS
/* lib/kernels/x86_avx2/exec_avx2.c, lib/kernels/x86_avx512/exec_avx512.c */
void igq_exec_quant_f32__avx2(int64_t n, const float *x, const float *mul, const float *lo,
                         const float *hi, const int32_t *zero, uint8_t *out);
void igq_exec_quant_i32__avx2(int64_t n, const int32_t *x, const float *mul, const float *lo,
                         const float *hi, const int32_t *zero, uint8_t *out);
void igq_exec_affine_i32__avx2(int64_t n, const int32_t *x, int32_t add, float scale, float *out);
void igq_exec_colminmax_i32__avx2(int64_t rows, int64_t C, const int32_t *a, int64_t ld,
                             int32_t *mn, int32_t *mx);
void igq_exec_colminmax_f32__avx2(int64_t rows, int64_t C, const float *x, int64_t ld, float *mn,
                             float *mx);
void igq_exec_f32_to_fixed__avx2(int64_t n, const float *x, float mul, int32_t *out);
float igq_exec_absmax__avx2(int64_t n, const float *x);
void igq_exec_scale_rne__avx2(int64_t n, const float *x, float f, int32_t *out);
void igq_exec_sub_rows_i32__avx2(int64_t rows, int64_t n, int32_t *x, int64_t ld, const int32_t *v);
int32_t igq_exec_rowmax_i32__avx2(int64_t n, const int32_t *x);
int32_t igq_exec_sum_u8__avx2(int64_t n, const uint8_t *x);
void igq_exec_quant_f32__avx512(int64_t n, const float *x, const float *mul, const float *lo,
                         const float *hi, const int32_t *zero, uint8_t *out);
void igq_exec_quant_i32__avx512(int64_t n, const int32_t *x, const float *mul, const float *lo,
                         const float *hi, const int32_t *zero, uint8_t *out);
void igq_exec_affine_i32__avx512(int64_t n, const int32_t *x, int32_t add, float scale, float *out);
void igq_exec_colminmax_i32__avx512(int64_t rows, int64_t C, const int32_t *a, int64_t ld,
                             int32_t *mn, int32_t *mx);
void igq_exec_colminmax_f32__avx512(int64_t rows, int64_t C, const float *x, int64_t ld, float *mn,
                             float *mx);
void igq_exec_f32_to_fixed__avx512(int64_t n, const float *x, float mul, int32_t *out);
float igq_exec_absmax__avx512(int64_t n, const float *x);
void igq_exec_scale_rne__avx512(int64_t n, const float *x, float f, int32_t *out);
void igq_exec_sub_rows_i32__avx512(int64_t rows, int64_t n, int32_t *x, int64_t ld, const int32_t *v);
int32_t igq_exec_rowmax_i32__avx512(int64_t n, const int32_t *x);
int32_t igq_exec_sum_u8__avx512(int64_t n, const uint8_t *x);
/* lib/kernels/x86_avx2/fold_avx2.c, lib/kernels/x86_avx512/fold_avx512.c */
void igq_i32_fold__avx2(int64_t rows, int64_t n, float s, const int32_t *acc, int64_t lda,
                        const float *colscale, const float *colbias, float *out, int64_t ldo,
                        int first);
void igq_i32_fold__avx512(int64_t rows, int64_t n, float s, const int32_t *acc, int64_t lda,
                          const float *colscale, const float *colbias, float *out, int64_t ldo,
                          int first);
/* lib/kernels/x86_avx2/f32_gemm_avx2.c: 6x16 register tile (ymm), 16-column B panels;
 * lib/kernels/x86_avx512/f32_gemm_avx512.c: 12x32 register tile (zmm), 32-column B panels;
 * both instances of f32_gemm_driver.h. */
IGQ_F32_GEMM_DECL(igq__f32_gemm_6x16__avx2);
IGQ_F32_GEMM_DECL(igq__f32_gemm_12x32__avx512);
/* lib/kernels/x86_avx2/f32_gelu_avx2.c (8 lanes), lib/kernels/x86_avx512/f32_gelu_avx512.c
 * (16 lanes, masked tail): igq_f32_gelu_fn. */
void igq_f32_gelu__avx2(int64_t n, float *x);
void igq_f32_gelu__avx512(int64_t n, float *x);
/* lib/kernels/x86_avx2/f32_softmax_avx2.c, lib/kernels/x86_avx512/f32_softmax_avx512.c:
 * igq_f32_softmax_fn. */
void igq_f32_softmax__avx2(int64_t rows, int64_t n, float scale, float *x, int64_t ldx);
void igq_f32_softmax__avx512(int64_t rows, int64_t n, float scale, float *x, int64_t ldx);
/* lib/kernels/x86_avx2/f32_layernorm_avx2.c, lib/kernels/x86_avx512/f32_layernorm_avx512.c:
 * igq_f32_layernorm_fn. */
void igq_f32_layernorm__avx2(int64_t rows, int64_t n, const float *x, const float *w,
                             const float *b, float eps, float *y);
void igq_f32_layernorm__avx512(int64_t rows, int64_t n, const float *x, const float *w,
                               const float *b, float eps, float *y);

/* Integer GEMMs (igq_qgemm_fn), one file per level, all instances of qgemm_driver.h;
 * qs4 = int4 weights.
 * lib/kernels/x86_avx2/qs8_gemm_avx2.c: 6 rows x 16 columns, vpmovsxbw + vpmaddwd on k pairs. */
IGQ_QGEMM_DECL(igq__qs8_gemm_6x16c2__avx2);
IGQ_QGEMM_DECL(igq__qs4_gemm_6x16c2__avx2);
/* lib/kernels/x86_avxvnni/qs8_gemm_avxvnni.c: 6 x 16, ymm vpdpbusd (VEX) on k quads. */
IGQ_QGEMM_DECL(igq__qs8_gemm_6x16c4__avxvnni);
IGQ_QGEMM_DECL(igq__qs4_gemm_6x16c4__avxvnni);
/* lib/kernels/x86_avx512/qs8_gemm_avx512vnni.c: 6 x 64, zmm vpdpbusd on k quads. */
IGQ_QGEMM_DECL(igq__qs8_gemm_6x64c4__avx512vnni);
IGQ_QGEMM_DECL(igq__qs4_gemm_6x64c4__avx512vnni);
/* lib/kernels/x86_avx512/qs8_ggemm_avx512vnni.c: grouped (igq_qggemm_fn), 6 x 64 tiles, f32
 * sums in L1. */
IGQ_QGGEMM_DECL(igq__qs8_ggemm_6x64c4__avx512vnni);
IGQ_QGGEMM_DECL(igq__qs4_ggemm_6x64c4__avx512vnni);

/* Integer non-linear kernels (nonlin.h), one file per op and level:
 * lib/kernels/x86_avx2/{requant,softmax,layernorm,gelu}_avx2.c: 8 int32 lanes (ymm), 64-bit
 * products on 4-lane halves, vpgatherdd for the tables, scalar tails through nonlin_inl.h. */
void igq_i32_requant__avx2(int64_t n, const int32_t *x, const int32_t *mult,
                           const int32_t *shift, const int32_t *zero, int per_channel,
                           int32_t qmin, int32_t qmax, uint8_t *out);
void igq_i32_softmax_u8__avx2(const igq_softmax_params *p, int64_t rows, int64_t n,
                              const int32_t *x, int64_t ldx, uint8_t *out, int64_t ldo);
void igq_i32_softmax_q20__avx2(const igq_softmax_params *p, int64_t rows, int64_t n,
                               const int32_t *x, int64_t ldx, int32_t *out, int64_t ldo);
void igq_i32_ln_stats__avx2(const igq_ln_params *p, const int32_t *x, igq_ln_row *row);
void igq_i32_ln_apply__avx2(const igq_ln_params *p, const igq_ln_row *row, const int32_t *x,
                            int32_t *out);
void igq_i32_ln_apply_rq__avx2(const igq_ln_params *p, const igq_ln_row *row,
                               const int32_t *x, const int32_t *mult, const int32_t *shift,
                               const int32_t *zero, int per_channel, int32_t qmin,
                               int32_t qmax, uint8_t *out);
void igq_i32_gelu__avx2(const igq_gelu_params *p, int64_t n, const int32_t *acc,
                        const int32_t *mult, const int32_t *shift, int per_channel,
                        int32_t *out);
/* lib/kernels/x86_avx512/{requant,softmax,layernorm,gelu}_avx512.c: 16 int32 lanes (zmm) or 8
 * 64-bit lanes, masked tails (AVX-512 F/BW/VL only; used by the avx512vnni level). */
void igq_i32_requant__avx512(int64_t n, const int32_t *x, const int32_t *mult,
                             const int32_t *shift, const int32_t *zero, int per_channel,
                             int32_t qmin, int32_t qmax, uint8_t *out);
void igq_i32_softmax_u8__avx512(const igq_softmax_params *p, int64_t rows, int64_t n,
                                const int32_t *x, int64_t ldx, uint8_t *out, int64_t ldo);
void igq_i32_softmax_q20__avx512(const igq_softmax_params *p, int64_t rows, int64_t n,
                                 const int32_t *x, int64_t ldx, int32_t *out, int64_t ldo);
void igq_i32_ln_stats__avx512(const igq_ln_params *p, const int32_t *x, igq_ln_row *row);
void igq_i32_ln_apply__avx512(const igq_ln_params *p, const igq_ln_row *row, const int32_t *x,
                              int32_t *out);
void igq_i32_ln_apply_rq__avx512(const igq_ln_params *p, const igq_ln_row *row,
                                 const int32_t *x, const int32_t *mult, const int32_t *shift,
                                 const int32_t *zero, int per_channel, int32_t qmin,
                                 int32_t qmax, uint8_t *out);
void igq_i32_gelu__avx512(const igq_gelu_params *p, int64_t n, const int32_t *acc,
                          const int32_t *mult, const int32_t *shift, int per_channel,
                          int32_t *out);
#endif

#endif
