/* SPDX-License-Identifier: Apache-2.0 */
/* mcu-codegen runtime: every kernel's parameters and prototype (CMSIS-NN style naming).
 *
 * Layouts: feature maps NHWC with batch 1, regular conv filters OHWI, depthwise filters [KH][KW][OC],
 * fully connected weights [OUT][IN]. Zero points are zero points: a kernel computes (x - input_zp).
 * Requantization: mcu_multiply_by_quantized_multiplier(acc, mult[c], shift[c]) + output_zp, clamped to
 * [act_min, act_max] (the fused activation). Parameter structs are filled by the generator with designated
 * initializers; their arrays point to const data in flash.
 *
 * Kernels have external linkage by default. The generated model source defines MCU_KERNELS_STATIC and includes
 * the kernel sources it uses, so each model gets private copies and two models link into one firmware; then
 * the prototypes are left out (a static function declared but not defined is a warning). In a generated folder
 * the kernel sources are named runtime/<kernel>.inc, so that a build which compiles every .c it finds (CMake
 * GLOB_RECURSE, PlatformIO, Arduino, IDE projects) compiles each model's <name>.c and nothing else. */
#ifndef MCU_NN_H
#define MCU_NN_H

#include <stdint.h>

#ifdef MCU_KERNELS_STATIC
#define MCU_KERNEL static
#else
#define MCU_KERNEL
#endif

/* The instruction sets of the faster kernel forms, from the compiler's ACLE feature macros: the generated call
 * sites pick a form with these, so a model converted without --board gets the fast path in any build.
 * Little-endian only: the forms read four int8 lanes from one word in address order. GNU C compilers only (GCC,
 * clang, armclang): the forms' inner loops are GNU inline assembly; another compiler (IAR) builds the portable
 * forms, the same integers. */
#if defined(__GNUC__) && defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(__ARM_BIG_ENDIAN)
#define MCU_HAS_MVE 1 /* Helium, integer (Armv8.1-M: Cortex-M55, M85) */
#else
#define MCU_HAS_MVE 0
#endif
#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && !defined(__ARM_BIG_ENDIAN)
#define MCU_HAS_DSP 1 /* SMLAD, SXTB16 (Cortex-M4, M7, M33, M35P, M55) */
#else
#define MCU_HAS_DSP 0
#endif
/* Thumb-1 only (Armv6-M: Cortex-M0, M0+, M1; Armv8-M baseline: M23): no multiply-accumulate, eight low registers;
 * the forms' inner loops are GCC / clang naked assembly functions (mcu_thumb1.h), at every optimization level. */
#if defined(__GNUC__) && defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB == 1 && !defined(__ARM_ARCH_ISA_ARM)
#define MCU_HAS_THUMB1 1
#else
#define MCU_HAS_THUMB1 0
#endif
/* VCVTB half -> single, one instruction (every M-profile FPU: FPv4-SP on the M4F, FPv5 on the M7 and M33, the
 * M55's); GCC and clang inline assembly. */
#if defined(__GNUC__) && defined(__ARM_FP) && defined(__ARM_ARCH_ISA_THUMB) && !defined(__ARM_ARCH_ISA_ARM)
#define MCU_HAS_FP16_CVT ((__ARM_FP & 4) != 0) /* Thumb only: M-profile; a single-precision FPU */
#else
#define MCU_HAS_FP16_CVT 0
#endif

typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;          /* bottom/right padding follows from the output size */
    int32_t input_zp, output_zp;
    int32_t act_min, act_max;
    const int8_t *filter;               /* conv: [out_c][kernel_h][kernel_w][in_c]; depthwise: [kernel_h][kernel_w][out_c] */
    const int32_t *bias;                /* [out_c], scale input_scale * filter_scale[c] */
    const int32_t *out_mult;            /* [out_c] */
    const int32_t *out_shift;           /* [out_c] */
    const int32_t *out_round;           /* [out_c][2] or NULL: {rounding, exponent} of mcu_requant_round (with out_mult)
                                         * where the generator proved it exact (int8, faster forms) */
    int32_t depth_multiplier;           /* depthwise only: out_c = in_c * depth_multiplier */
    const int32_t *interior_bias;       /* [out_c] or NULL: with padding, the bias with the input zero point folded
                                         * in, for positions whose window lies inside the input (faster forms) */
} mcu_conv2d_params_t;

/* out[y][x][oc] = requant(bias[oc] + sum_{ky,kx,ic} (in[y*s+ky*d-pad][x*s+kx*d-pad][ic] - input_zp) * filter[oc][ky][kx][ic]);
 * taps outside the input contribute nothing. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_conv2d_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output);
#endif

/* mcu_conv2d_s8 for dilation_w 1, four output channels per pass (every input load feeds four of them) over each
 * kernel row's run of memory; the DSP form four taps of the run per SMLAD pair. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_conv2d_fast_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output);
MCU_KERNEL void mcu_conv2d_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                  void *scratch); /* two windows and their widened pairs (conv2d.SCRATCH) */
MCU_KERNEL void mcu_conv2d_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                  void *scratch); /* MCU_GEMM_MVE_BLOCK * kernel_h * kernel_w * in_c bytes */
MCU_KERNEL void mcu_conv2d_thumb1_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                     void *scratch); /* two windows (conv2d.SCRATCH) */
/* first layers (in_c <= 3), the zero point folded (interior_bias, or input_zp 0): the filters widened once into
 * the scratch buffer (conv2d.SCRATCH), two positions' windows as int16 pairs against every two filters (SMLAD) */
MCU_KERNEL void mcu_conv2d_first_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                        void *scratch);
#endif

/* mcu_conv2d_s8 for a 1x1 kernel, stride 1, no padding, input_zp 0 (folded into the bias): a matrix product
 * over the out_h * out_w positions (mcu_gemm_s8.h). Portable, DSP (MCU_HAS_DSP), Helium (MCU_HAS_MVE) and Thumb-1
 * (MCU_HAS_THUMB1, mcu_gemm_thumb1.h) forms. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_conv2d_1x1_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output);
MCU_KERNEL void mcu_conv2d_1x1_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                      void *scratch); /* 4 * (depth & ~3) bytes */
MCU_KERNEL void mcu_conv2d_1x1_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                      void *scratch); /* MCU_GEMM_MVE_BLOCK * in_c bytes */
MCU_KERNEL void mcu_conv2d_1x1_thumb1_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output);
/* in_c <= 16: */
MCU_KERNEL void mcu_conv2d_1x1_shallow_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                              void *scratch); /* MCU_GEMM_MVE_SHALLOW_BLOCK * in_c bytes */
#endif

