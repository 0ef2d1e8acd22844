/* Sessions and thread pools: logits bit-identical for 1, 2 and 3 threads and to igq_run
 * (fp32 fixtures, quantized models on the simulated and the integer executor, a random model with many
 * tokens so GEMMs split into several row tiles per thread), allocation-free runs after
 * igq_session_reserve, sessions on two threads sharing one model and one pool, the pool's
 * parallel-for itself, argument errors, and allocation / pthread_create failures. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/threadpool.h"
#include "igq/igq.h"
#include "io/safetensors.h"
#include "support/st_writer.h"
#include "support/testutil.h"

#define MAX_BATCH 17
static const int64_t BATCHES[] = {1, 3, 17};
#define N_BATCHES (sizeof BATCHES / sizeof BATCHES[0])

/* ---- models and images --------------------------------------------------------------------- */

typedef struct case_model {
    const char *name;
    igq_model  *m;
    igq_tensor *images; /* [MAX_BATCH, C, H, W]: the fixture's io images, then random ones */
    int64_t     K;
    int         int_exec; /* quantized for the integer executor: scratch independent of batch */
} case_model;

typedef struct suite {
    case_model cases[6];
    int        n;
    char      *tmpdir;
} suite;

static int64_t info(const igq_model *m, igq_model_prop p)
{
    int64_t v = -1;
    assert_int_equal(igq_model_info(m, p, &v), IGQ_OK);
    return v;
}

static igq_model *load_fixture(const char *name)
{
    igq_model *m = tu_load_fixture_model(name);
    return m;
}

/* [n, C, H, W]: the first images from the fixture's io.safetensors (if given), the rest
 * standard normal. */
static igq_tensor *make_images(const igq_model *m, const char *fixture, int64_t n, uint64_t seed)
{
    const int64_t C = info(m, IGQ_PROP_IN_CHANNELS), H = info(m, IGQ_PROP_IMAGE_HEIGHT);
    const int64_t W = info(m, IGQ_PROP_IMAGE_WIDTH);
    int64_t       shape[4] = {n, C, H, W}, i, have = 0;
    igq_tensor   *t = NULL;
    float        *p;
    tu_rng        r;
    if (igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &t) != IGQ_OK) return NULL;
    p = (float *)igq_tensor_data(t);
    if (fixture != NULL) {
        char                 rel[256];
        char                *path;
        igq_safetensors     *st = NULL;
        const igq_st_tensor *ti;
        snprintf(rel, sizeof rel, "%s/io.safetensors", fixture);
        path = tu_fixture_path(rel);
        if (igq__st_open(path, &st) == IGQ_OK && (ti = igq__st_find(st, "images")) != NULL &&
            ti->ndim == 4 && ti->shape[1] == C && ti->shape[2] == H && ti->shape[3] == W) {
            have = ti->shape[0] < n ? ti->shape[0] : n;
            if (igq__st_read_f32(st, ti, p, have * C * H * W) != IGQ_OK) have = 0;
        }
        igq__st_close(st);
        free(path);
    }
    tu_rng_seed(&r, seed);
    for (i = have * C * H * W; i < n * C * H * W; i++) p[i] = (float)tu_rng_normal(&r);
    return t;
}

/* The first n images of a batch as a tensor borrowing its memory. */
static igq_tensor *first_images(igq_tensor *batch, int64_t n)
{
    const int64_t per = igq_tensor_numel(batch) / igq_tensor_dim(batch, 0);
    int64_t       shape[4];
    igq_tensor   *v = NULL;
    int32_t       i;
    for (i = 0; i < 4; i++) shape[i] = igq_tensor_dim(batch, i);
    shape[0] = n;
    assert_int_equal(igq_tensor_wrap(IGQ_DTYPE_F32, 4, shape, igq_tensor_data(batch),
                                     (size_t)(n * per) * sizeof(float), &v),
                     IGQ_OK);
    return v;
}

static igq_tensor *new_logits(int64_t B, int64_t K)
{
    int64_t     shape[2] = {B, K};
    igq_tensor *t        = NULL;
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, shape, &t), IGQ_OK);
    return t;
}

static int add_case(suite *s, const char *name, igq_model *m, const char *fixture, uint64_t seed)
{
    case_model *c = &s->cases[s->n];
    if (m == NULL) return -1;
    c->name   = name;
    c->m      = m;
    c->images = make_images(m, fixture, MAX_BATCH, seed);
    c->K      = info(m, IGQ_PROP_NUM_CLASSES);
    if (c->images == NULL) return -1;
    s->n++;
    return 0;
}

