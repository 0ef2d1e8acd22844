/* PyTorch checkpoints (see pth.h): zip directory (zip.c) → data.pkl through the restricted
 * pickle reader (pickle.c) → the state dict's tensors, each checked against its storage entry,
 * as an igq_safetensors table whose ranges point into the mapped archive.
 *
 * Stored storage entries are used in place and their CRC-32 is not computed: that would read
 * every page of a large checkpoint at open time (safetensors files carry no checksum either).
 * The entries read whole (data.pkl, byteorder, deflated storages) are checked. */
#include "pth.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "image.h"
#include "pickle.h"
#include "zip.h"

/* Longest name shown in a message. */
#define NAME_SHOWN 200
/* A storage key (not NUL-terminated) for "%.*s". */
#define KEY_SHOWN(s) ((int)((s)->key_len < NAME_SHOWN ? (s)->key_len : NAME_SHOWN))
/* Longest archive prefix + storage key (entry names are at most 65,535 bytes). */
#define ENTRY_CAP 1024

/* torch.save's legacy format starts with pickle protocol 2 and the magic number
 * 0x1950a86a20f9469cfc6c as LONG1 (10 bytes). */
static const unsigned char k_legacy[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                         0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

int igq__pth_is_zip(const unsigned char *data, size_t size)
{
    return size >= 4 && data[0] == 'P' && data[1] == 'K' &&
           ((data[2] == 3 && data[3] == 4) || (data[2] == 5 && data[3] == 6));
}

int igq__pth_is_legacy(const unsigned char *data, size_t size)
{
    return size >= sizeof k_legacy && memcmp(data, k_legacy, sizeof k_legacy) == 0;
}

int igq__pth_is_pickle(const unsigned char *data, size_t size)
{
    return size >= 2 && data[0] == 0x80 && data[1] >= 2 && data[1] <= 5;
}

igq_status igq__pth_refuse_pickle(const unsigned char *data, size_t size, const char *path)
{
    if (igq__pth_is_legacy(data, size))
        return igq__set_error(IGQ_ERR_UNSUPPORTED,
                              "%s: legacy PyTorch checkpoint format (torch < 1.6 or "
                              "_use_new_zipfile_serialization=False) is not read; re-save it "
                              "with torch.save in a current PyTorch (zip format), or as "
                              "safetensors",
                              path);
    return igq__set_error(IGQ_ERR_UNSUPPORTED,
                          "%s: a bare pickle stream, not a torch.save zip archive; re-save the "
                          "state dict with torch.save in a current PyTorch",
                          path);
}

/* A deflated storage entry, inflated behind the archive's bytes (at file size + at). */
typedef struct defl {
    const igq__zip_entry *e;
    uint64_t              at;
} defl;

typedef struct pth {
    igq_safetensors     *st;
    defl                *defl; /* one per deflated storage entry a tensor uses */
    size_t               n_defl;
    uint64_t             defl_bytes;
    igq__zip             z;
    igq__pickle         *pk;
    const unsigned char *pkl;
    void                *pkl_owned;
    char                 prefix[ENTRY_CAP]; /* "<archive>/" */
    size_t               prefix_len;
    char                 who[ENTRY_CAP + 64]; /* "<path>: <archive>/data.pkl" */
} pth;

/* Finds "<prefix>/data.pkl" (the one entry named so with a single '/'). */
static igq_status find_pickle(pth *P, const igq__zip_entry **pkl)
{
    const char *path = P->st->path;
    size_t      i, found = 0;
    *pkl = NULL;
    for (i = 0; i < P->z.count; i++) {
        const char  *nm    = P->z.entries[i].name;
        const char  *slash = strchr(nm, '/');
        const size_t len   = strlen(nm);
        if (slash != NULL && strcmp(slash, "/data.pkl") == 0) {
            found++;
            *pkl = &P->z.entries[i];
            IGQ_CHECK((size_t)(slash - nm) + 1 < ENTRY_CAP - 64, IGQ_ERR_UNSUPPORTED,
                      "%s: archive prefix of %zu bytes is too long", path, len);
            P->prefix_len = (size_t)(slash - nm) + 1;
            memcpy(P->prefix, nm, P->prefix_len);
            P->prefix[P->prefix_len] = '\0';
        }
    }
    IGQ_CHECK(found == 1, IGQ_ERR_FORMAT,
              "%s: zip archive holds %zu '<name>/data.pkl' entries, not one: not a torch.save "
              "checkpoint",
              path, found);
    snprintf(P->who, sizeof P->who, "%s: %.*s", path, NAME_SHOWN, (*pkl)->name);
    /* TorchScript archives (torch.jit.save) hold code beside data.pkl. */
    {
        char nm[ENTRY_CAP + 16];
        snprintf(nm, sizeof nm, "%sconstants.pkl", P->prefix);
        IGQ_CHECK(igq__zip_find(&P->z, nm) == NULL, IGQ_ERR_UNSUPPORTED,
                  "%s: a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save "
                  "the module's state_dict() with torch.save",
                  path);
    }
    return IGQ_OK;
}

static igq_status check_byteorder(pth *P)
{
    char                  nm[ENTRY_CAP + 16];
    const igq__zip_entry *e;
    const unsigned char  *d;
    void                 *owned;
    int                   little;
    snprintf(nm, sizeof nm, "%sbyteorder", P->prefix);
    e = igq__zip_find(&P->z, nm);
    if (e == NULL) return IGQ_OK; /* before torch 2.0: always little-endian */
    IGQ_TRY(igq__zip_read(&P->z, e, 16, &d, &owned));
    little = e->usize == 6 && memcmp(d, "little", 6) == 0;
    igq__free(owned);
    IGQ_CHECK(little, IGQ_ERR_UNSUPPORTED,
              "%s: '%s' is not \"little\": big-endian checkpoints are not read", P->st->path, nm);
    return IGQ_OK;
}

/* 1 if dict node d has a tensor among its values. */
static int has_tensors(const igq__pickle *pk, int64_t d)
{
    const igq__pk_node *nd;
    uint32_t            i;
    if (d < 0 || pk->nodes[d].kind != IGQ__PK_DICT) return 0;
    nd = &pk->nodes[d];
    for (i = 1; i < nd->n; i += 2)
        if (pk->nodes[nd->items[i]].kind == IGQ__PK_TENSOR) return 1;
    return 0;
}

/* The state dict: the root, or a wrapper's value, or a wrapper's wrapper's value. */
static igq_status find_state_dict(const pth *P, uint32_t *sd, char *where, size_t cap)
{
    static const char *const wrappers[] = {IGQ__PTH_WRAPPERS};
    const igq__pickle       *pk = P->pk;
    const size_t             nw = sizeof wrappers / sizeof wrappers[0];
    size_t                   i, j;
    IGQ_CHECK(pk->nodes[pk->root].kind == IGQ__PK_DICT, IGQ_ERR_FORMAT,
              "%s: the checkpoint holds a pickled %s, not a dict of tensors (a state dict)",
              P->st->path,
              pk->nodes[pk->root].kind == IGQ__PK_TENSOR ? "tensor" :
              pk->nodes[pk->root].kind == IGQ__PK_LIST   ? "list" :
              pk->nodes[pk->root].kind == IGQ__PK_TUPLE  ? "tuple" : "value");
    where[0] = '\0';
    if (has_tensors(pk, pk->root)) {
        *sd = pk->root;
        return IGQ_OK;
    }
    for (i = 0; i < nw; i++) {
        const int64_t v = igq__pickle_dict_get(pk, pk->root, wrappers[i]);
        if (has_tensors(pk, v)) {
            *sd = (uint32_t)v;
            snprintf(where, cap, "%s", wrappers[i]);
            return IGQ_OK;
        }
    }
    for (i = 0; i < nw; i++) {
        const int64_t v = igq__pickle_dict_get(pk, pk->root, wrappers[i]);
        if (v < 0) continue;
        for (j = 0; j < nw; j++) {
            const int64_t w = igq__pickle_dict_get(pk, (uint32_t)v, wrappers[j]);
            if (has_tensors(pk, w)) {
                *sd = (uint32_t)w;
                snprintf(where, cap, "%s.%s", wrappers[i], wrappers[j]);
                return IGQ_OK;
            }
        }
    }
    return igq__set_error(IGQ_ERR_FORMAT,
                          "%s: no state dict: the top-level dict holds no tensors, nor does its "
                          "'state_dict', 'model', 'model_state_dict' or 'module' entry",
                          P->st->path);
}

/* Checks tensor t (named name) and fills e: shape, dtype, its byte range in the archive. */
static igq_status tensor_entry(pth *P, const igq__pk_tensor *t, const char *name,
                               igq_st_tensor *e)
{
    const char            *path = P->st->path;
    const igq__pk_storage *s    = &P->pk->storages[P->pk->nodes[t->storage].u.i];
    const uint64_t         esize = (uint64_t)igq__st_dtype_bits(s->dtype) / 8;
    char                   nm[ENTRY_CAP];
    const igq__zip_entry  *ze;
    int64_t                numel = 1, expect = 1;
    int32_t                i;

    IGQ_CHECK(t->ndim <= IGQ_MAX_DIMS, IGQ_ERR_UNSUPPORTED,
              "%s: tensor '%.*s' has %d dimensions (at most %d)", path, NAME_SHOWN, name,
              (int)t->ndim, IGQ_MAX_DIMS);
    for (i = 0; i < t->ndim; i++) {
        IGQ_CHECK(t->size[i] >= 0, IGQ_ERR_FORMAT, "%s: tensor '%.*s': negative size %lld",
                  path, NAME_SHOWN, name, (long long)t->size[i]);
        IGQ_CHECK(t->size[i] == 0 || numel <= INT64_MAX / t->size[i], IGQ_ERR_FORMAT,
                  "%s: tensor '%.*s': its sizes overflow 64 bits", path, NAME_SHOWN, name);
        numel *= t->size[i];
    }
    for (i = t->ndim - 1; i >= 0 && numel > 0; i--) {
        if (t->size[i] != 1 && t->stride[i] != expect) {
            char   buf[256];
            size_t n = 0;
            int32_t k;
            for (k = 0; k < t->ndim && n < sizeof buf; k++)
                n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%lld/%lld", k ? ", " : "",
                                      (long long)t->size[k], (long long)t->stride[k]);
            return igq__set_error(IGQ_ERR_UNSUPPORTED,
                                  "%s: tensor '%.*s' is not contiguous (size/stride %s); save "
                                  "it after .contiguous()",
                                  path, NAME_SHOWN, name, buf);
        }
        expect *= t->size[i];
    }
    IGQ_CHECK(t->offset >= 0 && t->offset <= s->numel && numel <= s->numel - t->offset,
              IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': elements [%lld, +%lld) run past the end of its storage '%.*s' "
              "of %lld elements",
              path, NAME_SHOWN, name, (long long)t->offset, (long long)numel, KEY_SHOWN(s), s->key,
              (long long)s->numel);
    IGQ_CHECK(P->prefix_len + 5 + s->key_len < sizeof nm && memchr(s->key, 0, s->key_len) == NULL,
              IGQ_ERR_FORMAT, "%s: tensor '%.*s': storage key of %zu bytes is not a valid name",
              path, NAME_SHOWN, name, s->key_len);
    memcpy(nm, P->prefix, P->prefix_len);
    memcpy(nm + P->prefix_len, "data/", 5);
    memcpy(nm + P->prefix_len + 5, s->key, s->key_len);
    nm[P->prefix_len + 5 + s->key_len] = '\0';
    ze = igq__zip_find(&P->z, nm);
    IGQ_CHECK(ze != NULL, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': its storage '%.*s' is missing from the archive (no entry "
              "'%.*s')",
              path, NAME_SHOWN, name, KEY_SHOWN(s), s->key, NAME_SHOWN, nm);
    IGQ_CHECK((uint64_t)s->numel <= UINT64_MAX / esize && (uint64_t)s->numel * esize == ze->usize,
              IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': storage '%.*s' declares %lld elements of %d bytes, but its "
              "entry holds %llu bytes",
              path, NAME_SHOWN, name, KEY_SHOWN(s), s->key, (long long)s->numel, (int)esize,
              (unsigned long long)ze->usize);
    e->dtype = s->dtype;
    e->ndim  = t->ndim;
    for (i = 0; i < t->ndim; i++) e->shape[i] = t->size[i];
    e->numel = numel;
    if (ze->method == IGQ__ZIP_STORED) {
        e->begin = ze->offset;
    } else {
        size_t k;
        for (k = 0; k < P->n_defl && P->defl[k].e != ze; k++) continue;
        if (k == P->n_defl) {
            /* Deflate produces at most 1032 bytes per input byte (258-byte matches in 2 bits):
             * a larger declared size is refused before anything is allocated for it. */
            IGQ_CHECK(ze->usize / 1032 <= ze->csize, IGQ_ERR_FORMAT,
                      "%s: zip entry '%.*s' declares %llu bytes, more than deflate can produce "
                      "from %llu",
                      path, NAME_SHOWN, ze->name, (unsigned long long)ze->usize,
                      (unsigned long long)ze->csize);
            IGQ_CHECK(ze->usize <= (uint64_t)SIZE_MAX - P->st->size - P->defl_bytes,
                      IGQ_ERR_NO_MEMORY, "%s: deflated storages too large to inflate", path);
            P->defl[P->n_defl].e  = ze;
            P->defl[P->n_defl].at = P->defl_bytes;
            P->defl_bytes += ze->usize;
            P->n_defl++;
        }
        e->begin = (uint64_t)P->st->size + P->defl[k].at;
    }
    e->begin += (uint64_t)t->offset * esize;
    e->end = e->begin + (uint64_t)numel * esize;
    return IGQ_OK;
}

