/* Model loading (name maps, config inference, malformed checkpoints) and the fp32 forward
 * against PyTorch fixtures (tools/gen_fixtures.py). */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "igq/igq.h"
#include "io/safetensors.h"
#include "model/vit.h"
#include "support/st_writer.h"
#include "support/testutil.h"

/* ---- fixtures ------------------------------------------------------------------------------ */

typedef struct fixture_info {
    const char *name;
    int64_t     h, w, c, patch, dim, depth, heads, mlp, classes, prefix; /* -1: not checked */
    double      eps;
    int         has_norm_stats;
} fixture_info;

static const fixture_info FIXTURES[] = {
    {"timm_vit", 32, 32, 3, 8, 48, 2, 3, 96, 10, 1, 1e-6, 1},
    {"timm_deit_distilled", 28, 28, 1, 7, 32, 3, 2, -1, 5, 2, 1e-6, -1},
    {"hf_vit", 32, 32, 3, 4, 64, 2, 4, -1, 7, 1, 1e-12, -1},
    {"tv_vit", 28, 28, 3, 14, 64, 2, 1, 128, 4, 1, 1e-6, 0},
    {"tv_vit_b", 32, 32, 3, 16, 128, 1, 2, -1, 3, 1, 1e-6, 0},
    {"timm_vit_f16", 32, 32, 3, 8, 48, 1, 3, -1, 10, 1, 1e-6, -1},
    {"hf_vit_bf16", -1, -1, -1, -1, -1, -1, 2, -1, -1, 1, 1e-5, -1},
    {"timm_rect", 24, 32, 1, 8, -1, -1, 2, -1, -1, 1, 1e-6, -1},
};
#define N_FIXTURES (sizeof FIXTURES / sizeof FIXTURES[0])

typedef struct io_pair {
    float  *images, *logits;
    int64_t B, C, H, W, K;
} io_pair;

static void load_io(const char *fixture, io_pair *io)
{
    char                 rel[256];
    char                *path;
    igq_safetensors     *st = NULL;
    const igq_st_tensor *ti, *tl;
    snprintf(rel, sizeof rel, "%s/io.safetensors", fixture);
    path = tu_fixture_path(rel);
    assert_int_equal(igq__st_open(path, &st), IGQ_OK);
    free(path);
    ti = igq__st_find(st, "images");
    tl = igq__st_find(st, "logits");
    assert_non_null(ti);
    assert_non_null(tl);
    assert_int_equal(ti->ndim, 4);
    assert_int_equal(tl->ndim, 2);
    io->B = ti->shape[0];
    io->C = ti->shape[1];
    io->H = ti->shape[2];
    io->W = ti->shape[3];
    io->K = tl->shape[1];
    io->images = (float *)malloc((size_t)ti->numel * sizeof(float));
    io->logits = (float *)malloc((size_t)tl->numel * sizeof(float));
    assert_int_equal(igq__st_read_f32(st, ti, io->images, ti->numel), IGQ_OK);
    assert_int_equal(igq__st_read_f32(st, tl, io->logits, tl->numel), IGQ_OK);
    igq__st_close(st);
}

static igq_model *load_fixture_model(const char *fixture)
{
    char       rel[256];
    char      *path;
    igq_model *m = NULL;
    igq_status s;
    snprintf(rel, sizeof rel, "%s/model.safetensors", fixture);
    path = tu_fixture_path(rel);
    s    = igq_model_load(path, &m);
    if (s != IGQ_OK) fprintf(stderr, "load %s: %s\n", path, igq_last_error());
    free(path);
    assert_int_equal(s, IGQ_OK);
    return m;
}

/* Runs model on io->images; returns malloc'd logits. */
static float *run_model(const igq_model *m, const io_pair *io)
{
    int64_t     ishape[4] = {io->B, io->C, io->H, io->W}, lshape[2] = {io->B, io->K};
    igq_tensor *ti = NULL, *tl = NULL;
    float      *out = (float *)malloc((size_t)(io->B * io->K) * sizeof(float));
    assert_int_equal(igq_tensor_wrap(IGQ_DTYPE_F32, 4, ishape, io->images,
                                     (size_t)(io->B * io->C * io->H * io->W) * sizeof(float), &ti),
                     IGQ_OK);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, lshape, &tl), IGQ_OK);
    assert_int_equal(igq_run(m, ti, tl), IGQ_OK);
    memcpy(out, igq_tensor_data(tl), (size_t)(io->B * io->K) * sizeof(float));
    igq_tensor_free(ti);
    igq_tensor_free(tl);
    return out;
}

static void check_prop(const igq_model *m, igq_model_prop p, int64_t want, const char *what,
                       const char *fixture)
{
    int64_t v = -1;
    assert_int_equal(igq_model_info(m, p, &v), IGQ_OK);
    if (want >= 0 && v != want) {
        fprintf(stderr, "%s: %s = %lld, expected %lld\n", fixture, what, (long long)v,
                (long long)want);
        fail();
    }
}

static void test_fixture_config(void **state)
{
    size_t f;
    (void)state;
    for (f = 0; f < N_FIXTURES; f++) {
        const fixture_info *fi = &FIXTURES[f];
        igq_model          *m  = load_fixture_model(fi->name);
        float               eps, mean[8], std[8];
        igq_status          s;
        check_prop(m, IGQ_PROP_IMAGE_HEIGHT, fi->h, "image height", fi->name);
        check_prop(m, IGQ_PROP_IMAGE_WIDTH, fi->w, "image width", fi->name);
        check_prop(m, IGQ_PROP_IN_CHANNELS, fi->c, "channels", fi->name);
        check_prop(m, IGQ_PROP_PATCH_SIZE, fi->patch, "patch", fi->name);
        check_prop(m, IGQ_PROP_EMBED_DIM, fi->dim, "dim", fi->name);
        check_prop(m, IGQ_PROP_DEPTH, fi->depth, "depth", fi->name);
        check_prop(m, IGQ_PROP_HEADS, fi->heads, "heads", fi->name);
        check_prop(m, IGQ_PROP_MLP_DIM, fi->mlp, "mlp", fi->name);
        check_prop(m, IGQ_PROP_NUM_CLASSES, fi->classes, "classes", fi->name);
        check_prop(m, IGQ_PROP_PREFIX_TOKENS, fi->prefix, "prefix tokens", fi->name);
        assert_int_equal(igq_model_layer_norm_eps(m, &eps), IGQ_OK);
        assert_true(fabs(eps - fi->eps) <= 1e-3 * fi->eps);
        s = igq_model_normalization(m, mean, std, 8);
        if (fi->has_norm_stats == 1) assert_int_equal(s, IGQ_OK);
        if (fi->has_norm_stats == 0) assert_int_equal(s, IGQ_ERR_NOT_FOUND);
        igq_model_free(m);
    }
}

/* max |Δlogit| <= 1e-4 * max |logit| for every fixture. */
static void test_fixture_logits(void **state)
{
    size_t f;
    (void)state;
    for (f = 0; f < N_FIXTURES; f++) {
        io_pair    io;
        igq_model *m = load_fixture_model(FIXTURES[f].name);
        float     *got;
        double     maxref = 0.0, maxerr = 0.0;
        int64_t    i;
        load_io(FIXTURES[f].name, &io);
        got = run_model(m, &io);
        for (i = 0; i < io.B * io.K; i++) {
            double e = fabs((double)got[i] - io.logits[i]);
            if (fabs(io.logits[i]) > maxref) maxref = fabs(io.logits[i]);
            if (e > maxerr) maxerr = e;
        }
        printf("  %-22s max|logit| %8.4f  max|err| %.3e  rel %.3e\n", FIXTURES[f].name, maxref,
               maxerr, maxerr / maxref);
        assert_true(maxref > 0.0);
        assert_true(maxerr <= 1e-4 * maxref);
        free(got);
        free(io.images);
        free(io.logits);
        igq_model_free(m);
    }
}

/* Pooled embeddings (igq_run_features, igq_session_run_features) against PyTorch's: the input
 * of the classifier (the real torchvision module's heads, timm's pre_logits), max |Δ| <=
 * 1e-4 * max |feature| for every fixture; FEATURE_DIM = EMBED_DIM; a session on two threads
 * gives the same bits; wrong shapes and NULLs refused. */
