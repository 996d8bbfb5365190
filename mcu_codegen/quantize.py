"""Stage 3: calibrate on a representative dataset and compute every integer the kernels need.

Modes (TFLite's post-training schemes):
- int8 (default): per-channel symmetric int8 weights, per-tensor asymmetric int8 activations, int32 bias;
- int16x8: int16 activations (symmetric, zero point 0), int8 weights, int64 bias;
- float32: no quantization, float kernels (the decision tree's first step, or a board with an FPU);
- dynamic (TFLite's dynamic range quantization): float32 activations, per-channel symmetric int8 weights for
  conv / depthwise / fully connected, whose hybrid kernels quantize each input (FC: each row) to int8 at run
  time, accumulate in int32 and rescale in float; no calibration data;
- float16 (TFLite's float16 quantization): conv / depthwise / fully connected weights stored as IEEE half,
  widened to float32 in the kernel; float32 arithmetic and activations (biases stay float32).
Mixed precision: the layers named in int16_layers run in 16x8 inside an int8 model; requantize nodes convert
between the two where a tensor crosses from one precision to the other.
Float fallback (TFLite's "full integer with float fallback"): with float_fallback, a node whose op has a float32
kernel but none of the mode's integer type runs in float32, a dequantize before it and a quantize after it
(calibrated like any other tensor); without it such nodes are refused, all of them named in one error.
"""
import difflib

import numpy as np

from . import calibration, ops
from .fixedpoint import round_half_away
from .frontend import shown
from .ir import ConversionError, Node
from .ops._common import QRANGE, quantize_weights_and_bias, windows

IO_TYPES = ("int8", "uint8", "int16", "float32")
MODES = {"int8": "int8", "int16x8": "int16", "float32": "float32", "dynamic": "float32",
         "float16": "float32"}  # mode -> activation type
FLOAT_MODES = ("float32", "dynamic", "float16")  # float activations: no calibration
COMPUTE = {"dynamic": "hybrid", "float16": "float16"}  # mode -> the kernel (ops' KERNELS key) of its weight ops
HALF_MAX = 65504.0
WEIGHT_OPS = ("conv2d", "depthwise_conv2d", "fully_connected")
CLIP_CANDIDATES = np.linspace(1.0, 0.5, 51)  # per-channel weight clipping: fractions of max |w| tried


