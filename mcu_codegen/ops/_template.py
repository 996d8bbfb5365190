"""<One line: what the op computes, its layouts, and which quantization it keeps.>

To add an op: copy this file to ops/<op>.py, write runtime_c/src/mcu_<op>_s8.c (and _s16.c, _f32.c for the
16x8 and float32 modes; params structs and prototypes go in runtime_c/include/mcu_nn.h, the one documented
header), add tests/ops/test_<op>.py (and an example of its attributes in tests/test_params_structs.py), and add
one line to ops/__init__.py REGISTRY. The importers find the op through the ONNX and TFLITE tables at the
bottom; passes only need to know it if it folds or fuses. Attribute types and minimum input counts come from
the ONNX schema.
"""
# activation type -> (the one public function of runtime_c/src/<function>.c, its params struct, filled with
# designated initializers from prepare()'s dict). A type missing here is refused with a clear error.
KERNELS = {"int8": ("mcu_<op>_s8", "mcu_<op>_params_t")}
# Optional: SAME_QUANT_AS_INPUT = True (output keeps the input's scale/zero point), OUTPUT_QUANT = (scale, zp),
# ALIAS = True (no call: the output is the input's bytes), IN_PLACE = True (the kernel writes over its input).
# SPEED_PARAMS = (params keys only the faster forms of variants() read: --optimize size leaves them NULL).
# SCRATCH = {form function: params -> bytes}: forms that take a last `void *scratch` argument, a buffer of the
# arena planned for the node's run.
# internal_statistics(attrs, *float inputs) -> {key: float}: values inside the node that calibration must see
# (ops/lstm.py: its cell state's max |c|); quantize puts each key's maximum over the samples into attrs.


def output_shape(attrs, in_shapes):
    """Physical output shape (NHWC for feature maps) from the attributes and input shapes."""
    raise NotImplementedError


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, *xs):
    """The float reference, on arrays shaped (N, *tensor.shape). Checked against onnxruntime in its test."""
    raise NotImplementedError


def prepare(attrs, ins, out):
    """Every integer the C kernel needs, as {struct field: int | float32 | list | np.ndarray}: the keys are the
    fields of the params struct, arrays become const arrays in flash. ins/out are quantized ir.Tensors; branch
    on ins[0].dtype (int8, int16, float32) for the other kernels."""
    raise NotImplementedError


def int_ref(p, *xs):
    """The NumPy twin of the C kernel: same integers, bit for bit, on arrays shaped (N, *tensor.shape)."""
    raise NotImplementedError


# -- import: how models reach the op (both tables optional; the frontends collect them through the registry) ----
def onnx_op(imp, node, a):
    """ONNX node -> IR node(s). imp: frontend._Importer (imp.x(node) input tensor, imp.const(node, name, what),
    imp.output(node), imp.emit(op, inputs, outputs, node, **attrs), imp.nhwc for NCHW ops, imp.fail(node, why));
    a: the node's attributes."""
    imp.emit("<op>", [imp.x(node)], [imp.output(node)], node)


def tflite_op(imp, k, op):
    """TFLite operator k -> IR node. imp: tflite_frontend._Importer (imp.options(op, "<Op>Options"),
    imp.activation_of(options), imp.emit(k, op, input indices, output indices, **attrs), imp.fail(k, why))."""
    imp.emit(k, "<op>", [op.Inputs(0)], [op.Outputs(0)])


ONNX = {"<OnnxOpType>": onnx_op}
TFLITE = {"<BUILTIN_OPERATOR_NAME>": tflite_op}
