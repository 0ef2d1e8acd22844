/* The function-preserving "outlier" variant of the bundled Fashion-MNIST model, shared by
 * bench_accuracy and bench_embed (static functions: each bench is one translation unit).
 *
 * 4 LayerNorm output channels per LayerNorm (LN1 and LN2 of every block) are scaled by
 * 8..48x (gamma and beta) and the matching input rows of the next linear layer divided by the
 * same factor: fp32 logits (and the pooled embedding, which the final norm produces) are
 * unchanged up to rounding, but the activations get the per-channel outliers of ImageNet
 * ViTs. Needs fmnist_eval.h (its generator) and model/vit.h (the graph). */
#ifndef IGQ_BENCH_FMNIST_OUTLIER_H
#define IGQ_BENCH_FMNIST_OUTLIER_H

#include "model/vit.h"

#include "fmnist_eval.h"

static void scale_channels(float *g, float *b, igq_linear *next, int32_t D, uint64_t *rng)
{
    int k, o;
    for (k = 0; k < 4; k++) {
        int32_t c = (int32_t)(fmnist_rng_next(rng) % (uint64_t)D);
        float   f = 8.0f + 40.0f * (float)((fmnist_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0));
        g[c] *= f;
        b[c] *= f;
        for (o = 0; o < next->out; o++) next->wt[(size_t)c * next->out + o] /= f;
    }
}

/* Turns m (an fp32 model, modified in place) into the outlier variant; always the same one. */
static void make_outlier_variant(struct igq_model *m)
{
    uint64_t rng = 0x5eed1234abcdull;
    int32_t  b;
    for (b = 0; b < m->d.depth; b++) {
        igq_block *blk = &m->blocks[b];
        scale_channels(blk->ln1_w, blk->ln1_b, &blk->qkv, m->d.dim, &rng);
        scale_channels(blk->ln2_w, blk->ln2_b, &blk->fc1, m->d.dim, &rng);
    }
}

#endif
