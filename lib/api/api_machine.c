/* igq_measure_machine: the compute roofs of the active level's peak loops (kernels.h
 * igq_peak_fn) and the memory read bandwidth, measured on the calling thread. Each figure is the
 * best of many short bursts, so a burst slowed by another process on a shared host does not
 * lower it. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/dispatch.h"
#include "../model/profile.h"
#include "igq/igq.h"

/* Bytes streamed for the bandwidth: larger than the last-level cache slices of the machines we
 * know (a process sees at most a few hundred MB of L3 on the largest server parts). */
#define BW_BYTES ((size_t)256 << 20)

/* Best rate (multiply-adds per ns) of the peak loop of `kind` over bursts of ~0.2 ms during
 * `span` ns. */
static double best_peak(const igq_kernel_table *kt, int kind, double span)
{
    float   in[16], sink[16];
    int64_t n = 256;
    double  best = 0.0, start, t, macs;
    int     i;
    for (i = 0; i < 16; i++) in[i] = 0.5f; /* chains converge to normal values */
    for (;;) {                             /* a burst of at least 0.2 ms */
        t    = igq__prof_now();
        macs = kt->peak(n, kind, in, sink);
        t    = igq__prof_now() - t;
        if (t > 2e5 || n > ((int64_t)1 << 40)) break;
        n *= 2;
    }
    start = igq__prof_now();
    do {
        t    = igq__prof_now();
        macs = kt->peak(n, kind, in, sink);
        t    = igq__prof_now() - t;
        if (t > 0.0 && macs / t > best) best = macs / t;
    } while (igq__prof_now() - start < span);
    return best;
}

/* One pass reading every 64-bit word of buf (four independent sums); the result keeps the
 * reads from being optimized away. */
static uint64_t read_pass(const uint64_t *buf, size_t words)
{
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t   i;
    for (i = 0; i + 4 <= words; i += 4) {
        s0 += buf[i];
        s1 ^= buf[i + 1];
        s2 += buf[i + 2];
        s3 ^= buf[i + 3];
    }
    return s0 ^ s1 ^ s2 ^ s3;
}

igq_status igq_measure_machine(double seconds, double *int8_gops, double *f32_gflops,
                               double *mem_gbps)
{
    const igq_kernel_table *kt;
    double                  span, best = 0.0, start, t;
    uint64_t               *buf, sum = 0;
    size_t                  words = BW_BYTES / sizeof(uint64_t), i;
    int                     passes = 0;
    if (int8_gops != NULL) *int8_gops = 0.0;
    if (f32_gflops != NULL) *f32_gflops = 0.0;
    if (mem_gbps != NULL) *mem_gbps = 0.0;
    IGQ_CHECK(seconds >= 0.05 && seconds <= 10.0, IGQ_ERR_OUT_OF_RANGE,
              "igq_measure_machine: seconds %g outside 0.05..10", seconds);
    kt   = igq__kernels();
    span = seconds * 1e9 / 3.0;
    if (int8_gops != NULL) *int8_gops = 2.0 * best_peak(kt, IGQ_PEAK_INT8, span);
    if (f32_gflops != NULL) *f32_gflops = 2.0 * best_peak(kt, IGQ_PEAK_F32, span);
    if (mem_gbps == NULL) return IGQ_OK;
    buf = (uint64_t *)igq__malloc(BW_BYTES);
    IGQ_CHECK(buf != NULL, IGQ_ERR_NO_MEMORY,
              "igq_measure_machine: cannot allocate %zu bytes for the bandwidth", BW_BYTES);
    for (i = 0; i < words; i++) buf[i] = (uint64_t)i * 0x9e3779b97f4a7c15u; /* pages in */
    start = igq__prof_now();
    do { /* at least two passes, the best counts */
        t = igq__prof_now();
        sum ^= read_pass(buf, words);
        t = igq__prof_now() - t;
        if (t > 0.0 && (double)BW_BYTES / t > best) best = (double)BW_BYTES / t;
        passes++;
    } while (passes < 2 || igq__prof_now() - start < span);
    /* the sum is data-dependent; storing it keeps every read */
    buf[0] = sum;
    igq__free(buf);
    *mem_gbps = best;
    return IGQ_OK;
}
