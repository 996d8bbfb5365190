"""The op registry: one module per op, named like its C files (mcu_<op>_<s8|s16|f32>.c) and its test
(tests/ops/test_<op>.py).

Each module defines, top to bottom: output_shape, macs, float_ref, prepare (every integer the C kernel needs),
int_ref (the NumPy twin of the integer kernels), and KERNELS: {activation type: (C function, params type)}.
prepare() branches on the activation type (int8; int16 for 16x8; float32). At the bottom, how models reach it:
ONNX = {ONNX op type: handler(importer, node, attrs)} and TFLITE = {TFLite builtin operator name:
handler(importer, index, operator)}; the two frontends collect these tables, so an op needs no frontend edit.
Copy _template.py to add one.
"""
from . import (_graph, _recurrent, add, avg_pool, batch_matmul, concat, constant, conv2d, convert_u8,
               depthwise_conv2d, dequantize, elu, exp, fully_connected, gather, gelu, hard_swish, layer_norm,
               leaky_relu, logistic, lstm, max_pool, maximum, mean, minimum, mul, neg, pad, prelu, quantize,
               reduce_max, relu, requantize, reshape, resize_bilinear, resize_nearest, rsqrt, slice, softmax,
               squared_difference, sub, svdf, tanh, tile, transpose, transpose_conv)
from ._common import kernel_params

REGISTRY = {
    "conv2d": conv2d,
    "depthwise_conv2d": depthwise_conv2d,
    "fully_connected": fully_connected,
    "add": add,
    "sub": sub,
    "mul": mul,
    "max_pool": max_pool,
    "avg_pool": avg_pool,
    "mean": mean,
    "softmax": softmax,
    "logistic": logistic,
    "tanh": tanh,
    "exp": exp,
    "transpose": transpose,
    "concat": concat,
    "pad": pad,
    "slice": slice,
    "gather": gather,
    "tile": tile,
    "resize_nearest": resize_nearest,
    "resize_bilinear": resize_bilinear,
    "constant": constant,
    "relu": relu,
    "reshape": reshape,
    "quantize": quantize,
    "dequantize": dequantize,
    "requantize": requantize,
    "convert_u8": convert_u8,
    "leaky_relu": leaky_relu,
    "hard_swish": hard_swish,
    "prelu": prelu,
    "maximum": maximum,
    "minimum": minimum,
    "reduce_max": reduce_max,
    "transpose_conv": transpose_conv,
    "elu": elu,
    "lstm": lstm,
    "svdf": svdf,
    "batch_matmul": batch_matmul,
    "gelu": gelu,
    "rsqrt": rsqrt,
    "neg": neg,
    "squared_difference": squared_difference,
    "layer_norm": layer_norm,
}


IMPORT_ONLY = (_graph, _recurrent)  # ONNX nodes that passes fold away or that unroll: import handlers, no kernel


def _handlers(table):
    """{key: handler} merged from every module's ONNX or TFLITE table; a key claimed twice is a bug."""
    merged = {}
    for mod in list(REGISTRY.values()) + list(IMPORT_ONLY):
        for key, handler in getattr(mod, table, {}).items():
            assert key not in merged, f"{key} is imported by two op modules"
            merged[key] = handler
    return merged


def onnx_handlers():
    return _handlers("ONNX")


def tflite_handlers():
    return _handlers("TFLITE")


def get(op):
    return REGISTRY[op]


def kernel_type(mod, in_dtype, out_dtype, attrs=None):
    """The key of mod.KERNELS that picks a node's kernel: the one its attrs["compute"] names ("hybrid": int8
    weights on float activations, the dynamic range mode), else its input's activation type, or for quantize
    the integer type it makes."""
    if attrs and attrs.get("compute"):
        return attrs["compute"]
    return out_dtype if getattr(mod, "KERNEL_BY_OUTPUT", False) else in_dtype


def kernel(mod, in_dtype, out_dtype, attrs=None):
    """(C function, params type) of an op module for these tensor types (and node attributes)."""
    return kernel_params(mod.KERNELS, kernel_type(mod, in_dtype, out_dtype, attrs))


def twin(mod, kind):
    """The NumPy twin of an op's kernel of this kind: int_ref for the integer kernels, <kind>_ref for the others
    (hybrid_ref)."""
    return getattr(mod, f"{kind}_ref", None) or mod.int_ref
