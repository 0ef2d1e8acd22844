/* Image preprocessing: the 8-bit resize + center crop against Pillow's (fixtures written by
 * tools/gen_preproc_fixtures.py), then igq_image_preprocess end to end. */
#include <math.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "igq/igq.h"
#include "model/preproc.h"
#include "support/st_writer.h"
#include "support/testutil.h"

static int mkdir_p(const char *d) { return mkdir(d, 0700) == 0 ? 0 : -1; }

static int32_t rd32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

/* Every case of cases.bin resampled as Pillow does; the equality share and largest difference
 * are printed, and the test asks for exact equality. */
static void test_pillow_fixtures(void **state)
{
    char          *path = tu_fixture_path("preproc/cases.bin");
    size_t         size = 0, off, total = 0, equal = 0;
    unsigned char *buf  = tu_read_file(path, &size);
    int32_t        n, i, maxdiff = 0;
    (void)state;
    assert_non_null(buf);
    assert_true(size >= 8 && memcmp(buf, "PPFX", 4) == 0);
    n   = rd32(buf + 4);
    off = 8;
    for (i = 0; i < n; i++) {
        const unsigned char *h = buf + off;
        int32_t w = rd32(h), hh = rd32(h + 4), ch = rd32(h + 8), rw = rd32(h + 12),
                rh = rd32(h + 16), interp = rd32(h + 20), cw = rd32(h + 24), chh = rd32(h + 28);
        size_t   in_n = (size_t)w * hh * ch, out_n = (size_t)cw * chh * ch, j;
        uint8_t *got  = (uint8_t *)malloc(out_n);
        int32_t  case_max = 0;
        size_t   case_eq  = 0;
        assert_true(off + 32 + in_n + out_n <= size);
        assert_non_null(got);
        assert_int_equal(igq__image_resize_crop_u8(h + 32, w, hh, ch, ch, (int64_t)w * ch, rw, rh,
                                                   interp, cw, chh, got),
                         IGQ_OK);
        for (j = 0; j < out_n; j++) {
            int32_t d = abs((int32_t)got[j] - (int32_t)h[32 + in_n + j]);
            case_eq += d == 0;
            if (d > case_max) case_max = d;
        }
        if (case_max != 0)
            printf("  case %d (%dx%dx%d -> %dx%d %s, crop %dx%d): %zu/%zu equal, max diff %d\n",
                   (int)i, (int)w, (int)hh, (int)ch, (int)rw, (int)rh,
                   interp == 3 ? "bicubic" : "bilinear", (int)cw, (int)chh, case_eq, out_n,
                   (int)case_max);
        if (case_max > maxdiff) maxdiff = case_max;
        total += out_n;
        equal += case_eq;
        free(got);
        off += 32 + in_n + out_n;
    }
    assert_int_equal(off, size);
    printf("  Pillow fixtures: %d cases, %zu/%zu values equal (%.4f %%), max difference %d\n",
           (int)n, equal, total, 100.0 * (double)equal / (double)total, (int)maxdiff);
    assert_int_equal(maxdiff, 0);
    free(buf);
    free(path);
}

/* ---- the resize size rules ----------------------------------------------------------------- */

