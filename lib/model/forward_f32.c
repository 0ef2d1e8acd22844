/* fp32 reference executor: the PyTorch forward of timm/HF/torchvision ViT and DeiT.
 * One image at a time; all temporaries live in caller scratch, so concurrent calls on one
 * model are safe. */
#include <math.h>
#include <string.h>

#include "../kernels/f32_ref.h"
#include "vit.h"

#define RUP16(n) ((((size_t)(n)) + 15u) & ~(size_t)15u)

typedef struct f32_scratch {
    float *patches, *x, *h, *qkv, *scores, *o, *mlp, *pooled, *logit2;
} f32_scratch;

static size_t layout(const igq_vit_dims *d, float *base, f32_scratch *s)
{
    size_t       off = 0;
    const size_t T = (size_t)d->n_tokens, D = (size_t)d->dim;
    const size_t cpp = (size_t)d->in_chans * (size_t)d->patch * (size_t)d->patch;
#define TAKE(field, n)                               \
    do {                                             \
        if (s != NULL) s->field = base + off;        \
        off += RUP16(n);                             \
    } while (0)
    TAKE(patches, (size_t)d->n_patches * cpp);
    TAKE(x, T * D);
    TAKE(h, T * D);
    TAKE(qkv, T * 3 * D);
    TAKE(scores, T * T);
    TAKE(o, T * D);
    TAKE(mlp, T * (size_t)d->mlp);
    TAKE(pooled, 2 * D);
    TAKE(logit2, 2 * (size_t)d->classes);
#undef TAKE
    return off;
}

size_t igq__f32_scratch_floats(const igq_vit_dims *d) { return layout(d, NULL, NULL); }

static void linear(const igq_linear *l, int64_t rows, const float *x, float *y)
{
    igq__f32_gemm_ref(rows, l->out, l->in, x, l->in, l->wt, l->b, y, l->out);
}

/* im2col of one image: row p = patch (gy, gx) in row-major grid order, columns (c, py, px). */
static void extract_patches(const igq_vit_dims *d, const float *img, float *out)
{
    const int32_t P = d->patch, H = d->img_h, W = d->img_w;
    int32_t       gy, gx, c, py;
    for (gy = 0; gy < d->grid_h; gy++)
        for (gx = 0; gx < d->grid_w; gx++) {
            float *row = out + ((size_t)gy * d->grid_w + gx) * (size_t)d->in_chans * P * P;
            for (c = 0; c < d->in_chans; c++)
                for (py = 0; py < P; py++) {
                    const float *src = img + ((size_t)c * H + (size_t)gy * P + py) * W + (size_t)gx * P;
                    memcpy(row + ((size_t)c * P + py) * P, src, (size_t)P * sizeof(float));
                }
        }
}

static void attention(const igq_vit_dims *d, const float *qkv, float *scores, float *o)
{
    const int32_t T = d->n_tokens, D = d->dim, hd = d->head_dim;
    const float   scale = 1.0f / sqrtf((float)hd);
    int32_t       h, i, j, c;
    for (h = 0; h < d->heads; h++) {
        const float *q = qkv + (size_t)h * hd;
        const float *k = qkv + D + (size_t)h * hd;
        const float *v = qkv + 2 * (size_t)D + (size_t)h * hd;
        for (i = 0; i < T; i++)
            for (j = 0; j < T; j++) {
                const float *qi = q + (size_t)i * 3 * D, *kj = k + (size_t)j * 3 * D;
                float        acc = 0.0f;
                for (c = 0; c < hd; c++) acc += qi[c] * kj[c];
                scores[(size_t)i * T + j] = acc * scale;
            }
        igq__f32_softmax_ref(T, T, scores);
        for (i = 0; i < T; i++) {
            float *oi = o + (size_t)i * D + (size_t)h * hd;
            memset(oi, 0, (size_t)hd * sizeof(float));
            for (j = 0; j < T; j++) {
                const float  p  = scores[(size_t)i * T + j];
                const float *vj = v + (size_t)j * 3 * D;
                for (c = 0; c < hd; c++) oi[c] += p * vj[c];
            }
        }
    }
}

