/* Integer GEMM throughput (u8 activations x qs8 / qs4 weights -> int32) for ViT linear-layer
 * shapes, per ISA level, one thread.
 *
 *   build/bench/bench_gemm_q8 [--quick] [--wall] [--isa scalar|avx2|avxvnni|avx512vnni]
 *
 * GOP/s = 2 M N K / best time (OP = 2 x MAC), best of at least 3 calls and ~0.2 s (--quick:
 * ~0.02 s) with operands warm from the previous call, timed with this thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID; --wall: CLOCK_MONOTONIC), as in bench_gemm_f32.
 *
 * Peaks are measured here, not taken from data sheets: inline-asm loops of 14 independent
 * accumulator chains (more than latency 5 x 2 ports) on registers only, best ~0.5 ms burst over
 * ~0.3 s at the start and at the end (both printed). The clock of a shared host moves with its
 * load (2.4 to 3.0 GHz here, over seconds), so %pk is NOT taken against those: every timing
 * loop alternates one GEMM call with one ~0.3 ms burst of the level's peak loop, and %pk =
 * best GEMM rate / best burst rate of that same loop, i.e. both at the same clock:
 *   zmm vpdpbusd (EVEX): 64 MAC/instr  - the avx512vnni level's peak
 *   ymm vpdpbusd (VEX):  32 MAC/instr  - the avxvnni level's peak
 *   ymm vpmaddwd:        16 MAC/instr  - the avx2 level's peak (its kernel also needs one vpaddd
 *                                        per vpmaddwd, so ~2/3 of this is its practical bound)
 * %pk = GOP/s / the level's peak. The second table shows, at the best level and M = 197, what
 * IGQ's per-image channel permutation costs: the GEMM over G = 8 k-slices with a random kperm
 * (weights packed once) against one plain GEMM, the activation gather (A[:, perm]), and, for
 * comparison, a full repack of the weights with the permutation (igq__qs8_pack / igq__qs4_pack).
 * The last tables: the fused grouped GEMM (what the integer executor runs), and every shape on
 * two threads (columns split in two halves on the library's thread pool) against one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/threadpool.h"
#include "kernels/dispatch.h"
#include "kernels/qs8_layout.h"

static clockid_t g_clock = CLOCK_THREAD_CPUTIME_ID;

static double now(void)
{
    struct timespec ts;
    clock_gettime(g_clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum { PK_ZMM_DPBUSD, PK_YMM_DPBUSD, PK_YMM_MADDWD, PK_COUNT };

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define OP14(I, R)                                                                         \
    I " %%" R "14, %%" R "15, %%" R "0\n\t" I " %%" R "14, %%" R "15, %%" R "1\n\t"        \
    I " %%" R "14, %%" R "15, %%" R "2\n\t" I " %%" R "14, %%" R "15, %%" R "3\n\t"        \
    I " %%" R "14, %%" R "15, %%" R "4\n\t" I " %%" R "14, %%" R "15, %%" R "5\n\t"        \
    I " %%" R "14, %%" R "15, %%" R "6\n\t" I " %%" R "14, %%" R "15, %%" R "7\n\t"        \
    I " %%" R "14, %%" R "15, %%" R "8\n\t" I " %%" R "14, %%" R "15, %%" R "9\n\t"        \
    I " %%" R "14, %%" R "15, %%" R "10\n\t" I " %%" R "14, %%" R "15, %%" R "11\n\t"      \
    I " %%" R "14, %%" R "15, %%" R "12\n\t" I " %%" R "14, %%" R "15, %%" R "13\n\t"

#define CLOBBERS                                                                           \
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",        \
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc"

#define LOOP(BODY)                                                                         \
    __asm__ __volatile__("vpxor %%xmm14, %%xmm14, %%xmm14\n\t"                              \
                         "vpxor %%xmm15, %%xmm15, %%xmm15\n\t"                              \
                         "1:\n\t" BODY "dec %0\n\t"                                         \
                         "jnz 1b\n\t"                                                       \
                         "vzeroupper\n\t"                                                   \
                         : "+r"(n)                                                          \
                         :                                                                  \
                         : CLOBBERS)

/* n iterations of 14 instructions of the given kind (registers only). */
static void peak_loop(uint64_t n, int kind)
{
    switch (kind) {
    case PK_ZMM_DPBUSD: LOOP(OP14("vpdpbusd", "zmm")); break;
    case PK_YMM_DPBUSD: LOOP(OP14("%{vex%} vpdpbusd", "ymm")); break;
    default: LOOP(OP14("vpmaddwd", "ymm")); break;
    }
}

