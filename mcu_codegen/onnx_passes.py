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


def split_computed_bias(model, ties):
    """A Gemm whose C is computed (after folding: tf2onnx's LSTM cell adds h R as the C of x W) becomes the Gemm
    without C and an Add of beta C. ties (tensor name -> tie group, see onnx_loop) gets the product's name, in a
    group of its own beside the Gemm's. Returns (model, ties)."""
    consts = {i.name for i in model.graph.initializer}
    if not any(n.op_type == "Gemm" and len(n.input) > 2 and n.input[2] and n.input[2] not in consts
               for n in model.graph.node):
        return model, ties
    model, ties = _copy(model), dict(ties)
    g = model.graph
    nodes = []
    for node in g.node:
        if not (node.op_type == "Gemm" and len(node.input) > 2 and node.input[2] and node.input[2] not in consts):
            nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        beta, y = float(attrs.pop("beta", 1.0)), node.output[0]
        product, c = y + "::product", node.input[2]
        nodes.append(helper.make_node("Gemm", list(node.input[:2]), [product], name=node.name, **attrs))
        if beta != 1.0:
            g.initializer.append(numpy_helper.from_array(np.array(beta, np.float32), y + "::beta"))
            nodes.append(helper.make_node("Mul", [c, y + "::beta"], [y + "::beta_c"], name=f"{node.name}::beta"))
            c = y + "::beta_c"
        nodes.append(helper.make_node("Add", [product, c], [y], name=f"{node.name}::bias"))
        if y in ties:
            ties[product] = ties[y] + "::product"
    del g.node[:]
    g.node.extend(nodes)
    return model, ties


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
    fused = {o for n in nodes if n.domain == FUSED_DOMAIN for o in n.output}  # never lifted: shapes unchanged, and
    kept = [vi for vi in g.value_info if vi.name in fused]  # onnx's inference passes over our domain (Rsqrt)
    del g.value_info[:]  # the caller infers the new shapes
    g.value_info.extend(kept)
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


# -- exporters' decompositions fused back into one op ------------------------------------------------------------
# the ops these passes write: the importer reads a fused node with the schema given here whatever the model's
# opset (a torch export at opset 14 gets a LayerNormalization; Rsqrt, 1 / sqrt(x), is no ONNX op). They are written
# in a domain of ours, which onnx's shape inference passes over (their outputs keep the shapes inferred before).
FUSED = {"Gelu": ("Gelu", 20), "LayerNormalization": ("LayerNormalization", 17),
         "Rsqrt": ("Sqrt", 13)}  # op -> (the standard schema that describes its inputs and attributes, its opset)
FUSED_DOMAIN = "mcu_codegen.fused"


class _Graph:
    """Producers, consumers and constants of a graph's tensors, for matching a pattern by walking from a node."""

    def __init__(self, model):
        g = model.graph
        self.consts = {i.name: v for i in g.initializer for v in [_array(i)] if v is not None}
        self.producer = {o: n for n in g.node for o in n.output}
        self.consumers = {}
        for n in g.node:
            for i in dict.fromkeys(n.input):  # a node reading a tensor twice (x * x) is one reader
                self.consumers.setdefault(i, []).append(n)
        self.outputs = {o.name for o in g.output}

    def only_reader(self, name, op_type):
        """The one node reading tensor `name`, if it is an op_type and the tensor is not a graph output."""
        readers = self.consumers.get(name, [])
        if len(readers) == 1 and readers[0].op_type == op_type and name not in self.outputs:
            return readers[0]
        return None

    def const_operand(self, node, value=None):
        """(the other input, the constant's value) of a binary node with one constant input (equal to value
        within float32 rounding when given), else (None, None)."""
        if len(node.input) != 2:
            return None, None
        for k in (0, 1):
            c = self.consts.get(node.input[k])
            if c is not None and node.input[1 - k] not in self.consts:
                if value is not None and not (c.size == 1 and abs(float(c.reshape(-1)[0]) - value) <= 1e-6 * max(
                        1.0, abs(value))):
                    return None, None
                return node.input[1 - k], c
        return None, None

    def closed(self, nodes, y):
        """Whether the pattern `nodes` with output y can be replaced by one node: every other tensor they write is
        read only by them and is no graph output."""
        ids = {id(n) for n in nodes}
        return all(o == y or (o not in self.outputs and all(id(r) in ids for r in self.consumers.get(o, [])))
                   for n in nodes for o in n.output)

    def other(self, node, name):
        """The input of a two-input node that is not `name` (None if both are, or it is not an input)."""
        ins = list(node.input)
        if len(ins) != 2 or name not in ins or ins[0] == ins[1]:
            return None
        return ins[1] if ins[0] == name else ins[0]


