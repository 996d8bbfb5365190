"""TFLite UNIDIRECTIONAL_SEQUENCE_LSTM with TFLM's integer LSTM arithmetic (int8 activations and weights, int16
gates and cell state; 16x8: int16 activations and hidden state, int64 biases), or float. Input [B, T, I]
([T, B, I] time major), output the hidden state of every step in the same layout, [.., U].

Per step and gate (input i, forget f, cell g, output o), as TFLM's Prepare and LstmStep compute them:
    z = sat16(sat16(FC(x; W_in, bias, x_scale w_scale / 2^-12)) + sat16(FC(h; W_rec, no bias, h_scale w_scale / 2^-12)))
gates i, f, o = TFLM's int16 sigmoid of z (in 2^-12 steps, out 2^-15), g = its int16 tanh;
    c = sat16(sat16(f c * 2^-15) + sat16(i g * 2^-30 / c_scale)), clipped to +-cell_clip / c_scale when set,
    h = sat8(o tanh(c) * 2^-30 / h_scale + h_zp)   (tanh reads c at its power-of-two scale),
each product requantized by a multiplier and shift (fixedpoint.multiply_by_quantized_multiplier). The zero points
of x and h fold into the biases (the sums are exact). TFLM supports the Keras LSTM only: no CIFG, peephole,
projection or layer norm, the cell activation tanh; the cell scale a power of two.

The state: by default every call is one sequence from a zero state (h = its zero point, c = 0, as TFLM's reset);
h and c live in the node's scratch buffer of the arena, beside one step's int16 gates. With --stateful
(passes.make_stateful) they are TFLM's variable tensors, two persistent arena tensors the node reads after its
input and updates in place (keep_state 1): each call continues the sequence of the one before.
"""
import warnings

import numpy as np
import tflite

from .. import fixedpoint as fp
from .. import stable
from ..ir import ConversionError
from . import _common as c

GATE_SCALE_LOG2 = -12  # the gates' pre-activation scale: TFLM's Q3.12 (nonlinear_input_scale)
GATE_OUT_SCALE = 2.0 ** -15  # the sigmoid / tanh output scale
CELL_SCALE_LOG2_RANGE = (-15, 0)  # a float LSTM's cell state quantized by the tool: the power of two TFLM's tanh takes


def _state_bytes(p, hidden_size, cell_size=2, gate_size=2):
    rows, units = p["batch"], p["units"]
    state = 0 if p["keep_state"] else cell_size * rows * units + hidden_size * rows * units
    return state + gate_size * 4 * units  # c, one step's gates, h


# scratch: one step's four gates (int16), without --stateful after the cell state (int16) and before the hidden
# state (int8; int16 for 16x8); float: c, h, the gates
SCRATCH = {"mcu_lstm_s8": lambda p: _state_bytes(p, 1), "mcu_lstm_dsp_s8": lambda p: _state_bytes(p, 1),
           "mcu_lstm_s16": lambda p: _state_bytes(p, 2), "mcu_lstm_f32": lambda p: _state_bytes(p, 4, 4, 4)}
STATE_ARGS = 2  # the kernel's state pointers after its input, hidden and cell: the kept state (--stateful), or NULL
KERNELS = {"int8": ("mcu_lstm_s8", "mcu_lstm_params_t"), "int16": ("mcu_lstm_s16", "mcu_lstm_s16_params_t"),
           "float32": ("mcu_lstm_f32", "mcu_lstm_f32_params_t")}


def output_shape(attrs, in_shapes):
    if len(in_shapes[0]) != 3:
        raise ValueError("the input must be 3-D")
    return tuple(in_shapes[0][:2]) + (attrs["input_weights"].shape[1],)


def macs(attrs, in_shapes, out_shape):
    gates, units, inputs = attrs["input_weights"].shape
    return int(np.prod(out_shape[:2])) * gates * units * (inputs + units)


