/* libFuzzer harness for PyTorch checkpoints (lib/io/zip.c, pickle.c, pth.c; STYLE.md 2.9b).
 * Two kinds of input:
 *  - a zip archive ("PK..."): the whole torch.save reader (igq__pth_parse), every small tensor
 *    it accepts converted to f32; an archive it accepts is also loaded as a model file
 *    (igq_model_load: scheme detection and the graph build over the pth table);
 *  - anything else is a pickle: run by the restricted reader alone, then, if it stops cleanly,
 *    wrapped in an archive whose storage entries have the sizes its persistent ids declare
 *    (zeros, up to 1 MiB in all) and read as a checkpoint, so tensor checks get reached.
 * Seeds: test/fuzz/corpus/fuzz_pth/ (tools/gen_pth_fixtures.py). Build and run: make fuzz-run. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "igq/igq.h"
#include "io/image.h"
#include "io/pickle.h"
#include "io/pth.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[64];

static void read_all(const igq_safetensors *st)
{
    size_t i;
    for (i = 0; i < st->count; i++) {
        const igq_st_tensor *t = &st->tensors[i];
        float               *buf;
        if (igq__st_find(st, t->name) == NULL) abort(); /* every listed name is found */
        if (t->numel > 65536) continue;
        buf = (float *)malloc((size_t)(t->numel > 0 ? t->numel : 1) * sizeof(float));
        if (buf == NULL) abort();
        (void)igq__st_read_f32(st, t, buf, t->numel);
        free(buf);
    }
}

static void load_as_file(const uint8_t *data, size_t size)
{
    char       path[128];
    FILE      *f;
    igq_model *m = NULL;
    if (g_dir[0] == '\0') {
        snprintf(g_dir, sizeof g_dir, "/tmp/igqfuzzpth.XXXXXX");
        if (mkdtemp(g_dir) == NULL) abort();
    }
    snprintf(path, sizeof path, "%s/model.pth", g_dir);
    f = fopen(path, "wb");
    if (f == NULL) abort();
    if (size > 0 && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    if (igq_model_load(path, &m) == IGQ_OK) {
        int64_t v;
        if (igq_model_info(m, IGQ_PROP_NUM_TOKENS, &v) != IGQ_OK) abort();
        igq_model_free(m);
    } else if (m != NULL) {
        abort(); /* failure must leave the out-handle NULL */
    }
}

typedef struct obuf {
    uint8_t *p;
    size_t   n, cap;
} obuf;

static void put(obuf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        b->p   = (uint8_t *)realloc(b->p, b->cap);
        if (b->p == NULL) abort();
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void u16(obuf *b, uint32_t v)
{
    const uint8_t c[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, c, 2);
}
static void u32(obuf *b, uint32_t v) { u16(b, v & 0xffff), u16(b, v >> 16); }

typedef struct ent {
    char          name[80];
    const uint8_t *d;
    size_t        n;
    size_t        at;
} ent;

/* A stored-entry archive of ents (names and sizes known to fit 16/32-bit fields). */
static void build_zip(obuf *o, ent *e, size_t n)
{
    size_t i, cd;
    for (i = 0; i < n; i++) {
        const size_t nl = strlen(e[i].name);
        e[i].at         = o->n;
        u32(o, 0x04034b50), u16(o, 20), u16(o, 0), u16(o, 0), u16(o, 0), u16(o, 0);
        u32(o, igq__crc32(0, e[i].d, e[i].n)), u32(o, (uint32_t)e[i].n), u32(o, (uint32_t)e[i].n);
        u16(o, (uint32_t)nl), u16(o, 0), put(o, e[i].name, nl), put(o, e[i].d, e[i].n);
    }
    cd = o->n;
    for (i = 0; i < n; i++) {
        const size_t nl = strlen(e[i].name);
        u32(o, 0x02014b50), u16(o, 20), u16(o, 20), u16(o, 0), u16(o, 0), u16(o, 0), u16(o, 0);
        u32(o, igq__crc32(0, e[i].d, e[i].n)), u32(o, (uint32_t)e[i].n), u32(o, (uint32_t)e[i].n);
        u16(o, (uint32_t)nl), u16(o, 0), u16(o, 0), u16(o, 0), u16(o, 0), u32(o, 0);
        u32(o, (uint32_t)e[i].at), put(o, e[i].name, nl);
    }
    u32(o, 0x06054b50), u16(o, 0), u16(o, 0), u16(o, (uint32_t)n), u16(o, (uint32_t)n);
    u32(o, (uint32_t)(o->n - cd)), u32(o, (uint32_t)cd), u16(o, 0);
}

#define MAX_STORAGES 64
#define MAX_BYTES    ((size_t)1 << 20)

static void pickle_input(const uint8_t *data, size_t size)
{
    static uint8_t   zeros[MAX_BYTES];
    igq__pickle     *pk = NULL;
    ent              e[MAX_STORAGES + 1];
    size_t           n = 0, total = 0, i;
    obuf             o = {NULL, 0, 0};
    igq_safetensors *st = NULL;
    if (igq__pickle_load(data, size, "<fuzz>", &pk) != IGQ_OK) return;
    memset(e, 0, sizeof e);
    snprintf(e[n].name, sizeof e[n].name, "archive/data.pkl");
    e[n].d = data, e[n].n = size, n++;
    for (i = 0; i < pk->n_storages && n <= MAX_STORAGES; i++) {
        const igq__pk_storage *s     = &pk->storages[i];
        const uint64_t         bytes = (uint64_t)s->numel * (uint64_t)(igq__st_dtype_bits(s->dtype) / 8);
        size_t                 k;
        int                    dup = 0;
        if (s->key_len > 40 || memchr(s->key, 0, s->key_len) != NULL ||
            (uint64_t)s->numel > MAX_BYTES || bytes > MAX_BYTES - total)
            continue;
        snprintf(e[n].name, sizeof e[n].name, "archive/data/%.*s", (int)s->key_len, s->key);
        for (k = 0; k < n; k++) dup |= strcmp(e[k].name, e[n].name) == 0;
        if (dup) continue;
        e[n].d = zeros, e[n].n = (size_t)bytes, total += (size_t)bytes, n++;
    }
    igq__pickle_free(pk);
    build_zip(&o, e, n);
    if (igq__pth_parse(o.p, o.n, "<fuzz>", &st) == IGQ_OK) {
        read_all(st);
        igq__st_close(st);
    }
    free(o.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    igq_safetensors *st = NULL;
    if (!igq__pth_is_zip(data, size)) {
        pickle_input(data, size);
        return 0;
    }
    if (igq__pth_parse(data, size, "<fuzz>", &st) != IGQ_OK) return 0;
    read_all(st);
    igq__st_close(st);
    load_as_file(data, size);
    return 0;
}