/* out[y][x][c*m+j] = requant(bias + sum_{ky,kx} (in[..][..][c] - input_zp) * filter[ky][kx][c*m+j]), m = depth_multiplier. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_depthwise_conv2d_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output);
#endif

/* mcu_depthwise_conv2d_s8 for depth multiplier 1, four channels per pass (the DSP form: one word load each for
 * their inputs and filter taps). Any window, stride, padding and dilation. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_depthwise_conv2d_fast_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output);
MCU_KERNEL void mcu_depthwise_conv2d_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output);
/* dilation_w 1: */
MCU_KERNEL void mcu_depthwise_conv2d_thumb1_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                               void *scratch); /* one window: kernel_h * kernel_w * out_c bytes */
/* mcu_depthwise_conv2d_dsp_s8 for 3x3 kernels of dilation 1 at stride_w 1 and 2, the zero point folded
 * (interior_bias, or input_zp 0): the padding in a ring of three input rows (3 * ((out_w - 1) * stride_w + 3) *
 * out_c bytes of scratch); at stride 1 two positions per pass */
MCU_KERNEL void mcu_depthwise_conv2d_3x3_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                                void *scratch);
MCU_KERNEL void mcu_depthwise_conv2d_3x3s2_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input,
                                                  int8_t *output, void *scratch);
MCU_KERNEL void mcu_depthwise_conv2d_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                            void *scratch); /* the rows of mcu_depthwise_mve.h */
/* mcu_depthwise_conv2d_mve_s8 for kernel_w 3, dilation_w 1 at stride_w 1 and 2 (constant steps) */
MCU_KERNEL void mcu_depthwise_conv2d_3x3_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                                void *scratch);
MCU_KERNEL void mcu_depthwise_conv2d_3x3s2_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input,
                                                  int8_t *output, void *scratch);
#endif

typedef struct {
    int32_t rows, in_features, out_features;
    int32_t input_zp, output_zp;
    int32_t act_min, act_max;
    const int8_t *weights;              /* [out_features][in_features] */
    const int32_t *bias;                /* [out_features] */
    const int32_t *out_mult;            /* [out_features]: per channel (per tensor = all equal) */
    const int32_t *out_shift;
    const int32_t *out_round;           /* [out_features][2] or NULL: as mcu_conv2d_params_t's */
} mcu_fully_connected_params_t;

/* out[r][o] = requant(bias[o] + sum_i (in[r][i] - input_zp) * weights[o][i]). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_fully_connected_s8(const mcu_fully_connected_params_t *p, const int8_t *input, int8_t *output);
#endif

/* mcu_fully_connected_s8 with input_zp 0 (folded into the bias): mcu_gemm_s8.h's portable, DSP and Helium forms. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_fully_connected_fast_s8(const mcu_fully_connected_params_t *p, const int8_t *input,
                                            int8_t *output);
MCU_KERNEL void mcu_fully_connected_dsp_s8(const mcu_fully_connected_params_t *p, const int8_t *input,
                                           int8_t *output, void *scratch); /* 4 * (depth & ~3) bytes */
/* DSP, one row (rows == 1): the row widened once into scratch, 2 * (depth & ~3) bytes + 8 (depth >= 4) */
MCU_KERNEL void mcu_fully_connected_row_dsp_s8(const mcu_fully_connected_params_t *p, const int8_t *input,
                                               int8_t *output, void *scratch);
MCU_KERNEL void mcu_fully_connected_mve_s8(const mcu_fully_connected_params_t *p, const int8_t *input,
                                           int8_t *output);
MCU_KERNEL void mcu_fully_connected_thumb1_s8(const mcu_fully_connected_params_t *p, const int8_t *input,
                                              int8_t *output);
#endif

typedef struct {
    int32_t size;
    int32_t input1_zp, input2_zp, output_zp;
    int32_t left_shift;                 /* 20 for int8, as TFLite */
    int32_t input1_mult, input1_shift, input2_mult, input2_shift;
    int32_t output_mult, output_shift;
    int32_t act_min, act_max;
    /* broadcast (rank 0: both inputs have the output's shape): output index i over dims[0..rank) reads input1
     * at the offset sum(index[d] * input1_strides[d]) (mcu_strided_walk_t), likewise input2; a broadcast axis
     * has stride 0 */
    int32_t rank, dims[6], input1_strides[6], input2_strides[6];
    int32_t subtract;                   /* 1: TFLite SUB (the scaled second input subtracted); 0: ADD */
} mcu_add_params_t;

/* TFLite int8 ADD (and SUB): both inputs scaled to a common 2^-20 grid, summed (or subtracted), requantized;
 * broadcast as TFLite. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_add_s8(const mcu_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);
#endif

/* mcu_add_s8 without broadcasting (rank 0), faster: the portable form with its parameters in locals, and the
 * Helium form four lanes at a time. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_add_fast_s8(const mcu_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);
MCU_KERNEL void mcu_add_mve_s8(const mcu_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);
#endif

typedef struct {
    int32_t size;
    int32_t input1_zp, input2_zp, output_zp;
    int32_t output_mult, output_shift;  /* input1_scale * input2_scale / output_scale */
    int32_t act_min, act_max;
    int32_t rank, dims[6], input1_strides[6], input2_strides[6];   /* broadcast, as mcu_add_params_t */
} mcu_mul_params_t;

/* TFLite int8 MUL: out = clamp(requant((in1 - input1_zp) * (in2 - input2_zp)) + output_zp); broadcast. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_mul_s8(const mcu_mul_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);
#endif

typedef struct {
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t act_min, act_max;
} mcu_pool_params_t;

/* Max over the window's taps inside the input. Input and output share scale and zero point. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_max_pool_s8(const mcu_pool_params_t *p, const int8_t *input, int8_t *output);
#endif

/* Mean over the window's taps inside the input (padding not counted), rounded half away from zero, as TFLM.
 * Input and output share scale and zero point. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_avg_pool_s8(const mcu_pool_params_t *p, const int8_t *input, int8_t *output);
#endif

/* mcu_avg_pool_s8 on Helium for windows of at most kernel_h * kernel_w = 256 taps (int16 sums). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_avg_pool_mve_s8(const mcu_pool_params_t *p, const int8_t *input, int8_t *output);
#endif

typedef struct {
    int32_t rows, depth;
    int32_t input_mult, input_left_shift;   /* beta * input_scale * 2^26 as a multiplier >= 1 */
    int32_t diff_min;                       /* inputs further than this below the row max give exp = 0 */
} mcu_softmax_params_t;

