/* igq_model_save: the .igq writer (doc/igq-format.md). The small sections are built in memory;
 * the arrays of DATA are written straight from the model (the packed weights of the integer
 * executor as they are, f32 arrays as they are: the host is little-endian). The file is
 * written beside its destination and renamed over it when complete, so a reader never sees a
 * partial file and a failed save leaves an existing file untouched. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/dispatch.h"
#include "../kernels/qs8_layout.h"
#include "../model/qexec.h"
#include "../ptq/options.h"
#include "../ptq/ptq.h"
#include "igqfile.h"

/* ---- growable little-endian byte buffer ------------------------------------------------ */

typedef struct wbuf {
    unsigned char *p;
    size_t         n, cap;
    int            failed;
} wbuf;

static void *wb_room(wbuf *b, size_t k)
{
    if (b->failed) return NULL;
    if (b->n + k > b->cap) {
        size_t         cap = b->cap ? b->cap : 256;
        unsigned char *q;
        while (cap < b->n + k) cap *= 2;
        q = (unsigned char *)igq__malloc(cap);
        if (q == NULL) {
            b->failed = 1;
            return NULL;
        }
        if (b->n) memcpy(q, b->p, b->n);
        igq__free(b->p);
        b->p   = q;
        b->cap = cap;
    }
    b->n += k;
    return b->p + b->n - k;
}

static void wb_bytes(wbuf *b, const void *src, size_t k)
{
    unsigned char *d = (unsigned char *)wb_room(b, k);
    if (d != NULL && k) memcpy(d, src, k);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16),
    p[3] = (unsigned char)(v >> 24);
}

static void wb_u32(wbuf *b, uint32_t v)
{
    unsigned char *d = (unsigned char *)wb_room(b, 4);
    if (d != NULL) put_u32(d, v);
}
static void wb_i32(wbuf *b, int32_t v) { wb_u32(b, (uint32_t)v); }
static void wb_u64(wbuf *b, uint64_t v)
{
    wb_u32(b, (uint32_t)v);
    wb_u32(b, (uint32_t)(v >> 32));
}
static void wb_f32(wbuf *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    wb_u32(b, u);
}
static void wb_f32s(wbuf *b, const float *v, int64_t n)
{
    int64_t i;
    for (i = 0; i < n; i++) wb_f32(b, v[i]);
}
static void wb_zeros(wbuf *b, size_t k)
{
    unsigned char *d = (unsigned char *)wb_room(b, k);
    if (d != NULL && k) memset(d, 0, k);
}

/* ---- the model's arrays ----------------------------------------------------------------- */

typedef struct wtensor {
    int32_t     kind, block, dtype;
    const void *data;
    uint64_t    bytes, offset;
} wtensor;

typedef struct writer {
    const struct igq_model *m;
    const igq_qexec        *x;
    wtensor                *t;
    int                     n, cap, failed;
} writer;

static void add(writer *w, int32_t kind, int32_t block, int32_t dtype, const void *data,
                uint64_t bytes)
{
    if (data == NULL || w->failed) return;
    if (w->n == w->cap) {
        int      cap = w->cap ? 2 * w->cap : 64;
        wtensor *t   = (wtensor *)igq__malloc((size_t)cap * sizeof *t);
        if (t == NULL) {
            w->failed = 1;
            return;
        }
        if (w->n) memcpy(t, w->t, (size_t)w->n * sizeof *t);
        igq__free(w->t);
        w->t   = t;
        w->cap = cap;
    }
    w->t[w->n].kind  = kind;
    w->t[w->n].block = block;
    w->t[w->n].dtype = dtype;
    w->t[w->n].data  = data;
    w->t[w->n].bytes = bytes;
    w->n++;
}

static void add_f32(writer *w, int32_t kind, int32_t block, const float *v, int64_t n)
{
    add(w, kind, block, IGQF_F32, v, (uint64_t)n * 4u);
}

/* A linear layer: f32 [in][out] weights (fp32 and simulated models) or the executor's packed
 * ones with their sums (integer models), then the bias. */