/* x += branch (* layer scale) */
static void residual_add(int64_t T, int64_t D, float *x, const float *branch, const float *ls)
{
    int64_t t, c;
    for (t = 0; t < T; t++)
        for (c = 0; c < D; c++)
            x[t * D + c] += ls != NULL ? branch[t * D + c] * ls[c] : branch[t * D + c];
}

static void forward_one(const struct igq_model *m, const float *img, float *logits, f32_scratch *s)
{
    const igq_vit_dims *d = &m->d;
    const int32_t       T = d->n_tokens, D = d->dim, np = d->n_prefix;
    int32_t             t, c, b;

    extract_patches(d, img, s->patches);
    linear(&m->patch, d->n_patches, s->patches, s->x + (size_t)np * D);
    if (np > 0) memcpy(s->x, m->prefix, (size_t)np * D * sizeof(float));
    {
        float *dst = d->pos_has_prefix ? s->x : s->x + (size_t)np * D;
        int32_t n  = d->pos_has_prefix ? T : d->n_patches;
        for (t = 0; t < n * D; t++) dst[t] += m->pos[t];
    }

    for (b = 0; b < d->depth; b++) {
        const igq_block *blk = &m->blocks[b];
        igq__f32_layernorm_ref(T, D, s->x, blk->ln1_w, blk->ln1_b, d->ln_eps, s->h);
        linear(&blk->qkv, T, s->h, s->qkv);
        attention(d, s->qkv, s->scores, s->o);
        linear(&blk->proj, T, s->o, s->h);
        residual_add(T, D, s->x, s->h, blk->ls1);
        igq__f32_layernorm_ref(T, D, s->x, blk->ln2_w, blk->ln2_b, d->ln_eps, s->h);
        linear(&blk->fc1, T, s->h, s->mlp);
        igq__f32_gelu_ref((int64_t)T * d->mlp, s->mlp);
        linear(&blk->fc2, T, s->mlp, s->h);
        residual_add(T, D, s->x, s->h, blk->ls2);
    }

    if (d->pool == IGQ_POOL_TOKEN) {
        /* Only the prefix tokens feed the classifier: normalize just those. */
        int32_t rows = d->has_dist ? 2 : 1;
        if (m->norm_w != NULL)
            igq__f32_layernorm_ref(rows, D, s->x, m->norm_w, m->norm_b, d->ln_eps, s->pooled);
        else
            memcpy(s->pooled, s->x, (size_t)rows * D * sizeof(float));
    } else {
        if (m->norm_w != NULL) {
            igq__f32_layernorm_ref(T, D, s->x, m->norm_w, m->norm_b, d->ln_eps, s->h);
            memcpy(s->x, s->h, (size_t)T * D * sizeof(float));
        }
        for (c = 0; c < D; c++) {
            double acc = 0.0;
            for (t = np; t < T; t++) acc += s->x[(size_t)t * D + c];
            s->h[c] = (float)(acc / d->n_patches);
        }
        if (m->fc_norm_w != NULL)
            igq__f32_layernorm_ref(1, D, s->h, m->fc_norm_w, m->fc_norm_b, d->ln_eps, s->pooled);
        else
            memcpy(s->pooled, s->h, (size_t)D * sizeof(float));
    }
    if (d->has_dist) {
        linear(&m->head, 1, s->pooled, s->logit2);
        linear(&m->head_dist, 1, s->pooled + D, s->logit2 + d->classes);
        for (c = 0; c < d->classes; c++)
            logits[c] = 0.5f * (s->logit2[c] + s->logit2[d->classes + c]);
    } else {
        linear(&m->head, 1, s->pooled, logits);
    }
}

void igq__forward_f32(const struct igq_model *m, const float *images, int64_t batch,
                      float *logits, float *scratch)
{
    const igq_vit_dims *d = &m->d;
    const size_t        img_sz = (size_t)d->in_chans * d->img_h * d->img_w;
    f32_scratch         s;
    int64_t             i;
    layout(d, scratch, &s);
    for (i = 0; i < batch; i++)
        forward_one(m, images + (size_t)i * img_sz, logits + (size_t)i * d->classes, &s);
}
