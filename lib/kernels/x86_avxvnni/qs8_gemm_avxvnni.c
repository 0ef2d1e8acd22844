/* Integer GEMM, AVX-VNNI (built with -mavx2 -mfma -mavxvnni; reached only through the dispatch
 * table): u8 activations x qs8 / qs4 packed weights -> int32, semantics of igq_qgemm_fn
 * (kernels.h), bit-exact with igq__qs8_gemm__scalar.
 *
 * Tile: MR = 6 rows x 16 columns (2 ymm) x KR = 4: 12 ymm accumulators, 2 weight vectors,
 * 1 broadcast (16 ymm registers). Per k quad: 2 loads, 6 vpbroadcastd (load-port only), 12 VEX
 * vpdpbusd (u8 x s8, 4 products per int32 lane, no saturation).
 *
 * Weights: k-row panels (qs8_layout.h), staged per 64-column panel and k block (KC = 384) into
 * the same 16c4 byte order as the AVX-512 kernel (24 KiB stack buffer): each 32-byte half of
 * 4 gathered rows is interleaved by unpack{lo,hi}_epi8 + unpack{lo,hi}_epi16, which by the
 * pos() swizzle gives 8 consecutive columns per ymm. qs4 rows (32 B): one load, low half
 * (b << 4) & 0xF0, high half b & 0xF0 (16 w); the sums are shifted right by 4 (exact).
 * Loops: [row blocks] > panels > k blocks (stage) > row tiles > 16-column groups of the panel.
 * A is read in place (only A[m][k0..k1)); N tails by vpmaskmovd. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include <immintrin.h>
#include <string.h>

#include "../qs8_layout.h"

#define MR 6
#define KC 384
#define MC 1536

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE int32_t ld32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

ALWAYS_INLINE int32_t ld_tail(const uint8_t *p, int t)
{
    uint32_t v = p[0];
    if (t > 1) v |= (uint32_t)p[1] << 8;
    if (t > 2) v |= (uint32_t)p[2] << 16;
    return (int32_t)v;
}

/* Half h (positions 32h .. 32h + 31) of a packed row as 32 int8 (qs4: 16 w). */
ALWAYS_INLINE __m256i load_half(const int qs4, const uint8_t *row, int h)
{
    if (!qs4) return _mm256_loadu_si256((const __m256i *)(row + 32 * h));
    {
        const __m256i x = _mm256_loadu_si256((const __m256i *)row);
        const __m256i y = h == 0 ? _mm256_slli_epi16(x, 4) : x;
        return _mm256_and_si256(y, _mm256_set1_epi8((char)0xf0));
    }
}

/* Interleaves half h of 4 rows: u_j holds columns 16j + 8h .. + 7, i.e. vector 2j + h. */
ALWAYS_INLINE void interleave4(__m256i r0, __m256i r1, __m256i r2, __m256i r3, int h,
                               uint8_t *dst)
{
    const __m256i t0 = _mm256_unpacklo_epi8(r0, r1), t1 = _mm256_unpackhi_epi8(r0, r1);
    const __m256i t2 = _mm256_unpacklo_epi8(r2, r3), t3 = _mm256_unpackhi_epi8(r2, r3);
    _mm256_store_si256((__m256i *)(dst + 0 + 32 * h), _mm256_unpacklo_epi16(t0, t2));
    _mm256_store_si256((__m256i *)(dst + 64 + 32 * h), _mm256_unpackhi_epi16(t0, t2));
    _mm256_store_si256((__m256i *)(dst + 128 + 32 * h), _mm256_unpacklo_epi16(t1, t3));
    _mm256_store_si256((__m256i *)(dst + 192 + 32 * h), _mm256_unpackhi_epi16(t1, t3));
}

/* Same staged order as the AVX-512 kernel: quad q, columns 8v .. 8v + 7 at dst + 256 q + 32 v.
 * perm: kperm != NULL (compile-time); whole quads branch-free, rows two quads ahead
 * prefetched; rows past kc are zeros. */
ALWAYS_INLINE void stage(const int qs4, const int perm, const uint8_t *panel,
                         const int32_t *kperm, int64_t kb, int64_t kc, uint8_t *dst)
{
    const int64_t  rb = qs4 ? 32 : 64;
    const int64_t  nq = kc / 4;
    const int32_t *kp = perm ? kperm + kb : NULL;
    const __m256i  z  = _mm256_setzero_si256();
    int64_t        q;
    int            h;
#define ROW(k) (panel + (perm ? (int64_t)kp[k] : kb + (k)) * rb)
    for (q = 0; q < nq; q++, dst += 256) {
        const int64_t  k  = 4 * q;
        const uint8_t *p0 = ROW(k), *p1 = ROW(k + 1), *p2 = ROW(k + 2), *p3 = ROW(k + 3);
        if (q + 2 < nq) {
            _mm_prefetch((const char *)ROW(k + 8), _MM_HINT_T0);
            _mm_prefetch((const char *)ROW(k + 9), _MM_HINT_T0);
            _mm_prefetch((const char *)ROW(k + 10), _MM_HINT_T0);
            _mm_prefetch((const char *)ROW(k + 11), _MM_HINT_T0);
        }
        for (h = 0; h < 2; h++)
            interleave4(load_half(qs4, p0, h), load_half(qs4, p1, h), load_half(qs4, p2, h),
                        load_half(qs4, p3, h), h, dst);
    }
    if (kc % 4) {
        const int64_t  k  = 4 * nq;
        const uint8_t *p0 = ROW(k), *p1 = k + 1 < kc ? ROW(k + 1) : NULL;
        const uint8_t *p2 = k + 2 < kc ? ROW(k + 2) : NULL;
        for (h = 0; h < 2; h++)
            interleave4(load_half(qs4, p0, h), p1 ? load_half(qs4, p1, h) : z,
                        p2 ? load_half(qs4, p2, h) : z, z, h, dst);
    }
#undef ROW
}