/* TFLite int8 softmax over the last axis, gemmlowp fixed-point exp and reciprocal; output scale 1/256, zp -128. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_softmax_s8(const mcu_softmax_params_t *p, const int8_t *input, int8_t *output);
#endif

typedef struct {
    int32_t out_size;                   /* output elements */
    int32_t count;                      /* input elements averaged into each output */
    /* strided index spaces (mcu_strided_walk_t), rank <= 6 (ops/_common.py MAX_DIMS) */
    int32_t kept_rank, kept_dims[6], kept_strides[6];           /* output index -> input offset */
    int32_t reduced_rank, reduced_dims[6], reduced_strides[6];  /* tap index -> offset from there */
    int32_t input_zp, output_zp;        /* integer kernels only, as the fields below */
    int32_t mult, shift;                /* input_scale / (output_scale * count), folded as TFLM does */
    int32_t q_min, q_max;               /* the output type's range */
} mcu_mean_params_t;

/* TFLite int8 MEAN over any axes: out[o] = clamp(requant(sum_r (in[kept(o) + reduced(r)] - input_zp), mult, shift)
 * + output_zp, q_min, q_max), the sum in int32. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_mean_s8(const mcu_mean_params_t *p, const int8_t *input, int8_t *output);
#endif

/* TFLite int16 MEAN: as mcu_mean_s8 (zero points 0, the 32-bit requantization, as TFLM). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_mean_s16(const mcu_mean_params_t *p, const int16_t *input, int16_t *output);
#endif

/* float MEAN: the float sum in tap order, divided by count. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_mean_f32(const mcu_mean_params_t *p, const float *input, float *output);
#endif

typedef struct {
    int32_t size;
    int32_t input_zp;
    int32_t input_mult, input_left_shift;   /* input_scale * 2^27: (x - zp) to gemmlowp's 4-integer-bit fixed point */
    int32_t input_range_radius;             /* |x - zp| at or beyond it saturates the output */
} mcu_logistic_params_t;

/* TFLite int8 LOGISTIC: out = round(logistic(x) * 256) - 128 (output scale 1/256, zero point -128), gemmlowp's
 * fixed-point logistic. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_logistic_s8(const mcu_logistic_params_t *p, const int8_t *input, int8_t *output);
#endif

/* TFLite int8 TANH: out = round(tanh(x) * 128) (output scale 1/128, zero point 0), gemmlowp's fixed-point tanh. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_tanh_s8(const mcu_logistic_params_t *p, const int8_t *input, int8_t *output);
#endif

typedef struct {
    /* the output's row-major index space (mcu_strided_walk_t), rank <= 6 (ops/_common.py MAX_DIMS): size-1 axes
     * dropped, input axes that stay neighbours merged; strides are the input's, in elements */
    int32_t rank, dims[6], strides[6];
    int32_t element_size;               /* bytes per element: 1 (int8), 2 (int16) or 4 (float) */
} mcu_transpose_params_t;

/* out = numpy.transpose(in, perm), for elements of any size (a transpose only moves bytes): output element i is
 * input element sum_d index_d(i) * strides[d]. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_transpose(const mcu_transpose_params_t *p, const void *input, void *output);
#endif

typedef struct {
    int32_t count;                      /* inputs */
    int32_t outer;                      /* product of the output dims before the axis */
    const int32_t *chunk;               /* [count]: elements input k gives per outer index (its axis dim x inner) */
    const int32_t *requantize;          /* [count]: 0 copy (the output's quantization), 1 requantize */
    const int32_t *input_zp, *mult, *shift;     /* [count]: (x - input_zp) * input_scale / output_scale */
    int32_t output_zp, q_min, q_max;
} mcu_concat_params_t;

/* TFLite CONCATENATION along any axis: for each outer index, input 0's chunk, input 1's, ...; an input with the
 * output's quantization is copied (TFLM's int8 case), another requantized. inputs: [count] pointers. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_concat_s8(const mcu_concat_params_t *p, const int8_t *const *inputs, int8_t *output);
MCU_KERNEL void mcu_concat_s16(const mcu_concat_params_t *p, const int16_t *const *inputs, int16_t *output);
MCU_KERNEL void mcu_concat_f32(const mcu_concat_params_t *p, const float *const *inputs, float *output);
#endif

typedef struct {
    int32_t size;
    int32_t input_zp, output_zp;
    int32_t mult, shift;                /* input_scale / output_scale */
    int32_t act_min, act_max;           /* the clamp's bounds in the output's scale */
} mcu_relu_params_t;

/* TFLite int8 / int16 RELU (and a standalone clamp): out = clamp(requant(in - input_zp) + output_zp). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_relu_s8(const mcu_relu_params_t *p, const int8_t *input, int8_t *output);
MCU_KERNEL void mcu_relu_s16(const mcu_relu_params_t *p, const int16_t *input, int16_t *output);
#endif

typedef struct {
    int32_t size;
    float act_min, act_max;
} mcu_relu_f32_params_t;

/* float clamp to [act_min, act_max]. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_relu_f32(const mcu_relu_f32_params_t *p, const float *input, float *output);
#endif

typedef struct {
    int32_t size;                       /* bytes */
    const void *data;                   /* the constant in flash, as the tensor stores it */
} mcu_constant_params_t;

/* A constant operand copied into the arena for the op that reads it. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_constant(const mcu_constant_params_t *p, void *output);
#endif

typedef struct {
    int32_t in_h, in_w, channels, out_h, out_w;
    const int32_t *rows_lo, *rows_hi;   /* [out_h]: the two input rows y0 <= y1 each output row reads */
    const int32_t *rows_w;              /* [out_h]: the weight of row y1 in 1/1024 (row y0: 1024 - it) */
    const int32_t *cols_lo, *cols_hi, *cols_w;  /* [out_w]: the same for columns */
} mcu_resize_bilinear_params_t;

/* TFLM's int8 RESIZE_BILINEAR (ResizeBilinearInteger): out = round_half_away((in[y0][x0] (1024 - wy)(1024 - wx)
 * + in[y1][x0] wy (1024 - wx) + in[y0][x1] (1024 - wy) wx + in[y1][x1] wy wx) / 2^20), NHWC, the input's
 * quantization kept. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_resize_bilinear_s8(const mcu_resize_bilinear_params_t *p, const int8_t *input, int8_t *output);
#endif

typedef struct {
    int32_t in_h, in_w, channels, out_h, out_w;
    const int32_t *rows_lo, *rows_hi;
    const float *rows_frac;             /* [out_h]: input coordinate - y0 (TFLite's float kernel) */
    const int32_t *cols_lo, *cols_hi;
    const float *cols_frac;
} mcu_resize_bilinear_f32_params_t;

