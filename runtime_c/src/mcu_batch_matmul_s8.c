/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_batch_matmul_s8(const mcu_batch_matmul_params_t *p, const int8_t *lhs, const int8_t *rhs,
                                    int8_t *output)
{
    const int32_t rows = p->rows, cols = p->cols, depth = p->depth;
    const int32_t lds = p->lhs_depth_stride, rds = p->rhs_depth_stride;
    const int32_t lhs_zp = p->lhs_zp, rhs_zp = p->rhs_zp;
    mcu_strided_walk_t wl = {{0}, 0}, wr = {{0}, 0};   /* broadcast: the operands' matrices of batch b */
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t i = 0; i < rows; ++i) {
            const int8_t *l = lhs + wl.offset + i * p->lhs_row_stride;
            for (int32_t j = 0; j < cols; ++j) {
                const int8_t *lk = l;
                const int8_t *rk = rhs + wr.offset + j * p->rhs_col_stride;
                int32_t acc = 0;
                for (int32_t k = 0; k < depth; ++k, lk += lds, rk += rds) {
                    acc += (*lk - lhs_zp) * (*rk - rhs_zp);
                }
                const int32_t out = mcu_multiply_by_quantized_multiplier(acc, p->output_mult, p->output_shift);
                *output++ = (int8_t)mcu_clamp(out + p->output_zp, p->act_min, p->act_max);
            }
        }
        mcu_strided_step(&wl, p->batch_rank, p->batch_dims, p->lhs_strides);
        mcu_strided_step(&wr, p->batch_rank, p->batch_dims, p->rhs_strides);
    }
}
