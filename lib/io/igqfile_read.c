/* The .igq reader (doc/igq-format.md). Every count, offset and size is checked against the
 * bytes of the view before it is used; nothing is allocated from a size the file states
 * before that size has been checked against the bytes it would need. The large arrays stay in
 * the view (a read-only mapping, or the copy of igq_model_load_buffer) and the model points
 * into it; only the quantizers and the executor's derived tables are built in memory. On any
 * error everything is released: a model is never half-loaded. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/dispatch.h"
#include "../kernels/qs8_layout.h"
#include "../model/qexec.h"
#include "../ptq/options.h"
#include "../ptq/ptq.h"
#include "igqfile.h"

static const char *const g_kind_names[IGQF_N_KINDS] = {
    [IGQF_PATCH_W] = "patch.weight", [IGQF_PATCH_B] = "patch.bias", [IGQF_PREFIX] = "prefix",
    [IGQF_POS] = "pos", [IGQF_NORM_W] = "norm.weight", [IGQF_NORM_B] = "norm.bias",
    [IGQF_FC_NORM_W] = "fc_norm.weight", [IGQF_FC_NORM_B] = "fc_norm.bias",
    [IGQF_HEAD_W] = "head.weight", [IGQF_HEAD_B] = "head.bias",
    [IGQF_HEAD_DIST_W] = "head_dist.weight", [IGQF_HEAD_DIST_B] = "head_dist.bias",
    [IGQF_LN1_W] = "norm1.weight", [IGQF_LN1_B] = "norm1.bias", [IGQF_QKV_W] = "qkv.weight",
    [IGQF_QKV_B] = "qkv.bias", [IGQF_PROJ_W] = "proj.weight", [IGQF_PROJ_B] = "proj.bias",
    [IGQF_LS1] = "ls1", [IGQF_LN2_W] = "norm2.weight", [IGQF_LN2_B] = "norm2.bias",
    [IGQF_FC1_W] = "fc1.weight", [IGQF_FC1_B] = "fc1.bias", [IGQF_FC2_W] = "fc2.weight",
    [IGQF_FC2_B] = "fc2.bias", [IGQF_LS2] = "ls2",
    [IGQF_ROWSUM + IGQF_PATCH_W] = "patch.weight rowsum",
    [IGQF_ROWSUM + IGQF_HEAD_W] = "head.weight rowsum",
    [IGQF_ROWSUM + IGQF_HEAD_DIST_W] = "head_dist.weight rowsum",
    [IGQF_ROWSUM + IGQF_QKV_W] = "qkv.weight rowsum",
    [IGQF_ROWSUM + IGQF_PROJ_W] = "proj.weight rowsum",
    [IGQF_ROWSUM + IGQF_FC1_W] = "fc1.weight rowsum",
    [IGQF_ROWSUM + IGQF_FC2_W] = "fc2.weight rowsum",
};

const char *igq__igqf_kind_name(int kind)
{
    return kind > 0 && kind < IGQF_N_KINDS ? g_kind_names[kind] : NULL;
}

/* ---- little-endian fields ---------------------------------------------------------------- */

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static int32_t  get_i32(const unsigned char *p) { return (int32_t)get_u32(p); }
static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}
static float get_f32(const unsigned char *p)
{
    const uint32_t u = get_u32(p);
    float          f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- the reader's state ------------------------------------------------------------------ */

typedef struct section {
    uint32_t             tag, flags;
    uint64_t             offset, size;
    const unsigned char *p;
} section;

typedef struct reader {
    const char          *name;
    const unsigned char *base;
    size_t               size;
    section              sec[IGQF_MAX_SECTIONS];
    int                  nsec;
    const section       *grph, *tdir, *data, *prep, *pprc, *qcfg, *quan, *labl;
    struct igq_model    *m;
    int                  quantized, executor;
    /* tensors found, by (kind, block + 1): pointers into DATA */
    const unsigned char **tens;
    uint64_t            *tbytes;
    int32_t             *tdtype;
} reader;

static void tag_str(uint32_t tag, char out[5])
{
    int i;
    for (i = 0; i < 4; i++) {
        const char c = (char)(tag >> (8 * i));
        out[i]       = (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    out[4] = 0;
}

#define FAIL(...) return igq__set_error(IGQ_ERR_FORMAT, __VA_ARGS__)
#define REQ(cond, ...)                                                                       \
    do {                                                                                     \
        if (!(cond)) FAIL(__VA_ARGS__);                                                      \
    } while (0)

/* ---- header and section table ------------------------------------------------------------ */

static igq_status read_table(reader *r)
{
    const igq_kernel_table *kt = igq__kernels();
    const unsigned char    *h  = r->base;
    uint64_t                file_size, table_off, table_end;
    uint32_t                count;
    int                     i, j;
    REQ(r->size >= IGQF_HEADER, "%s: not an .igq file: %zu bytes, shorter than the header",
        r->name, r->size);
    REQ(igq__igqf_is_magic(h, r->size), "%s: not an .igq file (bad magic)", r->name);
    REQ(h[8] == IGQF_MAJOR && h[9] == 0,
        "%s: .igq format version %u.%u is not supported (this library reads %d.x)", r->name,
        (unsigned)(h[8] | h[9] << 8), (unsigned)(h[10] | h[11] << 8), IGQF_MAJOR);
    REQ(get_u32(h + 60) == kt->crc32c(0, h, 60), "%s: header checksum mismatch", r->name);
    REQ(get_u32(h + 12) == IGQF_HEADER, "%s: header size %u (expected %d)", r->name,
        (unsigned)get_u32(h + 12), IGQF_HEADER);
    file_size = get_u64(h + 16);
    REQ(file_size == (uint64_t)r->size,
        "%s: the header says %llu bytes but the file has %zu (%s)", r->name,
        (unsigned long long)file_size, r->size,
        file_size > (uint64_t)r->size ? "truncated" : "extra bytes");
    table_off = get_u64(h + 24);
    count     = get_u32(h + 32);
    REQ(table_off == IGQF_HEADER, "%s: section table at offset %llu (expected %d)", r->name,
        (unsigned long long)table_off, IGQF_HEADER);
    REQ(count >= 1 && count <= IGQF_MAX_SECTIONS, "%s: %u sections (1 .. %d allowed)", r->name,
        (unsigned)count, IGQF_MAX_SECTIONS);
    table_end = table_off + (uint64_t)count * IGQF_ENTRY;
    REQ(table_end <= r->size, "%s: section table (%u entries) runs past the end of the file",
        r->name, (unsigned)count);
    REQ(get_u32(h + 36) == kt->crc32c(0, h + table_off, (size_t)count * IGQF_ENTRY),
        "%s: section table checksum mismatch", r->name);
    table_end = (table_end + IGQF_ALIGN - 1) / IGQF_ALIGN * IGQF_ALIGN;
    r->nsec   = (int)count;
    for (i = 0; i < r->nsec; i++) {
        const unsigned char *e = h + table_off + (size_t)i * IGQF_ENTRY;
        section             *s = &r->sec[i];
        char                 t[5];
        s->tag    = get_u32(e);
        s->flags  = get_u32(e + 4);
        s->offset = get_u64(e + 8);
        s->size   = get_u64(e + 16);
        tag_str(s->tag, t);
        REQ(s->offset % IGQF_ALIGN == 0, "%s: section '%s' at offset %llu is not 64-byte aligned",
            r->name, t, (unsigned long long)s->offset);
        REQ(s->offset >= table_end,
            "%s: section '%s' at offset %llu overlaps the header or the section table", r->name,
            t, (unsigned long long)s->offset);
        REQ(s->offset <= r->size && s->size <= r->size - s->offset,
            "%s: section '%s' (offset %llu, %llu bytes) runs past the end of the file (%zu "
            "bytes)", r->name, t, (unsigned long long)s->offset, (unsigned long long)s->size,
            r->size);
        s->p = h + s->offset;
        for (j = 0; j < i; j++) {
            const section *o = &r->sec[j];
            REQ(o->tag != s->tag, "%s: section '%s' appears twice", r->name, t);
            REQ(s->offset >= o->offset + o->size || o->offset >= s->offset + s->size ||
                    s->size == 0 || o->size == 0,
                "%s: section '%s' overlaps another section", r->name, t);
        }
        REQ(get_u32(e + 24) == kt->crc32c(0, s->p, (size_t)s->size),
            "%s: section '%s': checksum mismatch (the file is damaged)", r->name, t);
        switch (s->tag) {
        case IGQF_GRPH: r->grph = s; break;
        case IGQF_TDIR: r->tdir = s; break;
        case IGQF_DATA: r->data = s; break;
        case IGQF_PREP: r->prep = s; break;
        case IGQF_PPRC: r->pprc = s; break;
        case IGQF_QCFG: r->qcfg = s; break;
        case IGQF_QUAN: r->quan = s; break;
        case IGQF_LABL: r->labl = s; break;
        case IGQF_PROV: break;
        default:
            REQ(!(s->flags & IGQF_REQUIRED),
                "%s: section '%s' is required but unknown to this library (a newer format "
                "minor version?)", r->name, t);
        }
    }
    REQ(r->grph != NULL, "%s: missing section 'GRPH'", r->name);
    REQ(r->tdir != NULL, "%s: missing section 'TDIR'", r->name);
    REQ(r->data != NULL, "%s: missing section 'DATA'", r->name);
    REQ((r->qcfg == NULL) == (r->quan == NULL), "%s: missing section '%s'", r->name,
        r->qcfg == NULL ? "QCFG" : "QUAN");
    return IGQ_OK;
}

/* ---- GRPH -------------------------------------------------------------------------------- */

#define RANGE(v, lo, hi, what)                                                               \
    REQ((v) >= (lo) && (v) <= (hi), "%s: section 'GRPH': %s = %lld is outside [%lld, %lld]", \
        r->name, what, (long long)(v), (long long)(lo), (long long)(hi))

static igq_status read_graph(reader *r)
{
    const unsigned char *p = r->grph->p;
    igq_vit_dims        *d = &r->m->d;
    REQ(r->grph->size >= IGQF_GRPH_BYTES, "%s: section 'GRPH': %llu bytes (expected %d)",
        r->name, (unsigned long long)r->grph->size, IGQF_GRPH_BYTES);
    REQ(get_i32(p) == 1, "%s: section 'GRPH': graph kind %d is not supported (1 = ViT)",
        r->name, (int)get_i32(p));
    d->img_h          = get_i32(p + 4);
    d->img_w          = get_i32(p + 8);
    d->in_chans       = get_i32(p + 12);
    d->patch          = get_i32(p + 16);
    d->grid_h         = get_i32(p + 20);
    d->grid_w         = get_i32(p + 24);
    d->n_patches      = get_i32(p + 28);
    d->n_prefix       = get_i32(p + 32);
    d->n_tokens       = get_i32(p + 36);
    d->dim            = get_i32(p + 40);
    d->depth          = get_i32(p + 44);
    d->heads          = get_i32(p + 48);
    d->head_dim       = get_i32(p + 52);
    d->mlp            = get_i32(p + 56);
    d->classes        = get_i32(p + 60);
    d->has_dist       = get_i32(p + 64);
    d->pos_has_prefix = get_i32(p + 68);
    d->pool           = get_i32(p + 72);
    d->naming         = get_i32(p + 76);
    d->ln_eps         = get_f32(p + 80);
    RANGE(d->in_chans, 1, 64, "input channels");
    RANGE(d->patch, 1, 1024, "patch");
    RANGE(d->img_h, d->patch, 65536, "image height");
    RANGE(d->img_w, d->patch, 65536, "image width");
    REQ(d->grid_h == d->img_h / d->patch && d->grid_w == d->img_w / d->patch,
        "%s: section 'GRPH': a %dx%d grid does not match a %dx%d image with patch %d", r->name,
        (int)d->grid_h, (int)d->grid_w, (int)d->img_h, (int)d->img_w, (int)d->patch);
    REQ((int64_t)d->grid_h * d->grid_w == d->n_patches && d->n_patches <= (1 << 20),
        "%s: section 'GRPH': %d patches for a %dx%d grid (at most 2^20)", r->name,
        (int)d->n_patches, (int)d->grid_h, (int)d->grid_w);
    RANGE(d->n_prefix, 0, 1024, "prefix tokens");
    REQ(d->n_tokens == d->n_prefix + d->n_patches,
        "%s: section 'GRPH': %d tokens but %d prefix tokens and %d patches", r->name,
        (int)d->n_tokens, (int)d->n_prefix, (int)d->n_patches);
    RANGE(d->dim, 1, 65536, "width");
    RANGE(d->depth, 1, 4096, "depth");
    RANGE(d->heads, 1, d->dim, "heads");
    REQ((int64_t)d->heads * d->head_dim == d->dim,
        "%s: section 'GRPH': %d heads of width %d do not make width %d", r->name, (int)d->heads,
        (int)d->head_dim, (int)d->dim);
    RANGE(d->mlp, 1, 65536, "MLP width");
    RANGE(d->classes, 0, 1 << 24, "classes"); /* 0: no classifier (embeddings only) */
    RANGE(d->has_dist, 0, 1, "distillation head");
    RANGE(d->pos_has_prefix, 0, 1, "position embedding covers the prefix");
    RANGE(d->pool, IGQ_POOL_TOKEN, IGQ_POOL_MEAN, "pooling");
    RANGE(d->naming, IGQ_NAMING_TIMM, IGQ_NAMING_TORCHVISION, "naming scheme");
    REQ(!d->has_dist || (d->n_prefix >= 2 && d->pool == IGQ_POOL_TOKEN),
        "%s: section 'GRPH': a distillation head needs class and distillation tokens and "
        "class-token pooling", r->name);
    REQ(d->pool == IGQ_POOL_MEAN || d->n_prefix >= 1,
        "%s: section 'GRPH': class-token pooling without prefix tokens", r->name);
    REQ(!d->pos_has_prefix || d->n_prefix >= 1,
        "%s: section 'GRPH': position embedding covers prefix tokens the model does not have",
        r->name);
    REQ(isfinite(d->ln_eps) && d->ln_eps > 0.0f,
        "%s: section 'GRPH': LayerNorm epsilon %g is not a positive number", r->name,
        (double)d->ln_eps);
    REQ((int64_t)d->in_chans * d->patch * d->patch <= IGQ_QS8_MAX_K,
        "%s: section 'GRPH': a patch of %lld values is too large", r->name,
        (long long)d->in_chans * d->patch * d->patch);
    return IGQ_OK;
}

/* ---- PREP, QCFG -------------------------------------------------------------------------- */

static igq_status read_prep(reader *r)
{
    const section *s = r->prep;
    uint32_t       c;
    if (s == NULL) return IGQ_OK;
    REQ(s->size >= 8, "%s: section 'PREP': %llu bytes", r->name, (unsigned long long)s->size);
    c = get_u32(s->p);
    REQ(c == (uint32_t)r->m->d.in_chans,
        "%s: section 'PREP': %u channels, the graph has %d", r->name, (unsigned)c,
        (int)r->m->d.in_chans);
    REQ(s->size >= 8 + 8 * (uint64_t)c, "%s: section 'PREP': %llu bytes for %u channels",
        r->name, (unsigned long long)s->size, (unsigned)c);
    r->m->mean           = (float *)(uintptr_t)(s->p + 8);
    r->m->std            = (float *)(uintptr_t)(s->p + 8 + 4 * (size_t)c);
    r->m->has_norm_stats = 1;
    return IGQ_OK;
}

/* LABL: u32 count (= classes), u32 reserved, count u32 end offsets (ascending, relative to
 * the names), the names, each NUL-terminated. The model points at them in place. */
static igq_status read_labl(reader *r)
{
    const section       *s = r->labl;
    const unsigned char *names;
    uint64_t             len, start = 0;
    uint32_t             n, i;
    if (s == NULL) return IGQ_OK;
    REQ(s->size >= 8, "%s: section 'LABL': %llu bytes", r->name, (unsigned long long)s->size);
    n = get_u32(s->p);
    REQ(n == (uint32_t)r->m->d.classes, "%s: section 'LABL': %u names for %d classes", r->name,
        (unsigned)n, (int)r->m->d.classes);
    REQ((uint64_t)n * 4u <= s->size - 8, "%s: section 'LABL': %u offsets do not fit", r->name,
        (unsigned)n);
    names = s->p + 8 + 4 * (size_t)n;
    len   = s->size - 8 - 4 * (uint64_t)n;
    r->m->labels = (const char **)igq__malloc((size_t)n * sizeof(char *));
    IGQ_CHECK(r->m->labels != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", r->name);
    for (i = 0; i < n; i++) {
        const uint64_t end = get_u32(s->p + 8 + 4 * (size_t)i);
        REQ(end > start && end <= len && names[end - 1] == 0 &&
                memchr(names + start, 0, (size_t)(end - 1 - start)) == NULL,
            "%s: section 'LABL': name %u is not a NUL-terminated string inside the section",
            r->name, (unsigned)i);
        r->m->labels[i] = (const char *)(names + start);
        start           = end;
    }
    r->m->n_labels = (int32_t)n;
    return IGQ_OK;
}

/* The evaluation transform: every field in range, the crop equal to the graph's input. */
static igq_status read_pprc(reader *r)
{
    const section *s = r->pprc;
    igq_preproc    p;
    int32_t        ch, cw;
    if (s == NULL) return IGQ_OK;
    REQ(s->size >= IGQF_PPRC_BYTES, "%s: section 'PPRC': %llu bytes (expected %d)", r->name,
        (unsigned long long)s->size, IGQF_PPRC_BYTES);
    p.resize_mode = get_i32(s->p);
    p.resize_h    = get_i32(s->p + 4);
    p.resize_w    = get_i32(s->p + 8);
    p.interp      = get_i32(s->p + 12);
    p.rescale_div = get_f32(s->p + 16);
    ch            = get_i32(s->p + 20);
    cw            = get_i32(s->p + 24);
    REQ(p.resize_mode >= IGQ__RESIZE_NONE && p.resize_mode <= IGQ__RESIZE_RATIO,
        "%s: section 'PPRC': unknown resize mode %d", r->name, (int)p.resize_mode);
    REQ(p.resize_h >= 1 && p.resize_h <= 65536 && p.resize_w >= 1 && p.resize_w <= 65536,
        "%s: section 'PPRC': resize size %d x %d is outside [1, 65536]", r->name,
        (int)p.resize_h, (int)p.resize_w);
    REQ(p.interp == IGQ__INTERP_BILINEAR || p.interp == IGQ__INTERP_BICUBIC,
        "%s: section 'PPRC': unknown interpolation %d (2 bilinear, 3 bicubic)", r->name,
        (int)p.interp);
    REQ(isfinite(p.rescale_div) && p.rescale_div > 0.0f,
        "%s: section 'PPRC': the rescale divisor is not a positive finite number", r->name);
    REQ(ch == r->m->d.img_h && cw == r->m->d.img_w,
        "%s: section 'PPRC': crop %d x %d differs from the graph's %d x %d input", r->name,
        (int)ch, (int)cw, (int)r->m->d.img_h, (int)r->m->d.img_w);
    r->m->preproc     = p;
    r->m->has_preproc = 1;
    return IGQ_OK;
}

static igq_status read_qcfg(reader *r, igq_qstate *q)
{
    const section *s = r->qcfg;
    uint32_t       n, i;
    REQ(s->size >= 8, "%s: section 'QCFG': %llu bytes", r->name, (unsigned long long)s->size);
    r->executor = (int)get_u32(s->p);
    n           = get_u32(s->p + 4);
    REQ(r->executor == IGQ_EXECUTOR_INT || r->executor == IGQ_EXECUTOR_SIM,
        "%s: section 'QCFG': unknown executor %d", r->name, r->executor);
    REQ(n <= (s->size - 8) / 8, "%s: section 'QCFG': %u options in %llu bytes", r->name,
        (unsigned)n, (unsigned long long)s->size);
    REQ(n > IGQ_OPT_EXECUTOR, "%s: section 'QCFG': %u options (at least %d expected)", r->name,
        (unsigned)n, IGQ_OPT_EXECUTOR + 1);
    {
        struct igq_config c;
        igq__config_defaults(&c);
        for (i = 0; i < IGQ__N_OPTIONS; i++) q->opts[i] = c.v[i];
    }
    for (i = 0; i < n && i < IGQ__N_PUBLIC_OPTIONS; i++) {
        const igq_option_info *o = igq__option_info((int)i);
        const int64_t          v = (int64_t)get_u64(s->p + 8 + 8 * (size_t)i);
        REQ(igq__option_accepts(o, v), "%s: section 'QCFG': %s = %lld is out of range", r->name,
            o->name, (long long)v);
        q->opts[i] = v;
    }
    REQ(q->opts[IGQ_OPT_EXECUTOR] == r->executor,
        "%s: section 'QCFG': IGQ_OPT_EXECUTOR = %lld but the executor is %d", r->name,
        (long long)q->opts[IGQ_OPT_EXECUTOR], r->executor);
    return IGQ_OK;
}

/* ---- QUAN -------------------------------------------------------------------------------- */

/* Output channels of the layer a weight site quantizes (0: no such layer). */
static int32_t weight_out(const igq_vit_dims *d, int32_t site)
{
    switch (site) {
    case IGQ__SITE_QKV_W: return 3 * d->dim;
    case IGQ__SITE_PROJ_W: return d->dim;
    case IGQ__SITE_FC1_W: return d->mlp;
    case IGQ__SITE_FC2_W: return d->dim;
    case IGQ__SITE_PATCH_W: return d->dim;
    case IGQ__SITE_HEAD_W: return d->classes;
    case IGQ__SITE_HEAD_DIST_W: return d->has_dist ? d->classes : 0;
    default: return 0;
    }
}

/* 0 for the classifier weight sites of a graph without them (no distillation head, or no
 * classifier at all: 0 classes); 1 for every other site. */
static int weight_out_exists(const igq_vit_dims *d, int32_t site)
{
    return (site != IGQ__SITE_HEAD_W && site != IGQ__SITE_HEAD_DIST_W) || weight_out(d, site) > 0;
}

static int edge_site(int32_t site)
{
    return site == IGQ__SITE_PATCH_IN || site == IGQ__SITE_HEAD_IN || site == IGQ__SITE_PATCH_W ||
           site == IGQ__SITE_HEAD_W || site == IGQ__SITE_HEAD_DIST_W;
}

static igq_status read_quantizer(reader *r, igq_qstate *q, const unsigned char **pp,
                                 const unsigned char *end, uint32_t k)
{
    const igq_vit_dims   *d = &r->m->d;
    const unsigned char  *p = *pp;
    struct igq_quantizer *z;
    int32_t               block, site, n, cover, form, g;
    uint64_t              need;
    REQ((uint64_t)(end - p) >= IGQF_QREC_HEAD, "%s: section 'QUAN': record %u is truncated",
        r->name, (unsigned)k);
    block = get_i32(p);
    site  = get_i32(p + 4);
    REQ(site >= 0 && site < IGQ__N_QSITES && block >= -1 && block < d->depth &&
            (block < 0) == edge_site(site) &&
            weight_out_exists(d, site),
        "%s: section 'QUAN': record %u: site %d of block %d does not exist in this graph",
        r->name, (unsigned)k, (int)site, (int)block);
    z = igq__qz(q, block, site);
    REQ(!z->present, "%s: section 'QUAN': site %d of block %d appears twice", r->name,
        (int)site, (int)block);
    z->block         = block;
    z->site          = site;
    z->is_weight     = get_i32(p + 8);
    z->bits          = get_i32(p + 12);
    z->granularity   = get_i32(p + 16);
    z->unsigned_only = get_i32(p + 20);
    z->rows          = get_i32(p + 24);
    z->policy        = get_i32(p + 28);
    n                = get_i32(p + 32);
    cover            = get_i32(p + 36);
    form             = get_i32(p + 40);
#define QREQ(cond, what)                                                                     \
    REQ(cond, "%s: section 'QUAN': quantizer of site %d, block %d: %s", r->name, (int)site,   \
        (int)block, what)
    QREQ(z->is_weight == (site >= IGQ__N_SITES), "weight flag does not match the site");
    QREQ(z->bits >= 2 && z->bits <= 8, "bits outside 2..8");
    QREQ(z->granularity >= IGQ__GRAN_TENSOR && z->granularity <= IGQ__GRAN_CHANNEL,
         "unknown granularity");
    QREQ(z->unsigned_only == (site == IGQ__SITE_ATTN) && z->rows == (site == IGQ__SITE_ATTN),
         "row/unsigned flags do not match the site");
    QREQ(z->policy == IGQ_ASSIGN_COVER || z->policy == IGQ_ASSIGN_NEAREST,
         "unknown group assignment rule");
    QREQ(cover == 0 || cover == 1, "bad cover flag");
    QREQ(form == 0 || (z->is_weight && !cover && (form == 1 || form == 2)),
         "unknown record form");
    if (z->is_weight)
        QREQ(z->granularity == IGQ__GRAN_CHANNEL && n == weight_out(d, site),
             "a weight quantizer needs one quantizer per output channel");
    else if (z->granularity == IGQ__GRAN_TENSOR)
        QREQ(n == 1, "a per-tensor quantizer needs n = 1");
    else if (z->granularity == IGQ__GRAN_GROUP)
        QREQ(n >= 1 && n <= 64 && block >= 0, "group count outside 1..64");
    else
        QREQ(n == 0 && block >= 0, "a per-channel activation quantizer has no parameters");
    need = (uint64_t)n * (form != 0 ? 8u : 4u * (cover ? 4u : 2u) + IGQF_QPARAM);
    QREQ((uint64_t)(end - p) - IGQF_QREC_HEAD >= need, "record truncated");
    p += IGQF_QREC_HEAD;
    z->n_params = n;
    if (n > 0) {
        z->lo = (float *)igq__malloc((size_t)n * sizeof(float));
        z->hi = (float *)igq__malloc((size_t)n * sizeof(float));
        z->qp = (igq_qparams *)igq__malloc((size_t)n * sizeof(igq_qparams));
        if (cover) {
            z->clo = (float *)igq__malloc((size_t)n * sizeof(float));
            z->chi = (float *)igq__malloc((size_t)n * sizeof(float));
        }
        z->present = 1; /* from here on igq__qstate_free releases the arrays */
        IGQ_CHECK(z->lo && z->hi && z->qp && (!cover || (z->clo && z->chi)), IGQ_ERR_NO_MEMORY,
                  "%s: out of memory", r->name);
    }
    z->present = 1;
    if (form != 0) { /* compact symmetric weight quantizer: hi[n], scale[n] */
        const int32_t qmax = (1 << (z->bits - 1)) - 1;
        for (g = 0; g < n; g++) {
            igq_qparams *qp = &z->qp[g];
            z->hi[g]        = get_f32(p + 4 * (size_t)g);
            z->lo[g]        = -z->hi[g];
            qp->scale       = get_f32(p + 4 * ((size_t)n + (size_t)g));
            qp->inv_scale   = 1.0f / qp->scale;
            qp->zero        = 0;
            qp->qmax        = qmax;
            qp->qmin        = form == 1 ? -qmax : -qmax - 1;
        }
        p += 8 * (size_t)n;
    } else {
        for (g = 0; g < n; g++) z->lo[g] = get_f32(p + 4 * (size_t)g);
        p += 4 * (size_t)n;
        for (g = 0; g < n; g++) z->hi[g] = get_f32(p + 4 * (size_t)g);
        p += 4 * (size_t)n;
        if (cover) {
            for (g = 0; g < n; g++) z->clo[g] = get_f32(p + 4 * (size_t)g);
            p += 4 * (size_t)n;
            for (g = 0; g < n; g++) z->chi[g] = get_f32(p + 4 * (size_t)g);
            p += 4 * (size_t)n;
        }
        for (g = 0; g < n; g++, p += IGQF_QPARAM) {
            igq_qparams *qp = &z->qp[g];
            qp->scale       = get_f32(p);
            qp->inv_scale   = get_f32(p + 4);
            qp->zero        = get_i32(p + 8);
            qp->qmin        = get_i32(p + 12);
            qp->qmax        = get_i32(p + 16);
        }
    }
    for (g = 0; g < n; g++) {
        const igq_qparams *qp   = &z->qp[g];
        const int          half = 1 << (z->bits - 1);
        QREQ(isfinite(z->lo[g]) && isfinite(z->hi[g]) && z->lo[g] <= z->hi[g],
             "a range is not finite or is reversed");
        QREQ(!cover || (!isnan(z->clo[g]) && !isnan(z->chi[g])), "a cover bound is NaN");
        /* a subnormal scale has no finite inverse: the integer executor could not use it */
        QREQ(isfinite(qp->scale) && qp->scale > 0.0f && isfinite(qp->inv_scale) &&
                 qp->inv_scale == 1.0f / qp->scale,
             "a scale is not a positive number with its inverse");
        QREQ(qp->zero >= -(1 << 21) && qp->zero <= (1 << 21), "a zero point is out of range");
        if (z->is_weight)
            QREQ(qp->zero == 0 && qp->qmax == half - 1 &&
                     (qp->qmin == -half || qp->qmin == -(half - 1)),
                 "a weight quantizer's integer range does not match its bits");
        else
            QREQ(qp->qmin == 0 && qp->qmax == 2 * half - 1,
                 "an activation quantizer's integer range does not match its bits");
    }
#undef QREQ
    *pp = p;
    return IGQ_OK;
}

static igq_status read_quan(reader *r, igq_qstate *q)
{
    const section       *s   = r->quan;
    const unsigned char *p   = s->p + 8, *end = s->p + s->size;
    const igq_vit_dims  *d   = &r->m->d;
    uint32_t             n, k;
    int32_t              b, site;
    REQ(s->size >= 8, "%s: section 'QUAN': %llu bytes", r->name, (unsigned long long)s->size);
    n = get_u32(s->p);
    REQ((uint64_t)n <= (s->size - 8) / IGQF_QREC_HEAD,
        "%s: section 'QUAN': %u quantizers do not fit in %llu bytes", r->name, (unsigned)n,
        (unsigned long long)s->size);
    for (k = 0; k < n; k++) IGQ_TRY(read_quantizer(r, q, &p, end, k));
    for (b = -1; b < d->depth; b++)
        for (site = 0; site < IGQ__N_QSITES; site++) {
            if ((b < 0) != edge_site(site)) continue;
            if (!weight_out_exists(d, site)) continue;
            REQ(igq__qz(q, b, site)->present,
                "%s: section 'QUAN': no quantizer for site %d of block %d", r->name, (int)site,
                (int)b);
        }
    if (r->executor == IGQ_EXECUTOR_INT)
        for (b = -1; b < d->depth; b++)
            for (site = 0; site < IGQ__N_SITES; site++) {
                const struct igq_quantizer *z = igq__qz(q, b, site);
                if (!z->present) continue;
                REQ(z->granularity != IGQ__GRAN_CHANNEL,
                    "%s: section 'QUAN': the integer executor cannot run the per-channel "
                    "quantizer of site %d, block %d", r->name, (int)site, (int)b);
                REQ(!(site == IGQ__SITE_Q || site == IGQ__SITE_K || site == IGQ__SITE_V) ||
                        z->granularity == IGQ__GRAN_TENSOR,
                    "%s: section 'QUAN': the integer executor needs per-tensor queries, keys "
                    "and values (block %d)", r->name, (int)b);
            }
    return IGQ_OK;
}

/* ---- TDIR -------------------------------------------------------------------------------- */

/* The (in, out) of the linear layer of weight kind w; 0 if w is not a weight kind. */
static int linear_shape(const igq_vit_dims *d, int w, int64_t *in, int64_t *out)
{
    switch (w) {
    case IGQF_PATCH_W: *in = (int64_t)d->in_chans * d->patch * d->patch, *out = d->dim; return 1;
    case IGQF_HEAD_W:
    case IGQF_HEAD_DIST_W: *in = d->dim, *out = d->classes; return 1;
    case IGQF_QKV_W: *in = d->dim, *out = 3 * (int64_t)d->dim; return 1;
    case IGQF_PROJ_W: *in = d->dim, *out = d->dim; return 1;
    case IGQF_FC1_W: *in = d->dim, *out = d->mlp; return 1;
    case IGQF_FC2_W: *in = d->mlp, *out = d->dim; return 1;
    default: return 0;
    }
}

/* The weight site of a weight kind. */
static int32_t weight_site(int w)
{
    switch (w) {
    case IGQF_PATCH_W: return IGQ__SITE_PATCH_W;
    case IGQF_HEAD_W: return IGQ__SITE_HEAD_W;
    case IGQF_HEAD_DIST_W: return IGQ__SITE_HEAD_DIST_W;
    case IGQF_QKV_W: return IGQ__SITE_QKV_W;
    case IGQF_PROJ_W: return IGQ__SITE_PROJ_W;
    case IGQF_FC1_W: return IGQ__SITE_FC1_W;
    default: return IGQ__SITE_FC2_W;
    }
}

/* Number of f32 values of a vector kind; 0 for kinds that are not vectors. */
static int64_t vector_len(const igq_vit_dims *d, int kind)
{
    int64_t in, out;
    switch (kind) {
    case IGQF_PREFIX: return (int64_t)d->n_prefix * d->dim;
    case IGQF_POS: return (int64_t)(d->pos_has_prefix ? d->n_tokens : d->n_patches) * d->dim;
    case IGQF_PATCH_B:
    case IGQF_HEAD_B:
    case IGQF_HEAD_DIST_B:
    case IGQF_QKV_B:
    case IGQF_PROJ_B:
    case IGQF_FC1_B:
    case IGQF_FC2_B: return linear_shape(d, kind - 1, &in, &out) ? out : 0;
    default: return kind >= IGQF_PATCH_W && kind < IGQF_ROWSUM && igq__igqf_kind_name(kind) &&
                            !linear_shape(d, kind, &in, &out)
                        ? d->dim
                        : 0;
    }
}

static size_t slot(const igq_vit_dims *d, int kind, int32_t block)
{
    return (size_t)kind * (size_t)(d->depth + 1) + (size_t)(block + 1);
}

static igq_status read_tdir(reader *r)
{
    const section      *s = r->tdir;
    const igq_vit_dims *d = &r->m->d;
    const size_t        nslots = (size_t)IGQF_N_KINDS * (size_t)(d->depth + 1);
    uint32_t            n, k;
    uint64_t            prev_end = 0;
    REQ(s->size >= 8, "%s: section 'TDIR': %llu bytes", r->name, (unsigned long long)s->size);
    n = get_u32(s->p);
    REQ((uint64_t)n <= (s->size - 8) / IGQF_TENSOR_ENTRY,
        "%s: section 'TDIR': %u entries do not fit in %llu bytes", r->name, (unsigned)n,
        (unsigned long long)s->size);
    r->tens   = (const unsigned char **)igq__calloc(nslots, sizeof *r->tens);
    r->tbytes = (uint64_t *)igq__calloc(nslots, sizeof *r->tbytes);
    r->tdtype = (int32_t *)igq__calloc(nslots, sizeof *r->tdtype);
    IGQ_CHECK(r->tens && r->tbytes && r->tdtype, IGQ_ERR_NO_MEMORY, "%s: out of memory", r->name);
    for (k = 0; k < n; k++) {
        const unsigned char *e     = s->p + 8 + (size_t)k * IGQF_TENSOR_ENTRY;
        const int            kind  = (int)(e[0] | e[1] << 8);
        const int32_t        dtype = (int32_t)(e[2] | e[3] << 8);
        const int32_t        block = get_i32(e + 4);
        const uint64_t       off = get_u64(e + 8), bytes = get_u64(e + 16);
        const char          *nm    = igq__igqf_kind_name(kind);
        const int            in_block = kind >= IGQF_LN1_W && kind <= IGQF_LS2;
        const int            wkind    = kind > IGQF_ROWSUM ? kind - IGQF_ROWSUM : kind;
        int64_t              in = 0, out = 0;
        uint64_t             want;
        int32_t              want_dtype;
        REQ(nm != NULL, "%s: section 'TDIR': entry %u has unknown tensor kind %d", r->name,
            (unsigned)k, kind);
        REQ(((kind >= IGQF_ROWSUM ? wkind >= IGQF_LN1_W : in_block) ? (block >= 0 && block < d->depth)
                                                                  : block == -1),
            "%s: section 'TDIR': tensor '%s' has block %d (depth %d)", r->name, nm, (int)block,
            (int)d->depth);
        REQ(r->tens[slot(d, kind, block)] == NULL,
            "%s: section 'TDIR': tensor '%s' of block %d appears twice", r->name, nm, (int)block);
        REQ(off % IGQF_ALIGN == 0, "%s: section 'TDIR': tensor '%s' of block %d is misaligned",
            r->name, nm, (int)block);
        REQ(off <= r->data->size && bytes <= r->data->size - off,
            "%s: section 'TDIR': tensor '%s' of block %d lies outside section 'DATA'", r->name,
            nm, (int)block);
        REQ(off >= prev_end, "%s: section 'TDIR': tensor '%s' of block %d overlaps the one "
            "before it (entries must be sorted by offset)", r->name, nm, (int)block);
        prev_end = off + bytes;
        {
            const int base = kind > IGQF_ROWSUM ? kind - IGQF_ROWSUM : kind;
            REQ(d->classes > 0 || (base != IGQF_HEAD_W && base != IGQF_HEAD_B &&
                                   base != IGQF_HEAD_DIST_W && base != IGQF_HEAD_DIST_B),
                "%s: section 'TDIR': tensor '%s' in a model without a classifier (0 classes)",
                r->name, nm);
        }
        if (kind > IGQF_ROWSUM) {
            REQ(r->executor == IGQ_EXECUTOR_INT && r->quantized,
                "%s: section 'TDIR': tensor '%s': weight sums belong to integer-executor "
                "models only", r->name, nm);
            linear_shape(d, wkind, &in, &out);
            want_dtype = IGQF_I32;
            want       = (uint64_t)out * 4u;
        } else if (linear_shape(d, kind, &in, &out)) {
            REQ(kind != IGQF_HEAD_DIST_W || d->has_dist,
                "%s: section 'TDIR': tensor 'head_dist.weight' without a distillation head",
                r->name);
            if (r->quantized && r->executor == IGQ_EXECUTOR_INT) {
                const struct igq_quantizer *z = NULL;
                igq_qstate                 *q = r->m->q;
                z          = igq__qz(q, block, weight_site(kind));
                want_dtype = z->bits <= 4 ? IGQF_QS4 : IGQF_QS8;
                want       = igq__qs8_packed_size(out, in, z->bits <= 4 ? 4 : 8);
                REQ(in <= IGQ_QS8_MAX_K, "%s: tensor '%s': %lld inputs are too many", r->name,
                    nm, (long long)in);
            } else {
                want_dtype = IGQF_F32;
                want       = (uint64_t)in * (uint64_t)out * 4u;
            }
        } else {
            want_dtype = IGQF_F32;
            want       = (uint64_t)vector_len(d, kind) * 4u;
            REQ(kind != IGQF_PREFIX || d->n_prefix > 0,
                "%s: section 'TDIR': tensor 'prefix' in a model without prefix tokens", r->name);
            REQ(kind != IGQF_HEAD_DIST_B || d->has_dist,
                "%s: section 'TDIR': tensor 'head_dist.bias' without a distillation head",
                r->name);
        }
        REQ(dtype == want_dtype, "%s: section 'TDIR': tensor '%s' of block %d has dtype %d "
            "(expected %d)", r->name, nm, (int)block, (int)dtype, (int)want_dtype);
        REQ(bytes == want, "%s: section 'TDIR': tensor '%s' of block %d has %llu bytes; the "
            "graph needs %llu", r->name, nm, (int)block, (unsigned long long)bytes,
            (unsigned long long)want);
        r->tens[slot(d, kind, block)]   = r->data->p + off;
        r->tbytes[slot(d, kind, block)] = bytes;
        r->tdtype[slot(d, kind, block)] = dtype;
    }
    return IGQ_OK;
}

/* The tensor (kind, block), or NULL; required: missing is an error. */
static igq_status tensor(reader *r, int kind, int32_t block, int required, float **out)
{
    const unsigned char *p = r->tens[slot(&r->m->d, kind, block)];
    *out                   = (float *)(uintptr_t)p; /* read-only: the view is */
    if (p != NULL || !required) return IGQ_OK;
    if (block >= 0)
        FAIL("%s: section 'TDIR': missing tensor '%s' of block %d", r->name,
             igq__igqf_kind_name(kind), (int)block);
    FAIL("%s: section 'TDIR': missing tensor '%s'", r->name, igq__igqf_kind_name(kind));
}

static igq_status linear(reader *r, int wkind, int32_t block, int present, igq_linear *l,
                         igq_qlin_packed *pk)
{
    int64_t in, out;
    float  *w = NULL;
    if (!present) return IGQ_OK;
    linear_shape(&r->m->d, wkind, &in, &out);
    l->in  = (int32_t)in;
    l->out = (int32_t)out;
    IGQ_TRY(tensor(r, wkind, block, 1, &w));
    IGQ_TRY(tensor(r, wkind + 1, block, 1, &l->b));
    if (r->quantized && r->executor == IGQ_EXECUTOR_INT) {
        float *rs = NULL;
        IGQ_TRY(tensor(r, IGQF_ROWSUM + wkind, block, 1, &rs));
        pk->packed = w;
        pk->rowsum = (const int32_t *)(const void *)rs;
    } else {
        l->wt = w;
    }
    return IGQ_OK;
}

static igq_status pair(reader *r, int kind, float **w, float **b)
{
    IGQ_TRY(tensor(r, kind, -1, 0, w));
    IGQ_TRY(tensor(r, kind + 1, -1, 0, b));
    REQ((*w == NULL) == (*b == NULL), "%s: section 'TDIR': '%s' without '%s'", r->name,
        igq__igqf_kind_name(*w ? kind : kind + 1), igq__igqf_kind_name(*w ? kind + 1 : kind));
    return IGQ_OK;
}

static igq_status assemble(reader *r, igq_qlin_packed *pk)
{
    struct igq_model   *m = r->m;
    const igq_vit_dims *d = &m->d;
    int32_t             b;
    IGQ_TRY(linear(r, IGQF_PATCH_W, -1, 1, &m->patch, &pk[IGQ__QLIN_PATCH(d->depth)]));
    IGQ_TRY(tensor(r, IGQF_PREFIX, -1, d->n_prefix > 0, &m->prefix));
    IGQ_TRY(tensor(r, IGQF_POS, -1, 1, &m->pos));
    IGQ_TRY(pair(r, IGQF_NORM_W, &m->norm_w, &m->norm_b));
    IGQ_TRY(pair(r, IGQF_FC_NORM_W, &m->fc_norm_w, &m->fc_norm_b));
    REQ(m->norm_w != NULL || m->fc_norm_w != NULL,
        "%s: section 'TDIR': missing tensor 'norm.weight' (final LayerNorm)", r->name);
    REQ(d->pool == ((m->fc_norm_w != NULL || d->n_prefix == 0) ? IGQ_POOL_MEAN : IGQ_POOL_TOKEN),
        "%s: section 'GRPH': the pooling does not match the final LayerNorms present", r->name);
    IGQ_TRY(linear(r, IGQF_HEAD_W, -1, d->classes > 0, &m->head,
                   &pk[IGQ__QLIN_PATCH(d->depth) + 1]));
    IGQ_TRY(linear(r, IGQF_HEAD_DIST_W, -1, d->has_dist && d->classes > 0, &m->head_dist,
                   &pk[IGQ__QLIN_PATCH(d->depth) + 2]));
    for (b = 0; b < d->depth; b++) {
        igq_block *k = &m->blocks[b];
        IGQ_TRY(tensor(r, IGQF_LN1_W, b, 1, &k->ln1_w));
        IGQ_TRY(tensor(r, IGQF_LN1_B, b, 1, &k->ln1_b));
        IGQ_TRY(linear(r, IGQF_QKV_W, b, 1, &k->qkv, &pk[4 * b]));
        IGQ_TRY(linear(r, IGQF_PROJ_W, b, 1, &k->proj, &pk[4 * b + 1]));
        IGQ_TRY(tensor(r, IGQF_LS1, b, 0, &k->ls1));
        IGQ_TRY(tensor(r, IGQF_LN2_W, b, 1, &k->ln2_w));
        IGQ_TRY(tensor(r, IGQF_LN2_B, b, 1, &k->ln2_b));
        IGQ_TRY(linear(r, IGQF_FC1_W, b, 1, &k->fc1, &pk[4 * b + 2]));
        IGQ_TRY(linear(r, IGQF_FC2_W, b, 1, &k->fc2, &pk[4 * b + 3]));
        IGQ_TRY(tensor(r, IGQF_LS2, b, 0, &k->ls2));
    }
    return IGQ_OK;
}

/* ---- entry point ------------------------------------------------------------------------- */

static igq_status load(reader *r, igq_qlin_packed **pk_out)
{
    struct igq_model *m = r->m;
    IGQ_TRY(read_table(r));
    IGQ_TRY(read_graph(r));
    IGQ_TRY(read_prep(r));
    IGQ_TRY(read_labl(r));
    IGQ_TRY(read_pprc(r));
    m->blocks = (igq_block *)igq__calloc((size_t)m->d.depth, sizeof(igq_block));
    IGQ_CHECK(m->blocks != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", r->name);
    if (r->qcfg != NULL) {
        const size_t n = (size_t)(m->d.depth + 1) * IGQ__N_QSITES;
        igq_qstate  *q = (igq_qstate *)igq__calloc(1, sizeof *q);
        IGQ_CHECK(q != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", r->name);
        m->q     = q;
        q->depth = m->d.depth;
        q->qz    = (struct igq_quantizer *)igq__calloc(n, sizeof *q->qz);
        IGQ_CHECK(q->qz != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", r->name);
        r->quantized = 1;
        IGQ_TRY(read_qcfg(r, q));
        IGQ_TRY(read_quan(r, q));
    }
    IGQ_TRY(read_tdir(r));
    *pk_out = (igq_qlin_packed *)igq__calloc((size_t)IGQ__QLIN_COUNT(m->d.depth),
                                             sizeof(igq_qlin_packed));
    IGQ_CHECK(*pk_out != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", r->name);
    IGQ_TRY(assemble(r, *pk_out));
    if (r->quantized && r->executor == IGQ_EXECUTOR_INT) {
        const igq_status s = igq__qexec_attach_packed(m, *pk_out);
        if (s == IGQ_ERR_NO_MEMORY) return s;
        if (s != IGQ_OK)
            FAIL("%s: the integer executor cannot be built: %s", r->name, igq_last_error());
    }
    return IGQ_OK;
}

igq_status igq__igqf_load(igq_map *map, const char *name, struct igq_model **out)
{
    reader           r;
    igq_qlin_packed *pk = NULL;
    igq_status       s;
    *out = NULL;
    memset(&r, 0, sizeof r);
    r.name = name;
    r.base = map->data;
    r.size = map->size;
    if (!igq__igqf_little_endian()) {
        igq__map_release(map);
        return igq__set_error(IGQ_ERR_UNSUPPORTED,
                              "%s: .igq files are little-endian; this host is big-endian", name);
    }
    r.m = (struct igq_model *)igq__calloc(1, sizeof *r.m);
    if (r.m != NULL) r.m->backing = (igq_map *)igq__malloc(sizeof(igq_map));
    if (r.m == NULL || r.m->backing == NULL) {
        if (r.m != NULL) igq__free(r.m);
        igq__map_release(map);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: out of memory", name);
    }
    *r.m->backing = *map; /* the model owns the view from here on */
    memset(map, 0, sizeof *map);
    s = load(&r, &pk);
    igq__free(pk);
    igq__free(r.tens);
    igq__free(r.tbytes);
    igq__free(r.tdtype);
    if (s != IGQ_OK) {
        igq__model_destroy(r.m);
        return s;
    }
    *out = r.m;
    return IGQ_OK;
}