/* TFLite's float RESIZE_BILINEAR: out = in[y0][x0] (1 - dy)(1 - dx) + in[y1][x0] dy (1 - dx)
 * + in[y0][x1] (1 - dy) dx + in[y1][x1] dy dx. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_resize_bilinear_f32(const mcu_resize_bilinear_f32_params_t *p, const float *input, float *output);
#endif

typedef struct {
    int32_t rank;                       /* outer axes walked (0 to 6), after dropping single positions */
    int32_t dims[6];                    /* output positions along each outer axis (padded with 1s) */
    int32_t count;                      /* product of dims: how many runs are copied */
    int32_t base;                       /* byte offset in the input shared by every run */
    int32_t run;                        /* bytes copied per output position of the outer axes (whole inner axes) */
    const int32_t *offsets;             /* [sum of dims]: each outer axis's input byte offsets, axis after axis */
} mcu_index_copy_params_t;

/* SLICE, STRIDED_SLICE, SPLIT, SPLIT_V, UNPACK, GATHER, TILE, RESIZE_NEAREST_NEIGHBOR: for each output position
 * (i_0, ..., i_rank-1), row-major, copy `run` bytes from input + base + sum_d offsets_d[i_d]. Any element size.
 * The output may lie over the input where the runs read it in increasing order (each run is moved, memmove). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_index_copy(const mcu_index_copy_params_t *p, const void *input, void *output);
#endif

typedef struct {
    int32_t out_size, element_size;     /* bytes per element: 1, 2 or 4 */
    int32_t rank, in_dims[6], in_strides[6], out_dims[6], before[6];    /* padded in front with 1s to rank 6 */
    const uint8_t *fill;                /* [element_size]: the fill value's bytes */
} mcu_pad_params_t;

/* TFLite PAD / PADV2: out = the input surrounded by `before` / (out_dims - in_dims - before) fill elements. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_pad(const mcu_pad_params_t *p, const void *input, void *output);
#endif

typedef struct {
    int32_t size;
    float scale;                        /* float32, as in the model */
    int32_t zero_point;
    int32_t q_min, q_max;               /* the integer type's range: -128, 127 or -32768, 32767 */
} mcu_quantize_params_t;

/* out = clamp(round_half_away(in / scale) + zero_point, q_min, q_max); NaN gives q_min. (float input edge) */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_quantize_f32_s8(const mcu_quantize_params_t *p, const float *input, int8_t *output);
#endif

/* out = (float)(in - zero_point) * scale. (float output edge) */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_dequantize_s8_f32(const mcu_quantize_params_t *p, const int8_t *input, float *output);
#endif

typedef struct {
    int32_t size;
} mcu_convert_params_t;

/* uint8 <-> int8 with the zero point moved by 128: flips the top bit. In place is allowed. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_convert_u8_s8(const mcu_convert_params_t *p, const void *input, void *output);
#endif

/* mcu_quantize_f32_s8 for int16 (16x8) models: zero_point 0, range [-32768, 32767]. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_quantize_f32_s16(const mcu_quantize_params_t *p, const float *input, int16_t *output);
#endif

/* out = (float)(in - zero_point) * scale. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_dequantize_s16_f32(const mcu_quantize_params_t *p, const int16_t *input, float *output);
#endif

typedef struct {
    int32_t size;
    int32_t input_zp, output_zp;
    int32_t mult, shift;                /* input_scale / output_scale */
    int32_t out_min, out_max;           /* the output type's range */
} mcu_requantize_params_t;

/* Between int8 and int16 layers (mixed precision): out = clamp(requant(in - input_zp) + output_zp). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_requantize_s8_s16(const mcu_requantize_params_t *p, const int8_t *input, int16_t *output);
MCU_KERNEL void mcu_requantize_s16_s8(const mcu_requantize_params_t *p, const int16_t *input, int8_t *output);
#endif

/* ---- 16x8: int16 activations (symmetric, zero point 0), int8 weights, int64 bias (TFLite's 16x8 scheme) ----
 * Accumulators are int64; requantization is mcu_multiply_by_quantized_multiplier_s64 (a 16-bit multiplier). */

typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    int32_t act_min, act_max;
    const int8_t *filter;               /* as mcu_conv2d_params_t */
    const int64_t *bias;                /* [out_c], scale input_scale * filter_scale[c] */
    const int32_t *out_mult;            /* [out_c] */
    const int32_t *out_shift;           /* [out_c] */
    int32_t depth_multiplier;
} mcu_conv2d_s16_params_t;

/* mcu_conv2d_s8 on int16 data: out = requant64(bias + sum in * filter). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_conv2d_s16(const mcu_conv2d_s16_params_t *p, const int16_t *input, int16_t *output);
#endif

/* mcu_depthwise_conv2d_s8 on int16 data. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_depthwise_conv2d_s16(const mcu_conv2d_s16_params_t *p, const int16_t *input, int16_t *output);
#endif

typedef struct {
    int32_t rows, in_features, out_features;
    int32_t act_min, act_max;
    const int8_t *weights;              /* [out_features][in_features] */
    const int64_t *bias;                /* [out_features] */
    const int32_t *out_mult;
    const int32_t *out_shift;
} mcu_fully_connected_s16_params_t;

/* out[r][o] = requant64(bias[o] + sum_i in[r][i] * weights[o][i]). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_fully_connected_s16(const mcu_fully_connected_s16_params_t *p, const int16_t *input,
                                        int16_t *output);
#endif

/* TFLite int16 ADD: as mcu_add_s8 with left_shift 15 and zero points 0. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_add_s16(const mcu_add_params_t *p, const int16_t *input1, const int16_t *input2, int16_t *output);
#endif

/* TFLite int16 MUL: as mcu_mul_s8, zero points 0. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_mul_s16(const mcu_mul_params_t *p, const int16_t *input1, const int16_t *input2, int16_t *output);
#endif

/* mcu_max_pool_s8 / mcu_avg_pool_s8 on int16 data (same rounding). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_max_pool_s16(const mcu_pool_params_t *p, const int16_t *input, int16_t *output);
MCU_KERNEL void mcu_avg_pool_s16(const mcu_pool_params_t *p, const int16_t *input, int16_t *output);
#endif

typedef struct {
    int32_t rows, depth;
    int32_t input_mult, input_left_shift;   /* beta * input_scale / (10 / 65535): differences onto [-65535, 0] */
    const int16_t *exp_lut;             /* [513]: exp over [-10, 0] */
    const int16_t *recip_lut;           /* [513]: 1 / (1 + x) over [0, 1] */
} mcu_softmax_s16_params_t;

