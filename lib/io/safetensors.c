/* Bounds-checked safetensors reader (see safetensors.h, ALGORITHMS.md 6.5).
 *
 * The whole file is a read-only view (igq_map): mapped when opened by path, so a checkpoint is
 * never copied whole and its tensors are converted straight from the page cache; an owned copy
 * when parsed from a caller's buffer. Nothing here relies on a terminator after the last byte
 * (the JSON functions take a length). Validation follows the reference reader: the header is a
 * JSON object whose members are tensors ({"dtype", "shape", "data_offsets"}, nothing else)
 * plus an optional "__metadata__" object of strings; sorted by begin, the tensors tile the
 * data buffer exactly (first at 0, no gap, no overlap, last end == buffer size), and each
 * tensor's byte range equals numel * bits / 8. After that every tensor's range is known to lie
 * inside the buffer, so reads need no further checks.
 *
 * The header is never turned into a JSON tree (which cost about 50 times its size, all of it
 * spent before a hostile header could be refused). It is read in passes over the text, each
 * linear in its size:
 *   1. igq__json_check: the syntax, with the JSON parser's messages; allocates nothing.
 *   2. a walk that checks __metadata__ and then every tensor entry in full (each value is
 *      located, then read: an array where a shape is expected is counted, never stored, and
 *      refused when longer than IGQ_MAX_DIMS), and counts entries and string bytes; allocates
 *      nothing. Tensors that hold data cannot outnumber the data buffer's bytes: refused here.
 *   3. tables of exactly the counted sizes, then a second walk over the same text fills them.
 * The memory this costs is bounded by the header's size N: the strings table holds at most N
 * bytes (decoding never grows a string and its quotes pay for the terminator); a tensor takes
 * 112 bytes (entry + name index) plus 8 while sorting, for at least MIN_ENTRY = 49 bytes of
 * header; a metadata entry 16 bytes for at least 6 ("k":"v",). So the peak beyond the file
 * itself is below 3 N plus a constant (2.5 N for a header of tensors), checked by
 * test_safetensors with hostile headers.
 *
 * Lookup by name: the tensors array is allocated with room behind it for an index of
 * positions sorted by name (binary search), so igq__st_find is O(log n) without widening the
 * struct in the header. The metadata entries are kept sorted by key for the same reason. */
#include "safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../core/fp16.h"
#include "file.h"
#include "json.h"

/* Longest tensor/key name shown in a message. */
#define NAME_SHOWN 256

static const struct {
    const char  *name;
    igq_st_dtype dtype;
    int          bits;
} k_dtypes[] = {
    {"BOOL", IGQ_ST_BOOL, 8},
    {"U8", IGQ_ST_U8, 8},
    {"I8", IGQ_ST_I8, 8},
    {"I16", IGQ_ST_I16, 16},
    {"U16", IGQ_ST_U16, 16},
    {"F16", IGQ_ST_F16, 16},
    {"BF16", IGQ_ST_BF16, 16},
    {"I32", IGQ_ST_I32, 32},
    {"U32", IGQ_ST_U32, 32},
    {"F32", IGQ_ST_F32, 32},
    {"I64", IGQ_ST_I64, 64},
    {"U64", IGQ_ST_U64, 64},
    {"F64", IGQ_ST_F64, 64},
    {"C64", IGQ_ST_C64, 64},
    {"F8_E4M3", IGQ_ST_F8_E4M3, 8},
    {"F8_E5M2", IGQ_ST_F8_E5M2, 8},
    {"F8_E4M3FNUZ", IGQ_ST_F8_E4M3FNUZ, 8},
    {"F8_E5M2FNUZ", IGQ_ST_F8_E5M2FNUZ, 8},
    {"F8_E8M0", IGQ_ST_F8_E8M0, 8},
    {"F4", IGQ_ST_F4, 4},
    {"F6_E2M3", IGQ_ST_F6_E2M3, 6},
    {"F6_E3M2", IGQ_ST_F6_E3M2, 6},
};
#define N_DTYPES (sizeof k_dtypes / sizeof k_dtypes[0])

int igq__st_dtype_bits(igq_st_dtype dtype)
{
    size_t i;
    for (i = 0; i < N_DTYPES; i++)
        if (k_dtypes[i].dtype == dtype) return k_dtypes[i].bits;
    return 0;
}

const char *igq__st_dtype_name(igq_st_dtype dtype)
{
    size_t i;
    for (i = 0; i < N_DTYPES; i++)
        if (k_dtypes[i].dtype == dtype) return k_dtypes[i].name;
    return "?";
}

void igq__st_close(igq_safetensors *st)
{
    if (st == NULL) return;
    igq__free(st->path);
    igq__map_release(&st->map);
    igq__free(st->strings);
    igq__free(st->tensors);
    igq__free(st->metadata);
    igq__free(st);
}

/* The name index lives right behind tensors[count] (see the file comment). */
static size_t *name_index(const igq_safetensors *st) { return (size_t *)(st->tensors + st->count); }

