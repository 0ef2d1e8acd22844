/* Reference figures for test/cli/test_cli.sh, computed with the library API alone (no code of
 * programs/igq): the tool's output is compared with them.
 *   cli_ref acc MODEL IMAGES LABELS N
 *       top-1/top-5 accuracy of the first N images of an IDX file, normalized by hand as
 *       examples/fmnist_demo.c does (pixel / 255 - mean) / std, run with igq_run
 *   cli_ref qacc MODEL CALIB NCALIB WBITS ABITS G IMAGES LABELS N
 *       the same for the model quantized in process with the demo's recipe (the first NCALIB
 *       calibration images, IGQ with G groups, otherwise default options)
 *   cli_ref class MODEL IMAGES LABELS I
 *       "<true label name>\t<predicted label name>" of image I
 *   cli_ref layers MODEL
 *       number of layers igq_session_profile reports for one profiled batch-1 run
 *   cli_ref write IMAGES I OUT.{pgm,png,bmp}
 *       image I of an IDX file as a binary PGM, a gray PNG (stored deflate blocks) or a
 *       24-bit BMP
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <igq/igq.h>

static unsigned char *slurp(const char *path, long *n)
{
    FILE          *f = fopen(path, "rb");
    unsigned char *b = NULL;
    if (f == NULL) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (*n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = (unsigned char *)malloc((size_t)*n)) != NULL &&
        fread(b, 1, (size_t)*n, f) != (size_t)*n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static long be32(const unsigned char *p)
{
    return (long)((unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 |
                  p[3]);
}

static int die(const char *what, igq_status s)
{
    fprintf(stderr, "cli_ref: %s: %s (%s)\n", what, igq_strerror(s), igq_last_error());
    return 1;
}

/* Accuracy of `model` on the first n images; prints the tool's accuracy line format. */
static int accuracy(const igq_model *model, const char *images, const char *labels, long n)
{
    long           ni = 0, nl = 0, i, c, top1 = 0, top5 = 0;
    unsigned char *im = slurp(images, &ni), *lb = slurp(labels, &nl);
    int64_t        h, w, k, shape[4], lshape[2];
    float          mean = 0.0f, stdv = 1.0f;
    igq_tensor    *x = NULL, *y = NULL;
    igq_status     s;
    if (im == NULL || lb == NULL || be32(im) != 0x803 || be32(lb) != 0x801 || be32(im + 4) < n) {
        fprintf(stderr, "cli_ref: bad IDX files\n");
        return 1;
    }
    igq_model_info(model, IGQ_PROP_IMAGE_HEIGHT, &h);
    igq_model_info(model, IGQ_PROP_IMAGE_WIDTH, &w);
    igq_model_info(model, IGQ_PROP_NUM_CLASSES, &k);
    igq_model_normalization(model, &mean, &stdv, 1);
    shape[0] = n, shape[1] = 1, shape[2] = h, shape[3] = w;
    lshape[0] = n, lshape[1] = k;
    if ((s = igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &x)) != IGQ_OK ||
        (s = igq_tensor_create(IGQ_DTYPE_F32, 2, lshape, &y)) != IGQ_OK)
        return die("tensor", s);
    for (i = 0; i < n * h * w; i++)
        ((float *)igq_tensor_data(x))[i] = ((float)im[16 + i] / 255.0f - mean) / stdv;
    if ((s = igq_run(model, x, y)) != IGQ_OK) return die("run", s);
    for (i = 0; i < n; i++) {
        const float *row = (const float *)igq_tensor_data(y) + i * k;
        int          label = lb[8 + i];
        long         above = 0;
        /* classes ahead of the label: larger logit, or equal logit and smaller index */
        for (c = 0; c < k; c++) {
            if (c == label) continue;
            if (row[c] > row[label] || (row[c] == row[label] && c < label)) above++;
        }
        top1 += above == 0;
        top5 += above < 5;
    }
    printf("accuracy: top-1 %.2f %% top-5 %.2f %% (%ld images)\n", 100.0 * (double)top1 / (double)n,
           100.0 * (double)top5 / (double)n, n);
    igq_tensor_free(x);
    igq_tensor_free(y);
    free(im);
    free(lb);
    return 0;
}

static uint32_t crc_table[256];

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    size_t i;
    if (crc_table[1] == 0) {
        uint32_t c, b;
        int      k;
        for (b = 0; b < 256; b++) {
            for (c = b, k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            crc_table[b] = c;
        }
    }
    for (i = 0; i < n; i++) crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8),
    p[3] = (unsigned char)v;
}

static void png_chunk(FILE *f, const char *type, const unsigned char *data, uint32_t n)
{
    unsigned char b[4];
    uint32_t      crc;
    put32(b, n);
    fwrite(b, 1, 4, f);
    fwrite(type, 1, 4, f);
    if (n) fwrite(data, 1, n, f);
    crc = crc32_update(0xFFFFFFFFu, (const unsigned char *)type, 4);
    crc = crc32_update(crc, data, n) ^ 0xFFFFFFFFu;
    put32(b, crc);
    fwrite(b, 1, 4, f);
}

