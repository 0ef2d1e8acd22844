/* Shared helpers for the cmocka suites. */
#ifndef IGQ_TEST_TESTUTIL_H
#define IGQ_TEST_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Path of a fixture: $IGQ_FIXTURES/<rel> (default test/fixtures/<rel>). Static buffer per call
 * site is not needed: returns a malloc'd string the caller frees. */
char *tu_fixture_path(const char *rel);
/* A fresh private directory under $TMPDIR (or /tmp); malloc'd; removed by tu_rmdir_r. */
char *tu_make_tmpdir(void);
void  tu_rmdir_r(const char *dir);
/* Writes n bytes to dir/name; returns the malloc'd full path (asserts on failure). */
char *tu_write_file(const char *dir, const char *name, const void *data, size_t n);
/* Reads a whole file (malloc'd, NUL-terminated); NULL if it cannot be read. */
unsigned char *tu_read_file(const char *path, size_t *size);

/* igq_model_load of test/fixtures/<name>/model.safetensors; NULL (with a message on stderr)
 * on failure. */
struct igq_model;
struct igq_model *tu_load_fixture_model(const char *name);

/* The first n 28x28 images of an IDX file (path relative to the fixtures, like
 * tu_fixture_path) as f32 [n, 1, 28, 28], each pixel (v / 255 - mean) / stdv. Asserts. */
struct igq_tensor;
struct igq_tensor *tu_idx_images(const char *rel, int64_t n, float mean, float stdv);

/* Deterministic xorshift64* random numbers. */
typedef struct { uint64_t s; } tu_rng;
void     tu_rng_seed(tu_rng *r, uint64_t seed);
uint64_t tu_rng_next(tu_rng *r);
double   tu_rng_uniform(tu_rng *r);  /* [0, 1) */
double   tu_rng_normal(tu_rng *r);

#endif
