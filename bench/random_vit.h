/* Random-weight timm-style ViTs built in memory for the benchmarks (timing only; no file).
 * Header-only: included by bench_calib.c and bench_vit.c. */
#ifndef IGQ_BENCH_RANDOM_VIT_H
#define IGQ_BENCH_RANDOM_VIT_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
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
    if (v == NULL) {
        fprintf(stderr, "bench_vit: out of memory\n");
        exit(1);
    }
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

/* A random timm-style ViT at 224x224, patch 16, 1000 classes (built in memory, bench only). */
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

#endif
