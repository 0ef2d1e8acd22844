/* The thread pool: n - 1 helpers woken once per job by a generation counter; every participant
 * (helpers and the calling thread) claims task indices from a shared counter under the pool
 * mutex until none is left, so an idle or late helper never delays a job: the caller runs
 * whatever nobody else has claimed. One job at a time (run_lock).
 *
 * Waiting: a helper that finished a job, and the caller waiting for the helpers' last tasks,
 * first poll the counters for a short while (IGQ__POOL_SPIN pause loops, about 50-100 us), then
 * sleep on a condition variable. The integer executor splits one image into a few hundred
 * short jobs (one per stage, tens of microseconds each): waking a sleeping thread through the
 * kernel costs several microseconds per job, polling a few hundred nanoseconds. Between
 * forward passes the helpers go back to sleep after the spin, so an idle pool costs nothing.
 * gen and finished are read outside the mutex during the spin, so every access to them uses
 * the compiler's __atomic builtins (gcc and clang). */
#include "threadpool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define POOL_PAUSE() _mm_pause()
#else
#define POOL_PAUSE() ((void)0)
#endif

#include "alloc.h"
#include "error.h"

typedef struct pool_worker {
    struct igq_threadpool *pool;
    int32_t                index; /* 1..n-1 */
    pthread_t              tid;
} pool_worker;

enum { INIT_RUN_LOCK = 1, INIT_LOCK = 2, INIT_WORK = 4, INIT_DONE = 8 };

/* Pause loops a waiting thread polls before it sleeps (one pause: ~10-150 cycles). */
#define IGQ__POOL_SPIN 4096

struct igq_threadpool {
    int32_t         n;        /* threads including the caller */
    int32_t         started;  /* helpers running */
    int             inited;   /* INIT_* bits: which sync objects exist */
    pool_worker    *workers;  /* [n - 1] */
    pthread_mutex_t run_lock; /* serializes jobs */
    pthread_mutex_t lock;     /* guards everything below */
    pthread_cond_t  work;     /* helpers wait here for a new generation or shutdown */
    pthread_cond_t  done;     /* the caller waits here for finished == n_tasks */
    uint64_t        gen;      /* incremented once per job */
    int             shutdown;
    igq__pool_fn    fn;
    void           *ctx;
    int64_t         n_tasks, next, finished;
};

/* pthread_create fault injection for tests (see alloc.c: single-threaded tests only). */
static long g_fail_create_after = -1;

void igq__pool_fail_create_after(long n) { g_fail_create_after = n; }

static int create_thread(pthread_t *tid, void *(*fn)(void *), void *arg)
{
    if (g_fail_create_after >= 0) {
        if (g_fail_create_after == 0) return EAGAIN;
        g_fail_create_after--;
    }
    return pthread_create(tid, NULL, fn, arg);
}

/* Claims and runs tasks of the current job until none is left. Called and returns with
 * pool->lock held; the lock is dropped while a task runs. */
static void work_locked(struct igq_threadpool *p, int32_t thread)
{
    while (p->next < p->n_tasks) {
        const int64_t      t   = p->next++;
        const igq__pool_fn fn  = p->fn;
        void *const        ctx = p->ctx;
        pthread_mutex_unlock(&p->lock);
        fn(ctx, t, thread);
        pthread_mutex_lock(&p->lock);
        if (__atomic_add_fetch(&p->finished, 1, __ATOMIC_RELEASE) == p->n_tasks)
            pthread_cond_signal(&p->done);
    }
}

static void *worker_main(void *arg)
{
    pool_worker           *w    = (pool_worker *)arg;
    struct igq_threadpool *p    = w->pool;
    uint64_t               seen = 0; /* gen starts at 0: no job can predate the helper */
    pthread_mutex_lock(&p->lock);
    for (;;) {
        int spin;
        if (!p->shutdown && __atomic_load_n(&p->gen, __ATOMIC_RELAXED) == seen) {
            /* poll for the next job without the lock, then sleep */
            pthread_mutex_unlock(&p->lock);
            for (spin = 0; spin < IGQ__POOL_SPIN; spin++) {
                if (__atomic_load_n(&p->gen, __ATOMIC_ACQUIRE) != seen) break;
                POOL_PAUSE();
            }
            pthread_mutex_lock(&p->lock);
        }
        while (!p->shutdown && __atomic_load_n(&p->gen, __ATOMIC_RELAXED) == seen)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->shutdown) break;
        seen = __atomic_load_n(&p->gen, __ATOMIC_RELAXED);
        work_locked(p, w->index);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Stops and joins the started helpers, destroys what was initialized, frees. */
static void destroy(struct igq_threadpool *p)
{
    int32_t i;
    if (p->started > 0) {
        pthread_mutex_lock(&p->lock);
        p->shutdown = 1;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->lock);
        for (i = 0; i < p->started; i++) pthread_join(p->workers[i].tid, NULL);
    }
    if (p->inited & INIT_DONE) pthread_cond_destroy(&p->done);
    if (p->inited & INIT_WORK) pthread_cond_destroy(&p->work);
    if (p->inited & INIT_LOCK) pthread_mutex_destroy(&p->lock);
    if (p->inited & INIT_RUN_LOCK) pthread_mutex_destroy(&p->run_lock);
    igq__free(p->workers);
    igq__free(p);
}

