/* Accuracy of post-training quantization on real data (Fashion-MNIST).
 *
 *   bench_accuracy [data_dir] [--seeds N] [--test N] [--threads N] [--rows 8,6,4,3]
 *                  [--model 0|1] [--method i] [--extras 0|1]
 *
 * For each bit setting (rows) and method (columns), over N calibration seeds (each seed draws
 * 32 calibration images from the 1,000 bundled training images and is also IGQ_OPT_SEED):
 * top-1 accuracy, top-1 agreement with the fp32 model, and mean KL(fp32 || quantized) of the
 * predicted distributions on the test images, as mean ± std over the seeds.
 *
 * Two models: the bundled one, and the function-preserving "outlier" variant of
 * fmnist_outlier.h (LayerNorm channels scaled 8..48x, the next layer's input rows divided:
 * fp32 logits unchanged, activations with the per-channel outliers of ImageNet ViTs). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "igq/igq.h"

#include "fmnist_eval.h"
#include "fmnist_outlier.h"

/* ---- methods ------------------------------------------------------------------------------ */

typedef struct method {
    const char *name;
    int         gran, groups, budget, calib, ranking, mp; /* calib -1: best of PCT/MSE/KL */
    int         nearest; /* the paper's nearest-(min, max) assignment instead of COVER */
    int         gptq;    /* IGQ_ROUNDING_GPTQ weight rounding */
} method;

static const method METHODS[] = {
    {"tensor min/max", IGQ_GRANULARITY_TENSOR, 1, 0, IGQ_CALIBRATOR_MINMAX, 0, 0, 0, 0},
    {"tensor best", IGQ_GRANULARITY_TENSOR, 1, 0, -1, 0, 0, 0, 0},
    {"IGQ G=4", IGQ_GRANULARITY_GROUP, 4, 0, IGQ_CALIBRATOR_MINMAX, 0, 0, 0, 0},
    {"IGQ G=8", IGQ_GRANULARITY_GROUP, 8, 0, IGQ_CALIBRATOR_MINMAX, 0, 0, 0, 0},
    {"IGQ G=12", IGQ_GRANULARITY_GROUP, 12, 0, IGQ_CALIBRATOR_MINMAX, 0, 0, 0, 0},
    {"IGQ alloc 8", IGQ_GRANULARITY_GROUP, 8, 8, IGQ_CALIBRATOR_MINMAX, 0, 0, 0, 0},
    {"IGQ alloc 12", IGQ_GRANULARITY_GROUP, 12, 12, IGQ_CALIBRATOR_MINMAX, 0, 0, 0, 0},
    {"per-channel (upper bound)", IGQ_GRANULARITY_CHANNEL, 1, 0, IGQ_CALIBRATOR_MINMAX, 0, 0, 0, 0},
    {"IGQ G=8 + VT-PTQ ranking", IGQ_GRANULARITY_GROUP, 8, 0, IGQ_CALIBRATOR_MINMAX, 1, 0, 0, 0},
    {"IGQ G=8 + VT-PTQ mixed prec.", IGQ_GRANULARITY_GROUP, 8, 0, IGQ_CALIBRATOR_MINMAX, 0, 1, 0, 0},
    {"IGQ G=8, nearest rule (clips)", IGQ_GRANULARITY_GROUP, 8, 0, IGQ_CALIBRATOR_MINMAX, 0, 0, 1, 0},
    {"IGQ G=8 + GPTQ", IGQ_GRANULARITY_GROUP, 8, 0, IGQ_CALIBRATOR_MINMAX, 0, 0, 0, 1},
    {"tensor min/max + GPTQ", IGQ_GRANULARITY_TENSOR, 1, 0, IGQ_CALIBRATOR_MINMAX, 0, 0, 0, 1},
};
#define N_METHODS (int)(sizeof METHODS / sizeof METHODS[0])

