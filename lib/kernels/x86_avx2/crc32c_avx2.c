/* CRC-32C with the SSE4.2 crc32 instruction (every CPU of the avx2 level has it; -mavx2
 * implies -msse4.2): the same value as the scalar reference (kernels.h igq_crc32c_fn).
 * Three independent 8-byte streams over consecutive blocks hide the instruction's 3-cycle
 * latency; the three partial CRCs are joined by shifting the first two over the bytes that
 * follow them (multiplication by x^(8 n) modulo the polynomial, by table), the way zlib
 * combines CRCs. Any alignment (unaligned 8-byte loads via memcpy). */
#include <nmmintrin.h>
#include <pthread.h>
#include <string.h>

#include "../kernels.h"

#define BLOCK 8192 /* bytes per stream per round */

/* a * b modulo the reflected polynomial (bit 31 is x^0). */
static uint32_t gf2_mul(uint32_t a, uint32_t b)
{
    uint32_t m = 1u << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0) break;
        }
        m >>= 1;
        b = b & 1 ? (b >> 1) ^ 0x82F63B78u : b >> 1;
    }
    return p;
}

/* Multiplication by x^(8 BLOCK) and by x^(16 BLOCK) as tables: the product is linear in the
 * other factor, so it is the xor of one entry per byte of it (4 lookups). Built once. */
static uint32_t       g_shift1[4][256], g_shift2[4][256];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* x^n modulo the polynomial, reflected. */
static uint32_t xpow(uint64_t n)
{
    uint32_t r = 1u << 31, sq = 1u << 30; /* x^0, x^1 */
    while (n) {
        if (n & 1) r = gf2_mul(r, sq);
        sq = gf2_mul(sq, sq);
        n >>= 1;
    }
    return r;
}

static void build_shifts(void)
{
    const uint32_t s1 = xpow(8u * BLOCK), s2 = xpow(16u * BLOCK);
    uint32_t       k, b;
    for (k = 0; k < 4; k++)
        for (b = 0; b < 256; b++) {
            g_shift1[k][b] = gf2_mul(s1, b << (8 * k));
            g_shift2[k][b] = gf2_mul(s2, b << (8 * k));
        }
}

static uint32_t shift(uint32_t t[4][256], uint32_t c)
{
    return t[0][c & 255u] ^ t[1][(c >> 8) & 255u] ^ t[2][(c >> 16) & 255u] ^ t[3][c >> 24];
}

static uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

uint32_t igq__crc32c__avx2(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p  = (const unsigned char *)data;
    uint64_t             c0 = (uint32_t)~crc;
    while (n > 0 && ((uintptr_t)p & 7u) != 0) {
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
        n--;
    }
    if (n >= 3 * BLOCK) {
        pthread_once(&g_once, build_shifts);
        do {
            /* streams 1 and 2 start from 0 (no inversion): CRC is linear, so
             * crc(a || b || c) = shift(shift(c0, b) ^ c1, c) ^ c2 with raw registers */
            uint64_t c1 = 0, c2 = 0;
            size_t   i;
            for (i = 0; i < BLOCK; i += 8) {
                c0 = _mm_crc32_u64(c0, load64(p + i));
                c1 = _mm_crc32_u64(c1, load64(p + BLOCK + i));
                c2 = _mm_crc32_u64(c2, load64(p + 2 * BLOCK + i));
            }
            c0 = shift(g_shift2, (uint32_t)c0) ^ shift(g_shift1, (uint32_t)c1) ^ (uint32_t)c2;
            p += 3 * BLOCK;
            n -= 3 * BLOCK;
        } while (n >= 3 * BLOCK);
    }
    for (; n >= 8; p += 8, n -= 8) c0 = _mm_crc32_u64(c0, load64(p));
    while (n-- > 0) c0 = _mm_crc32_u8((uint32_t)c0, *p++);
    return ~(uint32_t)c0;
}
