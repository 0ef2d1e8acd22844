/* Bounds-checked safetensors reader (see safetensors.h, ALGORITHMS.md 6.5).
 *
 * The whole file is a read-only view (igq_map): mapped when opened by path, so a checkpoint is
 * never copied whole and its tensors are converted straight from the page cache; an owned copy
 * when parsed from a caller's buffer. Nothing here relies on a terminator after the last byte
 * (the JSON parser takes a length). Validation follows the reference reader: the header is a
 * JSON object whose members are tensors ({"dtype", "shape", "data_offsets"}, nothing else)
 * plus an optional "__metadata__" object of strings; sorted by begin, the tensors tile the
 * data buffer exactly (first at 0, no gap, no overlap, last end == buffer size), and each
 * tensor's byte range equals numel * bits / 8. After that every tensor's range is known to lie
 * inside the buffer, so reads need no further checks.
 *
 * Lookup by name: the tensors array is allocated with room behind it for an index of
 * positions sorted by name (binary search), so igq__st_find is O(log n) without widening the
 * struct in the header. */
#include "safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../core/fp16.h"
#include "file.h"

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
    igq__json_free(st->header);
    igq__free(st->tensors);
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

/* A JSON number that is an integer in 0..INT64_MAX. */
static int nonneg_int(const igq_json *v, int64_t *out)
{
    if (v->type != IGQ_JSON_NUMBER || !v->is_integer || v->integer < 0) return 0;
    *out = v->integer;
    return 1;
}

