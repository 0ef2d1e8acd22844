/* Byte permutation of rows (kernels.h IGQ_U8_PERM_PROTO) against a width mapping: VF_WIDTH
 * codes per step by one dword gather at byte offsets (vpgatherdd, scale 1: it reads the code
 * and the 3 bytes after it, hence the 3 readable bytes the contract asks past each row) whose
 * low bytes are stored; the n mod width tail one code at a time. No plan. Static inline. */
#ifndef IGQ_KERNELS_SIMD_U8_PERM_IMPL_H
#define IGQ_KERNELS_SIMD_U8_PERM_IMPL_H

#include <stdint.h>

IGQ_SIMD_INLINE void u8_perm_plan_impl(int64_t n, const int32_t *perm, void *plan)
{
    (void)n, (void)perm, (void)plan;
}

IGQ_SIMD_INLINE void u8_perm_impl(int64_t rows, int64_t n, const uint8_t *src, int64_t lds,
                                  const int32_t *perm, const void *plan, uint8_t *dst,
                                  int64_t ldd)
{
    int64_t r, i;
    (void)plan;
    for (r = 0; r < rows; r++) {
        const uint8_t *s = src + r * lds;
        uint8_t       *d = dst + r * ldd;
        for (i = 0; i + VF_WIDTH <= n; i += VF_WIDTH)
            vi_store_low_u8(d + i, vi_gather_u8(s, vi_load(perm + i)));
        for (; i < n; i++) d[i] = s[perm[i]];
    }
}

#endif
