/* Integer-only non-linear kernels for the integer executor: dyadic requantization, softmax,
 * LayerNorm, GELU: their algorithms, parameter structs (made once per site by the
 * *_params_init functions from the float scales fixed at calibration time) and constants.
 * The kernels (kernels.h: igq__i32_{requant,softmax,ln_stats,ln_apply,gelu}__<isa>) are
 * declared with the other kernels in kernels.h; the scalar ones (lib/kernels/scalar/i32_*.c)
 * are the spec every SIMD level matches bit for bit. Private header; types and declarations
 * only (it is included from ISA files through kernels.h). Integer helpers shared by the scalar
 * and SIMD kernels are in nonlin_inl.h.
 *
 * Conventions: a real x is (q, S) with x ~ S q. Activation codes are unsigned b-bit
 * (0 <= q <= 2^b - 1, b <= 8) with an int32 zero point z: x ~ s (q - z) (quant.h).
 * "round" below is round half UP, floor(v + 1/2), everywhere in these kernels (one add and
 * one arithmetic shift); the float quantizers of quant.h round half to even. The two differ
 * only at exact ties. Outputs must not overlap inputs; n = 0 reads and writes nothing.
 * Thread safety of everything here: any thread (params are read-only after init). */
#ifndef IGQ_KERNELS_NONLIN_H
#define IGQ_KERNELS_NONLIN_H

#include "../core/compiler.h"

#include <stdint.h>

#include "igq/igq.h"

/* ---- Dyadic requantization ---------------------------------------------------------------
 * A positive real M is represented as M' = mult 2^-shift, mult a 31-bit integer:
 *   (frac, e) = frexp(M) (frac in [0.5, 1)), mult = round(frac 2^31) in [2^30, 2^31 - 1]
 *   (a frac that rounds to 2^31 becomes 2^30 with e + 1), shift = 31 - e,
 * |M' - M| <= 2^-(shift+1), i.e. relative error <= 2^-31. shift is kept in [0, 62]:
 *   M < 2^-32 (shift > 62): mult = 0, shift = 0 (then |x M| < 1/2 for every int32 x: the
 *   exact result 0); M >= 2^31 - 1/2 (frac 2^31 rounds to 2^31, shift < 0): mult = 2^31 - 1,
 *   shift = 0 (every x != 0 then saturates an int32 result as the exact M would, except
 *   x = -1 giving -2^31 + 1 instead of -2^31); M <= 0 or NaN: mult = shift = 0.
 * Requantization of an int32 x (igq__requant64 in nonlin_inl.h):
 *   r = floor((x mult + 2^(shift-1)) / 2^shift)       (2^-1 read as 0 for shift = 0)
 * with the 64-bit product (|x mult| < 2^62): round half up (towards +inf) of x M', exact.
 * Against the exact real x M: |r - x M| <= 1/2 + |x| 2^-(shift+1) < 1/2 + |x M| 2^-31 (1 +
 * 2^-30), so r is within 1 of round(x M) whenever |x M| < 2^31 - 2 (not saturating). */
#define IGQ_RQ_MAX_SHIFT 62

/* Requantize a row of int32 values to unsigned codes (igq__i32_requant__<isa>, kernels.h):
 *   out[i] = clamp(r_i + zero_c, qmin, qmax),  r_i = requant64(x[i], mult[c], shift[c])
 * with c = i when per_channel, else c = 0 (per-tensor: mult, shift, zero point to one value).
 * r_i + zero_c is formed in int64 (no intermediate saturation), so any int32 zero point is
 * exact. Requires 0 <= qmin <= qmax <= 255, mult[c] in [0, 2^31), shift[c] in [0, 62]. */

/* (mult, shift) for a real M as described above. Pure; any thread. */
void igq__requant_multiplier(double M, int32_t *mult, int32_t *shift);

