"""Stage 4: execution order and arena layout, at generation time. Everything the generated code keeps in RAM
(inputs, outputs, activations, and the scratch buffer a faster kernel form works in while its node runs) is in
the one arena.

- Aliases (reshapes, in-place ops) share their input's buffer.
- An op may write its output over an input that dies at that op, as far as the op's `overlap_limit` allows:
  the kernels write in order, so an output placed at most D bytes above that input never overwrites an input
  byte still to be read (D = 0 for element-wise ops; about two rows below for a 3x3 convolution).
- Placement: several strategies (greedy by size as TFLM, first fit by start, by lifetime length, by conflict
  count); each puts a buffer at the lowest aligned offset compatible with every buffer already placed that is
  alive at the same time. The smallest arena wins; ties keep the earlier strategy.
- Then a seeded local search over the placement order (move one buffer, keep it if the arena does not grow).
- Order: for graphs with branches, a few topological orders are tried (the model's, a memory-greedy one, seeded
  random ones) and the one with the smallest arena is kept.
The lower bound reported is the largest total of buffers alive at one step in the chosen order, without
in-place overlap: in-place execution goes below it.
"""
import random
from dataclasses import dataclass

from . import ops

ALIGN = 4  # int8 and float32 data; every offset is a multiple
ORDER_TRIALS = 24
SEARCH_ITERATIONS = 2000  # local search over the placement order, after the fixed strategies
# beyond this many buffers (an unrolled LSTM: hundreds of small tensors), the local search shrinks as
# (LARGE / buffers)^3 and no random orders are tried: each placement costs buffers^2, and conversion should take
# seconds
LARGE = 300


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
    lower_bound: int    # peak bytes alive at once in this order, without in-place overlap
    strategy: str
    overlaps: dict      # (output tensor, input tensor) -> D: output offset may be <= input offset + D


def alias_of(graph, node):
    """The input a node's output shares bytes with, or None."""
    mod = ops.get(node.op)
    return node.inputs[0] if getattr(mod, "ALIAS", False) or getattr(mod, "IN_PLACE", False) else None


SCRATCH_SUFFIX = " (scratch)"  # tensor names have no spaces: no tensor can take a scratch buffer's name


def scratch_name(node):
    """The arena buffer a node's kernel works in (node.scratch bytes), alive only while the node runs: planned
    like a tensor (SCRATCH_SUFFIX)."""
    return node.outputs[0] + SCRATCH_SUFFIX


def _is_scratch(buffer):
    return buffer.tensors[0].endswith(SCRATCH_SUFFIX)


def lifetimes(graph):
    """tensor (and scratch buffer) -> [first, last] step at which it must hold its value."""
    span = {name: [-1, -1] for name in graph.inputs + graph.persistent()}
    for i, node in enumerate(graph.nodes):
        for x in node.inputs:
            span[x][1] = max(span[x][1], i)
        for y in node.outputs:
            span[y] = [i, i]
        if node.scratch:
            span[scratch_name(node)] = [i, i]
    for name in graph.outputs:
        span[name][1] = len(graph.nodes)
    for name in graph.persistent():  # alive across invokes: its bytes are never another tensor's
        span[name] = [-1, len(graph.nodes)]
    return span


def sizes(graph):
    """Bytes of every tensor and scratch buffer the arena holds."""
    out = {name: t.nbytes for name, t in graph.tensors.items()}
    out.update((scratch_name(n), n.scratch) for n in graph.nodes if n.scratch)
    return out


def allowed_overlaps(graph):
    """(output, input) -> D for every input that dies at the node reading it and whose op allows overlap."""
    span = lifetimes(graph)
    roots = _alias_roots(graph)
    group_last = {}
    for name, (_, last) in span.items():
        r = roots.get(name, name)
        group_last[r] = max(group_last.get(r, -1), last)
    out, kept = {}, set(graph.persistent())
    for i, node in enumerate(graph.nodes):
        mod = ops.get(node.op)
        if alias_of(graph, node) is not None or not hasattr(mod, "overlap_limit"):
            continue
        y = node.outputs[0]
        for k, x in enumerate(node.inputs):
            if group_last[roots.get(x, x)] != i or node.inputs.count(x) > 1 or x in kept or y in kept:
                continue
            limit = mod.overlap_limit(node.params, k, graph.tensors[x], graph.tensors[y])
            if limit is not None:
                out[y, x] = limit
    return out


def _alias_roots(graph):
    root = {}
    for node in graph.nodes:
        src = alias_of(graph, node)
        if src is not None:
            root[node.outputs[0]] = root.get(src, src)
    return root


