"""Activation ranges from a representative dataset, by one of four methods:

- minmax (default, TFLite's): the smallest and largest value seen;
- percentile: the 0.01st and 99.99th percentiles (outliers clipped), on a seeded subsample of the values;
- entropy: the clipping that minimizes the KL divergence between the value histogram and its 255-level quantized
  version (TensorRT's idea, applied to both ends of an asymmetric range; exact zeros, which the zero point
  represents exactly, are left out of the histogram);
- mse: the clipping that minimizes the mean squared quantization error of that subsample.
Every range contains 0 (the zero point must be exact). Histograms have 2048 bins over the min/max range.
"""
import numpy as np

from . import fixedpoint as fp
from . import ops, reference, stable
from .frontend import shown
from .ir import ConversionError

METHODS = ("minmax", "percentile", "entropy", "mse")
BATCH = 32      # samples evaluated together: bounds memory on large feature maps
BINS = 2048
KEEP = 8192     # values kept per tensor and batch for the percentile and MSE searches
PERCENTILE = 99.99
SHRINK = np.linspace(1.0, 0.15, 86)  # candidate ranges: the min/max range scaled toward 0


class Statistics:
    """What calibration learned about each activation: the range the method chose, the plain min/max range
    (int16 tensors use it: with 65535 levels, clipping a real value costs more than rounding saves), and
    the mean of every element over the samples (the tensor's shape), which bias correction needs; and what ops
    report of values inside their nodes (internal: {node's output: {key: its maximum over the samples}}, from
    the op's internal_statistics(attrs, *float inputs), e.g. an LSTM's cell state)."""

    def __init__(self, chosen, minmax, mean, internal=None):
        self.chosen, self.minmax, self.mean, self.internal = chosen, minmax, mean, internal or {}


def statistics(graph, samples, method="minmax", progress=None):
    """Statistics of every activation of the float graph; samples: one (N, *shape) array per input."""
    if method not in METHODS:
        raise ConversionError(f"calibration method '{method}' is not one of {', '.join(METHODS)}")
    lo, hi, sums, count, internal = {}, {}, {}, 0, {}
    for values in _batches(graph, samples, progress, 1 if method == "minmax" else 2):
        count += len(next(iter(values.values())))
        _internal(graph, values, internal)
        for name, v in values.items():
            lo[name] = min(lo.get(name, 0.0), float(v.min()))
            hi[name] = max(hi.get(name, 0.0), float(v.max()))
            sums[name] = sums.get(name, 0.0) + v.astype(np.float64).sum(axis=0)
    minmax = tied(graph, {name: (lo[name], hi[name]) for name in lo})
    means = {name: sums[name] / count for name in sums}
    if method == "minmax":
        return Statistics(minmax, minmax, means, internal)
    hists = {name: np.zeros(BINS) for name in lo}
    kept = {name: [] for name in lo}  # a seeded subsample of the values: percentiles and MSE use them exactly
    rng = np.random.default_rng(0)
    for values in _batches(graph, samples, progress, 2, second=True):
        for name, v in values.items():
            if hi[name] > lo[name]:
                # exact zeros (ReLU outputs) cost nothing: the zero point represents 0.0 exactly
                hists[name] += np.histogram(v[v != 0], bins=BINS, range=(lo[name], hi[name]))[0]
                flat = v.ravel()
                kept[name].append(flat if flat.size <= KEEP else rng.choice(flat, KEEP, replace=False))
    out = {}
    for name in lo:
        if hi[name] == lo[name]:
            out[name] = (lo[name], hi[name])
        elif method == "entropy":
            out[name] = _entropy(hists[name], lo[name], hi[name])
        else:
            values = np.concatenate(kept[name]).astype(np.float64)
            out[name] = (_percentile if method == "percentile" else _mse)(values, lo[name], hi[name])
    return Statistics(tied(graph, out), minmax, means, internal)


