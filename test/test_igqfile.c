/* The .igq model file (doc/igq-format.md): igq_model_save, igq_model_load of a .igq file,
 * igq_model_load_buffer, igq_model_config.
 *   1. round trips: every fixture, the bundled Fashion-MNIST model and the checkpoint layouts of
 *      test_int, as fp32, integer (W8A8 G=8, W4A4 G=8, W6A6 G=1, a group budget) and simulated
 *      models: the loaded model gives the saved model's logits bit for bit (from the file and
 *      from a buffer), reports the same properties, quantizers, configuration and group
 *      assignments, and saves to the same bytes (PROV aside, see below); across ISA levels in
 *      a fresh process (fork);
 *   2. damaged files: every refusal of the spec's list, each on a file whose checksums were
 *      recomputed by this test's own CRC-32C so that the check it targets is the one that
 *      fires (status, NULL handle, message with the file name and the section);
 *   3. a mutation loop: random edits with re-fixed checksums never crash a load, and a model
 *      that loads runs; edits inside a section without re-fixed checksums are refused;
 *   4. allocation failures of load, load_buffer and save;
 *   5. argument errors, unwritable destinations, saving over the file a model is mapped from;
 *   6. the seeds of test/fuzz/fuzz_igq.c (written with IGQ_FUZZ_CORPUS=dir) and the inputs the
 *      fuzzer found, replayed.
 * The files are parsed and rebuilt here from the specification alone (header, table, QUAN
 * records), an oracle independent of lib/io/igqfile_*.c: rebuilding a saved file from its parsed
 * sections must give back its bytes. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "igq/igq.h"
#include "kernels/dispatch.h"
#include "support/st_writer.h"
#include "support/testutil.h"

/* ---- CRC-32C and little-endian fields (the test's own) ----------------------------------- */

static uint32_t g_crc_tab[256];

/* Table of the reflected Castagnoli polynomial, built bit by bit. */
static void crc_init(void)
{
    uint32_t i;
    int      k;
    if (g_crc_tab[1] != 0) return;
    for (i = 0; i < 256; i++) {
        uint32_t c = i;
        for (k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        g_crc_tab[i] = c;
    }
}

static uint32_t crc32c(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t   i;
    crc_init();
    for (i = 0; i < n; i++) c = (c >> 8) ^ g_crc_tab[(c ^ p[i]) & 0xFFu];
    return c ^ 0xFFFFFFFFu;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void     put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16),
    p[3] = (unsigned char)(v >> 24);
}
static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}
static void putf(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put32(p, u);
}
static float getf(const unsigned char *p)
{
    const uint32_t u = get32(p);
    float          f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t tag_of(const char *t)
{
    return (uint32_t)(unsigned char)t[0] | (uint32_t)(unsigned char)t[1] << 8 |
           (uint32_t)(unsigned char)t[2] << 16 | (uint32_t)(unsigned char)t[3] << 24;
}

/* ---- a file's header and section table --------------------------------------------------- */

#define HDR 64
#define ENT 32

static uint32_t       nsec(const unsigned char *f) { return get32(f + 32); }
static unsigned char *entry(unsigned char *f, uint32_t i) { return f + HDR + (size_t)ENT * i; }

/* Index of the section with tag t in the table, or -1. */
static int sec_index(const unsigned char *f, const char *t)
{
    uint32_t i;
    for (i = 0; i < nsec(f) && i < 256; i++)
        if (get32(f + HDR + (size_t)ENT * i) == tag_of(t)) return (int)i;
    return -1;
}

/* Start and size of section t (asserts it exists). */
static unsigned char *sec(unsigned char *f, const char *t, uint64_t *size)
{
    const int i = sec_index(f, t);
    assert_true(i >= 0);
    if (size != NULL) *size = get64(entry(f, (uint32_t)i) + 16);
    return f + get64(entry(f, (uint32_t)i) + 8);
}

/* Recomputes the checksums a writer would have written: of every section that lies inside the
 * n bytes and overlaps [lo, hi) (all of them for lo = 0, hi = n), of the section table (when
 * it lies inside) and of the header. Fields other than checksums are left as they are, so the
 * check a damaged file targets is the one that fails. */
static void refix_range(unsigned char *f, size_t n, uint64_t lo, uint64_t hi)
{
    uint32_t i, cnt;
    if (n < HDR) return;
    cnt = nsec(f);
    if (get64(f + 24) == HDR && cnt <= 4096 && HDR + (uint64_t)cnt * ENT <= n) {
        for (i = 0; i < cnt; i++) {
            unsigned char *e   = entry(f, i);
            const uint64_t off = get64(e + 8), sz = get64(e + 16);
            if (off > n || sz > n - off) continue;
            if (off + sz <= lo || off >= hi) continue;
            put32(e + 24, crc32c(f + off, (size_t)sz));
        }
        put32(f + 36, crc32c(f + HDR, (size_t)cnt * ENT));
    }
    put32(f + 60, crc32c(f, 60));
}

static void refix(unsigned char *f, size_t n) { refix_range(f, n, 0, n); }

/* ---- rebuilding a file from sections (the layout igq_model_save writes) ------------------ */

typedef struct bsec {
    uint32_t       tag, flags;
    unsigned char *p;
    size_t         n;
} bsec;

typedef struct bfile {
    int      n;
    bsec     s[300];
    uint16_t major, minor;
} bfile;

static void bf_parse(bfile *b, unsigned char *f)
{
    uint32_t i;
    memset(b, 0, sizeof *b);
    b->major = (uint16_t)(f[8] | f[9] << 8);
    b->minor = (uint16_t)(f[10] | f[11] << 8);
    b->n     = (int)nsec(f);
    for (i = 0; i < nsec(f); i++) {
        const unsigned char *e = entry(f, i);
        bsec                *s = &b->s[i];
        s->tag                 = get32(e);
        s->flags               = get32(e + 4);
        s->n                   = (size_t)get64(e + 16);
        s->p                   = (unsigned char *)malloc(s->n + 1);
        assert_non_null(s->p);
        memcpy(s->p, f + get64(e + 8), s->n);
    }
}

static void bf_free(bfile *b)
{
    int i;
    for (i = 0; i < b->n; i++) free(b->s[i].p);
    b->n = 0;
}

static bsec *bf_get(bfile *b, const char *t)
{
    int i;
    for (i = 0; i < b->n; i++)
        if (b->s[i].tag == tag_of(t)) return &b->s[i];
    fail_msg("no section %s", t);
    return NULL;
}

static void bf_remove(bfile *b, const char *t)
{
    bsec *s = bf_get(b, t);
    free(s->p);
    memmove(s, s + 1, (size_t)(b->s + b->n - (s + 1)) * sizeof *s);
    b->n--;
}

/* Inserts a section at position at (0 .. n). */
static void bf_insert(bfile *b, int at, const char *t, uint32_t flags, const void *p, size_t n)
{
    bsec *s;
    assert_true(b->n < 300);
    memmove(&b->s[at + 1], &b->s[at], (size_t)(b->n - at) * sizeof(bsec));
    b->n++;
    s        = &b->s[at];
    s->tag   = tag_of(t);
    s->flags = flags;
    s->n     = n;
    s->p     = (unsigned char *)malloc(n + 1);
    assert_non_null(s->p);
    if (n) memcpy(s->p, p, n);
}

/* Replaces the bytes of a section. */
static void bf_set(bsec *s, const void *p, size_t n)
{
    unsigned char *q = (unsigned char *)malloc(n + 1);
    assert_non_null(q);
    if (n) memcpy(q, p, n);
    free(s->p);
    s->p = q;
    s->n = n;
}

static uint64_t r64(uint64_t v) { return (v + 63) / 64 * 64; }

static unsigned char *bf_build(const bfile *b, size_t *size)
{
    uint64_t       pos = HDR + r64((uint64_t)b->n * ENT), end = pos;
    unsigned char *f;
    int            i;
    for (i = 0; i < b->n; i++) end = r64(end) + b->s[i].n;
    f = (unsigned char *)calloc(1, (size_t)end + 1);
    assert_non_null(f);
    memcpy(f, "\x89IGQ\r\n\x1a\n", 8);
    f[8] = (unsigned char)b->major, f[9] = (unsigned char)(b->major >> 8);
    f[10] = (unsigned char)b->minor, f[11] = (unsigned char)(b->minor >> 8);
    put32(f + 12, HDR);
    put64(f + 16, end);
    put64(f + 24, HDR);
    put32(f + 32, (uint32_t)b->n);
    for (i = 0; i < b->n; i++) {
        unsigned char *e = entry(f, (uint32_t)i);
        pos              = r64(pos);
        put32(e, b->s[i].tag);
        put32(e + 4, b->s[i].flags);
        put64(e + 8, pos);
        put64(e + 16, b->s[i].n);
        if (b->s[i].n) memcpy(f + pos, b->s[i].p, b->s[i].n);
        pos += b->s[i].n;
    }
    refix(f, (size_t)end);
    *size = (size_t)end;
    return f;
}

/* ---- QUAN records ------------------------------------------------------------------------ */

typedef struct qrec {
    unsigned char  head[48];
    unsigned char *tail; /* lo, hi, [clo, chi], params */
    size_t         ntail;
} qrec;

static size_t qrec_tail_bytes(const unsigned char *head)
{
    const int32_t n = (int32_t)get32(head + 32), cover = (int32_t)get32(head + 36);
    if (get32(head + 40) != 0) return (size_t)n * 8u; /* compact weight form: hi[n], scale[n] */
    return (size_t)n * (4u * (cover ? 4u : 2u) + 20u);
}

/* Splits a valid QUAN section into its records (malloc'd array, *count records). */
static qrec *quan_parse(const unsigned char *p, size_t n, uint32_t *count)
{
    const uint32_t c = get32(p);
    qrec          *r = (qrec *)calloc(c + 1, sizeof *r);
    size_t         at = 8;
    uint32_t       k;
    assert_non_null(r);
    for (k = 0; k < c; k++) {
        assert_true(at + 48 <= n);
        memcpy(r[k].head, p + at, 48);
        at += 48;
        r[k].ntail = qrec_tail_bytes(r[k].head);
        assert_true(at + r[k].ntail <= n);
        r[k].tail = (unsigned char *)malloc(r[k].ntail + 1);
        assert_non_null(r[k].tail);
        memcpy(r[k].tail, p + at, r[k].ntail);
        at += r[k].ntail;
    }
    assert_int_equal(at, n);
    *count = c;
    return r;
}

static unsigned char *quan_serialize(const qrec *r, uint32_t count, size_t *n)
{
    size_t         total = 8, at = 8;
    uint32_t       k;
    unsigned char *p;
    for (k = 0; k < count; k++) total += 48 + r[k].ntail;
    p = (unsigned char *)calloc(1, total + 1);
    assert_non_null(p);
    put32(p, count);
    for (k = 0; k < count; k++) {
        memcpy(p + at, r[k].head, 48);
        memcpy(p + at + 48, r[k].tail, r[k].ntail);
        at += 48 + r[k].ntail;
    }
    *n = total;
    return p;
}

static void quan_free(qrec *r, uint32_t count)
{
    uint32_t k;
    for (k = 0; k < count; k++) free(r[k].tail);
    free(r);
}

static int qrec_find(const qrec *r, uint32_t count, int32_t block, int32_t site)
{
    uint32_t k;
    for (k = 0; k < count; k++)
        if ((int32_t)get32(r[k].head) == block && (int32_t)get32(r[k].head + 4) == site)
            return (int)k;
    fail_msg("no quantizer record for site %d of block %d", (int)site, (int)block);
    return -1;
}

/* ---- models, images, logits -------------------------------------------------------------- */

static int64_t info(const igq_model *m, igq_model_prop p)
{
    int64_t v = -1;
    assert_int_equal(igq_model_info(m, p, &v), IGQ_OK);
    return v;
}

static igq_tensor *random_images(const igq_model *m, int64_t n, uint64_t seed)
{
    int64_t     shape[4] = {n, info(m, IGQ_PROP_IN_CHANNELS), info(m, IGQ_PROP_IMAGE_HEIGHT),
                            info(m, IGQ_PROP_IMAGE_WIDTH)};
    igq_tensor *t = NULL;
    tu_rng      r;
    int64_t     i;
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &t), IGQ_OK);
    tu_rng_seed(&r, seed);
    for (i = 0; i < igq_tensor_numel(t); i++)
        ((float *)igq_tensor_data(t))[i] = (float)tu_rng_normal(&r);
    return t;
}

/* Image i of a batch as a batch of one (for igq_groups_compute). */
static igq_tensor *one_image(const igq_tensor *images, int64_t i)
{
    int64_t     shape[4] = {1, igq_tensor_dim(images, 1), igq_tensor_dim(images, 2),
                            igq_tensor_dim(images, 3)};
    const size_t per = (size_t)(shape[1] * shape[2] * shape[3]);
    igq_tensor  *t   = NULL;
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &t), IGQ_OK);
    memcpy(igq_tensor_data(t),
           (const float *)igq_tensor_data((igq_tensor *)(uintptr_t)images) + (size_t)i * per,
           per * sizeof(float));
    return t;
}

typedef struct qopts {
    int executor, wbits, abits, groups, budget;
} qopts;

static igq_model *quantize(const igq_model *m, const igq_tensor *calib, qopts o)
{
    igq_config *c = NULL;
    igq_model  *q = NULL;
    igq_status  s;
    assert_int_equal(igq_config_create(&c), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_WEIGHT_BITS, o.wbits), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_ACT_BITS, o.abits), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_EDGE_BITS, o.wbits > o.abits ? o.wbits : o.abits),
                     IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_GROUPS, o.groups), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_GROUP_BUDGET, o.budget), IGQ_OK);
    assert_int_equal(igq_config_set(c, IGQ_OPT_EXECUTOR, o.executor), IGQ_OK);
    s = igq_quantize_model(m, calib, c, &q);
    if (s != IGQ_OK) fail_msg("quantize: %s", igq_last_error());
    igq_config_free(c);
    return q;
}

/* Logits of a batch (malloc'd, B x classes). */
static float *run(const igq_model *m, const igq_tensor *images)
{
    const int64_t B = igq_tensor_dim(images, 0), K = info(m, IGQ_PROP_NUM_CLASSES);
    int64_t       ls[2] = {B, K};
    igq_tensor   *lt    = NULL;
    float        *out   = (float *)malloc((size_t)(B * K) * sizeof(float));
    igq_status    s;
    assert_non_null(out);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &lt), IGQ_OK);
    s = igq_run(m, images, lt);
    if (s != IGQ_OK) fail_msg("igq_run: %s", igq_last_error());
    memcpy(out, igq_tensor_data(lt), (size_t)(B * K) * sizeof(float));
    igq_tensor_free(lt);
    return out;
}