def _align_up(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _align_down(n):
    return n // ALIGN * ALIGN


def _buffers(graph):
    span, size = lifetimes(graph), sizes(graph)
    roots = _alias_roots(graph)
    groups = {}
    for name in span:
        groups.setdefault(roots.get(name, name), []).append(name)
    return [Buffer(sorted(names), max(size[n] for n in names), min(span[n][0] for n in names),
                   max(span[n][1] for n in names)) for _, names in sorted(groups.items())]


def _conflict_counts(buffers):
    """How many other buffers each one is alive together with: all, less those ending before it starts and
    those starting after it ends (two sorted lists, not every pair)."""
    import bisect
    lasts, firsts = sorted(b.last for b in buffers), sorted(b.first for b in buffers)
    n = len(buffers)
    return {id(b): n - 1 - bisect.bisect_left(lasts, b.first) - (n - bisect.bisect_right(firsts, b.last))
            for b in buffers}


STRATEGIES = {
    "greedy_by_size": lambda b, c: (-b.size, b.first),
    "first_fit_by_start": lambda b, c: (b.first, -b.size),
    "longest_lifetime": lambda b, c: (-(b.last - b.first), -b.size, b.first),
    "greedy_by_conflicts": lambda b, c: (-c[id(b)], -b.size, b.first),
    # the last buffer at the bottom, each earlier one above it: chains of in-place ops stack downwards
    "reverse_start": lambda b, c: (-b.first, -b.size),
}


def _place(buffers, key, overlaps):
    """First fit of the buffers in `key` order; returns the arena end. Sets b.offset."""
    conflicts = _conflict_counts(buffers)
    group = {n: b for b in buffers for n in b.tensors}
    # limits between buffers: out buffer may start at most D above the in buffer
    limit = {}
    for (y, x), d in overlaps.items():
        limit[id(group[y]), id(group[x])] = d
    placed = []
    # scratch buffers last, into the gaps the tensors leave or on top: small and alive for one step, they would
    # otherwise take the places that chains of in-place tensors need
    for b in sorted(buffers, key=lambda b: (_is_scratch(b),) + key(b, conflicts) + (b.tensors[0],)):
        live = [p for p in placed if p.first <= b.last and b.first <= p.last]
        candidates = {0}
        for p in live:
            candidates.add(_align_up(p.offset + p.size))
            if (id(b), id(p)) in limit:
                candidates.add(_align_down(p.offset + limit[id(b), id(p)]))
            if (id(p), id(b)) in limit:
                candidates.add(_align_up(p.offset - limit[id(p), id(b)]))

        def fits(off):
            for p in live:
                if off + b.size <= p.offset or p.offset + p.size <= off:
                    continue
                if (id(b), id(p)) in limit and off - p.offset <= limit[id(b), id(p)]:
                    continue
                if (id(p), id(b)) in limit and p.offset - off <= limit[id(p), id(b)]:
                    continue
                return False
            return True
        b.offset = next(off for off in sorted(candidates) if off >= 0 and fits(off))  # the lowest that fits
        placed.append(b)
    return max((b.offset + b.size for b in buffers), default=0)


def _local_search(graph, overlaps, start_rank, iterations):
    """Move one buffer to another place in the placement order; keep moves that do not grow the arena.
    Seeded, so the result is the same on every run."""
    rng = random.Random(0)
    order = sorted(start_rank, key=start_rank.get)
    best_end = _place(_buffers(graph), _rank_key({n: k for k, n in enumerate(order)}), overlaps)
    for _ in range(iterations if len(order) > 1 else 0):
        candidate = list(order)
        candidate.insert(rng.randrange(len(candidate)), candidate.pop(rng.randrange(len(candidate))))
        end = _place(_buffers(graph), _rank_key({n: k for k, n in enumerate(candidate)}), overlaps)
        if end <= best_end:
            order, best_end = candidate, end
    return {n: k for k, n in enumerate(order)}, best_end


def _rank_key(rank):
    return lambda b, c: (rank[b.tensors[0]],)


def plan(graph, strategy=None, search_iterations=SEARCH_ITERATIONS):
    """Offsets for the graph in its node order. strategy=None tries every strategy, then a local search from
    the best placement order, and keeps the smallest arena; a named strategy is used alone."""
    names = list(STRATEGIES) if strategy is None else [strategy]
    if any(n not in STRATEGIES for n in names):
        raise ValueError(f"unknown planner strategy '{strategy}' (one of {', '.join(STRATEGIES)})")
    overlaps = allowed_overlaps(graph)
    best = None
    for name in names:
        buffers = _buffers(graph)
        end = _place(buffers, STRATEGIES[name], overlaps)
        if best is None or end < best[0]:
            conflicts = _conflict_counts(buffers)
            rank = {b.tensors[0]: k for k, b in enumerate(
                sorted(buffers, key=lambda b: STRATEGIES[name](b, conflicts) + (b.tensors[0],)))}
            best = (end, name, buffers, rank)
    end, name, buffers, rank = best
    if len(buffers) > LARGE:
        search_iterations = search_iterations * LARGE ** 3 // len(buffers) ** 3
    if strategy is None and search_iterations:
        rank, searched = _local_search(graph, overlaps, rank, search_iterations)
        if searched < end:
            buffers, name = _buffers(graph), "local_search"
            end = _place(buffers, _rank_key(rank), overlaps)
    steps = range(-1, len(graph.nodes) + 1)
    lower_bound = max((sum(b.size for b in buffers if b.first <= s <= b.last) for s in steps), default=0)
    offsets = {n: b.offset for b in buffers for n in b.tensors}
    return Plan(sorted(buffers, key=lambda b: (b.offset, b.first)), offsets, _align_up(end), lower_bound, name,
                overlaps)


def schedule(graph, strategy=None):
    """A new graph whose node order gives the smallest arena among the model's order, a memory-greedy order
    and seeded random topological orders (graphs without branches have one order and return unchanged)."""
    orders = [list(range(len(graph.nodes)))]
    orders.append(_greedy_order(graph))
    rng = random.Random(0)
    for _ in range(ORDER_TRIALS if len(graph.nodes) <= LARGE else 0):  # large: the model's and the greedy order
        orders.append(_random_order(graph, rng))
    best, best_size = None, None
    seen = set()
    for order in orders:
        if tuple(order) in seen:
            continue
        seen.add(tuple(order))
        g = graph.copy(nodes=[graph.nodes[i] for i in order])
        size = plan(g, strategy, search_iterations=0).arena_size
        if best_size is None or size < best_size:
            best, best_size = g, size
    return best


def _ready(graph, done, produced):
    """Nodes whose inputs are all there; a persistent tensor is there from the start, and its writer waits for
    every reader of the value it had when the invoke began."""
    kept = set(graph.persistent())
    return [i for i, n in enumerate(graph.nodes) if i not in done and all(x in produced for x in n.inputs)
            and not any(y in kept and any(y in m.inputs for k, m in enumerate(graph.nodes) if k not in done | {i})
                        for y in n.outputs)]


def _random_order(graph, rng):
    produced, done, order = set(graph.inputs) | set(graph.persistent()), set(), []
    while len(order) < len(graph.nodes):
        i = rng.choice(_ready(graph, done, produced))
        order.append(i)
        done.add(i)
        produced.update(graph.nodes[i].outputs)
    return order


def _greedy_order(graph):
    """Run next the ready node after which the fewest bytes are alive (ties: model order)."""
    readers = {}
    for i, n in enumerate(graph.nodes):
        for x in n.inputs:
            readers.setdefault(x, set()).add(i)
    produced, done, order = set(graph.inputs) | set(graph.persistent()), set(), []
    outputs = set(graph.outputs)
    live = set(produced)  # the produced tensors still counted: outputs, or read by a node not run yet
    while len(order) < len(graph.nodes):
        def live_after(i):
            d = done | {i}
            return graph.nodes[i].scratch + sum(graph.tensors[t].nbytes for t in live | set(graph.nodes[i].outputs)
                                                if t in outputs or readers.get(t, set()) - d)
        i = min(_ready(graph, done, produced), key=lambda i: (live_after(i), i))
        order.append(i)
        done.add(i)
        produced.update(graph.nodes[i].outputs)
        live = {t for t in live | set(graph.nodes[i].outputs) if t in outputs or readers.get(t, set()) - done}
    return order


def check(graph, plan):
    """Independent of the placement: every tensor fits the arena, is aligned, and no two tensors alive at the
    same step share a byte unless they are aliases of each other, or the op writing one over the other allows
    that overlap (re-derived here from the ops, not taken from the plan). Raises AssertionError."""
    span, size = lifetimes(graph), sizes(graph)
    group = {name: {name} for name in span}
    for node in graph.nodes:
        src = alias_of(graph, node)
        if src is not None:
            merged = group[src] | group[node.outputs[0]]
            for t in merged:
                group[t] = merged
    overlap_ok = {}
    for i, node in enumerate(graph.nodes):
        mod = ops.get(node.op)
        if alias_of(graph, node) is not None or not hasattr(mod, "overlap_limit"):
            continue
        for k, x in enumerate(node.inputs):
            read_later = any(group[x] & set(n.inputs) for n in graph.nodes[i + 1:])
            if read_later or group[x] & set(graph.outputs) or node.inputs.count(x) > 1:
                continue
            d = mod.overlap_limit(node.params, k, graph.tensors[x], graph.tensors[node.outputs[0]])
            if d is not None:
                for t in group[x]:
                    overlap_ok[node.outputs[0], t] = d
    names = sorted(span)
    for name in names:
        off = plan.offsets[name]
        assert off % ALIGN == 0 and off >= 0 and off + size[name] <= plan.arena_size, \
            f"{name} outside the arena or misaligned"
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            (fa, la), (fb, lb) = span[a], span[b]
            if b in group[a] or not (fa <= lb and fb <= la):
                continue
            oa, ob = plan.offsets[a], plan.offsets[b]
            sa, sb = size[a], size[b]
            if oa + sa <= ob or ob + sb <= oa:
                continue
            if (a, b) in overlap_ok and oa - ob <= overlap_ok[a, b]:
                continue
            if (b, a) in overlap_ok and ob - oa <= overlap_ok[b, a]:
                continue
            raise AssertionError(f"{a} and {b} are alive together and overlap")