static void test_resized_size(void **state)
{
    igq_preproc p = {IGQ__RESIZE_SHORTER, 256, 256, IGQ__INTERP_BILINEAR, 255.0f};
    int32_t     rw, rh;
    (void)state;
    igq__preproc_resized_size(&p, 640, 480, &rw, &rh); /* int(256 * 640 / 480) = 341 */
    assert_int_equal(rw, 341);
    assert_int_equal(rh, 256);
    igq__preproc_resized_size(&p, 480, 640, &rw, &rh);
    assert_int_equal(rw, 256);
    assert_int_equal(rh, 341);
    igq__preproc_resized_size(&p, 100, 100, &rw, &rh);
    assert_int_equal(rw, 256);
    assert_int_equal(rh, 256);
    p.resize_mode = IGQ__RESIZE_EXACT;
    p.resize_h    = 30;
    p.resize_w    = 40;
    igq__preproc_resized_size(&p, 7, 9, &rw, &rh);
    assert_int_equal(rw, 40);
    assert_int_equal(rh, 30);
    /* timm ResizeKeepRatio to (248, 275) of a 500 x 300 (w x h) image: ratio = min(300 / 248,
     * 500 / 275) = 1.2097, sides round(300 / r) = 248, round(500 / r) = 413 */
    p.resize_mode = IGQ__RESIZE_RATIO;
    p.resize_h    = 248;
    p.resize_w    = 275;
    igq__preproc_resized_size(&p, 500, 300, &rw, &rh);
    assert_int_equal(rh, 248);
    assert_int_equal(rw, 413);
    p.resize_mode = IGQ__RESIZE_NONE;
    igq__preproc_resized_size(&p, 7, 9, &rw, &rh);
    assert_int_equal(rw, 7);
    assert_int_equal(rh, 9);
    /* a 65536:1 image asks for a long side far beyond 65536: capped, not overflowed */
    p.resize_mode = IGQ__RESIZE_SHORTER;
    p.resize_h = p.resize_w = 65536;
    igq__preproc_resized_size(&p, 65536, 1, &rw, &rh);
    assert_int_equal(rh, 65536);
    assert_int_equal(rw, 16777216);
    /* timm: floor(224 / 0.9) = 248 shorter side; non-square input keeps the ratio */
    igq__preproc_timm(224, 224, 0.9, 0, IGQ__INTERP_BICUBIC, &p);
    assert_int_equal(p.resize_mode, IGQ__RESIZE_SHORTER);
    assert_int_equal(p.resize_h, 248);
    igq__preproc_timm(224, 160, 0.875, 0, IGQ__INTERP_BICUBIC, &p);
    assert_int_equal(p.resize_mode, IGQ__RESIZE_RATIO);
    assert_int_equal(p.resize_h, 256);
    assert_int_equal(p.resize_w, 182);
    igq__preproc_timm(224, 224, 1.0, 1, IGQ__INTERP_BILINEAR, &p);
    assert_int_equal(p.resize_mode, IGQ__RESIZE_EXACT);
    assert_int_equal(p.resize_h, 224);
}

/* A huge upscale only resamples the kept window: 1 x 1 -> 60000 x 60000, crop 4 x 4. */
static void test_crop_window_only(void **state)
{
    const uint8_t px[3] = {10, 200, 77};
    uint8_t       out[4 * 4 * 3];
    int           i;
    (void)state;
    assert_int_equal(igq__image_resize_crop_u8(px, 1, 1, 3, 3, 3, 60000, 60000,
                                               IGQ__INTERP_BICUBIC, 4, 4, out),
                     IGQ_OK);
    for (i = 0; i < 16; i++) {
        assert_int_equal(out[3 * i], 10);
        assert_int_equal(out[3 * i + 1], 200);
        assert_int_equal(out[3 * i + 2], 77);
    }
}

/* ---- igq_image_preprocess end to end ------------------------------------------------------- */

typedef struct ctx {
    char      *dir;
    igq_model *rgb;  /* 16 x 16 RGB timm model, metadata crop_pct 1, bilinear, mean/std */
    igq_model *gray; /* 16 x 16 gray timm model, no transform declared */
} ctx;

static igq_model *make_model(const char *dir, const char *name, int C, const char *meta_pct,
                             const char *meta_interp, int with_stats)
{
    stw        w;
    char      *path;
    igq_model *m = NULL;
    stw_init(&w);
    stw_timm_vit(&w, 1, 32, 2, 32, 5, C, 16, 8, 0, 7);
    if (meta_pct != NULL) stw_meta(&w, "crop_pct", meta_pct);
    if (meta_interp != NULL) stw_meta(&w, "interpolation", meta_interp);
    if (with_stats) {
        stw_meta(&w, "mean", C == 3 ? "0.1,0.2,0.3" : "0.25");
        stw_meta(&w, "std", C == 3 ? "0.5,0.25,0.125" : "0.5");
    }
    path = stw_write(&w, dir, name);
    if (igq_model_load(path, &m) != IGQ_OK) fprintf(stderr, "%s\n", igq_last_error());
    free(path);
    stw_free(&w);
    return m;
}

