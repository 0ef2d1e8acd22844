/*
 * libigq - instance-aware group quantization for Vision Transformers on CPUs.
 *
 * The one stable public header. Pure C99; also compiles as C++.
 * SPDX-License-Identifier: MIT
 *
 * Conventions (see STYLE.md in the design notes):
 *  - Every fallible function returns an igq_status; results come back through out-parameters,
 *    which are set to NULL on failure. Nothing leaks on failure.
 *  - Whatever igq_*_create / igq_*_load returns belongs to the caller and is released with the
 *    matching igq_*_free, which accepts NULL.
 *  - igq_last_error() gives the detailed message of the calling thread's most recent failure.
 *  - Enums are append-only with explicit values; they are pinned to 32 bits.
 */
#ifndef IGQ_IGQ_H
#define IGQ_IGQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(IGQ_BUILDING_DLL)
#define IGQ_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define IGQ_API __attribute__((visibility("default")))
#else
#define IGQ_API
#endif

/* ---- Version ------------------------------------------------------------------------------ */

#define IGQ_VERSION_MAJOR 0
#define IGQ_VERSION_MINOR 1
#define IGQ_VERSION_PATCH 0
#define IGQ_VERSION_NUMBER (IGQ_VERSION_MAJOR * 10000 + IGQ_VERSION_MINOR * 100 + IGQ_VERSION_PATCH)

/** Runtime version as MAJOR*10000 + MINOR*100 + PATCH (compare with IGQ_VERSION_NUMBER).
 *  Thread safety: any thread. */
IGQ_API unsigned igq_version_number(void);

/** Runtime version as "MAJOR.MINOR.PATCH"; static storage, never NULL.
 *  Thread safety: any thread. */
IGQ_API const char *igq_version_string(void);

/* ---- Errors ------------------------------------------------------------------------------- */

/** Status codes. Values are frozen; new ones are only appended. */
typedef enum igq_status {
    IGQ_OK                   = 0,
    IGQ_ERR_INVALID_ARGUMENT = 1,  /**< NULL pointer, bad enum value, inconsistent arguments */
    IGQ_ERR_OUT_OF_RANGE     = 2,  /**< an option value outside its bounds */
    IGQ_ERR_NO_MEMORY        = 3,  /**< an allocation failed */
    IGQ_ERR_IO               = 4,  /**< a file could not be opened, read or written */
    IGQ_ERR_FORMAT           = 5,  /**< a malformed or unsupported file */
    IGQ_ERR_SHAPE            = 6,  /**< a tensor shape does not match what is required */
    IGQ_ERR_UNSUPPORTED      = 7,  /**< valid, but not supported by this build (dtype, ISA, op) */
    IGQ_ERR_BAD_STATE        = 8,  /**< wrong call order or wrong kind of object */
    IGQ_ERR_BUFFER_TOO_SMALL = 9,  /**< a caller buffer cannot hold the result */
    IGQ_ERR_THREAD           = 10, /**< a pthread call failed */
    IGQ_ERR_INTERNAL         = 11, /**< a bug in libigq; please report it */
    IGQ_ERR_NOT_FOUND        = 12, /**< the requested item is not present (e.g. unknown mean/std) */
    IGQ_STATUS_FORCE32       = 0x7fffffff
} igq_status;

/** Static English text for a status, never NULL ("unknown error" for unknown codes).
 *  Thread safety: any thread. */
IGQ_API const char *igq_strerror(igq_status status);

/** Detailed message of this thread's most recent failing call: what went wrong and where
 *  (file, tensor name, shapes). Owned by the library; valid until this thread's next failing
 *  call. Calls that succeed leave it unchanged. "" if nothing has failed on this thread.
 *  Thread safety: any thread (the message is per thread). */
IGQ_API const char *igq_last_error(void);

/* ---- Tensors ------------------------------------------------------------------------------ */

/** A dense, row-major tensor. Storage made by igq_tensor_create is 64-byte aligned. */
typedef struct igq_tensor igq_tensor;

typedef enum igq_dtype {
    IGQ_DTYPE_F32     = 0,
    IGQ_DTYPE_FORCE32 = 0x7fffffff
} igq_dtype;

/** Maximum number of dimensions of a tensor. */
#define IGQ_MAX_DIMS 8

/** Create a tensor that owns zero-initialized storage.
 *  @param dtype  element type (IGQ_DTYPE_F32).
 *  @param ndim   number of dimensions, 1..IGQ_MAX_DIMS.
 *  @param shape  ndim extents, each >= 1; copied.
 *  @param out    receives the new tensor (NULL on failure).
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL pointer, bad dtype or ndim, extent < 1,
 *          size overflow); IGQ_ERR_NO_MEMORY.
 *  Thread safety: any thread. */
IGQ_API igq_status igq_tensor_create(igq_dtype dtype, int32_t ndim, const int64_t *shape,
                                     igq_tensor **out);

/** Create a tensor that borrows caller memory. The library never reads or writes past
 *  data_bytes and never frees data; the caller keeps it alive until igq_tensor_free.
 *  @param data        at least product(shape) * element size bytes, suitably aligned for dtype.
 *  @param data_bytes  size of the caller buffer in bytes.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (as igq_tensor_create, or data NULL/misaligned);
 *          IGQ_ERR_BUFFER_TOO_SMALL (data_bytes below what the shape needs); IGQ_ERR_NO_MEMORY.
 *  Thread safety: any thread. */
IGQ_API igq_status igq_tensor_wrap(igq_dtype dtype, int32_t ndim, const int64_t *shape,
                                   void *data, size_t data_bytes, igq_tensor **out);