static int setup_suite(void **state)
{
    suite      *s = (suite *)calloc(1, sizeof *s);
    igq_model  *vit, *q = NULL, *wide = NULL;
    igq_tensor *calib;
    stw         w;
    char       *path;
    *state = s;
    vit    = load_fixture("timm_vit");
    if (add_case(s, "timm_vit fp32", vit, "timm_vit", 11) != 0) return -1;
    if (add_case(s, "timm_deit_distilled fp32", load_fixture("timm_deit_distilled"),
                 "timm_deit_distilled", 12) != 0)
        return -1;
    /* Quantized (W8A8 IGQ on the simulated executor; W8A8 and W4A4 IGQ on the integer
     * executor), calibrated on the fixture's 3 io images. */
    calib = first_images(s->cases[0].images, 3);
    {
        static const char *names[3] = {"timm_vit W8A8 sim", "timm_vit W8A8 int",
                                       "timm_vit W4A4 int"};
        int                k;
        for (k = 0; k < 3; k++) {
            igq_config *cfg = NULL;
            q               = NULL;
            if (igq_config_create(&cfg) != IGQ_OK ||
                igq_config_set(cfg, IGQ_OPT_EXECUTOR, k == 0 ? IGQ_EXECUTOR_SIM : IGQ_EXECUTOR_INT) != IGQ_OK ||
                igq_config_set(cfg, IGQ_OPT_WEIGHT_BITS, k == 2 ? 4 : 8) != IGQ_OK ||
                igq_config_set(cfg, IGQ_OPT_ACT_BITS, k == 2 ? 4 : 8) != IGQ_OK ||
                igq_quantize_model(vit, calib, cfg, &q) != IGQ_OK) {
                fprintf(stderr, "quantize: %s\n", igq_last_error());
                igq_config_free(cfg);
                igq_tensor_free(calib);
                return -1;
            }
            igq_config_free(cfg);
            if (add_case(s, names[k], q, "timm_vit", 11) != 0) return -1;
            s->cases[s->n - 1].int_exec = k > 0;
        }
    }
    igq_tensor_free(calib);
    /* Many tokens (257) and a tiny width: GEMMs of a chunk split into several row tiles per
     * thread, patch embedding into several tiles per image. */
    s->tmpdir = tu_make_tmpdir();
    stw_init(&w);
    stw_timm_vit(&w, 2, 24, 2, 40, 7, 3, 64, 4, 0, 5);
    path = stw_write(&w, s->tmpdir, "wide.safetensors");
    if (igq_model_load(path, &wide) != IGQ_OK) fprintf(stderr, "wide: %s\n", igq_last_error());
    free(path);
    stw_free(&w);
    return add_case(s, "random 257 tokens fp32", wide, NULL, 13);
}

static int teardown_suite(void **state)
{
    suite *s = (suite *)*state;
    int    i;
    for (i = 0; i < s->n; i++) {
        igq_tensor_free(s->cases[i].images);
        igq_model_free(s->cases[i].m);
    }
    if (s->tmpdir != NULL) {
        tu_rmdir_r(s->tmpdir);
        free(s->tmpdir);
    }
    free(s);
    return 0;
}

/* igq_run on the first B images; malloc'd logits. */
static float *reference(const case_model *c, int64_t B)
{
    igq_tensor *im = first_images(c->images, B), *lg = new_logits(B, c->K);
    float      *out = (float *)malloc((size_t)(B * c->K) * sizeof(float));
    assert_int_equal(igq_run(c->m, im, lg), IGQ_OK);
    memcpy(out, igq_tensor_data(lg), (size_t)(B * c->K) * sizeof(float));
    igq_tensor_free(im);
    igq_tensor_free(lg);
    return out;
}

/* igq_session_run on the first B images; 1 if the logits equal want byte for byte. */
static int session_matches(igq_session *ses, const case_model *c, int64_t B, const float *want)
{
    igq_tensor *im = first_images(c->images, B), *lg = new_logits(B, c->K);
    int         same;
    igq_status  st = igq_session_run(ses, im, lg);
    if (st != IGQ_OK) fprintf(stderr, "session_run: %s\n", igq_last_error());
    assert_int_equal(st, IGQ_OK);
    same = memcmp(igq_tensor_data(lg), want, (size_t)(B * c->K) * sizeof(float)) == 0;
    if (!same) fprintf(stderr, "%s: B=%lld logits differ from igq_run\n", c->name, (long long)B);
    igq_tensor_free(im);
    igq_tensor_free(lg);
    return same;
}

/* ---- bit-identical results ------------------------------------------------------------------ */

/* For every model, batch size and pool (none, 1, 2, 3 threads): session logits == igq_run's.
 * The session is reserved for the batch, except with 3 threads, where it starts unreserved
 * and grows on the first run. */
static void test_identical_any_threads(void **state)
{
    suite *s = (suite *)*state;
    int    c, k, t;
    for (c = 0; c < s->n; c++)
        for (k = 0; k < (int)N_BATCHES; k++) {
            const int64_t B    = BATCHES[k];
            float        *want = reference(&s->cases[c], B);
            for (t = 0; t <= 3; t++) {
                igq_threadpool *pool = NULL;
                igq_session    *ses  = NULL;
                if (t > 0) assert_int_equal(igq_threadpool_create(t, &pool), IGQ_OK);
                assert_int_equal(igq_threadpool_size(pool), t > 0 ? t : -1);
                assert_int_equal(igq_session_create(s->cases[c].m, &ses), IGQ_OK);
                assert_int_equal(igq_session_set_threadpool(ses, pool), IGQ_OK);
                if (t != 3) assert_int_equal(igq_session_reserve(ses, B), IGQ_OK);
                assert_true(session_matches(ses, &s->cases[c], B, want));
                assert_true(session_matches(ses, &s->cases[c], B, want)); /* reused scratch */
                igq_session_free(ses);
                igq_threadpool_free(pool);
            }
            free(want);
        }
}