static int setup(void **state)
{
    ctx *c = (ctx *)calloc(1, sizeof *c);
    if (c == NULL) return -1;
    c->dir  = tu_make_tmpdir();
    c->rgb  = make_model(c->dir, "rgb.safetensors", 3, "1.0", "bilinear", 1);
    c->gray = make_model(c->dir, "gray.safetensors", 1, NULL, NULL, 0);
    *state  = c;
    return c->rgb != NULL && c->gray != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    ctx *c = (ctx *)*state;
    igq_model_free(c->rgb);
    igq_model_free(c->gray);
    tu_rmdir_r(c->dir);
    free(c->dir);
    free(c);
    return 0;
}

static void pattern(uint8_t *p, int n, unsigned seed)
{
    int i;
    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

static int64_t prop(const igq_model *m, igq_model_prop p)
{
    int64_t v = -1;
    assert_int_equal(igq_model_info(m, p, &v), IGQ_OK);
    return v;
}

/* crop_pct 1 and an image of the input size: the pixels pass unchanged, then
 * (v / 255 - mean) / std in float. */
static void test_passthrough_normalize(void **state)
{
    ctx        *c         = (ctx *)*state;
    int64_t     shape[4]  = {1, 3, 16, 16};
    igq_tensor *t         = NULL;
    uint8_t     px[16 * 16 * 3];
    const float mean[3] = {0.1f, 0.2f, 0.3f}, std[3] = {0.5f, 0.25f, 0.125f};
    float      *f;
    int         ch, i;
    assert_int_equal(prop(c->rgb, IGQ_PROP_PREPROC_DECLARED), 1);
    assert_int_equal(prop(c->rgb, IGQ_PROP_RESIZE_MODE), 1);
    assert_int_equal(prop(c->rgb, IGQ_PROP_RESIZE_HEIGHT), 16);
    assert_int_equal(prop(c->rgb, IGQ_PROP_RESIZE_WIDTH), 16);
    assert_int_equal(prop(c->rgb, IGQ_PROP_INTERPOLATION), 2);
    pattern(px, (int)sizeof px, 3);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &t), IGQ_OK);
    assert_int_equal(igq_image_preprocess(c->rgb, px, 16, 16, 3, 48, t, 0), IGQ_OK);
    f = (float *)igq_tensor_data(t);
    for (ch = 0; ch < 3; ch++)
        for (i = 0; i < 256; i++) {
            float v = (float)px[i * 3 + ch] / 255.0f;
            assert_true(f[ch * 256 + i] == (v - mean[ch]) / std[ch]);
        }
    igq_tensor_free(t);
}

/* A 40 x 24 RGB image into image 1 of a batch of 3; the same through RGBA, gray -> RGB and
 * padded rows; images 0 and 2 stay untouched. */