/* TFLite int16 softmax: exp and reciprocal from interpolated tables; output scale 1/32768, zero point 0. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_softmax_s16(const mcu_softmax_s16_params_t *p, const int16_t *input, int16_t *output);
#endif

/* ---- float32 (no quantization): the same layouts, float arithmetic, clamps to [act_min, act_max] ---- */

typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    float act_min, act_max;
    const float *filter;                /* as mcu_conv2d_params_t (the _f32 kernels; 0 for the _f16 ones) */
    const uint16_t *filter_f16;         /* the same as IEEE half bit patterns (the _f16 kernels; 0 for _f32) */
    const float *bias;                  /* [out_c] */
    int32_t depth_multiplier;
} mcu_conv2d_f32_params_t;

/* _f16 (the float16 mode): float32 activations and arithmetic, the weights stored as IEEE half and widened
 * to float32 (exactly) as they are read; the same loops as _f32 (mcu_float.h), so the same results for the
 * same (half-representable) weights. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_conv2d_f32(const mcu_conv2d_f32_params_t *p, const float *input, float *output);
MCU_KERNEL void mcu_depthwise_conv2d_f32(const mcu_conv2d_f32_params_t *p, const float *input, float *output);
MCU_KERNEL void mcu_conv2d_f16(const mcu_conv2d_f32_params_t *p, const float *input, float *output);
MCU_KERNEL void mcu_depthwise_conv2d_f16(const mcu_conv2d_f32_params_t *p, const float *input, float *output);
#endif
/* The same with the FPU's half conversion (MCU_HAS_FP16_CVT): equal results, the widening exact either way. */
#if !defined(MCU_KERNELS_STATIC) && MCU_HAS_FP16_CVT
MCU_KERNEL void mcu_conv2d_f16_vcvt(const mcu_conv2d_f32_params_t *p, const float *input, float *output);
MCU_KERNEL void mcu_depthwise_conv2d_f16_vcvt(const mcu_conv2d_f32_params_t *p, const float *input, float *output);
#endif

typedef struct {
    int32_t rows, in_features, out_features;
    float act_min, act_max;
    const float *weights;               /* [out_features][in_features] (_f32; 0 for _f16) */
    const uint16_t *weights_f16;        /* the same as IEEE half bit patterns (_f16; 0 for _f32) */
    const float *bias;                  /* [out_features] */
} mcu_fully_connected_f32_params_t;

#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_fully_connected_f32(const mcu_fully_connected_f32_params_t *p, const float *input,
                                        float *output);
MCU_KERNEL void mcu_fully_connected_f16(const mcu_fully_connected_f32_params_t *p, const float *input,
                                        float *output);
#endif
#if !defined(MCU_KERNELS_STATIC) && MCU_HAS_FP16_CVT
MCU_KERNEL void mcu_fully_connected_f16_vcvt(const mcu_fully_connected_f32_params_t *p, const float *input,
                                             float *output);
#endif

typedef struct {
    int32_t size;
    float act_min, act_max;
    int32_t rank, dims[6], input1_strides[6], input2_strides[6];   /* broadcast, as mcu_add_params_t */
    int32_t subtract;                   /* add: 1 for SUB */
} mcu_add_f32_params_t;

typedef struct {
    int32_t size;
    int32_t input_mult, input_left_shift;   /* x to the table's grid: (x * input_mult + round) >> input_left_shift */
    const uint16_t *table;                  /* [256]: sigmoid(i / 24) in 0.16, TFLM's values */
} mcu_logistic_s16_params_t;

/* TFLite int16 LOGISTIC and TANH (output scale 2^-15, zero point 0): the table interpolated at |x|, the
 * negative side by symmetry; tanh x = 2 sigmoid(2x) - 1. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_logistic_s16(const mcu_logistic_s16_params_t *p, const int16_t *input, int16_t *output);
MCU_KERNEL void mcu_tanh_s16(const mcu_logistic_s16_params_t *p, const int16_t *input, int16_t *output);
#endif

typedef struct {
    int32_t size;
} mcu_unary_f32_params_t;

/* float logistic 1 / (1 + expf(-x)) and tanhf(x), element-wise. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_logistic_f32(const mcu_unary_f32_params_t *p, const float *input, float *output);
MCU_KERNEL void mcu_tanh_f32(const mcu_unary_f32_params_t *p, const float *input, float *output);
#endif

/* float exp(x), element-wise (no integer kernel: an int8 model runs it with --float-fallback). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_exp_f32(const mcu_unary_f32_params_t *p, const float *input, float *output);
#endif

/* float ADD (SUB with subtract = 1) and MUL, broadcast, clamped to [act_min, act_max]. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_add_f32(const mcu_add_f32_params_t *p, const float *input1, const float *input2, float *output);
MCU_KERNEL void mcu_mul_f32(const mcu_add_f32_params_t *p, const float *input1, const float *input2, float *output);
#endif

typedef struct {
    int32_t batches, rows, depth, cols;
    /* element strides inside one pair of matrices: lhs[i][k] at i * lhs_row_stride + k * lhs_depth_stride, rhs[k][j]
     * at k * rhs_depth_stride + j * rhs_col_stride (adj_x / adj_y swap them) */
    int32_t lhs_row_stride, lhs_depth_stride, rhs_depth_stride, rhs_col_stride;
    /* batch b over batch_dims[0..batch_rank) reads its lhs matrix at sum(index[d] * lhs_strides[d]) (elements;
     * 0 on a broadcast axis), likewise rhs (mcu_strided_walk_t) */
    int32_t batch_rank, batch_dims[6], lhs_strides[6], rhs_strides[6];
    int32_t lhs_zp, rhs_zp, output_zp;  /* int8; 0 for float */
    int32_t output_mult, output_shift;
    int32_t act_min, act_max;
} mcu_batch_matmul_params_t;

