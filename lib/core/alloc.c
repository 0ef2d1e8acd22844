#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef IGQ_TESTING
#include <malloc.h>

/* The fail-after counter is a test hook; it is only touched by single-threaded tests, so a
 * plain (non-atomic) variable is enough. -1 disables it. */
static long g_fail_after = -1;

void igq__alloc_fail_after(long n) { g_fail_after = n; }

/* Byte accounting, the same way: only while a single-threaded test has it on. Block sizes are
 * the allocator's usable sizes (what a block really costs, bar the allocator's own headers),
 * read again when the block is freed, so a block allocated before tracking started and freed
 * during it counts negatively: live is relative to the start. */
static int       g_track;
static long long g_live, g_peak;

void igq__alloc_track(int on)
{
    g_track = on;
    if (on) g_live = g_peak = 0;
}

size_t igq__alloc_peak_bytes(void) { return g_peak > 0 ? (size_t)g_peak : 0; }

static void track(void *p, int sign)
{
    if (!g_track || p == NULL) return;
    g_live += sign * (long long)malloc_usable_size(p);
    if (g_live > g_peak) g_peak = g_live;
}
#endif

int igq__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

void *igq__malloc(size_t size)
{
    void *p = NULL;
#ifdef IGQ_TESTING
    if (g_fail_after >= 0) {
        if (g_fail_after == 0) return NULL;
        g_fail_after--;
    }
#endif
    if (size == 0) size = 1;
    if (size > SIZE_MAX - IGQ_ALIGN) return NULL;
    /* Round up so that SIMD kernels may read a whole vector at the end of any buffer. */
    size = (size + IGQ_ALIGN - 1) & ~(size_t)(IGQ_ALIGN - 1);
    if (posix_memalign(&p, IGQ_ALIGN, size) != 0) return NULL;
#ifdef IGQ_TESTING
    track(p, 1);
#endif
    return p;
}

void *igq__calloc(size_t count, size_t size)
{
    size_t total;
    void  *p;
    if (!igq__mul_size(count, size, &total)) return NULL;
    p = igq__malloc(total);
    if (p != NULL) memset(p, 0, total);
    return p;
}

void igq__free(void *ptr)
{
#ifdef IGQ_TESTING
    track(ptr, -1);
#endif
    free(ptr);
}
