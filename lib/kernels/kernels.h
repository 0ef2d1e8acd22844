/* Kernel function types and the ISA kernels' entry points. Private header.
 * Included from ISA files, so it holds only declarations (no function bodies). */
#ifndef IGQ_KERNELS_KERNELS_H
#define IGQ_KERNELS_KERNELS_H

#include "../core/compiler.h"

#include <stdint.h>
#include <stddef.h>

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

/* ---- Non-GEMM kernels ------------------------------------------------------------------
 * Each family has a prototype macro IGQ_<FAMILY>_PROTO(fn) (the parameter list written once:
 * it makes the function-pointer typedef, the declaration of every level's kernel and the
 * kernels' definitions) and a kernel igq__<dtype>_<op>__<isa> per level: scalar (the
 * reference; every other level gives its bits), avx2 (also used by avxvnni), avx512 (used
 * by avx512vnni). The generic SIMD bodies are in lib/kernels/simd/. */

/* fp32 GELU in place on x[0..n): x Phi(x) = 0.5 x erfc(-x / sqrt 2), computed from erfc with
 * its own approximation (no libm erff; simd/f32_math_impl.h). With t = min(|x|, 13):
 *   E = exp(-t^2 / 2) u P(u),  u = 1 / (1 + t / 2),  P the degree-10 polynomial of
 *   f32_math_impl.h (a Chebyshev fit of erfc(t / sqrt 2) exp(t^2 / 2) / u on t in [0, 13],
 *   our own); h = E / 2 (= Phi(-|x|)), or 0 when |x| > 13;
 *   gelu(x) = x (1 - h) for x >= 0, max(x, -14) h for x < 0 (no cancellation either side).
 * exp(-t^2/2): t^2 is split exactly into hi + lo with an fma; exp(-hi/2) = 2^n exp(r) with
 * n = round((-hi/2) log2 e), r reduced with a two-part ln 2 and a degree-7 Taylor polynomial;
 * the lo part enters as the factor (1 - lo/2).
 * Accuracy against the double-precision 0.5 x (1 + erf(x / sqrt 2)): relative error below
 * 6e-7 for every finite x whose GELU is above 1e-36 in magnitude (the fit and the float
 * evaluation; measured 4.3e-7 over every 7th float of both signs; the libm form
 * 0.5 x (1 + erff) loses all digits for x < -5); below that, absolute error <= 1e-37
 * (x < -13 gives -0). Special values: gelu(+inf) = +inf, gelu(-inf) = -0, NaN -> NaN,
 * gelu(-0) = -0, denormals -> x / 2. */
#define IGQ_F32_GELU_PROTO(fn) void fn(int64_t n, float *x)

/* fp32 softmax of scale * x in place over `rows` rows of n >= 1 floats (row stride ldx), with
 * the library's own exp. Per row:
 *   v[i] = x[i] * scale; m = max v; e[i] = exp(v[i] - m); the sum of e runs in 16
 *   interleaved partial sums (partial j adds e[i] for i = j mod 16 in increasing i), reduced
 *   as (p[j] + p[j+8]) for j < 8, then halves again (4, 2, 1); y[i] = e[i] * (1 / sum).
 * exp(d), d <= 0: the exp of the GELU on max(d, -87) (n = round(d log2 e) >= -126, so 2^n is
 * normal; relative error below 3 u = 1.8e-7, derived in test_kernels_f32), and 0 for
 * d < -87 (true value < 1.7e-38). Rows with NaN give unspecified values; -inf entries give 0
 * (unless the whole row is -inf). */
#define IGQ_F32_SOFTMAX_PROTO(fn) \
    void fn(int64_t rows, int64_t n, float scale, float *x, int64_t ldx)

/* fp32 LayerNorm of `rows` contiguous rows of n >= 1 floats (x and y row stride n), in float
 * with a fixed summation order. Per row, every sum in the 16 interleaved partials of the
 * softmax (partial j adds the terms i = j mod 16; then 8, 4, 2, 1):
 *   mean = (sum x) / n; d[i] = x[i] - mean; c = (sum d) / n; var = (sum of fmaf(d, d, .)) / n
 *   - c * c; r = 1 / sqrtf(var + eps); y[i] = fmaf(((x[i] - mean) - c) * r, w[i], b[i]).
 * c corrects the rounding of the float mean (the corrected two-pass algorithm; x - mean is
 * exact near the mean), so rows with a large offset keep their accuracy (test_kernels_f32
 * derives the error bound against LayerNorm in double). */
