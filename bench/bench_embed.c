/* Embedding quality of quantized models on real data (Fashion-MNIST): the bundled model used
 * as an encoder (igq_session_run_features: the pooled embedding its classifier reads).
 *
 *   bench_embed [data_dir] [--seeds N] [--test N] [--threads N] [--model 0|1]
 *
 * For W8A8 and W4A4, each with IGQ G=8 and per-tensor min/max activation quantization (the
 * integer executor, the default), over N calibration seeds (each seed draws 32 calibration
 * images from the 1,000 bundled training images and is also IGQ_OPT_SEED, as in
 * bench_accuracy), mean ± std over the seeds of:
 *   - the cosine similarity between the fp32 and the quantized embedding of every test image:
 *     its mean, 1st percentile (nearest rank) and minimum over the images;
 *   - k-NN top-1 accuracy: the test images classified by their k = 20 nearest neighbours by
 *     cosine similarity in a gallery of the 1,000 bundled training images embedded by the
 *     same model; majority vote, a tie broken by the larger summed similarity of the tied
 *     classes, then by the smaller class index (neighbours of equal similarity: the smaller
 *     gallery index first);
 *   - k-NN agreement: test images whose k-NN class equals the fp32 model's k-NN class;
 *   - for comparison, the top-1 accuracy of the model's own classifier (igq_run).
 *
 * Two models (--model): 0 the bundled one, 1 the function-preserving "outlier" variant of
 * fmnist_outlier.h; default both. Embeddings are computed by a session with a pool of
 * --threads threads (default 2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "igq/igq.h"

#include "fmnist_eval.h"
#include "fmnist_outlier.h"

#define KNN      20
#define BATCH    100
#define MAX_SEED 16

static void check(igq_status s, const char *what)
{
    if (s != IGQ_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, igq_strerror(s), igq_last_error());
        exit(1);
    }
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Unit-length embeddings of the n images x ([n][1][side][side]) into out ([n][E]), by a session
 * of m on pool. */
static void embed(const igq_model *m, igq_threadpool *pool, float *x, int64_t n,
                  int64_t side, int64_t E, float *out)
{
    igq_session *ses = NULL;
    int64_t      done, i, j;
    check(igq_session_create(m, &ses), "igq_session_create");
    check(igq_session_set_threadpool(ses, pool), "igq_session_set_threadpool");
    check(igq_session_reserve(ses, BATCH), "igq_session_reserve");
    for (done = 0; done < n; done += BATCH) {
        int64_t     b = n - done < BATCH ? n - done : BATCH;
        int64_t     is[4] = {b, 1, side, side}, fs[2] = {b, E};
        igq_tensor *ti = NULL, *tf = NULL;
        check(igq_tensor_wrap(IGQ_DTYPE_F32, 4, is, x + done * side * side,
                              (size_t)(b * side * side) * sizeof(float), &ti), "igq_tensor_wrap");
        check(igq_tensor_wrap(IGQ_DTYPE_F32, 2, fs, out + done * E, (size_t)(b * E) * sizeof(float), &tf),
              "igq_tensor_wrap");
        check(igq_session_run_features(ses, ti, tf), "igq_session_run_features");
        igq_tensor_free(ti);
        igq_tensor_free(tf);
    }
    igq_session_free(ses);
    for (i = 0; i < n; i++) {
        float *v = out + i * E;
        double s = 0;
        for (j = 0; j < E; j++) s += (double)v[j] * v[j];
        if (s > 0)
            for (j = 0; j < E; j++) v[j] = (float)(v[j] / sqrt(s));
    }
}

static double dot(const float *a, const float *b, int64_t E)
{
    double  s = 0;
    int64_t j;
    for (j = 0; j < E; j++) s += (double)a[j] * b[j];
    return s;
}

/* k-NN class of each of the n unit-length queries q in the gallery g (n_gal x E, labels gl)
 * into pred; returns the top-1 accuracy in % against labels. The rule is the file comment's. */
