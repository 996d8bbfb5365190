"""Stage 1: an ONNX file -> Graph. Layout-sensitive ops become NHWC ops wrapped in explicit transposes
(NCHW -> NHWC before, back after); canonicalize cancels the pairs. Everything else keeps ONNX's layout."""
import os

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

from . import onnx_loop, onnx_passes, ops
from .ir import ConversionError, Graph, Node, Tensor
from .ops._common import same_pads

OPSETS = (11, 21)
TO_NHWC, TO_NCHW = (0, 2, 3, 1), (0, 3, 1, 2)
FOLD_ROUNDS = 8  # constant folding and shape inference, again while nodes fold (tf2onnx's attention: 4 rounds)
MAX_TENSOR_ELEMENTS = 1 << 28  # far beyond any microcontroller; refused before anything is allocated
MAX_VARIADIC_INPUTS = onnx_loop.MAX_ITERATIONS  # a Concat of every step of an unrolled Loop


def load(path, input_shapes=None):
    """An ONNX file, or a full-integer TFLite file (recognised by its flatbuffer identifier).
    input_shapes: {input name: shape} for inputs whose dimensions the file leaves open."""
    from . import tflite_frontend
    if os.path.isfile(path) and (tflite_frontend.is_tflite(path) or str(path).lower().endswith(".tflite")):
        return tflite_frontend.load(path)  # by its identifier, or by its name: a damaged .tflite says so
    model = _read(path)
    _check_opset(model, path)
    model = onnx_passes.upgrade(model, lambda message: _raise(f"{path}: {message}"))
    _check_names_and_order(model, path)
    model, ties = onnx_loop.unroll(model, _Importer.failure(path))   # a constant-length Loop as its iterations
    _check_initializer_sizes(model, path)
    _fix_input_shapes(model, path, input_shapes or {})
    model = _infer_shapes(model, path)
    for _ in range(FOLD_ROUNDS):  # the exporters' shape arithmetic folded; a Reshape whose shape input folds
        folded = _infer_shapes(onnx_passes.fold_constants(model), path)  # gives the Shape after it its input's
        if len(folded.graph.node) == len(model.graph.node):
            break
        model = folded
    model, ties = onnx_passes.split_computed_bias(model, ties)       # a Gemm's C that is no constant: an Add
    model = onnx_passes.fuse(model)                                 # GELU and layer norm written out as one op
    model = _infer_shapes(onnx_passes.lift_1d(model), path)         # 1-D layers as 2-D ones with H = 1
    return _Importer(model, path, ties).run()


def _raise(message):
    raise ConversionError(message)


def _infer_shapes(model, path):
    try:
        return shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as e:  # onnx raises several types here; all mean a malformed or inconsistent model
        raise ConversionError(f"{path}: shape inference failed: {_first_line(e)}") from None