static void test_variants(void **state)
{
    ctx        *c        = (ctx *)*state;
    int64_t     shape[4] = {3, 3, 16, 16};
    igq_tensor *a = NULL, *b = NULL;
    enum { W = 40, H = 24 };
    uint8_t     rgb[W * H * 3], rgba[W * H * 4], gray[W * H], g3[W * H * 3];
    uint8_t    *padded = (uint8_t *)malloc((size_t)H * (W * 3 + 13));
    uint8_t     crop[16 * 16 * 3];
    const float mean[3] = {0.1f, 0.2f, 0.3f}, std[3] = {0.5f, 0.25f, 0.125f};
    float      *fa, *fb;
    int         i, ch;
    assert_non_null(padded);
    pattern(rgb, (int)sizeof rgb, 11);
    pattern(gray, (int)sizeof gray, 12);
    for (i = 0; i < W * H; i++) {
        memcpy(rgba + 4 * i, rgb + 3 * i, 3);
        rgba[4 * i + 3] = (uint8_t)(i * 37);
        g3[3 * i] = g3[3 * i + 1] = g3[3 * i + 2] = gray[i];
    }
    for (i = 0; i < H; i++) {
        memcpy(padded + (size_t)i * (W * 3 + 13), rgb + i * W * 3, W * 3);
        memset(padded + (size_t)i * (W * 3 + 13) + W * 3, 0xAB, 13);
    }
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &a), IGQ_OK);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &b), IGQ_OK);
    fa = (float *)igq_tensor_data(a);
    fb = (float *)igq_tensor_data(b);
    /* reference: shorter side 24 -> 16 (crop_pct 1), 40 -> int(16 * 40 / 24) = 26, crop 16 */
    assert_int_equal(igq_image_preprocess(c->rgb, rgb, W, H, 3, W * 3, a, 1), IGQ_OK);
    assert_int_equal(igq__image_resize_crop_u8(rgb, W, H, 3, 3, W * 3, 26, 16,
                                               IGQ__INTERP_BILINEAR, 16, 16, crop),
                     IGQ_OK);
    for (ch = 0; ch < 3; ch++)
        for (i = 0; i < 256; i++) {
            float v = (float)crop[i * 3 + ch] / 255.0f;
            assert_true(fa[768 + ch * 256 + i] == (v - mean[ch]) / std[ch]);
        }
    for (i = 0; i < 768; i++) {
        assert_true(fa[i] == 0.0f);
        assert_true(fa[1536 + i] == 0.0f);
    }
    assert_int_equal(igq_image_preprocess(c->rgb, rgba, W, H, 4, W * 4, b, 1), IGQ_OK);
    assert_memory_equal(fa, fb, 3 * 768 * sizeof(float));
    memset(fb, 0, 3 * 768 * sizeof(float));
    assert_int_equal(igq_image_preprocess(c->rgb, padded, W, H, 3, W * 3 + 13, b, 1), IGQ_OK);
    assert_memory_equal(fa, fb, 3 * 768 * sizeof(float));
    /* gray for an RGB model: the same as the gray image replicated into RGB */
    assert_int_equal(igq_image_preprocess(c->rgb, gray, W, H, 1, W, a, 2), IGQ_OK);
    assert_int_equal(igq_image_preprocess(c->rgb, g3, W, H, 3, W * 3, b, 2), IGQ_OK);
    assert_memory_equal(fa + 1536, fb + 1536, 768 * sizeof(float));
    igq_tensor_free(a);
    igq_tensor_free(b);
    free(padded);
}

/* RGB for a gray model: Pillow's convert("L") first; the model declares no transform, so
 * timm's default (crop_pct 0.9 -> floor(16 / 0.9) = 17, bicubic) and mean/std 0.5 apply. */
