/* Bounded zip archive reader (the container of torch.save files). Private header.
 *
 * Reads the central directory of a zip held whole in memory (a mapped file): the end record
 * (searched for over at most the 65,535-byte comment), its ZIP64 form, every central header
 * with its ZIP64 extra field, and each entry's local header. Every offset and size is checked
 * against the archive before use, so an entry's data range [offset, offset + csize) is known to
 * lie inside the archive once igq__zip_open has succeeded. Entries are stored (usable in place)
 * or deflated (igq__zip_read inflates them; igq__deflate_inflate for a caller's buffer); encrypted entries, other methods and multi-disk archives are
 * refused. Memory: two tables bounded by the central directory's size. */
#ifndef IGQ_IO_ZIP_H
#define IGQ_IO_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "igq/igq.h"

#define IGQ__ZIP_STORED   0
#define IGQ__ZIP_DEFLATED 8

typedef struct igq__zip_entry {
    const char *name;   /* NUL-terminated (names holding a NUL byte are refused) */
    uint64_t    offset; /* first byte of the entry's data in the archive */
    uint64_t    csize;  /* bytes in the archive */
    uint64_t    usize;  /* bytes once inflated (== csize when stored) */
    uint32_t    crc;    /* CRC-32 of the uncompressed bytes, as the directory declares it */
    int         method; /* IGQ__ZIP_STORED or IGQ__ZIP_DEFLATED */
} igq__zip_entry;

typedef struct igq__zip {
    const unsigned char *buf;     /* the archive (borrowed) */
    size_t               size;
    const char          *path;    /* for messages (borrowed) */
    igq__zip_entry      *entries; /* sorted by name; names unique */
    size_t               count;
    char                *names;
} igq__zip;

/* Reads the directory of the size-byte archive at buf. The archive and path are borrowed and
 * must outlive z. IGQ_ERR_FORMAT naming the file and what is wrong (end record, central or
 * local header, an offset or size beyond the archive, a duplicate name), IGQ_ERR_UNSUPPORTED
 * (encryption, a compression method other than stored/deflate, several disks),
 * IGQ_ERR_NO_MEMORY. On failure z holds nothing to release. */
igq_status igq__zip_open(const unsigned char *buf, size_t size, const char *path, igq__zip *z);
void       igq__zip_close(igq__zip *z);

/* The entry named name, or NULL. */
const igq__zip_entry *igq__zip_find(const igq__zip *z, const char *name);

/* An entry's whole content, at most max bytes once inflated (else IGQ_ERR_UNSUPPORTED naming
 * the entry): a stored entry is returned in place (*owned = NULL), a deflated one inflated into
 * an igq__malloc'd buffer (*owned, also *data; free with igq__free). The CRC-32 is checked in
 * both cases (IGQ_ERR_FORMAT on a mismatch). */
igq_status igq__zip_read(const igq__zip *z, const igq__zip_entry *e, size_t max,
                         const unsigned char **data, void **owned);

#endif
