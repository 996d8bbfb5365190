"""report.html: the facts of report.json as one self-contained page (no script, no network, no external file):
the conversion, the inputs and outputs, flash and RAM against the board's budget (converted with --board), a
picture of the arena (each buffer a box: time, as the node that writes it up to the last that reads it, across;
offset down) and the layer table. Every number is computed here; the template only loops and prints."""
import jinja2

from .emit import TEMPLATES

WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 960, 360, 70, 20, 40  # the arena picture, px
# one colour per op (in sorted op order)
PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#86bcb6", "#d37295", "#a0cbe8", "#ffbe7d", "#8cd17d", "#b6992d", "#499894"]
GREY = {"input": "#bab0ac", "scratch": "#79706e"}  # the caller's inputs; a kernel form's work buffer


def _bytes(n):
    return f"{n:,} B"


def arena_picture(rep):
    """The boxes, axes and legend of the arena's SVG, in pixels."""
    nodes, arena = rep["nodes"], max(1, rep["arena_size"])
    steps = len(nodes) + 2  # a column for the inputs (-1), one per node, one for the outputs (len(nodes))
    col = (WIDTH - LEFT - 10) / steps
    ops = sorted({n["op"] for n in nodes})
    colour = dict({op: PALETTE[k % len(PALETTE)] for k, op in enumerate(ops)}, **GREY)
    boxes = []
    for b in rep["buffers"]:
        writer = next((k for k in b["nodes"] if k >= 0), -1)
        op = "scratch" if b["scratch"] else nodes[writer]["op"] if writer >= 0 else "input"
        origin = "written by the caller (input)" if writer < 0 else f"of node {writer} ({nodes[writer]['op']})"
        y, h = TOP + b["offset"] / arena * HEIGHT, max(1.0, b["size"] / arena * HEIGHT)
        boxes.append(dict(x=f"{LEFT + (b['first'] + 1) * col + 1:.1f}", y=f"{y:.1f}",
                          w=f"{max(1.0, (b['last'] - b['first'] + 1) * col - 2):.1f}", h=f"{h:.1f}",
                          fill=colour[op],
                          title=f"{', '.join(b['tensors'])}: {_bytes(b['size'])} at offset {b['offset']:,}, "
                                f"{origin}, alive {b['first']}..{b['last']}"))
    ticks = [dict(x=f"{LEFT + (k + 1.5) * col:.1f}", label=str(k)) for k in range(len(nodes))
             if len(nodes) <= 40 or k % max(1, len(nodes) // 20) == 0]
    yticks = [dict(y=f"{TOP + f * HEIGHT:.1f}", label=f"{round(f * rep['arena_size']):,}") for f in (0, 0.25, 0.5,
                                                                                                      0.75, 1)]
    legend = [dict(op=op, fill=colour[op]) for op in [*ops, *GREY]]
    return dict(width=WIDTH, height=TOP + HEIGHT + BOTTOM, left=LEFT, top=TOP, frame_w=WIDTH - 10 - LEFT,
                frame_h=HEIGHT, ylabel_x=LEFT - 4, xtick_y=TOP + HEIGHT + 12, boxes=boxes, ticks=ticks, yticks=yticks,
                legend=legend, axis_y=TOP + HEIGHT + 32, axis_x=f"{(LEFT + WIDTH) / 2:.0f}")


def budget(rep):
    """Bars of flash and RAM against the board's budget (converted with --board), parts stacked."""
    board = rep.get("board")
    if not board:
        return None
    rows = []
    for what, total, parts in (("flash", board["flash_bytes"], [("weights", board["weights"]), ("code", board["code"]),
                                                                ("data", board["data"])]),
                               ("RAM", board["ram_bytes"], [("arena", board["arena"]), ("stack", board["stack"]),
                                                            ("data", board["data"])])):
        x, segments = 0.0, []
        for k, (name, size) in enumerate(p for p in parts if p[1]):
            w = 100 * size / total
            segments.append(dict(name=name, x=f"{x:.3f}", w=f"{max(w, 0.2):.3f}", fill=PALETTE[k],
                                 title=f"{name}: {_bytes(size)}"))
            x += w
        used = sum(size for _, size in parts)
        rows.append(dict(what=what, used=_bytes(used), total=_bytes(total), share=f"{100 * used / total:.1f}%",
                         segments=segments, parts=", ".join(f"{n} {_bytes(s)}" for n, s in parts if s)))
    regions = [dict(name=r["name"], size=_bytes(r["bytes"]), origin=f"{r['origin']:#010x}" if r["origin"] is not None
                    else "", arena=r["name"] == board["arena_region"],
                    share=f"{100 * board['arena'] / r['bytes']:.1f}%" if r["name"] == board["arena_region"] else "")
               for r in board["ram_regions"]]
    return dict(name=board["name"], description=board["description"], rows=rows, regions=regions)


def render(rep):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    measured = any("instructions" in n for n in rep["nodes"])
    layers = []
    for k, n in enumerate(rep["nodes"]):
        s = n["symbols"]
        ins = n.get("instructions")
        layers.append(dict(
            index=k, op=n["op"], name=n["name"], output="x".join(map(str, n["output"])), dtype=n["dtype"],
            quant="" if n["dtype"] == "float32" else f"{n['scale']:.6g} / {n['zero_point']}",
            macs=f"{n['macs']:,}" if n["macs"] else "", weights=f"{n['weight_bytes']:,}" if n["weight_bytes"] else "",
            place=f"{n['offset']:,} +{n['size']:,}", alive=f"{n['lifetime'][0]}..{n['lifetime'][1]}",
            alias=n["alias"], kernels=", ".join(s.get("kernels", [])), symbols=", ".join(
                [s["params"], *s["arrays"]]) if s else "",
            instructions=f"{ins:,}" if ins is not None else "",
            per_mac=f"{ins / n['macs']:.2f}" if ins is not None and n["macs"] else ""))
    options = [(k, ", ".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in
               sorted(rep.get("options", {}).items())]
    io = [dict(kind=kind[:-1], name=t["name"], dtype=t["dtype"], shape="x".join(map(str, t["shape"])),
               quant="" if t["dtype"] == "float32" and "quantized_as" not in t else
               f"{t.get('quantized_as', t)['scale']:.9g} / {t.get('quantized_as', t)['zero_point']}")
          for kind in ("inputs", "outputs") for t in rep[kind]]
    summary = [("model", rep["name"]), ("from", rep.get("source") or ""), ("mcu-codegen", rep["tool_version"]),
               ("model hash", rep["model_hash"]), ("arena", f"{_bytes(rep['arena_size'])} (live-set bound without "
                                                            f"in-place: {_bytes(rep['arena_lower_bound'])}; "
                                                            f"{rep['arena_strategy']})"),
               ("weights", _bytes(rep["weight_bytes"])), ("MACs", f"{rep['macs']:,}")]
    if "labels" in rep:
        summary.append(("labels", ", ".join(rep["labels"])))
    total = sum(n.get("instructions", 0) for n in rep["nodes"])
    return env.get_template("report.html.j2").render(
        name=rep["name"], summary=summary, options=options, io=io, budget=budget(rep), arena=arena_picture(rep),
        layers=layers, measured=measured, measured_on=rep.get("measured_on", ""),
        total=f"{total:,}" if measured else "")
