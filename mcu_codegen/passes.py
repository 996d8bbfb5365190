"""Stage 2: canonicalize. Cancel layout transposes, fold BatchNorm and bias adds, fuse activations, and leave
only ops the runtime has (mcu_codegen.ops.REGISTRY). Returns a new graph."""
import numpy as np

from . import ops
from .ir import ConversionError, Node

FUSES_CLAMP = ("conv2d", "depthwise_conv2d", "fully_connected", "add", "sub", "mul", "max_pool", "avg_pool",
               "transpose_conv")
FUSES_BIAS = ("conv2d", "depthwise_conv2d", "fully_connected", "transpose_conv")
CONVS = ("conv2d", "depthwise_conv2d")
# layout-blind: a transpose before one moves after it (a binary one's when its operands are all transposed alike,
# or constants)
ELEMENTWISE_UNARY = ("clamp", "logistic", "tanh", "leaky_relu", "hard_swish", "hard_sigmoid", "elu",
                     "exp")
ELEMENTWISE_BINARY = ("add", "sub", "mul", "maximum", "minimum")
# an element-wise op's constant operand (an attribute), broadcast against its input: transposed with it
CONSTANT_ATTR = {"bias_add": "value", "scale_mul": "value", "prelu": "alpha"}
COPIES = ("slice", "gather", "tile")  # per-axis copies: a transpose before one moves after it, its axes permuted


def canonicalize(graph):
    g = graph.copy()
    _repeated_elements_to_resize(g)
    _sink_transposes(g)
    _merge_duplicate_transposes(g)
    _hard_sigmoids(g)
    _clamps_above_aliases(g)
    _fold_into_producers(g)
    if _standalone_batchnorm_to_depthwise(g):
        _fold_into_producers(g)  # activations after a standalone BatchNorm fuse into its depthwise conv
    _pads_below_unit_reshapes(g)
    _fold_pads_into_convolutions(g)
    _fold_transpose_into_fully_connected(g)
    _layout_only_transposes_to_aliases(g)
    _pieces_of_concats(g)
    _drop_noop_aliases(g)
    _standalone_clamps_to_relu(g)
    _unfolded_constants_to_operands(g)
    g.remove_dead()
    leftover = [n for n in g.nodes if n.op not in ops.REGISTRY]
    if leftover:
        listed = ", ".join(f"'{n.name}' ({n.op})" for n in leftover)
        raise ConversionError(f"{g.source}: cannot map to the runtime: {listed}")
    return g


def _inverse(perm):
    return tuple(int(i) for i in np.argsort(perm))


def _sole_reader(g, tensor, node):
    return tensor not in g.outputs and g.consumers(tensor) == [node]


def _sink_transposes(g):
    """Move transposes down past element-wise ops and compose adjacent ones, until the pairs meet and cancel."""
    changed = True
    while changed:
        changed = False
        for i, n in enumerate(g.nodes):
            producers = [g.producer(x) for x in n.inputs]
            transposed = [p for p in producers if p is not None and p.op == "transpose"]
            if n.op == "transpose" and n.attrs["perm"] == tuple(range(len(n.attrs["perm"]))):
                n.op, n.attrs = "reshape", {"shape": g.tensors[n.outputs[0]].shape}  # identity: an alias
                if n.outputs[0] not in g.outputs:
                    g.rename_uses(n.outputs[0], n.inputs[0])
                    g.nodes.remove(n)
            elif n.op == "transpose" and transposed:
                t = transposed[0]
                n.inputs, n.attrs = [t.inputs[0]], {"perm": tuple(t.attrs["perm"][p] for p in n.attrs["perm"])}
            elif n.op in ("mean", "reduce_max") and transposed:
                _mean_before_transpose(g, i, n, transposed[0])
            elif n.op == "reshape" and transposed and _unit_axes_only(g.tensors[n.inputs[0]].shape,
                                                                     g.tensors[n.outputs[0]].shape):
                _unit_reshape_before_transpose(g, i, n, transposed[0])
            elif n.op in COPIES and transposed and ops.get(n.op).permuted(n.attrs, transposed[0].attrs["perm"]):
                _swap_with_transpose(g, i, n, transposed[0], [transposed[0].inputs[0]])
            elif n.op in ELEMENTWISE_UNARY + tuple(CONSTANT_ATTR) + ("pad",) and transposed:
                _swap_with_transpose(g, i, n, transposed[0], [transposed[0].inputs[0]])
            elif (n.op in ELEMENTWISE_BINARY + ("concat",) and transposed
                  and len({t.attrs["perm"] for t in transposed}) == 1
                  and len(g.tensors[n.outputs[0]].shape) == len(transposed[0].attrs["perm"])
                  and all(p is not None and (p.op == "transpose" or _constant_read_by(g, p, n)) for p in producers)):
                inverse = _inverse(transposed[0].attrs["perm"])
                _swap_with_transpose(g, i, n, transposed[0], [p.inputs[0] if p.op == "transpose" else
                                                              _transpose_constant(g, p, inverse) for p in producers])
            else:
                continue
            changed = True
            g.remove_dead()
            break


