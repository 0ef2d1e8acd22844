/* Public tensor functions: validation, ownership. */
#include <stdint.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../core/tensor.h"

static size_t dtype_size(igq_dtype dtype) { return dtype == IGQ_DTYPE_F32 ? 4 : 0; }

/* Validates dtype/ndim/shape and computes numel and byte size. */
static igq_status check_shape(igq_dtype dtype, int32_t ndim, const int64_t *shape,
                              int64_t *numel, size_t *nbytes)
{
    int64_t n = 1;
    int32_t i;
    IGQ_CHECK(dtype_size(dtype) != 0, IGQ_ERR_INVALID_ARGUMENT, "tensor: unknown dtype %d",
              (int)dtype);
    IGQ_CHECK(ndim >= 1 && ndim <= IGQ_MAX_DIMS, IGQ_ERR_INVALID_ARGUMENT,
              "tensor: ndim %d outside 1..%d", (int)ndim, IGQ_MAX_DIMS);
    IGQ_CHECK(shape != NULL, IGQ_ERR_INVALID_ARGUMENT, "tensor: shape is NULL");
    for (i = 0; i < ndim; i++) {
        IGQ_CHECK(shape[i] >= 1, IGQ_ERR_INVALID_ARGUMENT,
                  "tensor: extent %lld of dimension %d must be >= 1", (long long)shape[i],
                  (int)i);
        IGQ_CHECK(shape[i] <= INT64_MAX / n, IGQ_ERR_INVALID_ARGUMENT,
                  "tensor: element count overflows");
        n *= shape[i];
    }
    IGQ_CHECK((uint64_t)n <= SIZE_MAX / dtype_size(dtype), IGQ_ERR_INVALID_ARGUMENT,
              "tensor: byte size overflows");
    *numel  = n;
    *nbytes = (size_t)n * dtype_size(dtype);
    return IGQ_OK;
}

static igq_status make(igq_dtype dtype, int32_t ndim, const int64_t *shape, void *data,
                       size_t data_bytes, int wrap, igq_tensor **out)
{
    igq_tensor *t;
    int64_t     numel  = 0;
    size_t      nbytes = 0;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "tensor: out is NULL");
    *out = NULL;
    IGQ_TRY(check_shape(dtype, ndim, shape, &numel, &nbytes));
    if (wrap) {
        IGQ_CHECK(data != NULL, IGQ_ERR_INVALID_ARGUMENT, "tensor_wrap: data is NULL");
        IGQ_CHECK(((uintptr_t)data % dtype_size(dtype)) == 0, IGQ_ERR_INVALID_ARGUMENT,
                  "tensor_wrap: data is not aligned to the element size");
        IGQ_CHECK(data_bytes >= nbytes, IGQ_ERR_BUFFER_TOO_SMALL,
                  "tensor_wrap: %zu bytes given, shape needs %zu", data_bytes, nbytes);
    }
    t = (igq_tensor *)igq__calloc(1, sizeof *t);
    IGQ_CHECK(t != NULL, IGQ_ERR_NO_MEMORY, "tensor: out of memory");
    t->dtype  = dtype;
    t->ndim   = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel  = numel;
    t->nbytes = nbytes;
    if (wrap) {
        t->data = data;
    } else {
        t->data = igq__calloc(1, nbytes);
        if (t->data == NULL) {
            igq__free(t);
            return igq__set_error(IGQ_ERR_NO_MEMORY, "tensor: cannot allocate %zu bytes", nbytes);
        }
        t->owns_data = 1;
    }
    *out = t;
    return IGQ_OK;
}

igq_status igq_tensor_create(igq_dtype dtype, int32_t ndim, const int64_t *shape, igq_tensor **out)
{
    return make(dtype, ndim, shape, NULL, 0, 0, out);
}

igq_status igq_tensor_wrap(igq_dtype dtype, int32_t ndim, const int64_t *shape, void *data,
                           size_t data_bytes, igq_tensor **out)
{
    return make(dtype, ndim, shape, data, data_bytes, 1, out);
}

void igq_tensor_free(igq_tensor *tensor)
{
    if (tensor == NULL) return;
    if (tensor->owns_data) igq__free(tensor->data);
    igq__free(tensor);
}

/* Getters answer -1 (or IGQ_DTYPE_INVALID) for a NULL tensor: no tensor has that value, so a
 * caller cannot mistake a missing tensor for an empty one. */
int32_t igq_tensor_ndim(const igq_tensor *tensor) { return tensor != NULL ? tensor->ndim : -1; }

int64_t igq_tensor_dim(const igq_tensor *tensor, int32_t dim)
{
    if (tensor == NULL || dim < 0 || dim >= tensor->ndim) return -1;
    return tensor->shape[dim];
}

igq_dtype igq_tensor_dtype(const igq_tensor *tensor)
{
    return tensor != NULL ? tensor->dtype : IGQ_DTYPE_INVALID;
}

int64_t igq_tensor_numel(const igq_tensor *tensor) { return tensor != NULL ? tensor->numel : -1; }

void *igq_tensor_data(igq_tensor *tensor) { return tensor != NULL ? tensor->data : NULL; }
