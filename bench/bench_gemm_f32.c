/* fp32 GEMM throughput for ViT linear-layer shapes, per ISA level.
 *
 *   build/bench/bench_gemm_f32 [--quick] [--wall] [--isa scalar|avx2|avxvnni|avx512vnni]
 *
 * Times are this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so time slices given to other
 * processes on a shared machine do not count; --wall uses CLOCK_MONOTONIC instead. Either
 * way each number is the best of several calls (at least 3 and ~0.2 s; --quick: ~0.02 s),
 * with A, B, C left warm in the caches by the previous call as in a layer-by-layer run.
 *
 * Prints GFLOP/s (2*M*N*K / best time of several calls) for every level the CPU supports
 * (avxvnni is listed separately although it runs the avx2 fp32 kernel), and the share of the
 * single-core FMA peak of the vector width the level uses (ymm for avx2/avxvnni, zmm for
 * avx512vnni).
 *
 * The peak is measured here, not taken from a data sheet: an inline-asm loop of 14
 * independent vfmadd231ps chains on registers only (no loads, no dependencies between
 * chains, so it is bound by FMA throughput, not latency: 14 > ports x latency = 2 x 4) runs in
 * ~0.5 ms bursts for ~0.3 s and the best burst counts; FLOPs = iterations x 14 x lanes x 2. Turbo and other work on the
 * machine affect the peak and the GEMMs alike, so the percentages are more stable than the
 * absolute numbers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/dispatch.h"

static clockid_t g_clock = CLOCK_THREAD_CPUTIME_ID;

static double now(void)
{
    struct timespec ts;
    clock_gettime(g_clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FMA14(R)                                                                           \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "0\n\t"                                       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "1\n\t"                                       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "2\n\t"                                       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "3\n\t"                                       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "4\n\t"                                       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "5\n\t"                                       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "6\n\t"                                       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "7\n\t"                                       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "8\n\t"                                       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "9\n\t"                                       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "10\n\t"                                      \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "11\n\t"                                      \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "12\n\t"                                      \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "13\n\t"

#define CLOBBERS                                                                           \
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",        \
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc"

/* Runs n iterations of 14 FMAs on ymm (zmm = 0) or zmm registers. All registers start at
 * 0 (VEX xor of xmm clears the whole zmm), so no denormals appear. */
static void fma_loop(uint64_t n, int zmm)
{
    if (zmm)
        __asm__ __volatile__("vpxor %%xmm14, %%xmm14, %%xmm14\n\t"
                             "vpxor %%xmm15, %%xmm15, %%xmm15\n\t"
                             "1:\n\t" FMA14("zmm") "dec %0\n\t"
                             "jnz 1b\n\t"
                             "vzeroupper\n\t"
                             : "+r"(n)
                             :
                             : CLOBBERS);
    else
        __asm__ __volatile__("vpxor %%xmm14, %%xmm14, %%xmm14\n\t"
                             "vpxor %%xmm15, %%xmm15, %%xmm15\n\t"
                             "1:\n\t" FMA14("ymm") "dec %0\n\t"
                             "jnz 1b\n\t"
                             "vzeroupper\n\t"
                             : "+r"(n)
                             :
                             : CLOBBERS);
}

/* Single-core fp32 FMA peak in GFLOP/s for ymm (zmm = 0) or zmm: the best of ~0.5 ms
 * bursts over ~0.3 s, so time slices lost to other processes drop out as in the GEMM timing. */
static double fma_peak(int zmm)
{
    uint64_t n = 1024;
    double   t, best = 0.0, start;
    for (;;) { /* calibrate one burst to ~0.5 ms */
        t = now();
        fma_loop(n, zmm);
        t = now() - t;
        if (t > 5e-4) break;
        n *= 2;
    }
    start = now();
    while (now() - start < 0.3) {
        double gf;
        t = now();
        fma_loop(n, zmm);
        t = now() - t;
        gf = (double)n * 14.0 * (zmm ? 16.0 : 8.0) * 2.0 / t * 1e-9;
        if (gf > best) best = gf;
    }
    return best;
}
#else
static double fma_peak(int zmm)
{
    (void)zmm;
    return 0.0;
}
#endif

static void fill(float *p, size_t n, uint64_t seed)
{
    size_t i;
    for (i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (float)((double)(seed >> 40) / (double)(1u << 24) - 0.5);
    }
}

