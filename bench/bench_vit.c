/* End-to-end inference time through igq_session_run:
 *   bench_vit [--data DIR] [--model fmnist|deit-s|vit-b|all] [--exec LIST] [--min-seconds S]
 * --exec: comma-separated executors, default fp32: fp32, w8g1, w8g8, w4g1, w4g8 (the integer
 * executor, WnAn with G groups, calibrated on 4 random images: timing only).
 * Models: the bundled Fashion-MNIST ViT (DIR/fmnist_vit.safetensors, default examples/data)
 * and random-weight DeiT-S (384/12/6) and ViT-B/16 (768/12/12) at 224x224 built in memory.
 * For batch 1 and 8 and 1 and 2 threads: a session with a pool of that size, reserved for the
 * batch, one warm-up run, then timed runs until at least --min-seconds (default 1) and 3 runs;
 * the median and best wall time and the median process CPU time (all threads) are reported:
 * on a machine shared with other work the best time shows what the cores can do, and CPU time
 * close to the 1-thread figure shows the split costs little. Prints a markdown table, the 2-thread speedup at batch 8, and checks
 * that 1 and 2 threads give bit-identical logits. Images are random (timing only). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "igq/igq.h"
#include "model/qexec.h"
#include "model/vit.h"
#include "random_vit.h"

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }

static char *execs_copy(const char *s)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    return buf;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void check(igq_status s, const char *what)
{
    if (s != IGQ_OK) {
        fprintf(stderr, "bench_vit: %s: %s (%s)\n", what, igq_strerror(s), igq_last_error());
        exit(1);
    }
}

#define MAX_RUNS 64

typedef struct timing {
    double median, best; /* wall seconds per run */
    double cpu;          /* median CPU seconds per run, all threads of the process */
} timing;

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* igq_session_run of the images on a pool of `threads`; the logits of the last run are left
 * in logits. */
static timing time_run(const igq_model *m, int32_t threads, igq_tensor *images,
                       igq_tensor *logits, double min_seconds)
{
    igq_threadpool *pool = NULL;
    igq_session    *ses  = NULL;
    double          wall[MAX_RUNS], cpu[MAX_RUNS], start;
    timing          r;
    int             n = 0;
    check(igq_threadpool_create(threads, &pool), "igq_threadpool_create");
    check(igq_session_create(m, &ses), "igq_session_create");
    check(igq_session_set_threadpool(ses, pool), "igq_session_set_threadpool");
    check(igq_session_reserve(ses, igq_tensor_dim(images, 0)), "igq_session_reserve");
    check(igq_session_run(ses, images, logits), "igq_session_run"); /* warm-up */
    start = now();
    while (n < MAX_RUNS && (n < 3 || now() - start < min_seconds)) {
        const double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), t0 = now();
        check(igq_session_run(ses, images, logits), "igq_session_run");
        wall[n] = now() - t0;
        cpu[n]  = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        n++;
    }
    r.median = median(wall, n);
    r.best   = wall[0];
    r.cpu    = median(cpu, n);
    igq_session_free(ses);
    igq_threadpool_free(pool);
    return r;
}