def quantize(graph, samples, input_type=None, output_type=None, method="minmax", progress=None, mode="int8",
             int16_layers=(), weight_clipping=False, bias_correction=False, float_fallback=False):
    """samples: one float array per graph input, (N, *shape). Returns a new, quantized graph.
    A graph that is quantized already (TFLite) keeps the file's scales: samples may be None.
    input_type/output_type: the C API's element types (default: the mode's activation type; a quantized
    file's own).
    method: how activation ranges are chosen (calibration.METHODS); progress(done, total) is called per batch.
    weight_clipping: per-channel weight ranges chosen by least squared error instead of max |w|.
    bias_correction: each conv/FC bias absorbs the mean error its quantized weights cause on the calibration data.
    float_fallback: nodes without an integer kernel run in float32 (see the module's docstring)."""
    if mode not in MODES:
        raise ConversionError(f"mode '{mode}' is not one of {', '.join(MODES)}")
    base = MODES[mode]
    g = graph.copy()
    if not g.quantized:  # a quantized file keeps its own I/O types unless asked otherwise
        input_type, output_type = input_type or base, output_type or base
    for kind in (input_type, output_type):
        if kind is not None and kind not in IO_TYPES:
            raise ConversionError(f"I/O type '{kind}' is not one of {', '.join(IO_TYPES)}")
    int16_layers = layer_names(int16_layers)
    if float_fallback and (mode in FLOAT_MODES or g.quantized):
        raise ConversionError("--float-fallback applies to the integer modes (int8, int16x8) of a float model")
    if mode in FLOAT_MODES or g.quantized:
        _check_fixed_types(g, mode, int16_layers, input_type, output_type)
        if (weight_clipping and mode != "dynamic") or bias_correction or method != "minmax":
            what = f"--mode {mode} (no calibration)" if mode in FLOAT_MODES else "a model that is quantized already"
            raise ConversionError(f"--calibration-method, --weight-clipping and --bias-correction do not apply to {what}")
    stats = None
    if mode not in FLOAT_MODES and not g.quantized and samples is None:
        raise ConversionError(f"{g.source}: a float model needs calibration data to quantize (or mode float32)")
    if mode not in FLOAT_MODES and not g.quantized:
        if base == "int16" and int16_layers:
            raise ConversionError("--int16-layers chooses layers inside an int8 model; --mode int16x8 runs them all")
        int16_nodes = _int16_nodes(g, int16_layers)  # before calibration: a typo should not cost a calibration run
        float_nodes = _float_nodes(g, base, int16_nodes, float_fallback)
        stats = calibration.statistics(g, samples, method, progress)
        for node in g.nodes:  # what calibration saw inside a node (an LSTM's cell state) is for its prepare
            node.attrs.update(stats.internal.get(node.outputs[0], {}))
        types, node_types = _activation_types(g, base, int16_nodes, float_nodes)
        _assign_qparams(g, stats, types)
        sources = _insert_requantize(g, stats, node_types)
        _quantize_float_outputs(g, stats, base, output_type)
        if weight_clipping or bias_correction:
            _adjust_weights(g, stats, weight_clipping, bias_correction, sources)
    elif g.quantized:
        _check_file_quantization(g)
    else:  # float32: values are their own representation (scale 1, zero point 0 in model.h and report.json)
        for t in g.tensors.values():
            t.scale, t.zero_point = np.float32(1.0), 0
        for node in g.nodes:
            if node.op in WEIGHT_OPS and mode in COMPUTE:
                node.attrs["compute"] = COMPUTE[mode]
                if mode == "float16":
                    node.attrs["weight"] = _half_rounded(g, node)
                elif weight_clipping:  # the MSE search needs no data: it only looks at the weights
                    axis = 2 if node.op == "depthwise_conv2d" else 0
                    node.attrs["weight_clip"] = mse_weight_clip(node.attrs["weight"], axis)
    for node in g.nodes:
        try:
            node.params = ops.get(node.op).prepare(node.attrs, [g.tensors[x] for x in node.inputs],
                                                   g.tensors[node.outputs[0]])
        except ConversionError as e:
            raise ConversionError(f"{g.source}: node '{shown(node.name)}' ({node.op}): {e}") from None
    _add_io_edges(g, input_type, output_type, stats)
    return g


def _half_rounded(g, node):
    """The float16 mode's weights: rounded to the nearest IEEE half (as TFLite's float16 quantization), kept as
    float32 values (the float reference then computes what the _f16 kernels do)."""
    w = np.asarray(node.attrs["weight"], np.float32)
    if w.size and np.abs(w).max() > HALF_MAX:
        raise ConversionError(f"{g.source}: node '{shown(node.name)}' ({node.op}): a weight of magnitude "
                              f"{float(np.abs(w).max()):.6g} exceeds float16's largest value {HALF_MAX:g}")
    return w.astype(np.float16).astype(np.float32)


def _check_fixed_types(g, mode, int16_layers, input_type, output_type):
    """float32 mode and quantized files keep their types: refuse the options that would change them."""
    if mode in FLOAT_MODES:
        if g.quantized:
            raise ConversionError(f"{g.source}: a quantized model cannot run in {mode} mode (convert its float model)")
        if int16_layers:
            raise ConversionError("--int16-layers needs --mode int8 (mixed precision inside an int8 model)")
        if (input_type, output_type) != ("float32", "float32"):
            raise ConversionError(f"--mode {mode} has float32 inputs and outputs (--io float32)")
    elif mode != "int8" or int16_layers:
        raise ConversionError(f"{g.source}: the model is quantized already; --mode and --int16-layers apply to "
                              "float models")