/* TFLite BATCH_MATMUL / ONNX MatMul of two activations: out[b][i][j] = requant(sum_k (lhs[b][i][k] - lhs_zp)
 * (rhs[b][k][j] - rhs_zp)) + output_zp, int32 sums; float: the plain sum. Output row-major [batches][rows][cols]. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_batch_matmul_s8(const mcu_batch_matmul_params_t *p, const int8_t *lhs, const int8_t *rhs,
                                    int8_t *output);
MCU_KERNEL void mcu_batch_matmul_f32(const mcu_batch_matmul_params_t *p, const float *lhs, const float *rhs,
                                     float *output);
#endif

/* 16x8 BATCH_MATMUL (int16 operands, zero points 0): the int64 sum requantized by TFLite's 64-bit path. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_batch_matmul_s16(const mcu_batch_matmul_params_t *p, const int16_t *lhs, const int16_t *rhs,
                                     int16_t *output);
#endif

typedef struct {
    int32_t rows, depth;                /* normalized over each row of depth values */
    int32_t input_zp, output_zp;
    int32_t q_min, q_max;               /* the output type's range */
    int64_t eps;                        /* depth^3 epsilon / input_scale^2 */
    int32_t out_shift;                  /* 24 + the fractional bits of gamma_q */
    const int32_t *gamma_q;             /* [depth]: gamma sqrt(depth) / output_scale, on 2^(out_shift - 24) */
    const int64_t *beta_q;              /* [depth]: beta / output_scale, on 2^out_shift */
} mcu_layer_norm_params_t;

/* Layer normalization over the last axis, our int8 arithmetic (ops/layer_norm.py): t = D (q - zp) - sum (q - zp),
 * W = sum t^2 + eps, out = round((round(t / sqrt(W) 2^24) gamma_q + beta_q) / 2^out_shift) + output_zp. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_layer_norm_s8(const mcu_layer_norm_params_t *p, const int8_t *input, int8_t *output);
MCU_KERNEL void mcu_layer_norm_s16(const mcu_layer_norm_params_t *p, const int16_t *input, int16_t *output);
#endif

typedef struct {
    int32_t rows, depth;
    float epsilon;
    const float *gamma, *beta;          /* [depth] */
} mcu_layer_norm_f32_params_t;

/* float layer normalization over the last axis: (x - mean) / sqrtf(var + epsilon) gamma + beta. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_layer_norm_f32(const mcu_layer_norm_f32_params_t *p, const float *input, float *output);
#endif

/* TFLite SQUARED_DIFFERENCE, (in1 - in2)^2 broadcast: int8 with ADD's params (left_shift 7, both inputs on one
 * grid, the difference squared in int32, requantized); float. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_squared_difference_s8(const mcu_add_params_t *p, const int8_t *input1, const int8_t *input2,
                                          int8_t *output);
MCU_KERNEL void mcu_squared_difference_f32(const mcu_add_f32_params_t *p, const float *input1, const float *input2,
                                           float *output);
#endif

typedef struct {
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    float act_min, act_max;
} mcu_pool_f32_params_t;

#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_max_pool_f32(const mcu_pool_f32_params_t *p, const float *input, float *output);
MCU_KERNEL void mcu_avg_pool_f32(const mcu_pool_f32_params_t *p, const float *input, float *output);
#endif

typedef struct {
    int32_t rows, depth;
    float beta;
} mcu_softmax_f32_params_t;

/* out = exp(beta * (in - max)) / sum over the row (expf from the C library's libm). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_softmax_f32(const mcu_softmax_f32_params_t *p, const float *input, float *output);
#endif

/* -- issue #12 part B: activations and element-wise ops, transpose convolution ------------------------------ */
typedef struct {
    int32_t size;
    int32_t input_zp, output_zp;
    int32_t identity_mult, identity_shift;  /* input_scale / output_scale (float32, as TFLM) */
    int32_t alpha_mult, alpha_shift;        /* input_scale * alpha / output_scale */
    int32_t q_min, q_max;                   /* the type's range */
} mcu_leaky_relu_params_t;

/* TFLite int8 / int16 LEAKY_RELU: d = in - input_zp; out = clamp(requant(d, d >= 0 ? identity : alpha) + output_zp). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_leaky_relu_s8(const mcu_leaky_relu_params_t *p, const int8_t *input, int8_t *output);
MCU_KERNEL void mcu_leaky_relu_s16(const mcu_leaky_relu_params_t *p, const int16_t *input, int16_t *output);
#endif

typedef struct {
    int32_t size;
    float alpha;
} mcu_leaky_relu_f32_params_t;

/* float leaky ReLU: x >= 0 ? x : alpha * x. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_leaky_relu_f32(const mcu_leaky_relu_f32_params_t *p, const float *input, float *output);
#endif

typedef struct {
    int32_t size;
    int32_t input_zp, output_zp;
    int32_t output_mult, output_shift;      /* (input_scale / 128) / output_scale: int16 multiplier, shift <= 0 */
    int32_t reluish_mult, reluish_shift;    /* (input_scale / 128) / (3 / 2^15): int16 multiplier, either sign */
} mcu_hard_swish_params_t;

/* TFLite int8 HARD_SWISH, x * relu6(x + 3) / 6, in gemmlowp's int16 fixed point exactly as TFLite computes it. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_hard_swish_s8(const mcu_hard_swish_params_t *p, const int8_t *input, int8_t *output);
MCU_KERNEL void mcu_hard_swish_f32(const mcu_unary_f32_params_t *p, const float *input, float *output);
#endif

typedef struct {
    int32_t size;
    int32_t input1_zp, input2_zp, output_zp;
    int32_t input1_mult, input1_shift;      /* input1_scale / output_scale (the identity when they are equal) */
    int32_t input2_mult, input2_shift;
    int32_t q_min, q_max;
    int32_t rank, dims[6], input1_strides[6], input2_strides[6];   /* broadcast, as mcu_add_params_t */
    int32_t minimum;                    /* 1: TFLite MINIMUM; 0: MAXIMUM */
} mcu_maximum_params_t;

/* TFLite int8 / int16 MAXIMUM (MINIMUM with minimum = 1): each input requantized to the output's scale, the larger
 * (smaller) + output_zp; broadcast. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_maximum_s8(const mcu_maximum_params_t *p, const int8_t *input1, const int8_t *input2,
                               int8_t *output);
MCU_KERNEL void mcu_maximum_s16(const mcu_maximum_params_t *p, const int16_t *input1, const int16_t *input2,
                                int16_t *output);
#endif

typedef struct {
    int32_t size;
    int32_t rank, dims[6], input1_strides[6], input2_strides[6];   /* broadcast, as mcu_add_params_t */
    int32_t minimum;
} mcu_maximum_f32_params_t;

#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_maximum_f32(const mcu_maximum_f32_params_t *p, const float *input1, const float *input2,
                                float *output);
#endif

typedef struct {
    int32_t out_size;                   /* output elements */
    int32_t count;                      /* input elements compared for each output */
    int32_t kept_rank, kept_dims[6], kept_strides[6];           /* as mcu_mean_params_t */
    int32_t reduced_rank, reduced_dims[6], reduced_strides[6];
} mcu_reduce_max_params_t;