def shown(name, limit=60):
    """A model string as it may appear in a one-line message: printable ASCII, escaped, bounded."""
    text = str(name).encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(ch if " " <= ch <= "~" else f"\\x{ord(ch):02x}" for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(e):
    text = str(e).strip().splitlines()
    return text[-1] if text else type(e).__name__


def _read(path):
    if not os.path.isfile(path):
        raise ConversionError(f"{path}: no such file")
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as e:
        raise ConversionError(f"{path}: not a readable ONNX model ({_first_line(e)})") from None
    if not model.graph.node:
        raise ConversionError(f"{path}: the ONNX graph has no nodes")
    _load_external_data(model, path)
    return model


def _load_external_data(model, path):
    """Weights stored beside the model: only files inside the model's folder, only within their size."""
    base = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    for init, location in _external_locations(model):
        info = {e.key: e.value for e in init.external_data}
        target = os.path.realpath(os.path.join(base, location))
        if os.path.isabs(location) or os.path.commonpath([base, target]) != base or not os.path.isfile(target):
            raise ConversionError(f"{path}: initializer '{shown(init.name)}' refers to external data "
                                  f"'{shown(location)}' outside the model's folder or missing")
        offset, length = int(info.get("offset", 0) or 0), info.get("length")
        end = offset + int(length) if length else os.path.getsize(target)
        if offset < 0 or end > os.path.getsize(target):
            raise ConversionError(f"{path}: initializer '{shown(init.name)}': external data beyond the end of "
                                  f"'{shown(location)}'")
    try:
        onnx.external_data_helper.load_external_data_for_model(model, base)
    except Exception as e:
        raise ConversionError(f"{path}: cannot read external data ({_first_line(e)})") from None


def _check_names_and_order(model, path):
    """Unique names, every input defined, and the nodes in an order that computes (sorted; a cycle is an error)."""
    g = model.graph
    defined = {}
    for kind, names in (("initializer", [i.name for i in g.initializer]),
                        ("graph input", [i.name for i in g.input if i.name not in {x.name for x in g.initializer}])):
        for n in names:
            if n in defined:
                raise ConversionError(f"{path}: duplicate name '{shown(n)}' ({kind} and {defined[n]})")
            defined[n] = kind
    for node in g.node:
        if not [o for o in node.output if o]:
            raise ConversionError(f"{path}: node '{shown(node.name)}' ({shown(node.op_type, 30)}) has no output")
        for o in node.output:
            if o and o in defined:
                raise ConversionError(f"{path}: node '{shown(node.name)}' ({node.op_type}) writes '{shown(o)}', "
                                      f"already defined by {defined[o]}")
            if o:
                defined[o] = f"node '{shown(node.name)}'"
    for node in g.node:
        for i in onnx_loop.reads(node):  # a Loop's body reads outer tensors too (its implicit inputs)
            if i and i not in defined:
                raise ConversionError(f"{path}: node '{shown(node.name)}' ({node.op_type}) reads '{shown(i)}', which "
                                      "is neither a graph input, an initializer nor a node output")
    available = {n for n, kind in defined.items() if kind in ("initializer", "graph input")}
    pending, ordered = list(g.node), []
    while pending:
        ready = [n for n in pending if onnx_loop.reads(n) <= available]
        if not ready:
            raise ConversionError(f"{path}: the graph has a cycle through node '{shown(pending[0].name)}' "
                                  f"({pending[0].op_type})")
        for n in ready:
            available.update(o for o in n.output if o)
        ordered += ready
        pending = [n for n in pending if n not in ready]
    del g.node[:]
    g.node.extend(ordered)
    for out in g.output:
        if out.name not in defined:
            raise ConversionError(f"{path}: graph output '{shown(out.name)}' is not produced by any node")


def _check_opset(model, path):
    """Opsets 11 to 21 are read as they are; 7 to 10 are upgraded first (onnx_passes.upgrade)."""
    version = onnx_passes.opset_of(model)
    if version is None or not onnx_passes.UPGRADE_FROM <= version <= OPSETS[1]:
        raise ConversionError(f"{path}: ONNX opset {version} is not supported (opsets {onnx_passes.UPGRADE_FROM} to "
                              f"{OPSETS[1]}; {onnx_passes.UPGRADE_FROM} to {OPSETS[0] - 1} are upgraded to "
                              f"{onnx_passes.UPGRADE_TO})")


def _check_initializer_sizes(model, path):
    """Before shape inference or any array is made: no initializer may claim more than we would ever hold."""
    for init in model.graph.initializer:
        if any(d < 0 for d in init.dims) or int(np.prod(list(init.dims), dtype=object)) > MAX_TENSOR_ELEMENTS:
            raise ConversionError(f"{path}: initializer '{shown(init.name)}' of shape {list(init.dims)} is too large")


def _fix_input_shapes(model, path, input_shapes):
    """Shapes given by the user win; else a symbolic first dimension is the batch and becomes 1. Any other
    open dimension is an error that says which and how to give it."""
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    unknown = sorted(set(input_shapes) - {i.name for i in inputs})
    if unknown:
        raise ConversionError(f"{path}: --input-shape names no model input: {', '.join(map(shown, unknown))}")
    for inp in inputs:
        if inp.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            raise ConversionError(f"{path}: input '{shown(inp.name)}' is not float32 (a float model takes float inputs)")
        dims = inp.type.tensor_type.shape.dim
        if inp.name in input_shapes:
            shape = list(input_shapes[inp.name])
            if len(shape) != len(dims) or any(d <= 0 for d in shape):
                raise ConversionError(f"{path}: --input-shape {shown(inp.name)}: {shape} does not fit the input's "
                                      f"rank {len(dims)}")
            for d, v in zip(dims, shape):
                d.dim_value = v
            continue
        for i, d in enumerate(dims):
            if d.HasField("dim_value") and d.dim_value > 1 and i == 0 and len(dims) == 4:
                raise ConversionError(f"{path}: input '{shown(inp.name)}' has a batch of {d.dim_value}: the generated "
                                      "code runs one sample at a time; export with batch 1 or a symbolic batch")
            if d.HasField("dim_value") and d.dim_value > 0:
                continue
            if d.HasField("dim_value") and d.dim_value == 0:
                raise ConversionError(f"{path}: input '{shown(inp.name)}' has a zero dimension: zero-sized tensors "
                                      "are not supported")
            if i == 0:
                d.dim_value = 1
                continue
            known = ",".join(str(x.dim_value) if x.dim_value > 0 else shown(x.dim_param or "?", 12) for x in dims)
            label = f" ('{shown(d.dim_param)}')" if d.dim_param else ""
            raise ConversionError(f"{path}: input '{shown(inp.name)}' has a dynamic dimension {i}{label}; give its "
                                  f"shape with --input-shape {shown(inp.name)}={known}, each name replaced by its "
                                  "size")


def _attrs(node, fail, schema):
    """The node's attributes, type-checked against the ONNX spec (the op's schema at the model's opset); sizes
    and strides positive."""
    out = {}
    for a in node.attribute:
        spec = schema.attributes.get(a.name)
        if spec is not None and a.type != int(spec.type):
            fail(node, f"attribute '{shown(a.name)}' is not of type {spec.type.name.lower()}")
        out[a.name] = onnx.helper.get_attribute_value(a)
    for name in ("kernel_shape", "strides", "dilations"):
        if name in out and (not out[name] or min(out[name]) < 1 or max(out[name]) > 1 << 16):
            fail(node, f"attribute '{name}' = {list(out[name])[:8]} is out of range")
    if "pads" in out and out["pads"] and (min(out["pads"]) < 0 or max(out["pads"]) > 1 << 16):
        fail(node, f"attribute 'pads' = {list(out['pads'])[:8]} is out of range")
    if out.get("group", 1) < 1:
        fail(node, "attribute 'group' must be positive")
    return out


class _Importer:
    """Walks the ONNX nodes once, emitting IR nodes; HANDLERS (the op modules' ONNX tables) maps an ONNX op type
    to its handler, which calls back the helpers below."""

    def __init__(self, model, path, ties=None):
        self.model, self.path = model, path
        self.ties = ties or {}  # ONNX tensor name -> tie group (onnx_loop: a body tensor's copies)
        g = model.graph
        self.consts = {}
        for init in g.initializer:
            try:
                self.consts[init.name] = numpy_helper.to_array(init)
            except Exception as e:
                raise ConversionError(f"{path}: initializer '{shown(init.name)}' cannot be read "
                                      f"({_first_line(e)})") from None
        self.shapes = {}
        for vi in list(g.input) + list(g.value_info) + list(g.output):
            dims = vi.type.tensor_type.shape.dim
            if vi.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
                self.shapes[vi.name] = tuple(d.dim_value for d in dims)
        self.graph = Graph(tensors={}, nodes=[], inputs=[], outputs=[], source=path)
        self.names = {}  # ONNX tensor name -> IR tensor name

    # -- helpers -------------------------------------------------------------------------------------------------
    def fail(self, node, message):
        _Importer.failure(self.path)(node, message)

    @staticmethod
    def failure(path):
        """fail(node, message) for `path`: the one-line error naming the node."""
        def fail(node, message):
            raise ConversionError(f"{path}: node '{shown(node.name or node.output[0])}' ({shown(node.op_type, 30)}): "
                                  f"{message}")
        return fail

    def const(self, node, name, what):
        if name not in self.consts:
            self.fail(node, f"{what} must be a constant (initializer)")
        value = self.consts[name]
        if value.dtype.kind == "f":
            if not np.all(np.isfinite(value)):
                self.fail(node, f"{what} '{shown(name)}' contains NaN or Inf")
            nonzero = np.abs(value[value != 0])
            if nonzero.size and nonzero.max() < np.finfo(np.float32).tiny:
                self.fail(node, f"{what} '{shown(name)}' holds only denormal values (a broken export?)")
        return value

    def tensor(self, onnx_name, node=None):
        if onnx_name in self.names:
            return self.names[onnx_name]
        if node is not None:
            self.fail(node, f"input '{shown(onnx_name)}' is neither a graph input, an initializer nor a node output")
        raise ConversionError(f"{self.path}: graph output '{shown(onnx_name)}' is not produced by any node")

    def new(self, shape, source):
        shape = tuple(int(d) for d in shape)
        size = int(np.prod(shape, dtype=object))
        if size == 0 or size > MAX_TENSOR_ELEMENTS:
            raise ConversionError(f"{self.path}: tensor '{shown(source)}' has shape {list(shape)}: "
                                  + ("zero-sized tensors are not supported" if size == 0 else "too large"))
        t = Tensor(f"t{len(self.graph.tensors)}", shape, source=source)
        self.graph.tensors[t.name] = t
        return t.name

    def output(self, node, index=0):
        name = node.output[index]
        if name not in self.shapes:
            self.fail(node, f"the shape of output '{shown(name)}' could not be inferred; export with static shapes")
        self.names[name] = self.new(self.shapes[name], name)
        self.graph.tensors[self.names[name]].tie = self.ties.get(name)
        return self.names[name]

    def emit(self, op, inputs, outputs, node, **attrs):
        self.graph.nodes.append(Node(op, list(inputs), list(outputs), attrs, node.name or node.output[0]))

    def nhwc(self, node, op, x, out_nchw_shape, **attrs):
        """An NHWC op on an NCHW tensor: transpose in, op, transpose out (the pairs cancel later)."""
        if len(self.graph.tensors[x].shape) != 4:
            self.fail(node, "only 2-D (4-D NCHW tensor) forms are supported")
        xs = self.graph.tensors[x].shape
        x_nhwc = self.new(tuple(xs[p] for p in TO_NHWC), self.graph.tensors[x].source)
        self.emit("transpose", [x], [x_nhwc], node, perm=TO_NHWC)
        y_nhwc = self.new(tuple(out_nchw_shape[p] for p in TO_NHWC), node.output[0])
        self.emit(op, [x_nhwc], [y_nhwc], node, **attrs)
        self.emit("transpose", [y_nhwc], [self.output(node)], node, perm=TO_NCHW)

    # -- the walk ------------------------------------------------------------------------------------------------
    def run(self):
        g = self.model.graph
        for inp in g.input:
            if inp.name in self.consts:
                continue
            if inp.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
                raise ConversionError(f"{self.path}: input '{shown(inp.name)}' is not float32")
            if inp.name not in self.shapes:
                raise ConversionError(f"{self.path}: input '{shown(inp.name)}' has no static shape")
            self.names[inp.name] = self.new(self.shapes[inp.name], inp.name)
            self.graph.inputs.append(self.names[inp.name])
        unsupported = [n for n in g.node if n.op_type not in HANDLERS or n.domain not in ("", "ai.onnx") and not (
            n.domain == onnx_passes.FUSED_DOMAIN and n.op_type in onnx_passes.FUSED)]
        if unsupported:
            listed = ", ".join(f"'{shown(n.name or n.output[0])}' ({shown(n.op_type, 30)})" for n in unsupported)
            raise ConversionError(f"{self.path}: {len(unsupported)} unsupported node(s): {listed}")
        for node in g.node:
            present = [i for i in node.input if i]
            op_type, version = onnx_passes.FUSED.get(node.op_type, (node.op_type, 0)) if \
                node.domain == onnx_passes.FUSED_DOMAIN else (node.op_type, 0)
            schema = onnx.defs.get_schema(op_type, max(self.opset(), version), "")
            most = schema.max_input if schema.max_input <= 8 else MAX_VARIADIC_INPUTS  # LSTM: 8
            if len(present) < schema.min_input or len(node.input) > max(5, most):
                self.fail(node, f"{len(present)} inputs is not a valid {node.op_type}")
            HANDLERS[node.op_type](self, node, _attrs(node, self.fail, schema))
        for out in g.output:
            self.graph.outputs.append(self.tensor(out.name))
        if len(set(self.graph.outputs)) != len(self.graph.outputs) or set(self.graph.outputs) & set(self.graph.inputs):
            raise ConversionError(f"{self.path}: a graph output repeats another output or an input")
        return self.graph

    def x(self, node, i=0):
        return self.tensor(node.input[i], node)

    def opset(self):
        return next(o.version for o in self.model.opset_import if o.domain in ("", "ai.onnx"))

    # -- helpers the op modules' ONNX handlers share -------------------------------------------------------
    def pads(self, node, a, in_hw, kernel):
        """ONNX pads/auto_pad -> (top, left, bottom, right)."""
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("NOTSET", ""):
            p = tuple(a.get("pads", (0, 0, 0, 0)))
            if len(p) != 4:
                self.fail(node, "only 2-D padding is supported")
            return p[0], p[1], p[2], p[3]
        if auto == "VALID":
            return 0, 0, 0, 0
        return same_pads(in_hw, kernel, a.get("strides", (1, 1)), a.get("dilations", (1, 1)),
                         smaller_first=auto == "SAME_UPPER")

    def pool(self, node, a, op):
        """MaxPool / AveragePool -> the NHWC pool `op`."""
        x = self.x(node)
        xs = self.graph.tensors[x].shape
        kernel = tuple(a["kernel_shape"])
        if len(kernel) != 2:
            self.fail(node, "only 2-D pooling is supported")
        if any(d != 1 for d in a.get("dilations", (1, 1))):
            self.fail(node, "dilated pooling is not supported")
        if a.get("ceil_mode", 0):
            self.fail(node, "ceil_mode=1 is not supported")
        strides = tuple(a.get("strides", (1, 1)))
        pads = self.pads(node, a, xs[2:], kernel)
        if any(pad >= kernel[k % 2] for k, pad in enumerate(pads)):  # ONNX requires it: a window could hold no input
            self.fail(node, f"pads {list(pads)} not smaller than the kernel {list(kernel)}")
        if a.get("count_include_pad", 0) and any(pads):
            self.fail(node, "count_include_pad=1 with padding is not supported")
        out_shape = self.shapes.get(node.output[0])
        self.nhwc(node, op, x, out_shape, kernel=kernel, strides=strides, pads=pads)

    def constant_operand(self, node):
        """(activation tensor, float32 constant) of a binary node with one constant operand (None: none),
        and whether the constant comes first."""
        const = [i for i in node.input if i in self.consts]
        if len(const) == 2:
            self.fail(node, f"{node.op_type} of two constants is not supported")
        if not const:
            return None, None, False
        x = self.tensor(next(i for i in node.input if i not in self.consts), node)
        return x, self.const(node, const[0], "the constant operand").astype(np.float32), node.input[0] == const[0]

    def operand(self, node, name):
        """The IR tensor of a node's input: an activation, or for an initializer a new constant node's output
        (ops/constant.py: copied from flash into the arena)."""
        if name not in self.consts:
            return self.tensor(name, node)
        value = self.const(node, name, "a constant operand").astype(np.float32)
        t = self.new(value.shape or (1,), name)
        self.emit("constant", [], [t], node, value=value.reshape(self.graph.tensors[t].shape))
        return t

    def binary(self, node, op):
        """An element-wise op of two activations (broadcast as ONNX does)."""
        x, y = (self.tensor(i, node) for i in node.input)
        self.emit(op, [x, y], [self.output(node)], node)

    def fully_connected(self, node, weight, bias):
        x = self.x(node)
        if not self.graph.tensors[x].shape or self.graph.tensors[x].shape[-1] != weight.shape[1]:
            self.fail(node, "the input's last dimension does not match the weights")
        self.emit("fully_connected", [x], [self.output(node)], node, weight=weight, bias=bias)


HANDLERS = ops.onnx_handlers()  # ONNX op type -> handler(importer, node, attrs), from each op module's ONNX


def files_read(path):
    """The files loading `path` reads: the model and, for ONNX, its external data files (an output folder must
    not hold any of them)."""
    from . import tflite_frontend
    files = [str(path)]
    if not os.path.isfile(path) or tflite_frontend.is_tflite(path):
        return files
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception:
        return files  # unreadable: load() has said so already
    base = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    files += [os.path.join(base, location) for _, location in _external_locations(model)]
    return sorted(set(files))


def _external_locations(model):
    """(initializer, location) of every initializer stored in an external file."""
    for init in model.graph.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL:
            yield init, {e.key: e.value for e in init.external_data}.get("location", "")