/* The model for an --exec entry: the fp32 model itself, or a quantized copy (integer executor). */
static igq_model *for_exec(igq_model *fp, const char *ex, int *bits, int *groups)
{
    igq_config *c = NULL;
    igq_tensor *calib = NULL;
    igq_model  *q = NULL;
    int64_t     shape[4] = {4, 0, 0, 0}, j;
    *bits = 32;
    *groups = 0;
    if (!strcmp(ex, "fp32")) return fp;
    if (sscanf(ex, "w%dg%d", bits, groups) != 2 || *bits < 2 || *bits > 8 || *groups < 1) {
        fprintf(stderr, "bench_vit: unknown --exec entry %s\n", ex);
        exit(2);
    }
    check(igq_model_info(fp, IGQ_PROP_IN_CHANNELS, &shape[1]), "igq_model_info");
    check(igq_model_info(fp, IGQ_PROP_IMAGE_HEIGHT, &shape[2]), "igq_model_info");
    check(igq_model_info(fp, IGQ_PROP_IMAGE_WIDTH, &shape[3]), "igq_model_info");
    check(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &calib), "igq_tensor_create");
    for (j = 0; j < igq_tensor_numel(calib); j++) ((float *)igq_tensor_data(calib))[j] = randn();
    check(igq_config_create(&c), "igq_config_create");
    check(igq_config_set(c, IGQ_OPT_WEIGHT_BITS, *bits), "igq_config_set");
    check(igq_config_set(c, IGQ_OPT_ACT_BITS, *bits), "igq_config_set");
    check(igq_config_set(c, IGQ_OPT_ACT_GRANULARITY,
                         *groups > 1 ? IGQ_GRANULARITY_GROUP : IGQ_GRANULARITY_TENSOR),
          "igq_config_set");
    check(igq_config_set(c, IGQ_OPT_GROUPS, *groups), "igq_config_set");
    check(igq_config_set(c, IGQ_OPT_EXECUTOR, IGQ_EXECUTOR_INT), "igq_config_set");
    check(igq_quantize_model(fp, calib, c, &q), "igq_quantize_model");
    igq_config_free(c);
    igq_tensor_free(calib);
    return q;
}

/* Bytes of the weights an executor reads: every f32 parameter for fp32; for the integer
 * executor its packed weights and kernel parameters plus the f32 parameters it still uses
 * (biases, embeddings, layer scales, LayerNorm affine kept for the params' arrays). */
static double weight_mb(const igq_model *m)
{
    const struct igq_model *im = (const struct igq_model *)m;
    const igq_vit_dims     *d  = &im->d;
    double                  lin = 0.0, other = 0.0;
    int32_t                 b;
    const igq_linear       *ls[4];
    for (b = 0; b < d->depth; b++) {
        int k;
        ls[0] = &im->blocks[b].qkv, ls[1] = &im->blocks[b].proj, ls[2] = &im->blocks[b].fc1,
        ls[3] = &im->blocks[b].fc2;
        for (k = 0; k < 4; k++) {
            lin += (double)ls[k]->in * ls[k]->out;
            other += ls[k]->out; /* bias */
        }
        other += 4.0 * d->dim; /* LayerNorm affine */
    }
    lin += (double)im->patch.in * im->patch.out + (double)im->head.in * im->head.out;
    other += (double)im->patch.out + im->head.out + (double)(d->n_prefix + d->n_tokens) * d->dim;
    if (im->q == NULL || im->q->x == NULL) return 4.0 * (lin + other) / 1e6;
    return ((double)igq__qexec_bytes(im->q->x) + 4.0 * other) / 1e6;
}