def layer_names(names):
    """--int16-layers as a list: a list of names, or one comma-separated string (spaces around names dropped)."""
    if isinstance(names, str):
        names = names.split(",")
    return [n.strip() for n in names if n.strip()]


def _int16_nodes(g, names):
    """The nodes named in --int16-layers (the model's node names, raw or as `--dump float` and `debug` print them,
    escaped; a pass may leave a name on more than one node, e.g. a conv and the reshape after it). Returns the
    raw names."""
    by_name = {}
    for n in g.nodes:
        by_name.setdefault(n.name, []).append(n)
        by_name.setdefault(shown(n.name, limit=300), []).append(n)
    chosen = set()
    for name in names:
        if name not in by_name:
            close = difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.6)
            hint = f"; did you mean '{shown(close[0], limit=300)}'?" if close else \
                " (node names: `mcu-codegen convert MODEL --dump float`)"
            raise ConversionError(f"--int16-layers: no node named '{shown(name)}'{hint}")
        if all(getattr(ops.get(n.op), "SAME_QUANT_AS_INPUT", False) for n in by_name[name]):
            raise ConversionError(f"--int16-layers: '{shown(name)}' ({by_name[name][0].op}) keeps its input's type; "
                                  "name the layer that produces its input")
        chosen.update(n.name for n in by_name[name])
    return chosen


def _float_nodes(g, base, int16_nodes, float_fallback):
    """The nodes whose op has a float32 kernel but not the integer one they would compute in: with
    float_fallback they run in float32 (each marked attrs["float_fallback"], which report.json lists); without
    it, one error names them all. Ops that keep their input's type follow it and are not counted here."""
    found = []
    for n in g.nodes:
        mod = ops.get(n.op)
        want = "int16" if base == "int16" or n.name in int16_nodes else "int8"
        kernels = getattr(mod, "KERNELS", {})
        if not getattr(mod, "SAME_QUANT_AS_INPUT", False) and want not in kernels and "float32" in kernels:
            found.append(n)
    asked = [n for n in found if n.name in int16_nodes]
    if asked and float_fallback:  # running it in float32 instead of the 16x8 the user named would be a silent change
        raise ConversionError(f"--int16-layers: '{shown(asked[0].name)}' ({asked[0].op}) has no int16 kernel (with "
                              "--float-fallback it runs in float32: leave it out of --int16-layers)")
    if found and not float_fallback:
        listed = "; ".join(f"node '{shown(n.name)}' ({n.op}): no {base} kernel" for n in found)
        them = "it" if len(found) == 1 else f"these {len(found)}"
        raise ConversionError(f"{g.source}: {listed} (only a float32 one: --float-fallback runs {them} in float32 "
                              "between a dequantize and a quantize)")
    for n in found:
        n.attrs["float_fallback"] = True
    return {n.name for n in found}


def _activation_types(g, base, int16_nodes, float_nodes=()):
    """({tensor: int8 | int16 | float32}, {id(node): the type it computes in}). A node computes in int16 in the
    16x8 mode or when chosen, in float32 when it falls back; ops that keep their input's quantization (pools,
    reshapes) follow their input. A model input takes int16 when all its readers compute in int16."""
    node_type = {}
    types = {}
    for name in g.inputs + g.persistent():  # states kept across invokes are read first, as inputs are
        readers = g.consumers(name)
        types[name] = "int16" if base == "int16" or (readers and all(n.name in int16_nodes for n in readers)) \
            else "int8"
    for node in g.nodes:
        mod = ops.get(node.op)
        if getattr(mod, "SAME_QUANT_AS_INPUT", False):
            node_type[id(node)] = types[node.inputs[0]]
        elif node.attrs.get("float_fallback"):
            node_type[id(node)] = "float32"
        else:
            node_type[id(node)] = "int16" if base == "int16" or node.name in int16_nodes else "int8"
        types[node.outputs[0]] = node_type[id(node)]
    return types, node_type


