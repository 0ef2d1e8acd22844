/* Internal view of igq_tensor. Private header. */
#ifndef IGQ_CORE_TENSOR_H
#define IGQ_CORE_TENSOR_H

#include "igq/igq.h"

struct igq_tensor {
    igq_dtype dtype;
    int32_t   ndim;
    int64_t   shape[IGQ_MAX_DIMS];
    int64_t   numel;
    size_t    nbytes;
    void     *data;
    int       owns_data;
};

#endif
