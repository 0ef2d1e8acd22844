/* Uncompressed BMP (Windows DIB): BITMAPINFOHEADER (40 bytes) and its V2/V3/V4/V5 extensions
 * (52/56/108/124), 8-bit palettized, 24-bit and 32-bit pixels, bottom-up (positive height) or
 * top-down (negative). 32-bit BI_RGB is BGRX (the fourth byte is unused: 3 channels, as
 * Pillow reads it); 32-bit BI_BITFIELDS is accepted when each mask is one whole byte (alpha
 * mask non-zero: 4 channels). An 8-bit image whose palette entries are all gray (r = g = b)
 * gives 1 channel, else 3. Rows are padded to 4 bytes; the pixel array must be wholly present.
 * RLE, JPEG/PNG-in-BMP, 1/4/16-bit pixels and the OS/2 headers are refused by name. */
#include "image.h"

#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"

#define FMT "BMP"

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Byte index (0..3) of an 8-bit mask, or -1. */
static int mask_byte(uint32_t m)
{
    int i;
    for (i = 0; i < 4; i++)
        if (m == 0xffu << (8 * i)) return i;
    return -1;
}

igq_status igq__bmp_decode(const uint8_t *d, size_t size, igq__image *img)
{
    static const char *const comp_names[] = {"BI_RGB", "RLE8", "RLE4", "BI_BITFIELDS",
                                             "JPEG",   "PNG",  "BI_ALPHABITFIELDS"};
    uint32_t  hsize, comp, offbits, ncolors = 0, masks[4] = {0, 0, 0, 0}, y;
    int32_t   w, h;
    int       bits, och, top_down = 0, pos[4] = {2, 1, 0, -1};
    uint8_t   pal[256][3];
    size_t    stride, need, palpos;
    uint8_t  *out;
    img->pixels = NULL;
    IGQ_CHECK(size >= 18, IGQ_ERR_FORMAT, FMT ": truncated file header (%zu bytes)", size);
    offbits = le32(d + 10);
    hsize   = le32(d + 14);
    if (hsize == 12 || hsize == 64)
        return igq__set_error(IGQ_ERR_UNSUPPORTED, FMT ": OS/2 %u-byte header not supported",
                              (unsigned)hsize);
    IGQ_CHECK(hsize == 40 || hsize == 52 || hsize == 56 || hsize == 108 || hsize == 124,
              IGQ_ERR_FORMAT, FMT ": unknown info header size %u", (unsigned)hsize);
    IGQ_CHECK(size - 14 >= hsize, IGQ_ERR_FORMAT, FMT ": truncated %u-byte info header",
              (unsigned)hsize);
    w    = (int32_t)le32(d + 18);
    h    = (int32_t)le32(d + 22);
    bits = le16(d + 28);
    comp = le32(d + 30);
    IGQ_CHECK(le16(d + 26) == 1, IGQ_ERR_FORMAT, FMT ": %u planes (needs 1)", le16(d + 26));
    if (comp == 1 || comp == 2 || comp == 4 || comp == 5 || comp == 6)
        return igq__set_error(IGQ_ERR_UNSUPPORTED, FMT ": %s compression not supported",
                              comp_names[comp]);
    IGQ_CHECK(comp == 0 || comp == 3, IGQ_ERR_FORMAT, FMT ": unknown compression %u",
              (unsigned)comp);
    if (bits != 8 && bits != 24 && bits != 32) {
        IGQ_CHECK(bits == 1 || bits == 4 || bits == 16, IGQ_ERR_FORMAT,
                  FMT ": invalid bit count %d", bits);
        return igq__set_error(IGQ_ERR_UNSUPPORTED, FMT ": %d-bit pixels not supported", bits);
    }
    if (h < 0) {
        IGQ_CHECK(h != INT32_MIN, IGQ_ERR_FORMAT, FMT ": invalid height %ld", (long)h);
        h        = -h;
        top_down = 1;
    }
    IGQ_TRY(igq__image_check_size(FMT, w, h));
    palpos = 14 + (size_t)hsize;
    if (comp == 3) {
        IGQ_CHECK(bits == 32, IGQ_ERR_UNSUPPORTED,
                  FMT ": BI_BITFIELDS with %d-bit pixels not supported", bits);
        if (hsize == 40) { /* the three masks follow the header */
            IGQ_CHECK(size - palpos >= 12, IGQ_ERR_FORMAT, FMT ": truncated bit field masks");
            masks[0] = le32(d + palpos);
            masks[1] = le32(d + palpos + 4);
            masks[2] = le32(d + palpos + 8);
            palpos += 12;
        } else {
            masks[0] = le32(d + 54);
            masks[1] = le32(d + 58);
            masks[2] = le32(d + 62);
            if (hsize >= 56) masks[3] = le32(d + 66);
        }
        for (y = 0; y < 4; y++) {
            pos[y] = masks[y] ? mask_byte(masks[y]) : -1;
            IGQ_CHECK(pos[y] >= 0 || (y == 3 && masks[3] == 0), IGQ_ERR_UNSUPPORTED,
                      FMT ": bit field masks %08x %08x %08x %08x not supported (only whole bytes)",
                      (unsigned)masks[0], (unsigned)masks[1], (unsigned)masks[2],
                      (unsigned)masks[3]);
        }
        IGQ_CHECK(pos[0] != pos[1] && pos[0] != pos[2] && pos[1] != pos[2] &&
                      (pos[3] < 0 || (pos[3] != pos[0] && pos[3] != pos[1] && pos[3] != pos[2])),
                  IGQ_ERR_FORMAT, FMT ": overlapping bit field masks");
    }
    och = bits == 8 ? 1 : pos[3] >= 0 ? 4 : 3;
    if (bits == 8) {
        uint32_t i;
        ncolors = le32(d + 46);
        IGQ_CHECK(ncolors <= 256, IGQ_ERR_FORMAT, FMT ": %u palette colors (at most 256)",
                  (unsigned)ncolors);
        if (ncolors == 0) ncolors = 256;
        IGQ_CHECK(palpos <= size && (size - palpos) / 4 >= ncolors, IGQ_ERR_FORMAT,
                  FMT ": truncated palette of %u colors", (unsigned)ncolors);
        for (i = 0; i < ncolors; i++) {
            const uint8_t *e = d + palpos + 4 * (size_t)i;
            pal[i][0]        = e[2];
            pal[i][1]        = e[1];
            pal[i][2]        = e[0];
            if (e[0] != e[1] || e[1] != e[2]) och = 3;
        }
    }
    stride = ((size_t)w * (size_t)bits + 31) / 32 * 4;
    need   = stride * (size_t)h;
    IGQ_CHECK(offbits <= size && size - offbits >= need,
              IGQ_ERR_FORMAT,
              FMT ": pixel array of %zu bytes at offset %u not within the %zu-byte file",
              need, (unsigned)offbits, size);
    out = (uint8_t *)igq__malloc((size_t)w * (size_t)h * (size_t)och);
    IGQ_CHECK(out != NULL, IGQ_ERR_NO_MEMORY, FMT ": cannot allocate %zu bytes",
              (size_t)w * (size_t)h * (size_t)och);
    for (y = 0; y < (uint32_t)h; y++) {
        const uint8_t *row = d + offbits + (size_t)(top_down ? y : (uint32_t)h - 1 - y) * stride;
        uint8_t       *o   = out + (size_t)y * (size_t)w * (size_t)och;
        int32_t        x;
        for (x = 0; x < w; x++, o += och) {
            if (bits == 8) {
                const uint8_t k = row[x];
                if (k >= ncolors) {
                    igq__free(out);
                    return igq__set_error(IGQ_ERR_FORMAT,
                                          FMT ": palette index %u beyond the %u colors", k,
                                          (unsigned)ncolors);
                }
                memcpy(o, pal[k], (size_t)och);
            } else {
                const uint8_t *px = row + (size_t)x * (size_t)(bits / 8);
                o[0]              = px[pos[0]];
                o[1]              = px[pos[1]];
                o[2]              = px[pos[2]];
                if (och == 4) o[3] = px[pos[3]];
            }
        }
    }
    img->pixels   = out;
    img->width    = w;
    img->height   = h;
    img->channels = och;
    return IGQ_OK;
}
