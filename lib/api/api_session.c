/* Public inference entry points: igq_run, thread pools and sessions. They check the arguments
 * and run the model on a scratch plan (lib/model/exec_plan.h), which igq_run makes for one call
 * and a session keeps. igq_run and igq_session_run share the checks and the plan, so they
 * accept the same tensors and give the same bits. */
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../core/tensor.h"
#include "../core/threadpool.h"
#include "../model/exec_plan.h"
#include "api_check.h"

/* Longest layer name: "blocks." + a block index + "." + the longest suffix (profile.h). */
#define PROF_NAME 48

struct igq_session {
    const igq_model *model;
    igq_threadpool  *pool; /* borrowed; NULL = the calling thread */
    igq_exec_plan    plan; /* empty until the first reserve or run */
    /* profiling (igq_session_set_profiling): one recorder per thread of the run, then the
     * merged profile of the last profiled run, in one allocation */
    int32_t         profiling;
    void           *prof_block;
    igq_prof       *rec;         /* [rec_threads] */
    int32_t         rec_threads, cap;
    igq_prof_entry *merged;      /* [cap] */
    char           *names;       /* [cap][PROF_NAME] */
    int64_t         n_merged, prof_images; /* n_merged < 0: no profiled run yet */
    double          prof_seconds;
};

/* The checks igq_run and igq_run_features document; who names the entry point in the
 * message; feat: out holds pooled embeddings [B, D] instead of logits [B, classes]. */
static igq_status check_io(const char *who, const igq_model *model, const igq_tensor *images,
                           const igq_tensor *out, int feat)
{
    const igq_vit_dims *d;
    const char         *what = feat ? "features" : "logits";
    int64_t             B, W;
    IGQ_CHECK(model != NULL && images != NULL && out != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "%s: NULL argument", who);
    IGQ_CHECK(images != out && images->data != out->data, IGQ_ERR_INVALID_ARGUMENT,
              "%s: images and %s must be different tensors", who, what);
    IGQ_CHECK(images->dtype == IGQ_DTYPE_F32 && out->dtype == IGQ_DTYPE_F32,
              IGQ_ERR_INVALID_ARGUMENT, "%s: images and %s must be f32", who, what);
    d = &model->d;
    IGQ_CHECK(feat || d->classes > 0, IGQ_ERR_UNSUPPORTED,
              "%s: the model has no classifier (0 classes); igq_run_features gives its "
              "embeddings", who);
    IGQ_TRY(igq__check_images(who, model, images));
    B = images->shape[0];
    W = feat ? d->dim : d->classes;
    IGQ_CHECK(out->ndim == 2 && out->shape[0] == B && out->shape[1] == W, IGQ_ERR_SHAPE,
              "%s: %s must be [%lld, %lld], got ndim %d [%lld, %lld]", who, what, (long long)B,
              (long long)W, (int)out->ndim, (long long)out->shape[0],
              (long long)(out->ndim > 1 ? out->shape[1] : 0));
    return IGQ_OK;
}

static igq_status run_once(const char *who, const igq_model *model, const igq_tensor *images,
                           igq_tensor *out, int feat)
{
    igq_exec_plan plan;
    int64_t       B;
    IGQ_TRY(check_io(who, model, images, out, feat));
    B = images->shape[0];
    memset(&plan, 0, sizeof plan);
    IGQ_TRY(igq__exec_plan_reserve(&plan, model, B, 1, who));
    igq__exec_plan_run(&plan, model, (const float *)images->data, B, (float *)out->data, feat,
                       NULL, NULL);
    igq__exec_plan_free(&plan);
    return IGQ_OK;
}

igq_status igq_run(const igq_model *model, const igq_tensor *images, igq_tensor *logits)
{
    return run_once("igq_run", model, images, logits, 0);
}

igq_status igq_run_features(const igq_model *model, const igq_tensor *images,
                            igq_tensor *features)
{
    return run_once("igq_run_features", model, images, features, 1);
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
    s->model    = model;
    s->n_merged = -1;
    *out        = s;
    return IGQ_OK;
}