/** Free a tensor (and its storage if it owns it). NULL is a no-op. */
IGQ_API void igq_tensor_free(igq_tensor *tensor);

/** Number of dimensions (0 if tensor is NULL). Thread safety: any thread. */
IGQ_API int32_t igq_tensor_ndim(const igq_tensor *tensor);

/** Extent of dimension dim (0 if tensor is NULL or dim is out of range). */
IGQ_API int64_t igq_tensor_dim(const igq_tensor *tensor, int32_t dim);

/** Element type (IGQ_DTYPE_F32 for NULL). */
IGQ_API igq_dtype igq_tensor_dtype(const igq_tensor *tensor);

/** Number of elements (0 if tensor is NULL). */
IGQ_API int64_t igq_tensor_numel(const igq_tensor *tensor);

/** Pointer to the first element (NULL if tensor is NULL). Valid while the tensor lives. */
IGQ_API void *igq_tensor_data(igq_tensor *tensor);

/* ---- Models ------------------------------------------------------------------------------- */

/** A ViT/DeiT graph with its weights; immutable once loaded, safe to share between threads. */
typedef struct igq_model igq_model;

/** Load a model from a checkpoint file.
 *  Supported: safetensors (F32, F16, BF16 tensors) with timm ViT/DeiT (also distilled),
 *  Hugging Face ViTForImageClassification or torchvision VisionTransformer tensor names.
 *  The architecture is inferred from tensor shapes. Values shapes cannot give (number of
 *  heads, LayerNorm eps, mean/std, non-square image size) come, in order, from the
 *  safetensors __metadata__ keys num_heads, layer_norm_eps, mean, std, image_size; then a
 *  config.json in the same folder (Hugging Face or timm keys); then defaults (head dim 64;
 *  eps 1e-6 for timm and torchvision names, 1e-12 for Hugging Face names).
 *  @param path  file name; borrowed.
 *  @param out   receives the model (NULL on failure).
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL); IGQ_ERR_IO (cannot open/read);
 *          IGQ_ERR_FORMAT (malformed file, unknown naming scheme, missing or duplicate
 *          tensor, bad metadata); IGQ_ERR_SHAPE (a tensor shape inconsistent with the
 *          architecture); IGQ_ERR_UNSUPPORTED (an unsupported dtype); IGQ_ERR_NO_MEMORY.
 *          igq_last_error() names the file and the tensor.
 *  Thread safety: any thread. */
IGQ_API igq_status igq_model_load(const char *path, igq_model **out);

/** Free a model. NULL is a no-op. No igq_run on it may be in progress. */
IGQ_API void igq_model_free(igq_model *model);

/** Integer properties of a model, read with igq_model_info(). */
typedef enum igq_model_prop {
    IGQ_PROP_IMAGE_HEIGHT  = 0,  /**< input image height in pixels */
    IGQ_PROP_IMAGE_WIDTH   = 1,  /**< input image width in pixels */
    IGQ_PROP_IN_CHANNELS   = 2,  /**< input channels (3 for RGB) */
    IGQ_PROP_PATCH_SIZE    = 3,  /**< square patch side in pixels */
    IGQ_PROP_EMBED_DIM     = 4,  /**< token width D */
    IGQ_PROP_DEPTH         = 5,  /**< number of transformer blocks */
    IGQ_PROP_HEADS         = 6,  /**< attention heads per block */
    IGQ_PROP_MLP_DIM       = 7,  /**< hidden width of the MLP */
    IGQ_PROP_NUM_CLASSES   = 8,  /**< logits per image */
    IGQ_PROP_PREFIX_TOKENS = 9,  /**< class (+ distillation) tokens before the patches */
    IGQ_PROP_NUM_TOKENS    = 10, /**< prefix tokens + patches */
    IGQ_PROP_FORCE32       = 0x7fffffff
} igq_model_prop;

/** Read an integer property.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL model/value, unknown prop).
 *  Thread safety: shared read-only. */
IGQ_API igq_status igq_model_info(const igq_model *model, igq_model_prop prop, int64_t *value);

/** LayerNorm epsilon the model uses.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL). Thread safety: shared read-only. */
IGQ_API igq_status igq_model_layer_norm_eps(const igq_model *model, float *eps);

/** Input normalization (per channel mean and std) that the checkpoint declares.
 *  @param mean, std  arrays of at least `capacity` floats; filled with IGQ_PROP_IN_CHANNELS
 *                    values.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL); IGQ_ERR_BUFFER_TOO_SMALL (capacity below
 *          the channel count); IGQ_ERR_NOT_FOUND (the checkpoint does not say).
 *  Thread safety: shared read-only. */
IGQ_API igq_status igq_model_normalization(const igq_model *model, float *mean, float *std,
                                           int32_t capacity);

/* ---- Inference ---------------------------------------------------------------------------- */

/** Run the model on a batch of images.
 *  @param model   a loaded model; borrowed, not modified.
 *  @param images  f32 [B, C, H, W] (B >= 1), already normalized; C, H, W as the model says.
 *  @param logits  f32 [B, classes], caller-allocated; overwritten on IGQ_OK, unspecified
 *                 otherwise.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL, wrong dtype, images and logits are the same
 *          tensor); IGQ_ERR_SHAPE (images or logits shape mismatch); IGQ_ERR_NO_MEMORY.
 *  Thread safety: many threads may run the same model at once (each call uses its own
 *  scratch memory); a logits tensor must not be shared between concurrent calls. */
IGQ_API igq_status igq_run(const igq_model *model, const igq_tensor *images, igq_tensor *logits);

#ifdef __cplusplus
}
#endif

#endif /* IGQ_IGQ_H */
