"""Constant padding of any rank (TFLite PAD / PADV2, ONNX Pad mode=constant): every output element outside
the input is the fill value, the others are copied. TFLM's int8 PAD keeps the input's quantization and fills
with the output zero point (PAD) or the quantized constant (PADV2); the kernel moves bytes of any element
size (int8, int16, float). A zero Pad before a convolution folds into the convolution's own padding
(passes.py)."""
import numpy as np

from ..fixedpoint import round_half_away
from ..ir import ConversionError
from . import _common as c

KERNELS = {t: ("mcu_pad", "mcu_pad_params_t") for t in ("int8", "int16", "float32")}
SAME_QUANT_AS_INPUT = True


def output_shape(attrs, in_shapes):
    return tuple(int(d + b + e) for d, (b, e) in zip(in_shapes[0], attrs["pads"]))


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, x):
    return np.pad(x, [(0, 0)] + [tuple(p) for p in attrs["pads"]], constant_values=np.float32(attrs["value"]))


def fill_value(attrs, x):
    """The fill as the tensor stores it: the float, or round(value / scale) + zero point, clamped."""
    if x.dtype == "float32":
        return np.float32(attrs["value"])
    lo, hi = c.QRANGE[x.dtype]
    q = x.zero_point + int(round_half_away(np.float32(attrs["value"]) / np.float32(x.scale)))
    return int(np.clip(q, lo, hi))


def prepare(attrs, ins, out):
    x = ins[0]
    rank = len(x.shape)
    if rank > c.MAX_DIMS:
        raise ConversionError(f"padding a rank-{rank} tensor (more than {c.MAX_DIMS}) is not supported")
    lead = c.MAX_DIMS - rank
    in_dims = [1] * lead + list(x.shape)
    fill = np.asarray(attrs["fill"] if "fill" in attrs else fill_value(attrs, x),
                      {"int8": np.int8, "int16": np.int16, "float32": np.float32}[x.dtype])
    return dict(out_size=out.size, element_size=x.itemsize, rank=c.MAX_DIMS, in_dims=in_dims,
                in_strides=c.row_major_strides(in_dims), out_dims=[1] * lead + list(out.shape),
                before=[0] * lead + [int(b) for b, _ in attrs["pads"]],
                fill=np.frombuffer(fill.tobytes(), np.uint8).copy())


def int_ref(p, x):
    rank = len(x.shape) - 1
    before = p["before"][-rank:]
    after = [o - i - b for o, i, b in zip(p["out_dims"][-rank:], p["in_dims"][-rank:], before)]
    fill = np.frombuffer(p["fill"].tobytes(), x.dtype)[0]
    return np.pad(x, [(0, 0)] + list(zip(before, after)), constant_values=fill)


# -- import ----------------------------------------------------------------------------------------------------
def onnx_pad(imp, node, a):
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode != "constant":
        imp.fail(node, f"mode '{mode}' is not supported (only constant padding)")
    x = imp.x(node)
    rank = len(imp.graph.tensors[x].shape)
    pads = np.asarray(imp.const(node, node.input[1], "pads") if len(node.input) > 1 else a.get("pads", []))
    pads = pads.reshape(-1).astype(np.int64)
    if len(node.input) > 3 and node.input[3]:
        imp.fail(node, "the axes input is not supported")
    if pads.size != 2 * rank or pads.min(initial=0) < 0:
        imp.fail(node, f"pads {pads.tolist()[:12]} must be 2 x rank non-negative numbers")
    value = 0.0
    if len(node.input) > 2 and node.input[2]:
        value = float(np.asarray(imp.const(node, node.input[2], "the constant value")).reshape(-1)[0])
    imp.emit("pad", [x], [imp.output(node)], node, pads=tuple(zip(pads[:rank].tolist(), pads[rank:].tolist())),
             value=value)


def tflite_pad(imp, k, op):
    """PAD fills with the output zero point, PADV2 with its constant (already quantized, in the file)."""
    paddings = imp.const(op.Inputs(1))
    if paddings is None or paddings.ndim != 2 or paddings.shape[1] != 2 or paddings.min(initial=0) < 0:
        imp.fail(k, "the paddings must be a constant [rank, 2] tensor of non-negative numbers")
    zero_point = imp.quant(op.Outputs(0))[1]
    fill = int(zero_point[0]) if zero_point is not None else 0
    value = None
    if op.InputsLength() > 2 and op.Inputs(2) >= 0:
        value = imp.const(op.Inputs(2))
        if value is None:
            imp.fail(k, "the constant value must be a constant tensor")
        fill = int(value.reshape(-1)[0])
    pads = tuple(map(tuple, paddings.tolist()))
    if imp.float_model:  # a float model pads with its float value, quantized with the rest
        imp.emit(k, "pad", [op.Inputs(0)], [op.Outputs(0)], pads=pads,
                 value=0.0 if value is None else float(value.reshape(-1)[0]))
        return
    imp.emit(k, "pad", [op.Inputs(0)], [op.Outputs(0)], pads=pads, fill=fill, value=0.0)


ONNX = {"Pad": onnx_pad}
TFLITE = {"PAD": tflite_pad, "PADV2": tflite_pad}