/* Formats "[d0, d1, ...]" into buf (always NUL-terminated). */
static const char *fmt_shape(const igq_st_tensor *t, char *buf, size_t cap)
{
    size_t  n = 0;
    int32_t i;
    n += (size_t)snprintf(buf, cap, "[");
    for (i = 0; i < t->ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
    return buf;
}

/* ---- the header: a walk over text that igq__json_check accepted -------------------------- */

/* The shortest tensor entry, "":{"dtype":"U8","shape":[],"data_offsets":[0,0]}, and the ','
 * that separates it from the next take 49 bytes, so an N-byte header lists at most N / 49
 * tensors (the first pass counts them exactly; this is the bound the memory cost rests on). */
#define MIN_ENTRY 49

/* Where a tensor entry's three values start; NONE when absent. */
#define NONE ((size_t)-1)
enum { K_DTYPE, K_SHAPE, K_OFFSETS, N_KEYS };
static const char *const k_keys[N_KEYS] = {"dtype", "shape", "data_offsets"};

typedef struct hdr {
    const char *s; /* the header text, n bytes: one JSON value (igq__json_check) */
    size_t      n, pos;
    const char *path;
    uint64_t    data_size;
    size_t      top;       /* byte of the top-level '{' */
    size_t      meta_at;   /* byte of the __metadata__ object's '{' */
    int         seen_meta; /* __metadata__ members met in this walk */
    int         fill;      /* 0: check and count; 1: fill the tables allocated from the counts */
    /* counted by the first walk */
    size_t n_tensors, n_with_data, n_meta, n_bytes;
    /* filled by the second */
    igq_st_tensor *tensors;
    igq_st_meta   *meta;
    char          *strings;
    size_t         k_tensor, k_meta, used;
} hdr;

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The next non-blank byte ('\0' at the end; the walk never goes there on checked text). */
static char peek(hdr *h)
{
    while (h->pos < h->n && is_ws(h->s[h->pos])) h->pos++;
    return h->pos < h->n ? h->s[h->pos] : '\0';
}

/* The next non-blank byte, consumed (a ',', ':' or closing bracket of checked text). */
static char next(hdr *h)
{
    char c = peek(h);
    if (h->pos < h->n) h->pos++;
    return c;
}

static void skip_string(hdr *h)
{
    h->pos++;
    while (h->pos < h->n && h->s[h->pos] != '"') h->pos += h->s[h->pos] == '\\' ? 2 : 1;
    h->pos++;
}

/* Skips one value, however large, without recursion: the text is known to be valid. */
static void skip_value(hdr *h)
{
    size_t depth = 0;
    char   c     = peek(h);
    if (c == '"') {
        skip_string(h);
        return;
    }
    if (c != '{' && c != '[') { /* number or literal */
        while (h->pos < h->n && !is_ws(h->s[h->pos]) && h->s[h->pos] != ',' &&
               h->s[h->pos] != ']' && h->s[h->pos] != '}')
            h->pos++;
        return;
    }
    while (h->pos < h->n) {
        c = h->s[h->pos];
        if (c == '"') {
            skip_string(h);
            continue;
        }
        h->pos++;
        if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && --depth == 0)
            return;
    }
}

/* The number of items of the array at pos (its '['); pos is left alone. */
static size_t count_items(hdr *h)
{
    const size_t at = h->pos;
    size_t       k  = 0;
    h->pos++;
    if (peek(h) != ']') {
        do {
            skip_value(h);
            k++;
        } while (next(h) == ',');
    } else {
        h->pos++;
    }
    h->pos = at;
    return k;
}

/* A JSON error met on checked text cannot happen but for memory (a long number's copy). */
static igq_status json_error(const hdr *h, igq_status s)
{
    igq__error_prefix(h->path);
    return s;
}

/* Reads the string at pos: *len gets its decoded length, shown (cap >= 1 bytes) its first
 * cap - 1 bytes NUL-terminated, for messages and for comparing with short keys. */
static igq_status read_str(hdr *h, char *shown, size_t cap, size_t *len)
{
    igq_status s = igq__json_string(h->s, h->n, &h->pos, shown, cap - 1, len, NULL);
    if (s != IGQ_OK) return json_error(h, s);
    shown[*len < cap - 1 ? *len : cap - 1] = '\0';
    return IGQ_OK;
}

/* The string at byte at: counted (first walk), or decoded into the string table (second). */
static igq_status keep_str(hdr *h, size_t at, size_t len, const char **out)
{
    size_t     n;
    igq_status s;
    *out = NULL;
    if (!h->fill) {
        h->n_bytes += len + 1;
        return IGQ_OK;
    }
    /* The table was sized by the first walk over the same text: cannot overflow. */
    IGQ_CHECK(len < h->n_bytes - h->used, IGQ_ERR_INTERNAL, "%s: header strings miscounted",
              h->path);
    s = igq__json_string(h->s, h->n, &at, h->strings + h->used, len, &n, NULL);
    if (s != IGQ_OK) return json_error(h, s);
    IGQ_CHECK(n == len, IGQ_ERR_INTERNAL, "%s: header strings miscounted", h->path);
    h->strings[h->used + n] = '\0';
    *out = h->strings + h->used;
    h->used += n + 1;
    return IGQ_OK;
}

/* The value at pos if it is an integer in 0..INT64_MAX (*ok = 1), consumed either way. */
static igq_status read_nonneg(hdr *h, int64_t *out, int *ok)
{
    igq_json   v;
    igq_status s;
    char       c = peek(h);
    *ok          = 0;
    if (c != '-' && (c < '0' || c > '9')) {
        skip_value(h);
        return IGQ_OK;
    }
    s = igq__json_number(h->s, h->n, &h->pos, &v);
    if (s != IGQ_OK) return json_error(h, s);
    if (v.is_integer && v.integer >= 0) {
        *out = v.integer;
        *ok  = 1;
    }
    return IGQ_OK;
}

