/* PyTorch checkpoints (torch.save zip archives): the fixtures of tools/gen_pth_fixtures.py
 * against the safetensors files they were re-saved from (same tensor table, same logits bit for
 * bit, and the PyTorch logits), the legacy format refused, the zip reader and the restricted
 * pickle reader on archives and pickles built here (valid variants and malformed cases, each
 * with its status and the word its message must hold), allocation failures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "igq/igq.h"
#include "io/image.h"
#include "io/pth.h"
#include "io/safetensors.h"
#include "support/testutil.h"

/* ---- fixtures ------------------------------------------------------------------------------ */

typedef struct pair {
    const char *pth, *st, *io;
} pair;

static const pair PAIRS[] = {
    {"timm_deit_distilled/model.pth", "timm_deit_distilled/model.safetensors",
     "timm_deit_distilled/io.safetensors"},
    {"timm_deit_distilled/model_wrapped.pth", "timm_deit_distilled/model.safetensors",
     "timm_deit_distilled/io.safetensors"},
    {"timm_deit_distilled/model_ddp.pth", "timm_deit_distilled/model.safetensors",
     "timm_deit_distilled/io.safetensors"},
    {"tv_vit/model.pth", "tv_vit/model.safetensors", "tv_vit/io.safetensors"},
    {"hf_vit/pytorch_model.bin", "hf_vit/model.safetensors", "hf_vit/io.safetensors"},
    {"hf_dinov2/pytorch_model.bin", "hf_dinov2/model.safetensors", "hf_dinov2/io.safetensors"},
    {"pth_timm_f16/model.pth", "timm_vit_f16/model.safetensors", "timm_vit_f16/io.safetensors"},
    {"pth_timm_f16/model_deflated.pth", "timm_vit_f16/model.safetensors",
     "timm_vit_f16/io.safetensors"},
    {"pth_hf_bf16/pytorch_model.bin", "hf_vit_bf16/model.safetensors",
     "hf_vit_bf16/io.safetensors"},
};
#define N_PAIRS (sizeof PAIRS / sizeof PAIRS[0])

static igq_model *load_rel(const char *rel)
{
    char      *path = tu_fixture_path(rel);
    igq_model *m    = NULL;
    igq_status s    = igq_model_load(path, &m);
    if (s != IGQ_OK) fprintf(stderr, "load %s: %s\n", path, igq_last_error());
    free(path);
    assert_int_equal(s, IGQ_OK);
    return m;
}

/* The pth table holds the same tensors as the safetensors file: names, dtypes, shapes, and the
 * same f32 values bit for bit. */
static void compare_tables(const pair *p)
{
    char                *pp = tu_fixture_path(p->pth), *sp = tu_fixture_path(p->st);
    size_t               n, i;
    unsigned char       *bytes = tu_read_file(pp, &n);
    igq_safetensors     *a = NULL, *b = NULL;
    assert_non_null(bytes);
    assert_int_equal(igq__pth_parse(bytes, n, pp, &a), IGQ_OK);
    assert_int_equal(igq__st_open(sp, &b), IGQ_OK);
    assert_int_equal(a->count, b->count);
    for (i = 0; i < b->count; i++) {
        const igq_st_tensor *tb = &b->tensors[i];
        const igq_st_tensor *ta = igq__st_find(a, tb->name);
        float               *va, *vb;
        if (ta == NULL) fail_msg("%s: tensor '%s' missing", p->pth, tb->name);
        assert_int_equal(ta->dtype, tb->dtype);
        assert_int_equal(ta->ndim, tb->ndim);
        assert_memory_equal(ta->shape, tb->shape, (size_t)tb->ndim * sizeof tb->shape[0]);
        va = (float *)malloc((size_t)tb->numel * sizeof(float) + 1);
        vb = (float *)malloc((size_t)tb->numel * sizeof(float) + 1);
        assert_int_equal(igq__st_read_f32(a, ta, va, ta->numel), IGQ_OK);
        assert_int_equal(igq__st_read_f32(b, tb, vb, tb->numel), IGQ_OK);
        assert_memory_equal(va, vb, (size_t)tb->numel * sizeof(float));
        free(va);
        free(vb);
    }
    igq__st_close(a);
    igq__st_close(b);
    free(bytes);
    free(pp);
    free(sp);
}

/* Logits (features = 0) or features of images [B, C, H, W] into out [B, K]. */
static void run(const igq_model *m, const float *images, const int64_t *ishape, int64_t K,
                int features, float *out)
{
    const int64_t B = ishape[0], oshape[2] = {ishape[0], K};
    igq_tensor   *ti = NULL, *to = NULL;
    assert_int_equal(igq_tensor_wrap(IGQ_DTYPE_F32, 4, ishape, (void *)(uintptr_t)images,
                                     (size_t)(ishape[0] * ishape[1] * ishape[2] * ishape[3]) *
                                         sizeof(float),
                                     &ti),
                     IGQ_OK);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, oshape, &to), IGQ_OK);
    assert_int_equal(features ? igq_run_features(m, ti, to) : igq_run(m, ti, to), IGQ_OK);
    memcpy(out, igq_tensor_data(to), (size_t)(B * K) * sizeof(float));
    igq_tensor_free(ti);
    igq_tensor_free(to);
}

/* Runs both models (logits or features), requires identical bits, and compares with PyTorch's
 * values ref [B, K] as test_model does (max |error| <= 1e-4 max |value|). */
static void compare_outputs(const pair *p, const igq_model *mp, const igq_model *ms,
                            const float *img, const int64_t *ishape, const float *ref, int64_t K,
                            int features)
{
    const size_t n  = (size_t)(ishape[0] * K);
    float       *op = (float *)malloc(n * sizeof(float)), *os = (float *)malloc(n * sizeof(float));
    double       maxerr = 0, maxref = 0;
    size_t       i;
    run(mp, img, ishape, K, features, op);
    run(ms, img, ishape, K, features, os);
    assert_memory_equal(op, os, n * sizeof(float)); /* the same weights: the same bits */
    for (i = 0; i < n; i++) {
        maxerr = fmax(maxerr, fabs((double)op[i] - ref[i]));
        maxref = fmax(maxref, fabs((double)ref[i]));
    }
    if (!(maxerr <= 1e-4 * maxref))
        fail_msg("%s: max |%s error| %g, max |value| %g", p->pth, features ? "feature" : "logit",
                 maxerr, maxref);
    printf("  %-40s as %s: %s identical, max error vs PyTorch %.2e of %.2f\n", p->pth, p->st,
           features ? "features" : "logits", maxerr, maxref);
    free(op);
    free(os);
}