igq_status igq__pool_create(int32_t n_threads, igq__pool **out)
{
    struct igq_threadpool *p;
    sigset_t               all, old;
    int                    rc = 0;
    int32_t                i;
    *out = NULL;
    IGQ_CHECK(n_threads >= 1 && n_threads <= IGQ__POOL_MAX_THREADS, IGQ_ERR_OUT_OF_RANGE,
              "threadpool: n_threads %d outside 1..%d", (int)n_threads, IGQ__POOL_MAX_THREADS);
    p = (struct igq_threadpool *)igq__calloc(1, sizeof *p);
    IGQ_CHECK(p != NULL, IGQ_ERR_NO_MEMORY, "threadpool: out of memory");
    p->n = n_threads;
    if (n_threads == 1) { /* no helper, no synchronization: every run is inline */
        *out = p;
        return IGQ_OK;
    }
    p->workers = (pool_worker *)igq__calloc((size_t)(n_threads - 1), sizeof *p->workers);
    if (p->workers == NULL) {
        destroy(p);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "threadpool: out of memory");
    }
    if (pthread_mutex_init(&p->run_lock, NULL) == 0) p->inited |= INIT_RUN_LOCK;
    if (pthread_mutex_init(&p->lock, NULL) == 0) p->inited |= INIT_LOCK;
    if (pthread_cond_init(&p->work, NULL) == 0) p->inited |= INIT_WORK;
    if (pthread_cond_init(&p->done, NULL) == 0) p->inited |= INIT_DONE;
    if (p->inited != (INIT_RUN_LOCK | INIT_LOCK | INIT_WORK | INIT_DONE)) {
        destroy(p);
        return igq__set_error(IGQ_ERR_THREAD, "threadpool: cannot initialize a mutex or "
                                              "condition variable");
    }
    /* Helpers inherit this mask: signals stay with the application's own threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (i = 0; i < n_threads - 1; i++) {
        p->workers[i].pool  = p;
        p->workers[i].index = i + 1;
        rc = create_thread(&p->workers[i].tid, worker_main, &p->workers[i]);
        if (rc != 0) break;
        p->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        destroy(p);
        return igq__set_error(IGQ_ERR_THREAD,
                              "threadpool: pthread_create failed for helper %d of %d (errno %d)",
                              (int)i + 1, (int)n_threads - 1, rc);
    }
    *out = p;
    return IGQ_OK;
}

void igq__pool_free(igq__pool *pool)
{
    if (pool != NULL) destroy(pool);
}

int32_t igq__pool_size(const igq__pool *pool) { return pool != NULL ? pool->n : 1; }

void igq__pool_run(igq__pool *pool, int64_t n_tasks, igq__pool_fn fn, void *ctx)
{
    int64_t t;
    if (pool == NULL || pool->n <= 1 || n_tasks <= 1) {
        for (t = 0; t < n_tasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&pool->run_lock);
    pthread_mutex_lock(&pool->lock);
    pool->fn       = fn;
    pool->ctx      = ctx;
    pool->n_tasks  = n_tasks;
    pool->next = 0;
    __atomic_store_n(&pool->finished, 0, __ATOMIC_RELAXED);
    __atomic_add_fetch(&pool->gen, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool->work);
    work_locked(pool, 0);
    if (__atomic_load_n(&pool->finished, __ATOMIC_RELAXED) < pool->n_tasks) {
        /* the helpers' last tasks are usually microseconds away: poll, then sleep */
        int spin;
        pthread_mutex_unlock(&pool->lock);
        for (spin = 0; spin < IGQ__POOL_SPIN; spin++) {
            if (__atomic_load_n(&pool->finished, __ATOMIC_ACQUIRE) >= pool->n_tasks) break;
            POOL_PAUSE();
        }
        pthread_mutex_lock(&pool->lock);
    }
    while (__atomic_load_n(&pool->finished, __ATOMIC_RELAXED) < pool->n_tasks)
        pthread_cond_wait(&pool->done, &pool->lock);
    pool->fn  = NULL;
    pool->ctx = NULL;
    pthread_mutex_unlock(&pool->lock);
    pthread_mutex_unlock(&pool->run_lock);
}