#define IGQ_F32_LAYERNORM_PROTO(fn)                                                           \
    void fn(int64_t rows, int64_t n, const float *x, const float *w, const float *b, float eps, \
            float *y)

typedef IGQ_F32_GELU_PROTO((*igq_f32_gelu_fn));
typedef IGQ_F32_SOFTMAX_PROTO((*igq_f32_softmax_fn));
typedef IGQ_F32_LAYERNORM_PROTO((*igq_f32_layernorm_fn));

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

/* Element-wise helpers of the integer executor (semantics in exec_inl.h). One plain-C source
 * compiled once per level (lib/kernels/{scalar,x86_avx2,x86_avx512}/exec_*.c), so all levels
 * give the same bits. The list below makes the igq_exec_fns table, every level's declarations
 * (igq__exec_<name>__<isa>), their definitions and the dispatch assignments:
 *   X(lvl, return type, name, (parameters), (arguments), `return` or nothing) */
#define IGQ_EXEC_HELPERS(X, lvl)                                                                  \
    X(lvl, void, quant_f32,                                                                      \
      (int64_t n, const float *x, const float *mul, const float *lo, const float *hi,            \
       const int32_t *zero, uint8_t *out),                                                       \
      (n, x, mul, lo, hi, zero, out), )                                                          \
    X(lvl, void, quant_i32,                                                                      \
      (int64_t n, const int32_t *x, const float *mul, const float *lo, const float *hi,          \
       const int32_t *zero, uint8_t *out),                                                       \
      (n, x, mul, lo, hi, zero, out), )                                                          \
    X(lvl, void, affine_i32, (int64_t n, const int32_t *x, int32_t add, float scale, float *out), \
      (n, x, add, scale, out), )                                                                 \
    X(lvl, void, colminmax_i32,                                                                  \
      (int64_t rows, int64_t C, const int32_t *a, int64_t ld, int32_t *mn, int32_t *mx),         \
      (rows, C, a, ld, mn, mx), )                                                                \
    X(lvl, void, colminmax_f32,                                                                  \
      (int64_t rows, int64_t C, const float *a, int64_t ld, float *mn, float *mx),               \
      (rows, C, a, ld, mn, mx), )                                                                \
    X(lvl, void, group_cover_f32,                                                                \
      (int64_t n, const float *mn, const float *mx, int32_t G, const float *clo,                 \
       const float *chi, int32_t *out),                                                          \
      (n, mn, mx, G, clo, chi, out), )                                                           \
    X(lvl, void, group_cover_i32,                                                                \
      (int64_t n, const int32_t *mn, const int32_t *mx, float S, int32_t G, const float *clo,    \
       const float *chi, int32_t *out),                                                          \
      (n, mn, mx, S, G, clo, chi, out), )                                                        \
    X(lvl, int32_t, rowmax_i32, (int64_t n, const int32_t *x), (n, x), return)                   \
    X(lvl, int32_t, sum_u8, (int64_t n, const uint8_t *x), (n, x), return)                       \
    X(lvl, void, add_rows_f32,                                                                   \
      (int64_t rows, int64_t n, float *x, const float *y, const float *ls), (rows, n, x, y, ls), ) \
    X(lvl, void, qs8_gsum,                                                                       \
      (int64_t N, int64_t K, int32_t bits, const void *packed, const int32_t *kperm, int32_t G,  \
       const int32_t *off, int32_t *S, int64_t ld),                                              \
      (N, K, bits, packed, kperm, G, off, S, ld), )

#define IGQ_EXEC_FIELD(lvl, ret, name, params, args, r) ret(*name) params;
typedef struct igq_exec_fns {
    IGQ_EXEC_HELPERS(IGQ_EXEC_FIELD, )
} igq_exec_fns;
#undef IGQ_EXEC_FIELD

#define IGQ_EXEC_DECLARE(lvl, ret, name, params, args, r) ret igq__exec_##name##__##lvl params;
/* Definitions, for the per-level exec files (after exec_inl.h). */
#define IGQ_EXEC_DEFINE(lvl, ret, name, params, args, r) \
    ret igq__exec_##name##__##lvl params { r exec_##name args; }

