/* deploy: what an application ships with libigq. It loads a quantized model saved as one .igq
 * file (no checkpoint, no calibration images, no quantization at start: the file is mapped and
 * used in place), attaches a thread pool to a session, and classifies 8-bit images.
 *   deploy model.igq image.pgm|image.ppm ...     binary PGM (P5, gray) / PPM (P6, RGB) files
 *   deploy model.igq images-idx3-ubyte [N]       the first N (default 8) images of an IDX file
 * Images must have the model's size (resizing comes with the preprocessing API); pixels are
 * scaled to [0, 1] and normalized with the mean and std the model carries (0 and 1 if none).
 * Prints the top-3 classes of each image. Uses only <igq/igq.h>.
 * Try: make demo (writes build/fmnist_vit_w4a4.igq), then
 *      build/examples/deploy build/fmnist_vit_w4a4.igq examples/data/t10k-images-idx3-ubyte */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <igq/igq.h>

typedef struct image {
    unsigned char *px; /* rows * cols * channels, interleaved */
    int            rows, cols, channels;
} image;

static unsigned char *read_all(const char *path, long *n)
{
    FILE          *f = fopen(path, "rb");
    unsigned char *b = NULL;
    if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (*n = ftell(f)) > 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (b = (unsigned char *)malloc((size_t)*n)) != NULL &&
        fread(b, 1, (size_t)*n, f) != (size_t)*n) {
        free(b);
        b = NULL;
    }
    if (f != NULL) fclose(f);
    return b;
}

/* Binary PGM / PPM with maxval 255. 0 on success. */
static int read_pnm(const char *path, image *im)
{
    long           n = 0, pos = 2;
    int            v[3], k, maxval;
    unsigned char *b = read_all(path, &n);
    if (b == NULL || n < 3 || b[0] != 'P' || (b[1] != '5' && b[1] != '6')) goto bad;
    im->channels = b[1] == '5' ? 1 : 3;
    for (k = 0; k < 3; k++) { /* width, height, maxval; '#' comments between them */
        while (pos < n && (b[pos] == ' ' || b[pos] == '\t' || b[pos] == '\n' || b[pos] == '\r' ||
                           b[pos] == '#'))
            if (b[pos++] == '#')
                while (pos < n && b[pos] != '\n') pos++;
        for (v[k] = 0; pos < n && b[pos] >= '0' && b[pos] <= '9' && v[k] < 100000; pos++)
            v[k] = 10 * v[k] + (b[pos] - '0');
    }
    im->cols = v[0], im->rows = v[1], maxval = v[2];
    pos++; /* the single whitespace byte before the pixels */
    if (maxval != 255 || im->cols < 1 || im->rows < 1 ||
        n - pos < (long)im->rows * im->cols * im->channels)
        goto bad;
    im->px = (unsigned char *)malloc((size_t)im->rows * im->cols * im->channels);
    if (im->px == NULL) goto bad;
    memcpy(im->px, b + pos, (size_t)im->rows * im->cols * im->channels);
    free(b);
    return 0;
bad:
    fprintf(stderr, "%s: not a binary 8-bit PGM/PPM image\n", path);
    free(b);
    return 1;
}