def _qparams(dtype, rng):
    if dtype == "float32":  # a float fallback's tensors hold real values
        return np.float32(1.0), 0
    if dtype == "int16":  # TFLite 16x8: symmetric, zero point 0
        bound = max(abs(rng[0]), abs(rng[1]))
        return (np.float32(bound / 32767.0), 0) if bound > 0 else (np.float32(1.0), 0)
    return choose_qparams(*rng)


def _range(stats, name, dtype):
    return (stats.minmax if dtype == "int16" else stats.chosen)[name]


def _assign_qparams(g, stats, types):
    for name in g.inputs + g.persistent():
        t = g.tensors[name]
        t.dtype = types[name]
        t.scale, t.zero_point = _qparams(t.dtype, _range(stats, name, t.dtype))
    for node in g.nodes:
        mod, out = ops.get(node.op), g.tensors[node.outputs[0]]
        out.dtype = types[out.name]
        if hasattr(mod, "OUTPUT_QUANT") and out.dtype in mod.OUTPUT_QUANT:
            scale, out.zero_point = mod.OUTPUT_QUANT[out.dtype]
            out.scale = np.float32(scale)
        elif getattr(mod, "SAME_QUANT_AS_INPUT", False):
            src = g.tensors[node.inputs[0]]
            out.scale, out.zero_point = src.scale, src.zero_point
        else:
            out.scale, out.zero_point = _qparams(out.dtype, _range(stats, out.name, out.dtype))


def _insert_requantize(g, stats, node_types):
    """Where a node computes in another precision than a tensor it reads, it reads a requantized copy (one per
    tensor and type, shared by every such reader): requantize between int8 and int16, dequantize into a float
    fallback, quantize out of one. Returns {copy: the tensor it copies}."""
    copies = {}
    for node in list(g.nodes):
        want = node_types[id(node)]
        for k, name in enumerate(node.inputs):
            src = g.tensors[name]
            if src.dtype == want:
                continue
            if (name, want) not in copies:
                copy = _converted(g, src, want, stats.minmax.get(name) if want == "int16" else stats.chosen.get(name))
                producer = g.producer(name)
                index = g.nodes.index(producer) + 1 if producer is not None else 0
                op = _conversion_op(src.dtype, want)
                g.nodes.insert(index, Node(op, [name], [copy.name], {}, f"{op} '{src.source}' to {want}"))
                copies[name, want] = copy.name
            node.inputs[k] = copies[name, want]
    return {copy: name for (name, _), copy in copies.items()}


def _conversion_op(src, dst):
    return "dequantize" if dst == "float32" else "quantize" if src == "float32" else "requantize"


def _quantize_float_outputs(g, stats, base, output_type):
    """A model output that a float fallback computes: quantized to the mode's type like the other activations
    (the C API keeps its type), unless the API speaks float32 there anyway."""
    for i, name in enumerate(list(g.outputs)):
        t = g.tensors[name]
        if t.dtype == "float32" and output_type != "float32":
            q = _converted(g, t, base, stats.minmax[name] if base == "int16" else stats.chosen[name])
            g.nodes.append(Node("quantize", [name], [q.name], {}, f"quantize '{t.source}' to {base}"))
            g.outputs[i] = q.name


def _converted(g, src, dtype, rng=None):
    """A new tensor holding src's values as dtype, with its own quantization (from the calibrated range, or
    from src's representable range when there is none)."""
    t = g.new_tensor(src)
    t.dtype = dtype
    if rng is None:
        lo, hi = ((q - src.zero_point) * float(src.scale) for q in QRANGE[src.dtype])
        rng = (lo, hi)
    t.scale, t.zero_point = _qparams(dtype, rng)
    return t


