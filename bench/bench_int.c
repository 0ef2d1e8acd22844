/* Integer executor against the simulated one on real data (Fashion-MNIST).
 *
 *   bench_int [data_dir] [--seeds N] [--test N] [--threads N] [--rows 8,6,4] [--groups G]
 *             [--model 0|1]
 *
 * For each bit setting and calibration seed, the bundled model is quantized twice with the
 * same configuration (IGQ G groups, default 8), once per executor (calibration does not
 * depend on the executor, so both runs have identical quantizers), and both run on the test
 * images. Reported, mean ± std over the seeds: top-1 accuracy of each, top-1 agreement between
 * them, and the logit differences |int - sim| (mean, 99.9th percentile, max, and max relative
 * to the largest |logit| of the image). --model 1 uses the outlier variant of bench_accuracy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmnist_eval.h"
#include "model/vit.h"

static igq_model *quantize(const igq_model *fp, float *calib, int64_t side, int bits,
                           int groups, int executor, int seed)
{
    igq_config *c = NULL;
    igq_tensor *t = NULL;
    igq_model  *q = NULL;
    int64_t     shape[4] = {CALIB, 1, side, side};
    igq_config_create(&c);
    igq_config_set(c, IGQ_OPT_WEIGHT_BITS, bits);
    igq_config_set(c, IGQ_OPT_ACT_BITS, bits);
    igq_config_set(c, IGQ_OPT_ACT_GRANULARITY,
                   groups > 1 ? IGQ_GRANULARITY_GROUP : IGQ_GRANULARITY_TENSOR);
    igq_config_set(c, IGQ_OPT_GROUPS, groups);
    igq_config_set(c, IGQ_OPT_SEED, seed);
    igq_config_set(c, IGQ_OPT_EXECUTOR, executor);
    igq_tensor_wrap(IGQ_DTYPE_F32, 4, shape, calib,
                    (size_t)(CALIB * side * side) * sizeof(float), &t);
    if (igq_quantize_model(fp, t, c, &q) != IGQ_OK) {
        fprintf(stderr, "quantize: %s\n", igq_last_error());
        exit(1);
    }
    igq_tensor_free(t);
    igq_config_free(c);
    return q;
}

static int cmp_f(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}


#define NSTAT 7

int main(int argc, char **argv)
{
    const char *dir = "examples/data";
    int         seeds = 5, threads = 2, groups = 8, i, si, ri, n_rows = 0, rows[8];
    int64_t     n_test = -1, k, side, j, c;
    char        rows_arg[64] = "8,6,4", *tok;
    data        D;
    igq_model  *fp;
    float      *ref, *sim, *itg, *calib, *diff;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seeds") && i + 1 < argc) seeds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--test") && i + 1 < argc) n_test = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--groups") && i + 1 < argc) groups = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            snprintf(rows_arg, sizeof rows_arg, "%s", argv[++i]);
        else if (argv[i][0] != '-') dir = argv[i];
        else {
            fprintf(stderr, "usage: bench_int [data_dir] [--seeds N] [--test N] [--threads N] "
                            "[--rows 8,6,4] [--groups G]\n");
            return 2;
        }
    }
    for (tok = strtok(rows_arg, ","); tok && n_rows < 8; tok = strtok(NULL, ","))
        rows[n_rows++] = atoi(tok);
    if (threads < 1 || threads > 16) threads = 2;
    if (seeds < 1 || seeds > 16) seeds = 5;
    fp   = fmnist_load(dir, &D, &k);
    side = D.H;
    if (n_test > 0 && n_test < D.n_test) D.n_test = n_test;
    ref   = (float *)malloc((size_t)(D.n_test * k) * sizeof(float));
    sim   = (float *)malloc((size_t)(D.n_test * k) * sizeof(float));
    itg   = (float *)malloc((size_t)(D.n_test * k) * sizeof(float));
    diff  = (float *)malloc((size_t)(D.n_test * k) * sizeof(float));
    calib = (float *)malloc((size_t)(CALIB * side * side) * sizeof(float));
    evaluate(fp, D.test, D.n_test, side, k, ref, threads);
    printf("# libigq %s: integer vs simulated executor, Fashion-MNIST bundled model (fp32 "
           "%.2f%%), %lld test images, %d seeds x %d calibration images, IGQ G=%d, ISA %s\n\n",
           igq_version_string(), score(ref, ref, D.labels, D.n_test, k).acc,
           (long long)D.n_test, seeds, CALIB, groups, igq_active_isa());
    printf("| W/A | top-1 sim %% | top-1 int %% | agreement int/sim %% | mean abs dlogit | "
           "p99.9 abs dlogit | max abs dlogit | max rel dlogit |\n"
           "|---|---|---|---|---|---|---|---|\n");
    for (ri = 0; ri < n_rows; ri++) {
        double st[NSTAT][16], m[NSTAT], s[NSTAT];
        for (si = 0; si < seeds; si++) {
            igq_model *qs, *qi;
            double     sum = 0.0, mx = 0.0, rel = 0.0;
            fmnist_pick_calib(&D, si, calib);
            qs = quantize(fp, calib, side, rows[ri], groups, IGQ_EXECUTOR_SIM, si);
            qi = quantize(fp, calib, side, rows[ri], groups, IGQ_EXECUTOR_INT, si);
            evaluate(qs, D.test, D.n_test, side, k, sim, threads);
            evaluate(qi, D.test, D.n_test, side, k, itg, threads);
            st[0][si] = score(ref, sim, D.labels, D.n_test, k).acc;
            st[1][si] = score(ref, itg, D.labels, D.n_test, k).acc;
            st[2][si] = score(sim, itg, NULL, D.n_test, k).agree;
            for (j = 0; j < D.n_test; j++) {
                double big = 0.0, dm = 0.0;
                for (c = 0; c < k; c++) {
                    const double a = fabs((double)sim[j * k + c]);
                    const double dd = fabs((double)itg[j * k + c] - (double)sim[j * k + c]);
                    diff[j * k + c] = (float)dd;
                    big             = a > big ? a : big;
                    dm              = dd > dm ? dd : dm;
                    sum += dd;
                }
                mx  = dm > mx ? dm : mx;
                rel = big > 0 && dm / big > rel ? dm / big : rel;
            }
            qsort(diff, (size_t)(D.n_test * k), sizeof(float), cmp_f);
            st[3][si] = sum / (double)(D.n_test * k);
            st[4][si] = diff[(int64_t)(0.999 * (double)(D.n_test * k - 1))];
            st[5][si] = mx;
            st[6][si] = rel;
            igq_model_free(qs);
            igq_model_free(qi);
        }
        for (i = 0; i < NSTAT; i++) mean_std(st[i], seeds, &m[i], &s[i]);
        printf("| W%dA%d | %.2f ± %.2f | %.2f ± %.2f | %.2f ± %.2f | %.4f | %.4f | %.4f | %.4f |\n",
               rows[ri], rows[ri], m[0], s[0], m[1], s[1], m[2], s[2], m[3], m[4], m[5], m[6]);
        fflush(stdout);
    }
    free(ref), free(sim), free(itg), free(diff), free(calib), free(D.test), free(D.pool);
    free(D.labels - 8);
    igq_model_free(fp);
    return 0;
}
