"""ONNX LSTM, GRU and RNN, unrolled at import into the ops the runtime has: each time step becomes fully
connected, add, sub, mul, logistic and tanh nodes, so that every intermediate is calibrated like any tensor and
the int8, 16x8 and float32 modes need no kernel of their own.

- Each step slices its row x_t of X [T, I] (a copy keeps X's quantization) and has one fully connected node
  per gate for x_t by that gate's block of W (+ W's bias, and R's where it adds outside the reset gate) and one
  for h by that gate's block of R: the same float weights at every step, so the emitter's identical arrays and
  params structs are one symbol. (One projection of all steps at once, [T, I] by W, would hold T x G x H
  values in the arena for the whole sequence; per step it holds G x H.)
- Tie groups (ir.Tensor.tie): each role of the cell (a gate's sum, its activation, the state h, the cell c, the
  products) shares one calibrated range across the steps (and both directions), as TFLite's fused LSTM has one scale
  per gate. Every step then has the same integers: weight bytes and params do not grow with T, and Y (the
  concatenated states, tied to h) is a copy.
- Gate order as ONNX writes them: LSTM i, o, f, c; GRU z, r, h; biases [Wb, Rb]. GRU linear_before_reset 1
  (torch's) applies the reset gate to R h + Rb, 0 to h before R.
- Layout 0 (X [T, B, I]) and 1 ([B, T, I]); forward, reverse, bidirectional; batch 1; initial_h / initial_c
  absent (zeros), constant, or computed (a graph input); sequence_lens absent or all equal to T. The default
  activations only; clip, peepholes (P) and input_forget are refused in one line naming the node.
- graph.states gets (initial state, final state) pairs: with --stateful (passes.make_stateful) the final state
  of one invoke is the initial state of the next.
"""
import numpy as np

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
DEFAULT_ACTIVATIONS = {"LSTM": ("sigmoid", "tanh", "tanh"), "GRU": ("sigmoid", "tanh"), "RNN": ("tanh",)}


def onnx_recurrent(imp, node, a):
    kind = node.op_type
    g_count = GATES[kind]
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    if direction not in ("forward", "reverse", "bidirectional"):
        imp.fail(node, f"direction '{direction}' is not forward, reverse or bidirectional")
    dirs = 2 if direction == "bidirectional" else 1
    acts = [x.decode().lower() if isinstance(x, bytes) else str(x).lower() for x in a.get("activations", [])]
    if acts and acts != list(DEFAULT_ACTIVATIONS[kind]) * dirs:
        imp.fail(node, f"activations {acts} are not supported (only the defaults "
                       f"{list(DEFAULT_ACTIVATIONS[kind]) * dirs}{', once per direction' if dirs == 2 else ''})")
    for attr in ("clip", "input_forget"):
        if a.get(attr):
            imp.fail(node, f"attribute '{attr}' is not supported")
    if kind == "LSTM" and len(node.input) > 7 and node.input[7]:
        imp.fail(node, "peepholes (input P) are not supported")
    layout = a.get("layout", 0)
    x = imp.x(node)
    xs = imp.graph.tensors[x].shape
    if len(xs) != 3:
        imp.fail(node, f"the input X must be 3-D, not {list(xs)}")
    steps, batch, features = (xs[1], xs[0], xs[2]) if layout else (xs[0], xs[1], xs[2])
    if batch != 1:
        imp.fail(node, f"batch {batch}: only batch 1 is supported")
    hidden = a.get("hidden_size")
    w = imp.const(node, node.input[1], "W").astype(np.float32)
    r = imp.const(node, node.input[2], "R").astype(np.float32)
    hidden = hidden or r.shape[-1]
    if w.shape != (dirs, g_count * hidden, features) or r.shape != (dirs, g_count * hidden, hidden):
        imp.fail(node, f"W {list(w.shape)} and R {list(r.shape)} do not fit {dirs} direction(s), hidden size "
                       f"{hidden} and {features} input features")
    b = np.zeros((dirs, 2 * g_count * hidden), np.float32)
    if len(node.input) > 3 and node.input[3]:
        b = imp.const(node, node.input[3], "B").astype(np.float32)
        if b.shape != (dirs, 2 * g_count * hidden):
            imp.fail(node, f"B {list(b.shape)} does not fit {dirs} direction(s) of {g_count} gates of {hidden}")
    if len(node.input) > 4 and node.input[4]:
        lens = np.asarray(imp.const(node, node.input[4], "sequence_lens"))
        if lens.size != 1 or int(lens.reshape(-1)[0]) != steps:
            imp.fail(node, f"sequence_lens must all be the sequence length {steps}")
    states = ["initial_h"] + (["initial_c"] if kind == "LSTM" else [])
    rnn = _Unroller(imp, node, kind, hidden, steps, a.get("linear_before_reset", 0), layout)
    x2d = rnn.tensor((steps, features), "x", None)
    imp.emit("reshape", [x], [x2d], node, shape=(steps, features))
    outs = []  # per direction: ([h of each step, in time order], final h, final c)
    for d in range(dirs):
        initial = [rnn.initial(name, 5 + k, d, dirs) for k, name in enumerate(states)]
        outs.append(rnn.direction(x2d, w[d], r[d], b[d], d, reverse=direction == "reverse" or d == 1,
                                  initial=initial))
    names = [o for o in node.output]
    used = [k < len(names) and names[k] and names[k] in imp.shapes for k in range(3)]
    if used[0]:
        pieces = [outs[d][0][t] for t in range(steps) for d in range(dirs)]
        rnn.gather(pieces, imp.output(node, 0), (steps * dirs, hidden), "Y", "h")
    for k in (1, 2):
        if k < len(names) and names[k] and (kind == "LSTM" or k == 1):
            rnn.gather([outs[d][k] for d in range(dirs)], imp.output(node, k), (dirs, hidden), names[k],
                       "h" if k == 1 else "c")
    for k, name in enumerate(states):  # (initial, final) in the initial tensor's own shape, for --stateful
        for d in range(dirs):
            imp.graph.states.append((rnn.initial_tensors[name][d], outs[d][1 + k]))