/* Integer non-linear kernels (semantics, parameter structs and their init in nonlin.h). */
#include "nonlin.h"

/* int32 row -> unsigned codes, per-channel or per-tensor (mult, shift, zero). */
#define IGQ_I32_REQUANT_PROTO(fn)                                                             \
    void fn(int64_t n, const int32_t *x, const int32_t *mult, const int32_t *shift,         \
            const int32_t *zero, int per_channel, int32_t qmin, int32_t qmax, uint8_t *out)
/* Softmax over rows x n int32 logits -> int32 p at scale 2^-20. */
#define IGQ_I32_SOFTMAX_PROTO(fn)                                                             \
    void fn(const igq_softmax_params *p, int64_t rows, int64_t n, const int32_t *x,          \
            int64_t ldx, int32_t *out, int64_t ldo)
/* The same softmax of x[r][j] - v[j] (column offsets; every difference must fit int32). */
#define IGQ_I32_SOFTMAX_SUB_PROTO(fn)                                                         \
    void fn(const igq_softmax_params *p, int64_t rows, int64_t n, const int32_t *x,          \
            int64_t ldx, const int32_t *v, int32_t *out, int64_t ldo)
/* LayerNorm of one row of p->C values: statistics, then apply (int32 at S_y). */
#define IGQ_I32_LN_STATS_PROTO(fn) void fn(const igq_ln_params *p, const int32_t *x, igq_ln_row *row)
#define IGQ_I32_LN_APPLY_PROTO(fn)                                                            \
    void fn(const igq_ln_params *p, const igq_ln_row *row, const int32_t *x, int32_t *out)
/* LayerNorm of one row of p->C floats converted at a per-row power-of-two scale (nonlin.h). */
#define IGQ_I32_LN_F32_PROTO(fn)                                                              \
    void fn(const igq_ln_params *p, int32_t in_bits, const int64_t *eps_tab, const float *x,  \
            int32_t *xi, int32_t *out)
/* GELU of int32 accumulators with a dyadic scale -> int32 at 2^-IGQ_GELU_FRAC. */
#define IGQ_I32_GELU_PROTO(fn)                                                                \
    void fn(const igq_gelu_params *p, int64_t n, const int32_t *acc, const int32_t *mult,    \
            const int32_t *shift, int per_channel, int32_t *out)
/* GELU of f32 values (the fc1 output) -> int32 at 2^-IGQ_GELU_FRAC (nonlin.h). */
#define IGQ_I32_GELU_F32_PROTO(fn)                                                            \
    void fn(const igq_gelu_params *p, int64_t n, const float *x, float mul, int32_t *out)
/* Byte permutation of rows (the integer executor's codes into group order):
 *   dst[r * ldd + i] = src[r * lds + perm[i]]     for r < rows, i < n,  perm[i] in [0, n)
 * plan: igq__u8_perm_plan_size(n) bytes (8-byte aligned), made from perm by the plan kernel
 * of the SAME level (the table's u8_perm_plan) and only read by u8_perm, so one plan serves
 * any number of calls and rows. src must have 3 readable bytes past each row's n (the gather
 * levels read 4 bytes per code; padding of the caller's buffer). dst must not overlap src. */
#define IGQ_U8_PERM_PLAN_PROTO(fn) void fn(int64_t n, const int32_t *perm, void *plan)
#define IGQ_U8_PERM_PROTO(fn)                                                                 \
    void fn(int64_t rows, int64_t n, const uint8_t *src, int64_t lds, const int32_t *perm,   \
            const void *plan, uint8_t *dst, int64_t ldd)
/* Grouped-GEMM fold over rows x n: for every row r and column j,
 *   f = fmaf(s, (float)acc[r][j], first ? 0 : out[r][j]);
 *   out[r][j] = colscale != NULL ? fmaf(colscale[j], f, colbias[j]) : f
 * (int32 -> float rounds to nearest even; fmaf rounds once; colbias is read only with
 * colscale). Used by the integer executor to sum IGQ's per-group int32 partial sums with the
 * groups' scales and, at the last group, apply the per-output-channel weight scale and the
 * bias (ALGORITHMS.md 1.8); the fused grouped GEMM (igq_qggemm_fn) follows the same
 * operation order. out must not overlap acc. */
