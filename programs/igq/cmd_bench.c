/* igq bench: inference speed of a model (ms/image, images/s).
 * SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char bench_usage[] = "igq bench MODEL [--batch B] [--threads T] [--seconds S]";

static const char bench_help[] =
    "usage: igq bench MODEL [options]\n\n"
    "Runs the model repeatedly on a batch of synthetic images (deterministic pseudo-random\n"
    "pixels through the model's normalization) with a session and its thread pool, after one\n"
    "warm-up run, and prints ms/image and images/s over the timed runs: median, min, max.\n\n"
    "  --batch B       images per run, 1..4096 (default 1)\n"
    "  --threads T     threads of the session's pool, 1..256 (default 1)\n"
    "  --seconds S     how long to run, 0.01..3600 (default 3; at least 3 runs)\n"
    "  -q, --quiet     no progress display\n";

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int bench_fill_batch(const char *cmd, const igq_model *m, igq_tensor *x)
{
    int64_t    c = igq_tensor_dim(x, 1), h = igq_tensor_dim(x, 2), w = igq_tensor_dim(x, 3), b, i;
    int32_t    ch = c == 1 ? 1 : 3;
    uint8_t   *px = (uint8_t *)malloc((size_t)(h * w * ch));
    uint32_t   r = 0x12345678u;
    igq_status s;
    if (px == NULL) return cli_error(cmd, "out of memory");
    for (b = 0; b < igq_tensor_dim(x, 0); b++) {
        for (i = 0; i < h * w * ch; i++) {
            r ^= r << 13;
            r ^= r >> 17;
            r ^= r << 5;
            px[i] = (uint8_t)(r >> 24);
        }
        if ((s = igq_image_preprocess(m, px, (int32_t)w, (int32_t)h, ch, w * ch, x, b)) != IGQ_OK) {
            free(px);
            return cli_lib_error(cmd, "synthetic image", s);
        }
    }
    free(px);
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    cli_args        a;
    int64_t         batch = 1, threads = 1, k = 0, n = 0, cap = 0, i;
    double          seconds = 3.0, t0, *times = NULL;
    int             rc, quiet = 0;
    igq_model      *m = NULL;
    igq_threadpool *pool = NULL;
    igq_session    *ses = NULL;
    igq_tensor     *x = NULL, *y = NULL;
    igq_status      s;
    cli_progress    prog;

    if ((rc = cli_init(&a, "bench", bench_usage, argc, argv)) != 0) return rc;
    while (cli_next(&a)) {
        rc = 0;
        if (cli_is(&a, "help")) {
            fputs(bench_help, stdout);
            cli_free(&a);
            return EXIT_OK;
        } else if (cli_is(&a, "batch"))
            rc = cli_int(&a, 1, 4096, &batch);
        else if (cli_is(&a, "threads"))
            rc = cli_int(&a, 1, 256, &threads);
        else if (cli_is(&a, "seconds"))
            rc = cli_double(&a, 0.01, 3600.0, &seconds);
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
    if (a.npos != 1) {
        rc = cli_usage_error(&a, a.npos == 0 ? "missing MODEL" : "expects one MODEL");
        cli_free(&a);
        return rc;
    }
    rc = EXIT_FAIL;
    if (cli_load_model("bench", a.pos[0], &m)) goto done;
    igq_model_info(m, IGQ_PROP_NUM_CLASSES, &k);
    {
        int64_t ls[2] = {batch, k};
        if ((s = model_batch(m, batch, &x)) != IGQ_OK ||
            (s = igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &y)) != IGQ_OK ||
            (s = igq_session_create(m, &ses)) != IGQ_OK ||
            (threads > 1 && (s = igq_threadpool_create((int32_t)threads, &pool)) != IGQ_OK) ||
            (s = igq_session_set_threadpool(ses, pool)) != IGQ_OK ||
            (s = igq_session_reserve(ses, batch)) != IGQ_OK) {
            cli_lib_error("bench", "setup", s);
            goto done;
        }
    }
    if (bench_fill_batch("bench", m, x)) goto done;
    if ((s = igq_session_run(ses, x, y)) != IGQ_OK) { /* warm-up */
        cli_lib_error("bench", "inference", s);
        goto done;
    }
    cli_progress_init(&prog, quiet);
    t0 = cli_now();
    for (;;) {
        double r0 = cli_now(), r1, el;
        if ((s = igq_session_run(ses, x, y)) != IGQ_OK) {
            cli_progress_end(&prog);
            cli_lib_error("bench", "inference", s);
            goto done;
        }
        r1 = cli_now();
        if (n == cap) {
            double *t = (double *)realloc(times, (size_t)(cap ? 2 * cap : 256) * sizeof *t);
            if (t == NULL) {
                cli_progress_end(&prog);
                cli_error("bench", "out of memory");
                goto done;
            }
            times = t;
            cap   = cap ? 2 * cap : 256;
        }
        times[n++] = r1 - r0;
        el         = r1 - t0;
        cli_progress_update(&prog, "bench", el / seconds);
        if (el >= seconds && n >= 3) break;
    }
    cli_progress_end(&prog);
    qsort(times, (size_t)n, sizeof *times, cmp_double);
    {
        double med = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
        double lo = times[0], hi = times[n - 1], b = (double)batch, total = 0.0;
        for (i = 0; i < n; i++) total += times[i];
        printf("model %s: %s, batch %lld, %lld thread%s, ISA %s\n", a.pos[0],
               igq_model_is_quantized(m) == 1 ? "quantized" : "fp32", (long long)batch,
               (long long)threads, threads == 1 ? "" : "s", igq_active_isa());
        printf("%lld runs, %lld images in %.2f s\n", (long long)n, (long long)(n * batch), total);
        printf("%-10s %12s %12s %12s\n", "", "median", "min", "max");
        printf("%-10s %12.4f %12.4f %12.4f\n", "ms/image", 1e3 * med / b, 1e3 * lo / b,
               1e3 * hi / b);
        printf("%-10s %12.1f %12.1f %12.1f\n", "images/s", b / med, b / hi, b / lo);
    }
    rc = EXIT_OK;
done:
    free(times);
    igq_tensor_free(x);
    igq_tensor_free(y);
    igq_session_free(ses);
    igq_threadpool_free(pool);
    igq_model_free(m);
    cli_free(&a);
    return rc;
}
