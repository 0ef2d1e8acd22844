/* Builds safetensors files in tests (F32 only, or raw bytes with any dtype string). */
#ifndef IGQ_TEST_ST_WRITER_H
#define IGQ_TEST_ST_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct stw_entry {
    char     name[160];
    char     dtype[16];
    int32_t  ndim;
    int64_t  shape[8];
    unsigned char *data;
    size_t   nbytes;
} stw_entry;

typedef struct stw {
    stw_entry *e;
    size_t     n, cap;
    char       metadata[2048]; /* JSON members without braces, e.g. "\"num_heads\":\"2\"" */
} stw;

void  stw_init(stw *w);
void  stw_free(stw *w);
/* Adds an F32 tensor; data may be NULL (filled with values from seed). */
void  stw_add_f32(stw *w, const char *name, int32_t ndim, const int64_t *shape, const float *data,
                  uint64_t seed, float scale);
/* Removes a tensor by name; returns 1 if found. */
int   stw_remove(stw *w, const char *name);
stw_entry *stw_get(stw *w, const char *name);
const stw_entry *stw_find(const stw *w, const char *name); /* read-only lookup */
/* Adds a metadata "key":"value" pair. */
void  stw_meta(stw *w, const char *key, const char *value);
/* Serializes to a malloc'd buffer. */
unsigned char *stw_serialize(const stw *w, size_t *size);
/* Serializes into dir/name; returns malloc'd path. */
char *stw_write(const stw *w, const char *dir, const char *name);

/* A complete random timm ViT (depth blocks, dim D, heads in metadata, mlp M, classes K,
 * C channels, image S x S, patch P; distilled adds dist_token and head_dist). */
void stw_timm_vit(stw *w, int depth, int D, int heads, int M, int K, int C, int S, int P,
                  int distilled, uint64_t seed);

#endif
