/* ISA dispatch: one table of kernel function pointers, filled once for the best ISA level
 * this CPU supports, optionally lowered by the IGQ_ISA environment variable.
 * Private header: must remain private to libigq. */
#ifndef IGQ_KERNELS_DISPATCH_H
#define IGQ_KERNELS_DISPATCH_H

#include <stdint.h>

#include "../core/cpu.h"
#include "kernels.h"

typedef struct igq_kernel_table {
    igq_isa_level   level;    /* the level the pointers below were chosen for */
    igq_f32_gemm_fn f32_gemm; /* scalar: igq__f32_gemm__scalar; avx2/avxvnni: 6x16 avx2;
                                 avx512vnni: 12x32 avx512 */
    /* Integer GEMM (kernels.h igq_qgemm_fn): u8 activations x qs8 (qs8_*) or qs4 (qs4_*)
     * weights. The packed layout (qs8_layout.h) is the same at every level, so weights packed
     * by any level's qs8_pack / qs4_pack are valid for every level's qs8_gemm / qs4_gemm. */
    igq_qpack_fn    qs8_pack;  /* all levels: igq__qs8_pack__scalar (plain C, once per model) */
    igq_qgemm_fn    qs8_gemm;  /* scalar: igq__qs8_gemm__scalar; avx2: 6x16c2 vpmaddwd;
                                  avxvnni: 6x16c4 ymm vpdpbusd; avx512vnni: 6x64c4 zmm */
    igq_qpack_fn    qs4_pack;  /* all levels: igq__qs4_pack__scalar */
    igq_qgemm_fn    qs4_gemm;  /* as qs8_gemm, with int4 weights unpacked while staging */
    igq_qggemm_fn   qs8_ggemm; /* grouped GEMM with fused epilogue: avx512vnni only, else NULL
                                  (callers then run qs8_gemm per group + fold: same bits) */
    igq_qggemm_fn   qs4_ggemm;
    int32_t         qs8_mr, qs8_nr, qs8_kr; /* register tile of qs8_gemm / qs4_gemm: rows,
                                               columns, k per lane (informational) */
    /* Integer non-linear kernels (nonlin.h; bit-exact with the scalar references at every
     * level). scalar: igq__i32_*_ref; avx2 and avxvnni: *__avx2; avx512vnni: *__avx512. */
    igq_i32_requant_fn     requant;     /* int32 row -> codes, (mult, shift, zero) */
    igq_i32_softmax_u8_fn  softmax_u8;  /* rows of logits -> A-bit codes, scale 1/(2^A-1) */
    igq_i32_softmax_q20_fn softmax_q20; /* rows of logits -> p at scale 2^-20 */
    igq_i32_ln_stats_fn    ln_stats;    /* LayerNorm row statistics -> igq_ln_row */
    igq_i32_ln_apply_fn    ln_apply;    /* -> int32 at S_y */
    igq_i32_ln_apply_rq_fn ln_apply_rq; /* -> codes through (mult, shift, zero) */
    igq_i32_gelu_fn        gelu;        /* int32 accumulators -> GELU at 2^-16 */
    igq_exec_fns           exec;        /* integer-executor helpers (exec_inl.h) */
    igq_i32_fold_fn        fold;        /* grouped-GEMM epilogue: out = fma(s, acc, out) */
    igq_f32_gelu_fn        f32_gelu;    /* fp32 GELU; scalar: igq__f32_gelu_erfc_ref; avx2 and
                                           avxvnni: *__avx2; avx512vnni: *__avx512 */
    igq_f32_softmax_fn     f32_softmax; /* fp32 softmax of scaled rows; scalar:
                                           igq__f32_softmax_scaled_ref; others as f32_gelu */
    igq_f32_layernorm_fn   f32_layernorm; /* fp32 LayerNorm; scalar:
                                             igq__f32_layernorm_p16_ref; others as f32_gelu */
} igq_kernel_table;

/* The active table. The first call (from any thread) detects the CPU, reads IGQ_ISA and fills
 * the table under pthread_once. Thread safety: any thread. */
const igq_kernel_table *igq__kernels(void);

/* Best level the CPU supports (ignores IGQ_ISA). */
igq_isa_level igq__isa_detected(void);

/* Level of the active table. */
igq_isa_level igq__isa_active(void);

/* "scalar", "avx2", "avxvnni", "avx512vnni"; "unknown" for other values. */
const char *igq__isa_name(igq_isa_level level);

