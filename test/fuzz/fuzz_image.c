/* libFuzzer harness for the image readers (STYLE.md 2.9b): PNG (chunks, CRC, inflate,
 * filters, Adam7, palettes), binary PPM/PGM and BMP, through igq_image_decode — the readers of
 * lib/io/image.c, image_png.c, image_inflate.c (also the raw deflate of .pth archives, fuzzed
 * again by fuzz_pth), image_pnm.c and image_bmp.c.
 * Input: an image file's bytes. A PNG input of even length has its chunk CRCs recomputed
 * before decoding (in a copy), so that mutations reach the chunk rules, inflate and the
 * filters instead of stopping at the CRC check; odd lengths are decoded as they are.
 * Seeds: test/fuzz/corpus/fuzz_image/ (small PNG, BMP, PPM/PGM files of
 * tools/gen_image_fixtures.py). Build and run: make fuzz (clang with libclang-rt). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "igq/igq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    int      k;
    while (n--) {
        c ^= *p++;
        for (k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void fix_crcs(uint8_t *b, size_t n)
{
    size_t pos = 8;
    while (n - pos >= 12) {
        const uint32_t len = (uint32_t)b[pos] << 24 | (uint32_t)b[pos + 1] << 16 |
                             (uint32_t)b[pos + 2] << 8 | b[pos + 3];
        uint32_t       c;
        if (len > n - pos - 12) break;
        c                    = crc32(b + pos + 4, (size_t)len + 4);
        b[pos + 8 + len]     = (uint8_t)(c >> 24);
        b[pos + 8 + len + 1] = (uint8_t)(c >> 16);
        b[pos + 8 + len + 2] = (uint8_t)(c >> 8);
        b[pos + 8 + len + 3] = (uint8_t)c;
        pos += 12 + (size_t)len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t   *pix = NULL, *copy = NULL;
    int32_t    w = -1, h = -1, c = -1;
    igq_status s;
    if (size >= 8 && size % 2 == 0 && memcmp(data, "\x89PNG", 4) == 0) {
        copy = (uint8_t *)malloc(size);
        if (copy == NULL) return 0;
        memcpy(copy, data, size);
        fix_crcs(copy, size);
        data = copy;
    }
    s = igq_image_decode(data, size, &pix, &w, &h, &c);
    if (s == IGQ_OK) {
        const size_t n   = (size_t)w * (size_t)h * (size_t)c;
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
    free(copy);
    return 0;
}