def _steps(attrs_or_p, x):
    """x (N, B, T, I) or (N, T, B, I) -> (N, B, T, I) and back."""
    return np.swapaxes(x, 1, 2) if attrs_or_p["time_major"] else x


def state_tensors(attrs, x):
    """--stateful: the state kept across invokes, [(source, dtype, scale, zero point, shape)]: the hidden state
    (the activation type, its scale and zero point) and the int16 cell state, [batch, units] each (TFLM's
    variable tensors); float32 in a float model."""
    shape = (x.shape[1] if attrs["time_major"] else x.shape[0], attrs["input_weights"].shape[1])
    if "input_scales" not in attrs:
        return [(name, "float32", None, None, shape) for name in attrs["state_names"]]
    return [(attrs["state_names"][0], x.dtype, attrs["hidden_scale"], attrs["hidden_zp"], shape),
            (attrs["state_names"][1], "int16", attrs["cell_scale"], 0, shape)]


def float_ref(attrs, x, *state):
    """The float LSTM: gates from float matrix products, sigmoid / tanh, c = f c + i g (clipped), h = o tanh c;
    with the state given (--stateful: h, c) from it, and then (y, [h, c])."""
    y, _, h, cell = _float_run(attrs, x, *state)
    return (y, [h, cell]) if state else y


def internal_statistics(attrs, x, *state):
    """Calibration's look inside the node (quantize merges each value's maximum over the batches into attrs):
    the largest |c| of the float run, every sample from the zero state, which sets the cell state's scale."""
    return {"cell_abs_max": _float_run(attrs, x)[1]}


def _float_run(attrs, x, *state):
    """(h of every step, max |c| over all steps and samples, the final h and c), from the given state or zero."""
    xs = _steps(attrs, x.astype(np.float32))
    n, batch, steps, _ = xs.shape
    w_in, w_rec = attrs["input_weights"].astype(np.float32), attrs["recurrent_weights"].astype(np.float32)
    bias = attrs["bias"].astype(np.float32)
    units = w_in.shape[1]
    h = state[0].reshape(n, batch, units).astype(np.float32) if state else np.zeros((n, batch, units), np.float32)
    cell = state[1].reshape(n, batch, units).astype(np.float32) if state else np.zeros_like(h)
    out = np.zeros((n, batch, steps, units), np.float32)
    clip = np.float32(attrs["cell_clip"])
    cell_max = 0.0
    for t in range(steps):
        z = [stable.matmul(xs[:, :, t], w_in[k].T) + bias[k] + stable.matmul(h, w_rec[k].T) for k in range(4)]
        i, f, o = (stable.sigmoid(z[k]).astype(np.float32) for k in (0, 1, 3))
        g = stable.tanh(z[2]).astype(np.float32)
        cell = (f * cell + i * g).astype(np.float32)
        if clip > 0:
            cell = np.clip(cell, -clip, clip)
        cell_max = max(cell_max, float(np.abs(cell).max(initial=0.0)))
        h = (o * stable.tanh(cell)).astype(np.float32)
        out[:, :, t] = h
    return _steps(attrs, out), cell_max, h, cell


def calibrated_cell_log2(cell_max):
    """The cell state's scale for a calibrated max |c| (clipped already when the LSTM has a cell clip): the
    finest power of two in TFLM's range (2^-15 .. 2^0) whose int16 grid holds it, max |c| <= 32767 * 2^k."""
    lo, hi = CELL_SCALE_LOG2_RANGE
    k = lo
    while k < hi and 32767.0 * 2.0 ** k < cell_max:
        k += 1
    return k


def cell_scale_log2(scale):
    """TFLM's CheckedLog2 of the cell state scale: the rounded log2, refused unless within 1e-3 of an integer."""
    log2 = float(np.float32(stable.log(np.float32(scale)) * np.float32(1.0 / stable.log(2.0))))
    rounded = int(fp.round_half_away(log2))
    if abs(log2 - rounded) >= 1e-3:
        raise ConversionError(f"the cell state scale {float(scale)} is not a power of two (TFLM requires one)")
    return rounded


