/* One specification: the scalar kernels define every bit.
 *
 * On random models of shapes no other suite and no bundled model uses (odd widths, head
 * dimensions 8 and 12, a distillation token, non-square patch grids of 5x5 and 4x4 tokens),
 * each executor is run end to end at the scalar level (logits and igq_run_features embeddings):
 * the fp32 forward, then quantization
 * (calibration runs the fp32 forward, so quantizers depend on its bits) and the simulated and
 * integer executors at W8A8 and W4A4, and with GPTQ weight rounding (integer W4A4 G=8,
 * simulated W3A3 G=1). Every other ISA level the CPU has must reproduce those
 * logits bit for bit, quantizing again at its own level, on the calling thread and on a
 * session with 2 and 3 threads. Levels the CPU lacks are reported as skipped.
 *
 * The scalar results are also summarized as one FNV-1a hash per (model, executor) line; with
 * IGQ_BITS_OUT=<file> they are written there, so `make check` can compare the gcc and the clang
 * builds line for line (the compilers must agree as well: no FP contraction, no fast-math). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "igq/igq.h"
#include "kernels/dispatch.h"
#include "support/st_writer.h"
#include "support/testutil.h"

enum { N_MODELS = 2, N_EXEC = 7, N_CALIB = 6, N_TEST = 5, N_RUNS = 3 /* threads 1, 2, 3 */ };

typedef struct exec_case {
    const char *name;
    int         quantized, executor, wbits, abits, groups;
    int         rounding; /* igq_weight_rounding */
} exec_case;

static const exec_case EXECS[N_EXEC] = {
    {"fp32", 0, 0, 0, 0, 0, IGQ_ROUNDING_NEAREST},
    {"sim W8A8 G=4", 1, IGQ_EXECUTOR_SIM, 8, 8, 4, IGQ_ROUNDING_NEAREST},
    {"int W8A8 G=4", 1, IGQ_EXECUTOR_INT, 8, 8, 4, IGQ_ROUNDING_NEAREST},
    {"sim W4A4 G=8", 1, IGQ_EXECUTOR_SIM, 4, 4, 8, IGQ_ROUNDING_NEAREST},
    {"int W4A4 G=8", 1, IGQ_EXECUTOR_INT, 4, 4, 8, IGQ_ROUNDING_NEAREST},
    {"int W4A4 G=8 GPTQ", 1, IGQ_EXECUTOR_INT, 4, 4, 8, IGQ_ROUNDING_GPTQ},
    {"sim W3A3 G=1 GPTQ", 1, IGQ_EXECUTOR_SIM, 3, 3, 1, IGQ_ROUNDING_GPTQ},
};

typedef struct bits_state {
    igq_model    *model[N_MODELS];
    igq_tensor   *calib[N_MODELS], *test[N_MODELS];
    float        *ref[N_MODELS][N_EXEC]; /* scalar-level logits */
    int64_t       classes[N_MODELS];
    int64_t       width[N_MODELS]; /* floats per test image compared: classes + embedding */
    igq_isa_level start;
} bits_state;

static const char *const MODEL_NAMES[N_MODELS] = {"D40 h5 M88 S20 P4", "D48 h4 M120 S24 P6 dist"};

static igq_model *make_model(int which, const char *dir)
{
    stw        w;
    char      *path;
    igq_model *m = NULL;
    stw_init(&w);
    if (which == 0) { /* depth 2, D 40, 5 heads of 8, MLP 88, 7 classes, 20x20 at patch 4 */
        stw_timm_vit(&w, 2, 40, 5, 88, 7, 3, 20, 4, 0, 901);
    } else { /* depth 3, D 48, 4 heads of 12, MLP 120, 5 classes, 24x24 at patch 6, dist */
        stw_timm_vit(&w, 3, 48, 4, 120, 5, 3, 24, 6, 1, 902);
    }
    path = stw_write(&w, dir, which ? "bits1.safetensors" : "bits0.safetensors");
    if (igq_model_load(path, &m) != IGQ_OK) fail_msg("%s: %s", path, igq_last_error());
    free(path);
    stw_free(&w);
    return m;
}

