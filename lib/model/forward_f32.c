/* The ViT/DeiT forward (timm/HF/torchvision semantics) in fp32, with a hook at every
 * activation site. With no hook it is the fp32 reference executor; the simulated quantized
 * executor and the calibration observers are hooks (lib/ptq, lib/quant).
 *
 * Images are processed in chunks: the linear layers run on all tokens of a chunk at once
 * (M = chunk * tokens), attention and the hooks run per image. GEMM rows are independent, so
 * an image's logits never depend on its neighbours in the batch. All temporaries live in
 * caller scratch: concurrent calls on one model are safe.
 *
 * Threads (igq__forward_par): every step of a chunk is a parallel-for over output tiles, so
 * no value is ever summed across threads and the logits are bit-identical for any thread
 * count:
 *   - linear layers: row tiles of M (multiples of 12 rows). The GEMM contract (kernels.h) makes
 *     every output element one fmaf chain over k whatever rows are computed together; column
 *     tiles are not used because the kernels take B = [K][N] without a column stride;
 *   - LayerNorm, residual adds, GELU: row tiles (each row is computed alone);
 *   - attention: one task per (image, head), with per-thread scores / K^T / V panels;
 *   - patch extraction, hooks, classifier: one task per image; a hook gets the context of
 *     the thread that runs it (hooks[thread]), so hook scratch is per thread.
 * With one thread every step is a single in-order pass, as the serial code was: a hook sees
 * the images of each site in increasing order (heads in increasing order within an image),
 * which the calibration observers rely on. */
#include <math.h>
#include <string.h>

#include "../core/threadpool.h"
#include "../kernels/dispatch.h"
#include "../kernels/f32_ref.h"
#include "igq/igq.h"
#include "profile.h"
#include "vit.h"

#define RUP16(n) ((((size_t)(n)) + 15u) & ~(size_t)15u)
/* Upper bound on scratch floats per call when choosing the chunk (about 32 MB). */
#define CHUNK_FLOATS (8u << 20)
#define MAX_CHUNK 16
/* Row tiles of a threaded GEMM: a multiple of both register tiles (6 avx2, 12 avx512), at
 * least MIN_TILE rows where M allows, at most 4 tiles per thread (each tile re-packs B). */
#define ROW_ALIGN 12
#define MIN_TILE 128

/* Scratch shared by the threads of one call (activations of the chunk). */
typedef struct f32_shared {
    float *patches, *x, *h, *qkv, *o, *mlp;
} f32_shared;

/* Scratch of one thread (attention of one head, classifier of one image). */
typedef struct f32_local {
    float *scores, *kt, *vh, *pooled, *logit2;
} f32_local;

#define TAKE(s, field, n)                            \
    do {                                             \
        if (s != NULL) s->field = base + off;        \
        off += RUP16(n);                             \
    } while (0)

static size_t layout_shared(const igq_vit_dims *d, int64_t chunk, float *base, f32_shared *s)
{
    size_t       off = 0;
    const size_t B = (size_t)chunk, T = (size_t)d->n_tokens, D = (size_t)d->dim;
    const size_t cpp = (size_t)d->in_chans * (size_t)d->patch * (size_t)d->patch;
    TAKE(s, patches, B * (size_t)d->n_patches * cpp);
    TAKE(s, x, B * T * D);
    TAKE(s, h, B * T * D);
    TAKE(s, qkv, B * T * 3 * D);
    TAKE(s, o, B * T * D);
    TAKE(s, mlp, B * T * (size_t)d->mlp);
    return off;
}

static size_t layout_local(const igq_vit_dims *d, float *base, f32_local *l)
{
    size_t       off = 0;
    const size_t T = (size_t)d->n_tokens, D = (size_t)d->dim;
    TAKE(l, scores, T * T);
    TAKE(l, kt, (size_t)d->head_dim * T);
    TAKE(l, vh, T * (size_t)d->head_dim);
    TAKE(l, pooled, 2 * D);
    TAKE(l, logit2, 2 * (size_t)d->classes);
    return off;
}
#undef TAKE

