"""ONNX Loop unrolled at import, before shape inference: the generated code is straight-line, so a loop whose
length and condition are constants becomes its iterations one after the other (tf2onnx writes Keras 3's
recurrent layers with unroll=False as a Loop: a counter, the state h (and c) and the weights carried, x_t read by
Gather(X, counter), h of each step as a scan output).

- The trip count M must be a constant (an initializer, or constant arithmetic on initializers: evaluated here),
  the initial condition absent or constant; the body's condition output must be a constant at every iteration
  (the counters it compares are), else the Loop is refused in one line naming it: a loop of data-dependent length
  cannot be straight-line code. A constant false condition stops the loop after that iteration, as ONNX says
  (the scan outputs then have that many steps; tf2onnx's while loops have M = 2^63 - 1 and end so). More than
  MAX_ITERATIONS iterations are refused likewise.
- Each iteration copies the body's nodes with fresh tensor names; the iteration number is a constant, the cond
  input true, the loop-carried inputs are the previous iteration's outputs (the first iteration's the Loop's
  inputs). Names the body reads from the enclosing graph stay as they are.
- Loop-invariant work is not copied: a carried value the body passes through unchanged (the weights) is the one
  outer tensor at every iteration, and a body node whose inputs are all invariant (a Split of the bias, a
  Squeeze of a weight) runs once, before the first iteration; so the weight bytes do not grow with the length.
- Control arithmetic on constants (the counters, their casts and comparisons: CONTROL_OPS on small inputs) is
  evaluated here with onnx's reference implementation and becomes initializers; everything else is left to
  fold_constants and the importer.
- Final carried values are the Loop's first outputs (an Identity of the last iteration's), scan outputs are each
  iteration's value stacked on a new axis 0 (Unsqueeze + Concat: a slice of the last step reads that step's
  tensor, passes._pieces_of_concats). Nodes whose outputs nobody reads are not written.
- Calibration: the copies of one body tensor at every iteration share one tie group (ir.Tensor.tie, through the
  `ties` map the importer reads), as the ONNX LSTM / GRU unroller ties each role of the cell: one range per role,
  not per step, so every step has the same integers and the emitter keeps one array of each.
- An If on a condition that is a constant at that iteration becomes its branch's nodes. Any other Loop, If or
  Scan inside a body that depends on the iteration is refused in one line naming it; one that does not is
  hoisted out like any invariant node (and a hoisted Loop is unrolled in turn).
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper

from .onnx_passes import _array, _copy, _drop_unused_initializers, opset_of

MAX_ITERATIONS = 4096
MAX_NODES = 1 << 17  # the unrolled graph: far beyond any model a microcontroller runs
CONTROL_OPS = {"Add", "Sub", "Mul", "Div", "Mod", "Neg", "Abs", "Min", "Max", "Less", "LessOrEqual", "Greater",
               "GreaterOrEqual", "Equal", "Not", "And", "Or", "Xor", "Where", "Cast", "Identity", "Squeeze",
               "Unsqueeze", "Reshape", "Shape", "Size", "Gather", "Slice", "Concat"}  # outputs bounded by inputs
CONTROL_LIMIT = 4096  # elements of each input of a control op evaluated here (the counters are scalars)


def _shown(name, limit=60):
    from .frontend import shown  # the frontend imports this module
    return shown(name, limit)


def _subgraphs(node):
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            yield a.g
        elif a.type == onnx.AttributeProto.GRAPHS:
            yield from a.graphs


def subgraph_reads(node):
    """The names a node's subgraphs (a Loop's body, an If's branches) read from the enclosing graph: the node's
    implicit inputs."""
    reads = set()
    for g in _subgraphs(node):
        inner = {o.name for o in g.output}
        for n in g.node:
            inner |= {i for i in n.input if i} | subgraph_reads(n)
        defined = {i.name for i in g.input} | {i.name for i in g.initializer} | {o for n in g.node for o in n.output}
        reads |= inner - defined
    return reads


def reads(node):
    return {i for i in node.input if i} | subgraph_reads(node)


def unroll(model, fail):
    """Every Loop of the model's graph -> straight-line nodes (see the module's docstring). fail(node, message)
    raises the caller's error. Returns (model, ties): ties maps tensor names of the new graph to tie groups."""
    if not any(n.op_type == "Loop" for n in model.graph.node):
        return model, {}
    model = _copy(model)
    g, ties = model.graph, {}
    count = 0
    while True:
        nodes = list(g.node)
        k = next((k for k, n in enumerate(nodes) if n.op_type == "Loop" and n.domain in ("", "ai.onnx")), None)
        if k is None:
            break
        made = _Unroller(model, nodes[k], count, fail, ties).run()
        del g.node[:]
        g.node.extend(nodes[:k] + made + nodes[k + 1:])
        count += 1
    _drop_unused_initializers(model)
    return model, ties


