/* Tests for the image readers (lib/io/image*.c): every fixture of tools/gen_image_fixtures.py
 * decoded and compared byte for byte with the pixels it was made from; truncation at every
 * length and byte flips (with the PNG CRCs re-fixed) of small files; hand-built malformed
 * PNG/zlib/PPM/BMP files, each checked for its status and message; allocation failures.
 * Every decode goes through decode_exact(), which copies the bytes into a heap block of
 * exactly their size, so ASan catches any read past the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "io/image.h"
#include "support/testutil.h"

typedef struct {
    uint8_t *pix;
    int32_t  w, h, c;
} dec;

static igq_status decode_exact(const uint8_t *data, size_t size, dec *d)
{
    uint8_t   *copy = (uint8_t *)malloc(size ? size : 1);
    igq_status s;
    assert_non_null(copy);
    if (size) memcpy(copy, data, size);
    s = igq_image_decode(size ? copy : NULL, size, &d->pix, &d->w, &d->h, &d->c);
    free(copy);
    if (s != IGQ_OK) {
        assert_null(d->pix);
        assert_int_equal(d->w, 0);
        assert_int_equal(d->c, 0);
    } else {
        assert_non_null(d->pix);
        assert_true(d->c == 1 || d->c == 3 || d->c == 4);
    }
    return s;
}

static void expect(const char *what, const uint8_t *data, size_t size, igq_status want,
                   const char *needle)
{
    dec        d;
    igq_status s = decode_exact(data, size, &d);
    if (s != want)
        fail_msg("%s: expected status %d, got %d (%s)", what, (int)want, (int)s,
                 s == IGQ_OK ? "ok" : igq_last_error());
    if (s == IGQ_OK) {
        igq_image_free(d.pix);
        return;
    }
    if (needle != NULL && strstr(igq_last_error(), needle) == NULL)
        fail_msg("%s: message '%s' lacks '%s'", what, igq_last_error(), needle);
}

static unsigned char *fixture(const char *name, size_t *size)
{
    char          *rel = (char *)malloc(strlen(name) + 16);
    char          *path;
    unsigned char *b;
    assert_non_null(rel);
    sprintf(rel, "images/%s", name);
    path = tu_fixture_path(rel);
    b    = tu_read_file(path, size);
    if (b == NULL) fail_msg("cannot read fixture %s", path);
    free(path);
    free(rel);
    return b;
}

/* ---- fixtures ----------------------------------------------------------------------------- */

static void test_fixtures(void **state)
{
    size_t         msize, off = 0;
    unsigned char *man = fixture("manifest.txt", &msize);
    int            n   = 0;
    (void)state;
    while (off < msize) {
        char           name[128], rawname[140], *rel, *path;
        int            w, h, c, used = 0;
        size_t         rsize, fsize;
        unsigned char *raw, *file;
        uint8_t       *pix;
        int32_t        gw, gh, gc;
        igq_status     s;
        if (sscanf((const char *)man + off, "%127s %d %d %d%n", name, &w, &h, &c, &used) != 4)
            break;
        off += (size_t)used;
        while (off < msize && (man[off] == '\n' || man[off] == ' ')) off++;
        snprintf(rawname, sizeof rawname, "%s.raw", name);
        raw  = fixture(rawname, &rsize);
        rel  = (char *)malloc(200);
        assert_non_null(rel);
        snprintf(rel, 200, "images/%s", name);
        path = tu_fixture_path(rel);
        s    = igq_image_load(path, &pix, &gw, &gh, &gc);
        if (s != IGQ_OK) fail_msg("%s: %s", name, igq_last_error());
        if (gw != w || gh != h || gc != c)
            fail_msg("%s: got %dx%dx%d, expected %dx%dx%d", name, gw, gh, gc, w, h, c);
        assert_int_equal(rsize, (size_t)w * h * c);
        if (memcmp(pix, raw, rsize) != 0) fail_msg("%s: pixels differ", name);
        igq_image_free(pix);
        /* the same from memory, in a block of exactly the file's size */
        file = fixture(name, &fsize);
        {
            dec d;
            assert_int_equal(decode_exact(file, fsize, &d), IGQ_OK);
            assert_memory_equal(d.pix, raw, rsize);
            igq_image_free(d.pix);
        }
        free(file);
        free(raw);
        free(path);
        free(rel);
        n++;
    }
    free(man);
    assert_true(n >= 50);
}

/* ---- truncation and byte flips ------------------------------------------------------------- */