/* Per-stage time of one image (integer executor, one thread, median of 9 runs per stage). */
static void print_profile(const char *model, const char *label, const igq_model *m)
{
    static const char *stages[IGQ__PROF_N] = {
        "group assignment (stats, assign, permutation)", "quantize / requantize / gather",
        "linear-layer GEMMs (with fused group epilogue)", "epilogues (zero-point terms, bias, residual)",
        "attention GEMMs Q K^T, P V (incl. packing K, V)", "softmax (+ logit corrections)",
        "LayerNorm", "GELU (incl. Q16 conversion)", "patch extraction, classifier"};
    double         runs[9][IGQ__PROF_N], med[IGQ__PROF_N], total = 0.0, wall[9];
    int64_t        shape[4] = {1, 0, 0, 0}, lshape[2] = {1, 0}, j;
    igq_tensor    *img = NULL, *lg = NULL;
    int            r, k;
    check(igq_model_info(m, IGQ_PROP_IN_CHANNELS, &shape[1]), "igq_model_info");
    check(igq_model_info(m, IGQ_PROP_IMAGE_HEIGHT, &shape[2]), "igq_model_info");
    check(igq_model_info(m, IGQ_PROP_IMAGE_WIDTH, &shape[3]), "igq_model_info");
    check(igq_model_info(m, IGQ_PROP_NUM_CLASSES, &lshape[1]), "igq_model_info");
    check(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &img), "igq_tensor_create");
    check(igq_tensor_create(IGQ_DTYPE_F32, 2, lshape, &lg), "igq_tensor_create");
    for (j = 0; j < igq_tensor_numel(img); j++) ((float *)igq_tensor_data(img))[j] = randn();
    check(igq_run(m, img, lg), "igq_run"); /* warm-up */
    for (r = 0; r < 9; r++) {
        double t0;
        memset(runs[r], 0, sizeof runs[r]);
        igq__int_prof = runs[r];
        t0            = now();
        check(igq_run(m, img, lg), "igq_run");
        wall[r]       = now() - t0;
        igq__int_prof = NULL;
    }
    for (k = 0; k < IGQ__PROF_N; k++) {
        double v[9];
        for (r = 0; r < 9; r++) v[r] = runs[r][k];
        med[k] = median(v, 9);
        total += med[k];
    }
    printf("\n%s, %s: one image, one thread (stage timers on; wall %.2f ms median)\n\n"
           "| stage | ms | %% |\n|---|---|---|\n", model, label, 1e3 * median(wall, 9));
    for (k = 0; k < IGQ__PROF_N; k++)
        printf("| %s | %.2f | %.1f |\n", stages[k], med[k] / 1e6, 100.0 * med[k] / total);
    printf("| total of stages | %.2f | 100 |\n\n", total / 1e6);
    igq_tensor_free(img);
    igq_tensor_free(lg);
}