static void test_fixtures_match_safetensors(void **state)
{
    size_t f;
    (void)state;
    for (f = 0; f < N_PAIRS; f++) {
        const pair          *p  = &PAIRS[f];
        igq_model           *mp = load_rel(p->pth), *ms = load_rel(p->st);
        char                *iop = tu_fixture_path(p->io);
        igq_safetensors     *io  = NULL;
        const igq_st_tensor *ti, *tr;
        float               *img, *ref, ep, es, mp_mean[4], mp_std[4], ms_mean[4], ms_std[4];
        int64_t              classes = -1, fdim = -1;
        int                  prop, k;
        compare_tables(p);
        for (prop = IGQ_PROP_IMAGE_HEIGHT; prop <= IGQ_PROP_FEATURE_DIM; prop++) {
            int64_t a = -7, b = -7;
            assert_int_equal(igq_model_info(mp, (igq_model_prop)prop, &a),
                             igq_model_info(ms, (igq_model_prop)prop, &b));
            if (a != b) fail_msg("%s: property %d is %lld, %lld from safetensors", p->pth, prop,
                                 (long long)a, (long long)b);
        }
        assert_int_equal(igq_model_layer_norm_eps(mp, &ep), IGQ_OK);
        assert_int_equal(igq_model_layer_norm_eps(ms, &es), IGQ_OK);
        assert_true(ep == es);
        assert_int_equal(igq_model_normalization(mp, mp_mean, mp_std, 4),
                         igq_model_normalization(ms, ms_mean, ms_std, 4));
        assert_int_equal(igq_model_info(mp, IGQ_PROP_NUM_CLASSES, &classes), IGQ_OK);
        assert_int_equal(igq_model_info(mp, IGQ_PROP_FEATURE_DIM, &fdim), IGQ_OK);
        assert_int_equal(igq__st_open(iop, &io), IGQ_OK);
        ti = igq__st_find(io, "images");
        assert_non_null(ti);
        img = (float *)malloc((size_t)ti->numel * sizeof(float));
        assert_int_equal(igq__st_read_f32(io, ti, img, ti->numel), IGQ_OK);
        for (k = 0; k < 2; k++) { /* logits, then features, where PyTorch's are in the file */
            tr = igq__st_find(io, k == 0 ? "logits" : "features");
            if (tr == NULL) continue;
            assert_int_equal(tr->shape[1], k == 0 ? classes : fdim);
            ref = (float *)malloc((size_t)tr->numel * sizeof(float));
            assert_int_equal(igq__st_read_f32(io, tr, ref, tr->numel), IGQ_OK);
            compare_outputs(p, mp, ms, img, ti->shape, ref, tr->shape[1], k);
            free(ref);
        }
        assert_true(igq__st_find(io, "logits") != NULL || classes == 0);
        free(img);
        igq__st_close(io);
        free(iop);
        igq_model_free(mp);
        igq_model_free(ms);
    }
}

static void expect_load(const char *path, igq_status want, const char *w1, const char *w2)
{
    igq_model *m = (igq_model *)&m;
    igq_status s = igq_model_load(path, &m);
    if (s != want || m != NULL || strstr(igq_last_error(), w1) == NULL ||
        (w2 != NULL && strstr(igq_last_error(), w2) == NULL))
        fail_msg("%s: status %d (want %d), message '%s' (want '%s'%s%s)", path, (int)s,
                 (int)want, igq_last_error(), w1, w2 ? ", '" : "", w2 ? w2 : "");
    printf("  %-40s %d  %s\n", path, (int)s, igq_last_error());
}

static void test_legacy_and_bare_pickle(void **state)
{
    static const unsigned char bare[] = {0x80, 0x02, '}', 'q', 0x00, '.'};
    char                      *legacy = tu_fixture_path("pth_legacy/model.pth");
    char                      *dir    = tu_make_tmpdir();
    char                      *p;
    (void)state;
    expect_load(legacy, IGQ_ERR_UNSUPPORTED, "legacy", "re-save it with torch.save");
    p = tu_write_file(dir, "bare.pkl", bare, sizeof bare);
    expect_load(p, IGQ_ERR_UNSUPPORTED, "bare pickle", NULL);
    free(p);
    /* a safetensors file whose header length (0x380) starts as a pickle does: safetensors */
    {
        unsigned char st[8 + 0x380];
        const char    js[] = "{\"__metadata__\":{\"format\":\"pt\"}}";
        memset(st, ' ', sizeof st);
        memset(st, 0, 8);
        st[0] = 0x80, st[1] = 0x03;
        memcpy(st + 8, js, strlen(js));
        p = tu_write_file(dir, "pickle_like.safetensors", st, sizeof st);
        expect_load(p, IGQ_ERR_FORMAT, "not a ViT/DeiT checkpoint", NULL);
        free(p);
    }
    /* neither zip nor pickle: read as safetensors, as before */
    p = tu_write_file(dir, "junk.pth", "PK\x01\x02xxxxxxxx", 12);
    expect_load(p, IGQ_ERR_FORMAT, "header length", NULL);
    free(p);
    tu_rmdir_r(dir);
    free(dir);
    free(legacy);
}

/* ---- builders: byte buffers, pickles, zip archives ----------------------------------------- */

typedef struct buf {
    unsigned char *p;
    size_t         n, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p   = (unsigned char *)realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void u8(buf *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}
static void u16(buf *b, unsigned v) { u8(b, v & 255), u8(b, v >> 8 & 255); }
static void u32(buf *b, uint32_t v) { u16(b, v & 0xffff), u16(b, v >> 16); }
static void u64(buf *b, uint64_t v) { u32(b, (uint32_t)v), u32(b, (uint32_t)(v >> 32)); }
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }
static void set32(buf *b, size_t at, uint32_t v)
{
    b->p[at] = (unsigned char)v, b->p[at + 1] = (unsigned char)(v >> 8);
    b->p[at + 2] = (unsigned char)(v >> 16), b->p[at + 3] = (unsigned char)(v >> 24);
}
static void set16(buf *b, size_t at, unsigned v)
{
    b->p[at] = (unsigned char)v, b->p[at + 1] = (unsigned char)(v >> 8);
}

/* pickle opcodes */
static void pk_global(buf *b, const char *mod, const char *name)
{
    u8(b, 'c'), puts_(b, mod), u8(b, '\n'), puts_(b, name), u8(b, '\n');
}
static void pk_str(buf *b, const char *s) { u8(b, 'X'), u32(b, (uint32_t)strlen(s)), puts_(b, s); }
static void pk_int(buf *b, int64_t v)
{
    if (v >= 0 && v < 256)
        u8(b, 'K'), u8(b, (unsigned)v);
    else if (v >= 0 && v < 65536)
        u8(b, 'M'), u16(b, (unsigned)v);
    else if (v >= INT32_MIN && v <= INT32_MAX)
        u8(b, 'J'), u32(b, (uint32_t)(int32_t)v);
    else
        u8(b, 0x8a), u8(b, 8), u64(b, (uint64_t)v);
}

