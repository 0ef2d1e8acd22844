/* A small, strict JSON parser (RFC 8259) producing a read-only tree. Private header.
 * Limits: nesting depth <= IGQ_JSON_MAX_DEPTH; duplicate object keys are an error. */
#ifndef IGQ_IO_JSON_H
#define IGQ_IO_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "igq/igq.h"

#define IGQ_JSON_MAX_DEPTH 64

typedef enum igq_json_type {
    IGQ_JSON_NULL,
    IGQ_JSON_FALSE,
    IGQ_JSON_TRUE,
    IGQ_JSON_NUMBER,
    IGQ_JSON_STRING,
    IGQ_JSON_ARRAY,
    IGQ_JSON_OBJECT
} igq_json_type;

typedef struct igq_json igq_json;
struct igq_json {
    igq_json_type type;
    double        number;     /* NUMBER: value */
    int64_t       integer;    /* NUMBER: exact value when is_integer */
    int           is_integer; /* NUMBER without fraction/exponent that fits int64 */
    char         *string;     /* STRING: decoded UTF-8, NUL-terminated (may hold \u0000) */
    size_t        string_len; /* STRING: bytes, excluding the terminator */
    size_t        count;      /* ARRAY/OBJECT: number of items */
    igq_json     *items;      /* ARRAY/OBJECT: the values */
    char        **keys;       /* OBJECT: the keys, same order as items */
};

/* Parses exactly one JSON value (surrounding whitespace allowed) from text[0..len).
 * On failure returns IGQ_ERR_FORMAT with a last-error message "JSON: <what> at byte <n>"
 * (or IGQ_ERR_NO_MEMORY) and sets *out to NULL. */
igq_status igq__json_parse(const char *text, size_t len, igq_json **out);
void       igq__json_free(igq_json *root);

/* Checks that text[0..len) is one JSON value without building a tree: the same errors and
 * messages as igq__json_parse except that duplicate keys are not looked for. Allocates nothing
 * but a transient copy of a number too long for the exact fast path (at most len + 1 bytes),
 * so a reader can check a hostile document before paying for any of it. */
igq_status igq__json_check(const char *text, size_t len);

/* Building blocks for readers that walk a document checked by igq__json_check themselves.
 * igq__json_string: the string whose opening quote is text[*pos]. Its decoded bytes go to dst
 * while fewer than cap were written (dst NULL: none), *out_len gets the whole decoded length,
 * *has_nul (may be NULL) whether it holds U+0000; no terminator is written. The encoded
 * length (closing quote included) always has room for the decoded bytes plus a terminator.
 * igq__json_number: the number starting at text[*pos], into a NUMBER node that owns nothing.
 * Both advance *pos past the value on success; errors are those of igq__json_parse. */
igq_status igq__json_string(const char *text, size_t len, size_t *pos, char *dst, size_t cap,
                            size_t *out_len, int *has_nul);
igq_status igq__json_number(const char *text, size_t len, size_t *pos, igq_json *out);

/* Object member by key, NULL if absent or obj is not an object. */
const igq_json *igq__json_get(const igq_json *obj, const char *key);

/* strtod under the "C" locale, whatever the caller's LC_NUMERIC (metadata numbers such as
 * "0.485,0.456" must not depend on setlocale). Sets errno as strtod does. */
double igq__strtod_c(const char *s, char **end);

#endif
