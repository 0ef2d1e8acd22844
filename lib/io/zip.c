/* Bounded zip archive reader (see zip.h). PKWARE APPNOTE 6.3 sections 4.3.7 (local header),
 * 4.3.12 (central header), 4.3.14-16 (ZIP64 end record, locator, end record), 4.5.3 (ZIP64
 * extra field). All multi-byte fields are little-endian.
 *
 * Order of the checks: the end record, then the central directory's range inside the archive,
 * then the entry count against the directory's size (a central header takes at least 46 bytes,
 * so a directory of S bytes holds at most S / 46 entries: checked before anything is
 * allocated), then each central header in full, then its local header and data range. */
#include "zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "image.h"

#define SIG_LOCAL   0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END     0x06054b50u
#define SIG_END64   0x06064b50u
#define SIG_LOC64   0x07064b50u
#define END_LEN     22
#define END64_LEN   56
#define LOC64_LEN   20
#define CENTRAL_LEN 46
#define LOCAL_LEN   30
#define MAX_COMMENT 65535u
/* Longest entry name shown in a message. */
#define NAME_SHOWN 200

static uint32_t rd16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

void igq__zip_close(igq__zip *z)
{
    if (z == NULL) return;
    igq__free(z->entries);
    igq__free(z->names);
    memset(z, 0, sizeof *z);
}

/* The end record: the last signature whose comment reaches exactly the end of the archive. */
static igq_status find_end(const igq__zip *z, size_t *at)
{
    size_t pos, lowest;
    IGQ_CHECK(z->size >= END_LEN, IGQ_ERR_FORMAT,
              "%s: %zu bytes, too short for a zip archive (the end record alone takes %d)",
              z->path, z->size, END_LEN);
    lowest = z->size - END_LEN > MAX_COMMENT ? z->size - END_LEN - MAX_COMMENT : 0;
    for (pos = z->size - END_LEN;; pos--) {
        if (rd32(z->buf + pos) == SIG_END && pos + END_LEN + rd16(z->buf + pos + 20) == z->size) {
            *at = pos;
            return IGQ_OK;
        }
        if (pos == lowest) break;
    }
    return igq__set_error(IGQ_ERR_FORMAT,
                          "%s: zip end of central directory record not found (truncated or "
                          "not a zip archive)",
                          z->path);
}

typedef struct dir_info {
    uint64_t n_entries, cd_size, cd_off, limit; /* limit: the central directory ends before it */
} dir_info;

static igq_status read_end(const igq__zip *z, size_t at, dir_info *d)
{
    const unsigned char *e = z->buf + at;
    const uint32_t       disk = rd16(e + 4), cd_disk = rd16(e + 6);
    const uint32_t       n_disk = rd16(e + 8), n_total = rd16(e + 10);
    const uint32_t       cd_size = rd32(e + 12), cd_off = rd32(e + 16);
    const int            has_loc = at >= LOC64_LEN && rd32(e - LOC64_LEN) == SIG_LOC64;

    if (has_loc) {
        const unsigned char *l   = e - LOC64_LEN;
        const uint64_t       off = rd64(l + 8);
        const unsigned char *r;
        IGQ_CHECK(rd32(l + 4) == 0 && rd32(l + 16) == 1, IGQ_ERR_UNSUPPORTED,
                  "%s: zip archive spans several disks", z->path);
        IGQ_CHECK(off <= (uint64_t)(at - LOC64_LEN) &&
                      (uint64_t)(at - LOC64_LEN) - off >= END64_LEN,
                  IGQ_ERR_FORMAT,
                  "%s: ZIP64 end record offset %llu is not before its locator at %zu", z->path,
                  (unsigned long long)off, at - LOC64_LEN);
        r = z->buf + (size_t)off;
        IGQ_CHECK(rd32(r) == SIG_END64, IGQ_ERR_FORMAT,
                  "%s: no ZIP64 end record at offset %llu (bad signature)", z->path,
                  (unsigned long long)off);
        IGQ_CHECK(rd32(r + 16) == 0 && rd32(r + 20) == 0 && rd64(r + 24) == rd64(r + 32),
                  IGQ_ERR_UNSUPPORTED, "%s: zip archive spans several disks", z->path);
        d->n_entries = rd64(r + 32);
        d->cd_size   = rd64(r + 40);
        d->cd_off    = rd64(r + 48);
        d->limit     = off;
    } else {
        IGQ_CHECK(n_total != 0xffffu && cd_size != 0xffffffffu && cd_off != 0xffffffffu,
                  IGQ_ERR_FORMAT,
                  "%s: zip end record defers to a ZIP64 end record, but there is no ZIP64 "
                  "locator",
                  z->path);
        IGQ_CHECK(disk == 0 && cd_disk == 0 && n_disk == n_total, IGQ_ERR_UNSUPPORTED,
                  "%s: zip archive spans several disks", z->path);
        d->n_entries = n_total;
        d->cd_size   = cd_size;
        d->cd_off    = cd_off;
        d->limit     = at;
    }
    IGQ_CHECK(d->cd_off <= d->limit && d->cd_size <= d->limit - d->cd_off, IGQ_ERR_FORMAT,
              "%s: zip central directory [%llu, +%llu) runs past its end record at %llu",
              z->path, (unsigned long long)d->cd_off, (unsigned long long)d->cd_size,
              (unsigned long long)d->limit);
    IGQ_CHECK(d->n_entries <= d->cd_size / CENTRAL_LEN, IGQ_ERR_FORMAT,
              "%s: zip end record declares %llu entries, but the central directory of %llu "
              "bytes holds at most %llu",
              z->path, (unsigned long long)d->n_entries, (unsigned long long)d->cd_size,
              (unsigned long long)(d->cd_size / CENTRAL_LEN));
    return IGQ_OK;
}