static void test_fixture_features(void **state)
{
    size_t f;
    (void)state;
    for (f = 0; f < N_FIXTURES; f++) {
        char                 rel[256];
        char                *path;
        igq_safetensors     *st = NULL;
        const igq_st_tensor *tf;
        io_pair              io;
        igq_model           *m = load_fixture_model(FIXTURES[f].name);
        igq_tensor          *ti = NULL, *tf_got = NULL, *ts = NULL, *bad = NULL;
        igq_session         *ses  = NULL;
        igq_threadpool      *pool = NULL;
        int64_t              E = -1, i, ishape[4], fshape[2], bshape[2];
        float               *want;
        const float         *got;
        double               maxref = 0.0, maxerr = 0.0;
        load_io(FIXTURES[f].name, &io);
        snprintf(rel, sizeof rel, "%s/io.safetensors", FIXTURES[f].name);
        path = tu_fixture_path(rel);
        assert_int_equal(igq__st_open(path, &st), IGQ_OK);
        free(path);
        tf = igq__st_find(st, "features");
        assert_non_null(tf);
        assert_int_equal(igq_model_info(m, IGQ_PROP_FEATURE_DIM, &E), IGQ_OK);
        assert_int_equal(tf->ndim, 2);
        assert_int_equal(tf->shape[0], io.B);
        assert_int_equal(tf->shape[1], E);
        want = (float *)malloc((size_t)tf->numel * sizeof(float));
        assert_int_equal(igq__st_read_f32(st, tf, want, tf->numel), IGQ_OK);
        igq__st_close(st);
        ishape[0] = io.B, ishape[1] = io.C, ishape[2] = io.H, ishape[3] = io.W;
        fshape[0] = io.B, fshape[1] = E;
        assert_int_equal(igq_tensor_wrap(IGQ_DTYPE_F32, 4, ishape, io.images,
                                         (size_t)(io.B * io.C * io.H * io.W) * sizeof(float),
                                         &ti),
                         IGQ_OK);
        assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, fshape, &tf_got), IGQ_OK);
        assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, fshape, &ts), IGQ_OK);
        assert_int_equal(igq_run_features(m, ti, tf_got), IGQ_OK);
        got = (const float *)igq_tensor_data(tf_got);
        for (i = 0; i < io.B * E; i++) {
            double e = fabs((double)got[i] - want[i]);
            if (fabs(want[i]) > maxref) maxref = fabs(want[i]);
            if (e > maxerr) maxerr = e;
        }
        printf("  %-22s max|feature| %8.4f  max|err| %.3e  rel %.3e\n", FIXTURES[f].name,
               maxref, maxerr, maxerr / maxref);
        assert_true(maxref > 0.0);
        assert_true(maxerr <= 1e-4 * maxref);
        /* a session on two threads: the same bits */
        assert_int_equal(igq_threadpool_create(2, &pool), IGQ_OK);
        assert_int_equal(igq_session_create(m, &ses), IGQ_OK);
        assert_int_equal(igq_session_set_threadpool(ses, pool), IGQ_OK);
        assert_int_equal(igq_session_run_features(ses, ti, ts), IGQ_OK);
        assert_memory_equal(igq_tensor_data(ts), got, (size_t)(io.B * E) * sizeof(float));
        /* logits-shaped output refused, naming features */
        bshape[0] = io.B, bshape[1] = io.K;
        assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, bshape, &bad), IGQ_OK);
        if (io.K != E) {
            assert_int_equal(igq_run_features(m, ti, bad), IGQ_ERR_SHAPE);
            assert_non_null(strstr(igq_last_error(), "features"));
            assert_int_equal(igq_session_run_features(ses, ti, bad), IGQ_ERR_SHAPE);
            assert_int_equal(igq_run(m, ti, ts), IGQ_ERR_SHAPE);
        }
        assert_int_equal(igq_run_features(NULL, ti, tf_got), IGQ_ERR_INVALID_ARGUMENT);
        assert_int_equal(igq_run_features(m, NULL, tf_got), IGQ_ERR_INVALID_ARGUMENT);
        assert_int_equal(igq_run_features(m, ti, NULL), IGQ_ERR_INVALID_ARGUMENT);
        assert_int_equal(igq_session_run_features(NULL, ti, ts), IGQ_ERR_INVALID_ARGUMENT);
        igq_session_free(ses);
        igq_threadpool_free(pool);
        igq_tensor_free(bad);
        igq_tensor_free(ti);
        igq_tensor_free(tf_got);
        igq_tensor_free(ts);
        free(want);
        free(io.images);
        free(io.logits);
        igq_model_free(m);
    }
}

/* Hugging Face Dinov2Model names (no classifier, layer scale, mask_token, config.json with
 * heads and eps 1e-6): 0 classes, embeddings equal to PyTorch's within 1e-4 relative. */
static void test_dinov2_hf(void **state)
{
    char                 *path = tu_fixture_path("hf_dinov2/io.safetensors");
    igq_safetensors      *st = NULL;
    const igq_st_tensor  *ti, *tf;
    igq_model            *m = load_fixture_model("hf_dinov2");
    igq_tensor           *im = NULL, *ft = NULL;
    int64_t               v = -1, shape[2], i;
    float                *want, eps = 0.0f;
    const float          *got;
    double                ref = 0.0, err = 0.0;
    (void)state;
    assert_int_equal(igq__st_open(path, &st), IGQ_OK);
    free(path);
    ti = igq__st_find(st, "images");
    tf = igq__st_find(st, "features");
    assert_non_null(ti);
    assert_non_null(tf);
    assert_int_equal(igq_model_info(m, IGQ_PROP_NUM_CLASSES, &v), IGQ_OK);
    assert_int_equal(v, 0);
    assert_int_equal(igq_model_info(m, IGQ_PROP_HEADS, &v), IGQ_OK);
    assert_int_equal(v, 3);
    assert_int_equal(igq_model_layer_norm_eps(m, &eps), IGQ_OK);
    assert_true(eps == 1e-6f);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, ti->shape, &im), IGQ_OK);
    assert_int_equal(igq__st_read_f32(st, ti, (float *)igq_tensor_data(im), ti->numel), IGQ_OK);
    shape[0] = tf->shape[0], shape[1] = tf->shape[1];
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, shape, &ft), IGQ_OK);
    want = (float *)malloc((size_t)tf->numel * sizeof(float));
    assert_int_equal(igq__st_read_f32(st, tf, want, tf->numel), IGQ_OK);
    assert_int_equal(igq_run_features(m, im, ft), IGQ_OK);
    got = (const float *)igq_tensor_data(ft);
    for (i = 0; i < tf->numel; i++) {
        if (fabs(want[i]) > ref) ref = fabs(want[i]);
        if (fabs((double)got[i] - want[i]) > err) err = fabs((double)got[i] - want[i]);
    }
    printf("  hf_dinov2: features rel %.3e\n", err / ref);
    assert_true(ref > 0.0 && err <= 1e-4 * ref);
    free(want);
    igq_tensor_free(im);
    igq_tensor_free(ft);
    igq_model_free(m);
    igq__st_close(st);
}

/* Another image size (load options): timm (antialiased bicubic, up and down, non-square),
 * Hugging Face (bicubic) and torchvision (bicubic, aligned corners; checked against the real
 * module by the generator) against PyTorch, logits and embeddings within 1e-4 relative. */
static void test_other_image_size(void **state)
{
    static const struct {
        const char *fixture;
        int         h, w;
    } cases[] = {{"timm_vit", 48, 48}, {"timm_vit", 16, 24}, {"hf_vit", 44, 44}, {"tv_vit", 42, 42}};
    size_t k;
    (void)state;
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char                 rel[256];
        char                *path;
        igq_safetensors     *st = NULL;
        const igq_st_tensor *ti, *tl, *tf;
        igq_load_options    *o = NULL;
        igq_model           *m = NULL;
        igq_tensor          *im = NULL, *lg = NULL, *ft = NULL;
        int64_t              v = -1, i, shape[2];
        float               *want_l, *want_f;
        const float         *got;
        double               maxref = 0, maxerr = 0, fref = 0, ferr = 0;
        snprintf(rel, sizeof rel, "%s/io_%dx%d.safetensors", cases[k].fixture, cases[k].h,
                 cases[k].w);
        path = tu_fixture_path(rel);
        assert_int_equal(igq__st_open(path, &st), IGQ_OK);
        free(path);
        ti = igq__st_find(st, "images");
        tl = igq__st_find(st, "logits");
        tf = igq__st_find(st, "features");
        assert_non_null(ti);
        assert_non_null(tl);
        assert_non_null(tf);
        snprintf(rel, sizeof rel, "%s/model.safetensors", cases[k].fixture);
        path = tu_fixture_path(rel);
        assert_int_equal(igq_load_options_create(&o), IGQ_OK);
        assert_int_equal(igq_load_options_set(o, IGQ_LOAD_IMAGE_HEIGHT, cases[k].h), IGQ_OK);
        assert_int_equal(igq_load_options_set(o, IGQ_LOAD_IMAGE_WIDTH, cases[k].w), IGQ_OK);
        if (igq_model_load_with_options(path, o, &m) != IGQ_OK) fail_msg("%s", igq_last_error());
        free(path);
        assert_int_equal(igq_model_info(m, IGQ_PROP_IMAGE_HEIGHT, &v), IGQ_OK);
        assert_int_equal(v, cases[k].h);
        assert_int_equal(igq_model_info(m, IGQ_PROP_IMAGE_WIDTH, &v), IGQ_OK);
        assert_int_equal(v, cases[k].w);
        assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, ti->shape, &im), IGQ_OK);
        assert_int_equal(igq__st_read_f32(st, ti, (float *)igq_tensor_data(im), ti->numel),
                         IGQ_OK);
        shape[0] = tl->shape[0], shape[1] = tl->shape[1];
        assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, shape, &lg), IGQ_OK);
        shape[1] = tf->shape[1];
        assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, shape, &ft), IGQ_OK);
        want_l = (float *)malloc((size_t)tl->numel * sizeof(float));
        want_f = (float *)malloc((size_t)tf->numel * sizeof(float));
        assert_int_equal(igq__st_read_f32(st, tl, want_l, tl->numel), IGQ_OK);
        assert_int_equal(igq__st_read_f32(st, tf, want_f, tf->numel), IGQ_OK);
        assert_int_equal(igq_run(m, im, lg), IGQ_OK);
        assert_int_equal(igq_run_features(m, im, ft), IGQ_OK);
        got = (const float *)igq_tensor_data(lg);
        for (i = 0; i < tl->numel; i++) {
            if (fabs(want_l[i]) > maxref) maxref = fabs(want_l[i]);
            if (fabs((double)got[i] - want_l[i]) > maxerr) maxerr = fabs((double)got[i] - want_l[i]);
        }
        got = (const float *)igq_tensor_data(ft);
        for (i = 0; i < tf->numel; i++) {
            if (fabs(want_f[i]) > fref) fref = fabs(want_f[i]);
            if (fabs((double)got[i] - want_f[i]) > ferr) ferr = fabs((double)got[i] - want_f[i]);
        }
        printf("  %-10s at %dx%d: logits rel %.3e, features rel %.3e\n", cases[k].fixture,
               cases[k].h, cases[k].w, maxerr / maxref, ferr / fref);
        assert_true(maxref > 0 && maxerr <= 1e-4 * maxref);
        assert_true(fref > 0 && ferr <= 1e-4 * fref);
        free(want_l);
        free(want_f);
        igq_tensor_free(im);
        igq_tensor_free(lg);
        igq_tensor_free(ft);
        igq_model_free(m);
        igq_load_options_free(o);
        igq__st_close(st);
    }
}