static void test_rgb_to_gray_defaults(void **state)
{
    ctx        *c        = (ctx *)*state;
    int64_t     shape[4] = {1, 1, 16, 16};
    igq_tensor *t        = NULL;
    enum { W = 30, H = 20 };
    uint8_t     rgb[W * H * 3], l[W * H], crop[256];
    float      *f;
    int         i;
    assert_int_equal(prop(c->gray, IGQ_PROP_PREPROC_DECLARED), 0);
    assert_int_equal(prop(c->gray, IGQ_PROP_RESIZE_MODE), 1);
    assert_int_equal(prop(c->gray, IGQ_PROP_RESIZE_HEIGHT), 17);
    assert_int_equal(prop(c->gray, IGQ_PROP_INTERPOLATION), 3);
    pattern(rgb, (int)sizeof rgb, 5);
    /* Pillow's L = (19595 R + 38470 G + 7471 B + 2^15) >> 16, checked against Pillow 9.4 on
     * 200,000 random colours when this test was written */
    for (i = 0; i < W * H; i++)
        l[i] = (uint8_t)((rgb[3 * i] * 19595u + rgb[3 * i + 1] * 38470u +
                          rgb[3 * i + 2] * 7471u + 0x8000u) >> 16);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &t), IGQ_OK);
    assert_int_equal(igq_image_preprocess(c->gray, rgb, W, H, 3, W * 3, t, 0), IGQ_OK);
    /* 20 -> 17, 30 -> int(17 * 30 / 20) = 25; crop 16 */
    assert_int_equal(igq__image_resize_crop_u8(l, W, H, 1, 1, W, 25, 17, IGQ__INTERP_BICUBIC, 16,
                                               16, crop),
                     IGQ_OK);
    f = (float *)igq_tensor_data(t);
    for (i = 0; i < 256; i++) assert_true(f[i] == ((float)crop[i] / 255.0f - 0.5f) / 0.5f);
    igq_tensor_free(t);
}

static void expect_error(igq_status got, igq_status want, const char *needle)
{
    assert_int_equal(got, want);
    if (strstr(igq_last_error(), needle) == NULL) {
        fprintf(stderr, "message '%s' lacks '%s'\n", igq_last_error(), needle);
        fail();
    }
}

static void test_errors(void **state)
{
    ctx        *c      = (ctx *)*state;
    int64_t     shape[4] = {2, 3, 16, 16}, bad[4] = {2, 3, 16, 15}, s3[3] = {3, 16, 16};
    igq_tensor *t = NULL, *tb = NULL, *t3 = NULL;
    uint8_t     px[8 * 8 * 4] = {0};
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &t), IGQ_OK);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, bad, &tb), IGQ_OK);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 3, s3, &t3), IGQ_OK);
    expect_error(igq_image_preprocess(NULL, px, 8, 8, 3, 24, t, 0), IGQ_ERR_INVALID_ARGUMENT,
                 "NULL");
    expect_error(igq_image_preprocess(c->rgb, NULL, 8, 8, 3, 24, t, 0),
                 IGQ_ERR_INVALID_ARGUMENT, "NULL");
    expect_error(igq_image_preprocess(c->rgb, px, 8, 8, 3, 24, NULL, 0),
                 IGQ_ERR_INVALID_ARGUMENT, "NULL");
    expect_error(igq_image_preprocess(c->rgb, px, 0, 8, 3, 24, t, 0), IGQ_ERR_INVALID_ARGUMENT,
                 "0 x 8 pixels");
    expect_error(igq_image_preprocess(c->rgb, px, 8, -1, 3, 24, t, 0), IGQ_ERR_INVALID_ARGUMENT,
                 "8 x -1 pixels");
    expect_error(igq_image_preprocess(c->rgb, px, 70000, 1, 3, 210000, t, 0),
                 IGQ_ERR_INVALID_ARGUMENT, "1..65536");
    expect_error(igq_image_preprocess(c->rgb, px, 8, 8, 2, 16, t, 0), IGQ_ERR_INVALID_ARGUMENT,
                 "2 channels");
    expect_error(igq_image_preprocess(c->rgb, px, 8, 8, 0, 16, t, 0), IGQ_ERR_INVALID_ARGUMENT,
                 "0 channels");
    expect_error(igq_image_preprocess(c->rgb, px, 8, 8, 3, 23, t, 0), IGQ_ERR_INVALID_ARGUMENT,
                 "row_stride 23");
    expect_error(igq_image_preprocess(c->rgb, px, 8, 8, 3, 24, tb, 0), IGQ_ERR_SHAPE,
                 "[B, 3, 16, 16]");
    expect_error(igq_image_preprocess(c->rgb, px, 8, 8, 3, 24, t3, 0), IGQ_ERR_SHAPE,
                 "[B, 3, 16, 16]");
    expect_error(igq_image_preprocess(c->gray, px, 8, 8, 3, 24, t, 0), IGQ_ERR_SHAPE,
                 "[B, 1, 16, 16]");
    expect_error(igq_image_preprocess(c->rgb, px, 8, 8, 3, 24, t, 2), IGQ_ERR_OUT_OF_RANGE,
                 "index 2 outside the batch of 2");
    expect_error(igq_image_preprocess(c->rgb, px, 8, 8, 3, 24, t, -1), IGQ_ERR_OUT_OF_RANGE,
                 "index -1");
    assert_int_equal(igq_image_preprocess(c->rgb, px, 8, 8, 4, 32, t, 1), IGQ_OK);
    igq_tensor_free(t);
    igq_tensor_free(tb);
    igq_tensor_free(t3);
}

