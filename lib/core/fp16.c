/* IEEE binary16 and bfloat16 to f32 by bit manipulation. Every binary16 and bfloat16 value
 * (normal, subnormal, zero, infinity, NaN with its payload) is exactly representable in f32,
 * so both conversions are exact. */
#include "fp16.h"

#include <string.h>

static float bits_to_f32(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

float igq__f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp  = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;

    if (exp == 0x1Fu) /* infinity or NaN: keep the payload, quiet bit stays in place */
        return bits_to_f32(sign | 0x7F800000u | (mant << 13));
    if (exp != 0) /* normal: rebias 15 -> 127 */
        return bits_to_f32(sign | ((exp + 112u) << 23) | (mant << 13));
    if (mant == 0) return bits_to_f32(sign); /* signed zero */
    /* Subnormal: value = mant * 2^-24. Normalize so that the implicit bit is bit 10; the f32
     * exponent starts at that of 2^-14 and drops by one per shift. */
    exp = 127u - 14u;
    while ((mant & 0x400u) == 0) {
        mant <<= 1;
        exp--;
    }
    mant &= 0x3FFu;
    return bits_to_f32(sign | (exp << 23) | (mant << 13));
}

float igq__bf16_to_f32(uint16_t h) { return bits_to_f32((uint32_t)h << 16); }