def tanh_rescale(scale_log2):
    """TFLM's int16 tanh input rescaling (mult, left shift) for a tensor at scale 2^scale_log2, after
    reference_integer_ops::Tanh's power-of-two case: shift 15 + log2 - 3 to the table's grid."""
    shift = 15 + scale_log2 - 3
    return (3 << shift, 0) if shift >= 0 else (3, -shift)


def quantized_attrs(attrs, x, out):
    """A float LSTM quantized as TFLite's converter does: each weight matrix symmetric int8 with one scale (max |w|
    / 127), the biases int32 (16x8: int64) at x_scale * w_scale, h at the output's calibrated scale and zero
    point. The cell state at the power of two calibrated_cell_log2 picks for the calibrated max |c| (attrs'
    cell_abs_max, from internal_statistics); past 32767 at 2^0, the largest values saturate (with a warning)."""
    if "cell_abs_max" not in attrs:
        raise ConversionError("a float LSTM quantized by the tool needs its cell state calibrated (cell_abs_max)")
    cell_log2 = calibrated_cell_log2(attrs["cell_abs_max"])
    if attrs["cell_abs_max"] > 32767.0 * 2.0 ** cell_log2:
        warnings.warn(f"the LSTM's cell state reaches {attrs['cell_abs_max']:.6g} on the calibration data, beyond "
                      f"the int16 range of TFLM's largest cell scale 2^{cell_log2}: it saturates there")
    w_in, s_in = c._symmetric_int8(np.asarray(attrs["input_weights"], np.float64), 0,
                                   np.abs(attrs["input_weights"]).max(axis=(1, 2)) / 127.0)
    w_rec, s_rec = c._symmetric_int8(np.asarray(attrs["recurrent_weights"], np.float64), 0,
                                     np.abs(attrs["recurrent_weights"]).max(axis=(1, 2)) / 127.0)
    bias_scale = float(np.float32(x.scale)) * s_in.astype(np.float64)[:, None]
    bias = fp.round_half_away(np.asarray(attrs["bias"], np.float64) / bias_scale)
    bias = np.clip(bias, -(1 << 40), 1 << 40).astype(np.int64) if x.dtype == "int16" else fp.saturate_int32(bias)
    return dict(attrs, input_weights=w_in.astype(np.int8), recurrent_weights=w_rec.astype(np.int8), bias=bias,
                input_scales=s_in, recurrent_scales=s_rec, hidden_scale=out.scale, hidden_zp=out.zero_point,
                cell_scale=np.float32(2.0 ** cell_log2))


def _multiplier(real):
    m, s = fp.quantize_multiplier(real)
    c.check_shifts([s])
    return m, s


