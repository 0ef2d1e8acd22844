/* Binary PGM (P5) and PPM (P6) with maxval 255 (netpbm): the header is four whitespace-
 * separated tokens (magic, width, height, maxval) with '#' comments running to the end of a
 * line, then exactly one whitespace byte and the rows. Bytes after the last row (a second
 * image of a multi-image file) are ignored. The ASCII and bitmap kinds (P1-P4) and PAM (P7)
 * are refused by name. */
#include "image.h"

#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Skips whitespace and comments, then reads a decimal number (at most 5 digits are needed:
 * bigger values are refused as such). */
static igq_status number(const char *fmt, const char *what, const uint8_t *d, size_t size,
                         size_t *pos, long *v)
{
    size_t p = *pos, digits = 0;
    long   x = 0;
    for (;;) {
        IGQ_CHECK(p < size, IGQ_ERR_FORMAT, "%s: header truncated before the %s", fmt, what);
        if (d[p] == '#') {
            while (p < size && d[p] != '\n' && d[p] != '\r') p++;
        } else if (is_space(d[p])) {
            p++;
        } else {
            break;
        }
    }
    IGQ_CHECK(d[p] >= '0' && d[p] <= '9', IGQ_ERR_FORMAT, "%s: expected the %s at byte %zu", fmt,
              what, p);
    while (p < size && d[p] >= '0' && d[p] <= '9') {
        if (x < 100000000L) x = x * 10 + (d[p] - '0');
        p++;
        digits++;
    }
    IGQ_CHECK(p < size, IGQ_ERR_FORMAT, "%s: header truncated after the %s", fmt, what);
    IGQ_CHECK(is_space(d[p]) || d[p] == '#', IGQ_ERR_FORMAT,
              "%s: unexpected byte 0x%02x after the %s", fmt, d[p], what);
    (void)digits;
    *pos = p;
    *v   = x;
    return IGQ_OK;
}

igq_status igq__pnm_decode(const uint8_t *d, size_t size, igq__image *img)
{
    const char *fmt;
    long        w, h, maxval;
    size_t      pos = 2, n;
    int         ch;
    img->pixels = NULL;
    switch (d[1]) {
    case '5': fmt = "PGM"; ch = 1; break;
    case '6': fmt = "PPM"; ch = 3; break;
    case '1': case '4':
        return igq__set_error(IGQ_ERR_UNSUPPORTED, "PBM (P%c bitmap) images are not supported",
                              d[1]);
    case '2': case '3':
        return igq__set_error(IGQ_ERR_UNSUPPORTED,
                              "%s: ASCII (P%c) images are not supported; only binary P5/P6",
                              d[1] == '2' ? "PGM" : "PPM", d[1]);
    default:
        return igq__set_error(IGQ_ERR_UNSUPPORTED, "PAM (P7) images are not supported");
    }
    IGQ_CHECK(size > 2 && (is_space(d[2]) || d[2] == '#'), IGQ_ERR_FORMAT,
              "%s: no whitespace after the magic number", fmt);
    IGQ_TRY(number(fmt, "width", d, size, &pos, &w));
    IGQ_TRY(number(fmt, "height", d, size, &pos, &h));
    IGQ_TRY(number(fmt, "maxval", d, size, &pos, &maxval));
    IGQ_CHECK(is_space(d[pos]), IGQ_ERR_FORMAT, "%s: no whitespace byte after the maxval", fmt);
    pos++;
    IGQ_TRY(igq__image_check_size(fmt, w, h));
    IGQ_CHECK(maxval >= 1 && maxval <= 65535, IGQ_ERR_FORMAT, "%s: invalid maxval %ld", fmt,
              maxval);
    IGQ_CHECK(maxval == 255, IGQ_ERR_UNSUPPORTED, "%s: maxval %ld not supported (only 255)", fmt,
              maxval);
    n = (size_t)w * (size_t)h * (size_t)ch;
    IGQ_CHECK(size - pos >= n, IGQ_ERR_FORMAT,
              "%s: truncated: %ldx%ld needs %zu bytes of pixels, %zu present", fmt, w, h, n,
              size - pos);
    img->pixels = (uint8_t *)igq__malloc(n);
    IGQ_CHECK(img->pixels != NULL, IGQ_ERR_NO_MEMORY, "%s: cannot allocate %zu bytes", fmt, n);
    memcpy(img->pixels, d + pos, n);
    img->width    = (int32_t)w;
    img->height   = (int32_t)h;
    img->channels = ch;
    return IGQ_OK;
}
