/* CPU feature detection (cpuid + xgetbv) and the ISA levels the kernels are built for.
 * Private header: must remain private to libigq. */
#ifndef IGQ_CORE_CPU_H
#define IGQ_CORE_CPU_H

#include "compiler.h"

/* Ordered: each level needs everything the lower ones need, except that avxvnni and
 * avx512vnni are not nested (a CPU may have AVX-512 VNNI without AVX-VNNI, e.g. Ice Lake,
 * Zen 4); see igq__cpu_supports(). */
typedef enum igq_isa_level {
    IGQ_ISA_SCALAR     = 0, /* plain C, baseline x86-64 or any other target */
    IGQ_ISA_AVX2       = 1, /* AVX + AVX2 + FMA, OS saves YMM state */
    IGQ_ISA_AVXVNNI    = 2, /* avx2 + AVX-VNNI (VEX vpdpbusd) */
    IGQ_ISA_AVX512VNNI = 3  /* avx2 + AVX-512 F/BW/VL/VNNI, OS saves ZMM and opmask state */
} igq_isa_level;

#define IGQ_ISA_COUNT 4 /* levels above; core/cpu.c asserts it */

/* Raw feature bits, each 0 or 1. os_ymm: XCR0 bits 1-2; os_zmm: XCR0 bits 5-7. */
typedef struct igq_cpu_features {
    unsigned char avx, avx2, fma, avxvnni;
    unsigned char avx512f, avx512bw, avx512vl, avx512vnni;
    unsigned char os_ymm, os_zmm;
} igq_cpu_features;

/* Features of this CPU, detected once (pthread_once); all zero on non-x86-64 builds.
 * Thread safety: any thread. */
const igq_cpu_features *igq__cpu_features(void);

/* 1 if a CPU with features f can run code built for level (scalar: always 1). Pure. */
int igq__cpu_features_support(const igq_cpu_features *f, igq_isa_level level);

/* igq__cpu_features_support() for this CPU. */
int igq__cpu_supports(igq_isa_level level);

/* The highest level this CPU supports. */
igq_isa_level igq__cpu_best_isa(void);

#endif
