/* Image preprocessing: resize as Pillow's Image.resize does on 8-bit images, torchvision's
 * CenterCrop, then scale and normalize into a [B, C, H, W] f32 batch.
 *
 * Pillow's resampling (what torchvision's and Hugging Face's transforms run on PIL images) is a
 * separable convolution: for each output column the filter (triangle for bilinear, Keys cubic
 * with a = -0.5 for bicubic) is centred on the column's centre in input coordinates, its support
 * widened by the downscale factor (antialiasing), its taps normalized to sum 1 and rounded to
 * fixed point with 22 fraction bits. The horizontal pass runs first into an 8-bit intermediate
 * image (rounded with a half bias, clipped to 0..255), then the vertical pass. Every output
 * value depends only on the intermediate rows its taps read, so resampling only the rows and
 * columns the crop keeps gives the same values as resizing the whole image and cropping. */
#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../core/tensor.h"
#include "preproc.h"
#include "vit.h"

#define PRECISION_BITS 22 /* 32 - 8 - 2: 8-bit values times taps stay inside an int32 */

static double filter_bilinear(double x)
{
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Keys' cubic convolution kernel with a = -0.5, as Pillow. */
static double filter_bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

/* Taps of one pass: for output position i, input positions [lo[i], lo[i] + n[i]) with fixed
 * point weights k[i * ksize ...]. */
typedef struct taps {
    int32_t  ksize;
    int32_t *lo, *n;
    int32_t *k;
} taps;

static void taps_free(taps *t)
{
    igq__free(t->lo);
    igq__free(t->n);
    igq__free(t->k);
    t->lo = t->n = t->k = NULL;
}

int32_t igq__aa_taps_max(int64_t in_size, int64_t out_size, int bicubic)
{
    const double scale = (double)in_size / (double)out_size;
    return (int32_t)ceil((bicubic ? 2.0 : 1.0) * (scale < 1.0 ? 1.0 : scale)) * 2 + 1;
}

int32_t igq__aa_taps(int64_t in_size, int64_t out_size, int64_t i, int bicubic, double *w,
                     int32_t cap, int64_t *first)
{
    double (*filter)(double) = bicubic ? filter_bicubic : filter_bilinear;
    const double scale       = (double)in_size / (double)out_size;
    const double fscale      = scale < 1.0 ? 1.0 : scale;
    const double support     = (bicubic ? 2.0 : 1.0) * fscale;
    const double center      = ((double)i + 0.5) * scale, ss = 1.0 / fscale;
    int64_t      lo = (int64_t)(center - support + 0.5), hi = (int64_t)(center + support + 0.5);
    double       sum = 0.0;
    int32_t      x, n;
    if (lo < 0) lo = 0;
    if (hi > in_size) hi = in_size;
    n = (int32_t)(hi - lo < cap ? hi - lo : cap); /* cap: at least igq__aa_taps_max */
    for (x = 0; x < n; x++) {
        w[x] = filter(((double)(x + lo) - center + 0.5) * ss);
        sum += w[x];
    }
    if (sum != 0.0)
        for (x = 0; x < n; x++) w[x] /= sum;
    *first = lo;
    return n;
}

/* The taps Pillow computes for resizing in_size samples to out_size (box = whole image), for
 * the output positions [o0, o1) only (tap i - o0 of t for output i), in Pillow's fixed point. */
static igq_status taps_make(int32_t in_size, int32_t out_size, int32_t o0, int32_t o1,
                            int32_t interp, taps *t)
{
    const int bicubic = interp == IGQ__INTERP_BICUBIC;
    double   *w;
    int32_t   i, x;
    t->ksize = igq__aa_taps_max(in_size, out_size, bicubic);
    t->lo    = (int32_t *)igq__malloc((size_t)(o1 - o0) * sizeof(int32_t));
    t->n     = (int32_t *)igq__malloc((size_t)(o1 - o0) * sizeof(int32_t));
    t->k     = (int32_t *)igq__calloc((size_t)(o1 - o0) * (size_t)t->ksize, sizeof(int32_t));
    w        = (double *)igq__malloc((size_t)t->ksize * sizeof(double));
    if (t->lo == NULL || t->n == NULL || t->k == NULL || w == NULL) {
        igq__free(w);
        taps_free(t);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "igq_image_preprocess: out of memory");
    }
    for (i = o0; i < o1; i++) {
        int64_t  lo;
        int32_t  n = igq__aa_taps(in_size, out_size, i, bicubic, w, t->ksize, &lo);
        int32_t *k = t->k + (size_t)(i - o0) * (size_t)t->ksize;
        for (x = 0; x < n; x++) {
            const double v = w[x];
            /* rounded half away from zero, then truncated: Pillow's conversion */
            k[x] = v < 0.0 ? (int32_t)(-0.5 + v * (1 << PRECISION_BITS))
                           : (int32_t)(0.5 + v * (1 << PRECISION_BITS));
        }
        t->lo[i - o0] = (int32_t)lo;
        t->n[i - o0]  = n;
    }
    igq__free(w);
    return IGQ_OK;
}

