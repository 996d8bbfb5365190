"""Issue 14: report.json complete (per layer weight bytes, dtype, scale and zero point, C symbols, full names;
options, tool version, model hash, board fit, instructions per layer where measured) and report.html, a
self-contained page of the same facts, loaded in Debian's headless chromium: no console message, and its
screenshot shows the arena picture."""
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tflite
from mlperf import tflite_path
from PIL import Image

import mcu_codegen
from mcu_codegen import report_html

CLI = [sys.executable, "-m", "mcu_codegen.cli"]


@pytest.fixture(scope="module")
def kws_measured(tmp_path_factory):
    """convert --board mps2-an386 --measure: the board fit and the instructions per layer in the report."""
    out = tmp_path_factory.mktemp("kws") / "kws"
    r = subprocess.run([*CLI, "convert", tflite_path("kws"), "-o", out, "--name", "kws", "--board", "mps2-an386",
                        "--measure"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def tflite_tensor_names(path):
    model = tflite.Model.GetRootAsModel(open(path, "rb").read(), 0)
    sg = model.Subgraphs(0)
    return [sg.Tensors(sg.Operators(k).Outputs(0)).Name().decode() for k in range(sg.OperatorsLength())]


def test_report_json_is_complete(kws_measured):
    rep = json.loads((kws_measured / "report.json").read_text())
    source = (kws_measured / "kws.c").read_text()
    assert rep["tool_version"] == mcu_codegen.__version__ and re.fullmatch(r"[0-9a-f]{64}", rep["model_hash"])
    assert rep["options"] == {"board": "mps2-an386", "int16_layers": [], "io": ["int8", "int8"], "mode": "int8",
                              "name": "kws", "optimize": "speed", "planner": "best",
                              "isa": ["MCU_HAS_DSP", "MCU_HAS_FP16_CVT"]}
    assert rep["source"] == "kws_ref_model.tflite" and rep["measured_on"] == "mps2-an386"
    names = tflite_tensor_names(tflite_path("kws"))
    assert max(map(len, names)) > 120  # the full names, not the 60-character ones of messages
    assert [n["name"] for n in rep["nodes"]] == [f"#{k} {n['name'].split(' ')[1]} -> {names[k]}"
                                                 for k, n in enumerate(rep["nodes"])]
    for k, node in enumerate(rep["nodes"]):
        assert node["dtype"] == "int8" and isinstance(node["scale"], float) and -128 <= node["zero_point"] <= 127
        s = node["symbols"]
        if node["alias"]:
            assert s == {} and "instructions" not in node
            continue
        assert s["params"] == f"n{k}" and f"static const {s['params_type']} n{k} " in source
        arrays = re.findall(rf"static const \w+ (n{k}_\w+)\[(\d+)\]", source)
        assert sorted(s["arrays"]) == sorted(a for a, _ in arrays)
        ctype_bytes = {m.group(1): int(m.group(2)) * (4 if m.group(0).startswith("static const int32_t") else 1)
                       for m in re.finditer(rf"static const (?:int8_t|int32_t) (n{k}_\w+)\[(\d+)\]", source)}
        assert node["weight_bytes"] == sum(ctype_bytes.values())
        assert all(f"    {f}(&n{k}," in source for f in s["kernels"])
        assert node["instructions"] > 0
    assert rep["weight_bytes"] == sum(n["weight_bytes"] for n in rep["nodes"])
    board = rep["board"]
    assert board["name"] == "mps2-an386" and board["arena"] == rep["arena_size"] == 16256
    assert board["flash"] == board["code"] + board["weights"] + board["data"] and board["arena_region"] == "RAM"
    # every buffer of the plan, and each node's output in one of them
    spans = {(b["offset"], b["size"]) for b in rep["buffers"]}
    assert all(any(o <= n["offset"] and n["offset"] + n["size"] <= o + s for o, s in spans) for n in rep["nodes"])


def test_report_html_is_self_contained_and_escapes_model_strings(kws_measured):
    page = (kws_measured / "report.html").read_text()
    assert "<script" not in page.lower() and not re.search(r"\b(src|href)=|url\(|@import", page)
    assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://www.w3.org/2000/svg"] * page.count("<svg ")
    rep = json.loads((kws_measured / "report.json").read_text())
    assert page.count('<rect class="buffer"') == len(rep["buffers"])
    assert "Instructions measured on mps2-an386" in page
    hostile = dict(rep, name="kws", nodes=[dict(rep["nodes"][0], name='<script>alert("x")</script>')])
    hostile["buffers"] = [b for b in rep["buffers"] if b["first"] < 1]
    assert "<script>" not in report_html.render(hostile) and "&lt;script&gt;" in report_html.render(hostile)


def chromium(url, tmp_path, *args):
    """Debian's chromium, headless, its console on stderr."""
    if shutil.which("chromium") is None:
        pytest.fail("chromium not found: install the Debian package chromium (the README's set-up command)")
    profile = tmp_path / f"profile{len(list(tmp_path.iterdir()))}"
    return subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args, url],
                          capture_output=True, text=True, timeout=120)


def console(stderr):
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_messages_are_seen(tmp_path):
    """The check below can fail: a page that logs an error and throws shows both on chromium's stderr."""
    (tmp_path / "bad.html").write_text('<!DOCTYPE html><p>x</p><script>console.error("deliberate"); nothing();'
                                       '</script>')
    r = chromium((tmp_path / "bad.html").as_uri(), tmp_path, "--dump-dom")
    lines = console(r.stderr)
    assert len(lines) == 2 and '"deliberate"' in lines[0] and "Uncaught ReferenceError" in lines[1], r.stderr


def test_report_html_loads_in_chromium_and_shows_the_arena(kws_measured, tmp_path):
    url = (kws_measured / "report.html").as_uri()
    r = chromium(url, tmp_path, "--dump-dom")
    assert r.returncode == 0 and console(r.stderr) == [], r.stderr
    rep = json.loads((kws_measured / "report.json").read_text())
    assert r.stdout.count('class="buffer"') == len(rep["buffers"]) and "<table id=\"layers\">" in r.stdout
    shot = tmp_path / "report.png"
    r = chromium(url, tmp_path, f"--screenshot={shot}", "--window-size=1280,900", "--hide-scrollbars")
    assert r.returncode == 0 and console(r.stderr) == [], r.stderr
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    # the picture's frame: 70 px into the SVG, which follows the title (left margin 24 px, about 80 px down)
    frame = pixels[110:440, 100:1000].reshape(-1, 3)
    palette = {tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in report_html.PALETTE}
    coloured = [tuple(p) for p in frame if tuple(p) in palette]
    assert len(coloured) > 0.2 * len(frame), len(coloured) / len(frame)  # boxes, not a blank page
    assert len(set(coloured)) >= 2  # conv2d and depthwise boxes in their two colours
    print(f"\nreport.html in chromium: no console message, {100 * len(coloured) / len(frame):.0f}% of the arena "
          f"frame covered by {len(set(coloured))} box colours")


def test_report_without_board_says_so(tmp_path):
    conv = mcu_codegen.Converter.from_tflite(tflite_path("ad"))
    model = conv.convert()
    assert "board" not in model.report and "Converted without <code>--board</code>" in model.files["report.html"]
    assert "instructions" not in model.files["report.html"].split("<table id=\"layers\">")[1].split("</tr>")[0]