/* The ZIP64 extra field (id 1) of a central header: the 64-bit values of the fields that hold
 * 0xffffffff (0xffff for the disk), in the order usize, csize, offset, disk. */
static igq_status zip64_extra(const igq__zip *z, const char *name, const unsigned char *x,
                              uint32_t xlen, uint64_t *usize, uint64_t *csize, uint64_t *offset,
                              uint32_t *disk)
{
    const int need_u = *usize == 0xffffffffu, need_c = *csize == 0xffffffffu;
    const int need_o = *offset == 0xffffffffu, need_d = *disk == 0xffffu;
    uint32_t  p = 0;
    while (p + 4 <= xlen) {
        const uint32_t id = rd16(x + p), len = rd16(x + p + 2);
        const unsigned char *f = x + p + 4;
        uint32_t             q = 0;
        IGQ_CHECK(len <= xlen - p - 4, IGQ_ERR_FORMAT,
                  "%s: zip entry '%.*s': extra field %#x of %u bytes runs past the header",
                  z->path, NAME_SHOWN, name, (unsigned)id, (unsigned)len);
        if (id == 1) {
            const uint32_t want = 8u * (uint32_t)(need_u + need_c + need_o) + 4u * (uint32_t)need_d;
            IGQ_CHECK(len >= want, IGQ_ERR_FORMAT,
                      "%s: zip entry '%.*s': ZIP64 extra field holds %u bytes, the header "
                      "needs %u",
                      z->path, NAME_SHOWN, name, (unsigned)len, (unsigned)want);
            if (need_u) *usize = rd64(f + q), q += 8;
            if (need_c) *csize = rd64(f + q), q += 8;
            if (need_o) *offset = rd64(f + q), q += 8;
            if (need_d) *disk = rd32(f + q);
            return IGQ_OK;
        }
        p += 4 + len;
    }
    IGQ_CHECK(!(need_u || need_c || need_o || need_d), IGQ_ERR_FORMAT,
              "%s: zip entry '%.*s': sizes or offset defer to a ZIP64 extra field, but there is "
              "none",
              z->path, NAME_SHOWN, name);
    return IGQ_OK;
}

