/* Per-layer profile of a run (igq_session_set_profiling): each thread that drives an image (the
 * integer executor) or a step of several images (the fp32 and simulated executors) records its
 * layers in order into its own recorder; the session merges the recorders after the run.
 * Private header.
 *
 * A recorder is a list of entries indexed by the layer's position in the forward: an image (or
 * step) starts at position 0 (igq__prof_start) and every layer takes the next position. The
 * first call at a position fills the entry's description (name, kind, shape); every call adds
 * to its counters (calls, operations, bytes, time). Positions, not names, identify layers, so
 * a hot path stores no strings. With a NULL recorder everything is a no-op. */
#ifndef IGQ_MODEL_PROFILE_H
#define IGQ_MODEL_PROFILE_H

#include <stdint.h>
#include <time.h>

typedef struct igq_prof_entry {
    const char *what;     /* static: the name after "blocks.N." (or the whole name) */
    int32_t     block;    /* -1: not in a block */
    int32_t     kind;     /* igq_layer_kind */
    int64_t     shape[3]; /* of the first call */
    int64_t     calls;
    double      ops, bytes, ns;
} igq_prof_entry;

typedef struct igq_prof {
    igq_prof_entry *e;   /* [cap] */
    int32_t         cap; /* igq__prof_capacity() */
    int32_t         n;   /* positions described so far */
    int32_t         cur; /* next position of the current image or step */
    int32_t         overflow; /* a layer found no position (a bug: the merge refuses it) */
} igq_prof;

/* Positions a forward of a model of `depth` blocks can take (every executor). */
static inline int32_t igq__prof_capacity(int32_t depth) { return 16 * depth + 16; }

static inline double igq__prof_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A new image or step: positions restart at 0. */
static inline void igq__prof_start(igq_prof *p)
{
    if (p != NULL) p->cur = 0;
}

/* The clock before a layer (0 without a recorder). */
static inline double igq__prof_t0(const igq_prof *p) { return p != NULL ? igq__prof_now() : 0.0; }

/* The layer that began at t0 ended now: its description and counters (profile.c). */
void igq__prof_add(igq_prof *p, double t0, const char *what, int32_t block, int32_t kind,
                   int64_t s0, int64_t s1, int64_t s2, double ops, double bytes);

#endif