typedef struct tspec {
    const char *name, *cls, *key;
    int64_t     numel, offset;
    int         nd;
    int64_t     size[10], stride[10];
} tspec;

static void pk_tensor(buf *b, const tspec *t)
{
    int i;
    pk_global(b, "torch._utils", "_rebuild_tensor_v2");
    u8(b, '('), u8(b, '(');
    pk_str(b, "storage"), pk_global(b, "torch", t->cls), pk_str(b, t->key), pk_str(b, "cpu");
    pk_int(b, t->numel);
    u8(b, 't'), u8(b, 'Q');
    pk_int(b, t->offset);
    u8(b, '(');
    for (i = 0; i < t->nd; i++) pk_int(b, t->size[i]);
    u8(b, 't'), u8(b, '(');
    for (i = 0; i < t->nd; i++) pk_int(b, t->stride[i]);
    u8(b, 't'), u8(b, 0x89);
    pk_global(b, "collections", "OrderedDict"), u8(b, ')'), u8(b, 'R');
    u8(b, 't'), u8(b, 'R');
}

/* A whole pickle: OrderedDict of the tensors (PROTO 2 ... STOP). */
static void pk_state_dict(buf *b, const tspec *t, int n)
{
    int i;
    u8(b, 0x80), u8(b, 2);
    pk_global(b, "collections", "OrderedDict"), u8(b, ')'), u8(b, 'R'), u8(b, '(');
    for (i = 0; i < n; i++) pk_str(b, t[i].name), pk_tensor(b, &t[i]);
    u8(b, 'u'), u8(b, '.');
}

/* Base tensors: w F32 [2,3] on storage "0" (6 floats), b F16 [3] on storage "1". */
static const tspec BASE[2] = {
    {"w", "FloatStorage", "0", 6, 0, 2, {2, 3}, {3, 1}},
    {"b", "HalfStorage", "1", 3, 0, 1, {3}, {1}},
};
static const float    W_VALUES[6] = {0.5f, -1.25f, 2.0f, 3.75f, -0.0625f, 100.0f};
static const uint16_t B_VALUES[3] = {0x3c00, 0x4000, 0xc200}; /* 1, 2, -3 in F16 */

typedef struct zentry {
    const char          *name;
    const unsigned char *data; /* as stored in the archive */
    size_t               n;
    int                  method;
    size_t               usize; /* 0: n */
    uint32_t             crc;   /* 0: computed over data (stored entries) */
    unsigned             flags;
} zentry;

typedef struct zlayout {
    size_t local[64], central[64], eocd, cd_off;
} zlayout;

/* An archive of the entries; zip64: sizes and offsets in ZIP64 extra fields and a ZIP64 end
 * record with its locator, as writers do for large archives. */
static void zip_build(buf *o, const zentry *e, int n, int zip64, zlayout *L)
{
    size_t cd, cd_size, end64 = 0;
    int    i;
    o->n = 0;
    for (i = 0; i < n; i++) {
        const size_t us = e[i].usize ? e[i].usize : e[i].n;
        L->local[i]     = o->n;
        u32(o, 0x04034b50), u16(o, 20), u16(o, (unsigned)e[i].flags), u16(o, (unsigned)e[i].method);
        u16(o, 0), u16(o, 0x21);
        u32(o, e[i].crc ? e[i].crc : igq__crc32(0, e[i].data, e[i].n));
        u32(o, (uint32_t)e[i].n), u32(o, (uint32_t)us);
        u16(o, (unsigned)strlen(e[i].name)), u16(o, 0);
        puts_(o, e[i].name);
        put(o, e[i].data, e[i].n);
    }
    cd = o->n;
    for (i = 0; i < n; i++) {
        const size_t us = e[i].usize ? e[i].usize : e[i].n;
        L->central[i]   = o->n;
        u32(o, 0x02014b50), u16(o, 45), u16(o, 20), u16(o, (unsigned)e[i].flags);
        u16(o, (unsigned)e[i].method), u16(o, 0), u16(o, 0x21);
        u32(o, e[i].crc ? e[i].crc : igq__crc32(0, e[i].data, e[i].n));
        u32(o, zip64 ? 0xffffffffu : (uint32_t)e[i].n);
        u32(o, zip64 ? 0xffffffffu : (uint32_t)us);
        u16(o, (unsigned)strlen(e[i].name)), u16(o, zip64 ? 28 : 0), u16(o, 0);
        u16(o, 0), u16(o, 0), u32(o, 0);
        u32(o, zip64 ? 0xffffffffu : (uint32_t)L->local[i]);
        puts_(o, e[i].name);
        if (zip64) u16(o, 1), u16(o, 24), u64(o, us), u64(o, e[i].n), u64(o, L->local[i]);
    }
    cd_size = o->n - cd;
    if (zip64) {
        end64 = o->n;
        u32(o, 0x06064b50), u64(o, 44), u16(o, 45), u16(o, 45), u32(o, 0), u32(o, 0);
        u64(o, (uint64_t)n), u64(o, (uint64_t)n), u64(o, cd_size), u64(o, cd);
        u32(o, 0x07064b50), u32(o, 0), u64(o, end64), u32(o, 1);
    }
    L->eocd   = o->n;
    L->cd_off = cd;
    u32(o, 0x06054b50), u16(o, 0), u16(o, 0);
    u16(o, zip64 ? 0xffff : (unsigned)n), u16(o, zip64 ? 0xffff : (unsigned)n);
    u32(o, zip64 ? 0xffffffffu : (uint32_t)cd_size), u32(o, zip64 ? 0xffffffffu : (uint32_t)cd);
    u16(o, 0);
}

/* Raw deflate of data as stored blocks (type 0): what an inflater must accept. */
static void deflate_stored(buf *o, const unsigned char *d, size_t n)
{
    o->n = 0;
    do {
        const size_t k = n > 65535 ? 65535 : n;
        u8(o, n <= 65535 ? 1 : 0), u16(o, (unsigned)k), u16(o, (unsigned)~k & 0xffff);
        put(o, d, k);
        d += k;
        n -= k;
    } while (n > 0);
}

/* The standard archive around a pickle: data.pkl, storages 0 (W_VALUES) and 1 (B_VALUES),
 * version. */
