"""Stage 1's ONNX-level canonicalization, before import: the habits of exporters rewritten into the forms the
importer knows. Each pass takes and returns an onnx.ModelProto (a copy: the caller's model is not changed).

- upgrade: an old opset (7 to 10: torch.onnx.export(opset_version=9), old Keras converters) becomes opset 13
  through onnx's own version converter, which knows every op's changes between versions;
- fold_constants: nodes whose inputs are all constants, and Shape of a tensor whose shape is known, become
  initializers (torch's x.view(x.size(0), -1) writes Shape -> Gather -> Unsqueeze -> Concat -> Reshape; Cast
  and ConstantOfShape appear in the same arithmetic), evaluated by onnx's reference implementation;
- lift_1d: 3-D (N, C, L) tensors of Conv1d, MaxPool1d / AvgPool1d, GlobalAveragePool, BatchNorm1d and the
  element-wise ops between them become 4-D (N, C, 1, L): a 1-D layer is the 2-D one with H = 1. A reader that
  needs the 3-D tensor gets it back through a Squeeze (a free alias after import).
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper

UPGRADE_FROM, UPGRADE_TO = 7, 13
FOLD_LIMIT = 1 << 20  # elements: a result beyond this, or of unknown size, stays a node (shape arithmetic is tiny)
NEVER_FOLD = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}


def opset_of(model):
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def upgrade(model, fail):
    """opsets 7 to 10 -> UPGRADE_TO with onnx.version_converter. fail(message) raises the caller's error."""
    version = opset_of(model)
    if version is None or not UPGRADE_FROM <= version < 11:
        return model
    from onnx import version_converter
    try:
        return version_converter.convert_version(model, UPGRADE_TO)
    except Exception as e:  # noqa: BLE001 (the converter raises several types; all mean it cannot upgrade)
        fail(f"ONNX opset {version} could not be upgraded to {UPGRADE_TO} by onnx's version converter "
             f"({str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__})")


def _static_shapes(model):
    shapes = {}
    g = model.graph
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        t = vi.type.tensor_type
        if t.HasField("shape") and all(d.HasField("dim_value") for d in t.shape.dim):
            shapes[vi.name] = tuple(d.dim_value for d in t.shape.dim)
    return shapes


def _evaluate(node, consts, opset):
    from onnx.reference import ReferenceEvaluator
    return ReferenceEvaluator(node, opsets={"": opset}).run(None, {i: consts[i] for i in node.input if i})


def fold_constants(model):
    """Every node computable at conversion time becomes initializers. The model must have been through shape
    inference (Shape reads the inferred shapes, and only outputs of known, bounded size are computed). Returns
    the folded model (unchanged if nothing folds)."""
    model = _copy(model)
    g, opset = model.graph, opset_of(model)
    consts = {i.name: v for i in g.initializer for v in [_array(i)] if v is not None}
    shapes = _static_shapes(model)
    outputs = {o.name for o in g.output}
    keep, new = [], []
    for node in g.node:
        value = None
        small = all(o in shapes and int(np.prod(shapes[o], dtype=object)) <= FOLD_LIMIT for o in node.output if o)
        if (node.domain in ("", "ai.onnx") and node.op_type not in NEVER_FOLD and not set(node.output) & outputs
                and small):  # sizes known before evaluating: a hostile ConstantOfShape allocates nothing
            if node.op_type == "Shape" and node.input[0] in shapes:
                value = [_shape_value(shapes[node.input[0]], node)]
            elif all(not i or i in consts for i in node.input) and (node.input or node.op_type == "Constant"):
                try:
                    value = _evaluate(node, consts, opset)
                except Exception:  # noqa: BLE001 (an op the evaluator lacks stays a node: the importer decides)
                    value = None
        if value is None:
            keep.append(node)
            continue
        for name, v in zip(node.output, value):
            if name:
                consts[name] = np.asarray(v)
                new.append(numpy_helper.from_array(np.asarray(v), name))
    if not new:
        return model
    del g.node[:]
    g.node.extend(keep)
    g.initializer.extend(new)
    _drop_unused_initializers(model)
    return model


def _array(init):
    """An initializer's values, or None when they cannot be read (the importer names it in its error)."""
    try:
        return numpy_helper.to_array(init)
    except Exception:  # noqa: BLE001 (a damaged tensor fails in several ways inside onnx)
        return None


def _shape_value(shape, node):
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    start, end = attrs.get("start", 0), attrs.get("end", len(shape))
    return np.array(shape[start:end], np.int64)


def _drop_unused_initializers(model):
    """Initializers nobody reads any more go, with their graph input entries (old IR versions list them)."""
    g = model.graph
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    dropped = {i.name for i in g.initializer if i.name not in used}
    kept = [i for i in g.initializer if i.name not in dropped]
    del g.initializer[:]
    g.initializer.extend(kept)
    inputs = [i for i in g.input if i.name not in dropped]
    del g.input[:]
    g.input.extend(inputs)


def _copy(model):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    return m