int64_t igq__forward_chunk(const igq_vit_dims *d, int64_t batch)
{
    size_t  per   = layout_shared(d, 1, NULL, NULL) + layout_local(d, NULL, NULL);
    int64_t chunk = (int64_t)(CHUNK_FLOATS / (per > 0 ? per : 1));
    if (chunk > MAX_CHUNK) chunk = MAX_CHUNK;
    if (chunk < 1) chunk = 1;
    if (chunk > batch) chunk = batch;
    return chunk < 1 ? 1 : chunk;
}

size_t igq__forward_scratch_floats(const igq_vit_dims *d, int64_t chunk)
{
    return igq__forward_scratch_floats_par(d, chunk, 1);
}

size_t igq__forward_scratch_floats_par(const igq_vit_dims *d, int64_t chunk, int32_t threads)
{
    return layout_shared(d, chunk, NULL, NULL) +
           (size_t)(threads > 1 ? threads : 1) * layout_local(d, NULL, NULL);
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

void igq__extract_patch(const igq_vit_dims *d, const float *img, int64_t p, float *out)
{
    const int32_t P = d->patch, H = d->img_h, W = d->img_w;
    const int64_t gy = p / d->grid_w, gx = p % d->grid_w;
    int32_t       c, py;
    for (c = 0; c < d->in_chans; c++)
        for (py = 0; py < P; py++)
            memcpy(out + ((size_t)c * P + py) * P,
                   img + ((size_t)c * H + (size_t)gy * P + py) * W + (size_t)gx * P,
                   (size_t)P * sizeof(float));
}

/* im2col of one image: row p = patch p (igq__extract_patch). */
static void extract_patches(const igq_vit_dims *d, const float *img, float *out)
{
    const size_t cpp = (size_t)d->in_chans * d->patch * d->patch;
    int64_t      p;
    for (p = 0; p < d->n_patches; p++) igq__extract_patch(d, img, p, out + (size_t)p * cpp);
}

/* One head h of one image's attention: qkv [T][3D] -> columns h*hd.. of o [T][D].
 * S = (Q K^T) * scale and O = softmax(S) V run on the GEMM kernel; K^T and V are first
 * copied into contiguous [hd][T] and [T][hd] panels. */
static void attention_head(const igq_vit_dims *d, const float *qkv, int64_t h, f32_local *s,
                           float *o, const igq_site_hook *hook, int64_t image, int32_t block)
{
    const int64_t T = d->n_tokens, D = d->dim, hd = d->head_dim;
    const float   scale = 1.0f / sqrtf((float)hd);
    const float  *q = qkv + h * hd;
    const float  *k = qkv + D + h * hd;
    const float  *v = qkv + 2 * D + h * hd;
    int64_t       j, c;
    for (j = 0; j < T; j++) {
        const float *kj = k + j * 3 * D;
        for (c = 0; c < hd; c++) s->kt[c * T + j] = kj[c];
        memcpy(s->vh + j * hd, v + j * 3 * D, (size_t)hd * sizeof(float));
    }
    igq__f32_gemm(T, T, hd, q, 3 * D, s->kt, NULL, s->scores, T);
    igq__f32_softmax(T, T, scale, s->scores, T);
    call_hook(hook, image, block, IGQ__SITE_ATTN, (int32_t)h, s->scores, T, T, T);
    igq__f32_gemm(T, hd, T, s->scores, T, s->vh, NULL, o + h * hd, D);
}

/* x += branch (* layer scale) */
static void residual_add(int64_t rows, int64_t D, float *x, const float *branch, const float *ls)
{
    int64_t t, c;
    if (ls == NULL)
        for (t = 0; t < rows * D; t++) x[t] += branch[t];
    else
        for (t = 0; t < rows; t++)
            for (c = 0; c < D; c++) x[t * D + c] += branch[t * D + c] * ls[c];
}

/* Final norm, pooling and classifier of one image whose tokens are x [T][D]; tmp: T*D floats
 * (mean pooling only). feat: logits is the image's pooled embedding (D floats) instead: the
 * classifier's input before the head-input site, a distilled model's two tokens averaged as
 * timm's pre_logits does. */
static void classify(const struct igq_model *m, float *x, float *tmp, f32_local *s,
                     float *logits, int feat, const igq_site_hook *hook, int64_t image)
{
    const igq_vit_dims *d = &m->d;
    const int32_t       T = d->n_tokens, D = d->dim, np = d->n_prefix;
    int32_t             t, c, rows = 1;
    if (d->pool == IGQ_POOL_TOKEN) {
        /* Only the prefix tokens feed the classifier: normalize just those. */
        rows = d->has_dist ? 2 : 1;
        if (m->norm_w != NULL)
            igq__f32_layernorm(rows, D, x, m->norm_w, m->norm_b, d->ln_eps, s->pooled);
        else
            memcpy(s->pooled, x, (size_t)rows * D * sizeof(float));
    } else {
        const float *src = x;
        if (m->norm_w != NULL) {
            igq__f32_layernorm(T, D, x, m->norm_w, m->norm_b, d->ln_eps, tmp);
            src = tmp;
        }
        for (c = 0; c < D; c++) {
            double acc = 0.0;
            for (t = np; t < T; t++) acc += src[(size_t)t * D + c];
            s->pooled[D + c] = (float)(acc / d->n_patches);
        }
        if (m->fc_norm_w != NULL)
            igq__f32_layernorm(1, D, s->pooled + D, m->fc_norm_w, m->fc_norm_b, d->ln_eps,
                                   s->pooled);
        else
            memcpy(s->pooled, s->pooled + D, (size_t)D * sizeof(float));
    }
    if (feat) /* the embedding before the head-input site */
        for (c = 0; c < D; c++)
            logits[c] = rows == 2 ? 0.5f * (s->pooled[c] + s->pooled[D + c]) : s->pooled[c];
    /* the site is still hooked (observed when calibrating a model without a classifier) */
    call_hook(hook, image, -1, IGQ__SITE_HEAD_IN, -1, s->pooled, rows, D, D);
    if (feat || d->classes == 0) return;
    if (d->has_dist) {
        linear(&m->head, 1, s->pooled, s->logit2);
        linear(&m->head_dist, 1, s->pooled + D, s->logit2 + d->classes);
        for (c = 0; c < d->classes; c++)
            logits[c] = 0.5f * (s->logit2[c] + s->logit2[d->classes + c]);
    } else {
        linear(&m->head, 1, s->pooled, logits);
    }
}

/* ---- one chunk as a sequence of parallel steps ------------------------------------------- */

enum { HOOK_ONE = 0, HOOK_QKV = 1 };

/* A GEMM step: rows of out = in W + b, then GELU on them if gelu. */
typedef struct gemm_op {
    const igq_linear *lin;
    const float      *in;
    float            *out;
    int               gelu;
} gemm_op;

/* A row step: x += h (* ls) if residual, then h = LN(x) if ln_w != NULL. */
typedef struct rows_op {
    int          residual;
    const float *ls;
    const float *ln_w, *ln_b;
} rows_op;

typedef struct fwd {
    const struct igq_model *m;
    const igq_vit_dims     *d;
    const igq_site_hook    *hooks;   /* NULL, or one per thread */
    igq__pool              *pool;
    igq_prof               *lp;      /* layer recorder of a profiled run (this thread's), or NULL */
    int32_t                 threads;
    f32_shared              s;
    float                  *local0;  /* thread t's f32_local starts at local0 + t * local_stride */
    size_t                  local_stride;
    /* the chunk */
    const float            *images;  /* its first image */
    float                  *logits;  /* its first image's logits (or pooled embedding) */
    int                     feat;    /* outputs are pooled embeddings (igq_run_features) */
    int64_t                 ow;      /* floats per image of the output: classes, or D */
    int64_t                 first, B; /* batch index of its first image, images in it */
    int64_t                 rows;    /* its token rows, B * T: the rows of GEMMs and row steps */
    /* the current step */
    int32_t                 block;
    int64_t                 tile;    /* rows per task of a row step */
    int64_t                 tiles;   /* tiles of a GEMM (of each image for the embedding) */
    gemm_op                 gemm;
    rows_op                 row;
    int                     hook_kind;   /* HOOK_* */
    int32_t                 hook_site;
    float                  *hook_base;   /* image i's view starts at hook_base + i * hook_stride */
    int64_t                 hook_stride, hook_rows, hook_cols, hook_ld;
    /* the part of the forward to run (igq__forward_range); the whole of it otherwise */
    int32_t                 b0, b1;      /* blocks [b0, b1) */
    int32_t                 stop_block, stop_site; /* return after this site's hooks */
    const float            *x_in;        /* residual stream entering block b0, or NULL */
    float                  *x_out;       /* receives the one leaving block b1 - 1, or NULL */
    int                     start_phase; /* block b0 starts at 0: LN1, 1: the proj input, 2: LN2 */
    const float            *o_in;        /* phase 1: block b0's attention output */
    float                  *o_out, *mid_out; /* block b0's attention output, its residual after
                                                the attention branch */
} fwd;

static const igq_site_hook *hook_of(const fwd *f, int32_t thread)
{
    return f->hooks != NULL ? &f->hooks[thread] : NULL;
}

static void local_of(const fwd *f, int32_t thread, f32_local *l)
{
    layout_local(f->d, f->local0 + (size_t)thread * f->local_stride, l);
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Tasks of a threaded GEMM on M rows: one per thread, up to 4 per thread while tiles keep
 * at least MIN_TILE rows (each tile packs B again). One task with one thread. */
static int64_t gemm_tasks(int64_t M, int32_t threads)
{
    int64_t per;
    if (threads <= 1) return 1;
    per = M / ((int64_t)MIN_TILE * threads);
    if (per < 1) per = 1;
    if (per > 4) per = 4;
    return per * threads;
}

/* First row of tile t of n over R rows: tiles of whole ROW_ALIGN-row units, as even as the
 * units allow (unit counts differ by at most one), in order; tile n starts at R. */
static int64_t tile_start(int64_t R, int64_t n, int64_t t)
{
    const int64_t units = ceil_div(R, ROW_ALIGN);
    const int64_t r     = (t * units / n) * ROW_ALIGN;
    return r < R ? r : R;
}

/* Rows per task of a row-wise (memory bound) step: one slice per thread. */
static int64_t rows_tile(int64_t R, int32_t threads)
{
    return threads <= 1 ? (R > 0 ? R : 1) : ceil_div(R, threads);
}

static void run(fwd *f, int64_t n_tasks, igq__pool_fn fn) { igq__pool_run(f->pool, n_tasks, fn, f); }

static void step_patches(void *ctx, int64_t i, int32_t thread)
{
    fwd                *f      = (fwd *)ctx;
    const igq_vit_dims *d      = f->d;
    const int64_t       cpp    = (int64_t)d->in_chans * d->patch * d->patch;
    const size_t        img_sz = (size_t)d->in_chans * d->img_h * d->img_w;
    float              *pi     = f->s.patches + (size_t)i * d->n_patches * cpp;
    extract_patches(d, f->images + (size_t)i * img_sz, pi);
    call_hook(hook_of(f, thread), f->first + i, -1, IGQ__SITE_PATCH_IN, -1, pi, d->n_patches,
              cpp, cpp);
}

/* Patch embedding of rows [r0, r1) of one image's patches, straight into token rows np + r of
 * x (stride T*D per image), plus the position embedding; the first tile also writes the prefix
 * tokens. */
static void step_embed(void *ctx, int64_t task, int32_t thread)
{
    fwd                *f   = (fwd *)ctx;
    const igq_vit_dims *d   = f->d;
    const int64_t       T = d->n_tokens, D = d->dim, np = d->n_prefix, NP = d->n_patches;
    const int64_t       cpp = (int64_t)d->in_chans * d->patch * d->patch;
    const int64_t       per = f->tiles;
    const int64_t       i = task / per, r0 = tile_start(NP, per, task % per);
    const int64_t       r1  = tile_start(NP, per, task % per + 1);
    float              *xi  = f->s.x + (size_t)i * T * D;
    const float        *pos = d->pos_has_prefix ? f->m->pos + np * D : f->m->pos;
    int64_t             t;
    (void)thread;
    linear(&f->m->patch, r1 - r0, f->s.patches + (size_t)(i * NP + r0) * cpp, xi + (np + r0) * D);
    for (t = r0 * D; t < r1 * D; t++) xi[np * D + t] += pos[t];
    if (r0 == 0 && np > 0) {
        memcpy(xi, f->m->prefix, (size_t)(np * D) * sizeof(float));
        if (d->pos_has_prefix)
            for (t = 0; t < np * D; t++) xi[t] += f->m->pos[t];
    }
}

/* Rows [r0, r1) of the chunk's B*T token rows: x += h (* ls), then h = LN(x). */
static void step_rows(void *ctx, int64_t task, int32_t thread)
{
    fwd          *f  = (fwd *)ctx;
    const int64_t D  = f->d->dim;
    const int64_t r0 = task * f->tile;
    const int64_t n  = r0 + f->tile < f->rows ? f->tile : f->rows - r0;
    (void)thread;
    if (f->row.residual) residual_add(n, D, f->s.x + r0 * D, f->s.h + r0 * D, f->row.ls);
    if (f->row.ln_w != NULL)
        igq__f32_layernorm(n, D, f->s.x + r0 * D, f->row.ln_w, f->row.ln_b, f->d->ln_eps,
                           f->s.h + r0 * D);
}

/* Rows [r0, r1) of out = in W + b (then GELU). */
static void step_gemm(void *ctx, int64_t task, int32_t thread)
{
    fwd              *f  = (fwd *)ctx;
    const igq_linear *l  = f->gemm.lin;
    const int64_t     r0 = tile_start(f->rows, f->tiles, task);
    const int64_t     n  = tile_start(f->rows, f->tiles, task + 1) - r0;
    (void)thread;
    if (n <= 0) return;
    linear(l, n, f->gemm.in + r0 * l->in, f->gemm.out + r0 * l->out);
    if (f->gemm.gelu) igq__f32_gelu(n * l->out, f->gemm.out + r0 * l->out);
}

static void step_hook(void *ctx, int64_t i, int32_t thread)
{
    fwd                 *f    = (fwd *)ctx;
    const igq_site_hook *hook = hook_of(f, thread);
    float               *x    = f->hook_base + (size_t)i * f->hook_stride;
    if (f->hook_kind == HOOK_QKV) {
        const int64_t T = f->d->n_tokens, D = f->d->dim;
        call_hook(hook, f->first + i, f->block, IGQ__SITE_Q, -1, x, T, D, 3 * D);
        call_hook(hook, f->first + i, f->block, IGQ__SITE_K, -1, x + D, T, D, 3 * D);
        call_hook(hook, f->first + i, f->block, IGQ__SITE_V, -1, x + 2 * D, T, D, 3 * D);
    } else {
        call_hook(hook, f->first + i, f->block, f->hook_site, -1, x, f->hook_rows, f->hook_cols,
                  f->hook_ld);
    }
}

static void step_attention(void *ctx, int64_t task, int32_t thread)
{
    fwd          *f = (fwd *)ctx;
    const int64_t T = f->d->n_tokens, D = f->d->dim, H = f->d->heads;
    const int64_t i = task / H, h = task % H;
    f32_local     l;
    local_of(f, thread, &l);
    attention_head(f->d, f->s.qkv + (size_t)i * T * 3 * D, h, &l, f->s.o + (size_t)i * T * D,
                   hook_of(f, thread), f->first + i, f->block);
}

static void step_classify(void *ctx, int64_t i, int32_t thread)
{
    fwd          *f = (fwd *)ctx;
    const int64_t T = f->d->n_tokens, D = f->d->dim;
    f32_local     l;
    local_of(f, thread, &l);
    classify(f->m, f->s.x + (size_t)i * T * D, f->s.h + (size_t)i * T * D, &l,
             f->logits + (size_t)i * f->ow, f->feat, hook_of(f, thread), f->first + i);
}

/* Hooks of one site on every image of the chunk (nothing without hooks). */
static void hooks_at(fwd *f, int kind, int32_t site, float *base, int64_t stride, int64_t rows,
                     int64_t cols, int64_t ld)
{
    if (f->hooks == NULL) return;
    f->hook_kind   = kind;
    f->hook_site   = site;
    f->hook_base   = base;
    f->hook_stride = stride;
    f->hook_rows   = rows;
    f->hook_cols   = cols;
    f->hook_ld     = ld;
    run(f, f->B, step_hook);
}

static void gemm(fwd *f, const igq_linear *l, const float *in, float *out, int gelu)
{
    f->gemm  = (gemm_op){l, in, out, gelu};
    f->tiles = gemm_tasks(f->rows, f->threads);
    if (f->tiles > ceil_div(f->rows, ROW_ALIGN)) f->tiles = ceil_div(f->rows, ROW_ALIGN);
    run(f, f->tiles, step_gemm);
}

static void rows_step(fwd *f, int residual, const float *ls, const float *ln_w, const float *ln_b)
{
    f->row  = (rows_op){residual, ls, ln_w, ln_b};
    f->tile = rows_tile(f->rows, f->threads);
    run(f, ceil_div(f->rows, f->tile), step_rows);
}

/* Profile counters (igq_session_profile_layer; doc/profiling.md): operations per element of
 * the non-GEMM layers as the integer executor counts them, and the bytes of an f32 linear layer
 * on `rows` rows. */
#define OPS_LN 8.0
#define OPS_QUANT 4.0
#define OPS_SOFTMAX 6.0
#define OPS_GELU 10.0
#define OPS_RESIDUAL 2.0

static void prof_gemm(fwd *f, double t0, const char *what, int32_t b, const igq_linear *l,
                      double extra_ops)
{
    const double R = (double)f->rows;
    igq__prof_add(f->lp, t0, what, b, IGQ_LAYER_LINEAR, f->rows, l->out, l->in,
                  2.0 * R * l->out * l->in + extra_ops,
                  4.0 * (R * l->in + (double)l->in * l->out + l->out + R * l->out));
}

/* A row step (residual and / or LayerNorm over the chunk's rows), recorded as `what`. */
static void prof_rows(fwd *f, double t0, const char *what, int32_t b, int residual, int ln)
{
    const double RD = (double)f->rows * f->d->dim;
    igq__prof_add(f->lp, t0, what, b, ln ? IGQ_LAYER_LAYER_NORM : IGQ_LAYER_RESIDUAL, f->rows,
                  f->d->dim, 0, (residual ? OPS_RESIDUAL : 0.0) * RD + (ln ? OPS_LN : 0.0) * RD,
                  (residual ? 12.0 : 0.0) * RD + (ln ? 8.0 : 0.0) * RD);
}

/* The quantize-dequantize of one site (simulated executor), recorded as `what`. */
static void quant_site(fwd *f, const char *what, int32_t site, float *base, int64_t stride,
                       int64_t rows, int64_t cols)
{
    const double n = (double)f->B * rows * cols;
    double       t;
    if (f->hooks == NULL) return;
    t = igq__prof_t0(f->lp);
    hooks_at(f, HOOK_ONE, site, base, stride, rows, cols, cols);
    igq__prof_add(f->lp, t, what, f->block, IGQ_LAYER_QUANTIZE, f->B * rows, cols, 0,
                  OPS_QUANT * n, 8.0 * n);
}

static void forward_chunk(fwd *f)
{
    const igq_vit_dims *d = f->d;
    const int64_t       T = d->n_tokens, D = d->dim, M = d->mlp, B = f->B;
    const int64_t       NP = d->n_patches, H = d->heads, hd = d->head_dim;
    const int64_t       cpp = (int64_t)d->in_chans * d->patch * d->patch;
    const double        BTT = (double)B * T * T, BTD = (double)B * T * D;
    int32_t             b;
    double              t;

#define STOP_AT(blk, site) \
    if (f->stop_block == (blk) && f->stop_site == (site)) return

    igq__prof_start(f->lp);
    if (f->x_in == NULL) {
        t = igq__prof_t0(f->lp);
        run(f, B, step_patches);
        STOP_AT(-1, IGQ__SITE_PATCH_IN);
        /* One task per image, or several row tiles per image when images are fewer than
         * threads. */
        f->tiles = B >= f->threads ? 1 : ceil_div(f->threads, B);
        if (f->tiles > ceil_div(NP, ROW_ALIGN)) f->tiles = ceil_div(NP, ROW_ALIGN);
        run(f, B * f->tiles, step_embed);
        igq__prof_add(f->lp, t, "patch_embed", -1, IGQ_LAYER_PATCH_EMBED, B * NP, D, cpp,
                      2.0 * (double)B * NP * D * cpp,
                      4.0 * ((double)B * NP * cpp * 2.0 + (double)D * cpp + 2.0 * BTD));
    } else {
        memcpy(f->s.x, f->x_in + (size_t)f->first * T * D, (size_t)(B * T * D) * sizeof(float));
    }

    if (f->b0 < d->depth && f->start_phase == 0) {
        t = igq__prof_t0(f->lp);
        rows_step(f, 0, NULL, f->m->blocks[f->b0].ln1_w, f->m->blocks[f->b0].ln1_b);
        prof_rows(f, t, "norm1", f->b0, 0, 1);
    }
    for (b = f->b0; b < f->b1; b++) {
        const igq_block *blk   = &f->m->blocks[b];
        const igq_block *next  = b + 1 < d->depth ? &f->m->blocks[b + 1] : NULL;
        const int        phase = b == f->b0 ? f->start_phase : 0;
        const size_t     view  = (size_t)f->first * T * D, n_view = (size_t)(B * T * D);
        f->block               = b;
        if (phase == 0) {
            quant_site(f, "attn.qkv.quantize", IGQ__SITE_QKV_IN, f->s.h, T * D, T, D);
            STOP_AT(b, IGQ__SITE_QKV_IN);
            t = igq__prof_t0(f->lp);
            gemm(f, &blk->qkv, f->s.h, f->s.qkv, 0);
            prof_gemm(f, t, "attn.qkv", b, &blk->qkv, 0.0);
            t = igq__prof_t0(f->lp);
            hooks_at(f, HOOK_QKV, -1, f->s.qkv, T * 3 * D, T, D, 3 * D);
            run(f, B * d->heads, step_attention);
            igq__prof_add(f->lp, t, "attn", b, IGQ_LAYER_ATTENTION, T, T, hd,
                          4.0 * BTT * (double)H * hd + OPS_SOFTMAX * BTT * H +
                              (f->hooks != NULL ? 3.0 * OPS_QUANT * BTD : 0.0),
                          16.0 * BTD);
            if (f->o_out != NULL && b == f->b0)
                memcpy(f->o_out + view, f->s.o, n_view * sizeof(float));
        } else if (phase == 1) {
            memcpy(f->s.o, f->o_in + view, n_view * sizeof(float));
        }
        if (phase <= 1) {
            quant_site(f, "attn.proj.quantize", IGQ__SITE_PROJ_IN, f->s.o, T * D, T, D);
            STOP_AT(b, IGQ__SITE_PROJ_IN);
            t = igq__prof_t0(f->lp);
            gemm(f, &blk->proj, f->s.o, f->s.h, 0);
            prof_gemm(f, t, "attn.proj", b, &blk->proj, 0.0);
            t = igq__prof_t0(f->lp);
            rows_step(f, 1, blk->ls1, blk->ln2_w, blk->ln2_b);
            prof_rows(f, t, "norm2", b, 1, 1);
            if (f->mid_out != NULL && b == f->b0)
                memcpy(f->mid_out + view, f->s.x, n_view * sizeof(float));
        } else {
            /* x is the residual stream after the attention branch (x_in) */
            rows_step(f, 0, NULL, blk->ln2_w, blk->ln2_b);
        }
        quant_site(f, "mlp.fc1.quantize", IGQ__SITE_FC1_IN, f->s.h, T * D, T, D);
        STOP_AT(b, IGQ__SITE_FC1_IN);
        t = igq__prof_t0(f->lp);
        gemm(f, &blk->fc1, f->s.h, f->s.mlp, 1);
        prof_gemm(f, t, "mlp.fc1", b, &blk->fc1, OPS_GELU * (double)f->rows * M);
        quant_site(f, "mlp.fc2.quantize", IGQ__SITE_FC2_IN, f->s.mlp, T * M, T, M);
        STOP_AT(b, IGQ__SITE_FC2_IN);
        t = igq__prof_t0(f->lp);
        gemm(f, &blk->fc2, f->s.mlp, f->s.h, 0);
        prof_gemm(f, t, "mlp.fc2", b, &blk->fc2, 0.0);
        t = igq__prof_t0(f->lp);
        rows_step(f, 1, blk->ls2, next != NULL ? next->ln1_w : NULL,
                  next != NULL ? next->ln1_b : NULL);
        /* the residual of block b with the first LayerNorm of block b + 1 */
        if (next != NULL)
            prof_rows(f, t, "norm1", b + 1, 1, 1);
        else
            prof_rows(f, t, "residual2", b, 1, 0);
    }
#undef STOP_AT
    if (f->x_out != NULL)
        memcpy(f->x_out + (size_t)f->first * T * D, f->s.x, (size_t)(B * T * D) * sizeof(float));
    if (f->b1 < d->depth) return;
    t = igq__prof_t0(f->lp);
    run(f, B, step_classify);
    if (f->feat) /* final norm and pooling only */
        igq__prof_add(f->lp, t, "head", -1, IGQ_LAYER_HEAD, B * (d->has_dist ? 2 : 1), D, 0,
                      OPS_LN * BTD, 4.0 * (BTD + (double)B * D));
    else
        igq__prof_add(f->lp, t, "head", -1, IGQ_LAYER_HEAD, B * (d->has_dist ? 2 : 1),
                      d->classes, D,
                      2.0 * (double)B * (d->has_dist ? 2 : 1) * d->classes * D + OPS_LN * BTD,
                      4.0 * (BTD + (double)(d->has_dist ? 2 : 1) * d->classes * (D + 1)));
}

void igq__forward(const struct igq_model *m, const float *images, int64_t batch, float *logits,
                  float *scratch, const igq_site_hook *hook)
{
    igq__forward_par(m, images, batch, logits, 0, scratch, hook, NULL, NULL);
}

void igq__forward_out(const struct igq_model *m, const float *images, int64_t batch, float *out,
                      float *scratch, const igq_site_hook *hook)
{
    igq__forward_par(m, images, batch, out, m->d.classes == 0, scratch, hook, NULL, NULL);
}

static void forward_run(const struct igq_model *m, const float *images, int64_t batch,
                        float *logits, int feat, float *scratch, const igq_site_hook *hooks,
                        igq_threadpool *pool, igq_prof *prof, const igq_forward_range *range)
{
    const igq_vit_dims *d      = &m->d;
    const size_t        img_sz = (size_t)d->in_chans * d->img_h * d->img_w;
    const int64_t       chunk  = igq__forward_chunk(d, batch);
    fwd                 f      = {.m = m, .d = &m->d, .hooks = hooks, .pool = pool, .lp = prof};
    int64_t             i;
    f.b1         = d->depth;
    f.stop_block = -2; /* no site */
    if (range != NULL) {
        f.b0         = range->b0;
        f.b1         = range->b1;
        f.stop_block = range->stop_block;
        f.stop_site  = range->stop_site;
        f.x_in       = range->x_in;
        f.x_out      = range->x_out;
        f.start_phase = range->start_phase;
        f.o_in        = range->o_in;
        f.o_out       = range->o_out;
        f.mid_out     = range->mid_out;
    }
    f.threads      = igq__pool_size(pool);
    f.feat         = feat;
    f.ow           = feat ? d->dim : d->classes;
    f.local0       = scratch + layout_shared(d, chunk, scratch, &f.s);
    f.local_stride = layout_local(d, NULL, NULL);
    for (i = 0; i < batch; i += chunk) {
        f.B      = batch - i < chunk ? batch - i : chunk;
        f.rows   = f.B * d->n_tokens;
        f.first  = i;
        f.images = images != NULL ? images + (size_t)i * img_sz : NULL;
        f.logits = logits != NULL ? logits + (size_t)i * f.ow : NULL;
        forward_chunk(&f);
    }
}

void igq__forward_par(const struct igq_model *m, const float *images, int64_t batch,
                      float *logits, int feat, float *scratch, const igq_site_hook *hooks,
                      igq_threadpool *pool, igq_prof *prof)
{
    forward_run(m, images, batch, logits, feat, scratch, hooks, pool, prof, NULL);
}

void igq__forward_range(const struct igq_model *m, const float *images, int64_t batch,
                        float *logits, float *scratch, const igq_site_hook *hook,
                        const igq_forward_range *range)
{
    /* logits of a model without a classifier: its embeddings (igq__forward_out) */
    forward_run(m, images, batch, logits, m->d.classes == 0, scratch, hook, NULL, NULL, range);
}