#define IGQ_I32_FOLD_PROTO(fn)                                                                \
    void fn(int64_t rows, int64_t n, float s, const int32_t *acc, int64_t lda,               \
            const float *colscale, const float *colbias, float *out, int64_t ldo, int first)

typedef IGQ_I32_REQUANT_PROTO((*igq_i32_requant_fn));
typedef IGQ_I32_SOFTMAX_PROTO((*igq_i32_softmax_fn));
typedef IGQ_I32_SOFTMAX_SUB_PROTO((*igq_i32_softmax_sub_fn));
typedef IGQ_I32_LN_STATS_PROTO((*igq_i32_ln_stats_fn));
typedef IGQ_I32_LN_APPLY_PROTO((*igq_i32_ln_apply_fn));
typedef IGQ_I32_LN_F32_PROTO((*igq_i32_ln_f32_fn));
typedef IGQ_I32_GELU_PROTO((*igq_i32_gelu_fn));
typedef IGQ_I32_GELU_F32_PROTO((*igq_i32_gelu_f32_fn));
typedef IGQ_U8_PERM_PLAN_PROTO((*igq_u8_perm_plan_fn));
typedef IGQ_U8_PERM_PROTO((*igq_u8_perm_fn));
typedef IGQ_I32_FOLD_PROTO((*igq_i32_fold_fn));

/* The non-GEMM kernels, X(lvl, name, PROTO, (arguments)): kernel igq__<name>__<lvl>, dispatch
 * table field <name>, generic body <name>_impl (lib/kernels/simd/<name>_impl.h).
 * Float kernels: the generic body is also the scalar reference (width 1, simd_scalar.h). */
#define IGQ_F32_KERNELS(X, lvl)                                                               \
    X(lvl, f32_gelu, IGQ_F32_GELU_PROTO, (n, x))                                              \
    X(lvl, f32_softmax, IGQ_F32_SOFTMAX_PROTO, (rows, n, scale, x, ldx))                      \
    X(lvl, f32_layernorm, IGQ_F32_LAYERNORM_PROTO, (rows, n, x, w, b, eps, y))                \
    X(lvl, i32_fold, IGQ_I32_FOLD_PROTO, (rows, n, s, acc, lda, colscale, colbias, out, ldo, first))
/* Integer kernels: the scalar references are written out in lib/kernels/scalar/i32_*.c. */
#define IGQ_I32_KERNELS(X, lvl)                                                               \
    X(lvl, i32_requant, IGQ_I32_REQUANT_PROTO,                                                \
      (n, x, mult, shift, zero, per_channel, qmin, qmax, out))                                \
    X(lvl, i32_softmax, IGQ_I32_SOFTMAX_PROTO, (p, rows, n, x, ldx, out, ldo))               \
    X(lvl, i32_softmax_sub, IGQ_I32_SOFTMAX_SUB_PROTO, (p, rows, n, x, ldx, v, out, ldo))   \
    X(lvl, i32_ln_stats, IGQ_I32_LN_STATS_PROTO, (p, x, row))                                 \
    X(lvl, i32_ln_apply, IGQ_I32_LN_APPLY_PROTO, (p, row, x, out))                            \
    X(lvl, i32_ln_f32, IGQ_I32_LN_F32_PROTO, (p, in_bits, eps_tab, x, xi, out))               \
    X(lvl, i32_gelu, IGQ_I32_GELU_PROTO, (p, n, acc, mult, shift, per_channel, out))        \
    X(lvl, i32_gelu_f32, IGQ_I32_GELU_F32_PROTO, (p, n, x, mul, out))                       \
    X(lvl, u8_perm_plan, IGQ_U8_PERM_PLAN_PROTO, (n, perm, plan))                             \
    X(lvl, u8_perm, IGQ_U8_PERM_PROTO, (rows, n, src, lds, perm, plan, dst, ldd))

