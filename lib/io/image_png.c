/* PNG reader (ISO/IEC 15948): all color types and bit depths, Adam7, the five filters.
 *
 * Two passes over the chunks. The first checks every chunk's length against the bytes present
 * and its CRC-32, the order rules (IHDR first and once, PLTE before IDAT and once, tRNS after
 * PLTE and before IDAT, IDAT chunks consecutive, IEND last and empty), refuses unknown
 * critical chunks, skips ancillary ones, and sums the IDAT lengths. Only then is anything
 * allocated: the IDAT payloads are gathered into one buffer and inflated into exactly the
 * filtered size the header implies, which is first checked to be reachable from the IDAT
 * bytes at deflate's largest ratio (1032:1), so a small file cannot make a large allocation.
 * Output: gray -> 1 channel, RGB/palette -> 3, with alpha or tRNS -> 4 (RGBA); bit depths
 * 1/2/4 scaled to 0..255 (v * 255 / (2^d - 1)) for gray, 16 reduced to the high byte. Bytes
 * after IEND are ignored. */
#include "image.h"

#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"

#define FMT "PNG"

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

typedef struct png_info {
    uint32_t width, height;
    int      depth, color, interlace;
    int      in_ch;          /* samples per pixel in the file */
    uint8_t  palette[256][4]; /* RGBA; alpha from tRNS, else 255 */
    int      npalette;
    int      has_trns;
    uint16_t trns[3];        /* gray or RGB key for color types 0 and 2 */
    size_t   idat_bytes;
} png_info;

static const char *color_name(int c)
{
    switch (c) {
    case 0: return "gray";
    case 2: return "RGB";
    case 3: return "palette";
    case 4: return "gray+alpha";
    case 6: return "RGBA";
    default: return "?";
    }
}

static igq_status read_ihdr(const uint8_t *d, png_info *pi)
{
    int ok_depth;
    pi->width     = be32(d);
    pi->height    = be32(d + 4);
    pi->depth     = d[8];
    pi->color     = d[9];
    pi->interlace = d[12];
    IGQ_CHECK(pi->width <= 0x7fffffffu && pi->height <= 0x7fffffffu, IGQ_ERR_FORMAT,
              FMT ": IHDR size %ux%u out of range", (unsigned)pi->width, (unsigned)pi->height);
    IGQ_TRY(igq__image_check_size(FMT, pi->width, pi->height));
    switch (pi->color) {
    case 0: pi->in_ch = 1; ok_depth = pi->depth == 1 || pi->depth == 2 || pi->depth == 4 ||
                                      pi->depth == 8 || pi->depth == 16; break;
    case 3: pi->in_ch = 1; ok_depth = pi->depth == 1 || pi->depth == 2 || pi->depth == 4 ||
                                      pi->depth == 8; break;
    case 2: pi->in_ch = 3; ok_depth = pi->depth == 8 || pi->depth == 16; break;
    case 4: pi->in_ch = 2; ok_depth = pi->depth == 8 || pi->depth == 16; break;
    case 6: pi->in_ch = 4; ok_depth = pi->depth == 8 || pi->depth == 16; break;
    default:
        return igq__set_error(IGQ_ERR_FORMAT, FMT ": IHDR invalid color type %d", pi->color);
    }
    IGQ_CHECK(ok_depth, IGQ_ERR_FORMAT, FMT ": IHDR bit depth %d invalid for color type %d (%s)",
              pi->depth, pi->color, color_name(pi->color));
    IGQ_CHECK(d[10] == 0, IGQ_ERR_FORMAT, FMT ": IHDR unknown compression method %d", d[10]);
    IGQ_CHECK(d[11] == 0, IGQ_ERR_FORMAT, FMT ": IHDR unknown filter method %d", d[11]);
    IGQ_CHECK(pi->interlace <= 1, IGQ_ERR_FORMAT, FMT ": IHDR unknown interlace method %d",
              pi->interlace);
    return IGQ_OK;
}