# -- 1-D layers as 2-D ones ------------------------------------------------------------------------------------
WINDOWED = ("Conv", "MaxPool", "AveragePool")
CHANNEL_WISE = ("GlobalAveragePool", "GlobalMaxPool", "BatchNormalization")
ELEMENTWISE = ("Relu", "Clip", "Sigmoid", "Tanh", "LeakyRelu", "HardSwish", "HardSigmoid", "Elu", "Identity",
               "Dropout", "Add", "Sub", "Mul", "Div", "PRelu", "Max", "Min")


def lift_1d(model):
    """3-D NCL tensors around 1-D layers -> NC1L (see the module's docstring). Needs shape inference first."""
    model = _copy(model)
    g = model.graph
    opset = opset_of(model)
    shapes = _static_shapes(model)
    consts = {i.name: i for i in g.initializer}

    def rank3(name):
        return name in shapes and len(shapes[name]) == 3 and name not in consts

    originals = list(g.node)
    liftable, lifted = set(), set()  # node indices; their output tensors
    for k, node in enumerate(originals):
        acts = [i for i in node.input if i and i not in consts]
        if not acts or not all(rank3(i) for i in acts) or not all(rank3(o) for o in node.output if o):
            continue
        if node.op_type in WINDOWED + CHANNEL_WISE or (node.op_type in ELEMENTWISE and set(acts) & lifted):
            liftable.add(k)
            lifted.update(o for o in node.output if o)
    if not liftable:
        return model
    nodes, made = [], {}

    def as4d(name):  # a 3-D tensor that a lifted node reads
        if name in lifted:
            return name
        if name not in made:
            made[name] = name + "::nc1l"
            nodes.append(_h_axis_node("Unsqueeze", name, made[name], g, consts, opset))
        return made[name]

    for k, original in enumerate(originals):
        node = onnx.NodeProto()
        node.CopyFrom(original)
        if k in liftable:
            _lift_attributes(node, g, consts)
            for j, name in enumerate(node.input):
                if name and name not in consts:
                    node.input[j] = as4d(name)
                elif name and node.op_type in ELEMENTWISE:  # a constant operand broadcast against NCL
                    node.input[j] = _lifted_constant(g, consts, name)
        else:
            for j, name in enumerate(node.input):
                if name in lifted:
                    node.input[j] = _squeezed(nodes, g, consts, made, name, opset)
        nodes.append(node)
    for out in g.output:
        if out.name in lifted:  # the graph output keeps its name and rank: the lifted tensor is renamed
            inner = out.name + "::nc1l"
            for node in nodes:
                node.output[:] = [inner if o == out.name else o for o in node.output]
                node.input[:] = [inner if i == out.name else i for i in node.input]
            nodes.append(_h_axis_node("Squeeze", inner, out.name, g, consts, opset))
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]  # the caller infers the new shapes
    return model


def _h_axis_node(op, x, y, g, consts, opset):
    """Unsqueeze / Squeeze of axis 2 (H): an axes input from opset 13 on, an attribute before."""
    if opset < 13:
        return helper.make_node(op, [x], [y], axes=[2])
    if "::axis_h" not in consts:
        init = numpy_helper.from_array(np.array([2], np.int64), "::axis_h")
        g.initializer.append(init)
        consts["::axis_h"] = init
    return helper.make_node(op, [x, "::axis_h"], [y])


def _squeezed(nodes, g, consts, made, name, opset):
    key = name + "::ncl"
    if key not in made:
        made[key] = key
        nodes.append(_h_axis_node("Squeeze", name, key, g, consts, opset))
    return made[key]


def _lifted_constant(g, consts, name):
    """A constant operand of an element-wise op on NCL, reshaped to broadcast the same way against NC1L."""
    value = _array(consts[name])
    if value is None or value.ndim < 2:  # a scalar or a vector along L broadcasts alike (unreadable: as it is)
        return name
    value = value.reshape((1,) * (3 - value.ndim) + value.shape)
    lifted = name + "::nc1l"
    if lifted not in consts:
        init = numpy_helper.from_array(np.ascontiguousarray(value[:, :, None, :]), lifted)
        g.initializer.append(init)
        consts[lifted] = init
    return lifted


def _lift_attributes(node, g, consts):
    """1-D attributes and weights -> their 2-D forms with H = 1 (kernel 1, stride 1, dilation 1, no padding)."""
    attrs = {a.name: a for a in node.attribute}
    for name, h in (("kernel_shape", 1), ("strides", 1), ("dilations", 1)):
        if name in attrs:
            attrs[name].ints[:] = [h] + list(attrs[name].ints)
    if "pads" in attrs:
        begin, end = list(attrs["pads"].ints)
        attrs["pads"].ints[:] = [0, begin, 0, end]
    if node.op_type == "Conv":
        w = node.input[1]
        if w in consts:
            value = _array(consts[w])
            if value is not None and value.ndim == 3:
                lifted = w + "::nc1l"
                if lifted not in consts:
                    init = numpy_helper.from_array(np.ascontiguousarray(value[:, :, None, :]), lifted)
                    g.initializer.append(init)
                    consts[lifted] = init
                node.input[1] = lifted