/* Peak GOP/s (2 x MAC) of one instruction kind: best ~0.5 ms burst over `span` seconds. */
static double measure_peak(int kind, double span)
{
    static const double macs[PK_COUNT] = {64.0, 32.0, 16.0};
    uint64_t            n = 1024;
    double              t, best = 0.0, start;
    for (;;) {
        t = now();
        peak_loop(n, kind);
        t = now() - t;
        if (t > 5e-4) break;
        n *= 2;
    }
    start = now();
    while (now() - start < span) {
        double g;
        t = now();
        peak_loop(n, kind);
        t = now() - t;
        g = (double)n * 14.0 * macs[kind] * 2.0 / t * 1e-9;
        if (g > best) best = g;
    }
    return best;
}
#else
static void peak_loop(uint64_t n, int kind)
{
    (void)n;
    (void)kind;
}

static double measure_peak(int kind, double span)
{
    (void)kind;
    (void)span;
    return 0.0;
}
#endif

/* Raises peak[] to new measurements of `span` seconds each; first (optional) gets them too. */
static void refresh_peaks(double *peak, double *first, double span)
{
    static const igq_isa_level need[PK_COUNT] = {IGQ_ISA_AVX512VNNI, IGQ_ISA_AVXVNNI,
                                                 IGQ_ISA_AVX2};
    int                        k;
    for (k = 0; k < PK_COUNT; k++)
        if (igq__cpu_supports(need[k])) {
            const double p = measure_peak(k, span);
            if (first != NULL) first[k] = p;
            if (p > peak[k]) peak[k] = p;
        }
}

static uint64_t g_rng = 88172645463325252ull;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static void *xalloc(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, n > 0 ? n : 64) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

typedef struct gemm_args {
    int64_t        M, N, K, k0, k1;
    const uint8_t *A;
    const void    *packed;
    const int32_t *kperm;
    int32_t       *C;
    int            qs4;
    int            groups; /* > 1: G k-slices of K (one call each) */
} gemm_args;

static void run(const gemm_args *g)
{
    const igq_kernel_table *t    = igq__kernels();
    const igq_qgemm_fn    gemm = g->qs4 ? t->qs4_gemm : t->qs8_gemm;
    if (g->groups <= 1) {
        gemm(g->M, g->N, g->K, 0, g->K, g->A, g->K, g->packed, g->kperm, g->C, g->N);
    } else {
        int64_t s;
        for (s = 0; s < g->groups; s++)
            gemm(g->M, g->N, g->K, g->K * s / g->groups, g->K * (s + 1) / g->groups, g->A, g->K,
                 g->packed, g->kperm, g->C, g->N);
    }
}

/* Best time of one GEMM call (>= 3 calls, ~min_time). kind >= 0: each call is followed by a
 * peak burst of that kind, and *local_peak gets the best burst rate of the loop (GOP/s). */
static double time_gemm(const gemm_args *g, double min_time, int kind, double *local_peak)
{
    static const double macs[PK_COUNT] = {64.0, 32.0, 16.0};
    double              best = 1e30, start, pk = 0.0;
    uint64_t            n = 64;
    int                 r;
    run(g); /* warm-up */
    if (kind >= 0)
        for (;;) { /* burst of ~0.3 ms */
            double t = now();
            peak_loop(n, kind);
            if (now() - t > 3e-4) break;
            n *= 2;
        }
    start = now();
    for (r = 0; r < 3 || now() - start < min_time; r++) {
        double t = now();
        run(g);
        t = now() - t;
        if (t < best) best = t;
        if (kind >= 0) {
            double gp;
            t = now();
            peak_loop(n, kind);
            t  = now() - t;
            gp = (double)n * 14.0 * macs[kind] * 2.0 / t * 1e-9;
            if (gp > pk) pk = gp;
        }
    }
    if (local_peak != NULL) *local_peak = pk;
    return best;
}

