/* The integer executor's internals, shared by its files and by nothing else (qexec.h is its
 * interface). Private header.
 *
 *   qexec_build.c      the prepared model: packed weights, site parameters, LayerNorm tables
 *   qexec_codes.c      quantization into codes: per-image group assignment, permutation, gather
 *   qexec_linear.c     grouped linear layers on codes, with the zero-point correction
 *   qexec_attention.c  one block's attention: Q K^T, integer softmax, row groups, P V
 *   forward_int.c      per-thread scratch, LayerNorm input, the per-image forward
 *
 * Sites and their sources (quantizers from lib/ptq; arithmetic choices documented here):
 *   PATCH_IN  f32 patches               -> codes (per tensor, edge bits)
 *   QKV_IN    integer LN1 output int32  -> codes (per-image channel groups)
 *   Q, K, V   f32 epilogue of qkv       -> codes (per tensor)
 *   ATTN      integer softmax, p 2^-20  -> codes (per-image row groups), per head
 *   PROJ_IN   f32 epilogue of P V       -> codes (per-image channel groups)
 *   FC1_IN    integer LN2 output int32  -> codes (per-image channel groups)
 *   FC2_IN    integer GELU output 2^-20 -> codes (per-image channel groups)
 *   HEAD_IN   integer final LN output   -> codes (per tensor, edge bits)
 * Codes are unsigned (0 .. 2^b - 1) with the quantizer's zero point. A site quantized from
 * f32 uses the simulated executor's arithmetic (x / s, clamp, round half to even, + z); from
 * int32 at a fixed scale S it uses the dyadic requantization of S / s (round half up): the two
 * differ only at exact ties. */
#ifndef IGQ_MODEL_QEXEC_IMPL_H
#define IGQ_MODEL_QEXEC_IMPL_H

#include <time.h>

#include "../kernels/dispatch.h"
#include "qexec.h"

/* LayerNorm input: rows converted to |x_int| < 2^IGQ__LN_IN_BITS (igq__rne needs < 2^22). */
#define IGQ__LN_IN_BITS 22
/* ln_eps_tab[j + IGQ__LN_TAB_OFF] = round(C^2 eps 4^j) (saturated at 2^61) for
 * j = IGQ__LN_IN_BITS - e - k, e in [-149, 128] (frexpf exponents of finite non-zero floats,
 * plus 0), k in [0, 32]. */
#define IGQ__LN_TAB_OFF 162
#define IGQ__LN_TAB_N (IGQ__LN_TAB_OFF + IGQ__LN_IN_BITS + 150)

/* Rows quantized into the row buffer per call of the byte permutation (qexec_codes.c). */
#define IGQ__QROWS 4

/* ---- the prepared model (qexec_build.c) ------------------------------------------------- */

typedef struct igq_qlin {
    int32_t        in, out, qs4; /* qs4: int4 weights (bits <= 4) */
    const void    *packed;      /* qs8_layout.h; owned, or in a loaded .igq file's mapping */
    const int32_t *rowsum;      /* [out] sum over k of w[k][d]; as packed */
    float       *t;           /* [out] weight scales */
    const float *b;           /* [out] bias (the model's) */
} igq_qlin;

typedef struct igq_qsite {
    const struct igq_quantizer *z;
    int32_t                     G;          /* 1 for a per-tensor quantizer */
    int32_t                     qmin, qmax;
    float                      *s;          /* [G] scales */
    int32_t                    *zp;         /* [G] zero points */
    double                      src_scale;  /* int32 source scale (0: f32 source) */
    int32_t                    *mult, *shift; /* [G] src_scale / s_g, dyadic (softmax rows) */
    float                      *muli;         /* [G] src_scale / s_g as a float multiplier */
} igq_qsite;

typedef struct igq_qblk {
    igq_qlin           qkv, proj, fc1, fc2;
    igq_ln_params      ln1, ln2;
    igq_softmax_params smx;
    igq_qsite          in_qkv, q, k, v, attn, in_proj, in_fc1, in_fc2;
} igq_qblk;

struct igq_qexec {
    igq_qblk       *blk;
    int32_t         depth;
    igq_qlin        patch, head, head_dist;
    igq_qsite       patch_in, head_in;
    igq_ln_params   norm, fc_norm;
    int             has_norm, has_fc_norm;
    igq_gelu_params gelu;
    int64_t         ln_eps_tab[IGQ__LN_TAB_N];
    int32_t         gmax;   /* most groups of any site (sizes the per-group scratch) */
    size_t          bytes;
    void          **owned;
    int             n_owned, cap_owned;
};

/* ---- one image's state (forward_int.c) -------------------------------------------------- */

/* The threads that share one image (forward_int.c); NULL in a context: the thread is alone. */
typedef struct igq_iteam igq_iteam;

/* The context of one image on one thread: the model, the thread's scratch (laid out by
 * forward_int.c) and the group state of the codes last quantized into cg. When several threads
 * share an image (intra-op parallelism, batch smaller than the pool), each has its own context:
 * the image's buffers (residual, activations, codes, group state) are those of thread 0, the
 * per-task scratch (LayerNorm row, gather row, GEMM workspace, one head's attention buffers,
 * patch) its own. */