def prepare(attrs, ins, out):
    x, kept = ins[0], ins[1:]
    _, units, inputs = attrs["input_weights"].shape
    batch, steps = (x.shape[1], x.shape[0]) if attrs["time_major"] else x.shape[:2]
    p = dict(batch=batch, steps=steps, input_size=inputs, units=units, time_major=int(attrs["time_major"]),
             keep_state=int(bool(kept)))
    if kept and x.dtype != "float32" and "input_scales" not in attrs:
        raise ConversionError("--stateful: a float LSTM quantized by the tool is not supported (convert a "
                              "full-integer .tflite file, or use --mode float32)")
    if x.dtype == "float32":
        return dict(p, input_weights=c.float_array(attrs["input_weights"]),
                    recurrent_weights=c.float_array(attrs["recurrent_weights"]), bias=c.float_array(attrs["bias"]),
                    cell_clip=np.float32(attrs["cell_clip"]))
    if "input_scales" not in attrs:
        attrs = quantized_attrs(attrs, x, out)
    wide = x.dtype == "int16"
    w_in, w_rec = attrs["input_weights"].astype(np.int8), attrs["recurrent_weights"].astype(np.int8)
    h_scale, h_zp = float(np.float32(attrs["hidden_scale"])), int(attrs["hidden_zp"])
    cell_log2 = cell_scale_log2(attrs["cell_scale"])
    cell_scale = float(np.float32(attrs["cell_scale"]))
    gate_scale = float(np.float32(2.0 ** GATE_SCALE_LOG2))
    in_mults = [_multiplier(float(np.float32(x.scale)) * float(s) / gate_scale) for s in attrs["input_scales"]]
    rec_mults = [_multiplier(h_scale * float(s) / gate_scale) for s in attrs["recurrent_scales"]]
    bias = np.asarray(attrs["bias"], np.int64)
    rec_bias = np.zeros_like(bias)
    if not wide:  # the zero points of x and h fold into the biases: sum (x - zp) w = sum x w - zp sum w
        bias = bias - int(x.zero_point) * w_in.astype(np.int64).sum(axis=2)
        rec_bias = rec_bias - h_zp * w_rec.astype(np.int64).sum(axis=2)
    c.check_accumulator(inputs, bias, wide, folded=not wide)
    c.check_accumulator(units, rec_bias, wide, folded=not wide)
    forget = _multiplier(GATE_OUT_SCALE * cell_scale / cell_scale)
    update = _multiplier(GATE_OUT_SCALE * GATE_OUT_SCALE / cell_scale)
    hidden = _multiplier(GATE_OUT_SCALE * GATE_OUT_SCALE / h_scale)
    clip = float(np.float32(attrs["cell_clip"]))
    quantized_clip = int(np.trunc(min(max(clip / cell_scale, -32768.0), 32767.0))) if clip > 0 else 0
    tanh_mult, tanh_shift = tanh_rescale(cell_log2)
    bias_type = np.int64 if wide else np.int32
    qmin, qmax = c.QRANGE[x.dtype]
    return dict(p, input_weights=w_in.reshape(4 * units, inputs), recurrent_weights=w_rec.reshape(4 * units, units),
                bias=bias.reshape(-1).astype(bias_type), recurrent_bias=rec_bias.reshape(-1).astype(bias_type),
                input_mult=np.array([m for m, _ in in_mults], np.int32),
                input_shift=np.array([s for _, s in in_mults], np.int32),
                recurrent_mult=np.array([m for m, _ in rec_mults], np.int32),
                recurrent_shift=np.array([s for _, s in rec_mults], np.int32),
                forget_mult=forget[0], forget_shift=forget[1], update_mult=update[0], update_shift=update[1],
                hidden_mult=hidden[0], hidden_shift=hidden[1], hidden_zp=h_zp, hidden_min=qmin, hidden_max=qmax,
                cell_clip=quantized_clip, tanh_mult=tanh_mult, tanh_shift=tanh_shift, table=fp.SIGMOID_TABLE_U16)


def variants(p, dtype):
    """int8: the DSP form (mcu_lstm.h: the same body, its dot products four steps per SMLAD pair)."""
    return c.isa_forms("mcu_lstm_s8", "mcu_lstm_dsp_s8") if dtype == "int8" else None


def _fc(p, v, weights, bias, mult, shift):
    """One gate's matrix product requantized to int16 (the int8 kernels' int32 accumulator, double rounding; the
    16x8 kernels' int64 one, TFLite's 64-bit path), saturated: TFLM's FullyConnected to an int16 output."""
    acc = (v.astype(np.float64) @ weights.T.astype(np.float64)).astype(np.int64) + bias  # exact: < 2^53
    if p["bias"].dtype == np.int64:
        y = fp.multiply_by_quantized_multiplier_s64(acc, mult, shift)
    else:
        y = fp.multiply_by_quantized_multiplier(acc, mult, shift)
    return np.clip(y, -32768, 32767)


def _mul(a, b, mult, shift, zp=0, lo=-32768, hi=32767):
    """TFLM's MulElementwise of two int16 vectors (offsets 0), requantized, plus zp, clamped."""
    return np.clip(fp.multiply_by_quantized_multiplier(a.astype(np.int64) * b, mult, shift) + zp, lo, hi)


