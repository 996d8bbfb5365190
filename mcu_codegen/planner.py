"""Stage 4: tensor lifetimes in execution order -> arena offsets (all activations, inputs and outputs included).

Aliases (reshapes, in-place ops) share their input's buffer. Placement is TFLM's greedy-by-size: the largest
buffer first, each at the lowest aligned offset that does not collide with an already placed buffer alive at
the same time. The lower bound is the largest total of buffers alive at one step.
"""
from dataclasses import dataclass

from . import ops

ALIGN = 4  # int8 and float32 data; every offset is a multiple


@dataclass
class Buffer:
    tensors: list       # the tensor names sharing these bytes (an alias group)
    size: int
    first: int          # index of the node that writes it (-1: a graph input)
    last: int           # index of the last node that reads it (len(nodes): a graph output)
    offset: int = None


@dataclass
class Plan:
    buffers: list
    offsets: dict       # tensor name -> byte offset in the arena
    arena_size: int
    lower_bound: int    # peak bytes alive at once in this order, before alignment


def alias_of(graph, node):
    """The input a node's output shares bytes with, or None."""
    mod = ops.get(node.op)
    return node.inputs[0] if getattr(mod, "ALIAS", False) or getattr(mod, "IN_PLACE", False) else None


def lifetimes(graph):
    """tensor -> [first, last] step at which it must hold its value."""
    span = {name: [-1, -1] for name in graph.inputs}
    for i, node in enumerate(graph.nodes):
        for x in node.inputs:
            span[x][1] = max(span[x][1], i)
        for y in node.outputs:
            span[y] = [i, i]
    for name in graph.outputs:
        span[name][1] = len(graph.nodes)
    return span


def _align(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


def plan(graph):
    span = lifetimes(graph)
    root = {}
    for node in graph.nodes:
        src = alias_of(graph, node)
        if src is not None:
            root[node.outputs[0]] = root.get(src, src)
    groups = {}
    for name in span:
        groups.setdefault(root.get(name, name), []).append(name)
    buffers = [Buffer(sorted(names), max(graph.tensors[n].nbytes for n in names),
                      min(span[n][0] for n in names), max(span[n][1] for n in names))
               for names in groups.values()]
    placed = []
    for b in sorted(buffers, key=lambda b: (-b.size, b.first, b.tensors[0])):
        live = sorted((p for p in placed if p.first <= b.last and b.first <= p.last), key=lambda p: p.offset)
        offset = 0
        for p in live:
            if offset + b.size <= p.offset:
                break
            offset = max(offset, _align(p.offset + p.size))
        b.offset = offset
        placed.append(b)
    steps = range(-1, len(graph.nodes) + 1)
    lower_bound = max((sum(b.size for b in buffers if b.first <= s <= b.last) for s in steps), default=0)
    offsets = {n: b.offset for b in buffers for n in b.tensors}
    arena = _align(max((b.offset + b.size for b in buffers), default=0))
    return Plan(sorted(buffers, key=lambda b: b.offset), offsets, arena, lower_bound)


def check(graph, plan):
    """Independent of the placement: every tensor fits the arena, is aligned, and no two tensors alive at the
    same step share a byte unless one is an alias of the other. Raises AssertionError."""
    span = lifetimes(graph)
    alias = {}
    for node in graph.nodes:
        src = alias_of(graph, node)
        if src is not None:
            alias[node.outputs[0]] = src

    def chain(name):
        out = {name}
        while name in alias:
            name = alias[name]
            out.add(name)
        return out

    names = sorted(span)
    for name in names:
        off, size = plan.offsets[name], graph.tensors[name].nbytes
        assert off % ALIGN == 0 and off + size <= plan.arena_size, f"{name} outside the arena or misaligned"
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if a in chain(b) or b in chain(a) or chain(a) & chain(b):
                continue
            (fa, la), (fb, lb) = span[a], span[b]
            if fa <= lb and fb <= la:
                oa, ob = plan.offsets[a], plan.offsets[b]
                sa, sb = graph.tensors[a].nbytes, graph.tensors[b].nbytes
                assert oa + sa <= ob or ob + sb <= oa, f"{a} and {b} are alive together and overlap"
