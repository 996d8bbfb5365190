"""Matrix product of two activations over batch dimensions (TFLite BATCH_MATMUL, adj_x / adj_y; ONNX MatMul of
two activations, or of an activation and a constant of rank 3 or more): out[..., i, j] = sum_k lhs[..., i, k]
rhs[..., k, j], the batch dimensions broadcast as NumPy does (rank up to 6 after merging). int8: TFLM's
arithmetic, the int32 sum of (lhs - lhs_zp) (rhs - rhs_zp) requantized by lhs_scale rhs_scale / output_scale
(double rounding), no fused activation; int16 (16x8 models: both operands int16, zero points 0) TFLM's int64 sum
and 64-bit requantization. Or float.""" 
import numpy as np

from .. import fixedpoint as fp
from ..ir import ConversionError
from . import _common as c

KERNELS = {"int8": ("mcu_batch_matmul_s8", "mcu_batch_matmul_params_t"),
           "int16": ("mcu_batch_matmul_s16", "mcu_batch_matmul_params_t"),
           "float32": ("mcu_batch_matmul_f32", "mcu_batch_matmul_params_t")}


def _dims(attrs, a, b):
    """(lhs batch shape, rhs batch shape, rows, depth, cols) of operand shapes a and b."""
    if len(a) < 2 or len(b) < 2:
        raise ConversionError(f"a matrix product of shapes {list(a)} and {list(b)} (rank 2 at least)")
    rows, depth = (a[-1], a[-2]) if attrs.get("adj_x") else (a[-2], a[-1])
    depth_b, cols = (b[-1], b[-2]) if attrs.get("adj_y") else (b[-2], b[-1])
    if depth != depth_b:
        raise ConversionError(f"a matrix product of shapes {list(a)} and {list(b)}: depths {depth} and {depth_b}")
    return tuple(a[:-2]), tuple(b[:-2]), rows, depth, cols


def output_shape(attrs, in_shapes):
    la, lb, rows, _, cols = _dims(attrs, *in_shapes)
    return c.broadcast_shape(la, lb) + (rows, cols)


def macs(attrs, in_shapes, out_shape):
    return int(np.prod(out_shape)) * _dims(attrs, *in_shapes)[3]


def _matrices(attrs, a, b):
    """Batched (N, ..., rows, depth) and (N, ..., depth, cols) views of reference inputs."""
    if attrs.get("adj_x"):
        a = np.swapaxes(a, -1, -2)
    if attrs.get("adj_y"):
        b = np.swapaxes(b, -1, -2)
    return c.aligned_pair(a, b)


def float_ref(attrs, a, b):
    a, b = _matrices(attrs, a.astype(np.float64), b.astype(np.float64))
    acc = np.zeros(np.broadcast_shapes(a.shape[:-1], b.shape[:-2] + (1,))[:-1] + (a.shape[-2], b.shape[-1]))
    for k in range(a.shape[-1]):  # summed k = 0, 1, ...: the order of the C kernel (stable.matmul's rule)
        acc = acc + a[..., :, k, None] * b[..., None, k, :]
    return acc.astype(np.float32)