static igq_tensor *random_images(const igq_model *m, int64_t n, uint64_t seed)
{
    int64_t     shape[4] = {n, 0, 0, 0};
    igq_tensor *t        = NULL;
    tu_rng      r;
    int64_t     i;
    assert_int_equal(igq_model_info(m, IGQ_PROP_IN_CHANNELS, &shape[1]), IGQ_OK);
    assert_int_equal(igq_model_info(m, IGQ_PROP_IMAGE_HEIGHT, &shape[2]), IGQ_OK);
    assert_int_equal(igq_model_info(m, IGQ_PROP_IMAGE_WIDTH, &shape[3]), IGQ_OK);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &t), IGQ_OK);
    tu_rng_seed(&r, seed);
    for (i = 0; i < igq_tensor_numel(t); i++)
        ((float *)igq_tensor_data(t))[i] = (float)tu_rng_normal(&r);
    return t;
}

static igq_model *quantize(const igq_model *m, const igq_tensor *calib, const exec_case *e)
{
    igq_config *c = NULL;
    igq_model  *q = NULL;
    assert_int_equal(igq_config_create(&c), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_WEIGHT_BITS, e->wbits), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_ACT_BITS, e->abits), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_GROUPS, e->groups), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_EXECUTOR, e->executor), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_WEIGHT_ROUNDING, e->rounding), IGQ_OK);
    if (igq_quantize_model(m, calib, c, &q) != IGQ_OK) fail_msg("quantize: %s", igq_last_error());
    igq_config_free(c);
    return q;
}

/* Logits then embeddings of `run` (0: igq_run and igq_run_features on this thread; 1, 2: a
 * session on a pool of run + 1 threads): [B][classes] logits followed by [B][D] features. */
static float *logits_of(const igq_model *m, const igq_tensor *images, int64_t classes, int run)
{
    const int64_t B = igq_tensor_dim(images, 0);
    int64_t       D = 0, shape[2] = {B, classes}, fshape[2] = {B, 0};
    igq_tensor   *lt = NULL, *ft = NULL;
    float        *out;
    assert_int_equal(igq_model_info(m, IGQ_PROP_FEATURE_DIM, &D), IGQ_OK);
    fshape[1] = D;
    out       = malloc((size_t)(B * (classes + D)) * sizeof(float));
    assert_non_null(out);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, shape, &lt), IGQ_OK);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, fshape, &ft), IGQ_OK);
    if (run == 0) {
        if (igq_run(m, images, lt) != IGQ_OK) fail_msg("igq_run: %s", igq_last_error());
        if (igq_run_features(m, images, ft) != IGQ_OK)
            fail_msg("igq_run_features: %s", igq_last_error());
    } else {
        igq_threadpool *pool = NULL;
        igq_session    *s    = NULL;
        assert_int_equal(igq_threadpool_create(run + 1, &pool), IGQ_OK);
        assert_int_equal(igq_session_create(m, &s), IGQ_OK);
        assert_int_equal(igq_session_set_threadpool(s, pool), IGQ_OK);
        if (igq_session_run(s, images, lt) != IGQ_OK)
            fail_msg("igq_session_run: %s", igq_last_error());
        if (igq_session_run_features(s, images, ft) != IGQ_OK)
            fail_msg("igq_session_run_features: %s", igq_last_error());
        igq_session_free(s);
        igq_threadpool_free(pool);
    }
    memcpy(out, igq_tensor_data(lt), (size_t)(B * classes) * sizeof(float));
    memcpy(out + B * classes, igq_tensor_data(ft), (size_t)(B * D) * sizeof(float));
    igq_tensor_free(lt);
    igq_tensor_free(ft);
    return out;
}

/* Logits of model mi under executor ei at the active level (quantizing at that level). */
static float *forward(const bits_state *st, int mi, int ei, int run)
{
    const exec_case *e = &EXECS[ei];
    igq_model       *q = e->quantized ? quantize(st->model[mi], st->calib[mi], e) : NULL;
    float *out = logits_of(q != NULL ? q : st->model[mi], st->test[mi], st->classes[mi], run);
    igq_model_free(q);
    return out;
}

