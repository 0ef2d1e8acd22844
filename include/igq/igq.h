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
    IGQ_ERR_CANCELLED        = 13, /**< a progress callback asked to stop */
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
    IGQ_DTYPE_INVALID = -1, /**< returned by igq_tensor_dtype(NULL); never a valid argument */
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

/** Number of dimensions, 1..IGQ_MAX_DIMS; -1 if tensor is NULL.
 *  Thread safety: any thread. */
IGQ_API int32_t igq_tensor_ndim(const igq_tensor *tensor);

/** Extent of dimension dim (>= 1); -1 if tensor is NULL or dim is outside 0..ndim-1.
 *  Thread safety: any thread. */
IGQ_API int64_t igq_tensor_dim(const igq_tensor *tensor, int32_t dim);

/** Element type; IGQ_DTYPE_INVALID if tensor is NULL. Thread safety: any thread. */
IGQ_API igq_dtype igq_tensor_dtype(const igq_tensor *tensor);

/** Number of elements (>= 1); -1 if tensor is NULL. Thread safety: any thread. */
IGQ_API int64_t igq_tensor_numel(const igq_tensor *tensor);

/** Pointer to the first element (NULL if tensor is NULL). Valid while the tensor lives. */
IGQ_API void *igq_tensor_data(igq_tensor *tensor);

/* ---- Models ------------------------------------------------------------------------------- */

/** A ViT/DeiT graph with its weights; immutable once loaded, safe to share between threads. */
typedef struct igq_model igq_model;

/** Load a model from a checkpoint file or a `.igq` file.
 *  A `.igq` file (igq_model_save) is recognized by its magic, whatever its name, mapped
 *  read-only and used in place: loading takes milliseconds, pages are shared between processes
 *  running the same file, and the model is the one that was saved (quantized or not). The
 *  file must not be truncated or rewritten in place while the model lives (replacing it, as
 *  igq_model_save does, is safe): like any mapped file, that ends the process with SIGBUS.
 *  A checkpoint is mapped only while it is read.
 *  Checkpoints (told apart by content, not by name): safetensors, or PyTorch torch.save zip
 *  archives (.pth, .pt, .bin; PyTorch >= 1.6), with F32, F16, BF16 tensors and timm ViT/DeiT
 *  (also distilled), Hugging Face ViTForImageClassification or torchvision VisionTransformer
 *  tensor names. A PyTorch checkpoint must hold a state dict, at the top or under "state_dict",
 *  "model", "model_state_dict" or "module" (one or two levels); a "module." prefix on every name
 *  is removed. Its pickle is read by a restricted reader that executes nothing: any global
 *  other than the tensor/storage/OrderedDict ones is IGQ_ERR_UNSUPPORTED naming it, as are
 *  the legacy (pre-1.6) format (re-save it with torch.save), TorchScript archives and
 *  non-contiguous tensors. Tensors are read in place from the mapped file (an archive
 *  re-zipped with compression is copied and inflated in memory).
 *  The architecture is inferred from tensor shapes. Values shapes cannot give (number of
 *  heads, LayerNorm eps, mean/std, non-square image size) come, in order, from the
 *  safetensors __metadata__ keys num_heads, layer_norm_eps, mean, std, image_size (a PyTorch
 *  checkpoint has none); then a config.json in the same folder (Hugging Face or timm keys);
 *  then defaults (the heads of the published widths: 192/3, 384/6, 768/12, 1024/16, 1280/16, 1408/16, 1536/24, 1664/16,
 *  else head dim 64; eps 1e-6 for timm and torchvision names, 1e-12 for Hugging Face names).
 *  A checkpoint without a classifier (timm num_classes=0, DINOv2) loads with 0 classes: its
 *  embeddings come from igq_run_features(), igq_run() refuses it, and quantizing it measures
 *  group allocation on the embeddings' cosine distance instead of the logits' KL.
 *  Nothing is ignored silently: a tensor the graph does not read is refused by name
 *  (IGQ_ERR_UNSUPPORTED), except training buffers (num_batches_tracked,
 *  relative_position_index, position_ids), mask_token and Hugging Face's pooler; a tensor that
 *  marks a family or feature libigq does not run (Swin, CLIP, SigLIP, BEiT, EVA, SwiGLU,
 *  qk-norm, norm_pre, attention pooling, a pre-logits layer) is refused naming both. The evaluation
 *  image transform (resize, interpolation, crop) comes from the metadata, config.json's
 *  pretrained_cfg or preprocessor_config.json, as igq_image_preprocess() says.
 *  A safetensors header (its JSON) may be up to 100 MB; it is checked whole before anything is
 *  allocated for it, then read in time linear in its size and less than 3 times its size of
 *  memory (beyond the mapped file), so a hostile header is refused cheaply. A PyTorch
 *  checkpoint's pickle may be up to 64 MB, with at most 2^20 objects nested at most 100 deep.
 *  @param path  file name; borrowed.
 *  @param out   receives the model (NULL on failure).
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL); IGQ_ERR_IO (cannot open/read);
 *          IGQ_ERR_FORMAT (malformed file, unknown naming scheme, missing or duplicate
 *          tensor, bad metadata); IGQ_ERR_SHAPE (a tensor shape inconsistent with the
 *          architecture); IGQ_ERR_UNSUPPORTED (an unsupported dtype, family or feature, a
 *          tensor the graph does not use; a PyTorch checkpoint in the legacy format or naming a
 *          class or function outside the state-dict subset); IGQ_ERR_NO_MEMORY.
 *          igq_last_error() names the file and the tensor.
 *  Thread safety: any thread. */
IGQ_API igq_status igq_model_load(const char *path, igq_model **out);

/** Values an application gives the loader without editing the checkpoint: what the file
 *  cannot say (heads, LayerNorm eps, mean/std) and the image size to run at. Opaque; create,
 *  set, pass to igq_model_load_with_options(), free. Thread safety: one thread at a time per
 *  object; a set object may be read by many loads at once. Since 0.1. */
typedef struct igq_load_options igq_load_options;

typedef enum igq_load_option {
    /** Attention heads, 0 (default) = from the file or the rules of igq_model_load(). Where
     *  the file declares a count, a different option is refused (IGQ_ERR_INVALID_ARGUMENT). */
    IGQ_LOAD_NUM_HEADS    = 0,
    /** Run at another image size (0 = as trained, the default; setting one side makes the
     *  image square until the other is set): the patch grid's position embeddings are
     *  resampled as the checkpoint family's own code does (timm: bicubic with antialiasing,
     *  Hugging Face: bicubic, align_corners=False; torchvision: bicubic, align_corners=True),
     *  prefix tokens kept; sides must be multiples of the patch, the grid may shrink at most
     *  64 times; a declared evaluation transform's resize is scaled with the crop. */
    IGQ_LOAD_IMAGE_HEIGHT = 1,
    IGQ_LOAD_IMAGE_WIDTH  = 2,
    IGQ_LOAD_FORCE32      = 0x7fffffff
} igq_load_option;

