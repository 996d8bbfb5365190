"""mcu-codegen convert | run: the command line. Errors are one line on stderr and exit status 2."""
import argparse
import signal
import sys
import traceback
import warnings
from pathlib import Path

try:  # Ctrl-C while the libraries load: one line too
    import numpy as np

    from . import __version__, boards, calibration, emit, frontend, passes, planner, quantize, target
    from .api import Converter, DataWarning, Model, load_graph, run_reference
    from .build import HostModel
    from .ir import ConversionError
except KeyboardInterrupt:
    print("mcu-codegen: interrupted", file=sys.stderr)
    sys.exit(130)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="mcu-codegen", description="float ONNX -> int8 C for microcontrollers")
    parser.add_argument("--version", action="version", version=f"mcu-codegen {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("convert", help="convert a float ONNX or an int8 TFLite model into a C project")
    c.add_argument("model")
    c.add_argument("-o", "--output", help="the project folder to write (replaced atomically; a folder that holds "
                                          "anything mcu-codegen did not write is refused)")
    c.add_argument("--force", action="store_true",
                   help="replace the -o folder even if it holds files mcu-codegen did not write, or edited ones")
    c.add_argument("--calibration", help=".npz with one float array per model input, samples on axis 0")
    c.add_argument("--io", choices=quantize.IO_TYPES,
                   help="element type of inputs and outputs (default: the mode's: int8, int16 or float32)")
    _quantization_options(c)
    c.add_argument("--name", default="model", help="prefix of the C API (model_invoke, MODEL_ARENA_SIZE, ...)")
    c.add_argument("--board", help="generate for this board's core (its kernel forms only, and the arena they need) "
                                   "and check that the model fits it: a name (see `mcu-codegen boards`) or the "
                                   "path of a board profile (.toml)")
    c.add_argument("--measure", action="store_true",
                   help="with an emulated --board: count each layer's instructions in QEMU (the mean of 2 inputs) "
                        "for report.json and report.html")
    c.add_argument("--labels", help="a text file of class labels, one per line, one per class of the output: "
                                    "<name>_labels[] in the C")
    c.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="the shape of an input the model leaves open, e.g. input_1=1,49,10,1 (repeatable)")
    c.add_argument("--optimize", choices=emit.OPTIMIZE, default="speed",
                   help="speed (default): per-layer kernel forms for the core the C is compiled for (DSP, Helium); "
                        "size: one small portable kernel per op")
    c.add_argument("--planner", choices=sorted(planner.STRATEGIES),
                   help="one arena placement strategy (default: the best of all, then a local search)")
    c.add_argument("--dump", choices=("float", "quant", "plan"), help="print that stage's table and stop")
    c.add_argument("--stateful", action="store_true",
                   help="keep the recurrent state (LSTM, GRU, RNN, SVDF) from one invoke to the next (streaming on a "
                        "sliding window); <name>_reset_state() zeroes it")
    r = sub.add_parser("run", help="run a generated project on the host (gcc) or its NumPy reference")
    r.add_argument("project")
    r.add_argument("--input", required=True, help=".npz keyed by input name")
    r.add_argument("--output", help=".npz to write, keyed by output name (leave out to only print the outputs' "
                                    "shapes, or the counts with --count)")
    r.add_argument("--reference", action="store_true", help="run the NumPy integer reference instead of the C")
    r.add_argument("--board", help="run on this emulated board in QEMU instead of the host")
    r.add_argument("--count", action="store_true", help="with --board: print instructions per inference")
    r.add_argument("--per-layer", action="store_true", help="with --count: and per layer (node, op, MACs)")
    b = sub.add_parser("build", help="cross-compile a generated project for a board and print its size table")
    b.add_argument("project")
    b.add_argument("--board", required=True)
    s = sub.add_parser("starter", help="a minimal app that runs a converted model on test vectors and prints PASS or "
                                       "FAIL (a whole firmware for an emulated board)")
    s.add_argument("project", help="the folder mcu-codegen convert wrote")
    s.add_argument("--board", required=True, help="the board (see `mcu-codegen boards`)")
    s.add_argument("-o", "--output", required=True, help="the app folder to write (replaced as convert's -o is)")
    s.add_argument("--vectors", type=int, help="how many test vectors to generate (default 8)")
    s.add_argument("--input", help=".npz keyed by input name: the test vectors' inputs, instead of generated ones")
    s.add_argument("--seed", type=int, default=0, help="seed of the generated inputs (default 0)")
    s.add_argument("--force", action="store_true", help="replace the -o folder even if it holds other files")
    sub.add_parser("boards", help="list the board profiles")
    d = sub.add_parser("debug", help="per layer, the error of the quantized model against the float one")
    d.add_argument("model")
    d.add_argument("--calibration", help=".npz of float inputs to calibrate with (not needed for --mode float32)")
    d.add_argument("--eval", help=".npz of float inputs to measure on (default: the calibration data)")
    _quantization_options(d)
    e = sub.add_parser("evaluate", help="float vs quantized on a labelled set: accuracy, top-1 agreement, SQNR")
    e.add_argument("model")
    e.add_argument("--calibration", help=".npz of float inputs to calibrate with (not needed for --mode float32)")
    e.add_argument("--eval", required=True, help=".npz with the inputs (by input name) and optionally 'labels'")
    _quantization_options(e)
    k = sub.add_parser("compare", help="compare our reference with TFLM layer by layer on an int8 .tflite")
    k.add_argument("model")
    k.add_argument("--input", required=True, help=".npz with the int8 input (first sample used)")
    for p in (c, d, e):
        p.add_argument("--no-data-warnings", action="store_true",
                       help="do not warn about calibration data that looks wrong (few samples, no sample axis, "
                            "raw 0..255 values)")
    args = parser.parse_args(argv)
    previous = {s: signal.signal(s, _terminated) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return _main(args)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class _Terminated(BaseException):
    """SIGTERM or SIGHUP, raised where the process is so that every clean-up runs, as for Ctrl-C."""


def _terminated(signum, frame):
    raise _Terminated(signum)


def _main(args):
    warnings.showwarning = _show_warning
    if getattr(args, "no_data_warnings", False):
        warnings.simplefilter("ignore", DataWarning)
    try:
        if args.command == "convert":
            return _convert(args)
        if args.command == "compare":
            return _compare(args)
        if args.command in ("debug", "evaluate"):
            return _debug(args)
        if args.command == "boards":
            return _boards()
        if args.command == "build":
            return _build(args)
        if args.command == "starter":
            return _starter(args)
        return _run(args)
    except ConversionError as e:
        if args.debug:
            traceback.print_exc()
        print(f"mcu-codegen: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # whatever was being written was removed on the way out (output.write)
        print("mcu-codegen: interrupted", file=sys.stderr)
        return 130
    except _Terminated as e:
        print(f"mcu-codegen: interrupted ({signal.Signals(e.args[0]).name})", file=sys.stderr)
        return 128 + e.args[0]
    except BrokenPipeError:  # `mcu-codegen boards | head`: the reader has gone, nothing to say
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 141
    except Exception as e:  # a bug: say so, ask for a report
        if args.debug:
            traceback.print_exc()
        print(f"mcu-codegen: internal error ({type(e).__name__}: {_one_line(e)[:300]}); please report it with the model "
              "and the command (rerun as mcu-codegen --debug <command> ... for a traceback)", file=sys.stderr)
        return 1


def _show_warning(message, category, filename, lineno, file=None, line=None):
    hint = " (--no-data-warnings silences this)" if issubclass(category, DataWarning) else ""
    print(f"mcu-codegen: warning: {_one_line(message)}{hint}", file=sys.stderr)


# modes that refuse calibration data on the command line (float32 has always ignored it), and why
NO_DATA_MODES = {"dynamic": "its activations are quantized at run time, row by row",
                 "float16": "only its weights are rounded, to IEEE half"}


def _quantization_options(p):
    p.add_argument("--mode", default="int8", choices=tuple(quantize.MODES),
                   help="int8 (default, full integer), int16x8 (int16 activations, int8 weights), "
                        "float32 (no quantization), dynamic (int8 weights, float activations quantized at run time; "
                        "no calibration data), float16 (IEEE half weights, float32 arithmetic; no calibration data)")
    p.add_argument("--int16-layers", default="", metavar="NODE[,NODE...]",
                   help="mixed precision: these nodes (names as --dump float prints them) run in 16x8")
    p.add_argument("--calibration-method", default="minmax", choices=calibration.METHODS,
                   help="how activation ranges are chosen from the calibration data (default minmax)")
    p.add_argument("--weight-clipping", action="store_true",
                   help="per-channel weight ranges that minimize the squared error instead of max |w|")
    p.add_argument("--bias-correction", action="store_true",
                   help="biases absorb the mean output shift the quantized weights cause")
    p.add_argument("--float-fallback", action="store_true",
                   help="nodes whose op has no integer kernel run in float32 between a dequantize and a quantize")


def _configure(conv, args):
    conv.mode = args.mode
    conv.int16_layers = [n for n in args.int16_layers.split(",") if n]
    conv.calibration_method = args.calibration_method
    conv.weight_clipping, conv.bias_correction = args.weight_clipping, args.bias_correction
    conv.float_fallback = args.float_fallback


def _inputs_npz(path, names, what, allowed_extra=()):
    """{input name: array} from an .npz that has exactly the model's inputs (plus allowed_extra keys)."""
    data = _load_npz(path, what)
    own = sorted(set(data) - set(allowed_extra))
    if len(names) == 1 and len(own) == 1 and own[0] != names[0]:
        # one input, one array: its name is the user's (the MLPerf Tiny files say 'input'), not a mismatch
        data = dict(data)
        data[names[0]] = data.pop(own[0])
    extra = sorted(set(data) - set(names) - set(allowed_extra))
    if extra:
        raise ConversionError(f"{path}: arrays {extra} match no model input (inputs: {names})")
    for n in names:
        if n not in data:
            raise ConversionError(f"{path}: no array for model input '{n}'")
    return {n: data[n] for n in names}


def _progress(done, total):
    """Long calibrations only; a terminal sees one line counting up, a log one line at the end."""
    if total < 256:
        return
    if sys.stderr.isatty():
        print(f"\rcalibrating: {done}/{total} sample passes", end="\n" if done == total else "", file=sys.stderr,
              flush=True)
    elif done == total:
        print(f"calibrated: {total} sample passes", file=sys.stderr, flush=True)


def _debug(args):
    from . import debug
    from .api import calibration_samples
    conv = Converter(passes.canonicalize(frontend.load(args.model)))
    if conv.graph.quantized:
        raise ConversionError(f"{args.model}: debug and evaluate compare a float model with its quantization")
    names = conv.input_names()
    if args.calibration:
        conv.representative_dataset = [_inputs_npz(args.calibration, names, "calibration")]
    elif args.mode not in quantize.FLOAT_MODES:
        raise ConversionError(f"--calibration FILE.npz is required to quantize (--mode {args.mode}): "
                              + _calibration_needs(conv.graph))
    _configure(conv, args)
    model = conv.convert()
    source = args.eval or args.calibration
    if source is None:
        raise ConversionError("--eval FILE.npz is required: the inputs to measure on")
    data = _inputs_npz(source, names, "evaluation", allowed_extra=("labels",))
    x = calibration_samples(conv.graph, [data], f"{source}: the evaluation data", warn=False)[0]
    if args.command == "evaluate":
        labels = _load_npz(source, "evaluation").get("labels")
        for k, v in debug.evaluate(conv.graph, model.graph, x, labels).items():
            print(f"{k:20} {v:.4f}" if isinstance(v, float) else f"{k:20} {v}")
        return 0
    rows = debug.layer_errors(conv.graph, model.graph, x)
    print(_table(("op", "SQNR dB", "RMSE steps", "clipped", "node"),
                 [(r["op"], f"{r['sqnr_db']:.1f}", f"{r['rmse_lsb']:.2f}", f"{100 * r['clipped']:.2f}%", _name(r["node"]))
                  for r in rows]))
    print("\nSQNR: of each layer's output against the float model's; RMSE in steps of that output's scale; clipped:"
          " share of values beyond its quantized range")
    advice = debug.advice(rows, mode=args.mode, applied=[o for o in ("weight_clipping", "bias_correction")
                                                         if getattr(args, o)])
    if advice:
        print("layers that lose the most (SQNR drop from the layer before):")
    for row, drop, hint in advice:
        print(f"  {_name(row['node'])} ({row['op']}): -{drop:.1f} dB; {hint}")
    return 0


def _calibration_needs(graph):
    """What the calibration .npz must hold: one float array per input, samples on a new first axis."""
    arrays = [f"'{frontend.shown(t.source)}' (N, {', '.join(map(str, t.shape))})"
              for t in (graph.tensors[n] for n in graph.inputs)]
    return "one float array per model input, samples on the first axis: " + ", ".join(arrays)


def _first_line(e):
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _input_shapes(specs):
    shapes = {}
    for spec in specs:
        name, _, dims = spec.rpartition("=")
        try:
            shapes[name] = [int(d) for d in dims.split(",")]
        except ValueError:
            raise ConversionError(f"--input-shape '{spec}' is not NAME=D0,D1,...") from None
        if not name:
            raise ConversionError(f"--input-shape '{spec}' is not NAME=D0,D1,...")
    return shapes


def _one_line(message):
    """Whatever a message quotes from a model, it prints as one line."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in str(message))


def _load_npz(path, what):
    if not Path(path).is_file():
        raise ConversionError(f"{path}: no such {what} file")
    with open(path, "rb") as f:
        if f.read(2) != b"PK":  # numpy would try to unpickle anything that is not a zip or .npy file
            raise ConversionError(f"{path}: not an .npz file (np.savez writes one)")
    try:
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ConversionError(f"{path}: a single .npy array, not an .npz of named arrays")
            return {k: z[k] for k in z.files}
    except ConversionError:
        raise
    except ValueError as e:  # numpy refuses object arrays without pickle
        raise ConversionError(f"{path}: not a readable .npz without pickled objects ({_first_line(e)})") from None
    except Exception as e:  # a damaged zip fails in many ways (BadZipFile, EOFError, NotImplementedError, ...)
        raise ConversionError(f"{path}: not a readable .npz file ({type(e).__name__}: {_first_line(e)})") from None


def _convert(args):
    if args.dump is None and not args.output:
        raise ConversionError("-o/--output is required (or --dump to only print a stage)")
    graph = passes.canonicalize(frontend.load(args.model, _input_shapes(args.input_shape)))
    if args.dump == "float":
        print(dump_float(graph))
        return 0
    conv = Converter(graph)
    _configure(conv, args)
    conv.stateful = args.stateful
    if graph.quantized:
        if args.calibration:
            raise ConversionError(f"{args.model}: the model is quantized already; --calibration does not apply")
    elif args.calibration and args.mode in NO_DATA_MODES:
        raise ConversionError(f"--mode {args.mode} takes no calibration data ({NO_DATA_MODES[args.mode]}); "
                              "leave out --calibration")
    elif args.calibration:
        conv.representative_dataset = [_inputs_npz(args.calibration, conv.input_names(), "calibration")]
        conv.progress = _progress
    elif args.mode not in quantize.FLOAT_MODES:
        raise ConversionError("--calibration FILE.npz is required: " + _calibration_needs(graph))
    conv.inference_input_type = conv.inference_output_type = args.io
    conv.name = args.name
    conv.planner_strategy = args.planner
    conv.optimize = args.optimize
    if args.labels:
        conv.labels = _labels(args.labels, graph)
    if not emit.NAME_RE.match(args.name):
        raise ConversionError(f"--name '{args.name}' is not a lower-case C identifier of at most 31 characters")
    board = boards.load(args.board) if args.board else None
    if board:  # the board's core's forms only: the arena need not hold the other cores' scratch
        conv.isa = target.isa_macros(board)
    model = conv.convert()
    if args.dump == "quant":
        print(dump_quant(model.graph))
        return 0
    if args.dump == "plan":
        print(dump_plan(model))
        return 0
    fit = None
    if args.measure and not args.board:
        raise ConversionError("--measure needs --board (an emulated one: instructions are counted in QEMU)")
    if board:
        _warn_soft_float(model.report, board)
        fit = _fit(model, board, args.measure)
    model.save(args.output, force=args.force,
               inputs=frontend.files_read(args.model) + ([args.calibration] if args.calibration else []))
    rep = model.report
    print(f"wrote {args.output}: arena {rep['arena_size']} bytes (live-set bound without in-place: "
          f"{rep['arena_lower_bound']}), weights {rep['weight_bytes']} bytes, {rep['macs']} MACs, "
          f"{len(model.graph.nodes)} nodes")
    for kind in ("inputs", "outputs"):
        for t in rep[kind]:
            quant = "" if t["dtype"] == "float32" else f", scale {t['scale']:.9g}, zero point {t['zero_point']}"
            print(f"  {kind[:-1]} '{frontend.shown(t['name'])}': {t['dtype']} {tuple(t['shape'])}{quant}")
    if rep.get("state"):
        print(f"  stateful: {sum(r['size'] for r in rep['state'])} bytes of recurrent state kept across invokes "
              f"({len(rep['state'])} tensor(s)); call {rep['name']}_reset_state() before the first")
    if rep.get("float_fallback"):
        print(f"  {len(rep['float_fallback'])} node(s) fell back to float32: "
              + ", ".join(f"'{_name(n)}'" for n in rep["float_fallback"]))
    if fit:
        print(fit)
    return 0


def _labels(path, graph):
    """One label per line (a last newline ends the last line, it does not start an empty one), one per class."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise ConversionError(f"{path}: cannot read the labels ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise ConversionError(f"{path}: the labels are not UTF-8 text (byte {e.start})") from None
    try:
        return emit.check_labels(graph, text.splitlines())
    except ConversionError as e:
        raise ConversionError(f"{path}: {e}") from None


# instructions per inference on the Cortex-M0+ (mps2-an385-m0plus, libgcc's software float) over the int8 model's,
# measured on ad (bench/modes.py): float arithmetic without an FPU costs this much
SOFT_FLOAT_COST = {"float32": 29, "float16": 32, "hybrid": 2.4}


def _warn_soft_float(report, board):
    """A model with float kernels (float32, float16, dynamic range, float fallback) on a core without an FPU
    (convert, build and run with --board all say it). From report.json's kernel kind per node, so a project
    folder without its reference.npz (not needed by the firmware) still builds."""
    moves = ("reshape", "transpose", "pad", "concat")  # copies, no float arithmetic
    kinds = {n.get("kernel") for n in report["nodes"] if n["op"] not in moves}
    costly = sorted(k for k in kinds if k in SOFT_FLOAT_COST)
    if board.fpu == "none" and costly:
        cost = ", ".join(f"{k} kernels {SOFT_FLOAT_COST[k]}x" for k in costly)
        warnings.warn(f"{board.name} ({board.core}) has no FPU: this model's float arithmetic runs in software "
                      f"(libgcc); measured on ad on a Cortex-M0+, against the int8 model's instructions: {cost}")


def _fit(model, board, measure=False):
    """The size table against the board's budget, or a one-line error saying by how much it misses; measure: the
    instructions per layer on the (emulated) board, into the report."""
    import tempfile

    from .starter import generated_inputs
    if measure:
        target.require_emulated(board)
    with tempfile.TemporaryDirectory() as work:
        project = model.save(Path(work) / "project")
        s = target.sizes(project, model.name, board, model.arena_size, work)
        target.check_fit(s, board)
        if measure:
            layers = target.run_on_board(project, model.report, board, generated_inputs(model.report, 2),
                                         per_layer=True)[2]
    model.add_board_fit(board, s, target.arena_region(board, s.arena))
    if measure:
        model.add_layer_counts(board, layers)
    return target.size_table(s, board)


def _boards():
    rows = []
    for name in boards.names():
        b = boards.load(name)
        rows.append((name, b.core, b.fpu, f"{b.flash_bytes // 1024} KB", f"{b.ram_bytes // 1024} KB",
                     f"{b.clock_hz // 1000000} MHz", b.qemu_machine or "", b.description))
    print(_table(("board", "core", "fpu", "flash", "RAM", "clock", "emulated by", "description"), rows))
    return 0


def _project_report(project):
    import json
    project = Path(project)
    if not (project / "report.json").is_file():
        raise ConversionError(f"{project}: not a project written by mcu-codegen convert (no report.json)")
    return json.loads((project / "report.json").read_text())


def _build(args):
    import tempfile
    report = _project_report(args.project)
    board = boards.load(args.board)
    _warn_soft_float(report, board)
    with tempfile.TemporaryDirectory() as work:
        s = target.sizes(Path(args.project), report["name"], board, report["arena_size"], work)
    print(target.size_table(s, board))
    target.check_fit(s, board)
    return 0


def _starter(args):
    from . import starter
    report = starter.project_report(args.project)
    board = boards.load(args.board)
    inputs = None
    if args.input and args.vectors is not None:
        raise ConversionError("--vectors N generates N inputs, --input gives them: choose one")
    if args.input:
        inputs = _inputs_npz(args.input, [m["name"] for m in report["inputs"]], "input")
    count = starter.DEFAULT_VECTORS if args.vectors is None else args.vectors
    _, files, n = starter.write(args.project, board, args.output, inputs, count, args.seed, args.force,
                                [args.input] if args.input else [])
    vectors = f"{report['name']}_test_vectors.h"
    print(f"wrote {args.output}: {', '.join(sorted(files))}")
    print(f"  {vectors}: {n} test vectors, {starter.vector_bytes(report, n)} bytes of constants (flash)")
    if board.qemu_machine:
        import shlex
        print(f"  cd {shlex.quote(args.output)}")
        for line in starter.commands(board, report["name"]):
            print(f"  {line}")
    else:
        print(f"  {board.name} is not emulated: add main.c, port.c and {vectors} to a project for the board that "
              f"builds {args.project} (its start-up code, linker script and clocks are the vendor's)")
    return 0


def _run(args):
    project = Path(args.project)
    report = _project_report(project)
    if args.count and not args.board:
        raise ConversionError("--count needs --board (instructions are counted on an emulated Cortex-M)")
    if args.per_layer and not args.count:
        raise ConversionError("--per-layer needs --count --board")
    if args.reference and args.board:
        raise ConversionError("--reference runs the NumPy reference, --board the C on an emulated board: choose one")
    if args.output:
        _check_run_output(args.output, args.input, project)
    inputs = _inputs_npz(args.input, [m["name"] for m in report["inputs"]], "input")
    if args.reference:
        outputs = run_reference(load_graph(project / "reference.npz"), report, inputs)
    elif args.board:
        from .api import batch_inputs, unbatch
        feeds, batched = batch_inputs(report["inputs"], inputs)
        board = boards.load(args.board)
        _warn_soft_float(report, board)
        outputs, counts, *layers = target.run_on_board(project, report, board, feeds,
                                                       count=args.count, per_layer=args.per_layer)
        outputs = unbatch(outputs, batched)
        if layers:
            print(layer_table(report, layers[0]))
        if counts:
            mean = sum(counts) / len(counts)
            each = ", ".join(map(str, counts)) + "; " if len(counts) <= 8 else ""
            print(f"instructions per inference on {args.board}: {each}mean {mean:.0f}, min {min(counts)}, max "
                  f"{max(counts)} over {len(counts)} inputs ({mean / max(1, report['macs']):.2f} per MAC)")
    else:
        outputs = HostModel.from_dir(project).run(inputs)
    if args.output:
        _save_npz(args.output, outputs)
    shapes = ", ".join(f"{k} {v.shape} {v.dtype}" for k, v in outputs.items())
    print(f"wrote {args.output}: {shapes}" if args.output else f"outputs (not saved: no --output): {shapes}")
    return 0


def _check_run_output(output, input_path, project):
    """run's --output may not be its --input or lie inside the project folder (whose manifest it would spoil)."""
    out = Path(output).resolve()
    if Path(input_path).exists() and out == Path(input_path).resolve():
        raise ConversionError(f"--output {output} is the --input file; write the outputs to another file")
    if Path(project).resolve() in out.parents:
        raise ConversionError(f"--output {output} is inside the project folder {project}; write it elsewhere")


def _save_npz(path, arrays):
    """np.savez into a scratch file beside path, renamed over it when complete: a failure leaves path as it was."""
    import os
    path = Path(path)
    tmp = path.with_name(f".{path.name}.mcu-codegen-{os.getpid()}.npz")
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    except OSError as e:
        raise ConversionError(f"{path}: cannot write the outputs ({e.strerror or e})") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _compare(args):
    from . import tflite_frontend
    from .compare import compare
    if not (Path(args.model).is_file() and tflite_frontend.is_tflite(args.model)):
        raise ConversionError(f"{args.model}: compare takes a full-integer .tflite model (TFLM runs the same file)")
    rows = compare(args.model, _load_npz(args.input, "input"))
    first = next((r for r in rows if r[3]), None)
    print(_table(("node", "op", "output", "differing", "max LSB"), rows))
    if first is None:
        print(f"all {len(rows)} layers equal TFLM bit for bit")
        return 0
    print(f"first difference: {first[0]} ({first[1]}): {first[3]} values, up to {first[4]} LSB")
    return 3


def layer_table(report, layers):
    """Instructions per layer (mean over the inputs), its MACs and share of the total."""
    total = sum(np.mean(c) for _, c in layers)
    rows = []
    for node, counts in layers:
        n, mean = report["nodes"][node], float(np.mean(counts))
        rows.append((node, n["op"], "x".join(map(str, n["output"])), n["macs"], f"{mean:.0f}",
                     f"{mean / n['macs']:.2f}" if n["macs"] else "", f"{100 * mean / total:.1f}%", _name(n["name"])))
    return _table(("#", "op", "output", "MACs", "instructions", "per MAC", "share", "node"), rows)


def _name(name):
    """A node name in a table: escaped, long enough to paste into --int16-layers."""
    return frontend.shown(name, limit=300)


def _table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    return "\n".join("  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip() for r in [header, *rows])


def _shape(t):
    return "x".join(map(str, t.shape))


def dump_float(graph):
    rows = [(i, n.op, " ".join(_shape(graph.tensors[x]) for x in n.inputs), _shape(graph.tensors[n.outputs[0]]),
             n.attrs.get("act") or "", _name(n.name)) for i, n in enumerate(graph.nodes)]
    return _table(("#", "op", "inputs", "output", "clamp", "node"), rows)


def dump_quant(graph):
    rows = []
    for i, n in enumerate(graph.nodes):
        t = graph.tensors[n.outputs[0]]
        rows.append((i, n.op, _shape(t), t.dtype, f"{float(t.scale):.6g}", t.zero_point,
                     f"[{n.params.get('act_min', '')},{n.params.get('act_max', '')}]"
                     if "act_min" in n.params else "", _name(n.name)))
    return _table(("#", "op", "output", "dtype", "scale", "zp", "clamp", "node"), rows)


def dump_plan(model):
    g, p = model.graph, model.plan
    writer = {n.outputs[0]: f"{i} {n.op}" for i, n in enumerate(g.nodes)}
    scratch = {planner.scratch_name(n): f"{i} {n.op} (scratch)" for i, n in enumerate(g.nodes) if n.scratch}
    rows = [(b.offset, b.offset + b.size, b.size, f"{b.first}..{b.last}",
             ", ".join(scratch.get(t) or writer.get(t, "input") for t in b.tensors),
             "(its kernel's working memory)" if b.tensors[-1] in scratch else g.tensors[b.tensors[-1]].source[:50])
            for b in p.buffers]
    return (_table(("offset", "end", "bytes", "alive", "written by", "tensor"), rows)
            + f"\narena {p.arena_size} bytes ({p.strategy}), live-set lower bound {p.lower_bound}, "
              f"{len(p.overlaps)} in-place overlaps allowed")


if __name__ == "__main__":
    sys.exit(main())