static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t             h = 14695981039346656037ull;
    size_t               i;
    for (i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* Group setup: the models, images and the scalar-level logits of every executor (the spec). */
static int setup(void **state)
{
    bits_state *st  = calloc(1, sizeof *st);
    char       *dir = tu_make_tmpdir();
    const char *out = getenv("IGQ_BITS_OUT");
    FILE       *f   = NULL;
    int         mi, ei;
    if (st == NULL) return -1;
    st->start = igq__isa_active();
    igq__dispatch_force(IGQ_ISA_SCALAR);
    if (out != NULL && *out != '\0' && (f = fopen(out, "w")) == NULL) {
        fprintf(stderr, "cannot write %s\n", out);
        return -1;
    }
    for (mi = 0; mi < N_MODELS; mi++) {
        st->model[mi] = make_model(mi, dir);
        assert_int_equal(igq_model_info(st->model[mi], IGQ_PROP_NUM_CLASSES, &st->classes[mi]),
                         IGQ_OK);
        assert_int_equal(igq_model_info(st->model[mi], IGQ_PROP_FEATURE_DIM, &st->width[mi]),
                         IGQ_OK);
        st->width[mi] += st->classes[mi];
        st->calib[mi] = random_images(st->model[mi], N_CALIB, 910 + (uint64_t)mi);
        st->test[mi]  = random_images(st->model[mi], N_TEST, 920 + (uint64_t)mi);
        for (ei = 0; ei < N_EXEC; ei++) {
            const size_t n = (size_t)(N_TEST * st->width[mi]) * sizeof(float);
            st->ref[mi][ei] = forward(st, mi, ei, 0);
            printf("  scalar spec: %-26s %-14s %016llx\n", MODEL_NAMES[mi], EXECS[ei].name,
                   (unsigned long long)fnv1a(st->ref[mi][ei], n));
            if (f != NULL)
                fprintf(f, "%s | %s | %016llx\n", MODEL_NAMES[mi], EXECS[ei].name,
                        (unsigned long long)fnv1a(st->ref[mi][ei], n));
        }
    }
    if (f != NULL) fclose(f);
    igq__dispatch_force(st->start);
    tu_rmdir_r(dir);
    free(dir);
    *state = st;
    return 0;
}

static int teardown(void **state)
{
    bits_state *st = *state;
    int         mi, ei;
    if (st == NULL) return 0;
    igq__dispatch_force(st->start);
    for (mi = 0; mi < N_MODELS; mi++) {
        for (ei = 0; ei < N_EXEC; ei++) free(st->ref[mi][ei]);
        igq_tensor_free(st->calib[mi]);
        igq_tensor_free(st->test[mi]);
        igq_model_free(st->model[mi]);
    }
    free(st);
    return 0;
}

/* Every executor at `level`, 1 to 3 threads, against the scalar logits. */
static void check_level(void **state, igq_isa_level level)
{
    bits_state *st = *state;
    int         mi, ei, run;
    if (igq__isa_clamp(level) != level) {
        printf("  %s: not supported by this CPU\n", igq__isa_name(level));
        skip();
    }
    igq__dispatch_force(level);
    assert_int_equal(igq__isa_active(), level);
    for (mi = 0; mi < N_MODELS; mi++)
        for (ei = 0; ei < N_EXEC; ei++)
            for (run = 0; run < N_RUNS; run++) {
                const size_t n   = (size_t)(N_TEST * st->width[mi]) * sizeof(float);
                float       *got = forward(st, mi, ei, run);
                if (memcmp(got, st->ref[mi][ei], n) != 0) {
                    igq__dispatch_force(st->start);
                    fail_msg("%s, %s, %d thread(s): logits or embeddings at %s differ from the "
                             "scalar spec",
                             MODEL_NAMES[mi], EXECS[ei].name, run + 1, igq__isa_name(level));
                }
                free(got);
            }
    igq__dispatch_force(st->start);
}

static void test_scalar(void **state) { check_level(state, IGQ_ISA_SCALAR); }
static void test_avx2(void **state) { check_level(state, IGQ_ISA_AVX2); }
static void test_avxvnni(void **state) { check_level(state, IGQ_ISA_AVXVNNI); }
static void test_avx512vnni(void **state) { check_level(state, IGQ_ISA_AVX512VNNI); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalar),
        cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avxvnni),
        cmocka_unit_test(test_avx512vnni),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
