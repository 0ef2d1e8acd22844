/* Calibration time of igq_quantize_model on random-weight ViTs (what a user waits for):
 *   bench_calib [--model deit-s|vit-b|both] [--images N] [--alloc] [--gptq]
 * Prints seconds per configuration. Weights and images are random (timing only). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "igq/igq.h"
#include "model/vit.h"
#include "random_vit.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int quiet_progress(void *user, const char *stage, double f)
{
    static char last[32];
    (void)user;
    if (strcmp(last, stage) != 0 || f >= 1.0) {
        fprintf(stderr, "    %-16s %5.1f%% at %.1f s\n", stage, 100 * f, now() - *(double *)user);
        snprintf(last, sizeof last, "%s", stage);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *which = "both";
    int64_t     n_img = 32, shape[4];
    int         alloc = 0, gptq = 0, i, k;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) which = argv[++i];
        else if (!strcmp(argv[i], "--images") && i + 1 < argc) n_img = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--alloc")) alloc = 1;
        else if (!strcmp(argv[i], "--gptq")) gptq = 1;
    }
    printf("| model | config | calibration images | seconds |\n|---|---|---|---|\n");
    for (k = 0; k < 2; k++) {
        const char       *name = k == 0 ? "DeiT-S (384/12/6)" : "ViT-B/16 (768/12/12)";
        struct igq_model *m;
        igq_tensor       *img = NULL;
        float            *x;
        int               c;
        if (strcmp(which, "both") != 0 && strcmp(which, k == 0 ? "deit-s" : "vit-b") != 0) continue;
        m        = k == 0 ? random_vit(384, 12, 6) : random_vit(768, 12, 12);
        shape[0] = n_img;
        shape[1] = 3;
        shape[2] = shape[3] = 224;
        igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &img);
        x = (float *)igq_tensor_data(img);
        for (i = 0; i < n_img * 3 * 224 * 224; i++) x[i] = randn();
        for (c = 0; c < (alloc ? 2 : 1); c++) {
            igq_config *cfg = NULL;
            igq_model  *q   = NULL;
            double      t0  = now();
            igq_config_create(&cfg);
            igq_config_set(cfg, IGQ_OPT_WEIGHT_BITS, 4);
            igq_config_set(cfg, IGQ_OPT_ACT_BITS, 4);
            if (c == 1) igq_config_set(cfg, IGQ_OPT_GROUP_BUDGET, 8);
            if (gptq) igq_config_set(cfg, IGQ_OPT_WEIGHT_ROUNDING, IGQ_ROUNDING_GPTQ);
            igq_config_set_progress(cfg, quiet_progress, &t0);
            if (igq_quantize_model(m, img, cfg, &q) != IGQ_OK) {
                fprintf(stderr, "%s\n", igq_last_error());
                return 1;
            }
            printf("| %s | W4A4 IGQ G=8%s%s | %lld | %.1f |\n", name, c ? ", allocation at 8" : "",
                   gptq ? ", GPTQ" : "",
                   (long long)n_img, now() - t0);
            fflush(stdout);
            igq_model_free(q);
            igq_config_free(cfg);
        }
        igq_tensor_free(img);
        igq_model_free(m);
    }
    return 0;
}