/* Best time of one GEMM call: at least 3 calls and ~min_time seconds. */
static double time_gemm(int64_t M, int64_t N, int64_t K, const float *A, const float *B,
                        const float *bias, float *C, double min_time)
{
    double best = 1e30, start = now();
    int    r;
    igq__f32_gemm(M, N, K, A, K, B, bias, C, N); /* warm-up */
    for (r = 0; r < 3 || now() - start < min_time; r++) {
        double t = now();
        igq__f32_gemm(M, N, K, A, K, B, bias, C, N);
        t = now() - t;
        if (t < best) best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    static const int64_t ms[]     = {17, 197, 394};
    static const int64_t kn[][2]  = {{384, 1152}, {384, 384},  {384, 1536},
                                     {1536, 384}, {768, 2304}, {768, 3072},
                                     {3072, 768}, {128, 384},  {256, 128}};
    const int            n_ms = (int)(sizeof ms / sizeof ms[0]);
    const int            n_kn = (int)(sizeof kn / sizeof kn[0]);
    int                  quick = 0, only = -1, l, i, j, levels[IGQ_ISA_COUNT], n_levels = 0;
    double               peak_ymm, peak_zmm, min_time;
    float               *A, *B, *bias, *C;
    const igq_isa_level  start = igq__isa_active();
    void                *p;

    for (i = 1; i < argc; i++) {
        igq_isa_level lv;
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--wall") == 0) g_clock = CLOCK_MONOTONIC;
        else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc && igq__isa_parse(argv[i + 1], &lv)) {
            only = (int)lv;
            i++;
        } else {
            fprintf(stderr, "usage: %s [--quick] [--wall] [--isa scalar|avx2|avxvnni|avx512vnni]\n",
                    argv[0]);
            return 2;
        }
    }
    min_time = quick ? 0.02 : 0.2;

    /* Largest operands: M 394, K 3072, N 3072. */
    if (posix_memalign(&p, 64, (size_t)394 * 3072 * sizeof(float)) != 0) return 1;
    A = (float *)p;
    if (posix_memalign(&p, 64, (size_t)3072 * 3072 * sizeof(float)) != 0) return 1;
    B = (float *)p;
    if (posix_memalign(&p, 64, (size_t)3072 * sizeof(float)) != 0) return 1;
    bias = (float *)p;
    if (posix_memalign(&p, 64, (size_t)394 * 3072 * sizeof(float)) != 0) return 1;
    C = (float *)p;
    fill(A, (size_t)394 * 3072, 1);
    fill(B, (size_t)3072 * 3072, 2);
    fill(bias, 3072, 3);

    peak_ymm = fma_peak(0);
    peak_zmm = igq__cpu_supports(IGQ_ISA_AVX512VNNI) ? fma_peak(1) : 0.0;
    printf("libigq fp32 GEMM  (C[M,N] = A[M,K] B[K,N] + bias; GFLOP/s = 2MNK / best %s time)\n",
           g_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU");
    printf("detected ISA: %s, active at start: %s\n", igq__isa_name(igq__isa_detected()),
           igq__isa_name(start));
    printf("measured single-core FMA peak: ymm %.1f GFLOP/s", peak_ymm);
    if (peak_zmm > 0.0) printf(", zmm %.1f GFLOP/s", peak_zmm);
    printf("\n%%pk = share of the peak of the level's vector width (avx2/avxvnni: ymm, "
           "avx512vnni: zmm)\n\n");

    for (l = 0; l < IGQ_ISA_COUNT; l++) {
        if (only >= 0 && l != only) continue;
        if ((int)igq__isa_clamp((igq_isa_level)l) != l) continue; /* not on this CPU */
        levels[n_levels++] = l;
    }
    printf("%4s %5s %5s", "M", "K", "N");
    for (l = 0; l < n_levels; l++) printf(" | %10s GF/s  %%pk", igq__isa_name((igq_isa_level)levels[l]));
    printf("\n");
    for (i = 0; i < n_ms; i++)
        for (j = 0; j < n_kn; j++) {
            const int64_t M = ms[i], K = kn[j][0], N = kn[j][1];
            const double  flops = 2.0 * (double)M * (double)N * (double)K;
            printf("%4lld %5lld %5lld", (long long)M, (long long)K, (long long)N);
            for (l = 0; l < n_levels; l++) {
                double t, gf, pk;
                igq__dispatch_force((igq_isa_level)levels[l]);
                t  = time_gemm(M, N, K, A, B, bias, C,
                               levels[l] == IGQ_ISA_SCALAR ? min_time / 4 : min_time);
                gf = flops / t * 1e-9;
                pk = levels[l] == IGQ_ISA_AVX512VNNI ? peak_zmm
                     : levels[l] == IGQ_ISA_SCALAR   ? 0.0
                                                     : peak_ymm;
                if (pk > 0.0) printf(" | %15.1f %4.0f%%", gf, 100.0 * gf / pk);
                else printf(" | %15.1f %5s", gf, "-");
            }
            printf("\n");
            fflush(stdout);
        }
    igq__dispatch_force(start);
    free(A);
    free(B);
    free(bias);
    free(C);
    return 0;
}
