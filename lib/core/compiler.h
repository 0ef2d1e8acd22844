/* Compiler requirements of the library. Private header, included (through core/alloc.h and
 * kernels/kernels.h) by every translation unit that computes in floating point. */
#ifndef IGQ_CORE_COMPILER_H
#define IGQ_CORE_COMPILER_H

/* Every executor gives the bits of the scalar kernels at every ISA level and with every
 * compiler. That needs IEEE arithmetic exactly as written: no reassociation, no reciprocal
 * approximations, no flushed denormals (-ffast-math and its parts), and no a*b+c fused on the
 * compiler's initiative (the Makefile passes -ffp-contract=off; every fma in the library is an
 * explicit fmaf() or intrinsic). */
#ifdef __FAST_MATH__
#error "libigq must not be built with -ffast-math: results would depend on the compiler and ISA"
#endif
#if defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__
#error "libigq must not be built with -ffinite-math-only: the kernels handle inf and NaN"
#endif

/* C99 compile-time assertion at file scope (a negative array size fails to compile). */
#define IGQ__STATIC_ASSERT(name, cond) typedef char igq__static_assert_##name[(cond) ? 1 : -1]

#endif