/** @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (out NULL); IGQ_ERR_NO_MEMORY. Since 0.1. */
IGQ_API igq_status igq_load_options_create(igq_load_options **out);
/** NULL is a no-op. Since 0.1. */
IGQ_API void igq_load_options_free(igq_load_options *options);
/** @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL, unknown option); IGQ_ERR_OUT_OF_RANGE
 *          (heads outside 0..4096, a side outside 0..65536). Since 0.1. */
IGQ_API igq_status igq_load_options_set(igq_load_options *options, igq_load_option option,
                                        int64_t value);
/** LayerNorm epsilon, replacing what the file or the defaults say.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL); IGQ_ERR_OUT_OF_RANGE (outside [0, 1)).
 *  Since 0.1. */
IGQ_API igq_status igq_load_options_set_layer_norm_eps(igq_load_options *options, float eps);
/** Input mean/std per channel (1 value = every channel), replacing the file's (used by
 *  igq_image_preprocess and reported by igq_model_normalization).
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL); IGQ_ERR_OUT_OF_RANGE (channels outside
 *          1..64, a value not finite, std <= 0); the load refuses a count that is neither 1
 *          nor the model's channels (IGQ_ERR_FORMAT). Since 0.1. */
IGQ_API igq_status igq_load_options_set_normalization(igq_load_options *options,
                                                      const float *mean, const float *std,
                                                      int32_t channels);
/** igq_model_load() with load options (NULL = none). A .igq file is loaded as it was saved:
 *  with any option set it is refused (IGQ_ERR_INVALID_ARGUMENT).
 *  @return as igq_model_load(); IGQ_ERR_INVALID_ARGUMENT (an option that contradicts the
 *          file, an image size that is not a multiple of the patch). Since 0.1. */
IGQ_API igq_status igq_model_load_with_options(const char *path,
                                               const igq_load_options *options,
                                               igq_model **out);

/** Load a model from a `.igq` file held in memory (an application that embeds its model or
 *  fetches it itself). The library copies the bytes it keeps (in practice all of them, into one
 *  aligned buffer); data may be freed as soon as the call returns.
 *  @param data  the whole file; borrowed.
 *  @param size  its size in bytes.
 *  @param out   receives the model (NULL on failure).
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL out, NULL data with size > 0);
 *          IGQ_ERR_FORMAT (not a .igq file, or a damaged or unsupported one: the message
 *          names the section and what is wrong); IGQ_ERR_UNSUPPORTED (big-endian host);
 *          IGQ_ERR_NO_MEMORY.
 *  Thread safety: any thread. Since 0.1. */
IGQ_API igq_status igq_model_load_buffer(const void *data, size_t size, igq_model **out);

/** Save a model as one `.igq` file (format: doc/igq-format.md): an fp32 model, or a quantized
 *  one of either executor with its quantizers, group counts and (integer executor) its packed
 *  int8/int4 weights in the layout every ISA level reads in place. igq_model_load maps the
 *  file read-only and the loaded model gives the same logits, bit for bit, at every ISA level.
 *  The file is written beside `path` under a temporary name and renamed over it when complete:
 *  readers never see a partial file, and on failure an existing file at `path` is untouched.
 *  @param model  a loaded or quantized model; borrowed.
 *  @param path   destination file name; borrowed.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL); IGQ_ERR_IO (cannot create, write or
 *          rename: the message names the file and the reason); IGQ_ERR_UNSUPPORTED
 *          (big-endian host); IGQ_ERR_NO_MEMORY.
 *  Thread safety: any thread; the model may be used by other threads meanwhile. Since 0.1. */
IGQ_API igq_status igq_model_save(const igq_model *model, const char *path);

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
    /** How igq_image_preprocess() resizes before its center crop to IMAGE_HEIGHT x
     *  IMAGE_WIDTH: 0 = no resize; 1 = the shorter side to RESIZE_HEIGHT (= RESIZE_WIDTH),
     *  the longer to int(size x long / short) (torchvision's Resize(int)); 2 = to RESIZE_HEIGHT
     *  x RESIZE_WIDTH exactly; 3 = aspect kept, scaled by min(h / RESIZE_HEIGHT, w /
     *  RESIZE_WIDTH), sides rounded half to even (timm's ResizeKeepRatio). Since 0.1. */
    IGQ_PROP_RESIZE_MODE    = 11,
    IGQ_PROP_RESIZE_HEIGHT  = 12, /**< resize target height (see RESIZE_MODE). Since 0.1. */
    IGQ_PROP_RESIZE_WIDTH   = 13, /**< resize target width (see RESIZE_MODE). Since 0.1. */
    /** Resampling filter, numbered as Pillow's: 2 = bilinear, 3 = bicubic. Since 0.1. */
    IGQ_PROP_INTERPOLATION  = 14,
    /** 1 if the checkpoint (or .igq file) declared the transform, 0 if it is the default of
     *  its naming scheme (see igq_image_preprocess()). Since 0.1. */
    IGQ_PROP_PREPROC_DECLARED = 15,
    /** Floats per image of igq_run_features(): the pooled embedding's width (= EMBED_DIM).
     *  Since 0.1. */
    IGQ_PROP_FEATURE_DIM    = 16,
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
 *  @param mean      at least `capacity` floats; receives IGQ_PROP_IN_CHANNELS values.
 *  @param std       at least `capacity` floats; receives IGQ_PROP_IN_CHANNELS values.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL); IGQ_ERR_BUFFER_TOO_SMALL (capacity below
 *          the channel count); IGQ_ERR_NOT_FOUND (the checkpoint does not say).
 *  Thread safety: shared read-only. */
IGQ_API igq_status igq_model_normalization(const igq_model *model, float *mean, float *std,
                                           int32_t capacity);

/** Name of a class, from the checkpoint: the safetensors metadata key `labels` (a JSON array
 *  of strings), else a `config.json` beside it (Hugging Face `id2label`, timm `label_names`);
 *  kept in `.igq` files. The source must name every class exactly once (else the load fails
 *  with IGQ_ERR_FORMAT).
 *  @param name  receives a NUL-terminated UTF-8 string owned by the model, valid while it lives.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL, class_index outside 0 .. classes - 1);
 *          IGQ_ERR_NOT_FOUND (the checkpoint names no classes).
 *  Thread safety: shared read-only. Since 0.1. */
IGQ_API igq_status igq_model_label(const igq_model *model, int64_t class_index, const char **name);