def _gelu_at(gr, erf):
    """The nodes of x * 0.5 * (1 + Erf(x / sqrt 2)) around an Erf (x / sqrt 2 as a Div or a Mul by 1 / sqrt 2;
    the products in any order), as (x, the nodes, the output), or None."""
    scale = gr.producer.get(erf.input[0])
    if scale is None or gr.only_reader(erf.input[0], "Erf") is not erf:
        return None
    x, _ = gr.const_operand(scale, np.sqrt(2.0)) if scale.op_type == "Div" else (None, None)
    if scale.op_type == "Div" and gr.consts.get(scale.input[0]) is not None:
        x = None  # sqrt 2 / x is not the pattern
    if scale.op_type == "Mul":
        x, _ = gr.const_operand(scale, float(np.sqrt(0.5)))
    add = gr.only_reader(erf.output[0], "Add")
    if x is None or add is None or gr.const_operand(add, 1.0)[0] != erf.output[0]:
        return None
    mul = gr.only_reader(add.output[0], "Mul")
    if mul is None:
        return None
    other = gr.other(mul, add.output[0])
    if other == x:  # (x * s) * 0.5
        half = gr.only_reader(mul.output[0], "Mul")
        if half is not None and gr.const_operand(half, 0.5)[0] == mul.output[0]:
            return x, [scale, erf, add, mul, half], half.output[0]
        return None
    h = gr.producer.get(other)
    if h is not None and h.op_type == "Mul" and gr.const_operand(h, 0.5)[0] == x and \
            gr.only_reader(other, "Mul") is mul:  # (x * 0.5) * s
        return x, [scale, erf, add, h, mul], mul.output[0]
    if gr.const_operand(mul, 0.5)[0] == add.output[0]:  # x * (s * 0.5)
        last = gr.only_reader(mul.output[0], "Mul")
        if last is not None and gr.other(last, mul.output[0]) == x:
            return x, [scale, erf, add, mul, last], last.output[0]
    return None


def _reduces_last_axis(gr, node, x, shapes):
    """A ReduceMean over the last axis of x keeping it, or a GlobalAveragePool of a 3-D x (tf2onnx's form)."""
    rank = len(shapes.get(x, ()))
    if node.op_type == "GlobalAveragePool":
        return rank == 3
    if node.op_type != "ReduceMean":
        return False
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    axes = attrs.get("axes")
    if axes is None and len(node.input) > 1:
        axes = gr.consts.get(node.input[1])
    return axes is not None and [int(a) % max(rank, 1) for a in np.ravel(axes)] == [rank - 1] and \
        attrs.get("keepdims", 1) == 1