static void test_truncations(void **state)
{
    static const char *const names[] = {"png_c2_d8_i.png", "png_c3_d2.png",   "png_fixed.png",
                                        "bmp_24.bmp",      "bmp_8_pal.bmp",   "bmp_32_v5_alpha.bmp",
                                        "ppm_p6.ppm",      "pil_gray.pgm"};
    size_t i, n, len;
    (void)state;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        unsigned char *b = fixture(names[i], &n);
        for (len = 0; len < n; len++) {
            dec        d;
            igq_status s = decode_exact(b, len, &d);
            if (s != IGQ_ERR_FORMAT)
                fail_msg("%s cut to %zu bytes: status %d (%s)", names[i], len, (int)s,
                         s == IGQ_OK ? "ok" : igq_last_error());
            if (len >= 2 && strncmp(igq_last_error(), "unknown image format", 20) != 0 &&
                strncmp(igq_last_error(), names[i][0] == 'p' && names[i][1] == 'n' ? "PNG: "
                                          : names[i][0] == 'b'                      ? "BMP: "
                                          : strstr(names[i], "ppm")                 ? "PPM: "
                                                                                    : "PGM: ",
                        5) != 0)
                fail_msg("%s cut to %zu: message '%s'", names[i], len, igq_last_error());
        }
        free(b);
    }
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Recomputes every chunk CRC (stops at a chunk that does not fit). */
static void fix_crcs(uint8_t *b, size_t n)
{
    size_t pos = 8;
    while (n - pos >= 12) {
        const uint32_t len = be32(b + pos);
        if (len > n - pos - 12) break;
        put_be32(b + pos + 8 + len, igq__crc32(0, b + pos + 4, (size_t)len + 4));
        pos += 12 + (size_t)len;
    }
}

static void test_byte_flips(void **state)
{
    static const char *const names[] = {"png_c3_d4_i.png", "png_c6_d16.png", "png_fixed.png",
                                        "bmp_8_pal.bmp", "bmp_32_fields.bmp", "ppm_p6.ppm"};
    static const uint8_t     masks[] = {0x01, 0x80, 0xff, 0x10};
    size_t                   i, k, pos, n, ok = 0, bad = 0;
    (void)state;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        unsigned char *b   = fixture(names[i], &n);
        uint8_t       *m   = (uint8_t *)malloc(n);
        const int      png = names[i][1] == 'n';
        assert_non_null(m);
        for (pos = 0; pos < n; pos++)
            for (k = 0; k < sizeof masks; k++) {
                dec        d;
                igq_status s;
                memcpy(m, b, n);
                m[pos] ^= masks[k];
                if (png) {
                    /* unfixed: a flip inside a chunk's type or data is a CRC mismatch */
                    s = decode_exact(m, n, &d);
                    if (s == IGQ_OK) igq_image_free(d.pix);
                    fix_crcs(m, n);
                }
                s = decode_exact(m, n, &d);
                if (s == IGQ_OK) {
                    igq_image_free(d.pix);
                    ok++;
                } else {
                    if (s != IGQ_ERR_FORMAT && s != IGQ_ERR_UNSUPPORTED && s != IGQ_ERR_NO_MEMORY)
                        fail_msg("%s byte %zu ^ %02x: status %d (%s)", names[i], pos, masks[k],
                                 (int)s, igq_last_error());
                    bad++;
                }
            }
        free(m);
        free(b);
    }
    assert_true(ok > 0 && bad > 0);
}

static void test_crc_mismatch(void **state)
{
    size_t         n;
    unsigned char *b = fixture("png_c0_d8.png", &n);
    (void)state;
    b[8 + 8 + 2] ^= 1; /* IHDR data */
    expect("IHDR flip", b, n, IGQ_ERR_FORMAT, "PNG: chunk 'IHDR' CRC mismatch");
    b[8 + 8 + 2] ^= 1;
    b[8 + 25 + 8 + 3] ^= 0x40; /* first IDAT data byte (IHDR chunk is 25 bytes) */
    expect("IDAT flip", b, n, IGQ_ERR_FORMAT, "PNG: chunk 'IDAT' CRC mismatch");
    free(b);
}

/* ---- hand-built PNGs ---------------------------------------------------------------------- */

typedef struct {
    uint8_t b[4096];
    size_t  n;
} buf;

