/* Public inference entry points: igq_run, thread pools and sessions. Argument validation, the
 * scratch plan (one allocation holding the forward's activations and, for a quantized model,
 * one simulated-executor hook context with its statistics buffer per thread), then the
 * forward (lib/model/forward_f32.c). igq_run and igq_session_run share the validation and the
 * plan, so they accept the same tensors and give the same bits. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../core/tensor.h"
#include "../core/threadpool.h"
#include "../model/qexec.h"

#define RUP64(n) ((((size_t)(n)) + 63u) & ~(size_t)63u)

/* Scratch of a run, in one allocation: [hooks][sim contexts][forward floats][stat floats]. */
typedef struct exec_mem {
    void          *block;
    int64_t        chunk;   /* images per chunk the forward scratch covers */
    int32_t        threads; /* threads it covers */
    float         *scratch; /* igq__forward_scratch_floats_par(d, chunk, threads) floats */
    igq_site_hook *hooks;   /* [threads] for a simulated quantized model, else NULL */
    void          *iscratch; /* integer executor: threads x igq__forward_int_scratch bytes */
} exec_mem;

struct igq_session {
    const igq_model *model;
    igq_threadpool  *pool; /* borrowed; NULL = the calling thread */
    exec_mem         mem;  /* block == NULL until the first reserve or run */
};

static void exec_free(exec_mem *e)
{
    igq__free(e->block);
    memset(e, 0, sizeof *e);
}

static igq_status exec_alloc(exec_mem *e, const igq_model *model, int64_t chunk, int32_t threads,
                             const char *who)
{
    const igq_vit_dims *d      = &model->d;
    const int           quant  = model->q != NULL && model->q->x == NULL;
    const size_t        hook_b = quant ? RUP64((size_t)threads * sizeof(igq_site_hook)) : 0;
    const size_t        sim_b  = quant ? RUP64((size_t)threads * sizeof(igq_sim_ctx)) : 0;
    const size_t        fwd_f  = igq__forward_scratch_floats_par(d, chunk, threads);
    const size_t        stat_f = quant ? igq__sim_stat_floats(d) : 0;
    size_t              floats = 0, bytes = 0;
    unsigned char      *p;
    int32_t             t;
    memset(e, 0, sizeof *e);
    if (model->q != NULL && model->q->x != NULL) {
        size_t per = igq__forward_int_scratch(model);
        IGQ_CHECK(igq__mul_size(per, (size_t)threads, &bytes), IGQ_ERR_NO_MEMORY,
                  "%s: scratch size overflows", who);
        e->block = igq__malloc(bytes);
        IGQ_CHECK(e->block != NULL, IGQ_ERR_NO_MEMORY, "%s: cannot allocate %zu bytes of scratch",
                  who, bytes);
        e->iscratch = e->block;
        e->chunk    = INT64_MAX; /* the integer executor's scratch does not grow with batch */
        e->threads  = threads;
        return IGQ_OK;
    }
    if (!igq__mul_size(stat_f, (size_t)threads, &floats) || floats > SIZE_MAX - fwd_f ||
        !igq__mul_size(floats + fwd_f, sizeof(float), &bytes) ||
        bytes > SIZE_MAX - hook_b - sim_b)
        return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: scratch size overflows", who);
    p = (unsigned char *)igq__malloc(hook_b + sim_b + bytes);
    IGQ_CHECK(p != NULL, IGQ_ERR_NO_MEMORY, "%s: cannot allocate %zu bytes of scratch", who,
              hook_b + sim_b + bytes);
    e->block   = p;
    e->chunk   = chunk;
    e->threads = threads;
    e->scratch = (float *)(p + hook_b + sim_b);
    if (quant) {
        igq_sim_ctx *sims = (igq_sim_ctx *)(p + hook_b);
        e->hooks          = (igq_site_hook *)p;
        for (t = 0; t < threads; t++) {
            memset(&sims[t], 0, sizeof sims[t]);
            sims[t].q       = model->q;
            sims[t].stat    = e->scratch + fwd_f + (size_t)t * stat_f;
            e->hooks[t].fn  = igq__sim_hook;
            e->hooks[t].ctx = &sims[t];
        }
    }
    return IGQ_OK;
}

static void exec_run(exec_mem *e, const igq_model *model, const igq_tensor *images,
                     igq_tensor *logits, igq__pool *pool)
{
    const int64_t B = images->shape[0];
    if (e->iscratch != NULL)
        igq__forward_int(model, (const float *)images->data, B, (float *)logits->data,
                         e->iscratch, pool);
    else
        igq__forward_par(model, (const float *)images->data, B, (float *)logits->data,
                         e->scratch, e->hooks, pool);
}

