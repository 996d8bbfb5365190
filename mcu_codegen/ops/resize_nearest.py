"""Nearest-neighbour resize of an NHWC map (TFLite RESIZE_NEAREST_NEIGHBOR with align_corners and
half_pixel_centers; ONNX Resize mode=nearest with every coordinate_transformation_mode and nearest_mode, and the
ONNX importer of Resize for both modes):
output row y reads input row rows[y], output column x input column cols[x]. The
tables are computed at generation time by each format's own rule, in its own float arithmetic (TFLite: float32,
as TFLM's GetNearestNeighbor); the kernel is the copy of ops/_index_copy.py, so the input's quantization is
kept, as in TFLM."""
import numpy as np

from ..fixedpoint import round_half_away
from . import _index_copy

KERNELS = _index_copy.KERNELS
SAME_QUANT_AS_INPUT = True


def output_shape(attrs, in_shapes):
    n, _, _, c = in_shapes[0]
    return (n, len(attrs["rows"]), len(attrs["cols"]), c)


def macs(attrs, in_shapes, out_shape):
    return 0


def _indices(attrs, in_shape):
    return [np.arange(in_shape[0]), np.asarray(attrs["rows"]), np.asarray(attrs["cols"]), np.arange(in_shape[3])]


def float_ref(attrs, x):
    return _index_copy.float_ref(_indices(attrs, x.shape[1:]), x)


def prepare(attrs, ins, out):
    return _index_copy.prepare(_indices(attrs, ins[0].shape), ins[0], out)


int_ref = _index_copy.int_ref
overlap_limit = _index_copy.overlap_limit


def tflite_table(in_size, out_size, align_corners, half_pixel_centers):
    """TFLite's GetNearestNeighbor for every output position, in float32 as TFLM computes it."""
    f32 = np.float32
    scale = (f32(in_size - 1) / f32(out_size - 1) if align_corners and out_size > 1
             else f32(in_size) / f32(out_size))
    offset = f32(0.5) if half_pixel_centers else f32(0.0)
    v = (np.arange(out_size).astype(f32) + offset) * scale
    v = round_half_away(v) if align_corners else np.floor(v)
    v = np.minimum(v.astype(np.int64), in_size - 1)
    return tuple(int(i) for i in (np.maximum(v, 0) if half_pixel_centers else v))


ONNX_COORDINATES = {
    "half_pixel": lambda x, scale, n_in, n_out: (x + 0.5) / scale - 0.5,
    "pytorch_half_pixel": lambda x, scale, n_in, n_out: (x + 0.5) / scale - 0.5 if n_out > 1 else 0.0 * x,
    "align_corners": lambda x, scale, n_in, n_out: x * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0 * x,
    "asymmetric": lambda x, scale, n_in, n_out: x / scale,
    "tf_half_pixel_for_nn": lambda x, scale, n_in, n_out: (x + 0.5) / scale,
}
ONNX_ROUNDING = {
    "round_prefer_floor": lambda v: np.where(v - np.floor(v) == 0.5, np.floor(v), np.round(v)),
    "round_prefer_ceil": lambda v: np.where(v - np.floor(v) == 0.5, np.ceil(v), np.round(v)),
    "floor": np.floor,
    "ceil": np.ceil,
}


def onnx_table(in_size, out_size, scale, coordinates, rounding):
    """ONNX Resize's nearest rule: the output coordinate mapped back by coordinate_transformation_mode (in
    float32, as onnxruntime computes it), rounded by nearest_mode, clamped to the input."""
    f32 = np.float32
    x = ONNX_COORDINATES[coordinates](np.arange(out_size).astype(f32), f32(scale), f32(in_size), f32(out_size))
    v = ONNX_ROUNDING[rounding](np.asarray(x, f32)).astype(np.int64)
    return tuple(int(i) for i in np.clip(v, 0, in_size - 1))


# -- import ----------------------------------------------------------------------------------------------------
def _text(a, name, default):
    v = a.get(name, default)
    return v.decode() if isinstance(v, bytes) else v


def onnx_resize(imp, node, a):
    """Resize (opset 11+): X, roi, scales, sizes on a 4-D NCHW map, N and C kept; nearest here, linear in
    ops/resize_bilinear.py."""
    from . import resize_bilinear
    mode = _text(a, "mode", "nearest")
    if mode not in ("nearest", "linear"):
        imp.fail(node, f"mode '{mode}' is not supported (nearest and linear)")
    policy = _text(a, "keep_aspect_ratio_policy", "stretch")
    if a.get("axes") is not None or a.get("antialias", 0) or policy != "stretch":
        imp.fail(node, "the axes, antialias and keep_aspect_ratio_policy attributes are not supported")
    x = imp.x(node)
    shape, out = imp.graph.tensors[x].shape, imp.shapes.get(node.output[0])
    if len(shape) != 4 or out is None or out[0] != shape[0] or out[1] != shape[1]:
        imp.fail(node, "only a 4-D NCHW resize of H and W is supported")
    if mode == "linear":
        return resize_bilinear.onnx_linear(imp, node, a, x, out)
    coordinates = _text(a, "coordinate_transformation_mode", "half_pixel")
    rounding = _text(a, "nearest_mode", "round_prefer_floor")
    if coordinates not in ONNX_COORDINATES or rounding not in ONNX_ROUNDING:
        imp.fail(node, f"coordinate_transformation_mode '{coordinates}' / nearest_mode '{rounding}' is not supported")
    scales = None
    if len(node.input) > 2 and node.input[2] and not (len(node.input) > 3 and node.input[3]):
        scales = np.asarray(imp.const(node, node.input[2], "the scales"), np.float32).reshape(-1)
        if scales.size != 4:
            imp.fail(node, "scales must have one value per axis")
    # scales given: ONNX maps coordinates with them; sizes given: with out / in
    scale = [scales[d] if scales is not None else np.float32(out[d]) / np.float32(shape[d]) for d in (2, 3)]
    rows, cols = (onnx_table(shape[d], out[d], s, coordinates, rounding) for d, s in zip((2, 3), scale))
    imp.nhwc(node, "resize_nearest", x, out, rows=rows, cols=cols)


def tflite_resize_nearest(imp, k, op):
    o = imp.options(op, "ResizeNearestNeighborOptions")
    size = imp.const(op.Inputs(1))
    shape = imp.shape(op.Inputs(0))
    if size is None or size.size != 2 or len(shape) != 4:
        imp.fail(k, "a 4-D input and a constant size of two values are needed")
    (h, w), (oh, ow) = (int(d) for d in shape[1:3]), (int(d) for d in size.reshape(-1))
    imp.emit(k, "resize_nearest", [op.Inputs(0)], [op.Outputs(0)],
             rows=tflite_table(h, oh, o.AlignCorners(), o.HalfPixelCenters()),
             cols=tflite_table(w, ow, o.AlignCorners(), o.HalfPixelCenters()))


ONNX = {"Resize": onnx_resize}
TFLITE = {"RESIZE_NEAREST_NEIGHBOR": tflite_resize_nearest}