static void add(buf *o, const void *p, size_t n)
{
    assert_true(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void add_chunk(buf *o, const char *type, const void *data, size_t len)
{
    uint8_t hdr[8];
    put_be32(hdr, (uint32_t)len);
    memcpy(hdr + 4, type, 4);
    add(o, hdr, 8);
    if (len) add(o, data, len);
    put_be32(hdr, igq__crc32(igq__crc32(0, (const uint8_t *)type, 4), (const uint8_t *)data, len));
    add(o, hdr, 4);
}

static void png_start(buf *o, uint32_t w, uint32_t h, int depth, int color, int interlace)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t              ihdr[13];
    o->n = 0;
    add(o, sig, 8);
    put_be32(ihdr, w);
    put_be32(ihdr + 4, h);
    ihdr[8]  = (uint8_t)depth;
    ihdr[9]  = (uint8_t)color;
    ihdr[10] = ihdr[11] = 0;
    ihdr[12]            = (uint8_t)interlace;
    add_chunk(o, "IHDR", ihdr, 13);
}

static uint32_t adler(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    while (n--) {
        a = (a + *p++) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

/* zlib stream of one stored block holding raw. */
static size_t zlib_stored(uint8_t *z, const uint8_t *raw, size_t n)
{
    z[0] = 0x78;
    z[1] = 0x01;
    z[2] = 1;
    z[3] = (uint8_t)n;
    z[4] = (uint8_t)(n >> 8);
    z[5] = (uint8_t)~n;
    z[6] = (uint8_t)(~n >> 8);
    memcpy(z + 7, raw, n);
    put_be32(z + 7 + n, adler(raw, n));
    return 11 + n;
}

/* An LSB-first bit writer for hand-made deflate blocks. */
typedef struct {
    uint8_t  z[1024];
    size_t   n;
    uint32_t acc;
    int      cnt;
} bits;

static void put(bits *w, uint32_t v, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        w->acc |= ((v >> i) & 1u) << w->cnt;
        if (++w->cnt == 8) {
            w->z[w->n++] = (uint8_t)w->acc;
            w->acc = 0;
            w->cnt = 0;
        }
    }
}

/* Huffman codes go most significant bit first. */
static void put_code(bits *w, uint32_t code, int n)
{
    while (n--) put(w, code >> n & 1u, 1);
}

/* fixed-code symbols (RFC 1951 3.2.6) */
static void put_fixed(bits *w, int sym)
{
    if (sym < 144)
        put_code(w, 0x30u + (uint32_t)sym, 8);
    else if (sym < 256)
        put_code(w, 0x190u + (uint32_t)(sym - 144), 9);
    else if (sym < 280)
        put_code(w, (uint32_t)(sym - 256), 7);
    else
        put_code(w, 0xc0u + (uint32_t)(sym - 280), 8);
}

static void bits_start(bits *w)
{
    memset(w, 0, sizeof *w);
    w->z[0] = 0x78;
    w->z[1] = 0x01;
    w->n    = 2;
}

/* Flushes, appends the Adler-32 of raw and wraps the stream in a 1x1 RGB PNG. */
static void bits_png(bits *w, const uint8_t *raw, size_t rawn, buf *o)
{
    if (w->cnt) put(w, 0, 8 - w->cnt);
    put_be32(w->z + w->n, adler(raw, rawn));
    w->n += 4;
    png_start(o, 1, 1, 8, 2, 0);
    add_chunk(o, "IDAT", w->z, w->n);
    add_chunk(o, "IEND", NULL, 0);
}

/* A 1x1 PNG of the given type whose IDAT is a stored block of raw. */
static void png_simple(buf *o, int depth, int color, const uint8_t *raw, size_t rawn)
{
    uint8_t z[64];
    png_start(o, 1, 1, depth, color, 0);
    add_chunk(o, "IDAT", z, zlib_stored(z, raw, rawn));
    add_chunk(o, "IEND", NULL, 0);
}

static void test_png_malformed(void **state)
{
    static const uint8_t gray1[2] = {0, 200}, rgb1[4] = {0, 1, 2, 3};
    uint8_t              z[64], ihdr[13];
    buf                  o;
    bits                 w;
    dec                  d;
    size_t               zn;
    (void)state;
    png_simple(&o, 8, 0, gray1, 2);
    assert_int_equal(decode_exact(o.b, o.n, &d), IGQ_OK);
    assert_int_equal(d.w * d.h * d.c, 1);
    assert_int_equal(d.pix[0], 200);
    igq_image_free(d.pix);

    o.b[1] = 'Q';
    expect("signature", o.b, o.n, IGQ_ERR_FORMAT, "unknown image format");
    /* IHDR */
    png_start(&o, 0, 1, 8, 0, 0);
    expect("width 0", o.b, o.n, IGQ_ERR_FORMAT, "PNG: invalid image size 0x1");
    png_start(&o, 70000, 1, 8, 0, 0);
    expect("width 70000", o.b, o.n, IGQ_ERR_UNSUPPORTED, "exceeds the limit of 65535");
    png_start(&o, 40000, 40000, 8, 0, 0);
    expect("40000^2", o.b, o.n, IGQ_ERR_UNSUPPORTED, "2^28 pixels");
    png_start(&o, 0x80000000u, 1, 8, 0, 0);
    expect("width 2^31", o.b, o.n, IGQ_ERR_FORMAT, "out of range");
    png_start(&o, 1, 1, 4, 2, 0);
    expect("RGB depth 4", o.b, o.n, IGQ_ERR_FORMAT, "bit depth 4 invalid for color type 2");
    png_start(&o, 1, 1, 8, 5, 0);
    expect("color 5", o.b, o.n, IGQ_ERR_FORMAT, "invalid color type 5");
    png_start(&o, 1, 1, 8, 0, 2);
    expect("interlace 2", o.b, o.n, IGQ_ERR_FORMAT, "unknown interlace method 2");
    png_start(&o, 1, 1, 8, 0, 0);
    o.b[8 + 8 + 10] = 1;
    fix_crcs(o.b, o.n);
    expect("compression 1", o.b, o.n, IGQ_ERR_FORMAT, "unknown compression method 1");
    o.n = 8;
    memset(ihdr, 0, sizeof ihdr);
    add_chunk(&o, "IHDR", ihdr, 12);
    expect("IHDR 12", o.b, o.n, IGQ_ERR_FORMAT, "IHDR of 12 bytes");
    o.n = 8;
    add_chunk(&o, "gAMA", ihdr, 4);
    expect("gAMA first", o.b, o.n, IGQ_ERR_FORMAT, "first chunk is 'gAMA', not IHDR");
    /* chunk sequence */
    png_start(&o, 1, 1, 8, 0, 0);
    zn = zlib_stored(z, gray1, 2);
    add_chunk(&o, "IDAT", z, zn);
    expect("no IEND", o.b, o.n, IGQ_ERR_FORMAT, "no IEND");
    add_chunk(&o, "IEND", "x", 1);
    expect("IEND 1", o.b, o.n, IGQ_ERR_FORMAT, "IEND of 1 bytes");
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "IEND", NULL, 0);
    expect("no IDAT", o.b, o.n, IGQ_ERR_FORMAT, "no IDAT chunk");
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "IDAT", z, 5);
    add_chunk(&o, "tEXt", "a\0b", 3);
    add_chunk(&o, "IDAT", z + 5, zn - 5);
    add_chunk(&o, "IEND", NULL, 0);
    expect("IDAT split by tEXt", o.b, o.n, IGQ_ERR_FORMAT, "IDAT chunks not consecutive");
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "XYZW", "abc", 3);
    expect("critical XYZW", o.b, o.n, IGQ_ERR_UNSUPPORTED, "unknown critical chunk 'XYZW'");
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "xyZW", "abc", 3);
    add_chunk(&o, "IDAT", z, zn);
    add_chunk(&o, "IEND", NULL, 0);
    expect("ancillary xyZW", o.b, o.n, IGQ_OK, NULL);
    add(&o, "garbage", 7);
    expect("bytes after IEND", o.b, o.n, IGQ_OK, NULL);
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "I D ", "abc", 3);
    expect("chunk type bytes", o.b, o.n, IGQ_ERR_FORMAT, "invalid chunk type");
    png_start(&o, 1, 1, 8, 0, 0);
    put_be32(o.b + o.n, 0x90000000u);
    memcpy(o.b + o.n + 4, "IDAT", 4);
    o.n += 8;
    add(&o, z, 4);
    expect("chunk length 2^31+", o.b, o.n, IGQ_ERR_FORMAT, "length 2415919104 too large");
    /* palettes and transparency */
    png_simple(&o, 8, 3, gray1, 2);
    expect("palette without PLTE", o.b, o.n, IGQ_ERR_FORMAT, "without PLTE");
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "PLTE", "abc", 3);
    expect("PLTE for gray", o.b, o.n, IGQ_ERR_FORMAT, "PLTE not allowed for color type 0");
    png_start(&o, 1, 1, 8, 3, 0);
    add_chunk(&o, "PLTE", "abcd", 4);
    expect("PLTE 4", o.b, o.n, IGQ_ERR_FORMAT, "PLTE of 4 bytes");
    png_start(&o, 1, 1, 1, 3, 0);
    add_chunk(&o, "PLTE", "abcdefghi", 9);
    expect("PLTE 3 for 1 bit", o.b, o.n, IGQ_ERR_FORMAT, "more than bit depth 1 allows");
    png_start(&o, 1, 1, 8, 3, 0);
    add_chunk(&o, "PLTE", "abcdef", 6);
    add_chunk(&o, "tRNS", "xyz", 3);
    expect("tRNS 3 > 2", o.b, o.n, IGQ_ERR_FORMAT, "tRNS has 3 entries, PLTE only 2");
    png_start(&o, 1, 1, 8, 6, 0);
    add_chunk(&o, "tRNS", "xy", 2);
    expect("tRNS RGBA", o.b, o.n, IGQ_ERR_FORMAT, "tRNS not allowed for color type 6");
    png_start(&o, 1, 1, 8, 3, 0);
    add_chunk(&o, "PLTE", "abcdef", 6);
    {
        static const uint8_t idx[2] = {0, 2};
        add_chunk(&o, "IDAT", z, zlib_stored(z, idx, 2));
    }
    add_chunk(&o, "IEND", NULL, 0);
    expect("index 2 of 2", o.b, o.n, IGQ_ERR_FORMAT, "palette index 2 beyond the 2 entries");
    /* filters */
    {
        static const uint8_t bad[2] = {5, 1};
        png_simple(&o, 8, 0, bad, 2);
        expect("filter 5", o.b, o.n, IGQ_ERR_FORMAT, "invalid filter type 5 in row 0");
    }
    /* zlib wrapper */
    png_simple(&o, 8, 0, gray1, 2);
    zn = zlib_stored(z, gray1, 2);
    z[1] = 0x02;
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "IDAT", z, zn);
    add_chunk(&o, "IEND", NULL, 0);
    expect("zlib check bits", o.b, o.n, IGQ_ERR_FORMAT, "PNG: zlib bad header 78 02");
    z[0] = 0x79;
    z[1] = 0x01 ^ 0x01;
    z[1] = (uint8_t)(31 - (0x7900 % 31));
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "IDAT", z, zn);
    add_chunk(&o, "IEND", NULL, 0);
    expect("zlib method 9", o.b, o.n, IGQ_ERR_FORMAT, "zlib bad header 79");
    zn   = zlib_stored(z, gray1, 2);
    z[1] = 0x20 | (uint8_t)(31 - ((0x7800 | 0x20) % 31));
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "IDAT", z, zn);
    add_chunk(&o, "IEND", NULL, 0);
    expect("zlib FDICT", o.b, o.n, IGQ_ERR_FORMAT, "preset dictionary");
    zn = zlib_stored(z, gray1, 2);
    z[zn - 1] ^= 1;
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "IDAT", z, zn);
    add_chunk(&o, "IEND", NULL, 0);
    expect("adler", o.b, o.n, IGQ_ERR_FORMAT, "PNG: zlib Adler-32 mismatch");
    zn = zlib_stored(z, gray1, 2);
    z[zn++] = 0;
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "IDAT", z, zn);
    add_chunk(&o, "IEND", NULL, 0);
    expect("byte after adler", o.b, o.n, IGQ_ERR_FORMAT, "1 bytes after the end of the stream");
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "IDAT", z, 6);
    add_chunk(&o, "IEND", NULL, 0);
    expect("zlib truncated", o.b, o.n, IGQ_ERR_FORMAT, "zlib stream truncated");
    zn = zlib_stored(z, gray1, 2);
    z[5] ^= 4;
    png_start(&o, 1, 1, 8, 0, 0);
    add_chunk(&o, "IDAT", z, zn);
    add_chunk(&o, "IEND", NULL, 0);
    expect("NLEN", o.b, o.n, IGQ_ERR_FORMAT, "does not match its complement");
    png_simple(&o, 8, 2, rgb1, 3);
    expect("short output", o.b, o.n, IGQ_ERR_FORMAT, "decompress to 3 bytes, the header implies 4");
    {
        static const uint8_t five[5] = {0, 1, 2, 3, 4};
        png_simple(&o, 8, 2, five, 5);
        expect("long output", o.b, o.n, IGQ_ERR_FORMAT, "more than the 4 bytes");
    }
    png_start(&o, 1000, 1000, 8, 0, 0);
    add_chunk(&o, "IDAT", z, zn);
    add_chunk(&o, "IEND", NULL, 0);
    expect("IDAT too small", o.b, o.n, IGQ_ERR_FORMAT, "cannot hold the 1001000 bytes");
    /* deflate blocks */
    bits_start(&w);
    put(&w, 1, 1);
    put(&w, 3, 2);
    bits_png(&w, rgb1, 4, &o);
    expect("block type 3", o.b, o.n, IGQ_ERR_FORMAT, "invalid block type 3");
    bits_start(&w); /* fixed: literal 0, then a copy of 3 from distance 2 */
    put(&w, 1, 1);
    put(&w, 1, 2);
    put_fixed(&w, 0);
    put_fixed(&w, 257);
    put_code(&w, 1, 5);
    put_fixed(&w, 256);
    bits_png(&w, rgb1, 4, &o);
    expect("too far back", o.b, o.n, IGQ_ERR_FORMAT, "distance 2 too far back");
    bits_start(&w); /* fixed: the valid stream 0 1 2 3 */
    put(&w, 1, 1);
    put(&w, 1, 2);
    put_fixed(&w, 0);
    put_fixed(&w, 1);
    put_fixed(&w, 2);
    put_fixed(&w, 3);
    put_fixed(&w, 256);
    bits_png(&w, rgb1, 4, &o);
    expect("fixed ok", o.b, o.n, IGQ_OK, NULL);
    bits_start(&w);
    put(&w, 1, 1);
    put(&w, 1, 2);
    put_fixed(&w, 0);
    put_fixed(&w, 257);
    put_code(&w, 30, 5);
    bits_png(&w, rgb1, 4, &o);
    expect("distance 30", o.b, o.n, IGQ_ERR_FORMAT, "invalid distance symbol 30");
    bits_start(&w); /* a bomb: 600 copies of 258 bytes for a 4-byte image stop at the first */
    put(&w, 1, 1);
    put(&w, 1, 2);
    put_fixed(&w, 0);
    for (zn = 0; zn < 600; zn++) {
        put_fixed(&w, 285);
        put_code(&w, 0, 5);
    }
    put_fixed(&w, 256);
    bits_png(&w, rgb1, 4, &o);
    expect("bomb", o.b, o.n, IGQ_ERR_FORMAT, "more than the 4 bytes the header implies");
    bits_start(&w);
    put(&w, 1, 1);
    put(&w, 1, 2);
    put_fixed(&w, 286);
    bits_png(&w, rgb1, 4, &o);
    expect("length 286", o.b, o.n, IGQ_ERR_FORMAT, "invalid length symbol 286");
    bits_start(&w); /* dynamic: 19 code-length codes of length 1 */
    put(&w, 1, 1);
    put(&w, 2, 2);
    put(&w, 0, 5);
    put(&w, 0, 5);
    put(&w, 15, 4);
    for (zn = 0; zn < 19; zn++) put(&w, 1, 3);
    bits_png(&w, rgb1, 4, &o);
    expect("over-subscribed", o.b, o.n, IGQ_ERR_FORMAT, "over-subscribed code-length code");
    bits_start(&w); /* one code-length code of length 2 */
    put(&w, 1, 1);
    put(&w, 2, 2);
    put(&w, 0, 5);
    put(&w, 0, 5);
    put(&w, 0, 4);
    put(&w, 2, 3);
    put(&w, 0, 9);
    bits_png(&w, rgb1, 4, &o);
    expect("incomplete", o.b, o.n, IGQ_ERR_FORMAT, "incomplete code-length code");
    bits_start(&w); /* code-length code {0: 1 bit, 16: 1 bit}; 16 first */
    put(&w, 1, 1);
    put(&w, 2, 2);
    put(&w, 0, 5);
    put(&w, 0, 5);
    put(&w, 0, 4);
    put(&w, 1, 3); /* 16 */
    put(&w, 0, 3); /* 17 */
    put(&w, 0, 3); /* 18 */
    put(&w, 1, 3); /* 0 */
    put_code(&w, 1, 1);
    bits_png(&w, rgb1, 4, &o);
    expect("repeat first", o.b, o.n, IGQ_ERR_FORMAT, "repeat with no previous length");
    bits_start(&w); /* code-length code {0, 18}: 257 + 1 zero lengths, so no end-of-block */
    put(&w, 1, 1);
    put(&w, 2, 2);
    put(&w, 0, 5);
    put(&w, 0, 5);
    put(&w, 0, 4);
    put(&w, 0, 3);
    put(&w, 0, 3);
    put(&w, 1, 3); /* 18 */
    put(&w, 1, 3); /* 0 */
    put_code(&w, 1, 1);
    put(&w, 127, 7); /* 138 zeros */
    put_code(&w, 1, 1);
    put(&w, 108, 7); /* 119 zeros */
    put_code(&w, 0, 1);
    bits_png(&w, rgb1, 4, &o);
    expect("no end-of-block", o.b, o.n, IGQ_ERR_FORMAT, "without an end-of-block symbol");
    bits_start(&w); /* the same with a repeat past the end */
    put(&w, 1, 1);
    put(&w, 2, 2);
    put(&w, 0, 5);
    put(&w, 0, 5);
    put(&w, 0, 4);
    put(&w, 0, 3);
    put(&w, 0, 3);
    put(&w, 1, 3);
    put(&w, 1, 3);
    put_code(&w, 1, 1);
    put(&w, 127, 7);
    put_code(&w, 1, 1);
    put(&w, 127, 7);
    bits_png(&w, rgb1, 4, &o);
    expect("repeat past end", o.b, o.n, IGQ_ERR_FORMAT, "repeat past the end");
    bits_start(&w);
    put(&w, 1, 1);
    put(&w, 2, 2);
    put(&w, 31, 5);
    put(&w, 0, 5);
    put(&w, 0, 4);
    bits_png(&w, rgb1, 4, &o);
    expect("HLIT 288", o.b, o.n, IGQ_ERR_FORMAT, "dynamic block with 288 length");
}

