/* The 16c4 staging step of the ymm integer GEMMs with k quads (x86_avxvnni/qs8_gemm_avxvnni.c,
 * x86_avx2/qs4_gemm_avx2.c): included by each after its own load_half(qs4, row, h), which
 * gives half h (packed positions 32h .. 32h + 31) of a row as 32 bytes in that kernel's weight
 * form. Private header, static inline only (qgemm_driver.h names the step's contract).
 *
 * Rows p0 .. p(nrows - 1) of a quad (later rows zeros): half h of each gives columns
 * 16j + 8h .. + 7, i.e. vector 2j + h, for j = 0..3; unpack{lo,hi}_epi8 + unpack{lo,hi}_epi16
 * deliver 8 consecutive columns per ymm thanks to the pos() swizzle (qs8_layout.h). */
#ifndef IGQ_KERNELS_X86_AVX2_QGEMM_YMM_C4_STAGE_INL_H
#define IGQ_KERNELS_X86_AVX2_QGEMM_YMM_C4_STAGE_INL_H

QGEMM_INLINE void qgemm_stage_step(const int qs4, int nrows, const uint8_t *p0,
                                   const uint8_t *p1, const uint8_t *p2, const uint8_t *p3,
                                   uint8_t *dst)
{
    const __m256i z = _mm256_setzero_si256();
    int           h;
    for (h = 0; h < 2; h++) {
        const __m256i r0 = load_half(qs4, p0, h);
        const __m256i r1 = nrows > 1 ? load_half(qs4, p1, h) : z;
        const __m256i r2 = nrows > 2 ? load_half(qs4, p2, h) : z;
        const __m256i r3 = nrows > 3 ? load_half(qs4, p3, h) : z;
        const __m256i t0 = _mm256_unpacklo_epi8(r0, r1), t1 = _mm256_unpackhi_epi8(r0, r1);
        const __m256i t2 = _mm256_unpacklo_epi8(r2, r3), t3 = _mm256_unpackhi_epi8(r2, r3);
        _mm256_store_si256((__m256i *)(dst + 0 + 32 * h), _mm256_unpacklo_epi16(t0, t2));
        _mm256_store_si256((__m256i *)(dst + 64 + 32 * h), _mm256_unpackhi_epi16(t0, t2));
        _mm256_store_si256((__m256i *)(dst + 128 + 32 * h), _mm256_unpacklo_epi16(t1, t3));
        _mm256_store_si256((__m256i *)(dst + 192 + 32 * h), _mm256_unpackhi_epi16(t1, t3));
    }
}

#endif
