"""The Python API, shaped like the TFLite converter: Converter.from_onnx(path) ... convert() -> Model."""
import json
import tempfile
from pathlib import Path

import numpy as np

from . import emit, frontend, ops, output, passes, planner, quantize, reference
from .build import NP_TYPES, HostModel, compile_shared
from .frontend import shown
from .ir import ConversionError, Graph, Node, Tensor


class Converter:
    def __init__(self, graph):
        self.graph = graph                     # canonical float graph
        self.representative_dataset = None     # callable returning, or iterable of, {input name: array} / [arrays]
        self.mode = "int8"                     # or "int16x8", "float32", "dynamic", "float16" (quantize.MODES)
        self.int16_layers = []                 # mixed precision: node names computed in 16x8 inside an int8 model
        self.inference_input_type = None       # None: the mode's activation type (int8, int16, float32)
        self.inference_output_type = None
        self.weight_clipping = False           # per-channel weight ranges by least squared error
        self.bias_correction = False           # biases absorb the mean error of the quantized weights
        self.name = "model"
        self.planner_strategy = None           # None: the best of all (planner.STRATEGIES + local search)
        self.calibration_method = "minmax"     # or "percentile", "entropy", "mse" (calibration.METHODS)
        self.progress = None                   # progress(done, total) during calibration
        self.optimize = "speed"                # or "size": only the small portable kernels (emit.OPTIMIZE)
        self.labels = None                     # class names of the one output's last axis: <name>_labels in the C
        self.float_fallback = False            # ops without an integer kernel run in float32 (quantize.py)
        self.stateful = False                  # recurrent states kept across invokes (passes.make_stateful)
        self.isa = None                        # the selecting macros of one core's forms (target.isa_macros, from
                                               # convert --board): only its forms and their scratch; None: all

    @classmethod
    def from_onnx(cls, path, input_shapes=None):
        """input_shapes: {input name: shape} for inputs whose dimensions the file leaves open."""
        return cls(passes.canonicalize(frontend.load(str(path), input_shapes)))

    @classmethod
    def from_tflite(cls, path):
        """A full-integer .tflite: its scales, zero points and I/O types are kept, no dataset needed. A float
        .tflite is calibrated like a float ONNX model (set representative_dataset)."""
        from . import tflite_frontend
        return cls(passes.canonicalize(tflite_frontend.load(str(path))))

    def input_names(self):
        """The inputs the conversion takes data for: with stateful, a state the model declares as an input is
        not one (the arena holds it)."""
        graph = passes.make_stateful(self.graph) if self.stateful else self.graph
        return [graph.tensors[n].source for n in graph.inputs]

    def convert(self):
        calibrate = not self.graph.quantized and self.mode not in quantize.FLOAT_MODES
        graph = passes.make_stateful(self.graph) if self.stateful else self.graph
        samples = calibration_samples(graph, self.representative_dataset) if calibrate else None  # no state inputs
        graph = quantize.quantize(graph, samples, self.inference_input_type, self.inference_output_type,
                                  self.calibration_method, self.progress, self.mode, self.int16_layers,
                                  self.weight_clipping, self.bias_correction, self.float_fallback)
        options = dict(mode=self.mode, io=[graph.tensors[n].dtype for n in (graph.inputs[0], graph.outputs[0])],
                       int16_layers=list(self.int16_layers), planner=self.planner_strategy or "best")
        if self.float_fallback:
            options.update(float_fallback=True)
        if self.stateful:
            options.update(stateful=True)
        if self.isa is not None:
            options.update(isa=sorted(self.isa))
        if calibrate:
            options.update(calibration_method=self.calibration_method, weight_clipping=self.weight_clipping,
                           bias_correction=self.bias_correction)
        return Model(graph, self.name, self.planner_strategy, self.optimize, self.labels, options, self.isa)


def calibration_samples(graph, dataset, what="calibration data", warn=True):
    """The representative dataset as one float32 array per input, (N, *shape). what: how errors name the data.
    warn: plausible mistakes (too few samples, no sample axis, raw 8-bit values) are DataWarnings."""
    if dataset is None:
        raise ConversionError("no representative dataset: set Converter.representative_dataset (or --calibration)")
    items = dataset() if callable(dataset) else dataset
    names = [graph.tensors[n].source for n in graph.inputs]
    per_input, given = [[] for _ in names], [[] for _ in names]
    for item in items:
        values = [item[n] if n in item else _missing(n, what) for n in names] if isinstance(item, dict) else list(item)
        if len(values) != len(names):
            raise ConversionError(f"a sample of the {what} has {len(values)} arrays, the model {len(names)} inputs")
        for k, (v, t) in enumerate(zip(values, graph.inputs)):
            v = np.asarray(v)
            if v.dtype.kind not in "biuf":
                raise ConversionError(f"{what} for input '{shown(names[k])}' has dtype {v.dtype}, "
                                      "not a real number type")
            per_input[k].append(_as_sample(v.astype(np.float32), graph.tensors[t], names[k], what))
            given[k].append(v.shape)
    if not per_input[0]:
        raise ConversionError("the representative dataset is empty")
    samples = [np.concatenate(v) for v in per_input]
    for name, t, x, shapes in zip(names, graph.inputs, samples, given):
        if warn:
            _check_plausible(name, graph.tensors[t], x, shapes, what)
    return samples


