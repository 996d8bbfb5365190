"""Stage 3: calibrate on a representative dataset and compute every integer the kernels need (TFLite's scheme:
per-channel symmetric int8 weights, per-tensor asymmetric int8 activations, int32 bias)."""
import numpy as np

from . import calibration, ops
from .fixedpoint import round_half_away
from .frontend import shown
from .ir import ConversionError, Node

IO_TYPES = ("int8", "uint8", "float32")


def quantize(graph, samples, input_type="int8", output_type="int8", method="minmax", progress=None):
    """samples: one float array per graph input, (N, *shape). Returns a new, quantized graph.
    A graph that is quantized already (TFLite) keeps the file's scales: samples may be None.
    method: how activation ranges are chosen (calibration.METHODS); progress(done, total) is called per batch."""
    for kind in (input_type, output_type):
        if kind not in IO_TYPES:
            raise ConversionError(f"I/O type '{kind}' is not one of {', '.join(IO_TYPES)}")
    g = graph.copy()
    if g.quantized:
        _check_file_quantization(g)
    else:
        _assign_qparams(g, calibration.ranges(g, samples, method, progress))
    for node in g.nodes:
        try:
            node.params = ops.get(node.op).prepare(node.attrs, [g.tensors[x] for x in node.inputs],
                                                   g.tensors[node.outputs[0]])
        except ConversionError as e:
            raise ConversionError(f"{g.source}: node '{shown(node.name)}' ({node.op}): {e}") from None
    _add_io_edges(g, input_type, output_type)
    return g


def _assign_qparams(g, ranges):
    for name in g.inputs:
        _set_qparams(g.tensors[name], *ranges[name])
    for node in g.nodes:
        mod, out = ops.get(node.op), g.tensors[node.outputs[0]]
        if hasattr(mod, "OUTPUT_QUANT"):
            out.scale, out.zero_point = np.float32(mod.OUTPUT_QUANT[0]), mod.OUTPUT_QUANT[1]
        elif getattr(mod, "SAME_QUANT_AS_INPUT", False):
            src = g.tensors[node.inputs[0]]
            out.scale, out.zero_point = src.scale, src.zero_point
        else:
            _set_qparams(out, *ranges[out.name])
    for t in g.tensors.values():
        t.dtype = "int8"


def _check_file_quantization(g):
    """Our kernels rely on TFLite's constraints: pools and reshapes keep their input's quantization, softmax
    outputs 1/256 - 128. A file that breaks them is refused rather than computed wrong."""
    for node in g.nodes:
        mod, x, y = ops.get(node.op), g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
        want = (mod.OUTPUT_QUANT if hasattr(mod, "OUTPUT_QUANT") else
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


def _set_qparams(tensor, rmin, rmax):
    tensor.scale, tensor.zero_point = choose_qparams(rmin, rmax)


def _add_io_edges(g, input_type, output_type):
    """The C API speaks the requested I/O type; inside, everything is int8. uint8 converts in place."""
    for i, name in enumerate(list(g.inputs)):
        if input_type != "int8":
            edge = _edge_tensor(g, g.tensors[name], input_type)
            _insert_edge(g, 0, "convert_u8" if input_type == "uint8" else "quantize", edge, g.tensors[name])
            g.inputs[i] = edge.name
    for i, name in enumerate(list(g.outputs)):
        if output_type != "int8":
            edge = _edge_tensor(g, g.tensors[name], output_type)
            _insert_edge(g, len(g.nodes), "convert_u8" if output_type == "uint8" else "dequantize",
                         g.tensors[name], edge)
            g.outputs[i] = edge.name


def _edge_tensor(g, t, io_type):
    """The int8 tensor t as the user sees it: uint8 moves the zero point by 128, float32 keeps the scale."""
    edge = g.new_tensor(t)
    edge.dtype, edge.scale = io_type, t.scale
    edge.zero_point = t.zero_point + 128 if io_type == "uint8" else t.zero_point
    return edge


def _insert_edge(g, index, op, src, dst):
    node = Node(op, [src.name], [dst.name], {}, f"{op} '{src.source}'")
    node.params = ops.get(op).prepare({}, [src], dst)
    g.nodes.insert(index, node)