static void add_linear(writer *w, int32_t wkind, int32_t block, int32_t qlin,
                       const igq_linear *l)
{
    if (w->x != NULL) {
        igq_qlin_packed p;
        int32_t         in, out, qs4;
        if (!igq__qexec_layer(w->x, qlin, &p, &in, &out, &qs4)) return;
        add(w, wkind, block, qs4 ? IGQF_QS4 : IGQF_QS8, p.packed,
            igq__qs8_packed_size(out, in, qs4 ? 4 : 8));
        add(w, IGQF_ROWSUM + wkind, block, IGQF_I32, p.rowsum, (uint64_t)out * 4u);
    } else {
        add_f32(w, wkind, block, l->wt, (int64_t)l->in * l->out);
    }
    add_f32(w, wkind + 1, block, l->b, l->out);
}

static void list_tensors(writer *w)
{
    const struct igq_model *m = w->m;
    const igq_vit_dims     *d = &m->d;
    const int64_t           D = d->dim;
    int32_t                 b;
    add_linear(w, IGQF_PATCH_W, -1, IGQ__QLIN_PATCH(d->depth), &m->patch);
    add_f32(w, IGQF_PREFIX, -1, m->prefix, (int64_t)d->n_prefix * D);
    add_f32(w, IGQF_POS, -1, m->pos, (int64_t)(d->pos_has_prefix ? d->n_tokens : d->n_patches) * D);
    add_f32(w, IGQF_NORM_W, -1, m->norm_w, D);
    add_f32(w, IGQF_NORM_B, -1, m->norm_b, D);
    add_f32(w, IGQF_FC_NORM_W, -1, m->fc_norm_w, D);
    add_f32(w, IGQF_FC_NORM_B, -1, m->fc_norm_b, D);
    if (d->classes > 0) /* else no classifier */
        add_linear(w, IGQF_HEAD_W, -1, IGQ__QLIN_PATCH(d->depth) + 1, &m->head);
    if (d->has_dist && d->classes > 0)
        add_linear(w, IGQF_HEAD_DIST_W, -1, IGQ__QLIN_PATCH(d->depth) + 2, &m->head_dist);
    for (b = 0; b < d->depth; b++) {
        const igq_block *k = &m->blocks[b];
        add_f32(w, IGQF_LN1_W, b, k->ln1_w, D);
        add_f32(w, IGQF_LN1_B, b, k->ln1_b, D);
        add_linear(w, IGQF_QKV_W, b, 4 * b, &k->qkv);
        add_linear(w, IGQF_PROJ_W, b, 4 * b + 1, &k->proj);
        add_f32(w, IGQF_LS1, b, k->ls1, D);
        add_f32(w, IGQF_LN2_W, b, k->ln2_w, D);
        add_f32(w, IGQF_LN2_B, b, k->ln2_b, D);
        add_linear(w, IGQF_FC1_W, b, 4 * b + 2, &k->fc1);
        add_linear(w, IGQF_FC2_W, b, 4 * b + 3, &k->fc2);
        add_f32(w, IGQF_LS2, b, k->ls2, D);
    }
}

/* ---- the small sections ------------------------------------------------------------------ */

static void grph(wbuf *s, const igq_vit_dims *d)
{
    wb_i32(s, 1);
    wb_i32(s, d->img_h), wb_i32(s, d->img_w), wb_i32(s, d->in_chans), wb_i32(s, d->patch);
    wb_i32(s, d->grid_h), wb_i32(s, d->grid_w), wb_i32(s, d->n_patches);
    wb_i32(s, d->n_prefix), wb_i32(s, d->n_tokens), wb_i32(s, d->dim), wb_i32(s, d->depth);
    wb_i32(s, d->heads), wb_i32(s, d->head_dim), wb_i32(s, d->mlp), wb_i32(s, d->classes);
    wb_i32(s, d->has_dist), wb_i32(s, d->pos_has_prefix), wb_i32(s, d->pool);
    wb_i32(s, d->naming);
    wb_f32(s, d->ln_eps);
    wb_zeros(s, 12);
}

