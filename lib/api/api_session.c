/* Public inference entry points: igq_run, thread pools and sessions. They check the arguments
 * and run the model on a scratch plan (lib/model/exec_plan.h), which igq_run makes for one call
 * and a session keeps. igq_run and igq_session_run share the checks and the plan, so they
 * accept the same tensors and give the same bits. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../core/tensor.h"
#include "../core/threadpool.h"
#include "../model/exec_plan.h"
#include "api_check.h"

struct igq_session {
    const igq_model *model;
    igq_threadpool  *pool; /* borrowed; NULL = the calling thread */
    igq_exec_plan    plan; /* empty until the first reserve or run */
};

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
    IGQ_TRY(igq__check_images(who, model, images));
    d = &model->d;
    B = images->shape[0];
    IGQ_CHECK(logits->ndim == 2 && logits->shape[0] == B && logits->shape[1] == d->classes,
              IGQ_ERR_SHAPE, "%s: logits must be [%lld, %d], got ndim %d [%lld, %lld]", who,
              (long long)B, (int)d->classes, (int)logits->ndim, (long long)logits->shape[0],
              (long long)(logits->ndim > 1 ? logits->shape[1] : 0));
    return IGQ_OK;
}

igq_status igq_run(const igq_model *model, const igq_tensor *images, igq_tensor *logits)
{
    igq_exec_plan plan;
    int64_t       B;
    IGQ_TRY(check_io("igq_run", model, images, logits));
    B = images->shape[0];
    memset(&plan, 0, sizeof plan);
    IGQ_TRY(igq__exec_plan_reserve(&plan, model, B, 1, "igq_run"));
    igq__exec_plan_run(&plan, model, (const float *)images->data, B, (float *)logits->data, NULL);
    igq__exec_plan_free(&plan);
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
    igq__exec_plan_free(&session->plan);
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

igq_status igq_session_run(igq_session *session, const igq_tensor *images, igq_tensor *logits)
{
    int64_t B;
    IGQ_CHECK(session != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_session_run: session is NULL");
    IGQ_TRY(check_io("igq_session_run", session->model, images, logits));
    B = images->shape[0];
    IGQ_TRY(igq__exec_plan_reserve(&session->plan, session->model, B,
                                   igq__pool_size(session->pool), "igq_session_run"));
    igq__exec_plan_run(&session->plan, session->model, (const float *)images->data, B,
                       (float *)logits->data, session->pool);
    return IGQ_OK;
}
