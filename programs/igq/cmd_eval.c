/* igq eval (accuracy over an image source) and igq run (top-K classes of image files).
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char eval_usage[] =
    "igq eval MODEL --images SRC [--labels FILE] [--limit N] [--batch B] [--threads T]";

static const char eval_help[] =
    "usage: igq eval MODEL --images SRC [options]\n\n"
    "Classifies images and prints the top-1 and top-5 accuracy; the last line is\n"
    "  accuracy: top-1 XX.XX % top-5 YY.YY % (N images)\n\n"
    "  --images SRC      an IDX file of 8-bit images ([N][H][W]) or a folder of images: one\n"
    "                    subfolder per class (sorted names = class index), or flat with --labels\n"
    "  --labels FILE     the class of every image, in SRC order (folders: sorted file names):\n"
    "                    an IDX labels file (t10k-labels-idx1-ubyte style) or a text file with\n"
    "                    one class index per line. Required for an IDX file or a flat folder\n"
    "  --limit N         only the first N images\n"
    "  --batch B         images per run, 1..4096 (default 50)\n"
    "  --threads T       threads of the session's pool, and of image decoding and\n"
    "                    preprocessing, 1..256 (default 1)\n"
    "  -q, --quiet       no progress display\n\n"
    "Every image goes through the model's evaluation transform (igq_image_preprocess).\n"
    "top-5 counts a hit when the label is among the 5 (or all classes, if fewer) highest logits.\n";

static const char run_usage[] = "igq run MODEL IMAGE... [--top K]";

static const char run_help[] =
    "usage: igq run MODEL IMAGE... [--top K]\n\n"
    "Classifies image files (PNG, PPM/PGM, BMP) with the model's evaluation transform and\n"
    "prints, per image, the K most probable classes (softmax of the logits) with their labels.\n\n"
    "  --top K       classes per image, 1..classes (default 5, or fewer classes)\n"
    "  --threads T   threads of the session's pool, 1..256 (default 1)\n";

/* Rank of logits[label] among the row: how many classes have a strictly larger logit, ties
 * broken by the lower index (as a stable argsort would). */
static int64_t rank_of(const float *row, int64_t k, int64_t label)
{
    int64_t c, r = 0;
    for (c = 0; c < k; c++)
        if (row[c] > row[label] || (row[c] == row[label] && c < label)) r++;
    return r;
}

/* Decoding and preprocessing of a batch, split over the --threads threads (each writes its own
 * images of the batch; igq_image_preprocess allows that). */
typedef struct prep_job {
    const dataset   *ds;
    const igq_model *model;
    igq_tensor      *batch;
    int64_t          first, begin, end; /* images first + begin .. first + end - 1 */
    int              rc;
} prep_job;

static void *prep_worker(void *arg)
{
    prep_job *j = (prep_job *)arg;
    int64_t   i;
    for (i = j->begin; i < j->end && j->rc == 0; i++)
        j->rc = dataset_preprocess("eval", j->ds, j->first + i, j->model, j->batch, i);
    return NULL;
}

static int prep_batch(const dataset *ds, const igq_model *model, igq_tensor *batch, int64_t first,
                      int64_t b, int64_t threads)
{
    prep_job  jobs[256];
    pthread_t th[256];
    int       started[256];
    int64_t   t, nt = threads < b ? threads : b;
    int       rc = 0;
    for (t = 0; t < nt; t++) {
        jobs[t].ds    = ds;
        jobs[t].model = model;
        jobs[t].batch = batch;
        jobs[t].first = first;
        jobs[t].begin = b * t / nt;
        jobs[t].end   = b * (t + 1) / nt;
        jobs[t].rc    = 0;
        started[t]    = t > 0 && pthread_create(&th[t], NULL, prep_worker, &jobs[t]) == 0;
    }
    prep_worker(&jobs[0]);
    for (t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            prep_worker(&jobs[t]); /* no thread: do its share here */
        if (jobs[t].rc) rc = jobs[t].rc;
    }
    return jobs[0].rc ? jobs[0].rc : rc;
}