/* The checks igq_run documents; who names the entry point in the message. */
static igq_status check_io(const char *who, const igq_model *model, const igq_tensor *images,
                           const igq_tensor *logits)
{
    const igq_vit_dims *d;
    int64_t             B;
    IGQ_CHECK(model != NULL && images != NULL && logits != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "%s: NULL argument", who);
    IGQ_CHECK(images != logits && images->data != logits->data, IGQ_ERR_INVALID_ARGUMENT,
              "%s: images and logits must be different tensors", who);
    IGQ_CHECK(images->dtype == IGQ_DTYPE_F32 && logits->dtype == IGQ_DTYPE_F32,
              IGQ_ERR_INVALID_ARGUMENT, "%s: images and logits must be f32", who);
    d = &model->d;
    IGQ_CHECK(images->ndim == 4 && images->shape[1] == d->in_chans &&
                  images->shape[2] == d->img_h && images->shape[3] == d->img_w,
              IGQ_ERR_SHAPE, "%s: images must be [B, %d, %d, %d], got ndim %d [%lld, %lld, %lld, %lld]",
              who, (int)d->in_chans, (int)d->img_h, (int)d->img_w, (int)images->ndim,
              (long long)images->shape[0], (long long)(images->ndim > 1 ? images->shape[1] : 0),
              (long long)(images->ndim > 2 ? images->shape[2] : 0),
              (long long)(images->ndim > 3 ? images->shape[3] : 0));
    B = images->shape[0];
    IGQ_CHECK(logits->ndim == 2 && logits->shape[0] == B && logits->shape[1] == d->classes,
              IGQ_ERR_SHAPE, "%s: logits must be [%lld, %d], got ndim %d [%lld, %lld]", who,
              (long long)B, (int)d->classes, (int)logits->ndim, (long long)logits->shape[0],
              (long long)(logits->ndim > 1 ? logits->shape[1] : 0));
    return IGQ_OK;
}

igq_status igq_run(const igq_model *model, const igq_tensor *images, igq_tensor *logits)
{
    exec_mem mem;
    int64_t  B;
    IGQ_TRY(check_io("igq_run", model, images, logits));
    B = images->shape[0];
    IGQ_TRY(exec_alloc(&mem, model, igq__forward_chunk(&model->d, B), 1, "igq_run"));
    exec_run(&mem, model, images, logits, NULL);
    exec_free(&mem);
    return IGQ_OK;
}

/* ---- thread pools ----------------------------------------------------------------------- */

igq_status igq_threadpool_create(int32_t n_threads, igq_threadpool **out)
{
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_threadpool_create: out is NULL");
    *out = NULL;
    return igq__pool_create(n_threads, out);
}

void igq_threadpool_free(igq_threadpool *pool) { igq__pool_free(pool); }

/* The library's own NULL pool means "the calling thread" (igq__pool_size gives 1); the public
 * getter reports a missing handle as -1 like every other getter. */
int32_t igq_threadpool_size(const igq_threadpool *pool)
{
    return pool != NULL ? igq__pool_size(pool) : -1;
}

/* ---- sessions --------------------------------------------------------------------------- */

igq_status igq_session_create(const igq_model *model, igq_session **out)
{
    igq_session *s;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_session_create: out is NULL");
    *out = NULL;
    IGQ_CHECK(model != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_session_create: model is NULL");
    s = (igq_session *)igq__calloc(1, sizeof *s);
    IGQ_CHECK(s != NULL, IGQ_ERR_NO_MEMORY, "igq_session_create: out of memory");
    s->model = model;
    *out     = s;
    return IGQ_OK;
}

void igq_session_free(igq_session *session)
{
    if (session == NULL) return;
    exec_free(&session->mem);
    igq__free(session);
}

igq_status igq_session_set_threadpool(igq_session *session, igq_threadpool *pool)
{
    IGQ_CHECK(session != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_session_set_threadpool: session is NULL");
    session->pool = pool;
    return IGQ_OK;
}

/* Makes the scratch cover batches of `batch` images on the attached pool. Grows to the larger
 * of the old and new needs, so alternating sizes never reallocate twice; on failure the old
 * scratch stays. */
static igq_status session_ensure(igq_session *s, int64_t batch, const char *who)
{
    int64_t  chunk   = igq__forward_chunk(&s->model->d, batch);
    int32_t  threads = igq__pool_size(s->pool);
    exec_mem grown;
    if (s->mem.block != NULL) {
        if (chunk <= s->mem.chunk && threads <= s->mem.threads) return IGQ_OK;
        if (chunk < s->mem.chunk) chunk = s->mem.chunk;
        if (threads < s->mem.threads) threads = s->mem.threads;
    }
    IGQ_TRY(exec_alloc(&grown, s->model, chunk, threads, who));
    exec_free(&s->mem);
    s->mem = grown;
    return IGQ_OK;
}

igq_status igq_session_reserve(igq_session *session, int64_t max_batch)
{
    IGQ_CHECK(session != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_session_reserve: session is NULL");
    IGQ_CHECK(max_batch >= 1, IGQ_ERR_INVALID_ARGUMENT,
              "igq_session_reserve: max_batch %lld must be >= 1", (long long)max_batch);
    return session_ensure(session, max_batch, "igq_session_reserve");
}

igq_status igq_session_run(igq_session *session, const igq_tensor *images, igq_tensor *logits)
{
    int64_t B;
    IGQ_CHECK(session != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_session_run: session is NULL");
    IGQ_TRY(check_io("igq_session_run", session->model, images, logits));
    B = images->shape[0];
    IGQ_TRY(session_ensure(session, B, "igq_session_run"));
    exec_run(&session->mem, session->model, images, logits, session->pool);
    return IGQ_OK;
}
