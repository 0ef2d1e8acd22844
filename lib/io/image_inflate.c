/* zlib inflate (RFC 1950 wrapper around RFC 1951 deflate) for the PNG reader, raw deflate for
 * the zip reader (zip.c), and CRC-32.
 *
 * Written for bounded, checked decoding rather than speed: canonical Huffman codes are decoded
 * one bit at a time from per-length counts (the decoder walks the code space length by length,
 * so no table can be indexed out of range), the output is a caller buffer of the exact size the
 * image header implies, and every way a stream can be wrong is an error naming what it was:
 * a bad header or dictionary flag, block type 3, a stored length whose complement does not
 * match, over-subscribed or incomplete codes, a repeat with nothing to repeat, symbols 286/287
 * or distances 30/31, a distance before the start of the output, output beyond the expected
 * size (the decoder stops there: no zip bombs), output short of it, a bad Adler-32 and bytes
 * after the trailer. */
#include "image.h"

#include <string.h>

#include "../core/error.h"

#define MAXBITS  15
#define MAXLCODE 286
#define MAXDCODE 30
#define FIXLCODE 288

typedef struct zstate {
    const uint8_t *in;
    size_t         n, pos;
    uint32_t       bitbuf;
    int            bitcnt;
    uint8_t       *out;
    size_t         cap, len;
    const char    *who;
} zstate;

/* count/symbol: the canonical code (RFC 1951 3.2.2) as puff-style per-length counts and the
 * symbols in code order. fast: for the next FASTBITS input bits (LSB first), symbol << 4 |
 * code length of every code up to FASTBITS long, 0 where the code is longer (or absent): most
 * symbols are found with one lookup, the rest by the bit-by-bit walk. */
#define FASTBITS 9
typedef struct huff {
    short          count[MAXBITS + 1];
    short          symbol[FIXLCODE];
    unsigned short fast[1 << FASTBITS];
} huff;

static igq_status truncated(const zstate *s)
{
    return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib stream truncated (after %zu compressed bytes)",
                          s->who, s->n);
}

/* need <= 16 bits, LSB first (RFC 1951 3.1.1). bitbuf never holds more than 31 bits. */
static igq_status getbits(zstate *s, int need, uint32_t *v)
{
    uint32_t val = s->bitbuf;
    while (s->bitcnt < need) {
        if (s->pos >= s->n) return truncated(s);
        val |= (uint32_t)s->in[s->pos++] << s->bitcnt;
        s->bitcnt += 8;
    }
    s->bitbuf = val >> need;
    s->bitcnt -= need;
    *v = val & ((1u << need) - 1u);
    return IGQ_OK;
}

static igq_status decode(zstate *s, const huff *h, int *sym)
{
    int code = 0, first = 0, index = 0, len;
    unsigned e;
    while (s->bitcnt < FASTBITS && s->pos < s->n) {
        s->bitbuf |= (uint32_t)s->in[s->pos++] << s->bitcnt;
        s->bitcnt += 8;
    }
    e = h->fast[s->bitbuf & ((1u << FASTBITS) - 1u)];
    if (e != 0 && (int)(e & 15u) <= s->bitcnt) {
        s->bitbuf >>= e & 15u;
        s->bitcnt -= (int)(e & 15u);
        *sym = (int)(e >> 4);
        return IGQ_OK;
    }
    for (len = 1; len <= MAXBITS; len++) {
        uint32_t bit;
        int      count;
        IGQ_TRY(getbits(s, 1, &bit));
        code |= (int)bit;
        count = h->count[len];
        if (code - count < first) {
            *sym = h->symbol[index + (code - first)];
            return IGQ_OK;
        }
        index += count;
        first += count;
        first <<= 1;
        code <<= 1;
    }
    return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib invalid Huffman code at byte %zu", s->who,
                          s->pos);
}

/* Builds the canonical code of n lengths. kind: 0 code-length code (must be complete),
 * 1 literal/length, 2 distance (incomplete allowed only as a single one-bit code, as zlib does;
 * an empty distance code is allowed and fails only if used). */
static igq_status build(const zstate *s, huff *h, const short *length, int n, int kind,
                        const char *name)
{
    short offs[MAXBITS + 1];
    int   sym, len, left, maxlen = 0, next[MAXBITS + 1];
    for (len = 0; len <= MAXBITS; len++) h->count[len] = 0;
    memset(h->fast, 0, sizeof h->fast);
    for (sym = 0; sym < n; sym++) {
        h->count[length[sym]]++;
        if (length[sym] > maxlen) maxlen = length[sym];
    }
    left = 1;
    for (len = 1; len <= MAXBITS; len++) {
        left <<= 1;
        left -= h->count[len];
        if (left < 0)
            return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib over-subscribed %s code", s->who,
                                  name);
    }
    if (h->count[0] == n) {
        if (kind == 2) return IGQ_OK;
        return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib empty %s code", s->who, name);
    }
    if (left > 0 && (kind == 0 || maxlen != 1))
        return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib incomplete %s code", s->who, name);
    offs[1] = 0;
    for (len = 1; len < MAXBITS; len++) offs[len + 1] = (short)(offs[len] + h->count[len]);
    for (sym = 0; sym < n; sym++)
        if (length[sym] != 0) h->symbol[offs[length[sym]]++] = (short)sym;
    next[1] = 0;
    for (len = 1; len < MAXBITS; len++) next[len + 1] = (next[len] + h->count[len]) << 1;
    for (sym = 0; sym < n; sym++) {
        const int l = length[sym];
        int       code, rev = 0, i;
        if (l == 0 || l > FASTBITS) continue;
        code = next[l]++;
        for (i = 0; i < l; i++) rev |= ((code >> i) & 1) << (l - 1 - i);
        for (i = rev; i < (1 << FASTBITS); i += 1 << l)
            h->fast[i] = (unsigned short)(sym << 4 | l);
    }
    return IGQ_OK;
}

