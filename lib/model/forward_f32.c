/* The ViT/DeiT forward (timm/HF/torchvision semantics) in fp32, with a hook at every
 * activation site. With no hook it is the fp32 reference executor; the simulated quantized
 * executor and the calibration observers are hooks (lib/ptq, lib/quant).
 *
 * Images are processed in chunks: the linear layers run on all tokens of a chunk at once
 * (M = chunk * tokens), attention and the hooks run per image. GEMM rows are independent, so
 * an image's logits never depend on its neighbours in the batch. All temporaries live in
 * caller scratch: concurrent calls on one model are safe. */
#include <math.h>
#include <string.h>

#include "../kernels/dispatch.h"
#include "../kernels/f32_ref.h"
#include "vit.h"

#define RUP16(n) ((((size_t)(n)) + 15u) & ~(size_t)15u)
/* Upper bound on scratch floats per call when choosing the chunk (about 32 MB). */
#define CHUNK_FLOATS (8u << 20)
#define MAX_CHUNK 16

typedef struct f32_scratch {
    float *patches, *x, *h, *qkv, *scores, *kt, *vh, *o, *mlp, *pooled, *logit2;
} f32_scratch;

static size_t layout(const igq_vit_dims *d, int64_t chunk, float *base, f32_scratch *s)
{
    size_t       off = 0;
    const size_t B = (size_t)chunk, T = (size_t)d->n_tokens, D = (size_t)d->dim;
    const size_t cpp = (size_t)d->in_chans * (size_t)d->patch * (size_t)d->patch;
#define TAKE(field, n)                               \
    do {                                             \
        if (s != NULL) s->field = base + off;        \
        off += RUP16(n);                             \
    } while (0)
    TAKE(patches, B * (size_t)d->n_patches * cpp);
    TAKE(x, B * T * D);
    TAKE(h, B * T * D);
    TAKE(qkv, B * T * 3 * D);
    TAKE(scores, T * T);
    TAKE(kt, (size_t)d->head_dim * T);
    TAKE(vh, T * (size_t)d->head_dim);
    TAKE(o, B * T * D);
    TAKE(mlp, B * T * (size_t)d->mlp);
    TAKE(pooled, 2 * D);
    TAKE(logit2, 2 * (size_t)d->classes);
#undef TAKE
    return off;
}

int64_t igq__forward_chunk(const igq_vit_dims *d, int64_t batch)
{
    size_t  per   = layout(d, 1, NULL, NULL);
    int64_t chunk = (int64_t)(CHUNK_FLOATS / (per > 0 ? per : 1));
    if (chunk > MAX_CHUNK) chunk = MAX_CHUNK;
    if (chunk < 1) chunk = 1;
    if (chunk > batch) chunk = batch;
    return chunk < 1 ? 1 : chunk;
}

size_t igq__forward_scratch_floats(const igq_vit_dims *d, int64_t chunk)
{
    return layout(d, chunk, NULL, NULL);
}

static void linear(const igq_linear *l, int64_t rows, const float *x, float *y)
{
    igq__f32_gemm(rows, l->out, l->in, x, l->in, l->wt, l->b, y, l->out);
}

static void call_hook(const igq_site_hook *hook, int64_t image, int32_t block, int32_t site,
                      int32_t head, float *x, int64_t rows, int64_t cols, int64_t ld)
{
    if (hook != NULL) hook->fn(hook->ctx, image, block, site, head, x, rows, cols, ld);
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
                    const float *src =
                        img + ((size_t)c * H + (size_t)gy * P + py) * W + (size_t)gx * P;
                    memcpy(row + ((size_t)c * P + py) * P, src, (size_t)P * sizeof(float));
                }
        }
}

/* Multi-head attention of one image: qkv [T][3D] -> o [T][D]. Per head, S = (Q K^T) * scale
 * and O = softmax(S) V run on the GEMM kernel; K^T and V are first copied into contiguous
 * [hd][T] and [T][hd] panels. */