class DataWarning(UserWarning):
    """Data that converts but is likely not what the user meant. Silence with
    warnings.simplefilter("ignore", mcu_codegen.DataWarning), or --no-data-warnings on the command line."""


FEW_SAMPLES = 16  # below this, ranges follow the accidents of a few samples more than the data's statistics


def _check_plausible(name, tensor, x, shapes, what):
    """Warnings, never errors: each of these can be what the user meant."""
    import warnings
    shape = tuple(tensor.shape)
    if len(shapes) == 1 and shapes[0] in (shape, shape[1:]):
        warnings.warn(f"{what} for input '{shown(name)}' is one array shaped like the input, taken as 1 sample; "
                      "if it holds several, stack them on a new first axis: (N, " + ", ".join(map(str, shape)) + ")",
                      DataWarning, stacklevel=3)
    elif len(x) < FEW_SAMPLES:
        warnings.warn(f"{what} for input '{shown(name)}' has {len(x)} sample{'s' * (len(x) != 1)}; ranges from "
                      f"fewer than {FEW_SAMPLES} rarely represent the data (a few hundred are typical)", DataWarning,
                      stacklevel=3)
    if tensor.dtype == "float32" and x.min() < 0 and -128 <= x.min() and x.max() <= 127 and np.all(x == np.round(x)):
        warnings.warn(f"{what} for input '{shown(name)}' holds only whole numbers in [-128, 127]: int8 data already "
                      "quantized? A float model calibrates on the float values it takes (dequantize them first)",
                      DataWarning, stacklevel=3)
    if tensor.dtype == "float32" and 1 < x.max() <= 255 and x.min() >= 0 and np.all(x == np.round(x)):
        warnings.warn(f"{what} for input '{shown(name)}' holds only whole numbers in [0, 255]: raw 8-bit data? "
                      "If the model was trained on normalized inputs (e.g. x / 255), calibrate with those",
                      DataWarning, stacklevel=3)


def _missing(name, what):
    raise ConversionError(f"{what} has no array for input '{name}'")


def _as_sample(v, tensor, name, what):
    """One sample (the input's shape, with or without its batch axis) or a stack of them -> (N, *shape)."""
    if not np.all(np.isfinite(v)):
        raise ConversionError(f"{what} for input '{shown(name)}' contains NaN or Inf")
    shape = tuple(tensor.shape)
    if v.shape in (shape, shape[1:]) and v.size:
        return v.reshape((1,) + shape)
    if v.shape[1:] in (shape, shape[1:]) and v.shape[0] > 0 and v.size:
        return v.reshape((-1,) + shape)
    raise ConversionError(f"{what} for input '{shown(name)}' has shape {v.shape}, "
                          f"which is not a stack of {shape}")


def batch_inputs(metas, inputs):
    """{name: array} / [arrays] / one array -> ({name: (N, *shape) array of the I/O dtype}, batched?).
    One input may be given with or without its leading 1, and N of them stacked on a new first axis."""
    if not isinstance(inputs, dict):
        inputs = dict(zip([m["name"] for m in metas], inputs if isinstance(inputs, (list, tuple)) else [inputs]))
    feeds, batched = {}, False
    for m in metas:
        if m["name"] not in inputs:
            raise ConversionError(f"no array for input '{shown(m['name'])}' (arrays given: "
                                  f"{', '.join(map(shown, inputs)) or 'none'})")
        v = np.asarray(inputs[m["name"]])
        shape = tuple(m["shape"])
        unbatched = shape[1:] if shape[:1] == (1,) else None
        if v.shape == shape or (unbatched is not None and v.shape == unbatched):
            v = v.reshape((1,) + shape)
        elif len(v) and (v.shape[1:] == shape or (unbatched is not None and v.shape[1:] == unbatched)):
            v, batched = v.reshape((-1,) + shape), True
        else:
            stacked = "(N, " + ", ".join(map(str, shape)) + ")"
            raise ConversionError(f"input '{shown(m['name'])}' has shape {v.shape}; expected {shape}, or N of them "
                                  f"as {stacked}")
        # the element type must match, not just the values: int8 data in an int16 input fits but means other numbers
        if m["dtype"] == "float32" and v.dtype.kind != "f":
            raise ConversionError(f"input '{shown(m['name'])}' is {v.dtype}; this model takes float32 values (it "
                                  "quantizes them itself)")
        if m["dtype"] != "float32" and v.dtype != NP_TYPES[m["dtype"]]:
            raise ConversionError(f"input '{shown(m['name'])}' is {v.dtype}; this model takes {m['dtype']}: quantize "
                                  f"with the input's scale {m['scale']:.6g} and zero point {m['zero_point']} "
                                  "(report.json) into that type, or convert with --io float32")
        feeds[m["name"]] = v.astype(NP_TYPES[m["dtype"]])
    return feeds, batched