static uint8_t clip8(int64_t acc)
{
    if (acc < 0) return 0;
    acc >>= PRECISION_BITS;
    return (uint8_t)(acc > 255 ? 255 : acc);
}

/* torchvision's CenterCrop offset: int(round((size - crop) / 2.0)) with Python's round half
 * to even; when the crop is larger, the image is padded by (crop - size) // 2 before. */
static int32_t crop_offset(int32_t size, int32_t crop)
{
    int32_t d = size - crop, q;
    if (d < 0) return -((-d) / 2);
    q = d / 2;
    if (d % 2 != 0 && q % 2 != 0) q++; /* q + 0.5 rounds to the even neighbour */
    return q;
}

igq_status igq__image_resize_crop_u8(const uint8_t *src, int32_t w, int32_t h, int32_t pixel,
                                     int32_t ch, int64_t stride, int32_t rw, int32_t rh,
                                     int32_t interp, int32_t crop_w, int32_t crop_h,
                                     uint8_t *out)
{
    const int32_t left = crop_offset(rw, crop_w), top = crop_offset(rh, crop_h);
    /* output columns / rows of the resized image the crop keeps: [x0, x1), [y0, y1) */
    const int32_t x0 = left < 0 ? 0 : left, x1 = left + crop_w > rw ? rw : left + crop_w;
    const int32_t y0 = top < 0 ? 0 : top, y1 = top + crop_h > rh ? rh : top + crop_h;
    const int     need_h = rw != w, need_v = rh != h;
    taps          th = {0, NULL, NULL, NULL}, tv = {0, NULL, NULL, NULL};
    uint8_t      *tmp = NULL;
    int32_t       r0, r1, ncol, x, y, c;
    igq_status    s = IGQ_OK;

    memset(out, 0, (size_t)crop_w * (size_t)crop_h * (size_t)ch);
    if (x0 >= x1 || y0 >= y1) return IGQ_OK;
    ncol = x1 - x0;
    if (need_h) IGQ_TRY(taps_make(w, rw, x0, x1, interp, &th));
    if (need_v) {
        s = taps_make(h, rh, y0, y1, interp, &tv);
        if (s != IGQ_OK) goto done;
        r0 = tv.lo[0];
        r1 = r0;
        for (y = 0; y < y1 - y0; y++) {
            if (tv.lo[y] < r0) r0 = tv.lo[y];
            if (tv.lo[y] + tv.n[y] > r1) r1 = tv.lo[y] + tv.n[y];
        }
    } else {
        r0 = y0;
        r1 = y1;
    }
    /* horizontal pass (or a copy of the kept columns) over input rows [r0, r1) */
    tmp = (uint8_t *)igq__malloc((size_t)(r1 - r0) * (size_t)ncol * (size_t)ch + 1);
    if (tmp == NULL) {
        s = igq__set_error(IGQ_ERR_NO_MEMORY, "igq_image_preprocess: out of memory");
        goto done;
    }
    for (y = r0; y < r1; y++) {
        const uint8_t *row = src + (int64_t)y * stride;
        uint8_t       *o   = tmp + (size_t)(y - r0) * (size_t)ncol * (size_t)ch;
        for (x = x0; x < x1; x++) {
            for (c = 0; c < ch; c++) {
                if (need_h) {
                    const int32_t  xi  = x - x0;
                    const int32_t *k   = th.k + (size_t)xi * (size_t)th.ksize;
                    const uint8_t *p   = row + (size_t)th.lo[xi] * (size_t)pixel + (size_t)c;
                    int64_t        acc = 1 << (PRECISION_BITS - 1);
                    int32_t        j;
                    for (j = 0; j < th.n[xi]; j++) acc += (int64_t)p[(size_t)j * pixel] * k[j];
                    o[(size_t)(x - x0) * ch + c] = clip8(acc);
                } else {
                    o[(size_t)(x - x0) * ch + c] = row[(size_t)x * pixel + c];
                }
            }
        }
    }
    /* vertical pass into the crop */
    for (y = y0; y < y1; y++) {
        uint8_t *o = out + ((size_t)(y - top) * crop_w + (size_t)(x0 - left)) * ch;
        if (!need_v) {
            memcpy(o, tmp + (size_t)(y - r0) * ncol * ch, (size_t)ncol * ch);
            continue;
        }
        {
            const int32_t  yi  = y - y0;
            const int32_t *k   = tv.k + (size_t)yi * (size_t)tv.ksize;
            const uint8_t *col = tmp + (size_t)(tv.lo[yi] - r0) * ncol * ch;
            int32_t        i;
            for (i = 0; i < ncol * ch; i++) {
                int64_t acc = 1 << (PRECISION_BITS - 1);
                int32_t j;
                for (j = 0; j < tv.n[yi]; j++)
                    acc += (int64_t)col[(size_t)j * ncol * ch + i] * k[j];
                o[i] = clip8(acc);
            }
        }
    }
done:
    igq__free(tmp);
    if (need_h) taps_free(&th);
    if (need_v) taps_free(&tv);
    return s;
}

