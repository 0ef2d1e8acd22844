/* ISA dispatch table: filled once under pthread_once from cpu detection and IGQ_ISA. */
#include "dispatch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "f32_ref.h"

static const char *const g_names[IGQ_ISA_COUNT] = {"scalar", "avx2", "avxvnni", "avx512vnni"};

static igq_kernel_table g_table;
static pthread_once_t   g_once = PTHREAD_ONCE_INIT;

/* The table for a level the CPU supports. Levels share kernels until they have their own:
 * avxvnni has no fp32 instructions of its own, so it uses the avx2 fp32 GEMM. */
static void fill(igq_kernel_table *t, igq_isa_level level)
{
    t->level    = level;
    t->f32_gemm = igq__f32_gemm_ref;
#ifdef IGQ_X86_KERNELS
    switch (level) {
    case IGQ_ISA_SCALAR: break;
    case IGQ_ISA_AVX2:
    case IGQ_ISA_AVXVNNI: t->f32_gemm = igq_f32_gemm_6x16__avx2; break;
    case IGQ_ISA_AVX512VNNI: t->f32_gemm = igq_f32_gemm_12x32__avx512; break;
    }
#endif
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
