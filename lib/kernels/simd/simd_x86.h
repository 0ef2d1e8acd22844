/* The part of the x86 width mappings whose instructions have the same name at both widths:
 * included by simd_avx2.h and simd_avx512.h after they define their types and
 *   IGQ_X86(op)     the intrinsic op at their width (_mm256_op / _mm512_op),
 *   IGQ_X86_SI(op)  the integer-register form (_mm256_op_si256 / _mm512_op_si512),
 *   IGQ_X86_CASTPS  the int -> float register cast, IGQ_X86_CASTSI the float -> int one,
 *   IGQ_X86_SET1_64 the 64-bit broadcast,
 *   IGQ_X86_CMPPS   the float comparison to a v_fmask.
 * Names and conventions: simd_avx2.h. Static inline / macros only. */
#ifndef IGQ_KERNELS_SIMD_X86_H
#define IGQ_KERNELS_SIMD_X86_H

/* ---- float ---- */
IGQ_SIMD_INLINE v_f32 vf_set1(float a) { return IGQ_X86(set1_ps)(a); }
IGQ_SIMD_INLINE v_f32 vf_zero(void) { return IGQ_X86(setzero_ps)(); }
IGQ_SIMD_INLINE v_f32 vf_load(const float *p) { return IGQ_X86(loadu_ps)(p); }
IGQ_SIMD_INLINE void  vf_store(float *p, v_f32 v) { IGQ_X86(storeu_ps)(p, v); }
IGQ_SIMD_INLINE v_f32 vf_add(v_f32 a, v_f32 b) { return IGQ_X86(add_ps)(a, b); }
IGQ_SIMD_INLINE v_f32 vf_sub(v_f32 a, v_f32 b) { return IGQ_X86(sub_ps)(a, b); }
IGQ_SIMD_INLINE v_f32 vf_mul(v_f32 a, v_f32 b) { return IGQ_X86(mul_ps)(a, b); }
IGQ_SIMD_INLINE v_f32 vf_div(v_f32 a, v_f32 b) { return IGQ_X86(div_ps)(a, b); }
IGQ_SIMD_INLINE v_f32 vf_fma(v_f32 a, v_f32 b, v_f32 c) { return IGQ_X86(fmadd_ps)(a, b, c); }
IGQ_SIMD_INLINE v_f32 vf_fms(v_f32 a, v_f32 b, v_f32 c) { return IGQ_X86(fmsub_ps)(a, b, c); }
IGQ_SIMD_INLINE v_f32 vf_min(v_f32 a, v_f32 b) { return IGQ_X86(min_ps)(a, b); }
IGQ_SIMD_INLINE v_f32 vf_max(v_f32 a, v_f32 b) { return IGQ_X86(max_ps)(a, b); }
IGQ_SIMD_INLINE v_fmask vf_gt(v_f32 a, v_f32 b) { return IGQ_X86_CMPPS(a, b, _CMP_GT_OQ); }
IGQ_SIMD_INLINE v_fmask vf_ge(v_f32 a, v_f32 b) { return IGQ_X86_CMPPS(a, b, _CMP_GE_OQ); }
IGQ_SIMD_INLINE v_fmask vf_lt(v_f32 a, v_f32 b) { return IGQ_X86_CMPPS(a, b, _CMP_LT_OQ); }
IGQ_SIMD_INLINE v_fmask vf_eq(v_f32 a, v_f32 b) { return IGQ_X86_CMPPS(a, b, _CMP_EQ_OQ); }
/* 2^n for integral n in [-126, 127] */
IGQ_SIMD_INLINE v_f32 vf_pow2i(v_f32 n)
{
    return IGQ_X86_CASTPS(
        IGQ_X86(slli_epi32)(IGQ_X86(add_epi32)(IGQ_X86(cvtps_epi32)(n), IGQ_X86(set1_epi32)(127)), 23));
}
/* int32 -> float, round to nearest even (as the C conversion) */
IGQ_SIMD_INLINE v_f32 vf_from_i32(v_i32 a) { return IGQ_X86(cvtepi32_ps)(a); }
/* +0.5 or -0.5 with the sign bit of each lane of v (also of -0 and NaN) */
IGQ_SIMD_INLINE v_f32 vf_signed_half(v_f32 v)
{
    const v_i32 sign = IGQ_X86_SI(and)(IGQ_X86_CASTSI(v), IGQ_X86(set1_epi32)(INT32_MIN));
    return IGQ_X86_CASTPS(IGQ_X86_SI(or)(sign, IGQ_X86(set1_epi32)(0x3f000000)));
}
/* float -> int32 truncating (the C conversion, for values inside the int32 range) */
IGQ_SIMD_INLINE v_i32 vf_to_i32_trunc(v_f32 a) { return IGQ_X86(cvttps_epi32)(a); }