static igq_status read_trns(const uint8_t *d, uint32_t len, png_info *pi)
{
    uint32_t i;
    switch (pi->color) {
    case 3:
        IGQ_CHECK(pi->npalette > 0, IGQ_ERR_FORMAT, FMT ": tRNS before PLTE");
        IGQ_CHECK(len <= (uint32_t)pi->npalette, IGQ_ERR_FORMAT,
                  FMT ": tRNS has %u entries, PLTE only %d", (unsigned)len, pi->npalette);
        for (i = 0; i < len; i++) pi->palette[i][3] = d[i];
        break;
    case 0:
        IGQ_CHECK(len == 2, IGQ_ERR_FORMAT, FMT ": tRNS of %u bytes for gray (needs 2)",
                  (unsigned)len);
        pi->trns[0] = (uint16_t)(d[0] << 8 | d[1]);
        break;
    case 2:
        IGQ_CHECK(len == 6, IGQ_ERR_FORMAT, FMT ": tRNS of %u bytes for RGB (needs 6)",
                  (unsigned)len);
        for (i = 0; i < 3; i++) pi->trns[i] = (uint16_t)(d[2 * i] << 8 | d[2 * i + 1]);
        break;
    default:
        return igq__set_error(IGQ_ERR_FORMAT, FMT ": tRNS not allowed for color type %d (%s)",
                              pi->color, color_name(pi->color));
    }
    pi->has_trns = 1;
    return IGQ_OK;
}

/* Pass one: validates the chunk sequence; fills pi. */
static igq_status scan_chunks(const uint8_t *data, size_t size, png_info *pi)
{
    size_t pos = 8;
    int    seen_ihdr = 0, seen_plte = 0, seen_trns = 0, idat_state = 0; /* 1 in, 2 after */
    for (;;) {
        uint32_t       len, crc, i;
        const uint8_t *type, *d;
        char           name[5];
        IGQ_CHECK(size - pos >= 12, IGQ_ERR_FORMAT,
                  FMT ": truncated at byte %zu (chunk header; no IEND)", pos);
        len  = be32(data + pos);
        type = data + pos + 4;
        d    = data + pos + 8;
        for (i = 0; i < 4; i++) {
            IGQ_CHECK((type[i] >= 'A' && type[i] <= 'Z') || (type[i] >= 'a' && type[i] <= 'z'),
                      IGQ_ERR_FORMAT, FMT ": invalid chunk type bytes at byte %zu", pos + 4);
            name[i] = (char)type[i];
        }
        name[4] = '\0';
        IGQ_CHECK(len <= 0x7fffffffu, IGQ_ERR_FORMAT, FMT ": chunk '%s' length %u too large", name,
                  (unsigned)len);
        IGQ_CHECK(size - pos - 12 >= len, IGQ_ERR_FORMAT,
                  FMT ": chunk '%s' of %u bytes truncated at byte %zu", name, (unsigned)len, size);
        crc = igq__crc32(0, type, (size_t)len + 4);
        IGQ_CHECK(crc == be32(d + len), IGQ_ERR_FORMAT, FMT ": chunk '%s' CRC mismatch", name);
        if (!seen_ihdr)
            IGQ_CHECK(memcmp(name, "IHDR", 4) == 0, IGQ_ERR_FORMAT,
                      FMT ": first chunk is '%s', not IHDR", name);
        if (idat_state == 1 && memcmp(name, "IDAT", 4) != 0) idat_state = 2;
        if (memcmp(name, "IHDR", 4) == 0) {
            IGQ_CHECK(!seen_ihdr, IGQ_ERR_FORMAT, FMT ": second IHDR chunk");
            IGQ_CHECK(len == 13, IGQ_ERR_FORMAT, FMT ": IHDR of %u bytes (needs 13)",
                      (unsigned)len);
            IGQ_TRY(read_ihdr(d, pi));
            seen_ihdr = 1;
        } else if (memcmp(name, "PLTE", 4) == 0) {
            IGQ_CHECK(!seen_plte, IGQ_ERR_FORMAT, FMT ": second PLTE chunk");
            IGQ_CHECK(idat_state == 0, IGQ_ERR_FORMAT, FMT ": PLTE after IDAT");
            IGQ_CHECK(!seen_trns, IGQ_ERR_FORMAT, FMT ": PLTE after tRNS");
            IGQ_CHECK(pi->color != 0 && pi->color != 4, IGQ_ERR_FORMAT,
                      FMT ": PLTE not allowed for color type %d (%s)", pi->color,
                      color_name(pi->color));
            IGQ_CHECK(len % 3 == 0 && len >= 3 && len <= 768, IGQ_ERR_FORMAT,
                      FMT ": PLTE of %u bytes (needs 3 to 768, a multiple of 3)", (unsigned)len);
            if (pi->color == 3)
                IGQ_CHECK(len / 3 <= (1u << pi->depth), IGQ_ERR_FORMAT,
                          FMT ": PLTE has %u entries, more than bit depth %d allows",
                          (unsigned)len / 3, pi->depth);
            pi->npalette = (int)(len / 3);
            for (i = 0; i < len / 3; i++) {
                memcpy(pi->palette[i], d + 3 * i, 3);
                pi->palette[i][3] = 255;
            }
            seen_plte = 1;
        } else if (memcmp(name, "tRNS", 4) == 0) {
            IGQ_CHECK(!seen_trns, IGQ_ERR_FORMAT, FMT ": second tRNS chunk");
            IGQ_CHECK(idat_state == 0, IGQ_ERR_FORMAT, FMT ": tRNS after IDAT");
            IGQ_TRY(read_trns(d, len, pi));
            seen_trns = 1;
        } else if (memcmp(name, "IDAT", 4) == 0) {
            IGQ_CHECK(idat_state != 2, IGQ_ERR_FORMAT, FMT ": IDAT chunks not consecutive");
            IGQ_CHECK(pi->color != 3 || seen_plte, IGQ_ERR_FORMAT,
                      FMT ": palette image without PLTE before IDAT");
            idat_state = 1;
            pi->idat_bytes += len;
        } else if (memcmp(name, "IEND", 4) == 0) {
            IGQ_CHECK(len == 0, IGQ_ERR_FORMAT, FMT ": IEND of %u bytes (needs 0)",
                      (unsigned)len);
            IGQ_CHECK(idat_state != 0, IGQ_ERR_FORMAT, FMT ": no IDAT chunk before IEND");
            return IGQ_OK;
        } else if (!(type[0] & 0x20)) {
            return igq__set_error(IGQ_ERR_UNSUPPORTED, FMT ": unknown critical chunk '%s'",
                                  name);
        }
        /* ancillary chunks (gAMA, tEXt, ...) are skipped: the pixels are returned as stored */
        pos += 12 + (size_t)len;
    }
}