void igq_session_free(igq_session *session)
{
    if (session == NULL) return;
    igq__exec_plan_free(&session->plan);
    igq__free(session->prof_block);
    igq__free(session);
}

igq_status igq_session_set_threadpool(igq_session *session, igq_threadpool *pool)
{
    IGQ_CHECK(session != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_session_set_threadpool: session is NULL");
    session->pool = pool;
    return IGQ_OK;
}

igq_status igq_session_reserve(igq_session *session, int64_t max_batch)
{
    IGQ_CHECK(session != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_session_reserve: session is NULL");
    IGQ_CHECK(max_batch >= 1, IGQ_ERR_INVALID_ARGUMENT,
              "igq_session_reserve: max_batch %lld must be >= 1", (long long)max_batch);
    return igq__exec_plan_reserve(&session->plan, session->model, max_batch,
                                  igq__pool_size(session->pool), "igq_session_reserve");
}

/* Recorders for `threads` threads (kept when they exist already), emptied. */
static igq_status prof_prepare(igq_session *s, int32_t threads)
{
    const int32_t cap = igq__prof_capacity(s->model->d.depth);
    int32_t       t;
    if (s->prof_block == NULL || threads > s->rec_threads || cap > s->cap) {
        size_t  rec_b = ((size_t)threads * sizeof(igq_prof) + 63u) & ~(size_t)63u;
        size_t  ent_b = (size_t)(threads + 1) * (size_t)cap * sizeof(igq_prof_entry);
        size_t  nam_b = (size_t)cap * PROF_NAME;
        void   *blk   = igq__malloc(rec_b + ent_b + nam_b);
        char   *p     = (char *)blk;
        IGQ_CHECK(blk != NULL, IGQ_ERR_NO_MEMORY,
                  "igq_session_run: cannot allocate %zu bytes for the profile",
                  rec_b + ent_b + nam_b);
        igq__free(s->prof_block);
        s->prof_block  = blk;
        s->rec         = (igq_prof *)(void *)p;
        s->merged      = (igq_prof_entry *)(void *)(p + rec_b);
        s->names       = p + rec_b + ent_b;
        s->rec_threads = threads;
        s->cap         = cap;
        s->n_merged    = -1;
    }
    for (t = 0; t < threads; t++) {
        s->rec[t].e        = s->merged + (size_t)(t + 1) * (size_t)cap;
        s->rec[t].cap      = cap;
        s->rec[t].n        = 0;
        s->rec[t].cur      = 0;
        s->rec[t].overflow = 0;
    }
    return IGQ_OK;
}

/* The recorders of a run's threads summed position by position into the session's profile. */
static igq_status prof_merge(igq_session *s, int32_t threads, int64_t images, double seconds)
{
    int32_t t, i, n = 0;
    for (t = 0; t < threads; t++) {
        IGQ_CHECK(!s->rec[t].overflow, IGQ_ERR_INTERNAL,
                  "igq_session_run: the profile has more layers than its %d entries",
                  (int)s->cap);
        if (s->rec[t].n > n) n = s->rec[t].n;
    }
    for (i = 0; i < n; i++) {
        igq_prof_entry *m = &s->merged[i];
        int             first = 1;
        for (t = 0; t < threads; t++) {
            const igq_prof_entry *e = &s->rec[t].e[i];
            if (i >= s->rec[t].n) continue;
            if (first) {
                *m    = *e;
                first = 0;
            } else {
                m->calls += e->calls;
                m->ops += e->ops;
                m->bytes += e->bytes;
                m->ns += e->ns;
            }
        }
        if (m->block >= 0)
            snprintf(s->names + (size_t)i * PROF_NAME, PROF_NAME, "blocks.%d.%s", (int)m->block,
                     m->what);
        else
            snprintf(s->names + (size_t)i * PROF_NAME, PROF_NAME, "%s", m->what);
    }
    s->n_merged     = n;
    s->prof_images  = images;
    s->prof_seconds = seconds;
    return IGQ_OK;
}

static igq_status session_run(const char *who, igq_session *session, const igq_tensor *images,
                              igq_tensor *out, int feat)
{
    int64_t B;
    int32_t threads;
    double  t0;
    IGQ_CHECK(session != NULL, IGQ_ERR_INVALID_ARGUMENT, "%s: session is NULL", who);
    IGQ_TRY(check_io(who, session->model, images, out, feat));
    B       = images->shape[0];
    threads = igq__pool_size(session->pool);
    IGQ_TRY(igq__exec_plan_reserve(&session->plan, session->model, B, threads, who));
    if (!session->profiling) {
        igq__exec_plan_run(&session->plan, session->model, (const float *)images->data, B,
                           (float *)out->data, feat, session->pool, NULL);
        return IGQ_OK;
    }
    IGQ_TRY(prof_prepare(session, threads));
    t0 = igq__prof_now();
    igq__exec_plan_run(&session->plan, session->model, (const float *)images->data, B,
                       (float *)out->data, feat, session->pool, session->rec);
    return prof_merge(session, threads, B, (igq__prof_now() - t0) * 1e-9);
}

igq_status igq_session_run(igq_session *session, const igq_tensor *images, igq_tensor *logits)
{
    return session_run("igq_session_run", session, images, logits, 0);
}

igq_status igq_session_run_features(igq_session *session, const igq_tensor *images,
                                    igq_tensor *features)
{
    return session_run("igq_session_run_features", session, images, features, 1);
}

/* ---- profiling ---------------------------------------------------------------------------- */

igq_status igq_session_set_profiling(igq_session *session, int32_t enable)
{
    IGQ_CHECK(session != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_session_set_profiling: session is NULL");
    IGQ_CHECK(enable == 0 || enable == 1, IGQ_ERR_INVALID_ARGUMENT,
              "igq_session_set_profiling: enable must be 0 or 1, got %d", (int)enable);
    session->profiling = enable;
    return IGQ_OK;
}

igq_status igq_session_profile(const igq_session *session, int64_t *n_layers, int64_t *images,
                               double *seconds)
{
    if (n_layers != NULL) *n_layers = 0;
    if (images != NULL) *images = 0;
    if (seconds != NULL) *seconds = 0.0;
    IGQ_CHECK(session != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_session_profile: session is NULL");
    IGQ_CHECK(session->n_merged >= 0, IGQ_ERR_NOT_FOUND,
              "igq_session_profile: no profiled run yet (igq_session_set_profiling, then "
              "igq_session_run)");
    if (n_layers != NULL) *n_layers = session->n_merged;
    if (images != NULL) *images = session->prof_images;
    if (seconds != NULL) *seconds = session->prof_seconds;
    return IGQ_OK;
}

igq_status igq_session_profile_layer(const igq_session *session, int64_t index,
                                     const char **name, igq_layer_kind *kind, int64_t *shape,
                                     int64_t *calls, double *ops, double *bytes,
                                     double *seconds)
{
    const igq_prof_entry *e;
    if (name != NULL) *name = NULL;
    if (kind != NULL) *kind = IGQ_LAYER_INVALID;
    IGQ_CHECK(session != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "igq_session_profile_layer: session is NULL");
    IGQ_CHECK(session->n_merged >= 0, IGQ_ERR_NOT_FOUND,
              "igq_session_profile_layer: no profiled run yet");
    IGQ_CHECK(index >= 0 && index < session->n_merged, IGQ_ERR_OUT_OF_RANGE,
              "igq_session_profile_layer: index %lld outside 0..%lld", (long long)index,
              (long long)session->n_merged - 1);
    e = &session->merged[index];
    if (name != NULL) *name = session->names + (size_t)index * PROF_NAME;
    if (kind != NULL) *kind = (igq_layer_kind)e->kind;
    if (shape != NULL) {
        shape[0] = e->shape[0];
        shape[1] = e->shape[1];
        shape[2] = e->shape[2];
    }
    if (calls != NULL) *calls = e->calls;
    if (ops != NULL) *ops = e->ops;
    if (bytes != NULL) *bytes = e->bytes;
    if (seconds != NULL) *seconds = e->ns * 1e-9;
    return IGQ_OK;
}
