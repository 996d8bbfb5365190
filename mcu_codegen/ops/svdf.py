"""TFLite SVDF (the micro_speech family: a rank-factored time filter over a memory of past feature
projections) with TFLM's int8 arithmetic: input [B, I] int8, weights_feature [F, I] int8, weights_time [F, M]
int16 (or int8), bias [U] int32 (U = F / rank), the activation state [B, F * M] int16 (or int8, with a zero
point); output [B, U] int8. Per call, as TFLM's EvalIntegerSvdfReference:
    state <<= 1 (every filter's memory one step older), its newest slot per filter
        s[f] = wrap_state(sat_state(mbqm(sum_i (x_i - x_zp) wf[f, i], x_scale wf_scale / state_scale)) + state_zp)
        (the zero point added after the clamp, the sum narrowed into the state's type: what the tflite-micro
        package the tests run computes; the later TFLM source (commit 1176f9b) adds it before; the same for an int16
        state, whose zero point is 0),
    y[u] = sat8(mbqm(bias[u] + sum_{f in u's rank filters} sum_m wt[f, m] (state[f, m] - state_zp),
                     state_scale wt_scale / y_scale) + y_zp)
(TFLM's integer SVDF applies no fused activation). Both scales are float32 products, as TFLM computes them.
float32: the same steps in float (TFLM's float SVDF), its fused activation applied.

The state: by default every call starts from the zero state (the state at its zero point, as TFLM's reset),
held in the node's scratch buffer; with it, only the newest memory slot contributes (converting warns). With
--stateful (passes.make_stateful) the state is TFLM's variable tensor, a persistent arena tensor the node reads
after its input and updates in place (keep_state 1): one frame per call, the memory carried from call to call,
as micro_speech streams. An int8 state is kept in int16 values like the int16 one (its zero point with it).
"""
import warnings

import numpy as np
import tflite

from .. import fixedpoint as fp
from ..ir import ConversionError
from . import _common as c

# the state in its scratch, without --stateful: int16 (an int8 state's values too), float
SCRATCH = {"mcu_svdf_s8": lambda p: 0 if p["keep_state"] else 2 * p["batch"] * p["filters"] * p["memory"],
           "mcu_svdf_f32": lambda p: 0 if p["keep_state"] else 4 * p["batch"] * p["filters"] * p["memory"]}
STATE_ARGS = 1  # the kernel's state pointer after its input: the kept state (--stateful), or NULL
KERNELS = {"int8": ("mcu_svdf_s8", "mcu_svdf_params_t"), "float32": ("mcu_svdf_f32", "mcu_svdf_f32_params_t")}