def _repeated_elements_to_resize(g):
    """An exporter's nearest upsampling of an NCHW map by whole factors a, b (Keras' repeat_elements, older YOLO
    ports): reshape (N, C, H, W) -> (N, C, H, 1, W, 1), tile by (1, 1, 1, a, 1, b), reshape to (N, C, aH, bW).
    It becomes the NHWC resize_nearest between layout transposes, which then cancel with their neighbours'."""
    for r1 in list(g.nodes):
        x = g.tensors[r1.inputs[0]] if r1.op == "reshape" else None
        if x is None or len(x.shape) != 4:
            continue
        n, c, h, w = x.shape
        t = _sole_successor(g, r1, "tile", (n, c, h, 1, w, 1))
        m = t.attrs["multiples"] if t is not None else None
        r2 = _sole_successor(g, t, "reshape", None) if m is not None and m[:3] + m[4:5] == (1, 1, 1, 1) else None
        if r2 is None or g.tensors[r2.outputs[0]].shape != (n, c, h * m[3], w * m[5]):
            continue
        u = g.new_tensor(x, shape=(n, h, w, c))
        v = g.new_tensor(x, shape=(n, h * m[3], w * m[5], c), source=g.tensors[r2.outputs[0]].source)
        rows, cols = (tuple(int(i) for i in np.arange(size * k) // k) for size, k in ((h, m[3]), (w, m[5])))
        at = g.nodes.index(r1)
        for old in (r1, t, r2):
            g.nodes.remove(old)
        g.nodes[at:at] = [Node("transpose", [x.name], [u.name], {"perm": (0, 2, 3, 1)}, t.name),
                          Node("resize_nearest", [u.name], [v.name], {"rows": rows, "cols": cols}, t.name),
                          Node("transpose", [v.name], list(r2.outputs), {"perm": (0, 3, 1, 2)}, t.name)]


def _sole_successor(g, node, op, shape):
    """The one node reading `node`'s output if it is an `op` (and that output has `shape`), else None."""
    y = node.outputs[0]
    readers = g.consumers(y)
    if y in g.outputs or len(readers) != 1 or readers[0].op != op or (shape and g.tensors[y].shape != shape):
        return None
    return readers[0]


def _constant_read_by(g, p, n):
    """Whether p is a constant node (an ONNX initializer operand) that only n reads."""
    return p.op == "constant" and "value" in p.attrs and _sole_reader(g, p.outputs[0], n)


def _transpose_constant(g, p, perm):
    """A constant operand in the layout of the transposed operands beside it: its value (ranks aligned on the
    trailing axes, as broadcasting aligns them) transposed by perm, written to a new tensor. Returns its name."""
    v = p.attrs["value"]
    v = np.ascontiguousarray(v.reshape((1,) * (len(perm) - v.ndim) + v.shape).transpose(perm))
    t = g.new_tensor(g.tensors[p.outputs[0]], shape=v.shape)
    p.attrs, p.outputs = dict(p.attrs, value=v), [t.name]
    return t.name


def _merge_duplicate_transposes(g):
    """Two transposes of one tensor by one perm (an NCHW input read by two convolutions): the first serves both."""
    seen = {}
    for n in list(g.nodes):
        if n.op != "transpose":
            continue
        key = (n.inputs[0], n.attrs["perm"])
        if key in seen and n.outputs[0] not in g.outputs:
            g.rename_uses(n.outputs[0], seen[key])
            g.nodes.remove(n)
        else:
            seen.setdefault(key, n.outputs[0])


def _swap_with_transpose(g, i, n, t, new_inputs):
    """op(transpose(x)) -> transpose(op(x)): the op is rewritten in x's layout."""
    perm = t.attrs["perm"]
    x, y = g.tensors[new_inputs[0]], g.tensors[n.outputs[0]]
    u = g.new_tensor(x, shape=tuple(y.shape[j] for j in _inverse(perm)), source=y.source)  # y in x's layout
    attrs = dict(n.attrs)
    if n.op == "concat":
        attrs["axis"] = perm[attrs["axis"]]
    if n.op == "pad":  # x's axis i is the transposed axis inverse[i]
        attrs["pads"] = tuple(attrs["pads"][j] for j in _inverse(perm))
    if n.op in COPIES:  # per-axis attributes: x's axis i is the transposed axis inverse[i]
        attrs.update(ops.get(n.op).permuted(attrs, perm))
    if n.op in CONSTANT_ATTR:
        v = attrs[CONSTANT_ATTR[n.op]]
        v = v.reshape((1,) * (len(perm) - v.ndim) + v.shape)
        attrs[CONSTANT_ATTR[n.op]] = np.ascontiguousarray(v.transpose(_inverse(perm)))
    g.nodes.insert(i, Node(n.op, new_inputs, [u.name], attrs, n.name))
    n.op, n.inputs, n.attrs = "transpose", [u.name], {"perm": perm}


def _mean_before_transpose(g, i, n, t):
    """mean(transpose(x, perm), axes) -> transpose(mean(x, perm[axes]), perm of the axes that remain); likewise
    reduce_max."""
    perm, axes = t.attrs["perm"], n.attrs["axes"]
    x = g.tensors[t.inputs[0]]
    attrs = dict(n.attrs, axes=tuple(sorted(perm[a] for a in axes)))
    u = g.new_tensor(x, shape=ops.get(n.op).output_shape(attrs, [x.shape]), source=g.tensors[n.outputs[0]].source)
    g.nodes.insert(i, Node(n.op, [x.name], [u.name], attrs, n.name))
    if not attrs["keep_dims"]:
        remaining = [a for a in range(len(perm)) if a not in attrs["axes"]]  # u's axes, in x's order
        perm = tuple(remaining.index(perm[j]) for j in range(len(perm)) if j not in axes)
    n.op, n.inputs, n.attrs = "transpose", [u.name], {"perm": tuple(perm)}


def _hard_sigmoids(g):
    """x * hard_sigmoid(x) with alpha 1/6, beta 1/2 (the sigmoid read by that Mul alone) is hard_swish(x); any
    other hard_sigmoid is alpha * x + beta clamped to [0, 1]: a scale_mul, a bias_add and a clamp, which fold into
    the layer before them like any others, or run as a mul, an add and a relu."""
    for h in [n for n in g.nodes if n.op == "hard_sigmoid"]:
        x, y = h.inputs[0], h.outputs[0]
        readers = g.consumers(y)
        m = readers[0] if len(readers) == 1 and y not in g.outputs else None
        if (m is not None and m.op == "mul" and sorted(m.inputs) == sorted([x, y])
                and abs(h.attrs["alpha"] - 1 / 6) < 1e-6 and h.attrs["beta"] == 0.5):
            m.op, m.inputs, m.attrs = "hard_swish", [x], {}
            g.nodes.remove(h)
            continue
        i = g.nodes.index(h)
        scaled, shifted = (g.new_tensor(g.tensors[y], source=g.tensors[y].source) for _ in range(2))
        g.nodes[i:i + 1] = [Node("scale_mul", [x], [scaled.name], {"value": np.float32([h.attrs["alpha"]])}, h.name),
                            Node("bias_add", [scaled.name], [shifted.name], {"value": np.float32([h.attrs["beta"]])},
                                 h.name),
                            Node("clamp", [shifted.name], [y], {"lo": 0.0, "hi": 1.0}, h.name)]


def _unit_axes_only(a, b):
    """Whether reshaping shape a to b only inserts or removes size-1 axes (a Squeeze or Unsqueeze)."""
    return [d for d in a if d != 1] == [d for d in b if d != 1] and tuple(a) != tuple(b)


def _unit_reshape_before_transpose(g, i, n, t):
    """reshape(transpose(x, perm)) that only adds or drops 1s -> transpose(reshape(x), perm'): the output's 1s
    first, then x's other axes in x's order; perm' puts each where the output has it (else the exporters'
    Squeeze / Unsqueeze around 1-D layers keep the layout transposes from meeting and cancelling)."""
    x, y = g.tensors[t.inputs[0]], g.tensors[n.outputs[0]]
    kept = [a for a in range(len(x.shape)) if x.shape[a] != 1]
    order = [t.attrs["perm"][j] for j in range(len(t.attrs["perm"])) if x.shape[t.attrs["perm"][j]] != 1]
    ones = len(y.shape) - len(kept)
    units, nonunit, perm = iter(range(ones)), iter(order), []
    for d in y.shape:
        perm.append(ones + kept.index(next(nonunit)) if d != 1 else next(units))
    u = g.new_tensor(x, shape=(1,) * ones + tuple(x.shape[a] for a in kept), source=y.source)
    u.scale, u.zero_point = x.scale, x.zero_point  # an alias of x
    g.nodes.insert(i, Node("reshape", [x.name], [u.name], {"shape": u.shape}, n.name))
    n.op, n.inputs, n.attrs = "transpose", [u.name], {"perm": tuple(perm)}


def _clamps_above_aliases(g):
    """clamp(reshape(x)) -> reshape(clamp(x)) when the clamp is the alias's sole reader: the clamp then meets the
    layer that produced x and fuses into it (a Relu after a Conv1d's Squeeze)."""
    for n in g.nodes:
        p = g.producer(n.inputs[0]) if n.op == "clamp" else None
        if p is not None and p.op == "reshape" and _sole_reader(g, n.inputs[0], n):
            u = g.new_tensor(g.tensors[p.inputs[0]], source=g.tensors[n.outputs[0]].source)
            clamp = n.attrs
            n.op, n.inputs, n.attrs = "reshape", [u.name], {"shape": g.tensors[n.outputs[0]].shape}
            p.op, p.attrs, p.outputs = "clamp", clamp, [u.name]
            p.name, n.name = n.name, p.name


def _per_channel(value, channels):
    """A constant as one value per channel (the last axis), or None when it is not one (a scalar broadcasts)."""
    if value.size not in (1, channels) or (value.size > 1 and value.shape[-1] != channels):
        return None
    return np.broadcast_to(value.reshape(-1), (channels,))


def _fold_into_producers(g):
    """bias_add, scale_mul (a per-channel Mul by a constant), batchnorm and clamp fold into the op that produced
    their input when nobody else reads it."""
    for n in list(g.nodes):
        p = g.producer(n.inputs[0]) if n.inputs else None  # (a constant has no input)
        if p is None or not _sole_reader(g, n.inputs[0], n):
            continue
        channels = g.tensors[n.outputs[0]].shape[-1]
        if n.op in ("bias_add", "scale_mul") and p.op in FUSES_BIAS and not p.attrs.get("act"):
            v = _per_channel(n.attrs["value"], channels)
            if v is None:
                continue  # not a per-channel bias or scale
            if n.op == "bias_add":
                p.attrs["bias"] = (p.attrs["bias"] + v).astype(np.float32)
            else:  # y * v = (W x + b) * v: each output channel's weights and bias scaled
                shape = [1] * p.attrs["weight"].ndim
                shape[2 if p.op == "depthwise_conv2d" else 0] = -1
                p.attrs["weight"] = (p.attrs["weight"] * v.reshape(shape)).astype(np.float32)
                p.attrs["bias"] = (p.attrs["bias"] * v).astype(np.float32)
        elif n.op == "batchnorm" and p.op in CONVS and not p.attrs.get("act"):
            scale, shift = n.attrs["scale"], n.attrs["shift"]
            axis = 0 if p.op == "conv2d" else 2
            shape = [1] * p.attrs["weight"].ndim
            shape[axis] = -1
            p.attrs["weight"] = (p.attrs["weight"] * scale.reshape(shape)).astype(np.float32)
            p.attrs["bias"] = (p.attrs["bias"] * scale + shift).astype(np.float32)
        elif n.op == "clamp" and p.op in FUSES_CLAMP:
            lo, hi = p.attrs.get("act") or (-np.inf, np.inf)
            p.attrs["act"] = (max(lo, n.attrs["lo"]), min(hi, n.attrs["hi"]))
        else:
            continue
        p.outputs = list(n.outputs)  # the producer now writes the folded node's output directly
        g.nodes.remove(n)


def _pads_zero(g, pad):
    """Whether a pad fills with zero (the value 0.0, or in a quantized file the input's zero point)."""
    if "fill" in pad.attrs:
        return pad.attrs["fill"] == g.tensors[pad.inputs[0]].zero_point
    return pad.attrs["value"] == 0.0


def _never_negative(g, tensor):
    """Whether a tensor's values are >= 0 by construction: its producer clamps at a bound >= 0."""
    p = g.producer(tensor)
    act = None if p is None else p.attrs.get("act") if p.op != "clamp" else (p.attrs["lo"], p.attrs["hi"])
    return act is not None and act[0] >= 0


def _pads_below_unit_reshapes(g):
    """reshape(pad(x)) where the reshape only adds or drops 1s -> pad'(reshape(x)): a 1-D layer's causal or same
    padding (PAD, then EXPAND_DIMS / Unsqueeze to H = 1, then the conv) then meets its convolution and folds."""
    for q in list(g.nodes):
        readers = g.consumers(q.outputs[0]) if q.op == "pad" else []
        r = readers[0] if len(readers) == 1 and readers[0].op == "reshape" else None
        if r is None or q.outputs[0] in g.outputs:
            continue
        padded, y = g.tensors[q.outputs[0]].shape, g.tensors[r.outputs[0]].shape
        if not _unit_axes_only(padded, y):
            continue
        x = g.tensors[q.inputs[0]]
        src = iter(a for a in range(len(padded)) if padded[a] != 1)
        axes = [next(src) if d != 1 else None for d in y]  # the padded axis each output axis is (None: a 1)
        u = g.new_tensor(x, shape=tuple(1 if a is None else x.shape[a] for a in axes), source=x.source)
        u.scale, u.zero_point = x.scale, x.zero_point  # an alias of x (a quantized file's tensors have them)
        pads = tuple((0, 0) if a is None else tuple(q.attrs["pads"][a]) for a in axes)
        out = r.outputs[0]
        r.inputs, r.outputs, r.attrs = [x.name], [u.name], {"shape": u.shape}
        q.inputs, q.outputs, q.attrs = [u.name], [out], dict(q.attrs, pads=pads)
        g.nodes.remove(r)
        g.nodes.insert(g.nodes.index(q), r)
    g.remove_dead()


def _fold_pads_into_convolutions(g):
    """A zero pad of H and W only, before a convolution (read by it alone), becomes the convolution's padding;
    before a max pool too when the padded values are never negative (a zero then never wins over an input
    tap, and the pool skips padding) and no window lies in the padding alone. A layout transpose between the
    two (an NCHW Pad, then the op's NHWC transpose) moves above the pad first. Average pools count padding
    differently (ONNX's Pad counts its zeros): they keep the pad."""
    for n in list(g.nodes):
        if n.op not in CONVS + ("max_pool",):
            continue
        t = g.producer(n.inputs[0])
        if t is not None and t.op == "transpose" and _sole_reader(g, n.inputs[0], n):
            q = g.producer(t.inputs[0])
            if q is not None and q.op == "pad" and _sole_reader(g, t.inputs[0], t):
                perm = t.attrs["perm"]  # transpose(pad(x)) -> pad'(transpose(x))
                x = g.tensors[q.inputs[0]]
                u = g.new_tensor(x, shape=tuple(x.shape[p] for p in perm), source=x.source)
                t.inputs, t.outputs, q.inputs, q.outputs = [x.name], [u.name], [u.name], [n.inputs[0]]
                q.attrs = dict(q.attrs, pads=tuple(q.attrs["pads"][p] for p in perm))
                g.nodes.remove(q)
                g.nodes.insert(g.nodes.index(n), q)
        q = g.producer(n.inputs[0])
        if q is None or q.op != "pad" or not _sole_reader(g, n.inputs[0], n) or not _pads_zero(g, q):
            continue
        pads = q.attrs["pads"]
        if len(pads) != 4 or any(pads[a] != (0, 0) for a in (0, 3)):
            continue
        if n.op == "max_pool" and (not _never_negative(g, q.inputs[0]) or
                                   any(p >= k for k, (b, e) in zip(n.attrs["kernel"], pads[1:3]) for p in (b, e))):
            continue
        top, left, bottom, right = n.attrs["pads"]
        n.attrs["pads"] = (top + pads[1][0], left + pads[2][0], bottom + pads[1][1], right + pads[2][1])
        n.inputs = [q.inputs[0]]
    g.remove_dead()


def _unfolded_constants_to_operands(g):
    """A constant Add / Mul that folded into no layer becomes an add / mul of two tensors, the second one a
    constant node (copied into the arena from flash)."""
    for n in list(g.nodes):
        if n.op in ("bias_add", "scale_mul"):
            value = np.asarray(n.attrs["value"], np.float32)
            t = g.new_tensor(g.tensors[n.inputs[0]], shape=value.shape or (1,), source=f"constant of {n.name}")
            g.nodes.insert(g.nodes.index(n), Node("constant", [], [t.name], {"value": value.reshape(t.shape)}, n.name))
            n.op, n.inputs, n.attrs = ("add" if n.op == "bias_add" else "mul"), [n.inputs[0], t.name], {}


def _standalone_clamps_to_relu(g):
    """A clamp with no producer to fuse into (a graph input, a tensor read by others too) is a relu op."""
    for n in g.nodes:
        if n.op == "clamp":
            n.op, n.attrs = "relu", {"act": (n.attrs["lo"], n.attrs["hi"])}


def _standalone_batchnorm_to_depthwise(g):
    """A BatchNormalization with no convolution before it is a 1x1 depthwise convolution. Returns whether any."""
    found = False
    for n in g.nodes:
        if n.op == "batchnorm":
            found = True
            n.op = "depthwise_conv2d"
            n.attrs = dict(weight=n.attrs["scale"].reshape(1, 1, -1), bias=n.attrs["shift"], kernel=(1, 1),
                           strides=(1, 1), dilations=(1, 1), pads=(0, 0, 0, 0), depth_multiplier=1)
    return found


def _fold_transpose_into_fully_connected(g):
    """transpose -> flatten -> fully_connected (PyTorch's Flatten of an NCHW map): permute the weights instead."""
    for t in list(g.nodes):
        if t.op != "transpose" or len(g.consumers(t.outputs[0])) != 1:
            continue
        r = g.consumers(t.outputs[0])[0]
        readers = g.consumers(r.outputs[0])
        if (r.op != "reshape" or t.outputs[0] in g.outputs or r.outputs[0] in g.outputs or not readers
                or any(f.op != "fully_connected" for f in readers)):
            continue
        x = g.tensors[t.inputs[0]]
        if g.tensors[r.outputs[0]].shape[-1] != x.size:
            continue
        order = np.arange(x.size).reshape(x.shape).transpose(t.attrs["perm"]).ravel()
        for f in readers:
            w = np.empty_like(f.attrs["weight"])
            w[:, order] = f.attrs["weight"]
            f.attrs["weight"] = w
        r.inputs = [t.inputs[0]]


def _layout_only_transposes_to_aliases(g):
    """A transpose that moves only size-1 axes keeps the byte order: it is an alias."""
    for n in g.nodes:
        if n.op == "transpose":
            shape = g.tensors[n.inputs[0]].shape
            moved = [p for p in n.attrs["perm"] if shape[p] != 1]
            if moved == sorted(moved):
                n.op, n.attrs = "reshape", {"shape": g.tensors[n.outputs[0]].shape}


def _drop_noop_aliases(g):
    """Chains of aliases read their root directly; an alias that changes nothing goes (unless it names an output)."""
    for n in list(g.nodes):
        if n.op != "reshape":
            continue
        p = g.producer(n.inputs[0])
        if p is not None and p.op == "reshape":
            n.inputs = [p.inputs[0]]
        if g.tensors[n.inputs[0]].shape == g.tensors[n.outputs[0]].shape and n.outputs[0] not in g.outputs:
            g.rename_uses(n.outputs[0], n.inputs[0])
            g.nodes.remove(n)


def _pieces_of_concats(g):
    """A slice or gather that copies exactly one input of a concat (through aliases: the bytes of the concat's
    output that the input filled) reads that input instead, as an alias: torch's y[:, -1, :] of an LSTM's Y,
    the concatenation of every step's state, needs only the last step's, and the concat then goes."""
    for n in list(g.nodes):
        if n.op not in COPIES[:2] or n.outputs[0] in g.outputs:
            continue
        src = n.inputs[0]
        while g.producer(src) is not None and g.producer(src).op == "reshape":
            src = g.producer(src).inputs[0]
        cat = g.producer(src)
        if cat is None or cat.op != "concat" or np.prod(g.tensors[src].shape[:cat.attrs["axis"]]) != 1:
            continue  # each input's bytes are one run of the output only when no axis before the concat's counts
        x = g.tensors[n.inputs[0]]
        picked = ops.get(n.op).float_ref(n.attrs, np.arange(x.size, dtype=np.float64).reshape((1,) + x.shape))
        picked = picked.reshape(-1).astype(np.int64)
        start = 0
        for piece in cat.inputs:
            size = g.tensors[piece].size
            if picked.size == size and np.array_equal(picked, np.arange(start, start + size)):
                n.op, n.inputs, n.attrs = "reshape", [piece], {"shape": g.tensors[n.outputs[0]].shape}
                break
            start += size
    g.remove_dead()


def make_stateful(graph):
    """--stateful: each recurrent state is kept from one invoke to the next, as TFLM's variable tensors are.
    ONNX (graph.states: initial, final): the initial state becomes a persistent tensor (zeros where the model
    starts from a constant, or from a graph input, which leaves the C API); a copy at the end of the invoke writes
    the final state into it, tied to its quantization so that the copy is exact. TFLite's SVDF and LSTM, whose
    kernels keep their state inside the node: the state (the op's state_tensors, TFLM's variable tensors) become
    persistent tensors the node reads after its input and updates in place. Zero before the first invoke and
    after <name>_reset_state(). Returns a new graph."""
    g = graph.copy()
    inside = [n for n in g.nodes if getattr(ops.get(n.op), "STATE_ARGS", 0)]
    for n in inside:
        for source, dtype, scale, zero_point, shape in ops.get(n.op).state_tensors(n.attrs, g.tensors[n.inputs[0]]):
            t = g.new_tensor(g.tensors[n.inputs[0]], shape, source=source)
            t.dtype, t.scale, t.zero_point, t.persistent = dtype, scale, zero_point, True
            n.inputs.append(t.name)
    if not g.states and not inside:
        raise ConversionError(f"{g.source}: --stateful: the model has no recurrent state (LSTM, GRU, RNN or SVDF)")
    for k, (init, final) in enumerate(g.states):
        p = g.producer(init)
        src = g.tensors[init].source
        if final not in g.tensors or (p is not None and p.op not in ("constant", "slice")) or \
                (p is not None and p.op == "slice" and p.inputs[0] not in g.inputs):
            raise ConversionError(f"{g.source}: --stateful: the state '{src}' is computed by the model (only "
                                  "states that start from zeros, a constant or a model input are kept)")
        if p is not None and p.op == "constant" and np.any(np.asarray(p.attrs.get("value", p.attrs.get("data")))):
            raise ConversionError(f"{g.source}: --stateful: the state '{src}' starts from a constant that is not "
                                  "zero; the kept state starts from zero (after <name>_reset_state)")
        if p is not None:
            g.nodes.remove(p)
            if p.op == "slice" and not g.consumers(p.inputs[0]):
                g.inputs.remove(p.inputs[0])  # the model's state input: the arena holds it now
                del g.tensors[p.inputs[0]]
        t, f = g.tensors[init], g.tensors[final]
        t.persistent, t.tie = True, f.tie or f"state {k}"
        f.tie = t.tie
        g.nodes.append(Node("slice", [final], [init], dict(begin=(0,) * len(t.shape), size=tuple(t.shape),
                                                            step=(1,) * len(t.shape)), f"keep the state '{src}'"))
    if not g.inputs:
        raise ConversionError(f"{g.source}: --stateful: no input is left once the states are kept")
    return g