class _Unroller:
    def __init__(self, model, loop, count, fail, ties):
        self.model, self.loop, self.fail, self.ties = model, loop, fail, ties
        g = model.graph
        self.opset = opset_of(model)
        self.inits = {i.name: i for i in g.initializer}
        self.producer = {o: n for n in g.node for o in n.output if o}
        self.taken = set(self.inits) | {i.name for i in g.input} | set(self.producer)
        self.defined = set(self.taken)  # what a body may read from outside
        self.values, self.evaluators = {}, {}
        self.new_inits, self.nodes = [], []
        self.label = loop.name or loop.output[0]
        self.key = f"{self.label}#{count}"

    # -- names and constants ---------------------------------------------------------------------------------------
    def fresh(self, base):
        name, k = base, 1
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        return name

    def constant(self, base, value):
        name = self.fresh(base)
        value = np.asarray(value)
        self.new_inits.append(numpy_helper.from_array(value, name))
        self.values[name] = value
        return name

    def value(self, name):
        """The constant value of an outer tensor (an initializer, or control arithmetic on them), else None."""
        if name not in self.values:
            if name in self.inits:  # only small ones are read (the sizes are checked after unrolling)
                small = int(np.prod(list(self.inits[name].dims), dtype=object)) <= CONTROL_LIMIT
                self.values[name] = _array(self.inits[name]) if small else None
            elif name in self.producer and self.producer[name].op_type != "Loop":
                p = self.producer[name]
                out = self.evaluate(p, list(p.input))
                for o, v in zip(p.output, out or []):
                    self.values[o] = v
            self.values.setdefault(name, None)  # not a constant: not tried again
        return self.values[name]

    def evaluate(self, node, inputs):
        """node's outputs on the constants named `inputs` (its inputs renamed), if it is control arithmetic on
        small constants; else None."""
        if node.op_type not in CONTROL_OPS or node.domain not in ("", "ai.onnx"):
            return None
        feeds = {}
        for original, name in zip(node.input, inputs):
            if original:
                v = self.value(name)
                if v is None or v.size > CONTROL_LIMIT:
                    return None
                feeds[original] = v
        try:
            if id(node) not in self.evaluators:
                from onnx.reference import ReferenceEvaluator
                self.evaluators[id(node)] = ReferenceEvaluator(node, opsets={"": self.opset})
            return [np.asarray(v) for v in self.evaluators[id(node)].run(None, feeds)]
        except Exception:  # noqa: BLE001 (an input the op refuses: left to the importer, which names it)
            return None

    def body_node_fail(self, node, message):
        self.fail(self.loop, f"body node '{_shown(node.name or node.output[0])}' ({_shown(node.op_type, 30)}): "
                             f"{message}")

    # -- the walk ------------------------------------------------------------------------------------------------
    def run(self):
        loop, fail = self.loop, self.fail
        body = next((a.g for a in loop.attribute if a.name == "body" and a.type == onnx.AttributeProto.GRAPH), None)
        if body is None:
            fail(loop, "has no body graph")
        carried = len(body.input) - 2
        scans = len(body.output) - 1 - carried
        if carried < 0 or scans < 0 or len(loop.input) != 2 + carried or len(loop.output) > carried + scans:
            fail(loop, f"{len(loop.input)} inputs, {len(loop.output)} outputs and a body of {len(body.input)} "
                       f"inputs and {len(body.output)} outputs do not fit together")
        if any(not name for name in loop.input[2:]):
            fail(loop, "a loop-carried input is missing")
        trip = self.trip_count()
        running = True
        if loop.input[1]:
            c = self.value(loop.input[1])
            if c is None or c.size != 1:
                fail(loop, "the initial condition is not a constant: a data-dependent loop cannot be straight-line "
                           "code")
            running = bool(c.reshape(-1)[0])
        order = self.sorted_body(body)
        env, invariant, hoisted = self.hoist(body, order, carried)
        order = [n for n in order if id(n) not in hoisted]
        bindings = [loop.input[2 + j] for j in range(carried)]
        stacked = [[] for _ in range(scans)]
        true = None
        i = 0
        while running and (trip is None or i < trip):
            if i == MAX_ITERATIONS:
                fail(loop, f"runs more than {MAX_ITERATIONS} iterations (the limit of an unrolled loop)")
            if len(self.nodes) + len(self.model.graph.node) > MAX_NODES:
                fail(loop, f"unrolled, the graph would have more than {MAX_NODES} nodes")
            true = true or self.constant(f"{self.label}/true", np.array(True))
            step = dict(env)
            step[body.input[0].name] = self.constant(f"{self.label}/{i}/iteration", np.array(i, np.int64))
            step[body.input[1].name] = true
            for j in range(carried):
                if j not in invariant:
                    step[body.input[2 + j].name] = bindings[j]
            self.iteration(i, order, step)
            outs = [step.get(o.name, o.name) for o in body.output]
            cond = self.value(outs[0])
            if cond is None or cond.size != 1:
                fail(loop, f"its condition output is not a constant at iteration {i}: a data-dependent loop cannot "
                           "be straight-line code")
            bindings = outs[1:1 + carried]
            for s in range(scans):
                stacked[s].append(outs[1 + carried + s])
            running = bool(cond.reshape(-1)[0])
            i += 1
        self.results(body, bindings, stacked, carried, i)
        return self.prune()

    def trip_count(self):
        if not self.loop.input[0]:
            return None
        m = self.value(self.loop.input[0])
        if m is None or m.size != 1 or m.dtype.kind not in "iu":
            self.fail(self.loop, "the trip count M is not a constant: a loop of data-dependent length cannot be "
                                 "straight-line code")
        return max(int(m.reshape(-1)[0]), 0)  # tf2onnx's while loops: M = 2^63 - 1, the condition ends them

    def sorted_body(self, body, scope=()):
        """The nodes of a body (or an If's branch, inside the body names `scope`) in an order that computes
        (ONNX requires it; checked, not assumed)."""
        available = {i.name for i in body.input} | {i.name for i in body.initializer} | self.defined | set(scope)
        pending, order = list(body.node), []
        while pending:
            ready = [n for n in pending if reads(n) <= available]
            if not ready:
                n = pending[0]
                missing = sorted(reads(n) - available - {o for p in pending for o in p.output})
                self.body_node_fail(n, f"reads '{_shown(missing[0])}', which is defined nowhere" if missing
                                    else "is part of a cycle")
            ids = {id(n) for n in ready}
            available.update(o for n in ready for o in n.output if o)
            order += ready
            pending = [n for n in pending if id(n) not in ids]
        return order

    def hoist(self, body, order, carried):
        """The body names that are the same at every iteration -> their outer names; loop-invariant nodes are
        written once here. Returns (that map, the indices of carried values passed through unchanged, the ids of
        the nodes written)."""
        env = {}
        self.move_initializers(body, env, self.label)
        producer = {o: n for n in order for o in n.output if o}
        invariant = set()
        for j in range(carried):
            name, out = body.input[2 + j].name, body.output[1 + j].name
            while out in producer and producer[out].op_type == "Identity":  # tf2onnx passes some through one
                out = producer[out].input[0]
            if out == name:
                invariant.add(j)
                env[name] = self.loop.input[2 + j]
        variant = {body.input[0].name, body.input[1].name} | {body.input[2 + j].name for j in range(carried)
                                                              if j not in invariant}
        hoisted = set()
        for node in order:
            if reads(node) & variant:
                variant.update(o for o in node.output if o)
                continue
            self.step(node, env, self.label, tie=None)
            hoisted.add(id(node))
        return env, invariant, hoisted

    def move_initializers(self, graph, env, prefix):
        """A body's (or branch's) initializers join the outer graph under fresh names, read only when small."""
        for init in graph.initializer:
            moved = onnx.TensorProto()
            moved.CopyFrom(init)
            moved.name = env[init.name] = self.fresh(f"{prefix}/{init.name}")
            self.new_inits.append(moved)
            self.inits[moved.name] = moved

    def iteration(self, i, order, env):
        for node in order:
            self.step(node, env, f"{self.label}/{i}", tie=self.key)

    def step(self, node, env, prefix, tie):
        """One body node under `prefix`: an If on a constant condition as the nodes of its branch; another node
        with a subgraph refused if it depends on the iteration (tie: per-iteration copies), else kept whole."""
        cond = self.value(env.get(node.input[0], node.input[0])) if node.op_type == "If" and node.input else None
        if cond is not None and cond.size == 1:
            branch = next((a.g for a in node.attribute if a.name == ("then_branch" if cond.reshape(-1)[0] else
                                                                    "else_branch")), None)
            if branch is None or len(branch.output) != len(node.output):
                self.body_node_fail(node, "its branches do not fit its outputs")
            inner = f"{prefix}/{node.name or node.output[0]}"
            self.move_initializers(branch, env, inner)
            for n in self.sorted_body(branch, env):
                self.step(n, env, inner, tie)
            env.update((o, env.get(b.name, b.name)) for o, b in zip(node.output, branch.output) if o)
            return
        if tie is not None and any(True for _ in _subgraphs(node)):
            self.body_node_fail(node, "a Loop, If or Scan that depends on the iteration is not supported (nested "
                                      "control flow; an If on a constant condition is its branch)")
        self.copy(node, env, prefix, tie)

    def copy(self, node, env, prefix, tie):
        """One body node into the outer graph under `prefix`: evaluated to initializers if it is control
        arithmetic on constants, else copied with its tensors renamed (and tied to their body tensor's group)."""
        inputs = [env.get(x, x) if x else "" for x in node.input]
        outputs = [self.fresh(f"{prefix}/{o}") if o else "" for o in node.output]
        env.update((o, n) for o, n in zip(node.output, outputs) if o)
        values = self.evaluate(node, inputs)
        if values is not None and len(values) == len(outputs):
            for name, v in zip(outputs, values):
                if name:
                    self.new_inits.append(numpy_helper.from_array(v, name))
                    self.values[name] = v
            return
        made = onnx.NodeProto()
        made.CopyFrom(node)
        made.input[:] = inputs
        made.output[:] = outputs
        made.name = f"{prefix}/{node.name or node.output[0]}"
        self.nodes.append(made)
        if tie is not None:
            self.ties.update((n, f"{tie}/{o}") for o, n in zip(node.output, outputs) if o)

    def results(self, body, bindings, stacked, carried, iterations):
        """The Loop's outputs: the final carried values, then each scan output's values stacked on axis 0."""
        loop = self.loop
        for j, name in enumerate(loop.output[:carried]):
            if name:
                self.nodes.append(helper.make_node("Identity", [bindings[j]], [name], name=f"{self.label}/{name}"))
                self.tie(name, body.output[1 + j].name)
        axes = None
        for s, name in enumerate(loop.output[carried:]):
            if not name:
                continue
            if not iterations:
                self.fail(loop, f"runs no iteration: its scan output '{_shown(name)}' would be empty")
            scanned = body.output[1 + carried + s].name
            if self.opset >= 13 and axes is None:
                axes = self.constant(f"{self.label}/axis0", np.array([0], np.int64))
            pieces = []
            for i, x in enumerate(stacked[s]):
                piece = self.fresh(f"{self.label}/{i}/{scanned}/stacked")
                attrs = {} if self.opset >= 13 else {"axes": [0]}
                self.nodes.append(helper.make_node("Unsqueeze", [x] + ([axes] if axes else []), [piece],
                                                   name=piece, **attrs))
                self.tie(piece, scanned)
                pieces.append(piece)
            self.nodes.append(helper.make_node("Concat", pieces, [name], name=f"{self.label}/{name}", axis=0))
            self.tie(name, scanned)

    def tie(self, name, body_name):
        self.ties[name] = f"{self.key}/{body_name}"

    def prune(self):
        """The nodes written, without those whose outputs nobody reads; the initializers join the graph."""
        g = self.model.graph
        used = {o.name for o in g.output} | {x for n in g.node if n is not self.loop for x in reads(n)}
        kept = []
        for n in reversed(self.nodes):
            if any(o in used for o in n.output if o):
                kept.append(n)
                used |= reads(n)
        g.initializer.extend(self.new_inits)
        return kept[::-1]