static igq_status duplicate(const hdr *h, const char *key, size_t object_at)
{
    return igq__set_error(IGQ_ERR_FORMAT,
                          "%s: JSON: duplicate key '%.*s' in the object starting at byte %zu",
                          h->path, NAME_SHOWN, key, object_at);
}

/* The __metadata__ object at pos: an object of strings. */
static igq_status walk_metadata(hdr *h)
{
    const char *path = h->path;
    char        key[NAME_SHOWN + 1], vbuf[1];
    size_t      klen, vlen, kat, vat;
    IGQ_CHECK(peek(h) == '{', IGQ_ERR_FORMAT, "%s: __metadata__ is not a JSON object", path);
    if (h->seen_meta++) return duplicate(h, "__metadata__", h->top);
    h->meta_at = h->pos;
    h->pos++;
    if (peek(h) == '}') {
        h->pos++;
        return IGQ_OK;
    }
    do {
        igq_st_meta *m = NULL;
        const char  *kept;
        if (h->fill) {
            IGQ_CHECK(h->k_meta < h->n_meta, IGQ_ERR_INTERNAL,
                      "%s: header entries miscounted", path);
            m = &h->meta[h->k_meta];
        }
        peek(h);
        kat = h->pos;
        IGQ_TRY(read_str(h, key, sizeof key, &klen));
        next(h); /* ':' */
        IGQ_CHECK(peek(h) == '"', IGQ_ERR_FORMAT,
                  "%s: __metadata__ value for key '%.*s' is not a string", path, NAME_SHOWN, key);
        vat = h->pos;
        IGQ_TRY(read_str(h, vbuf, sizeof vbuf, &vlen));
        IGQ_TRY(keep_str(h, kat, klen, &kept));
        if (m != NULL) m->key = kept;
        IGQ_TRY(keep_str(h, vat, vlen, &kept));
        if (m != NULL) m->value = kept;
        if (h->fill)
            h->k_meta++;
        else
            h->n_meta++;
    } while (next(h) == ',');
    return IGQ_OK;
}

/* The dtype, shape and data_offsets of tensor t (entry values at at[]); the same checks, in
 * the same order, as the reference reader. */
static igq_status parse_values(hdr *h, const size_t at[N_KEYS], igq_st_tensor *t)
{
    const char *path  = h->path;
    const char *tname = t->name;
    char        dbuf[33], sbuf[256];
    size_t      i, len, ndim;
    int64_t     begin = 0, end = 0;
    uint64_t    numel = 1, bits, nbytes;
    int         has_zero = 0, ok, ok2;

    /* dtype */
    h->pos = at[K_DTYPE];
    IGQ_CHECK(peek(h) == '"', IGQ_ERR_FORMAT, "%s: tensor '%.*s': dtype is not a string", path,
              NAME_SHOWN, tname);
    IGQ_TRY(read_str(h, dbuf, sizeof dbuf, &len));
    for (i = 0; i < N_DTYPES; i++)
        if (len == strlen(k_dtypes[i].name) && memcmp(dbuf, k_dtypes[i].name, len) == 0) break;
    IGQ_CHECK(i < N_DTYPES, IGQ_ERR_FORMAT, "%s: tensor '%.*s': unknown dtype '%.*s'", path,
              NAME_SHOWN, tname, 32, dbuf);
    t->dtype = k_dtypes[i].dtype;
    bits     = (uint64_t)k_dtypes[i].bits;

    /* shape: counted before anything is read, so a long array is refused as such */
    h->pos = at[K_SHAPE];
    IGQ_CHECK(peek(h) == '[', IGQ_ERR_FORMAT, "%s: tensor '%.*s': shape is not an array", path,
              NAME_SHOWN, tname);
    ndim = count_items(h);
    IGQ_CHECK(ndim <= IGQ_MAX_DIMS, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': shape has %zu dimensions, at most %d are supported", path,
              NAME_SHOWN, tname, ndim, IGQ_MAX_DIMS);
    t->ndim = (int32_t)ndim;
    h->pos++;
    for (i = 0; i < ndim; i++) {
        IGQ_TRY(read_nonneg(h, &t->shape[i], &ok));
        IGQ_CHECK(ok, IGQ_ERR_FORMAT,
                  "%s: tensor '%.*s': shape entry %zu is not a non-negative integer", path,
                  NAME_SHOWN, tname, i);
        if (t->shape[i] == 0) has_zero = 1;
        next(h); /* ',' or ']' */
    }
    /* The element count must fit int64 (for the non-zero extents, so that the answer does not
     * depend on where a zero extent sits). */
    for (i = 0; i < ndim; i++) {
        uint64_t d = (uint64_t)t->shape[i];
        if (d == 0) continue;
        IGQ_CHECK(numel <= (uint64_t)INT64_MAX / d, IGQ_ERR_FORMAT,
                  "%s: tensor '%.*s': element count of shape %s overflows", path, NAME_SHOWN,
                  tname, fmt_shape(t, sbuf, sizeof sbuf));
        numel *= d;
    }
    if (has_zero) numel = 0;
    t->numel = (int64_t)numel;
    /* bytes = numel * bits / 8 without forming numel * bits (which can overflow while the
     * byte count fits): numel = 8q + r gives bytes = q * bits + r * bits / 8. */
    IGQ_CHECK((numel % 8) * bits % 8 == 0, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': shape %s of %s is not a whole number of bytes", path,
              NAME_SHOWN, tname, fmt_shape(t, sbuf, sizeof sbuf), igq__st_dtype_name(t->dtype));
    nbytes = (numel % 8) * bits / 8;
    IGQ_CHECK(numel / 8 <= ((uint64_t)INT64_MAX - nbytes) / bits, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': byte size of shape %s of %s overflows", path, NAME_SHOWN,
              tname, fmt_shape(t, sbuf, sizeof sbuf), igq__st_dtype_name(t->dtype));
    nbytes += (numel / 8) * bits;

    /* data_offsets */
    h->pos = at[K_OFFSETS];
    IGQ_CHECK(peek(h) == '[' && count_items(h) == 2, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': data_offsets is not an array [begin, end]", path, NAME_SHOWN,
              tname);
    h->pos++;
    IGQ_TRY(read_nonneg(h, &begin, &ok));
    next(h); /* ',' */
    ok2 = 0;
    if (ok) IGQ_TRY(read_nonneg(h, &end, &ok2));
    IGQ_CHECK(ok && ok2, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': data_offsets are not non-negative integers", path, NAME_SHOWN,
              tname);
    IGQ_CHECK(begin <= end, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': data_offsets [%lld, %lld] end before they begin", path,
              NAME_SHOWN, tname, (long long)begin, (long long)end);
    t->begin = (uint64_t)begin;
    t->end   = (uint64_t)end;
    IGQ_CHECK(t->end - t->begin == nbytes, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': data_offsets [%lld, %lld] hold %llu bytes, shape %s of %s "
              "needs %llu",
              path, NAME_SHOWN, tname, (long long)begin, (long long)end,
              (unsigned long long)(t->end - t->begin), fmt_shape(t, sbuf, sizeof sbuf),
              igq__st_dtype_name(t->dtype), (unsigned long long)nbytes);
    IGQ_CHECK(t->end <= h->data_size, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': data_offsets [%llu, %llu] run past the end of the file "
              "(data buffer holds %llu bytes)",
              path, NAME_SHOWN, tname, (unsigned long long)t->begin, (unsigned long long)t->end,
              (unsigned long long)h->data_size);
    return IGQ_OK;
}

