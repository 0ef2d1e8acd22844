/* CPU feature detection: cpuid leaf 1, leaf 7 sub-leaves 0 and 1, and xgetbv(0) for the
 * register state the OS saves. Non-x86-64 builds (or compilers without GNU inline asm)
 * report no features, so everything dispatches to scalar. */
#include "cpu.h"

#include "compiler.h"

#include <pthread.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define IGQ_CPU_X86 1
#include <cpuid.h>
#endif

IGQ__STATIC_ASSERT(isa_count, IGQ_ISA_COUNT == IGQ_ISA_AVX512VNNI + 1);

static igq_cpu_features g_features;
static pthread_once_t   g_once = PTHREAD_ONCE_INIT;

#ifdef IGQ_CPU_X86
static unsigned long long xgetbv0(void)
{
    unsigned lo, hi;
    /* xgetbv with ecx = 0 reads XCR0; encoded as bytes so old assemblers accept it. */
    __asm__ __volatile__(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void detect(igq_cpu_features *f)
{
    unsigned a, b, c, d, max_leaf, osxsave;
    max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 1 || !__get_cpuid(1, &a, &b, &c, &d)) return;
    f->fma   = (c >> 12) & 1;
    osxsave  = (c >> 27) & 1;
    f->avx   = (c >> 28) & 1;
    if (osxsave) {
        unsigned long long xcr0 = xgetbv0();
        f->os_ymm = (xcr0 & 0x6) == 0x6;                 /* SSE + AVX state */
        f->os_zmm = f->os_ymm && (xcr0 & 0xe0) == 0xe0;  /* opmask, ZMM_Hi256, Hi16_ZMM */
    }
    if (max_leaf >= 7) {
        unsigned max_sub;
        __cpuid_count(7, 0, a, b, c, d);
        max_sub       = a;
        f->avx2       = (b >> 5) & 1;
        f->avx512f    = (b >> 16) & 1;
        f->avx512bw   = (b >> 30) & 1;
        f->avx512vl   = (b >> 31) & 1;
        f->avx512vnni = (c >> 11) & 1;
        if (max_sub >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            f->avxvnni = (a >> 4) & 1;
        }
    }
}
#else
static void detect(igq_cpu_features *f) { (void)f; }
#endif

static void init_once(void) { detect(&g_features); }

const igq_cpu_features *igq__cpu_features(void)
{
    pthread_once(&g_once, init_once);
    return &g_features;
}

int igq__cpu_features_support(const igq_cpu_features *f, igq_isa_level level)
{
    int avx2 = f->avx && f->avx2 && f->fma && f->os_ymm;
    switch (level) {
    case IGQ_ISA_SCALAR: return 1;
    case IGQ_ISA_AVX2: return avx2;
    case IGQ_ISA_AVXVNNI: return avx2 && f->avxvnni;
    case IGQ_ISA_AVX512VNNI:
        return avx2 && f->avx512f && f->avx512bw && f->avx512vl && f->avx512vnni && f->os_zmm;
    }
    return 0;
}

int igq__cpu_supports(igq_isa_level level)
{
    return igq__cpu_features_support(igq__cpu_features(), level);
}

igq_isa_level igq__cpu_best_isa(void)
{
    int l;
    for (l = IGQ_ISA_COUNT - 1; l > IGQ_ISA_SCALAR; l--)
        if (igq__cpu_supports((igq_isa_level)l)) return (igq_isa_level)l;
    return IGQ_ISA_SCALAR;
}
