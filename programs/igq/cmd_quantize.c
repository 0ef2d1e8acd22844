/* igq quantize: post-training quantization of a checkpoint into a .igq file.
 * SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char quantize_usage[] =
    "igq quantize MODEL -o OUT.igq --calib SRC [--num-calib N] [--wbits B] [--abits B] "
    "[--groups G | --budget G] [--calibrator minmax|percentile|mse|kl] [--exec int|sim] "
    "[--seed S] [--threads T]";

static const char quantize_help[] =
    "usage: igq quantize MODEL -o OUT.igq --calib SRC [options]\n\n"
    "Quantizes an fp32 model (post-training, IGQ-ViT group quantization by default) from\n"
    "calibration images and saves it as one .igq file (load it with igq_model_load).\n\n"
    "  -o, --output FILE      the .igq file to write (required)\n"
    "  --calib SRC            calibration images: an IDX file (8-bit [N][H][W]) or a folder of\n"
    "                         images (flat or one subfolder per class); each goes through the\n"
    "                         model's evaluation transform (igq_image_preprocess)\n"
    "  --num-calib N          how many calibration images (default 32; at most SRC's count)\n"
    "  --calib-pick first|spread|random\n"
    "                         which N images: the first N in SRC order (default; directories\n"
    "                         are sorted), N evenly spaced over SRC, or N drawn at random\n"
    "                         without replacement with --seed\n"
    "  --wbits B              weight bits of the linear layers, 2..8 (default 8)\n"
    "  --abits B              activation bits, 2..8 (default 8)\n"
    "  --attn-bits B          softmax output bits, 2..8 (default: --abits)\n"
    "  --edge-bits B          patch embedding and head bits, 2..8 (default 8)\n"
    "  --granularity tensor|group|channel\n"
    "                         activation quantizers (default group: IGQ)\n"
    "  --groups G             group quantizers per IGQ site, 1..64 (default 8)\n"
    "  --budget G             allocate the groups per site under a BOP budget equal to G\n"
    "                         groups everywhere, 1..64 (exclusive with --groups)\n"
    "  --calibrator minmax|percentile|mse|kl\n"
    "                         range calibrator of per-tensor activation sites (default minmax)\n"
    "  --weight-calibrator minmax|percentile|mse|kl   (default minmax)\n"
    "  --exec int|sim         executor: integer kernels (default) or simulated (fp32 with\n"
    "                         quantize-dequantize)\n"
    "  --seed S               seed of the calibrators' value sampling and of --calib-pick\n"
    "                         random (default 0)\n"
    "  --threads T            accepted for symmetry with eval/bench; igq_quantize_model runs\n"
    "                         on the calling thread (1..256, no effect)\n"
    "  -q, --quiet            no progress display\n\n"
    "The bundled demo's recipe (examples/fmnist_demo.c, W4A4 IGQ G = 8 from the first 32\n"
    "calibration images) is:\n"
    "  igq quantize examples/data/fmnist_vit.safetensors -o w4a4.igq \\\n"
    "      --calib examples/data/calib-images-idx3-ubyte --num-calib 32 --wbits 4 --abits 4 --groups 8\n";

static int parse_calibrator(cli_args *a, int64_t *out)
{
    static const char *const names[] = {"minmax", "percentile", "mse", "kl"};
    const char              *v = cli_value(a);
    int64_t                  i;
    if (v == NULL) return EXIT_USAGE;
    for (i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return 0;
        }
    return cli_usage_error(a, "option '--%s': '%s' is not minmax, percentile, mse or kl", a->opt, v);
}

static int progress_cb(void *user, const char *stage, double fraction)
{
    cli_progress_update((cli_progress *)user, stage, fraction);
    return 0;
}

/* Indices of the calibration images. */
static void pick_images(int pick, int64_t count, int64_t n, uint64_t seed, int64_t *idx)
{
    int64_t i;
    if (pick == 0)
        for (i = 0; i < n; i++) idx[i] = i;
    else if (pick == 1)
        for (i = 0; i < n; i++) idx[i] = i * count / n;
    else { /* partial Fisher-Yates over 0..count-1 with a xorshift64* generator */
        int64_t *perm = (int64_t *)malloc((size_t)count * sizeof *perm);
        uint64_t x    = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
        if (perm == NULL) {
            for (i = 0; i < n; i++) idx[i] = i;
            return;
        }
        for (i = 0; i < count; i++) perm[i] = i;
        for (i = 0; i < n; i++) {
            int64_t j, t;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            j       = i + (int64_t)((x * 0x2545F4914F6CDD1Dull >> 11) % (uint64_t)(count - i));
            t       = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
            idx[i]  = perm[i];
        }
        free(perm);
    }
}