static void archive(buf *o, const buf *pkl, int zip64, zlayout *L)
{
    unsigned char s0[24], s1[6];
    zentry        e[4];
    int           i;
    for (i = 0; i < 6; i++) {
        uint32_t u;
        memcpy(&u, &W_VALUES[i], 4);
        s0[4 * i] = (unsigned char)u, s0[4 * i + 1] = (unsigned char)(u >> 8);
        s0[4 * i + 2] = (unsigned char)(u >> 16), s0[4 * i + 3] = (unsigned char)(u >> 24);
    }
    for (i = 0; i < 3; i++)
        s1[2 * i] = (unsigned char)B_VALUES[i], s1[2 * i + 1] = (unsigned char)(B_VALUES[i] >> 8);
    memset(e, 0, sizeof e);
    e[0].name = "archive/data.pkl", e[0].data = pkl->p, e[0].n = pkl->n;
    e[1].name = "archive/data/0", e[1].data = s0, e[1].n = sizeof s0;
    e[2].name = "archive/data/1", e[2].data = s1, e[2].n = sizeof s1;
    e[3].name = "archive/version", e[3].data = (const unsigned char *)"3\n", e[3].n = 2;
    zip_build(o, e, 4, zip64, L);
}

static int g_cases;

/* igq__pth_parse of the archive: want (and a message holding needle) or, for IGQ_OK, the
 * table (returned; NULL otherwise). */
static igq_safetensors *expect(const char *what, const buf *a, igq_status want, const char *needle)
{
    igq_safetensors *st = (igq_safetensors *)&st;
    igq_status       s  = igq__pth_parse(a->p, a->n, "case.pth", &st);
    if (s != want || (want != IGQ_OK && (st != NULL || strstr(igq_last_error(), needle) == NULL)))
        fail_msg("%s: status %d (want %d), message '%s' (want '%s')", what, (int)s, (int)want,
                 s == IGQ_OK ? "" : igq_last_error(), needle ? needle : "");
    if (want != IGQ_OK) {
        g_cases++;
        printf("  | %-44s | %-2d | %s |\n", what, (int)s, igq_last_error());
        return NULL;
    }
    return st;
}

static void check_base_values(igq_safetensors *st)
{
    const igq_st_tensor *w = igq__st_find(st, "w"), *b = igq__st_find(st, "b");
    float                v[6];
    assert_non_null(w);
    assert_non_null(b);
    assert_int_equal(w->dtype, IGQ_ST_F32);
    assert_int_equal(w->ndim, 2);
    assert_int_equal(w->shape[0], 2);
    assert_int_equal(w->shape[1], 3);
    assert_int_equal(igq__st_read_f32(st, w, v, 6), IGQ_OK);
    assert_memory_equal(v, W_VALUES, sizeof W_VALUES);
    assert_int_equal(b->dtype, IGQ_ST_F16);
    assert_int_equal(igq__st_read_f32(st, b, v, 3), IGQ_OK);
    assert_true(v[0] == 1.0f && v[1] == 2.0f && v[2] == -3.0f);
}

/* A pickle of the base tensors with one change: tensor i replaced by t. */
static void base_pickle_with(buf *pkl, int i, const tspec *t)
{
    tspec ts[2];
    memcpy(ts, BASE, sizeof ts);
    if (t != NULL) ts[i] = *t;
    pkl->n = 0;
    pk_state_dict(pkl, ts, 2);
}

/* ---- valid variants ------------------------------------------------------------------------ */

static void test_valid_variants(void **state)
{
    buf              pkl = {0}, a = {0}, z = {0};
    zlayout          L;
    igq_safetensors *st;
    (void)state;

    base_pickle_with(&pkl, 0, NULL);
    archive(&a, &pkl, 0, &L);
    st = expect("base", &a, IGQ_OK, NULL);
    assert_int_equal(st->count, 2);
    check_base_values(st);
    igq__st_close(st);

    archive(&a, &pkl, 1, &L);
    st = expect("zip64", &a, IGQ_OK, NULL);
    check_base_values(st);
    igq__st_close(st);

    /* data.pkl deflated (stored deflate blocks), CRC over the inflated bytes */
    {
        zentry        e[3];
        unsigned char s0[24], s1[6];
        buf           full = {0};
        archive(&full, &pkl, 0, &L);
        memcpy(s0, full.p + L.local[1] + 30 + strlen("archive/data/0"), 24);
        memcpy(s1, full.p + L.local[2] + 30 + strlen("archive/data/1"), 6);
        deflate_stored(&z, pkl.p, pkl.n);
        memset(e, 0, sizeof e);
        e[0].name = "archive/data.pkl", e[0].data = z.p, e[0].n = z.n, e[0].method = 8;
        e[0].usize = pkl.n, e[0].crc = igq__crc32(0, pkl.p, pkl.n);
        e[1].name = "archive/data/0", e[1].data = s0, e[1].n = 24;
        e[2].name = "archive/data/1", e[2].data = s1, e[2].n = 6;
        zip_build(&a, e, 3, 0, &L);
        st = expect("deflated data.pkl", &a, IGQ_OK, NULL);
        check_base_values(st);
        igq__st_close(st);
        free(full.p);
    }

    /* wrappers, a module. prefix, a Parameter, values that are not tensors, an I64 tensor (loads;
     * refused only when read as f32), two tensors sharing a storage at an offset */
    {
        const tspec w2 = {"module.w2", "FloatStorage", "0", 6, 2, 1, {3}, {1}};
        const tspec ix = {"module.idx", "LongStorage", "9", 0, 0, 1, {0}, {1}};
        float       v[3];
        pkl.n = 0;
        u8(&pkl, 0x80), u8(&pkl, 2), u8(&pkl, '}'), u8(&pkl, '(');
        pk_str(&pkl, "epoch"), pk_int(&pkl, 7);
        pk_str(&pkl, "best"), u8(&pkl, 'G'), u8(&pkl, 0x3f), u8(&pkl, 0xe0), u32(&pkl, 0),
            u16(&pkl, 0); /* 0.5 */
        pk_str(&pkl, "sched"), u8(&pkl, ']'), u8(&pkl, '('), pk_int(&pkl, -5);
        pk_int(&pkl, 1 << 20), u8(&pkl, 'N'), u8(&pkl, 0x89), u8(&pkl, 'e');
        pk_str(&pkl, "model"), u8(&pkl, '}'), pk_str(&pkl, "state_dict");
        u8(&pkl, '}'), u8(&pkl, '(');
        pk_str(&pkl, "module.w");
        pk_global(&pkl, "torch._utils", "_rebuild_parameter");
        u8(&pkl, '('), pk_tensor(&pkl, &BASE[0]), u8(&pkl, 0x88);
        pk_global(&pkl, "collections", "OrderedDict"), u8(&pkl, ')'), u8(&pkl, 'R');
        u8(&pkl, 't'), u8(&pkl, 'R');
        pk_str(&pkl, "module.b"), pk_tensor(&pkl, &BASE[1]);
        pk_str(&pkl, "module.w2"), pk_tensor(&pkl, &w2);
        pk_str(&pkl, "module.idx"), pk_tensor(&pkl, &ix);
        pk_str(&pkl, "module.note"), pk_str(&pkl, "not a tensor");
        u8(&pkl, 'u'), u8(&pkl, 's'), u8(&pkl, 'u'), u8(&pkl, '.');
        {
            unsigned char s9[1] = {0};
            zentry        e[4];
            buf           full = {0};
            archive(&full, &pkl, 0, &L);
            memset(e, 0, sizeof e);
            e[0].name = "archive/data.pkl", e[0].data = pkl.p, e[0].n = pkl.n;
            e[1].name = "archive/data/0";
            e[1].data = full.p + L.local[1] + 30 + strlen("archive/data/0"), e[1].n = 24;
            e[2].name = "archive/data/1";
            e[2].data = full.p + L.local[2] + 30 + strlen("archive/data/1"), e[2].n = 6;
            e[3].name = "archive/data/9", e[3].data = s9, e[3].n = 0;
            zip_build(&a, e, 4, 0, &L);
            st = expect("wrapped, module., Parameter, shared storage", &a, IGQ_OK, NULL);
            free(full.p);
        }
        assert_int_equal(st->count, 4);
        check_base_values(st);
        assert_non_null(igq__st_find(st, "idx"));
        assert_null(igq__st_find(st, "module.w"));
        assert_int_equal(igq__st_read_f32(st, igq__st_find(st, "w2"), v, 3), IGQ_OK);
        assert_true(v[0] == W_VALUES[2] && v[1] == W_VALUES[3] && v[2] == W_VALUES[4]);
        assert_int_equal(igq__st_read_f32(st, igq__st_find(st, "idx"), v, 0), IGQ_ERR_UNSUPPORTED);
        assert_non_null(strstr(igq_last_error(), "I64"));
        igq__st_close(st);
    }
    free(pkl.p);
    free(a.p);
    free(z.p);
}

