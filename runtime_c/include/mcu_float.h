/* SPDX-License-Identifier: Apache-2.0 */
/* The float kernels' loops (conv, depthwise, fully connected), written once for both weight formats: float32
 * (the float32 mode's _f32 kernels) and IEEE half (the float16 mode's _f16 kernels), read through an accessor
 * that the compiler inlines (each kernel passes a constant one to a static inline body). */
#ifndef MCU_FLOAT_H
#define MCU_FLOAT_H

#include <stdint.h>
#include <string.h>

#include "mcu_nn.h"
#include "mcu_window.h"

/* IEEE half -> float32, exactly (every half is a float32): integer operations only, so every core, with or
 * without an FPU, gets the same value. */
static inline float mcu_half_to_float(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exponent = (uint32_t)(h >> 10) & 0x1Fu;
    uint32_t mantissa = (uint32_t)h & 0x3FFu;
    uint32_t bits;
    if (exponent == 0x1Fu) {            /* infinity, NaN */
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent != 0) {         /* normal: rebias 15 -> 127 */
        bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {         /* signed zero */
        bits = sign;
    } else {                            /* subnormal m * 2^-24: normalized */
        uint32_t e = 113u;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            --e;
        }
        bits = sign | (e << 23) | ((mantissa & 0x3FFu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

typedef float (*mcu_weight_at_t)(const void *weights, int32_t index);

static inline float mcu_weight_f32(const void *weights, int32_t index)
{
    return ((const float *)weights)[index];
}

static inline float mcu_weight_f16(const void *weights, int32_t index)
{
    return mcu_half_to_float(((const uint16_t *)weights)[index]);
}

#if MCU_HAS_FP16_CVT
/* The FPU's VCVTB: exact as mcu_half_to_float (no half is beyond float32), two instructions. */
static inline float mcu_weight_f16_vcvt(const void *weights, int32_t index)
{
    float f;
    const uint32_t h = ((const uint16_t *)weights)[index];
    __asm__("vmov %0, %1\n\tvcvtb.f32.f16 %0, %0" : "=t"(f) : "r"(h));
    return f;
}
#endif

static inline float mcu_clamp_f32(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* filter [out_c][kernel_h][kernel_w][in_c]; acc = bias, then += input * weight over the taps inside the input,
 * in tap order. */
static inline void mcu_conv2d_float(const mcu_conv2d_f32_params_t *p, const void *filter, mcu_weight_at_t at,
                                    const float *input, float *output)
{
    const int32_t in_w = p->in_w, in_c = p->in_c, out_c = p->out_c, kernel_w = p->kernel_w;
    const int32_t filter_size = p->kernel_h * kernel_w * in_c;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            const mcu_window_t win = MCU_WINDOW_OF(p, oy, ox);
            for (int32_t oc = 0; oc < out_c; ++oc) {
                float acc = p->bias[oc];
                for (int32_t ky = win.ky_begin; ky < win.ky_end; ++ky) {
                    const int32_t in_y = win.in_y0 + ky * p->dilation_h;
                    for (int32_t kx = win.kx_begin; kx < win.kx_end; ++kx) {
                        const float *in = input + (in_y * in_w + win.in_x0 + kx * p->dilation_w) * in_c;
                        const int32_t f = oc * filter_size + (ky * kernel_w + kx) * in_c;
                        for (int32_t ic = 0; ic < in_c; ++ic) {
                            acc += in[ic] * at(filter, f + ic);
                        }
                    }
                }
                output[(oy * p->out_w + ox) * out_c + oc] = mcu_clamp_f32(acc, p->act_min, p->act_max);
            }
        }
    }
}

/* filter [kernel_h][kernel_w][out_c], output channel oc reads input channel oc / depth_multiplier. */
static inline void mcu_depthwise_conv2d_float(const mcu_conv2d_f32_params_t *p, const void *filter,
                                              mcu_weight_at_t at, const float *input, float *output)
{
    const int32_t in_w = p->in_w, in_c = p->in_c, out_c = p->out_c, kernel_w = p->kernel_w;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            const mcu_window_t win = MCU_WINDOW_OF(p, oy, ox);
            for (int32_t oc = 0; oc < out_c; ++oc) {
                const int32_t ic = oc / p->depth_multiplier;
                float acc = p->bias[oc];
                for (int32_t ky = win.ky_begin; ky < win.ky_end; ++ky) {
                    const int32_t in_y = win.in_y0 + ky * p->dilation_h;
                    for (int32_t kx = win.kx_begin; kx < win.kx_end; ++kx) {
                        const float x = input[(in_y * in_w + win.in_x0 + kx * p->dilation_w) * in_c + ic];
                        acc += x * at(filter, (ky * kernel_w + kx) * out_c + oc);
                    }
                }
                output[(oy * p->out_w + ox) * out_c + oc] = mcu_clamp_f32(acc, p->act_min, p->act_max);
            }
        }
    }
}

/* weights [out_features][in_features]; each row r: bias, then += input * weight in feature order. */
static inline void mcu_fully_connected_float(const mcu_fully_connected_f32_params_t *p, const void *weights,
                                             mcu_weight_at_t at, const float *input, float *output)
{
    const int32_t in_features = p->in_features, out_features = p->out_features;
    for (int32_t r = 0; r < p->rows; ++r) {
        const float *in = input + r * in_features;
        for (int32_t o = 0; o < out_features; ++o) {
            float acc = p->bias[o];
            for (int32_t i = 0; i < in_features; ++i) {
                acc += in[i] * at(weights, o * in_features + i);
            }
            output[r * out_features + o] = mcu_clamp_f32(acc, p->act_min, p->act_max);
        }
    }
}

#endif