#define IGQ_KERNEL_DECLARE(lvl, name, PROTO, args) PROTO(igq__##name##__##lvl);
/* Definition of a kernel by its generic body, for the per-level files (after the bodies). */
#define IGQ_KERNEL_DEFINE(lvl, name, PROTO, args) \
    PROTO(igq__##name##__##lvl) { name##_impl args; }
#define IGQ_SIMD_KERNELS_DEFINE(lvl)                                                          \
    IGQ_F32_KERNELS(IGQ_KERNEL_DEFINE, lvl)                                                   \
    IGQ_I32_KERNELS(IGQ_KERNEL_DEFINE, lvl)

/* Every level's kernels and executor helpers. */
#define IGQ_LEVEL_DECLARE(lvl)                                                                \
    IGQ_F32_KERNELS(IGQ_KERNEL_DECLARE, lvl)                                                  \
    IGQ_I32_KERNELS(IGQ_KERNEL_DECLARE, lvl)                                                  \
    IGQ_EXEC_HELPERS(IGQ_EXEC_DECLARE, lvl)

IGQ_LEVEL_DECLARE(scalar)

/* Bytes of a u8_perm plan for n codes at any level: the AVX-512 VBMI plan (the largest) is the
 * 64-byte blocks' index bytes, then per block the offset of its list of (source chunk of 128
 * bytes, 64-bit lane mask) entries, at most one per chunk. */
#define IGQ_U8_PERM_BLOCKS(n) (((n) + 63) / 64)
#define IGQ_U8_PERM_CHUNKS(n) (((n) + 127) / 128)
#define IGQ_U8_PERM_PLAN_SIZE(n)                                                              \
    ((size_t)IGQ_U8_PERM_BLOCKS(n) * 64 + ((size_t)IGQ_U8_PERM_BLOCKS(n) + 1) * 8 +             \
     (size_t)IGQ_U8_PERM_BLOCKS(n) * (size_t)IGQ_U8_PERM_CHUNKS(n) * 16 + 64)

#ifdef IGQ_X86_KERNELS
/* lib/kernels/x86_avx2/{nonlin,exec}_avx2.c: 8 lanes (ymm);
 * lib/kernels/x86_avx512/{nonlin,exec}_avx512.c: 16 lanes (zmm), F/BW/VL only. */
IGQ_LEVEL_DECLARE(avx2)
IGQ_LEVEL_DECLARE(avx512)
/* lib/kernels/x86_avx512/u8_perm_avx512.c: the byte permutation by vpermi2b (AVX-512 VBMI, not
 * in the avx512vnni level's guaranteed set: chosen at run time when the CPU has it). */
IGQ_U8_PERM_PLAN_PROTO(igq__u8_perm_plan__avx512vbmi);
IGQ_U8_PERM_PROTO(igq__u8_perm__avx512vbmi);

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

/* The attention operands of the integer executor packed as GEMM "weights" (qs8_layout.h),
 * offset from unsigned codes to int8: for one head, keys K [T][hd] (rows ld bytes apart) as the
 * weights of Q K^T (N = T columns, K = hd rows: packed row k, column j = K[j][k] - off, the last
 * panel's padding columns zero) with rs[j] = sum_k (K[j][k] - off); values V [T][hd] as the
 * weights of P V (N = hd columns, K = T rows: packed row j, column c = V[j][c] - off) with
 * rs[c] = sum_j (V[j][c] - off). The same bytes as igq_qpack_fn of the offset matrices.
 * Keys: may read up to 3 bytes past hd in each row (hd rounded up to 4), which the caller
 * provides (the codes of the next head or of V). scalar: lib/kernels/scalar/attn_pack_scalar.c
 * (the reference); avx512: lib/kernels/x86_avx512/attn_pack_avx512.c. */
typedef void (*igq_qs8_pack_kv_fn)(const uint8_t *x, int64_t ld, int64_t T, int64_t hd,
                                   int32_t off, uint8_t *pk, int32_t *rs);
#define IGQ_QS8_PACK_KV_DECL(fn)                                                           \
    void fn(const uint8_t *x, int64_t ld, int64_t T, int64_t hd, int32_t off, uint8_t *pk,  \
            int32_t *rs)
IGQ_QS8_PACK_KV_DECL(igq__qs8_pack_keys__scalar);
IGQ_QS8_PACK_KV_DECL(igq__qs8_pack_values__scalar);
IGQ_QS8_PACK_KV_DECL(igq__qs8_pack_keys__avx512);
IGQ_QS8_PACK_KV_DECL(igq__qs8_pack_values__avx512);

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, as iSCSI and ext4) of n bytes,
 * continuing from crc (0 for a new checksum; the pre- and post-inversions are inside):
 * crc32c(crc32c(0, a), b) = crc32c(0, a || b). The checksum of .igq sections. scalar:
 * lib/kernels/scalar/crc32c_scalar.c (slice-by-8 tables, the reference); avx2 and above:
 * lib/kernels/x86_avx2/crc32c_avx2.c (the SSE4.2 crc32 instruction, which every AVX2 CPU
 * has). */
