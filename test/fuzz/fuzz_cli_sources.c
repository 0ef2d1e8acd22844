/* libFuzzer harness for the igq tool's own readers of untrusted bytes (STYLE.md 2.9b): the IDX
 * image header check and the labels file parser (IDX labels or text, one class index per line)
 * of programs/igq/common.c, compiled into the harness. Image files themselves go through the
 * library's decoders (fuzz_image). Input: a file's bytes; the labels parser is asked for 1, 7
 * and 64 labels. Seeds: test/fuzz/corpus/fuzz_cli_sources/. Build and run: make fuzz. */
#include "../../programs/igq/common.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t counts[3] = {1, 7, 64};
    int64_t              n = 0, rows = 0, cols = 0, labels[64];
    char                 msg[256];
    uint8_t             *copy;
    int                  k;
    if (idx_images_check(data, size, &n, &rows, &cols) == NULL &&
        (n < 1 || rows < 1 || cols < 1 || (uint64_t)n * (uint64_t)rows * (uint64_t)cols != size - 16))
        abort(); /* accepted a header that does not describe the bytes */
    copy = (uint8_t *)malloc(size + 1); /* the parser expects a NUL after the bytes */
    if (copy == NULL) return 0;
    for (k = 0; k < 3; k++) {
        if (size) memcpy(copy, data, size);
        copy[size] = '\0';
        if (labels_parse(copy, size, counts[k], labels, msg, sizeof msg) == 0) {
            int64_t i;
            for (i = 0; i < counts[k]; i++)
                if (labels[i] < 0) abort(); /* a label the parser should have refused */
        }
    }
    free(copy);
    return 0;
}
