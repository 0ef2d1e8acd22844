/* Executor helpers (exec_inl.h) compiled for this level's ISA at -O3 (vectorized by the
 * compiler; the Makefile's rule for exec_*.o). */
#include "../kernels.h"

#if defined(IGQ_X86_KERNELS)

#include "../exec_inl.h"

IGQ_EXEC_HELPERS(IGQ_EXEC_DEFINE, avx512)

#else
typedef int igq_exec_avx512_empty; /* ISO C forbids an empty translation unit */
#endif