/* igq_run_features on the first B images; malloc'd [B][D]. */
static float *features_of(const case_model *c, int64_t B, igq_session *ses)
{
    const int64_t E = info(c->m, IGQ_PROP_FEATURE_DIM);
    igq_tensor   *im = first_images(c->images, B), *ft = new_logits(B, E);
    float        *out = (float *)malloc((size_t)(B * E) * sizeof(float));
    assert_int_equal(ses != NULL ? igq_session_run_features(ses, im, ft)
                                 : igq_run_features(c->m, im, ft),
                     IGQ_OK);
    memcpy(out, igq_tensor_data(ft), (size_t)(B * E) * sizeof(float));
    igq_tensor_free(im);
    igq_tensor_free(ft);
    return out;
}

/* Embeddings of every executor: bit-identical for 1, 2, 3 threads and every batch, an image's
 * embedding independent of its batch; a W8A8 model's embeddings close to the fp32 model's
 * (cosine >= 0.99 on every image, simulated and integer executors; W4A4 on this random
 * 3-image-calibrated model is not a quality test: real-data figures are in README). */
static void test_features_any_threads(void **state)
{
    suite *s = (suite *)*state;
    int    c, k, t;
    for (c = 0; c < s->n; c++) {
        const int64_t E   = info(s->cases[c].m, IGQ_PROP_FEATURE_DIM);
        float        *all = features_of(&s->cases[c], MAX_BATCH, NULL);
        assert_int_equal(E, info(s->cases[c].m, IGQ_PROP_EMBED_DIM));
        for (k = 0; k < (int)N_BATCHES; k++) {
            const int64_t B    = BATCHES[k];
            float        *want = features_of(&s->cases[c], B, NULL);
            assert_memory_equal(want, all, (size_t)(B * E) * sizeof(float));
            for (t = 1; t <= 3; t++) {
                igq_threadpool *pool = NULL;
                igq_session    *ses  = NULL;
                float          *got;
                assert_int_equal(igq_threadpool_create(t, &pool), IGQ_OK);
                assert_int_equal(igq_session_create(s->cases[c].m, &ses), IGQ_OK);
                assert_int_equal(igq_session_set_threadpool(ses, pool), IGQ_OK);
                got = features_of(&s->cases[c], B, ses);
                assert_memory_equal(got, want, (size_t)(B * E) * sizeof(float));
                free(got);
                igq_session_free(ses);
                igq_threadpool_free(pool);
            }
            free(want);
        }
        /* the W8A8 cases quantize timm_vit (case 0): compare with its fp32 embeddings */
        if (strncmp(s->cases[c].name, "timm_vit W8A8", 12) == 0) {
            float  *ref = features_of(&s->cases[0], MAX_BATCH, NULL);
            int64_t i, j;
            for (i = 0; i < MAX_BATCH; i++) {
                double dot = 0, na = 0, nb = 0, cosv;
                for (j = 0; j < E; j++) {
                    dot += (double)ref[i * E + j] * all[i * E + j];
                    na += (double)ref[i * E + j] * ref[i * E + j];
                    nb += (double)all[i * E + j] * all[i * E + j];
                }
                cosv = dot / sqrt(na * nb);
                if (cosv < 0.99)
                    fprintf(stderr, "%s image %lld: cosine %.4f\n", s->cases[c].name,
                            (long long)i, cosv);
                assert_true(cosv >= 0.99);
            }
            free(ref);
        }
        free(all);
    }
}

/* One session, one pool: batch sizes in turn, growing past the reservation, and a pool
 * swapped for a larger one after the reservation (scratch grows for the extra threads). */
static void test_grow_and_swap_pool(void **state)
{
    suite          *s = (suite *)*state;
    igq_threadpool *p2 = NULL, *p3 = NULL;
    int             c, k;
    assert_int_equal(igq_threadpool_create(2, &p2), IGQ_OK);
    assert_int_equal(igq_threadpool_create(3, &p3), IGQ_OK);
    for (c = 0; c < s->n; c++) {
        igq_session *ses = NULL;
        assert_int_equal(igq_session_create(s->cases[c].m, &ses), IGQ_OK);
        assert_int_equal(igq_session_set_threadpool(ses, p2), IGQ_OK);
        assert_int_equal(igq_session_reserve(ses, 1), IGQ_OK);
        for (k = (int)N_BATCHES - 1; k >= 0; k--) { /* 17 first: grows past the reservation */
            float *want = reference(&s->cases[c], BATCHES[k]);
            assert_int_equal(igq_session_set_threadpool(ses, (k & 1) ? p3 : p2), IGQ_OK);
            assert_true(session_matches(ses, &s->cases[c], BATCHES[k], want));
            assert_int_equal(igq_session_set_threadpool(ses, NULL), IGQ_OK);
            assert_true(session_matches(ses, &s->cases[c], BATCHES[k], want));
            free(want);
        }
        igq_session_free(ses);
    }
    igq_threadpool_free(p2);
    igq_threadpool_free(p3);
}

/* After igq_session_reserve(17), runs of 1, 3 and 17 images allocate nothing: every
 * allocation fails meanwhile and the runs still succeed. */