int cmd_quantize(int argc, char **argv)
{
    cli_args      a;
    const char   *out = NULL, *calib = NULL, *v;
    int64_t       ncalib = 32, wbits = 8, abits = 8, attn_bits = 0, edge_bits = 8, groups = -1,
            budget = -1, cal = 0, wcal = 0, ex = IGQ_EXECUTOR_INT, seed = 0, threads = 1,
            gran = IGQ_GRANULARITY_GROUP, i;
    int           rc, quiet = 0, pick = 0;
    igq_model    *m = NULL, *q = NULL;
    igq_config   *cfg = NULL;
    igq_tensor   *x = NULL;
    int64_t      *idx = NULL;
    dataset       ds;
    cli_progress  prog;
    igq_status    s;
    double        t0, t1;
    struct stat   st;

    memset(&ds, 0, sizeof ds);
    if ((rc = cli_init(&a, "quantize", quantize_usage, argc, argv)) != 0) return rc;
    while (cli_next(&a)) {
        rc = 0;
        if (cli_is(&a, "help")) {
            fputs(quantize_help, stdout);
            cli_free(&a);
            return EXIT_OK;
        } else if (cli_is(&a, "o") || cli_is(&a, "output")) {
            if ((out = cli_value(&a)) == NULL) rc = EXIT_USAGE;
        } else if (cli_is(&a, "calib")) {
            if ((calib = cli_value(&a)) == NULL) rc = EXIT_USAGE;
        } else if (cli_is(&a, "num-calib"))
            rc = cli_int(&a, 1, 1000000, &ncalib);
        else if (cli_is(&a, "calib-pick")) {
            if ((v = cli_value(&a)) == NULL)
                rc = EXIT_USAGE;
            else if (strcmp(v, "first") == 0)
                pick = 0;
            else if (strcmp(v, "spread") == 0)
                pick = 1;
            else if (strcmp(v, "random") == 0)
                pick = 2;
            else
                rc = cli_usage_error(&a, "option '--calib-pick': '%s' is not first, spread or "
                                         "random", v);
        } else if (cli_is(&a, "wbits"))
            rc = cli_int(&a, 2, 8, &wbits);
        else if (cli_is(&a, "abits"))
            rc = cli_int(&a, 2, 8, &abits);
        else if (cli_is(&a, "attn-bits"))
            rc = cli_int(&a, 2, 8, &attn_bits);
        else if (cli_is(&a, "edge-bits"))
            rc = cli_int(&a, 2, 8, &edge_bits);
        else if (cli_is(&a, "groups"))
            rc = cli_int(&a, 1, 64, &groups);
        else if (cli_is(&a, "budget"))
            rc = cli_int(&a, 1, 64, &budget);
        else if (cli_is(&a, "granularity")) {
            if ((v = cli_value(&a)) == NULL)
                rc = EXIT_USAGE;
            else if (strcmp(v, "tensor") == 0)
                gran = IGQ_GRANULARITY_TENSOR;
            else if (strcmp(v, "group") == 0)
                gran = IGQ_GRANULARITY_GROUP;
            else if (strcmp(v, "channel") == 0)
                gran = IGQ_GRANULARITY_CHANNEL;
            else
                rc = cli_usage_error(&a, "option '--granularity': '%s' is not tensor, group or "
                                         "channel", v);
        } else if (cli_is(&a, "calibrator"))
            rc = parse_calibrator(&a, &cal);
        else if (cli_is(&a, "weight-calibrator"))
            rc = parse_calibrator(&a, &wcal);
        else if (cli_is(&a, "exec")) {
            if ((v = cli_value(&a)) == NULL)
                rc = EXIT_USAGE;
            else if (strcmp(v, "int") == 0)
                ex = IGQ_EXECUTOR_INT;
            else if (strcmp(v, "sim") == 0)
                ex = IGQ_EXECUTOR_SIM;
            else
                rc = cli_usage_error(&a, "option '--exec': '%s' is not int or sim", v);
        } else if (cli_is(&a, "seed"))
            rc = cli_int(&a, 0, INT64_MAX, &seed);
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
    else if (out == NULL)
        rc = cli_usage_error(&a, "missing -o OUT.igq");
    else if (calib == NULL)
        rc = cli_usage_error(&a, "missing --calib SRC");
    else if (groups > 0 && budget > 0)
        rc = cli_usage_error(&a, "--groups and --budget exclude each other");
    else if (gran != IGQ_GRANULARITY_GROUP && (groups > 0 || budget > 0))
        rc = cli_usage_error(&a, "--groups / --budget need --granularity group");
    if (rc != 0) {
        cli_free(&a);
        return rc;
    }
    (void)threads;

    rc = EXIT_FAIL;
    if (cli_load_model("quantize", a.pos[0], &m)) goto done;
    if (igq_model_is_quantized(m) == 1) {
        cli_error("quantize", "'%s' is already quantized (quantize an fp32 checkpoint)", a.pos[0]);
        goto done;
    }
    if (dataset_open("quantize", calib, &ds)) goto done;
    if (ncalib > ds.count) {
        cli_error("quantize", "--num-calib %lld: '%s' holds only %lld images", (long long)ncalib,
                  calib, (long long)ds.count);
        goto done;
    }
    idx = (int64_t *)malloc((size_t)ncalib * sizeof *idx);
    if (idx == NULL) {
        cli_error("quantize", "out of memory");
        goto done;
    }
    pick_images(pick, ds.count, ncalib, (uint64_t)seed, idx);
    if (pick == 0 && ds.classes != NULL && ds.nclasses > 1 && ncalib < ds.count && !quiet &&
        ds.labels[ncalib - 1] == ds.labels[0])
        fprintf(stderr, "igq quantize: note: the first %lld images are all of class '%s'; "
                        "--calib-pick spread or random draws from every class\n",
                (long long)ncalib, ds.classes[ds.labels[0]]);
    if ((s = model_batch(m, ncalib, &x)) != IGQ_OK) {
        cli_lib_error("quantize", "calibration batch", s);
        goto done;
    }
    cli_progress_init(&prog, quiet);
    for (i = 0; i < ncalib; i++) {
        if (dataset_preprocess("quantize", &ds, idx[i], m, x, i)) {
            cli_progress_end(&prog);
            goto done;
        }
        cli_progress_update(&prog, "load images", (double)(i + 1) / (double)ncalib);
    }

    if ((s = igq_config_create(&cfg)) != IGQ_OK ||
        (s = igq_config_set(cfg, IGQ_OPT_WEIGHT_BITS, wbits)) != IGQ_OK ||
        (s = igq_config_set(cfg, IGQ_OPT_ACT_BITS, abits)) != IGQ_OK ||
        (s = igq_config_set(cfg, IGQ_OPT_ATTN_BITS, attn_bits)) != IGQ_OK ||
        (s = igq_config_set(cfg, IGQ_OPT_EDGE_BITS, edge_bits)) != IGQ_OK ||
        (s = igq_config_set(cfg, IGQ_OPT_ACT_GRANULARITY, gran)) != IGQ_OK ||
        (groups > 0 && (s = igq_config_set(cfg, IGQ_OPT_GROUPS, groups)) != IGQ_OK) ||
        (budget > 0 && (s = igq_config_set(cfg, IGQ_OPT_GROUP_BUDGET, budget)) != IGQ_OK) ||
        (s = igq_config_set(cfg, IGQ_OPT_CALIBRATOR, cal)) != IGQ_OK ||
        (s = igq_config_set(cfg, IGQ_OPT_WEIGHT_CALIBRATOR, wcal)) != IGQ_OK ||
        (s = igq_config_set(cfg, IGQ_OPT_SEED, seed)) != IGQ_OK ||
        (s = igq_config_set(cfg, IGQ_OPT_EXECUTOR, ex)) != IGQ_OK ||
        (s = igq_config_set_progress(cfg, progress_cb, &prog)) != IGQ_OK) {
        cli_progress_end(&prog);
        cli_lib_error("quantize", "configuration", s);
        goto done;
    }
    t0 = cli_now();
    s  = igq_quantize_model(m, x, cfg, &q);
    t1 = cli_now();
    cli_progress_end(&prog);
    if (s != IGQ_OK) {
        cli_lib_error("quantize", "quantization failed", s);
        goto done;
    }
    if ((s = igq_model_save(q, out)) != IGQ_OK) {
        cli_lib_error("quantize", "cannot save", s);
        goto done;
    }
    printf("quantized %s: W%lldA%lld, %s", a.pos[0], (long long)wbits, (long long)abits,
           gran == IGQ_GRANULARITY_GROUP ? "IGQ" : granularity_name((igq_granularity)gran));
    if (gran == IGQ_GRANULARITY_GROUP) {
        if (budget > 0)
            printf(" group budget %lld", (long long)budget);
        else
            printf(" G = %lld", (long long)(groups > 0 ? groups : 8));
    }
    printf(", %s executor, calibrator %s, from %lld image%s of %s (%s), %.2f s\n",
           ex == IGQ_EXECUTOR_INT ? "integer" : "simulated", calibrator_name(cal),
           (long long)ncalib, ncalib == 1 ? "" : "s", calib,
           pick == 0 ? "first" : pick == 1 ? "spread" : "random", t1 - t0);
    if (stat(out, &st) == 0)
        printf("saved %s (%.2f MB)\n", out, (double)st.st_size / 1e6);
    rc = EXIT_OK;
done:
    free(idx);
    dataset_free(&ds);
    igq_tensor_free(x);
    igq_config_free(cfg);
    igq_model_free(q);
    igq_model_free(m);
    cli_free(&a);
    return rc;
}
