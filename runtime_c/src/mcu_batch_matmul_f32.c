/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_batch_matmul_f32(const mcu_batch_matmul_params_t *p, const float *lhs, const float *rhs,
                                     float *output)
{
    mcu_strided_walk_t wl = {{0}, 0}, wr = {{0}, 0};   /* broadcast: the operands' matrices of batch b */
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *l = lhs + wl.offset;
        const float *r = rhs + wr.offset;
        for (int32_t i = 0; i < p->rows; ++i) {
            for (int32_t j = 0; j < p->cols; ++j) {
                const float *lk = l + i * p->lhs_row_stride;
                const float *rk = r + j * p->rhs_col_stride;
                float acc = 0.0f;
                for (int32_t k = 0; k < p->depth; ++k) {
                    acc += lk[k * p->lhs_depth_stride] * rk[k * p->rhs_depth_stride];
                }
                *output++ = acc;
            }
        }
        mcu_strided_step(&wl, p->batch_rank, p->batch_dims, p->lhs_strides);
        mcu_strided_step(&wr, p->batch_rank, p->batch_dims, p->rhs_strides);
    }
}
