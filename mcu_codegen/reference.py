"""Run a graph in NumPy: the float references (calibration, float oracle) or the integer twins of the C kernels."""
import numpy as np

from . import ops

NP_TYPES = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "float32": np.float32}


def execute(graph, feeds, integer, keep=False, state=None):
    """feeds: tensor name -> array (N, *shape). Returns the graph outputs (and every tensor with keep=True).
    state: {persistent tensor: its value} carried from invoke to invoke (updated in place); missing or None: the
    zero state (the real value 0: the tensor's zero point)."""
    values = dict(feeds)
    n = len(next(iter(feeds.values()))) if feeds else 1
    for name in graph.persistent():
        t = graph.tensors[name]
        zero = t.zero_point if integer and t.dtype != "float32" and t.zero_point is not None else 0
        values[name] = (state or {}).get(name, np.full((n,) + tuple(t.shape), zero,
                                                         NP_TYPES[t.dtype] if integer else np.float32))
    for node in graph.nodes:
        mod = ops.get(node.op)
        args = [values[x] for x in node.inputs]
        if integer and not float_kernel(graph, node, mod):
            y = ops.twin(mod, kernel_kind(graph, node, mod))(node.params, *args)
        else:  # calibration, the float oracle, and float kernels (their twin is the float reference)
            y = mod.float_ref(node.attrs, *args)
        if getattr(mod, "STATE_ARGS", 0) and len(args) > 1:  # --stateful SVDF / LSTM: (y, its state updated)
            y, updated = y
            for name, v in zip(node.inputs[1:], updated):
                values[name] = v.reshape(values[name].shape).astype(
                    NP_TYPES[graph.tensors[name].dtype] if integer else np.float32, copy=False)
        out = graph.tensors[node.outputs[0]]
        # integer twins compute in int64 and clamp to the type's range; the tensor's type holds the result
        values[node.outputs[0]] = y.reshape((y.shape[0],) + tuple(out.shape)).astype(NP_TYPES[out.dtype], copy=False)
        if not keep:
            last_use = {x for x in node.inputs if x not in graph.outputs and not graph.tensors[x].persistent
                        and _last_reader(graph, x) is node}
            for x in last_use:
                values.pop(x, None)
    if state is not None:
        state.update((k, values[k]) for k in graph.persistent())
    return values if keep else {o: values[o] for o in graph.outputs}


def kernel_kind(graph, node, mod):
    """The KERNELS key the node runs: its activation type, or attrs["compute"] (hybrid, float16)."""
    in_dtype = graph.tensors[node.inputs[0]].dtype if node.inputs else None  # a constant has no input
    return ops.kernel_type(mod, in_dtype, graph.tensors[node.outputs[0]].dtype, node.attrs)


def float_kernel(graph, node, mod):
    """Whether the node runs a float kernel (float32, or float16 weights widened to float32), whose NumPy twin is
    the float reference (on the half-rounded weights, for float16)."""
    return kernel_kind(graph, node, mod) in ("float32", "float16")


def _last_reader(graph, tensor):
    readers = [n for n in graph.nodes if tensor in n.inputs]
    return readers[-1] if readers else None
