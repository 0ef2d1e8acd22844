/* classify: load a ViT checkpoint with libigq, describe it and classify one image.
 *   classify model.safetensors [image.f32]
 * image.f32 holds C*H*W raw little-endian floats, already normalized; without it a mid-grey
 * image (all zeros after normalization) is used. Uses only <igq/igq.h>. */
#include <stdio.h>
#include <stdlib.h>

#include <igq/igq.h>

static int fail(const char *what, igq_status s)
{
    fprintf(stderr, "%s: %s (%s)\n", what, igq_strerror(s), igq_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    igq_model  *model = NULL;
    igq_tensor *images = NULL, *logits = NULL;
    int64_t     c, h, w, k, depth, dim, heads, shape[4];
    igq_status  s;
    float      *x, *y;
    int64_t     i, best = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s model.safetensors [image.f32]\n", argv[0]);
        return 2;
    }
    printf("libigq %s\n", igq_version_string());
    if ((s = igq_model_load(argv[1], &model)) != IGQ_OK) return fail("load", s);
    igq_model_info(model, IGQ_PROP_IN_CHANNELS, &c);
    igq_model_info(model, IGQ_PROP_IMAGE_HEIGHT, &h);
    igq_model_info(model, IGQ_PROP_IMAGE_WIDTH, &w);
    igq_model_info(model, IGQ_PROP_NUM_CLASSES, &k);
    igq_model_info(model, IGQ_PROP_DEPTH, &depth);
    igq_model_info(model, IGQ_PROP_EMBED_DIM, &dim);
    igq_model_info(model, IGQ_PROP_HEADS, &heads);
    printf("model: %lldx%lld x%lld input, dim %lld, depth %lld, heads %lld, %lld classes\n",
           (long long)h, (long long)w, (long long)c, (long long)dim, (long long)depth,
           (long long)heads, (long long)k);

    shape[0] = 1; shape[1] = c; shape[2] = h; shape[3] = w;
    if ((s = igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &images)) != IGQ_OK) return fail("tensor", s);
    shape[1] = k;
    if ((s = igq_tensor_create(IGQ_DTYPE_F32, 2, shape, &logits)) != IGQ_OK) return fail("tensor", s);
    x = (float *)igq_tensor_data(images);
    if (argc > 2) {
        FILE *f = fopen(argv[2], "rb");
        if (f == NULL || fread(x, sizeof(float), (size_t)(c * h * w), f) != (size_t)(c * h * w)) {
            fprintf(stderr, "cannot read %lld floats from %s\n", (long long)(c * h * w), argv[2]);
            return 1;
        }
        fclose(f);
    }
    if ((s = igq_run(model, images, logits)) != IGQ_OK) return fail("run", s);
    y = (float *)igq_tensor_data(logits);
    for (i = 1; i < k; i++)
        if (y[i] > y[best]) best = i;
    printf("top-1: class %lld (logit %.4f)\n", (long long)best, y[best]);

    igq_tensor_free(images);
    igq_tensor_free(logits);
    igq_model_free(model);
    return 0;
}