def unbatch(outputs, batched):
    return outputs if batched else {k: v[0] for k, v in outputs.items()}


class Model:
    """A converted model: the quantized graph, its arena plan and the generated files, in memory."""

    def __init__(self, graph, name="model", strategy=None, optimize="speed", labels=None, options=None, isa=None):
        emit.assign_scratch(graph, optimize, isa)  # the arena also holds what the chosen kernel forms work in
        self.graph, self.name = planner.schedule(graph, strategy), name
        self.plan = planner.plan(self.graph, strategy)
        graph = self.graph
        self.files = emit.emit(graph, self.plan, name, optimize, labels, options, isa)
        self.report = json.loads(self.files["report.json"])
        self.files["reference.npz"] = save_graph(graph)
        self._state = {}  # a stateful model's recurrent state, for reference()

    def add_board_fit(self, board, sizes, region=None):
        """report.json and report.html say how the model fits the board (target.sizes of its cross build)."""
        self.report["board"] = dict(
            name=board.name, description=board.description, core=board.core, flash_bytes=board.flash_bytes,
            ram_bytes=board.ram_bytes, flash=sizes.flash, ram=sizes.ram, code=sizes.code, weights=sizes.weights,
            data=sizes.data, arena=sizes.arena, stack=sizes.stack,
            ram_regions=[dict(name=r.name, bytes=r.bytes, origin=r.origin) for r in board.ram_regions],
            arena_region=region.name if region else None)
        self.report["options"]["board"] = board.name
        self.files.update(emit.report_files(self.report))

    def add_layer_counts(self, board, layers):
        """report.json and report.html give the instructions of each layer (target.run_on_board per_layer: [(node,
        [instructions per inference])], the mean kept) as counted on the emulated board."""
        for node, counts in layers:
            self.report["nodes"][node]["instructions"] = round(sum(counts) / len(counts))
        self.report["measured_on"] = board.name
        self.files.update(emit.report_files(self.report))

    @property
    def arena_size(self):
        return self.plan.arena_size

    def save(self, path, force=False, inputs=()):
        """Writes the project folder whole or not at all (output.write): an existing folder is replaced only if
        it holds exactly what mcu-codegen wrote there, unless force; inputs: files the folder must not hold."""
        return output.write(self.files, path, force, inputs)

    def quantize_inputs(self, inputs):
        """{input name: float array} (one sample, or N stacked) -> {input name: array of the input's I/O type}, as
        TFLite's QUANTIZE computes it: q = clamp(round_half_away(x / scale) + zero_point), float32 division, with the
        input's scale and zero point (report.json); a float32 input (--io float32) passes through as float32."""
        from .ops import quantize as quantize_op
        out = {}
        for m in self.report["inputs"]:
            if m["name"] not in inputs:
                raise ConversionError(f"no array for input '{shown(m['name'])}' (arrays given: "
                                      f"{', '.join(map(shown, inputs)) or 'none'})")
            x = np.asarray(inputs[m["name"]], np.float32)
            if m["dtype"] == "float32":
                out[m["name"]] = x
                continue
            info = np.iinfo(NP_TYPES[m["dtype"]])
            params = dict(scale=np.float32(m["scale"]), zero_point=m["zero_point"], q_min=info.min, q_max=info.max)
            out[m["name"]] = quantize_op.int_ref(params, x).astype(NP_TYPES[m["dtype"]])
        return out

    def dequantize_outputs(self, outputs):
        """{output name: array of the output's I/O type} -> float32 arrays: scale * (q - zero_point) in float32, as
        TFLite's DEQUANTIZE (and the C of a --io float32 model) computes it."""
        from .ops import dequantize as dequantize_op
        out = {}
        for m in self.report["outputs"]:
            q = np.asarray(outputs[m["name"]])
            out[m["name"]] = q.astype(np.float32) if m["dtype"] == "float32" else dequantize_op.int_ref(
                dict(scale=np.float32(m["scale"]), zero_point=m["zero_point"]), q)
        return out

    def reference(self, inputs):
        """The NumPy twins' outputs. A stateful model (--stateful) runs N stacked inputs as N invokes in turn,
        its state carried from each to the next and kept for the next call, as the C does (reset_state)."""
        return run_reference(self.graph, self.report, inputs, self._state)

    def reset_state(self):
        """The reference's recurrent state back to zero (as <name>_reset_state in the C)."""
        self._state = {}

    def build(self, cc="gcc", extra_flags=()):
        """The generated C compiled by the host compiler and loaded (the scratch folder is removed at once)."""
        with tempfile.TemporaryDirectory(prefix="mcu_codegen_") as work:
            project = self.save(Path(work) / "project")
            return HostModel(compile_shared(project, self.name, cc, extra_flags, out_dir=work), self.report, self.name)