def _adjust_weights(g, stats, weight_clipping, bias_correction, sources):
    for node in g.nodes:
        if node.op not in WEIGHT_OPS:
            continue
        axis = 2 if node.op == "depthwise_conv2d" else 0
        if weight_clipping:
            node.attrs["weight_clip"] = mse_weight_clip(node.attrs["weight"], axis)
        if bias_correction:
            x = node.inputs[0]
            _correct_bias(g, node, stats.mean[sources.get(x, x)], axis)


def mse_weight_clip(w, axis):
    """Per output channel, the |w| limit (a fraction of max |w|) whose 127-level symmetric grid gives the least
    squared error over that channel's weights: one outlier no longer coarsens the grid for all the others."""
    w = np.moveaxis(np.asarray(w, np.float64), axis, 0).reshape(np.shape(w)[axis], -1)
    max_abs = np.abs(w).max(axis=1)
    best, best_err = max_abs.copy(), np.full(len(w), np.inf)
    for f in CLIP_CANDIDATES:
        limit = max_abs * f
        scale = np.where(limit > 0, limit / 127.0, 1.0)[:, None]
        err = ((np.clip(round_half_away(w / scale), -127, 127) * scale - w) ** 2).sum(axis=1)
        better = err < best_err - 1e-18
        best, best_err = np.where(better, limit, best), np.where(better, err, best_err)
    return best.astype(np.float32)


def _correct_bias(g, node, mean, axis):
    """Bias correction (Nagel et al. 2019, the analytic form): the quantized weights W_q shift each output
    channel's mean by the sum over taps of (W_q - W) times the mean input that tap sees; the bias takes that
    shift back. FC: the mean of each input feature (exact on the calibration data). Windows: each input
    channel's mean over the whole map, times the share of outputs where the tap lands inside the input
    (padding contributes 0). Per-position means would be exact on the calibration data but follow its layout
    (kws, calibrated on time-shifted inputs: 20.5 dB against 23.5 dB); with inputs whose statistics vary a lot
    across the map, the per-channel mean can leave some channels' correction off. mean: the input's mean,
    shaped like the tensor."""
    x = g.tensors[node.inputs[0]]
    w = np.asarray(node.attrs["weight"], np.float64)
    w_q, _, scales = quantize_weights_and_bias(node.attrs, axis, x.scale, x.dtype == "int16")
    shape = [1] * w.ndim
    shape[axis] = -1
    error = w_q.astype(np.float64) * scales.astype(np.float64).reshape(shape) - w
    if node.op == "fully_connected":  # [OUT, IN]: every row of the input reads the same weights
        shift = (error * mean.reshape(-1, w.shape[1]).mean(axis=0)).sum(axis=1)  # not @: BLAS order varies
    else:
        # each input channel's mean over the whole map, times the share of outputs where a tap lands inside the
        # input (padding contributes 0): robust to inputs that shift in space (per-position means overfit them)
        channel_mean = mean.reshape(-1, x.shape[-1]).mean(axis=0)
        inside = windows(np.ones((1,) + tuple(x.shape[1:3]) + (1,)), node.attrs, 0.0)[0, ..., 0].mean(axis=(0, 1))
        tap_mean = inside[:, :, None] * channel_mean
        if node.op == "depthwise_conv2d":  # [KH, KW, C * m]: output channel c * m + j reads input channel c
            shift = (error * np.repeat(tap_mean, node.attrs["depth_multiplier"], axis=-1)).sum(axis=(0, 1))
        else:  # [OC, KH, KW, IC]
            shift = (error * tap_mean[None]).sum(axis=(1, 2, 3))
    node.attrs["bias"] = (np.asarray(node.attrs["bias"], np.float64) - shift).astype(np.float32)