/* The tensor entry at pos, named by the key at byte kat (klen decoded bytes, shown holds its
 * start). Its members are located first, then read in the reference reader's order. */
static igq_status walk_tensor(hdr *h, size_t kat, size_t klen, const char *shown)
{
    const char   *path = h->path;
    igq_st_tensor scratch, *t = &scratch;
    size_t        at[N_KEYS] = {NONE, NONE, NONE}, start, k, len, after;
    char          key[NAME_SHOWN + 1];

    if (h->fill) {
        IGQ_CHECK(h->k_tensor < h->n_tensors, IGQ_ERR_INTERNAL, "%s: header entries miscounted",
                  path);
        t = &h->tensors[h->k_tensor];
    }
    memset(t, 0, sizeof *t);
    IGQ_TRY(keep_str(h, kat, klen, &t->name));
    if (t->name == NULL) t->name = shown;
    IGQ_CHECK(peek(h) == '{', IGQ_ERR_FORMAT, "%s: tensor '%.*s': entry is not a JSON object",
              path, NAME_SHOWN, t->name);
    start = h->pos++;
    if (peek(h) == '}') {
        h->pos++;
    } else {
        do {
            peek(h);
            IGQ_TRY(read_str(h, key, sizeof key, &len));
            for (k = 0; k < N_KEYS; k++)
                if (len == strlen(k_keys[k]) && memcmp(key, k_keys[k], len) == 0) break;
            if (k == N_KEYS)
                return igq__set_error(IGQ_ERR_FORMAT, "%s: tensor '%.*s': unexpected key '%.*s'",
                                      path, NAME_SHOWN, t->name, NAME_SHOWN, key);
            if (at[k] != NONE) return duplicate(h, k_keys[k], start);
            next(h); /* ':' */
            peek(h);
            at[k] = h->pos;
            skip_value(h);
        } while (next(h) == ',');
    }
    after = h->pos;
    for (k = 0; k < N_KEYS; k++)
        IGQ_CHECK(at[k] != NONE, IGQ_ERR_FORMAT, "%s: tensor '%.*s': missing '%s'", path,
                  NAME_SHOWN, t->name, k_keys[k]);
    IGQ_TRY(parse_values(h, at, t));
    h->pos = after;
    if (h->fill) {
        h->k_tensor++;
    } else {
        h->n_tensors++;
        if (t->end > t->begin) h->n_with_data++;
    }
    return IGQ_OK;
}

enum { WALK_META = 1, WALK_TENSORS = 2 };

/* One walk over the top-level members, handling those in what and skipping the others. */
static igq_status walk(hdr *h, int what)
{
    h->pos       = h->top + 1;
    h->seen_meta = 0;
    if (peek(h) == '}') return IGQ_OK;
    do {
        char   key[NAME_SHOWN + 1];
        size_t klen, kat;
        int    is_meta;
        peek(h);
        kat = h->pos;
        IGQ_TRY(read_str(h, key, sizeof key, &klen));
        is_meta = klen == 12 && memcmp(key, "__metadata__", 12) == 0;
        next(h); /* ':' */
        if (is_meta && (what & WALK_META))
            IGQ_TRY(walk_metadata(h));
        else if (!is_meta && (what & WALK_TENSORS))
            IGQ_TRY(walk_tensor(h, kat, klen, key));
        else
            skip_value(h);
    } while (next(h) == ',');
    return IGQ_OK;
}