int cmd_eval(int argc, char **argv)
{
    cli_args        a;
    const char     *src = NULL, *labels = NULL;
    int64_t         limit = -1, batch = 50, threads = 1, k = 0, n, i, done = 0, top1 = 0, top5 = 0;
    int             rc, quiet = 0;
    igq_model      *m = NULL;
    igq_threadpool *pool = NULL;
    igq_session    *ses = NULL;
    igq_tensor     *x = NULL, *y = NULL, *xs = NULL, *ys = NULL;
    dataset         ds;
    cli_progress    prog;
    igq_status      s;
    double          t0;

    memset(&ds, 0, sizeof ds);
    if ((rc = cli_init(&a, "eval", eval_usage, argc, argv)) != 0) return rc;
    while (cli_next(&a)) {
        rc = 0;
        if (cli_is(&a, "help")) {
            fputs(eval_help, stdout);
            cli_free(&a);
            return EXIT_OK;
        } else if (cli_is(&a, "images")) {
            if ((src = cli_value(&a)) == NULL) rc = EXIT_USAGE;
        } else if (cli_is(&a, "labels")) {
            if ((labels = cli_value(&a)) == NULL) rc = EXIT_USAGE;
        } else if (cli_is(&a, "limit"))
            rc = cli_int(&a, 1, INT64_MAX, &limit);
        else if (cli_is(&a, "batch"))
            rc = cli_int(&a, 1, 4096, &batch);
        else if (cli_is(&a, "threads"))
            rc = cli_int(&a, 1, 256, &threads);
        else if (cli_is(&a, "q") || cli_is(&a, "quiet")) {
            rc    = cli_flag(&a);
            quiet = 1;
        } else
            rc = cli_unknown(&a);
        if (rc != 0) {
            cli_free(&a);
            return rc;
        }
    }
    rc = 0;
    if (a.npos != 1)
        rc = cli_usage_error(&a, a.npos == 0 ? "missing MODEL" : "expects one MODEL");
    else if (src == NULL)
        rc = cli_usage_error(&a, "missing --images SRC");
    if (rc != 0) {
        cli_free(&a);
        return rc;
    }

    rc = EXIT_FAIL;
    if (cli_load_model("eval", a.pos[0], &m)) goto done;
    if (dataset_open("eval", src, &ds)) goto done;
    if (labels != NULL && dataset_load_labels("eval", &ds, labels, limit)) goto done;
    if (!ds.has_labels) {
        cli_error("eval", "accuracy needs the images' classes: give --labels FILE, or a folder "
                          "with one subfolder per class");
        goto done;
    }
    igq_model_info(m, IGQ_PROP_NUM_CLASSES, &k);
    n = limit > 0 && limit < ds.count ? limit : ds.count;
    for (i = 0; i < n; i++)
        if (ds.labels[i] < 0 || ds.labels[i] >= k) {
            cli_error("eval", "image %lld has class %lld, the model has %lld classes",
                      (long long)i, (long long)ds.labels[i], (long long)k);
            goto done;
        }
    if (batch > n) batch = n;
    {
        int64_t ls[2] = {batch, k};
        if ((s = model_batch(m, batch, &x)) != IGQ_OK ||
            (s = igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &y)) != IGQ_OK ||
            (s = igq_session_create(m, &ses)) != IGQ_OK ||
            (threads > 1 && (s = igq_threadpool_create((int32_t)threads, &pool)) != IGQ_OK) ||
            (s = igq_session_set_threadpool(ses, pool)) != IGQ_OK ||
            (s = igq_session_reserve(ses, batch)) != IGQ_OK) {
            cli_lib_error("eval", "setup", s);
            goto done;
        }
    }
    cli_progress_init(&prog, quiet);
    t0 = cli_now();
    while (done < n) {
        int64_t     b = n - done < batch ? n - done : batch, j;
        igq_tensor *bx = x, *by = y;
        const float *yd;
        if (b < batch) { /* a short last batch: views of the first b images */
            int64_t xshape[4], yshape[2] = {b, k};
            for (j = 0; j < 4; j++) xshape[j] = igq_tensor_dim(x, (int32_t)j);
            xshape[0] = b;
            if ((s = igq_tensor_wrap(IGQ_DTYPE_F32, 4, xshape, igq_tensor_data(x),
                                     (size_t)igq_tensor_numel(x) * sizeof(float), &xs)) != IGQ_OK ||
                (s = igq_tensor_wrap(IGQ_DTYPE_F32, 2, yshape, igq_tensor_data(y),
                                     (size_t)igq_tensor_numel(y) * sizeof(float), &ys)) != IGQ_OK) {
                cli_progress_end(&prog);
                cli_lib_error("eval", "batch", s);
                goto done;
            }
            bx = xs;
            by = ys;
        }
        if (prep_batch(&ds, m, bx, done, b, threads)) {
            cli_progress_end(&prog);
            goto done;
        }
        if ((s = igq_session_run(ses, bx, by)) != IGQ_OK) {
            cli_progress_end(&prog);
            cli_lib_error("eval", "inference", s);
            goto done;
        }
        yd = (const float *)igq_tensor_data(by);
        for (j = 0; j < b; j++) {
            int64_t r = rank_of(yd + j * k, k, ds.labels[done + j]);
            top1 += r < 1;
            top5 += r < 5;
        }
        done += b;
        cli_progress_update(&prog, "eval", (double)done / (double)n);
    }
    cli_progress_end(&prog);
    {
        double secs = cli_now() - t0;
        printf("model %s, images %s, %lld images, batch %lld, %lld thread%s, %.2f s "
               "(%.3f ms/image incl. decoding)\n",
               a.pos[0], src, (long long)n, (long long)batch, (long long)threads,
               threads == 1 ? "" : "s", secs, 1e3 * secs / (double)n);
    }
    printf("correct: top-1 %lld, top-5 %lld of %lld\n", (long long)top1, (long long)top5,
           (long long)n);
    printf("accuracy: top-1 %.2f %% top-5 %.2f %% (%lld images)\n",
           100.0 * (double)top1 / (double)n, 100.0 * (double)top5 / (double)n, (long long)n);
    rc = EXIT_OK;