/* TFLite REDUCE_MAX over any axes: out[o] = max_r in[kept(o) + reduced(r)]; input and output share quantization. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_reduce_max_s8(const mcu_reduce_max_params_t *p, const int8_t *input, int8_t *output);
MCU_KERNEL void mcu_reduce_max_s16(const mcu_reduce_max_params_t *p, const int16_t *input, int16_t *output);
MCU_KERNEL void mcu_reduce_max_f32(const mcu_reduce_max_params_t *p, const float *input, float *output);
#endif

typedef struct {
    int32_t size;
    int32_t input_zp, alpha_zp, output_zp;
    int32_t identity_mult, identity_shift;  /* input_scale / output_scale */
    int32_t alpha_mult, alpha_shift;        /* input_scale * alpha_scale / output_scale */
    int32_t q_min, q_max;
    int32_t rank, dims[6], input1_strides[6], input2_strides[6];   /* input1: the input, input2: alpha */
    const int8_t *alpha;                /* the slope, int8, in flash */
} mcu_prelu_params_t;

/* TFLite int8 PRELU: d = in - input_zp;
 * out = clamp((d >= 0 ? requant(d) : requant(d * (alpha - alpha_zp))) + output_zp); alpha broadcast. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_prelu_s8(const mcu_prelu_params_t *p, const int8_t *input, int8_t *output);
#endif

typedef struct {
    int32_t size;
    int32_t rank, dims[6], input1_strides[6], input2_strides[6];
    const float *alpha;
} mcu_prelu_f32_params_t;

#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_prelu_f32(const mcu_prelu_f32_params_t *p, const float *input, float *output);
#endif
typedef struct {
    int32_t size;
    const void *table;                  /* int8 [256]: the output of each input value, indexed by its byte;
                                         * int16 [513]: TFLite's interpolated int16 table */
} mcu_lut_params_t;

/* An int8 function of one input as TFLM's 256-entry lookup table, computed at generation time as its Prepare
 * does: out = table[(uint8_t)in]. TFLite int8 ELU (ONNX Elu / Selu), GELU, RSQRT. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_lut_s8(const mcu_lut_params_t *p, const int8_t *input, int8_t *output);
/* TFLite's int16 lookup table (GELU): out = the 513-entry table interpolated at in (mcu_lut_lookup_s16). */
MCU_KERNEL void mcu_lut_s16(const mcu_lut_params_t *p, const int16_t *input, int16_t *output);
#endif

typedef struct {
    int32_t size;
    float alpha, gamma;
} mcu_elu_f32_params_t;

/* float gamma * (x < 0 ? alpha * (expf(x) - 1) : x). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_elu_f32(const mcu_elu_f32_params_t *p, const float *input, float *output);
#endif

typedef struct {
    int32_t size;
    int32_t approximate;                /* 1: the tanh form */
} mcu_gelu_f32_params_t;

/* float GELU: x / 2 (1 + erf(x / sqrt 2)), or with approximate x / 2 (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))). */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_gelu_f32(const mcu_gelu_f32_params_t *p, const float *input, float *output);
#endif

typedef struct {
    int32_t size;
    int32_t input_zp, output_zp;
    int32_t mult, shift;                /* 1 / (sqrtf(input_scale) * output_scale) */
    int32_t q_min, q_max;
} mcu_rsqrt_params_t;

/* TFLM's int16 RSQRT, element by element: v = in - input_zp, its inverse square root by
 * GetInvSqrtQuantizedMultiplierExp's steps applied to 1 with 20 more bits, requantized; v <= 0 gives q_max. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_rsqrt_s16(const mcu_rsqrt_params_t *p, const int16_t *input, int16_t *output);
#endif

/* float 1 / sqrtf(x) (TFLite RSQRT) and -x (TFLite NEG), element-wise. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_rsqrt_f32(const mcu_unary_f32_params_t *p, const float *input, float *output);
MCU_KERNEL void mcu_neg_f32(const mcu_unary_f32_params_t *p, const float *input, float *output);
#endif

/* TFLite TRANSPOSE_CONV (conv2d's params; dilation 1): out[y][x][oc] = requant(bias[oc] + sum (in[iy][ix][ic] -
 * input_zp) * filter[oc][ky][kx][ic]) over the taps with iy * stride_h - pad_top + ky = y (likewise x) inside
 * the input: TFLM's scatter, gathered per output. 16x8: int64 sum and bias; float: the float sum. */
#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_transpose_conv_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output);
MCU_KERNEL void mcu_transpose_conv_s16(const mcu_conv2d_s16_params_t *p, const int16_t *input, int16_t *output);
MCU_KERNEL void mcu_transpose_conv_f32(const mcu_conv2d_f32_params_t *p, const float *input, float *output);
#endif
/* -- end of issue #12 part B ---------------------------------------------------------------------------------- */

/* ---- hybrid (dynamic range mode): int8 weights, float32 activations ----
 * TFLite's hybrid kernels with asymmetric inputs: the float input (FC: each row; conv and depthwise: the whole
 * map) is quantized to int8 at run time into `scratch` (mcu_quantize_row_s8: its own scale and zero point),
 * the int32 sum of w * (q - zp) over the taps inside the input is rescaled in float:
 * y = clamp(bias[c] + acc * (input_scale * weight_scales[c]), act_min, act_max). */

typedef struct {
    int32_t rows, in_features, out_features;
    float act_min, act_max;
    const int8_t *weights;              /* [out_features][in_features], symmetric, zero point 0 */
    const float *weight_scales;         /* [out_features] */
    const float *bias;                  /* [out_features] */
} mcu_fully_connected_hybrid_params_t;

typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    float act_min, act_max;
    const int8_t *filter;               /* conv: [out_c][kernel_h][kernel_w][in_c]; depthwise: [kh][kw][out_c] */
    const float *weight_scales;         /* [out_c] */
    const float *bias;                  /* [out_c] */
    int32_t depth_multiplier;
} mcu_conv2d_hybrid_params_t;

#ifndef MCU_KERNELS_STATIC
/* scratch: in_features bytes (one row at a time) */
MCU_KERNEL void mcu_fully_connected_hybrid(const mcu_fully_connected_hybrid_params_t *p, const float *input,
                                           float *output, void *scratch);
/* scratch: in_h * in_w * in_c bytes (the whole input) */
MCU_KERNEL void mcu_conv2d_hybrid(const mcu_conv2d_hybrid_params_t *p, const float *input, float *output,
                                  void *scratch);