/* ---- where the transform comes from -------------------------------------------------------- */

static igq_model *load_with(const char *dir, const char *sub, const char *cfg_name,
                            const char *cfg, const char *meta_interp, igq_status want,
                            const char *needle)
{
    char       d[1024];
    stw        w;
    char      *path, *cp;
    igq_model *m = NULL;
    igq_status s;
    snprintf(d, sizeof d, "%s/%s", dir, sub);
    assert_int_equal(mkdir_p(d), 0);
    stw_init(&w);
    stw_timm_vit(&w, 1, 32, 2, 32, 5, 3, 16, 8, 0, 3);
    if (meta_interp != NULL) stw_meta(&w, "interpolation", meta_interp);
    path = stw_write(&w, d, "model.safetensors");
    cp   = cfg != NULL ? tu_write_file(d, cfg_name, cfg, strlen(cfg)) : NULL;
    s    = igq_model_load(path, &m);
    if (s != want) fprintf(stderr, "%s: %s\n", sub, igq_last_error());
    assert_int_equal(s, want);
    if (needle != NULL) assert_non_null(strstr(igq_last_error(), needle));
    free(path);
    free(cp);
    stw_free(&w);
    return m;
}

static void test_sources(void **state)
{
    ctx       *c = (ctx *)*state;
    igq_model *m;
    /* timm's pretrained_cfg: floor(16 / 0.875) = 18, bilinear */
    m = load_with(c->dir, "timm", "config.json",
                  "{\"pretrained_cfg\": {\"input_size\": [3, 16, 16], \"interpolation\": "
                  "\"bilinear\", \"crop_pct\": 0.875, \"crop_mode\": \"center\"}}",
                  NULL, IGQ_OK, NULL);
    assert_int_equal(prop(m, IGQ_PROP_PREPROC_DECLARED), 1);
    assert_int_equal(prop(m, IGQ_PROP_RESIZE_MODE), 1);
    assert_int_equal(prop(m, IGQ_PROP_RESIZE_HEIGHT), 18);
    assert_int_equal(prop(m, IGQ_PROP_INTERPOLATION), 2);
    igq_model_free(m);
    /* squash */
    m = load_with(c->dir, "squash", "config.json",
                  "{\"pretrained_cfg\": {\"crop_pct\": 1.0, \"crop_mode\": \"squash\"}}", NULL,
                  IGQ_OK, NULL);
    assert_int_equal(prop(m, IGQ_PROP_RESIZE_MODE), 2);
    assert_int_equal(prop(m, IGQ_PROP_INTERPOLATION), 3);
    igq_model_free(m);
    /* metadata wins over the config */
    m = load_with(c->dir, "meta", "config.json",
                  "{\"pretrained_cfg\": {\"interpolation\": \"bilinear\"}}", "bicubic", IGQ_OK,
                  NULL);
    assert_int_equal(prop(m, IGQ_PROP_INTERPOLATION), 3);
    assert_int_equal(prop(m, IGQ_PROP_RESIZE_HEIGHT), 17);
    igq_model_free(m);
    /* Hugging Face: {shortest_edge}, bicubic (3), crop */
    m = load_with(c->dir, "hf1", "preprocessor_config.json",
                  "{\"do_resize\": true, \"size\": {\"shortest_edge\": 20}, \"resample\": 3, "
                  "\"do_center_crop\": true, \"crop_size\": {\"height\": 16, \"width\": 16}, "
                  "\"rescale_factor\": 0.00392156862745098}",
                  NULL, IGQ_OK, NULL);
    assert_int_equal(prop(m, IGQ_PROP_RESIZE_MODE), 1);
    assert_int_equal(prop(m, IGQ_PROP_RESIZE_HEIGHT), 20);
    assert_int_equal(prop(m, IGQ_PROP_INTERPOLATION), 3);
    igq_model_free(m);
    /* Hugging Face: {height, width}, bilinear, no crop */
    m = load_with(c->dir, "hf2", "preprocessor_config.json",
                  "{\"size\": {\"height\": 16, \"width\": 16}, \"resample\": 2}", NULL, IGQ_OK,
                  NULL);
    assert_int_equal(prop(m, IGQ_PROP_RESIZE_MODE), 2);
    assert_int_equal(prop(m, IGQ_PROP_RESIZE_WIDTH), 16);
    assert_int_equal(prop(m, IGQ_PROP_INTERPOLATION), 2);
    igq_model_free(m);
    /* refused values */
    assert_null(load_with(c->dir, "e1", "config.json",
                          "{\"pretrained_cfg\": {\"interpolation\": \"lanczos\"}}", NULL,
                          IGQ_ERR_UNSUPPORTED, "interpolation 'lanczos'"));
    assert_null(load_with(c->dir, "e2", "config.json", "{\"pretrained_cfg\": {\"crop_pct\": 0}}",
                          NULL, IGQ_ERR_FORMAT, "crop_pct"));
    assert_null(load_with(c->dir, "e3", "config.json",
                          "{\"pretrained_cfg\": {\"crop_mode\": \"border\"}}", NULL,
                          IGQ_ERR_UNSUPPORTED, "crop_mode 'border'"));
    assert_null(load_with(c->dir, "e4", "preprocessor_config.json", "{\"resample\": 1}", NULL,
                          IGQ_ERR_UNSUPPORTED, "resample"));
    assert_null(load_with(c->dir, "e5", "preprocessor_config.json",
                          "{\"do_center_crop\": true, \"crop_size\": {\"height\": 8, \"width\": "
                          "8}}", NULL, IGQ_ERR_FORMAT, "crop_size"));
    assert_null(load_with(c->dir, "e6", "preprocessor_config.json",
                          "{\"size\": {\"height\": 0, \"width\": 8}}", NULL, IGQ_ERR_FORMAT,
                          "size"));
    assert_null(load_with(c->dir, "e7", NULL, NULL, "nearest", IGQ_ERR_UNSUPPORTED,
                          "interpolation 'nearest'"));
}

