"""Stage 5: Graph + Plan -> the files of a self-contained C project (model.h, model.c, runtime/, build files)."""
import hashlib
import json
import re
from pathlib import Path

import jinja2
import numpy as np

from . import __version__, ops
from .reference import kernel_kind
from .frontend import shown
from .planner import alias_of, scratch_name

_PACKAGE = Path(__file__).resolve().parent
# installed wheel: inside the package; source checkout: the repository's top-level folders
TEMPLATES = next(p for p in (_PACKAGE / "templates", _PACKAGE.parent / "templates") if p.is_dir())
RUNTIME = next(p for p in (_PACKAGE / "runtime_c", _PACKAGE.parent / "runtime_c") if (p / "src").is_dir())
# every header of the runtime goes out with every model (the kernels' .inc files include them by name)
RUNTIME_HEADERS = tuple(sorted(p.name for p in (RUNTIME / "include").glob("*.h")))
# speed: an op's faster forms where its params allow (ops' variants(): by shape and by instruction set);
# size: only the one small portable kernel per op
OPTIMIZE = ("speed", "size")
C_TYPES = {"int8": "int8_t", "uint8": "uint8_t", "float32": "float", "int32": "int32_t", "int16": "int16_t",
           "int64": "int64_t", "uint16": "uint16_t"}
# the project's page, for the "more info" link of the PlatformIO and Arduino library metadata
HOMEPAGE = "https://pypi.org/project/mcu-codegen/"
NAME_RE = re.compile(r"[a-z_][a-z0-9_]{0,30}\Z")
# target names CMake keeps for itself (--name becomes the library target of the generated CMakeLists.txt)
CMAKE_RESERVED = {"all", "clean", "help", "install", "preinstall", "package", "package_source", "test",
                  "edit_cache", "rebuild_cache"}


def c_comment(text, limit=120):
    """Model strings are data: printable ASCII only, no comment terminators, one line."""
    text = "".join(ch if " " <= ch <= "~" and ch != "\\" else "?" for ch in str(text))
    text = text.replace("*/", "*?").replace("/*", "/?")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def c_value(v):
    """An exact C literal for an int, a float32 or a short list of them."""
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(c_value(x) for x in v) + "}"
    if isinstance(v, (float, np.floating)):
        f = float(np.float32(v))
        return repr(f) + "f" if np.isfinite(f) else "0.0f"
    v = int(v)
    if v == -(1 << 63) or abs(v) >= (1 << 31):  # int64 (16x8 biases): the literal needs its suffix
        return f"INT64_C({v})"
    return "(-2147483647 - 1)" if v == -(1 << 31) else str(v)


def c_array_lines(values, per_line=24):
    flat = [c_value(x) for x in np.asarray(values).ravel()]
    return [", ".join(flat[i:i + per_line]) for i in range(0, len(flat), per_line)]


def _arena_pointer(tensor, plan, const):
    """A typed pointer into the arena. Wider types go through void *: their offsets are aligned by the planner
    and the arena by the caller (MODEL_ARENA_ALIGN), which the compiler cannot see (clang -Wcast-align)."""
    ctype = C_TYPES[tensor.dtype]
    qualifier = "const " if const else ""
    via = "(void *)" if tensor.itemsize > 1 else ""
    return f"({qualifier}{ctype} *){via}(a + {plan.offsets[tensor.name]})"


def shape_str(shape):
    return "x".join(str(d) for d in shape)


def form_conditions(forms):
    """{function: the preprocessor condition under which the #if chain of call_lines calls it (None: always)}."""
    conditions, earlier = {}, []
    for macro, function in forms:
        terms = [f"!{m}" for m in earlier] + ([macro] if macro else [])
        conditions[function] = " && ".join(terms) or None
        earlier.append(macro)
    return conditions


def include_conditions(chains):
    """Each kernel source included under the condition of its calls, so that no core compiles a form it never
    calls (a static function defined and unused is a warning): {function: condition or None}."""
    out = {}
    for forms in chains:
        for function, cond in form_conditions(forms).items():
            if function in out and (out[function] is None or cond is None):
                out[function] = None
            elif function in out and cond not in out[function].split(" || "):
                out[function] = f"{out[function]} || {cond}"
            else:
                out.setdefault(function, cond)
    return out


