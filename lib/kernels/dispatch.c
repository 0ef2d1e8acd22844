/* ISA dispatch table: filled once under pthread_once from cpu detection and IGQ_ISA. */
#include "dispatch.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "f32_ref.h"
#include "qs8_scalar.h"

static const char *const g_names[IGQ_ISA_COUNT] = {"scalar", "avx2", "avxvnni", "avx512vnni"};

static igq_kernel_table g_table;
static pthread_once_t   g_once = PTHREAD_ONCE_INIT;

/* The non-GEMM kernels and executor helpers of one level (names from kernels.h's lists). */
#define FILL_KERNEL(lvl, name, PROTO, args)        t->name = igq__##name##__##lvl;
#define FILL_EXEC(lvl, ret, name, params, args, r) t->exec.name = igq__exec_##name##__##lvl;
#define FILL_LEVEL(lvl)                    \
    IGQ_F32_KERNELS(FILL_KERNEL, lvl)      \
    IGQ_I32_KERNELS(FILL_KERNEL, lvl)      \
    IGQ_EXEC_HELPERS(FILL_EXEC, lvl)

int igq__cpu_has_avx512vbmi(void)
{
#ifdef IGQ_X86_KERNELS
    unsigned a, b, c, d;
    /* cpuid leaf 7 sub-leaf 0, ecx bit 1; the OS state of the zmm registers is what the
     * avx512vnni level already checked (the only level that uses it) */
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    (void)a, (void)b, (void)d;
    return (c >> 1) & 1u;
#else
    return 0;
#endif
}

/* avxvnni adds nothing to these kernels, so it uses the avx2 ones. */
static void fill_nonlin(igq_kernel_table *t, igq_isa_level level)
{
#ifdef IGQ_X86_KERNELS
    switch (level) {
    case IGQ_ISA_SCALAR: FILL_LEVEL(scalar) break;
    case IGQ_ISA_AVX2:
    case IGQ_ISA_AVXVNNI: FILL_LEVEL(avx2) break;
    case IGQ_ISA_AVX512VNNI:
        FILL_LEVEL(avx512)
        if (igq__cpu_has_avx512vbmi()) { /* beyond the level's guaranteed set */
            t->u8_perm_plan = igq__u8_perm_plan__avx512vbmi;
            t->u8_perm      = igq__u8_perm__avx512vbmi;
        }
        break;
    }
#else
    (void)level;
    FILL_LEVEL(scalar)
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
        t->qs8_gemm  = igq__qs8_gemm_6x16c2__avx2;
        t->qs4_gemm  = igq__qs4_gemm_6x16c4__avx2;
        t->qs8_ggemm = igq__qs8_ggemm_6x16c2__avx2;
        t->qs4_ggemm = igq__qs4_ggemm_6x16c4__avx2;
        t->qs8_mr = 6, t->qs8_nr = 16, t->qs8_kr = 2;
        break;
    case IGQ_ISA_AVXVNNI:
        t->f32_gemm  = igq__f32_gemm_6x16__avx2;
        t->qs8_gemm  = igq__qs8_gemm_6x16c4__avxvnni;
        t->qs4_gemm  = igq__qs4_gemm_6x16c4__avxvnni;
        t->qs8_ggemm = igq__qs8_ggemm_6x16c4__avxvnni;
        t->qs4_ggemm = igq__qs4_ggemm_6x16c4__avxvnni;
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

/* The attention packers of a level. */
static void fill_attn(igq_kernel_table *t, igq_isa_level level)
{
    t->qs8_pack_keys   = igq__qs8_pack_keys__scalar;
    t->qs8_pack_values = igq__qs8_pack_values__scalar;
#ifdef IGQ_X86_KERNELS
    if (level == IGQ_ISA_AVX512VNNI) {
        t->qs8_pack_keys   = igq__qs8_pack_keys__avx512;
        t->qs8_pack_values = igq__qs8_pack_values__avx512;
    }
#else
    (void)level;
#endif
}

/* The checksum of a level (the same value everywhere: CRC-32C is defined bit by bit). */
static void fill_crc(igq_kernel_table *t, igq_isa_level level)
{
    t->crc32c = igq__crc32c__scalar;
#ifdef IGQ_X86_KERNELS
    if (level >= IGQ_ISA_AVX2) t->crc32c = igq__crc32c__avx2;
#else
    (void)level;
#endif
}

/* The peak loops of a level (igq_measure_machine). */
static void fill_peak(igq_kernel_table *t, igq_isa_level level)
{
    t->peak = igq__peak__scalar;
#ifdef IGQ_X86_KERNELS
    switch (level) {
    case IGQ_ISA_SCALAR: break;
    case IGQ_ISA_AVX2: t->peak = igq__peak__avx2; break;
    case IGQ_ISA_AVXVNNI: t->peak = igq__peak__avxvnni; break;
    case IGQ_ISA_AVX512VNNI: t->peak = igq__peak__avx512vnni; break;
    }
#else
    (void)level;
#endif
}

/* The table for a level the CPU supports. */
static void fill(igq_kernel_table *t, igq_isa_level level)
{
    t->level = level;
    fill_gemm(t, level);
    fill_nonlin(t, level);
    fill_peak(t, level);
    fill_attn(t, level);
    fill_crc(t, level);
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

#ifdef IGQ_TESTING
void igq__dispatch_force(igq_isa_level level)
{
    (void)igq__kernels(); /* run the once-init first so it cannot overwrite this later */
    fill(&g_table, igq__isa_clamp(level));
}
#endif

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

void igq__i32_requant(int64_t n, const int32_t *x, const int32_t *mult, const int32_t *shift,
                      const int32_t *zero, int per_channel, int32_t qmin, int32_t qmax,
                      uint8_t *out)
{
    igq__kernels()->i32_requant(n, x, mult, shift, zero, per_channel, qmin, qmax, out);
}

void igq__i32_softmax(const igq_softmax_params *p, int64_t rows, int64_t n, const int32_t *x,
                      int64_t ldx, int32_t *out, int64_t ldo)
{
    igq__kernels()->i32_softmax(p, rows, n, x, ldx, out, ldo);
}

void igq__i32_layernorm(const igq_ln_params *p, int64_t rows, const int32_t *x, int64_t ldx,
                        int32_t *out, int64_t ldo)
{
    const igq_kernel_table *t = igq__kernels();
    int64_t                 r;
    for (r = 0; r < rows; r++) {
        igq_ln_row row;
        t->i32_ln_stats(p, x + r * ldx, &row);
        t->i32_ln_apply(p, &row, x + r * ldx, out + r * ldo);
    }
}

void igq__i32_gelu(const igq_gelu_params *p, int64_t n, const int32_t *acc,
                   const int32_t *mult, const int32_t *shift, int per_channel, int32_t *out)
{
    igq__kernels()->i32_gelu(p, n, acc, mult, shift, per_channel, out);
}

void igq__i32_gelu_f32(const igq_gelu_params *p, int64_t n, const float *x, float mul,
                       int32_t *out)
{
    igq__kernels()->i32_gelu_f32(p, n, x, mul, out);
}

void igq__i32_fold(int64_t rows, int64_t n, float s, const int32_t *acc, int64_t lda,
                   const float *colscale, const float *colbias, float *out, int64_t ldo,
                   int first)
{
    igq__kernels()->i32_fold(rows, n, s, acc, lda, colscale, colbias, out, ldo, first);
}