/* ---- int32 lanes ---- */
IGQ_SIMD_INLINE v_i32 vi_set1(int32_t a) { return IGQ_X86(set1_epi32)(a); }
IGQ_SIMD_INLINE v_i32 vi_zero(void) { return IGQ_X86_SI(setzero)(); }
IGQ_SIMD_INLINE v_i32 vi_load(const int32_t *p) { return IGQ_X86_SI(loadu)((const void *)p); }
IGQ_SIMD_INLINE void  vi_store(int32_t *p, v_i32 v) { IGQ_X86_SI(storeu)((void *)p, v); }
IGQ_SIMD_INLINE v_i32 vi_add(v_i32 a, v_i32 b) { return IGQ_X86(add_epi32)(a, b); }
IGQ_SIMD_INLINE v_i32 vi_sub(v_i32 a, v_i32 b) { return IGQ_X86(sub_epi32)(a, b); }
IGQ_SIMD_INLINE v_i32 vi_mullo(v_i32 a, v_i32 b) { return IGQ_X86(mullo_epi32)(a, b); }
IGQ_SIMD_INLINE v_i32 vi_and(v_i32 a, v_i32 b) { return IGQ_X86_SI(and)(a, b); }
IGQ_SIMD_INLINE v_i32 vi_or(v_i32 a, v_i32 b) { return IGQ_X86_SI(or)(a, b); }
IGQ_SIMD_INLINE v_i32 vi_min(v_i32 a, v_i32 b) { return IGQ_X86(min_epi32)(a, b); }
IGQ_SIMD_INLINE v_i32 vi_max(v_i32 a, v_i32 b) { return IGQ_X86(max_epi32)(a, b); }
IGQ_SIMD_INLINE v_i32 vi_min_u32(v_i32 a, v_i32 b) { return IGQ_X86(min_epu32)(a, b); }
/* a b per int32 lane for b in [0, 2^15) and a in [-2^15, 2^15) (vpmaddwd: the high halves
 * contribute a_hi b_hi = 0; one uop where vpmulld takes two) */
IGQ_SIMD_INLINE v_i32 vi_mul_small(v_i32 a, v_i32 b) { return IGQ_X86(madd_epi16)(a, b); }
IGQ_SIMD_INLINE v_cnt vi_cnt(int32_t s) { return _mm_cvtsi32_si128(s); }
IGQ_SIMD_INLINE v_i32 vi_srl(v_i32 a, v_cnt s) { return IGQ_X86(srl_epi32)(a, s); }
IGQ_SIMD_INLINE v_i32 vi_sra(v_i32 a, v_cnt s) { return IGQ_X86(sra_epi32)(a, s); }
#define vi_srli(a, imm) IGQ_X86(srli_epi32)(a, imm)
#define vi_srai(a, imm) IGQ_X86(srai_epi32)(a, imm)

/* ---- int64 lanes ---- */
IGQ_SIMD_INLINE v_i32 vl_set1(int64_t a) { return IGQ_X86_SET1_64(a); }
IGQ_SIMD_INLINE v_i32 vl_load(const int64_t *p) { return IGQ_X86_SI(loadu)((const void *)p); }
IGQ_SIMD_INLINE v_i32 vl_add(v_i32 a, v_i32 b) { return IGQ_X86(add_epi64)(a, b); }
IGQ_SIMD_INLINE v_i32 vl_sub(v_i32 a, v_i32 b) { return IGQ_X86(sub_epi64)(a, b); }
/* products of the (signed / unsigned) low 32 bits of each 64-bit lane */
IGQ_SIMD_INLINE v_i32 vl_mul_i32(v_i32 a, v_i32 b) { return IGQ_X86(mul_epi32)(a, b); }
IGQ_SIMD_INLINE v_i32 vl_mul_u32(v_i32 a, v_i32 b) { return IGQ_X86(mul_epu32)(a, b); }
IGQ_SIMD_INLINE v_i32 vl_srl(v_i32 a, v_cnt s) { return IGQ_X86(srl_epi64)(a, s); }
#define vl_srli(a, imm) IGQ_X86(srli_epi64)(a, imm)
#define vl_slli(a, imm) IGQ_X86(slli_epi64)(a, imm)

#endif
