"""The one IR that flows through load -> canonicalize -> quantize -> plan -> emit.

Activations are graph tensors (planned into the arena); weights and other constants are node attributes
(emitted as const arrays). 4-D feature maps are NHWC with batch 1 from the frontend on.
"""
from dataclasses import dataclass, field, replace


class ConversionError(Exception):
    """Bad or unsupported input: the CLI prints it as one line and exits with status 2."""


@dataclass
class Tensor:
    name: str                       # generator id ("t12"), never a model string
    shape: tuple                    # physical shape
    dtype: str = "float32"          # float32 until quantize; int8 / int16 / uint8 / float32 after
    scale: float = None             # float32 value, set by quantize
    zero_point: int = None
    source: str = ""                # the model's tensor name: for comments and errors only
    tie: str = None                 # tensors of one tie group share one calibrated range (a recurrent state
                                    # and each gate across the steps of an unrolled LSTM / GRU)
    persistent: bool = False        # keeps its value across invokes (--stateful): read before its one writer,
                                    # which runs last; its arena bytes are never reused; <name>_reset_state zeroes it

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def itemsize(self):
        return {"int8": 1, "uint8": 1, "int16": 2, "float32": 4}[self.dtype]

    @property
    def nbytes(self):
        return self.size * self.itemsize


@dataclass
class Node:
    op: str                         # key of mcu_codegen.ops.REGISTRY
    inputs: list
    outputs: list
    attrs: dict = field(default_factory=dict)   # float-level description: weights, strides, fused clamp...
    name: str = ""                  # the model's node name, for comments and errors only
    params: dict = None             # set by quantize: every integer the C kernel needs
    scratch: int = 0                # arena bytes its kernel's faster forms work in while it runs (emit.assign_scratch)


@dataclass
class Graph:
    tensors: dict                   # name -> Tensor
    nodes: list                     # in execution order
    inputs: list                    # tensor names, in model order
    outputs: list
    source: str = ""                # the model file, for error messages
    quantized: bool = False         # scales and int8 weights come from the file (TFLite): no calibration
    states: list = field(default_factory=list)  # recurrent states: (initial tensor, final tensor) pairs that
                                                # passes.make_stateful carries from one invoke to the next

    def copy(self, **changes):
        """Passes return a new graph: a shallow copy with fresh node and tensor objects."""
        g = replace(self, tensors={k: replace(t) for k, t in self.tensors.items()},
                    nodes=[replace(n, inputs=list(n.inputs), outputs=list(n.outputs), attrs=dict(n.attrs))
                           for n in self.nodes],
                    inputs=list(self.inputs), outputs=list(self.outputs), states=list(self.states))
        return replace(g, **changes) if changes else g

    def persistent(self):
        """The tensors that keep their value from one invoke to the next (Tensor.persistent), sorted."""
        return sorted(name for name, t in self.tensors.items() if t.persistent)

    def producer(self, tensor):
        return next((n for n in self.nodes if tensor in n.outputs), None)

    def consumers(self, tensor):
        return [n for n in self.nodes if tensor in n.inputs]

    def new_tensor(self, like, shape=None, source=""):
        i = len(self.tensors)
        while f"t{i}" in self.tensors:
            i += 1
        t = Tensor(f"t{i}", tuple(like.shape if shape is None else shape), like.dtype, source=source or like.source)
        self.tensors[t.name] = t
        return t

    def rename_uses(self, old, new):
        """Every reader of tensor `old` reads `new` instead (used to drop a node)."""
        for n in self.nodes:
            n.inputs = [new if x == old else x for x in n.inputs]
        self.outputs = [new if x == old else x for x in self.outputs]
        self.states = [tuple(new if x == old else x for x in pair) for pair in self.states]

    def remove_dead(self):
        """Drop nodes whose outputs nobody reads, then tensors nobody mentions."""
        changed = True
        while changed:
            used = set(self.outputs) | {x for n in self.nodes for x in n.inputs}
            keep = [n for n in self.nodes if any(o in used for o in n.outputs)]
            changed = len(keep) != len(self.nodes)
            self.nodes = keep
        mentioned = set(self.inputs) | set(self.outputs) | {x for n in self.nodes for x in n.inputs + n.outputs}
        self.tensors = {k: t for k, t in self.tensors.items() if k in mentioned}