static igq_status codes(zstate *s, const huff *lencode, const huff *distcode)
{
    static const short lbase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                    31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const short lext[29]  = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                    2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static const unsigned short dbase[30] = {
        1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
        193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    static const short dext[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                   6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    for (;;) {
        int      sym;
        uint32_t v;
        IGQ_TRY(decode(s, lencode, &sym));
        if (sym < 256) {
            if (s->len >= s->cap) goto too_much;
            s->out[s->len++] = (uint8_t)sym;
        } else if (sym == 256) {
            return IGQ_OK;
        } else {
            size_t len, dist;
            sym -= 257;
            if (sym >= 29)
                return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib invalid length symbol %d",
                                      s->who, sym + 257);
            IGQ_TRY(getbits(s, lext[sym], &v));
            len = (size_t)lbase[sym] + v;
            IGQ_TRY(decode(s, distcode, &sym));
            if (sym >= 30)
                return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib invalid distance symbol %d",
                                      s->who, sym);
            IGQ_TRY(getbits(s, dext[sym], &v));
            dist = (size_t)dbase[sym] + v;
            if (dist > s->len)
                return igq__set_error(IGQ_ERR_FORMAT,
                                      "%s: zlib distance %zu too far back (%zu bytes out)",
                                      s->who, dist, s->len);
            if (len > s->cap - s->len) goto too_much;
            /* byte by byte: the source may overlap the bytes being written (dist < len) */
            while (len--) {
                s->out[s->len] = s->out[s->len - dist];
                s->len++;
            }
        }
    }
too_much:
    return igq__set_error(IGQ_ERR_FORMAT,
                          "%s: zlib data decompress to more than the %zu bytes the header implies",
                          s->who, s->cap);
}

/* Goes to the next byte boundary: drops the bits left of the current byte and gives back the
 * whole bytes decode() read ahead. */
static void align(zstate *s)
{
    s->pos -= (size_t)(s->bitcnt / 8);
    s->bitbuf = 0;
    s->bitcnt = 0;
}

static igq_status stored(zstate *s)
{
    size_t len;
    align(s);
    if (s->n - s->pos < 4) return truncated(s);
    len = (size_t)s->in[s->pos] | (size_t)s->in[s->pos + 1] << 8;
    if ((len ^ 0xffffu) != ((size_t)s->in[s->pos + 2] | (size_t)s->in[s->pos + 3] << 8))
        return igq__set_error(IGQ_ERR_FORMAT,
                              "%s: zlib stored block length does not match its complement",
                              s->who);
    s->pos += 4;
    if (s->n - s->pos < len) return truncated(s);
    if (len > s->cap - s->len)
        return igq__set_error(IGQ_ERR_FORMAT,
                              "%s: zlib data decompress to more than the %zu bytes the header "
                              "implies",
                              s->who, s->cap);
    if (len > 0) memcpy(s->out + s->len, s->in + s->pos, len);
    s->pos += len;
    s->len += len;
    return IGQ_OK;
}

static igq_status fixed(zstate *s)
{
    short lengths[FIXLCODE];
    huff  lencode, distcode;
    int   sym;
    /* RFC 1951 3.2.6; the 30 distance codes are padded to 32 five-bit codes (30, 31 invalid) */
    for (sym = 0; sym < 144; sym++) lengths[sym] = 8;
    for (; sym < 256; sym++) lengths[sym] = 9;
    for (; sym < 280; sym++) lengths[sym] = 7;
    for (; sym < FIXLCODE; sym++) lengths[sym] = 8;
    IGQ_TRY(build(s, &lencode, lengths, FIXLCODE, 1, "literal/length"));
    for (sym = 0; sym < 32; sym++) lengths[sym] = 5;
    IGQ_TRY(build(s, &distcode, lengths, 32, 2, "distance"));
    return codes(s, &lencode, &distcode);
}

