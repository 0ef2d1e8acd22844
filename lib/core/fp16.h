/* IEEE half and bfloat16 to f32 conversion (exact). Private header. */
#ifndef IGQ_CORE_FP16_H
#define IGQ_CORE_FP16_H

#include "compiler.h"

#include <stdint.h>

float igq__f16_to_f32(uint16_t h);
float igq__bf16_to_f32(uint16_t h);

#endif
