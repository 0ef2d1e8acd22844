/* Running a model on a batch with the executor its state selects (fp32, simulated, integer):
 * the scratch plan that igq_run and sessions allocate once and reuse. Private header. */
#ifndef IGQ_MODEL_EXEC_PLAN_H
#define IGQ_MODEL_EXEC_PLAN_H

#include "../core/threadpool.h"
#include "qexec.h"

/* Scratch of a run, in one allocation: for the fp32 and simulated executors
 * [hooks][sim contexts][forward floats][stat floats] (one simulated-executor hook context with
 * its statistics buffer per thread, for a quantized model only); for the integer executor one
 * igq__forward_int_scratch per thread. A zeroed plan is empty. */
typedef struct igq_exec_plan {
    void          *block;   /* the allocation, NULL while empty */
    int64_t        chunk;   /* images per chunk the forward scratch covers */
    int32_t        threads; /* threads it covers */
    float         *scratch; /* igq__forward_scratch_floats_par(d, chunk, threads) floats */
    igq_site_hook *hooks;   /* [threads] for a simulated quantized model, else NULL */
    void          *iscratch; /* integer executor: threads x igq__forward_int_scratch bytes */
} igq_exec_plan;

/* Makes plan p cover batches of `batch` images (>= 1) of model m on `threads` threads. A plan
 * that covers them already is kept; else it grows to the larger of the old and the new needs
 * (so alternating sizes never reallocate twice). On failure (IGQ_ERR_NO_MEMORY, the message
 * names `who`) the old plan stays. */
igq_status igq__exec_plan_reserve(igq_exec_plan *p, const struct igq_model *m, int64_t batch,
                                  int32_t threads, const char *who);

/* Frees the plan's scratch and empties it. */
void igq__exec_plan_free(igq_exec_plan *p);

/* Logits [batch][classes] (feat = 0) or pooled embeddings [batch][D] (feat = 1) of images
 * [batch][C][H][W] with m's executor on the plan's scratch, which must cover batch and
 * igq__pool_size(pool) threads. Allocates nothing. prof: NULL, or igq__pool_size(pool) layer
 * recorders (profile.h), one per thread, started empty. */
void igq__exec_plan_run(const igq_exec_plan *p, const struct igq_model *m, const float *images,
                        int64_t batch, float *out, int feat, igq__pool *pool, igq_prof *prof);

#endif