/* The bundled Fashion-MNIST model on 64 real test images against PyTorch (float64) logits. */
static void test_demo_model_real_images(void **state)
{
    char                *mp = tu_fixture_path("../../examples/data/fmnist_vit.safetensors");
    char                *ip = tu_fixture_path("../../examples/data/fmnist_vit_test_logits_first64.safetensors");
    igq_model           *m = NULL;
    igq_safetensors     *st = NULL;
    const igq_st_tensor *ti, *tl;
    io_pair              io;
    float               *got;
    double               maxref = 0.0, maxerr = 0.0;
    int64_t              i;
    (void)state;
    assert_int_equal(igq_model_load(mp, &m), IGQ_OK);
    assert_int_equal(igq__st_open(ip, &st), IGQ_OK);
    ti = igq__st_find(st, "images");
    tl = igq__st_find(st, "logits");
    assert_non_null(ti);
    assert_non_null(tl);
    io.B = ti->shape[0];
    io.C = ti->shape[1];
    io.H = ti->shape[2];
    io.W = ti->shape[3];
    io.K = tl->shape[1];
    io.images = (float *)malloc((size_t)ti->numel * sizeof(float));
    io.logits = (float *)malloc((size_t)tl->numel * sizeof(float));
    assert_int_equal(igq__st_read_f32(st, ti, io.images, ti->numel), IGQ_OK);
    assert_int_equal(igq__st_read_f32(st, tl, io.logits, tl->numel), IGQ_OK);
    got = run_model(m, &io);
    for (i = 0; i < io.B * io.K; i++) {
        double e = fabs((double)got[i] - io.logits[i]);
        if (fabs(io.logits[i]) > maxref) maxref = fabs(io.logits[i]);
        if (e > maxerr) maxerr = e;
    }
    printf("  fmnist_vit (64 real images) max|logit| %.4f  max|err| %.3e  rel %.3e\n", maxref,
           maxerr, maxerr / maxref);
    assert_true(maxerr <= 1e-4 * maxref);
    free(got);
    free(io.images);
    free(io.logits);
    igq__st_close(st);
    igq_model_free(m);
    free(mp);
    free(ip);
}

/* ---- concurrency --------------------------------------------------------------------------- */

typedef struct thread_arg {
    const igq_model *m;
    const io_pair   *io;
    const float     *expect;
    int              mismatches;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *a = (thread_arg *)p;
    int         it;
    for (it = 0; it < 20; it++) {
        float *got = run_model(a->m, a->io);
        if (memcmp(got, a->expect, (size_t)(a->io->B * a->io->K) * sizeof(float)) != 0)
            a->mismatches++;
        free(got);
    }
    return NULL;
}