typedef uint32_t (*igq_crc32c_fn)(uint32_t crc, const void *data, size_t n);
uint32_t igq__crc32c__scalar(uint32_t crc, const void *data, size_t n);
uint32_t igq__crc32c__avx2(uint32_t crc, const void *data, size_t n);

/* Peak loops for a roofline (igq_measure_machine): n iterations of 12 independent chains of
 * the level's multiply-add instruction on register operands read once from `in` (64 bytes),
 * the chains' final values stored to `sink` (64 bytes) so that nothing is optimized away.
 * kind IGQ_PEAK_INT8: the integer GEMMs' instruction (scalar: plain C int32 multiply-adds;
 * avx2: vpmaddwd + vpaddd, ymm; avxvnni: ymm vpdpbusd; avx512vnni: zmm vpdpbusd);
 * IGQ_PEAK_F32: FMA of the level's vector width (scalar: multiply and add in C). Returns the
 * multiply-adds done. Files: lib/kernels/scalar/peak_scalar.c, x86_{avx2,avxvnni,avx512}/peak_*.c. */
enum { IGQ_PEAK_INT8 = 0, IGQ_PEAK_F32 = 1 };
typedef double (*igq_peak_fn)(int64_t n, int kind, const void *in, void *sink);
double igq__peak__scalar(int64_t n, int kind, const void *in, void *sink);
double igq__peak__avx2(int64_t n, int kind, const void *in, void *sink);
double igq__peak__avxvnni(int64_t n, int kind, const void *in, void *sink);
double igq__peak__avx512vnni(int64_t n, int kind, const void *in, void *sink);

/* Integer GEMMs (igq_qgemm_fn), all instances of qgemm_driver.h, and the grouped GEMMs
 * (igq_qggemm_fn, f32 sums in L1), instances of qggemm_driver.h on the same tiles;
 * qs4 = int4 weights.
 * lib/kernels/x86_avx2/qs8_gemm_avx2.c: 6 rows x 16 columns, vpmovsxbw + vpmaddwd on k pairs. */
IGQ_QGEMM_DECL(igq__qs8_gemm_6x16c2__avx2);
IGQ_QGGEMM_DECL(igq__qs8_ggemm_6x16c2__avx2);
/* lib/kernels/x86_avx2/qs4_gemm_avx2.c: 6 x 16, vpmaddubsw on k quads, int16 sums over 8. */
IGQ_QGEMM_DECL(igq__qs4_gemm_6x16c4__avx2);
IGQ_QGGEMM_DECL(igq__qs4_ggemm_6x16c4__avx2);
/* lib/kernels/x86_avxvnni/qs8_gemm_avxvnni.c: 6 x 16, ymm vpdpbusd (VEX) on k quads. */
IGQ_QGEMM_DECL(igq__qs8_gemm_6x16c4__avxvnni);
IGQ_QGEMM_DECL(igq__qs4_gemm_6x16c4__avxvnni);
IGQ_QGGEMM_DECL(igq__qs8_ggemm_6x16c4__avxvnni);
IGQ_QGGEMM_DECL(igq__qs4_ggemm_6x16c4__avxvnni);
/* lib/kernels/x86_avx512/qs8_gemm_avx512vnni.c: 6 x 64, zmm vpdpbusd on k quads;
 * lib/kernels/x86_avx512/qs8_ggemm_avx512vnni.c: its grouped GEMM. */
IGQ_QGEMM_DECL(igq__qs8_gemm_6x64c4__avx512vnni);
IGQ_QGEMM_DECL(igq__qs4_gemm_6x64c4__avx512vnni);
IGQ_QGGEMM_DECL(igq__qs8_ggemm_6x64c4__avx512vnni);
IGQ_QGGEMM_DECL(igq__qs4_ggemm_6x64c4__avx512vnni);

#endif

#endif