static int fail(const char *what, igq_status s)
{
    fprintf(stderr, "%s: %s (%s)\n", what, igq_strerror(s), igq_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    igq_model      *model = NULL;
    igq_threadpool *pool  = NULL;
    igq_session    *sess  = NULL;
    igq_tensor     *x = NULL, *y = NULL;
    image          *ims;
    int64_t         c, h, w, k, shape[4], i, n = 0;
    float           mean[64], std[64];
    igq_status      s;
    long            idx_n = 0;
    unsigned char  *idx = NULL;
    int             from_idx = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: %s model.igq image.pgm|image.ppm ...\n"
                        "       %s model.igq images-idx3-ubyte [N]\n", argv[0], argv[0]);
        return 2;
    }
    if ((s = igq_model_load(argv[1], &model)) != IGQ_OK) return fail("load", s);
    igq_model_info(model, IGQ_PROP_IN_CHANNELS, &c);
    igq_model_info(model, IGQ_PROP_IMAGE_HEIGHT, &h);
    igq_model_info(model, IGQ_PROP_IMAGE_WIDTH, &w);
    igq_model_info(model, IGQ_PROP_NUM_CLASSES, &k);
    if (c > 64) return fail("model", IGQ_ERR_UNSUPPORTED);
    for (i = 0; i < c; i++) mean[i] = 0.0f, std[i] = 1.0f;
    igq_model_normalization(model, mean, std, 64); /* IGQ_ERR_NOT_FOUND keeps 0 / 1 */
    printf("%s: %s model, %lldx%lld x%lld input, %lld classes, ISA %s\n", argv[1],
           igq_model_is_quantized(model) == 1 ? "quantized" : "fp32", (long long)h, (long long)w,
           (long long)c, (long long)k, igq_active_isa());

    /* the images: an IDX file (magic 0x00000803) or PNM files */
    ims = (image *)calloc((size_t)argc, sizeof *ims);
    if (ims == NULL) return 1;
    idx = read_all(argv[2], &idx_n);
    if (idx != NULL && idx_n >= 16 && idx[0] == 0 && idx[1] == 0 && idx[2] == 8 && idx[3] == 3) {
        const long count = (long)idx[4] << 24 | idx[5] << 16 | idx[6] << 8 | idx[7];
        const int  rows = idx[8] << 24 | idx[9] << 16 | idx[10] << 8 | idx[11];
        const int  cols = idx[12] << 24 | idx[13] << 16 | idx[14] << 8 | idx[15];
        n               = argc > 3 ? atol(argv[3]) : 8;
        if (n > count) n = count;
        if (n < 1 || idx_n - 16 < n * (long)rows * cols) return fail(argv[2], IGQ_ERR_FORMAT);
        free(ims);
        from_idx = 1;
        ims      = (image *)calloc((size_t)n, sizeof *ims);
        if (ims == NULL) return 1;
        for (i = 0; i < n; i++) {
            ims[i].px       = idx + 16 + i * (long)rows * cols;
            ims[i].rows     = rows, ims[i].cols = cols, ims[i].channels = 1;
        }
    } else {
        for (i = 2; i < argc; i++, n++)
            if (read_pnm(argv[i], &ims[n])) return 1;
    }
    for (i = 0; i < n; i++)
        if (ims[i].rows != h || ims[i].cols != w || (ims[i].channels != c && c != 1)) {
            fprintf(stderr, "image %lld is %dx%d x%d; the model takes %lldx%lld x%lld\n",
                    (long long)i, ims[i].cols, ims[i].rows, ims[i].channels, (long long)w,
                    (long long)h, (long long)c);
            return 1;
        }

    /* one batch, NCHW f32; RGB images for a gray model are averaged */
    shape[0] = n, shape[1] = c, shape[2] = h, shape[3] = w;
    if ((s = igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &x)) != IGQ_OK) return fail("tensor", s);
    shape[1] = k;
    if ((s = igq_tensor_create(IGQ_DTYPE_F32, 2, shape, &y)) != IGQ_OK) return fail("tensor", s);
    for (i = 0; i < n; i++) {
        float  *xd = (float *)igq_tensor_data(x) + i * c * h * w;
        int64_t ch, p;
        for (ch = 0; ch < c; ch++)
            for (p = 0; p < h * w; p++) {
                const image *im = &ims[i];
                float        v  = 0.0f;
                int          j;
                if (im->channels == c)
                    v = im->px[p * im->channels + ch];
                else
                    for (j = 0; j < im->channels; j++) v += im->px[p * im->channels + j] / 3.0f;
                xd[ch * h * w + p] = (v / 255.0f - mean[ch]) / std[ch];
            }
    }

    /* a session keeps its scratch between runs; the pool shares each image's work */
    if ((s = igq_threadpool_create(2, &pool)) != IGQ_OK) return fail("threadpool", s);
    if ((s = igq_session_create(model, &sess)) != IGQ_OK) return fail("session", s);
    if ((s = igq_session_set_threadpool(sess, pool)) != IGQ_OK) return fail("session", s);
    if ((s = igq_session_run(sess, x, y)) != IGQ_OK) return fail("run", s);
    for (i = 0; i < n; i++) {
        const float *yd = (const float *)igq_tensor_data(y) + i * k;
        int64_t      top[3] = {-1, -1, -1}, j, t;
        for (t = 0; t < 3 && t < k; t++)
            for (j = 0; j < k; j++)
                if ((t == 0 || (j != top[0] && (t == 1 || j != top[1]))) &&
                    (top[t] < 0 || yd[j] > yd[top[t]]))
                    top[t] = j;
        printf("image %lld: class %lld (%.3f)", (long long)i, (long long)top[0], yd[top[0]]);
        for (t = 1; t < 3 && t < k; t++)
            printf(", %lld (%.3f)", (long long)top[t], yd[top[t]]);
        printf("\n");
    }

    igq_session_free(sess);
    igq_threadpool_free(pool);
    igq_tensor_free(x);
    igq_tensor_free(y);
    if (!from_idx)
        for (i = 0; i < n; i++) free(ims[i].px);
    free(ims);
    free(idx);
    igq_model_free(model);
    return 0;
}