static void test_reserve_then_no_allocation(void **state)
{
    suite *s = (suite *)*state;
    int    c, k, t;
    for (c = 0; c < s->n; c++)
        for (t = 1; t <= 3; t++) {
            igq_threadpool *pool = NULL;
            igq_session    *ses  = NULL;
            igq_tensor     *im[N_BATCHES], *lg[N_BATCHES];
            float          *want[N_BATCHES];
            assert_int_equal(igq_threadpool_create(t, &pool), IGQ_OK);
            assert_int_equal(igq_session_create(s->cases[c].m, &ses), IGQ_OK);
            assert_int_equal(igq_session_set_threadpool(ses, pool), IGQ_OK);
            assert_int_equal(igq_session_reserve(ses, MAX_BATCH), IGQ_OK);
            for (k = 0; k < (int)N_BATCHES; k++) {
                im[k]   = first_images(s->cases[c].images, BATCHES[k]);
                lg[k]   = new_logits(BATCHES[k], s->cases[c].K);
                want[k] = reference(&s->cases[c], BATCHES[k]);
            }
            igq__alloc_fail_after(0);
            for (k = 0; k < (int)N_BATCHES; k++) {
                igq_status st = igq_session_run(ses, im[k], lg[k]);
                if (st != IGQ_OK) {
                    igq__alloc_fail_after(-1);
                    fprintf(stderr, "%s, %d threads, B=%lld: %s\n", s->cases[c].name, t,
                            (long long)BATCHES[k], igq_last_error());
                }
                assert_int_equal(st, IGQ_OK);
            }
            /* Reserving less keeps the scratch: still nothing to allocate. */
            assert_int_equal(igq_session_reserve(ses, 1), IGQ_OK);
            assert_int_equal(igq_session_run(ses, im[N_BATCHES - 1], lg[N_BATCHES - 1]), IGQ_OK);
            igq__alloc_fail_after(-1);
            for (k = 0; k < (int)N_BATCHES; k++) {
                assert_memory_equal(igq_tensor_data(lg[k]), want[k],
                                    (size_t)(BATCHES[k] * s->cases[c].K) * sizeof(float));
                igq_tensor_free(im[k]);
                igq_tensor_free(lg[k]);
                free(want[k]);
            }
            igq_session_free(ses);
            igq_threadpool_free(pool);
        }
}

/* ---- sessions on several threads ------------------------------------------------------------ */

typedef struct worker_arg {
    const case_model *c;
    igq_threadpool   *pool;
    const float      *want; /* igq_run logits of MAX_BATCH images */
    int               iterations, failures;
} worker_arg;

static void *session_worker(void *p)
{
    worker_arg  *a   = (worker_arg *)p;
    igq_session *ses = NULL;
    int          it;
    if (igq_session_create(a->c->m, &ses) != IGQ_OK || igq_session_set_threadpool(ses, a->pool) != IGQ_OK ||
        igq_session_reserve(ses, MAX_BATCH) != IGQ_OK) {
        a->failures++;
        igq_session_free(ses);
        return NULL;
    }
    for (it = 0; it < a->iterations; it++) {
        const int64_t B  = BATCHES[it % N_BATCHES];
        igq_tensor   *im = NULL, *lg = NULL;
        int64_t       shape[4], lshape[2] = {B, a->c->K}, per;
        int32_t       i;
        for (i = 0; i < 4; i++) shape[i] = igq_tensor_dim(a->c->images, i);
        shape[0] = B;
        per      = igq_tensor_numel(a->c->images) / MAX_BATCH;
        if (igq_tensor_wrap(IGQ_DTYPE_F32, 4, shape, igq_tensor_data(a->c->images),
                            (size_t)(B * per) * sizeof(float), &im) != IGQ_OK ||
            igq_tensor_create(IGQ_DTYPE_F32, 2, lshape, &lg) != IGQ_OK ||
            igq_session_run(ses, im, lg) != IGQ_OK ||
            memcmp(igq_tensor_data(lg), a->want, (size_t)(B * a->c->K) * sizeof(float)) != 0)
            a->failures++;
        igq_tensor_free(im);
        igq_tensor_free(lg);
    }
    igq_session_free(ses);
    return NULL;
}

/* Two application threads, each with its own session, share one model and one 2-thread pool
 * (their jobs take turns in the pool); logits stay equal to igq_run's. Batch prefixes of the
 * same images, so one igq_run of MAX_BATCH images is the reference for all sizes. */
static void test_two_sessions_share_model_and_pool(void **state)
{
    suite *s = (suite *)*state;
    int    c, i;
    for (c = 0; c < s->n; c++) {
        igq_threadpool *pool = NULL;
        float          *want = reference(&s->cases[c], MAX_BATCH);
        pthread_t       th[2];
        worker_arg      args[2];
        assert_int_equal(igq_threadpool_create(2, &pool), IGQ_OK);
        for (i = 0; i < 2; i++) {
            args[i].c          = &s->cases[c];
            args[i].pool       = pool;
            args[i].want       = want;
            args[i].iterations = 9;
            args[i].failures   = 0;
            assert_int_equal(pthread_create(&th[i], NULL, session_worker, &args[i]), 0);
        }
        for (i = 0; i < 2; i++) {
            assert_int_equal(pthread_join(th[i], NULL), 0);
            assert_int_equal(args[i].failures, 0);
        }
        igq_threadpool_free(pool);
        free(want);
    }
}

/* ---- the pool itself ------------------------------------------------------------------------ */

typedef struct count_ctx {
    int      *hits;   /* [n_tasks] */
    int32_t   size;
    int       bad_thread;
    long      by_thread[8];
} count_ctx;

/* Distinct tasks write distinct elements; by_thread[thread] is only touched by that thread. */
static void count_task(void *p, int64_t task, int32_t thread)
{
    count_ctx *c = (count_ctx *)p;
    c->hits[task]++;
    if (thread < 0 || thread >= c->size) c->bad_thread = 1;
    else c->by_thread[thread]++;
}