def int_ref(p, x, *state):
    """The twin of mcu_lstm_s8 / mcu_lstm_s16, step by step over the sequence, from the zero state; with the state
    given (--stateful: h, c) from it, and then (y, [h, c])."""
    xs = _steps(p, x.astype(np.int64))
    n, batch, steps, _ = xs.shape
    units = p["units"]
    w_in = p["input_weights"].reshape(4, units, -1)
    w_rec = p["recurrent_weights"].reshape(4, units, units)
    bias, rec_bias = p["bias"].reshape(4, units), p["recurrent_bias"].reshape(4, units)
    h = np.full((n, batch, units), p["hidden_zp"], np.int64)
    cell = np.zeros((n, batch, units), np.int64)
    if state:
        h, cell = (v.reshape(h.shape).astype(np.int64) for v in state)
    out = np.zeros((n, batch, steps, units), np.int64)
    for t in range(steps):
        z = [np.clip(_fc(p, xs[:, :, t], w_in[k], bias[k], p["input_mult"][k], p["input_shift"][k])
                     + _fc(p, h, w_rec[k], rec_bias[k], p["recurrent_mult"][k], p["recurrent_shift"][k]),
                     -32768, 32767) for k in range(4)]
        i, f, o = (fp.logistic_s16(z[k], 3, 0) for k in (0, 1, 3))
        g = fp.tanh_s16(z[2], 3, 0)
        cell = np.clip(_mul(f, cell, p["forget_mult"], p["forget_shift"])
                       + _mul(i, g, p["update_mult"], p["update_shift"]), -32768, 32767)
        if p["cell_clip"] > 0:
            cell = np.clip(cell, -p["cell_clip"], p["cell_clip"])
        tc = fp.tanh_s16(cell, p["tanh_mult"], p["tanh_shift"])
        h = _mul(tc, o, p["hidden_mult"], p["hidden_shift"], p["hidden_zp"], p["hidden_min"], p["hidden_max"])
        out[:, :, t] = h
    return (_steps(p, out), [h, cell]) if state else _steps(p, out)


# -- import ----------------------------------------------------------------------------------------------------
# TFLite's input order: x, 4 input weights, 4 recurrent weights, 3 peephole weights, 4 gate biases, projection
# weights and bias, the hidden and cell state (variables), 4 layer norm coefficients (i, f, c, o each)
INPUT_WEIGHTS, RECURRENT_WEIGHTS, PEEPHOLE, BIASES, PROJECTION, HIDDEN, CELL, LAYER_NORM = (
    range(1, 5), range(5, 9), range(9, 12), range(12, 16), range(16, 18), 18, 19, range(20, 24))