static void test_concurrent_runs(void **state)
{
    const char *names[2] = {"timm_deit_distilled", "hf_vit"};
    int         k;
    (void)state;
    for (k = 0; k < 2; k++) {
        io_pair    io;
        igq_model *m = load_fixture_model(names[k]);
        float     *expect;
        pthread_t  th[4];
        thread_arg args[4];
        int        i;
        load_io(names[k], &io);
        expect = run_model(m, &io);
        for (i = 0; i < 4; i++) {
            args[i].m = m;
            args[i].io = &io;
            args[i].expect = expect;
            args[i].mismatches = 0;
            assert_int_equal(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
        }
        for (i = 0; i < 4; i++) {
            assert_int_equal(pthread_join(th[i], NULL), 0);
            assert_int_equal(args[i].mismatches, 0);
        }
        free(expect);
        free(io.images);
        free(io.logits);
        igq_model_free(m);
    }
}

/* Batch independence: image i alone gives the same logits as inside a batch. */
static void test_batch_consistency(void **state)
{
    io_pair    io, one;
    igq_model *m = load_fixture_model("timm_vit");
    float     *all, *single;
    int64_t    i, per;
    (void)state;
    load_io("timm_vit", &io);
    all = run_model(m, &io);
    per = io.C * io.H * io.W;
    for (i = 0; i < io.B; i++) {
        one        = io;
        one.B      = 1;
        one.images = io.images + i * per;
        single     = run_model(m, &one);
        assert_memory_equal(single, all + i * io.K, (size_t)io.K * sizeof(float));
        free(single);
    }
    free(all);
    free(io.images);
    free(io.logits);
    igq_model_free(m);
}

/* ---- malformed checkpoints ----------------------------------------------------------------- */

typedef struct tmpctx {
    char *dir;
} tmpctx;

static int setup_tmp(void **state)
{
    tmpctx *t = (tmpctx *)calloc(1, sizeof *t);
    t->dir    = tu_make_tmpdir();
    *state    = t;
    return 0;
}

static int teardown_tmp(void **state)
{
    tmpctx *t = (tmpctx *)*state;
    tu_rmdir_r(t->dir);
    free(t->dir);
    free(t);
    return 0;
}

/* Writes w to a fresh folder/file, loads it and checks the status and that the last error
 * contains each of the given substrings. */
static void expect_load(tmpctx *t, const stw *w, igq_status want, const char *needle1,
                        const char *needle2)
{
    static int n;
    char       name[64];
    char      *path;
    igq_model *m = (igq_model *)&n; /* must be reset to NULL on failure */
    igq_status s;
    snprintf(name, sizeof name, "m%d.safetensors", n++);
    path = stw_write(w, t->dir, name);
    s    = igq_model_load(path, &m);
    if (s != want || (needle1 && !strstr(igq_last_error(), needle1)) ||
        (needle2 && !strstr(igq_last_error(), needle2))) {
        fprintf(stderr, "status %d (want %d), message: %s\n", (int)s, (int)want, igq_last_error());
        fail();
    }
    if (want != IGQ_OK) {
        assert_null(m);
        assert_non_null(strstr(igq_last_error(), name));
    }
    igq_model_free(want == IGQ_OK ? m : NULL);
    free(path);
}

static void base_model(stw *w) { stw_init(w); stw_timm_vit(w, 3, 32, 2, 64, 5, 3, 16, 4, 0, 7); }

static void test_load_valid_generated(void **state)
{
    stw w;
    base_model(&w);
    expect_load((tmpctx *)*state, &w, IGQ_OK, NULL, NULL);
    stw_free(&w);
}

static void test_missing_tensor(void **state)
{
    stw w;
    base_model(&w);
    stw_remove(&w, "blocks.1.mlp.fc2.weight");
    expect_load((tmpctx *)*state, &w, IGQ_ERR_FORMAT, "missing tensor", "blocks.1.mlp.fc2.weight");
    stw_free(&w);
    base_model(&w);
    stw_remove(&w, "pos_embed");
    expect_load((tmpctx *)*state, &w, IGQ_ERR_FORMAT, "pos_embed", NULL);
    stw_free(&w);
    base_model(&w);
    stw_remove(&w, "head.weight");
    expect_load((tmpctx *)*state, &w, IGQ_ERR_FORMAT, "head.weight", NULL);
    stw_free(&w);
}

/* Nothing silent (issue 13): a tensor marking a family or feature libigq does not run is
 * refused by name before anything is built, and any tensor the graph did not read is refused
 * by name, except the documented ones inference does not need. */
static void test_unsupported_and_unused_tensors(void **state)
{
    static const struct {
        const char *name, *needle;
    } marks[] = {
        {"features.0.0.weight", "Swin"},
        {"swin.embeddings.patch_embeddings.projection.weight", "Swin"},
        {"layers.0.blocks.0.attn.relative_position_bias_table", "Swin"},
        {"visual.conv1.weight", "CLIP"},
        {"vision_model.embeddings.patch_embedding.weight", "CLIP"},
        {"vision_model.head.probe", "SigLIP"},
        {"embeddings.register_tokens", "Dinov2WithRegisters"},
        {"dinov2.embeddings.cls_token", "Dinov2ForImageClassification"},
        {"beit.embeddings.cls_token", "BEiT"},
        {"blocks.0.attn.relative_position_bias_table", "BEiT"},
        {"rel_pos_bias.relative_position_bias_table", "BEiT"},
        {"blocks.1.attn.q_proj.weight", "EVA"},
        {"rope.freqs", "EVA"},
        {"blocks.0.mlp.fc1_g.weight", "SwiGLU"},
        {"blocks.2.attn.q_norm.weight", "qk-norm"},
        {"blocks.2.attn.k_norm.weight", "qk-norm"},
        {"norm_pre.weight", "norm_pre"},
        {"patch_embed.norm.weight", "patch embedding"},
        {"attn_pool.latent", "attention pooling"},
        {"heads.pre_logits.weight", "pre-logits"},
    };
    static const char *const unused[] = {"blocks.0.attn.extra.weight", "head.extra",
                                         "my_adapter.weight", "blocks.1.norm1.scale"};
    static const char *const ignored[] = {"mask_token", "blocks.0.attn.relative_position_index",
                                          "bn.num_batches_tracked", "vit.pooler.dense.weight"};
    const float one[1] = {1.0f};
    const int64_t shp[1] = {1};
    size_t      k;
    for (k = 0; k < sizeof marks / sizeof marks[0]; k++) {
        stw w;
        base_model(&w);
        stw_add_f32(&w, marks[k].name, 1, shp, one, 0, 0.0f);
        expect_load((tmpctx *)*state, &w, IGQ_ERR_UNSUPPORTED, marks[k].name, marks[k].needle);
        stw_free(&w);
    }
    for (k = 0; k < sizeof unused / sizeof unused[0]; k++) {
        stw w;
        base_model(&w);
        stw_add_f32(&w, unused[k], 1, shp, one, 0, 0.0f);
        expect_load((tmpctx *)*state, &w, IGQ_ERR_UNSUPPORTED, unused[k], "not part of");
        stw_free(&w);
    }
    {
        stw w;
        base_model(&w);
        for (k = 0; k < sizeof ignored / sizeof ignored[0]; k++)
            stw_add_f32(&w, ignored[k], 1, shp, one, 0, 0.0f);
        expect_load((tmpctx *)*state, &w, IGQ_OK, NULL, NULL);
        stw_free(&w);
    }
}

/* Heads of a checkpoint that declares none: the published widths' counts (ViT-H/14: 1280 wide,
 * 16 heads of 80, not 20 of the default head dim 64), else head dim 64. */
static void test_default_heads(void **state)
{
    static const int widths[][2] = {{1280, 16}, {128, 2}};
    size_t           k;
    for (k = 0; k < sizeof widths / sizeof widths[0]; k++) {
        stw        w;
        char      *path;
        igq_model *m = NULL;
        int64_t    h = -1;
        stw_init(&w);
        stw_timm_vit(&w, 1, widths[k][0], 1, 32, 3, 1, 8, 8, 0, 11);
        w.metadata[0] = '\0'; /* no num_heads */
        path          = stw_write(&w, ((tmpctx *)*state)->dir, "heads.safetensors");
        assert_int_equal(igq_model_load(path, &m), IGQ_OK);
        assert_int_equal(igq_model_info(m, IGQ_PROP_HEADS, &h), IGQ_OK);
        assert_int_equal(h, widths[k][1]);
        igq_model_free(m);
        free(path);
        stw_free(&w);
    }
}

/* Embeddings of a model and of the same model saved into an .igq file and loaded back. */
static float *embed(const igq_model *m, const igq_tensor *im, int64_t B)
{
    int64_t     E = 0, shape[2];
    igq_tensor *ft = NULL;
    float      *out;
    assert_int_equal(igq_model_info(m, IGQ_PROP_FEATURE_DIM, &E), IGQ_OK);
    shape[0] = B, shape[1] = E;
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, shape, &ft), IGQ_OK);
    if (igq_run_features(m, im, ft) != IGQ_OK) fail_msg("%s", igq_last_error());
    out = (float *)malloc((size_t)(B * E) * sizeof(float));
    memcpy(out, igq_tensor_data(ft), (size_t)(B * E) * sizeof(float));
    igq_tensor_free(ft);
    return out;
}

/* A checkpoint without a classifier (timm num_classes=0, DINOv2): 0 classes, igq_run refused
 * pointing to igq_run_features, whose embeddings equal those of the same weights with a head
 * (the head does not take part in them) for the fp32 model and, bit for bit, for quantized
 * models (integer and simulated executors, fixed G, GPTQ rounding: calibration does not
 * involve the head);
 * a quantized encoder saves to and loads from .igq; group allocation runs on the embeddings'
 * cosine distance; a bias without its weight is refused. */
static void test_no_classifier(void **state)
{
    tmpctx     *t = (tmpctx *)*state;
    stw         w;
    char       *p_head, *p_none;
    igq_model  *with = NULL, *none = NULL;
    igq_tensor *im = NULL, *lg = NULL;
    int64_t     shape[4] = {4, 3, 16, 16}, lshape[2] = {4, 5}, k = -1, i;
    int         e;
    tu_rng      r;
    base_model(&w);
    p_head = stw_write(&w, t->dir, "with_head.safetensors");
    stw_remove(&w, "head.weight");
    stw_remove(&w, "head.bias");
    p_none = stw_write(&w, t->dir, "no_head.safetensors");
    assert_int_equal(igq_model_load(p_head, &with), IGQ_OK);
    assert_int_equal(igq_model_load(p_none, &none), IGQ_OK);
    assert_int_equal(igq_model_info(none, IGQ_PROP_NUM_CLASSES, &k), IGQ_OK);
    assert_int_equal(k, 0);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &im), IGQ_OK);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, lshape, &lg), IGQ_OK);
    tu_rng_seed(&r, 5);
    for (i = 0; i < igq_tensor_numel(im); i++)
        ((float *)igq_tensor_data(im))[i] = (float)tu_rng_normal(&r);
    assert_int_equal(igq_run(none, im, lg), IGQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(igq_last_error(), "igq_run_features"));
    {
        float *a = embed(with, im, 4), *b = embed(none, im, 4);
        assert_memory_equal(a, b, (size_t)(4 * 32) * sizeof(float));
        free(a);
        free(b);
    }
    for (e = 0; e < 4; e++) {
        igq_config *cfg = NULL;
        igq_model  *qw = NULL, *qn = NULL, *back = NULL;
        char       *ip;
        float      *a, *b, *c;
        assert_int_equal(igq_config_create(&cfg), IGQ_OK);
        assert_int_equal(igq_config_set(cfg, IGQ_OPT_EXECUTOR,
                                        e == 1 ? IGQ_EXECUTOR_SIM : IGQ_EXECUTOR_INT),
                         IGQ_OK);
        if (e == 2) assert_int_equal(igq_config_set(cfg, IGQ_OPT_GROUP_BUDGET, 4), IGQ_OK);
        if (e == 3) /* GPTQ rounds every layer from its inputs: the head takes no part */
            assert_int_equal(igq_config_set(cfg, IGQ_OPT_WEIGHT_ROUNDING, IGQ_ROUNDING_GPTQ),
                             IGQ_OK);
        assert_int_equal(igq_quantize_model(with, im, cfg, &qw), IGQ_OK);
        if (igq_quantize_model(none, im, cfg, &qn) != IGQ_OK) fail_msg("%s", igq_last_error());
        assert_int_equal(igq_run(qn, im, lg), IGQ_ERR_UNSUPPORTED);
        a = embed(qw, im, 4);
        b = embed(qn, im, 4);
        /* fixed G: the same quantizers, the same embeddings; allocation chooses on another
         * metric (cosine distance instead of KL of the logits), so only closeness is
         * required there */
        if (e != 2) assert_memory_equal(a, b, (size_t)(4 * 32) * sizeof(float));
        ip = stw_write(&w, t->dir, "unused.safetensors"); /* a path in the temp dir */
        strcpy(ip + strlen(ip) - strlen("unused.safetensors"), "enc.igq");
        assert_int_equal(igq_model_save(qn, ip), IGQ_OK);
        if (igq_model_load(ip, &back) != IGQ_OK) fail_msg("%s", igq_last_error());
        assert_int_equal(igq_model_info(back, IGQ_PROP_NUM_CLASSES, &k), IGQ_OK);
        assert_int_equal(k, 0);
        c = embed(back, im, 4);
        assert_memory_equal(b, c, (size_t)(4 * 32) * sizeof(float));
        free(a);
        free(b);
        free(c);
        free(ip);
        igq_model_free(back);
        igq_model_free(qw);
        igq_model_free(qn);
        igq_config_free(cfg);
    }
    igq_tensor_free(im);
    igq_tensor_free(lg);
    igq_model_free(with);
    igq_model_free(none);
    free(p_head);
    free(p_none);
    stw_free(&w);
    /* a classifier bias without its weight */
    base_model(&w);
    stw_remove(&w, "head.weight");
    expect_load(t, &w, IGQ_ERR_FORMAT, "head.bias", "without its classifier weight");
    stw_free(&w);
}

