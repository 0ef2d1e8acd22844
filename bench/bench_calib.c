/* Calibration time of igq_quantize_model on random-weight ViTs (what a user waits for):
 *   bench_calib [--model deit-s|vit-b|both] [--images N] [--alloc]
 * Prints seconds per configuration. Weights and images are random (timing only). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "igq/igq.h"
#include "model/vit.h"

static uint64_t g_rng = 88172645463325252ull;

static float randn(void)
{
    double u1, u2;
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    u1 = ((g_rng >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    u2 = (g_rng >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static float *rand_vec(size_t n, float scale, float offset)
{
    float *v = (float *)igq__malloc(n * sizeof(float));
    size_t i;
    for (i = 0; i < n; i++) v[i] = offset + scale * randn();
    return v;
}

static void rand_linear(igq_linear *l, int32_t in, int32_t out)
{
    l->in  = in;
    l->out = out;
    l->wt  = rand_vec((size_t)in * out, 1.0f / sqrtf((float)in), 0.0f);
    l->b   = rand_vec((size_t)out, 0.02f, 0.0f);
}

/* A random timm-style ViT at 224x224, patch 16 (built in memory, bench only). */
static struct igq_model *random_vit(int32_t dim, int32_t depth, int32_t heads)
{
    struct igq_model *m = (struct igq_model *)igq__calloc(1, sizeof *m);
    igq_vit_dims     *d = &m->d;
    int32_t           b;
    d->img_h = d->img_w = 224;
    d->in_chans         = 3;
    d->patch            = 16;
    d->grid_h = d->grid_w = 14;
    d->n_patches         = 196;
    d->n_prefix          = 1;
    d->n_tokens          = 197;
    d->dim               = dim;
    d->depth             = depth;
    d->heads             = heads;
    d->head_dim          = dim / heads;
    d->mlp               = 4 * dim;
    d->classes           = 1000;
    d->pos_has_prefix    = 1;
    d->pool              = IGQ_POOL_TOKEN;
    d->ln_eps            = 1e-6f;
    rand_linear(&m->patch, 3 * 16 * 16, dim);
    m->prefix = rand_vec((size_t)dim, 0.02f, 0.0f);
    m->pos    = rand_vec((size_t)197 * dim, 0.02f, 0.0f);
    m->blocks = (igq_block *)igq__calloc((size_t)depth, sizeof(igq_block));
    for (b = 0; b < depth; b++) {
        igq_block *k = &m->blocks[b];
        k->ln1_w = rand_vec((size_t)dim, 0.1f, 1.0f);
        k->ln1_b = rand_vec((size_t)dim, 0.1f, 0.0f);
        k->ln2_w = rand_vec((size_t)dim, 0.1f, 1.0f);
        k->ln2_b = rand_vec((size_t)dim, 0.1f, 0.0f);
        rand_linear(&k->qkv, dim, 3 * dim);
        rand_linear(&k->proj, dim, dim);
        rand_linear(&k->fc1, dim, 4 * dim);
        rand_linear(&k->fc2, 4 * dim, dim);
    }
    m->norm_w = rand_vec((size_t)dim, 0.1f, 1.0f);
    m->norm_b = rand_vec((size_t)dim, 0.1f, 0.0f);
    rand_linear(&m->head, dim, 1000);
    return m;
}

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
    int         alloc = 0, i, k;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) which = argv[++i];
        else if (!strcmp(argv[i], "--images") && i + 1 < argc) n_img = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--alloc")) alloc = 1;
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
            igq_config_set_progress(cfg, quiet_progress, &t0);
            if (igq_quantize_model(m, img, cfg, &q) != IGQ_OK) {
                fprintf(stderr, "%s\n", igq_last_error());
                return 1;
            }
            printf("| %s | W4A4 IGQ G=8%s | %lld | %.1f |\n", name, c ? ", allocation at 8" : "",
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