/* ---- .igq round trip ---------------------------------------------------------------------- */

static uint32_t crc32c(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t   i;
    int      k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Rewrites a 32-bit field of PPRC and fixes the section, table and header checksums; returns
 * 0 if the file has no PPRC section. */
static int patch_pprc(unsigned char *f, size_t size, size_t field, uint32_t v)
{
    uint64_t tab = (uint64_t)rd32(f + 24) | (uint64_t)rd32(f + 28) << 32;
    uint32_t n = (uint32_t)rd32(f + 32), i;
    for (i = 0; i < n; i++) {
        unsigned char *e = f + tab + 32 * (size_t)i;
        if (memcmp(e, "PPRC", 4) == 0) {
            uint64_t off = (uint64_t)rd32(e + 8) | (uint64_t)rd32(e + 12) << 32;
            uint64_t len = (uint64_t)rd32(e + 16);
            assert_true(off + len <= size);
            put32(f + off + field, v);
            put32(e + 24, crc32c(f + off, (size_t)len));
            put32(f + 36, crc32c(f + tab, (size_t)n * 32));
            put32(f + 60, crc32c(f, 60));
            return 1;
        }
    }
    return 0;
}

static void test_igq_roundtrip(void **state)
{
    ctx           *c = (ctx *)*state;
    char           path[1024];
    igq_model     *m = NULL;
    unsigned char *buf;
    size_t         size;
    int64_t        shape[4] = {1, 3, 16, 16};
    igq_tensor    *a = NULL, *b = NULL;
    uint8_t        px[23 * 37 * 3];
    static const struct {
        size_t      field;
        uint32_t    v;
        const char *needle;
    } bad[] = {{0, 4, "unknown resize mode 4"},
               {4, 0, "resize size 0 x 16"},
               {8, 65537, "outside [1, 65536]"},
               {12, 1, "unknown interpolation 1"},
               {16, 0x7F800000u, "rescale divisor"},
               {16, 0, "rescale divisor"},
               {20, 15, "crop 15 x 16 differs"},
               {24, 17, "crop 16 x 17 differs"}};
    size_t k;
    pattern(px, (int)sizeof px, 9);
    /* a declared transform travels */
    snprintf(path, sizeof path, "%s/rgb.igq", c->dir);
    assert_int_equal(igq_model_save(c->rgb, path), IGQ_OK);
    assert_int_equal(igq_model_load(path, &m), IGQ_OK);
    assert_int_equal(prop(m, IGQ_PROP_PREPROC_DECLARED), 1);
    assert_int_equal(prop(m, IGQ_PROP_RESIZE_MODE), 1);
    assert_int_equal(prop(m, IGQ_PROP_RESIZE_HEIGHT), 16);
    assert_int_equal(prop(m, IGQ_PROP_INTERPOLATION), 2);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &a), IGQ_OK);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &b), IGQ_OK);
    assert_int_equal(igq_image_preprocess(c->rgb, px, 37, 23, 3, 37 * 3, a, 0), IGQ_OK);
    assert_int_equal(igq_image_preprocess(m, px, 37, 23, 3, 37 * 3, b, 0), IGQ_OK);
    assert_memory_equal(igq_tensor_data(a), igq_tensor_data(b), 768 * sizeof(float));
    igq_model_free(m);
    /* out-of-range values are refused, naming the section */
    buf = tu_read_file(path, &size);
    assert_non_null(buf);
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        unsigned char *f = (unsigned char *)malloc(size);
        assert_non_null(f);
        memcpy(f, buf, size);
        assert_true(patch_pprc(f, size, bad[k].field, bad[k].v));
        m = NULL;
        expect_error(igq_model_load_buffer(f, size, &m), IGQ_ERR_FORMAT, "section 'PPRC'");
        expect_error(IGQ_ERR_FORMAT, IGQ_ERR_FORMAT, bad[k].needle);
        assert_null(m);
        free(f);
    }
    /* the unpatched buffer loads */
    assert_int_equal(igq_model_load_buffer(buf, size, &m), IGQ_OK);
    igq_model_free(m);
    free(buf);
    /* a default transform is not frozen into the file */
    snprintf(path, sizeof path, "%s/gray.igq", c->dir);
    assert_int_equal(igq_model_save(c->gray, path), IGQ_OK);
    buf = tu_read_file(path, &size);
    assert_non_null(buf);
    assert_false(patch_pprc(buf, size, 0, 0));
    free(buf);
    assert_int_equal(igq_model_load(path, &m), IGQ_OK);
    assert_int_equal(prop(m, IGQ_PROP_PREPROC_DECLARED), 0);
    assert_int_equal(prop(m, IGQ_PROP_RESIZE_HEIGHT), 17);
    igq_model_free(m);
    igq_tensor_free(a);
    igq_tensor_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pillow_fixtures),
        cmocka_unit_test(test_resized_size),
        cmocka_unit_test(test_crop_window_only),
        cmocka_unit_test(test_passthrough_normalize),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_rgb_to_gray_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_sources),
        cmocka_unit_test(test_igq_roundtrip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