/** Turn one 8-bit image into image `index` of a batch, with the model's evaluation transform:
 *  resize, center crop to the model's input size, scale to [0, 1], normalize.
 *  The resize is Pillow's Image.resize (what torchvision's and Hugging Face's transforms run
 *  on PIL images): bilinear or bicubic, antialiased when shrinking, reproduced bit for bit
 *  on the 8-bit values; the crop is torchvision's CenterCrop (offsets rounded half to even,
 *  zero padding where the crop exceeds the resized image); then (v / 255 - mean) / std in
 *  float, as ToTensor + Normalize. An RGB(A) image for a 1-channel model is first converted
 *  as Pillow's convert("L") does; a gray image for an RGB model is replicated; alpha is
 *  dropped (not composited). An image already of the input size with crop_pct 1 (resize
 *  mode 1 to the same size) is copied unchanged before the scaling.
 *  The transform comes, first found wins, from the safetensors __metadata__ (interpolation =
 *  bilinear | bicubic, crop_pct, crop_mode = center | squash), timm's config.json
 *  (pretrained_cfg interpolation, crop_pct, crop_mode), Hugging Face's
 *  preprocessor_config.json (do_resize, size as {height, width} | {shortest_edge} | an int,
 *  resample 2 | 3, do_center_crop, crop_size, do_rescale, rescale_factor); timm keys give a
 *  resize to floor(side / crop_pct) (shorter side for a square input, ratio kept otherwise;
 *  squash: exactly). Without them, per naming scheme: timm crop_pct 0.9 bicubic (timm's ViT
 *  default); Hugging Face a bilinear resize to the input size, no crop (ViTImageProcessor);
 *  torchvision a bilinear resize of the shorter side to floor(side / 0.875) (256 for 224),
 *  crop (torchvision's ImageNet preset). mean/std are igq_model_normalization()'s, else
 *  ImageNet's for a torchvision-named 3-channel model and 0.5 / 0.5 otherwise. The transform
 *  is saved in `.igq` files; read it with igq_model_info() (IGQ_PROP_RESIZE_MODE ...).
 *  @param model       a loaded model; borrowed.
 *  @param pixels      height rows of width pixels, `channels` interleaved bytes each; borrowed.
 *  @param width       image width in pixels, 1..65536.
 *  @param height      image height in pixels, 1..65536.
 *  @param channels    1 (gray), 3 (RGB) or 4 (RGBA).
 *  @param row_stride  bytes from one row to the next, at least width x channels.
 *  @param images      f32 [B, C, H, W] with C, H, W as the model says; only image `index` is
 *                     written.
 *  @param index       0 .. B - 1.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL, sides outside 1..65536, channels not 1, 3
 *          or 4, row_stride too small, images not f32); IGQ_ERR_SHAPE (images not [B, C, H,
 *          W] of the model); IGQ_ERR_OUT_OF_RANGE (index outside the batch);
 *          IGQ_ERR_UNSUPPORTED (a model of other than 1 or 3 channels); IGQ_ERR_NO_MEMORY.
 *  Thread safety: shared read-only model; concurrent calls must write different images or
 *  tensors. Since 0.1. */
IGQ_API igq_status igq_image_preprocess(const igq_model *model, const uint8_t *pixels,
                                        int32_t width, int32_t height, int32_t channels,
                                        int64_t row_stride, igq_tensor *images, int64_t index);

/* ---- CPU features ------------------------------------------------------------------------- */

/** Name of the instruction-set level the kernels run at: "scalar", "avx2", "avxvnni" or
 *  "avx512vnni". It is chosen once, on first use, as the best level this CPU and OS support;
 *  the environment variable IGQ_ISA (same names) read at that moment can only lower it, and
 *  an unknown IGQ_ISA value is ignored (the message lands in igq_last_error() of the thread
 *  that made the first call). Static storage, never NULL.
 *  Thread safety: any thread. */
IGQ_API const char *igq_active_isa(void);

/* ---- Inference ---------------------------------------------------------------------------- */

/** Run the model on a batch of images, on the calling thread.
 *  An fp32 model runs the fp32 executor; a model from igq_quantize_model() runs the executor
 *  chosen by IGQ_OPT_EXECUTOR: the integer one by default (int8/int4 GEMMs, integer softmax,
 *  LayerNorm and GELU; each image's channels and softmax rows assigned to groups by their own
 *  ranges), or the simulated one (fp32 arithmetic with quantize-dequantize at every site).
 *  Results are the same bits for every thread count, every ISA level (scalar, avx2, avxvnni,
 *  avx512vnni) and both supported compilers (gcc, clang), for all three executors: the scalar
 *  kernels are the specification and every SIMD kernel reproduces them. Quantization is
 *  equally deterministic, so a model quantized on one level runs like one quantized on another.
 *  The logits of an image do not depend on the other images of the batch.
 *  @param model   a loaded model; borrowed, not modified.
 *  @param images  f32 [B, C, H, W] (B >= 1), already normalized; C, H, W as the model says;
 *                 every value finite (NaN and +-Inf are refused, for every executor alike).
 *  @param logits  f32 [B, classes], caller-allocated; overwritten on IGQ_OK, unspecified
 *                 otherwise.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL, wrong dtype, a NaN or infinite pixel: the
 *          message names the image, channel, row and column; images and logits are the same
 *          tensor); IGQ_ERR_SHAPE (images or logits shape mismatch); IGQ_ERR_UNSUPPORTED
 *          (a model without a classifier: 0 classes; use igq_run_features());
 *          IGQ_ERR_NO_MEMORY.
 *  Thread safety: many threads may run the same model at once (each call uses its own
 *  scratch memory); a logits tensor must not be shared between concurrent calls. */
IGQ_API igq_status igq_run(const igq_model *model, const igq_tensor *images, igq_tensor *logits);

/** Image embeddings: what the classifier would read, for search, clustering, retrieval or a
 *  head of your own. Per image the pooled embedding of IGQ_PROP_FEATURE_DIM floats: the class
 *  token after the final LayerNorm, or the mean of the patch tokens (after the final norm,
 *  then fc_norm) for mean-pooling models; a distilled DeiT gives the mean of its class and
 *  distillation tokens (timm's pre_logits). For a quantized model it is the classifier's input
 *  before its quantization: the integer executor's LayerNorm output times its scale, the
 *  simulated executor's f32 value. Same executors, threads, bit-identity and checks as
 *  igq_run(); the classifier is not run.
 *  @param features  f32 [B, FEATURE_DIM], caller-allocated.
 *  @return as igq_run() (IGQ_ERR_SHAPE names features).
 *  Thread safety: as igq_run(). Since 0.1. */
IGQ_API igq_status igq_run_features(const igq_model *model, const igq_tensor *images,
                                    igq_tensor *features);

/* ---- Threads and sessions ----------------------------------------------------------------- */