static int write_image(const char *images, long index, const char *out)
{
    long           n = 0, rows, cols, r, c;
    unsigned char *im = slurp(images, &n), *px;
    const char    *ext = strrchr(out, '.');
    FILE          *f;
    if (im == NULL || be32(im) != 0x803 || index >= be32(im + 4) || ext == NULL) return 1;
    rows = be32(im + 8), cols = be32(im + 12);
    px   = im + 16 + index * rows * cols;
    if ((f = fopen(out, "wb")) == NULL) return 1;
    if (strcmp(ext, ".pgm") == 0) {
        fprintf(f, "P5\n%ld %ld\n255\n", cols, rows);
        fwrite(px, 1, (size_t)(rows * cols), f);
    } else if (strcmp(ext, ".png") == 0) {
        static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
        unsigned char ihdr[13], *raw, *z;
        long          nraw = rows * (cols + 1), nz = 2 + nraw + 5 + 4, i;
        uint32_t      a = 1, b = 0;
        raw = (unsigned char *)malloc((size_t)nraw);
        z   = (unsigned char *)malloc((size_t)nz);
        if (raw == NULL || z == NULL || nraw > 65535) return 1;
        for (r = 0; r < rows; r++) {
            raw[r * (cols + 1)] = 0; /* filter: none */
            memcpy(raw + r * (cols + 1) + 1, px + r * cols, (size_t)cols);
        }
        for (i = 0; i < nraw; i++) a = (a + raw[i]) % 65521u, b = (b + a) % 65521u;
        z[0] = 0x78, z[1] = 0x01;                 /* zlib header, no dictionary */
        z[2] = 1;                                  /* one final stored block */
        z[3] = (unsigned char)(nraw & 0xff), z[4] = (unsigned char)(nraw >> 8);
        z[5] = (unsigned char)(~nraw & 0xff), z[6] = (unsigned char)((~nraw >> 8) & 0xff);
        memcpy(z + 7, raw, (size_t)nraw);
        put32(z + 7 + nraw, b << 16 | a);
        put32(ihdr, (uint32_t)cols);
        put32(ihdr + 4, (uint32_t)rows);
        ihdr[8] = 8, ihdr[9] = 0, ihdr[10] = 0, ihdr[11] = 0, ihdr[12] = 0; /* 8-bit gray */
        fwrite(sig, 1, 8, f);
        png_chunk(f, "IHDR", ihdr, 13);
        png_chunk(f, "IDAT", z, (uint32_t)nz);
        png_chunk(f, "IEND", NULL, 0);
        free(raw);
        free(z);
    } else if (strcmp(ext, ".bmp") == 0) {
        long          stride = (cols * 3 + 3) / 4 * 4, size = 54 + stride * rows;
        unsigned char h[54];
        memset(h, 0, sizeof h);
        h[0] = 'B', h[1] = 'M';
#define LE32(p, v) ((p)[0] = (unsigned char)(v), (p)[1] = (unsigned char)((v) >> 8), \
                    (p)[2] = (unsigned char)((v) >> 16), (p)[3] = (unsigned char)((v) >> 24))
        LE32(h + 2, size);
        LE32(h + 10, 54);
        LE32(h + 14, 40);
        LE32(h + 18, cols);
        LE32(h + 22, rows); /* bottom-up */
        h[26] = 1, h[28] = 24;
        LE32(h + 34, stride * rows);
        fwrite(h, 1, 54, f);
        for (r = rows - 1; r >= 0; r--) {
            for (c = 0; c < stride; c++) {
                unsigned char v = c < cols * 3 ? px[r * cols + c / 3] : 0;
                fputc(v, f);
            }
        }
    } else {
        fclose(f);
        return 1;
    }
    free(im);
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    igq_model *m = NULL, *q = NULL;
    igq_status s;
    if (argc == 6 && strcmp(argv[1], "acc") == 0) {
        int rc;
        if ((s = igq_model_load(argv[2], &m)) != IGQ_OK) return die("load", s);
        rc = accuracy(m, argv[3], argv[4], atol(argv[5]));
        igq_model_free(m);
        return rc;
    }
    if (argc == 11 && strcmp(argv[1], "qacc") == 0) {
        long           ncal = atol(argv[4]), n = 0, i;
        unsigned char *cal;
        int64_t        h, w, shape[4];
        float          mean = 0.0f, stdv = 1.0f;
        igq_tensor    *x = NULL;
        igq_config    *cfg = NULL;
        if ((s = igq_model_load(argv[2], &m)) != IGQ_OK) return die("load", s);
        cal = slurp(argv[3], &n);
        if (cal == NULL || be32(cal) != 0x803 || be32(cal + 4) < ncal) return 1;
        igq_model_info(m, IGQ_PROP_IMAGE_HEIGHT, &h);
        igq_model_info(m, IGQ_PROP_IMAGE_WIDTH, &w);
        igq_model_normalization(m, &mean, &stdv, 1);
        shape[0] = ncal, shape[1] = 1, shape[2] = h, shape[3] = w;
        if ((s = igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &x)) != IGQ_OK) return die("tensor", s);
        for (i = 0; i < ncal * h * w; i++)
            ((float *)igq_tensor_data(x))[i] = ((float)cal[16 + i] / 255.0f - mean) / stdv;
        igq_config_create(&cfg);
        igq_config_set(cfg, IGQ_OPT_WEIGHT_BITS, atol(argv[5]));
        igq_config_set(cfg, IGQ_OPT_ACT_BITS, atol(argv[6]));
        igq_config_set(cfg, IGQ_OPT_GROUPS, atol(argv[7]));
        int rc;
        if ((s = igq_quantize_model(m, x, cfg, &q)) != IGQ_OK) return die("quantize", s);
        rc = accuracy(q, argv[8], argv[9], atol(argv[10]));
        igq_model_free(q);
        igq_model_free(m);
        igq_config_free(cfg);
        igq_tensor_free(x);
        free(cal);
        return rc;
    }
    if (argc == 6 && strcmp(argv[1], "class") == 0) {
        long           ni = 0, nl = 0, idx = atol(argv[5]), c;
        unsigned char *im, *lb;
        int64_t        h, w, k, shape[4] = {1, 1, 0, 0}, ls[2] = {1, 0};
        float          mean = 0.0f, stdv = 1.0f;
        igq_tensor    *x = NULL, *y = NULL;
        const char    *truth = NULL, *pred = NULL;
        long           best = 0, p;
        if ((s = igq_model_load(argv[2], &m)) != IGQ_OK) return die("load", s);
        im = slurp(argv[3], &ni);
        lb = slurp(argv[4], &nl);
        if (im == NULL || lb == NULL || be32(im + 4) <= idx) return 1;
        igq_model_info(m, IGQ_PROP_IMAGE_HEIGHT, &h);
        igq_model_info(m, IGQ_PROP_IMAGE_WIDTH, &w);
        igq_model_info(m, IGQ_PROP_NUM_CLASSES, &k);
        igq_model_normalization(m, &mean, &stdv, 1);
        shape[2] = h, shape[3] = w, ls[1] = k;
        if (igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &x) != IGQ_OK ||
            igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &y) != IGQ_OK)
            return 1;
        for (p = 0; p < h * w; p++)
            ((float *)igq_tensor_data(x))[p] = ((float)im[16 + idx * h * w + p] / 255.0f - mean) / stdv;
        if ((s = igq_run(m, x, y)) != IGQ_OK) return die("run", s);
        for (c = 1; c < k; c++)
            if (((float *)igq_tensor_data(y))[c] > ((float *)igq_tensor_data(y))[best]) best = c;
        if (igq_model_label(m, lb[8 + idx], &truth) != IGQ_OK ||
            igq_model_label(m, best, &pred) != IGQ_OK)
            return die("label", IGQ_ERR_NOT_FOUND);
        printf("%s\t%s\n", truth, pred);
        igq_tensor_free(x);
        igq_tensor_free(y);
        igq_model_free(m);
        free(im);
        free(lb);
        return 0;
    }