/* ---- Integer softmax ---------------------------------------------------------------------
 * Choice: an exact two-level exp table on the max-subtracted input (not I-BERT's i-exp
 * polynomial, not I-ViT's Shiftmax). Rationale (accuracy measured in bench_nonlin):
 *   - the input scale S is known at init, so exp(-d S) for every integer distance d below
 *     the underflow point can be tabulated: exp(-(h 2^10 + l) S) = T_hi[h] T_lo[l], two
 *     tables (257 + 1024 entries, 5 KiB, L1) cover 2^18 distances; each e is correct to about
 *     one unit of 2^-22 (relative to the row max), whereas i-exp's polynomial is only good to
 *     ~1e-3 and Shiftmax's 1.4375 ~ log2 e and linear 2^r to several percent (both visible in
 *     4..8-bit codes);
 *   - cost: two L1 gathers and one 32x32->64 multiply per element, no division per element.
 * Algorithm for a row x[0..n) (int32 logits, scale S = s_in):
 *   d_i = max - x_i (as uint32, < 2^32), idx_i = min(round(d_i / 2^k0), 2^18), computed
 *     without overflow as (d >> k0) + ((d >> (k0 - 1)) & 1) (just d for k0 = 0);
 *     k0 = smallest k in [0, 31] with 2^18 S 2^k >= 23 ln 2 (the table then reaches the point
 *     where exp < 2^-23, below half a unit of e); S' = S 2^k0: |idx S' - d S| <= S'/2.
 *   e_i = (T_hi[idx >> 10] T_lo[idx & 1023] + 2^29) >> 30            in [0, 2^22]
 *     T_hi[h] = round(exp(-h 1024 S') 2^22) (h < 256), T_hi[256] = 0 (distances past the
 *     table), T_lo[l] = round(exp(-l S') 2^30); e of the row max is exactly 2^22.
 *   sum = sum_i e_i (uint64, >= 2^22); factor = floor(Q 2^s / sum) < 2^32,
 *     Q = 2^20, s = 54 - bitlen(Q) = 33
 *   out_i = (e_i factor + 2^(s-1)) >> s = round(Q e_i / sum - theta), 0 <= theta <
 *     e_i / 2^s <= 2^(22-s) = 2^-11; never above Q.
 * Output (igq__i32_softmax__<isa>): int32 p at scale 2^-20, for the executor's per-row IGQ
 *   group quantizers (rows are assigned to groups by their max p, then requantized with
 *   igq__i32_requant__<isa> at the group's scale). The same normalization with Q = 2^A - 1
 *   gives A-bit codes of [0, 1] directly (test/support/oracles.c does that for the accuracy
 *   tables).
 * Rows may have any length n >= 1 (n = 0: nothing is written); sum < n 2^22 + 1 needs no
 * limit on n in uint64.
 * igq__i32_softmax_sub__<isa>: the same of x[r][j] - v[j] (column offsets, e.g. the attention
 * logits' zero-point terms; every difference must fit int32), without writing x - v. */
#define IGQ_SMX_F     22 /* fraction bits of e (e of the row max = 2^22) */
#define IGQ_SMX_G     30 /* fraction bits of T_lo */
#define IGQ_SMX_LBITS 10 /* T_lo entries = 2^LBITS */
#define IGQ_SMX_HI    256 /* T_hi entries before the zero sentinel */
#define IGQ_SMX_IDX_MAX (IGQ_SMX_HI << IGQ_SMX_LBITS) /* 2^18: the sentinel's index */
#define IGQ_SMX_Q20_BITS 20 /* output: p at scale 2^-20 */

typedef struct igq_softmax_params {
    uint32_t t_lo[1 << IGQ_SMX_LBITS]; /* exp(-l S') 2^30 */
    uint32_t t_hi[IGQ_SMX_HI + 8];     /* exp(-h 2^10 S') 2^22; [256..263] = 0 */
    uint32_t k0;                       /* index pre-shift */
    uint32_t rsh, rbit;                /* rounding bit of the pre-shift: (d >> rsh) & rbit */
    int32_t  s_q20;                    /* normalization shift: 54 - bitlen(2^20) */
    double   s_in;                     /* S (as given) */
    double   s_idx;                    /* S' = S 2^k0: the real distance of one index step */
} igq_softmax_params;

/* Fills p for input scale s_in > 0 (finite). Returns IGQ_OK or IGQ_ERR_INVALID_ARGUMENT (p is
 * then unchanged). */
igq_status igq__softmax_params_init(igq_softmax_params *p, float s_in);

