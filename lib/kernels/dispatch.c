/* ISA dispatch table: filled once under pthread_once from cpu detection and IGQ_ISA. */
#include "dispatch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "f32_ref.h"
#include "qs8_scalar.h"

static const char *const g_names[IGQ_ISA_COUNT] = {"scalar", "avx2", "avxvnni", "avx512vnni"};

static igq_kernel_table g_table;
static pthread_once_t   g_once = PTHREAD_ONCE_INIT;

/* Integer non-linear kernels: avxvnni adds nothing to them, so it uses the avx2 ones. */
static void fill_nonlin(igq_kernel_table *t, igq_isa_level level)
{
    t->requant     = igq__i32_requant_ref;
    t->softmax_u8  = igq__i32_softmax_u8_ref;
    t->softmax_q20 = igq__i32_softmax_q20_ref;
    t->ln_stats    = igq__i32_ln_stats_ref;
    t->ln_apply    = igq__i32_ln_apply_ref;
    t->ln_apply_rq = igq__i32_ln_apply_rq_ref;
    t->gelu        = igq__i32_gelu_ref;
    t->fold        = igq__i32_fold_ref;
    t->exec.quant_f32 = igq__exec_quant_f32_ref;
    t->exec.quant_i32 = igq__exec_quant_i32_ref;
    t->exec.affine_i32 = igq__exec_affine_i32_ref;
    t->exec.colminmax_i32 = igq__exec_colminmax_i32_ref;
    t->exec.colminmax_f32 = igq__exec_colminmax_f32_ref;
    t->exec.f32_to_fixed = igq__exec_f32_to_fixed_ref;
    t->exec.absmax = igq__exec_absmax_ref;
    t->exec.scale_rne = igq__exec_scale_rne_ref;
    t->exec.sub_rows_i32 = igq__exec_sub_rows_i32_ref;
    t->exec.rowmax_i32 = igq__exec_rowmax_i32_ref;
    t->exec.sum_u8 = igq__exec_sum_u8_ref;
#ifdef IGQ_X86_KERNELS
    switch (level) {
    case IGQ_ISA_SCALAR: break;
    case IGQ_ISA_AVX2:
    case IGQ_ISA_AVXVNNI:
        t->requant     = igq_i32_requant__avx2;
        t->softmax_u8  = igq_i32_softmax_u8__avx2;
        t->softmax_q20 = igq_i32_softmax_q20__avx2;
        t->ln_stats    = igq_i32_ln_stats__avx2;
        t->ln_apply    = igq_i32_ln_apply__avx2;
        t->ln_apply_rq = igq_i32_ln_apply_rq__avx2;
        t->gelu        = igq_i32_gelu__avx2;
        t->fold        = igq_i32_fold__avx2;
        t->exec.quant_f32 = igq_exec_quant_f32__avx2;
        t->exec.quant_i32 = igq_exec_quant_i32__avx2;
        t->exec.affine_i32 = igq_exec_affine_i32__avx2;
        t->exec.colminmax_i32 = igq_exec_colminmax_i32__avx2;
        t->exec.colminmax_f32 = igq_exec_colminmax_f32__avx2;
        t->exec.f32_to_fixed = igq_exec_f32_to_fixed__avx2;
        t->exec.absmax = igq_exec_absmax__avx2;
        t->exec.scale_rne = igq_exec_scale_rne__avx2;
        t->exec.sub_rows_i32 = igq_exec_sub_rows_i32__avx2;
        t->exec.rowmax_i32 = igq_exec_rowmax_i32__avx2;
        t->exec.sum_u8 = igq_exec_sum_u8__avx2;
        break;
    case IGQ_ISA_AVX512VNNI:
        t->requant     = igq_i32_requant__avx512;
        t->softmax_u8  = igq_i32_softmax_u8__avx512;
        t->softmax_q20 = igq_i32_softmax_q20__avx512;
        t->ln_stats    = igq_i32_ln_stats__avx512;
        t->ln_apply    = igq_i32_ln_apply__avx512;
        t->ln_apply_rq = igq_i32_ln_apply_rq__avx512;
        t->gelu        = igq_i32_gelu__avx512;
        t->fold        = igq_i32_fold__avx512;
        t->exec.quant_f32 = igq_exec_quant_f32__avx512;
        t->exec.quant_i32 = igq_exec_quant_i32__avx512;
        t->exec.affine_i32 = igq_exec_affine_i32__avx512;
        t->exec.colminmax_i32 = igq_exec_colminmax_i32__avx512;
        t->exec.colminmax_f32 = igq_exec_colminmax_f32__avx512;
        t->exec.f32_to_fixed = igq_exec_f32_to_fixed__avx512;
        t->exec.absmax = igq_exec_absmax__avx512;
        t->exec.scale_rne = igq_exec_scale_rne__avx512;
        t->exec.sub_rows_i32 = igq_exec_sub_rows_i32__avx512;
        t->exec.rowmax_i32 = igq_exec_rowmax_i32__avx512;
        t->exec.sum_u8 = igq_exec_sum_u8__avx512;
        break;
    }
#else
    (void)level;
#endif
}

