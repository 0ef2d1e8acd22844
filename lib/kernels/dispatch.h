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
    igq_qgemm_fn    qs8_gemm;  /* scalar: igq__qs8_gemm__scalar; avx2: 6x16c2 vpmaddwd (qs4:
                                  6x16c4 vpmaddubsw);
                                  avxvnni: 6x16c4 ymm vpdpbusd; avx512vnni: 6x64c4 zmm */
    igq_qpack_fn    qs4_pack;  /* all levels: igq__qs4_pack__scalar */
    igq_qgemm_fn    qs4_gemm;  /* as qs8_gemm, with int4 weights unpacked while staging */
    igq_qggemm_fn   qs8_ggemm; /* grouped GEMM with fused epilogue: every SIMD level; NULL at
                                  scalar (callers then run qs8_gemm per group + fold: same
                                  bits) */
    igq_qggemm_fn   qs4_ggemm;
    int32_t         qs8_mr, qs8_nr, qs8_kr; /* register tile of qs8_gemm / qs4_gemm: rows,
                                               columns, k per lane (informational) */
    /* The non-GEMM kernels (kernels.h IGQ_F32_KERNELS / IGQ_I32_KERNELS: f32_gelu,
     * f32_softmax, f32_layernorm, i32_fold, i32_requant, i32_softmax, i32_ln_stats,
     * i32_ln_apply, i32_gelu, i32_gelu_f32, u8_perm_plan / u8_perm), each the same bits at
     * every level: scalar: *__scalar; avx2 and avxvnni: *__avx2 (avxvnni adds nothing to
     * them); avx512vnni: *__avx512 (u8_perm*: *__avx512vbmi when the CPU has VBMI). */
#define IGQ_TABLE_FIELD(lvl, name, PROTO, args) igq_##name##_fn name;
    IGQ_F32_KERNELS(IGQ_TABLE_FIELD, )
    IGQ_I32_KERNELS(IGQ_TABLE_FIELD, )
#undef IGQ_TABLE_FIELD
    igq_exec_fns exec; /* integer-executor helpers (exec_inl.h), chosen as the kernels */
    /* attention operands packed as GEMM weights (kernels.h): avx512vnni: *__avx512, else
     * *__scalar */
    igq_qs8_pack_kv_fn qs8_pack_keys, qs8_pack_values;
    igq_crc32c_fn      crc32c; /* scalar: *__scalar; avx2 and above: *__avx2 */
    igq_peak_fn        peak;   /* the level's own: igq__peak__<level> */
} igq_kernel_table;

/* The active table. The first call (from any thread) detects the CPU, reads IGQ_ISA and fills
 * the table under pthread_once. Thread safety: any thread. */
const igq_kernel_table *igq__kernels(void);

/* Best level the CPU supports (ignores IGQ_ISA). */
igq_isa_level igq__isa_detected(void);

/* 1 when the CPU has AVX-512 VBMI (cpuid only: meaningful where the avx512vnni level is
 * supported). The avx512vnni table then takes the vpermi2b byte permutation (u8_perm). */
int igq__cpu_has_avx512vbmi(void);

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

#ifdef IGQ_TESTING
/* Test hook (testing build only): refills the table for igq__isa_clamp(level) (so never above what the CPU
 * supports; read the result with igq__isa_active()). NOT thread-safe: no other thread may
 * use the kernels while it runs, and it races with nothing only because tests call it from
 * their single main thread. For tests only. */
void igq__dispatch_force(igq_isa_level level);
#endif

/* fp32 GEMM through the active table; semantics of igq__f32_gemm__scalar (see kernels.h for
 * the rounding contract of the SIMD levels). Thread safety: any thread. */
void igq__f32_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                   const float *B, const float *bias, float *C, int64_t ldc);

/* fp32 GELU in place through the active table (kernels.h IGQ_F32_GELU_PROTO; the same bits
 * at every level). Thread safety: any thread. */
void igq__f32_gelu(int64_t n, float *x);

/* fp32 softmax of scale * x in place over rows through the active table (kernels.h
 * IGQ_F32_SOFTMAX_PROTO; the same bits at every level). Thread safety: any thread. */
void igq__f32_softmax(int64_t rows, int64_t n, float scale, float *x, int64_t ldx);

/* fp32 LayerNorm of contiguous rows through the active table (kernels.h
 * IGQ_F32_LAYERNORM_PROTO; the same bits at every level). Thread safety: any thread. */
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
 * wrapper runs stats + apply on each of `rows` rows of p->C values. Thread safety: any
 * thread. */
void igq__i32_requant(int64_t n, const int32_t *x, const int32_t *mult, const int32_t *shift,
                      const int32_t *zero, int per_channel, int32_t qmin, int32_t qmax,
                      uint8_t *out);
void igq__i32_softmax(const igq_softmax_params *p, int64_t rows, int64_t n, const int32_t *x,
                      int64_t ldx, int32_t *out, int64_t ldo);
void igq__i32_layernorm(const igq_ln_params *p, int64_t rows, const int32_t *x, int64_t ldx,
                        int32_t *out, int64_t ldo);
void igq__i32_gelu(const igq_gelu_params *p, int64_t n, const int32_t *acc,
                   const int32_t *mult, const int32_t *shift, int per_channel, int32_t *out);
/* nonlin.h igq__i32_gelu_f32__scalar (fc1 output f32 -> GELU int32 at 2^-IGQ_GELU_FRAC) */
void igq__i32_gelu_f32(const igq_gelu_params *p, int64_t n, const float *x, float mul,
                       int32_t *out);
void igq__i32_fold(int64_t rows, int64_t n, float s, const int32_t *acc, int64_t lda,
                   const float *colscale, const float *colbias, float *out, int64_t ldo,
                   int first);

#endif
