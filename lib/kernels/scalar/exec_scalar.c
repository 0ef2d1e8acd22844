/* Executor helpers (exec_inl.h) for the baseline target: the reference every level matches. */
#include "../kernels.h"

#include "../exec_inl.h"

IGQ_EXEC_HELPERS(IGQ_EXEC_DEFINE, scalar)