/* ---- sorting ------------------------------------------------------------------------------ */

typedef int (*tensor_cmp)(const igq_st_tensor *x, const igq_st_tensor *y);

static int cmp_name(const igq_st_tensor *x, const igq_st_tensor *y)
{
    return strcmp(x->name, y->name);
}

static int cmp_begin(const igq_st_tensor *x, const igq_st_tensor *y)
{
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Sorts idx (positions into t) by cmp. qsort has no context argument, and glibc's allocates
 * behind the library's back: this is a stable bottom-up merge sort using tmp (n entries). */
static void sort_index(const igq_st_tensor *t, size_t *idx, size_t *tmp, size_t n, tensor_cmp cmp)
{
    size_t  width, lo;
    size_t *src = idx, *dst = tmp, *swap;
    for (width = 1; width < n; width *= 2) {
        for (lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi  = lo + 2 * width < n ? lo + 2 * width : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                dst[k++] = cmp(&t[src[a]], &t[src[b]]) <= 0 ? src[a++] : src[b++];
            while (a < mid) dst[k++] = src[a++];
            while (b < hi) dst[k++] = src[b++];
        }
        swap = src;
        src  = dst;
        dst  = swap;
    }
    if (src != idx) memcpy(idx, src, n * sizeof *idx);
}

/* Sorts t[0..n) by begin in place: idx and tmp are n-entry scratch arrays. */
static void sort_by_begin(igq_st_tensor *t, size_t *idx, size_t *tmp, size_t n)
{
    size_t k, j;
    for (k = 0; k < n; k++) idx[k] = k;
    sort_index(t, idx, tmp, n, cmp_begin);
    /* Position k takes the entry at idx[k]: follow each cycle once (tmp marks done). */
    memset(tmp, 0, n * sizeof *tmp);
    for (k = 0; k < n; k++) {
        igq_st_tensor x;
        if (tmp[k] || idx[k] == k) continue;
        x = t[k];
        j = k;
        for (;;) {
            size_t from = idx[j];
            tmp[j]      = 1;
            if (from == k) {
                t[j] = x;
                break;
            }
            t[j] = t[from];
            j    = from;
        }
    }
}

static int meta_less(const igq_st_meta *a, const igq_st_meta *b)
{
    return strcmp(a->key, b->key) < 0;
}

/* Heap sort of the metadata by key: in place, so sorting costs no memory. */
static void sort_meta(igq_st_meta *m, size_t n)
{
    size_t end, root, child, start;
    for (start = n / 2; start-- > 0;) {
        for (root = start; (child = 2 * root + 1) < n; root = child) {
            igq_st_meta x;
            if (child + 1 < n && meta_less(&m[child], &m[child + 1])) child++;
            if (!meta_less(&m[root], &m[child])) break;
            x        = m[root];
            m[root]  = m[child];
            m[child] = x;
        }
    }
    for (end = n; end-- > 1;) {
        igq_st_meta x = m[0];
        m[0]          = m[end];
        m[end]        = x;
        for (root = 0; (child = 2 * root + 1) < end; root = child) {
            if (child + 1 < end && meta_less(&m[child], &m[child + 1])) child++;
            if (!meta_less(&m[root], &m[child])) break;
            x        = m[root];
            m[root]  = m[child];
            m[child] = x;
        }
    }
}

/* ---- the whole file ----------------------------------------------------------------------- */

/* Reads the header (see the file comment for the passes and what each costs). */
static igq_status parse_header(igq_safetensors *st, hdr *h)
{
    const char *path = st->path;
    size_t      bytes, i;
    int         has_meta;
    igq_status  s;

    s = igq__json_check(h->s, h->n);
    if (s != IGQ_OK) return json_error(h, s);
    h->pos = 0;
    IGQ_CHECK(peek(h) == '{', IGQ_ERR_FORMAT, "%s: header is not a JSON object", path);
    h->top = h->pos;

    /* First walk, allocating nothing: __metadata__ before the tensors, as the reference
     * reader checks them; every entry in full, counted. */
    IGQ_TRY(walk(h, WALK_META));
    has_meta = h->seen_meta;
    IGQ_TRY(walk(h, WALK_TENSORS));
    /* A tensor holding data takes at least one byte of the data buffer; an empty one takes
     * only its >= MIN_ENTRY bytes of header. Refused here, before the tables are allocated. */
    if (h->n_with_data > h->data_size)
        return igq__set_error(IGQ_ERR_FORMAT,
                              "%s: %zu tensors hold data, but the data buffer has only %llu "
                              "bytes",
                              path, h->n_with_data, (unsigned long long)h->data_size);

    /* Tables of exactly the counted sizes: strings (at most the header's bytes: decoding never
     * grows a string and its quotes pay for the terminator), tensors plus the name index
     * (112 bytes per >= MIN_ENTRY header bytes) and metadata (16 bytes per >= 6). */
    st->strings = (char *)igq__malloc(h->n_bytes);
    IGQ_CHECK(st->strings != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory for %zu bytes of names",
              path, h->n_bytes);
    if (!igq__mul_size(h->n_tensors, sizeof *st->tensors + sizeof(size_t), &bytes))
        return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: too many tensors", path);
    st->tensors = (igq_st_tensor *)igq__calloc(1, bytes);
    IGQ_CHECK(st->tensors != NULL, IGQ_ERR_NO_MEMORY,
              "%s: out of memory for %zu tensor entries", path, h->n_tensors);
    if (has_meta) {
        st->metadata = (igq_st_meta *)igq__calloc(h->n_meta ? h->n_meta : 1, sizeof *st->metadata);
        IGQ_CHECK(st->metadata != NULL, IGQ_ERR_NO_MEMORY,
                  "%s: out of memory for %zu metadata entries", path, h->n_meta);
    }

    /* Second walk: the same text, so the same answers, now kept. */
    h->fill    = 1;
    h->strings = st->strings;
    h->tensors = st->tensors;
    h->meta    = st->metadata;
    IGQ_TRY(walk(h, WALK_META | WALK_TENSORS));
    IGQ_CHECK(h->k_tensor == h->n_tensors && h->k_meta == h->n_meta, IGQ_ERR_INTERNAL,
              "%s: header entries miscounted", path);
    st->count      = h->n_tensors;
    st->meta_count = h->n_meta;

    /* Keys are unique (what the JSON parser checked when it built a tree). */
    sort_meta(st->metadata, st->meta_count);
    for (i = 1; i < st->meta_count; i++)
        if (strcmp(st->metadata[i - 1].key, st->metadata[i].key) == 0)
            return duplicate(h, st->metadata[i].key, h->meta_at);
    return IGQ_OK;
}

/* Validates st->buf[0..size) and fills the rest of st. */
static igq_status parse_buffer(igq_safetensors *st)
{
    const char    *path = st->path;
    const uint8_t *b    = st->buf;
    uint64_t       n    = 0, data_size;
    size_t         i, *tmp;
    hdr            h;

    IGQ_CHECK(st->size >= 8, IGQ_ERR_FORMAT,
              "%s: file is %zu bytes, too short for the 8-byte header length", path, st->size);
    for (i = 0; i < 8; i++) n |= (uint64_t)b[i] << (8 * i);
    IGQ_CHECK(n <= IGQ_ST_MAX_HEADER, IGQ_ERR_FORMAT,
              "%s: header length %llu exceeds the limit of %u bytes", path,
              (unsigned long long)n, IGQ_ST_MAX_HEADER);
    IGQ_CHECK(n <= st->size - 8, IGQ_ERR_FORMAT,
              "%s: header length %llu runs past the end of the file (%zu bytes)", path,
              (unsigned long long)n, st->size);
    st->data_start = 8 + (size_t)n;
    data_size      = (uint64_t)(st->size - st->data_start);

    memset(&h, 0, sizeof h);
    h.s         = (const char *)b + 8;
    h.n         = (size_t)n;
    h.path      = path;
    h.data_size = data_size;
    IGQ_TRY(parse_header(st, &h));

    /* Sorted by begin (then by name), the tensors must tile [0, data_size) exactly; names
     * must be unique. Both sorts use the name index behind the table plus tmp. */
    tmp = NULL;
    if (st->count > 1) {
        tmp = (size_t *)igq__calloc(st->count, sizeof *tmp);
        IGQ_CHECK(tmp != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", path);
        sort_by_begin(st->tensors, name_index(st), tmp, st->count);
        for (i = 0; i < st->count; i++) name_index(st)[i] = i;
        sort_index(st->tensors, name_index(st), tmp, st->count, cmp_name);
        igq__free(tmp);
        for (i = 1; i < st->count; i++)
            if (strcmp(st->tensors[name_index(st)[i - 1]].name,
                       st->tensors[name_index(st)[i]].name) == 0)
                return duplicate(&h, st->tensors[name_index(st)[i]].name, h.top);
    } else if (st->count == 1) {
        name_index(st)[0] = 0;
    }
    for (i = 0; i < st->count; i++) {
        const igq_st_tensor *t = &st->tensors[i];
        if (i == 0) {
            IGQ_CHECK(t->begin == 0, IGQ_ERR_FORMAT,
                      "%s: tensor '%.*s': data_offsets [%llu, %llu] leave a gap of %llu bytes "
                      "at the start of the data buffer",
                      path, NAME_SHOWN, t->name, (unsigned long long)t->begin,
                      (unsigned long long)t->end, (unsigned long long)t->begin);
        } else {
            const igq_st_tensor *p = &st->tensors[i - 1];
            IGQ_CHECK(t->begin >= p->end, IGQ_ERR_FORMAT,
                      "%s: tensors '%.*s' [%llu, %llu] and '%.*s' [%llu, %llu] overlap", path,
                      NAME_SHOWN, p->name, (unsigned long long)p->begin,
                      (unsigned long long)p->end, NAME_SHOWN, t->name,
                      (unsigned long long)t->begin, (unsigned long long)t->end);
            IGQ_CHECK(t->begin == p->end, IGQ_ERR_FORMAT,
                      "%s: gap of %llu bytes between tensor '%.*s' [%llu, %llu] and tensor "
                      "'%.*s' [%llu, %llu]",
                      path, (unsigned long long)(t->begin - p->end), NAME_SHOWN, p->name,
                      (unsigned long long)p->begin, (unsigned long long)p->end, NAME_SHOWN,
                      t->name, (unsigned long long)t->begin, (unsigned long long)t->end);
        }
    }
    if (st->count == 0) {
        IGQ_CHECK(data_size == 0, IGQ_ERR_FORMAT,
                  "%s: %llu trailing bytes after the header of a file without tensors", path,
                  (unsigned long long)data_size);
    } else {
        const igq_st_tensor *t = &st->tensors[st->count - 1];
        IGQ_CHECK(t->end == data_size, IGQ_ERR_FORMAT,
                  "%s: %llu trailing bytes after the last tensor '%.*s' (data buffer holds %llu "
                  "bytes, tensors end at %llu)",
                  path, (unsigned long long)(data_size - t->end), NAME_SHOWN, t->name,
                  (unsigned long long)data_size, (unsigned long long)t->end);
    }
    return IGQ_OK;
}

igq_status igq__st_alloc_table(igq_safetensors *st, size_t count)
{
    size_t bytes;
    if (!igq__mul_size(count ? count : 1, sizeof *st->tensors + sizeof(size_t), &bytes))
        return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: too many tensors", st->path);
    st->tensors = (igq_st_tensor *)igq__calloc(1, bytes);
    IGQ_CHECK(st->tensors != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory for %zu tensor entries",
              st->path, count);
    st->count = count;
    return IGQ_OK;
}

igq_status igq__st_index_names(igq_safetensors *st)
{
    size_t i, *tmp;
    if (st->count == 0) return IGQ_OK;
    for (i = 0; i < st->count; i++) name_index(st)[i] = i;
    if (st->count == 1) return IGQ_OK;
    tmp = (size_t *)igq__calloc(st->count, sizeof *tmp);
    IGQ_CHECK(tmp != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", st->path);
    sort_index(st->tensors, name_index(st), tmp, st->count, cmp_name);
    igq__free(tmp);
    for (i = 1; i < st->count; i++)
        IGQ_CHECK(strcmp(st->tensors[name_index(st)[i - 1]].name,
                         st->tensors[name_index(st)[i]].name) != 0,
                  IGQ_ERR_FORMAT, "%s: two tensors named '%.*s' (duplicate name)", st->path,
                  NAME_SHOWN, st->tensors[name_index(st)[i]].name);
    return IGQ_OK;
}

/* Takes ownership of map in every case. */
igq_status igq__st_from_map(igq_map *map, const char *name, igq_status (*parse)(igq_safetensors *),
                            igq_safetensors **out)
{
    igq_safetensors *st;
    igq_status       s;
    size_t           len = strlen(name);
    st = (igq_safetensors *)igq__calloc(1, sizeof *st);
    if (st == NULL) {
        igq__map_release(map);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: out of memory", name);
    }
    st->map       = *map;
    st->buf       = map->data;
    st->size      = map->size;
    st->file_size = map->size;
    memset(map, 0, sizeof *map);
    st->path = (char *)igq__malloc(len + 1);
    if (st->path == NULL) {
        igq__st_close(st);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: out of memory", name);
    }
    memcpy(st->path, name, len + 1);
    s = parse(st);
    if (s != IGQ_OK) {
        igq__st_close(st);
        return s;
    }
    *out = st;
    return IGQ_OK;
}

igq_status igq__st_parse_map(igq_map *map, const char *path, igq_safetensors **out)
{
    return igq__st_from_map(map, path, parse_buffer, out);
}

igq_status igq__st_open(const char *path, igq_safetensors **out)
{
    igq_map map;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "safetensors: out is NULL");
    *out = NULL;
    IGQ_CHECK(path != NULL, IGQ_ERR_INVALID_ARGUMENT, "safetensors: path is NULL");
    IGQ_TRY(igq__map_file(path, &map));
    return igq__st_from_map(&map, path, parse_buffer, out);
}

igq_status igq__st_parse(const void *data, size_t size, const char *name, igq_safetensors **out)
{
    igq_map map;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "safetensors: out is NULL");
    *out = NULL;
    if (name == NULL) name = "<memory>";
    IGQ_CHECK(data != NULL || size == 0, IGQ_ERR_INVALID_ARGUMENT, "%s: data is NULL", name);
    IGQ_TRY(igq__map_copy(data, size, name, &map));
    return igq__st_from_map(&map, name, parse_buffer, out);
}

const igq_st_tensor *igq__st_find(const igq_safetensors *st, const char *name)
{
    const size_t *idx;
    size_t        lo = 0, hi;
    if (st == NULL || name == NULL || st->count == 0) return NULL;
    idx = name_index(st);
    hi  = st->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int    c   = strcmp(name, st->tensors[idx[mid]].name);
        if (c == 0) return &st->tensors[idx[mid]];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *igq__st_metadata(const igq_safetensors *st, const char *key)
{
    size_t lo = 0, hi;
    if (st == NULL || key == NULL || st->metadata == NULL) return NULL;
    hi = st->meta_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int    c   = strcmp(key, st->metadata[mid].key);
        if (c == 0) return st->metadata[mid].value;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char  c;
    memcpy(&c, &one, 1);
    return c == 1;
}

/* Converts n elements of dtype (F32, F16 or BF16, little-endian, any alignment) at src. */
static void convert_f32(const unsigned char *src, igq_st_dtype dtype, float *dst, size_t n)
{
    size_t i;
    if (dtype == IGQ_ST_F32 && host_is_little_endian()) {
        memcpy(dst, src, n * 4);
    } else if (dtype == IGQ_ST_F32) {
        for (i = 0; i < n; i++) {
            const unsigned char *p = src + 4 * i;
            uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                         (uint32_t)p[3] << 24;
            memcpy(&dst[i], &u, 4);
        }
    } else { /* F16 or BF16, little-endian */
        const int bf16 = dtype == IGQ_ST_BF16;
        for (i = 0; i < n; i++) {
            const unsigned char *p = src + 2 * i;
            const uint16_t       h = (uint16_t)(p[0] | p[1] << 8);
            dst[i]                 = bf16 ? igq__bf16_to_f32(h) : igq__f16_to_f32(h);
        }
    }
}

/* The checks both readers make; on success *src is the tensor's first byte (NULL if empty). */
static igq_status read_check(const igq_safetensors *st, const igq_st_tensor *t, const float *dst,
                             int64_t count, const unsigned char **src)
{
    uint64_t bits, need;
    *src = NULL;
    IGQ_CHECK(st != NULL && t != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "safetensors: read_f32 given a NULL file or tensor");
    IGQ_CHECK(t->dtype == IGQ_ST_F32 || t->dtype == IGQ_ST_F16 || t->dtype == IGQ_ST_BF16,
              IGQ_ERR_UNSUPPORTED, "%s: tensor '%.*s': dtype %s cannot be read as f32",
              st->path, NAME_SHOWN, t->name, igq__st_dtype_name(t->dtype));
    IGQ_CHECK(count == t->numel, IGQ_ERR_INVALID_ARGUMENT,
              "%s: tensor '%.*s': has %lld elements, the destination holds %lld", st->path,
              NAME_SHOWN, t->name, (long long)t->numel, (long long)count);
    IGQ_CHECK(dst != NULL || count == 0, IGQ_ERR_INVALID_ARGUMENT,
              "%s: tensor '%.*s': destination is NULL", st->path, NAME_SHOWN, t->name);
    /* Defensive: t may be a caller-made copy; never read outside the data buffer. */
    bits = (uint64_t)igq__st_dtype_bits(t->dtype);
    need = (uint64_t)count * (bits / 8);
    IGQ_CHECK(t->numel >= 0 && t->begin <= t->end &&
                  t->end <= (uint64_t)(st->size - st->data_start) && t->end - t->begin == need,
              IGQ_ERR_INVALID_ARGUMENT, "%s: tensor '%.*s': entry does not belong to this file",
              st->path, NAME_SHOWN, t->name);
    if (count > 0) *src = st->buf + st->data_start + (size_t)t->begin;
    return IGQ_OK;
}

igq_status igq__st_read_f32(const igq_safetensors *st, const igq_st_tensor *t, float *dst,
                            int64_t count)
{
    const unsigned char *src;
    IGQ_TRY(read_check(st, t, dst, count, &src));
    if (count > 0) convert_f32(src, t->dtype, dst, (size_t)count);
    return IGQ_OK;
}

void igq__st_drop(const igq_safetensors *st, const igq_st_tensor *t)
{
    if (st == NULL || t == NULL || t->begin > t->end ||
        t->end > (uint64_t)(st->size - st->data_start))
        return;
    igq__map_drop(&st->map, st->data_start + (size_t)t->begin, (size_t)(t->end - t->begin));
}

/* Tile side of the transposition: a TILE x TILE block is converted row by row into a stack
 * buffer (contiguous reads of the file), then written out column by column (contiguous runs
 * of TILE floats in dst), so neither side strides through memory one element at a time. */
#define TILE 32

igq_status igq__st_read_f32_transposed(const igq_safetensors *st, const igq_st_tensor *t,
                                       int64_t rows, int64_t cols, float *dst, int64_t ld)
{
    const unsigned char *src;
    float                blk[TILE][TILE];
    size_t               esize, r0, c0, r, c, nr, nc;
    IGQ_CHECK(st != NULL && t != NULL, IGQ_ERR_INVALID_ARGUMENT,
              "safetensors: read_f32 given a NULL file or tensor");
    IGQ_CHECK(rows >= 0 && cols >= 0 && ld >= rows && (rows == 0 || cols <= INT64_MAX / rows),
              IGQ_ERR_INVALID_ARGUMENT,
              "%s: tensor '%.*s': bad transposed view [%lld][%lld] with stride %lld", st->path,
              NAME_SHOWN, t->name, (long long)rows, (long long)cols, (long long)ld);
    IGQ_TRY(read_check(st, t, dst, rows * cols, &src));
    if (src == NULL) return IGQ_OK;
    esize = t->dtype == IGQ_ST_F32 ? 4 : 2;
    for (r0 = 0; r0 < (size_t)rows; r0 += TILE) {
        nr = (size_t)rows - r0 < TILE ? (size_t)rows - r0 : TILE;
        for (c0 = 0; c0 < (size_t)cols; c0 += TILE) {
            nc = (size_t)cols - c0 < TILE ? (size_t)cols - c0 : TILE;
            for (r = 0; r < nr; r++)
                convert_f32(src + ((r0 + r) * (size_t)cols + c0) * esize, t->dtype, blk[r], nc);
            for (c = 0; c < nc; c++) {
                float *d = dst + (c0 + c) * (size_t)ld + r0;
                for (r = 0; r < nr; r++) d[r] = blk[r][c];
            }
        }
    }
    return IGQ_OK;
}