/* The compact form of a weight quantizer (doc/igq-format.md, QUAN): 1 when every channel is
 * symmetric with the restricted range -(2^(b-1) - 1) .. 2^(b-1) - 1, 2 with the full range
 * -2^(b-1) .. 2^(b-1) - 1 (lo = -hi, zero 0, inv_scale = 1 / scale, bit for bit), else 0 (the
 * full record). */
static int weight_form(const struct igq_quantizer *z)
{
    const int32_t qmax = (1 << (z->bits - 1)) - 1;
    int           form = 0;
    int32_t       g;
    if (!z->is_weight || z->clo != NULL || z->n_params < 1) return 0;
    for (g = 0; g < z->n_params; g++) {
        const igq_qparams *p   = &z->qp[g];
        const float        nhi = -z->hi[g], inv = 1.0f / p->scale;
        const int          f   = p->qmin == -qmax ? 1 : p->qmin == -qmax - 1 ? 2 : 0;
        if (memcmp(&nhi, &z->lo[g], 4) != 0 || memcmp(&inv, &p->inv_scale, 4) != 0 ||
            p->zero != 0 || p->qmax != qmax || f == 0 || (form != 0 && f != form))
            return 0;
        form = f;
    }
    return form;
}

static void quan(wbuf *s, const igq_qstate *q)
{
    const size_t n_all = (size_t)(q->depth + 1) * IGQ__N_QSITES;
    size_t       i;
    uint32_t     count = 0;
    for (i = 0; i < n_all; i++) count += q->qz[i].present ? 1u : 0u;
    wb_u32(s, count);
    wb_u32(s, 0);
    for (i = 0; i < n_all; i++) {
        const struct igq_quantizer *z = &q->qz[i];
        const int cover = z->clo != NULL && z->chi != NULL;
        int       form;
        int32_t   g;
        if (!z->present) continue;
        form = weight_form(z);
        wb_i32(s, z->block), wb_i32(s, z->site), wb_i32(s, z->is_weight), wb_i32(s, z->bits);
        wb_i32(s, z->granularity), wb_i32(s, z->unsigned_only), wb_i32(s, z->rows);
        wb_i32(s, z->policy), wb_i32(s, z->n_params), wb_i32(s, cover);
        wb_i32(s, form);
        wb_zeros(s, 4);
        if (form != 0) { /* hi[n], scale[n]: 8 bytes a channel instead of 28 */
            wb_f32s(s, z->hi, z->n_params);
            for (g = 0; g < z->n_params; g++) wb_f32(s, z->qp[g].scale);
            continue;
        }
        wb_f32s(s, z->lo, z->n_params);
        wb_f32s(s, z->hi, z->n_params);
        if (cover) {
            wb_f32s(s, z->clo, z->n_params);
            wb_f32s(s, z->chi, z->n_params);
        }
        for (g = 0; g < z->n_params; g++) {
            wb_f32(s, z->qp[g].scale);
            wb_f32(s, z->qp[g].inv_scale);
            wb_i32(s, z->qp[g].zero);
            wb_i32(s, z->qp[g].qmin);
            wb_i32(s, z->qp[g].qmax);
        }
    }
}

/* JSON string body with the characters JSON requires escaped. */
static void json_str(wbuf *s, const char *v)
{
    wb_bytes(s, "\"", 1);
    for (; *v; v++) {
        const unsigned char c = (unsigned char)*v;
        if (c == '"' || c == '\\') {
            const char e[2] = {'\\', (char)c};
            wb_bytes(s, e, 2);
        } else if (c < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", (unsigned)c);
            wb_bytes(s, e, 6);
        } else {
            wb_bytes(s, v, 1);
        }
    }
    wb_bytes(s, "\"", 1);
}

static void json_raw(wbuf *s, const char *v) { wb_bytes(s, v, strlen(v)); }