/* ---- the transform of a model ------------------------------------------------------------- */

void igq__preproc_timm(int32_t img_h, int32_t img_w, double crop_pct, int squash, int32_t interp,
                       igq_preproc *out)
{
    /* timm's transforms_imagenet_eval: scale_size = math.floor(img_size / crop_pct) per side */
    double sh = floor((double)img_h / crop_pct), sw = floor((double)img_w / crop_pct);
    out->resize_h    = sh > 65536.0 ? 65536 : sh < 1.0 ? 1 : (int32_t)sh;
    out->resize_w    = sw > 65536.0 ? 65536 : sw < 1.0 ? 1 : (int32_t)sw;
    out->interp      = interp;
    out->rescale_div = 255.0f;
    if (squash)
        out->resize_mode = IGQ__RESIZE_EXACT;
    else if (out->resize_h == out->resize_w)
        out->resize_mode = IGQ__RESIZE_SHORTER;
    else
        out->resize_mode = IGQ__RESIZE_RATIO;
}

void igq__model_preproc(const struct igq_model *m, igq_preproc *out)
{
    const igq_vit_dims *d = &m->d;
    if (m->has_preproc) {
        *out = m->preproc;
        return;
    }
    switch (d->naming) {
    case IGQ_NAMING_HF:
        /* ViTImageProcessor: resize to {height, width} bilinear, no crop */
        out->resize_mode = IGQ__RESIZE_EXACT;
        out->resize_h    = d->img_h;
        out->resize_w    = d->img_w;
        out->interp      = IGQ__INTERP_BILINEAR;
        out->rescale_div = 255.0f;
        break;
    case IGQ_NAMING_TORCHVISION: {
        /* the ImageNet preset of torchvision's ViT weights: Resize(256) bilinear, CenterCrop(224),
         * i.e. the crop is 87.5 % of the resized shorter side */
        int32_t side     = d->img_h < d->img_w ? d->img_h : d->img_w;
        out->resize_mode = IGQ__RESIZE_SHORTER;
        out->resize_h = out->resize_w = (int32_t)floor((double)side / 0.875);
        out->interp      = IGQ__INTERP_BILINEAR;
        out->rescale_div = 255.0f;
        break;
    }
    case IGQ_NAMING_TIMM:
    default:
        /* timm's ViT pretrained_cfg: crop_pct 0.9, bicubic, center crop */
        igq__preproc_timm(d->img_h, d->img_w, 0.9, 0, IGQ__INTERP_BICUBIC, out);
        break;
    }
}