def _internal(graph, values, internal):
    """Merge one batch's internal statistics (the ops that report them) into internal, keeping each maximum."""
    for node in graph.nodes:
        report = getattr(ops.get(node.op), "internal_statistics", None)
        if report is not None:
            seen = internal.setdefault(node.outputs[0], {})
            for key, v in report(node.attrs, *[values[x] for x in node.inputs]).items():
                seen[key] = max(seen.get(key, v), v)


def tied(graph, ranges):
    """Tensors of one tie group (ir.Tensor.tie: a recurrent state or gate at every step) all take the union of
    their ranges, so that they share one scale and zero point."""
    def group(name):
        return graph.tensors[name].tie if name in graph.tensors else None
    union = {}
    for name, (a, b) in ranges.items():
        if group(name) is not None:
            lo, hi = union.get(group(name), (a, b))
            union[group(name)] = (min(lo, a), max(hi, b))
    return {name: union[group(name)] if group(name) is not None else r for name, r in ranges.items()}


def _batches(graph, samples, progress, passes, second=False):
    n = samples[0].shape[0]
    for start in range(0, n, BATCH):
        feeds = {name: s[start:start + BATCH].astype(np.float32) for name, s in zip(graph.inputs, samples)}
        values = reference.execute(graph, feeds, integer=False, keep=True)
        for name, v in values.items():
            if not np.all(np.isfinite(v)):
                raise ConversionError(f"{graph.source}: tensor '{shown(graph.tensors[name].source)}' is not finite "
                                      "on the calibration data")
        if progress is not None:
            progress(min(n, start + BATCH) + (n if second else 0), n * passes)
        yield values


def _centers(lo, hi):
    edges = np.linspace(lo, hi, BINS + 1)
    return (edges[:-1] + edges[1:]) / 2


def _quantized(x, a, b):
    """x through the int8 grid of range [a, b] (the same choice of scale and zero point as quantize)."""
    from .quantize import choose_qparams
    scale, zp = choose_qparams(a, b)
    q = np.clip(fp.round_half_away(x / float(scale)) + zp, -128, 127)
    return (q - zp) * float(scale)


def _percentile(values, lo, hi):
    a, b = np.percentile(values, [100 - PERCENTILE, PERCENTILE])
    return min(float(a), 0.0), max(float(b), 0.0)


def _mse(values, lo, hi):
    """The candidate range with the least squared error between the values and their quantized selves."""
    errors = [np.mean((values - _quantized(values, lo * f, hi * f)) ** 2) for f in SHRINK]
    f = SHRINK[int(np.argmin(errors))]
    return lo * f, hi * f


def _entropy(hist, lo, hi):
    """KL(P || Q) as TensorRT, on the histogram's own bins: P is the histogram cut to the candidate range with
    the cut tails piled on its end bins; Q is the histogram inside the range (tails dropped) merged into 255
    levels and spread back over the nonzero bins of each level. Cutting too much costs through the piled tails,
    too little through Q's coarse levels."""
    x = _centers(lo, hi)
    p_full = hist / hist.sum()
    best, best_f = None, 1.0
    for f in SHRINK:
        keep = np.nonzero((x >= lo * f) & (x <= hi * f))[0]
        if len(keep) < 255:
            continue
        p_in = p_full[keep]
        p = p_in.copy()
        p[0] += p_full[: keep[0]].sum()
        p[-1] += p_full[keep[-1] + 1:].sum()
        levels = np.minimum(np.arange(len(keep)) * 255 // len(keep), 254)
        mass = np.bincount(levels, weights=p_in, minlength=255)
        used = np.bincount(levels, weights=(p_in > 0).astype(float), minlength=255)
        q = np.where(p_in > 0, mass[levels] / np.maximum(used[levels], 1), 0)
        q = q / max(q.sum(), 1e-30)
        nz = p > 0
        kl = float(np.sum(p[nz] * stable.log(p[nz] / np.maximum(q[nz], 1e-12))))
        if best is None or kl < best - 1e-12:
            best, best_f = kl, f
    return lo * best_f, hi * best_f