/* ---- PPM / PGM / BMP / others ------------------------------------------------------------- */

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void test_pnm_bmp_malformed(void **state)
{
    size_t         n;
    unsigned char *b, *m;
    (void)state;
#define S(str) (const uint8_t *)(str), sizeof(str) - 1
    expect("P6 ok", S("P6 1 1 255\nabc"), IGQ_OK, NULL);
    expect("P5 ok", S("P5\n#c\n1 #x\n2\n255 ab"), IGQ_OK, NULL);
    expect("maxval 65535", S("P6 1 1 65535\nabcdef"), IGQ_ERR_UNSUPPORTED,
           "PPM: maxval 65535 not supported (only 255)");
    expect("maxval 15", S("P5 1 1 15\na"), IGQ_ERR_UNSUPPORTED, "PGM: maxval 15 not supported");
    expect("maxval 0", S("P5 1 1 0\na"), IGQ_ERR_FORMAT, "PGM: invalid maxval 0");
    expect("maxval 70000", S("P5 1 1 70000\na"), IGQ_ERR_FORMAT, "invalid maxval 70000");
    expect("P3", S("P3 1 1 255\n1 2 3\n"), IGQ_ERR_UNSUPPORTED, "ASCII (P3)");
    expect("P4", S("P4 1 1\n\x80"), IGQ_ERR_UNSUPPORTED, "PBM");
    expect("P7", S("P7\nWIDTH 1\n"), IGQ_ERR_UNSUPPORTED, "PAM");
    expect("no width", S("P6 x"), IGQ_ERR_FORMAT, "PPM: expected the width");
    expect("short pixels", S("P6 2 1 255\nabcde"), IGQ_ERR_FORMAT,
           "PPM: truncated: 2x1 needs 6 bytes of pixels, 5 present");
    expect("huge", S("P5 100000 1 255\n"), IGQ_ERR_UNSUPPORTED, "PGM: image size 100000x1");
    expect("area", S("P5 65535 65535 255\n"), IGQ_ERR_UNSUPPORTED, "2^28");
    expect("zero", S("P5 0 1 255\n"), IGQ_ERR_FORMAT, "PGM: invalid image size 0x1");
    expect("long number", S("P5 99999999999999999999 1 255\n"), IGQ_ERR_UNSUPPORTED,
           "exceeds the limit");
    expect("glued", S("P61 1 255\nabc"), IGQ_ERR_FORMAT, "no whitespace after the magic");
    expect("no space after maxval", S("P6 1 1 255"), IGQ_ERR_FORMAT, "truncated after the maxval");
    expect("jpeg", S("\xff\xd8\xff\xe0"), IGQ_ERR_UNSUPPORTED, "JPEG");
    expect("gif", S("GIF89a"), IGQ_ERR_UNSUPPORTED, "GIF");
    expect("empty", NULL, 0, IGQ_ERR_FORMAT, "unknown image format");
    expect("text", S("hello"), IGQ_ERR_FORMAT, "unknown image format");

    b = fixture("bmp_24.bmp", &n);
    m = (uint8_t *)malloc(n);
    assert_non_null(m);
#define BMP_CASE(what, off, val, status, needle)                                                  \
    do {                                                                                          \
        memcpy(m, b, n);                                                                          \
        put_le32(m + (off), (val));                                                               \
        expect(what, m, n, status, needle);                                                       \
    } while (0)
    BMP_CASE("RLE8", 30, 1, IGQ_ERR_UNSUPPORTED, "BMP: RLE8 compression not supported");
    BMP_CASE("RLE4", 30, 2, IGQ_ERR_UNSUPPORTED, "RLE4");
    BMP_CASE("JPEG", 30, 4, IGQ_ERR_UNSUPPORTED, "BMP: JPEG compression");
    BMP_CASE("comp 9", 30, 9, IGQ_ERR_FORMAT, "unknown compression 9");
    BMP_CASE("OS/2", 14, 12, IGQ_ERR_UNSUPPORTED, "OS/2");
    BMP_CASE("header 41", 14, 41, IGQ_ERR_FORMAT, "unknown info header size 41");
    BMP_CASE("planes 2", 26, 0x00180002, IGQ_ERR_FORMAT, "2 planes");
    BMP_CASE("16-bit", 26, 0x00100001, IGQ_ERR_UNSUPPORTED, "BMP: 16-bit pixels not supported");
    BMP_CASE("7-bit", 26, 0x00070001, IGQ_ERR_FORMAT, "invalid bit count 7");
    BMP_CASE("offset", 10, 0xfffffff0u, IGQ_ERR_FORMAT, "pixel array of");
    BMP_CASE("width 0", 18, 0, IGQ_ERR_FORMAT, "BMP: invalid image size 0x5");
    BMP_CASE("width -3", 18, (uint32_t)-3, IGQ_ERR_FORMAT, "invalid image size -3x5");
    BMP_CASE("height min", 22, 0x80000000u, IGQ_ERR_FORMAT, "invalid height");
    BMP_CASE("height 70000", 22, 70000, IGQ_ERR_UNSUPPORTED, "exceeds the limit");
    BMP_CASE("height big", 22, 65535, IGQ_ERR_FORMAT, "not within the");
    BMP_CASE("bitfields 24", 30, 3, IGQ_ERR_UNSUPPORTED, "BI_BITFIELDS with 24-bit");
    free(m);
    free(b);
    b = fixture("bmp_32_fields.bmp", &n);
    m = (uint8_t *)malloc(n);
    assert_non_null(m);
    BMP_CASE("mask 5 bits", 54, 0x1f, IGQ_ERR_UNSUPPORTED, "bit field masks");
    BMP_CASE("overlap", 54, 0xff00, IGQ_ERR_FORMAT, "overlapping bit field masks");
    free(m);
    free(b);
    b = fixture("bmp_8_pal.bmp", &n);
    m = (uint8_t *)malloc(n);
    assert_non_null(m);
    BMP_CASE("colors 300", 46, 300, IGQ_ERR_FORMAT, "300 palette colors");
    BMP_CASE("colors 3", 46, 3, IGQ_ERR_FORMAT, "beyond the 3 colors");
    BMP_CASE("colors huge", 46, 256, IGQ_ERR_FORMAT, NULL); /* palette overlaps pixels: fine */
    free(m);
    free(b);
#undef BMP_CASE
#undef S
}