static void attention(const igq_vit_dims *d, float *qkv, f32_scratch *s, float *o,
                      const igq_site_hook *hook, int64_t image, int32_t block)
{
    const int64_t T = d->n_tokens, D = d->dim, hd = d->head_dim;
    const float   scale = 1.0f / sqrtf((float)hd);
    int64_t       h, i, j, c;
    call_hook(hook, image, block, IGQ__SITE_Q, -1, qkv, T, D, 3 * D);
    call_hook(hook, image, block, IGQ__SITE_K, -1, qkv + D, T, D, 3 * D);
    call_hook(hook, image, block, IGQ__SITE_V, -1, qkv + 2 * D, T, D, 3 * D);
    for (h = 0; h < d->heads; h++) {
        const float *q = qkv + h * hd;
        const float *k = qkv + D + h * hd;
        const float *v = qkv + 2 * D + h * hd;
        for (j = 0; j < T; j++)
            for (c = 0; c < hd; c++) {
                s->kt[c * T + j] = k[j * 3 * D + c];
                s->vh[j * hd + c] = v[j * 3 * D + c];
            }
        igq__f32_gemm(T, T, hd, q, 3 * D, s->kt, NULL, s->scores, T);
        for (i = 0; i < T * T; i++) s->scores[i] *= scale;
        igq__f32_softmax_ref(T, T, s->scores);
        call_hook(hook, image, block, IGQ__SITE_ATTN, (int32_t)h, s->scores, T, T, T);
        igq__f32_gemm(T, hd, T, s->scores, T, s->vh, NULL, o + h * hd, D);
    }
}

/* x += branch (* layer scale) */
static void residual_add(int64_t rows, int64_t D, float *x, const float *branch, const float *ls)
{
    int64_t t, c;
    for (t = 0; t < rows; t++)
        for (c = 0; c < D; c++)
            x[t * D + c] += ls != NULL ? branch[t * D + c] * ls[c] : branch[t * D + c];
}

/* Final norm, pooling and classifier of one image whose tokens are x [T][D]. */
static void classify(const struct igq_model *m, float *x, float *tmp, f32_scratch *s,
                     float *logits, const igq_site_hook *hook, int64_t image)
{
    const igq_vit_dims *d = &m->d;
    const int32_t       T = d->n_tokens, D = d->dim, np = d->n_prefix;
    int32_t             t, c, rows = 1;
    if (d->pool == IGQ_POOL_TOKEN) {
        /* Only the prefix tokens feed the classifier: normalize just those. */
        rows = d->has_dist ? 2 : 1;
        if (m->norm_w != NULL)
            igq__f32_layernorm_ref(rows, D, x, m->norm_w, m->norm_b, d->ln_eps, s->pooled);
        else
            memcpy(s->pooled, x, (size_t)rows * D * sizeof(float));
    } else {
        const float *src = x;
        if (m->norm_w != NULL) {
            igq__f32_layernorm_ref(T, D, x, m->norm_w, m->norm_b, d->ln_eps, tmp);
            src = tmp;
        }
        for (c = 0; c < D; c++) {
            double acc = 0.0;
            for (t = np; t < T; t++) acc += src[(size_t)t * D + c];
            s->pooled[D + c] = (float)(acc / d->n_patches);
        }
        if (m->fc_norm_w != NULL)
            igq__f32_layernorm_ref(1, D, s->pooled + D, m->fc_norm_w, m->fc_norm_b, d->ln_eps,
                                   s->pooled);
        else
            memcpy(s->pooled, s->pooled + D, (size_t)D * sizeof(float));
    }
    call_hook(hook, image, -1, IGQ__SITE_HEAD_IN, -1, s->pooled, rows, D, D);
    if (d->has_dist) {
        linear(&m->head, 1, s->pooled, s->logit2);
        linear(&m->head_dist, 1, s->pooled + D, s->logit2 + d->classes);
        for (c = 0; c < d->classes; c++)
            logits[c] = 0.5f * (s->logit2[c] + s->logit2[d->classes + c]);
    } else {
        linear(&m->head, 1, s->pooled, logits);
    }
}

