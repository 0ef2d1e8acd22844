/* libFuzzer harness for the JSON parser (lib/io/json.c, STYLE.md 2.9b): the tree parser and the
 * check-only mode on the same bytes. They must agree: a document the checker refuses is refused
 * by the parser, and one the parser accepts passes the checker (only duplicate keys, which the
 * checker does not look for, may separate them the other way). Build and run: make fuzz-run. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "io/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    igq_json        *root = NULL;
    const igq_status p    = igq__json_parse((const char *)data, size, &root);
    const igq_status c    = igq__json_check((const char *)data, size);
    if (p == IGQ_OK && c != IGQ_OK) abort();
    if (c != IGQ_OK && p == IGQ_OK) abort();
    if (p == IGQ_OK && root == NULL) abort();
    igq__json_free(root);
    return 0;
}