int main(int argc, char **argv)
{
    const char   *data = "examples/data", *which = "all";
    char          execs[128] = "fp32", *ex, *save = NULL;
    int           profile = 0;
    double        min_seconds = 1.0;
    const int64_t batches[2]  = {1, 8};
    const int32_t threads[2]  = {1, 2};
    double        speedup[3]  = {0, 0, 0};
    const char   *names[3]    = {"fmnist_vit (bundled, 28x28)", "DeiT-S (384/12/6, 224x224)",
                                 "ViT-B/16 (768/12/12, 224x224)"};
    int           i, k, bi, ti, mismatch = 0;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) which = argv[++i];
        else if (!strcmp(argv[i], "--min-seconds") && i + 1 < argc) min_seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--profile")) profile = 1;
        else if (!strcmp(argv[i], "--exec") && i + 1 < argc)
            snprintf(execs, sizeof execs, "%s", argv[++i]);
        else {
            fprintf(stderr, "usage: bench_vit [--data DIR] [--model fmnist|deit-s|vit-b|all] "
                            "[--exec fp32,w8g1,w8g8,w4g1,w4g8] [--min-seconds S] [--profile]\n");
            return 2;
        }
    }
    printf("igq_session_run, ISA %s; median of >= 3 runs and >= %.1f s; weights = bytes the "
           "executor reads (packed integer weights + f32 biases/embeddings), scratch = session "
           "scratch at batch 8, 2 threads\n\n",
           igq_active_isa(), min_seconds);
    printf("| model | executor | weights MB | batch | threads | ms / batch (median) | ms / image "
           "(median) | ms / image (best) | CPU ms / image |\n|---|---|---|---|---|---|---|---|---|\n");
    for (k = 0; k < 3; k++) {
        static const char *keys[3] = {"fmnist", "deit-s", "vit-b"};
        igq_model         *m       = NULL;
        double             best[2][2];
        if (strcmp(which, "all") != 0 && strcmp(which, keys[k]) != 0) continue;
        if (k == 0) {
            char path[1024];
            snprintf(path, sizeof path, "%s/fmnist_vit.safetensors", data);
            check(igq_model_load(path, &m), path);
        } else {
            m = k == 1 ? random_vit(384, 12, 6) : random_vit(768, 12, 12);
        }
        for (ex = strtok_r(execs_copy(execs), ",", &save); ex != NULL; ex = strtok_r(NULL, ",", &save)) {
        int        qbits, qgroups;
        igq_model *fp = m, *qm = for_exec(fp, ex, &qbits, &qgroups);
        char       label[64];
        if (qbits == 32) snprintf(label, sizeof label, "fp32");
        else snprintf(label, sizeof label, "int W%dA%d G=%d", qbits, qbits, qgroups);
        m = qm;
        if (profile && qm != fp) {
            print_profile(names[k], label, qm);
            igq_model_free(qm);
            m = fp;
            continue;
        }
        for (bi = 0; bi < 2; bi++) {
            const int64_t B = batches[bi];
            int64_t       ishape[4] = {B, 0, 0, 0}, lshape[2] = {B, 0};
            igq_tensor   *images = NULL, *logits = NULL;
            float        *first  = NULL;
            int64_t       j;
            check(igq_model_info(m, IGQ_PROP_IN_CHANNELS, &ishape[1]), "igq_model_info");
            check(igq_model_info(m, IGQ_PROP_IMAGE_HEIGHT, &ishape[2]), "igq_model_info");
            check(igq_model_info(m, IGQ_PROP_IMAGE_WIDTH, &ishape[3]), "igq_model_info");
            check(igq_model_info(m, IGQ_PROP_NUM_CLASSES, &lshape[1]), "igq_model_info");
            check(igq_tensor_create(IGQ_DTYPE_F32, 4, ishape, &images), "igq_tensor_create");
            check(igq_tensor_create(IGQ_DTYPE_F32, 2, lshape, &logits), "igq_tensor_create");
            for (j = 0; j < igq_tensor_numel(images); j++)
                ((float *)igq_tensor_data(images))[j] = randn();
            for (ti = 0; ti < 2; ti++) {
                const timing t = time_run(m, threads[ti], images, logits, min_seconds);
                best[bi][ti]   = 1e3 * t.best / (double)B;
                printf("| %s | %s | %.1f | %lld | %d | %.2f | %.2f | %.2f | %.2f |\n", names[k],
                       label, weight_mb(m), (long long)B,
                       (int)threads[ti], 1e3 * t.median, 1e3 * t.median / (double)B,
                       best[bi][ti], 1e3 * t.cpu / (double)B);
                fflush(stdout);
                /* 1 and 2 threads must give the same bits. */
                if (ti == 0) {
                    first = (float *)malloc((size_t)igq_tensor_numel(logits) * sizeof(float));
                    if (first == NULL) return 1;
                    memcpy(first, igq_tensor_data(logits),
                           (size_t)igq_tensor_numel(logits) * sizeof(float));
                } else if (memcmp(first, igq_tensor_data(logits),
                                  (size_t)igq_tensor_numel(logits) * sizeof(float)) != 0) {
                    mismatch = 1;
                    fprintf(stderr, "bench_vit: %s batch %lld: 2-thread logits differ\n",
                            names[k], (long long)B);
                }
            }
            free(first);
            igq_tensor_free(images);
            igq_tensor_free(logits);
        }
        speedup[k] = best[1][0] / best[1][1];
        printf("| %s | %s: 2-thread speedup at batch 8 (best) %.2fx |  |  |  |  |  |  |  |\n",
               names[k], label, speedup[k]);
        if (qm != fp) {
            printf("| %s | %s: scratch %.1f MB / thread |  |  |  |  |  |  |  |\n", names[k], label,
                   (double)igq__forward_int_scratch((const struct igq_model *)qm) / 1e6);
            igq_model_free(qm);
        }
        m = fp;
        }
        igq_model_free(m);
    }
    printf("\nlogits 1 vs 2 threads: %s\n", mismatch ? "DIFFERENT" : "bit-identical");
    return mismatch;
}