def run_reference(graph, report, inputs, state=None):
    """The twins on N stacked inputs: all at once, or for a stateful graph (persistent tensors) one invoke after
    the other, the state carried from each to the next (state: that dict, kept by the caller; None: from zero)."""
    feeds, batched = batch_inputs(report["inputs"], inputs)
    feeds = {t: feeds[m["name"]] for t, m in zip(graph.inputs, report["inputs"])}
    if graph.persistent():
        state = {} if state is None else state
        runs = [reference.execute(graph, {k: v[s:s + 1] for k, v in feeds.items()}, integer=True, state=state)
                for s in range(len(next(iter(feeds.values()))))]
        values = {k: np.concatenate([r[k] for r in runs]) for k in runs[0]}
    else:
        values = reference.execute(graph, feeds, integer=True)
    return unbatch({m["name"]: values[t] for t, m in zip(graph.outputs, report["outputs"])}, batched)


# -- the quantized graph in a file, for `mcu-codegen run --reference` (npz, loaded without pickle) ------------
def save_graph(graph):
    arrays, nodes = {}, []
    for i, n in enumerate(graph.nodes):
        params = {}
        for k, v in n.params.items():
            if isinstance(v, np.ndarray):
                arrays[f"n{i}.{k}"] = v
                params[k] = {"array": f"n{i}.{k}"}
            else:
                params[k] = (float(v) if isinstance(v, (float, np.floating)) else
                             int(v) if isinstance(v, np.integer) else [int(x) for x in v] if isinstance(v, list) else v)
        attrs = {"compute": n.attrs["compute"]} if n.attrs.get("compute") else {}  # picks the kernel and its twin
        if reference.float_kernel(graph, n, ops.get(n.op)):  # a float kernel's twin is float_ref(attrs)
            for k, v in n.attrs.items():
                if isinstance(v, np.ndarray):
                    arrays[f"n{i}.attr.{k}"] = v
                    attrs[k] = {"array": f"n{i}.attr.{k}"}
                else:  # JSON keeps ints and floats (an unbounded clamp as Infinity)
                    attrs[k] = [x.item() if hasattr(x, "item") else x for x in v] if isinstance(v, (list, tuple)) else v
        nodes.append(dict(op=n.op, inputs=n.inputs, outputs=n.outputs, name=n.name, params=params, attrs=attrs))
    tensors = {k: dict(shape=list(t.shape), dtype=t.dtype, scale=float(t.scale), zero_point=int(t.zero_point),
                       source=t.source, **({"persistent": True} if t.persistent else {}))
               for k, t in graph.tensors.items()}
    meta = json.dumps(dict(nodes=nodes, tensors=tensors, inputs=graph.inputs, outputs=graph.outputs), sort_keys=True)
    arrays["graph.json"] = np.frombuffer(meta.encode(), dtype=np.uint8)
    import io
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def load_graph(path):
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(bytes(z["graph.json"]).decode())
        nodes = []
        for n in meta["nodes"]:
            params = {k: (z[v["array"]] if isinstance(v, dict) else v) for k, v in n["params"].items()}
            if "scale" in params:
                params["scale"] = np.float32(params["scale"])
            attrs = {k: z[v["array"]] if isinstance(v, dict) else tuple(v) if isinstance(v, list) else v
                     for k, v in n.get("attrs", {}).items()}
            nodes.append(Node(n["op"], n["inputs"], n["outputs"], attrs, n["name"], params))
    tensors = {k: Tensor(k, tuple(t["shape"]), t["dtype"], np.float32(t["scale"]), t["zero_point"], t["source"],
                         persistent=t.get("persistent", False)) for k, t in meta["tensors"].items()}
    return Graph(tensors, nodes, meta["inputs"], meta["outputs"], str(path))
