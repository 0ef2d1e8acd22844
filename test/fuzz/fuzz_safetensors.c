/* libFuzzer harness for the safetensors reader alone (lib/io/safetensors.c, STYLE.md 2.9b):
 * the header walk, the tensor table and the f32 conversion (plain and transposed) of every
 * small tensor of a file it accepts, and metadata lookups. Build and run: make fuzz-run
 * (seeds: the fixtures' model.safetensors). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    igq_safetensors *st = NULL;
    size_t           i;
    if (igq__st_parse(data, size, "<fuzz>", &st) != IGQ_OK) return 0;
    (void)igq__st_metadata(st, "num_heads");
    (void)igq__st_metadata(st, "image_size");
    for (i = 0; i < st->count; i++) {
        const igq_st_tensor *t = &st->tensors[i];
        float               *buf;
        if (igq__st_find(st, t->name) == NULL) abort(); /* every listed name is found */
        if (t->numel > 65536) continue;
        buf = (float *)malloc((size_t)(t->numel > 0 ? t->numel : 1) * sizeof(float));
        if (buf == NULL) abort();
        if (igq__st_read_f32(st, t, buf, t->numel) == IGQ_OK && t->ndim == 2 && t->shape[0] > 0) {
            float *tr = (float *)malloc((size_t)t->numel * sizeof(float));
            if (tr == NULL) abort();
            if (igq__st_read_f32_transposed(st, t, t->shape[0], t->shape[1], tr, t->shape[0]) !=
                IGQ_OK)
                abort(); /* read as a whole, it must read transposed too */
            free(tr);
        }
        free(buf);
    }
    igq__st_close(st);
    return 0;
}