def _layer_norm_at(gr, mean, shapes):
    """The decomposed layer norm starting at the mean of x, as (x, gamma, beta, epsilon, the nodes, the output):
    torch's before opset 17, (x - m) / Sqrt(ReduceMean((x - m)^2) + eps) * gamma + beta, and tf2onnx's of Keras,
    x r + (beta - m r) with r = gamma / Sqrt(mean((x - m)^2) + eps) written as Reciprocal, Neg, three Muls and
    two Adds. None if it is not one."""
    x = mean.input[0]
    if not _reduces_last_axis(gr, mean, x, shapes):
        return None
    readers = gr.consumers.get(mean.output[0], [])
    sub = next((n for n in readers if n.op_type == "Sub" and list(n.input) == [x, mean.output[0]]), None)
    if sub is None:
        return None
    d = sub.output[0]
    square = next((n for n in gr.consumers.get(d, []) if (n.op_type == "Pow" and gr.const_operand(n, 2.0)[0] == d)
                   or (n.op_type == "Mul" and list(n.input) == [d, d])), None)
    if square is None:
        return None
    var = next((n for n in gr.consumers.get(square.output[0], [])
                if _reduces_last_axis(gr, n, square.output[0], shapes)), None)
    add_eps = var and gr.only_reader(var.output[0], "Add")
    eps = add_eps and gr.const_operand(add_eps)
    sqrt = add_eps and gr.only_reader(add_eps.output[0], "Sqrt")
    if not (eps and eps[0] == var.output[0] and sqrt):
        return None
    if eps[1].size != 1 or eps[1].ndim > len(shapes.get(x, ())):  # one epsilon, not widening var's shape
        return None
    epsilon = float(eps[1].reshape(-1)[0])
    body = [mean, sub, square, var, add_eps, sqrt]
    if mean.op_type == "ReduceMean":  # torch: Div, Mul gamma, Add beta
        div = gr.only_reader(sqrt.output[0], "Div")
        if div is None or list(div.input) != [d, sqrt.output[0]] or len(gr.consumers.get(d, [])) != 2:
            return None
        mul = gr.only_reader(div.output[0], "Mul")
        gamma = mul and gr.const_operand(mul)
        add = mul and gr.only_reader(mul.output[0], "Add")
        beta = add and gr.const_operand(add)
        if not (gamma and gamma[0] == div.output[0] and beta and beta[0] == mul.output[0]):
            return None
        return x, gamma[1], beta[1], epsilon, body + [div, mul, add], add.output[0]
    neg = next((n for n in readers if n.op_type == "Neg"), None)  # tf2onnx (Keras)
    recip = gr.only_reader(sqrt.output[0], "Reciprocal")
    rg = recip and gr.only_reader(recip.output[0], "Mul")
    gamma = rg and gr.const_operand(rg)
    if neg is None or len(readers) != 2 or not (gamma and gamma[0] == recip.output[0]) or len(gr.consumers.get(d, [])) != 1:
        return None
    uses = gr.consumers.get(rg.output[0], [])
    a = next((n for n in uses if n.op_type == "Mul" and gr.other(n, rg.output[0]) == x), None)
    b = next((n for n in uses if n.op_type == "Mul" and gr.other(n, rg.output[0]) == neg.output[0]), None)
    bb = b and gr.only_reader(b.output[0], "Add")
    beta = bb and gr.const_operand(bb)
    final = a and bb and gr.only_reader(a.output[0], "Add")
    if len(uses) != 2 or not (beta and beta[0] == b.output[0] and final and gr.other(final, a.output[0]) == bb.output[0]
                              and gr.only_reader(bb.output[0], "Add") is final):
        return None
    return x, gamma[1], beta[1], epsilon, body + [neg, recip, rg, a, b, bb, final], final.output[0]


def _along_last_axis(v, rank, width):
    """Whether a constant multiplied or added to a tensor of this rank and last axis varies only along that axis:
    a scalar, (D,) or (1, .., 1, D) (or 1 for D) of at most that rank; a (D, 1) would broadcast over axis -2."""
    return v.ndim <= rank and all(s == 1 for s in v.shape[:-1]) and (v.ndim == 0 or v.shape[-1] in (1, width))


