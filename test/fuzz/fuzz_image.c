/* libFuzzer harness for the image readers (STYLE.md 2.9b): PNG (chunks, CRC, inflate,
 * filters, Adam7, palettes), binary PPM/PGM and BMP, through igq_image_decode.
 * Input: an image file's bytes. Seeds: test/fuzz/corpus/fuzz_image/ (small PNG, BMP, PPM/PGM
 * files of tools/gen_image_fixtures.py and hand-made zlib streams).
 * Build and run: make fuzz (clang with libclang-rt). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "igq/igq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t   *pix = NULL;
    int32_t    w = -1, h = -1, c = -1;
    igq_status s   = igq_image_decode(data, size, &pix, &w, &h, &c);
    if (s == IGQ_OK) {
        const size_t n = (size_t)w * (size_t)h * (size_t)c;
        unsigned     sum = 0;
        size_t       i;
        if (pix == NULL || w < 1 || h < 1 || w > 65535 || h > 65535 ||
            (c != 1 && c != 3 && c != 4))
            abort();
        for (i = 0; i < n; i++) sum += pix[i]; /* every byte must be initialised (MSan) */
        if (sum == 0xffffffffu) abort();
        igq_image_free(pix);
    } else if (pix != NULL || w != 0 || h != 0 || c != 0) {
        abort(); /* failure must clear the outputs */
    }
    return 0;
}