int igq__preproc_valid(const igq_preproc *p)
{
    return p->resize_mode >= IGQ__RESIZE_NONE && p->resize_mode <= IGQ__RESIZE_RATIO &&
           p->resize_h >= 1 && p->resize_h <= 65536 && p->resize_w >= 1 &&
           p->resize_w <= 65536 &&
           (p->interp == IGQ__INTERP_BILINEAR || p->interp == IGQ__INTERP_BICUBIC) &&
           isfinite(p->rescale_div) && p->rescale_div > 0.0f;
}

void igq__preproc_stats(const struct igq_model *m, float *mean, float *std)
{
    static const float in_mean[3] = {0.485f, 0.456f, 0.406f}, in_std[3] = {0.229f, 0.224f, 0.225f};
    int32_t            c, C = m->d.in_chans;
    for (c = 0; c < C; c++) {
        if (m->has_norm_stats) {
            mean[c] = m->mean[c];
            std[c]  = m->std[c];
        } else if (m->d.naming == IGQ_NAMING_TORCHVISION && C == 3) {
            mean[c] = in_mean[c];
            std[c]  = in_std[c];
        } else {
            mean[c] = 0.5f;
            std[c]  = 0.5f;
        }
    }
}

/* Sides are capped so that a 65536:1 image cannot ask for a 2^32-pixel row. */
static int32_t side_cap(double v)
{
    if (!(v >= 1.0)) return 1;
    return v > 16777216.0 ? 16777216 : (int32_t)v;
}

void igq__preproc_resized_size(const igq_preproc *p, int32_t w, int32_t h, int32_t *rw,
                               int32_t *rh)
{
    switch (p->resize_mode) {
    case IGQ__RESIZE_SHORTER: {
        /* torchvision: new_long = int(size * long / short) */
        int32_t s = p->resize_h;
        if (w <= h) {
            *rw = s;
            *rh = side_cap((double)s * (double)h / (double)w);
        } else {
            *rh = s;
            *rw = side_cap((double)s * (double)w / (double)h);
        }
        break;
    }
    case IGQ__RESIZE_EXACT:
        *rw = p->resize_w;
        *rh = p->resize_h;
        break;
    case IGQ__RESIZE_RATIO: {
        /* timm's ResizeKeepRatio (longest = 0): ratio = min(h / th, w / tw), sides
         * round(side / ratio) with Python's round half to even (rint, default mode) */
        double rh_ = (double)h / p->resize_h, rw_ = (double)w / p->resize_w;
        double r   = rh_ < rw_ ? rh_ : rw_;
        *rh        = side_cap(rint((double)h / r));
        *rw        = side_cap(rint((double)w / r));
        break;
    }
    case IGQ__RESIZE_NONE:
    default:
        *rw = w;
        *rh = h;
        break;
    }
}

/* ---- igq_image_preprocess ----------------------------------------------------------------- */

