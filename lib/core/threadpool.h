/* A pthreads pool with one blocking parallel-for. Private header: must remain private to libigq.
 *
 * A pool of n threads is n - 1 helper threads plus the thread that calls igq__pool_run, which
 * works too. Helpers sleep on a condition variable between jobs (no spinning). One job runs at
 * a time: concurrent igq__pool_run calls on one pool (several sessions on several threads
 * sharing it) are serialized by a mutex. The public igq_threadpool handle is this object. */
#ifndef IGQ_CORE_THREADPOOL_H
#define IGQ_CORE_THREADPOOL_H

#include <stdint.h>

#include "igq/igq.h"

typedef struct igq_threadpool igq__pool;

/* Largest thread count igq__pool_create accepts. */
#define IGQ__POOL_MAX_THREADS 256

/* Body of a parallel-for: runs task `task` (0 <= task < n_tasks) on thread `thread`
 * (0 = the caller of igq__pool_run, 1..size-1 = helpers). Tasks of one job may run in any
 * order and concurrently; two tasks never run at once on the same thread index, so per-thread
 * scratch indexed by `thread` needs no locking. */
typedef void (*igq__pool_fn)(void *ctx, int64_t task, int32_t thread);

/* Starts n_threads - 1 helpers (n_threads in 1..IGQ__POOL_MAX_THREADS; 1 starts none).
 * Helpers block every signal. Returns IGQ_OK; IGQ_ERR_OUT_OF_RANGE (n_threads);
 * IGQ_ERR_NO_MEMORY; IGQ_ERR_THREAD (pthread_create or a mutex/condition init failed: the
 * helpers already started are joined, nothing leaks). *out is NULL on failure. */
igq_status igq__pool_create(int32_t n_threads, igq__pool **out);

/* Stops and joins the helpers, frees the pool. NULL is a no-op. No job may be running. */
void igq__pool_free(igq__pool *pool);

/* Threads work is split over: n_threads of the create call, 1 for NULL. */
int32_t igq__pool_size(const igq__pool *pool);

/* Runs fn(ctx, t, thread) for t = 0..n_tasks-1 and returns when all are done. NULL pool, a
 * one-thread pool or n_tasks <= 1: inline on the caller, tasks in increasing order, thread 0.
 * Allocates nothing and cannot fail. Not reentrant: fn must not call igq__pool_run on the
 * same pool. Thread safety: any thread; jobs on one pool run one after another. */
void igq__pool_run(igq__pool *pool, int64_t n_tasks, igq__pool_fn fn, void *ctx);

/* Test hook: after n more successful pthread_create calls, pthread_create "fails" with EAGAIN
 * (n < 0: never). Single-threaded tests only. */
void igq__pool_fail_create_after(long n);

#endif