/** A pool of worker threads owned by the caller. libigq never starts a thread on its own: work
 *  runs on the calling thread unless a pool is attached to a session. A pool runs one job at a
 *  time, so sessions on different threads may share one pool (their steps take turns). */
typedef struct igq_threadpool igq_threadpool;

/** Reusable execution state for one model: scratch memory kept between runs and an optional
 *  thread pool. Logits equal igq_run's bit for bit, whatever the pool size. */
typedef struct igq_session igq_session;

/** Create a thread pool of n_threads threads: n_threads - 1 helper threads plus the thread
 *  that calls igq_session_run, which works too (n_threads = 1 starts no thread). Between
 *  jobs a helper polls for the next one for about 0.1 ms (a forward is hundreds of short
 *  jobs), then sleeps on a condition variable; helpers block all signals.
 *  @param n_threads  1..256.
 *  @param out        receives the pool (NULL on failure); free with igq_threadpool_free().
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (out is NULL); IGQ_ERR_OUT_OF_RANGE (n_threads
 *          outside 1..256, e.g. 0); IGQ_ERR_NO_MEMORY; IGQ_ERR_THREAD (a thread could not be
 *          started; those already started are stopped, nothing leaks).
 *  Thread safety: any thread. */
IGQ_API igq_status igq_threadpool_create(int32_t n_threads, igq_threadpool **out);

/** Stop and join the helper threads and free the pool. NULL is a no-op. No session using the
 *  pool may be running, and sessions it is attached to must not run again before another
 *  pool (or NULL) is attached. */
IGQ_API void igq_threadpool_free(igq_threadpool *pool);

/** Number of threads work is split over: n_threads of the create call; -1 if pool is NULL
 *  (a session without a pool runs on the calling thread alone).
 *  Thread safety: any thread. */
IGQ_API int32_t igq_threadpool_size(const igq_threadpool *pool);

/** Create a session for a model. Allocates only the session itself; scratch memory comes
 *  with igq_session_reserve() or the first igq_session_run().
 *  @param model  fp32 or quantized model; borrowed: it must outlive the session.
 *  @param out    receives the session (NULL on failure); free with igq_session_free().
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL); IGQ_ERR_NO_MEMORY.
 *  Thread safety: any thread; many sessions may share one model. */
IGQ_API igq_status igq_session_create(const igq_model *model, igq_session **out);

/** Free a session and its scratch memory (not its model or pool). NULL is a no-op. */
IGQ_API void igq_session_free(igq_session *session);

/** Attach a thread pool (NULL: run on the calling thread only, the default). Attach before
 *  igq_session_reserve(): the reservation covers per-thread scratch for this pool's size, and
 *  a later run with a larger pool grows the scratch (an allocation).
 *  @param pool  borrowed: it must outlive its use by the session; may be shared with other
 *               sessions, used from other threads.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (session is NULL).
 *  Thread safety: one thread at a time per session. */
IGQ_API igq_status igq_session_set_threadpool(igq_session *session, igq_threadpool *pool);

/** Allocate all scratch memory for batches of up to max_batch images on the attached pool.
 *  Afterwards igq_session_run() with B <= max_batch allocates nothing. Reserving less than
 *  before keeps the larger scratch. On failure the session keeps its previous scratch.
 *  @param max_batch  >= 1.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (session is NULL, max_batch < 1);
 *          IGQ_ERR_NO_MEMORY.
 *  Thread safety: one thread at a time per session. */
IGQ_API igq_status igq_session_reserve(igq_session *session, int64_t max_batch);

/** Run the session's model on a batch of images: igq_run() with reusable scratch, its work
 *  split over the attached pool: whole images per thread while at least one image per thread
 *  is left, then (batch 1, or the last images of a batch) each image's work shared by all
 *  threads (GEMM column panels, attention heads, row ranges; the quantized integer executor
 *  and the fp32 executor). Logits are bit-identical to igq_run() for any pool size.
 *  Scratch grows when B exceeds what was reserved (or on the first run without a reserve).
 *  @param images  f32 [B, C, H, W] (B >= 1), already normalized; C, H, W as the model says;
 *                 every value finite (NaN and +-Inf are refused, for every executor alike).
 *  @param logits  f32 [B, classes], caller-allocated; overwritten on IGQ_OK, unspecified
 *                 otherwise.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL, wrong dtype, a NaN or infinite pixel: the
 *          message names the image, channel, row and column; images and logits are the same
 *          tensor); IGQ_ERR_SHAPE (images or logits shape mismatch); IGQ_ERR_NO_MEMORY
 *          (growing the scratch failed; the session stays usable).
 *  Thread safety: one thread at a time per session; many sessions may share a model and a
 *  pool, each session on its own thread. */
IGQ_API igq_status igq_session_run(igq_session *session, const igq_tensor *images,
                                   igq_tensor *logits);

/** igq_run_features() on the session's scratch and pool (profiled like igq_session_run()).
 *  Thread safety: as igq_session_run(). Since 0.1. */
IGQ_API igq_status igq_session_run_features(igq_session *session, const igq_tensor *images,
                                            igq_tensor *features);

/* ---- Profiling ---------------------------------------------------------------------------- */

/** What a profiled layer does (igq_session_profile_layer). The executors fuse differently, so
 *  the list of layers depends on the model's executor; each kind says what its time covers. */
typedef enum igq_layer_kind {
    IGQ_LAYER_PATCH_EMBED = 0, /**< patch extraction, the patch-embedding GEMM, the position
                                    embedding and the prefix tokens */
    IGQ_LAYER_LAYER_NORM  = 1, /**< a LayerNorm (fp32 and simulated executors: with the
                                    residual addition before it) */
    IGQ_LAYER_QUANTIZE    = 2, /**< integer executor: the per-image group assignment and the
                                    quantization (with the channel permutation) of a linear
                                    layer's input */
    IGQ_LAYER_LINEAR      = 3, /**< a linear layer: GEMM, zero-point and bias epilogue (fp32
                                    and simulated executors: fc1 with its GELU) */
    IGQ_LAYER_ATTENTION   = 4, /**< every head's Q·Kᵀ, softmax and P·V (integer executor: with
                                    the quantization of q, k and v) */
    IGQ_LAYER_GELU        = 5, /**< integer executor: the integer GELU of fc1's output */
    IGQ_LAYER_RESIDUAL    = 6, /**< integer executor: the residual addition (with LayerScale) */
    IGQ_LAYER_HEAD        = 7, /**< final LayerNorm, pooling and the classifier */
    IGQ_LAYER_INVALID     = -1 /**< returned on failure; never a valid kind */
} igq_layer_kind;