static igq_status dynamic(zstate *s)
{
    static const short order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                    11, 4,  12, 3, 13, 2, 14, 1, 15};
    short    lengths[MAXLCODE + MAXDCODE];
    huff     lencode, distcode;
    int      nlen, ndist, ncode, index;
    uint32_t v;
    IGQ_TRY(getbits(s, 5, &v));
    nlen = (int)v + 257;
    IGQ_TRY(getbits(s, 5, &v));
    ndist = (int)v + 1;
    IGQ_TRY(getbits(s, 4, &v));
    ncode = (int)v + 4;
    if (nlen > MAXLCODE || ndist > MAXDCODE)
        return igq__set_error(IGQ_ERR_FORMAT,
                              "%s: zlib dynamic block with %d length / %d distance codes", s->who,
                              nlen, ndist);
    for (index = 0; index < 19; index++) lengths[index] = 0;
    for (index = 0; index < ncode; index++) {
        IGQ_TRY(getbits(s, 3, &v));
        lengths[order[index]] = (short)v;
    }
    IGQ_TRY(build(s, &lencode, lengths, 19, 0, "code-length"));
    index = 0;
    while (index < nlen + ndist) {
        int   sym, rep;
        short len;
        IGQ_TRY(decode(s, &lencode, &sym));
        if (sym < 16) {
            lengths[index++] = (short)sym;
            continue;
        }
        len = 0;
        if (sym == 16) {
            if (index == 0)
                return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib repeat with no previous length",
                                      s->who);
            len = lengths[index - 1];
            IGQ_TRY(getbits(s, 2, &v));
            rep = 3 + (int)v;
        } else if (sym == 17) {
            IGQ_TRY(getbits(s, 3, &v));
            rep = 3 + (int)v;
        } else {
            IGQ_TRY(getbits(s, 7, &v));
            rep = 11 + (int)v;
        }
        if (index + rep > nlen + ndist)
            return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib code lengths repeat past the end",
                                  s->who);
        while (rep--) lengths[index++] = len;
    }
    if (lengths[256] == 0)
        return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib code without an end-of-block symbol",
                              s->who);
    IGQ_TRY(build(s, &lencode, lengths, nlen, 1, "literal/length"));
    IGQ_TRY(build(s, &distcode, lengths + nlen, ndist, 2, "distance"));
    return codes(s, &lencode, &distcode);
}

static uint32_t adler32(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    while (n > 0) {
        size_t k = n < 5552 ? n : 5552; /* largest run with no uint32 overflow before the mod */
        n -= k;
        while (k--) {
            a += *p++;
            b += a;
        }
        a %= 65521u;
        b %= 65521u;
    }
    return b << 16 | a;
}

/* The deflate blocks (RFC 1951) from s->pos up to the last one: exactly s->cap bytes of output,
 * then the input is aligned to a byte boundary. */
static igq_status blocks(zstate *s)
{
    uint32_t last = 0, type;
    while (!last) {
        IGQ_TRY(getbits(s, 1, &last));
        IGQ_TRY(getbits(s, 2, &type));
        if (type == 0)
            IGQ_TRY(stored(s));
        else if (type == 1)
            IGQ_TRY(fixed(s));
        else if (type == 2)
            IGQ_TRY(dynamic(s));
        else
            return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib invalid block type 3", s->who);
    }
    if (s->len != s->cap)
        return igq__set_error(IGQ_ERR_FORMAT,
                              "%s: zlib data decompress to %zu bytes, the header implies %zu",
                              s->who, s->len, s->cap);
    align(s);
    return IGQ_OK;
}

igq_status igq__deflate_inflate(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                                const char *who)
{
    zstate s;
    memset(&s, 0, sizeof s);
    s.in  = in;
    s.n   = n;
    s.out = out;
    s.cap = cap;
    s.who = who;
    IGQ_TRY(blocks(&s));
    if (s.pos != n)
        return igq__set_error(IGQ_ERR_FORMAT, "%s: %zu bytes after the end of the deflate data",
                              who, n - s.pos);
    return IGQ_OK;
}

igq_status igq__zlib_inflate(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                             const char *who)
{
    zstate   s;
    uint32_t want;
    memset(&s, 0, sizeof s);
    s.in  = in;
    s.n   = n;
    s.out = out;
    s.cap = cap;
    s.who = who;
    if (n < 2) return truncated(&s);
    if ((in[0] & 0x0f) != 8 || (in[0] >> 4) > 7 || ((unsigned)in[0] << 8 | in[1]) % 31 != 0)
        return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib bad header %02x %02x", who, in[0], in[1]);
    if (in[1] & 0x20)
        return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib preset dictionary not allowed", who);
    s.pos = 2;
    IGQ_TRY(blocks(&s));
    if (n - s.pos < 4) return truncated(&s);
    want = (uint32_t)in[s.pos] << 24 | (uint32_t)in[s.pos + 1] << 16 |
           (uint32_t)in[s.pos + 2] << 8 | in[s.pos + 3];
    if (want != adler32(out, cap))
        return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib Adler-32 mismatch", who);
    if (s.pos + 4 != n)
        return igq__set_error(IGQ_ERR_FORMAT, "%s: zlib %zu bytes after the end of the stream", who,
                              n - s.pos - 4);
    return IGQ_OK;
}

uint32_t igq__crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    /* nibble table: 16 entries, no initialisation race, ~2 lookups per byte */
    static const uint32_t t[16] = {0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
                                   0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
                                   0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
                                   0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ t[crc & 15];
        crc = (crc >> 4) ^ t[crc & 15];
    }
    return ~crc;
}