static int paeth(int a, int b, int c)
{
    const int p = a + b - c;
    const int pa = p > a ? p - a : a - p, pb = p > b ? p - b : b - p, pc = p > c ? p - c : c - p;
    if (pa <= pb && pa <= pc) return a;
    return pb <= pc ? b : c;
}

/* Undoes the filter of each of rows rows of rowbytes (+1 filter byte) in place. */
static igq_status unfilter(uint8_t *p, size_t rowbytes, uint32_t rows, size_t bpp, int pass)
{
    const uint8_t *prev = NULL;
    uint32_t       y;
    for (y = 0; y < rows; y++) {
        const int ft  = p[0];
        uint8_t  *row = p + 1;
        size_t    i;
        switch (ft) {
        case 0: break;
        case 1:
            for (i = bpp; i < rowbytes; i++) row[i] = (uint8_t)(row[i] + row[i - bpp]);
            break;
        case 2:
            if (prev)
                for (i = 0; i < rowbytes; i++) row[i] = (uint8_t)(row[i] + prev[i]);
            break;
        case 3:
            for (i = 0; i < rowbytes; i++) {
                const int a = i >= bpp ? row[i - bpp] : 0, b = prev ? prev[i] : 0;
                row[i] = (uint8_t)(row[i] + ((a + b) >> 1));
            }
            break;
        case 4:
            for (i = 0; i < rowbytes; i++) {
                const int a = i >= bpp ? row[i - bpp] : 0, b = prev ? prev[i] : 0;
                const int c = i >= bpp && prev ? prev[i - bpp] : 0;
                row[i] = (uint8_t)(row[i] + paeth(a, b, c));
            }
            break;
        default:
            if (pass >= 0)
                return igq__set_error(IGQ_ERR_FORMAT,
                                      FMT ": invalid filter type %d in row %u of Adam7 pass %d",
                                      ft, (unsigned)y, pass + 1);
            return igq__set_error(IGQ_ERR_FORMAT, FMT ": invalid filter type %d in row %u", ft,
                                  (unsigned)y);
        }
        prev = row;
        p += rowbytes + 1;
    }
    return IGQ_OK;
}