/** Turn per-layer timing of the session's runs on (enable = 1) or off (0, the default). While
 *  on, each igq_session_run() replaces the profile with one of that run: a clock read before
 *  and after every layer of every image (~50 ns per layer, 14 layers per block: 3-4 % of the
 *  0.3 ms bundled Fashion-MNIST model, well under 0.1 % of a DeiT-S image). Logits are the
 *  same bits either way. While off, runs leave the last profile as it is.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (session is NULL, enable not 0 or 1).
 *  Thread safety: one thread at a time per session. Since 0.1. */
IGQ_API igq_status igq_session_set_profiling(igq_session *session, int32_t enable);

/** Summary of the profile of the session's last profiled run.
 *  @param n_layers  out: entries for igq_session_profile_layer() (may be NULL).
 *  @param images    out: images of that run (may be NULL).
 *  @param seconds   out: the run's wall time (may be NULL).
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (session is NULL); IGQ_ERR_NOT_FOUND (no run has
 *          been profiled yet; outputs are set to 0).
 *  Thread safety: one thread at a time per session. Since 0.1. */
IGQ_API igq_status igq_session_profile(const igq_session *session, int64_t *n_layers,
                                       int64_t *images, double *seconds);

/** One layer of the last profiled run, in execution order. Every output may be NULL.
 *  @param index    0 .. n_layers - 1.
 *  @param name     out: the layer's name, in timm's terms whatever the checkpoint's naming
 *                  ("patch_embed", "blocks.3.norm1", "blocks.3.attn.qkv.quantize",
 *                  "blocks.3.attn.qkv", "blocks.3.attn", "blocks.3.mlp.gelu", "head"; the
 *                  full list per executor is in doc/profiling.md); valid until the session's
 *                  next profiled run or its free.
 *  @param kind     out: igq_layer_kind.
 *  @param shape    out, 3 values: a GEMM's {M, N, K} (M rows = tokens of one image, or of the
 *                  images the fp32 executor runs in one step); other layers {rows, columns, 0};
 *                  attention {tokens, tokens, head dim} per head.
 *  @param calls    out: how often the layer ran (once per image for the integer executor,
 *                  once per step of several images for the others).
 *  @param ops      out: operations over all calls: 2 per multiply-add of a GEMM; for other
 *                  layers an estimate per element (LayerNorm 8, softmax 6, GELU 10, quantize
 *                  4, residual 2), documented in doc/profiling.md.
 *  @param bytes    out: bytes the layer must move at least over all calls: its inputs and
 *                  outputs at the executor's data types, and its weights once per call.
 *  @param seconds  out: time over all calls, measured by the thread that drives each image
 *                  (or step): with one image at a time this is the layer's wall time; when a
 *                  batch is split by images over n threads, concurrent images add up (up to
 *                  n times the wall time).
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (session is NULL); IGQ_ERR_NOT_FOUND (no
 *          profiled run yet); IGQ_ERR_OUT_OF_RANGE (index outside 0 .. n_layers - 1).
 *  Thread safety: one thread at a time per session. Since 0.1. */
IGQ_API igq_status igq_session_profile_layer(const igq_session *session, int64_t index,
                                             const char **name, igq_layer_kind *kind,
                                             int64_t *shape, int64_t *calls, double *ops,
                                             double *bytes, double *seconds);

/** The machine limits a roofline needs, measured on the calling thread: the peak of the
 *  instructions the active ISA level's integer GEMMs use (int8 multiply-adds: vpdpbusd at
 *  avx512vnni and avxvnni, vpmaddwd + vpaddd at avx2, plain C at scalar), in GOP/s; the
 *  fp32 FMA peak of the level's vector width (scalar: multiply and add in C) in GFLOP/s; and the memory read bandwidth in GB/s
 *  (streaming over a buffer larger than the caches). One thread: multiply by the threads a run
 *  uses for its compute roof (memory bandwidth does not scale that way). Allocates 256 MiB
 *  for the bandwidth measurement while it runs.
 *  @param seconds     time to spend, 0.05 .. 10 (longer is steadier on a shared host).
 *  @param int8_gops, f32_gflops, mem_gbps  out (each may be NULL).
 *  @return IGQ_OK; IGQ_ERR_OUT_OF_RANGE (seconds); IGQ_ERR_NO_MEMORY.
 *  Thread safety: any thread (concurrent measurements disturb each other). Since 0.1. */
IGQ_API igq_status igq_measure_machine(double seconds, double *int8_gops, double *f32_gflops,
                                       double *mem_gbps);

/* ---- Quantization ------------------------------------------------------------------------ */

/** Quantization options (a key/value configuration, zstd style). */
typedef struct igq_config igq_config;

/** Option keys for igq_config_set(). Values are frozen; new options are appended.
 *  Bounds of each: igq_option_bounds(), a range all of whose values are accepted. ATTN_BITS and
 *  MIXED_PRECISION_BUDGET also accept 0, their default, which lies below that range and means
 *  "unset" (same as ACT_BITS / off). */
typedef enum igq_option {
    IGQ_OPT_WEIGHT_BITS            = 0,  /**< 2..8, default 8: linear-layer weights */
    IGQ_OPT_ACT_BITS               = 1,  /**< 2..8, default 8: activations (inputs of every
                                              linear layer, Q, K, V) */
    IGQ_OPT_ATTN_BITS              = 2,  /**< 2..8, or 0 (default) = same as ACT_BITS:
                                              softmax output */
    IGQ_OPT_EDGE_BITS              = 3,  /**< 2..8, default 8: patch embedding and head
                                              (weights and inputs) */
    IGQ_OPT_ACT_GRANULARITY        = 4,  /**< igq_granularity, default IGQ_GRANULARITY_GROUP */
    IGQ_OPT_GROUPS                 = 5,  /**< 1..64, default 8: G, quantizers per IGQ site */
    IGQ_OPT_GROUP_BUDGET           = 6,  /**< 0..64, default 0 (off); Ḡ > 0: choose G per site
                                              so the total BOPs equal Ḡ groups everywhere.
                                              Cost: one forward of the calibration images per
                                              (site, candidate G) evaluated (5 sites per block,
                                              up to 14 candidates): seconds on small models,
                                              about 26 minutes on ViT-B/16 with 8 images; a
                                              fixed G (IGQ_OPT_GROUPS) costs none of it */
    IGQ_OPT_CALIBRATOR             = 7,  /**< igq_calibrator for per-tensor activation sites
                                              (Q, K, V, edges, TENSOR granularity); default
                                              MINMAX */
    IGQ_OPT_WEIGHT_CALIBRATOR      = 8,  /**< igq_calibrator for the per-output-channel weight
                                              ranges; default MINMAX */
    IGQ_OPT_SEED                   = 9,  /**< >= 0, default 0: seeds the reservoir sampling
                                              of activation values that the per-tensor
                                              calibrators see (it matters once a site yields
                                              more than 2^18 values over the calibration
                                              images); the k-means group calibration is
                                              deterministic and does not depend on it. The
                                              caller chooses the calibration images */
    IGQ_OPT_EXECUTOR               = 10, /**< igq_executor, default IGQ_EXECUTOR_INT */
    IGQ_OPT_ATTN_RANKING           = 11, /**< 0/1, default 0: VT-PTQ ranking-aware calibration
                                              of the Q and K quantizers */
    IGQ_OPT_MIXED_PRECISION_BUDGET = 12, /**< 200..800, or 0 (default) = off: VT-PTQ
                                              nuclear-norm bit allocation per layer; value =
                                              average weight bits x 100 the layers may use */
    IGQ_OPT_GROUP_ASSIGNMENT       = 13, /**< igq_group_assignment_rule, default COVER */
    IGQ_OPT_WEIGHT_ROUNDING        = 14, /**< igq_weight_rounding, default NEAREST. Since 0.1 */
    IGQ_OPT_FORCE32                = 0x7fffffff
} igq_option;