def prepare(attrs, ins, out):
    a, b = ins[0].shape, ins[1].shape
    la, lb, rows, depth, cols = _dims(attrs, a, b)
    batch = tuple(out.shape[:-2])
    geometry = c.broadcast_fields(la, lb, batch)
    if geometry["rank"] == 0:  # the same batch shape: one axis of batches
        n = int(np.prod(batch, dtype=np.int64))
        geometry.update(rank=1, dims=[n] + [1] * (c.MAX_DIMS - 1), input1_strides=[1] + [0] * (c.MAX_DIMS - 1),
                        input2_strides=[1] + [0] * (c.MAX_DIMS - 1))
    lhs_size, rhs_size = rows * depth, depth * cols
    p = dict(rows=rows, depth=depth, cols=cols,
             lhs_row_stride=1 if attrs.get("adj_x") else depth, lhs_depth_stride=rows if attrs.get("adj_x") else 1,
             rhs_depth_stride=1 if attrs.get("adj_y") else cols, rhs_col_stride=depth if attrs.get("adj_y") else 1,
             batch_rank=geometry["rank"], batch_dims=geometry["dims"],
             lhs_strides=[s * lhs_size for s in geometry["input1_strides"]],
             rhs_strides=[s * rhs_size for s in geometry["input2_strides"]],
             batches=int(np.prod(batch, dtype=np.int64)))
    if out.dtype == "float32":
        return dict(p, lhs_zp=0, rhs_zp=0, output_zp=0, output_mult=0, output_shift=0, act_min=0, act_max=0)
    if depth * 255 * 255 > (fp.INT32_MAX if out.dtype == "int8" else c.ACC64_LIMIT // 2 ** 15):
        raise ConversionError(f"a matrix product of depth {depth} could overflow its accumulator")
    mult, shift = fp.quantize_multiplier(float(np.float32(ins[0].scale)) * float(np.float32(ins[1].scale))
                                         / float(np.float32(out.scale)))
    c.check_shifts([shift])
    q_min, q_max = c.QRANGE[out.dtype]
    return dict(p, lhs_zp=ins[0].zero_point, rhs_zp=ins[1].zero_point, output_zp=out.zero_point, output_mult=mult,
                output_shift=shift, act_min=q_min, act_max=q_max)


def _operands(p, a, b):
    """The twin's view of the kernel's walk: (N, batches, rows, depth) and (N, batches, depth, cols)."""
    n, rank = max(len(a), len(b)), p["batch_rank"]  # a constant operand comes as one sample
    a, b = (np.broadcast_to(v, (n,) + v.shape[1:]) for v in (a, b))
    lo = c.strided_offsets(p["batch_dims"][:rank], p["lhs_strides"][:rank], p["batches"])
    ro = c.strided_offsets(p["batch_dims"][:rank], p["rhs_strides"][:rank], p["batches"])
    i, j, k = np.arange(p["rows"]), np.arange(p["cols"]), np.arange(p["depth"])
    li = lo[:, None, None] + i[:, None] * p["lhs_row_stride"] + k[None, :] * p["lhs_depth_stride"]
    ri = ro[:, None, None] + k[:, None] * p["rhs_depth_stride"] + j[None, :] * p["rhs_col_stride"]
    return a.reshape(n, -1)[:, li], b.reshape(n, -1)[:, ri]


def int_ref(p, a, b):
    lhs, rhs = _operands(p, a, b)
    lhs = lhs.astype(np.float64) - p["lhs_zp"]
    rhs = rhs.astype(np.float64) - p["rhs_zp"]
    if p["act_min"] < -128:  # int16: the int64 sum (exact below 2^53 here: depth <= 2^17), TFLite's 64-bit path
        acc = np.einsum("nbik,nbkj->nbij", lhs, rhs, optimize=False).astype(np.int64)
        y = fp.multiply_by_quantized_multiplier_s64(acc, p["output_mult"], p["output_shift"])
        return np.clip(y, p["act_min"], p["act_max"]).reshape(len(lhs), -1)
    acc = np.matmul(lhs, rhs).astype(np.int64)  # exact: |sum| < 2^31 is far inside float64's 2^53
    y = fp.multiply_by_quantized_multiplier(acc, p["output_mult"], p["output_shift"]) + p["output_zp"]
    return np.clip(y, p["act_min"], p["act_max"]).reshape(len(lhs), -1)


# -- import ----------------------------------------------------------------------------------------------------
def onnx_matmul(imp, node, a):
    """A 2-D constant B: a fully connected layer over A's last axis (any rank); otherwise a batch_matmul of the
    two operands (a constant one of rank 3 or more through a constant node)."""
    if node.input[1] in imp.consts and node.input[0] not in imp.consts:
        b = imp.const(node, node.input[1], "the second operand").astype(np.float32)
        if b.ndim == 2:
            imp.fully_connected(node, np.ascontiguousarray(b.T), np.zeros(b.shape[1], np.float32))
            return
    a_t, b_t = (imp.operand(node, i) for i in node.input[:2])
    if min(len(imp.graph.tensors[t].shape) for t in (a_t, b_t)) < 2:
        imp.fail(node, "a MatMul with a 1-D operand is not supported")
    imp.emit("batch_matmul", [a_t, b_t], [imp.output(node)], node)


def tflite_batch_matmul(imp, k, op):
    o = imp.options(op, "BatchMatMulOptions")
    imp.emit(k, "batch_matmul", imp.operands(k, (op.Inputs(0), op.Inputs(1))), [op.Outputs(0)],
             adj_x=bool(o.AdjX()), adj_y=bool(o.AdjY()))


ONNX = {"MatMul": onnx_matmul}
TFLITE = {"BATCH_MATMUL": tflite_batch_matmul}