typedef struct pool_user {
    igq_threadpool *pool;
    int             failures;
} pool_user;

static void *pool_user_main(void *p)
{
    pool_user *u = (pool_user *)p;
    int        hits[97], it, i;
    for (it = 0; it < 200; it++) {
        count_ctx c;
        memset(&c, 0, sizeof c);
        memset(hits, 0, sizeof hits);
        c.hits = hits;
        c.size = igq__pool_size(u->pool);
        igq__pool_run(u->pool, 1 + it % 97, count_task, &c);
        for (i = 0; i < 97; i++)
            if (hits[i] != (i < 1 + it % 97 ? 1 : 0)) u->failures++;
        if (c.bad_thread) u->failures++;
    }
    return NULL;
}

/* Every task runs exactly once on a valid thread index, for any pool (NULL and 1..5 threads)
 * and task count (0, 1, fewer or more than threads); jobs from two threads on one pool. */
static void test_pool_parallel_for(void **state)
{
    int32_t n;
    (void)state;
    for (n = 0; n <= 5; n++) {
        igq_threadpool *pool = NULL;
        int64_t         tasks;
        if (n > 0) assert_int_equal(igq_threadpool_create(n, &pool), IGQ_OK);
        for (tasks = 0; tasks <= 40; tasks += (tasks < 8 ? 1 : 16)) {
            int       hits[41];
            count_ctx c;
            int64_t   i;
            long      total = 0;
            memset(hits, 0, sizeof hits);
            memset(&c, 0, sizeof c);
            c.hits = hits;
            c.size = igq__pool_size(pool); /* NULL: the calling thread alone */
            igq__pool_run(pool, tasks, count_task, &c);
            for (i = 0; i < 41; i++) assert_int_equal(hits[i], i < tasks ? 1 : 0);
            assert_false(c.bad_thread);
            for (i = 0; i < 8; i++) total += c.by_thread[i];
            assert_int_equal(total, tasks);
        }
        {
            pool_user u[2];
            pthread_t th[2];
            int       i;
            for (i = 0; i < 2; i++) {
                u[i].pool     = pool;
                u[i].failures = 0;
                assert_int_equal(pthread_create(&th[i], NULL, pool_user_main, &u[i]), 0);
            }
            for (i = 0; i < 2; i++) {
                assert_int_equal(pthread_join(th[i], NULL), 0);
                assert_int_equal(u[i].failures, 0);
            }
        }
        igq_threadpool_free(pool);
    }
}

/* ---- profiling ------------------------------------------------------------------------------ */

/* Layers the profile of each executor lists: the integer executor times 14 steps per block; the
 * fp32 one 7 (norm1 of block b + 1 is timed with block b's second residual), the simulated one
 * 4 quantize-dequantize sites more; plus patch_embed, head and (fp32/sim) norm1 of block 0. */
static int64_t expected_layers(const case_model *c, int sim)
{
    const int64_t depth = info(c->m, IGQ_PROP_DEPTH);
    if (c->int_exec) return 2 + 14 * depth;
    return 3 + (sim ? 11 : 7) * depth;
}

/* Checks one profile of a run of B images: names, kinds, shapes and operation counts of the
 * linear layers against the model's dimensions, calls, times. */
