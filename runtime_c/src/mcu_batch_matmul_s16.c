/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_batch_matmul_s16(const mcu_batch_matmul_params_t *p, const int16_t *lhs, const int16_t *rhs,
                                     int16_t *output)
{
    mcu_strided_walk_t wl = {{0}, 0}, wr = {{0}, 0};   /* broadcast: the operands' matrices of batch b */
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *l = lhs + wl.offset;
        const int16_t *r = rhs + wr.offset;
        for (int32_t i = 0; i < p->rows; ++i) {
            for (int32_t j = 0; j < p->cols; ++j) {
                const int16_t *lk = l + i * p->lhs_row_stride;
                const int16_t *rk = r + j * p->rhs_col_stride;
                int64_t acc = 0;
                for (int32_t k = 0; k < p->depth; ++k) {
                    acc += (int64_t)(lk[k * p->lhs_depth_stride] * rk[k * p->rhs_depth_stride]);
                }
                const int64_t out = mcu_multiply_by_quantized_multiplier_s64(acc, p->output_mult, p->output_shift);
                *output++ = (int16_t)mcu_clamp_s64(out, p->act_min, p->act_max);
            }
        }
        mcu_strided_step(&wl, p->batch_rank, p->batch_dims, p->lhs_strides);
        mcu_strided_step(&wr, p->batch_rank, p->batch_dims, p->rhs_strides);
    }
}
