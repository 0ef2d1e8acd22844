/* The quantization options: one table from which the public enum's bounds and defaults, the
 * validation of igq_config_set and the option names in error messages all come. Private header.
 *
 * X(NAME, MIN, MAX, DEFAULT, ZERO) describes IGQ_OPT_<NAME>: every value in [MIN, MAX] is
 * accepted (igq_option_bounds reports exactly this range); ZERO = 1 means 0 is accepted too,
 * below MIN, as the option's "unset" value (ATTN_BITS: same as ACT_BITS;
 * MIXED_PRECISION_BUDGET: off). Rows follow the public enum igq_option, which is append-only:
 * a new option is a new row at the end (options.c checks the order and values at compile
 * time). */
#ifndef IGQ_PTQ_OPTIONS_H
#define IGQ_PTQ_OPTIONS_H

#include <stdint.h>

#include "igq/igq.h"
#include "../core/compiler.h"

#define IGQ__OPTION_TABLE(X)                                                                    \
    X(WEIGHT_BITS, 2, 8, 8, 0)                                                                  \
    X(ACT_BITS, 2, 8, 8, 0)                                                                     \
    X(ATTN_BITS, 2, 8, 0, 1)                                                                    \
    X(EDGE_BITS, 2, 8, 8, 0)                                                                    \
    X(ACT_GRANULARITY, IGQ_GRANULARITY_TENSOR, IGQ_GRANULARITY_CHANNEL, IGQ_GRANULARITY_GROUP, \
      0)                                                                                        \
    X(GROUPS, 1, 64, 8, 0)                                                                      \
    X(GROUP_BUDGET, 0, 64, 0, 0)                                                                \
    X(CALIBRATOR, IGQ_CALIBRATOR_MINMAX, IGQ_CALIBRATOR_KL, IGQ_CALIBRATOR_MINMAX, 0)          \
    X(WEIGHT_CALIBRATOR, IGQ_CALIBRATOR_MINMAX, IGQ_CALIBRATOR_KL, IGQ_CALIBRATOR_MINMAX, 0)   \
    X(SEED, 0, INT64_MAX, 0, 0)                                                                 \
    X(EXECUTOR, IGQ_EXECUTOR_INT, IGQ_EXECUTOR_SIM, IGQ_EXECUTOR_INT, 0)                        \
    X(ATTN_RANKING, 0, 1, 0, 0)                                                                 \
    X(MIXED_PRECISION_BUDGET, 200, 800, 0, 1)                                                   \
    X(GROUP_ASSIGNMENT, IGQ_ASSIGN_COVER, IGQ_ASSIGN_NEAREST, IGQ_ASSIGN_COVER, 0)              \
    X(WEIGHT_ROUNDING, IGQ_ROUNDING_NEAREST, IGQ_ROUNDING_GPTQ, IGQ_ROUNDING_NEAREST, 0)

/* Row indices: IGQ__OPTROW_<NAME>, and the number of public options. */
#define IGQ__OPTION_ROW(name, lo, hi, def, zero) IGQ__OPTROW_##name,
enum { IGQ__OPTION_TABLE(IGQ__OPTION_ROW) IGQ__N_PUBLIC_OPTIONS };
#undef IGQ__OPTION_ROW

#endif
