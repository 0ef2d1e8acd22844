/* libFuzzer harness for the .igq reader (STYLE.md 2.9b; doc/igq-format.md): the header, the
 * section table, GRPH, PREP, QCFG, QUAN, TDIR and the executors built from them.
 * Input: a .igq file, loaded with igq_model_load_buffer; a model that loads runs one image of
 * zeros (when its size allows a quick forward) and is freed.
 * Checksums: almost every mutation breaks a CRC-32C, and the reader checks them all before
 * anything else, so the harness first recomputes the checksums of its copy of the input (the
 * header's, the table's and those of the sections that lie inside the input) -- unless the
 * reserved header byte 40 is odd, which leaves the input as it is and fuzzes the checksum
 * refusals too. The seeds (test/fuzz/corpus/fuzz_igq/) have it even.
 * Build and run: make fuzz (clang with libclang-rt). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "igq/igq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t crc32c(const uint8_t *p, size_t n)
{
    static uint32_t tab[256];
    uint32_t        c = 0xFFFFFFFFu;
    size_t          i;
    if (tab[1] == 0)
        for (i = 0; i < 256; i++) {
            uint32_t v = (uint32_t)i;
            int      k;
            for (k = 0; k < 8; k++) v = (v >> 1) ^ (0x82F63B78u & (0u - (v & 1u)));
            tab[i] = v;
        }
    for (i = 0; i < n; i++) c = (c >> 8) ^ tab[(c ^ p[i]) & 0xFFu];
    return c ^ 0xFFFFFFFFu;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void     put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void refix(uint8_t *f, size_t n)
{
    uint32_t i, count;
    if (n < 64) return;
    count = get32(f + 32);
    if (get64(f + 24) == 64 && count <= 256 && 64 + (uint64_t)count * 32 <= n) {
        for (i = 0; i < count; i++) {
            uint8_t       *e   = f + 64 + 32 * (size_t)i;
            const uint64_t off = get64(e + 8), sz = get64(e + 16);
            if (off <= n && sz <= n - off) put32(e + 24, crc32c(f + off, (size_t)sz));
        }
        put32(f + 36, crc32c(f + 64, (size_t)count * 32));
    }
    put32(f + 60, crc32c(f, 60));
}

static int64_t prop(const igq_model *m, igq_model_prop p)
{
    int64_t v = 0;
    if (igq_model_info(m, p, &v) != IGQ_OK) abort();
    return v;
}

/* One image of zeros, when the forward is small enough to take a few milliseconds. */
static void run_once(const igq_model *m)
{
    const int64_t C = prop(m, IGQ_PROP_IN_CHANNELS), H = prop(m, IGQ_PROP_IMAGE_HEIGHT);
    const int64_t W = prop(m, IGQ_PROP_IMAGE_WIDTH), K = prop(m, IGQ_PROP_NUM_CLASSES);
    const int64_t T = prop(m, IGQ_PROP_NUM_TOKENS), D = prop(m, IGQ_PROP_EMBED_DIM);
    const int64_t L = prop(m, IGQ_PROP_DEPTH), M = prop(m, IGQ_PROP_MLP_DIM);
    const double  work = (double)L * (double)T * ((double)T * D + 4.0 * D * D + 2.0 * D * M);
    int64_t       is[4] = {1, C, H, W}, ls[2] = {1, K};
    igq_tensor   *img = NULL, *out = NULL;
    igq_status    s;
    if (C * H * W > ((int64_t)1 << 22) || work > 2e8 || K > ((int64_t)1 << 20)) return;
    if (igq_tensor_create(IGQ_DTYPE_F32, 4, is, &img) != IGQ_OK) abort();
    if (igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &out) != IGQ_OK) abort();
    s = igq_run(m, img, out);
    if (s != IGQ_OK && s != IGQ_ERR_NO_MEMORY) abort(); /* a model that loads must run */
    igq_tensor_free(img);
    igq_tensor_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t   *copy = (uint8_t *)malloc(size + 1);
    igq_model *m    = (igq_model *)copy;
    igq_status s;
    if (copy == NULL) return 0;
    if (size > 0) memcpy(copy, data, size);
    if (size < 41 || (copy[40] & 1) == 0) refix(copy, size);
    s = igq_model_load_buffer(copy, size, &m);
    if (s == IGQ_OK) {
        if (m == NULL) abort();
        run_once(m);
        igq_model_free(m);
    } else if (m != NULL || (s != IGQ_ERR_FORMAT && s != IGQ_ERR_NO_MEMORY)) {
        abort(); /* failure must leave the out-handle NULL; a bad file is IGQ_ERR_FORMAT */
    }
    free(copy);
    return 0;
}