static char *path_in(const char *dir, const char *name)
{
    const size_t n = strlen(dir) + strlen(name) + 2;
    char        *p = (char *)malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static unsigned char *read_all(const char *path, size_t *n)
{
    unsigned char *b = tu_read_file(path, n);
    assert_non_null(b);
    return b;
}

/* Saves m to dir/name and returns the file's bytes. */
static unsigned char *save_bytes(const igq_model *m, const char *dir, const char *name, size_t *n)
{
    char          *p = path_in(dir, name);
    unsigned char *b;
    if (igq_model_save(m, p) != IGQ_OK) fail_msg("igq_model_save: %s", igq_last_error());
    b = read_all(p, n);
    free(p);
    return b;
}

static igq_model *load_file(const char *path)
{
    igq_model *m = NULL;
    if (igq_model_load(path, &m) != IGQ_OK) fail_msg("igq_model_load: %s", igq_last_error());
    return m;
}

static igq_model *load_bytes(const unsigned char *b, size_t n)
{
    igq_model *m = NULL;
    if (igq_model_load_buffer(b, n, &m) != IGQ_OK)
        fail_msg("igq_model_load_buffer: %s", igq_last_error());
    return m;
}

/* Number of entries in a directory (temporary files left behind show up here). */
static int dir_entries(const char *dir)
{
    DIR           *d = opendir(dir);
    struct dirent *e;
    int            n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

/* ---- 1. round trips ---------------------------------------------------------------------- */

static const char *const FIXTURES[] = {"timm_vit",     "timm_deit_distilled", "hf_vit",
                                       "tv_vit",       "timm_vit_f16",        "hf_vit_bf16",
                                       "timm_rect",    "tv_vit_b"};
#define N_FIXTURES (int)(sizeof FIXTURES / sizeof FIXTURES[0])

static const qopts QUANTS[] = {
    {IGQ_EXECUTOR_INT, 8, 8, 8, 0},
    {IGQ_EXECUTOR_INT, 4, 4, 8, 0},
    {IGQ_EXECUTOR_INT, 6, 6, 1, 0},
    {IGQ_EXECUTOR_SIM, 8, 8, 8, 0},
};
#define N_QUANTS (int)(sizeof QUANTS / sizeof QUANTS[0])

static void qlabel(char *out, size_t cap, const char *model, const qopts *o)
{
    if (o == NULL)
        snprintf(out, cap, "%s fp32", model);
    else if (o->budget > 0)
        snprintf(out, cap, "%s %s W%dA%d Gbar=%d", model,
                 o->executor == IGQ_EXECUTOR_INT ? "int" : "sim", o->wbits, o->abits, o->budget);
    else
        snprintf(out, cap, "%s %s W%dA%d G=%d", model,
                 o->executor == IGQ_EXECUTOR_INT ? "int" : "sim", o->wbits, o->abits, o->groups);
}

static void same_logits(const float *want, const float *got, int64_t n, const char *label,
                        const char *what)
{
    int64_t i;
    if (memcmp(want, got, (size_t)n * sizeof(float)) == 0) return;
    for (i = 0; i < n && memcmp(&want[i], &got[i], sizeof(float)) == 0; i++) continue;
    fail_msg("%s: %s: logit %lld is %a, the saved model gives %a", label, what, (long long)i,
             (double)got[i], (double)want[i]);
}

/* Everything the API reports about a model: equal for the saved and the loaded one. */
static void same_properties(const igq_model *a, const igq_model *b, const char *label)
{
    igq_config *ca = NULL, *cb = NULL;
    float       ma[64], sa[64], mb[64], sb[64], ea = 0.0f, eb = 0.0f;
    igq_status  s1, s2;
    int         p;
    int32_t     blk, site;
    for (p = IGQ_PROP_IMAGE_HEIGHT; p <= IGQ_PROP_NUM_TOKENS; p++)
        if (info(a, (igq_model_prop)p) != info(b, (igq_model_prop)p))
            fail_msg("%s: property %d: %lld, loaded %lld", label, p,
                     (long long)info(a, (igq_model_prop)p), (long long)info(b, (igq_model_prop)p));
    assert_int_equal(igq_model_layer_norm_eps(a, &ea), IGQ_OK);
    assert_int_equal(igq_model_layer_norm_eps(b, &eb), IGQ_OK);
    assert_memory_equal(&ea, &eb, sizeof ea);
    assert_int_equal(igq_model_is_quantized(a), igq_model_is_quantized(b));
    memset(ma, 0, sizeof ma), memset(mb, 0, sizeof mb), memset(sa, 0, sizeof sa);
    memset(sb, 0, sizeof sb);
    s1 = igq_model_normalization(a, ma, sa, 64);
    s2 = igq_model_normalization(b, mb, sb, 64);
    assert_int_equal(s1, s2);
    assert_memory_equal(ma, mb, sizeof ma);
    assert_memory_equal(sa, sb, sizeof sa);
    s1 = igq_model_config(a, &ca);
    s2 = igq_model_config(b, &cb);
    assert_int_equal(s1, s2);
    assert_int_equal(s1, igq_model_is_quantized(a) == 1 ? IGQ_OK : IGQ_ERR_NOT_FOUND);
    if (s1 == IGQ_OK) {
        int o;
        for (o = IGQ_OPT_WEIGHT_BITS; o <= IGQ_OPT_WEIGHT_ROUNDING; o++) {
            int64_t va = -7, vb = -9;
            assert_int_equal(igq_config_get(ca, (igq_option)o, &va), IGQ_OK);
            assert_int_equal(igq_config_get(cb, (igq_option)o, &vb), IGQ_OK);
            if (va != vb) fail_msg("%s: option %d: %lld, loaded %lld", label, o, (long long)va,
                                   (long long)vb);
        }
    }
    igq_config_free(ca);
    igq_config_free(cb);
    if (igq_model_is_quantized(a) != 1) return;
    for (blk = -1; blk < (int32_t)info(a, IGQ_PROP_DEPTH); blk++)
        for (site = IGQ_SITE_QKV_IN; site <= IGQ_SITE_HEAD_DIST_WEIGHT; site++) {
            const igq_quantizer *qa = NULL, *qb = NULL;
            int32_t              n;
            s1 = igq_model_quantizer(a, blk, (igq_site)site, &qa);
            s2 = igq_model_quantizer(b, blk, (igq_site)site, &qb);
            if (s1 != s2) fail_msg("%s: quantizer of site %d, block %d: status %d, loaded %d",
                                   label, (int)site, (int)blk, (int)s1, (int)s2);
            if (s1 != IGQ_OK) continue;
            assert_int_equal(igq_quantizer_bits(qa), igq_quantizer_bits(qb));
            assert_int_equal(igq_quantizer_granularity(qa), igq_quantizer_granularity(qb));
            n = igq_quantizer_num_groups(qa);
            assert_int_equal(n, igq_quantizer_num_groups(qb));
            if (n > 0) {
                float   *pa = (float *)calloc((size_t)n * 4, sizeof(float));
                float   *pb = (float *)calloc((size_t)n * 4, sizeof(float));
                int32_t *za = (int32_t *)calloc((size_t)n, sizeof(int32_t));
                int32_t *zb = (int32_t *)calloc((size_t)n, sizeof(int32_t));
                assert_true(pa && pb && za && zb);
                assert_int_equal(igq_quantizer_params(qa, pa, za, pa + n, pa + 2 * n, n), IGQ_OK);
                assert_int_equal(igq_quantizer_params(qb, pb, zb, pb + n, pb + 2 * n, n), IGQ_OK);
                if (memcmp(pa, pb, (size_t)n * 3 * sizeof(float)) != 0 ||
                    memcmp(za, zb, (size_t)n * sizeof(int32_t)) != 0)
                    fail_msg("%s: parameters of site %d, block %d differ", label, (int)site,
                             (int)blk);
                free(pa), free(pb), free(za), free(zb);
            }
        }
}

/* igq_groups_compute at every activation site of both models on one image; returns the number
 * of sites compared. */
static int same_groups(const igq_model *a, const igq_model *b, const igq_tensor *img,
                       const char *label)
{
    int32_t blk, site;
    int     sites = 0;
    for (blk = -1; blk < (int32_t)info(a, IGQ_PROP_DEPTH); blk++)
        for (site = (blk < 0 ? IGQ_SITE_PATCH_IN : IGQ_SITE_QKV_IN);
             site <= (blk < 0 ? IGQ_SITE_HEAD_IN : IGQ_SITE_FC2_IN); site++) {
            igq_groups *ga = NULL, *gb = NULL;
            igq_status  s1 = igq_groups_compute(a, img, blk, (igq_site)site, &ga);
            igq_status  s2 = igq_groups_compute(b, img, blk, (igq_site)site, &gb);
            if (s1 != s2) fail_msg("%s: groups of site %d, block %d: status %d, loaded %d", label,
                                   (int)site, (int)blk, (int)s1, (int)s2);
            if (s1 == IGQ_OK) {
                const int64_t n = igq_groups_count(ga);
                int32_t      *xa, *xb;
                assert_int_equal(n, igq_groups_count(gb));
                assert_int_equal(igq_groups_num_groups(ga), igq_groups_num_groups(gb));
                xa = (int32_t *)malloc((size_t)n * sizeof(int32_t));
                xb = (int32_t *)malloc((size_t)n * sizeof(int32_t));
                assert_true(xa && xb);
                assert_int_equal(igq_groups_assignment(ga, xa, n), IGQ_OK);
                assert_int_equal(igq_groups_assignment(gb, xb, n), IGQ_OK);
                if (memcmp(xa, xb, (size_t)n * sizeof(int32_t)) != 0)
                    fail_msg("%s: group assignment of site %d, block %d differs", label,
                             (int)site, (int)blk);
                free(xa), free(xb);
                sites++;
            }
            igq_groups_free(ga);
            igq_groups_free(gb);
        }
    return sites;
}

/* PROV of a model loaded from a .igq file: the loaded model does not know the checkpoint the
 * saved one came from (the reader does not interpret PROV), so saving it again writes PROV
 * without the "source" and "source_size" members; everything else is the same. Returns the
 * original PROV with those members cut out. */
static unsigned char *prov_without_source(const unsigned char *p, size_t n, size_t *out_n)
{
    unsigned char *q = (unsigned char *)malloc(n + 1);
    const char    *key = ", \"source\": ";
    size_t         i, j;
    assert_non_null(q);
    memcpy(q, p, n);
    q[n]   = 0;
    *out_n = n;
    for (i = 0; i + strlen(key) <= n; i++)
        if (memcmp(q + i, key, strlen(key)) == 0) break;
    if (i + strlen(key) > n) return q;
    for (j = i; j + 17 <= n; j++)
        if (memcmp(q + j, "\"source_size\": ", 15) == 0) break;
    assert_true(j + 17 <= n);
    j += 15;
    while (j < n && q[j] >= '0' && q[j] <= '9') j++;
    memmove(q + i, q + j, n - j);
    *out_n = n - (j - i);
    return q;
}

/* A file saved from a model loaded from file a: the same sections in the same order with the
 * same flags and bytes, PROV as prov_without_source says. */
static void same_file_but_prov(unsigned char *a, size_t na, unsigned char *b, size_t nb,
                               const char *label)
{
    uint32_t i;
    assert_memory_equal(a, b, 16);
    assert_int_equal(get64(a + 24), get64(b + 24));
    assert_int_equal(nsec(a), nsec(b));
    assert_int_equal(get64(a + 16), na);
    assert_int_equal(get64(b + 16), nb);
    for (i = 0; i < nsec(a); i++) {
        unsigned char *ea = entry(a, i), *eb = entry(b, i);
        uint64_t       sa = get64(ea + 16), sb = get64(eb + 16);
        assert_int_equal(get32(ea), get32(eb));
        assert_int_equal(get32(ea + 4), get32(eb + 4));
        if (get32(ea) == tag_of("PROV")) {
            size_t         n;
            unsigned char *want = prov_without_source(a + get64(ea + 8), (size_t)sa, &n);
            if (n != sb || memcmp(want, b + get64(eb + 8), n) != 0)
                fail_msg("%s: PROV of the re-saved file: '%.*s', expected '%.*s'", label,
                         (int)sb, (const char *)b + get64(eb + 8), (int)n, (const char *)want);
            free(want);
            continue;
        }
        if (sa != sb || memcmp(a + get64(ea + 8), b + get64(eb + 8), (size_t)sa) != 0)
            fail_msg("%s: section %.4s of the re-saved file differs", label, (const char *)ea);
    }
}

/* Saves m, loads the file (mapped) and its bytes (buffer), and checks everything. */
static void roundtrip(const igq_model *m, const igq_tensor *images, const char *dir,
                      const char *label)
{
    const int64_t  nl = igq_tensor_dim(images, 0) * info(m, IGQ_PROP_NUM_CLASSES);
    size_t         n, n2, n3, nr;
    unsigned char *f = save_bytes(m, dir, "model.igq", &n), *f2, *f3, *rebuilt;
    char          *path = path_in(dir, "model.igq");
    igq_model     *lf = load_file(path), *lb = load_bytes(f, n), *l2;
    float         *ref = run(m, images), *got;
    igq_tensor    *img0 = one_image(images, 0);
    bfile          bf;
    int            sites;
    got = run(lf, images);
    same_logits(ref, got, nl, label, "igq_model_load");
    free(got);
    got = run(lb, images);
    same_logits(ref, got, nl, label, "igq_model_load_buffer");
    free(got);
    same_properties(m, lf, label);
    same_properties(m, lb, label);
    sites = same_groups(m, lf, img0, label);
    assert_int_equal(sec_index(f, "QCFG") >= 0, igq_model_is_quantized(m) == 1);
    assert_int_equal(sec_index(f, "QUAN") >= 0, igq_model_is_quantized(m) == 1);
    /* the test's writer, from the parsed sections, gives back the same bytes */
    bf_parse(&bf, f);
    rebuilt = bf_build(&bf, &nr);
    assert_int_equal(nr, n);
    assert_memory_equal(rebuilt, f, n);
    bf_free(&bf);
    free(rebuilt);
    /* saved again: the same file but PROV; from there on byte for byte the same */
    f2 = save_bytes(lf, dir, "again.igq", &n2);
    same_file_but_prov(f, n, f2, n2, label);
    l2 = load_bytes(f2, n2);
    got = run(l2, images);
    same_logits(ref, got, nl, label, "saved twice");
    free(got);
    f3 = save_bytes(l2, dir, "third.igq", &n3);
    assert_int_equal(n3, n2);
    assert_memory_equal(f3, f2, n2);
    printf("  %-32s %7zu bytes, %u sections, %d group sites: same bits, properties, file\n",
           label, n, (unsigned)nsec(f), sites);
    igq_model_free(lf);
    igq_model_free(lb);
    igq_model_free(l2);
    igq_tensor_free(img0);
    free(ref), free(f), free(f2), free(f3), free(path);
}

static void test_roundtrip_fixtures(void **state)
{
    char *dir = tu_make_tmpdir();
    int   f, k;
    (void)state;
    for (f = 0; f < N_FIXTURES; f++) {
        igq_model  *m     = tu_load_fixture_model(FIXTURES[f]);
        igq_tensor *calib, *test;
        char        label[96];
        assert_non_null(m);
        calib = random_images(m, 4, 10 + (uint64_t)f);
        test  = random_images(m, 3, 30 + (uint64_t)f);
        qlabel(label, sizeof label, FIXTURES[f], NULL);
        roundtrip(m, test, dir, label);
        for (k = 0; k < N_QUANTS; k++) {
            igq_model *q = quantize(m, calib, QUANTS[k]);
            qlabel(label, sizeof label, FIXTURES[f], &QUANTS[k]);
            roundtrip(q, test, dir, label);
            igq_model_free(q);
        }
        igq_tensor_free(calib);
        igq_tensor_free(test);
        igq_model_free(m);
    }
    tu_rmdir_r(dir);
    free(dir);
}

/* The bundled Fashion-MNIST model (depth 6, D = 128) on real images: fp32, integer W4A4 G=8,
 * and integer W8A8 with group counts allocated under a budget (Gbar = 4) from one calibration
 * image: the allocation runs a forward per site, candidate count and image (with eight images
 * 4 s at avx2; with one, 0.5 s at avx2 and 10 s at scalar). */
static void test_roundtrip_fmnist(void **state)
{
    static const qopts qs[] = {
        {IGQ_EXECUTOR_INT, 4, 4, 8, 0},
        {IGQ_EXECUTOR_INT, 8, 8, 8, 4},
    };
    char       *mp  = tu_fixture_path("../../examples/data/fmnist_vit.safetensors");
    char       *dir = tu_make_tmpdir();
    igq_model  *m   = load_file(mp);
    float       mean = 0.0f, stdv = 1.0f;
    igq_tensor *calib, *calib2, *test;
    char        label[96];
    int         k;
    (void)state;
    assert_int_equal(igq_model_normalization(m, &mean, &stdv, 1), IGQ_OK);
    calib  = tu_idx_images("../../examples/data/calib-images-idx3-ubyte", 8, mean, stdv);
    calib2 = tu_idx_images("../../examples/data/calib-images-idx3-ubyte", 1, mean, stdv);
    test  = tu_idx_images("../../examples/data/t10k-images-idx3-ubyte", 4, mean, stdv);
    roundtrip(m, test, dir, "fmnist fp32");
    for (k = 0; k < (int)(sizeof qs / sizeof qs[0]); k++) {
        igq_model *q = quantize(m, qs[k].budget > 0 ? calib2 : calib, qs[k]);
        qlabel(label, sizeof label, "fmnist", &qs[k]);
        roundtrip(q, test, dir, label);
        igq_model_free(q);
    }
    igq_tensor_free(calib);
    igq_tensor_free(calib2);
    igq_tensor_free(test);
    igq_model_free(m);
    tu_rmdir_r(dir);
    free(dir);
    free(mp);
}

/* The checkpoint layouts test_int builds (no PyTorch fixture has them): layer scale, register
 * tokens with a patch-only position embedding, mean pooling with fc_norm, no class token. */
static igq_model *layout_model(const char *dir, int v)
{
    enum { DEPTH = 2, D = 32, HEADS = 4, M = 64, K = 7, C = 3, S = 16, P = 4, NP = 16 };
    stw        w;
    char      *path;
    igq_model *m;
    int        b;
    stw_init(&w);
    stw_timm_vit(&w, DEPTH, D, HEADS, M, K, C, S, P, 0, 70 + (uint64_t)v);
    if (v == 0)
        for (b = 0; b < DEPTH; b++) {
            char          nm[64];
            const int64_t sh[1] = {D};
            snprintf(nm, sizeof nm, "blocks.%d.ls1.gamma", b);
            stw_add_f32(&w, nm, 1, sh, NULL, 80 + (uint64_t)b, 0.5f);
            snprintf(nm, sizeof nm, "blocks.%d.ls2.gamma", b);
            stw_add_f32(&w, nm, 1, sh, NULL, 90 + (uint64_t)b, 0.5f);
        }
    if (v == 1 || v == 3) {
        const int64_t sh[3] = {1, NP, D};
        assert_true(stw_remove(&w, "pos_embed"));
        stw_add_f32(&w, "pos_embed", 3, sh, NULL, 100 + (uint64_t)v, 0.02f);
    }
    if (v == 1) {
        const int64_t sh[3] = {1, 4, D};
        stw_add_f32(&w, "reg_token", 3, sh, NULL, 110, 0.5f);
    }
    if (v == 2 || v == 3) {
        const int64_t sh[1] = {D};
        stw_entry    *nw = stw_get(&w, "norm.weight"), *nb = stw_get(&w, "norm.bias");
        float         gw[D], gb[D];
        assert_non_null(nw);
        assert_non_null(nb);
        memcpy(gw, nw->data, sizeof gw);
        memcpy(gb, nb->data, sizeof gb);
        stw_add_f32(&w, "fc_norm.weight", 1, sh, gw, 0, 1.0f);
        stw_add_f32(&w, "fc_norm.bias", 1, sh, gb, 0, 1.0f);
        assert_true(stw_remove(&w, "norm.weight"));
        assert_true(stw_remove(&w, "norm.bias"));
    }
    if (v == 3) assert_true(stw_remove(&w, "cls_token"));
    path = stw_write(&w, dir, "layout.safetensors");
    m    = load_file(path);
    free(path);
    stw_free(&w);
    return m;
}

static void test_roundtrip_layouts(void **state)
{
    static const char *names[4] = {"layer scale", "register tokens", "fc_norm mean pool",
                                   "no class token"};
    static const qopts qs[]     = {
        {IGQ_EXECUTOR_INT, 8, 8, 8, 0},
        {IGQ_EXECUTOR_INT, 4, 4, 8, 0},
        {IGQ_EXECUTOR_SIM, 4, 4, 8, 0},
    };
    char *dir = tu_make_tmpdir();
    int   v, k;
    (void)state;
    for (v = 0; v < 4; v++) {
        igq_model  *m     = layout_model(dir, v);
        igq_tensor *calib = random_images(m, 4, 120 + (uint64_t)v);
        igq_tensor *test  = random_images(m, 3, 130 + (uint64_t)v);
        char        label[96];
        qlabel(label, sizeof label, names[v], NULL);
        roundtrip(m, test, dir, label);
        for (k = 0; k < (int)(sizeof qs / sizeof qs[0]); k++) {
            igq_model *q = quantize(m, calib, qs[k]);
            qlabel(label, sizeof label, names[v], &qs[k]);
            roundtrip(q, test, dir, label);
            igq_model_free(q);
        }
        igq_tensor_free(calib);
        igq_tensor_free(test);
        igq_model_free(m);
    }
    tu_rmdir_r(dir);
    free(dir);
}

/* ---- 1b. across ISA levels, in a fresh process ------------------------------------------- */

/* In a forked child (no cmocka asserts there: they would jump back into the parent's copy of
 * the runner): load each file at `level`, run, compare with the logits the parent computed
 * (inherited memory). Exit status: 0 all equal, 1 + i for the first file that differs or
 * fails. */
static int child_check(igq_isa_level level, char *const *paths, int n, float *const *want,
                       const igq_tensor *images, int64_t K)
{
    const int64_t B = igq_tensor_dim(images, 0);
    int64_t       ls[2] = {B, K};
    int           i;
    igq__dispatch_force(level);
    if (igq__isa_active() != level) return 100;
    for (i = 0; i < n; i++) {
        igq_model  *m  = NULL;
        igq_tensor *lt = NULL;
        int         bad;
        if (igq_model_load(paths[i], &m) != IGQ_OK) {
            fprintf(stderr, "child: %s\n", igq_last_error());
            return 1 + i;
        }
        if (igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &lt) != IGQ_OK) return 1 + i;
        bad = igq_run(m, images, lt) != IGQ_OK ||
              memcmp(igq_tensor_data(lt), want[i], (size_t)(B * K) * sizeof(float)) != 0;
        igq_tensor_free(lt);
        igq_model_free(m);
        if (bad) return 1 + i;
    }
    return 0;
}

static int fork_check(igq_isa_level level, char *const *paths, int n, float *const *want,
                      const igq_tensor *images, int64_t K)
{
    int   st = 0;
    pid_t pid;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(child_check(level, paths, n, want, images, K));
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* Files written at the best level run with the same bits at scalar in another process; files
 * quantized and written at scalar are the same bytes and run with the same bits at the best
 * level. */
static void test_cross_isa(void **state)
{
    enum { NM = 1 + N_QUANTS };
    const igq_isa_level best = igq__isa_active();
    char               *dir = tu_make_tmpdir();
    igq_model          *m   = tu_load_fixture_model("timm_deit_distilled");
    igq_tensor         *calib, *test;
    char               *paths[NM], *spaths[NM];
    float              *ref[NM], *sref[NM];
    unsigned char      *bytes[NM];
    size_t              nbytes[NM];
    int64_t             K;
    int                 i, rc;
    (void)state;
    assert_non_null(m);
    if (best == IGQ_ISA_SCALAR) {
        igq_model_free(m);
        tu_rmdir_r(dir);
        free(dir);
        printf("  the active level is scalar (the CPU, or IGQ_ISA): nothing to cross\n");
        skip();
    }
    K     = info(m, IGQ_PROP_NUM_CLASSES);
    calib = random_images(m, 4, 7);
    test  = random_images(m, 4, 8);
    for (int pass = 0; pass < 2; pass++) {
        igq__dispatch_force(pass == 0 ? best : IGQ_ISA_SCALAR);
        for (i = 0; i < NM; i++) {
            igq_model *q = i == 0 ? m : quantize(m, calib, QUANTS[i - 1]);
            char       name[32];
            snprintf(name, sizeof name, "%s%d.igq", pass == 0 ? "best" : "scalar", i);
            if (pass == 0) {
                paths[i] = path_in(dir, name);
                ref[i]   = run(q, test);
                bytes[i] = save_bytes(q, dir, name, &nbytes[i]);
            } else {
                size_t         n;
                unsigned char *b = save_bytes(q, dir, name, &n);
                spaths[i]        = path_in(dir, name);
                sref[i]          = run(q, test);
                /* quantization is the same at every level: so are the files */
                assert_int_equal(n, nbytes[i]);
                assert_memory_equal(b, bytes[i], n);
                same_logits(ref[i], sref[i], igq_tensor_dim(test, 0) * K, "scalar", "logits");
                free(b);
            }
            if (q != m) igq_model_free(q);
        }
    }
    igq__dispatch_force(best);
    rc = fork_check(IGQ_ISA_SCALAR, paths, NM, ref, test, K);
    if (rc != 0) fail_msg("written at %s, run at scalar in a child: file %d differs (%d)",
                          igq__isa_name(best), rc - 1, rc);
    rc = fork_check(best, spaths, NM, sref, test, K);
    if (rc != 0) fail_msg("written at scalar, run at %s in a child: file %d differs (%d)",
                          igq__isa_name(best), rc - 1, rc);
    printf("  timm_deit_distilled fp32 + %d quantized: written at %s, run at scalar in a child; "
           "written at scalar (same bytes), run at %s in a child: same bits\n",
           N_QUANTS, igq__isa_name(best), igq__isa_name(best));
    for (i = 0; i < NM; i++) {
        free(paths[i]), free(spaths[i]), free(ref[i]), free(sref[i]), free(bytes[i]);
    }
    igq_tensor_free(calib);
    igq_tensor_free(test);
    igq_model_free(m);
    tu_rmdir_r(dir);
    free(dir);
}

/* ---- 2. damaged files -------------------------------------------------------------------- */

typedef struct dctx {
    const char     *dir;
    char           *path;   /* where damaged copies are written */
    unsigned char  *f;      /* the intact file */
    size_t          n;
    const igq_tensor *images;
    float          *ref;    /* logits of the intact file */
    int64_t         nl;
    int             refused, accepted;
} dctx;

static void dctx_init(dctx *c, const char *dir, const igq_model *m, const igq_tensor *images,
                      const char *name)
{
    memset(c, 0, sizeof *c);
    c->dir    = dir;
    c->path   = path_in(dir, "damaged.igq");
    c->f      = save_bytes(m, dir, name, &c->n);
    c->images = images;
    c->ref    = run(m, images);
    c->nl     = igq_tensor_dim(images, 0) * info(m, IGQ_PROP_NUM_CLASSES);
}

static void dctx_free(dctx *c)
{
    free(c->path);
    free(c->f);
    free(c->ref);
}

static unsigned char *copy_of(const dctx *c, size_t extra)
{
    unsigned char *b = (unsigned char *)calloc(1, c->n + extra + 1);
    assert_non_null(b);
    memcpy(b, c->f, c->n);
    return b;
}

static void write_damaged(const dctx *c, const unsigned char *b, size_t n)
{
    FILE *fp = fopen(c->path, "wb");
    assert_non_null(fp);
    if (n > 0) assert_int_equal(fwrite(b, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* One load path: IGQ_ERR_FORMAT, no handle, a message with `who` and `want`. */
static void check_refusal(igq_status s, const igq_model *m, const char *who, const char *want,
                          const char *label, const char *how)
{
    const char *e = igq_last_error();
    if (s != IGQ_ERR_FORMAT || m != NULL || strstr(e, who) == NULL ||
        (want != NULL && strstr(e, want) == NULL))
        fail_msg("%s (%s): status %d, handle %p, message '%s'; expected IGQ_ERR_FORMAT, NULL and "
                 "'%s' ... '%s'", label, how, (int)s, (const void *)m, e, who,
                 want != NULL ? want : "");
}

/* A damaged file must be refused from a path and from a buffer. b is freed. want_buf: the
 * message of igq_model_load_buffer when it differs from want (NULL: the same). */
static void refused2(dctx *c, unsigned char *b, size_t n, const char *label, const char *want,
                     const char *want_buf)
{
    igq_model *m = (igq_model *)c; /* not NULL: the call must clear it */
    igq_status s;
    write_damaged(c, b, n);
    s = igq_model_load(c->path, &m);
    if (s == IGQ_OK) igq_model_free(m);
    check_refusal(s, m, c->path, want, label, "igq_model_load");
    printf("  refused %-44s %s\n", label, igq_last_error() + strlen(c->path));
    m = (igq_model *)c;
    s = igq_model_load_buffer(b, n, &m);
    if (s == IGQ_OK) igq_model_free(m);
    check_refusal(s, m, "", want_buf != NULL ? want_buf : want, label, "igq_model_load_buffer");
    if (want_buf == NULL && strstr(igq_last_error(), "<buffer>") == NULL)
        fail_msg("%s: '%s' does not name the buffer", label, igq_last_error());
    unlink(c->path);
    free(b);
    c->refused++;
}

static void refused(dctx *c, unsigned char *b, size_t n, const char *label, const char *want)
{
    refused2(c, b, n, label, want, NULL);
}

/* A file the reader must accept: it loads from a path and a buffer and gives the intact file's
 * logits (same_logits = 0: it only runs). b is freed. */
static void accepted(dctx *c, unsigned char *b, size_t n, const char *label, int same)
{
    igq_model *m = NULL, *mb = NULL;
    float     *got;
    write_damaged(c, b, n);
    if (igq_model_load(c->path, &m) != IGQ_OK)
        fail_msg("%s: refused: %s", label, igq_last_error());
    if (igq_model_load_buffer(b, n, &mb) != IGQ_OK)
        fail_msg("%s: refused from a buffer: %s", label, igq_last_error());
    got = run(m, c->images);
    if (same) same_logits(c->ref, got, c->nl, label, "accepted file");
    free(got);
    got = run(mb, c->images);
    if (same) same_logits(c->ref, got, c->nl, label, "accepted buffer");
    free(got);
    printf("  accepted %s\n", label);
    igq_model_free(m);
    igq_model_free(mb);
    unlink(c->path);
    free(b);
    c->accepted++;
}

/* ---- field editors: each writes one value and re-fixes every checksum -------------------- */

static void edit_header32(dctx *c, int off, uint32_t v, const char *label, const char *want)
{
    unsigned char *b = copy_of(c, 0);
    put32(b + off, v);
    refix(b, c->n);
    refused(c, b, c->n, label, want);
}

static void edit_header64(dctx *c, int off, uint64_t v, const char *label, const char *want)
{
    unsigned char *b = copy_of(c, 0);
    put64(b + off, v);
    refix(b, c->n);
    refused(c, b, c->n, label, want);
}

/* Field at byte off (4 or 8 bytes) of the table entry of section t. */
static void edit_entry(dctx *c, const char *t, int off, uint64_t v, const char *label,
                       const char *want)
{
    unsigned char *b = copy_of(c, 0);
    unsigned char *e = entry(b, (uint32_t)sec_index(b, t));
    assert_true(sec_index(b, t) >= 0);
    if (off == 8 || off == 16)
        put64(e + off, v);
    else
        put32(e + off, (uint32_t)v);
    refix(b, c->n);
    refused(c, b, c->n, label, want);
}

static void edit_grph(dctx *c, int off, int32_t v, const char *label, const char *want)
{
    unsigned char *b = copy_of(c, 0);
    put32(sec(b, "GRPH", NULL) + off, (uint32_t)v);
    refix(b, c->n);
    refused(c, b, c->n, label, want);
}

/* Edits several GRPH fields at once: pairs (offset, value), ended by offset -1. */
static void edit_grph_n(dctx *c, const int32_t *kv, const char *label, const char *want)
{
    unsigned char *b = copy_of(c, 0);
    unsigned char *g = sec(b, "GRPH", NULL);
    for (; kv[0] >= 0; kv += 2) put32(g + kv[0], (uint32_t)kv[1]);
    refix(b, c->n);
    refused(c, b, c->n, label, want);
}

/* The TDIR entry of (kind, block) in file b. */
static unsigned char *tdir_entry(unsigned char *b, int kind, int32_t block)
{
    uint64_t       size;
    unsigned char *t = sec(b, "TDIR", &size);
    uint32_t       k;
    for (k = 0; k < get32(t); k++) {
        unsigned char *e = t + 8 + 32 * (size_t)k;
        if ((e[0] | e[1] << 8) == kind && (int32_t)get32(e + 4) == block) return e;
    }
    fail_msg("no tensor of kind %d, block %d", kind, (int)block);
    return NULL;
}

/* Field of the TDIR entry (kind, block): off 0 kind (2 bytes), 2 dtype (2), 4 block (4),
 * 8 offset (8), 16 size (8). */
static void edit_tdir(dctx *c, int kind, int32_t block, int off, uint64_t v, const char *label,
                      const char *want)
{
    unsigned char *b = copy_of(c, 0);
    unsigned char *e = tdir_entry(b, kind, block);
    if (off == 0 || off == 2)
        e[off] = (unsigned char)v, e[off + 1] = (unsigned char)(v >> 8);
    else if (off == 4)
        put32(e + 4, (uint32_t)v);
    else
        put64(e + off, v);
    refix(b, c->n);
    refused(c, b, c->n, label, want);
}

/* The QUAN record head of (block, site) in file b (walking the records as the spec lays them
 * out). */
static unsigned char *quan_record(unsigned char *b, int32_t block, int32_t site)
{
    uint64_t       size;
    unsigned char *q = sec(b, "QUAN", &size), *p = q + 8;
    uint32_t       k;
    for (k = 0; k < get32(q); k++) {
        if ((int32_t)get32(p) == block && (int32_t)get32(p + 4) == site) return p;
        p += 48 + qrec_tail_bytes(p);
    }
    fail_msg("no quantizer record for site %d of block %d", (int)site, (int)block);
    return NULL;
}

/* Head field (byte offset) of a QUAN record. */
static void edit_qhead(dctx *c, int32_t block, int32_t site, int off, int32_t v,
                       const char *label, const char *want)
{
    unsigned char *b = copy_of(c, 0);
    put32(quan_record(b, block, site) + off, (uint32_t)v);
    refix(b, c->n);
    refused(c, b, c->n, label, want);
}

/* Array value of a QUAN record: arr 0 lo, 1 hi, 2 clo, 3 chi (f32), or 4 + j field j of
 * parameter set g (0 scale, 1 inv_scale, 2 zero, 3 qmin, 4 qmax); bits = the raw 32 bits. */
static unsigned char *qvalue(unsigned char *rec, int arr, int32_t g)
{
    const int32_t  n = (int32_t)get32(rec + 32), cover = (int32_t)get32(rec + 36);
    unsigned char *t = rec + 48;
    if (get32(rec + 40) != 0) { /* compact weight form: hi (arr 1), scale (arr 4) only */
        assert_true(arr == 1 || arr == 4);
        return t + 4 * ((arr == 1 ? 0 : (size_t)n) + (size_t)g);
    }
    if (arr < 4) {
        assert_true(arr < 2 || cover);
        return t + 4 * ((size_t)arr * (size_t)n + (size_t)g);
    }
    return t + 4 * (size_t)n * (cover ? 4u : 2u) + 20 * (size_t)g + 4 * (size_t)(arr - 4);
}

static void edit_qvalue(dctx *c, int32_t block, int32_t site, int arr, int32_t g, uint32_t bits,
                        const char *label, const char *want)
{
    unsigned char *b = copy_of(c, 0);
    put32(qvalue(quan_record(b, block, site), arr, g), bits);
    refix(b, c->n);
    refused(c, b, c->n, label, want);
}

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* ---- the cases ---------------------------------------------------------------------------- */

static const char *const INT_TAGS[] = {"GRPH", "PREP", "QCFG", "QUAN", "PROV", "TDIR", "DATA"};

/* Per section: one flipped byte (checksums untouched: the section's checksum fails), and the
 * section cut short by one byte and emptied (checksums re-fixed: its own checks fail). */
static void section_cases(dctx *c, const char *t, const char *cut_want)
{
    unsigned char *b;
    uint64_t       size;
    char           label[96];
    size_t         at;
    b  = copy_of(c, 0);
    at = (size_t)(sec(b, t, &size) - b) + (size_t)size / 2;
    b[at] ^= 0x10;
    snprintf(label, sizeof label, "%s: one byte flipped", t);
    refused(c, b, c->n, label, "checksum mismatch");
    snprintf(label, sizeof label, "%s: one byte shorter", t);
    b = copy_of(c, 0);
    put64(entry(b, (uint32_t)sec_index(b, t)) + 16, size - 1);
    refix(b, c->n);
    if (cut_want != NULL)
        refused(c, b, c->n, label, cut_want);
    else
        accepted(c, b, c->n, label, 1);
    snprintf(label, sizeof label, "%s: empty", t);
    b = copy_of(c, 0);
    put64(entry(b, (uint32_t)sec_index(b, t)) + 16, 0);
    refix(b, c->n);
    if (cut_want != NULL)
        refused(c, b, c->n, label, t);
    else
        accepted(c, b, c->n, label, 1);
}

static void header_cases(dctx *c)
{
    unsigned char *b;
    size_t         cut[6];
    int            i;
    /* magic: igq_model_load then takes the file for a checkpoint (which refuses it too) */
    b    = copy_of(c, 0);
    b[1] = 'X';
    refused2(c, b, c->n, "bad magic", NULL, "not an .igq file (bad magic");
    b    = copy_of(c, 0);
    b[7] = 0;
    refused2(c, b, c->n, "bad magic (last byte)", NULL, "not an .igq file (bad magic");
    edit_header32(c, 8, 2, "major version 2", "format version 2.0 is not supported");
    edit_header32(c, 8, 0, "major version 0", "format version 0.0 is not supported");
    edit_header32(c, 8, 0x00030101u, "major version 257.3", "format version 257.3");
    edit_header32(c, 12, 128, "header size 128", "header size 128 (expected 64)");
    edit_header32(c, 12, 0, "header size 0", "header size 0 (expected 64)");
    b = copy_of(c, 0);
    b[44] ^= 1;
    refused(c, b, c->n, "header checksum (reserved byte)", "header checksum mismatch");
    b = copy_of(c, 0);
    b[60] ^= 1;
    refused(c, b, c->n, "header checksum (the checksum)", "header checksum mismatch");
    b = copy_of(c, 0);
    b[17] ^= 1;
    refused(c, b, c->n, "header checksum (file size)", "header checksum mismatch");
    /* truncated and extended */
    b = copy_of(c, 0);
    refused2(c, b, 0, "truncated to 0 bytes", NULL, "not an .igq file (bad magic; 0 bytes)");
    b = copy_of(c, 0);
    refused2(c, b, 7, "truncated to 7 bytes", NULL, "not an .igq file (bad magic; 7 bytes)");
    cut[0] = 8, cut[1] = 63;
    for (i = 0; i < 2; i++) {
        char label[64];
        snprintf(label, sizeof label, "truncated to %zu bytes", cut[i]);
        b = copy_of(c, 0);
        refused(c, b, cut[i], label, "shorter than the header");
    }
    cut[0] = 64, cut[1] = 65, cut[2] = 320, cut[3] = c->n / 2, cut[4] = c->n - 64,
    cut[5] = c->n - 1;
    for (i = 0; i < 6; i++) {
        char label[64];
        snprintf(label, sizeof label, "truncated to %zu bytes", cut[i]);
        b = copy_of(c, 0);
        refused(c, b, cut[i], label, "(truncated)");
    }
    b = copy_of(c, 1);
    refused(c, b, c->n + 1, "one extra byte", "(extra bytes)");
    b = copy_of(c, 4096);
    refused(c, b, c->n + 4096, "4096 extra bytes", "(extra bytes)");
    edit_header64(c, 16, (uint64_t)c->n + 1, "header file size + 1", "(truncated)");
    edit_header64(c, 16, UINT64_MAX, "header file size 2^64 - 1", "(truncated)");
    edit_header64(c, 16, 0, "header file size 0", "(extra bytes)");
    /* the section table */
    edit_header64(c, 24, 128, "table offset 128", "section table at offset 128 (expected 64)");
    edit_header64(c, 24, 0, "table offset 0", "section table at offset 0");
    edit_header64(c, 24, UINT64_MAX - 63, "table offset 2^64 - 64", "section table at offset");
    edit_header32(c, 32, 0, "zero sections", ": 0 sections (1 .. 256 allowed)");
    edit_header32(c, 32, 257, "257 sections", ": 257 sections");
    edit_header32(c, 32, UINT32_MAX, "2^32 - 1 sections", ": 4294967295 sections");
    {   /* a 128-byte file whose table (4 entries) would end at 192 */
        b = copy_of(c, 0);
        put64(b + 16, 128);
        put32(b + 32, 4);
        refix(b, 128);
        refused(c, b, 128, "table past the end", "section table (4 entries) runs past the end");
    }
    b = copy_of(c, 0);
    b[HDR + 28] ^= 1; /* a reserved byte of the first entry */
    refused(c, b, c->n, "table checksum (reserved byte)", "section table checksum mismatch");
    b = copy_of(c, 0);
    b[36] ^= 1;
    put32(b + 60, crc32c(b, 60));
    refused(c, b, c->n, "table checksum (header field)", "section table checksum mismatch");
    b = copy_of(c, 0);
    put32(b + 32, nsec(b) - 1); /* the table's checksum stays the one over the old count */
    put32(b + 60, crc32c(b, 60));
    refused(c, b, c->n, "table checksum (count - 1)", "section table checksum mismatch");
    /* accepted: reserved header bytes are ignored; a newer minor version */
    b = copy_of(c, 0);
    memset(b + 40, 0xA5, 20);
    refix(b, c->n);
    accepted(c, b, c->n, "reserved header bytes set", 1);
    b = copy_of(c, 0);
    b[10] = 7;
    refix(b, c->n);
    accepted(c, b, c->n, "minor version 1.7", 1);
    b = copy_of(c, 0);
    b[10] = 0xFF, b[11] = 0xFF;
    refix(b, c->n);
    accepted(c, b, c->n, "minor version 1.65535", 1);
}

static void table_cases(dctx *c)
{
    uint64_t off_grph, off_tdir, off_prov, size;
    unsigned char *b;
    bfile     bf;
    size_t    n;
    sec(c->f, "GRPH", &size);
    off_grph = get64(entry(c->f, (uint32_t)sec_index(c->f, "GRPH")) + 8);
    off_tdir = get64(entry(c->f, (uint32_t)sec_index(c->f, "TDIR")) + 8);
    off_prov = get64(entry(c->f, (uint32_t)sec_index(c->f, "PROV")) + 8);
    edit_entry(c, "GRPH", 8, off_grph + 8, "GRPH misaligned (+8)", "section 'GRPH' at offset");
    edit_entry(c, "DATA", 8, get64(entry(c->f, (uint32_t)sec_index(c->f, "DATA")) + 8) + 32,
               "DATA misaligned (+32)", "is not 64-byte aligned");
    edit_entry(c, "DATA", 16, get64(entry(c->f, (uint32_t)sec_index(c->f, "DATA")) + 16) + 64,
               "DATA 64 bytes past the end", "section 'DATA' (offset");
    edit_entry(c, "PROV", 8, r64(c->n) + 64, "PROV after the end", "section 'PROV' (offset");
    edit_entry(c, "GRPH", 8, 0, "GRPH over the header", "overlaps the header or the section");
    edit_entry(c, "GRPH", 8, HDR, "GRPH over the table", "overlaps the header or the section");
    edit_entry(c, "QCFG", 8, off_grph, "QCFG at GRPH's offset", "section 'QCFG' overlaps");
    edit_entry(c, "DATA", 8, off_tdir + 64, "DATA inside TDIR", "section 'DATA' overlaps");
    edit_entry(c, "TDIR", 8, off_prov, "TDIR over PROV", "section 'TDIR' overlaps");
    edit_entry(c, "PROV", 0, tag_of("QUAN"), "QUAN twice (PROV renamed)", "'QUAN' appears twice");
    bf_parse(&bf, c->f);
    bf_insert(&bf, bf.n, "GRPH", 1, bf_get(&bf, "GRPH")->p, bf_get(&bf, "GRPH")->n);
    b = bf_build(&bf, &n);
    bf_free(&bf);
    refused(c, b, n, "GRPH twice (same bytes)", "section 'GRPH' appears twice");
    /* near 2^63 and 2^64 */
    edit_entry(c, "GRPH", 16, (uint64_t)INT64_MAX, "GRPH size 2^63 - 1", "section 'GRPH' (offset");
    edit_entry(c, "GRPH", 16, UINT64_MAX, "GRPH size 2^64 - 1", "runs past the end of the file");
    edit_entry(c, "TDIR", 8, (uint64_t)1 << 63, "TDIR offset 2^63", "section 'TDIR' (offset");
    edit_entry(c, "TDIR", 8, UINT64_MAX - 63, "TDIR offset 2^64 - 64", "runs past the end");
    edit_entry(c, "DATA", 16, UINT64_MAX - off_tdir + 1, "DATA offset + size wraps to 0",
               "section 'DATA' (offset");
    /* sections missing, unknown, added */
    {
        static const char *const req[] = {"GRPH", "TDIR", "DATA", "QCFG", "QUAN"};
        int                      k;
        for (k = 0; k < 5; k++) {
            char label[64], want[64];
            bf_parse(&bf, c->f);
            bf_remove(&bf, req[k]);
            b = bf_build(&bf, &n);
            bf_free(&bf);
            snprintf(label, sizeof label, "missing %s", req[k]);
            snprintf(want, sizeof want, "missing section '%s'", req[k]);
            refused(c, b, n, label, want);
        }
    }
    bf_parse(&bf, c->f);
    bf_remove(&bf, "QCFG");
    bf_remove(&bf, "QUAN");
    b = bf_build(&bf, &n);
    bf_free(&bf);
    refused(c, b, n, "QCFG and QUAN missing (read as fp32)",
            "section 'TDIR': tensor 'patch.weight' of block -1 has dtype 3 (expected 1)");
    bf_parse(&bf, c->f);
    bf_insert(&bf, 3, "ZZZZ", 1, "abc", 3);
    b = bf_build(&bf, &n);
    bf_free(&bf);
    refused(c, b, n, "unknown required section", "section 'ZZZZ' is required but unknown");
    bf_parse(&bf, c->f);
    bf_insert(&bf, bf.n, "LABL", 1, "cat\ndog\n", 8); /* a known section with bad contents */
    b = bf_build(&bf, &n);
    bf_free(&bf);
    refused(c, b, n, "LABL of text, not the layout", "section 'LABL': 175399267 names for");
    {
        /* LABL with the right count (classes of the file) but a name without its NUL */
        unsigned char lab[8 + 4 * 64 + 64 * 2];
        const int64_t K = c->nl / igq_tensor_dim(c->images, 0);
        int64_t       i;
        assert_true(K <= 64);
        put32(lab, (uint32_t)K), put32(lab + 4, 0);
        for (i = 0; i < K; i++) put32(lab + 8 + 4 * i, (uint32_t)(2 * i + 2));
        for (i = 0; i < K; i++) lab[8 + 4 * K + 2 * i] = 'a', lab[8 + 4 * K + 2 * i + 1] = 0;
        lab[8 + 4 * K + 2 * (K - 1) + 1] = 'b';
        bf_parse(&bf, c->f);
        bf_insert(&bf, 2, "LABL", 0, lab, (size_t)(8 + 6 * K));
        b = bf_build(&bf, &n);
        bf_free(&bf);
        refused(c, b, n, "LABL name without its NUL", "section 'LABL': name");
    }
    bf_parse(&bf, c->f);
    bf_insert(&bf, 2, "\x01\xff" "ab", 1, "", 0);
    b = bf_build(&bf, &n);
    bf_free(&bf);
    refused(c, b, n, "unprintable required tag", "section '??ab' is required but unknown");
    bf_parse(&bf, c->f);
    bf_insert(&bf, 0, "ZZZZ", 0, "optional bytes", 14);
    bf_insert(&bf, 4, "XTRA", 0, "cat\ndog\n", 8);
    bf_insert(&bf, bf.n, "NEWS", 0, "", 0);
    b = bf_build(&bf, &n);
    bf_free(&bf);
    accepted(c, b, n, "unknown optional sections (ZZZZ first, XTRA, empty NEWS last)", 1);
    bf_parse(&bf, c->f);
    bf_remove(&bf, "PROV");
    b = bf_build(&bf, &n);
    bf_free(&bf);
    accepted(c, b, n, "without PROV", 1);
    bf_parse(&bf, c->f);
    bf_remove(&bf, "PREP");
    b = bf_build(&bf, &n);
    bf_free(&bf);
    {
        igq_model *m = load_bytes(b, n);
        float      mean[3], stdv[3];
        assert_int_equal(igq_model_normalization(m, mean, stdv, 3), IGQ_ERR_NOT_FOUND);
        igq_model_free(m);
    }
    accepted(c, b, n, "without PREP (normalization: IGQ_ERR_NOT_FOUND)", 1);
    bf_parse(&bf, c->f);
    { /* sections in another order, PROV between GRPH and TDIR */
        bsec t   = bf.s[0];
        bf.s[0]  = bf.s[bf.n - 1];
        bf.s[bf.n - 1] = t;
    }
    b = bf_build(&bf, &n);
    bf_free(&bf);
    accepted(c, b, n, "sections in another order (DATA first)", 1);
}

static void graph_cases(dctx *c)
{
    /* GRPH offsets (doc/igq-format.md) */
    enum { KIND = 0, IH = 4, IW = 8, CH = 12, PAT = 16, GH = 20, GW = 24, NP = 28, NPF = 32,
           NT = 36, DIM = 40, DEP = 44, HEADS = 48, HD = 52, MLP = 56, CLS = 60, DIST = 64,
           POSP = 68, POOL = 72, NAME = 76, EPS = 80 };
    const unsigned char *g = sec(c->f, "GRPH", NULL);
    const int32_t        dim = (int32_t)get32(g + DIM), np = (int32_t)get32(g + NP);
    const int32_t        nt = (int32_t)get32(g + NT);
    edit_grph(c, KIND, 2, "graph kind 2", "section 'GRPH': graph kind 2 is not supported");
    edit_grph(c, KIND, 0, "graph kind 0", "graph kind 0 is not supported");
    edit_grph(c, DEP, 0, "depth 0", "section 'GRPH': depth = 0 is outside [1, 4096]");
    edit_grph(c, DEP, -1, "depth -1", "depth = -1 is outside");
    edit_grph(c, DEP, INT32_MAX, "depth 2^31 - 1", "depth = 2147483647 is outside");
    edit_grph(c, DEP, 4097, "depth 4097", "depth = 4097 is outside");
    edit_grph(c, DEP, 3, "depth 3 (one block more than stored)",
              "section 'QUAN': no quantizer for site 0 of block 2");
    edit_grph(c, DEP, 1, "depth 1 (one block less than stored)",
              "site 0 of block 1 does not exist in this graph");
    edit_grph(c, HEADS, 5, "heads 5 do not divide the width",
              "section 'GRPH': 5 heads of width 16 do not make width 48");
    edit_grph(c, HEADS, 0, "heads 0", "heads = 0 is outside");
    edit_grph(c, HEADS, dim + 1, "heads above the width", "heads = 49 is outside [1, 48]");
    edit_grph(c, HD, 15, "head width 15", "heads of width 15 do not make width 48");
    {   /* consistent, and no array's size depends on it: the reader cannot tell */
        const int32_t kv[] = {HEADS, 6, HD, 8, -1, 0};
        unsigned char *b   = copy_of(c, 0);
        const int32_t *p;
        for (p = kv; p[0] >= 0; p += 2) put32(sec(b, "GRPH", NULL) + p[0], (uint32_t)p[1]);
        refix(b, c->n);
        accepted(c, b, c->n, "6 heads of 8 instead of 3 of 16 (undetectable: runs)", 0);
    }
    edit_grph(c, NT, nt + 1, "tokens + 1", "section 'GRPH': 18 tokens but 1 prefix tokens");
    edit_grph(c, NT, INT32_MIN, "tokens -2^31", "tokens but");
    edit_grph(c, NP, np + 1, "patches + 1", "section 'GRPH': 17 patches for a 4x4 grid");
    edit_grph(c, GH, 3, "grid height 3", "a 3x4 grid does not match a 32x32 image with patch 8");
    edit_grph(c, GW, -4, "grid width -4", "grid does not match");
    edit_grph(c, CH, 0, "channels 0", "input channels = 0 is outside [1, 64]");
    edit_grph(c, CH, 65, "channels 65", "input channels = 65 is outside");
    edit_grph(c, PAT, 0, "patch 0", "patch = 0 is outside [1, 1024]");
    edit_grph(c, PAT, 1025, "patch 1025", "patch = 1025 is outside");
    edit_grph(c, IH, 4, "image height below the patch", "image height = 4 is outside [8, 65536]");
    edit_grph(c, IW, INT32_MAX, "image width 2^31 - 1", "image width = 2147483647 is outside");
    edit_grph(c, DIM, 0, "width 0", "width = 0 is outside [1, 65536]");
    edit_grph(c, DIM, INT32_MAX, "width 2^31 - 1", "width = 2147483647 is outside");
    {
        const int32_t kv[] = {DIM, 96, HD, 32, -1, 0};
        edit_grph_n(c, kv, "width 96 (consistent, not the stored 48)",
                    "a weight quantizer needs one quantizer per output channel");
    }
    {
        const int32_t kv[] = {NPF, 2, NT, nt + 1, -1, 0};
        edit_grph_n(c, kv, "2 prefix tokens (consistent, tensors for 1)",
                    "section 'TDIR': tensor 'prefix' of block -1 has 192 bytes; the graph needs "
                    "384");
    }
    {   /* a patch larger than a packed weight's column can hold */
        const int32_t kv[] = {CH, 64, PAT, 1024, IH, 1024, IW, 1024, GH, 1, GW, 1, NP, 1, NT, 2,
                              -1, 0};
        edit_grph_n(c, kv, "64 x 1024 x 1024 patch", "section 'GRPH': a patch of 67108864 values "
                                                     "is too large");
    }
    {
        const int32_t kv[] = {NPF, 1025, NT, np + 1025, -1, 0};
        edit_grph_n(c, kv, "1025 prefix tokens", "prefix tokens = 1025 is outside [0, 1024]");
    }
    edit_grph(c, MLP, 0, "MLP width 0", "MLP width = 0 is outside");
    edit_grph(c, MLP, 65537, "MLP width 65537", "MLP width = 65537 is outside");
    edit_grph(c, MLP, 95, "MLP width 95 (tensors for 96)",
              "a weight quantizer needs one quantizer per output channel");
    /* 0 classes is a model without a classifier: this file's head quantizers and tensors
     * then do not belong to the graph */
    edit_grph(c, CLS, 0, "classes 0 (the file has a classifier)", "does not exist in this graph");
    edit_grph(c, CLS, -1, "classes -1", "classes = -1 is outside [0, 16777216]");
    edit_grph(c, CLS, (1 << 24) + 1, "classes 2^24 + 1", "classes = 16777217 is outside");
    edit_grph(c, DIST, 1, "distillation head with one prefix token",
              "a distillation head needs class and distillation tokens");
    edit_grph(c, DIST, 2, "distillation flag 2", "distillation head = 2 is outside [0, 1]");
    edit_grph(c, POSP, 2, "pos-covers-prefix flag 2", "covers the prefix = 2 is outside");
    edit_grph(c, POSP, 0, "pos without the prefix (stored with)",
              "section 'TDIR': tensor 'pos' of block -1 has 3264 bytes; the graph needs 3072");
    edit_grph(c, POOL, 2, "pooling 2", "pooling = 2 is outside [0, 1]");
    edit_grph(c, POOL, 1, "mean pooling with the final norm of class pooling",
              "section 'GRPH': the pooling does not match the final LayerNorms present");
    {
        const int32_t kv[] = {NPF, 0, NT, np, POSP, 0, -1, 0};
        edit_grph_n(c, kv, "class pooling without prefix tokens",
                    "class-token pooling without prefix tokens");
    }
    {
        const int32_t kv[] = {NPF, 0, NT, np, POOL, 1, -1, 0};
        edit_grph_n(c, kv, "pos covering prefix tokens the model lacks",
                    "position embedding covers prefix tokens the model does not have");
    }
    edit_grph(c, NAME, 3, "naming scheme 3", "naming scheme = 3 is outside [0, 2]");
    edit_grph(c, NAME, -1, "naming scheme -1", "naming scheme = -1 is outside");
    edit_grph(c, EPS, (int32_t)fbits(NAN), "epsilon NaN", "LayerNorm epsilon nan is not");
    edit_grph(c, EPS, 0, "epsilon 0", "LayerNorm epsilon 0 is not a positive number");
    edit_grph(c, EPS, (int32_t)fbits(-1e-6f), "epsilon -1e-6", "LayerNorm epsilon -1e-06");
    edit_grph(c, EPS, (int32_t)fbits(INFINITY), "epsilon inf", "LayerNorm epsilon inf");
}

/* TDIR kinds (doc/igq-format.md) */
enum { K_PATCH_W = 1, K_PATCH_B, K_PREFIX, K_POS, K_NORM_W, K_NORM_B, K_FC_NORM_W, K_FC_NORM_B,
       K_HEAD_W, K_HEAD_B, K_HEAD_DIST_W, K_HEAD_DIST_B, K_LN1_W = 16, K_LN1_B, K_QKV_W,
       K_QKV_B, K_PROJ_W, K_PROJ_B, K_LS1, K_LN2_W, K_LN2_B, K_FC1_W, K_FC1_B, K_FC2_W,
       K_FC2_B, K_LS2, K_ROWSUM = 40 };

/* Removes the TDIR entry (kind, block) from a copy of the file. */
static unsigned char *tdir_without(const dctx *c, int kind, int32_t block, size_t *n)
{
    unsigned char *f = copy_of(c, 0), *b;
    unsigned char *e = tdir_entry(f, kind, block);
    bfile          bf;
    bsec          *t;
    size_t         at;
    bf_parse(&bf, f);
    t  = bf_get(&bf, "TDIR");
    at = (size_t)(e - sec(f, "TDIR", NULL));
    memmove(t->p + at, t->p + at + 32, t->n - at - 32);
    t->n -= 32;
    put32(t->p, get32(t->p) - 1);
    b = bf_build(&bf, n);
    bf_free(&bf);
    free(f);
    return b;
}

/* A value inside DATA: float j of tensor (kind, block). */
static unsigned char *data_value(unsigned char *b, int kind, int32_t block, int64_t j)
{
    const unsigned char *e = tdir_entry(b, kind, block);
    return sec(b, "DATA", NULL) + get64(e + 8) + 4 * (size_t)j;
}

/* Arrays of DATA are not checked value by value; values the integer executor cannot hold are
 * refused when it is built (the message names the layer). */
static void data_cases(dctx *c)
{
    unsigned char *b = copy_of(c, 0);
    const char    *e;
    putf(data_value(b, K_LN2_W, 0, 0), 3e38f);
    refix(b, c->n);
    refused(c, b, c->n, "norm2.weight 3e38 (integer LayerNorm)",
            "the integer executor cannot be built: igq_quantize_model: integer LayerNorm norm2 "
            "of block 0: layernorm params: output scale");
    e = strstr(igq_last_error(), "igq_quantize_model");
    assert_null(strstr(e + 1, "igq_quantize_model")); /* said once (was garbled, doubled) */
    b = copy_of(c, 0);
    putf(data_value(b, K_NORM_B, -1, 5), NAN);
    refix(b, c->n);
    refused(c, b, c->n, "norm.bias NaN (integer LayerNorm)",
            "integer LayerNorm norm of block -1: layernorm params: gamma/beta of channel 5 not "
            "finite");
}

/* Non-finite values inside DATA that the integer executor holds (a bias feeding the query,
 * key and value quantizers, the position embedding): the file loads and runs, the same bits
 * at every level (the quantization of a NaN is defined: the code qmin). Found by fuzz_igq
 * (UBSan: a NaN converted to int in exec_quant_f32). */
static void nonfinite_data_case(dctx *c)
{
    const igq_isa_level best = igq__isa_active();
    unsigned char      *b    = copy_of(c, 0);
    igq_model          *m;
    float              *l1, *l2;
    int64_t             i;
    putf(data_value(b, K_QKV_B, 0, 3), NAN);
    putf(data_value(b, K_QKV_B, 1, 50), -INFINITY);
    putf(data_value(b, K_POS, -1, 7), INFINITY);
    refix(b, c->n);
    m  = load_bytes(b, c->n);
    l1 = run(m, c->images);
    igq__dispatch_force(IGQ_ISA_SCALAR);
    l2 = run(m, c->images);
    igq__dispatch_force(best);
    same_logits(l1, l2, c->nl, "non-finite DATA values", "scalar against the best level");
    for (i = 0; i < c->nl; i++) assert_true(isfinite(l1[i]));
    free(l1), free(l2);
    igq_model_free(m);
    accepted(c, b, c->n, "NaN and inf in qkv.bias and pos (runs, finite logits)", 0);
    {   /* the intact model on an image with NaN pixels: refused before any executor runs
         * (igq_run's contract; test_session covers every executor) */
        igq_tensor *img = one_image(c->images, 0);
        float      *px  = (float *)igq_tensor_data(img);
        int64_t     ls[2] = {1, 0};
        igq_tensor *lt    = NULL;
        m               = load_bytes(c->f, c->n);
        px[100] = NAN, px[101] = -INFINITY;
        ls[1]   = info(m, IGQ_PROP_NUM_CLASSES);
        assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &lt), IGQ_OK);
        assert_int_equal(igq_run(m, img, lt), IGQ_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(igq_last_error(), "non-finite value"));
        igq_tensor_free(lt);
        igq_model_free(m);
        igq_tensor_free(img);
    }
}

static void tdir_cases(dctx *c)
{
    unsigned char *b, *t;
    uint64_t       data_size, tsize;
    size_t         n;
    int            k;
    static const int unknown[] = {0, 13, 15, 30, 39, 40, 47, 70, 65535};
    sec(c->f, "DATA", &data_size);
    for (k = 0; k < (int)(sizeof unknown / sizeof unknown[0]); k++) {
        char label[64], want[64];
        snprintf(label, sizeof label, "tensor kind %d", unknown[k]);
        snprintf(want, sizeof want, "has unknown tensor kind %d", unknown[k]);
        edit_tdir(c, K_LN1_W, 0, 0, (uint64_t)unknown[k], label, want);
    }
    edit_tdir(c, K_LN1_B, 0, 0, K_LN1_W, "tensor twice (kind)",
              "section 'TDIR': tensor 'norm1.weight' of block 0 appears twice");
    edit_tdir(c, K_QKV_W, 1, 4, 0, "tensor twice (block)",
              "tensor 'qkv.weight' of block 0 appears twice");
    edit_tdir(c, K_LN1_W, 0, 4, 2, "block 2 of depth 2",
              "section 'TDIR': tensor 'norm1.weight' has block 2 (depth 2)");
    edit_tdir(c, K_LN1_W, 0, 4, (uint64_t)-1, "block -1 for a block tensor",
              "tensor 'norm1.weight' has block -1");
    edit_tdir(c, K_LN1_W, 0, 4, (uint64_t)INT32_MIN, "block -2^31", "has block -2147483648");
    edit_tdir(c, K_PATCH_W, -1, 4, 0, "block 0 for patch.weight",
              "tensor 'patch.weight' has block 0");
    edit_tdir(c, K_ROWSUM + K_QKV_W, 0, 4, (uint64_t)-1, "block -1 for a block's rowsum",
              "tensor 'qkv.weight rowsum' has block -1");
    edit_tdir(c, K_POS, -1, 8, get64(tdir_entry(c->f, K_POS, -1) + 8) + 4, "misaligned tensor",
              "section 'TDIR': tensor 'pos' of block -1 is misaligned");
    edit_tdir(c, K_LN1_B, 0, 8, get64(tdir_entry(c->f, K_LN1_W, 0) + 8) + 64,
              "tensor overlapping the one before",
              "tensor 'norm1.bias' of block 0 overlaps the one before it");
    b = copy_of(c, 0);
    {
        unsigned char *w = tdir_entry(b, K_LN1_W, 1), *bb = tdir_entry(b, K_LN1_B, 1);
        const uint64_t ow = get64(w + 8);
        put64(w + 8, get64(bb + 8));
        put64(bb + 8, ow);
    }
    refix(b, c->n);
    refused(c, b, c->n, "two tensors swapped (unsorted)",
            "tensor 'norm1.bias' of block 1 overlaps the one before it (entries must be sorted");
    edit_tdir(c, K_FC2_B, 1, 8, r64(data_size), "tensor at the end of DATA",
              "tensor 'fc2.bias' of block 1 lies outside section 'DATA'");
    edit_tdir(c, K_FC2_B, 1, 16, get64(tdir_entry(c->f, K_FC2_B, 1) + 16) + 64,
              "tensor 64 bytes past DATA", "lies outside section 'DATA'");
    edit_tdir(c, K_FC2_B, 1, 8, UINT64_MAX - 63, "tensor offset 2^64 - 64",
              "tensor 'fc2.bias' of block 1 lies outside section 'DATA'");
    edit_tdir(c, K_FC2_B, 1, 8, (uint64_t)1 << 63, "tensor offset 2^63", "lies outside section");
    edit_tdir(c, K_FC2_B, 1, 16, UINT64_MAX, "tensor size 2^64 - 1", "lies outside section");
    edit_tdir(c, K_FC2_B, 1, 16, (uint64_t)INT64_MAX, "tensor size 2^63 - 1",
              "lies outside section");
    edit_tdir(c, K_POS, -1, 2, 2, "f32 tensor as int32",
              "section 'TDIR': tensor 'pos' of block -1 has dtype 2 (expected 1)");
    edit_tdir(c, K_QKV_W, 0, 2, 4, "qs8 weight as qs4",
              "tensor 'qkv.weight' of block 0 has dtype 4 (expected 3)");
    edit_tdir(c, K_QKV_W, 0, 2, 1, "qs8 weight as f32", "has dtype 1 (expected 3)");
    edit_tdir(c, K_ROWSUM + K_FC1_W, 1, 2, 1, "rowsum as f32",
              "tensor 'fc1.weight rowsum' of block 1 has dtype 1 (expected 2)");
    edit_tdir(c, K_LN2_B, 0, 2, 0, "dtype 0", "has dtype 0 (expected 1)");
    edit_tdir(c, K_LN2_B, 0, 2, 65535, "dtype 65535", "has dtype 65535 (expected 1)");
    edit_tdir(c, K_POS, -1, 16, get64(tdir_entry(c->f, K_POS, -1) + 16) - 4, "tensor 4 bytes short",
              "section 'TDIR': tensor 'pos' of block -1 has 3260 bytes; the graph needs 3264");
    edit_tdir(c, K_QKV_W, 0, 16, get64(tdir_entry(c->f, K_QKV_W, 0) + 16) - 64,
              "packed weight one row short", "tensor 'qkv.weight' of block 0 has");
    edit_tdir(c, K_ROWSUM + K_HEAD_W, -1, 16, 0, "rowsum of 0 bytes",
              "tensor 'head.weight rowsum' of block -1 has 0 bytes; the graph needs 40");
    edit_tdir(c, K_HEAD_W, -1, 0, K_HEAD_DIST_W, "head_dist.weight without a distillation head",
              "tensor 'head_dist.weight' without a distillation head");
    edit_tdir(c, K_HEAD_B, -1, 0, K_HEAD_DIST_B, "head_dist.bias without a distillation head",
              "tensor 'head_dist.bias' without a distillation head");
    edit_tdir(c, K_ROWSUM + K_HEAD_W, -1, 0, K_ROWSUM + K_HEAD_DIST_W,
              "head rowsum renamed head_dist rowsum",
              "section 'TDIR': missing tensor 'head.weight rowsum'");
    edit_tdir(c, K_NORM_B, -1, 0, K_FC_NORM_B, "norm.weight without norm.bias",
              "section 'TDIR': 'norm.weight' without 'norm.bias'");
    edit_tdir(c, K_LN2_W, 0, 0, K_LS1, "norm2.weight renamed ls1",
              "section 'TDIR': missing tensor 'norm2.weight' of block 0");
    b = tdir_without(c, K_LN1_B, 1, &n);
    refused(c, b, n, "norm1.bias of block 1 missing",
            "section 'TDIR': missing tensor 'norm1.bias' of block 1");
    b = tdir_without(c, K_POS, -1, &n);
    refused(c, b, n, "pos missing", "section 'TDIR': missing tensor 'pos'");
    b = tdir_without(c, K_PREFIX, -1, &n);
    refused(c, b, n, "prefix missing", "missing tensor 'prefix'");
    b = tdir_without(c, K_ROWSUM + K_PROJ_W, 0, &n);
    refused(c, b, n, "a rowsum missing", "missing tensor 'proj.weight rowsum' of block 0");
    b = tdir_without(c, K_HEAD_W, -1, &n);
    refused(c, b, n, "head.weight missing", "missing tensor 'head.weight'");
    {   /* neither final norm */
        unsigned char *f = tdir_without(c, K_NORM_W, -1, &n), *g;
        dctx           c2 = *c;
        c2.f = f, c2.n = n;
        g = tdir_without(&c2, K_NORM_B, -1, &n);
        free(f);
        refused(c, g, n, "no final LayerNorm", "missing tensor 'norm.weight' (final LayerNorm)");
    }
    b = copy_of(c, 0);
    t = sec(b, "TDIR", &tsize);
    put32(t, get32(t) - 1);
    refix(b, c->n);
    refused(c, b, c->n, "TDIR count - 1", "missing tensor 'fc2.bias' of block 1");
    b = copy_of(c, 0);
    put32(sec(b, "TDIR", NULL), 0);
    refix(b, c->n);
    refused(c, b, c->n, "TDIR count 0", "missing tensor 'patch.weight'");
    b = copy_of(c, 0);
    put32(sec(b, "TDIR", NULL), get32(sec(b, "TDIR", NULL)) + 1);
    refix(b, c->n);
    refused(c, b, c->n, "TDIR count + 1", "section 'TDIR': ");
    b = copy_of(c, 0);
    put32(sec(b, "TDIR", NULL), UINT32_MAX);
    refix(b, c->n);
    refused(c, b, c->n, "TDIR count 2^32 - 1",
            "section 'TDIR': 4294967295 entries do not fit in");
    b = copy_of(c, 0);
    put32(sec(b, "TDIR", NULL), 0x80000000u);
    refix(b, c->n);
    refused(c, b, c->n, "TDIR count 2^31", "2147483648 entries do not fit");
}

/* QUAN sites (igq_site) */
enum { S_QKV_IN = 0, S_Q, S_K, S_ATTN, S_V, S_PROJ_IN, S_FC1_IN, S_FC2_IN, S_PATCH_IN, S_HEAD_IN,
       S_QKV_W, S_PROJ_W, S_FC1_W, S_FC2_W, S_PATCH_W, S_HEAD_W, S_HEAD_DIST_W };
/* QUAN record head offsets; value arrays for qvalue */
enum { Q_BLOCK = 0, Q_SITE = 4, Q_WEIGHT = 8, Q_BITS = 12, Q_GRAN = 16, Q_UNS = 20, Q_ROWS = 24,
       Q_POLICY = 28, Q_N = 32, Q_COVER = 36, Q_FORM = 40 };
enum { V_LO = 0, V_HI, V_CLO, V_CHI, V_SCALE, V_INV, V_ZERO, V_QMIN, V_QMAX };

/* QUAN rebuilt from records after fn changed them. */
static void quan_structural(dctx *c, void (*fn)(qrec *r, uint32_t *count), const char *label,
                            const char *want)
{
    bfile          bf;
    bsec          *q;
    qrec          *r;
    uint32_t       count;
    unsigned char *p, *b;
    size_t         n;
    bf_parse(&bf, c->f);
    q = bf_get(&bf, "QUAN");
    r = quan_parse(q->p, q->n, &count);
    fn(r, &count);
    p = quan_serialize(r, count, &n);
    bf_set(q, p, n);
    free(p);
    b = bf_build(&bf, &n);
    bf_free(&bf);
    quan_free(r, count);
    refused(c, b, n, label, want);
}

static void drop_v1(qrec *r, uint32_t *count)
{
    const int k = qrec_find(r, *count, 1, S_V);
    free(r[k].tail);
    memmove(&r[k], &r[k + 1], (size_t)(*count - (uint32_t)k - 1) * sizeof *r);
    (*count)--;
}

/* (0, FC2_IN) as a per-channel site: granularity 2, no parameters */
static void channel_fc2(qrec *r, uint32_t *count)
{
    const int k = qrec_find(r, *count, 0, S_FC2_IN);
    put32(r[k].head + Q_GRAN, 2);
    put32(r[k].head + Q_N, 0);
    put32(r[k].head + Q_COVER, 0);
    r[k].ntail = 0;
}

/* a group site with 65 groups (arrays of the right size) */
static void groups65(qrec *r, uint32_t *count)
{
    const int      k = qrec_find(r, *count, 0, S_QKV_IN);
    const int32_t  n = (int32_t)get32(r[k].head + Q_N);
    const size_t   per = r[k].ntail / (size_t)n;
    unsigned char *t = (unsigned char *)malloc(per * 65 + 1);
    int32_t        g;
    assert_non_null(t);
    for (g = 0; g < 65; g++) memcpy(t + per * (size_t)g, r[k].tail, per); /* sizes only */
    free(r[k].tail);
    r[k].tail  = t;
    r[k].ntail = per * 65;
    put32(r[k].head + Q_N, 65);
}

static void quan_cases(dctx *c)
{
    unsigned char *b, *rec;
    int32_t        g;
    edit_qhead(c, 0, S_QKV_IN, Q_BITS, 9, "activation bits 9",
               "section 'QUAN': quantizer of site 0, block 0: bits outside 2..8");
    edit_qhead(c, 0, S_QKV_W, Q_BITS, 1, "weight bits 1",
               "quantizer of site 10, block 0: bits outside 2..8");
    edit_qhead(c, 1, S_FC2_W, Q_BITS, INT32_MAX, "weight bits 2^31 - 1", "bits outside 2..8");
    edit_qhead(c, 0, S_FC1_IN, Q_BITS, 7, "activation bits 7 (parameters for 8)",
               "quantizer of site 6, block 0: an activation quantizer's integer range does not "
               "match its bits");
    /* weight records are written in the compact form (doc/igq-format.md, QUAN form 1): their
     * integer range follows from the bits, so bits 4 over qs8 weights is caught by the
     * packing's kind; unknown forms and forms on activation records are refused */
    assert_int_equal(get32(quan_record(c->f, 0, S_FC1_W) + Q_FORM), 1);
    edit_qhead(c, 0, S_FC1_W, Q_FORM, 3, "weight record form 3", "unknown record form");
    edit_qhead(c, 0, S_FC1_IN, Q_FORM, 1, "compact form on an activation record",
               "quantizer of site 6, block 0: unknown record form");
    b   = copy_of(c, 0);
    rec = quan_record(b, 0, S_FC1_W);
    put32(rec + Q_BITS, 4);
    (void)g;
    refix(b, c->n);
    refused(c, b, c->n, "weight bits 4 over a qs8 packed weight",
            "section 'TDIR': tensor 'fc1.weight' of block 0 has dtype 3 (expected 4)");
    edit_qhead(c, 0, S_QKV_IN, Q_GRAN, 3, "granularity 3", "unknown granularity");
    edit_qhead(c, 0, S_QKV_IN, Q_GRAN, -1, "granularity -1", "unknown granularity");
    edit_qhead(c, 0, S_PROJ_IN, Q_WEIGHT, 1, "activation flagged as weight",
               "quantizer of site 5, block 0: weight flag does not match the site");
    edit_qhead(c, -1, S_HEAD_W, Q_WEIGHT, 0, "weight flagged as activation",
               "weight flag does not match the site");
    edit_qhead(c, 0, S_QKV_IN, Q_UNS, 1, "unsigned flag off the softmax",
               "row/unsigned flags do not match the site");
    edit_qhead(c, 1, S_ATTN, Q_ROWS, 0, "softmax without row groups",
               "quantizer of site 3, block 1: row/unsigned flags do not match the site");
    edit_qhead(c, 0, S_QKV_IN, Q_POLICY, 2, "assignment rule 2",
               "unknown group assignment rule");
    edit_qhead(c, 0, S_QKV_IN, Q_COVER, 2, "cover flag 2", "bad cover flag");
    edit_qhead(c, 0, S_QKV_IN, Q_COVER, 0, "cover flag cleared (bounds left in place)",
               "section 'QUAN'");
    edit_qhead(c, 0, S_QKV_W, Q_N, 143, "weight quantizers 143 for 144 channels",
               "quantizer of site 10, block 0: a weight quantizer needs one quantizer per output "
               "channel");
    edit_qhead(c, 0, S_QKV_W, Q_N, INT32_MAX, "weight quantizers 2^31 - 1",
               "a weight quantizer needs one quantizer per output channel");
    edit_qhead(c, 0, S_QKV_W, Q_N, -1, "weight quantizers -1", "a weight quantizer needs one");
    edit_qhead(c, 0, S_QKV_IN, Q_N, 0, "0 groups", "group count outside 1..64");
    edit_qhead(c, 0, S_QKV_IN, Q_N, 65, "65 groups (arrays for 8)", "group count outside 1..64");
    edit_qhead(c, 0, S_QKV_IN, Q_N, INT32_MIN, "-2^31 groups", "group count outside 1..64");
    edit_qhead(c, 0, S_QKV_IN, Q_N, 9, "9 groups (arrays for 8)",
               "section 'QUAN': quantizer of site 0, block 0: ");
    edit_qhead(c, 1, S_FC2_W, Q_N, 49, "last record: 49 weight quantizers (48 stored)",
               "quantizer of site 13, block 1: a weight quantizer needs one");
    quan_structural(c, groups65, "65 groups (arrays for 65)", "group count outside 1..64");
    edit_qhead(c, 0, S_Q, Q_N, 2, "per-tensor with n = 2", "a per-tensor quantizer needs n = 1");
    edit_qhead(c, -1, S_PATCH_IN, Q_GRAN, 1, "groups at the patch input",
               "quantizer of site 8, block -1: group count outside 1..64");
    edit_qhead(c, 0, S_FC2_IN, Q_GRAN, 2, "per-channel with parameters",
               "a per-channel activation quantizer has no parameters");
    edit_qhead(c, 1, S_QKV_IN, Q_BLOCK, 2, "block 2 of depth 2",
               "section 'QUAN': record 16: site 0 of block 2 does not exist in this graph");
    edit_qhead(c, 0, S_QKV_IN, Q_BLOCK, -1, "block -1 for a block site",
               "site 0 of block -1 does not exist");
    edit_qhead(c, -1, S_PATCH_IN, Q_BLOCK, -2, "block -2", "site 8 of block -2 does not exist");
    edit_qhead(c, 0, S_QKV_IN, Q_SITE, 17, "site 17", "site 17 of block 0 does not exist");
    edit_qhead(c, 0, S_QKV_IN, Q_SITE, -1, "site -1", "site -1 of block 0 does not exist");
    edit_qhead(c, 0, S_FC2_IN, Q_SITE, S_PATCH_IN, "edge site in a block",
               "site 8 of block 0 does not exist");
    edit_qhead(c, -1, S_HEAD_W, Q_SITE, S_HEAD_DIST_W, "head_dist weight without the head",
               "site 16 of block -1 does not exist");
    edit_qhead(c, 0, S_K, Q_SITE, S_Q, "site twice (K renamed Q)",
               "section 'QUAN': site 1 of block 0 appears twice");
    edit_qhead(c, 1, S_Q, Q_BLOCK, 0, "site twice (block 1 renamed 0)",
               "site 1 of block 0 appears twice");
    quan_structural(c, drop_v1, "a record missing",
                    "section 'QUAN': no quantizer for site 4 of block 1");
    b = copy_of(c, 0);
    put32(sec(b, "QUAN", NULL), get32(sec(b, "QUAN", NULL)) - 1);
    refix(b, c->n);
    refused(c, b, c->n, "QUAN count - 1", "no quantizer for site 13 of block 1");
    b = copy_of(c, 0);
    put32(sec(b, "QUAN", NULL), get32(sec(b, "QUAN", NULL)) + 1);
    refix(b, c->n);
    refused(c, b, c->n, "QUAN count + 1", "section 'QUAN': record 28 is truncated");
    b = copy_of(c, 0);
    put32(sec(b, "QUAN", NULL), 0);
    refix(b, c->n);
    refused(c, b, c->n, "QUAN count 0", "no quantizer for site 8 of block -1");
    b = copy_of(c, 0);
    put32(sec(b, "QUAN", NULL), UINT32_MAX);
    refix(b, c->n);
    refused(c, b, c->n, "QUAN count 2^32 - 1",
            "section 'QUAN': 4294967295 quantizers do not fit in");
    edit_qvalue(c, 0, S_QKV_IN, V_SCALE, 3, fbits(NAN), "NaN scale",
                "quantizer of site 0, block 0: a scale is not a positive number with its inverse");
    edit_qvalue(c, 0, S_QKV_IN, V_SCALE, 0, 0, "zero scale", "a scale is not a positive number");
    edit_qvalue(c, 0, S_QKV_W, V_SCALE, 5, fbits(-1.0f), "negative scale",
                "quantizer of site 10, block 0: a scale is not a positive number");
    edit_qvalue(c, 0, S_Q, V_SCALE, 0, fbits(INFINITY), "infinite scale",
                "a scale is not a positive number");
    {
        const uint32_t inv = get32(qvalue(quan_record(c->f, 1, S_V), V_INV, 0));
        edit_qvalue(c, 1, S_V, V_INV, 0, inv + 1, "inverse scale one ulp off",
                    "quantizer of site 4, block 1: a scale is not a positive number with its "
                    "inverse");
    }
    /* a subnormal scale has an infinite inverse */
    b   = copy_of(c, 0);
    rec = quan_record(b, 0, S_FC1_IN);
    put32(qvalue(rec, V_SCALE, 0), 1u);
    put32(qvalue(rec, V_INV, 0), fbits(INFINITY));
    refix(b, c->n);
    refused(c, b, c->n, "subnormal scale, infinite inverse", "quantizer of site 6, block 0");
    edit_qvalue(c, 0, S_QKV_IN, V_ZERO, 0, (1u << 21) + 1, "zero point 2^21 + 1",
                "a zero point is out of range");
    edit_qvalue(c, 0, S_QKV_IN, V_ZERO, 0, (uint32_t)INT32_MIN, "zero point -2^31",
                "a zero point is out of range");
    edit_qvalue(c, 0, S_QKV_IN, V_QMAX, 1, 254, "activation qmax 254",
                "an activation quantizer's integer range does not match its bits");
    edit_qvalue(c, 0, S_QKV_IN, V_QMIN, 1, (uint32_t)-1, "activation qmin -1",
                "an activation quantizer's integer range does not match its bits");
    edit_qvalue(c, 0, S_QKV_W, V_HI, 7, fbits(NAN), "compact weight range NaN",
                "quantizer of site 10, block 0: a range is not finite or is reversed");
    edit_qvalue(c, 0, S_QKV_W, V_HI, 7, fbits(-1.0f), "compact weight range negative",
                "quantizer of site 10, block 0: a range is not finite or is reversed");
    {
        const float hi = getf(qvalue(quan_record(c->f, 0, S_QKV_IN), V_HI, 2));
        edit_qvalue(c, 0, S_QKV_IN, V_LO, 2, fbits(hi + 1.0f), "range reversed (lo > hi)",
                    "a range is not finite or is reversed");
    }
    edit_qvalue(c, 0, S_QKV_IN, V_LO, 2, fbits(NAN), "range lo NaN",
                "a range is not finite or is reversed");
    edit_qvalue(c, 0, S_PROJ_W, V_HI, 2, fbits(INFINITY), "range hi inf",
                "quantizer of site 11, block 0: a range is not finite or is reversed");
    assert_int_equal(get32(quan_record(c->f, 0, S_QKV_IN) + Q_COVER), 1);
    edit_qvalue(c, 0, S_QKV_IN, V_CHI, 4, fbits(NAN), "cover bound NaN", "a cover bound is NaN");
    quan_structural(c, channel_fc2, "per-channel activation site in an integer model",
                    "section 'QUAN': the integer executor cannot run the per-channel quantizer "
                    "of site 7, block 0");
    edit_qhead(c, 0, S_Q, Q_GRAN, 1, "grouped queries in an integer model",
               "the integer executor needs per-tensor queries, keys and values (block 0)");
}

static void qcfg_cases(dctx *c)
{
    unsigned char *b, *q;
    uint64_t       size;
    bfile          bf;
    bsec          *s;
    size_t         n;
    igq_model     *m;
    igq_config    *cfg = NULL;
    int64_t        v;
    b = copy_of(c, 0);
    put32(sec(b, "QCFG", NULL), IGQ_EXECUTOR_SIM);
    refix(b, c->n);
    refused(c, b, c->n, "QCFG executor 1, option 0",
            "section 'QCFG': IGQ_OPT_EXECUTOR = 0 but the executor is 1");
    b = copy_of(c, 0);
    put32(sec(b, "QCFG", NULL), 2);
    refix(b, c->n);
    refused(c, b, c->n, "QCFG executor 2", "section 'QCFG': unknown executor 2");
    b = copy_of(c, 0);
    put32(sec(b, "QCFG", NULL), UINT32_MAX);
    refix(b, c->n);
    refused(c, b, c->n, "QCFG executor 2^32 - 1", "unknown executor -1");
    b = copy_of(c, 0);
    q = sec(b, "QCFG", NULL);
    put32(q, IGQ_EXECUTOR_SIM);
    put64(q + 8 + 8 * IGQ_OPT_EXECUTOR, IGQ_EXECUTOR_SIM);
    refix(b, c->n);
    refused(c, b, c->n, "simulated QCFG over integer tensors",
            "section 'TDIR': tensor 'patch.weight' of block -1 has dtype 3 (expected 1)");
    b = copy_of(c, 0);
    put64(sec(b, "QCFG", NULL) + 8 + 8 * IGQ_OPT_WEIGHT_BITS, 9);
    refix(b, c->n);
    refused(c, b, c->n, "QCFG weight bits 9", "section 'QCFG': ");
    assert_non_null(strstr(igq_last_error(), "= 9 is out of range"));
    b = copy_of(c, 0);
    put64(sec(b, "QCFG", NULL) + 8 + 8 * IGQ_OPT_GROUPS, (uint64_t)INT64_MIN);
    refix(b, c->n);
    refused(c, b, c->n, "QCFG groups -2^63", "= -9223372036854775808 is out of range");
    b = copy_of(c, 0);
    put32(sec(b, "QCFG", NULL) + 4, 5);
    refix(b, c->n);
    refused(c, b, c->n, "QCFG 5 options", "section 'QCFG': 5 options (at least 11 expected)");
    b = copy_of(c, 0);
    put32(sec(b, "QCFG", NULL) + 4, UINT32_MAX);
    refix(b, c->n);
    refused(c, b, c->n, "QCFG 2^32 - 1 options", "section 'QCFG': 4294967295 options in");
    /* accepted: options of a newer minor version appended; an older writer's 11 options */
    bf_parse(&bf, c->f);
    s = bf_get(&bf, "QCFG");
    {
        unsigned char *p = (unsigned char *)calloc(1, s->n + 16);
        assert_non_null(p);
        memcpy(p, s->p, s->n);
        put32(p + 4, get32(p + 4) + 2);
        put64(p + s->n, 12345);
        put64(p + s->n + 8, (uint64_t)-1);
        bf_set(s, p, s->n + 16);
        free(p);
    }
    b = bf_build(&bf, &n);
    bf_free(&bf);
    m = load_bytes(b, n);
    assert_int_equal(igq_model_config(m, &cfg), IGQ_OK);
    assert_int_equal(igq_config_get(cfg, IGQ_OPT_GROUPS, &v), IGQ_OK);
    assert_int_equal(v, 8);
    igq_config_free(cfg);
    igq_model_free(m);
    accepted(c, b, n, "QCFG with 2 unknown options appended", 1);
    bf_parse(&bf, c->f);
    s = bf_get(&bf, "QCFG");
    put32(s->p + 4, IGQ_OPT_EXECUTOR + 1);
    s->n = 8 + 8 * (IGQ_OPT_EXECUTOR + 1);
    b    = bf_build(&bf, &n);
    bf_free(&bf);
    accepted(c, b, n, "QCFG with the first 11 options only", 1);
    /* PREP */
    b = copy_of(c, 0);
    put32(sec(b, "PREP", &size), 1);
    refix(b, c->n);
    refused(c, b, c->n, "PREP 1 channel", "section 'PREP': 1 channels, the graph has 3");
    b = copy_of(c, 0);
    put32(sec(b, "PREP", &size), UINT32_MAX);
    refix(b, c->n);
    refused(c, b, c->n, "PREP 2^32 - 1 channels", "section 'PREP': 4294967295 channels");
}

/* The fp32 file: the graph and tensors without quantizers. */
static void fp32_cases(dctx *c)
{
    unsigned char *b;
    bfile          bf;
    size_t         n;
    edit_grph(c, 44, 3, "fp32: depth 3 (one block more than stored)",
              "section 'TDIR': missing tensor 'norm1.weight' of block 2");
    edit_grph(c, 44, 1, "fp32: depth 1 (one block less than stored)",
              "section 'TDIR': tensor 'norm1.weight' has block 1 (depth 1)");
    edit_tdir(c, K_QKV_B, 0, 0, K_ROWSUM + K_QKV_W, "fp32: a rowsum",
              "tensor 'qkv.weight rowsum': weight sums belong to integer-executor models only");
    edit_tdir(c, K_QKV_W, 0, 2, 3, "fp32: weight as qs8",
              "tensor 'qkv.weight' of block 0 has dtype 3 (expected 1)");
    edit_tdir(c, K_FC1_W, 1, 16, get64(tdir_entry(c->f, K_FC1_W, 1) + 16) - 4,
              "fp32: weight 4 bytes short", "tensor 'fc1.weight' of block 1 has 18428 bytes; the "
                                            "graph needs 18432");
    bf_parse(&bf, c->f);
    bf_insert(&bf, 1, "QCFG", 1, "\0\0\0\0\0\0\0\0", 8);
    b = bf_build(&bf, &n);
    bf_free(&bf);
    refused(c, b, n, "fp32: QCFG without QUAN", "missing section 'QUAN'");
    bf_parse(&bf, c->f);
    bf_insert(&bf, 1, "QUAN", 1, "\0\0\0\0\0\0\0\0", 8);
    b = bf_build(&bf, &n);
    bf_free(&bf);
    refused(c, b, n, "fp32: QUAN without QCFG", "missing section 'QCFG'");
}

static void test_damaged_files(void **state)
{
    static const char *const cut_int[] = {"section 'GRPH': 95 bytes (expected 96)",
                                          "section 'PREP': 31 bytes for 3 channels",
                                          "section 'QCFG': 15 options in 127 bytes",
                                          "record truncated",
                                          NULL,
                                          "entries do not fit in",
                                          "lies outside section 'DATA'"};
    static const char *const fp_tags[] = {"GRPH", "PREP", "PROV", "TDIR", "DATA"};
    static const char *const cut_fp[]  = {"section 'GRPH': 95 bytes (expected 96)",
                                          "section 'PREP': 31 bytes for 3 channels", NULL,
                                          "entries do not fit in", "lies outside section 'DATA'"};
    static const qopts w8a8 = {IGQ_EXECUTOR_INT, 8, 8, 8, 0};
    char       *dir = tu_make_tmpdir();
    igq_model  *m   = tu_load_fixture_model("timm_vit"), *q;
    igq_tensor *calib, *test;
    dctx        ci, cf;
    int         k;
    (void)state;
    assert_non_null(m);
    calib = random_images(m, 4, 3);
    test  = random_images(m, 2, 4);
    q     = quantize(m, calib, w8a8);
    dctx_init(&ci, dir, q, test, "int.igq");
    dctx_init(&cf, dir, m, test, "fp32.igq");
    assert_int_equal(nsec(ci.f), 7);
    for (k = 0; k < 7; k++) assert_int_equal(get32(entry(ci.f, (uint32_t)k)), tag_of(INT_TAGS[k]));
    printf(" integer W8A8 file (%zu bytes):\n", ci.n);
    header_cases(&ci);
    table_cases(&ci);
    for (k = 0; k < 7; k++) section_cases(&ci, INT_TAGS[k], cut_int[k]);
    graph_cases(&ci);
    tdir_cases(&ci);
    quan_cases(&ci);
    qcfg_cases(&ci);
    data_cases(&ci);
    nonfinite_data_case(&ci);
    printf(" fp32 file (%zu bytes):\n", cf.n);
    for (k = 0; k < 5; k++) section_cases(&cf, fp_tags[k], cut_fp[k]);
    fp32_cases(&cf);
    printf("  %d damaged files refused (%d integer, %d fp32), %d variants accepted\n",
           ci.refused + cf.refused, ci.refused, cf.refused, ci.accepted + cf.accepted);
    dctx_free(&ci);
    dctx_free(&cf);
    igq_model_free(q);
    igq_model_free(m);
    igq_tensor_free(calib);
    igq_tensor_free(test);
    tu_rmdir_r(dir);
    free(dir);
}

/* ---- 3. mutation loop -------------------------------------------------------------------- */

typedef struct mstats {
    int loaded, refused, by_checksum;
    int by_tag[8]; /* refusals naming GRPH, TDIR, DATA, PREP, QCFG, QUAN, other sections, none */
} mstats;

static const char *const MTAGS[7] = {"GRPH", "TDIR", "DATA", "PREP", "QCFG", "QUAN", "?"};

/* Loads b; must be IGQ_OK (then one image runs and the model is freed) or IGQ_ERR_FORMAT with
 * no handle and a message naming the buffer. */
static void mutant(const unsigned char *b, size_t n, const igq_tensor *img, mstats *st,
                   int iter)
{
    igq_model *m = (igq_model *)st;
    igq_status s = igq_model_load_buffer(b, n, &m);
    if (s == IGQ_OK) {
        int64_t     ls[2] = {1, 0};
        igq_tensor *lt    = NULL;
        assert_non_null(m);
        ls[1] = info(m, IGQ_PROP_NUM_CLASSES);
        if (info(m, IGQ_PROP_IN_CHANNELS) == igq_tensor_dim(img, 1) &&
            info(m, IGQ_PROP_IMAGE_HEIGHT) == igq_tensor_dim(img, 2) &&
            info(m, IGQ_PROP_IMAGE_WIDTH) == igq_tensor_dim(img, 3)) {
            assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, ls, &lt), IGQ_OK);
            s = igq_run(m, img, lt);
            if (s != IGQ_OK) fail_msg("mutation %d: loaded but igq_run: %s", iter,
                                      igq_last_error());
            igq_tensor_free(lt);
        }
        igq_model_free(m);
        st->loaded++;
        return;
    }
    if (s != IGQ_ERR_FORMAT || m != NULL ||
        (strstr(igq_last_error(), "<buffer>") == NULL &&
         strstr(igq_last_error(), "igq_model_load_buffer: not an .igq file") == NULL))
        fail_msg("mutation %d: status %d, handle %p, message '%s'", iter, (int)s, (void *)m,
                 igq_last_error());
    st->refused++;
    st->by_checksum += strstr(igq_last_error(), "checksum mismatch") != NULL;
    {
        const char *t = strstr(igq_last_error(), "section '");
        int         k = 7;
        if (t != NULL)
            for (k = 0; k < 6 && strncmp(t + 9, MTAGS[k], 4) != 0; k++) continue;
        st->by_tag[k]++;
    }
}

/* A position in one of the regions the structural checks read, or anywhere. */
static size_t pick_pos(unsigned char *f, size_t n, tu_rng *r)
{
    static const char *const tags[] = {"GRPH", "TDIR", "QUAN", "QCFG", "PREP"};
    const uint64_t           u      = tu_rng_next(r) % 100;
    if (u < 12) return (size_t)(tu_rng_next(r) % HDR);
    if (u < 30) return HDR + (size_t)(tu_rng_next(r) % ((size_t)nsec(f) * ENT));
    if (u < 80) {
        const char *t = tags[tu_rng_next(r) % 5];
        uint64_t    size;
        unsigned char *p;
        if (sec_index(f, t) < 0) t = "TDIR";
        p = sec(f, t, &size);
        return (size_t)(p - f) + (size_t)(tu_rng_next(r) % size);
    }
    return (size_t)(tu_rng_next(r) % n);
}

/* 1..8 edits: random bytes, bit flips, or 32/64-bit fields set to values near the edges. */
static void mutate(unsigned char *b, const unsigned char *f, size_t n, tu_rng *r, size_t *lo,
                   size_t *hi)
{
    static const uint64_t edge[] = {0, 1, 2, 63, 64, 65, 0x7F, 0x80, 0xFF, 0x7FFFFFFF, 0x80000000u,
                                    0xFFFFFFFFu, 0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull,
                                    UINT64_MAX, UINT64_MAX - 63};
    const int             edits  = 1 + (int)(tu_rng_next(r) % 8);
    int                   e;
    *lo = n, *hi = 0;
    for (e = 0; e < edits; e++) {
        size_t         at = pick_pos((unsigned char *)(uintptr_t)f, n, r);
        const uint64_t how = tu_rng_next(r) % 6;
        size_t         w  = 1;
        if (how == 0)
            b[at] = (unsigned char)tu_rng_next(r);
        else if (how == 1)
            b[at] ^= (unsigned char)(1u << (tu_rng_next(r) % 8));
        else if (how <= 3 && (at & ~(size_t)3) + 4 <= n) { /* a 32-bit field: edge or +-1 */
            at &= ~(size_t)3;
            w = 4;
            if (how == 2)
                put32(b + at, (uint32_t)edge[tu_rng_next(r) % 16]);
            else
                put32(b + at, get32(b + at) + (tu_rng_next(r) & 1 ? 1u : 0xFFFFFFFFu));
        } else if ((at & ~(size_t)7) + 8 <= n) { /* a 64-bit field */
            at &= ~(size_t)7;
            w = 8;
            put64(b + at, edge[tu_rng_next(r) % 16]);
        } else {
            b[at] = 0;
        }
        if (at < *lo) *lo = at;
        if (at + w > *hi) *hi = at + w;
    }
}

static void mutation_run(const unsigned char *f, size_t n, const igq_tensor *img, int iters,
                         uint64_t seed, const char *what)
{
    unsigned char *b = (unsigned char *)malloc(n);
    tu_rng         r;
    mstats         st;
    int            i;
    const uint64_t table_end = HDR + (uint64_t)nsec(f) * ENT;
    assert_non_null(b);
    memset(&st, 0, sizeof st);
    tu_rng_seed(&r, seed);
    for (i = 0; i < iters; i++) {
        size_t lo, hi;
        memcpy(b, f, n);
        mutate(b, f, n, &r, &lo, &hi);
        /* checksums of what changed (all of them if the table changed: entries may now point
         * elsewhere) */
        if (lo < table_end)
            refix(b, n);
        else
            refix_range(b, n, lo, hi);
        mutant(b, n, img, &st, i);
    }
    printf("  %s: %d mutations with re-fixed checksums: %d loaded and ran, %d refused (%d by a "
           "checksum); refusals naming", what, iters, st.loaded, st.refused, st.by_checksum);
    for (i = 0; i < 7; i++) printf(" %s %d,", MTAGS[i], st.by_tag[i]);
    printf(" the header or table %d\n", st.by_tag[7]);
    assert_true(st.refused > iters / 2);
    free(b);
}

/* Without re-fixed checksums: any edit inside the header, the table or a section is refused by
 * a checksum; edits to the padding between sections are ignored (same logits). */
static void checksum_run(const unsigned char *f, size_t n, const igq_tensor *img, int iters,
                         uint64_t seed, const float *ref, int64_t nl)
{
    unsigned char *b = (unsigned char *)malloc(n);
    tu_rng         r;
    int            i, refused = 0, padding = 0;
    assert_non_null(b);
    tu_rng_seed(&r, seed);
    for (i = 0; i < iters; i++) {
        const int  edits = 1 + (int)(tu_rng_next(&r) % 8);
        int        e, changed = 0, in_pad = 1;
        igq_model *m = NULL;
        igq_status s;
        memcpy(b, f, n);
        for (e = 0; e < edits; e++) {
            const size_t  at = (size_t)(tu_rng_next(&r) % n);
            unsigned char v  = (unsigned char)tu_rng_next(&r);
            uint32_t      k;
            int           pad = at >= HDR + (size_t)nsec(f) * ENT;
            for (k = 0; k < nsec(f); k++) {
                const unsigned char *en = f + HDR + (size_t)ENT * k;
                if (at >= get64(en + 8) && at < get64(en + 8) + get64(en + 16)) pad = 0;
            }
            if (at < 40) pad = 0;
            if (v == b[at]) v ^= 1;
            b[at] = v;
            changed = 1;
            if (!pad) in_pad = 0;
        }
        assert_true(changed);
        s = igq_model_load_buffer(b, n, &m);
        if (in_pad) {
            /* reserved header bytes 40..59 are under the header checksum: not padding */
            float *got;
            if (s != IGQ_OK) fail_msg("edit %d of padding refused: %s", i, igq_last_error());
            got = run(m, img);
            same_logits(ref, got, nl, "padding edit", "logits");
            free(got);
            igq_model_free(m);
            padding++;
            continue;
        }
        /* the magic and the major version are read before the header checksum */
        if (s != IGQ_ERR_FORMAT || m != NULL ||
            (strstr(igq_last_error(), "checksum mismatch") == NULL &&
             strstr(igq_last_error(), "bad magic") == NULL &&
             strstr(igq_last_error(), "format version") == NULL))
            fail_msg("edit %d (%d bytes): status %d, '%s'", i, edits, (int)s, igq_last_error());
        refused++;
    }
    printf("  %d random edits without checksum re-fix: %d refused by a checksum, %d only in "
           "padding (ignored, same logits)\n", iters, refused, padding);
    free(b);
}

static void test_mutations(void **state)
{
    static const qopts w8a8 = {IGQ_EXECUTOR_INT, 8, 8, 8, 0};
    static const qopts w4a4 = {IGQ_EXECUTOR_SIM, 4, 4, 4, 0};
    char          *dir = tu_make_tmpdir();
    igq_model     *m   = tu_load_fixture_model("timm_rect"), *qi, *qs;
    igq_tensor    *calib, *img;
    unsigned char *fi, *ff, *fs;
    size_t         ni, nf, ns;
    float         *ref;
    (void)state;
    assert_non_null(m);
    calib = random_images(m, 4, 11);
    img   = random_images(m, 1, 12);
    qi    = quantize(m, calib, w8a8);
    qs    = quantize(m, calib, w4a4);
    fi    = save_bytes(qi, dir, "int.igq", &ni);
    ff    = save_bytes(m, dir, "fp32.igq", &nf);
    fs    = save_bytes(qs, dir, "sim.igq", &ns);
    mutation_run(fi, ni, img, 3000, 1, "timm_rect int W8A8");
    mutation_run(fs, ns, img, 1000, 2, "timm_rect sim W4A4");
    mutation_run(ff, nf, img, 1000, 3, "timm_rect fp32");
    ref = run(qi, img);
    checksum_run(fi, ni, img, 1000, 4, ref, info(m, IGQ_PROP_NUM_CLASSES));
    free(ref);
    free(fi), free(ff), free(fs);
    igq_model_free(qi);
    igq_model_free(qs);
    igq_model_free(m);
    igq_tensor_free(calib);
    igq_tensor_free(img);
    tu_rmdir_r(dir);
    free(dir);
}

/* ---- 4. allocation failures -------------------------------------------------------------- */

/* Fails the 1st, 2nd, ... allocation of a load until it succeeds: IGQ_ERR_NO_MEMORY and no
 * handle each time (LeakSanitizer checks nothing leaks). Returns the allocations it needed. */
static long load_failures(const char *path, const unsigned char *b, size_t n)
{
    long n_fail;
    for (n_fail = 0;; n_fail++) {
        igq_model *m = (igq_model *)&n_fail;
        igq_status s;
        igq__alloc_fail_after(n_fail);
        s = path != NULL ? igq_model_load(path, &m) : igq_model_load_buffer(b, n, &m);
        igq__alloc_fail_after(-1);
        if (s == IGQ_OK) {
            assert_non_null(m);
            igq_model_free(m);
            return n_fail;
        }
        if (s != IGQ_ERR_NO_MEMORY || m != NULL)
            fail_msg("allocation %ld failing: status %d, handle %p, '%s'", n_fail, (int)s,
                     (void *)m, igq_last_error());
        assert_true(igq_last_error()[0] != '\0');
    }
}

/* Same for igq_model_save over an existing file: it must stay as it was, and no temporary
 * file may be left beside it. */
static long save_failures(const igq_model *m, const char *dir, const unsigned char *want,
                          size_t nwant)
{
    static const char old[] = "the previous contents";
    char             *dest  = path_in(dir, "dest.igq");
    const int         files = dir_entries(dir) + 1;
    long              n_fail;
    unsigned char    *got;
    size_t            n;
    free(tu_write_file(dir, "dest.igq", old, sizeof old));
    for (n_fail = 0;; n_fail++) {
        igq_status s;
        igq__alloc_fail_after(n_fail);
        s = igq_model_save(m, dest);
        igq__alloc_fail_after(-1);
        if (s == IGQ_OK) break;
        if (s != IGQ_ERR_NO_MEMORY)
            fail_msg("save, allocation %ld failing: status %d, '%s'", n_fail, (int)s,
                     igq_last_error());
        got = read_all(dest, &n);
        assert_int_equal(n, sizeof old);
        assert_memory_equal(got, old, n);
        free(got);
        assert_int_equal(dir_entries(dir), files);
    }
    got = read_all(dest, &n);
    assert_int_equal(n, nwant);
    assert_memory_equal(got, want, n);
    assert_int_equal(dir_entries(dir), files);
    free(got);
    unlink(dest);
    free(dest);
    return n_fail;
}

static void test_alloc_failures(void **state)
{
    static const qopts w8a8 = {IGQ_EXECUTOR_INT, 8, 8, 8, 0};
    static const qopts sim  = {IGQ_EXECUTOR_SIM, 4, 4, 8, 0};
    char          *dir = tu_make_tmpdir();
    igq_model     *m   = tu_load_fixture_model("timm_deit_distilled"), *qi, *qs;
    igq_tensor    *calib;
    unsigned char *fi, *ff, *fs;
    size_t         ni, nf, ns;
    char          *pi = path_in(dir, "int.igq"), *pf = path_in(dir, "fp32.igq");
    char          *ps = path_in(dir, "sim.igq");
    long           a[7];
    (void)state;
    assert_non_null(m);
    calib = random_images(m, 4, 21);
    qi    = quantize(m, calib, w8a8);
    qs    = quantize(m, calib, sim);
    fi    = save_bytes(qi, dir, "int.igq", &ni);
    ff    = save_bytes(m, dir, "fp32.igq", &nf);
    fs    = save_bytes(qs, dir, "sim.igq", &ns);
    a[0]  = load_failures(pf, NULL, 0);
    a[1]  = load_failures(pi, NULL, 0);
    a[2]  = load_failures(ps, NULL, 0);
    a[3]  = load_failures(NULL, fi, ni);
    a[4]  = save_failures(qi, dir, fi, ni);
    a[5]  = save_failures(m, dir, ff, nf);
    a[6]  = save_failures(qs, dir, fs, ns);
    printf("  every allocation failing in turn: load fp32 %ld, load int %ld, load sim %ld, "
           "load_buffer int %ld, save int %ld, save fp32 %ld, save sim %ld allocations\n",
           a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    assert_true(a[0] >= 2 && a[1] > a[0] && a[3] > a[1] && a[4] >= 2);
    free(fi), free(ff), free(fs), free(pi), free(pf), free(ps);
    igq_model_free(qi);
    igq_model_free(qs);
    igq_model_free(m);
    igq_tensor_free(calib);
    tu_rmdir_r(dir);
    free(dir);
}

/* ---- 5. arguments, paths, files ----------------------------------------------------------- */

static void test_api_misuse(void **state)
{
    char          *dir = tu_make_tmpdir();
    igq_model     *m   = tu_load_fixture_model("hf_vit_bf16"), *l;
    igq_config    *cfg = (igq_config *)dir;
    unsigned char *b;
    size_t         n;
    char          *p, *st_path = tu_fixture_path("hf_vit_bf16/model.safetensors");
    float         *ref, *got;
    igq_tensor    *img;
    (void)state;
    assert_non_null(m);
    img = random_images(m, 2, 5);
    /* NULL arguments */
    l = (igq_model *)dir;
    assert_int_equal(igq_model_load_buffer(NULL, 64, &l), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(l);
    assert_int_equal(igq_model_load_buffer("x", 1, NULL), IGQ_ERR_INVALID_ARGUMENT);
    l = (igq_model *)dir;
    assert_int_equal(igq_model_load_buffer(NULL, 0, &l), IGQ_ERR_FORMAT);
    assert_null(l);
    assert_non_null(strstr(igq_last_error(), "not an .igq file"));
    assert_int_equal(igq_model_save(NULL, "x.igq"), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_model_save(m, NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_model_config(NULL, &cfg), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(cfg);
    assert_int_equal(igq_model_config(m, NULL), IGQ_ERR_INVALID_ARGUMENT);
    cfg = (igq_config *)dir;
    assert_int_equal(igq_model_config(m, &cfg), IGQ_ERR_NOT_FOUND);
    assert_null(cfg);
    assert_non_null(strstr(igq_last_error(), "fp32"));
    /* a safetensors file is not an .igq buffer */
    b = read_all(st_path, &n);
    l = (igq_model *)dir;
    assert_int_equal(igq_model_load_buffer(b, n, &l), IGQ_ERR_FORMAT);
    assert_null(l);
    assert_non_null(strstr(igq_last_error(), "not an .igq file"));
    free(b);
    /* destinations that cannot be written */
    p = path_in(dir, "missing/model.igq");
    assert_int_equal(igq_model_save(m, p), IGQ_ERR_IO);
    assert_non_null(strstr(igq_last_error(), p));
    printf("  missing directory: %s\n", igq_last_error());
    free(p);
    p = path_in(dir, "sub");
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_equal(igq_model_save(m, p), IGQ_ERR_IO);
    assert_non_null(strstr(igq_last_error(), p));
    printf("  a directory: %s\n", igq_last_error());
    assert_int_equal(dir_entries(dir), 1); /* the temporary file is gone */
    l = (igq_model *)dir;
    assert_int_equal(igq_model_load(p, &l), IGQ_ERR_IO);
    assert_null(l);
    {   /* a read-only directory, as a user that permissions apply to (root: in a child that
           drops to nobody) */
        char *ro = path_in(p, "model.igq");
        int   st = 0, rc;
        pid_t pid;
        assert_int_equal(chmod(dir, 0755), 0);
        assert_int_equal(chmod(p, 0555), 0);
        fflush(stdout);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            igq_status s;
            if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(77);
            s = igq_model_save(m, ro);
            if (s != IGQ_ERR_IO) _exit(1);
            if (strstr(igq_last_error(), ro) == NULL) _exit(2);
            printf("  a read-only directory (uid %d): %s\n", (int)geteuid(), igq_last_error());
            fflush(stdout);
            _exit(access(ro, F_OK) == 0 ? 3 : 0);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        rc = WEXITSTATUS(st);
        if (rc == 77) printf("  a read-only directory: cannot drop root (skipped)\n");
        else if (rc != 0) fail_msg("save into a read-only directory: child status %d", rc);
        assert_int_equal(chmod(p, 0755), 0);
        free(ro);
    }
    free(p);
    /* saved over the file the model is mapped from: the mapping keeps the old file */
    p = path_in(dir, "self.igq");
    assert_int_equal(igq_model_save(m, p), IGQ_OK);
    l   = load_file(p);
    ref = run(m, img);
    assert_int_equal(igq_model_save(l, p), IGQ_OK);
    got = run(l, img);
    same_logits(ref, got, igq_tensor_dim(img, 0) * info(m, IGQ_PROP_NUM_CLASSES),
                "saved over its own file", "logits");
    free(got);
    igq_model_free(l);
    l   = load_file(p);
    got = run(l, img);
    same_logits(ref, got, igq_tensor_dim(img, 0) * info(m, IGQ_PROP_NUM_CLASSES),
                "saved over its own file", "reloaded");
    free(got), free(ref);
    igq_model_free(l);
    free(p);
    igq_tensor_free(img);
    igq_model_free(m);
    free(st_path);
    tu_rmdir_r(dir);
    free(dir);
}

/* ---- 6. seeds of the fuzz harness -------------------------------------------------------- */

/* The other files of the corpus directory: inputs that made fuzz_igq fail, replayed as the
 * harness does (checksums re-fixed unless header byte 40 is odd): each loads and runs, or is
 * refused with IGQ_ERR_FORMAT. names: the generated seeds (skipped). */
static void fuzz_regressions(const char *const *names, int nnames)
{
    char          *cdir = tu_fixture_path("../fuzz/corpus/fuzz_igq");
    DIR           *d    = opendir(cdir);
    struct dirent *e;
    int            k, count = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        unsigned char *b;
        size_t         n;
        char          *fp;
        igq_model     *m = NULL;
        igq_status     s;
        int            seed = 0;
        if (e->d_name[0] == '.') continue;
        for (k = 0; k < nnames; k++) seed |= strcmp(e->d_name, names[k]) == 0;
        if (seed) continue;
        fp = path_in(cdir, e->d_name);
        b  = read_all(fp, &n);
        if (n < 41 || (b[40] & 1) == 0) refix(b, n);
        s = igq_model_load_buffer(b, n, &m);
        if (s == IGQ_OK) {
            igq_tensor *img = NULL;
            int64_t     shape[4] = {1, info(m, IGQ_PROP_IN_CHANNELS),
                                    info(m, IGQ_PROP_IMAGE_HEIGHT), info(m, IGQ_PROP_IMAGE_WIDTH)};
            float      *got;
            assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &img), IGQ_OK);
            got = run(m, img);
            free(got);
            igq_tensor_free(img);
            igq_model_free(m);
        } else if (s != IGQ_ERR_FORMAT || m != NULL) {
            fail_msg("%s: status %d, '%s'", fp, (int)s, igq_last_error());
        }
        printf("  %s: %s\n", fp, s == IGQ_OK ? "loads and runs" : igq_last_error());
        free(b);
        free(fp);
        count++;
    }
    closedir(d);
    free(cdir);
    printf("  %d fuzz regression input(s) replayed\n", count);
}

/* Tiny models (a few KB) for test/fuzz/corpus/fuzz_igq/: fp32, integer W4A4 (qs4 blocks, qs8
 * edges), integer W8A8 G=2 with a distillation head, simulated W6A6 G=4. Run with
 * IGQ_FUZZ_CORPUS=<dir> to write them there (without PROV: the bytes then do not depend on the
 * paths or the library version); otherwise the committed seeds must load and run. */
static void test_fuzz_seeds(void **state)
{
    static const struct {
        const char *name;
        int         quantized, distilled;
        qopts       o;
    } seeds[] = {
        {"tiny_fp32.igq", 0, 0, {0, 0, 0, 0, 0}},
        {"tiny_int_w4a4.igq", 1, 0, {IGQ_EXECUTOR_INT, 4, 4, 8, 0}},
        {"tiny_int_w8a8_g2_distilled.igq", 1, 1, {IGQ_EXECUTOR_INT, 8, 8, 2, 0}},
        {"tiny_sim_w6a6_g4.igq", 1, 0, {IGQ_EXECUTOR_SIM, 6, 6, 4, 0}},
    };
    const char *out = getenv("IGQ_FUZZ_CORPUS");
    char       *dir = tu_make_tmpdir();
    int         k;
    (void)state;
    for (k = 0; k < (int)(sizeof seeds / sizeof seeds[0]); k++) {
        stw            w;
        char          *path;
        igq_model     *m, *q;
        igq_tensor    *calib, *img;
        unsigned char *b;
        size_t         n;
        bfile          bf;
        stw_init(&w);
        stw_timm_vit(&w, 1, 16, 2, 32, 3, 1, 8, 4, seeds[k].distilled, 200 + (uint64_t)k);
        path = stw_write(&w, dir, "tiny.safetensors");
        stw_free(&w);
        m = load_file(path);
        free(path);
        calib = random_images(m, 4, 210 + (uint64_t)k);
        img   = random_images(m, 1, 220 + (uint64_t)k);
        q     = seeds[k].quantized ? quantize(m, calib, seeds[k].o) : m;
        b     = save_bytes(q, dir, "seed.igq", &n);
        bf_parse(&bf, b);
        bf_remove(&bf, "PROV");
        free(b);
        b = bf_build(&bf, &n);
        bf_free(&bf);
        assert_int_equal(b[40] & 1, 0); /* the harness re-fixes checksums of even inputs */
        if (out != NULL && out[0] != '\0') {
            free(tu_write_file(out, seeds[k].name, b, n));
            printf("  wrote %s/%s (%zu bytes)\n", out, seeds[k].name, n);
        } else {
            char           rel[96];
            char          *sp;
            unsigned char *c;
            size_t         cn;
            igq_model     *l;
            float         *got;
            snprintf(rel, sizeof rel, "../fuzz/corpus/fuzz_igq/%s", seeds[k].name);
            sp = tu_fixture_path(rel);
            c  = tu_read_file(sp, &cn);
            if (c == NULL) fail_msg("%s is missing (IGQ_FUZZ_CORPUS=dir writes it)", sp);
            l   = load_bytes(c, cn);
            got = run(l, img);
            printf("  %s (%zu bytes): loads and runs%s\n", sp, cn,
                   cn == n && memcmp(c, b, n) == 0 ? ", same bytes as generated now" : "");
            free(got);
            igq_model_free(l);
            free(c);
            free(sp);
        }
        free(b);
        if (q != m) igq_model_free(q);
        igq_model_free(m);
        igq_tensor_free(calib);
        igq_tensor_free(img);
    }
    if (out == NULL || out[0] == '\0') {
        const char *names[4];
        for (k = 0; k < 4; k++) names[k] = seeds[k].name;
        fuzz_regressions(names, 4);
    }
    tu_rmdir_r(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_fixtures),
        cmocka_unit_test(test_roundtrip_fmnist),
        cmocka_unit_test(test_roundtrip_layouts),
        cmocka_unit_test(test_cross_isa),
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_api_misuse),
        cmocka_unit_test(test_fuzz_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
