/* Fashion-MNIST data and evaluation helpers shared by bench_accuracy, bench_int and
 * bench_embed (static functions: each bench is one translation unit). */
#ifndef IGQ_BENCH_FMNIST_EVAL_H
#define IGQ_BENCH_FMNIST_EVAL_H

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igq/igq.h"

#define CALIB 32

typedef struct data {
    float  *test;   /* [n][1][28][28] normalized */
    uint8_t *labels;
    int64_t n_test;
    float  *pool;   /* calibration pool [1000][...] */
    int64_t n_pool;
    int64_t H, W;
} data;

static uint8_t *read_file(const char *path, long *n)
{
    FILE    *f = fopen(path, "rb");
    uint8_t *b;
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = (uint8_t *)malloc((size_t)*n);
    if (!b || fread(b, 1, (size_t)*n, f) != (size_t)*n) exit(1);
    fclose(f);
    return b;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static float *load_images(const char *path, float mean, float std, int64_t *n, int64_t *h, int64_t *w)
{
    long     sz;
    uint8_t *b = read_file(path, &sz);
    float   *x;
    int64_t  i;
    if (be32(b) != 0x803) exit(1);
    *n = be32(b + 4);
    *h = be32(b + 8);
    *w = be32(b + 12);
    x  = (float *)malloc((size_t)(*n * *h * *w) * sizeof(float));
    for (i = 0; i < *n * *h * *w; i++) x[i] = ((float)b[16 + i] / 255.0f - mean) / std;
    free(b);
    return x;
}

/* ---- evaluation on several threads ---------------------------------------------------------- */

typedef struct ev {
    const igq_model *m;
    float           *x; /* borrowed by igq_tensor_wrap, only read */
    float           *logits;
    int64_t          n, per, k, first, count;
} ev;

static void *ev_main(void *p)
{
    ev         *e = (ev *)p;
    int64_t     done = 0;
    while (done < e->count) {
        int64_t     b = e->count - done < 100 ? e->count - done : 100;
        int64_t     is[4] = {b, 1, 28, 28}, ls[2] = {b, e->k};
        igq_tensor *ti = NULL, *tl = NULL;
        is[2] = e->per; /* per = H (square test images) */
        is[3] = e->per;
        igq_tensor_wrap(IGQ_DTYPE_F32, 4, is, e->x + (e->first + done) * e->per * e->per,
                        (size_t)(b * e->per * e->per) * sizeof(float), &ti);
        igq_tensor_wrap(IGQ_DTYPE_F32, 2, ls, e->logits + (e->first + done) * e->k,
                        (size_t)(b * e->k) * sizeof(float), &tl);
        if (igq_run(e->m, ti, tl) != IGQ_OK) {
            fprintf(stderr, "igq_run: %s\n", igq_last_error());
            exit(1);
        }
        igq_tensor_free(ti);
        igq_tensor_free(tl);
        done += b;
    }
    return NULL;
}

static void evaluate(const igq_model *m, float *x, int64_t n, int64_t side, int64_t k,
                     float *logits, int threads)
{
    pthread_t th[16];
    ev        e[16];
    int       t;
    for (t = 0; t < threads; t++) {
        e[t].m      = m;
        e[t].x      = x;
        e[t].logits = logits;
        e[t].per    = side;
        e[t].k      = k;
        e[t].first  = n * t / threads;
        e[t].count  = n * (t + 1) / threads - e[t].first;
        pthread_create(&th[t], NULL, ev_main, &e[t]);
    }
    for (t = 0; t < threads; t++) pthread_join(th[t], NULL);
}

typedef struct metrics {
    double acc, agree, kl;
} metrics;

static int argmax(const float *v, int64_t k)
{
    int64_t i, b = 0;
    for (i = 1; i < k; i++)
        if (v[i] > v[b]) b = i;
    return (int)b;
}

static metrics score(const float *ref, const float *got, const uint8_t *labels, int64_t n, int64_t k)
{
    metrics r = {0, 0, 0};
    int64_t i, c;
    for (i = 0; i < n; i++) {
        const float *a = ref + i * k, *b = got + i * k;
        double       ma = a[argmax(a, k)], mb = b[argmax(b, k)], sa = 0, sb = 0, kl = 0;
        int          pa = argmax(a, k), pb = argmax(b, k);
        if (labels) r.acc += pb == labels[i];
        r.agree += pa == pb;
        for (c = 0; c < k; c++) {
            sa += exp(a[c] - ma);
            sb += exp(b[c] - mb);
        }
        for (c = 0; c < k; c++) {
            double la = a[c] - ma - log(sa), lb = b[c] - mb - log(sb);
            kl += exp(la) * (la - lb);
        }
        r.kl += kl;
    }
    r.acc   = 100.0 * r.acc / n;
    r.agree = 100.0 * r.agree / n;
    r.kl /= n;
    return r;
}


/* The bundled model and data of dir (examples/data): test images, labels, calibration pool,
 * normalized with the model's mean/std. Exits on error. */
static igq_model *fmnist_load(const char *dir, data *D, int64_t *k)
{
    char       path[1024];
    igq_model *fp = NULL;
    float      mean = 0.0f, stdv = 1.0f;
    int64_t    side;
    long       sz;
    snprintf(path, sizeof path, "%s/fmnist_vit.safetensors", dir);
    if (igq_model_load(path, &fp) != IGQ_OK) {
        fprintf(stderr, "%s\n", igq_last_error());
        exit(1);
    }
    igq_model_normalization(fp, &mean, &stdv, 1);
    igq_model_info(fp, IGQ_PROP_NUM_CLASSES, k);
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    D->test = load_images(path, mean, stdv, &D->n_test, &D->H, &D->W);
    snprintf(path, sizeof path, "%s/calib-images-idx3-ubyte", dir);
    D->pool = load_images(path, mean, stdv, &D->n_pool, &side, &side);
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
    D->labels = read_file(path, &sz) + 8;
    return fp;
}

/* mean and sample standard deviation of v[0..n) */
static void mean_std(const double *v, int n, double *m, double *s)
{
    int    i;
    double a = 0, b = 0;
    for (i = 0; i < n; i++) a += v[i];
    a /= n;
    for (i = 0; i < n; i++) b += (v[i] - a) * (v[i] - a);
    *m = a;
    *s = n > 1 ? sqrt(b / (n - 1)) : 0.0;
}

static uint64_t fmnist_rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

/* Calibration set of seed si: CALIB images drawn (with replacement) from the pool. */
static void fmnist_pick_calib(const data *D, int si, float *calib)
{
    const int64_t px  = D->H * D->W;
    uint64_t      rng = 0x1234567ull + (uint64_t)si * 7919u;
    int           j;
    for (j = 0; j < CALIB; j++) {
        int64_t pick = (int64_t)(fmnist_rng_next(&rng) % (uint64_t)D->n_pool);
        memcpy(calib + j * px, D->pool + pick * px, (size_t)px * sizeof(float));
    }
}

#endif
