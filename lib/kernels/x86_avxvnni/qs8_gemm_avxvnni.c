/* Integer GEMM, AVX-VNNI (built with -mavx2 -mfma -mavxvnni; reached only through the dispatch
 * table): u8 activations x qs8 / qs4 packed weights -> int32, igq_qgemm_fn (kernels.h),
 * bit-exact with igq__qs8_gemm__scalar. The driver (blocking, staging, tile, tails) is
 * qgemm_driver.h; this file gives it the VEX vpdpbusd and its staging step.
 *
 * Tile: 6 rows x 16 columns (2 ymm) x KR = 4: 12 ymm accumulators, 2 weight vectors,
 * 1 broadcast (16 ymm registers). Per k quad: 2 loads, 6 vpbroadcastd (load-port only), 12 VEX
 * vpdpbusd (u8 x s8, 4 products per int32 lane, no saturation). A is read in place.
 *
 * Staging step (one quad, k = 4q .. 4q + 3; KC = 384, 96 quads x 256 B = 24 KiB): the same
 * 16c4 byte order as the AVX-512 kernel, as ymm: columns 8v .. 8v + 7 at byte 32 v. Each
 * 32-byte half of the 4 gathered rows is interleaved by unpack{lo,hi}_epi8 +
 * unpack{lo,hi}_epi16, which by the pos() swizzle gives 8 consecutive columns per ymm. qs4 rows
 * (32 B): one load, low half (b << 4) & 0xF0, high half b & 0xF0 (16 w); the sums are shifted
 * right by 4 (exact). The grouped GEMM (igq_qggemm_fn) is qggemm_driver.h on the same tile. */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "../x86_avx2/qgemm_ymm_inl.h"

#define QGEMM_KR 4
#define QGEMM_KC 384
#define QGEMM_QS4_X16 1
#define QV_DOT(acc, a, b) _mm256_dpbusd_avx_epi32((acc), (a), (b))

/* Half h (positions 32h .. 32h + 31) of a packed row as 32 int8 (qs4: 16 w). */
QGEMM_INLINE __m256i load_half(const int qs4, const uint8_t *row, int h)
{
    if (!qs4) return _mm256_loadu_si256((const __m256i *)(row + 32 * h));
    {
        const __m256i x = _mm256_loadu_si256((const __m256i *)row);
        const __m256i y = h == 0 ? _mm256_slli_epi16(x, 4) : x;
        return _mm256_and_si256(y, _mm256_set1_epi8((char)0xf0));
    }
}

#include "../x86_avx2/qgemm_ymm_c4_stage_inl.h"

#include "../qgemm_driver.h"
#include "../qggemm_driver.h"

IGQ_QGEMM_ENTRIES(igq__qs8_gemm_6x16c4__avxvnni, igq__qs4_gemm_6x16c4__avxvnni, qgemm)
/* grouped, f32 group epilogue fused (qggemm_driver.h): 6 x 16 tiles, four per panel */
IGQ_QGGEMM_ENTRIES(igq__qs8_ggemm_6x16c4__avxvnni, igq__qs4_ggemm_6x16c4__avxvnni, qggemm)

#else
typedef int igq_qs8_gemm_avxvnni_empty; /* ISO C forbids an empty translation unit */
#endif