static double knn(const float *g, const uint8_t *gl, int64_t n_gal, const float *q, int64_t n,
                  int64_t E, const uint8_t *labels, uint8_t *pred)
{
    int64_t i, j, right = 0;
    for (i = 0; i < n; i++) {
        double  sim[KNN], sum[256];
        int64_t idx[KNN], cnt[256];
        int     have = 0, t, c, best = 0;
        for (j = 0; j < n_gal; j++) {
            double s = dot(q + i * E, g + j * E, E);
            if (have == KNN && s <= sim[KNN - 1]) continue;
            t = have < KNN ? have++ : KNN - 1;
            while (t > 0 && sim[t - 1] < s) { /* strictly: equal similarities keep index order */
                sim[t] = sim[t - 1];
                idx[t] = idx[t - 1];
                t--;
            }
            sim[t] = s;
            idx[t] = j;
        }
        for (c = 0; c < 256; c++) {
            cnt[c] = 0;
            sum[c] = 0;
        }
        for (t = 0; t < have; t++) {
            cnt[gl[idx[t]]]++;
            sum[gl[idx[t]]] += sim[t];
        }
        for (c = 1; c < 256; c++)
            if (cnt[c] > cnt[best] || (cnt[c] == cnt[best] && cnt[c] > 0 && sum[c] > sum[best])) best = c;
        pred[i] = (uint8_t)best;
        right += best == labels[i];
    }
    return 100.0 * (double)right / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct row {
    const char *name;
    int         bits, gran, groups;
} row;

static const row ROWS[] = {
    {"IGQ G=8", 8, IGQ_GRANULARITY_GROUP, 8},
    {"per-tensor", 8, IGQ_GRANULARITY_TENSOR, 1},
    {"IGQ G=8", 4, IGQ_GRANULARITY_GROUP, 8},
    {"per-tensor", 4, IGQ_GRANULARITY_TENSOR, 1},
};
#define N_ROWS (int)(sizeof ROWS / sizeof ROWS[0])

static igq_model *quantize(const igq_model *fp, float *calib, int64_t side, const row *r,
                           uint64_t seed, double *secs)
{
    igq_config *c = NULL;
    igq_tensor *t = NULL;
    igq_model  *q = NULL;
    int64_t     shape[4] = {CALIB, 1, side, side};
    double      t0;
    check(igq_config_create(&c), "igq_config_create");
    check(igq_config_set(c, IGQ_OPT_WEIGHT_BITS, r->bits), "IGQ_OPT_WEIGHT_BITS");
    check(igq_config_set(c, IGQ_OPT_ACT_BITS, r->bits), "IGQ_OPT_ACT_BITS");
    check(igq_config_set(c, IGQ_OPT_ACT_GRANULARITY, r->gran), "IGQ_OPT_ACT_GRANULARITY");
    check(igq_config_set(c, IGQ_OPT_GROUPS, r->groups), "IGQ_OPT_GROUPS");
    check(igq_config_set(c, IGQ_OPT_CALIBRATOR, IGQ_CALIBRATOR_MINMAX), "IGQ_OPT_CALIBRATOR");
    check(igq_config_set(c, IGQ_OPT_SEED, (int64_t)seed), "IGQ_OPT_SEED");
    check(igq_tensor_wrap(IGQ_DTYPE_F32, 4, shape, calib, (size_t)(CALIB * side * side) * sizeof(float), &t),
          "igq_tensor_wrap");
    t0 = now();
    check(igq_quantize_model(fp, t, c, &q), "igq_quantize_model");
    *secs = now() - t0;
    igq_tensor_free(t);
    igq_config_free(c);
    return q;
}

int main(int argc, char **argv)
{
    const char     *dir = "examples/data";
    int             seeds = 5, threads = 2, only_model = -1, i, ri, si, variant;
    int64_t         n_test = -1, side, k, E, j;
    long            sz;
    char            path[1024];
    data            D;
    igq_model      *fp;
    igq_threadpool *pool = NULL;
    uint8_t        *gal_raw, *gal_labels;
    double          t_start = now();
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seeds") && i + 1 < argc) seeds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--test") && i + 1 < argc) n_test = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) only_model = atoi(argv[++i]);
        else dir = argv[i];
    }
    if (seeds < 1 || seeds > MAX_SEED) seeds = 5;
    if (threads < 1 || threads > 16) threads = 2;
    fp   = fmnist_load(dir, &D, &k);
    side = D.H;
    if (n_test > 0 && n_test < D.n_test) D.n_test = n_test;
    check(igq_model_info(fp, IGQ_PROP_FEATURE_DIM, &E), "igq_model_info");
    snprintf(path, sizeof path, "%s/calib-labels-idx1-ubyte", dir);
    gal_raw = read_file(path, &sz);
    if (sz != 8 + D.n_pool || be32(gal_raw) != 0x801 || (int64_t)be32(gal_raw + 4) != D.n_pool) {
        fprintf(stderr, "%s: not the %lld labels of the calibration images\n", path, (long long)D.n_pool);
        return 1;
    }
    gal_labels = gal_raw + 8;
    check(igq_threadpool_create(threads, &pool), "igq_threadpool_create");
    printf("# libigq %s embedding benchmark: Fashion-MNIST, %lld test images, gallery of %lld "
           "training images, embedding width %lld, k-NN k = %d (cosine), %d calibration seeds x "
           "%d images, integer executor, session with %d threads\n",
           igq_version_string(), (long long)D.n_test, (long long)D.n_pool, (long long)E, KNN, seeds,
           CALIB, threads);

    for (variant = 0; variant < 2; variant++) {
        float   *ref = (float *)malloc((size_t)(D.n_test * E) * sizeof(float));
        float   *got = (float *)malloc((size_t)(D.n_test * E) * sizeof(float));
        float   *gref = (float *)malloc((size_t)(D.n_pool * E) * sizeof(float));
        float   *ggot = (float *)malloc((size_t)(D.n_pool * E) * sizeof(float));
        float   *calib = (float *)malloc((size_t)(CALIB * side * side) * sizeof(float));
        double  *cosv = (double *)malloc((size_t)D.n_test * sizeof(double));
        uint8_t *pref = (uint8_t *)malloc((size_t)D.n_test);
        uint8_t *pgot = (uint8_t *)malloc((size_t)D.n_test);
        float   *logits = (float *)malloc((size_t)(D.n_test * k) * sizeof(float));
        double   fp_knn, fp_head;
        if (!ref || !got || !gref || !ggot || !calib || !cosv || !pref || !pgot || !logits) return 1;
        if (variant == 1) make_outlier_variant((struct igq_model *)fp);
        if (only_model < 0 || variant == only_model) {
            embed(fp, pool, D.test, D.n_test, side, E, ref);
            embed(fp, pool, D.pool, D.n_pool, side, E, gref);
            fp_knn = knn(gref, gal_labels, D.n_pool, ref, D.n_test, E, D.labels, pref);
            evaluate(fp, D.test, D.n_test, side, k, logits, threads);
            fp_head = score(logits, logits, D.labels, D.n_test, k).acc;
            printf("\n## %s: fp32 k-NN top-1 %.2f%%\n\n",
                   variant ? "outlier variant (function-preserving, LN channels x8..48)" : "bundled model",
                   fp_knn);
            printf("| W/A | activations | cos mean | cos 1st pct | cos min | k-NN top-1 %% | "
                   "k-NN agreement %% | classifier top-1 %% | calib s |\n"
                   "|---|---|---|---|---|---|---|---|---|\n");
            printf("| fp32 | | 1 | 1 | 1 | %.2f | 100 | %.2f | |\n", fp_knn, fp_head);
            for (ri = 0; ri < N_ROWS; ri++) {
                double cm[MAX_SEED], cp[MAX_SEED], cn[MAX_SEED], acc[MAX_SEED], agr[MAX_SEED];
                double head[MAX_SEED], secs = 0, m[6], s[6];
                for (si = 0; si < seeds; si++) {
                    igq_model *q;
                    double     t1, sum = 0;
                    int64_t    same = 0;
                    fmnist_pick_calib(&D, si, calib);
                    q = quantize(fp, calib, side, &ROWS[ri], (uint64_t)si, &t1);
                    secs += t1;
                    embed(q, pool, D.test, D.n_test, side, E, got);
                    embed(q, pool, D.pool, D.n_pool, side, E, ggot);
                    for (j = 0; j < D.n_test; j++) {
                        cosv[j] = dot(ref + j * E, got + j * E, E);
                        sum += cosv[j];
                    }
                    qsort(cosv, (size_t)D.n_test, sizeof(double), cmp_double);
                    cm[si]  = sum / (double)D.n_test;
                    cp[si]  = cosv[(D.n_test + 99) / 100 - 1]; /* nearest rank: ceil(n / 100) */
                    cn[si]  = cosv[0];
                    acc[si] = knn(ggot, gal_labels, D.n_pool, got, D.n_test, E, D.labels, pgot);
                    for (j = 0; j < D.n_test; j++) same += pgot[j] == pref[j];
                    agr[si] = 100.0 * (double)same / (double)D.n_test;
                    evaluate(q, D.test, D.n_test, side, k, logits, threads);
                    head[si] = score(logits, logits, D.labels, D.n_test, k).acc;
                    igq_model_free(q);
                    fprintf(stderr, "W%dA%d %s seed %d: cos mean %.6f p1 %.6f min %.6f k-NN %.2f%% agreement %.2f%%\n",
                            ROWS[ri].bits, ROWS[ri].bits, ROWS[ri].name, si, cm[si], cp[si], cn[si], acc[si], agr[si]);
                }
                mean_std(cm, seeds, &m[0], &s[0]);
                mean_std(cp, seeds, &m[1], &s[1]);
                mean_std(cn, seeds, &m[2], &s[2]);
                mean_std(acc, seeds, &m[3], &s[3]);
                mean_std(agr, seeds, &m[4], &s[4]);
                mean_std(head, seeds, &m[5], &s[5]);
                printf("| W%dA%d | %s | %.5f ± %.5f | %.5f ± %.5f | %.5f ± %.5f | %.2f ± %.2f | "
                       "%.2f ± %.2f | %.2f ± %.2f | %.2f |\n",
                       ROWS[ri].bits, ROWS[ri].bits, ROWS[ri].name, m[0], s[0], m[1], s[1], m[2], s[2], m[3],
                       s[3], m[4], s[4], m[5], s[5], secs / seeds);
                fflush(stdout);
            }
        }
        free(ref);
        free(got);
        free(gref);
        free(ggot);
        free(calib);
        free(cosv);
        free(pref);
        free(pgot);
        free(logits);
    }
    printf("\n# %.1f s\n", now() - t_start);
    igq_threadpool_free(pool);
    igq_model_free(fp);
    free(gal_raw);
    free(D.test);
    free(D.pool);
    free(D.labels - 8);
    return 0;
}
