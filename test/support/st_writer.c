#include "st_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

void stw_init(stw *w) { memset(w, 0, sizeof *w); }

void stw_free(stw *w)
{
    size_t i;
    for (i = 0; i < w->n; i++) free(w->e[i].data);
    free(w->e);
    memset(w, 0, sizeof *w);
}

void stw_add_f32(stw *w, const char *name, int32_t ndim, const int64_t *shape, const float *data,
                 uint64_t seed, float scale)
{
    stw_entry *e;
    size_t     n = 1, i;
    int32_t    d;
    tu_rng     r;
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 32;
        w->e   = (stw_entry *)realloc(w->e, w->cap * sizeof *w->e);
        assert_non_null(w->e);
    }
    e = &w->e[w->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->dtype, sizeof e->dtype, "F32");
    e->ndim = ndim;
    for (d = 0; d < ndim; d++) {
        e->shape[d] = shape[d];
        n *= (size_t)shape[d];
    }
    e->nbytes = n * 4;
    e->data   = (unsigned char *)malloc(e->nbytes + 1);
    assert_non_null(e->data);
    if (data != NULL) {
        memcpy(e->data, data, e->nbytes);
    } else {
        tu_rng_seed(&r, seed);
        for (i = 0; i < n; i++) {
            float v = (float)tu_rng_normal(&r) * scale;
            memcpy(e->data + 4 * i, &v, 4);
        }
    }
}

const stw_entry *stw_find(const stw *w, const char *name)
{
    size_t i;
    for (i = 0; i < w->n; i++)
        if (strcmp(w->e[i].name, name) == 0) return &w->e[i];
    return NULL;
}

stw_entry *stw_get(stw *w, const char *name)
{
    size_t i;
    for (i = 0; i < w->n; i++)
        if (strcmp(w->e[i].name, name) == 0) return &w->e[i];
    return NULL;
}

int stw_remove(stw *w, const char *name)
{
    stw_entry *e = stw_get(w, name);
    if (e == NULL) return 0;
    free(e->data);
    memmove(e, e + 1, (size_t)(w->e + w->n - (e + 1)) * sizeof *e);
    w->n--;
    return 1;
}

void stw_meta(stw *w, const char *key, const char *value)
{
    size_t len = strlen(w->metadata);
    snprintf(w->metadata + len, sizeof w->metadata - len, "%s\"%s\":\"%s\"", len ? "," : "", key,
             value);
}