/* Central header at cd + *p (at most left bytes): one entry, its name copied to *names. */
static igq_status read_central(const igq__zip *z, const dir_info *d, uint64_t *p,
                               igq__zip_entry *e, char **names)
{
    const unsigned char *h = z->buf + (size_t)(d->cd_off + *p);
    const uint64_t       left = d->cd_size - *p;
    uint32_t             flags, nlen, xlen, clen, disk;
    uint64_t             usize, csize, off;
    const unsigned char *l;
    uint64_t             data;

    IGQ_CHECK(left >= CENTRAL_LEN && rd32(h) == SIG_CENTRAL, IGQ_ERR_FORMAT,
              "%s: zip central directory: no central header at offset %llu", z->path,
              (unsigned long long)(d->cd_off + *p));
    flags = rd16(h + 8);
    nlen  = rd16(h + 28);
    xlen  = rd16(h + 30);
    clen  = rd16(h + 32);
    IGQ_CHECK((uint64_t)CENTRAL_LEN + nlen + xlen + clen <= left, IGQ_ERR_FORMAT,
              "%s: zip central header at offset %llu runs past the central directory", z->path,
              (unsigned long long)(d->cd_off + *p));
    IGQ_CHECK(nlen > 0 && memchr(h + CENTRAL_LEN, 0, nlen) == NULL, IGQ_ERR_FORMAT,
              "%s: zip central header at offset %llu: empty name or a name holding a NUL byte",
              z->path, (unsigned long long)(d->cd_off + *p));
    memcpy(*names, h + CENTRAL_LEN, nlen);
    (*names)[nlen] = '\0';
    e->name        = *names;
    *names += nlen + 1;

    IGQ_CHECK((flags & 0x41u) == 0, IGQ_ERR_UNSUPPORTED, "%s: zip entry '%.*s' is encrypted",
              z->path, NAME_SHOWN, e->name);
    e->method = (int)rd16(h + 10);
    IGQ_CHECK(e->method == IGQ__ZIP_STORED || e->method == IGQ__ZIP_DEFLATED,
              IGQ_ERR_UNSUPPORTED,
              "%s: zip entry '%.*s': compression method %d (only stored and deflate are read)",
              z->path, NAME_SHOWN, e->name, e->method);
    e->crc = rd32(h + 16);
    csize  = rd32(h + 20);
    usize  = rd32(h + 24);
    disk   = rd16(h + 34);
    off    = rd32(h + 42);
    IGQ_TRY(zip64_extra(z, e->name, h + CENTRAL_LEN + nlen, xlen, &usize, &csize, &off, &disk));
    IGQ_CHECK(disk == 0, IGQ_ERR_UNSUPPORTED, "%s: zip entry '%.*s' is on disk %u", z->path,
              NAME_SHOWN, e->name, (unsigned)disk);
    IGQ_CHECK(e->method != IGQ__ZIP_STORED || csize == usize, IGQ_ERR_FORMAT,
              "%s: zip entry '%.*s' is stored, but its sizes differ (%llu and %llu bytes)",
              z->path, NAME_SHOWN, e->name, (unsigned long long)csize, (unsigned long long)usize);

    /* Local header and data: both before the central directory. */
    IGQ_CHECK(off <= d->cd_off && d->cd_off - off >= LOCAL_LEN, IGQ_ERR_FORMAT,
              "%s: zip entry '%.*s': local header offset %llu is not before the central "
              "directory at %llu",
              z->path, NAME_SHOWN, e->name, (unsigned long long)off,
              (unsigned long long)d->cd_off);
    l = z->buf + (size_t)off;
    IGQ_CHECK(rd32(l) == SIG_LOCAL, IGQ_ERR_FORMAT,
              "%s: zip entry '%.*s': no local header at offset %llu (bad signature)", z->path,
              NAME_SHOWN, e->name, (unsigned long long)off);
    data = off + LOCAL_LEN + rd16(l + 26) + rd16(l + 28);
    IGQ_CHECK(rd16(l + 26) == nlen && data <= d->cd_off &&
                  memcmp(l + LOCAL_LEN, e->name, nlen) == 0,
              IGQ_ERR_FORMAT,
              "%s: zip entry '%.*s': the local header at offset %llu names another entry or "
              "runs into the central directory",
              z->path, NAME_SHOWN, e->name, (unsigned long long)off);
    IGQ_CHECK((int)rd16(l + 8) == e->method, IGQ_ERR_FORMAT,
              "%s: zip entry '%.*s': local header says method %u, the central directory %d",
              z->path, NAME_SHOWN, e->name, (unsigned)rd16(l + 8), e->method);
    IGQ_CHECK(csize <= d->cd_off - data, IGQ_ERR_FORMAT,
              "%s: zip entry '%.*s': %llu bytes of data at offset %llu run past the end of the "
              "entries (%llu)",
              z->path, NAME_SHOWN, e->name, (unsigned long long)csize, (unsigned long long)data,
              (unsigned long long)d->cd_off);
    e->offset = data;
    e->csize  = csize;
    e->usize  = usize;
    *p += CENTRAL_LEN + nlen + xlen + clen;
    return IGQ_OK;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const igq__zip_entry *)a)->name, ((const igq__zip_entry *)b)->name);
}