/** Activation quantizer granularity (IGQ_OPT_ACT_GRANULARITY). */
typedef enum igq_granularity {
    IGQ_GRANULARITY_TENSOR  = 0, /**< one static quantizer per site */
    IGQ_GRANULARITY_GROUP   = 1, /**< IGQ: G static quantizers; each image's channels (softmax:
                                      rows) are assigned to them by their own range */
    IGQ_GRANULARITY_CHANNEL = 2, /**< upper bound: every channel (softmax: row) of every image
                                      quantized with its own range */
    IGQ_GRANULARITY_INVALID = -1, /**< returned by igq_quantizer_granularity(NULL); never a
                                       valid option value */
    IGQ_GRANULARITY_FORCE32 = 0x7fffffff
} igq_granularity;

/** Range calibrators. */
typedef enum igq_calibrator {
    IGQ_CALIBRATOR_MINMAX     = 0, /**< observed min and max */
    IGQ_CALIBRATOR_PERCENTILE = 1, /**< 0.01th / 99.99th percentiles */
    IGQ_CALIBRATOR_MSE        = 2, /**< range with the least squared quantization error */
    IGQ_CALIBRATOR_KL         = 3, /**< TensorRT-style histogram entropy (KL) threshold */
    IGQ_CALIBRATOR_FORCE32    = 0x7fffffff
} igq_calibrator;

/** Executors of a quantized model. */
typedef enum igq_executor {
    IGQ_EXECUTOR_INT     = 0, /**< integer kernels: int8/int4 GEMMs with int32 accumulators for
                                   every linear layer and both attention matmuls, integer
                                   softmax, LayerNorm and GELU; weights packed once at
                                   quantization (the fp32 weights are then released). Needs
                                   group or tensor activation quantizers (not per-channel) */
    IGQ_EXECUTOR_SIM     = 1, /**< fp32 arithmetic with quantize-dequantize at every site (the
                                   reference the integer executor is measured against) */
    IGQ_EXECUTOR_FORCE32 = 0x7fffffff
} igq_executor;

/** How an image's channel (or row) is matched to one of the G group quantizers. */
typedef enum igq_group_assignment_rule {
    IGQ_ASSIGN_COVER   = 0, /**< the narrowest group whose cover bounds contain the channel's
                                 [min, max]; if none does, the one clipping least beyond them.
                                 Cover bounds of a group with scale s, zero point z and codes
                                 0..2^b-1: [s (-z - 1/2), s (2^b - 1 - z + 1/2)], the values
                                 quantized with at most half a step of error */
    IGQ_ASSIGN_NEAREST = 1, /**< the nearest group (lo, hi) in squared Euclidean distance to the
                                 channel's (min, max), clipping what falls outside */
    IGQ_ASSIGN_FORCE32 = 0x7fffffff
} igq_group_assignment_rule;

/** How weights are rounded onto their per-output-channel grids (IGQ_OPT_WEIGHT_ROUNDING). The
 *  grids themselves (scale per output channel from IGQ_OPT_WEIGHT_CALIBRATOR, computed on the
 *  fp32 weights) are the same either way; only the choice of grid point per weight differs.
 *  Since 0.1. */
typedef enum igq_weight_rounding {
    IGQ_ROUNDING_NEAREST = 0, /**< each weight to its nearest grid point (round half to even) */
    IGQ_ROUNDING_GPTQ    = 1, /**< GPTQ (Frantar et al., 2023): per linear layer (patch
                                   embedding, qkv, proj, fc1, fc2 of every block, heads), in
                                   the order the forward meets them, the second moment H = XᵀX
                                   of the layer's inputs on the calibration images as the
                                   quantized model computes them (earlier layers already
                                   rounded, every activation fake-quantized by its calibrated
                                   quantizer, as the simulated executor does; the integer
                                   executor differs from it by rounding only) is damped by 1 %
                                   of its mean diagonal, and the input channels are rounded in
                                   order, each one's error compensated on the channels not yet
                                   rounded through the Cholesky factor of H⁻¹: a greedy
                                   minimization of ‖XW − XŴ‖². An input channel that is zero
                                   on every calibration image is rounded to nearest. If H
                                   cannot be factored even with 10, 100 and 1000 times the
                                   damping, the layer is rounded to nearest and the progress
                                   callback is told (stage "weights: GPTQ fell back to
                                   nearest"). Works with every option above (bits, granularity,
                                   groups, executor, mixed precision). Same bits at every ISA
                                   level, thread count and compiler.
                                   Cost, besides calibration: about 1.3 fp32 forwards of the
                                   calibration images (each layer's pass starts from cached
                                   views of its block), K²·tokens·images flops for H and K³/3
                                   for its factor per layer (K = the layer's inputs); ViT-B/16
                                   with 32 images: README. Memory: three images x tokens x dim
                                   float views, plus K x K doubles and about K x (outputs +
                                   400) floats for the layer being rounded, freed after it */
    IGQ_ROUNDING_FORCE32 = 0x7fffffff
} igq_weight_rounding;

/** Progress callback of igq_quantize_model: a stage name and the fraction of that stage done,
 *  in (0, 1] (0 only for a stage's opening call). Within a stage every call reports a larger
 *  fraction than the one before, and the stage's last call reports 1. The stages, in order:
 *   - "observe": the fp32 pass over the calibration images (0, then once per batch of images);
 *   - "calibrate": activation quantizers (0 at the start, 1 at the end);
 *   - "allocate": only with IGQ_OPT_GROUP_BUDGET > 0 and group granularity, between the two
 *     "calibrate" calls: once per (site, group-count candidate) evaluated;
 *   - "ranking": only with IGQ_OPT_ATTN_RANKING = 1: once per block;
 *   - "mixed precision": only with IGQ_OPT_MIXED_PRECISION_BUDGET > 0: once per linear layer;
 *   - "weights": once per weight site (four per block, then the patch embedding and the heads;
 *     with IGQ_ROUNDING_GPTQ in forward order: the patch embedding, four per block, the heads);
 *     with IGQ_ROUNDING_GPTQ a layer rounded to nearest because its GPTQ factorization failed
 *     is announced by a call with the stage "weights: GPTQ fell back to nearest" (at the
 *     fraction its "weights" call will report) before that call;
 *   - "done": once, with 1, when the quantizers are complete (for IGQ_EXECUTOR_INT the
 *     integer weights are packed after it).
 *  Return non-zero to cancel (IGQ_ERR_CANCELLED). Called on the thread that runs
 *  igq_quantize_model. */
