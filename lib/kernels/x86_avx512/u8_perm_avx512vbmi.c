/* Byte permutation of rows (kernels.h IGQ_U8_PERM_PROTO) by AVX-512 VBMI vpermi2b: 64 output
 * codes per step from the 128-byte chunks of the source row they come from. VBMI is not part
 * of the avx512vnni level's guaranteed set (F/BW/VL/VNNI), so these functions carry their own
 * target attribute and the dispatcher chooses them only when cpuid reports VBMI (else the
 * level's gather kernel of simd/u8_perm_impl.h); test_kernels_nonlin runs both.
 * Plan (IGQ_U8_PERM_PLAN_SIZE): idx[64 nb] = perm & 127 (0 past n), off[nb + 1] (int64) and
 * the entries {mask, chunk} of block b at off[b] .. off[b+1]: one per source chunk c that
 * block b reads, mask bit j set when perm[64 b + j] >> 7 == c. With the channels of a group
 * in increasing order a block reads few chunks, so the list is short. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>
#include <string.h>

typedef struct perm_entry {
    uint64_t mask;
    int64_t  chunk;
} perm_entry;

IGQ_U8_PERM_PLAN_PROTO(igq__u8_perm_plan__avx512vbmi)
{
    const int64_t nb = IGQ_U8_PERM_BLOCKS(n), nch = IGQ_U8_PERM_CHUNKS(n);
    uint8_t      *idx = (uint8_t *)plan;
    int64_t      *off = (int64_t *)(void *)(idx + nb * 64);
    perm_entry   *ent = (perm_entry *)(void *)(off + nb + 1);
    int64_t       b, j, ne = 0;
    (void)nch;
    for (b = 0; b < nb; b++) {
        const int64_t e0 = ne;
        off[b]           = ne;
        for (j = 0; j < 64; j++) {
            const int64_t i = b * 64 + j;
            int64_t       c, e;
            if (i >= n) {
                idx[i] = 0;
                continue;
            }
            idx[i] = (uint8_t)(perm[i] & 127);
            c      = perm[i] >> 7;
            for (e = e0; e < ne && ent[e].chunk != c; e++) continue;
            if (e == ne) ent[ne].mask = 0, ent[ne].chunk = c, ne++;
            ent[e].mask |= (uint64_t)1 << j;
        }
    }
    off[nb] = ne;
}

#define VBMI __attribute__((target("avx512f,avx512bw,avx512vbmi"), always_inline))

/* the 128-byte chunk at p of a row with rem = n - chunk start bytes left (no read past n) */
static inline VBMI void load_chunk(const uint8_t *p, int64_t rem, __m512i *lo, __m512i *hi)
{
    if (rem >= 128) {
        *lo = _mm512_loadu_si512((const void *)p);
        *hi = _mm512_loadu_si512((const void *)(p + 64));
    } else {
        *lo = _mm512_maskz_loadu_epi8(rem >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << rem) - 1, p);
        *hi = rem > 64 ? _mm512_maskz_loadu_epi8(((__mmask64)1 << (rem - 64)) - 1, p + 64)
                       : _mm512_setzero_si512();
    }
}

/* R (1 or 4) rows: each block's index vector and entry list are read once for the R rows */
static inline VBMI void perm_rows(int R, int64_t n, const uint8_t *src, int64_t lds,
                                  const void *plan, uint8_t *dst, int64_t ldd)
{
    const int64_t     nb  = IGQ_U8_PERM_BLOCKS(n);
    const uint8_t    *idx = (const uint8_t *)plan;
    const int64_t    *off = (const int64_t *)(const void *)(idx + nb * 64);
    const perm_entry *ent = (const perm_entry *)(const void *)(off + nb + 1);
    int64_t           b, e;
    int               k;
    for (b = 0; b < nb; b++) {
        const __m512i vi = _mm512_loadu_si512((const void *)(idx + b * 64));
        __m512i       res[4];
        for (k = 0; k < R; k++) res[k] = _mm512_setzero_si512();
        for (e = off[b]; e < off[b + 1]; e++) {
            const int64_t   c0 = ent[e].chunk * 128, rem = n - c0;
            const __mmask64 m  = (__mmask64)ent[e].mask;
            for (k = 0; k < R; k++) {
                __m512i lo, hi;
                load_chunk(src + k * lds + c0, rem, &lo, &hi);
                res[k] = _mm512_mask_mov_epi8(res[k], m, _mm512_permutex2var_epi8(lo, vi, hi));
            }
        }
        if (n - b * 64 >= 64)
            for (k = 0; k < R; k++) _mm512_storeu_si512((void *)(dst + k * ldd + b * 64), res[k]);
        else
            for (k = 0; k < R; k++)
                _mm512_mask_storeu_epi8(dst + k * ldd + b * 64,
                                        ((__mmask64)1 << (n - b * 64)) - 1, res[k]);
    }
}

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) IGQ_U8_PERM_PROTO(igq__u8_perm__avx512vbmi)
{
    int64_t r = 0;
    (void)perm;
    for (; r + 4 <= rows; r += 4) perm_rows(4, n, src + r * lds, lds, plan, dst + r * ldd, ldd);
    for (; r < rows; r++) perm_rows(1, n, src + r * lds, lds, plan, dst + r * ldd, ldd);
}

#else
typedef int igq_u8_perm_avx512vbmi_empty; /* ISO C forbids an empty translation unit */
#endif