/* The GEMMs of a level. avxvnni has no fp32 instructions of its own, so it uses the avx2 fp32
 * GEMM; the packed integer layout is the same at every level, so one plain-C packer serves
 * them all. */
static void fill_gemm(igq_kernel_table *t, igq_isa_level level)
{
    t->f32_gemm  = igq__f32_gemm__scalar;
    t->qs8_pack  = igq__qs8_pack__scalar;
    t->qs4_pack  = igq__qs4_pack__scalar;
    t->qs8_gemm  = igq__qs8_gemm__scalar;
    t->qs4_gemm  = igq__qs4_gemm__scalar;
    t->qs8_ggemm = NULL;
    t->qs4_ggemm = NULL;
    t->qs8_mr = 1, t->qs8_nr = 64, t->qs8_kr = 1;
#ifdef IGQ_X86_KERNELS
    switch (level) {
    case IGQ_ISA_SCALAR: break;
    case IGQ_ISA_AVX2:
        t->f32_gemm = igq__f32_gemm_6x16__avx2;
        t->qs8_gemm = igq__qs8_gemm_6x16c2__avx2;
        t->qs4_gemm = igq__qs4_gemm_6x16c2__avx2;
        t->qs8_mr = 6, t->qs8_nr = 16, t->qs8_kr = 2;
        break;
    case IGQ_ISA_AVXVNNI:
        t->f32_gemm = igq__f32_gemm_6x16__avx2;
        t->qs8_gemm = igq__qs8_gemm_6x16c4__avxvnni;
        t->qs4_gemm = igq__qs4_gemm_6x16c4__avxvnni;
        t->qs8_mr = 6, t->qs8_nr = 16, t->qs8_kr = 4;
        break;
    case IGQ_ISA_AVX512VNNI:
        t->f32_gemm  = igq__f32_gemm_12x32__avx512;
        t->qs8_gemm  = igq__qs8_gemm_6x64c4__avx512vnni;
        t->qs4_gemm  = igq__qs4_gemm_6x64c4__avx512vnni;
        t->qs8_ggemm = igq__qs8_ggemm_6x64c4__avx512vnni;
        t->qs4_ggemm = igq__qs4_ggemm_6x64c4__avx512vnni;
        t->qs8_mr = 6, t->qs8_nr = 64, t->qs8_kr = 4;
        break;
    }
#endif
}

