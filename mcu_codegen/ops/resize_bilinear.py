"""Bilinear resize of an NHWC map (TFLite RESIZE_BILINEAR with align_corners / half_pixel_centers; ONNX Resize
mode=linear with coordinate_transformation_mode half_pixel, align_corners or asymmetric). The int8 kernel is
TFLM's ResizeBilinearInteger: each output row y reads input rows y0, y1 with the weight wy / 1024 of y1 (from a
scale in 1/1024 steps, half_pixel shifting by half a step), each column likewise; the four products sum in
units of 2^-20 and are rounded half away from zero (TFLM's default double-rounding build). The float kernel is
TFLite's float ResizeBilinear. The tables are computed at generation time; the output keeps the input's
quantization (a weighted mean of its values, as TFLM requires). TFLM has no int16 RESIZE_BILINEAR: no int16
kernel here either."""
import numpy as np

from ..ir import ConversionError
from . import _common as c

KERNELS = {"int8": ("mcu_resize_bilinear_s8", "mcu_resize_bilinear_params_t"),
           "float32": ("mcu_resize_bilinear_f32", "mcu_resize_bilinear_f32_params_t")}
SAME_QUANT_AS_INPUT = True
ONE = 1 << 10  # the integer weights' unit


def output_shape(attrs, in_shapes):
    return (in_shapes[0][0],) + tuple(attrs["out_hw"]) + (in_shapes[0][3],)


def macs(attrs, in_shapes, out_shape):
    return 0


def float_table(n_in, n_out, align_corners, half_pixel):
    """TFLite's float ComputeInterpolationValues for each output position: (lower, upper, input coordinate)."""
    f32 = np.float32
    scale = f32(n_in - 1) / f32(n_out - 1) if align_corners and n_out > 1 else f32(n_in) / f32(n_out)
    v = np.arange(n_out).astype(f32)
    v = (v + f32(0.5)) * scale - f32(0.5) if half_pixel else v * scale
    v = np.asarray(v, f32)
    lower = np.maximum(np.floor(v).astype(np.int64), 0)
    upper = np.minimum(np.ceil(v).astype(np.int64), n_in - 1)
    return lower, upper, v


def integer_table(n_in, n_out, align_corners, half_pixel):
    """TFLM's ComputeInterpolationValuesInteger: (lower, upper, weight of upper in 1/1024) per output position."""
    if align_corners and n_out > 1:
        scale = (ONE * (n_in - 1) + (n_out - 1) // 2) // (n_out - 1)
    else:
        scale = (ONE * n_in + n_out // 2) // n_out
    v = np.arange(n_out, dtype=np.int64) * scale + (scale // 2 - ONE // 2 if half_pixel else 0)
    lower = np.where(v >= 0, v // ONE, 0)  # C's division truncates: v is at least -512
    upper = np.minimum((v + ONE - 1) // ONE, n_in - 1)
    return lower, upper, v - ONE * lower


def float_ref(attrs, x):
    """TFLite's float ResizeBilinear on (N, 1, H, W, C) (or (N, H, W, C))."""
    x = c.to_nhwc(x)
    _, h, w, _ = x.shape
    (y0, y1, iy), (x0, x1, ix) = (float_table(n, m, attrs["align_corners"], attrs["half_pixel"])
                                  for n, m in zip((h, w), attrs["out_hw"]))
    one = np.float32(1)
    dy, dx = (iy - y0.astype(np.float32))[:, None, None], (ix - x0.astype(np.float32))[None, :, None]
    y = (x[:, y0][:, :, x0] * (one - dy) * (one - dx) + x[:, y1][:, :, x0] * dy * (one - dx)
         + x[:, y0][:, :, x1] * (one - dy) * dx + x[:, y1][:, :, x1] * dy * dx)
    return c.from_nhwc(y.astype(np.float32))


def prepare(attrs, ins, out):
    x = ins[0]
    _, h, w, channels = x.shape
    if x.dtype != "float32" and attrs["align_corners"] and attrs["half_pixel"]:
        raise ConversionError("align_corners and half_pixel_centers together (TFLM refuses them)")
    table = integer_table if x.dtype != "float32" else float_table
    (y0, y1, wy), (x0, x1, wx) = (table(n, m, attrs["align_corners"], attrs["half_pixel"])
                                  for n, m in zip((h, w), attrs["out_hw"]))
    p = dict(in_h=h, in_w=w, channels=channels, out_h=len(y0), out_w=len(x0),
             rows_lo=y0.astype(np.int32), rows_hi=y1.astype(np.int32),
             cols_lo=x0.astype(np.int32), cols_hi=x1.astype(np.int32))
    if x.dtype == "float32":  # the fractions, as TFLite's float kernel computes them (input_y - y0)
        return dict(p, rows_frac=(wy - y0.astype(np.float32)).astype(np.float32),
                    cols_frac=(wx - x0.astype(np.float32)).astype(np.float32))
    return dict(p, rows_w=wy.astype(np.int32), cols_w=wx.astype(np.int32))


def int_ref(p, x):
    """The twin of mcu_resize_bilinear_s8 (TFLM's ResizeBilinearInteger, int64 sums)."""
    x = c.to_nhwc(x).astype(np.int64)
    y0, y1, x0, x1 = p["rows_lo"], p["rows_hi"], p["cols_lo"], p["cols_hi"]
    wy, wx = p["rows_w"].astype(np.int64)[:, None, None], p["cols_w"].astype(np.int64)[None, :, None]
    acc = (x[:, y0][:, :, x0] * (ONE - wy) * (ONE - wx) + x[:, y1][:, :, x0] * wy * (ONE - wx)
           + x[:, y0][:, :, x1] * (ONE - wy) * wx + x[:, y1][:, :, x1] * wy * wx)
    acc = acc + np.where(acc > 0, 1 << 19, -(1 << 19))
    return c.from_nhwc(np.sign(acc) * (np.abs(acc) >> 20))  # C's division by 2^20 truncates


# -- import ----------------------------------------------------------------------------------------------------
ONNX_MODES = {"half_pixel": (False, True), "align_corners": (True, False), "asymmetric": (False, False)}


def onnx_linear(imp, node, a, x, out):
    """Resize mode=linear on a 4-D NCHW map (called by ops/resize_nearest.onnx_resize)."""
    mode = a.get("coordinate_transformation_mode", b"half_pixel")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode not in ONNX_MODES:
        imp.fail(node, f"linear resize with coordinate_transformation_mode '{mode}' is not supported "
                       f"({', '.join(ONNX_MODES)})")
    align, half = ONNX_MODES[mode]
    imp.nhwc(node, "resize_bilinear", x, out, out_hw=tuple(out[2:]), align_corners=align, half_pixel=half)


def tflite_resize_bilinear(imp, k, op):
    o = imp.options(op, "ResizeBilinearOptions")
    size = imp.const(op.Inputs(1))
    if size is None or size.size != 2 or imp.sg.Tensors(op.Inputs(0)).ShapeLength() != 4:
        imp.fail(k, "a 4-D input and a constant size of two values are needed")
    imp.emit(k, "resize_bilinear", [op.Inputs(0)], [op.Outputs(0)], out_hw=tuple(int(d) for d in size.reshape(-1)),
             align_corners=bool(o.AlignCorners()), half_pixel=bool(o.HalfPixelCenters()))


TFLITE = {"RESIZE_BILINEAR": tflite_resize_bilinear}
