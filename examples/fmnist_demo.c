/* Fashion-MNIST demo: classify the 10,000 test images with the bundled ViT in fp32, quantize
 * it to W4A4 with IGQ (G = 8) from 32 calibration images, save the quantized model as one .igq
 * file, load that file back (as a deployed application would) and classify again with it.
 * Usage: fmnist_demo [data_dir] [threads] [out.igq]   (out.igq default: fmnist_vit_w4a4.igq)
 * data_dir holds fmnist_vit.safetensors and the IDX files t10k-images-idx3-ubyte,
 * t10k-labels-idx1-ubyte, calib-images-idx3-ubyte (default examples/data). Several threads call igq_run on the same
 * model at once: the model is immutable and igq_run is reentrant. Uses only <igq/igq.h>. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <igq/igq.h>

#define BATCH 50

typedef struct idx_file {
    unsigned char *data; /* payload after the header */
    int64_t        count, rows, cols;
    unsigned char *raw;
} idx_file;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads an IDX file (magic 0x801 labels or 0x803 images); 0 on success. */
static int idx_read(const char *path, uint32_t magic, idx_file *out)
{
    FILE  *f = fopen(path, "rb");
    long   n;
    size_t hdr = magic == 0x803 ? 16 : 8;
    memset(out, 0, sizeof *out);
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    out->raw = (unsigned char *)malloc((size_t)(n > 0 ? n : 1));
    if (out->raw == NULL || n < (long)hdr || fread(out->raw, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    fclose(f);
    if (be32(out->raw) != magic) {
        fprintf(stderr, "%s: bad IDX magic\n", path);
        return 1;
    }
    out->count = be32(out->raw + 4);
    out->rows  = magic == 0x803 ? be32(out->raw + 8) : 1;
    out->cols  = magic == 0x803 ? be32(out->raw + 12) : 1;
    if ((long)hdr + out->count * out->rows * out->cols != n) {
        fprintf(stderr, "%s: size does not match the IDX header\n", path);
        return 1;
    }
    out->data = out->raw + hdr;
    return 0;
}

typedef struct job {
    const igq_model *model;
    const idx_file  *images, *labels;
    float            mean, std;
    int64_t          h, w, k;
    int64_t          next;     /* next image index to take (under lock) */
    int64_t          done, correct;
    pthread_mutex_t  lock;
    igq_status       status;
} job;

static void *worker(void *arg)
{
    job        *j = (job *)arg;
    int64_t     shape[4] = {BATCH, 1, j->h, j->w}, lshape[2] = {BATCH, j->k};
    igq_tensor *x = NULL, *y = NULL;
    igq_status  s = igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &x);
    if (s == IGQ_OK) s = igq_tensor_create(IGQ_DTYPE_F32, 2, lshape, &y);
    while (s == IGQ_OK) {
        int64_t first, n, i, p, hits = 0;
        float  *xd = (float *)igq_tensor_data(x), *yd = (float *)igq_tensor_data(y);
        pthread_mutex_lock(&j->lock);
        first = j->next;
        j->next += BATCH;
        pthread_mutex_unlock(&j->lock);
        if (first >= j->images->count) break;
        n = j->images->count - first < BATCH ? j->images->count - first : BATCH;
        for (i = 0; i < BATCH; i++) /* a short last batch repeats its first image */
            for (p = 0; p < j->h * j->w; p++) {
                int64_t src = first + (i < n ? i : 0);
                xd[i * j->h * j->w + p] =
                    ((float)j->images->data[src * j->h * j->w + p] / 255.0f - j->mean) / j->std;
            }
        s = igq_run(j->model, x, y);
        for (i = 0; s == IGQ_OK && i < n; i++) {
            int64_t c, best = 0;
            for (c = 1; c < j->k; c++)
                if (yd[i * j->k + c] > yd[i * j->k + best]) best = c;
            hits += best == j->labels->data[first + i];
        }
        pthread_mutex_lock(&j->lock);
        /* Progress every 1,000 images (the line is rewritten in place on a terminal). */
        if ((j->done + n) / 1000 != j->done / 1000 || j->done + n == j->images->count)
            fprintf(stderr, "\r  classifying: %5lld / %lld images", (long long)(j->done + n),
                    (long long)j->images->count);
        j->done += n;
        j->correct += hits;
        pthread_mutex_unlock(&j->lock);
    }
    if (s != IGQ_OK) {
        pthread_mutex_lock(&j->lock);
        j->status = s;
        fprintf(stderr, "\nigq_run: %s (%s)\n", igq_strerror(s), igq_last_error());
        pthread_mutex_unlock(&j->lock);
    }
    igq_tensor_free(x);
    igq_tensor_free(y);
    return NULL;
}

/* Classifies every image with `model` on nthreads threads; returns the accuracy in percent
 * (negative on error). */
static double evaluate(const igq_model *model, const idx_file *images, const idx_file *labels,
                       float mean, float std, int nthreads, const char *what)
{
    job             j;
    pthread_t       th[64];
    int             t;
    struct timespec t0, t1;
    double          secs;
    memset(&j, 0, sizeof j);
    j.model  = model;
    j.images = images;
    j.labels = labels;
    j.mean   = mean;
    j.std    = std;
    igq_model_info(model, IGQ_PROP_IMAGE_HEIGHT, &j.h);
    igq_model_info(model, IGQ_PROP_IMAGE_WIDTH, &j.w);
    igq_model_info(model, IGQ_PROP_NUM_CLASSES, &j.k);
    pthread_mutex_init(&j.lock, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (t = 0; t < nthreads; t++) pthread_create(&th[t], NULL, worker, &j);
    for (t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_mutex_destroy(&j.lock);
    fprintf(stderr, "\n");
    if (j.status != IGQ_OK) return -1.0;
    secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("%s test accuracy: %.2f%% (%lld/%lld), %.1f s, %.3f ms/image\n", what,
           100.0 * (double)j.correct / (double)images->count, (long long)j.correct,
           (long long)images->count, secs, 1e3 * secs * nthreads / (double)images->count);
    return 100.0 * (double)j.correct / (double)images->count;
}

/* Progress of igq_quantize_model: a line per stage, updated in 10 % steps. */
static int show_progress(void *user, const char *stage, double fraction)
{
    static char last_stage[32];
    static int  last_step = -1;
    int         step = (int)(fraction * 10.0);
    (void)user;
    if (strcmp(stage, last_stage) != 0) {
        fprintf(stderr, "%s  quantizing: %-16s", last_stage[0] ? "\n" : "", stage);
        snprintf(last_stage, sizeof last_stage, "%s", stage);
        last_step = -1;
    }
    if (step != last_step) {
        fprintf(stderr, " %d%%", step * 10);
        last_step = step;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "examples/data";
    int         nthreads = argc > 2 ? atoi(argv[2]) : 2;
    char        path[1024];
    idx_file    images, labels, calib;
    const char *igq_path = argc > 3 ? argv[3] : "fmnist_vit_w4a4.igq";
    igq_model  *model = NULL, *qmodel = NULL, *loaded = NULL;
    igq_config *config = NULL;
    igq_tensor *calib_t = NULL;
    igq_status  s;
    float       mean = 0.0f, std = 1.0f, *cx;
    double      acc_fp, acc_q;
    int64_t     h, w, i, shape[4];

    if (nthreads < 1 || nthreads > 64) nthreads = 2;
    snprintf(path, sizeof path, "%s/fmnist_vit.safetensors", dir);
    if ((s = igq_model_load(path, &model)) != IGQ_OK) {
        fprintf(stderr, "load: %s (%s)\n", igq_strerror(s), igq_last_error());
        return 1;
    }
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    if (idx_read(path, 0x803, &images)) return 1;
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
    if (idx_read(path, 0x801, &labels)) return 1;
    snprintf(path, sizeof path, "%s/calib-images-idx3-ubyte", dir);
    if (idx_read(path, 0x803, &calib)) return 1;
    if (labels.count != images.count) {
        fprintf(stderr, "images and labels differ in count\n");
        return 1;
    }
    igq_model_normalization(model, &mean, &std, 1); /* keeps 0/1 if the model has none */
    igq_model_info(model, IGQ_PROP_IMAGE_HEIGHT, &h);
    igq_model_info(model, IGQ_PROP_IMAGE_WIDTH, &w);
    if (h != images.rows || w != images.cols || h != calib.rows || w != calib.cols) {
        fprintf(stderr, "model expects %lldx%lld images, data has %lldx%lld\n", (long long)h,
                (long long)w, (long long)images.rows, (long long)images.cols);
        return 1;
    }
    printf("libigq %s: Fashion-MNIST test set, %lld images, %d threads\n", igq_version_string(),
           (long long)images.count, nthreads);
    acc_fp = evaluate(model, &images, &labels, mean, std, nthreads, "fp32");
    if (acc_fp < 0) return 1;

    /* W4A4 IGQ (G = 8) from 32 calibration images (the first bundled training images), run by
     * the default integer executor (int4 GEMMs, integer softmax / LayerNorm / GELU). */
    shape[0] = 32; shape[1] = 1; shape[2] = h; shape[3] = w;
    if (calib.count < 32 || igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &calib_t) != IGQ_OK) return 1;
    cx = (float *)igq_tensor_data(calib_t);
    for (i = 0; i < 32 * h * w; i++) cx[i] = ((float)calib.data[i] / 255.0f - mean) / std;
    igq_config_create(&config);
    igq_config_set(config, IGQ_OPT_WEIGHT_BITS, 4);
    igq_config_set(config, IGQ_OPT_ACT_BITS, 4);
    igq_config_set(config, IGQ_OPT_ACT_GRANULARITY, IGQ_GRANULARITY_GROUP);
    igq_config_set(config, IGQ_OPT_GROUPS, 8);
    igq_config_set_progress(config, show_progress, NULL);
    if ((s = igq_quantize_model(model, calib_t, config, &qmodel)) != IGQ_OK) {
        fprintf(stderr, "\nquantize: %s (%s)\n", igq_strerror(s), igq_last_error());
        return 1;
    }
    fprintf(stderr, "\n");

    /* Deploy: one .igq file (quantizers, groups, packed int4 weights), loaded back by mapping
     * it; the reloaded model gives the same logits, bit for bit (checked on 64 images). */
    {
        struct timespec t0, t1;
        FILE           *f;
        long            bytes = -1;
        if ((s = igq_model_save(qmodel, igq_path)) != IGQ_OK) {
            fprintf(stderr, "save: %s (%s)\n", igq_strerror(s), igq_last_error());
            return 1;
        }
        if ((f = fopen(igq_path, "rb")) != NULL) {
            fseek(f, 0, SEEK_END);
            bytes = ftell(f);
            fclose(f);
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        s = igq_model_load(igq_path, &loaded);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (s != IGQ_OK) {
            fprintf(stderr, "load %s: %s (%s)\n", igq_path, igq_strerror(s), igq_last_error());
            return 1;
        }
        printf("saved %s (%.2f MB), loaded back in %.2f ms\n", igq_path, (double)bytes / 1e6,
               1e3 * (double)(t1.tv_sec - t0.tv_sec) + 1e-6 * (double)(t1.tv_nsec - t0.tv_nsec));
    }
    {
        int64_t     ls[2] = {64, 0}, k;
        igq_tensor *x64 = NULL, *y1 = NULL, *y2 = NULL;
        igq_model_info(model, IGQ_PROP_NUM_CLASSES, &k);
        ls[1] = k;
        shape[0] = 64;
        if (igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &x64) != IGQ_OK ||
            igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &y1) != IGQ_OK ||
            igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &y2) != IGQ_OK)
            return 1;
        for (i = 0; i < 64 * h * w; i++)
            ((float *)igq_tensor_data(x64))[i] = ((float)images.data[i] / 255.0f - mean) / std;
        if (igq_run(qmodel, x64, y1) != IGQ_OK || igq_run(loaded, x64, y2) != IGQ_OK) return 1;
        if (memcmp(igq_tensor_data(y1), igq_tensor_data(y2), (size_t)(64 * k) * sizeof(float))) {
            fprintf(stderr, "the reloaded model's logits differ from the saved model's\n");
            return 1;
        }
        printf("reloaded model: logits of 64 images bit-identical to the quantized model\n");
        igq_tensor_free(x64);
        igq_tensor_free(y1);
        igq_tensor_free(y2);
    }
    igq_model_free(qmodel);
    qmodel = NULL;
    acc_q = evaluate(loaded, &images, &labels, mean, std, nthreads,
                     "W4A4 IGQ G=8 from the .igq file (integer executor)");
    if (acc_q < 0) return 1;
    printf("fp32 %.2f%% -> W4A4 IGQ %.2f%% (%+.2f points)\n", acc_fp, acc_q, acc_q - acc_fp);

    igq_model_free(loaded);
    igq_config_free(config);
    igq_tensor_free(calib_t);
    free(images.raw);
    free(labels.raw);
    free(calib.raw);
    igq_model_free(model);
    return 0;
}