typedef int (*igq_progress_fn)(void *user, const char *stage, double fraction);

/** Create a configuration holding the defaults (W8A8, IGQ with G = 8, min/max calibration).
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL); IGQ_ERR_NO_MEMORY.
 *  Thread safety: any thread. */
IGQ_API igq_status igq_config_create(igq_config **out);

/** Free a configuration. NULL is a no-op. */
IGQ_API void igq_config_free(igq_config *config);

/** Set an option. Nothing is clamped.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL config, unknown option);
 *          IGQ_ERR_OUT_OF_RANGE (value outside igq_option_bounds() and not the 0 that
 *          ATTN_BITS and MIXED_PRECISION_BUDGET also accept).
 *  Thread safety: one thread at a time per config. */
IGQ_API igq_status igq_config_set(igq_config *config, igq_option option, int64_t value);

/** Read an option's current value.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL, unknown option).
 *  Thread safety: one thread at a time per config. */
IGQ_API igq_status igq_config_get(const igq_config *config, igq_option option, int64_t *value);

/** The inclusive range [min_value, max_value] of an option: igq_config_set accepts every value
 *  in it and refuses min_value - 1 and max_value + 1. The only other accepted value is the 0
 *  ("unset") of ATTN_BITS and MIXED_PRECISION_BUDGET, below their range.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL, unknown option). Thread safety: any thread. */
IGQ_API igq_status igq_option_bounds(igq_option option, int64_t *min_value, int64_t *max_value);

/** The quantization configuration a quantized model was made with (also for a model read
 *  back from a `.igq` file): a new config holding the option values igq_quantize_model used,
 *  with no progress callback. The caller frees it with igq_config_free.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL); IGQ_ERR_NOT_FOUND (an fp32 model);
 *          IGQ_ERR_NO_MEMORY.
 *  Thread safety: shared read-only. Since 0.1. */
IGQ_API igq_status igq_model_config(const igq_model *model, igq_config **out);

/** Install a progress callback (NULL to remove). user is passed through untouched.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL config). */
IGQ_API igq_status igq_config_set_progress(igq_config *config, igq_progress_fn fn, void *user);

/** Post-training quantization of an fp32 model.
 *  Runs the fp32 model on the calibration images while observing every quantization site,
 *  calibrates the weight and activation quantizers (IGQ group quantizers by default), chooses
 *  the number of groups per site under the BOP budget if IGQ_OPT_GROUP_BUDGET > 0, and
 *  returns a new model. The result is deterministic for a given model, images and config.
 *  @param fp32_model    a loaded fp32 model; borrowed, not modified.
 *  @param calib_images  f32 [N, C, H, W], N >= 1 (32 is typical), normalized as for igq_run;
 *                       every value finite (a NaN or infinite one: IGQ_ERR_INVALID_ARGUMENT
 *                       naming the image and position).
 *  @param config        options, or NULL for the defaults; borrowed.
 *  @param out_quantized receives the quantized model (NULL on failure); run it with igq_run.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL, fp32_model already quantized);
 *          IGQ_ERR_SHAPE (image shape); IGQ_ERR_UNSUPPORTED (IGQ_EXECUTOR_INT with
 *          per-channel activation quantizers); IGQ_ERR_OUT_OF_RANGE (a MIXED_PRECISION_BUDGET below what layers at
 *          WEIGHT_BITS - 1 need: candidates are WEIGHT_BITS - 1 .. WEIGHT_BITS + 1 within 2..8);
 *          IGQ_ERR_CANCELLED (the progress callback asked to stop); IGQ_ERR_NO_MEMORY.
 *  Thread safety: any thread; the fp32 model may be used by other threads meanwhile. */
IGQ_API igq_status igq_quantize_model(const igq_model *fp32_model, const igq_tensor *calib_images,
                                      const igq_config *config, igq_model **out_quantized);

/** 1 if the model is quantized, 0 if it is fp32; -1 if model is NULL (compare with 1: -1 is
 *  true in a condition).
 *  Thread safety: shared read-only. */
IGQ_API int32_t igq_model_is_quantized(const igq_model *model);

/** Quantization sites. Block sites take block 0..depth-1; PATCH_* and HEAD_* take block -1. */
typedef enum igq_site {
    IGQ_SITE_QKV_IN          = 0,  /**< LN1 output, input of qkv */
    IGQ_SITE_Q               = 1,  /**< queries, input of Q·Kᵀ */
    IGQ_SITE_K               = 2,  /**< keys, input of Q·Kᵀ */
    IGQ_SITE_ATTN            = 3,  /**< softmax output (rows = query tokens of every head) */
    IGQ_SITE_V               = 4,  /**< values, input of P·V */
    IGQ_SITE_PROJ_IN         = 5,  /**< attention output, input of proj */
    IGQ_SITE_FC1_IN          = 6,  /**< LN2 output, input of fc1 */
    IGQ_SITE_FC2_IN          = 7,  /**< GELU output, input of fc2 */
    IGQ_SITE_PATCH_IN        = 8,  /**< image patches, input of the patch embedding */
    IGQ_SITE_HEAD_IN         = 9,  /**< classifier input */
    IGQ_SITE_QKV_WEIGHT      = 10,
    IGQ_SITE_PROJ_WEIGHT     = 11,
    IGQ_SITE_FC1_WEIGHT      = 12,
    IGQ_SITE_FC2_WEIGHT      = 13,
    IGQ_SITE_PATCH_WEIGHT    = 14,
    IGQ_SITE_HEAD_WEIGHT     = 15,
    IGQ_SITE_HEAD_DIST_WEIGHT = 16,
    IGQ_SITE_FORCE32         = 0x7fffffff
} igq_site;

/** A quantizer of a quantized model (a view owned by the model, valid while it lives). */
typedef struct igq_quantizer igq_quantizer;

/** The quantizer of one site.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL, unknown site, block out of range);
 *          IGQ_ERR_BAD_STATE (fp32 model); IGQ_ERR_NOT_FOUND (the site is not quantized, e.g.
 *          the distillation head of a model without one).
 *  Thread safety: shared read-only. */
