/* Packing of the attention operands of the integer executor as GEMM weights, the scalar
 * reference (kernels.h igq_qs8_pack_keys_fn / igq_qs8_pack_values_fn): the specification the
 * SIMD versions match byte for byte. */
#include "../kernels.h"
#include "../qs8_layout.h"

#include <string.h>

void igq__qs8_pack_keys__scalar(const uint8_t *kh, int64_t ld, int64_t T, int64_t hd, int32_t ok,
                                uint8_t *pk, int32_t *rs)
{
    int64_t j, k;
    if (T % IGQ_QS8_NR != 0) /* zero the last panel's padding columns */
        memset(pk + (T / IGQ_QS8_NR) * hd * IGQ_QS8_NR, 0, (size_t)(hd * IGQ_QS8_NR));
    for (j = 0; j < T; j++) {
        const uint8_t *src = kh + j * ld;
        uint8_t       *dst =
            pk + (j / IGQ_QS8_NR) * hd * IGQ_QS8_NR + igq__qs8_pos((int)(j % IGQ_QS8_NR));
        int32_t        sum = 0;
        for (k = 0; k < hd; k++) {
            const int32_t v     = (int32_t)src[k] - ok;
            dst[k * IGQ_QS8_NR] = (uint8_t)(int8_t)v;
            sum += v;
        }
        rs[j] = sum;
    }
}

void igq__qs8_pack_values__scalar(const uint8_t *vh, int64_t ld, int64_t T, int64_t hd,
                                  int32_t ov, uint8_t *pk, int32_t *rs)
{
    int64_t b, j, cc;
    for (cc = 0; cc < hd; cc++) rs[cc] = 0;
    for (b = 0; b * IGQ_QS8_NR < hd; b++) {
        const int64_t nn = hd - b * IGQ_QS8_NR < IGQ_QS8_NR ? hd - b * IGQ_QS8_NR : IGQ_QS8_NR;
        for (j = 0; j < T; j++) {
            const uint8_t *src = vh + j * ld + b * IGQ_QS8_NR;
            uint8_t       *dst = pk + (b * T + j) * IGQ_QS8_NR;
            int            cq;
            if (nn < IGQ_QS8_NR) memset(dst, 0, IGQ_QS8_NR);
            for (cq = 0; cq < nn; cq++) {
                const int32_t v       = (int32_t)src[cq] - ov;
                dst[igq__qs8_pos(cq)] = (uint8_t)(int8_t)v;
                rs[b * IGQ_QS8_NR + cq] += v;
            }
        }
    }
}