/* Fills t from the header entry v (name already set). */
static igq_status parse_entry(const igq_safetensors *st, const igq_json *v, igq_st_tensor *t)
{
    const char     *path  = st->path;
    const char     *tname = t->name;
    const igq_json *dtype = NULL, *shape = NULL, *offs = NULL;
    size_t          i;
    int64_t         begin = 0, end = 0;
    uint64_t        numel = 1, bits, nbytes;
    int             has_zero = 0;
    char            sbuf[256];

    IGQ_CHECK(v->type == IGQ_JSON_OBJECT, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': entry is not a JSON object", path, NAME_SHOWN, tname);
    for (i = 0; i < v->count; i++) {
        const char *k = v->keys[i];
        if (strcmp(k, "dtype") == 0)
            dtype = &v->items[i];
        else if (strcmp(k, "shape") == 0)
            shape = &v->items[i];
        else if (strcmp(k, "data_offsets") == 0)
            offs = &v->items[i];
        else
            return igq__set_error(IGQ_ERR_FORMAT, "%s: tensor '%.*s': unexpected key '%.*s'",
                                  path, NAME_SHOWN, tname, NAME_SHOWN, k);
    }
    IGQ_CHECK(dtype != NULL, IGQ_ERR_FORMAT, "%s: tensor '%.*s': missing 'dtype'", path,
              NAME_SHOWN, tname);
    IGQ_CHECK(shape != NULL, IGQ_ERR_FORMAT, "%s: tensor '%.*s': missing 'shape'", path,
              NAME_SHOWN, tname);
    IGQ_CHECK(offs != NULL, IGQ_ERR_FORMAT, "%s: tensor '%.*s': missing 'data_offsets'", path,
              NAME_SHOWN, tname);

    /* dtype */
    IGQ_CHECK(dtype->type == IGQ_JSON_STRING, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': dtype is not a string", path, NAME_SHOWN, tname);
    for (i = 0; i < N_DTYPES; i++)
        if (dtype->string_len == strlen(k_dtypes[i].name) &&
            strcmp(dtype->string, k_dtypes[i].name) == 0)
            break;
    IGQ_CHECK(i < N_DTYPES, IGQ_ERR_FORMAT, "%s: tensor '%.*s': unknown dtype '%.*s'", path,
              NAME_SHOWN, tname, 32, dtype->string);
    t->dtype = k_dtypes[i].dtype;
    bits     = (uint64_t)k_dtypes[i].bits;

    /* shape */
    IGQ_CHECK(shape->type == IGQ_JSON_ARRAY, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': shape is not an array", path, NAME_SHOWN, tname);
    IGQ_CHECK(shape->count <= IGQ_MAX_DIMS, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': shape has %zu dimensions, at most %d are supported", path,
              NAME_SHOWN, tname, shape->count, IGQ_MAX_DIMS);
    t->ndim = (int32_t)shape->count;
    for (i = 0; i < shape->count; i++) {
        IGQ_CHECK(nonneg_int(&shape->items[i], &t->shape[i]), IGQ_ERR_FORMAT,
                  "%s: tensor '%.*s': shape entry %zu is not a non-negative integer", path,
                  NAME_SHOWN, tname, i);
        if (t->shape[i] == 0) has_zero = 1;
    }
    /* The element count must fit int64 (for the non-zero extents, so that the answer does not
     * depend on where a zero extent sits). */
    for (i = 0; i < shape->count; i++) {
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
    IGQ_CHECK(offs->type == IGQ_JSON_ARRAY && offs->count == 2, IGQ_ERR_FORMAT,
              "%s: tensor '%.*s': data_offsets is not an array [begin, end]", path, NAME_SHOWN,
              tname);
    IGQ_CHECK(nonneg_int(&offs->items[0], &begin) && nonneg_int(&offs->items[1], &end),
              IGQ_ERR_FORMAT, "%s: tensor '%.*s': data_offsets are not non-negative integers",
              path, NAME_SHOWN, tname);
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
    return IGQ_OK;
}

static int cmp_begin(const void *a, const void *b)
{
    const igq_st_tensor *x = (const igq_st_tensor *)a, *y = (const igq_st_tensor *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Sorts idx (positions into t) by tensor name. qsort has no context argument and a global
 * would not be thread-safe, so this is a bottom-up merge sort using tmp (n entries). */
static void sort_index(const igq_st_tensor *t, size_t *idx, size_t *tmp, size_t n)
{
    size_t width, lo;
    size_t *src = idx, *dst = tmp, *swap;
    for (width = 1; width < n; width *= 2) {
        for (lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi  = lo + 2 * width < n ? lo + 2 * width : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                dst[k++] = strcmp(t[src[a]].name, t[src[b]].name) <= 0 ? src[a++] : src[b++];
            while (a < mid) dst[k++] = src[a++];
            while (b < hi) dst[k++] = src[b++];
        }
        swap = src;
        src  = dst;
        dst  = swap;
    }
    if (src != idx) memcpy(idx, src, n * sizeof *idx);
}

/* Validates st->buf[0..size) and fills the rest of st. */
static igq_status parse_buffer(igq_safetensors *st)
{
    const char    *path = st->path;
    const uint8_t *b    = st->buf;
    uint64_t       n    = 0, data_size;
    size_t         i, k, members, bytes, *tmp;
    igq_status     s;
    const igq_json *h;

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

    s = igq__json_parse((const char *)b + 8, (size_t)n, &st->header);
    if (s != IGQ_OK) {
        igq__error_prefix(path);
        return s;
    }
    h = st->header;
    IGQ_CHECK(h->type == IGQ_JSON_OBJECT, IGQ_ERR_FORMAT, "%s: header is not a JSON object",
              path);

    members = h->count;
    for (i = 0; i < h->count; i++) {
        const igq_json *m = &h->items[i];
        if (strcmp(h->keys[i], "__metadata__") != 0) continue;
        IGQ_CHECK(m->type == IGQ_JSON_OBJECT, IGQ_ERR_FORMAT,
                  "%s: __metadata__ is not a JSON object", path);
        for (k = 0; k < m->count; k++)
            IGQ_CHECK(m->items[k].type == IGQ_JSON_STRING, IGQ_ERR_FORMAT,
                      "%s: __metadata__ value for key '%.*s' is not a string", path, NAME_SHOWN,
                      m->keys[k]);
        st->metadata = m;
        members--;
    }

    /* tensors[members] followed by the name index (members size_t) */
    if (!igq__mul_size(members, sizeof *st->tensors + sizeof(size_t), &bytes))
        return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: too many tensors", path);
    st->tensors = (igq_st_tensor *)igq__calloc(1, bytes);
    IGQ_CHECK(st->tensors != NULL, IGQ_ERR_NO_MEMORY,
              "%s: out of memory for %zu tensor entries", path, members);
    for (i = 0, k = 0; i < h->count; i++) {
        if (&h->items[i] == st->metadata) continue;
        st->tensors[k].name = h->keys[i];
        IGQ_TRY(parse_entry(st, &h->items[i], &st->tensors[k]));
        k++;
    }
    st->count = members;

    /* Sorted by begin, the tensors must tile [0, data_size) exactly. */
    qsort(st->tensors, st->count, sizeof *st->tensors, cmp_begin);
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
        IGQ_CHECK(t->end <= data_size, IGQ_ERR_FORMAT,
                  "%s: tensor '%.*s': data_offsets [%llu, %llu] run past the end of the file "
                  "(data buffer holds %llu bytes)",
                  path, NAME_SHOWN, t->name, (unsigned long long)t->begin,
                  (unsigned long long)t->end, (unsigned long long)data_size);
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

    /* Name index. Names are unique (the JSON parser rejects duplicate keys). */
    if (st->count > 1) {
        tmp = (size_t *)igq__calloc(st->count, sizeof *tmp);
        IGQ_CHECK(tmp != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", path);
        for (i = 0; i < st->count; i++) name_index(st)[i] = i;
        sort_index(st->tensors, name_index(st), tmp, st->count);
        igq__free(tmp);
    } else if (st->count == 1) {
        name_index(st)[0] = 0;
    }
    return IGQ_OK;
}

/* Takes ownership of map in every case. */
static igq_status parse_map(igq_map *map, const char *name, igq_safetensors **out)
{
    igq_safetensors *st;
    igq_status       s;
    size_t           len = strlen(name);
    st = (igq_safetensors *)igq__calloc(1, sizeof *st);
    if (st == NULL) {
        igq__map_release(map);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: out of memory", name);
    }
    st->map  = *map;
    st->buf  = map->data;
    st->size = map->size;
    memset(map, 0, sizeof *map);
    st->path = (char *)igq__malloc(len + 1);
    if (st->path == NULL) {
        igq__st_close(st);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: out of memory", name);
    }
    memcpy(st->path, name, len + 1);
    s = parse_buffer(st);
    if (s != IGQ_OK) {
        igq__st_close(st);
        return s;
    }
    *out = st;
    return IGQ_OK;
}

igq_status igq__st_open(const char *path, igq_safetensors **out)
{
    igq_map map;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "safetensors: out is NULL");
    *out = NULL;
    IGQ_CHECK(path != NULL, IGQ_ERR_INVALID_ARGUMENT, "safetensors: path is NULL");
    IGQ_TRY(igq__map_file(path, &map));
    return parse_map(&map, path, out);
}

igq_status igq__st_parse(const void *data, size_t size, const char *name, igq_safetensors **out)
{
    igq_map map;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "safetensors: out is NULL");
    *out = NULL;
    if (name == NULL) name = "<memory>";
    IGQ_CHECK(data != NULL || size == 0, IGQ_ERR_INVALID_ARGUMENT, "%s: data is NULL", name);
    IGQ_TRY(igq__map_copy(data, size, name, &map));
    return parse_map(&map, name, out);
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
    const igq_json *v;
    if (st == NULL) return NULL;
    v = igq__json_get(st->metadata, key);
    return v != NULL && v->type == IGQ_JSON_STRING ? v->string : NULL;
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
