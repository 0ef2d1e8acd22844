/* CRC-32C, the reference (kernels.h igq_crc32c_fn): reflected polynomial 0x82F63B78,
 * initial value and final xor 0xFFFFFFFF. Slice-by-8: eight 256-entry tables, built once
 * (pthread_once), fold 8 bytes per step with 8 lookups; byte-at-a-time for the head and the
 * tail. Any alignment. */
#include <pthread.h>
#include <string.h>

#include "../kernels.h"

static uint32_t       g_tab[8][256];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    uint32_t i, k;
    for (i = 0; i < 256; i++) {
        uint32_t c = i;
        for (k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        g_tab[0][i] = c;
    }
    for (i = 0; i < 256; i++)
        for (k = 1; k < 8; k++) g_tab[k][i] = (g_tab[k - 1][i] >> 8) ^ g_tab[0][g_tab[k - 1][i] & 255u];
}

uint32_t igq__crc32c__scalar(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    uint32_t             c = ~crc;
    pthread_once(&g_once, build_tables);
    while (n >= 8) {
        /* little-endian assembly of the 8 bytes, whatever the host order */
        const uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                 (uint32_t)p[3] << 24);
        c = g_tab[7][lo & 255u] ^ g_tab[6][(lo >> 8) & 255u] ^ g_tab[5][(lo >> 16) & 255u] ^
            g_tab[4][lo >> 24] ^ g_tab[3][p[4]] ^ g_tab[2][p[5]] ^ g_tab[1][p[6]] ^
            g_tab[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) c = (c >> 8) ^ g_tab[0][(c ^ *p++) & 255u];
    return ~c;
}