/* Deflated storages (an archive re-zipped with compression; torch.save never compresses):
 * the archive is copied into an owned buffer followed by the inflated storages, which the
 * table's ranges already point at; the mapping is released. */
static igq_status inflate_storages(pth *P)
{
    igq_safetensors *st    = P->st;
    const size_t     total = st->size + (size_t)P->defl_bytes;
    unsigned char   *buf;
    size_t           k;
    if (P->n_defl == 0) return IGQ_OK;
    buf = (unsigned char *)igq__malloc(total ? total : 1);
    IGQ_CHECK(buf != NULL, IGQ_ERR_NO_MEMORY,
              "%s: out of memory for %zu bytes of archive and inflated storages", st->path, total);
    memcpy(buf, st->buf, st->size);
    for (k = 0; k < P->n_defl; k++) {
        const igq__zip_entry *e   = P->defl[k].e;
        unsigned char        *out = buf + st->size + (size_t)P->defl[k].at;
        char                  who[NAME_SHOWN + 512];
        igq_status            s;
        snprintf(who, sizeof who, "%s: zip entry '%.*s' (deflated)", st->path, NAME_SHOWN,
                 e->name);
        s = igq__deflate_inflate(P->z.buf + (size_t)e->offset, (size_t)e->csize, out,
                                 (size_t)e->usize, who);
        if (s == IGQ_OK && igq__crc32(0, out, (size_t)e->usize) != e->crc)
            s = igq__set_error(IGQ_ERR_FORMAT, "%s: CRC-32 mismatch", who);
        if (s != IGQ_OK) {
            igq__free(buf);
            return s;
        }
    }
    igq__map_release(&st->map);
    st->map.data  = buf;
    st->map.size  = total;
    st->map.owned = buf;
    st->buf       = buf;
    st->size      = total;
    P->z.buf      = buf; /* the archive's bytes are at the same offsets in the copy */
    return IGQ_OK;
}