/* ---- malformed cases ----------------------------------------------------------------------- */

static void test_malformed_zip(void **state)
{
    buf     pkl = {0}, a = {0}, z = {0};
    zlayout L;
    (void)state;
    base_pickle_with(&pkl, 0, NULL);
    printf("  | case | status | message |\n");

    archive(&a, &pkl, 0, &L);
    a.n = L.eocd + 10; /* end record cut */
    expect("truncated archive (end record cut)", &a, IGQ_ERR_FORMAT, "end of central directory");

    archive(&a, &pkl, 0, &L);
    a.n = L.cd_off + 30; /* cut inside the central directory */
    expect("truncated inside the central directory", &a, IGQ_ERR_FORMAT, "end of central directory");

    archive(&a, &pkl, 0, &L);
    set32(&a, L.eocd + 16, (uint32_t)a.n); /* central directory offset past its end */
    expect("central directory offset past the end", &a, IGQ_ERR_FORMAT, "central directory");

    archive(&a, &pkl, 0, &L);
    set16(&a, L.eocd + 8, 4000), set16(&a, L.eocd + 10, 4000);
    expect("entry count beyond the directory size", &a, IGQ_ERR_FORMAT, "declares 4000 entries");

    archive(&a, &pkl, 0, &L);
    a.p[L.central[1]] = 'X';
    expect("bad central header signature", &a, IGQ_ERR_FORMAT, "no central header");

    archive(&a, &pkl, 0, &L);
    set32(&a, L.central[1] + 42, (uint32_t)L.cd_off + 4);
    expect("local header offset in the directory", &a, IGQ_ERR_FORMAT, "local header offset");

    archive(&a, &pkl, 0, &L);
    a.p[L.local[2]] = 'X';
    expect("bad local header signature", &a, IGQ_ERR_FORMAT, "no local header");

    archive(&a, &pkl, 0, &L);
    set32(&a, L.central[2] + 20, 1000000), set32(&a, L.central[2] + 24, 1000000);
    expect("entry data past the end", &a, IGQ_ERR_FORMAT, "run past the end");

    archive(&a, &pkl, 0, &L);
    set32(&a, L.central[2] + 24, 7);
    expect("stored entry with two sizes", &a, IGQ_ERR_FORMAT, "sizes differ");

    archive(&a, &pkl, 0, &L);
    memcpy(a.p + L.central[2] + 46 + strlen("archive/data/"), "0", 1); /* data/1 -> data/0 */
    memcpy(a.p + L.local[2] + 30 + strlen("archive/data/"), "0", 1);
    expect("duplicate entry names", &a, IGQ_ERR_FORMAT, "duplicate");

    archive(&a, &pkl, 0, &L);
    set16(&a, L.central[0] + 8, 1);
    expect("encrypted entry", &a, IGQ_ERR_UNSUPPORTED, "encrypted");

    archive(&a, &pkl, 0, &L);
    set16(&a, L.central[0] + 10, 12);
    expect("compression method 12 (bzip2)", &a, IGQ_ERR_UNSUPPORTED, "compression method 12");

    archive(&a, &pkl, 0, &L);
    set16(&a, L.central[0] + 10, 8);
    expect("local and central methods differ", &a, IGQ_ERR_FORMAT, "local header says method");

    archive(&a, &pkl, 0, &L);
    a.p[L.local[0] + 30 + strlen("archive/data.pkl") + 5] ^= 0x55;
    expect("data.pkl CRC-32 mismatch", &a, IGQ_ERR_FORMAT, "CRC-32");

    archive(&a, &pkl, 1, &L);
    set32(&a, L.eocd - 20 + 8, 3); /* locator points at garbage */
    expect("ZIP64 locator to a bad end record", &a, IGQ_ERR_FORMAT, "ZIP64 end record");

    archive(&a, &pkl, 1, &L);
    set16(&a, L.central[1] + 30, 0); /* no extra field: 0xffffffff fields unexplained */
    expect("ZIP64 sizes without the extra field", &a, IGQ_ERR_FORMAT, "ZIP64 extra field");

    archive(&a, &pkl, 1, &L);
    /* the ZIP64 extra's usize/csize of data/1: 2^62 */
    set32(&a, L.central[2] + 46 + strlen("archive/data/1") + 4 + 4, 0x40000000u);
    set32(&a, L.central[2] + 46 + strlen("archive/data/1") + 12 + 4, 0x40000000u);
    expect("ZIP64 extra with huge sizes", &a, IGQ_ERR_FORMAT, "run past the end");

    archive(&a, &pkl, 1, &L);
    set16(&a, L.central[2] + 46 + strlen("archive/data/1") + 2, 8);
    expect("ZIP64 extra too short", &a, IGQ_ERR_FORMAT, "ZIP64 extra field holds 8 bytes");

    archive(&a, &pkl, 0, &L);
    set16(&a, L.eocd + 4, 1);
    expect("multi-disk archive", &a, IGQ_ERR_UNSUPPORTED, "several disks");

    /* deflated entries: a corrupt stream, trailing bytes, a deflated storage */
    {
        zentry e[3];
        buf    full = {0};
        archive(&full, &pkl, 0, &L);
        deflate_stored(&z, pkl.p, pkl.n);
        memset(e, 0, sizeof e);
        e[0].name = "archive/data.pkl", e[0].data = z.p, e[0].n = z.n, e[0].method = 8;
        e[0].usize = pkl.n, e[0].crc = igq__crc32(0, pkl.p, pkl.n);
        e[1].name = "archive/data/0";
        e[1].data = full.p + L.local[1] + 30 + strlen("archive/data/0"), e[1].n = 24;
        e[2].name = "archive/data/1";
        e[2].data = full.p + L.local[2] + 30 + strlen("archive/data/1"), e[2].n = 6;
        z.p[0] = 0x07; /* final block, type 3 */
        zip_build(&a, e, 3, 0, &L);
        expect("deflated data.pkl, invalid block type", &a, IGQ_ERR_FORMAT, "invalid block type 3");
        z.p[0] = 0x01;
        e[0].usize = pkl.n - 1;
        zip_build(&a, e, 3, 0, &L);
        expect("deflated data.pkl longer than declared", &a, IGQ_ERR_FORMAT, "zlib");
        e[0].usize = pkl.n;
        {
            /* deflated storages (an archive re-zipped with compression): inflated behind a
             * copy of the archive, all allocations failing in turn on the way */
            buf              ds = {0}, bomb = {0};
            igq_safetensors *st;
            tspec            t = BASE[0];
            long             n_fail;
            deflate_stored(&ds, e[1].data, 24);
            e[1].crc  = igq__crc32(0, e[1].data, 24);
            e[1].data = ds.p, e[1].n = ds.n, e[1].method = 8, e[1].usize = 24;
            zip_build(&a, e, 3, 0, &L);
            st = expect("deflated tensor storage", &a, IGQ_OK, NULL);
            check_base_values(st);
            igq__st_close(st);
            for (n_fail = 0;; n_fail++) {
                igq_status s;
                st = (igq_safetensors *)&st;
                igq__alloc_fail_after(n_fail);
                s = igq__pth_parse(a.p, a.n, "case.pth", &st);
                igq__alloc_fail_after(-1);
                if (s == IGQ_OK) break;
                if (s != IGQ_ERR_NO_MEMORY || st != NULL)
                    fail_msg("allocation %ld failing: %d '%s'", n_fail, (int)s, igq_last_error());
            }
            check_base_values(st);
            igq__st_close(st);
            printf("  deflated archive: allocation failures walked over %ld allocations\n", n_fail);
            assert_true(n_fail > 5);
            e[1].crc ^= 1;
            zip_build(&a, e, 3, 0, &L);
            expect("deflated storage, CRC-32 mismatch", &a, IGQ_ERR_FORMAT, "CRC-32 mismatch");
            e[1].crc ^= 1;
            ds.p[0] = 0x07;
            zip_build(&a, e, 3, 0, &L);
            expect("deflated storage, invalid block type", &a, IGQ_ERR_FORMAT, "invalid block type");
            /* a storage of 2^29 floats declared by 29 deflated bytes: a zip bomb */
            t.numel = (int64_t)1 << 29;
            base_pickle_with(&bomb, 0, &t);
            e[0].data = bomb.p, e[0].n = bomb.n, e[0].usize = bomb.n, e[0].method = 0, e[0].crc = 0;
            e[1].usize = (size_t)1 << 31;
            zip_build(&a, e, 3, 0, &L);
            expect("deflated storage, zip bomb size", &a, IGQ_ERR_FORMAT,
                   "more than deflate can produce");
            free(ds.p);
            free(bomb.p);
        }
        free(full.p);
    }

    /* archive members */
    {
        zentry e[4];
        buf    full = {0};
        archive(&full, &pkl, 0, &L);
        memset(e, 0, sizeof e);
        e[0].name = "archive/data.pkl", e[0].data = pkl.p, e[0].n = pkl.n;
        e[1].name = "archive/data/0";
        e[1].data = full.p + L.local[1] + 30 + strlen("archive/data/0"), e[1].n = 24;
        e[2].name = "archive/data/1";
        e[2].data = full.p + L.local[2] + 30 + strlen("archive/data/1"), e[2].n = 6;
        e[3].name = "archive/byteorder", e[3].data = (const unsigned char *)"big", e[3].n = 3;
        zip_build(&a, e, 4, 0, &L);
        expect("big-endian byteorder", &a, IGQ_ERR_UNSUPPORTED, "big-endian");
        e[3].name = "archive/byteorder", e[3].data = (const unsigned char *)"little", e[3].n = 6;
        zip_build(&a, e, 4, 0, &L);
        igq__st_close(expect("byteorder little", &a, IGQ_OK, NULL));
        e[3].name = "archive/constants.pkl";
        zip_build(&a, e, 4, 0, &L);
        expect("TorchScript archive", &a, IGQ_ERR_UNSUPPORTED, "TorchScript");
        e[0].name = "archive/other.pkl";
        zip_build(&a, e, 3, 0, &L);
        expect("no data.pkl", &a, IGQ_ERR_FORMAT, "data.pkl");
        e[0].name = "archive/data.pkl";
        e[2].name = "archive/data/7";
        zip_build(&a, e, 3, 0, &L);
        expect("storage key missing from the archive", &a, IGQ_ERR_FORMAT, "missing from the archive");
        e[2].name = "archive/data/1", e[2].n = 4;
        zip_build(&a, e, 3, 0, &L);
        expect("storage entry shorter than numel", &a, IGQ_ERR_FORMAT, "entry holds 4 bytes");
        free(full.p);
    }
    free(pkl.p);
    free(a.p);
    free(z.p);
}

