/* Integer GEMM for qs4 (int4) weights, AVX2 (built with -mavx2 -mfma; reached only through the
 * dispatch table): u8 activations x qs4 packed weights -> int32, igq_qgemm_fn and the grouped
 * igq_qggemm_fn (kernels.h), bit-exact with igq__qs4_gemm__scalar / igq__qs4_ggemm__scalar.
 * The driver is qgemm_driver.h (+ qggemm_driver.h); this file gives it vpmaddubsw with int16
 * accumulation. (qs8 weights stay on vpmaddwd, qs8_gemm_avx2.c: see there why.)
 *
 * Arithmetic, and why it is exact: vpmaddubsw multiplies u8 A bytes by s8 weight bytes and
 * adds each pair of products in int16 with saturation. With qs4 weights w in -8..7 and any
 * A code a in 0..255, one pair a0 w0 + a1 w1 lies in [-4080, 3570]: no saturation. The int16
 * accumulators add QGEMM_I16_WIN = 8 such steps with vpaddw (|sum| <= 8 x 4080 = 32640
 * <= 32767: no wrap), then vpmaddwd with ones widens each int16 pair to int32 (exact) and adds
 * it to the tile's int32 sums in L1 (qgemm_tile's int16 windows). So every result is the
 * exact int32 sum of the scalar reference, whatever the activation width (u8 or 4-bit).
 * Against the vpmaddwd tile (16 products per multiply, plus one vpaddd each) a step here is
 * 32 products per vpmaddubsw plus one vpaddw, with the widening amortized over 8 steps.
 *
 * Tile: 6 rows x 16 columns (2 ymm) x KR = 4: 12 int16 accumulators, 2 weight vectors,
 * 1 broadcast. Staging (one quad, k = 4q .. 4q + 3; KC = 384, 96 quads x 256 B = 24 KiB): the
 * 16c4 byte order of the AVX-VNNI kernel, with each nibble sign-extended to a byte
 * ((n ^ 8) - 8), not stored as 16 w (that would saturate vpmaddubsw). */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "qgemm_ymm_inl.h"

#define QGEMM_KR 4
#define QGEMM_KC 384
#define QGEMM_QS4_X16 0
#define QGEMM_I16_WIN 8
#define QV_DOT(acc, a, b) _mm256_add_epi16((acc), _mm256_maddubs_epi16((a), (b)))
#define QV_WIDEN(x) _mm256_madd_epi16((x), _mm256_set1_epi16(1))

/* Half h (positions 32h .. 32h + 31) of a packed row as 32 int8: qs4 nibbles sign-extended
 * (qs8 rows as stored: only instantiated by the staging helper, never called with them). */
QGEMM_INLINE __m256i load_half(const int qs4, const uint8_t *row, int h)
{
    if (!qs4) return _mm256_loadu_si256((const __m256i *)(row + 32 * h));
    {
        const __m256i x  = _mm256_loadu_si256((const __m256i *)row);
        const __m256i y  = h == 0 ? x : _mm256_srli_epi16(x, 4);
        const __m256i n  = _mm256_and_si256(y, _mm256_set1_epi8(0x0f));
        const __m256i e8 = _mm256_set1_epi8(8);
        return _mm256_sub_epi8(_mm256_xor_si256(n, e8), e8);
    }
}

#include "qgemm_ymm_c4_stage_inl.h"

#include "../qgemm_driver.h"
#include "../qggemm_driver.h"

IGQ_QGEMM_DECL(igq__qs4_gemm_6x16c4__avx2)
{
    qgemm(4, M, N, K, k0, k1, A, lda, packed, kperm, C, ldc);
}
IGQ_QGGEMM_DECL(igq__qs4_ggemm_6x16c4__avx2)
{
    qggemm(4, M, N, K, G, off, gs, A, lda, packed, kperm, colscale, colbias, Y, ldy, ws);
}

#else
typedef int igq_qs4_gemm_avx2_empty; /* ISO C forbids an empty translation unit */
#endif