/* Load options: what they replace, what they may not contradict, their bounds. */
static void test_load_options(void **state)
{
    igq_load_options *o = NULL;
    igq_model        *m = (igq_model *)&m;
    char             *path = tu_fixture_path("timm_vit/model.safetensors"), *igq_path;
    const float       mean[3] = {0.1f, 0.2f, 0.3f}, sd[3] = {0.5f, 0.6f, 0.7f}, bad[1] = {0.0f};
    float             gm[3], gs[3], eps = 0.0f;
    tmpctx           *t = (tmpctx *)*state;
    assert_int_equal(igq_load_options_create(NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_load_options_create(&o), IGQ_OK);
    assert_int_equal(igq_load_options_set(NULL, IGQ_LOAD_NUM_HEADS, 3), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_load_options_set(o, (igq_load_option)7, 3), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_load_options_set(o, IGQ_LOAD_NUM_HEADS, -1), IGQ_ERR_OUT_OF_RANGE);
    assert_int_equal(igq_load_options_set(o, IGQ_LOAD_IMAGE_HEIGHT, 65537), IGQ_ERR_OUT_OF_RANGE);
    assert_int_equal(igq_load_options_set_layer_norm_eps(o, 1.5f), IGQ_ERR_OUT_OF_RANGE);
    assert_int_equal(igq_load_options_set_normalization(o, mean, bad, 1), IGQ_ERR_OUT_OF_RANGE);
    assert_int_equal(igq_load_options_set_normalization(o, mean, sd, 0), IGQ_ERR_OUT_OF_RANGE);
    assert_int_equal(igq_load_options_set_normalization(o, NULL, sd, 3), IGQ_ERR_INVALID_ARGUMENT);
    /* the file declares 3 heads: 4 is refused, 3 accepted */
    assert_int_equal(igq_load_options_set(o, IGQ_LOAD_NUM_HEADS, 4), IGQ_OK);
    assert_int_equal(igq_model_load_with_options(path, o, &m), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(m);
    assert_non_null(strstr(igq_last_error(), "declares 3 heads"));
    assert_int_equal(igq_load_options_set(o, IGQ_LOAD_NUM_HEADS, 3), IGQ_OK);
    /* eps and mean/std replace the file's */
    assert_int_equal(igq_load_options_set_layer_norm_eps(o, 1e-5f), IGQ_OK);
    assert_int_equal(igq_load_options_set_normalization(o, mean, sd, 3), IGQ_OK);
    assert_int_equal(igq_model_load_with_options(path, o, &m), IGQ_OK);
    assert_int_equal(igq_model_layer_norm_eps(m, &eps), IGQ_OK);
    assert_true(eps == 1e-5f);
    assert_int_equal(igq_model_normalization(m, gm, gs, 3), IGQ_OK);
    assert_memory_equal(gm, mean, sizeof gm);
    assert_memory_equal(gs, sd, sizeof gs);
    /* an image side that is not a multiple of the patch (8) */
    assert_int_equal(igq_load_options_set(o, IGQ_LOAD_IMAGE_HEIGHT, 36), IGQ_OK);
    {
        igq_model *m2 = NULL;
        assert_int_equal(igq_model_load_with_options(path, o, &m2), IGQ_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(igq_last_error(), "multiple of the patch"));
    }
    /* a .igq file is loaded as saved: options refused */
    igq_path = tu_write_file(t->dir, "x.igq", "", 0);
    assert_int_equal(igq_model_save(m, igq_path), IGQ_OK);
    {
        igq_model *m2 = NULL;
        assert_int_equal(igq_model_load_with_options(igq_path, o, &m2), IGQ_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(igq_last_error(), "load options apply to checkpoints"));
        assert_int_equal(igq_model_load_with_options(igq_path, NULL, &m2), IGQ_OK);
        igq_model_free(m2);
    }
    assert_int_equal(igq_model_load_with_options(path, o, NULL), IGQ_ERR_INVALID_ARGUMENT);
    igq_model_free(m);
    igq_load_options_free(o);
    igq_load_options_free(NULL);
    free(igq_path);
    free(path);
}

static void test_wrong_shape(void **state)
{
    stw        w;
    stw_entry *e;
    base_model(&w);
    e           = stw_get(&w, "blocks.2.attn.qkv.weight");
    e->shape[0] = 32; /* [96,32] -> [32,96]: same bytes, wrong shape */
    e->shape[1] = 96;
    expect_load((tmpctx *)*state, &w, IGQ_ERR_SHAPE, "blocks.2.attn.qkv.weight", "[96, 32]");
    stw_free(&w);
    /* An MLP width differing between blocks. */
    base_model(&w);
    {
        int64_t s2[2] = {48, 32}, s1[1] = {48}, s2b[2] = {32, 48};
        stw_remove(&w, "blocks.1.mlp.fc1.weight");
        stw_remove(&w, "blocks.1.mlp.fc1.bias");
        stw_remove(&w, "blocks.1.mlp.fc2.weight");
        stw_add_f32(&w, "blocks.1.mlp.fc1.weight", 2, s2, NULL, 1, 0.1f);
        stw_add_f32(&w, "blocks.1.mlp.fc1.bias", 1, s1, NULL, 2, 0.1f);
        stw_add_f32(&w, "blocks.1.mlp.fc2.weight", 2, s2b, NULL, 3, 0.1f);
    }
    expect_load((tmpctx *)*state, &w, IGQ_ERR_SHAPE, "blocks.1.mlp.fc1.weight", NULL);
    stw_free(&w);
    /* Head of the wrong input width. */
    base_model(&w);
    stw_get(&w, "head.weight")->shape[1] = 16;
    stw_get(&w, "head.weight")->shape[0] = 10;
    expect_load((tmpctx *)*state, &w, IGQ_ERR_SHAPE, "head.weight", NULL);
    stw_free(&w);
    /* Position embedding that is not a square grid and no image_size. */
    base_model(&w);
    {
        int64_t s3[3] = {1, 14, 32};
        stw_remove(&w, "pos_embed");
        stw_add_f32(&w, "pos_embed", 3, s3, NULL, 5, 0.1f);
    }
    expect_load((tmpctx *)*state, &w, IGQ_ERR_SHAPE, "position embedding", "image_size");
    stw_free(&w);
}

static void test_inconsistent_depth(void **state)
{
    stw         w;
    const char *sfx[] = {"norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias",
                         "attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
                         "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"};
    size_t      i;
    char        n[128];
    base_model(&w);
    for (i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        snprintf(n, sizeof n, "blocks.1.%s", sfx[i]);
        assert_true(stw_remove(&w, n));
    }
    expect_load((tmpctx *)*state, &w, IGQ_ERR_FORMAT, "inconsistent depth", "blocks.1.");
    stw_free(&w);
    /* A stray tensor of a block past the others. */
    base_model(&w);
    {
        int64_t s1[1] = {32};
        stw_add_f32(&w, "blocks.7.norm1.weight", 1, s1, NULL, 1, 1.0f);
    }
    expect_load((tmpctx *)*state, &w, IGQ_ERR_FORMAT, "inconsistent depth", "blocks.3.");
    stw_free(&w);
}

static void test_zero_size_dimension(void **state)
{
    stw        w;
    stw_entry *e;
    base_model(&w);
    e = stw_get(&w, "head.bias");
    e->shape[0] = 0;
    e->nbytes   = 0;
    stw_get(&w, "head.weight")->shape[0] = 0;
    stw_get(&w, "head.weight")->nbytes   = 0;
    expect_load((tmpctx *)*state, &w, IGQ_ERR_SHAPE, "head.weight", "extent 0");
    stw_free(&w);
}

static void test_unknown_naming(void **state)
{
    stw     w;
    int64_t s1[1] = {4};
    stw_init(&w);
    stw_add_f32(&w, "resnet.conv1.weight", 1, s1, NULL, 1, 1.0f);
    expect_load((tmpctx *)*state, &w, IGQ_ERR_FORMAT, "not a ViT", NULL);
    stw_free(&w);
}

static void test_duplicate_tensor(void **state)
{
    tmpctx     *t = (tmpctx *)*state;
    stw         w;
    size_t      n;
    unsigned char *buf;
    char       *p, *path;
    igq_model  *m = NULL;
    base_model(&w);
    buf = stw_serialize(&w, &n);
    /* Rename 'head.bias' to 'norm.bias' (same length): a duplicate key in the header. */
    p = strstr((char *)buf + 8, "\"head.bias\"");
    assert_non_null(p);
    memcpy(p, "\"norm.bias\"", 11);
    path = tu_write_file(t->dir, "dup.safetensors", buf, n);
    assert_int_equal(igq_model_load(path, &m), IGQ_ERR_FORMAT);
    assert_null(m);
    assert_non_null(strstr(igq_last_error(), "dup.safetensors"));
    assert_non_null(strstr(igq_last_error(), "norm.bias"));
    free(path);
    free(buf);
    stw_free(&w);
}

static void test_bad_metadata(void **state)
{
    stw w;
    base_model(&w);
    w.metadata[0] = 0;
    stw_meta(&w, "num_heads", "three");
    expect_load((tmpctx *)*state, &w, IGQ_ERR_FORMAT, "num_heads", NULL);
    stw_free(&w);
    base_model(&w);
    w.metadata[0] = 0;
    stw_meta(&w, "num_heads", "5");
    expect_load((tmpctx *)*state, &w, IGQ_ERR_FORMAT, "do not divide", NULL);
    stw_free(&w);
    base_model(&w);
    w.metadata[0] = 0; /* dim 32 and no heads anywhere: the 64 default does not apply */
    expect_load((tmpctx *)*state, &w, IGQ_ERR_FORMAT, "number of heads unknown", NULL);
    stw_free(&w);
    base_model(&w);
    stw_meta(&w, "mean", "0.5,0.4");
    stw_meta(&w, "std", "0.2,0.2");
    expect_load((tmpctx *)*state, &w, IGQ_ERR_FORMAT, "mean/std", NULL);
    stw_free(&w);
    base_model(&w);
    stw_meta(&w, "layer_norm_eps", "abc");
    expect_load((tmpctx *)*state, &w, IGQ_ERR_FORMAT, "layer_norm_eps", NULL);
    stw_free(&w);
    base_model(&w);
    stw_meta(&w, "image_size", "20,20"); /* 5x5 patches != the 4x4 grid */
    expect_load((tmpctx *)*state, &w, IGQ_ERR_SHAPE, "position embedding", NULL);
    stw_free(&w);
    /* 16384^2 patches: refused by count (the int32 product wrapped to 0 and loaded, issue 15) */
    base_model(&w);
    stw_meta(&w, "image_size", "65536,65536");
    expect_load((tmpctx *)*state, &w, IGQ_ERR_SHAPE, "2^20 patches", NULL);
    stw_free(&w);
    base_model(&w);
    stw_meta(&w, "image_size", "65537,16");
    expect_load((tmpctx *)*state, &w, IGQ_ERR_FORMAT, "image_size", NULL);
    stw_free(&w);
}

/* Loads a generated model whose __metadata__ gives mean, std and layer_norm_eps as text. */
static igq_model *load_meta_model(const tmpctx *t)
{
    stw        w;
    char      *path;
    igq_model *m = NULL;
    base_model(&w);
    stw_meta(&w, "mean", "0.485,0.456,0.406");
    stw_meta(&w, "std", "0.229, 0.224, 0.225");
    stw_meta(&w, "layer_norm_eps", "1e-5");
    path = stw_write(&w, t->dir, "meta.safetensors");
    assert_int_equal(igq_model_load(path, &m), IGQ_OK);
    free(path);
    stw_free(&w);
    return m;
}

/* The metadata values as read: exactly the floats nearest the decimal text. */
static void check_meta_values(const igq_model *m)
{
    float mean[3], std[3], eps;
    assert_int_equal(igq_model_normalization(m, mean, std, 3), IGQ_OK);
    assert_true(mean[1] == 0.456f && std[2] == 0.225f);
    assert_int_equal(igq_model_normalization(m, mean, std, 2), IGQ_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(igq_model_layer_norm_eps(m, &eps), IGQ_OK);
    assert_true(eps == 1e-5f);
}

static void test_metadata_values(void **state)
{
    igq_model *m = load_meta_model((const tmpctx *)*state);
    check_meta_values(m);
    igq_model_free(m);
}

/* Metadata numbers do not depend on the caller's locale: under a locale whose decimal point is
 * a comma, "0.456" still reads as 0.456 (it was refused as "not comma-separated numbers").
 * Skipped when no such locale is installed (CI generates de_DE.UTF-8). */
static void test_metadata_locale(void **state)
{
    static const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
    igq_model *m;
    size_t     i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (setlocale(LC_ALL, names[i]) != NULL && localeconv()->decimal_point[0] == ',') break;
    if (i == sizeof names / sizeof names[0]) {
        setlocale(LC_ALL, "C");
        fprintf(stderr, "  no locale with a decimal comma installed\n");
        skip();
    }
    m = load_meta_model((const tmpctx *)*state);
    setlocale(LC_ALL, "C");
    check_meta_values(m);
    igq_model_free(m);
}

/* A FIFO or a directory is refused at once as "not a regular file" (opening a FIFO used to
 * block forever before the check). alarm(): a hang fails the test instead of CI. */
static void test_not_regular_file(void **state)
{
    tmpctx    *t = (tmpctx *)*state;
    igq_model *m = NULL;
    char       fifo[4096];
    snprintf(fifo, sizeof fifo, "%s/model.fifo", t->dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(30);
    assert_int_equal(igq_model_load(fifo, &m), IGQ_ERR_IO);
    alarm(0);
    assert_null(m);
    assert_non_null(strstr(igq_last_error(), "not a regular file"));
    assert_non_null(strstr(igq_last_error(), "model.fifo"));
    unlink(fifo);
    assert_int_equal(igq_model_load(t->dir, &m), IGQ_ERR_IO);
    assert_non_null(strstr(igq_last_error(), "not a regular file"));
}

/* config.json beside the file supplies heads; a malformed one is reported by name. */
static void test_config_json(void **state)
{
    tmpctx     *t = (tmpctx *)*state;
    stw         w;
    char       *path, *cfg;
    igq_model  *m = NULL;
    int64_t     heads = 0;
    const char *good = "{\"architecture\": \"vit_x\", \"num_heads\": 4, "
                       "\"pretrained_cfg\": {\"mean\": [0.5], \"std\": [0.25]}}";
    float       mean[3], std[3];
    base_model(&w);
    w.metadata[0] = 0;
    path = stw_write(&w, t->dir, "model.safetensors");
    cfg  = tu_write_file(t->dir, "config.json", good, strlen(good));
    assert_int_equal(igq_model_load(path, &m), IGQ_OK);
    assert_int_equal(igq_model_info(m, IGQ_PROP_HEADS, &heads), IGQ_OK);
    assert_int_equal(heads, 4);
    assert_int_equal(igq_model_normalization(m, mean, std, 3), IGQ_OK); /* broadcast */
    assert_true(mean[2] == 0.5f && std[0] == 0.25f);
    igq_model_free(m);
    m = NULL;
    free(cfg);
    cfg = tu_write_file(t->dir, "config.json", "{\"num_heads\": 4,", 16);
    assert_int_equal(igq_model_load(path, &m), IGQ_ERR_FORMAT);
    assert_non_null(strstr(igq_last_error(), "config.json"));
    free(cfg);
    {
        /* a config over the cap is refused before it is parsed (a tree of ~50x its size) */
        const size_t n   = (8u << 20) + 2;
        char        *big = (char *)malloc(n);
        assert_non_null(big);
        memset(big, ' ', n);
        big[0]     = '{';
        big[n - 1] = '}';
        cfg        = tu_write_file(t->dir, "config.json", big, n);
        assert_int_equal(igq_model_load(path, &m), IGQ_ERR_FORMAT);
        assert_non_null(strstr(igq_last_error(), "a configuration file may have at most"));
        free(cfg);
        free(big);
    }
    {
        /* sizes beyond any integer type are refused before a conversion (UBSan saw a float-cast
         * overflow, issue 15); fractional and oversized sides too */
        static const char *const bad[] = {
            "{\"num_heads\": 4, \"image_size\": [2184467440737095516164, 32]}",
            "{\"num_heads\": 4, \"image_size\": [16.5, 16]}",
            "{\"num_heads\": 4, \"image_size\": 70000}",
            "{\"num_heads\": 4, \"pretrained_cfg\": {\"input_size\": [3, 1e30, 16]}}"};
        size_t i;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            cfg = tu_write_file(t->dir, "config.json", bad[i], strlen(bad[i]));
            assert_int_equal(igq_model_load(path, &m), IGQ_ERR_FORMAT);
            assert_null(m);
            assert_non_null(strstr(igq_last_error(), "[1, 65536]"));
            free(cfg);
        }
    }
    free(path);
    stw_free(&w);
}

/* Class names: metadata `labels`, config.json id2label / label_names; count mismatches and
 * bad entries refused; kept through quantization and .igq files. */
static void test_labels(void **state)
{
    tmpctx     *t = (tmpctx *)*state;
    stw         w;
    char       *path, *cfg, *igq;
    igq_model  *m = NULL, *r = NULL;
    const char *name = NULL;
    base_model(&w); /* 5 classes; the metadata value is JSON text inside the header's JSON */
    stw_meta(&w, "labels",
             "[\\\"t-shirt\\\", \\\"trouser\\\", \\\"pull\\\\u00f6ver\\\", \\\"dress\\\", \\\"coat\\\"]");
    path = stw_write(&w, t->dir, "lab.safetensors");
    assert_int_equal(igq_model_load(path, &m), IGQ_OK);
    assert_int_equal(igq_model_label(m, 2, &name), IGQ_OK);
    assert_string_equal(name, "pull\xc3\xb6ver");
    assert_int_equal(igq_model_label(m, 5, &name), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(name);
    assert_int_equal(igq_model_label(m, -1, &name), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_model_label(NULL, 0, &name), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_model_label(m, 0, NULL), IGQ_ERR_INVALID_ARGUMENT);
    igq = (char *)malloc(strlen(t->dir) + 16);
    assert_non_null(igq);
    sprintf(igq, "%s/lab.igq", t->dir);
    assert_int_equal(igq_model_save(m, igq), IGQ_OK);
    assert_int_equal(igq_model_load(igq, &r), IGQ_OK);
    assert_int_equal(igq_model_label(r, 4, &name), IGQ_OK);
    assert_string_equal(name, "coat");
    assert_int_equal(igq_model_label(r, 2, &name), IGQ_OK);
    assert_string_equal(name, "pull\xc3\xb6ver");
    igq_model_free(r);
    igq_model_free(m);
    m = NULL;
    free(path);
    stw_free(&w);
    /* wrong count / not strings */
    base_model(&w);
    stw_meta(&w, "labels", "[\\\"a\\\", \\\"b\\\"]");
    expect_load(t, &w, IGQ_ERR_FORMAT, "2 labels for 5 classes", NULL);
    stw_free(&w);
    base_model(&w);
    stw_meta(&w, "labels", "[\\\"a\\\", \\\"b\\\", 3, \\\"d\\\", \\\"e\\\"]");
    expect_load(t, &w, IGQ_ERR_FORMAT, "label 2 is not a string", NULL);
    stw_free(&w);
    base_model(&w);
    stw_meta(&w, "labels", "[\\\"a\\\", ");
    expect_load(t, &w, IGQ_ERR_FORMAT, "metadata labels", NULL);
    stw_free(&w);
    /* no names at all */
    base_model(&w);
    path = stw_write(&w, t->dir, "nolab.safetensors");
    assert_int_equal(igq_model_load(path, &m), IGQ_OK);
    assert_int_equal(igq_model_label(m, 0, &name), IGQ_ERR_NOT_FOUND);
    igq_model_free(m);
    m = NULL;
    free(path);
    stw_free(&w);
    /* config.json: Hugging Face id2label (any key order), timm label_names */
    base_model(&w);
    path = stw_write(&w, t->dir, "model.safetensors");
    {
        const char *hf = "{\"id2label\": {\"1\": \"b\", \"0\": \"a\", \"4\": \"e\", \"3\": \"d\", "
                         "\"2\": \"c\"}}";
        const char *tm = "{\"label_names\": [\"v\", \"w\", \"x\", \"y\", \"z\"]}";
        const char *bad[] = {"{\"id2label\": {\"0\": \"a\", \"1\": \"b\"}}",
                             "{\"id2label\": {\"0\": \"a\", \"1\": \"b\", \"2\": \"c\", \"3\": \"d\", "
                             "\"5\": \"e\"}}",
                             "{\"id2label\": {\"0\": \"a\", \"1\": \"b\", \"2\": \"c\", \"3\": \"d\", "
                             "\"x\": \"e\"}}",
                             "{\"id2label\": [\"a\"]}"};
        size_t i;
        cfg = tu_write_file(t->dir, "config.json", hf, strlen(hf));
        free(cfg);
        assert_int_equal(igq_model_load(path, &m), IGQ_OK);
        assert_int_equal(igq_model_label(m, 3, &name), IGQ_OK);
        assert_string_equal(name, "d");
        igq_model_free(m);
        m   = NULL;
        cfg = tu_write_file(t->dir, "config.json", tm, strlen(tm));
        free(cfg);
        assert_int_equal(igq_model_load(path, &m), IGQ_OK);
        assert_int_equal(igq_model_label(m, 0, &name), IGQ_OK);
        assert_string_equal(name, "v");
        igq_model_free(m);
        m = NULL;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            cfg = tu_write_file(t->dir, "config.json", bad[i], strlen(bad[i]));
            free(cfg);
            assert_int_equal(igq_model_load(path, &m), IGQ_ERR_FORMAT);
            assert_null(m);
            assert_non_null(strstr(igq_last_error(), "id2label"));
        }
    }
    free(path);
    free(igq);
    stw_free(&w);
}

static void test_not_safetensors(void **state)
{
    tmpctx    *t = (tmpctx *)*state;
    igq_model *m = NULL;
    char      *p = tu_write_file(t->dir, "junk.bin", "hello", 5);
    assert_int_equal(igq_model_load(p, &m), IGQ_ERR_FORMAT);
    assert_null(m);
    free(p);
    assert_int_equal(igq_model_load("/nonexistent/dir/x.safetensors", &m), IGQ_ERR_IO);
    assert_non_null(strstr(igq_last_error(), "/nonexistent/dir/x.safetensors"));
}

/* Every allocation failure during load reports IGQ_ERR_NO_MEMORY and leaks nothing. */
static void test_load_alloc_failures(void **state)
{
    char      *path = tu_fixture_path("timm_deit_distilled/model.safetensors");
    long       n;
    int        ok_seen = 0;
    (void)state;
    for (n = 0; n < 20000 && !ok_seen; n++) {
        igq_model *m = NULL;
        igq_status s;
        igq__alloc_fail_after(n);
        s = igq_model_load(path, &m);
        igq__alloc_fail_after(-1);
        if (s == IGQ_OK) {
            ok_seen = 1;
            igq_model_free(m);
        } else {
            assert_int_equal(s, IGQ_ERR_NO_MEMORY);
            assert_null(m);
        }
    }
    assert_true(ok_seen);
    free(path);
}

/* ---- weights read from the mapped file ----------------------------------------------------- */

/* lin's output rows row0 .. row0 + rows hold tensor wname ([rows][in], any float dtype) and
 * bias bname, bit for bit: the loader transposes straight from the mapped file, this reads the
 * same bytes parsed from memory and transposes them here. */
static void check_linear(const igq_safetensors *st, const char *wname, const char *bname,
                         const igq_linear *lin, int32_t row0)
{
    const igq_st_tensor *t = igq__st_find(st, wname);
    float               *ref;
    int64_t              rows, cols, r, c;
    if (t == NULL) fail_msg("no tensor '%s'", wname);
    rows = t->shape[0];
    cols = t->numel / rows;
    assert_int_equal(cols, lin->in);
    assert_true(row0 + rows <= lin->out);
    ref = (float *)malloc((size_t)t->numel * sizeof(float));
    assert_non_null(ref);
    assert_int_equal(igq__st_read_f32(st, t, ref, t->numel), IGQ_OK);
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++)
            if (memcmp(&lin->wt[(size_t)c * lin->out + row0 + r], &ref[r * cols + c], 4) != 0)
                fail_msg("'%s': element (%lld, %lld) differs", wname, (long long)r, (long long)c);
    t = igq__st_find(st, bname);
    if (t == NULL) fail_msg("no tensor '%s'", bname);
    assert_int_equal(t->numel, rows);
    assert_int_equal(igq__st_read_f32(st, t, ref, rows), IGQ_OK);
    assert_memory_equal(lin->b + row0, ref, (size_t)rows * sizeof(float));
    free(ref);
}

typedef struct linear_names {
    const char *fixture, *patch, *blk, *q, *k, *v, *proj, *fc1, *fc2, *head; /* k, v: HF only */
} linear_names;

static void test_weights_match_file(void **state)
{
    static const linear_names N[] = {
        {"timm_vit", "patch_embed.proj.", "blocks.%d.", "attn.qkv.", NULL, NULL, "attn.proj.",
         "mlp.fc1.", "mlp.fc2.", "head."},
        {"timm_vit_f16", "patch_embed.proj.", "blocks.%d.", "attn.qkv.", NULL, NULL,
         "attn.proj.", "mlp.fc1.", "mlp.fc2.", "head."},
        {"tv_vit", "conv_proj.", "encoder.layers.encoder_layer_%d.", "self_attention.in_proj_",
         NULL, NULL, "self_attention.out_proj.", "mlp.0.", "mlp.3.", "heads.head."},
        {"hf_vit", "vit.embeddings.patch_embeddings.projection.", "vit.encoder.layer.%d.",
         "attention.attention.query.", "attention.attention.key.",
         "attention.attention.value.", "attention.output.dense.", "intermediate.dense.",
         "output.dense.", "classifier."},
        {"hf_vit_bf16", "vit.embeddings.patch_embeddings.projection.", "vit.encoder.layer.%d.",
         "attention.attention.query.", "attention.attention.key.",
         "attention.attention.value.", "attention.output.dense.", "intermediate.dense.",
         "output.dense.", "classifier."},
    };
    size_t f;
    (void)state;
    for (f = 0; f < sizeof N / sizeof N[0]; f++) {
        const linear_names *n = &N[f];
        char                rel[128], w[256], b[256], pre[128];
        char               *path;
        unsigned char      *bytes;
        size_t              size;
        igq_safetensors    *st = NULL;
        igq_model          *m  = load_fixture_model(n->fixture);
        int32_t             i, D = m->d.dim;
        snprintf(rel, sizeof rel, "%s/model.safetensors", n->fixture);
        path  = tu_fixture_path(rel);
        bytes = tu_read_file(path, &size);
        assert_non_null(bytes);
        assert_int_equal(igq__st_parse(bytes, size, path, &st), IGQ_OK);
#define NAMES(P, S)                                                                             \
    (snprintf(w, sizeof w, "%s%sweight", P, S), snprintf(b, sizeof b, "%s%sbias", P, S))
        NAMES("", n->patch);
        check_linear(st, w, b, &m->patch, 0);
        NAMES("", n->head);
        check_linear(st, w, b, &m->head, 0);
        for (i = 0; i < m->d.depth; i++) {
            const igq_block *blk = &m->blocks[i];
            snprintf(pre, sizeof pre, n->blk, (int)i);
            NAMES(pre, n->q);
            check_linear(st, w, b, &blk->qkv, 0);
            if (n->k != NULL) {
                NAMES(pre, n->k);
                check_linear(st, w, b, &blk->qkv, D);
                NAMES(pre, n->v);
                check_linear(st, w, b, &blk->qkv, 2 * D);
            }
            NAMES(pre, n->proj);
            check_linear(st, w, b, &blk->proj, 0);
            NAMES(pre, n->fc1);
            check_linear(st, w, b, &blk->fc1, 0);
            NAMES(pre, n->fc2);
            check_linear(st, w, b, &blk->fc2, 0);
        }
#undef NAMES
        igq__st_close(st);
        free(bytes);
        free(path);
        igq_model_free(m);
    }
}

/* Unreadable weights are refused as before the loader read from the mapping: the dtype names
 * the tensor (also for one of Hugging Face's separate q, k, v), a non-square patch is
 * unsupported, and a weight that is both is reported for its dtype. */
static void test_unreadable_weights(void **state)
{
    tmpctx        *t = (tmpctx *)*state;
    stw            w;
    char          *path, *hf;
    unsigned char *bytes;
    size_t         size;
    igq_model     *m = NULL;
    base_model(&w);
    strcpy(stw_get(&w, "blocks.1.attn.qkv.weight")->dtype, "I32");
    expect_load(t, &w, IGQ_ERR_UNSUPPORTED, "tensor 'blocks.1.attn.qkv.weight': dtype I32",
                "cannot be read as f32");
    stw_free(&w);
    base_model(&w);
    stw_get(&w, "patch_embed.proj.weight")->shape[2] = 2; /* [32,3,4,4] -> [32,3,2,8] */
    stw_get(&w, "patch_embed.proj.weight")->shape[3] = 8;
    expect_load(t, &w, IGQ_ERR_UNSUPPORTED, "'patch_embed.proj.weight'", "non-square 2x8");
    strcpy(stw_get(&w, "patch_embed.proj.weight")->dtype, "I32");
    expect_load(t, &w, IGQ_ERR_UNSUPPORTED, "'patch_embed.proj.weight': dtype I32", NULL);
    stw_free(&w);
    /* Hugging Face: the key weight of block 1 relabelled I32 in the header (same length) */
    path  = tu_fixture_path("hf_vit/model.safetensors");
    bytes = tu_read_file(path, &size);
    assert_non_null(bytes);
    {
        const char *key = "\"vit.encoder.layer.1.attention.attention.key.weight\":{\"dtype\":\"F32\"";
        char       *p   = strstr((char *)bytes + 8, key);
        assert_non_null(p);
        memcpy(p + strlen(key) - 4, "I32", 3);
    }
    hf = tu_write_file(t->dir, "hf_i32.safetensors", bytes, size);
    assert_int_equal(igq_model_load(hf, &m), IGQ_ERR_UNSUPPORTED);
    assert_null(m);
    assert_non_null(strstr(igq_last_error(),
                           "tensor 'vit.encoder.layer.1.attention.attention.key.weight': dtype "
                           "I32 cannot be read as f32"));
    free(hf);
    free(bytes);
    free(path);
}

/* A checkpoint cut short on disk is refused cleanly (the file is mapped, not read: nothing
 * may touch bytes past its end), wherever the cut falls. */
static void test_truncated_checkpoint(void **state)
{
    tmpctx        *t    = (tmpctx *)*state;
    char          *path = tu_fixture_path("timm_vit/model.safetensors");
    unsigned char *bytes;
    size_t         size, hdr, k;
    bytes = tu_read_file(path, &size);
    assert_non_null(bytes);
    hdr = 8 + ((size_t)bytes[0] | (size_t)bytes[1] << 8 | (size_t)bytes[2] << 16);
    {
        const size_t cuts[] = {0, 1, 7, 8, 9, hdr / 2, hdr - 1, hdr, hdr + 1, hdr + 4096,
                               (size + hdr) / 2, size - 4097, size - 4, size - 1};
        for (k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
            igq_model *m = (igq_model *)&k;
            char       name[64];
            char      *cut;
            assert_true(cuts[k] < size);
            snprintf(name, sizeof name, "cut%zu.safetensors", cuts[k]);
            cut = tu_write_file(t->dir, name, bytes, cuts[k]);
            assert_int_equal(igq_model_load(cut, &m), IGQ_ERR_FORMAT);
            assert_null(m);
            assert_true(strncmp(igq_last_error(), cut, strlen(cut)) == 0);
            free(cut);
        }
    }
    free(bytes);
    free(path);
}

/* ---- API argument checks ------------------------------------------------------------------- */

static void test_api_arguments(void **state)
{
    igq_model  *m = load_fixture_model("timm_vit");
    igq_tensor *img = NULL, *log = NULL, *bad = NULL;
    int64_t     is[4] = {2, 3, 32, 32}, ls[2] = {2, 10}, bs[4] = {2, 3, 28, 28}, v;
    float       buf[4];
    (void)state;
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, is, &img), IGQ_OK);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &log), IGQ_OK);
    assert_int_equal(igq_run(NULL, img, log), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_run(m, NULL, log), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_run(m, img, img), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, bs, &bad), IGQ_OK);
    assert_int_equal(igq_run(m, bad, log), IGQ_ERR_SHAPE);
    assert_non_null(strstr(igq_last_error(), "[B, 3, 32, 32]"));
    ls[1] = 9;
    igq_tensor_free(log);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &log), IGQ_OK);
    assert_int_equal(igq_run(m, img, log), IGQ_ERR_SHAPE);
    assert_int_equal(igq_model_info(m, (igq_model_prop)999, &v), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_model_info(NULL, IGQ_PROP_DEPTH, &v), IGQ_ERR_INVALID_ARGUMENT);
    {
        igq_model *other = m;
        assert_int_equal(igq_model_load(NULL, &other), IGQ_ERR_INVALID_ARGUMENT);
        assert_null(other); /* out is reset even on failure */
    }
    assert_int_equal(igq_model_load("x", NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_model_normalization(m, NULL, buf, 4), IGQ_ERR_INVALID_ARGUMENT);
    igq_tensor_free(img);
    igq_tensor_free(log);
    igq_tensor_free(bad);
    igq_model_free(m);
    igq_model_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_config),
        cmocka_unit_test(test_fixture_logits),
        cmocka_unit_test(test_fixture_features),
        cmocka_unit_test(test_other_image_size),
        cmocka_unit_test(test_dinov2_hf),
        cmocka_unit_test_setup_teardown(test_load_options, setup_tmp, teardown_tmp),
        cmocka_unit_test(test_demo_model_real_images),
        cmocka_unit_test(test_concurrent_runs),
        cmocka_unit_test(test_batch_consistency),
        cmocka_unit_test(test_api_arguments),
        cmocka_unit_test(test_load_alloc_failures),
        cmocka_unit_test(test_weights_match_file),
        cmocka_unit_test_setup_teardown(test_load_valid_generated, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_missing_tensor, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_unsupported_and_unused_tensors, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_default_heads, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_no_classifier, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_wrong_shape, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_inconsistent_depth, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_zero_size_dimension, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_unknown_naming, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_duplicate_tensor, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_bad_metadata, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_metadata_values, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_config_json, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_labels, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_not_safetensors, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_metadata_locale, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_not_regular_file, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_unreadable_weights, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_truncated_checkpoint, setup_tmp, teardown_tmp),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