static igq_status build_table(pth *P)
{
    const igq__pickle  *pk = P->pk;
    igq_safetensors    *st = P->st;
    const igq__pk_node *sd;
    uint32_t            sdi = 0, i;
    size_t              n = 0, bytes = 0, k = 0, strip = 7, used = 0;
    char                where[64];

    IGQ_TRY(find_state_dict(P, &sdi, where, sizeof where));
    sd = &pk->nodes[sdi];
    for (i = 0; i + 1 < sd->n; i += 2) {
        const igq__pk_node *key = &pk->nodes[sd->items[i]];
        if (pk->nodes[sd->items[i + 1]].kind != IGQ__PK_TENSOR) continue;
        IGQ_CHECK(key->kind == IGQ__PK_STR && key->u.s.len > 0 &&
                      memchr(key->u.s.p, 0, key->u.s.len) == NULL,
                  IGQ_ERR_FORMAT,
                  "%s: state dict%s%s: a tensor's key is not a non-empty string without NUL "
                  "bytes",
                  st->path, where[0] ? " under " : "", where);
        if (key->u.s.len <= 7 || memcmp(key->u.s.p, "module.", 7) != 0) strip = 0;
        n++;
        bytes += key->u.s.len + 1;
    }
    st->strings = (char *)igq__malloc(bytes ? bytes : 1);
    IGQ_CHECK(st->strings != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory for tensor names",
              st->path);
    IGQ_TRY(igq__st_alloc_table(st, n));
    P->defl = (defl *)igq__calloc(n ? n : 1, sizeof *P->defl);
    IGQ_CHECK(P->defl != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", st->path);
    for (i = 0; i + 1 < sd->n; i += 2) {
        const igq__pk_node *key = &pk->nodes[sd->items[i]];
        const igq__pk_node *val = &pk->nodes[sd->items[i + 1]];
        char               *name;
        size_t              len;
        if (val->kind != IGQ__PK_TENSOR) continue;
        len  = key->u.s.len - strip;
        name = st->strings + used;
        memcpy(name, key->u.s.p + strip, len);
        name[len] = '\0';
        used += len + 1;
        st->tensors[k].name = name;
        IGQ_TRY(tensor_entry(P, &pk->tensors[val->u.i], name, &st->tensors[k]));
        k++;
    }
    IGQ_TRY(inflate_storages(P));
    return igq__st_index_names(st);
}

static igq_status parse(igq_safetensors *st)
{
    pth                   P;
    const igq__zip_entry *pkl;
    igq_status            s;
    memset(&P, 0, sizeof P);
    P.st = st;
    IGQ_TRY(igq__zip_open(st->buf, st->size, st->path, &P.z));
    s = find_pickle(&P, &pkl);
    if (s == IGQ_OK) s = check_byteorder(&P);
    if (s == IGQ_OK) s = igq__zip_read(&P.z, pkl, IGQ__PICKLE_MAX_BYTES, &P.pkl, &P.pkl_owned);
    if (s == IGQ_OK) s = igq__pickle_load(P.pkl, (size_t)pkl->usize, P.who, &P.pk);
    if (s == IGQ_OK) s = build_table(&P);
    igq__pickle_free(P.pk);
    igq__free(P.defl);
    igq__free(P.pkl_owned);
    igq__zip_close(&P.z);
    return s;
}

igq_status igq__pth_parse_map(igq_map *map, const char *path, igq_safetensors **out)
{
    return igq__st_from_map(map, path, parse, out);
}

igq_status igq__pth_parse(const void *data, size_t size, const char *name, igq_safetensors **out)
{
    igq_map map;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "pth: out is NULL");
    *out = NULL;
    if (name == NULL) name = "<memory>";
    IGQ_CHECK(data != NULL || size == 0, IGQ_ERR_INVALID_ARGUMENT, "%s: data is NULL", name);
    IGQ_TRY(igq__map_copy(data, size, name, &map));
    return igq__pth_parse_map(&map, name, out);
}