#ifndef IGQ_CLI_NO_REPORT
    if (argc == 3 && strcmp(argv[1], "layers") == 0) {
        igq_session *ses = NULL;
        igq_tensor  *x = NULL, *y = NULL;
        int64_t      shape[4] = {1, 0, 0, 0}, ls[2] = {1, 0}, n = 0;
        if ((s = igq_model_load(argv[2], &m)) != IGQ_OK) return die("load", s);
        igq_model_info(m, IGQ_PROP_IN_CHANNELS, &shape[1]);
        igq_model_info(m, IGQ_PROP_IMAGE_HEIGHT, &shape[2]);
        igq_model_info(m, IGQ_PROP_IMAGE_WIDTH, &shape[3]);
        igq_model_info(m, IGQ_PROP_NUM_CLASSES, &ls[1]);
        if ((s = igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &x)) != IGQ_OK ||
            (s = igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &y)) != IGQ_OK ||
            (s = igq_session_create(m, &ses)) != IGQ_OK ||
            (s = igq_session_set_profiling(ses, 1)) != IGQ_OK ||
            (s = igq_session_run(ses, x, y)) != IGQ_OK ||
            (s = igq_session_profile(ses, &n, NULL, NULL)) != IGQ_OK)
            return die("profile", s);
        printf("%lld\n", (long long)n);
        igq_session_free(ses);
        igq_tensor_free(x);
        igq_tensor_free(y);
        igq_model_free(m);
        return 0;
    }
#endif
    if (argc == 5 && strcmp(argv[1], "write") == 0) return write_image(argv[2], atol(argv[3]), argv[4]);
    fprintf(stderr, "usage: see the comment at the top of test/cli/cli_ref.c\n");
    return 2;
}