static void forward_chunk(const struct igq_model *m, const float *images, int64_t first,
                          int64_t B, float *logits, f32_scratch *s, const igq_site_hook *hook)
{
    const igq_vit_dims *d = &m->d;
    const int64_t       T = d->n_tokens, D = d->dim, np = d->n_prefix, M = d->mlp;
    const int64_t       cpp = (int64_t)d->in_chans * d->patch * d->patch;
    const size_t        img_sz = (size_t)d->in_chans * d->img_h * d->img_w;
    int64_t             i, t, b;

    for (i = 0; i < B; i++) {
        float *pi = s->patches + (size_t)i * d->n_patches * cpp;
        extract_patches(d, images + (size_t)i * img_sz, pi);
        call_hook(hook, first + i, -1, IGQ__SITE_PATCH_IN, -1, pi, d->n_patches, cpp, cpp);
    }
    /* Patch embedding straight into token rows np.. of each image (stride T*D per image). */
    for (i = 0; i < B; i++) {
        float *xi = s->x + (size_t)i * T * D;
        linear(&m->patch, d->n_patches, s->patches + (size_t)i * d->n_patches * cpp, xi + np * D);
        if (np > 0) memcpy(xi, m->prefix, (size_t)(np * D) * sizeof(float));
        {
            float  *dst = d->pos_has_prefix ? xi : xi + np * D;
            int64_t n   = d->pos_has_prefix ? T : d->n_patches;
            for (t = 0; t < n * D; t++) dst[t] += m->pos[t];
        }
    }

    for (b = 0; b < d->depth; b++) {
        const igq_block *blk = &m->blocks[b];
        const int32_t    bi  = (int32_t)b;
        igq__f32_layernorm_ref(B * T, D, s->x, blk->ln1_w, blk->ln1_b, d->ln_eps, s->h);
        for (i = 0; i < B; i++)
            call_hook(hook, first + i, bi, IGQ__SITE_QKV_IN, -1, s->h + i * T * D, T, D, D);
        linear(&blk->qkv, B * T, s->h, s->qkv);
        for (i = 0; i < B; i++) {
            attention(d, s->qkv + i * T * 3 * D, s, s->o + i * T * D, hook, first + i, bi);
            call_hook(hook, first + i, bi, IGQ__SITE_PROJ_IN, -1, s->o + i * T * D, T, D, D);
        }
        linear(&blk->proj, B * T, s->o, s->h);
        residual_add(B * T, D, s->x, s->h, blk->ls1);
        igq__f32_layernorm_ref(B * T, D, s->x, blk->ln2_w, blk->ln2_b, d->ln_eps, s->h);
        for (i = 0; i < B; i++)
            call_hook(hook, first + i, bi, IGQ__SITE_FC1_IN, -1, s->h + i * T * D, T, D, D);
        linear(&blk->fc1, B * T, s->h, s->mlp);
        igq__f32_gelu_ref(B * T * M, s->mlp);
        for (i = 0; i < B; i++)
            call_hook(hook, first + i, bi, IGQ__SITE_FC2_IN, -1, s->mlp + i * T * M, T, M, M);
        linear(&blk->fc2, B * T, s->mlp, s->h);
        residual_add(B * T, D, s->x, s->h, blk->ls2);
    }
    for (i = 0; i < B; i++)
        classify(m, s->x + i * T * D, s->h, s, logits + i * d->classes, hook, first + i);
}

void igq__forward(const struct igq_model *m, const float *images, int64_t batch, float *logits,
                  float *scratch, const igq_site_hook *hook)
{
    const igq_vit_dims *d      = &m->d;
    const size_t        img_sz = (size_t)d->in_chans * d->img_h * d->img_w;
    const int64_t       chunk  = igq__forward_chunk(d, batch);
    f32_scratch         s;
    int64_t             i;
    layout(d, chunk, scratch, &s);
    for (i = 0; i < batch; i += chunk) {
        int64_t n = batch - i < chunk ? batch - i : chunk;
        forward_chunk(m, images + (size_t)i * img_sz, i, n, logits + (size_t)i * d->classes, &s,
                      hook);
    }
}
