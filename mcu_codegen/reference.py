"""Run a graph in NumPy: the float references (calibration, float oracle) or the integer twins of the C kernels."""
from . import ops


def execute(graph, feeds, integer, keep=False):
    """feeds: tensor name -> array (N, *shape). Returns the graph outputs (and every tensor with keep=True)."""
    values = dict(feeds)
    for node in graph.nodes:
        mod = ops.get(node.op)
        args = [values[x] for x in node.inputs]
        y = mod.int_ref(node.params, *args) if integer else mod.float_ref(node.attrs, *args)
        values[node.outputs[0]] = y.reshape((y.shape[0],) + tuple(graph.tensors[node.outputs[0]].shape))
        if not keep:
            last_use = {x for x in node.inputs if x not in graph.outputs and _last_reader(graph, x) is node}
            for x in last_use:
                values.pop(x, None)
    return values if keep else {o: values[o] for o in graph.outputs}


def _last_reader(graph, tensor):
    readers = [n for n in graph.nodes if tensor in n.inputs]
    return readers[-1] if readers else None
