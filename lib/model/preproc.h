/* Image preprocessing: the evaluation transform of a checkpoint (resize, center crop, scale,
 * normalize), with Pillow's resampling reproduced bit for bit on 8-bit images. Private header. */
#ifndef IGQ_MODEL_PREPROC_H
#define IGQ_MODEL_PREPROC_H

#include <stdint.h>

#include "igq/igq.h"

/* Resampling filters, numbered as Pillow's constants (Hugging Face's `resample` uses them). */
enum { IGQ__INTERP_BILINEAR = 2, IGQ__INTERP_BICUBIC = 3 };

/* How the image is resized before the center crop. */
enum {
    IGQ__RESIZE_NONE    = 0, /* no resize: crop (or zero-pad) the image as it is */
    IGQ__RESIZE_SHORTER = 1, /* shorter side to resize_h (= resize_w), aspect kept, as
                                torchvision's Resize(int) */
    IGQ__RESIZE_EXACT   = 2, /* to resize_h x resize_w exactly (timm squash, Hugging Face
                                {height, width}) */
    IGQ__RESIZE_RATIO   = 3  /* aspect kept, scaled by the smaller of h / resize_h and
                                w / resize_w, sides rounded half to even (timm's
                                ResizeKeepRatio, its non-square center mode) */
};

/* The resolved evaluation transform; the crop is always the model's input size. */
typedef struct igq_preproc {
    int32_t resize_mode;      /* IGQ__RESIZE_* */
    int32_t resize_h, resize_w;
    int32_t interp;           /* IGQ__INTERP_* */
    float   rescale_div;      /* pixel / rescale_div before normalization (255) */
} igq_preproc;

/* The transform a model was declared with, or the default of its naming scheme. */
void igq__model_preproc(const struct igq_model *m, igq_preproc *out);

/* timm's evaluation transform for an img_h x img_w input: scale size floor(side / crop_pct),
 * then resize the shorter side (square) or keep the ratio (non-square), or squash (exact). */
void igq__preproc_timm(int32_t img_h, int32_t img_w, double crop_pct, int squash, int32_t interp,
                       igq_preproc *out);

/* 1 if every field is in range (sides 1..65536, known mode and filter, finite divisor > 0). */
int igq__preproc_valid(const igq_preproc *p);

/* Mean and std igq_image_preprocess uses: the model's, else the default of its naming scheme
 * (torchvision: ImageNet's for 3 channels; otherwise 0.5 / 0.5). mean/std: in_chans floats. */
void igq__preproc_stats(const struct igq_model *m, float *mean, float *std);

/* Output size (rw, rh) of the resize step for a w x h image. */
void igq__preproc_resized_size(const igq_preproc *p, int32_t w, int32_t h, int32_t *rw,
                               int32_t *rh);

/* The antialiased resampling filter of Pillow (and of PyTorch's interpolate with
 * antialias=True) for output position i of a 1-D resize from in_size to out_size: the first
 * input position *first and n weights w[0..n) normalized to sum 1 (n is returned, at most cap;
 * cap >= igq__aa_taps_max gives every tap). bicubic: Keys' kernel with a = -0.5; else the
 * triangle (bilinear). The support widens with the scale when shrinking. */
int32_t igq__aa_taps(int64_t in_size, int64_t out_size, int64_t i, int bicubic, double *w,
                     int32_t cap, int64_t *first);
/* The most taps igq__aa_taps gives for these sizes. */
int32_t igq__aa_taps_max(int64_t in_size, int64_t out_size, int bicubic);

/* Pillow's Image.resize((rw, rh), interp) of an 8-bit image src (h rows of w pixels, each
 * `pixel` bytes of which the first `ch` are used, rows `stride` bytes apart), followed by
 * torchvision's CenterCrop((crop_h, crop_w)) (zero padding where the crop exceeds the image),
 * into out[crop_h][crop_w][ch]. Only the rows and columns the crop keeps are resampled; the
 * values equal Pillow's. IGQ_ERR_NO_MEMORY or IGQ_OK. */
igq_status igq__image_resize_crop_u8(const uint8_t *src, int32_t w, int32_t h, int32_t pixel,
                                     int32_t ch, int64_t stride, int32_t rw, int32_t rh,
                                     int32_t interp, int32_t crop_w, int32_t crop_h,
                                     uint8_t *out);

#endif