/* ---- Integer LayerNorm -------------------------------------------------------------------
 * Input: one row of C int32 values x (the residual stream at a fixed-point scale S_x), any
 * int32 values. Output: a_c = round((gamma_c nhat_c + beta_c) / S_y), int32 at the caller's
 * fixed scale S_y (the caller applies the per-image IGQ group quantizers).
 * Statistics (igq__i32_ln_stats__<isa>), all integer:
 *   pass 1: S1 = sum x (int64), mn = min x, mx = max x
 *   mu = round(S1 / C) (int64 floor division), R = max(mx - mu, mu - mn) < 2^32
 *   B = 30 - bitlen(C); k = max(0, bitlen(R) - B)        (data-dependent pre-shift)
 *   pass 2: y_c = (x_c >> k) - (mu >> k) (arithmetic shifts; |y_c| <= 2^B),
 *           Sy = sum y (int64), Syy = sum y^2 (int64, < 2^60)
 *   V = C Syy - Sy^2 = C^2 var(y) (exact, 0 <= V < 2^60)
 *   D = V + E_k, E_k = round(C^2 eps / (S_x^2 4^k)) (eps: LayerNorm's epsilon, in the units
 *     of y; precomputed for every k, saturated at 2^61)  -> D = C^2 (var(y) + eps_y) exactly
 *     up to E_k's rounding
 *   j = (62 - bitlen(D)) / 2, sigma = isqrt(D 4^j) in [2^30, 2^31) (exact floor square root,
 *     igq__isqrt64), rcp = round(2^60 / sigma) in [2^29, 2^30], t = 44 - j
 * Apply (igq__i32_ln_apply__<isa>), per channel:
 *   z_c = C y_c - Sy (= C^2 (y_c - mean y) / C; |z_c| < 2^31)
 *   n_c = (z_c rcp + 2^(t-1)) >> t    = z_c / sqrt(D) at scale 2^-N, N = IGQ_LN_NBITS = 22
 *     (|n_c| <= sqrt(C-1) 2^22 < 2^30; t = 60 - N - j in [8, 38]; |z_c rcp| < 2^61)
 *   a_c = sat32((n_c gm_c + gb_c + 2^(gs-1)) >> gs)   (|n_c gm_c| < 2^61, |gb_c| <= 2^61)
 *     gm_c = round(gamma_c 2^-N / S_y 2^gs), gb_c = round(beta_c / S_y 2^gs) (int64), one
 *     common gs for all channels (the largest <= 62 with |gm_c| < 2^31 and |gb_c| <= 2^61).
 * D = 0 (a constant row and eps = 0): rcp = 0, so a_c = round(beta_c / S_y).
 * The mean's rounding does not matter (z_c centers exactly); when k > 0 the floor shifts
 * perturb y by < 1 unit out of >= 2^(B-1) (B = 18 at C = 3072). C in [1, 2^16].
 * N was 16 at first; at 4-bit activations its rounding (2^-16 of the normalized value) moved
 * LayerNorm outputs across rounding boundaries often enough to show in the agreement between
 * the integer and the simulated executor (bench_int), hence 22. */
#define IGQ_LN_NBITS 22 /* n_c: normalized value at scale 2^-22 */
#define IGQ_LN_MAX_C 65536

typedef struct igq_ln_params {
    int64_t  C;
    int32_t  bbits;     /* B = 30 - bitlen(C) */
    int32_t  gs;        /* common shift of gm / gb */
    int64_t  eps_k[33]; /* E_k for k = 0..32 */
    int32_t *gm;        /* [C] */
    int64_t *gb;        /* [C] */
    double   x_scale, y_scale, eps;
    void    *mem;       /* owns gm and gb (igq__malloc) */
} igq_ln_params;

/* Per-row constants from the statistics (input of the apply kernels). */
typedef struct igq_ln_row {
    int32_t k;     /* pre-shift */
    int32_t mu_k;  /* mu >> k */
    int32_t sum_y; /* Sy, |Sy| < 2^30 */
    int32_t rcp;   /* [2^29, 2^30], or 0 when D = 0 */
    int32_t t;     /* shift of n_c, in [8, 38] */
} igq_ln_row;

/* LayerNorm from f32 rows (igq__i32_ln_f32__<isa>; the integer executor's LayerNorm of its
 * f32 residual stream, one row of p->C floats x):
 *   amax = max |x| (as the largest magnitude bit pattern); e = frexpf exponent of amax
 *     (amax < 2^e); a row with amax = 0 or not finite (a NaN or an infinity), or so small
 *     that f below would exceed FLT_MAX (amax < 2^(in_bits - 128), e.g. denormals: its
 *     LayerNorm is beta to within |gamma| 2^(in_bits - 127) / sqrt(eps)), takes e = 0 and
 *     xi = 0;
 *   xi[c] = rne(x[c] f), f = ldexpf(1, in_bits - e) (the add / subtract of 1.5 2^23; in_bits
 *     <= 22 so |x f| < 2^22: the row at a per-row power-of-two scale 2^(e - in_bits));
 *   then the statistics and the apply above on xi, with E_k = eps_tab[in_bits - e - k] (the
 *     caller's table of E for the row's scale) in place of p->eps_k[k].
 * xi (C int32, the thread's scratch) receives the integer row; out the LayerNorm output. The
 * SIMD levels convert and take the pass-1 statistics in one pass (int32 lane sums: |xi| <=
 * 2^22) and sum y in int32 lanes (|Sy| < 2^30). */

