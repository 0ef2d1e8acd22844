#include "testutil.h"

#include "igq/igq.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tu_fixture_path(const char *rel)
{
    const char *root = getenv("IGQ_FIXTURES");
    size_t      n;
    char       *p;
    if (root == NULL || root[0] == '\0') root = "test/fixtures";
    n = strlen(root) + strlen(rel) + 2;
    p = (char *)malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", root, rel);
    return p;
}

char *tu_make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char       *p;
    size_t      n;
    if (base == NULL || base[0] == '\0') base = "/tmp";
    n = strlen(base) + 32;
    p = (char *)malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/igqtest.XXXXXX", base);
    assert_non_null(mkdtemp(p));
    return p;
}

void tu_rmdir_r(const char *dir)
{
    DIR           *d = opendir(dir);
    struct dirent *e;
    char           path[4096];
    if (d == NULL) return;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            tu_rmdir_r(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

char *tu_write_file(const char *dir, const char *name, const void *data, size_t n)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char  *p   = (char *)malloc(len);
    FILE  *f;
    assert_non_null(p);
    snprintf(p, len, "%s/%s", dir, name);
    f = fopen(p, "wb");
    assert_non_null(f);
    if (n > 0) assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    return p;
}

unsigned char *tu_read_file(const char *path, size_t *size)
{
    FILE          *f = fopen(path, "rb");
    unsigned char *buf;
    long           n;
    if (f == NULL) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = (unsigned char *)malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    buf[n] = 0;
    fclose(f);
    if (size != NULL) *size = (size_t)n;
    return buf;
}

void tu_rng_seed(tu_rng *r, uint64_t seed) { r->s = seed * 2654435761u + 0x9E3779B97F4A7C15ull; }

uint64_t tu_rng_next(tu_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

double tu_rng_uniform(tu_rng *r) { return (double)(tu_rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

double tu_rng_normal(tu_rng *r)
{
    double u1 = tu_rng_uniform(r), u2 = tu_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

struct igq_model *tu_load_fixture_model(const char *name)
{
    char       rel[256];
    char      *path;
    igq_model *m = NULL;
    snprintf(rel, sizeof rel, "%s/model.safetensors", name);
    path = tu_fixture_path(rel);
    if (igq_model_load(path, &m) != IGQ_OK) fprintf(stderr, "load %s: %s\n", path, igq_last_error());
    free(path);
    return m;
}

igq_tensor *tu_idx_images(const char *rel, int64_t n, float mean, float stdv)
{
    char          *path = tu_fixture_path(rel);
    size_t         size = 0;
    unsigned char *b    = tu_read_file(path, &size);
    int64_t        shape[4] = {n, 1, 28, 28}, i;
    igq_tensor    *t = NULL;
    assert_non_null(b);
    assert_true(size >= 16 + (size_t)(n * 784));
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &t), IGQ_OK);
    for (i = 0; i < n * 784; i++)
        ((float *)igq_tensor_data(t))[i] = ((float)b[16 + i] / 255.0f - mean) / stdv;
    free(b);
    free(path);
    return t;
}