static void check_profile(const igq_session *ses, const case_model *c, int sim, int64_t B,
                          int one_driver)
{
    const int64_t D = info(c->m, IGQ_PROP_EMBED_DIM), Mm = info(c->m, IGQ_PROP_MLP_DIM);
    const int64_t T = info(c->m, IGQ_PROP_NUM_TOKENS), depth = info(c->m, IGQ_PROP_DEPTH);
    int64_t       n = -1, images = -1, i, linear = 0, quant = 0;
    double        run_s = -1.0, sum_s = 0.0;
    const char   *name;
    assert_int_equal(igq_session_profile(ses, &n, &images, &run_s), IGQ_OK);
    assert_int_equal(n, expected_layers(c, sim));
    assert_int_equal(images, B);
    assert_true(run_s > 0.0);
    for (i = 0; i < n; i++) {
        igq_layer_kind kind  = IGQ_LAYER_INVALID;
        int64_t        shape[3] = {-1, -1, -1}, calls = -1;
        double         ops = -1, bytes = -1, sec = -1;
        assert_int_equal(igq_session_profile_layer(ses, i, &name, &kind, shape, &calls, &ops,
                                                   &bytes, &sec),
                         IGQ_OK);
        assert_non_null(name);
        assert_true(kind >= IGQ_LAYER_PATCH_EMBED && kind <= IGQ_LAYER_HEAD);
        assert_true(ops > 0.0 && bytes > 0.0 && sec >= 0.0);
        /* the integer executor runs every layer once per image; the others once per step of
         * up to a chunk of images (B <= 3 here: one step) */
        assert_int_equal(calls, c->int_exec ? B : 1);
        sum_s += sec;
        if (i == 0) {
            assert_string_equal(name, "patch_embed");
            assert_int_equal(kind, IGQ_LAYER_PATCH_EMBED);
        }
        if (i == n - 1) {
            assert_string_equal(name, "head");
            assert_int_equal(kind, IGQ_LAYER_HEAD);
        }
        if (kind == IGQ_LAYER_QUANTIZE) quant++;
        if (kind == IGQ_LAYER_LINEAR) {
            /* blocks.<b>.<attn.qkv | attn.proj | mlp.fc1 | mlp.fc2>, in block order */
            static const char *what[4] = {"attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"};
            const int64_t      k = linear % 4, rows = c->int_exec ? T : B * T;
            const int64_t      nk[4][2] = {{3 * D, D}, {D, D}, {Mm, D}, {D, Mm}};
            char               want[64];
            snprintf(want, sizeof want, "blocks.%lld.%s", (long long)(linear / 4), what[k]);
            assert_string_equal(name, want);
            assert_int_equal(shape[0], rows);
            assert_int_equal(shape[1], nk[k][0]);
            assert_int_equal(shape[2], nk[k][1]);
            /* GEMM operations exactly 2 M N K per call (fp32: plus GELU on fc1) */
            if (c->int_exec || k != 2)
                assert_true(ops == 2.0 * (double)rows * nk[k][0] * nk[k][1] * (double)calls);
            linear++;
        }
    }
    assert_int_equal(linear, 4 * depth);
    assert_int_equal(quant, c->int_exec ? 4 * depth : sim ? 4 * depth : 0);
    /* one thread drives every layer: the layers' times fit in the run's wall time */
    if (one_driver) assert_true(sum_s <= run_s * 1.0001 + 1e-6);
    /* the names stay valid and the index is checked */
    assert_int_equal(igq_session_profile_layer(ses, n, &name, NULL, NULL, NULL, NULL, NULL, NULL),
                     IGQ_ERR_OUT_OF_RANGE);
    assert_null(name);
    assert_int_equal(igq_session_profile_layer(ses, -1, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                     IGQ_ERR_OUT_OF_RANGE);
}

/* Per-layer profiles of every executor, alone and on a 2-thread pool (batch 1: the image's work
 * shared; batch 3: images split over the threads, and the last one shared): the same logits as
 * without profiling, the layers the executor has with the model's shapes and operation counts,
 * one call per image (integer executor), and the profile kept when profiling is turned off. */
static void test_profile(void **state)
{
    suite          *s = (suite *)*state;
    igq_threadpool *pool = NULL;
    int             ci, p;
    assert_int_equal(igq_threadpool_create(2, &pool), IGQ_OK);
    for (ci = 0; ci < s->n; ci++) {
        const case_model *c   = &s->cases[ci];
        const int         sim = strstr(c->name, " sim") != NULL;
        for (p = 0; p < 2; p++) {
            igq_session *ses = NULL;
            size_t       k;
            int64_t      n = -1;
            assert_int_equal(igq_session_create(c->m, &ses), IGQ_OK);
            if (p == 1) assert_int_equal(igq_session_set_threadpool(ses, pool), IGQ_OK);
            assert_int_equal(igq_session_profile(ses, &n, NULL, NULL), IGQ_ERR_NOT_FOUND);
            assert_int_equal(n, 0);
            assert_int_equal(igq_session_set_profiling(ses, 1), IGQ_OK);
            for (k = 0; k < 2; k++) {
                const int64_t B    = k == 0 ? 1 : 3;
                float        *want = reference(c, B);
                assert_true(session_matches(ses, c, B, want));
                /* with 2 threads and 3 images, two images run at once, each timed by its
                 * own thread */
                check_profile(ses, c, sim, B, p == 0 || B == 1 || !c->int_exec);
                free(want);
            }
            /* off: runs leave the last profile alone */
            assert_int_equal(igq_session_set_profiling(ses, 0), IGQ_OK);
            {
                float  *want = reference(c, 1);
                int64_t images = 0;
                assert_true(session_matches(ses, c, 1, want));
                assert_int_equal(igq_session_profile(ses, NULL, &images, NULL), IGQ_OK);
                assert_int_equal(images, 3);
                free(want);
            }
            igq_session_free(ses);
        }
    }
    igq_threadpool_free(pool);
}

static void test_profile_errors(void **state)
{
    suite       *s   = (suite *)*state;
    igq_session *ses = NULL;
    int64_t      n = 5, im = 5;
    double       sec = 5.0, a = 1, b = 1, m = 1;
    (void)s;
    assert_int_equal(igq_session_set_profiling(NULL, 1), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_session_profile(NULL, &n, &im, &sec), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(n, 0);
    assert_int_equal(im, 0);
    assert_true(sec == 0.0);
    assert_int_equal(igq_session_profile_layer(NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                     IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_session_create(s->cases[0].m, &ses), IGQ_OK);
    assert_int_equal(igq_session_set_profiling(ses, 2), IGQ_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(igq_last_error(), "enable"));
    assert_int_equal(igq_session_set_profiling(ses, -1), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_session_profile_layer(ses, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                     IGQ_ERR_NOT_FOUND);
    igq_session_free(ses);
    /* machine measurement: the time budget is checked, each figure positive */
    assert_int_equal(igq_measure_machine(0.01, &a, &b, &m), IGQ_ERR_OUT_OF_RANGE);
    assert_true(a == 0.0 && b == 0.0 && m == 0.0);
    assert_int_equal(igq_measure_machine(11.0, NULL, NULL, NULL), IGQ_ERR_OUT_OF_RANGE);
    assert_int_equal(igq_measure_machine((double)NAN, NULL, NULL, NULL), IGQ_ERR_OUT_OF_RANGE);
    assert_int_equal(igq_measure_machine(0.05, &a, &b, NULL), IGQ_OK);
    assert_true(a > 0.0 && b > 0.0);
}

/* ---- errors --------------------------------------------------------------------------------- */

static void test_argument_errors(void **state)
{
    suite            *s = (suite *)*state;
    const case_model *c = &s->cases[0];
    igq_threadpool   *pool = (igq_threadpool *)&pool; /* must be reset to NULL */
    igq_session      *ses  = (igq_session *)&ses;
    igq_tensor       *im, *lg, *bad_lg, *bad_im;
    int64_t           shape[4] = {2, 2, 32, 32};

    /* Thread pools: n_threads 1..256 (out of range: IGQ_ERR_OUT_OF_RANGE). */
    assert_int_equal(igq_threadpool_create(0, &pool), IGQ_ERR_OUT_OF_RANGE);
    assert_null(pool);
    assert_int_equal(igq_threadpool_create(-3, &pool), IGQ_ERR_OUT_OF_RANGE);
    assert_int_equal(igq_threadpool_create(257, &pool), IGQ_ERR_OUT_OF_RANGE);
    assert_int_equal(igq_threadpool_create(2, NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_threadpool_size(NULL), -1);
    igq_threadpool_free(NULL);

    /* Sessions. */
    assert_int_equal(igq_session_create(NULL, &ses), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(ses);
    assert_int_equal(igq_session_create(c->m, NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_session_set_threadpool(NULL, NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_session_reserve(NULL, 4), IGQ_ERR_INVALID_ARGUMENT);
    igq_session_free(NULL);
    assert_int_equal(igq_session_create(c->m, &ses), IGQ_OK);
    assert_int_equal(igq_session_reserve(ses, 0), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_session_reserve(ses, -5), IGQ_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(igq_last_error(), "max_batch"));

    im     = first_images(c->images, 2);
    lg     = new_logits(2, c->K);
    bad_lg = new_logits(3, c->K);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &bad_im), IGQ_OK);
    assert_int_equal(igq_session_run(NULL, im, lg), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_session_run(ses, NULL, lg), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_session_run(ses, im, NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_session_run(ses, im, im), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_session_run(ses, bad_im, lg), IGQ_ERR_SHAPE);      /* 2 channels */
    assert_non_null(strstr(igq_last_error(), "igq_session_run"));
    assert_int_equal(igq_session_run(ses, im, bad_lg), IGQ_ERR_SHAPE);      /* 3 rows */
    assert_int_equal(igq_run(c->m, bad_im, lg), IGQ_ERR_SHAPE);             /* same checks */
    assert_int_equal(igq_run(c->m, im, bad_lg), IGQ_ERR_SHAPE);
    assert_int_equal(igq_session_run(ses, im, lg), IGQ_OK);
    igq_tensor_free(im);
    igq_tensor_free(lg);
    igq_tensor_free(bad_lg);
    igq_tensor_free(bad_im);
    igq_session_free(ses);
}

/* NaN and +-Inf pixels are refused by every executor (fp32, simulated, integer), by igq_run,
 * sessions and igq_quantize_model, with the position in the message (issue 15: the integer
 * executor converted NaN to int, undefined, and answered plausible logits). */
static void test_non_finite_images(void **state)
{
    suite      *s = (suite *)*state;
    const float vals[3] = {NAN, INFINITY, -INFINITY};
    int         k, v;
    for (k = 0; k < s->n; k++) {
        const case_model *c  = &s->cases[k];
        igq_tensor       *im = first_images(c->images, 2), *lg = new_logits(2, c->K);
        igq_session      *ses = NULL;
        float            *x  = (float *)igq_tensor_data(im);
        const int64_t     C = info(c->m, IGQ_PROP_IN_CHANNELS), H = info(c->m, IGQ_PROP_IMAGE_HEIGHT),
                      W = info(c->m, IGQ_PROP_IMAGE_WIDTH);
        /* image 1, channel C-1, row H-1, column 1 */
        const int64_t at = C * H * W + (C - 1) * H * W + (H - 1) * W + 1;
        char          want[96];
        snprintf(want, sizeof want, "image 1 has a non-finite value");
        assert_int_equal(igq_session_create(c->m, &ses), IGQ_OK);
        for (v = 0; v < 3; v++) {
            const float keep = x[at];
            char        pos[96];
            x[at] = vals[v];
            assert_int_equal(igq_run(c->m, im, lg), IGQ_ERR_INVALID_ARGUMENT);
            assert_non_null(strstr(igq_last_error(), want));
            snprintf(pos, sizeof pos, "channel %lld, row %lld, column 1", (long long)(C - 1),
                     (long long)(H - 1));
            assert_non_null(strstr(igq_last_error(), pos));
            assert_int_equal(igq_session_run(ses, im, lg), IGQ_ERR_INVALID_ARGUMENT);
            if (igq_model_is_quantized(c->m) == 0) {
                igq_model *q = (igq_model *)&q;
                assert_int_equal(igq_quantize_model(c->m, im, NULL, &q), IGQ_ERR_INVALID_ARGUMENT);
                assert_null(q);
                assert_non_null(strstr(igq_last_error(), "igq_quantize_model"));
            }
            x[at] = keep;
        }
        x[at] = 3.0e38f; /* huge but finite: runs (fp32 may overflow to inf/NaN logits) */
        assert_int_equal(igq_run(c->m, im, lg), IGQ_OK);
        if (c->int_exec) { /* codes saturate: the integer executor's logits stay finite */
            int64_t i;
            for (i = 0; i < 2 * c->K; i++) assert_true(isfinite(((float *)igq_tensor_data(lg))[i]));
        }
        igq_session_free(ses);
        igq_tensor_free(im);
        igq_tensor_free(lg);
    }
}

/* Allocation failures: every failing allocation in igq_session_create, igq_session_reserve,
 * igq_threadpool_create and a growing igq_session_run gives IGQ_ERR_NO_MEMORY with NULL
 * out-handles and no leak (ASan / valgrind runs check the leaks); a session whose growth
 * failed keeps working. */
static void test_allocation_failures(void **state)
{
    suite          *s = (suite *)*state;
    int             c;
    long            n;
    igq_threadpool *pool = NULL;
    for (n = 0;; n++) {
        igq_status st;
        igq__alloc_fail_after(n);
        st = igq_threadpool_create(3, &pool);
        igq__alloc_fail_after(-1);
        if (st == IGQ_OK) break;
        assert_int_equal(st, IGQ_ERR_NO_MEMORY);
        assert_null(pool);
    }
    assert_true(n >= 2); /* the pool and its helper table */
    for (c = 0; c < s->n; c++) {
        float       *want = reference(&s->cases[c], MAX_BATCH);
        igq_session *ses  = NULL;
        for (n = 0;; n++) {
            igq_status st;
            ses = NULL;
            igq__alloc_fail_after(n);
            st = igq_session_create(s->cases[c].m, &ses);
            if (st == IGQ_OK) {
                igq_session_set_threadpool(ses, pool);
                st = igq_session_reserve(ses, MAX_BATCH);
            }
            igq__alloc_fail_after(-1);
            if (st == IGQ_OK) break;
            assert_int_equal(st, IGQ_ERR_NO_MEMORY);
            if (n == 0) assert_null(ses);
            igq_session_free(ses);
        }
        assert_int_equal(n, 2); /* the session, then its scratch */
        assert_true(session_matches(ses, &s->cases[c], MAX_BATCH, want));
        igq_session_free(ses);

        /* Growth inside igq_session_run fails: IGQ_ERR_NO_MEMORY, and the session still runs
         * what it had reserved, then grows once allocation works again. The integer
         * executor's scratch is per thread, not per image: a larger batch needs no growth. */
        assert_int_equal(igq_session_create(s->cases[c].m, &ses), IGQ_OK);
        assert_int_equal(igq_session_set_threadpool(ses, pool), IGQ_OK);
        assert_int_equal(igq_session_reserve(ses, 1), IGQ_OK);
        {
            igq_tensor *im = first_images(s->cases[c].images, MAX_BATCH);
            igq_tensor *lg = new_logits(MAX_BATCH, s->cases[c].K);
            igq_status  st;
            igq__alloc_fail_after(0);
            st = igq_session_run(ses, im, lg);
            igq__alloc_fail_after(-1);
            assert_int_equal(st, s->cases[c].int_exec ? IGQ_OK : IGQ_ERR_NO_MEMORY);
            if (st == IGQ_OK)
                assert_memory_equal(igq_tensor_data(lg), want,
                                    (size_t)(MAX_BATCH * s->cases[c].K) * sizeof(float));
            igq_tensor_free(im);
            igq_tensor_free(lg);
        }
        {
            float *one = reference(&s->cases[c], 1);
            assert_true(session_matches(ses, &s->cases[c], 1, one));
            free(one);
        }
        assert_true(session_matches(ses, &s->cases[c], MAX_BATCH, want));
        igq_session_free(ses);
        free(want);
    }
    igq_threadpool_free(pool);
}

/* pthread_create failing for the 1st, 2nd or 3rd helper of a 4-thread pool: IGQ_ERR_THREAD,
 * NULL handle, the helpers already started are joined (no leak, no stray thread). */
static void test_thread_create_failure(void **state)
{
    long n;
    (void)state;
    for (n = 0; n < 3; n++) {
        igq_threadpool *pool = (igq_threadpool *)&pool;
        igq__pool_fail_create_after(n);
        assert_int_equal(igq_threadpool_create(4, &pool), IGQ_ERR_THREAD);
        igq__pool_fail_create_after(-1);
        assert_null(pool);
        assert_non_null(strstr(igq_last_error(), "pthread_create"));
    }
    {
        igq_threadpool *pool = NULL;
        igq__pool_fail_create_after(0); /* one thread: no pthread_create at all */
        assert_int_equal(igq_threadpool_create(1, &pool), IGQ_OK);
        igq__pool_fail_create_after(-1);
        assert_int_equal(igq_threadpool_size(pool), 1);
        igq_threadpool_free(pool);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_any_threads),
        cmocka_unit_test(test_features_any_threads),
        cmocka_unit_test(test_grow_and_swap_pool),
        cmocka_unit_test(test_reserve_then_no_allocation),
        cmocka_unit_test(test_two_sessions_share_model_and_pool),
        cmocka_unit_test(test_pool_parallel_for),
        cmocka_unit_test(test_profile),
        cmocka_unit_test(test_profile_errors),
        cmocka_unit_test(test_argument_errors),
        cmocka_unit_test(test_non_finite_images),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_thread_create_failure),
    };
    return cmocka_run_group_tests(tests, setup_suite, teardown_suite);
}