unsigned char *stw_serialize(const stw *w, size_t *size)
{
    size_t         cap = 256 + w->n * 256 + strlen(w->metadata), hl = 0, off = 0, i, total, pad;
    char          *hdr = (char *)malloc(cap);
    unsigned char *buf;
    int32_t        d;
    assert_non_null(hdr);
    hl += (size_t)snprintf(hdr + hl, cap - hl, "{");
    if (w->metadata[0]) hl += (size_t)snprintf(hdr + hl, cap - hl, "\"__metadata__\":{%s}", w->metadata);
    for (i = 0; i < w->n; i++) {
        const stw_entry *e = &w->e[i];
        hl += (size_t)snprintf(hdr + hl, cap - hl, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[",
                               (i || w->metadata[0]) ? "," : "", e->name, e->dtype);
        for (d = 0; d < e->ndim; d++)
            hl += (size_t)snprintf(hdr + hl, cap - hl, "%s%lld", d ? "," : "", (long long)e->shape[d]);
        hl += (size_t)snprintf(hdr + hl, cap - hl, "],\"data_offsets\":[%zu,%zu]}", off, off + e->nbytes);
        off += e->nbytes;
    }
    hl += (size_t)snprintf(hdr + hl, cap - hl, "}");
    assert_true(hl < cap);
    pad   = (8 - hl % 8) % 8;
    total = 8 + hl + pad + off;
    buf   = (unsigned char *)malloc(total);
    assert_non_null(buf);
    for (i = 0; i < 8; i++) buf[i] = (unsigned char)(((uint64_t)(hl + pad) >> (8 * i)) & 0xff);
    memcpy(buf + 8, hdr, hl);
    memset(buf + 8 + hl, ' ', pad);
    off = 8 + hl + pad;
    for (i = 0; i < w->n; i++) {
        memcpy(buf + off, w->e[i].data, w->e[i].nbytes);
        off += w->e[i].nbytes;
    }
    free(hdr);
    *size = total;
    return buf;
}

char *stw_write(const stw *w, const char *dir, const char *name)
{
    size_t         n;
    unsigned char *buf = stw_serialize(w, &n);
    char          *p   = tu_write_file(dir, name, buf, n);
    free(buf);
    return p;
}

static void add_ln(stw *w, const char *name_w, const char *name_b, int D, uint64_t seed)
{
    int64_t s[1] = {D};
    float  *g    = (float *)malloc((size_t)D * sizeof(float));
    tu_rng  r;
    int     i;
    tu_rng_seed(&r, seed);
    for (i = 0; i < D; i++) g[i] = 1.0f + 0.1f * (float)tu_rng_normal(&r);
    stw_add_f32(w, name_w, 1, s, g, 0, 0);
    stw_add_f32(w, name_b, 1, s, NULL, seed + 1, 0.1f);
    free(g);
}

void stw_timm_vit(stw *w, int depth, int D, int heads, int M, int K, int C, int S, int P,
                  int distilled, uint64_t seed)
{
    char    n[160], v[32];
    int     b, T = (S / P) * (S / P) + 1 + (distilled ? 1 : 0);
    int64_t s1[1], s2[2], s3[3], s4[4];
    uint64_t sd = seed * 1000;
#define SH1(a) (s1[0] = (a), s1)
#define SH2(a, c) (s2[0] = (a), s2[1] = (c), s2)
    s4[0] = D; s4[1] = C; s4[2] = P; s4[3] = P;
    stw_add_f32(w, "patch_embed.proj.weight", 4, s4, NULL, sd++, 0.2f);
    stw_add_f32(w, "patch_embed.proj.bias", 1, SH1(D), NULL, sd++, 0.1f);
    s3[0] = 1; s3[1] = 1; s3[2] = D;
    stw_add_f32(w, "cls_token", 3, s3, NULL, sd++, 0.5f);
    if (distilled) stw_add_f32(w, "dist_token", 3, s3, NULL, sd++, 0.5f);
    s3[1] = T;
    stw_add_f32(w, "pos_embed", 3, s3, NULL, sd++, 0.3f);
    for (b = 0; b < depth; b++) {
        char wn[160];
#define BN(suffix) (snprintf(n, sizeof n, "blocks.%d.%s", b, suffix), n)
        snprintf(wn, sizeof wn, "blocks.%d.norm1.weight", b);
        add_ln(w, wn, BN("norm1.bias"), D, sd++);
        sd++;
        stw_add_f32(w, BN("attn.qkv.weight"), 2, SH2(3 * D, D), NULL, sd++, 0.2f);
        stw_add_f32(w, BN("attn.qkv.bias"), 1, SH1(3 * D), NULL, sd++, 0.1f);
        stw_add_f32(w, BN("attn.proj.weight"), 2, SH2(D, D), NULL, sd++, 0.2f);
        stw_add_f32(w, BN("attn.proj.bias"), 1, SH1(D), NULL, sd++, 0.1f);
        snprintf(wn, sizeof wn, "blocks.%d.norm2.weight", b);
        add_ln(w, wn, BN("norm2.bias"), D, sd++);
        sd++;
        stw_add_f32(w, BN("mlp.fc1.weight"), 2, SH2(M, D), NULL, sd++, 0.2f);
        stw_add_f32(w, BN("mlp.fc1.bias"), 1, SH1(M), NULL, sd++, 0.1f);
        stw_add_f32(w, BN("mlp.fc2.weight"), 2, SH2(D, M), NULL, sd++, 0.2f);
        stw_add_f32(w, BN("mlp.fc2.bias"), 1, SH1(D), NULL, sd++, 0.1f);
#undef BN
    }
    add_ln(w, "norm.weight", "norm.bias", D, sd++);
    sd++;
    stw_add_f32(w, "head.weight", 2, SH2(K, D), NULL, sd++, 0.3f);
    stw_add_f32(w, "head.bias", 1, SH1(K), NULL, sd++, 0.1f);
    if (distilled) {
        stw_add_f32(w, "head_dist.weight", 2, SH2(K, D), NULL, sd++, 0.3f);
        stw_add_f32(w, "head_dist.bias", 1, SH1(K), NULL, sd++, 0.1f);
    }
    snprintf(v, sizeof v, "%d", heads);
    stw_meta(w, "num_heads", v);
#undef SH1
#undef SH2
}