def _check_file_quantization(g):
    """Our kernels rely on TFLite's constraints: pools and reshapes keep their input's quantization, softmax
    outputs 1/256 - 128. A file that breaks them is refused rather than computed wrong."""
    for node in g.nodes:
        mod, x, y = ops.get(node.op), g.tensors[(node.inputs or node.outputs)[0]], g.tensors[node.outputs[0]]
        want = (mod.OUTPUT_QUANT[y.dtype] if y.dtype in getattr(mod, "OUTPUT_QUANT", {}) else
                (x.scale, x.zero_point) if getattr(mod, "SAME_QUANT_AS_INPUT", False) else None)
        if want is not None and (np.float32(y.scale), y.zero_point) != (np.float32(want[0]), want[1]):
            raise ConversionError(f"{g.source}: {node.name}: output quantization ({y.scale}, {y.zero_point}) "
                                  f"must be ({want[0]}, {want[1]}) for {node.op}")


def choose_qparams(rmin, rmax, qmin=-128, qmax=127):
    """Asymmetric (scale, zero point) for [rmin, rmax] (containing 0), as TFLite/gemmlowp: the zero point is
    an integer, so 0.0 is exact, and it is nudged from whichever end gives the smaller error."""
    rmin, rmax = min(rmin, 0.0), max(rmax, 0.0)
    if rmax == rmin:
        return np.float32(1.0), 0
    scale = (rmax - rmin) / (qmax - qmin)
    zp_from_min, zp_from_max = qmin - rmin / scale, qmax - rmax / scale
    err_min, err_max = abs(qmin) + abs(rmin / scale), abs(qmax) + abs(rmax / scale)
    zp = zp_from_min if err_min < err_max else zp_from_max
    zp = int(np.clip(round_half_away(zp), qmin, qmax))
    return np.float32(scale), zp


# -- the C API's element types at the model's edges ----------------------------------------------------------
EDGE_OPS = {("float32", "int8"): "quantize", ("float32", "int16"): "quantize", ("uint8", "int8"): "convert_u8",
            ("int8", "int16"): "requantize", ("int16", "int8"): "requantize"}


def _add_io_edges(g, input_type, output_type, stats):
    """The C API speaks the requested I/O type; an edge node converts from/to the activation type inside."""
    for i, name in enumerate(list(g.inputs)):
        t = g.tensors[name]
        if input_type not in (None, t.dtype) and t.dtype != "float32":  # float: float32 mode, or a file's QUANTIZE
            edge = _edge_tensor(g, t, input_type, stats)
            _insert_edge(g, 0, _edge_op(input_type, t.dtype, "input"), edge, t)
            g.inputs[i] = edge.name
    for i, name in enumerate(list(g.outputs)):
        t = g.tensors[name]
        if output_type not in (None, t.dtype) and t.dtype != "float32":
            edge = _edge_tensor(g, t, output_type, stats)
            op = _edge_op(output_type, t.dtype, "output")
            _insert_edge(g, len(g.nodes), "dequantize" if op == "quantize" else op, t, edge)
            g.outputs[i] = edge.name


def _edge_op(io_type, inner, where):
    op = EDGE_OPS.get((io_type, inner))
    if op is None:
        raise ConversionError(f"{where} type {io_type} with {inner} activations inside is not supported "
                              f"(use --io {inner} or float32)")
    return op


def _edge_tensor(g, t, io_type, stats):
    """The tensor t as the user sees it: uint8 moves the zero point by 128, float32 keeps the scale, the other
    integer type gets its own quantization of the same range."""
    if io_type in ("int8", "int16"):
        rng = None if stats is None else (stats.minmax if io_type == "int16" else stats.chosen).get(t.name)
        return _converted(g, t, io_type, rng)
    edge = g.new_tensor(t)
    edge.dtype = io_type
    if io_type == "float32":  # real values: scale 1, zero point 0 (report.json's quantized_as has the inner ones)
        edge.scale, edge.zero_point = np.float32(1.0), 0
    else:
        edge.scale, edge.zero_point = t.scale, t.zero_point + 128
    return edge


def _insert_edge(g, index, op, src, dst):
    node = Node(op, [src.name], [dst.name], {}, f"{op} '{src.source}'")
    node.params = ops.get(op).prepare({}, [src], dst)
    g.nodes.insert(index, node)
