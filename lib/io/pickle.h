/* Restricted pickle reader: the subset of Python's pickle (protocols 2 to 5) that torch.save
 * writes for a state dict. Private header.
 *
 * The stream is run on a stack machine that only builds nodes (None, booleans, integers up to
 * 64 bits, floats, strings, tuples, lists, dicts, storages, tensors): nothing is ever executed.
 * A global may only name one of a fixed list (torch._utils._rebuild_tensor_v2 and
 * _rebuild_parameter, collections.OrderedDict and the torch.*Storage classes); REDUCE on an
 * allowed callable builds a node (a tensor, a dict); anything else is refused, naming the global
 * or the opcode. A tensor's numbers (offset, sizes, strides) are kept as written: the caller
 * checks them once it knows the tensor's name.
 *
 * Bounds: the stream is at most IGQ__PICKLE_MAX_BYTES; at most IGQ__PICKLE_MAX_NODES nodes,
 * IGQ__PICKLE_MAX_STACK stack entries and IGQ__PICKLE_MAX_ITEMS container items in all;
 * containers and marks nest at most IGQ__PICKLE_MAX_DEPTH deep (a nesting bomb is refused
 * while it is read, and nothing here or in its callers recurses over the nodes); a memo index
 * may only reuse a slot or take the next one, so the memo never outgrows the node count. */
#ifndef IGQ_IO_PICKLE_H
#define IGQ_IO_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "igq/igq.h"
#include "safetensors.h"

#define IGQ__PICKLE_MAX_BYTES ((size_t)64 << 20)
#define IGQ__PICKLE_MAX_NODES ((size_t)1 << 20)
#define IGQ__PICKLE_MAX_STACK ((size_t)1 << 20)
#define IGQ__PICKLE_MAX_ITEMS ((size_t)1 << 22)
#define IGQ__PICKLE_MAX_DEPTH 100

typedef enum igq__pk_kind {
    IGQ__PK_NONE,
    IGQ__PK_BOOL,    /* u.i: 0 or 1 */
    IGQ__PK_INT,     /* u.i */
    IGQ__PK_FLOAT,   /* u.f */
    IGQ__PK_STR,     /* u.s: UTF-8 bytes inside the stream, not NUL-terminated */
    IGQ__PK_TUPLE,   /* items[n] */
    IGQ__PK_LIST,    /* items[n] */
    IGQ__PK_DICT,    /* items[2n]: key, value, key, value... in insertion order */
    IGQ__PK_GLOBAL,  /* u.i: an igq__pk_global */
    IGQ__PK_STORAGE, /* u.i: index into storages */
    IGQ__PK_TENSOR   /* u.i: index into tensors */
} igq__pk_kind;

/* The globals a stream may name. */
typedef enum igq__pk_global {
    IGQ__PKG_REBUILD_TENSOR_V2,
    IGQ__PKG_REBUILD_PARAMETER,
    IGQ__PKG_ORDERED_DICT,
    IGQ__PKG_STORAGE /* + the storage's igq_st_dtype */
} igq__pk_global;

typedef struct igq__pk_node {
    uint8_t   kind;
    uint16_t  depth; /* containers: 1 + the deepest item's depth (as items were added) */
    uint32_t  n, cap;
    uint32_t *items;
    union {
        int64_t i;
        double  f;
        struct {
            const char *p;
            size_t      len;
        } s;
    } u;
} igq__pk_node;

typedef struct igq__pk_storage {
    igq_st_dtype dtype;
    const char  *key; /* u.s of the persistent id: bytes inside the stream */
    size_t       key_len;
    int64_t      numel;
} igq__pk_storage;

typedef struct igq__pk_tensor {
    uint32_t storage; /* node index of an IGQ__PK_STORAGE */
    int64_t  offset;  /* storage offset, in elements */
    int32_t  ndim;    /* as written (may exceed IGQ_MAX_DIMS: only the first ones are kept) */
    int64_t  size[IGQ_MAX_DIMS], stride[IGQ_MAX_DIMS];
} igq__pk_tensor;

typedef struct igq__pickle {
    igq__pk_node    *nodes;
    size_t           n_nodes;
    igq__pk_storage *storages;
    size_t           n_storages;
    igq__pk_tensor  *tensors;
    size_t           n_tensors;
    uint32_t         root;
} igq__pickle;

/* Runs the n-byte stream at p (borrowed: string nodes point into it) up to STOP. who names the
 * stream in messages. IGQ_ERR_FORMAT (truncated or inconsistent stream, a bound exceeded),
 * IGQ_ERR_UNSUPPORTED (an opcode or global outside the subset, naming it), IGQ_ERR_NO_MEMORY. */
igq_status igq__pickle_load(const unsigned char *p, size_t n, const char *who, igq__pickle **out);
void       igq__pickle_free(igq__pickle *pk);

/* The value of key in dict node d (the last one if the key repeats), or -1 (also when d is not
 * a dict). */
int64_t igq__pickle_dict_get(const igq__pickle *pk, uint32_t d, const char *key);

#endif