/* One GEMM whose N columns are split into two 64-aligned halves (task 0 and 1). */
typedef struct split_args {
    int64_t        M, N, K;
    const uint8_t *A;
    const void    *packed;
    int32_t       *C;
    int            qs4;
} split_args;

static void split_task(void *ctx, int64_t task, int32_t thread)
{
    const split_args *a    = (const split_args *)ctx;
    const int64_t     half = ((a->N / 2 + IGQ_QS8_NR - 1) / IGQ_QS8_NR) * IGQ_QS8_NR;
    const int64_t     n0 = task == 0 ? 0 : half, n1 = task == 0 ? half : a->N;
    const int64_t     rb = a->qs4 ? 32 : 64;
    (void)thread;
    if (n1 <= n0) return;
    (a->qs4 ? igq__qs4_gemm : igq__qs8_gemm)(a->M, n1 - n0, a->K, 0, a->K, a->A, a->K,
                                          (const uint8_t *)a->packed + (n0 / IGQ_QS8_NR) * a->K * rb,
                                          NULL, a->C + n0, a->N);
}

/* Best wall time of the split GEMM on pool (NULL: both halves on this thread). */
static double time_split(split_args *a, igq__pool *pool, double min_time)
{
    clockid_t saved = g_clock;
    double    best = 1e30, start;
    int       r;
    g_clock = CLOCK_MONOTONIC;
    igq__pool_run(pool, 2, split_task, a); /* warm-up */
    start = now();
    for (r = 0; r < 3 || now() - start < min_time; r++) {
        double t = now();
        igq__pool_run(pool, 2, split_task, a);
        t = now() - t;
        if (t < best) best = t;
    }
    g_clock = saved;
    return best;
}