/* The archive around a raw pickle. */
static igq_safetensors *expect_pickle(const char *what, const buf *pkl, igq_status want,
                                      const char *needle)
{
    buf              a = {0};
    zlayout          L;
    igq_safetensors *st;
    archive(&a, pkl, 0, &L);
    st = expect(what, &a, want, needle);
    free(a.p);
    return st;
}

static void test_malformed_pickle(void **state)
{
    buf    p = {0};
    tspec  t;
    size_t i;
    (void)state;
    printf("  | case | status | message |\n");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, 0xff);
    expect_pickle("unknown opcode 0xff", &p, IGQ_ERR_UNSUPPORTED, "opcode 0xff");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), pk_global(&p, "os", "system"), pk_str(&p, "echo pwned"), u8(&p, 0x85),
        u8(&p, 'R'), u8(&p, '.');
    expect_pickle("GLOBAL os.system + REDUCE", &p, IGQ_ERR_UNSUPPORTED, "'os.system'");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 4), u8(&p, 0x8c), u8(&p, 8), puts_(&p, "builtins"), u8(&p, 0x94);
    u8(&p, 0x8c), u8(&p, 4), puts_(&p, "eval"), u8(&p, 0x94), u8(&p, 0x93);
    pk_str(&p, "1+1"), u8(&p, 0x85), u8(&p, 'R'), u8(&p, '.');
    expect_pickle("STACK_GLOBAL builtins.eval", &p, IGQ_ERR_UNSUPPORTED, "'builtins.eval'");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), pk_global(&p, "__builtin__", "getattr"), u8(&p, '.');
    expect_pickle("GLOBAL __builtin__.getattr", &p, IGQ_ERR_UNSUPPORTED, "'__builtin__.getattr'");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), pk_global(&p, "__main__", "MyViT"), u8(&p, ')'), u8(&p, 0x81);
    u8(&p, '.');
    expect_pickle("pickled nn.Module class (NEWOBJ)", &p, IGQ_ERR_UNSUPPORTED, "'__main__.MyViT'");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), pk_global(&p, "torch._utils", "_rebuild_qtensor"), u8(&p, '.');
    expect_pickle("quantized tensor rebuild", &p, IGQ_ERR_UNSUPPORTED, "_rebuild_qtensor");

    t = BASE[0], t.cls = "ComplexFloatStorage";
    base_pickle_with(&p, 0, &t);
    expect_pickle("storage class not allowed", &p, IGQ_ERR_UNSUPPORTED, "torch.ComplexFloatStorage");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), pk_global(&p, "torch", "FloatStorage"), pk_int(&p, 4), u8(&p, 0x85),
        u8(&p, 'R'), u8(&p, '.');
    expect_pickle("REDUCE on a storage class", &p, IGQ_ERR_UNSUPPORTED, "storage class");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2);
    for (i = 0; i < 100000; i++) u8(&p, ']');
    for (i = 0; i < 99999; i++) u8(&p, 'a');
    u8(&p, '.');
    expect_pickle("recursion bomb: 100000 nested lists", &p, IGQ_ERR_FORMAT, "nest deeper");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2);
    for (i = 0; i < 100000; i++) u8(&p, '(');
    for (i = 0; i < 100000; i++) u8(&p, 't');
    u8(&p, '.');
    expect_pickle("recursion bomb: 100000 nested MARK tuples", &p, IGQ_ERR_FORMAT,
                  "marks nest deeper");

    /* a list appended into itself 1000 times through the memo: a cycle, depth bounded */
    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, ']'), u8(&p, 'q'), u8(&p, 0);
    for (i = 0; i < 1000; i++) u8(&p, 'h'), u8(&p, 0), u8(&p, 'a');
    u8(&p, '.');
    expect_pickle("self-referencing list (memo cycle)", &p, IGQ_ERR_FORMAT, "nest deeper");

    t = BASE[0], t.numel = (int64_t)1 << 62;
    base_pickle_with(&p, 0, &t);
    expect_pickle("huge storage numel (2^62)", &p, IGQ_ERR_FORMAT, "declares 4611686018427387904");

    t = BASE[0], t.stride[0] = 1, t.stride[1] = 2;
    base_pickle_with(&p, 0, &t);
    expect_pickle("non-contiguous strides (a transpose)", &p, IGQ_ERR_UNSUPPORTED,
                  "'w' is not contiguous");

    t = BASE[0], t.offset = 1;
    base_pickle_with(&p, 0, &t);
    expect_pickle("offset + numel beyond the storage", &p, IGQ_ERR_FORMAT,
                  "run past the end of its storage");

    t = BASE[0], t.offset = -1;
    base_pickle_with(&p, 0, &t);
    expect_pickle("negative storage offset", &p, IGQ_ERR_FORMAT, "run past the end of its storage");

    t = BASE[0], t.size[0] = -2, t.size[1] = -3;
    base_pickle_with(&p, 0, &t);
    expect_pickle("negative size", &p, IGQ_ERR_FORMAT, "negative size");

    t = BASE[0], t.nd = 9;
    for (i = 2; i < 9; i++) t.size[i] = 1, t.stride[i] = 1;
    base_pickle_with(&p, 0, &t);
    expect_pickle("9 dimensions", &p, IGQ_ERR_UNSUPPORTED, "9 dimensions");

    t = BASE[0], t.size[0] = (int64_t)1 << 40, t.size[1] = (int64_t)1 << 40;
    base_pickle_with(&p, 0, &t);
    expect_pickle("sizes overflowing 64 bits", &p, IGQ_ERR_FORMAT, "overflow");

    base_pickle_with(&p, 0, NULL);
    p.n -= 3;
    expect_pickle("truncated pickle (no STOP)", &p, IGQ_ERR_FORMAT, "no STOP");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, 'X'), u32(&p, 0x7fffffff), puts_(&p, "abc");
    expect_pickle("string length past the end", &p, IGQ_ERR_FORMAT, "truncated");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, 'h'), u8(&p, 3), u8(&p, '.');
    expect_pickle("memo index never stored", &p, IGQ_ERR_FORMAT, "never stored");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, '}'), u8(&p, 'r'), u32(&p, 0xfffffff0u), u8(&p, '.');
    expect_pickle("memo index far ahead (LONG_BINPUT)", &p, IGQ_ERR_FORMAT, "skips ahead");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, 0x86), u8(&p, '.');
    expect_pickle("stack underflow", &p, IGQ_ERR_FORMAT, "underflow");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, 0x8a), u8(&p, 9);
    for (i = 0; i < 9; i++) u8(&p, 0xff);
    u8(&p, '.');
    expect_pickle("LONG1 of 9 bytes", &p, IGQ_ERR_UNSUPPORTED, "integer of 9 bytes");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 6), u8(&p, '}'), u8(&p, '.');
    expect_pickle("pickle protocol 6", &p, IGQ_ERR_UNSUPPORTED, "protocol 6");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, ']'), u8(&p, '.');
    expect_pickle("root is a list", &p, IGQ_ERR_FORMAT, "not a dict");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, '}'), pk_str(&p, "epoch"), pk_int(&p, 3), u8(&p, 's'),
        u8(&p, '.');
    expect_pickle("dict without tensors", &p, IGQ_ERR_FORMAT, "no state dict");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, '}'), pk_str(&p, "w"), u8(&p, '('), pk_str(&p, "storage"),
        pk_str(&p, "x"), u8(&p, 't'), u8(&p, 'Q'), u8(&p, 's'), u8(&p, '.');
    expect_pickle("malformed persistent id", &p, IGQ_ERR_FORMAT, "persistent id");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, '}'), pk_str(&p, "w"), pk_tensor(&p, &BASE[0]), u8(&p, '}'),
        u8(&p, 'b'), u8(&p, 's'), u8(&p, '.');
    expect_pickle("BUILD on a tensor", &p, IGQ_ERR_UNSUPPORTED, "BUILD on a tensor");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, '}'), pk_str(&p, "w"), pk_tensor(&p, &BASE[0]), u8(&p, 's');
    pk_str(&p, "w"), pk_tensor(&p, &BASE[0]), u8(&p, 's'), u8(&p, '.');
    expect_pickle("the same tensor name twice", &p, IGQ_ERR_FORMAT, "duplicate");

    p.n = 0;
    u8(&p, 0x80), u8(&p, 2), u8(&p, '}'), u8(&p, '}'), u8(&p, '.');
    expect_pickle("STOP with two values", &p, IGQ_ERR_FORMAT, "STOP with 2 values");
    free(p.p);
    printf("  %d malformed cases\n", g_cases);
    assert_true(g_cases >= 20);
}