def output_shape(attrs, in_shapes):
    if len(in_shapes[0]) != 2:
        raise ValueError("the input must be 2-D")
    return (in_shapes[0][0], attrs["weights_feature"].shape[0] // attrs["rank"])


def macs(attrs, in_shapes, out_shape):
    filters, inputs = attrs["weights_feature"].shape
    return in_shapes[0][0] * filters * (inputs + attrs["weights_time"].shape[1])


def state_tensors(attrs, x):
    """--stateful: the state kept across invokes, [(source, dtype, scale, zero point, shape)]: the activation
    state [batch, filters * memory], int16 for an int8 or int16 state (the kernel's values; the zero point
    the file's), float32 in a float model."""
    shape = (x.shape[0], attrs["weights_feature"].shape[0] * attrs["weights_time"].shape[1])
    if "state_scale" not in attrs:
        return [(attrs["state_name"], "float32", None, None, shape)]
    return [(attrs["state_name"], "int16", attrs["state_scale"], attrs["state_zp"], shape)]


def _memory(state, x, filters, memory, zero):
    """The state (N, B, F, M) one step older (TFLM shifts the whole buffer by one value: within each filter, as
    its newest slot is written next), from the given state (--stateful) or the zero state."""
    n, batch = x.shape[:2]
    s = np.full((n, batch, filters, memory), zero, np.float64 if isinstance(zero, float) else np.int64)
    if state:
        s[...] = state[0].reshape(s.shape)
    s[..., :-1] = s[..., 1:].copy()
    return s


def float_ref(attrs, x, *state):
    """The float SVDF from the zero state (the newest memory slot only), or with the state given (--stateful)
    from it: then (y, [the new state])."""
    wf = attrs["weights_feature"].astype(np.float64)
    wt = attrs["weights_time"].astype(np.float64)
    s = _memory(state, x, wf.shape[0], wt.shape[1], 0.0)
    s[..., -1] = x.astype(np.float64) @ wf.T  # (N, B, F)
    y = (s * wt).sum(axis=-1)
    y = y.reshape(y.shape[:-1] + (-1, attrs["rank"])).sum(axis=-1) + attrs["bias"]
    y = c.float_clamp(y.astype(np.float32), attrs)
    return (y, [s.astype(np.float32)]) if state else y


def prepare(attrs, ins, out):
    x, kept = ins[0], ins[1:]
    filters, inputs = attrs["weights_feature"].shape
    geometry = dict(batch=x.shape[0], input_size=inputs, filters=filters, rank=attrs["rank"],
                    memory=attrs["weights_time"].shape[1], keep_state=int(bool(kept)))
    if not kept:
        warnings.warn("an SVDF without --stateful starts from the zero state at every invoke: only the newest memory "
                      "slot contributes; streaming one frame per invoke needs --stateful")
    if kept and (kept[0].dtype, kept[0].zero_point) != ("float32" if x.dtype == "float32" else "int16",
                                                        0 if x.dtype == "float32" else attrs.get("state_zp")):
        raise ConversionError("--stateful: the SVDF's kept state must hold the file's quantization (a float SVDF "
                              "quantized by the tool is not supported)")
    if x.dtype == "float32":
        act_min, act_max = c.act_range(attrs, out)
        return dict(geometry, weights_feature=c.float_array(attrs["weights_feature"]),
                    weights_time=c.float_array(attrs["weights_time"]), bias=c.float_array(attrs["bias"]),
                    act_min=act_min, act_max=act_max)
    if "feature_scale" not in attrs:
        raise ConversionError("quantizing a float SVDF is not supported: convert a full-integer .tflite file (or "
                              "use --mode float32)")
    f32 = np.float32
    scale_1 = float(f32(f32(x.scale) * f32(attrs["feature_scale"])) / f32(attrs["state_scale"]))
    scale_2 = float(f32(f32(attrs["state_scale"]) * f32(attrs["time_scale"])) / f32(out.scale))
    m1, s1 = fp.quantize_multiplier(scale_1)
    m2, s2 = fp.quantize_multiplier(scale_2)
    c.check_shifts([s1, s2])
    wide = attrs["weights_time"].dtype == np.int16
    c.check_accumulator(inputs, 0)
    state_range = c.QRANGE["int16" if wide else "int8"]
    return dict(geometry, weights_feature=attrs["weights_feature"].astype(np.int8),
                weights_time=attrs["weights_time"].astype(np.int16), bias=attrs["bias"].astype(np.int32),
                input_zp=x.zero_point, state_zp=attrs["state_zp"], state_min=state_range[0],
                state_max=state_range[1], output_zp=out.zero_point, feature_mult=m1, feature_shift=s1,
                output_mult=m2, output_shift=s2)


def int_ref(p, x, *state):
    """The twin of mcu_svdf_s8: one call from the zero state (every memory slot at state_zp), or with the state
    given (--stateful) from it: then (y, [the new state])."""
    n, batch = x.shape[:2]
    s = _memory(state, x, p["filters"], p["memory"], p["state_zp"])
    acc = (x.astype(np.int64) - p["input_zp"]) @ p["weights_feature"].T.astype(np.int64)
    clamped = np.clip(fp.multiply_by_quantized_multiplier(acc, p["feature_mult"], p["feature_shift"]),
                      p["state_min"], p["state_max"])
    s[..., -1] = ((clamped + p["state_zp"] - p["state_min"]) & (p["state_max"] - p["state_min"])) + p["state_min"]
    per_filter = ((s - p["state_zp"]) * p["weights_time"]).sum(axis=-1)
    y = per_filter.reshape(n, batch, -1, p["rank"]).sum(axis=-1) + p["bias"]
    y = np.clip(fp.multiply_by_quantized_multiplier(y, p["output_mult"], p["output_shift"]) + p["output_zp"],
                -128, 127)
    return (y, [s]) if state else y


# -- import ----------------------------------------------------------------------------------------------------
def tflite_svdf(imp, k, op):
    o = imp.options(op, "SVDFOptions")
    if op.InputsLength() != 5 or op.Inputs(3) < 0:
        imp.fail(k, "the SVDF needs its 5 inputs, the bias too (TFLM reads it)")
    sg = imp.sg
    wf, wt, bias = (imp.const(op.Inputs(j)) for j in (1, 2, 3))
    rank = o.Rank()
    A = tflite.ActivationFunctionType
    if o.FusedActivationFunction() not in (A.NONE, A.RELU, A.RELU6, A.RELU_N1_TO_1):
        imp.fail(k, f"fused activation {o.FusedActivationFunction()} is not supported (TFLM's: none or a RELU)")
    if imp.float_model:
        if any(v is None or v.dtype != np.float32 for v in (wf, wt, bias)) or wf.ndim != 2 or wt.ndim != 2 \
                or wt.shape[0] != wf.shape[0] or rank < 1 or wf.shape[0] % rank or bias.size != wf.shape[0] // rank:
            imp.fail(k, "the weights and bias must be constant float32 tensors fitting the rank")
        imp.emit(k, "svdf", [op.Inputs(0)], [op.Outputs(0)], weights_feature=wf, weights_time=wt,
                 bias=bias.reshape(-1), rank=rank, act=imp.activation_of(o), state_name=imp.full_name(op.Inputs(4)))
        return
    if sg.Tensors(op.Inputs(0)).Type() != tflite.TensorType.INT8:
        imp.fail(k, "only the int8 SVDF is supported (TFLM's integer one)")
    scales = [imp.quant(op.Inputs(j)) for j in (1, 2, 4)]
    if wf is None or wf.dtype != np.int8 or wf.ndim != 2 or wt is None or wt.dtype not in (np.int8, np.int16) \
            or wt.ndim != 2 or wt.shape[0] != wf.shape[0] or any(s is None or s.size != 1 for s, _ in scales):
        imp.fail(k, "the feature weights must be constant int8 [filters, inputs], the time weights int16 or int8 "
                    "[filters, memory], each with one scale")
    state = sg.Tensors(op.Inputs(4))
    state_type = {tflite.TensorType.INT16: np.int16, tflite.TensorType.INT8: np.int8}.get(state.Type())
    if rank < 1 or wf.shape[0] % rank or bias is None or bias.dtype != np.int32 or bias.size != wf.shape[0] // rank:
        imp.fail(k, f"rank {rank} and the bias do not fit {wf.shape[0]} filters (an int32 bias per unit)")
    if not state.IsVariable() or state_type != wt.dtype.type or \
            int(np.prod(imp.shape(op.Inputs(4)))) != imp.shape(op.Inputs(0))[0] * wt.size:
        imp.fail(k, "the activation state must be a variable tensor of the time weights' type, batch x filters x "
                    "memory values")
    _, state_zp = scales[2]
    imp.emit(k, "svdf", [op.Inputs(0)], [op.Outputs(0)], weights_feature=wf, weights_time=wt,
             bias=bias.reshape(-1), rank=rank, feature_scale=np.float32(scales[0][0][0]),
             time_scale=np.float32(scales[1][0][0]), state_scale=np.float32(scales[2][0][0]),
             state_zp=int(state_zp[0]), act=imp.activation_of(o), state_name=imp.full_name(op.Inputs(4)))


TFLITE = {"SVDF": tflite_svdf}