/* Sample s (0-based, counting samples across the row) of a row at the file's depth. */
static unsigned sample(const uint8_t *row, size_t s, int depth)
{
    if (depth == 8) return row[s];
    if (depth == 16) return (unsigned)row[2 * s] << 8 | row[2 * s + 1];
    {
        const size_t bit = s * (size_t)depth;
        return (unsigned)(row[bit >> 3] >> (8 - depth - (int)(bit & 7))) & ((1u << depth) - 1u);
    }
}

/* Writes the pixels of one (pass) row to out at x = x0, x0 + dx, ... of image row y. */
static igq_status emit_row(const png_info *pi, const uint8_t *row, uint32_t n, uint32_t x0,
                           uint32_t dx, uint8_t *out, int och)
{
    const int d     = pi->depth;
    const int scale = d == 1 ? 255 : d == 2 ? 85 : d == 4 ? 17 : 1;
    uint32_t  i;
    for (i = 0; i < n; i++) {
        uint8_t *o = out + ((size_t)x0 + (size_t)i * dx) * (size_t)och;
        unsigned v[4];
        int      c;
        for (c = 0; c < pi->in_ch; c++) v[c] = sample(row, (size_t)i * pi->in_ch + c, d);
        switch (pi->color) {
        case 3:
            if (v[0] >= (unsigned)pi->npalette)
                return igq__set_error(IGQ_ERR_FORMAT,
                                      FMT ": palette index %u beyond the %d entries of PLTE",
                                      v[0], pi->npalette);
            memcpy(o, pi->palette[v[0]], (size_t)och);
            break;
        case 0: {
            const uint8_t g = (uint8_t)(d == 16 ? v[0] >> 8 : v[0] * (unsigned)scale);
            o[0]            = g;
            if (och == 4) {
                o[1] = o[2] = g;
                o[3]        = v[0] == pi->trns[0] ? 0 : 255;
            }
            break;
        }
        case 2:
            for (c = 0; c < 3; c++) o[c] = (uint8_t)(d == 16 ? v[c] >> 8 : v[c]);
            if (och == 4)
                o[3] = v[0] == pi->trns[0] && v[1] == pi->trns[1] && v[2] == pi->trns[2] ? 0 : 255;
            break;
        case 4:
            o[0] = o[1] = o[2] = (uint8_t)(d == 16 ? v[0] >> 8 : v[0]);
            o[3]               = (uint8_t)(d == 16 ? v[1] >> 8 : v[1]);
            break;
        default:
            for (c = 0; c < 4; c++) o[c] = (uint8_t)(d == 16 ? v[c] >> 8 : v[c]);
            break;
        }
    }
    return IGQ_OK;
}

static const uint8_t a7_x0[7] = {0, 4, 0, 2, 0, 1, 0}, a7_y0[7] = {0, 0, 4, 0, 2, 0, 1};
static const uint8_t a7_dx[7] = {8, 8, 4, 4, 2, 2, 1}, a7_dy[7] = {8, 8, 8, 4, 4, 2, 2};

/* Pass extents (0 when the pass is empty); the non-interlaced image is one "pass". */
static void pass_size(const png_info *pi, int p, uint32_t *w, uint32_t *h)
{
    if (p < 0) {
        *w = pi->width;
        *h = pi->height;
        return;
    }
    *w = pi->width > a7_x0[p] ? (pi->width - a7_x0[p] + a7_dx[p] - 1) / a7_dx[p] : 0;
    *h = pi->height > a7_y0[p] ? (pi->height - a7_y0[p] + a7_dy[p] - 1) / a7_dy[p] : 0;
    if (*w == 0 || *h == 0) *w = *h = 0;
}

static size_t row_bytes(const png_info *pi, uint32_t w)
{
    return ((size_t)w * (size_t)(pi->in_ch * pi->depth) + 7) / 8;
}