static void prov(wbuf *s, const struct igq_model *m)
{
    char num[64];
    json_raw(s, "{\"format\": \"igq 1.0\", \"library\": ");
    snprintf(num, sizeof num, "libigq %s", igq_version_string());
    json_str(s, num);
    if (m->src_name != NULL) {
        json_raw(s, ", \"source\": ");
        json_str(s, m->src_name);
        snprintf(num, sizeof num, ", \"source_size\": %lld", (long long)m->src_size);
        json_raw(s, num);
    }
    if (m->q != NULL) {
        int i;
        json_raw(s, ", \"options\": {");
        for (i = 0; i < IGQ__N_PUBLIC_OPTIONS; i++) {
            const igq_option_info *o = igq__option_info(i);
            json_raw(s, i ? ", " : "");
            json_str(s, o->name);
            snprintf(num, sizeof num, ": %lld", (long long)m->q->opts[i]);
            json_raw(s, num);
        }
        json_raw(s, "}");
    }
    json_raw(s, "}\n");
}

/* ---- assembling the file ------------------------------------------------------------------ */

typedef struct wsection {
    uint32_t tag, flags;
    wbuf     b;        /* contents (all but DATA) */
    uint64_t offset, size;
    uint32_t crc;
} wsection;

static uint64_t round64(uint64_t v) { return (v + IGQF_ALIGN - 1) / IGQF_ALIGN * IGQF_ALIGN; }