typedef struct igq_ictx {
    const struct igq_model *m;
    const igq_qexec        *x;
    const igq_vit_dims     *d;
    const igq_kernel_table *kt;
    int                     prof;    /* time the stages (image 0 of a profiled run) */
    igq_prof               *lp;      /* layer recorder of a profiled run (the image's driver) */
    int                     feat;    /* the image's output is its pooled embedding, not logits */
    float   *xr, *yf, *of, *cinv, *clo, *chi, *corr, *mn, *mx, *patches, *pooledf, *logit2;
    int32_t *xi, *acc, *lg, *p20, *oi, *rs, *rowg, *rsp, *assign, *perm, *off, *imn,
        *imx, *czero, *sg, *pooled;
    uint8_t *cg, *qc, *pc, *rowbuf;
    void    *pk, *ws;
    void    *pplan; /* byte-permutation plan of the current channel order (kernels.h u8_perm) */
    /* capture of one site's group assignment (igq_groups_compute), or cap_assign == NULL */
    int32_t  cap_block, cap_site, cur_block;
    int32_t *cap_assign;
    /* group state of the codes in cg: G groups, channel order gperm (NULL: identity), group g
     * is positions off[g] .. off[g + 1] */
    int32_t        G;
    const int32_t *gperm;
    igq_iteam     *team;
} igq_ictx;

/* ---- parallel stages (forward_int.c) ------------------------------------------------------ */

/* Task t of n of a stage, run on the context c of the thread that took it. */
typedef void (*igq__itask_fn)(igq_ictx *c, void *arg, int64_t t, int64_t n);

/* Runs fn(c_thread, arg, t, n_tasks) for t = 0..n_tasks-1 on the threads of c's image (inline
 * on c, in order, when c is alone) and returns when all are done. Called by the thread that
 * drives the image (context 0), never from a task. Each output element of a stage is computed
 * by the same operations whichever thread takes its task, so results do not depend on the
 * thread count. */
void igq__ipar(igq_ictx *c, int64_t n_tasks, igq__itask_fn fn, void *arg);

/* Threads working on c's image: 1 when alone. */
int32_t igq__ithreads(const igq_ictx *c);

/* Chunk t of n of [0, count), cut at multiples of unit: [*lo, *hi). */
static inline void igq__ichunk(int64_t count, int64_t t, int64_t n, int64_t unit, int64_t *lo,
                               int64_t *hi)
{
    const int64_t units = (count + unit - 1) / unit;
    *lo                 = units * t / n * unit;
    *hi                 = units * (t + 1) / n * unit;
    if (*hi > count) *hi = count;
    if (*lo > count) *lo = count;
}

/* ---- stage timing (testing build only, igq__int_prof) ----------------------------------- */

#ifdef IGQ_TESTING
static inline double igq__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#define IGQ__PROF_BEGIN(c) double prof_t0_ = (c)->prof ? igq__now_ns() : 0.0
#define IGQ__PROF_END(c, k)                                                  \
    do {                                                                     \
        if ((c)->prof) igq__int_prof[k] += igq__now_ns() - prof_t0_;         \
    } while (0)
#define IGQ__PROF_ON(image) (igq__int_prof != NULL && (image) == 0)
#else
#define IGQ__PROF_BEGIN(c) (void)(c)
#define IGQ__PROF_END(c, k) (void)(k)
#define IGQ__PROF_ON(image) 0
#endif

/* ---- codes (qexec_codes.c) --------------------------------------------------------------- */

/* Group of a channel (or row) with range [m, M] at site z with G groups. */
int igq__qexec_group(const struct igq_quantizer *z, int G, float m, float M);

/* Codes of int32 values a [rows][C] at the site's source scale into c->cg (group order), and
 * the group state (c->G, c->gperm, c->off). */
void igq__qexec_quant_i32(igq_ictx *c, const igq_qsite *qs, const int32_t *a, int64_t rows,
                          int64_t C);

/* Codes of f32 values x [rows][C] (row stride ld) into out (row stride ldo; group order) with
 * the simulated executor's arithmetic; sets the group state. */
void igq__qexec_quant_f32(igq_ictx *c, const igq_qsite *qs, const float *x, int64_t rows,
                          int64_t C, int64_t ld, uint8_t *out, int64_t ldo);

/* Codes of the np patches of image img (cpp values each, extracted one at a time into the
 * thread's scratch) at the per-tensor site qs into out [np][cpp]; sets the group state. */
void igq__qexec_quant_patches(igq_ictx *c, const igq_qsite *qs, const float *img, int64_t np,
                              int64_t cpp, uint8_t *out);

/* Records the assignment of the channel site just quantized when it is the captured one. */
void igq__qexec_capture(igq_ictx *c, int32_t block, int32_t site, int64_t C);

/* ---- layers (qexec_linear.c, qexec_attention.c) ------------------------------------------ */

/* y [rows][out] = the layer on codes A [rows][in] in c's group state, quantized at site qs. */
void igq__qexec_linear(igq_ictx *c, const igq_qlin *L, const igq_qsite *qs, const uint8_t *A,
                       int64_t rows, float *y);

/* Attention of block xb on the Q, K, V codes in c->qc [T][3D]: output f32 into c->of [T][D]. */
void igq__qexec_attention(igq_ictx *c, const igq_qblk *xb);

#endif