/* C in [1, 65536], x_scale > 0, y_scale > 0, eps >= 0 (finite), gamma / beta: C floats (beta
 * may be NULL = 0). Returns IGQ_OK, IGQ_ERR_INVALID_ARGUMENT, IGQ_ERR_OUT_OF_RANGE (some
 * gamma_c 2^-IGQ_LN_NBITS / y_scale >= 2^31: y_scale too fine for the gammas) or IGQ_ERR_NO_MEMORY. On
 * failure p needs no free. */
igq_status igq__ln_params_init(igq_ln_params *p, int64_t C, float x_scale, float eps,
                               const float *gamma, const float *beta, float y_scale);
/* Re-targets initialized params to another input scale (x_scale > 0, finite): recomputes
 * eps_k only (gm / gb depend on y_scale, not on x_scale). A copy of the struct may be
 * re-targeted (it shares gm / gb with the original): the integer executor does that per image
 * for its per-image input scale. */
void igq__ln_params_set_x_scale(igq_ln_params *p, float x_scale);
/* Frees what init allocated; p may be zeroed memory or NULL. */
void igq__ln_params_free(igq_ln_params *p);

/* ---- Integer GELU ------------------------------------------------------------------------
 * A table with linear interpolation rather than a polynomial such as I-BERT's i-GELU (whose
 * erf approximation is off by ~1e-2 absolute): the table's error is below 3e-6 (derived
 * below) at two gathers and one multiply per element.
 * Input: int32 fc1 accumulators with a per-channel (or per-tensor) dyadic scale
 * (mult, shift) that maps them to the real input at scale 2^-F, F = IGQ_GELU_FRAC = 20
 * (inputs |x| < 2048; beyond that the int32 saturates):
 *   u = sat32(requant64(acc, mult_c, shift_c))       (real input u 2^-F)
 *   u <  -8 2^F: out = 0     (|GELU(u)| < 6e-15 there: rounds to 0 at 2^-F)
 *   u >=  8 2^F: out = u     (GELU(u) = u - u Phi(-u), u Phi(-u) < 2^-(F+1): rounds to u)
 *   else v = u + 8 2^F in [0, 2^(F+4)), i = v >> (F-8), f = v & (2^(F-8) - 1):
 *        out = T[i] + ((T[i+1] - T[i]) f + 2^(F-9)) >> (F-8)  (arithmetic shift; the product
 *        stays below 2^25)
 *   T[i] = round(GELU(-8 + i / 256) 2^F), i = 0..4096: 2^12 intervals of width 2^-8 over
 *   [-8, 8). Output int32 GELU at scale 2^-F.
 * Error against GELU of the Q20 input: |out - GELU(u 2^-F) 2^F| <= 1/2 (T) + 1/2 (interp
 * rounding) + h^2/8 max|GELU''| 2^F (= 2^-16/8 0.798 2^20 = 1.596) = 2.596 units of 2^-20
 * (2.5e-6). F was 16 at first; at 4-bit activations the 2^-16 error (2.2e-5) moved enough
 * fc2 inputs across a rounding boundary to be the main difference between the integer and
 * the simulated executor (measured in bench_int), hence 20. */
#define IGQ_GELU_FRAC  20 /* input and output fixed point */
#define IGQ_GELU_ISHIFT (IGQ_GELU_FRAC - 8) /* fraction bits within a table interval */
#define IGQ_GELU_TBITS 12 /* table intervals */

typedef struct igq_gelu_params {
    int32_t t[(1 << IGQ_GELU_TBITS) + 8]; /* [0..4096] as above, the rest = T[4096] */
} igq_gelu_params;

void igq__gelu_params_init(igq_gelu_params *p);
/* The kernel (igq__i32_gelu__<isa>) over n accumulators: out[i] = GELU at 2^-IGQ_GELU_FRAC.
 * Element-wise: unlike the other kernels here, out may equal acc (in place; every level reads
 * a block of acc before it writes the same block of out). mult/shift indexed by i when
 * per_channel, else [0]. */
/* The kernel from f32 values (igq__i32_gelu_f32__<isa>): the integer executor's fc1 output x
 * (f32) at the fixed-point scale mul = 2^IGQ_GELU_FRAC, in one pass:
 *   v = x[i] mul, clamped to [-(2^31 - 128), 2^31 - 128] (NaN -> 0),
 *   u = (int32)(v >= 0 ? v + 0.5f : v - 0.5f)    (float additions, truncating conversion)
 *   out[i] = the table step above on u
 * = that f32 -> fixed conversion (test/support/oracles.h: tu_f32_to_fixed) followed by the
 * int32 kernel with the identity scale (mult 2^30, shift 30: requant64 is then exactly u), without the
 * int32 round trip through memory. out may equal x (in place, int32 over the floats). */

#endif