static void put_u64(unsigned char *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static int write_all(int fd, const void *p, size_t n)
{
    const unsigned char *c = (const unsigned char *)p;
    while (n > 0) {
        const ssize_t r = write(fd, c, n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        c += r;
        n -= (size_t)r;
    }
    return 1;
}

static int write_zeros(int fd, uint64_t n)
{
    static const unsigned char z[IGQF_ALIGN] = {0};
    while (n > 0) {
        const size_t k = n > sizeof z ? sizeof z : (size_t)n;
        if (!write_all(fd, z, k)) return 0;
        n -= k;
    }
    return 1;
}

enum { S_GRPH, S_PREP, S_PPRC, S_LABL, S_QCFG, S_QUAN, S_PROV, S_TDIR, S_DATA, S_N };

static igq_status emit(const char *path, const char *tmp, wsection *sec, int nsec,
                       const writer *w, uint64_t file_size)
{
    unsigned char head[IGQF_HEADER], *table;
    const size_t  table_bytes = (size_t)nsec * IGQF_ENTRY;
    uint64_t      pos;
    int           i, fd, ok = 1;
    char          ebuf[128];
    table = (unsigned char *)igq__calloc(1, (size_t)round64(table_bytes));
    IGQ_CHECK(table != NULL, IGQ_ERR_NO_MEMORY, "igq_model_save: out of memory");
    for (i = 0; i < nsec; i++) {
        unsigned char *e = table + (size_t)i * IGQF_ENTRY;
        put_u32(e, sec[i].tag);
        put_u32(e + 4, sec[i].flags);
        put_u64(e + 8, sec[i].offset);
        put_u64(e + 16, sec[i].size);
        put_u32(e + 24, sec[i].crc);
    }
    memset(head, 0, sizeof head);
    memcpy(head, IGQF_MAGIC, 8);
    head[8]  = IGQF_MAJOR, head[10] = IGQF_MINOR;
    put_u32(head + 12, IGQF_HEADER);
    put_u64(head + 16, file_size);
    put_u64(head + 24, IGQF_HEADER);
    put_u32(head + 32, (uint32_t)nsec);
    put_u32(head + 36, igq__kernels()->crc32c(0, table, table_bytes));
    put_u32(head + 60, igq__kernels()->crc32c(0, head, 60));

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        const int e = errno;
        igq__free(table);
        if (strerror_r(e, ebuf, sizeof ebuf) != 0) snprintf(ebuf, sizeof ebuf, "error %d", e);
        return igq__set_error(IGQ_ERR_IO, "igq_model_save: cannot create '%s': %s", tmp, ebuf);
    }
    ok  = write_all(fd, head, sizeof head) && write_all(fd, table, (size_t)round64(table_bytes));
    pos = IGQF_HEADER + round64(table_bytes);
    for (i = 0; ok && i < nsec; i++) {
        ok = write_zeros(fd, sec[i].offset - pos);
        if (ok && sec[i].tag == IGQF_DATA) {
            uint64_t at = 0;
            int      j;
            for (j = 0; ok && j < w->n; j++) {
                ok = write_zeros(fd, w->t[j].offset - at) &&
                     write_all(fd, w->t[j].data, (size_t)w->t[j].bytes);
                at = w->t[j].offset + w->t[j].bytes;
            }
        } else if (ok) {
            ok = write_all(fd, sec[i].b.p, sec[i].b.n);
        }
        pos = sec[i].offset + sec[i].size;
    }
    igq__free(table);
    if (ok) ok = fsync(fd) == 0;
    if (close(fd) != 0) ok = 0;
    if (ok && rename(tmp, path) == 0) return IGQ_OK;
    {
        const int e = errno;
        unlink(tmp);
        if (strerror_r(e, ebuf, sizeof ebuf) != 0) snprintf(ebuf, sizeof ebuf, "error %d", e);
        return igq__set_error(IGQ_ERR_IO, "igq_model_save: cannot write '%s': %s", path, ebuf);
    }
}

igq_status igq__igqf_save(const struct igq_model *m, const char *path)
{
    const igq_kernel_table *kt = igq__kernels();
    writer                  w;
    wsection                sec[S_N];
    int                     i, j, nsec = 0;
    uint64_t                at = 0, data_crc_len = 0;
    uint32_t                data_crc = 0;
    char                   *tmp = NULL;
    igq_status              s   = IGQ_OK;
    IGQ_CHECK(igq__igqf_little_endian(), IGQ_ERR_UNSUPPORTED,
              "igq_model_save: .igq files are little-endian; this host is big-endian");
    memset(&w, 0, sizeof w);
    memset(sec, 0, sizeof sec);
    w.m = m;
    w.x = m->q != NULL ? m->q->x : NULL;
    list_tensors(&w);

    /* DATA: each array at a multiple of 64; its checksum runs over the padding too */
    for (j = 0; j < w.n; j++) {
        static const unsigned char z[IGQF_ALIGN] = {0};
        const uint64_t             off = round64(at);
        if (off > at) data_crc = kt->crc32c(data_crc, z, (size_t)(off - at));
        w.t[j].offset = off;
        data_crc      = kt->crc32c(data_crc, w.t[j].data, (size_t)w.t[j].bytes);
        at            = off + w.t[j].bytes;
    }
    data_crc_len = at;

    sec[S_GRPH].tag = IGQF_GRPH, sec[S_GRPH].flags = IGQF_REQUIRED;
    grph(&sec[S_GRPH].b, &m->d);
    if (m->has_norm_stats) {
        sec[S_PREP].tag = IGQF_PREP;
        wb_u32(&sec[S_PREP].b, (uint32_t)m->d.in_chans);
        wb_u32(&sec[S_PREP].b, 0);
        wb_f32s(&sec[S_PREP].b, m->mean, m->d.in_chans);
        wb_f32s(&sec[S_PREP].b, m->std, m->d.in_chans);
    }
    if (m->n_labels > 0) { /* count, then count end offsets, then the NUL-terminated names */
        uint32_t end = 0;
        sec[S_LABL].tag = IGQF_LABL;
        wb_u32(&sec[S_LABL].b, (uint32_t)m->n_labels);
        wb_u32(&sec[S_LABL].b, 0);
        for (i = 0; i < m->n_labels; i++) {
            end += (uint32_t)strlen(m->labels[i]) + 1u;
            wb_u32(&sec[S_LABL].b, end);
        }
        for (i = 0; i < m->n_labels; i++)
            wb_bytes(&sec[S_LABL].b, m->labels[i], strlen(m->labels[i]) + 1);
    }
    if (m->has_preproc) {
        /* only a declared transform: a file without PPRC keeps the naming scheme's default */
        wbuf *b         = &sec[S_PPRC].b;
        sec[S_PPRC].tag = IGQF_PPRC;
        wb_u32(b, (uint32_t)m->preproc.resize_mode);
        wb_i32(b, m->preproc.resize_h);
        wb_i32(b, m->preproc.resize_w);
        wb_i32(b, m->preproc.interp);
        wb_f32(b, m->preproc.rescale_div);
        wb_i32(b, m->d.img_h);
        wb_i32(b, m->d.img_w);
        wb_u32(b, 0);
    }
    if (m->q != NULL) {
        sec[S_QCFG].tag = IGQF_QCFG, sec[S_QCFG].flags = IGQF_REQUIRED;
        wb_u32(&sec[S_QCFG].b, w.x != NULL ? IGQ_EXECUTOR_INT : IGQ_EXECUTOR_SIM);
        wb_u32(&sec[S_QCFG].b, IGQ__N_PUBLIC_OPTIONS);
        for (i = 0; i < IGQ__N_PUBLIC_OPTIONS; i++) wb_u64(&sec[S_QCFG].b, (uint64_t)m->q->opts[i]);
        sec[S_QUAN].tag = IGQF_QUAN, sec[S_QUAN].flags = IGQF_REQUIRED;
        quan(&sec[S_QUAN].b, m->q);
    }
    sec[S_PROV].tag = IGQF_PROV;
    prov(&sec[S_PROV].b, m);
    sec[S_TDIR].tag = IGQF_TDIR, sec[S_TDIR].flags = IGQF_REQUIRED;
    wb_u32(&sec[S_TDIR].b, (uint32_t)w.n);
    wb_u32(&sec[S_TDIR].b, 0);
    for (j = 0; j < w.n; j++) {
        wbuf *b = &sec[S_TDIR].b;
        unsigned char *e = (unsigned char *)wb_room(b, 4);
        if (e != NULL) {
            e[0] = (unsigned char)w.t[j].kind, e[1] = (unsigned char)(w.t[j].kind >> 8);
            e[2] = (unsigned char)w.t[j].dtype, e[3] = (unsigned char)(w.t[j].dtype >> 8);
        }
        wb_i32(b, w.t[j].block);
        wb_u64(b, w.t[j].offset);
        wb_u64(b, w.t[j].bytes);
        wb_u64(b, 0);
    }
    sec[S_DATA].tag = IGQF_DATA, sec[S_DATA].flags = IGQF_REQUIRED;

    /* drop absent sections, place the rest */
    for (i = 0; i < S_N; i++) {
        if (sec[i].tag == 0) continue;
        if (sec[i].b.failed || w.failed) s = igq__set_error(IGQ_ERR_NO_MEMORY, "igq_model_save: out of memory");
        sec[nsec++] = sec[i];
    }
    if (s == IGQ_OK) {
        uint64_t pos = IGQF_HEADER + round64((uint64_t)nsec * IGQF_ENTRY);
        for (i = 0; i < nsec; i++) {
            sec[i].offset = round64(pos);
            if (sec[i].tag == IGQF_DATA) {
                sec[i].size = data_crc_len;
                sec[i].crc  = data_crc;
            } else {
                sec[i].size = sec[i].b.n;
                sec[i].crc  = kt->crc32c(0, sec[i].b.p, sec[i].b.n);
            }
            pos = sec[i].offset + sec[i].size;
        }
        {
            const size_t n = strlen(path);
            tmp            = (char *)igq__malloc(n + 32);
            if (tmp == NULL)
                s = igq__set_error(IGQ_ERR_NO_MEMORY, "igq_model_save: out of memory");
            else
                snprintf(tmp, n + 32, "%s.%ld.tmp", path, (long)getpid());
        }
        if (s == IGQ_OK) s = emit(path, tmp, sec, nsec, &w, pos);
    }
    for (i = 0; i < nsec; i++) igq__free(sec[i].b.p);
    igq__free(tmp);
    igq__free(w.t);
    return s;
}
