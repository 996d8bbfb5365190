"""Stage 5: Graph + Plan -> the files of a self-contained C project (model.h, model.c, runtime/)."""
import json
import re
from pathlib import Path

import jinja2
import numpy as np

from . import __version__, ops
from .planner import alias_of

_PACKAGE = Path(__file__).resolve().parent
# installed wheel: inside the package; source checkout: the repository's top-level folders
TEMPLATES = next(p for p in (_PACKAGE / "templates", _PACKAGE.parent / "templates") if p.is_dir())
RUNTIME = next(p for p in (_PACKAGE / "runtime_c", _PACKAGE.parent / "runtime_c") if (p / "src").is_dir())
RUNTIME_HEADERS = ("mcu_nn.h", "mcu_fixedpoint.h")
C_TYPES = {"int8": "int8_t", "uint8": "uint8_t", "float32": "float", "int32": "int32_t", "int16": "int16_t",
           "int64": "int64_t", "uint16": "uint16_t"}
NAME_RE = re.compile(r"[a-z_][a-z0-9_]{0,30}\Z")


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


def emit(graph, plan, name="model"):
    """Returns {relative path: text}."""
    if not NAME_RE.match(name):
        from .ir import ConversionError
        raise ConversionError(f"--name '{name}' is not a lower-case C identifier of at most 31 characters")
    arrays, structs, calls, used = [], [], [], set()
    for i, node in enumerate(graph.nodes):
        mod = ops.get(node.op)
        ins = [graph.tensors[x] for x in node.inputs]
        out = graph.tensors[node.outputs[0]]
        comment = c_comment(f"{node.name}: {node.op} {' '.join(shape_str(t.shape) for t in ins)} -> {shape_str(out.shape)}")
        if getattr(mod, "ALIAS", False):
            calls.append(dict(comment=comment + " (alias, no copy)", code=None))
            continue
        fields = []
        for key, value in node.params.items():
            if isinstance(value, np.ndarray):
                array = f"n{i}_{key}"
                arrays.append(dict(name=array, ctype=C_TYPES[str(value.dtype)], length=value.size,
                                   lines=c_array_lines(value)))
                fields.append((key, array))
            else:
                fields.append((key, c_value(value)))
        function, params_type = ops.kernel(mod, ins[0].dtype if ins else None, out.dtype)
        used.add(function)
        structs.append(dict(name=f"n{i}", ctype=params_type, fields=fields))
        args = [_arena_pointer(t, plan, const=True) for t in ins]
        if getattr(mod, "INPUTS_AS_ARRAY", False):  # a kernel of any number of inputs: a C99 compound literal
            args = [f"(const {C_TYPES[ins[0].dtype]} *const[]){{{', '.join(args)}}}"]
        args.append(_arena_pointer(out, plan, const=False))
        calls.append(dict(comment=comment, code=f"{function}(&n{i}, {', '.join(args)});"))
    used = sorted(used)

    def io(names):
        return [dict(index=k, size=graph.tensors[n].size, ctype=C_TYPES[graph.tensors[n].dtype],
                     scale=c_value(graph.tensors[n].scale), zero_point=graph.tensors[n].zero_point,
                     offset=plan.offsets[n], comment=c_comment(f"'{graph.tensors[n].source}' "
                                                               f"{shape_str(graph.tensors[n].shape)}"))
                for k, n in enumerate(names)]

    ctx = dict(name=name, NAME=name.upper(), version=__version__, source=c_comment(Path(graph.source).name or "model"),
               arena_size=plan.arena_size, align=4, inputs=io(graph.inputs), outputs=io(graph.outputs),
               arrays=arrays, structs=structs, calls=calls, kernels=used)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    files = {f"{name}.h": env.get_template("model.h.j2").render(ctx),
             f"{name}.c": env.get_template("model.c.j2").render(ctx)}
    for header in RUNTIME_HEADERS:
        files[f"runtime/{header}"] = (RUNTIME / "include" / header).read_text()
    for kernel in used:
        files[f"runtime/{kernel}.c"] = (RUNTIME / "src" / f"{kernel}.c").read_text()
    files["report.json"] = json.dumps(report(graph, plan, name), indent=1, sort_keys=True) + "\n"
    return files


def report(graph, plan, name="model"):
    nodes = []
    for node in graph.nodes:
        mod = ops.get(node.op)
        ins = [graph.tensors[x] for x in node.inputs]
        out = graph.tensors[node.outputs[0]]
        buf = next(b for b in plan.buffers if out.name in b.tensors)
        nodes.append(dict(name=node.name, op=node.op, inputs=[list(t.shape) for t in ins], output=list(out.shape),
                          macs=mod.macs(node.attrs, [t.shape for t in ins], out.shape) if node.attrs else 0,
                          offset=plan.offsets[out.name], size=out.nbytes, alias=alias_of(graph, node) is not None,
                          lifetime=[buf.first, buf.last]))
    weights = sum(v.nbytes for n in graph.nodes for v in (n.params or {}).values() if isinstance(v, np.ndarray))

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
    return dict(name=name, arena_size=plan.arena_size, arena_lower_bound=plan.lower_bound,
                arena_strategy=plan.strategy, weight_bytes=int(weights),
                macs=sum(n["macs"] for n in nodes), inputs=io(graph.inputs), outputs=io(graph.outputs), nodes=nodes)