class _Unroller:
    def __init__(self, imp, node, kind, hidden, steps, linear_before_reset, layout):
        self.imp, self.node, self.kind, self.hidden, self.steps = imp, node, kind, hidden, steps
        self.lbr, self.layout = linear_before_reset, layout
        self.key = f"{node.name or node.output[0]}#{len(imp.graph.nodes)}"
        self.initial_tensors = {}

    def tensor(self, shape, role, d):
        t = self.imp.new(shape, f"{self.node.name or self.node.output[0]}/{role}")
        if d is not None:
            self.imp.graph.tensors[t].tie = f"{self.key}/{role}"  # both directions too: Y is a copy
        return t

    def emit(self, op, inputs, role, d, **attrs):
        y = self.tensor(attrs.get("shape", (1, self.hidden)) if op == "slice" else (1, self.hidden), role, d)
        self.imp.emit(op, inputs, [y], self.node, **attrs)
        return y

    def initial(self, name, index, d, dirs):
        """The direction's initial state [1, H], tied to the state it starts: zeros when absent, the initializer's
        values, or the d-th slice of a computed tensor."""
        imp, node, role = self.imp, self.node, "h" if name == "initial_h" else "c"
        given = len(node.input) > index and node.input[index]
        if given and node.input[index] not in imp.consts:
            src = imp.x(node, index)
            shape = imp.graph.tensors[src].shape
            if tuple(shape) != ((1, dirs, self.hidden) if self.layout else (dirs, 1, self.hidden)):
                imp.fail(node, f"{name} of shape {list(shape)} does not fit {dirs} direction(s) of {self.hidden}")
            begin = (0, d, 0) if self.layout else (d, 0, 0)
            size = (1, 1, self.hidden)
            y = self.emit("slice", [src], role, d, begin=begin, size=size, step=(1, 1, 1), shape=(1, self.hidden))
        else:
            value = np.zeros((1, self.hidden), np.float32)
            if given:
                v = imp.const(node, node.input[index], name).astype(np.float32)
                if v.size != dirs * self.hidden:
                    imp.fail(node, f"{name} of shape {list(v.shape)} does not fit {dirs} direction(s) of "
                                   f"{self.hidden}")
                value = v.reshape(dirs, self.hidden)[d:d + 1]  # [D, 1, H] or [1, D, H]: batch 1 either way
            y = self.emit("constant", [], role, d, value=np.ascontiguousarray(value, np.float32))
        self.initial_tensors.setdefault(name, []).append(y)
        return y

    def direction(self, x2d, w, r, b, d, reverse, initial):
        """The unrolled steps of one direction. Returns ([h of each step in time order], final h, final c)."""
        g_count, hidden = GATES[self.kind], self.hidden
        wb, rb = b[:g_count * hidden].reshape(g_count, hidden), b[g_count * hidden:].reshape(g_count, hidden)
        # R's bias adds outside the reset gate, except GRU's candidate with linear_before_reset = 1
        inside = [self.kind == "GRU" and self.lbr and g == 2 for g in range(g_count)]
        x_bias = [(wb[g] + (0 if inside[g] else rb[g])).astype(np.float32) for g in range(g_count)]
        x_blocks = [np.ascontiguousarray(w[g * hidden:(g + 1) * hidden]) for g in range(g_count)]
        blocks = [np.ascontiguousarray(r[g * hidden:(g + 1) * hidden]) for g in range(g_count)]
        r_bias = [rb[g].astype(np.float32) if inside[g] else np.zeros(hidden, np.float32) for g in range(g_count)]
        h, c = initial[0], initial[1] if len(initial) > 1 else None
        hs = {}
        for s in range(self.steps):
            t = self.steps - 1 - s if reverse else s
            features = self.imp.graph.tensors[x2d].shape[1]
            xt = self.emit("slice", [x2d], "x", None, begin=(t, 0), size=(1, features), step=(1, 1),
                           shape=(1, features))
            xg = [self.emit("fully_connected", [xt], f"x{g}", d, weight=x_blocks[g], bias=x_bias[g])
                  for g in range(g_count)]
            h, c = getattr(self, self.kind.lower())(xg, blocks, r_bias, h, c, d)
            hs[t] = h
        return [hs[t] for t in range(self.steps)], h, c

    def recurrent(self, x, block, bias, role, d):
        return self.emit("fully_connected", [x], role, d, weight=block, bias=bias)

    def gate(self, xg, blocks, r_bias, h, g, act, d):
        pre = self.emit("add", [xg[g], self.recurrent(h, blocks[g], r_bias[g], f"r{g}", d)], f"pre{g}", d)
        return self.emit(act, [pre], f"gate{g}", d)

    def lstm(self, xg, blocks, r_bias, h, c, d):
        i, o, f = (self.gate(xg, blocks, r_bias, h, g, "logistic", d) for g in range(3))
        cand = self.gate(xg, blocks, r_bias, h, 3, "tanh", d)
        c = self.emit("add", [self.emit("mul", [f, c], "fc", d), self.emit("mul", [i, cand], "ic", d)], "c", d)
        return self.emit("mul", [o, self.emit("tanh", [c], "tanh_c", d)], "h", d), c

    def gru(self, xg, blocks, r_bias, h, c, d):
        z, rg = (self.gate(xg, blocks, r_bias, h, g, "logistic", d) for g in range(2))
        if self.lbr:
            rh = self.emit("mul", [rg, self.recurrent(h, blocks[2], r_bias[2], "r2", d)], "r_rh", d)
        else:
            rh = self.recurrent(self.emit("mul", [rg, h], "r_h", d), blocks[2], r_bias[2], "r2", d)
        n = self.emit("tanh", [self.emit("add", [xg[2], rh], "pre2", d)], "gate2", d)
        # h' = (1 - z) n + z h = n + z (h - n)
        zhn = self.emit("mul", [z, self.emit("sub", [h, n], "h_n", d)], "z_h_n", d)
        return self.emit("add", [n, zhn], "h", d), None

    def rnn(self, xg, blocks, r_bias, h, c, d):
        return self.gate(xg, blocks, r_bias, h, 0, "tanh", d), None

    def gather(self, pieces, out, flat_shape, what, role):
        """pieces [1, H] concatenated into `out` (its ONNX shape): one reshape when there is one piece. The
        concatenation is tied to the state it gathers, so that its int8 form is a copy."""
        imp = self.imp
        if len(pieces) == 1:
            imp.emit("reshape", pieces, [out], self.node, shape=imp.graph.tensors[out].shape)
            return
        flat = self.tensor(flat_shape, what, None)
        ties = {imp.graph.tensors[p].tie for p in pieces}
        imp.graph.tensors[flat].tie = ties.pop() if len(ties) == 1 else None
        imp.emit("concat", pieces, [flat], self.node, axis=0)
        imp.emit("reshape", [flat], [out], self.node, shape=imp.graph.tensors[out].shape)


ONNX = {"LSTM": onnx_recurrent, "GRU": onnx_recurrent, "RNN": onnx_recurrent}