static igq_status read_dir(igq__zip *z)
{
    dir_info d;
    size_t   at = 0, i;
    uint64_t p = 0;
    char    *names;

    memset(&d, 0, sizeof d);
    IGQ_TRY(find_end(z, &at));
    IGQ_TRY(read_end(z, at, &d));
    /* Names and their terminators fit in the directory's bytes (each header takes 46 more). */
    z->entries = (igq__zip_entry *)igq__calloc(d.n_entries ? (size_t)d.n_entries : 1,
                                               sizeof *z->entries);
    z->names   = (char *)igq__malloc(d.cd_size ? (size_t)d.cd_size : 1);
    IGQ_CHECK(z->entries != NULL && z->names != NULL, IGQ_ERR_NO_MEMORY,
              "%s: out of memory for a zip directory of %llu entries", z->path,
              (unsigned long long)d.n_entries);
    names = z->names;
    for (i = 0; i < (size_t)d.n_entries; i++) {
        IGQ_TRY(read_central(z, &d, &p, &z->entries[i], &names));
        z->count = i + 1;
    }
    if (z->count > 1) qsort(z->entries, z->count, sizeof *z->entries, cmp_entry);
    for (i = 1; i < z->count; i++)
        IGQ_CHECK(strcmp(z->entries[i - 1].name, z->entries[i].name) != 0, IGQ_ERR_FORMAT,
                  "%s: zip archive holds two entries named '%.*s' (duplicate name)", z->path,
                  NAME_SHOWN, z->entries[i].name);
    return IGQ_OK;
}

igq_status igq__zip_open(const unsigned char *buf, size_t size, const char *path, igq__zip *z)
{
    igq_status s;
    memset(z, 0, sizeof *z);
    z->buf  = buf;
    z->size = size;
    z->path = path;
    s       = read_dir(z);
    if (s != IGQ_OK) igq__zip_close(z);
    return s;
}

const igq__zip_entry *igq__zip_find(const igq__zip *z, const char *name)
{
    size_t lo = 0, hi = z->count;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const int    c   = strcmp(name, z->entries[mid].name);
        if (c == 0) return &z->entries[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

igq_status igq__zip_read(const igq__zip *z, const igq__zip_entry *e, size_t max,
                         const unsigned char **data, void **owned)
{
    const unsigned char *src = z->buf + (size_t)e->offset;
    unsigned char       *out;
    uint32_t             crc;
    *data  = NULL;
    *owned = NULL;
    IGQ_CHECK(e->usize <= max, IGQ_ERR_UNSUPPORTED,
              "%s: zip entry '%.*s' holds %llu bytes, more than the %zu read at most", z->path,
              NAME_SHOWN, e->name, (unsigned long long)e->usize, max);
    if (e->method == IGQ__ZIP_STORED) {
        out = NULL;
        crc = igq__crc32(0, src, (size_t)e->usize);
    } else {
        char who[NAME_SHOWN + 256];
        igq_status s;
        snprintf(who, sizeof who, "%s: zip entry '%.*s' (deflated)", z->path, NAME_SHOWN, e->name);
        out = (unsigned char *)igq__malloc(e->usize ? (size_t)e->usize : 1);
        IGQ_CHECK(out != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory for %llu bytes", who,
                  (unsigned long long)e->usize);
        s = igq__deflate_inflate(src, (size_t)e->csize, out, (size_t)e->usize, who);
        if (s != IGQ_OK) {
            igq__free(out);
            return s;
        }
        crc = igq__crc32(0, out, (size_t)e->usize);
        src = out;
    }
    if (crc != e->crc) {
        igq__free(out);
        return igq__set_error(IGQ_ERR_FORMAT,
                              "%s: zip entry '%.*s': CRC-32 %08x, the directory declares %08x",
                              z->path, NAME_SHOWN, e->name, (unsigned)crc, (unsigned)e->crc);
    }
    *data  = src;
    *owned = out;
    return IGQ_OK;
}
