"""Writes the broken and hostile inputs of tests/bad_inputs/ and cases.json (each case: the command's
arguments and a fragment its one-line error must contain). Deterministic; rerun after changing a case:
    python3 tests/bad_inputs/make_corpus.py
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from helpers import onnx_model  # noqa: E402

SHARED = HERE.parents[2] / "shared" / "models" / "mlperf-tiny"
rng = np.random.default_rng(0)
cases = []


def w(*shape):
    return rng.normal(0, 0.3, shape).astype(np.float32)


def fc_model(weight=None, name="fc", opset=13, x_shape=(1, 4)):
    weight = w(4, x_shape[-1]) if weight is None else weight
    node = helper.make_node("Gemm", ["x", "w"], ["y"], name=name, transB=1)
    return onnx_model([node], [("x", list(x_shape))], [("y", [x_shape[0], weight.shape[0]])], {"w": weight}, opset)


def save(name, model_or_bytes):
    data = model_or_bytes if isinstance(model_or_bytes, bytes) else model_or_bytes.SerializeToString()
    (HERE / name).write_bytes(data)
    return name


def case(name, args, expect):
    cases.append({"name": name, "args": args, "expect": expect})


def convert(model_file, *extra, out="OUT"):
    return ["convert", model_file, "-o", out, "--calibration", "good_calib.npz", *extra]


# -- a good model and good data, for the cases that break only one thing ----------------------------------------
save("good.onnx", fc_model())
np.savez(HERE / "good_calib.npz", x=np.concatenate([rng.normal(0, 1, (8, 1, 4)),  # 32 samples: no DataWarning
                                                    np.random.default_rng(1).normal(0, 1, (24, 1, 4))]).astype(np.float32))

# -- not a model, truncated, corrupted ----------------------------------------------------------------------------
save("not_a_model.onnx", b"this is a text file, not a protobuf\n")
case("not a model", convert("not_a_model.onnx"), "not a readable ONNX model")
save("empty.onnx", b"")
case("empty file", convert("empty.onnx"), "the ONNX graph has no nodes")
good = (HERE / "good.onnx").read_bytes()
save("truncated.onnx", good[: len(good) // 2])
case("truncated protobuf", convert("truncated.onnx"), "not a readable ONNX model")
corrupt = bytearray(good)
corrupt[10:40] = b"\xff" * 30
save("corrupted.onnx", bytes(corrupt))
case("corrupted protobuf", convert("corrupted.onnx"), "not a readable ONNX model")
case("no such file", convert("missing.onnx"), "no such file")

# -- opsets --------------------------------------------------------------------------------------------------------
save("opset_22.onnx", fc_model(opset=22))
case("opset newer than supported", convert("opset_22.onnx"), "ONNX opset 22 is not supported (opsets 7 to 21")
save("opset_6.onnx", fc_model(opset=6))  # 7 to 10 are upgraded by onnx's version converter
case("opset older than supported", convert("opset_6.onnx"), "ONNX opset 6 is not supported")

# -- shapes --------------------------------------------------------------------------------------------------------
conv = helper.make_node("Conv", ["x", "cw"], ["y"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
save("dynamic_dims.onnx", onnx_model([conv], [("x", ["N", 3, "height", "width"])], [("y", None)], {"cw": w(4, 3, 3, 3)}))
case("dynamic dimension", convert("dynamic_dims.onnx"),
     "input 'x' has a dynamic dimension 2 ('height'); give its shape with --input-shape x=1,3,height,width")
case("--input-shape for no input", convert("dynamic_dims.onnx", "--input-shape", "y=1,3,8,8"),
     "--input-shape names no model input: y")
case("--input-shape of the wrong rank", convert("dynamic_dims.onnx", "--input-shape", "x=1,3,8"),
     "does not fit the input's rank 4")
save("huge_dims.onnx", onnx_model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [("x", [1, 100000, 100000, 3])],
                [("y", [1, 100000, 100000, 3])]))
case("dimensions too large for memory", convert("huge_dims.onnx"), "has shape [1, 100000, 100000, 3]: too large")
m = fc_model()
m.graph.initializer[0].ClearField("dims")
m.graph.initializer[0].dims.extend([1 << 40, 1 << 40])
save("overflowing_dims.onnx", m)
case("dimension product overflows", convert("overflowing_dims.onnx"), "of shape [1099511627776, 1099511627776] is too large")
save("zero_sized.onnx", onnx_model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [("x", [1, 0, 4])],
                                   [("y", [1, 0, 4])]))
case("zero-sized tensor", convert("zero_sized.onnx"), "zero-sized tensors are not supported")

# -- graph structure -----------------------------------------------------------------------------------------------
unsupported = [helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1),
               helper.make_node("Erf", ["h"], ["s"], name="gate"),
               helper.make_node("Sin", ["s"], ["y"], name="squash")]
save("unsupported_ops.onnx", onnx_model(unsupported, [("x", [1, 4])], [("y", [1, 4])], {"w": w(4, 4)}))
case("unsupported ops, all listed", convert("unsupported_ops.onnx"),
     "2 unsupported node(s): 'gate' (Erf), 'squash' (Sin)")
cycle = [helper.make_node("Add", ["x", "b"], ["a"], name="first"), helper.make_node("Relu", ["a"], ["b"], name="second")]
save("cycle.onnx", onnx_model(cycle, [("x", [1, 4])], [("b", [1, 4])]))
case("graph with a cycle", convert("cycle.onnx"), "the graph has a cycle through node 'first' (Add)")
missing = fc_model()
del missing.graph.initializer[:]
save("missing_initializer.onnx", missing)
case("missing initializer", convert("missing_initializer.onnx"),
     "node 'fc' (Gemm) reads 'w', which is neither a graph input, an initializer nor a node output")
dangling = fc_model()
dangling.graph.output[0].name = "nowhere"
save("dangling_output.onnx", dangling)
case("graph output nobody produces", convert("dangling_output.onnx"), "graph output 'nowhere' is not produced by any node")
dup = onnx_model([helper.make_node("Relu", ["x"], ["y"], name="a"), helper.make_node("Relu", ["x"], ["y"], name="b")],
                 [("x", [1, 4])], [("y", [1, 4])])
save("duplicate_outputs.onnx", dup)
case("two nodes write one name", convert("duplicate_outputs.onnx"), "node 'b' (Relu) writes 'y', already defined by node 'a'")
dup_init = fc_model()
dup_init.graph.initializer.append(numpy_helper.from_array(w(4, 4), "w"))
save("duplicate_initializers.onnx", dup_init)
case("duplicate initializer names", convert("duplicate_initializers.onnx"), "duplicate name 'w' (initializer and initializer)")
int_in = fc_model()
int_in.graph.input[0].type.tensor_type.elem_type = TensorProto.INT64
save("integer_input.onnx", int_in)
case("integer model input", convert("integer_input.onnx"), "input 'x' is not float32")

# -- weights ---------------------------------------------------------------------------------------------------------
nan_w = w(4, 4)
nan_w[1, 2] = np.nan
save("nan_weights.onnx", fc_model(nan_w))
case("NaN weights", convert("nan_weights.onnx"), "node 'fc' (Gemm): B 'w' contains NaN or Inf")
inf_w = w(4, 4)
inf_w[0, 0] = np.inf
save("inf_weights.onnx", fc_model(inf_w))
case("Inf weights", convert("inf_weights.onnx"), "contains NaN or Inf")
save("denormal_weights.onnx", fc_model(np.full((4, 4), 1e-40, np.float32)))
case("denormal-only weights", convert("denormal_weights.onnx"), "holds only denormal values")

# -- external data ---------------------------------------------------------------------------------------------------
for name, location in (("external_outside.onnx", "../../../../etc/passwd"), ("external_absolute.onnx", "/etc/passwd"),
                       ("external_missing.onnx", "weights_that_do_not_exist.bin")):
    m = fc_model()
    init = m.graph.initializer[0]
    init.ClearField("raw_data")
    init.data_location = TensorProto.EXTERNAL
    init.external_data.add(key="location", value=location)
    save(name, m)
    case(f"external data: {location}", convert(name), "refers to external data")

# -- hostile names: the error quotes them escaped, on one line ------------------------------------------------------------
evil = "evil */ \n#include <stdio.h>\n\\ \"quoted\" 'x'"
hostile = [helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1),
           helper.make_node("Erf", ["h"], ["y"], name=evil)]
save("hostile_names.onnx", onnx_model(hostile, [("x", [1, 4])], [("y", [1, 4])], {"w": w(4, 4)}))
case("hostile node name in an error", convert("hostile_names.onnx"), "'evil */ \\x0a#include <stdio.h>\\x0a")

# -- ops with unsupported parameters ---------------------------------------------------------------------------------
grouped = helper.make_node("Conv", ["x", "gw"], ["y"], name="grouped", kernel_shape=[1, 1], group=2)
save("grouped_conv.onnx", onnx_model([grouped], [("x", [1, 4, 5, 5])], [("y", [1, 4, 5, 5])], {"gw": w(4, 2, 1, 1)}))
case("grouped convolution", convert("grouped_conv.onnx"), "grouped convolution with group=2")
softmax = helper.make_node("Softmax", ["x"], ["y"], name="softmax", axis=1)
save("softmax_axis.onnx", onnx_model([softmax], [("x", [1, 4, 3])], [("y", [1, 4, 3])]))
case("softmax over a non-last axis", convert("softmax_axis.onnx"), "softmax over axis 1 of shape (1, 4, 3)")
reflect = helper.make_node("Pad", ["x", "pads"], ["y"], name="reflect", mode="reflect")
save("reflect_pad.onnx", onnx_model([reflect], [("x", [1, 4])], [("y", [1, 6])],
                                    {"pads": np.array([0, 1, 0, 1], np.int64)}))
case("a reflecting Pad", convert("reflect_pad.onnx"), "node 'reflect' (Pad): mode 'reflect' is not supported")

batch2 = helper.make_node("Conv", ["x", "cw"], ["y"], name="conv", kernel_shape=[1, 1])
save("batch_of_two.onnx", onnx_model([batch2], [("x", [2, 3, 4, 4])], [("y", [2, 4, 4, 4])], {"cw": w(4, 3, 1, 1)}))
case("a static batch of 2", convert("batch_of_two.onnx"), "has a batch of 2: the generated code runs one sample")
ceil = helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
save("ceil_mode.onnx", onnx_model([ceil], [("x", [1, 3, 5, 5])], [("y", [1, 3, 3, 3])], opset=13))
case("pooling with ceil_mode=1", convert("ceil_mode.onnx"), "node 'pool' (MaxPool): ceil_mode=1 is not supported")
# weights that do not fit the input: the float kernels would read past their arrays (ASan saw it)
save("conv_bad_weights.onnx", onnx_model([helper.make_node("Conv", ["x", "w"], ["y"], name="c")],
                                         [("x", [1, 7, 4, 4])], [("y", [1, 3, 4, 4])],
                                         {"w": np.zeros((3, 5, 1, 1), np.float32)}, opset=13))
case("conv weights for another channel count", ["convert", "conv_bad_weights.onnx", "-o", "OUT", "--mode", "float32"],
     "node 'c' (Conv): weights of shape [3, 5, 1, 1] (group 1) and a bias of shape [3] do not fit an input of 7")
save("prelu_bad_slope.onnx", onnx_model([helper.make_node("PRelu", ["x", "s"], ["y"], name="p")],
                                        [("x", [1, 4, 6])], [("y", [1, 4, 6])], {"s": np.full(3, 0.1, np.float32)},
                                        opset=13))
case("PRelu slope that does not broadcast", ["convert", "prelu_bad_slope.onnx", "-o", "OUT", "--mode", "float32"],
     "node 'p' (PRelu): a slope of shape [3] does not broadcast to the input's [1, 4, 6]")

# -- calibration data ------------------------------------------------------------------------------------------------
# (one array for a one-input model is taken whatever its name: two, neither the input's, are refused)
np.savez(HERE / "calib_wrong_name.npz", other=rng.normal(0, 1, (4, 1, 4)).astype(np.float32),
         another=np.zeros((4, 1, 4), np.float32))
case("calibration: missing/extra input", ["convert", "good.onnx", "-o", "OUT", "--calibration", "calib_wrong_name.npz"],
     "arrays ['another', 'other'] match no model input")
np.savez(HERE / "calib_extra.npz", x=rng.normal(0, 1, (4, 1, 4)).astype(np.float32), extra=np.zeros(3))
case("calibration: extra array", ["convert", "good.onnx", "-o", "OUT", "--calibration", "calib_extra.npz"],
     "arrays ['extra'] match no model input")
np.savez(HERE / "calib_wrong_shape.npz", x=rng.normal(0, 1, (4, 3)).astype(np.float32))
case("calibration: wrong shape", ["convert", "good.onnx", "-o", "OUT", "--calibration", "calib_wrong_shape.npz"],
     "has shape (4, 3), which is not a stack of (1, 4)")
np.savez(HERE / "calib_strings.npz", x=np.array([["a", "b", "c", "d"]]))
case("calibration: strings", ["convert", "good.onnx", "-o", "OUT", "--calibration", "calib_strings.npz"],
     "has dtype <U1, not a real number type")
nan = rng.normal(0, 1, (4, 1, 4)).astype(np.float32)
nan[2, 0, 1] = np.nan
np.savez(HERE / "calib_nan.npz", x=nan)
case("calibration: NaN", ["convert", "good.onnx", "-o", "OUT", "--calibration", "calib_nan.npz"], "contains NaN or Inf")
np.savez(HERE / "calib_pickled.npz", x=np.array([{"payload": 1}], dtype=object))
case("calibration: pickled objects", ["convert", "good.onnx", "-o", "OUT", "--calibration", "calib_pickled.npz"],
     "not a readable .npz without pickled objects")
(HERE / "calib_not_npz.npz").write_text("not a zip file\n")
case("calibration: not an npz", ["convert", "good.onnx", "-o", "OUT", "--calibration", "calib_not_npz.npz"],
     "not an .npz file")
np.savez(HERE / "calib_empty.npz", x=np.zeros((0, 1, 4), np.float32))
case("calibration: no samples", ["convert", "good.onnx", "-o", "OUT", "--calibration", "calib_empty.npz"],
     "which is not a stack of (1, 4)")

# -- TFLite --------------------------------------------------------------------------------------------------------------
kws = (SHARED / "kws" / "kws_ref_model.tflite").read_bytes()
save("truncated.tflite", kws[:4000])
case("truncated flatbuffer", ["convert", "truncated.tflite", "-o", "OUT"], "not a readable TFLite model")
garbage = bytearray(kws[:8]) + bytes(rng.integers(0, 256, 3000, dtype=np.uint8))
save("corrupted.tflite", bytes(garbage))
case("corrupted flatbuffer", ["convert", "corrupted.tflite", "-o", "OUT"], "corrupted.tflite")
case("calibration for a quantized model", ["convert", str(SHARED / "ad" / "ad01_int8.tflite"), "-o", "OUT",
                                           "--calibration", "good_calib.npz"], "the model is quantized already")

# -- command line ------------------------------------------------------------------------------------------------------
case("--name not a C identifier", convert("good.onnx", "--name", "my-model"), "--name 'my-model' is not a lower-case C identifier")
case("--name too long", convert("good.onnx", "--name", "a" * 40), "at most 31 characters")
case("--input-shape malformed", convert("dynamic_dims.onnx", "--input-shape", "x=1,three"), "is not NAME=D0,D1,...")


# -- quantization modes --------------------------------------------------------------------------------------------
case("--mode float32 with int8 I/O", convert("good.onnx", "--mode", "float32", "--io", "int8"),
     "--mode float32 has float32 inputs and outputs")
case("--int16-layers: unknown node", convert("good.onnx", "--int16-layers", "fc,no_such_node"),
     "--int16-layers: no node named 'no_such_node'")
case("--int16-layers with float32", convert("good.onnx", "--mode", "float32", "--io", "float32", "--int16-layers", "fc"),
     "--int16-layers needs --mode int8")
case("uint8 I/O of a 16x8 model", convert("good.onnx", "--mode", "int16x8", "--io", "uint8"),
     "input type uint8 with int16 activations inside is not supported")
case("--mode for a quantized model", ["convert", str(SHARED / "ad" / "ad01_int8.tflite"), "-o", "OUT", "--mode", "int16x8"],
     "the model is quantized already; --mode and --int16-layers apply to float models")

# -- the output folder (run from tests/bad_inputs: each target below is refused and left as it is) -------------
(HERE / "user_folder").mkdir(exist_ok=True)
(HERE / "user_folder" / "NOTES.md").write_text("a user's notes: -o must never delete them\n")
shutil.copy(HERE / "good.onnx", HERE / "user_folder" / "model.onnx")
case("-o: a folder holding files mcu-codegen did not write", convert("good.onnx", out="user_folder"),
     "user_folder: has no mcu-codegen.sha256, so it is not a folder mcu-codegen wrote")
case("-o: a regular file", convert("good.onnx", out="good_calib.npz"), "good_calib.npz: is a file, not a folder")
case("-o: inside a regular file", convert("good.onnx", out="good.onnx/out"), "which is a file, not a folder")
case("-o: the current folder", convert("good.onnx", "--force", out="."), ".: is the current folder or holds it")
case("-o: a folder holding the model, with --force", ["convert", "user_folder/model.onnx", "-o", "user_folder",
                                                      "--calibration", "good_calib.npz", "--force"],
     "user_folder: holds model.onnx, an input of this command")
case("-o: not writable", convert("good.onnx", out="/sys/mcu-codegen-corpus"),
     "/sys/mcu-codegen-corpus: cannot write the output folder (/sys: ")
case("no --calibration for a float model", ["convert", "good.onnx", "-o", "OUT"],
     "--calibration FILE.npz is required: one float array per model input, samples on the first axis: 'x' (N, 1, 4)")

(HERE / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
print(f"{len(cases)} cases")