static igq_model *quantize(const igq_model *fp, float *calib, int64_t side, int bits,
                           const method *me, int calibrator, uint64_t seed, double *secs)
{
    igq_config     *c = NULL;
    igq_tensor     *t = NULL;
    igq_model      *q = NULL;
    int64_t         shape[4] = {CALIB, 1, side, side};
    struct timespec t0, t1;
    igq_config_create(&c);
    igq_config_set(c, IGQ_OPT_WEIGHT_BITS, bits);
    igq_config_set(c, IGQ_OPT_ACT_BITS, bits);
    igq_config_set(c, IGQ_OPT_ACT_GRANULARITY, me->gran);
    igq_config_set(c, IGQ_OPT_GROUPS, me->groups);
    igq_config_set(c, IGQ_OPT_GROUP_BUDGET, me->budget);
    igq_config_set(c, IGQ_OPT_CALIBRATOR, calibrator);
    igq_config_set(c, IGQ_OPT_SEED, (int64_t)seed);
    igq_config_set(c, IGQ_OPT_ATTN_RANKING, me->ranking);
    igq_config_set(c, IGQ_OPT_GROUP_ASSIGNMENT, me->nearest ? IGQ_ASSIGN_NEAREST : IGQ_ASSIGN_COVER);
    igq_config_set(c, IGQ_OPT_WEIGHT_ROUNDING, me->gptq ? IGQ_ROUNDING_GPTQ : IGQ_ROUNDING_NEAREST);
    /* the quantization methods are compared on the simulated executor (bench_int measures the
     * integer one against it) */
    igq_config_set(c, IGQ_OPT_EXECUTOR, IGQ_EXECUTOR_SIM);
    if (me->mp) igq_config_set(c, IGQ_OPT_MIXED_PRECISION_BUDGET, bits * 100);
    igq_tensor_wrap(IGQ_DTYPE_F32, 4, shape, calib, (size_t)(CALIB * side * side) * sizeof(float), &t);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (igq_quantize_model(fp, t, c, &q) != IGQ_OK) {
        fprintf(stderr, "quantize: %s\n", igq_last_error());
        exit(1);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    igq_tensor_free(t);
    igq_config_free(c);
    return q;
}


int main(int argc, char **argv)
{
    const char *dir = "examples/data";
    int         seeds = 5, threads = 2, i, mi, ri, si, variant, only_method = -1;
    int         only_model = -1, extras = 1;
    int64_t     n_test = -1, side, k;
    char        rows_arg[256] = "8,6,4,3";
    int         rows[8], n_rows = 0;
    data        D;
    igq_model  *fp = NULL;
    char       *tok;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seeds") && i + 1 < argc) seeds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--test") && i + 1 < argc) n_test = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc) snprintf(rows_arg, sizeof rows_arg, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--method") && i + 1 < argc) only_method = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) only_model = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--extras") && i + 1 < argc) extras = atoi(argv[++i]);
        else dir = argv[i];
    }
    for (tok = strtok(rows_arg, ","); tok && n_rows < 8; tok = strtok(NULL, ",")) rows[n_rows++] = atoi(tok);
    if (threads < 1 || threads > 16) threads = 2;
    fp   = fmnist_load(dir, &D, &k);
    side = D.H;
    if (n_test > 0 && n_test < D.n_test) D.n_test = n_test;
    printf("# libigq %s accuracy benchmark: Fashion-MNIST, %lld test images, %d calibration "
           "seeds x %d images, %d threads\n", igq_version_string(), (long long)D.n_test, seeds,
           CALIB, threads);

    for (variant = 0; variant < 2; variant++) {
        float  *ref = (float *)malloc((size_t)(D.n_test * k) * sizeof(float));
        float  *got = (float *)malloc((size_t)(D.n_test * k) * sizeof(float));
        float  *calib = (float *)malloc((size_t)(CALIB * side * side) * sizeof(float));
        metrics fpm;
        if (variant == 1) make_outlier_variant((struct igq_model *)fp);
        if (only_model >= 0 && variant != only_model) {
            free(ref);
            free(got);
            free(calib);
            continue;
        }
        evaluate(fp, D.test, D.n_test, side, k, ref, threads);
        fpm = score(ref, ref, D.labels, D.n_test, k);
        printf("\n## %s: fp32 accuracy %.2f%%\n\n", variant ? "outlier variant (function-preserving, LN channels x8..48)" : "bundled model", fpm.acc);
        printf("| W/A | method | top-1 %% | agreement %% | KL(fp32‖q) | calib s |\n|---|---|---|---|---|---|\n");
        for (ri = 0; ri < n_rows; ri++)
            for (mi = 0; mi < N_METHODS; mi++) {
                double acc[16], agr[16], kl[16], secs = 0, m1, s1, m2, s2, m3, s3;
                int    chosen_cal = -1;
                if (only_method >= 0 && mi != only_method) continue;
                if (!extras && mi >= 8) continue; /* VT-PTQ, nearest-rule and GPTQ columns */
                if (METHODS[mi].mp && rows[ri] < 4) continue;
                for (si = 0; si < seeds && si < 16; si++) {
                    igq_model *q;
                    double     t1;
                    int        j, cal = METHODS[mi].calib;
                    metrics    mt;
                    fmnist_pick_calib(&D, si, calib);
                    if (cal < 0) {
                        /* Best calibrator chosen on the calibration images only. */
                        static const int cands[3] = {IGQ_CALIBRATOR_PERCENTILE, IGQ_CALIBRATOR_MSE, IGQ_CALIBRATOR_KL};
                        double best = INFINITY;
                        float *cr = (float *)malloc((size_t)(CALIB * k) * sizeof(float));
                        float *cq = (float *)malloc((size_t)(CALIB * k) * sizeof(float));
                        evaluate(fp, calib, CALIB, side, k, cr, 1);
                        for (j = 0; j < 3; j++) {
                            metrics cm;
                            q = quantize(fp, calib, side, rows[ri], &METHODS[mi], cands[j], (uint64_t)si, &t1);
                            secs += t1;
                            evaluate(q, calib, CALIB, side, k, cq, 1);
                            cm = score(cr, cq, NULL, CALIB, k);
                            if (cm.kl < best) {
                                best = cm.kl;
                                cal  = cands[j];
                            }
                            igq_model_free(q);
                        }
                        free(cr);
                        free(cq);
                        chosen_cal = cal;
                    }
                    q = quantize(fp, calib, side, rows[ri], &METHODS[mi], cal, (uint64_t)si, &t1);
                    secs += t1;
                    evaluate(q, D.test, D.n_test, side, k, got, threads);
                    mt      = score(ref, got, D.labels, D.n_test, k);
                    acc[si] = mt.acc;
                    agr[si] = mt.agree;
                    kl[si]  = mt.kl;
                    igq_model_free(q);
                }
                mean_std(acc, seeds, &m1, &s1);
                mean_std(agr, seeds, &m2, &s2);
                mean_std(kl, seeds, &m3, &s3);
                printf("| W%dA%d | %s%s%s | %.2f ± %.2f | %.2f ± %.2f | %.2e ± %.1e | %.2f |\n",
                       rows[ri], rows[ri], METHODS[mi].name,
                       chosen_cal >= 0 ? " (last seed: " : "",
                       chosen_cal < 0 ? "" : chosen_cal == IGQ_CALIBRATOR_PERCENTILE ? "percentile)" : chosen_cal == IGQ_CALIBRATOR_MSE ? "MSE)" : "KL)",
                       m1, s1, m2, s2, m3, s3, secs / seeds);
                fflush(stdout);
                {
                    /* Per-seed KL for the paired claims (IGQ vs per-tensor on every seed). */
                    fprintf(stderr, "kl-per-seed W%d method %d:", rows[ri], mi);
                    for (si = 0; si < seeds; si++) fprintf(stderr, " %.6f", kl[si]);
                    fprintf(stderr, "\n");
                }
            }
        free(ref);
        free(got);
        free(calib);
    }
    igq_model_free(fp);
    free(D.test);
    free(D.pool);
    return 0;
}
