/* libFuzzer harness for the checkpoint loader (STYLE.md 2.9b): safetensors header and data,
 * its JSON, __metadata__ (ckpt_meta.c), the name maps and architecture inference
 * (ckpt_names.c, checkpoint.c), and a config.json beside the file.
 * Input: the checkpoint's bytes, optionally followed by "\0CFG\0" and a config.json.
 * Build and run: make fuzz (clang with libclang-rt; seeds: test/fixtures). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "igq/igq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[64];

static void put(const char *name, const uint8_t *p, size_t n)
{
    char  path[128];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    f = fopen(path, "wb");
    if (f == NULL) abort();
    if (n > 0 && fwrite(p, 1, n, f) != n) abort();
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t sep[5] = {0, 'C', 'F', 'G', 0};
    char                 path[128];
    size_t               cut = size, i;
    igq_model           *m   = NULL;
    if (g_dir[0] == '\0') {
        snprintf(g_dir, sizeof g_dir, "/tmp/igqfuzz.XXXXXX");
        if (mkdtemp(g_dir) == NULL) abort();
    }
    for (i = 0; i + sizeof sep <= size; i++)
        if (memcmp(data + i, sep, sizeof sep) == 0) {
            cut = i;
            break;
        }
    put("model.safetensors", data, cut);
    snprintf(path, sizeof path, "%s/config.json", g_dir);
    if (cut < size)
        put("config.json", data + cut + sizeof sep, size - cut - sizeof sep);
    else
        unlink(path);
    snprintf(path, sizeof path, "%s/model.safetensors", g_dir);
    if (igq_model_load(path, &m) == IGQ_OK) {
        int64_t v;
        if (igq_model_info(m, IGQ_PROP_NUM_TOKENS, &v) != IGQ_OK) abort();
        igq_model_free(m);
    } else if (m != NULL) {
        abort(); /* failure must leave the out-handle NULL */
    }
    return 0;
}
