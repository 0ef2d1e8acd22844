/* The integer executor (IGQ_EXECUTOR_INT): a quantized model's weights packed for the integer
 * GEMMs, the integer non-linear kernels' parameters, and the forward that runs on them.
 * Private header.
 *
 * Data flow of one block, per image (qexec_impl.h lists the files and the sites' arithmetic):
 *   residual x (fp32) -> int32 at a per-row power-of-two scale -> integer LayerNorm -> int32
 *   -> per-image group assignment of the channels -> codes in group order
 *   -> grouped int GEMM (u8 x s8/s4 -> s32 per group k-slice) -> f32 epilogue
 *      y = t_d (sum_g s_g acc_g - sum_g s_g z_g S_g[d]) + b_d
 *   -> Q, K, V codes -> Q K^T int GEMM -> integer softmax (p at 2^-20) -> per-row group codes
 *   -> P V int GEMM -> per-row f32 epilogue -> group codes -> proj -> x += y
 *   -> integer LayerNorm -> group codes -> fc1 -> Q20 int32 -> integer GELU (2^-20)
 *   -> group codes -> fc2 -> x += y.
 * Every matmul runs on int8/int4 operands with int32 accumulators; softmax, LayerNorm and GELU
 * are the integer kernels of lib/kernels/nonlin.h. Float arithmetic remains in the GEMM
 * epilogues (combining the per-group partial sums with the groups' float scales, as the
 * documented f32 epilogue of ALGORITHMS.md 1.8), in the residual stream, and where a site is
 * quantized from such a float (the same arithmetic as the simulated executor's quantizer). */
#ifndef IGQ_MODEL_QEXEC_H
#define IGQ_MODEL_QEXEC_H

#include "../core/threadpool.h"
#include "../kernels/nonlin.h"
#include "profile.h"
#include "qmodel.h"

typedef struct igq_qexec igq_qexec;

/* Builds the integer executor of a quantized model (m->q set, quantizers complete, weights
 * stored fake-quantized), attaches it as m->q->x and frees the f32 weight matrices of the
 * linear layers, which its packed weights replace (the biases, embeddings and LayerNorm
 * parameters stay): after this only the integer executor can run m. Returns
 * IGQ_ERR_UNSUPPORTED (with a message) for configurations that have no integer form
 * (per-channel activation quantizers, weight bits > 8) and IGQ_ERR_NO_MEMORY; on failure m is
 * unchanged. */
igq_status igq__qexec_attach(struct igq_model *m);
void       igq__qexec_free(igq_qexec *x);

/* The linear layers of a model by index: block b's qkv, proj, fc1, fc2 at 4 b + 0 .. 3, then
 * the patch embedding, the head and the distillation head at 4 depth + 0 .. 2. */
#define IGQ__QLIN_PATCH(depth) (4 * (depth))
#define IGQ__QLIN_COUNT(depth) (4 * (depth) + 3)

/* Packed weights of one linear layer (qs8_layout.h, qs4 when the weight bits are <= 4) and
 * their per-column sums, as igq_model_save writes them. */
typedef struct igq_qlin_packed {
    const void    *packed;
    const int32_t *rowsum;
} igq_qlin_packed;

/* igq__qexec_attach for a model read from a file: the layers' weights are not re-quantized
 * from f32 (the model has none) but used in place from layers[IGQ__QLIN_COUNT(depth)] (entry
 * of a missing distillation head ignored), which must outlive the executor. Everything else
 * is derived as igq__qexec_attach derives it, so the executor is the one that was saved. */
igq_status igq__qexec_attach_packed(struct igq_model *m, const igq_qlin_packed *layers);

/* Layer i (index as above) of an executor, for the writer: packed weights, sums, sizes and
 * whether they are qs4. 0 if the layer does not exist. */
int igq__qexec_layer(const igq_qexec *x, int32_t i, igq_qlin_packed *w, int32_t *in,
                     int32_t *out, int32_t *qs4);

/* Bytes of the packed weights and parameters the executor owns. */
size_t igq__qexec_bytes(const igq_qexec *x);

/* Scratch bytes one thread of igq__forward_int needs (one image at a time). Depends on the
 * active ISA level (levels without the fused grouped GEMM need an int32 buffer for per-group
 * results): the level must not change between sizing and running, which only the test hook
 * igq__dispatch_force could do. */
size_t igq__forward_int_scratch(const struct igq_model *m);

/* Logits of `batch` images [B][C][H][W] with the integer executor (feat = 1: their pooled
 * embeddings [B][D] instead, igq_run_features). scratch: threads x
 * igq__forward_int_scratch(m) bytes, 64-byte aligned, threads = igq__pool_size(pool). One task
 * per image, so logits are bit-identical for any thread count. Allocates nothing. prof: NULL,
 * or one layer recorder per thread (profile.h): the thread that drives an image records its
 * layers into prof[thread]. */
void igq__forward_int(const struct igq_model *m, const float *images, int64_t batch,
                      float *logits, int feat, void *scratch, igq__pool *pool, igq_prof *prof);

/* One image through the integer executor, recording the group of every channel (or, for
 * IGQ__SITE_ATTN, of every row of every head: assign[head * T + row]) at (block, site) into
 * assign. scratch: igq__forward_int_scratch(m) bytes, 64-byte aligned. */
void igq__forward_int_capture(const struct igq_model *m, const float *image, float *logits,
                              void *scratch, int32_t block, int32_t site, int32_t *assign);

/* Optional per-stage timing of igq__forward_int (bench only): when non-NULL, the executor
 * adds the nanoseconds of each stage of image 0 into prof[IGQ__PROF_*]. Not thread-safe;
 * set it only around single-threaded runs. */
enum {
    IGQ__PROF_ASSIGN = 0,  /* channel/row statistics, group assignment, permutation */
    IGQ__PROF_QUANT,       /* quantization / requantization into codes, gathers */
    IGQ__PROF_GEMM,        /* integer GEMMs of the linear layers */
    IGQ__PROF_EPILOGUE,    /* group folds, zero-point corrections, bias, residual */
    IGQ__PROF_ATTN_GEMM,   /* Q K^T and P V integer GEMMs (incl. packing K and V) */
    IGQ__PROF_SOFTMAX,
    IGQ__PROF_LAYERNORM,
    IGQ__PROF_GELU,
    IGQ__PROF_OTHER,       /* patch extraction, classifier */
    IGQ__PROF_N
};
#ifdef IGQ_TESTING
/* Bench hook (testing build only): when non-NULL, the first image of each igq_run adds its
 * stage times in ns to igq__int_prof[IGQ__PROF_*]. */
extern double *igq__int_prof;
#endif

#endif