igq_status igq__png_decode(const uint8_t *data, size_t size, igq__image *img)
{
    png_info   *pi;
    uint8_t    *idat = NULL, *raw = NULL, *out = NULL;
    uint64_t    expected = 0;
    size_t      pos, got, off, bpp;
    int         p, p0, p1, och;
    igq_status  s;
    img->pixels = NULL;
    pi          = (png_info *)igq__calloc(1, sizeof *pi);
    IGQ_CHECK(pi != NULL, IGQ_ERR_NO_MEMORY, FMT ": cannot allocate the decoder state");
    s = scan_chunks(data, size, pi);
    if (s != IGQ_OK) goto done;
    p0 = pi->interlace ? 0 : -1;
    p1 = pi->interlace ? 7 : 0;
    for (p = p0; p < p1; p++) {
        uint32_t w, h;
        pass_size(pi, p, &w, &h);
        if (w) expected += (uint64_t)h * (1 + (uint64_t)row_bytes(pi, w));
    }
    /* deflate cannot expand more than 1032:1 (a 258-byte match in 2 bits) */
    if (expected > (uint64_t)pi->idat_bytes * 1032u + 1032u || expected > (uint64_t)SIZE_MAX) {
        s = igq__set_error(IGQ_ERR_FORMAT,
                           FMT ": %zu bytes of IDAT cannot hold the %llu bytes a %ux%u image "
                               "needs",
                           pi->idat_bytes, (unsigned long long)expected, (unsigned)pi->width,
                           (unsigned)pi->height);
        goto done;
    }
    och = pi->color == 0 ? 1 : pi->color == 2 || pi->color == 3 ? 3 : 4;
    if (pi->has_trns) och = 4;
    idat = (uint8_t *)igq__malloc(pi->idat_bytes ? pi->idat_bytes : 1);
    raw  = (uint8_t *)igq__malloc((size_t)expected);
    out  = (uint8_t *)igq__malloc((size_t)pi->width * pi->height * (size_t)och);
    if (idat == NULL || raw == NULL || out == NULL) {
        s = igq__set_error(IGQ_ERR_NO_MEMORY, FMT ": cannot allocate %zu + %llu + %zu bytes",
                           pi->idat_bytes, (unsigned long long)expected,
                           (size_t)pi->width * pi->height * (size_t)och);
        goto done;
    }
    /* pass two: gather IDAT (all lengths and CRCs were checked by scan_chunks) */
    for (pos = 8, got = 0;;) {
        const uint32_t len = be32(data + pos);
        if (memcmp(data + pos + 4, "IDAT", 4) == 0) {
            memcpy(idat + got, data + pos + 8, len);
            got += len;
        } else if (memcmp(data + pos + 4, "IEND", 4) == 0) {
            break;
        }
        pos += 12 + (size_t)len;
    }
    s = igq__zlib_inflate(idat, got, raw, (size_t)expected, FMT);
    if (s != IGQ_OK) goto done;
    bpp = (size_t)(pi->in_ch * pi->depth + 7) / 8;
    for (p = p0, off = 0; p < p1; p++) {
        uint32_t w, h, y;
        size_t   rb;
        pass_size(pi, p, &w, &h);
        if (w == 0) continue;
        rb = row_bytes(pi, w);
        s  = unfilter(raw + off, rb, h, bpp, p);
        if (s != IGQ_OK) goto done;
        for (y = 0; y < h; y++) {
            const uint32_t iy = p < 0 ? y : a7_y0[p] + y * a7_dy[p];
            s = emit_row(pi, raw + off + (size_t)y * (rb + 1) + 1, w, p < 0 ? 0 : a7_x0[p],
                         p < 0 ? 1 : a7_dx[p], out + (size_t)iy * pi->width * (size_t)och, och);
            if (s != IGQ_OK) goto done;
        }
        off += (size_t)h * (rb + 1);
    }
    img->pixels   = out;
    img->width    = (int32_t)pi->width;
    img->height   = (int32_t)pi->height;
    img->channels = och;
    out           = NULL;
done:
    igq__free(out);
    igq__free(raw);
    igq__free(idat);
    igq__free(pi);
    return s;
}