def fuse(model, layer_norm=True):
    """GELU written out with Erf (torch, tf2onnx: x * 0.5 * (1 + Erf(x / sqrt 2)), the products in any order)
    becomes one Gelu node; a layer norm written out (torch before opset 17, tf2onnx's Keras LayerNormalization)
    one LayerNormalization over the last axis (layer_norm=False leaves them: the int8 chain, for comparison).
    Then what is left of such arithmetic: Pow(x, 2) is Mul(x, x), Sqrt read only by a Reciprocal is one Rsqrt, and
    a Div by a Sqrt read only there is a Mul by its Rsqrt. The model must have been through shape inference."""
    model = _copy(model)
    shapes = _static_shapes(model)
    g = model.graph
    gr = _Graph(model)
    replaced, new_inits = {}, []  # id(last node of a pattern) -> the fused node; the other nodes -> None
    for node in g.node:
        if id(node) in replaced:
            continue
        found = None
        if node.op_type == "Erf":
            m = _gelu_at(gr, node)
            if m:
                x, nodes, y = m
                if gr.closed(nodes, y):
                    found = nodes, helper.make_node("Gelu", [x], [y], name=f"{y}_gelu", domain=FUSED_DOMAIN)
        elif node.op_type in ("ReduceMean", "GlobalAveragePool") and layer_norm:
            m = _layer_norm_at(gr, node, shapes)
            if m:
                x, gamma, beta, eps, nodes, y = m
                rank, width = len(shapes.get(x, ())), shapes.get(x, (0,))[-1]
                if gr.closed(nodes, y) and all(_along_last_axis(v, rank, width) for v in (gamma, beta)):
                    names = [f"{y}_gamma", f"{y}_beta"]
                    for name, v in zip(names, (gamma, beta)):
                        new_inits.append(numpy_helper.from_array(
                            np.broadcast_to(v.reshape(-1), (width,)).astype(np.float32), name))
                    found = nodes, helper.make_node("LayerNormalization", [x] + names, [y], name=f"{y}_layer_norm",
                                                    axis=-1, epsilon=eps, domain=FUSED_DOMAIN)
        if found and not any(id(n) in replaced for n in found[0]):
            nodes, fused = found
            last = max(nodes, key=lambda n: list(g.node).index(n))
            for n in nodes:
                replaced[id(n)] = fused if n is last else None
    for node in g.node:
        if id(node) in replaced:
            continue
        if node.op_type == "Pow" and gr.const_operand(node, 2.0)[0] == node.input[0]:
            replaced[id(node)] = helper.make_node("Mul", [node.input[0]] * 2, list(node.output), name=node.name)
        elif node.op_type == "Sqrt":
            recip = gr.only_reader(node.output[0], "Reciprocal")
            div = gr.only_reader(node.output[0], "Div")
            if recip is not None and id(recip) not in replaced:
                replaced[id(node)] = None
                replaced[id(recip)] = helper.make_node("Rsqrt", list(node.input), list(recip.output),
                                                       name=recip.name, domain=FUSED_DOMAIN)
            elif div is not None and id(div) not in replaced and list(div.input)[1:] == [node.output[0]] and \
                    div.input[0] != node.output[0]:
                replaced[id(node)] = helper.make_node("Rsqrt", list(node.input), list(node.output), name=node.name,
                                                      domain=FUSED_DOMAIN)  # its output now holds 1 / sqrt
                replaced[id(div)] = helper.make_node("Mul", [div.input[0], node.output[0]], list(div.output),
                                                     name=div.name)
    if not replaced:
        return model
    kept = []
    for n in g.node:
        if id(n) not in replaced:
            kept.append(n)
        elif replaced[id(n)] is not None:
            kept.append(replaced[id(n)])
    del g.node[:]
    g.node.extend(kept)
    g.initializer.extend(new_inits)
    _drop_unused_initializers(model)
    if not any(o.domain == FUSED_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(FUSED_DOMAIN, 1))
    return model