/* ---- a checkpoint archived here ------------------------------------------------------------ */

/* The tensors of a safetensors fixture written as a torch.save archive by this file's builders
 * (one storage per tensor), plus an extra F32 tensor when extra is not NULL. */
static char *archive_fixture(const char *dir, const char *rel, const char *extra)
{
    char                *path = tu_fixture_path(rel), *out;
    igq_safetensors     *st   = NULL;
    buf                  pkl = {0}, a = {0};
    zentry               e[64];
    zlayout              L;
    static const float   xv[2] = {1.0f, 2.0f};
    char                 keys[64][24];
    size_t               i, n = 0;
    assert_int_equal(igq__st_open(path, &st), IGQ_OK);
    assert_true(st->count + 2 <= 64);
    memset(e, 0, sizeof e);
    u8(&pkl, 0x80), u8(&pkl, 2), u8(&pkl, '}'), u8(&pkl, '(');
    for (i = 0; i <= st->count; i++) {
        const igq_st_tensor *t = i < st->count ? &st->tensors[i] : NULL;
        tspec                ts;
        int                  d;
        if (t == NULL && extra == NULL) break;
        memset(&ts, 0, sizeof ts);
        snprintf(keys[i], sizeof keys[i], "%zu", i);
        ts.name  = t ? t->name : extra;
        ts.cls   = t == NULL || t->dtype == IGQ_ST_F32 ? "FloatStorage" : "HalfStorage";
        ts.key   = keys[i];
        ts.numel = t ? t->numel : 2;
        ts.nd    = t ? t->ndim : 1;
        for (d = ts.nd - 1; d >= 0; d--) {
            ts.size[d]   = t ? t->shape[d] : 2;
            ts.stride[d] = d == ts.nd - 1 ? 1 : ts.stride[d + 1] * ts.size[d + 1];
        }
        pk_str(&pkl, ts.name), pk_tensor(&pkl, &ts);
        n++;
    }
    u8(&pkl, 'u'), u8(&pkl, '.');
    e[0].name = "m/data.pkl", e[0].data = pkl.p, e[0].n = pkl.n;
    for (i = 0; i < n; i++) {
        const igq_st_tensor *t  = i < st->count ? &st->tensors[i] : NULL;
        char                *nm = (char *)malloc(32);
        snprintf(nm, 32, "m/data/%zu", i);
        e[1 + i].name = nm;
        e[1 + i].data = t ? st->buf + st->data_start + t->begin : (const unsigned char *)xv;
        e[1 + i].n    = t ? (size_t)(t->end - t->begin) : sizeof xv;
    }
    zip_build(&a, e, (int)n + 1, 0, &L);
    out = tu_write_file(dir, extra ? "extra.pth" : "plain.pth", a.p, a.n);
    for (i = 0; i < n; i++) free((void *)(uintptr_t)e[1 + i].name);
    igq__st_close(st);
    free(pkl.p);
    free(a.p);
    free(path);
    return out;
}