def tflite_lstm(imp, k, op):
    o = imp.options(op, "UnidirectionalSequenceLSTMOptions")
    n = op.InputsLength()

    def given(j):
        return j < n and op.Inputs(j) >= 0

    if n < 20 or not given(HIDDEN) or not given(CELL):
        imp.fail(k, "the LSTM needs its 24 inputs with the hidden and cell state tensors")
    for what, indices in (("CIFG (no input gate)", [1, 5, 12]), ("peephole", PEEPHOLE),
                          ("projection", PROJECTION), ("layer norm", LAYER_NORM)):
        present = [given(j) for j in indices]
        if (what.startswith("CIFG") and not all(present)) or (not what.startswith("CIFG") and any(present)):
            imp.fail(k, f"an LSTM with {what} is not supported (TFLM runs the Keras LSTM only)")
    if o.FusedActivationFunction() != tflite.ActivationFunctionType.TANH:
        imp.fail(k, "the cell activation must be TANH (TFLM's integer LSTM)")
    if o.DiagonalRecurrentTensors():
        imp.fail(k, "diagonal recurrent weights are not supported")
    sg = imp.sg
    x_type = sg.Tensors(op.Inputs(0)).Type()
    w_type = sg.Tensors(op.Inputs(2)).Type()
    if x_type == tflite.TensorType.FLOAT32 and w_type != tflite.TensorType.FLOAT32:
        imp.fail(k, "a dynamic range (hybrid) LSTM is not supported")
    in_shape = imp.shape(op.Inputs(0))
    if len(in_shape) != 3:
        imp.fail(k, f"the input must be 3-D, not {list(in_shape)}")
    weights, scales = [], []
    for j in list(INPUT_WEIGHTS) + list(RECURRENT_WEIGHTS):
        w = imp.const(op.Inputs(j))
        if w is None or w.ndim != 2:
            imp.fail(k, f"input {j} (a weight matrix) must be a constant 2-D tensor")
        if imp.float_model:
            if w.dtype != np.float32:
                imp.fail(k, f"input {j} must be float32 in a float model")
        else:
            s, zp = imp.quant(op.Inputs(j))
            if w.dtype != np.int8 or s is None or s.size != 1 or np.any(zp != 0):
                imp.fail(k, f"input {j} (weights) must be int8, symmetric, with one scale")
            scales.append(float(s[0]))
        weights.append(w)
    units = weights[0].shape[0]
    if any(w.shape != (units, in_shape[2]) for w in weights[:4]) or any(w.shape != (units, units) for w in weights[4:]):
        imp.fail(k, f"the weight shapes do not fit {units} units and {in_shape[2]} input features")
    biases = []
    for j in BIASES:
        b = imp.const(op.Inputs(j))
        want = (np.float32,) if imp.float_model else (np.int32, np.int64)
        if b is None or b.dtype not in want or b.size != units:
            imp.fail(k, f"input {j} (a gate bias) must be a constant {'/'.join(np.dtype(t).name for t in want)} "
                        f"tensor of {units} values")
        biases.append(b.reshape(-1))
    attrs = dict(input_weights=np.stack(weights[:4]), recurrent_weights=np.stack(weights[4:]), bias=np.stack(biases),
                 time_major=bool(o.TimeMajor()), cell_clip=float(o.CellClip()))
    batch = in_shape[1] if o.TimeMajor() else in_shape[0]
    for j in (HIDDEN, CELL):
        t = sg.Tensors(op.Inputs(j))
        if not t.IsVariable() or int(np.prod(imp.shape(op.Inputs(j)))) != batch * units:
            imp.fail(k, f"input {j} (a state) must be a variable tensor of {batch} x {units} values")
    if not imp.float_model:
        h_scale, h_zp = imp.quant(op.Inputs(HIDDEN))
        c_scale, _ = imp.quant(op.Inputs(CELL))
        if h_scale is None or c_scale is None:
            imp.fail(k, "the state tensors must carry quantization parameters")
        if sg.Tensors(op.Inputs(CELL)).Type() != tflite.TensorType.INT16:
            imp.fail(k, "the cell state must be int16")
        if sg.Tensors(op.Inputs(HIDDEN)).Type() != x_type:
            imp.fail(k, "the hidden state must have the input's type")
        try:
            cell_scale_log2(c_scale[0])
        except ConversionError as e:
            imp.fail(k, str(e))
        attrs.update(input_scales=np.array(scales[:4], np.float32), recurrent_scales=np.array(scales[4:], np.float32),
                     hidden_scale=np.float32(h_scale[0]), hidden_zp=int(h_zp[0]), cell_scale=np.float32(c_scale[0]))
    # TFLM copies the hidden state's bytes to the output, which keeps the file's quantization for its readers (the
    # converter writes h's there), as here: the kernel computes with h's (hidden_scale, hidden_zp)
    imp.emit(k, "lstm", [op.Inputs(0)], [op.Outputs(0)],
             state_names=[imp.full_name(op.Inputs(j)) for j in (HIDDEN, CELL)], **attrs)


TFLITE = {"UNIDIRECTIONAL_SEQUENCE_LSTM": tflite_lstm}