done:
    igq_tensor_free(xs);
    igq_tensor_free(ys);
    igq_tensor_free(x);
    igq_tensor_free(y);
    igq_session_free(ses);
    igq_threadpool_free(pool);
    dataset_free(&ds);
    igq_model_free(m);
    cli_free(&a);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    cli_args        a;
    int64_t         top = 5, threads = 1, k = 0, i, j;
    int             rc, top_given = 0;
    igq_model      *m = NULL;
    igq_threadpool *pool = NULL;
    igq_session    *ses = NULL;
    igq_tensor     *x = NULL, *y = NULL;
    igq_status      s;
    double         *prob = NULL;
    int64_t        *order = NULL;

    if ((rc = cli_init(&a, "run", run_usage, argc, argv)) != 0) return rc;
    while (cli_next(&a)) {
        rc = 0;
        if (cli_is(&a, "help")) {
            fputs(run_help, stdout);
            cli_free(&a);
            return EXIT_OK;
        } else if (cli_is(&a, "top") || cli_is(&a, "k")) {
            rc        = cli_int(&a, 1, 1 << 24, &top);
            top_given = 1;
        } else if (cli_is(&a, "threads"))
            rc = cli_int(&a, 1, 256, &threads);
        else
            rc = cli_unknown(&a);
        if (rc != 0) {
            cli_free(&a);
            return rc;
        }
    }
    if (a.npos < 2) {
        rc = cli_usage_error(&a, a.npos == 0 ? "missing MODEL and IMAGE" : "missing IMAGE");
        cli_free(&a);
        return rc;
    }
    rc = EXIT_FAIL;
    if (cli_load_model("run", a.pos[0], &m)) goto done;
    igq_model_info(m, IGQ_PROP_NUM_CLASSES, &k);
    if (top > k) {
        if (top_given) {
            rc = cli_usage_error(&a, "--top %lld: the model has %lld classes", (long long)top,
                                 (long long)k);
            goto done;
        }
        top = k;
    }
    {
        int64_t ls[2] = {1, k};
        if ((s = model_batch(m, 1, &x)) != IGQ_OK ||
            (s = igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &y)) != IGQ_OK ||
            (s = igq_session_create(m, &ses)) != IGQ_OK ||
            (threads > 1 && (s = igq_threadpool_create((int32_t)threads, &pool)) != IGQ_OK) ||
            (s = igq_session_set_threadpool(ses, pool)) != IGQ_OK) {
            cli_lib_error("run", "setup", s);
            goto done;
        }
    }
    prob  = (double *)malloc((size_t)k * sizeof *prob);
    order = (int64_t *)malloc((size_t)k * sizeof *order);
    if (prob == NULL || order == NULL) {
        cli_error("run", "out of memory");
        goto done;
    }
    for (i = 1; i < a.npos; i++) {
        const float *yd = (const float *)igq_tensor_data(y);
        double       mx, sum = 0.0;
        if (image_file_preprocess("run", a.pos[i], m, x, 0)) goto done;
        if ((s = igq_session_run(ses, x, y)) != IGQ_OK) {
            cli_lib_error("run", "inference", s);
            goto done;
        }
        mx = yd[0];
        for (j = 1; j < k; j++)
            if (yd[j] > mx) mx = yd[j];
        for (j = 0; j < k; j++) sum += (prob[j] = exp((double)yd[j] - mx));
        for (j = 0; j < k; j++) prob[j] /= sum;
        /* top K by selection: ties keep the lower class index first */
        for (j = 0; j < k; j++) order[j] = j;
        for (j = 0; j < top; j++) {
            int64_t best = j, t, c;
            for (c = j + 1; c < k; c++)
                if (yd[order[c]] > yd[order[best]] ||
                    (yd[order[c]] == yd[order[best]] && order[c] < order[best]))
                    best = c;
            t           = order[j];
            order[j]    = order[best];
            order[best] = t;
        }
        printf("%s\n", a.pos[i]);
        for (j = 0; j < top; j++) {
            const char *name = NULL;
            char        num[32];
            if (igq_model_label(m, order[j], &name) != IGQ_OK) {
                snprintf(num, sizeof num, "class %lld", (long long)order[j]);
                name = num;
            }
            printf("  %2lld. %-24s %6.2f %%  (class %lld, logit %.4f)\n", (long long)(j + 1),
                   name, 100.0 * prob[order[j]], (long long)order[j], (double)yd[order[j]]);
        }
    }
    rc = EXIT_OK;
done:
    free(prob);
    free(order);
    igq_tensor_free(x);
    igq_tensor_free(y);
    igq_session_free(ses);
    igq_threadpool_free(pool);
    igq_model_free(m);
    cli_free(&a);
    return rc;
}
