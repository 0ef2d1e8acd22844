/* All library allocations go through here: 64-byte aligned; in the testing build
 * (IGQ_TESTING) with a hook that makes the Nth allocation fail. Private header. */
#ifndef IGQ_CORE_ALLOC_H
#define IGQ_CORE_ALLOC_H

#include <stddef.h>

#include "compiler.h"

#define IGQ_ALIGN 64

/* 64-byte aligned; NULL on failure or size 0 overflow. Free with igq__free. */
void *igq__malloc(size_t size);
/* As igq__malloc, zero-filled; count*size is overflow-checked. */
void *igq__calloc(size_t count, size_t size);
void  igq__free(void *ptr);

/* a*b with overflow detection: returns 0 and leaves *out untouched on overflow. */
int igq__mul_size(size_t a, size_t b, size_t *out);

#ifdef IGQ_TESTING
/* Test hook: after n more successful allocations, every allocation fails (n < 0: never). */
void igq__alloc_fail_after(long n);
/* Test hook: on = 1 starts counting the bytes allocated minus the bytes freed through this
 * module from zero (blocks freed during the count that were allocated before it count
 * negatively); on = 0 stops. igq__alloc_peak_bytes: the highest count since the start, i.e.
 * the peak extra memory of the code run in between. Single-threaded tests only. */
void   igq__alloc_track(int on);
size_t igq__alloc_peak_bytes(void);
#endif

#endif
