"""Where quantization loses accuracy: layer by layer, the quantized model against the float one; and whole-model
evaluation on a labelled set."""
import numpy as np

from . import reference
from .ir import ConversionError
from .ops import quantize as quantize_op
from .ops._common import QRANGE


def sqnr_db(reference_values, test_values):
    ref = np.asarray(reference_values, np.float64)
    noise = np.sum((ref - np.asarray(test_values, np.float64)) ** 2)
    return float("inf") if noise == 0 else float(10 * np.log10(max(np.sum(ref ** 2), 1e-30) / noise))


def layer_errors(float_graph, quant_graph, x):
    """Rows per node of the quantized graph: SQNR (dB) of its dequantized output against the float model's and
    RMSE in LSB of the output scale, both models fed the same float inputs x (N, *input shape)."""
    if len(float_graph.inputs) != 1:
        raise ConversionError("debug handles single-input models")
    fin, qin = float_graph.inputs[0], quant_graph.inputs[0]
    floats = reference.execute(float_graph, {fin: x}, integer=False, keep=True)
    ints = reference.execute(quant_graph, {qin: quantized_input(quant_graph, x)}, integer=True, keep=True)
    floats[qin], rows = x, []
    for name, (node_name, op) in [(qin, ("input", "quantize"))] + [(n.outputs[0], (n.name, n.op))
                                                                  for n in quant_graph.nodes]:
        t = quant_graph.tensors[name]
        if name not in floats:
            continue
        deq = (ints[name].astype(np.float64) - t.zero_point) * float(t.scale)
        f = floats[name].astype(np.float64)
        qmin, qmax = QRANGE.get(t.dtype, (-np.inf, np.inf))
        low, high = (qmin - 0.5 - t.zero_point) * float(t.scale), (qmax + 0.5 - t.zero_point) * float(t.scale)
        rows.append(dict(node=node_name, op=op, dtype=t.dtype, sqnr_db=sqnr_db(f, deq),
                         rmse_lsb=float(np.sqrt(np.mean((f - deq) ** 2)) / float(t.scale)),
                         # softmax's output grid is fixed (1/256 from -128): values near 1 saturate by design
                         clipped=0.0 if op == "softmax" else float(np.mean((f < low) | (f > high)))))
    return rows


def quantized_input(quant_graph, x):
    """Float inputs x as the quantized model's input type."""
    t_in = quant_graph.tensors[quant_graph.inputs[0]]
    if t_in.dtype == "float32":
        return x
    if t_in.dtype not in QRANGE:
        raise ConversionError(f"debug needs a model converted with int8, int16 or float32 I/O, not {t_in.dtype}")
    q_min, q_max = QRANGE[t_in.dtype]
    q = quantize_op.int_ref(dict(scale=t_in.scale, zero_point=t_in.zero_point, q_min=q_min, q_max=q_max), x)
    return q.astype(reference.NP_TYPES[t_in.dtype])


WEIGHTED = ("conv2d", "depthwise_conv2d", "fully_connected")


def advice(rows, worst=3, mode="int8", applied=()):
    """The layers whose SQNR drops the most from the layer before them, and what to try for each in this mode.
    applied: the options already in use ("weight_clipping", "bias_correction"), not suggested again."""
    if mode in ("float32", "float16"):  # float arithmetic: nothing to tune
        return []
    drops = [(min(prev["sqnr_db"], 99.0) - min(row["sqnr_db"], 99.0), row) for prev, row in zip(rows, rows[1:])]
    out = []
    for drop, row in sorted(drops, key=lambda d: -d[0])[:worst]:
        if drop <= 0:
            break
        out.append((row, drop, _hint(row, mode, applied)))
    return out


def _hint(row, mode, applied=()):
    weights = row["op"] in WEIGHTED
    untried = " ".join(f"--{o.replace('_', '-')}" for o in ("bias_correction", "weight_clipping") if o not in applied)
    if mode == "dynamic":  # no calibration: the weights' grid and each row's run-time grid are all there is
        clip = "--weight-clipping, or " if weights and "weight_clipping" not in applied else ""
        return f"the 8-bit weights and the run-time 8-bit input grid of dynamic range: try {clip}--mode float16"
    if mode == "int16x8" or row.get("dtype") == "int16":  # a 16x8 layer: its steps are int16, no calibration choice
        if weights and untried:
            return f"its int8 weights (16x8 keeps them): try {untried}"
        return "what 16x8 leaves (8-bit weights, 16-bit rounding): float32 is the remaining step"
    if row["op"] == "softmax":
        return f"softmax's int8 output grid is fixed (1/256): run it in 16x8 (--int16-layers {row['node']})"
    if row["clipped"] > 0.001:
        return "values beyond the calibrated range: calibrate with data like the evaluation data, or --calibration-method minmax"
    if row["rmse_lsb"] > 1.0:
        return "an error of more than one step: try --calibration-method mse or percentile (outliers widen the range)" + \
            (", and --bias-correction" if weights and "bias_correction" not in applied else "")
    return (f"rounding error of the 8-bit grid itself: run this layer in 16x8 (--int16-layers {row['node']}) or the "
            "whole model (--mode int16x8)")


def _is_classifier(graph):
    """A model whose output comes from a softmax (through reshapes): its argmax is a class."""
    node = graph.producer(graph.outputs[0])
    while node is not None and node.op in ("reshape", "dequantize", "transpose"):
        node = graph.producer(node.inputs[0])
    return node is not None and node.op == "softmax"


def evaluate(float_graph, quant_graph, x, labels=None):
    """Float vs quantized on inputs x (and labels, for classifiers): accuracy of each, top-1 agreement, SQNR."""
    fin, qin = float_graph.inputs[0], quant_graph.inputs[0]
    want = reference.execute(float_graph, {fin: x}, integer=False)[float_graph.outputs[0]]
    t_out = quant_graph.tensors[quant_graph.outputs[0]]
    got = reference.execute(quant_graph, {qin: quantized_input(quant_graph, x)}, integer=True)[quant_graph.outputs[0]]
    got = (got.astype(np.float64) - t_out.zero_point) * float(t_out.scale)
    want, got = want.reshape(len(x), -1), got.reshape(len(x), -1)
    result = dict(samples=len(x), sqnr_db=sqnr_db(want, got))
    if labels is not None or _is_classifier(float_graph):  # top-1 of an autoencoder's output means nothing
        result["top1_agreement"] = float(np.mean(want.argmax(1) == got.argmax(1)))
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(x),) or labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= want.shape[1]:
            raise ConversionError(f"labels must be {len(x)} class indices in [0, {want.shape[1]}) (one per input); "
                                  f"got shape {labels.shape}, dtype {labels.dtype}")
        result.update(float_accuracy=float(np.mean(want.argmax(1) == labels)),
                      quantized_accuracy=float(np.mean(got.argmax(1) == labels)))
    return result