def call_lines(forms, args, scratch_args=None):
    """The call of a kernel in its forms [(selecting macro or None, function)]: one line, or an #if chain;
    scratch_args: {function: its arguments} for the forms that also take their scratch buffer."""
    scratch_args = scratch_args or {}
    if len(forms) == 1:
        return [f"    {forms[0][1]}({scratch_args.get(forms[0][1], args)});"]
    lines = []
    for k, (macro, function) in enumerate(forms):
        lines.append(f"#if {macro}" if k == 0 else f"#elif {macro}" if macro else "#else")
        lines.append(f"    {function}({scratch_args.get(function, args)});")
    return lines + ["#endif"]


def _kernel(graph, node, mod, in_dtype, out_dtype):
    """(C function, params type) of the node's op for its types (and attrs["compute"]: hybrid, float16), or a
    one-line error naming the node."""
    from .ir import ConversionError
    try:
        return ops.kernel(mod, in_dtype, out_dtype, node.attrs)
    except ConversionError as e:  # an op without a kernel for this type (e.g. no int16 one)
        raise ConversionError(f"{graph.source}: node '{shown(node.name)}' ({node.op}): {e}") from None


def forms_of(graph, node, optimize="speed", isa=None):
    """The kernel forms a node's call chooses among [(selecting macro or None, function)]: its op's faster forms
    for this shape (variants) unless optimize is "size", else the one kernel. isa: the selecting macros a target
    core has (target.isa_macros): only the form that core takes (the first whose macro it has) and the portable
    one (for a build for another core: the same integers), so the arena holds no other core's scratch; None:
    every core's."""
    mod = ops.get(node.op)
    ins = [graph.tensors[x] for x in node.inputs]
    in_dtype, out_dtype = ins[0].dtype if ins else None, graph.tensors[node.outputs[0]].dtype
    function, _ = _kernel(graph, node, mod, in_dtype, out_dtype)
    forms = ((optimize == "speed" and hasattr(mod, "variants")
              and mod.variants(node.params, ops.kernel_type(mod, in_dtype, out_dtype, node.attrs)))
             or [(None, function)])
    if isa is None:
        return forms
    taken = next(((m, f) for m, f in forms if m in isa), None)
    return [form for form in forms if form == taken or form[0] is None]


def scratch_forms(graph, node, optimize="speed", isa=None):
    """{function: scratch bytes} of the node's forms that take a scratch buffer (an op's SCRATCH table: function
    -> bytes for the params; 0 still takes the argument, as NULL)."""
    table = getattr(ops.get(node.op), "SCRATCH", None)
    if not table:
        return {}
    return {f: table[f](node.params) for _, f in forms_of(graph, node, optimize, isa) if f in table}


def assign_scratch(graph, optimize="speed", isa=None):
    """Before planning: each node's scratch bytes, the most any of its forms needs (the arena holds it while the
    node runs, whichever form the compiler picks)."""
    for node in graph.nodes:
        node.scratch = max(scratch_forms(graph, node, optimize, isa).values(), default=0)


def c_string(text):
    """A C string literal of any text: printable ASCII as is, the rest (and quotes, backslashes, '?' against
    trigraphs, '*' and '/' so that no comment delimiter appears) as three-digit octal escapes of its UTF-8 bytes."""
    out = "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\?*/' else f"\\{b:03o}" for b in text.encode())
    return f'"{out}"'


