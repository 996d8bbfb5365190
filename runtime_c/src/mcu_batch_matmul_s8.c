/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_batch_matmul_s8(const mcu_batch_matmul_params_t *p, const int8_t *lhs, const int8_t *rhs,
                                    int8_t *output)
{
    mcu_strided_walk_t wl = {{0}, 0}, wr = {{0}, 0};   /* broadcast: the operands' matrices of batch b */
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *l = lhs + wl.offset;
        const int8_t *r = rhs + wr.offset;
        for (int32_t i = 0; i < p->rows; ++i) {
            for (int32_t j = 0; j < p->cols; ++j) {
                const int8_t *lk = l + i * p->lhs_row_stride;
                const int8_t *rk = r + j * p->rhs_col_stride;
                int32_t acc = 0;
                for (int32_t k = 0; k < p->depth; ++k) {
                    acc += (lk[k * p->lhs_depth_stride] - p->lhs_zp) * (rk[k * p->rhs_depth_stride] - p->rhs_zp);
                }
                const int32_t out = mcu_multiply_by_quantized_multiplier(acc, p->output_mult, p->output_shift);
                *output++ = (int8_t)mcu_clamp(out + p->output_zp, p->act_min, p->act_max);
            }
        }
        mcu_strided_step(&wl, p->batch_rank, p->batch_dims, p->lhs_strides);
        mcu_strided_step(&wr, p->batch_rank, p->batch_dims, p->rhs_strides);
    }
}