/* The table for a level the CPU supports. Levels share kernels until they have their own. */
static void fill(igq_kernel_table *t, igq_isa_level level)
{
    t->level    = level;
    t->f32_gelu = igq__f32_gelu_erfc_ref;
    t->f32_softmax = igq__f32_softmax_scaled_ref;
    t->f32_layernorm = igq__f32_layernorm_p16_ref;
#ifdef IGQ_X86_KERNELS
    switch (level) {
    case IGQ_ISA_SCALAR: break;
    case IGQ_ISA_AVX2:
    case IGQ_ISA_AVXVNNI: t->f32_gelu = igq_f32_gelu__avx2; break;
    case IGQ_ISA_AVX512VNNI: t->f32_gelu = igq_f32_gelu__avx512; break;
    }
    switch (level) {
    case IGQ_ISA_SCALAR: break;
    case IGQ_ISA_AVX2:
    case IGQ_ISA_AVXVNNI: t->f32_softmax = igq_f32_softmax__avx2; break;
    case IGQ_ISA_AVX512VNNI: t->f32_softmax = igq_f32_softmax__avx512; break;
    }
    switch (level) {
    case IGQ_ISA_SCALAR: break;
    case IGQ_ISA_AVX2:
    case IGQ_ISA_AVXVNNI: t->f32_layernorm = igq_f32_layernorm__avx2; break;
    case IGQ_ISA_AVX512VNNI: t->f32_layernorm = igq_f32_layernorm__avx512; break;
    }
#endif
    fill_gemm(t, level);
    fill_nonlin(t, level);
}

static void init_once(void) { fill(&g_table, igq__isa_from_env(getenv("IGQ_ISA"))); }

const igq_kernel_table *igq__kernels(void)
{
    pthread_once(&g_once, init_once);
    return &g_table;
}

igq_isa_level igq__isa_detected(void)
{
#ifdef IGQ_X86_KERNELS
    return igq__cpu_best_isa();
#else
    return IGQ_ISA_SCALAR; /* no ISA kernels built for this target */
#endif
}

igq_isa_level igq__isa_active(void) { return igq__kernels()->level; }

const char *igq__isa_name(igq_isa_level level)
{
    return (int)level >= 0 && (int)level < IGQ_ISA_COUNT ? g_names[level] : "unknown";
}

int igq__isa_parse(const char *s, igq_isa_level *level)
{
    int l;
    if (s == NULL) return 0;
    for (l = 0; l < IGQ_ISA_COUNT; l++)
        if (strcmp(s, g_names[l]) == 0) {
            *level = (igq_isa_level)l;
            return 1;
        }
    return 0;
}

igq_isa_level igq__isa_clamp(igq_isa_level request)
{
    int l = (int)igq__isa_detected();
    if ((int)request < l) l = (int)request;
    for (; l > IGQ_ISA_SCALAR; l--)
        if (igq__cpu_supports((igq_isa_level)l)) return (igq_isa_level)l;
    return IGQ_ISA_SCALAR;
}

igq_isa_level igq__isa_from_env(const char *value)
{
    igq_isa_level request;
    if (value == NULL || value[0] == '\0') return igq__isa_detected();
    if (!igq__isa_parse(value, &request)) {
        igq__set_error(IGQ_ERR_INVALID_ARGUMENT,
                       "IGQ_ISA=\"%.64s\" ignored: expected scalar, avx2, avxvnni or avx512vnni",
                       value);
        return igq__isa_detected();
    }
    return igq__isa_clamp(request);
}

void igq__dispatch_force(igq_isa_level level)
{
    (void)igq__kernels(); /* run the once-init first so it cannot overwrite this later */
    fill(&g_table, igq__isa_clamp(level));
}

void igq__f32_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                   const float *B, const float *bias, float *C, int64_t ldc)
{
    igq__kernels()->f32_gemm(M, N, K, A, lda, B, bias, C, ldc);
}

void igq__f32_gelu(int64_t n, float *x) { igq__kernels()->f32_gelu(n, x); }

void igq__f32_softmax(int64_t rows, int64_t n, float scale, float *x, int64_t ldx)
{
    igq__kernels()->f32_softmax(rows, n, scale, x, ldx);
}