MCU_KERNEL void mcu_depthwise_conv2d_hybrid(const mcu_conv2d_hybrid_params_t *p, const float *input, float *output,
                                            void *scratch);
#endif

/* TFLite UNIDIRECTIONAL_SEQUENCE_LSTM (ops/lstm.py has the formulas): input [batch][steps][input_size] (time
 * major: [steps][batch][input_size]), output the hidden state of every step, [..][units]; gates in the order
 * input, forget, cell, output, each weight matrix [4 * units][..]. TFLM's integer arithmetic: int16 gates (2^-12
 * in, 2^-15 out) and cell state (a power-of-two scale), the zero points of x and h folded into the biases. The
 * state, hidden [batch][units] (the activation type) and cell [batch][units] int16: keep_state 1 (--stateful),
 * `hidden` and `cell`, carried from call to call and updated in place; keep_state 0, in the scratch after the
 * cell state (batch * units int16), one step's gates (4 * units int16), the hidden state, from the zero state
 * (h = hidden_zp, c = 0) at every call (hidden and cell NULL). scratch: the gates (first, with keep_state 0). */
typedef struct {
    int32_t batch, steps, input_size, units, time_major, keep_state;
    const int8_t *input_weights;        /* [4 * units][input_size] */
    const int8_t *recurrent_weights;    /* [4 * units][units] */
    const int32_t *bias;                /* [4 * units]: the gate biases - input_zp * sum(input weights) */
    const int32_t *recurrent_bias;      /* [4 * units]: -hidden_zp * sum(recurrent weights) */
    const int32_t *input_mult, *input_shift;            /* [4]: x_scale * w_scale / 2^-12 */
    const int32_t *recurrent_mult, *recurrent_shift;    /* [4]: h_scale * w_scale / 2^-12 */
    int32_t forget_mult, forget_shift;  /* f * c -> c: 2^-15 */
    int32_t update_mult, update_shift;  /* i * g -> c: 2^-30 / c_scale */
    int32_t hidden_mult, hidden_shift;  /* o * tanh(c) -> h: 2^-30 / h_scale */
    int32_t hidden_zp, hidden_min, hidden_max;
    int32_t cell_clip;                  /* 0: none */
    int32_t tanh_mult, tanh_shift;      /* c to the table's grid */
    const uint16_t *table;              /* [256]: the int16 sigmoid table */
} mcu_lstm_params_t;

/* 16x8: int16 activations and hidden state (zero points 0), int64 biases, TFLite's 64-bit requantization of the
 * two matrix products (TFLM's FullyConnected of int16); the rest as mcu_lstm_s8. */
typedef struct {
    int32_t batch, steps, input_size, units, time_major, keep_state;
    const int8_t *input_weights;        /* [4 * units][input_size] */
    const int8_t *recurrent_weights;    /* [4 * units][units] */
    const int64_t *bias;                /* [4 * units] */
    const int64_t *recurrent_bias;      /* [4 * units]: zeros (TFLM's recurrent products have no bias) */
    const int32_t *input_mult, *input_shift;
    const int32_t *recurrent_mult, *recurrent_shift;
    int32_t forget_mult, forget_shift;
    int32_t update_mult, update_shift;
    int32_t hidden_mult, hidden_shift;
    int32_t hidden_zp, hidden_min, hidden_max;
    int32_t cell_clip;
    int32_t tanh_mult, tanh_shift;
    const uint16_t *table;
} mcu_lstm_s16_params_t;

/* float: gates sigmoid / tanh of W_in x + bias + W_rec h, c = f c + i g (clipped to +-cell_clip when > 0),
 * h = o tanh(c); the state as mcu_lstm_s8's (keep_state 0: c, h, then the gates in the scratch, floats). */
typedef struct {
    int32_t batch, steps, input_size, units, time_major, keep_state;
    const float *input_weights;         /* [4 * units][input_size] */
    const float *recurrent_weights;     /* [4 * units][units] */
    const float *bias;                  /* [4 * units] */
    float cell_clip;
} mcu_lstm_f32_params_t;

/* TFLite SVDF, TFLM's int8 arithmetic (ops/svdf.py has the formulas): input [batch][input_size] int8, output
 * [batch][filters / rank] int8. The activation state, [batch][filters][memory] int16 (an int8 state's values in
 * int16): keep_state 1 (--stateful), `state`, carried from call to call and updated in place; keep_state 0, the
 * scratch, from the zero state at every call (state NULL). */
typedef struct {
    int32_t batch, input_size, filters, rank, memory, keep_state;
    const int8_t *weights_feature;      /* [filters][input_size] */
    const int16_t *weights_time;        /* [filters][memory] */
    const int32_t *bias;                /* [filters / rank] */
    int32_t input_zp, state_zp, state_min, state_max, output_zp;
    int32_t feature_mult, feature_shift;    /* x_scale * wf_scale / state_scale */
    int32_t output_mult, output_shift;      /* state_scale * wt_scale / y_scale */
} mcu_svdf_params_t;

/* float: the same steps in float, the fused activation's clamp; the state [batch][filters][memory] as above. */
typedef struct {
    int32_t batch, input_size, filters, rank, memory, keep_state;
    const float *weights_feature;       /* [filters][input_size] */
    const float *weights_time;          /* [filters][memory] */
    const float *bias;                  /* [filters / rank] */
    float act_min, act_max;
} mcu_svdf_f32_params_t;

#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_svdf_s8(const mcu_svdf_params_t *p, const int8_t *input, int16_t *state, int8_t *output,
                            void *scratch);
MCU_KERNEL void mcu_svdf_f32(const mcu_svdf_f32_params_t *p, const float *input, float *state, float *output,
                             void *scratch);
#endif

#ifndef MCU_KERNELS_STATIC
MCU_KERNEL void mcu_lstm_s8(const mcu_lstm_params_t *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                            int8_t *output, void *scratch);
#if MCU_HAS_DSP
MCU_KERNEL void mcu_lstm_dsp_s8(const mcu_lstm_params_t *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                                int8_t *output, void *scratch);
#endif
MCU_KERNEL void mcu_lstm_s16(const mcu_lstm_s16_params_t *p, const int16_t *input, int16_t *hidden, int16_t *cell,
                             int16_t *output, void *scratch);
MCU_KERNEL void mcu_lstm_f32(const mcu_lstm_f32_params_t *p, const float *input, float *hidden, float *cell,
                             float *output, void *scratch);
#endif

#endif /* MCU_NN_H */
