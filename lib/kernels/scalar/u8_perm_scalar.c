/* Byte permutation of rows (the spec; kernels.h IGQ_U8_PERM_PROTO): one code per step through
 * the channel order. The plan is unused at this level. */
#include "../kernels.h"

IGQ_U8_PERM_PLAN_PROTO(igq__u8_perm_plan__scalar)
{
    (void)n, (void)perm, (void)plan;
}

IGQ_U8_PERM_PROTO(igq__u8_perm__scalar)
{
    int64_t r, i;
    (void)plan;
    for (r = 0; r < rows; r++) {
        const uint8_t *s = src + r * lds;
        uint8_t       *d = dst + r * ldd;
        for (i = 0; i < n; i++) d[i] = s[perm[i]];
    }
}
