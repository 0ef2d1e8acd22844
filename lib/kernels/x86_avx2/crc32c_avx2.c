/* CRC-32C with the SSE4.2 crc32 instruction (every CPU of the avx2 level has it; -mavx2
 * implies -msse4.2): the same value as the scalar reference (kernels.h igq_crc32c_fn).
 * Three independent 8-byte streams over consecutive blocks hide the instruction's 3-cycle
 * latency; the three partial CRCs are joined by shifting the first two over the bytes that
 * follow them (multiplication by x^(8 n) modulo the polynomial, with a table of x^(2^k)
 * powers), the way zlib combines CRCs. Any alignment (unaligned 8-byte loads via memcpy). */
#include <nmmintrin.h>
#include <pthread.h>
#include <string.h>

#include "../kernels.h"

#define BLOCK 4096 /* bytes per stream per round: 3 x 4 KiB rounds */

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

/* x^(8 BLOCK) and x^(16 BLOCK), built once. */
static uint32_t       g_shift1, g_shift2;
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
    g_shift1 = xpow(8u * BLOCK);
    g_shift2 = xpow(16u * BLOCK);
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
            c0 = gf2_mul(g_shift2, (uint32_t)c0) ^ gf2_mul(g_shift1, (uint32_t)c1) ^ (uint32_t)c2;
            p += 3 * BLOCK;
            n -= 3 * BLOCK;
        } while (n >= 3 * BLOCK);
    }
    for (; n >= 8; p += 8, n -= 8) c0 = _mm_crc32_u64(c0, load64(p));
    while (n-- > 0) c0 = _mm_crc32_u8((uint32_t)c0, *p++);
    return ~(uint32_t)c0;
}