/* ---- arguments, files, allocation failures ------------------------------------------------- */

static void test_arguments_and_files(void **state)
{
    uint8_t   *pix = (uint8_t *)&pix;
    int32_t    w = 9, h = 9, c = 9;
    char      *dir, *path;
    igq_status s;
    (void)state;
    assert_int_equal(igq_image_decode("P5 1 1 255\na", 12, NULL, &w, &h, &c),
                     IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_image_decode(NULL, 5, &pix, &w, &h, &c), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(pix);
    assert_int_equal(w, 0);
    assert_int_equal(igq_image_load(NULL, &pix, &w, &h, &c), IGQ_ERR_INVALID_ARGUMENT);
    igq_image_free(NULL);
    dir = tu_make_tmpdir();
    path = (char *)malloc(strlen(dir) + 32);
    assert_non_null(path);
    sprintf(path, "%s/missing.png", dir);
    assert_int_equal(igq_image_load(path, &pix, &w, &h, &c), IGQ_ERR_IO);
    assert_non_null(strstr(igq_last_error(), "missing.png"));
    assert_int_equal(igq_image_load(dir, &pix, &w, &h, &c), IGQ_ERR_IO);
    assert_non_null(strstr(igq_last_error(), "not a regular file"));
    free(path);
    path = tu_write_file(dir, "bad.ppm", "P6 1 1 255\nab", 13);
    s    = igq_image_load(path, &pix, &w, &h, &c);
    assert_int_equal(s, IGQ_ERR_FORMAT);
    assert_non_null(strstr(igq_last_error(), "bad.ppm: PPM: truncated"));
    assert_null(pix);
    free(path);
    path = tu_write_file(dir, "ok.pgm", "P5 2 1 255\nab", 13);
    assert_int_equal(igq_image_load(path, &pix, &w, &h, &c), IGQ_OK);
    assert_int_equal(w * 10 + h * 100 + c, 121);
    assert_memory_equal(pix, "ab", 2);
    igq_image_free(pix);
    free(path);
    tu_rmdir_r(dir);
    free(dir);
}

static void test_alloc_failures(void **state)
{
    static const char *const names[] = {"png_c3_d8_i.png", "bmp_8_gray.bmp", "ppm_p6.ppm"};
    size_t                   i, n;
    (void)state;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        unsigned char *b = fixture(names[i], &n);
        long           k;
        for (k = 0;; k++) {
            dec        d;
            igq_status s;
            igq__alloc_fail_after(k);
            s = decode_exact(b, n, &d);
            igq__alloc_fail_after(-1);
            if (s == IGQ_OK) {
                igq_image_free(d.pix);
                break;
            }
            assert_int_equal(s, IGQ_ERR_NO_MEMORY);
            assert_non_null(strstr(igq_last_error(), "cannot allocate"));
        }
        assert_true(k >= 1);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_byte_flips),      cmocka_unit_test(test_crc_mismatch),
        cmocka_unit_test(test_png_malformed),   cmocka_unit_test(test_pnm_bmp_malformed),
        cmocka_unit_test(test_arguments_and_files), cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
