/* Whole-file reading. Private header. */
#ifndef IGQ_IO_FILE_H
#define IGQ_IO_FILE_H

#include <stddef.h>

#include "igq/igq.h"

/* Reads path into a new igq__malloc'd buffer (NUL-terminated one byte past size).
 * IGQ_ERR_IO "cannot open '<path>': <reason>" / IGQ_ERR_NO_MEMORY. */
igq_status igq__read_file(const char *path, unsigned char **buf, size_t *size);
/* A read-only view of a whole file: mapped (mmap, pages shared with other processes and the
 * page cache) or, for a buffer handed in by the caller, an owned 64-byte aligned copy.
 * data is 64-byte aligned in both cases (page-aligned when mapped). */
typedef struct igq_map {
    const unsigned char *data;
    size_t               size;
    void                *owned;  /* igq__malloc'd copy, or NULL */
    void                *mapped; /* mmap address, or NULL (also for an empty file) */
    size_t               mapped_len;
} igq_map;

/* Maps path read-only. An empty file gives size 0 and data pointing at a static zero byte.
 * IGQ_ERR_IO naming the path and the reason (not a regular file, cannot map). */
igq_status igq__map_file(const char *path, igq_map *out);
/* Copies size bytes into an aligned buffer the map owns (IGQ_ERR_NO_MEMORY naming `who`). */
igq_status igq__map_copy(const void *data, size_t size, const char *who, igq_map *out);
/* Tells the kernel that bytes [offset, offset + len) of a mapped file are done with for now:
 * the pages wholly inside leave the process's resident set. They stay in the page cache, and a
 * later read faults them back in with the file's contents. A no-op for a copy, a range outside
 * the map, or where madvise(MADV_DONTNEED) does not exist. */
void igq__map_drop(const igq_map *m, size_t offset, size_t len);
/* Releases a map (zeroed one is a no-op). */
void igq__map_release(igq_map *m);

/* 1 if path names a readable regular file. */
int igq__file_exists(const char *path);

#endif