void igq__f32_layernorm(int64_t rows, int64_t n, const float *x, const float *w,
                        const float *b, float eps, float *y)
{
    igq__kernels()->f32_layernorm(rows, n, x, w, b, eps, y);
}

void igq__qs8_gemm(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1, const uint8_t *A,
                   int64_t lda, const void *packed, const int32_t *kperm, int32_t *C,
                   int64_t ldc)
{
    igq__kernels()->qs8_gemm(M, N, K, k0, k1, A, lda, packed, kperm, C, ldc);
}

void igq__qs4_gemm(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1, const uint8_t *A,
                   int64_t lda, const void *packed, const int32_t *kperm, int32_t *C,
                   int64_t ldc)
{
    igq__kernels()->qs4_gemm(M, N, K, k0, k1, A, lda, packed, kperm, C, ldc);
}

void igq__qs8_pack(int64_t N, int64_t K, const int8_t *W, const int32_t *perm, void *packed,
                   int32_t *rowsum)
{
    igq__kernels()->qs8_pack(N, K, W, perm, packed, rowsum);
}

void igq__qs4_pack(int64_t N, int64_t K, const int8_t *W, const int32_t *perm, void *packed,
                   int32_t *rowsum)
{
    igq__kernels()->qs4_pack(N, K, W, perm, packed, rowsum);
}

void igq__requant_row(int64_t n, const int32_t *x, const int32_t *mult, const int32_t *shift,
                      const int32_t *zero, int per_channel, int32_t qmin, int32_t qmax,
                      uint8_t *out)
{
    igq__kernels()->requant(n, x, mult, shift, zero, per_channel, qmin, qmax, out);
}

void igq__softmax_u8(const igq_softmax_params *p, int64_t rows, int64_t n, const int32_t *x,
                     int64_t ldx, uint8_t *out, int64_t ldo)
{
    igq__kernels()->softmax_u8(p, rows, n, x, ldx, out, ldo);
}

void igq__softmax_q20(const igq_softmax_params *p, int64_t rows, int64_t n, const int32_t *x,
                      int64_t ldx, int32_t *out, int64_t ldo)
{
    igq__kernels()->softmax_q20(p, rows, n, x, ldx, out, ldo);
}

void igq__layernorm(const igq_ln_params *p, int64_t rows, const int32_t *x, int64_t ldx,
                    int32_t *out, int64_t ldo)
{
    const igq_kernel_table *t = igq__kernels();
    int64_t                 r;
    for (r = 0; r < rows; r++) {
        igq_ln_row row;
        t->ln_stats(p, x + r * ldx, &row);
        t->ln_apply(p, &row, x + r * ldx, out + r * ldo);
    }
}

void igq__layernorm_rq(const igq_ln_params *p, int64_t rows, const int32_t *x, int64_t ldx,
                       const int32_t *mult, const int32_t *shift, const int32_t *zero,
                       int per_channel, int32_t qmin, int32_t qmax, uint8_t *out, int64_t ldo)
{
    const igq_kernel_table *t = igq__kernels();
    int64_t                 r;
    for (r = 0; r < rows; r++) {
        igq_ln_row row;
        t->ln_stats(p, x + r * ldx, &row);
        t->ln_apply_rq(p, &row, x + r * ldx, mult, shift, zero, per_channel, qmin, qmax,
                       out + r * ldo);
    }
}

void igq__gelu_q16(const igq_gelu_params *p, int64_t n, const int32_t *acc,
                   const int32_t *mult, const int32_t *shift, int per_channel, int32_t *out)
{
    igq__kernels()->gelu(p, n, acc, mult, shift, per_channel, out);
}

void igq__i32_fold(int64_t rows, int64_t n, float s, const int32_t *acc, int64_t lda,
                   const float *colscale, const float *colbias, float *out, int64_t ldo,
                   int first)
{
    igq__kernels()->fold(rows, n, s, acc, lda, colscale, colbias, out, ldo, first);
}
