/* Whole-file reading. Private header. */
#ifndef IGQ_IO_FILE_H
#define IGQ_IO_FILE_H

#include <stddef.h>

#include "igq/igq.h"

/* Reads path into a new igq__malloc'd buffer (NUL-terminated one byte past size).
 * IGQ_ERR_IO "cannot open '<path>': <reason>" / IGQ_ERR_NO_MEMORY. */
igq_status igq__read_file(const char *path, unsigned char **buf, size_t *size);
/* 1 if path names a readable regular file. */
int igq__file_exists(const char *path);

#endif