int main(int argc, char **argv)
{
    static const int64_t ms[]    = {50, 197, 394};
    static const int64_t kn[][2] = {{192, 576},   {192, 192},  {192, 768},  {768, 192},
                                    {384, 1152},  {384, 384},  {384, 1536}, {1536, 384},
                                    {768, 2304},  {768, 768},  {768, 3072}, {3072, 768}};
    const int            n_ms = (int)(sizeof ms / sizeof ms[0]);
    const int            n_kn = (int)(sizeof kn / sizeof kn[0]);
    const int64_t        maxK = 3072, maxN = 3072, maxM = 394;
    int                  quick = 0, only = -1, l, i, j, levels[IGQ_ISA_COUNT], n_levels = 0;
    double               peak[PK_COUNT] = {0, 0, 0}, peak_first[PK_COUNT] = {0, 0, 0};
    double               peak_last[PK_COUNT] = {0, 0, 0}, min_time;
    static double        gops[3][12][IGQ_ISA_COUNT][2], lpeak[3][12][IGQ_ISA_COUNT][2];
    const igq_isa_level  start = igq__isa_active();
    uint8_t             *A, *Ag;
    int8_t              *W;
    void                *packed8, *packed4;
    int32_t             *C, *perm;
    int64_t              x;

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

    A       = (uint8_t *)xalloc((size_t)(maxM * maxK));
    Ag      = (uint8_t *)xalloc((size_t)(maxM * maxK));
    W       = (int8_t *)xalloc((size_t)(maxN * maxK));
    packed8 = xalloc(igq__qs8_packed_size(maxN, maxK, 8));
    packed4 = xalloc(igq__qs8_packed_size(maxN, maxK, 4));
    C       = (int32_t *)xalloc((size_t)(maxM * maxN) * sizeof(int32_t));
    perm    = (int32_t *)xalloc((size_t)maxK * sizeof(int32_t));
    for (x = 0; x < maxM * maxK; x++) A[x] = (uint8_t)rnd();
    for (x = 0; x < maxN * maxK; x++) W[x] = (int8_t)rnd();

    for (l = 0; l < IGQ_ISA_COUNT; l++) {
        if (only >= 0 && l != only) continue;
        if ((int)igq__isa_clamp((igq_isa_level)l) != l) continue;
        levels[n_levels++] = l;
    }
    refresh_peaks(peak, peak_first, 0.3);
    for (i = 0; i < n_ms; i++)
        for (j = 0; j < n_kn; j++) {
            const int64_t M = ms[i], K = kn[j][0], N = kn[j][1];
            const double  ops = 2.0 * (double)M * (double)N * (double)K;
            int           qs4;
            igq__qs8_pack(N, K, W, NULL, packed8, NULL);
            igq__qs4_pack(N, K, W, NULL, packed4, NULL);
            for (l = 0; l < n_levels; l++) {
                const int lv = levels[l];
                igq__dispatch_force((igq_isa_level)lv);
                const int kind = lv == IGQ_ISA_AVX512VNNI ? PK_ZMM_DPBUSD
                                 : lv == IGQ_ISA_AVXVNNI  ? PK_YMM_DPBUSD
                                 : lv == IGQ_ISA_AVX2     ? PK_YMM_MADDWD
                                                          : -1;
                for (qs4 = 0; qs4 < 2; qs4++) {
                    gemm_args g;
                    memset(&g, 0, sizeof g);
                    g.M = M, g.N = N, g.K = K, g.A = A, g.C = C, g.qs4 = qs4, g.groups = 1;
                    g.packed = qs4 ? packed4 : packed8;
                    gops[i][j][l][qs4] =
                        ops / time_gemm(&g, lv == IGQ_ISA_SCALAR ? min_time / 4 : min_time, kind,
                                        &lpeak[i][j][l][qs4]) * 1e-9;
                }
            }
            fprintf(stderr, ".");
        }
    refresh_peaks(peak, peak_last, 0.3);
    fprintf(stderr, "\n");

    printf("libigq integer GEMM  (C[M,N] int32 = A[M,K] u8 x W[N,K]; GOP/s = 2MNK / best %s "
           "time, 1 thread)\n",
           g_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU");
    printf("detected ISA: %s, active at start: %s\n", igq__isa_name(igq__isa_detected()),
           igq__isa_name(start));
    printf("measured single-core peaks, GOP/s (start / end of the run): zmm vpdpbusd "
           "%.1f / %.1f, ymm vpdpbusd %.1f / %.1f, ymm vpmaddwd %.1f / %.1f\n",
           peak_first[PK_ZMM_DPBUSD], peak_last[PK_ZMM_DPBUSD], peak_first[PK_YMM_DPBUSD],
           peak_last[PK_YMM_DPBUSD], peak_first[PK_YMM_MADDWD], peak_last[PK_YMM_MADDWD]);
    printf("%%pk = GOP/s / the level's peak measured in the same timing loop (avx512vnni: zmm "
           "vpdpbusd, avxvnni: ymm vpdpbusd, avx2: ymm vpmaddwd); pk = that peak\n\n");
    printf("%4s %5s %5s", "M", "K", "N");
    for (l = 0; l < n_levels; l++)
        printf(" | %10s qs8 GOP/s  %%pk    pk  qs4 GOP/s  %%pk    pk",
               igq__isa_name((igq_isa_level)levels[l]));
    printf("\n");
    for (i = 0; i < n_ms; i++)
        for (j = 0; j < n_kn; j++) {
            int qs4;
            printf("%4lld %5lld %5lld", (long long)ms[i], (long long)kn[j][0], (long long)kn[j][1]);
            for (l = 0; l < n_levels; l++) {
                printf(" | %10s", "");
                for (qs4 = 0; qs4 < 2; qs4++) {
                    const double g = gops[i][j][l][qs4], pk = lpeak[i][j][l][qs4];
                    if (pk > 0.0) printf(" %9.1f %4.0f%% %5.0f", g, 100.0 * g / pk, pk);
                    else printf(" %9.1f %5s %5s", g, "-", "-");
                    if (qs4 == 0) printf(" ");
                }
            }
            printf("\n");
        }
    fflush(stdout);

    /* ---- per-image cost of the IGQ channel permutation, best level, M = 197 ---- */
    {
        const int lv = levels[n_levels - 1];
        igq__dispatch_force((igq_isa_level)lv);
        printf("\nIGQ grouped GEMM at %s, M = 197, G = 8 k-slices with a random per-image kperm "
               "(weights packed once):\n",
               igq__isa_name((igq_isa_level)lv));
        printf("%5s %5s | %9s %9s %6s | %9s %9s %6s | %9s | %9s %9s\n", "K", "N", "qs8 ms",
               "grouped", "ovh", "qs4 ms", "grouped", "ovh", "gather ms", "repack8", "repack4");
        for (j = 0; j < n_kn; j++) {
            const int64_t M = 197, K = kn[j][0], N = kn[j][1];
            double        t[2][2], tg, tp8, tp4, s;
            int           qs4, grouped, r;
            for (x = 0; x < K; x++) perm[x] = (int32_t)x;
            for (x = K - 1; x > 0; x--) {
                const int64_t y = (int64_t)(rnd() % (uint64_t)(x + 1));
                const int32_t tmp = perm[x];
                perm[x] = perm[y], perm[y] = tmp;
            }
            igq__qs8_pack(N, K, W, NULL, packed8, NULL);
            igq__qs4_pack(N, K, W, NULL, packed4, NULL);
            for (qs4 = 0; qs4 < 2; qs4++)
                for (grouped = 0; grouped < 2; grouped++) {
                    gemm_args g;
                    memset(&g, 0, sizeof g);
                    g.M = M, g.N = N, g.K = K, g.A = A, g.C = C, g.qs4 = qs4;
                    g.packed = qs4 ? packed4 : packed8;
                    g.groups = grouped ? 8 : 1;
                    g.kperm  = grouped ? perm : NULL;
                    t[qs4][grouped] = time_gemm(&g, min_time, -1, NULL);
                }
            /* activation gather: Ag[m][k] = A[m][perm[k]] */
            tg = 1e30;
            for (r = 0; r < 5; r++) {
                int64_t m, k;
                s = now();
                for (m = 0; m < M; m++)
                    for (k = 0; k < K; k++) Ag[m * K + k] = A[m * K + perm[k]];
                s = now() - s;
                if (s < tg) tg = s;
            }
            tp8 = tp4 = 1e30;
            for (r = 0; r < 3; r++) {
                s = now();
                igq__qs8_pack(N, K, W, perm, packed8, NULL);
                s = now() - s;
                if (s < tp8) tp8 = s;
                s = now();
                igq__qs4_pack(N, K, W, perm, packed4, NULL);
                s = now() - s;
                if (s < tp4) tp4 = s;
            }
            printf("%5lld %5lld | %9.3f %9.3f %5.1f%% | %9.3f %9.3f %5.1f%% | %9.3f | %9.3f %9.3f\n",
                   (long long)K, (long long)N, 1e3 * t[0][0], 1e3 * t[0][1],
                   100.0 * (t[0][1] / t[0][0] - 1.0), 1e3 * t[1][0], 1e3 * t[1][1],
                   100.0 * (t[1][1] / t[1][0] - 1.0), 1e3 * tg, 1e3 * tp8, 1e3 * tp4);
            fflush(stdout);
        }
        /* the fused grouped GEMM (what the integer executor runs at this level): f32 outputs
         * with the group epilogue in registers, G = 1 and G = 8 (random group sizes) */
        if (igq__kernels()->qs8_ggemm != NULL) {
            float  *Y  = (float *)xalloc((size_t)(197 * maxN) * sizeof(float));
            float  *cs = (float *)xalloc((size_t)maxN * sizeof(float));
            float  *gs = (float *)xalloc(64 * sizeof(float));
            void   *ws = xalloc(igq__qs8_ggemm_ws_size(maxK, 8) + 64);
            int32_t off[9];
            printf("\nFused grouped GEMM (igq_qggemm_fn, f32 out, group epilogue in registers) at "
                   "%s, M = 197; GOP/s and %% of the zmm vpdpbusd peak measured at the start:\n",
                   igq__isa_name((igq_isa_level)lv));
            printf("%5s %5s | %9s %7s %5s | %9s %7s %5s | %9s %7s %5s\n", "K", "N", "qs8 G=1 ms",
                   "GOP/s", "%pk", "qs8 G=8", "GOP/s", "ovh", "qs4 G=8", "GOP/s", "%pk");
            for (x = 0; x < maxN; x++) cs[x] = 1e-3f;
            for (x = 0; x < 64; x++) gs[x] = 1e-2f;
            for (j = 0; j < n_kn; j++) {
                const int64_t M = 197, K = kn[j][0], N = kn[j][1];
                const double  ops = 2.0 * (double)M * (double)N * (double)K;
                double        t[3], s;
                int           v, r, g;
                off[0] = 0;
                for (g = 1; g < 8; g++) off[g] = (int32_t)(K * g / 8 + (int64_t)(rnd() % 9) - 4);
                off[8] = (int32_t)K;
                igq__qs8_pack(N, K, W, NULL, packed8, NULL);
                igq__qs4_pack(N, K, W, NULL, packed4, NULL);
                for (v = 0; v < 3; v++) {
                    const int32_t one[2] = {0, (int32_t)K};
                    double        best = 1e30, t0 = now();
                    for (r = 0; r < 3 || now() - t0 < min_time; r++) {
                        s = now();
                        if (v == 0)
                            igq__kernels()->qs8_ggemm(M, N, K, 1, one, gs, A, K, packed8, NULL, cs, cs,
                                                     Y, N, ws);
                        else if (v == 1)
                            igq__kernels()->qs8_ggemm(M, N, K, 8, off, gs, A, K, packed8, perm, cs,
                                                     cs, Y, N, ws);
                        else
                            igq__kernels()->qs4_ggemm(M, N, K, 8, off, gs, A, K, packed4, perm, cs,
                                                     cs, Y, N, ws);
                        s = now() - s;
                        if (s < best) best = s;
                    }
                    t[v] = best;
                }
                printf("%5lld %5lld | %9.3f %7.1f %4.0f%% | %9.3f %7.1f %4.1f%% | %9.3f %7.1f %4.0f%%\n",
                       (long long)K, (long long)N, 1e3 * t[0], ops / t[0] * 1e-9,
                       100.0 * ops / t[0] * 1e-9 / peak_first[PK_ZMM_DPBUSD], 1e3 * t[1],
                       ops / t[1] * 1e-9, 100.0 * (t[1] / t[0] - 1.0), 1e3 * t[2],
                       ops / t[2] * 1e-9, 100.0 * ops / t[2] * 1e-9 / peak_first[PK_ZMM_DPBUSD]);
                fflush(stdout);
            }
            free(Y), free(cs), free(gs), free(ws);
        }
    }
    /* ---- two threads: the columns split in two panel-aligned halves, one per thread ---- */
    {
        const int lv = levels[n_levels - 1];
        igq__pool *pool = NULL;
        igq__dispatch_force((igq_isa_level)lv);
        if (igq__pool_create(2, &pool) == IGQ_OK) {
            printf("\n2 threads at %s (columns split in two 64-aligned halves; wall time, best of "
                   ">= 3 calls and %.2f s): GOP/s and speedup over 1 thread (wall)\n",
                   igq__isa_name((igq_isa_level)lv), min_time);
            printf("%4s %5s %5s | %9s %9s %6s | %9s %9s %6s\n", "M", "K", "N", "qs8 1thr",
                   "2thr", "x", "qs4 1thr", "2thr", "x");
            for (i = 0; i < n_ms; i++)
                for (j = 0; j < n_kn; j++) {
                    const int64_t M = ms[i], K = kn[j][0], N = kn[j][1];
                    const double  ops = 2.0 * (double)M * (double)N * (double)K;
                    double        t1[2], t2[2];
                    int           qs4;
                    igq__qs8_pack(N, K, W, NULL, packed8, NULL);
                    igq__qs4_pack(N, K, W, NULL, packed4, NULL);
                    for (qs4 = 0; qs4 < 2; qs4++) {
                        split_args sa;
                        memset(&sa, 0, sizeof sa);
                        sa.M = M, sa.N = N, sa.K = K, sa.A = A, sa.C = C, sa.qs4 = qs4;
                        sa.packed = qs4 ? packed4 : packed8;
                        t1[qs4] = time_split(&sa, NULL, min_time);
                        t2[qs4] = time_split(&sa, pool, min_time);
                    }
                    printf("%4lld %5lld %5lld | %9.1f %9.1f %5.2fx | %9.1f %9.1f %5.2fx\n",
                           (long long)M, (long long)K, (long long)N, ops / t1[0] * 1e-9,
                           ops / t2[0] * 1e-9, t1[0] / t2[0], ops / t1[1] * 1e-9,
                           ops / t2[1] * 1e-9, t1[1] / t2[1]);
                    fflush(stdout);
                }
            igq__pool_free(pool);
        }
    }
    igq__dispatch_force(start);
    free(A);
    free(Ag);
    free(W);
    free(packed8);
    free(packed4);
    free(C);
    free(perm);
    return 0;
}