/* An archive built here loads as the fixture it came from does; with one tensor the graph does
 * not use, it is refused by name, as that safetensors file would be. */
static void test_archived_here(void **state)
{
    char      *dir = tu_make_tmpdir(), *p;
    igq_model *m = NULL, *ref = load_rel("timm_vit_f16/model.safetensors");
    int64_t    a, b;
    int        prop;
    (void)state;
    free(tu_write_file(dir, "config.json", "{\"num_heads\": 3}", 16)); /* the file's metadata */
    p = archive_fixture(dir, "timm_vit_f16/model.safetensors", NULL);
    if (igq_model_load(p, &m) != IGQ_OK) fail_msg("%s", igq_last_error());
    for (prop = IGQ_PROP_IMAGE_HEIGHT; prop <= IGQ_PROP_NUM_TOKENS; prop++) {
        assert_int_equal(igq_model_info(m, (igq_model_prop)prop, &a), IGQ_OK);
        assert_int_equal(igq_model_info(ref, (igq_model_prop)prop, &b), IGQ_OK);
        assert_int_equal(a, b);
    }
    igq_model_free(m);
    free(p);
    p = archive_fixture(dir, "timm_vit_f16/model.safetensors", "extra_proj.weight");
    expect_load(p, IGQ_ERR_UNSUPPORTED, "tensor 'extra_proj.weight' is not part of", NULL);
    free(p);
    igq_model_free(ref);
    tu_rmdir_r(dir);
    free(dir);
}

/* ---- allocation failures ------------------------------------------------------------------- */

static long load_failures(const char *path)
{
    long n_fail;
    for (n_fail = 0;; n_fail++) {
        igq_model *m = (igq_model *)&n_fail;
        igq_status s;
        igq__alloc_fail_after(n_fail);
        s = igq_model_load(path, &m);
        igq__alloc_fail_after(-1);
        if (s == IGQ_OK) {
            assert_non_null(m);
            igq_model_free(m);
            return n_fail;
        }
        if (s != IGQ_ERR_NO_MEMORY || m != NULL)
            fail_msg("%s, allocation %ld failing: status %d, handle %p, '%s'", path, n_fail,
                     (int)s, (void *)m, igq_last_error());
    }
}

static void test_alloc_failures(void **state)
{
    char *p1 = tu_fixture_path("timm_deit_distilled/model_wrapped.pth");
    char *p2 = tu_fixture_path("pth_timm_f16/model.pth");
    long  a, b;
    (void)state;
    a = load_failures(p1);
    b = load_failures(p2);
    printf("  allocation failures walked: %ld and %ld allocations\n", a, b);
    assert_true(a > 10 && b > 10);
    free(p1);
    free(p2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_match_safetensors),
        cmocka_unit_test(test_legacy_and_bare_pickle),
        cmocka_unit_test(test_valid_variants),
        cmocka_unit_test(test_malformed_zip),
        cmocka_unit_test(test_malformed_pickle),
        cmocka_unit_test(test_archived_here),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