def model_hash(files, name):
    """SHA-256 of what the C computes: <name>.c without its comments (so the model's names, which reach only
    comments, and the source file's name do not count) and the runtime files it includes, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in files if p == f"{name}.c" or p.startswith("runtime/")):
        text = re.sub(r"/\*.*?\*/", "", files[path], flags=re.S) if path == f"{name}.c" else files[path]
        digest.update(f"{path}\0{len(text)}\0{text}".encode())
    return digest.hexdigest()


def emit(graph, plan, name="model", optimize="speed", labels=None, options=None, isa=None):
    """Returns {relative path: text}. labels: class names of the model's one output (its last axis), or None;
    options: the conversion's options, for the report; isa: as forms_of's."""
    from .ir import ConversionError
    if not NAME_RE.match(name):
        raise ConversionError(f"--name '{name}' is not a lower-case C identifier of at most 31 characters")
    if name in CMAKE_RESERVED:
        raise ConversionError(f"--name '{name}' is a target name CMake reserves; choose another")
    if optimize not in OPTIMIZE:
        raise ConversionError(f"optimize '{optimize}' is not one of {', '.join(OPTIMIZE)}")
    arrays, structs, calls, chains, symbols = [], [], [], [], {}
    array_names, struct_names = {}, {}  # identical contents -> one symbol (an unrolled LSTM's steps share them)
    for i, node in enumerate(graph.nodes):
        mod = ops.get(node.op)
        ins = [graph.tensors[x] for x in node.inputs]
        out = graph.tensors[node.outputs[0]]
        shapes = " ".join(shape_str(t.shape) for t in ins)
        comment = c_comment(f"{node.name}: {node.op} {shapes} -> {shape_str(out.shape)}")
        if getattr(mod, "ALIAS", False):
            calls.append(dict(comment=comment + " (alias, no copy)", lines=[]))
            continue
        fields = []
        for key, value in node.params.items():
            if optimize == "size" and key in getattr(mod, "SPEED_PARAMS", ()):
                continue  # read only by the faster forms, which size does not call: the field stays NULL
            if isinstance(value, np.ndarray):
                contents = (str(value.dtype), value.size, value.tobytes())
                if contents not in array_names:
                    array_names[contents] = f"n{i}_{key}"
                    arrays.append(dict(name=f"n{i}_{key}", ctype=C_TYPES[str(value.dtype)], length=value.size,
                                       lines=c_array_lines(value)))
                fields.append((key, array_names[contents]))
            else:
                fields.append((key, c_value(value)))
        in_dtype = ins[0].dtype if ins else None
        function, params_type = _kernel(graph, node, mod, in_dtype, out.dtype)
        forms = forms_of(graph, node, optimize, isa)
        chains.append(forms)
        params = struct_names.setdefault((params_type, tuple(fields)), f"n{i}")
        if params == f"n{i}":
            structs.append(dict(name=params, ctype=params_type, fields=fields))
        symbols[i] = dict(params=params, params_type=params_type, kernels=[f for _, f in forms],
                          arrays=[value for key, value in fields if isinstance(node.params.get(key), np.ndarray)])
        args = [_arena_pointer(t, plan, const=True) for t in ins[:1]]
        if getattr(mod, "STATE_ARGS", 0):  # the state it updates in place (--stateful), or NULL: in its scratch
            args += [_arena_pointer(t, plan, const=False) for t in ins[1:]] or ["0"] * mod.STATE_ARGS
        else:
            args += [_arena_pointer(t, plan, const=True) for t in ins[1:]]
        if getattr(mod, "INPUTS_AS_ARRAY", False):  # a kernel of any number of inputs: a C99 compound literal
            args = [f"(const {C_TYPES[ins[0].dtype]} *const[]){{{', '.join(args)}}}"]
        args.append(_arena_pointer(out, plan, const=False))
        args = f"&{params}, {', '.join(args)}"
        scratch = f"(void *)(a + {plan.offsets[scratch_name(node)]})" if node.scratch else "0"
        scratch_args = {f: f"{args}, {scratch}" for f in scratch_forms(graph, node, optimize, isa)}
        calls.append(dict(comment=comment, lines=call_lines(forms, args, scratch_args), node=i))
    conditions = include_conditions(chains)
    used = sorted(conditions)

    def io(names):
        return [dict(index=k, size=graph.tensors[n].size, ctype=C_TYPES[graph.tensors[n].dtype],
                     shape=list(graph.tensors[n].shape), shape_init=c_value(list(graph.tensors[n].shape)),
                     scale=c_value(graph.tensors[n].scale), zero_point=graph.tensors[n].zero_point,
                     offset=plan.offsets[n], comment=c_comment(f"'{graph.tensors[n].source}' "
                                                               f"{shape_str(graph.tensors[n].shape)}"))
                for k, n in enumerate(names)]

    ctx = dict(name=name, NAME=name.upper(), version=__version__, source=c_comment(Path(graph.source).name or "model"),
               arena_size=plan.arena_size, align=4, inputs=io(graph.inputs), outputs=io(graph.outputs),
               state=state_regions(graph, plan), state_size=sum(r["size"] for r in state_regions(graph, plan)),
               arrays=arrays, structs=structs, calls=calls,
               kernels=[dict(name=k, condition=conditions[k]) for k in used],
               labels=[c_string(x) for x in check_labels(graph, labels)] if labels is not None else None)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    kernel_sources = {k: (RUNTIME / "src" / f"{k}.c").read_text() for k in used}
    ctx["libm"] = any("#include <math.h>" in text for text in kernel_sources.values())
    files = {f"{name}.c": env.get_template("model.c.j2").render(ctx)}
    for header in RUNTIME_HEADERS:
        files[f"runtime/{header}"] = (RUNTIME / "include" / header).read_text()
    for kernel, text in kernel_sources.items():  # .inc, not .c: a build that compiles every .c it finds must not
        files[f"runtime/{kernel}.inc"] = text     # compile them again (two models would define them twice)
    ctx["hash"] = model_hash(files, name)
    files[f"{name}.h"] = env.get_template("model.h.j2").render(ctx)
    files.update(build_files(env, ctx))
    rep = dict(report(graph, plan, name, symbols, optimize), model_hash=ctx["hash"], tool_version=__version__,
               options=dict(options or {}, name=name, optimize=optimize),
               source=Path(graph.source).name if graph.source else None)
    if labels is not None:
        rep["labels"] = list(labels)
    files.update(report_files(rep))
    return files


def state_regions(graph, plan):
    """The persistent tensors (--stateful): where each lives in the arena, its bytes, and the byte that fills it
    with the real value 0 (an int8 state's zero point; 0 for int16 and float32; an int16 state with a zero point,
    an SVDF's int8 state in int16 values, is filled value by value)."""
    return [dict(offset=plan.offsets[n], size=graph.tensors[n].nbytes, dtype=graph.tensors[n].dtype,
                 fill=graph.tensors[n].zero_point % 256 if graph.tensors[n].dtype == "int8" else 0,
                 zero_point=int(graph.tensors[n].zero_point), scale=float(graph.tensors[n].scale),
                 shape=list(graph.tensors[n].shape), comment=c_comment(f"'{graph.tensors[n].source}' "
                                                                       f"{shape_str(graph.tensors[n].shape)}"))
            for n in graph.persistent()]


def report_files(rep):
    """report.json and report.html of a report (the same facts: the page is drawn from the JSON)."""
    from . import report_html
    return {"report.json": json.dumps(rep, indent=1, sort_keys=True) + "\n", "report.html": report_html.render(rep)}


def check_labels(graph, labels):
    """Class labels: one per class of the model's one output (its last axis), none empty or multi-line."""
    from .frontend import shown
    from .ir import ConversionError
    labels = list(labels)
    if len(graph.outputs) != 1:
        raise ConversionError(f"labels: the model has {len(graph.outputs)} outputs; labels name the classes of one")
    out = graph.tensors[graph.outputs[0]]
    if len(labels) != out.shape[-1]:
        raise ConversionError(f"labels: {len(labels)} given, but output '{shown(out.source)}' "
                              f"{shape_str(out.shape)} has {out.shape[-1]} classes (its last axis)")
    for k, label in enumerate(labels):
        if not isinstance(label, str) or not label.strip() or "\n" in label or "\r" in label:
            raise ConversionError(f"labels: label {k + 1} ({label!r}) is not one non-empty line of text")
    return labels


def build_files(env, ctx):
    """The files other build systems read: CMake, Make, Zephyr module, PlatformIO and Arduino library metadata."""
    name = ctx["name"]
    # PlatformIO and Arduino library names: letters, digits and single dashes inside
    library = re.sub("-+", "-", name.replace("_", "-")).strip("-") or "model"
    ctx = dict(ctx, library=library, homepage=HOMEPAGE, kconfig=f"MCU_CODEGEN_{ctx['NAME']}",
               zephyr_module=f"mcu-codegen-{library}")
    files = {"CMakeLists.txt": "CMakeLists.txt.j2", f"{name}.mk": "model.mk.j2",
             "library.properties": "library.properties.j2", "zephyr/module.yml": "zephyr_module.yml.j2",
             "zephyr/CMakeLists.txt": "zephyr_CMakeLists.txt.j2", "zephyr/Kconfig": "zephyr_Kconfig.j2"}
    files = {path: env.get_template(f"buildsys/{template}").render(ctx) for path, template in files.items()}
    build = {"srcDir": ".", "includeDir": ".", "srcFilter": f"+<{name}.c>"}  # runtime/ is included by it
    if ctx["libm"]:
        build["flags"] = "-lm"
    pio = {"name": library, "version": ctx["version"],
           "description": f"The neural network {name} as plain C, generated by mcu-codegen {ctx['version']} "
                          f"from {ctx['source']}",
           "keywords": ["neural-network", "tinyml", "mcu-codegen"], "homepage": HOMEPAGE,
           "frameworks": "*", "platforms": "*", "headers": f"{name}.h", "build": build}
    files["library.json"] = json.dumps(pio, indent=2) + "\n"
    return files


def report(graph, plan, name="model", symbols=None, optimize="speed"):
    """What report.json says of the model: sizes, I/O, and per node its shapes, output quantization, MACs, weight
    bytes (the arrays emit writes: a size build leaves out the ops' SPEED_PARAMS), arena place and lifetime and C
    symbols (symbols: node index -> {params, arrays, kernels}); the arena's buffers (offset, size, first and last
    node, the tensors sharing it)."""
    nodes, writer = [], {n.outputs[0]: i for i, n in enumerate(graph.nodes)}
    seen = set()  # a node's weight bytes are the arrays it is the first to use (emit keeps one of each)
    for i, node in enumerate(graph.nodes):
        mod = ops.get(node.op)
        ins = [graph.tensors[x] for x in node.inputs]
        out = graph.tensors[node.outputs[0]]
        buf = next(b for b in plan.buffers if out.name in b.tensors)
        params = []
        for k, v in (node.params or {}).items():
            if optimize == "size" and k in getattr(mod, "SPEED_PARAMS", ()):
                continue
            if isinstance(v, np.ndarray) and (str(v.dtype), v.size, v.tobytes()) not in seen:
                seen.add((str(v.dtype), v.size, v.tobytes()))
                params.append(v)
        nodes.append(dict(name=node.name, op=node.op, inputs=[list(t.shape) for t in ins], output=list(out.shape),
                          macs=mod.macs(node.attrs, [t.shape for t in ins], out.shape) if node.attrs else 0,
                          offset=plan.offsets[out.name], size=out.nbytes, alias=alias_of(graph, node) is not None,
                          lifetime=[buf.first, buf.last], dtype=out.dtype, scale=float(out.scale),
                          zero_point=int(out.zero_point), weight_bytes=int(sum(v.nbytes for v in params)),
                          kernel=kernel_kind(graph, node, mod), symbols=(symbols or {}).get(i, {})))
    scratch = {scratch_name(n): i for i, n in enumerate(graph.nodes) if n.scratch}  # a kernel's work buffer

    def shown_as(x):
        return graph.tensors[x].source if x in graph.tensors else f"{graph.nodes[scratch[x]].name} (scratch)"
    buffers = [dict(offset=b.offset, size=b.size, first=b.first, last=b.last, scratch=b.tensors[0] in scratch,
                    nodes=[writer.get(x, scratch.get(x, -1)) for x in b.tensors],
                    tensors=[shown_as(x) for x in b.tensors])
               for b in sorted(plan.buffers, key=lambda b: (b.offset, b.first))]

    def io(names):
        rows = []
        for n in names:
            t = graph.tensors[n]
            row = dict(name=t.source, shape=list(t.shape), dtype=t.dtype, scale=float(t.scale),
                       zero_point=int(t.zero_point), offset=plan.offsets[n])
            edge = graph.producer(n) if n in graph.outputs else next(iter(graph.consumers(n)), None)
            if t.dtype == "float32" and edge is not None and edge.op in ("quantize", "dequantize"):
                inner = graph.tensors[(edge.outputs if edge.op == "quantize" else edge.inputs)[0]]
                row["quantized_as"] = dict(dtype=inner.dtype, scale=float(inner.scale),
                                           zero_point=int(inner.zero_point))
            rows.append(row)
        return rows
    fallback = [n.name for n in graph.nodes if n.attrs.get("float_fallback")]  # only listed when there are some
    extra = dict(float_fallback=fallback) if fallback else {}
    state = [dict(r, name=graph.tensors[n].source) for n, r in zip(graph.persistent(), state_regions(graph, plan))]
    if state:  # --stateful: what <name>_reset_state zeroes
        extra["state"] = [{k: v for k, v in r.items() if k != "comment"} for r in state]
    return dict(name=name, arena_size=plan.arena_size, arena_lower_bound=plan.lower_bound,
                arena_strategy=plan.strategy, weight_bytes=sum(n["weight_bytes"] for n in nodes), buffers=buffers,
                macs=sum(n["macs"] for n in nodes), inputs=io(graph.inputs), outputs=io(graph.outputs), nodes=nodes,
                **extra)
