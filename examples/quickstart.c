/* quickstart: the README's quick start in C. What `igq quantize` + `igq eval` do, in brief:
 * read images, preprocess them as the checkpoint says, quantize to W4A4 IGQ (G = 8) from the
 * first 32, save a .igq file, print the quantized model's top-1 accuracy.
 *   quickstart CHECKPOINT LIST OUT.igq     LIST: one "CLASS PATH" line per image (PNG/PPM/PGM/BMP)
 * Error handling is reduced to the first failing call (its message: igq_last_error()). */
#include <stdio.h>
#include <stdlib.h>

#include <igq/igq.h>

#define CHECK(call) do { if ((call) != IGQ_OK) { fprintf(stderr, "%s\n", igq_last_error()); return 1; } } while (0)

int main(int argc, char **argv)
{
    igq_model *fp = NULL, *q = NULL;
    igq_config *cfg = NULL;
    igq_tensor *x = NULL, *calib = NULL, *y = NULL;
    int64_t shape[4] = {0, 0, 0, 0}, ys[2] = {0, 0}, n = 0, i, c, hits = 0;
    int64_t labels[4096];
    char path[1024];
    FILE *list = argc == 4 ? fopen(argv[2], "r") : NULL;
    if (list == NULL) return fprintf(stderr, "usage: quickstart CHECKPOINT LIST OUT.igq\n"), 2;
    CHECK(igq_model_load(argv[1], &fp));
    CHECK(igq_model_info(fp, IGQ_PROP_IN_CHANNELS, &shape[1]));
    CHECK(igq_model_info(fp, IGQ_PROP_IMAGE_HEIGHT, &shape[2]));
    CHECK(igq_model_info(fp, IGQ_PROP_IMAGE_WIDTH, &shape[3]));
    CHECK(igq_model_info(fp, IGQ_PROP_NUM_CLASSES, &ys[1]));
    while (n < 4096 && fscanf(list, "%lld %1023s", (long long *)&labels[n], path) == 2) n++;
    shape[0] = ys[0] = n;
    CHECK(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &x));
    CHECK(igq_tensor_create(IGQ_DTYPE_F32, 2, ys, &y));
    rewind(list);
    for (i = 0; i < n && fscanf(list, "%*d %1023s", path) == 1; i++) { /* decode, resize, crop, normalize */
        uint8_t *px; int32_t w, h, ch;
        CHECK(igq_image_load(path, &px, &w, &h, &ch));
        CHECK(igq_image_preprocess(fp, px, w, h, ch, (int64_t)w * ch, x, i));
        igq_image_free(px);
    }
    shape[0] = n < 32 ? n : 32;                                         /* the first 32 calibrate */
    CHECK(igq_tensor_wrap(IGQ_DTYPE_F32, 4, shape, igq_tensor_data(x), (size_t)(igq_tensor_numel(x) * 4), &calib));
    CHECK(igq_config_create(&cfg));
    CHECK(igq_config_set(cfg, IGQ_OPT_WEIGHT_BITS, 4));
    CHECK(igq_config_set(cfg, IGQ_OPT_ACT_BITS, 4));                    /* IGQ, G = 8: the default */
    CHECK(igq_quantize_model(fp, calib, cfg, &q));
    CHECK(igq_model_save(q, argv[3]));                                  /* igq_model_load maps it back */
    CHECK(igq_run(q, x, y));
    for (i = 0; i < n; i++) {
        const float *row = (const float *)igq_tensor_data(y) + i * ys[1];
        int64_t best = 0;
        for (c = 1; c < ys[1]; c++) best = row[c] > row[best] ? c : best;
        hits += best == labels[i];
    }
    printf("W4A4 IGQ top-1 accuracy: %.2f %% (%lld images), saved %s\n", 100.0 * (double)hits / (double)(n ? n : 1), (long long)n, argv[3]);
    fclose(list);
    igq_tensor_free(calib); igq_tensor_free(x); igq_tensor_free(y);
    igq_config_free(cfg); igq_model_free(q); igq_model_free(fp);
    return 0;
}
