#include "mcu_nn.h"

MCU_KERNEL void mcu_quantize_f32_s8(const mcu_quantize_params_t *p, const float *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        float q = input[i] / p->scale;
        /* clamp first so that the conversion to int is defined; NaN fails the first test and lands low */
        q = q > -1000.0f ? q : -1000.0f;
        q = q < 1000.0f ? q : 1000.0f;
        const int32_t t = (int32_t)q; /* truncation toward zero */
        const float frac = q - (float)t; /* exact */
        const int32_t rounded = frac >= 0.5f ? t + 1 : (frac <= -0.5f ? t - 1 : t);
        const int32_t v = rounded + p->zero_point;
        output[i] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
}
