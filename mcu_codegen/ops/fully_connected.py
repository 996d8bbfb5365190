"""Fully connected (ONNX Gemm, MatMul + Add): weights [OUT, IN], per-output-channel int8; or float; or hybrid
(dynamic range: int8 weights, float activations, each input row quantized at run time as TFLite does)."""
import numpy as np
import tflite

from ..ir import ConversionError
from .. import fixedpoint as fp
from .. import stable
from . import _common as c

# the forms that work in a scratch buffer of the arena -> its bytes: the DSP matrix product widens each pair of
# rows to int16 pairs (16 bytes per four features), its one-row form the row (8, and 8 for the end mark)
SCRATCH = {"mcu_fully_connected_dsp_s8": lambda p: 4 * (p["in_features"] & ~3),
           "mcu_fully_connected_row_dsp_s8": lambda p: 2 * (p["in_features"] & ~3) + 8 * (p["in_features"] > 3),
           "mcu_fully_connected_hybrid": lambda p: p["in_features"]}  # the int8 copy of one input row
SPEED_PARAMS = ("out_round",)  # read only by the faster forms (conv2d.SPEED_PARAMS)
KERNELS = {"int8": ("mcu_fully_connected_s8", "mcu_fully_connected_params_t"),
           "int16": ("mcu_fully_connected_s16", "mcu_fully_connected_s16_params_t"),
           "float32": ("mcu_fully_connected_f32", "mcu_fully_connected_f32_params_t"),
           "hybrid": ("mcu_fully_connected_hybrid", "mcu_fully_connected_hybrid_params_t"),
           "float16": ("mcu_fully_connected_f16", "mcu_fully_connected_f32_params_t")}


def output_shape(attrs, in_shapes):
    return tuple(in_shapes[0][:-1]) + (attrs["weight"].shape[0],)


def macs(attrs, in_shapes, out_shape):
    return int(np.prod(out_shape)) * attrs["weight"].shape[1]


def float_ref(attrs, x):
    y = stable.matmul(x.astype(np.float32), attrs["weight"].T.astype(np.float32)) + attrs["bias"]
    return c.float_clamp(y.astype(np.float32), attrs)


def prepare(attrs, ins, out):
    x = ins[0]
    in_features = attrs["weight"].shape[1]
    if x.size % in_features:
        raise ConversionError(f"input of shape {x.shape} is not a whole number of {in_features}-feature rows")
    act_min, act_max = c.act_range(attrs, out)
    p = dict(rows=x.size // in_features, in_features=in_features, out_features=attrs["weight"].shape[0],
             act_min=act_min, act_max=act_max)
    if attrs.get("compute") == "hybrid":
        w_q, scales = c.symmetric_weights(attrs, 0)
        return dict(p, weights=w_q, **c.hybrid_params(w_q, scales, attrs))
    if x.dtype == "float32":
        return dict(p, **c.float_weights(attrs, "weights"), bias=c.float_array(attrs["bias"]))
    wide = x.dtype == "int16"
    w_q, bias, w_scales = c.quantize_weights_and_bias(attrs, 0, x.scale, wide)
    if not wide:  # every input feature is read: the zero point folds into the bias, exactly
        bias = c.fold_input_zero_point(w_q, bias, x.zero_point)
    c.check_accumulator(w_q.shape[1], bias, wide, folded=not wide)
    mult, shift = c.output_multipliers(x.scale, w_scales, out.scale, wide)
    p.update(weights=w_q, bias=bias.astype(np.int64 if wide else np.int32), out_mult=mult, out_shift=shift)
    return p if wide else c.with_round_constants(dict(p, input_zp=0, output_zp=out.zero_point))


def variants(p, dtype):
    """int8 with the zero point folded (always, see prepare): mcu_gemm_s8.h's faster forms."""
    if dtype == "float16":
        return c.f16_forms(KERNELS[dtype][0])
    if dtype == "int8" and p["input_zp"] == 0:  # DSP: one row (the usual) by its own form
        dsp = "mcu_fully_connected_row_dsp_s8" if p["rows"] == 1 else "mcu_fully_connected_dsp_s8"
        return c.isa_forms("mcu_fully_connected_fast_s8", dsp, "mcu_fully_connected_mve_s8",
                           "mcu_fully_connected_thumb1_s8")
    return None


def int_ref(p, x):
    xs = x.reshape(len(x), -1, p["in_features"]).astype(np.float64) - p.get("input_zp", 0)  # exact: see conv2d
    acc = (xs @ p["weights"].T.astype(np.float64)).astype(np.int64) + p["bias"]
    return c.requantize(acc, p)


def hybrid_ref(p, x):
    """The twin of mcu_fully_connected_hybrid: each row quantized (fixedpoint.asymmetric_quantize_rows), the
    int32 sum of w * (q - zp), rescaled in float32 (fixedpoint.hybrid_rescale)."""
    rows = x.reshape(-1, p["in_features"])
    q, scale, zp = fp.asymmetric_quantize_rows(rows)
    acc = ((q - zp[:, None]).astype(np.float64) @ p["weights"].T.astype(np.float64)).astype(np.int64)  # exact
    y = fp.hybrid_rescale(acc, scale, p["weight_scales"], p["bias"], p["act_min"], p["act_max"])
    return y.reshape(len(x), -1, p["out_features"])


# -- import ----------------------------------------------------------------------------------------------------
def onnx_gemm(imp, node, a):
    if a.get("transA", 0):
        imp.fail(node, "transA=1 is not supported")
    b = imp.const(node, node.input[1], "B").astype(np.float32)
    if b.ndim != 2:
        imp.fail(node, "B must be a 2-D matrix")
    weight = (b if a.get("transB", 0) else b.T) * np.float32(a.get("alpha", 1.0))
    bias = np.zeros(weight.shape[0], np.float32)
    if len(node.input) > 2 and node.input[2]:
        cc = imp.const(node, node.input[2], "C").astype(np.float32) * np.float32(a.get("beta", 1.0))
        if cc.size not in (1, weight.shape[0]):
            imp.fail(node, "C must broadcast along the output features")
        bias = np.broadcast_to(cc.reshape(-1), weight.shape[:1]).astype(np.float32)
    imp.fully_connected(node, weight, bias)


def tflite_fully_connected(imp, k, op):
    o = imp.options(op, "FullyConnectedOptions")
    if o.WeightsFormat() != tflite.FullyConnectedOptionsWeightsFormat.DEFAULT:
        imp.fail(k, "shuffled weights are not supported")
    weights = imp.weight_attrs(k, op, 0)
    if weights.get("compute") == "hybrid" and not o.AsymmetricQuantizeInputs():
        imp.fail(k, "a hybrid FULLY_CONNECTED with symmetric input quantization is not supported (the converter "
                    "writes asymmetric_quantize_inputs = true)")
    imp.emit(k, "fully_connected", [op.Inputs(0)], [op.Outputs(0)], **weights, act=imp.activation_of(o))


ONNX = {"Gemm": onnx_gemm}  # MatMul: ops/batch_matmul.py (a 2-D constant B is a fully connected layer)
TFLITE = {"FULLY_CONNECTED": tflite_fully_connected}