/* Parses an IGQ_ISA value (exact lower-case names above). Returns 1 and sets *level, or 0. */
int igq__isa_parse(const char *s, igq_isa_level *level);

/* Highest level <= request that this CPU supports (never above the detected level; scalar is
 * always supported). This is how a request only ever lowers the level. */
igq_isa_level igq__isa_clamp(igq_isa_level request);

/* Level chosen for an IGQ_ISA value: NULL or "" -> detected; a known name -> clamped to the
 * CPU; anything else -> detected, and the value is recorded in this thread's igq_last_error
 * (IGQ_ERR_INVALID_ARGUMENT) for information. The init calls it with getenv("IGQ_ISA"). */
igq_isa_level igq__isa_from_env(const char *value);

/* Test hook: refills the table for igq__isa_clamp(level) (so never above what the CPU
 * supports; read the result with igq__isa_active()). NOT thread-safe: no other thread may
 * use the kernels while it runs, and it races with nothing only because tests call it from
 * their single main thread. For tests only. */
void igq__dispatch_force(igq_isa_level level);

/* fp32 GEMM through the active table; semantics of igq__f32_gemm__scalar (see kernels.h for
 * the rounding contract of the SIMD levels). Thread safety: any thread. */
void igq__f32_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                   const float *B, const float *bias, float *C, int64_t ldc);

/* fp32 GELU in place through the active table (igq_f32_gelu_fn; the same bits at every
 * level). Thread safety: any thread. */
void igq__f32_gelu(int64_t n, float *x);

/* fp32 softmax of scale * x in place over rows through the active table (igq_f32_softmax_fn;
 * the same bits at every level). Thread safety: any thread. */
void igq__f32_softmax(int64_t rows, int64_t n, float scale, float *x, int64_t ldx);

/* fp32 LayerNorm of contiguous rows through the active table (igq_f32_layernorm_fn; the same
 * bits at every level). Thread safety: any thread. */
void igq__f32_layernorm(int64_t rows, int64_t n, const float *x, const float *w,
                        const float *b, float eps, float *y);

/* Integer GEMM / packing through the active table (see igq_qgemm_fn, igq_qpack_fn in
 * kernels.h; sizes from igq__qs8_packed_size() in qs8_layout.h). Thread safety: any thread. */
void igq__qs8_gemm(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1, const uint8_t *A,
                   int64_t lda, const void *packed, const int32_t *kperm, int32_t *C,
                   int64_t ldc);
void igq__qs4_gemm(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1, const uint8_t *A,
                   int64_t lda, const void *packed, const int32_t *kperm, int32_t *C,
                   int64_t ldc);
void igq__qs8_pack(int64_t N, int64_t K, const int8_t *W, const int32_t *perm, void *packed,
                   int32_t *rowsum);
void igq__qs4_pack(int64_t N, int64_t K, const int8_t *W, const int32_t *perm, void *packed,
                   int32_t *rowsum);

/* Integer non-linear kernels through the active table (semantics in nonlin.h). The LayerNorm
 * wrappers run stats + apply on each of `rows` rows of p->C values. Thread safety: any
 * thread. */
void igq__requant_row(int64_t n, const int32_t *x, const int32_t *mult, const int32_t *shift,
                      const int32_t *zero, int per_channel, int32_t qmin, int32_t qmax,
                      uint8_t *out);
void igq__softmax_u8(const igq_softmax_params *p, int64_t rows, int64_t n, const int32_t *x,
                     int64_t ldx, uint8_t *out, int64_t ldo);
void igq__softmax_q20(const igq_softmax_params *p, int64_t rows, int64_t n, const int32_t *x,
                      int64_t ldx, int32_t *out, int64_t ldo);
void igq__layernorm(const igq_ln_params *p, int64_t rows, const int32_t *x, int64_t ldx,
                    int32_t *out, int64_t ldo);
void igq__layernorm_rq(const igq_ln_params *p, int64_t rows, const int32_t *x, int64_t ldx,
                       const int32_t *mult, const int32_t *shift, const int32_t *zero,
                       int per_channel, int32_t qmin, int32_t qmax, uint8_t *out, int64_t ldo);
void igq__i32_fold(int64_t rows, int64_t n, float s, const int32_t *acc, int64_t lda,
                   const float *colscale, const float *colbias, float *out, int64_t ldo,
                   int first);
void igq__gelu_q16(const igq_gelu_params *p, int64_t n, const int32_t *acc,
                   const int32_t *mult, const int32_t *shift, int per_channel, int32_t *out);

#endif