IGQ_API igq_status igq_model_quantizer(const igq_model *model, int32_t block, igq_site site,
                                       const igq_quantizer **out);

/** Bit width of a quantizer; -1 if q is NULL. Thread safety: shared read-only. */
IGQ_API int32_t igq_quantizer_bits(const igq_quantizer *q);
/** igq_granularity of an activation quantizer; IGQ_GRANULARITY_CHANNEL for weights (one per
 *  output channel); IGQ_GRANULARITY_INVALID if q is NULL. Thread safety: shared read-only. */
IGQ_API igq_granularity igq_quantizer_granularity(const igq_quantizer *q);
/** Number of static quantizers: 1 (tensor), G (groups; the allocated count under a budget),
 *  output channels (weights), 0 (per-channel upper bound, all dynamic); -1 if q is NULL.
 *  Thread safety: shared read-only. */
IGQ_API int32_t igq_quantizer_num_groups(const igq_quantizer *q);
/** Copy scales, zero points and calibrated ranges [lo, hi] of the static quantizers (any
 *  pointer may be NULL). Dequantization: x = scale * (q - zero_point), q in [qmin, qmax]:
 *  activations q in [0, 2^bits - 1]; weights symmetric with zero point 0.
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL q); IGQ_ERR_BUFFER_TOO_SMALL (capacity
 *          below igq_quantizer_num_groups()). */
IGQ_API igq_status igq_quantizer_params(const igq_quantizer *q, float *scales, int32_t *zero_points,
                                        float *lo, float *hi, int32_t capacity);

/** A group assignment: which group quantizer each channel (or softmax row) of one image used
 *  at one site. Owned by the caller; free with igq_groups_free(). */
typedef struct igq_groups igq_groups;

/** Run a quantized model (with its executor) on one image and record the group assignment
 *  at (block, site). site must be an activation site with group granularity.
 *  @param image  f32 [1, C, H, W], normalized (as for igq_run).
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL, bad block/site); IGQ_ERR_BAD_STATE (fp32
 *          model, or a site that is not group-quantized); IGQ_ERR_SHAPE; IGQ_ERR_NO_MEMORY.
 *  Thread safety: shared read-only model. */
IGQ_API igq_status igq_groups_compute(const igq_model *model, const igq_tensor *image,
                                      int32_t block, igq_site site, igq_groups **out);
/** Free an assignment. NULL is a no-op. */
IGQ_API void igq_groups_free(igq_groups *groups);
/** Channels (or heads x rows for IGQ_SITE_ATTN, head-major) that were assigned; -1 if
 *  groups is NULL. Thread safety: any thread. */
IGQ_API int64_t igq_groups_count(const igq_groups *groups);
/** Number of groups available at the site; -1 if groups is NULL. Thread safety: any thread. */
IGQ_API int32_t igq_groups_num_groups(const igq_groups *groups);
/** Copy the group of every channel / row (count values).
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL); IGQ_ERR_BUFFER_TOO_SMALL. */
IGQ_API igq_status igq_groups_assignment(const igq_groups *groups, int32_t *group_of,
                                         int64_t capacity);
/** Copy the number of members of each group (num_groups values).
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL); IGQ_ERR_BUFFER_TOO_SMALL. */
IGQ_API igq_status igq_groups_sizes(const igq_groups *groups, int64_t *sizes, int32_t capacity);

/* ---- Images ------------------------------------------------------------------------------ */

/** Decode an image file held in memory: PNG, binary PPM/PGM (P5/P6, maxval 255), or
 *  uncompressed BMP. The decoders are the library's own (its own inflate; no zlib).
 *  - PNG: every color type and bit depth (1/2/4/8/16), interlaced (Adam7) or not, the five
 *    filters; chunk CRCs and the zlib Adler-32 are checked; ancillary chunks are skipped and
 *    unknown critical chunks refused. Gray gives 1 channel, RGB and palette 3, gray+alpha,
 *    RGBA and any image with a tRNS chunk 4 (RGBA). Gray of 1/2/4 bits is scaled to 0..255;
 *    16-bit samples are reduced to their high byte. Color management chunks (gAMA, iCCP) are
 *    ignored.
 *  - PGM (P5) gives 1 channel, PPM (P6) 3; '#' comments are allowed in the header.
 *  - BMP: BITMAPINFOHEADER and its V2-V5 extensions, bottom-up or top-down, 24-bit and 32-bit
 *    (BI_RGB: the fourth byte is ignored, 3 channels; BI_BITFIELDS with whole-byte masks, 4
 *    channels when there is an alpha mask) and 8-bit palettized (1 channel when every
 *    palette entry is gray, else 3).
 *  Limits: width and height 1..65535 and width * height <= 2^28 pixels. Every count and offset
 *  is checked against the bytes present before anything is allocated, and PNG data are never
 *  inflated beyond the size the header implies.
 *  @param data      the file's bytes (borrowed; only [data, data + size) is read).
 *  @param pixels    out: a new buffer of width * height * channels bytes, rows top to bottom,
 *                   channels interleaved (RGB(A) order), row stride width * channels; owned by
 *                   the caller, free with igq_image_free(). NULL on failure.
 *  @param width, height, channels  out: the image size; channels is 1, 3 or 4 (0 on failure).
 *  @return IGQ_OK; IGQ_ERR_INVALID_ARGUMENT (NULL out-pointer, NULL data with size > 0);
 *          IGQ_ERR_FORMAT (malformed or truncated file, unknown format; the message names the
 *          format and the fault, e.g. "PNG: chunk 'IDAT' CRC mismatch"); IGQ_ERR_UNSUPPORTED
 *          (a valid file using what is not supported: JPEG, PPM maxval other than 255, BMP
 *          RLE, an image beyond the limits, an unknown critical PNG chunk); IGQ_ERR_NO_MEMORY.
 *  Thread safety: any thread. Since 0.1. */
IGQ_API igq_status igq_image_decode(const void *data, size_t size, uint8_t **pixels,
                                    int32_t *width, int32_t *height, int32_t *channels);

/** Read and decode an image file (same formats, limits and results as igq_image_decode()).
 *  @param path  a regular file.
 *  @return as igq_image_decode() (FORMAT/UNSUPPORTED messages prefixed with the path);
 *          IGQ_ERR_IO (cannot open or read, not a regular file).
 *  Thread safety: any thread. Since 0.1. */
IGQ_API igq_status igq_image_load(const char *path, uint8_t **pixels, int32_t *width,
                                  int32_t *height, int32_t *channels);

/** Free pixels returned by igq_image_decode() / igq_image_load(). NULL is a no-op.
 *  Thread safety: any thread (not concurrently on the same buffer). Since 0.1. */
IGQ_API void igq_image_free(uint8_t *pixels);

#ifdef __cplusplus
}
#endif

#endif /* IGQ_IGQ_H */