igq_status igq_image_preprocess(const igq_model *model, const uint8_t *pixels, int32_t width,
                                int32_t height, int32_t channels, int64_t row_stride,
                                igq_tensor *images, int64_t index)
{
    static const char fn[] = "igq_image_preprocess";
    const igq_vit_dims *d;
    igq_preproc         p;
    float               mean[3], std[3];
    const uint8_t      *src;
    uint8_t            *gray = NULL, *crop = NULL;
    int32_t             C, H, W, ch, pixel, rw, rh, c;
    int64_t             stride, i, plane;
    float              *dst;
    igq_status          s;

    IGQ_CHECK(model != NULL && pixels != NULL && images != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "%s: NULL argument", fn);
    d = &model->d;
    IGQ_CHECK(width >= 1 && width <= 65536 && height >= 1 && height <= 65536,
              IGQ_ERR_INVALID_ARGUMENT, "%s: image of %d x %d pixels; sides must be in "
              "1..65536", fn, (int)width, (int)height);
    IGQ_CHECK(channels == 1 || channels == 3 || channels == 4, IGQ_ERR_INVALID_ARGUMENT,
              "%s: %d channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)", fn, (int)channels);
    IGQ_CHECK(row_stride >= (int64_t)width * channels, IGQ_ERR_INVALID_ARGUMENT,
              "%s: row_stride %lld below width x channels = %lld", fn, (long long)row_stride,
              (long long)width * channels);
    IGQ_CHECK(images->dtype == IGQ_DTYPE_F32, IGQ_ERR_INVALID_ARGUMENT,
              "%s: images must be an f32 tensor", fn);
    C = d->in_chans;
    H = d->img_h;
    W = d->img_w;
    IGQ_CHECK(C == 1 || C == 3, IGQ_ERR_UNSUPPORTED,
              "%s: the model takes %d input channels; only 1 and 3 are supported", fn, (int)C);
    IGQ_CHECK(images->ndim == 4 && images->shape[1] == C && images->shape[2] == H &&
                  images->shape[3] == W,
              IGQ_ERR_SHAPE, "%s: images must be [B, %d, %d, %d]", fn, (int)C, (int)H, (int)W);
    IGQ_CHECK(index >= 0 && index < images->shape[0], IGQ_ERR_OUT_OF_RANGE,
              "%s: index %lld outside the batch of %lld images", fn, (long long)index,
              (long long)images->shape[0]);

    igq__model_preproc(model, &p);
    igq__preproc_stats(model, mean, std);
    src    = pixels;
    stride = row_stride;
    pixel  = channels;
    ch     = channels == 1 ? 1 : 3; /* alpha dropped */
    if (C == 1 && ch == 3) {
        /* a gray model: Pillow's convert("L") first, L = (19595 R + 38470 G + 7471 B + 2^15)
         * >> 16, as a PIL pipeline converts before it resizes */
        int32_t x, y;
        gray = (uint8_t *)igq__malloc((size_t)width * (size_t)height);
        IGQ_CHECK(gray != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", fn);
        for (y = 0; y < height; y++) {
            const uint8_t *r = pixels + (int64_t)y * row_stride;
            for (x = 0; x < width; x++) {
                const uint8_t *q = r + (size_t)x * channels;
                gray[(size_t)y * width + x] =
                    (uint8_t)(((uint32_t)q[0] * 19595u + (uint32_t)q[1] * 38470u +
                               (uint32_t)q[2] * 7471u + 0x8000u) >> 16);
            }
        }
        src    = gray;
        stride = width;
        pixel  = 1;
        ch     = 1;
    }
    igq__preproc_resized_size(&p, width, height, &rw, &rh);
    crop = (uint8_t *)igq__malloc((size_t)H * (size_t)W * (size_t)ch);
    if (crop == NULL) {
        igq__free(gray);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: out of memory", fn);
    }
    s = igq__image_resize_crop_u8(src, width, height, pixel, ch, stride, rw, rh, p.interp, W, H,
                                  crop);
    igq__free(gray);
    if (s != IGQ_OK) {
        igq__free(crop);
        return s;
    }
    /* ToTensor then Normalize, in float as torchvision: (v / 255 - mean) / std; a gray image
     * for an RGB model is replicated (Pillow's convert("RGB")) */
    plane = (int64_t)H * W;
    dst   = (float *)images->data + index * C * plane;
    for (c = 0; c < C; c++) {
        const int32_t sc = ch == 1 ? 0 : c;
        for (i = 0; i < plane; i++) {
            float v = (float)crop[i * ch + sc] / p.rescale_div;
            dst[c * plane + i] = (v - mean[c]) / std[c];
        }
    }
    igq__free(crop);
    return IGQ_OK;
}
