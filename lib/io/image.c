/* Public image API: format detection, limits, file loading. The decoders are image_png.c
 * (with image_inflate.c), image_pnm.c and image_bmp.c. */
#include "image.h"

#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "file.h"

igq_status igq__image_check_size(const char *fmt, int64_t width, int64_t height)
{
    IGQ_CHECK(width >= 1 && height >= 1, IGQ_ERR_FORMAT, "%s: invalid image size %lldx%lld", fmt,
              (long long)width, (long long)height);
    IGQ_CHECK(width <= IGQ__IMAGE_MAX_SIDE && height <= IGQ__IMAGE_MAX_SIDE, IGQ_ERR_UNSUPPORTED,
              "%s: image size %lldx%lld exceeds the limit of %d pixels a side", fmt,
              (long long)width, (long long)height, IGQ__IMAGE_MAX_SIDE);
    IGQ_CHECK((uint64_t)width * (uint64_t)height <= IGQ__IMAGE_MAX_PIXELS, IGQ_ERR_UNSUPPORTED,
              "%s: image size %lldx%lld exceeds the limit of 2^28 pixels", fmt, (long long)width,
              (long long)height);
    return IGQ_OK;
}

static void clear_out(uint8_t **pixels, int32_t *width, int32_t *height, int32_t *channels)
{
    if (pixels) *pixels = NULL;
    if (width) *width = 0;
    if (height) *height = 0;
    if (channels) *channels = 0;
}

igq_status igq_image_decode(const void *data, size_t size, uint8_t **pixels, int32_t *width,
                            int32_t *height, int32_t *channels)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const uint8_t       *d          = (const uint8_t *)data;
    igq__image           img;
    igq_status           s;
    clear_out(pixels, width, height, channels);
    IGQ_CHECK(pixels && width && height && channels, IGQ_ERR_INVALID_ARGUMENT,
              "igq_image_decode: NULL out-pointer");
    IGQ_CHECK(data != NULL || size == 0, IGQ_ERR_INVALID_ARGUMENT,
              "igq_image_decode: NULL data with size %zu", size);
    memset(&img, 0, sizeof img);
    if (size >= 8 && memcmp(d, png_sig, 8) == 0)
        s = igq__png_decode(d, size, &img);
    else if (size >= 2 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7')
        s = igq__pnm_decode(d, size, &img);
    else if (size >= 2 && d[0] == 'B' && d[1] == 'M')
        s = igq__bmp_decode(d, size, &img);
    else if (size >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
        return igq__set_error(IGQ_ERR_UNSUPPORTED, "JPEG images are not supported");
    else if (size >= 4 && memcmp(d, "GIF8", 4) == 0)
        return igq__set_error(IGQ_ERR_UNSUPPORTED, "GIF images are not supported");
    else if (size >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
        return igq__set_error(IGQ_ERR_UNSUPPORTED, "WebP images are not supported");
    else
        return igq__set_error(IGQ_ERR_FORMAT,
                              "unknown image format (not PNG, binary PPM/PGM or BMP)");
    if (s != IGQ_OK) return s;
    *pixels   = img.pixels;
    *width    = img.width;
    *height   = img.height;
    *channels = img.channels;
    return IGQ_OK;
}

igq_status igq_image_load(const char *path, uint8_t **pixels, int32_t *width, int32_t *height,
                          int32_t *channels)
{
    unsigned char *buf;
    size_t         size;
    igq_status     s;
    clear_out(pixels, width, height, channels);
    IGQ_CHECK(path != NULL, IGQ_ERR_INVALID_ARGUMENT, "igq_image_load: NULL path");
    IGQ_CHECK(pixels && width && height && channels, IGQ_ERR_INVALID_ARGUMENT,
              "igq_image_load: NULL out-pointer");
    IGQ_TRY(igq__read_file(path, &buf, &size));
    s = igq_image_decode(buf, size, pixels, width, height, channels);
    igq__free(buf);
    if (s != IGQ_OK) igq__error_prefix(path);
    return s;
}

void igq_image_free(uint8_t *pixels)
{
    igq__free(pixels);
}
