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

/* The taps Pillow computes for resizing in_size samples to out_size (box = whole image). */
static igq_status taps_make(int32_t in_size, int32_t out_size, int32_t interp, taps *t)
{
    double (*filter)(double) = interp == IGQ__INTERP_BICUBIC ? filter_bicubic : filter_bilinear;
    const double fsupport    = interp == IGQ__INTERP_BICUBIC ? 2.0 : 1.0;
    const double scale       = (double)in_size / out_size;
    double       fscale      = scale < 1.0 ? 1.0 : scale;
    double       support     = fsupport * fscale;
    double      *w;
    int32_t      i, x;
    t->ksize = (int32_t)ceil(support) * 2 + 1;
    t->lo    = (int32_t *)igq__malloc((size_t)out_size * sizeof(int32_t));
    t->n     = (int32_t *)igq__malloc((size_t)out_size * sizeof(int32_t));
    t->k     = (int32_t *)igq__calloc((size_t)out_size * (size_t)t->ksize, sizeof(int32_t));
    w        = (double *)igq__malloc((size_t)t->ksize * sizeof(double));
    if (t->lo == NULL || t->n == NULL || t->k == NULL || w == NULL) {
        igq__free(w);
        taps_free(t);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "igq_image_preprocess: out of memory");
    }
    for (i = 0; i < out_size; i++) {
        double  center = (i + 0.5) * scale, ss = 1.0 / fscale, sum = 0.0;
        int32_t lo     = (int32_t)(center - support + 0.5);
        int32_t hi     = (int32_t)(center + support + 0.5);
        int32_t *k     = t->k + (size_t)i * (size_t)t->ksize;
        if (lo < 0) lo = 0;
        if (hi > in_size) hi = in_size;
        hi -= lo;
        if (hi > t->ksize) hi = t->ksize; /* cannot happen; keeps the writes in bounds */
        for (x = 0; x < hi; x++) {
            w[x] = filter(((double)(x + lo) - center + 0.5) * ss);
            sum += w[x];
        }
        for (x = 0; x < hi; x++) {
            double v = sum != 0.0 ? w[x] / sum : w[x];
            /* rounded half away from zero, then truncated: Pillow's conversion */
            k[x] = v < 0.0 ? (int32_t)(-0.5 + v * (1 << PRECISION_BITS))
                           : (int32_t)(0.5 + v * (1 << PRECISION_BITS));
        }
        t->lo[i] = lo;
        t->n[i]  = hi;
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
    if (need_h) IGQ_TRY(taps_make(w, rw, interp, &th));
    if (need_v) {
        s = taps_make(h, rh, interp, &tv);
        if (s != IGQ_OK) goto done;
        r0 = tv.lo[y0];
        r1 = r0;
        for (y = y0; y < y1; y++) {
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
                    const int32_t *k   = th.k + (size_t)x * (size_t)th.ksize;
                    const uint8_t *p   = row + (size_t)th.lo[x] * (size_t)pixel + (size_t)c;
                    int64_t        acc = 1 << (PRECISION_BITS - 1);
                    int32_t        j;
                    for (j = 0; j < th.n[x]; j++) acc += (int64_t)p[(size_t)j * pixel] * k[j];
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
            const int32_t *k   = tv.k + (size_t)y * (size_t)tv.ksize;
            const uint8_t *col = tmp + (size_t)(tv.lo[y] - r0) * ncol * ch;
            int32_t        i;
            for (i = 0; i < ncol * ch; i++) {
                int64_t acc = 1 << (PRECISION_BITS - 1);
                int32_t j;
                for (j = 0; j < tv.n[y]; j++) acc += (int64_t)col[(size_t)j * ncol * ch + i] * k[j];
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