/* Lane mask for the first n (0..8) int32 lanes. */
ALWAYS_INLINE __m256i lanes(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* One mr x 16 tile (nn <= 16 valid columns) of staged block b (already offset to the group). */
ALWAYS_INLINE void tile(const int mr, int64_t nq, int t, const uint8_t *a, int64_t lda,
                        const uint8_t *b, int32_t *c, int64_t ldc, int first, int qs4, int nn)
{
    const __m256i  z = _mm256_setzero_si256();
    __m256i        c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
    __m256i        c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
    const uint8_t *a0 = a, *a1 = a, *a2 = a, *a3 = a, *a4 = a, *a5 = a;
    int64_t        q;

    if (mr > 1) a1 = a + lda;
    if (mr > 2) a2 = a + 2 * lda;
    if (mr > 3) a3 = a + 3 * lda;
    if (mr > 4) a4 = a + 4 * lda;
    if (mr > 5) a5 = a + 5 * lda;

#define ROW_DP(i, av)                                                                  \
    if (mr > i) {                                                                      \
        const __m256i x = av;                                                          \
        c##i##0         = _mm256_dpbusd_avx_epi32(c##i##0, x, b0);                     \
        c##i##1         = _mm256_dpbusd_avx_epi32(c##i##1, x, b1);                     \
    }
    for (q = 0; q < nq; q++, b += 256) {
        const __m256i b0 = _mm256_load_si256((const __m256i *)b);
        const __m256i b1 = _mm256_load_si256((const __m256i *)(b + 32));
        ROW_DP(0, _mm256_set1_epi32(ld32(a0 + 4 * q)))
        ROW_DP(1, _mm256_set1_epi32(ld32(a1 + 4 * q)))
        ROW_DP(2, _mm256_set1_epi32(ld32(a2 + 4 * q)))
        ROW_DP(3, _mm256_set1_epi32(ld32(a3 + 4 * q)))
        ROW_DP(4, _mm256_set1_epi32(ld32(a4 + 4 * q)))
        ROW_DP(5, _mm256_set1_epi32(ld32(a5 + 4 * q)))
    }
    if (t > 0) {
        const __m256i b0 = _mm256_load_si256((const __m256i *)b);
        const __m256i b1 = _mm256_load_si256((const __m256i *)(b + 32));
        ROW_DP(0, _mm256_set1_epi32(ld_tail(a0 + 4 * nq, t)))
        ROW_DP(1, _mm256_set1_epi32(ld_tail(a1 + 4 * nq, t)))
        ROW_DP(2, _mm256_set1_epi32(ld_tail(a2 + 4 * nq, t)))
        ROW_DP(3, _mm256_set1_epi32(ld_tail(a3 + 4 * nq, t)))
        ROW_DP(4, _mm256_set1_epi32(ld_tail(a4 + 4 * nq, t)))
        ROW_DP(5, _mm256_set1_epi32(ld_tail(a5 + 4 * nq, t)))
    }
#undef ROW_DP

    if (nn == 16) {
#define ROW_STORE(i)                                                                   \
    if (mr > i) {                                                                      \
        int32_t *p = c + (i) * ldc;                                                    \
        __m256i  x0 = c##i##0, x1 = c##i##1;                                           \
        if (qs4) x0 = _mm256_srai_epi32(x0, 4), x1 = _mm256_srai_epi32(x1, 4);          \
        if (!first) {                                                                  \
            x0 = _mm256_add_epi32(x0, _mm256_loadu_si256((const __m256i *)p));         \
            x1 = _mm256_add_epi32(x1, _mm256_loadu_si256((const __m256i *)(p + 8)));   \
        }                                                                              \
        _mm256_storeu_si256((__m256i *)p, x0);                                         \
        _mm256_storeu_si256((__m256i *)(p + 8), x1);                                   \
    }
        ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
#undef ROW_STORE
    } else {
        const __m256i m0 = lanes(nn < 8 ? nn : 8), m1 = lanes(nn > 8 ? nn - 8 : 0);
#define ROW_STORE(i)                                                                   \
    if (mr > i) {                                                                      \
        int32_t *p = c + (i) * ldc;                                                    \
        __m256i  x0 = c##i##0, x1 = c##i##1;                                           \
        if (qs4) x0 = _mm256_srai_epi32(x0, 4), x1 = _mm256_srai_epi32(x1, 4);          \
        if (!first) {                                                                  \
            x0 = _mm256_add_epi32(x0, _mm256_maskload_epi32((const int *)p, m0));      \
            x1 = _mm256_add_epi32(x1, _mm256_maskload_epi32((const int *)(p + 8), m1)); \
        }                                                                              \
        _mm256_maskstore_epi32((int *)p, m0, x0);                                      \
        _mm256_maskstore_epi32((int *)(p + 8), m1, x1);                                \
    }
        ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
#undef ROW_STORE
    }
}

/* All 16-column groups of a panel (nn valid columns) for one row tile of mr rows. */
ALWAYS_INLINE void row_tile(const int mr, int64_t nq, int t, const uint8_t *a, int64_t lda,
                            const uint8_t *b, int32_t *c, int64_t ldc, int first, int qs4, int nn)
{
    int g;
    for (g = 0; 16 * g < nn; g++)
        tile(mr, nq, t, a, lda, b + 64 * g, c + 16 * g, ldc, first, qs4,
             nn - 16 * g < 16 ? nn - 16 * g : 16);
}

static void row_tile_any(int mr, int64_t nq, int t, const uint8_t *a, int64_t lda,
                         const uint8_t *b, int32_t *c, int64_t ldc, int first, int qs4, int nn)
{
    switch (mr) {
    case 1: row_tile(1, nq, t, a, lda, b, c, ldc, first, qs4, nn); break;
    case 2: row_tile(2, nq, t, a, lda, b, c, ldc, first, qs4, nn); break;
    case 3: row_tile(3, nq, t, a, lda, b, c, ldc, first, qs4, nn); break;
    case 4: row_tile(4, nq, t, a, lda, b, c, ldc, first, qs4, nn); break;
    case 5: row_tile(5, nq, t, a, lda, b, c, ldc, first, qs4, nn); break;
    default: row_tile(6, nq, t, a, lda, b, c, ldc, first, qs4, nn); break;
    }
}

static void stage_any(int qs4, const uint8_t *panel, const int32_t *kperm, int64_t kb,
                      int64_t kc, uint8_t *dst)
{
    if (kperm != NULL) {
        if (qs4) stage(1, 1, panel, kperm, kb, kc, dst);
        else stage(0, 1, panel, kperm, kb, kc, dst);
    } else {
        if (qs4) stage(1, 0, panel, kperm, kb, kc, dst);
        else stage(0, 0, panel, kperm, kb, kc, dst);
    }
}

static void gemm(int qs4, int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                 const uint8_t *A, int64_t lda, const void *packed, const int32_t *kperm,
                 int32_t *C, int64_t ldc)
{
    uint8_t       buf[KC * IGQ_QS8_NR] __attribute__((aligned(64)));
    const int64_t rb = qs4 ? 32 : 64;
    int64_t       klen, nkb, kcb, m0, nb, kb, i;

    if (M <= 0 || N <= 0) return;
    if (k1 <= k0) {
        for (i = 0; i < M; i++) memset(C + i * ldc, 0, (size_t)N * sizeof(int32_t));
        return;
    }
    klen = k1 - k0;
    nkb  = (klen + KC - 1) / KC;
    kcb  = ((klen + nkb - 1) / nkb + 3) & ~(int64_t)3;
    for (m0 = 0; m0 < M; m0 += MC) {
        const int64_t mc = M - m0 < MC ? M - m0 : MC;
        for (nb = 0; nb * IGQ_QS8_NR < N; nb++) {
            const uint8_t *panel = (const uint8_t *)packed + nb * K * rb;
            const int nn = (int)(N - nb * IGQ_QS8_NR < IGQ_QS8_NR ? N - nb * IGQ_QS8_NR : IGQ_QS8_NR);
            for (kb = k0; kb < k1; kb += kcb) {
                const int64_t kc = k1 - kb < kcb ? k1 - kb : kcb;
                stage_any(qs4, panel, kperm, kb, kc, buf);
                for (i = 0; i < mc; i += MR)
                    row_tile_any(mc - i < MR ? (int)(mc - i) : MR, kc / 4, (int)(kc % 4),
                                 A + (m0 + i) * lda + kb, lda, buf,
                                 C + (m0 + i) * ldc + nb * IGQ_QS8_NR, ldc, kb == k0, qs4, nn);
            }
        }
    }
}

void igq__qs8_gemm_6x16c4__avxvnni(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                                  const uint8_t *A, int64_t lda, const void *packed,
                                  const int32_t *kperm, int32_t *C, int64_t ldc)
{
    gemm(0, M, N, K, k0, k1, A, lda, packed, kperm, C, ldc);
}

void igq__qs4_gemm_6x16c4__avxvnni(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t k1,
                                  const uint8_t *A, int64_t lda, const void *packed,
                                  const int32_t *kperm, int32_t *C, int64_t ldc)
{
    gemm(1, M, N, K, k0, k1, A, lda, packed, kperm, C, ldc);
}

#else
typedef int igq_qs8_gemm_avxvnni_empty; /* ISO C forbids an empty translation unit */
#endif
