/* 8-bit image decoders (PNG with its own inflate, binary PPM/PGM, uncompressed BMP).
 * Private header. Every decoder reads only [data, data + size), checks each count and offset
 * against the bytes present before allocating, and on success returns an igq__malloc'd
 * buffer of width * height * channels bytes (rows top to bottom, channels 1, 3 or 4). */
#ifndef IGQ_IO_IMAGE_H
#define IGQ_IO_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "igq/igq.h"

/* Limits shared by all formats (documented at igq_image_decode). */
#define IGQ__IMAGE_MAX_SIDE   65535
#define IGQ__IMAGE_MAX_PIXELS ((uint64_t)1 << 28)

typedef struct igq__image {
    uint8_t *pixels;
    int32_t  width, height, channels;
} igq__image;

/* Format-specific decoders; on failure img->pixels is NULL and the last error names the format. */
igq_status igq__png_decode(const uint8_t *data, size_t size, igq__image *img);
igq_status igq__pnm_decode(const uint8_t *data, size_t size, igq__image *img);
igq_status igq__bmp_decode(const uint8_t *data, size_t size, igq__image *img);

/* Checks width x height against the limits: IGQ_ERR_FORMAT "<fmt>: ..." for a zero or negative
 * side, IGQ_ERR_UNSUPPORTED for one beyond the limits. */
igq_status igq__image_check_size(const char *fmt, int64_t width, int64_t height);

/* Inflates a zlib stream (RFC 1950 header, RFC 1951 blocks, Adler-32 trailer) into exactly
 * cap bytes of out: more output than cap, less, a bad header, code, distance or checksum, or
 * bytes after the trailer are IGQ_ERR_FORMAT "<who>: zlib ...". */
igq_status igq__zlib_inflate(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                             const char *who);

/* Inflates raw deflate data (RFC 1951, no wrapper: a zip entry) into exactly cap bytes of out;
 * the same errors as igq__zlib_inflate, and bytes after the last block are one. */
igq_status igq__deflate_inflate(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                                const char *who);

/* CRC-32 (ISO-HDLC, polynomial 0xEDB88320 reflected) of n bytes, continuing from crc
 * (start with 0). */
uint32_t igq__crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
