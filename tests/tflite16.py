"""One-operator .tflite models written with the TFLite schema's own flatbuffer builders (the `tflite`
package), so that TFLM can run our arithmetic's reference: 16x8 (int16 activations, zero point 0, int8
per-channel weights, int64 bias) and int8 (activations with zero points); and the two ways the tests run them:
TFLM's interpreter, and the whole tool (import, generate, compile, run)."""
import tempfile
from pathlib import Path

import flatbuffers
import numpy as np
import tflite

T = tflite.TensorType
TYPES = {np.dtype(np.int8): T.INT8, np.dtype(np.int16): T.INT16, np.dtype(np.int32): T.INT32,
         np.dtype(np.int64): T.INT64}


def _vector(b, start, values, prepend):
    start(b, len(values))
    for v in reversed(list(values)):
        prepend(v)
    return b.EndVector()


def _tensor(b, index, t, buffer):
    shape = _vector(b, tflite.TensorStartShapeVector, t["shape"], b.PrependInt32)
    scales = _vector(b, tflite.QuantizationParametersStartScaleVector, t["scales"], b.PrependFloat32)
    zps = _vector(b, tflite.QuantizationParametersStartZeroPointVector, t.get("zps", [0] * len(t["scales"])),
                  b.PrependInt64)
    tflite.QuantizationParametersStart(b)
    tflite.QuantizationParametersAddScale(b, scales)
    tflite.QuantizationParametersAddZeroPoint(b, zps)
    tflite.QuantizationParametersAddQuantizedDimension(b, t.get("axis", 0))
    quant = tflite.QuantizationParametersEnd(b)
    name = b.CreateString(f"t{index}")
    tflite.TensorStart(b)
    tflite.TensorAddShape(b, shape)
    tflite.TensorAddType(b, t["type"])
    tflite.TensorAddBuffer(b, buffer)
    tflite.TensorAddName(b, name)
    tflite.TensorAddQuantization(b, quant)
    tflite.TensorAddIsVariable(b, bool(t.get("variable")))
    return tflite.TensorEnd(b)


def one_op_model(op, options_type, options, tensors, n_inputs, n_outputs=1, op_inputs=None, graph_inputs=None):
    """tensors: [{shape, type, scales, axis?, data?}]: the op reads tensors[:-n_outputs] (op_inputs: in this order
    of tensor indices instead), writes tensors[-n_outputs:] (the graph outputs); the graph inputs are the first
    n_inputs tensors, or those listed in graph_inputs; the others constants with data. options(builder) -> offset
    of its options table."""
    outputs = list(range(len(tensors) - n_outputs, len(tensors)))
    ins = list(range(len(tensors) - n_outputs)) if op_inputs is None else list(op_inputs)
    return ops_model([(op, options_type, options, ins, outputs)], tensors, graph_inputs or range(n_inputs), outputs)


def ops_model(operators, tensors, inputs, outputs):
    """A one-subgraph model: operators [(builtin code, options type, options(builder) or None, input tensor
    indices, output tensor indices)] in execution order over `tensors` (constants carry data); the subgraph's
    inputs and outputs are tensor indices."""
    b = flatbuffers.Builder(1024)
    datas = [b.CreateByteVector(np.ascontiguousarray(t["data"]).tobytes()) if "data" in t else None for t in tensors]
    buffers = []
    for data in [None] + datas:  # buffer 0 is the schema's empty sentinel
        tflite.BufferStart(b)
        if data is not None:
            tflite.BufferAddData(b, data)
        buffers.append(tflite.BufferEnd(b))
    offsets = [_tensor(b, i, t, i + 1 if "data" in t else 0) for i, t in enumerate(tensors)]
    codes = sorted({op[0] for op in operators})
    built = []
    for code, options_type, options, ins, outs in operators:
        opts = options(b) if options else None
        op_inputs = _vector(b, tflite.OperatorStartInputsVector, ins, b.PrependInt32)
        op_outputs = _vector(b, tflite.OperatorStartOutputsVector, outs, b.PrependInt32)
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, codes.index(code))
        tflite.OperatorAddInputs(b, op_inputs)
        tflite.OperatorAddOutputs(b, op_outputs)
        tflite.OperatorAddBuiltinOptionsType(b, options_type)
        if opts is not None:
            tflite.OperatorAddBuiltinOptions(b, opts)
        built.append(tflite.OperatorEnd(b))
    tensors_vec = _vector(b, tflite.SubGraphStartTensorsVector, offsets, b.PrependUOffsetTRelative)
    inputs_vec = _vector(b, tflite.SubGraphStartInputsVector, inputs, b.PrependInt32)
    outputs_vec = _vector(b, tflite.SubGraphStartOutputsVector, outputs, b.PrependInt32)
    ops_vec = _vector(b, tflite.SubGraphStartOperatorsVector, built, b.PrependUOffsetTRelative)
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensors_vec)
    tflite.SubGraphAddInputs(b, inputs_vec)
    tflite.SubGraphAddOutputs(b, outputs_vec)
    tflite.SubGraphAddOperators(b, ops_vec)
    subgraph = tflite.SubGraphEnd(b)
    code_offsets = []
    for code in codes:
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
        tflite.OperatorCodeAddBuiltinCode(b, code)
        tflite.OperatorCodeAddVersion(b, 1)
        code_offsets.append(tflite.OperatorCodeEnd(b))
    codes_vec = _vector(b, tflite.ModelStartOperatorCodesVector, code_offsets, b.PrependUOffsetTRelative)
    subgraphs_vec = _vector(b, tflite.ModelStartSubgraphsVector, [subgraph], b.PrependUOffsetTRelative)
    buffers_vec = _vector(b, tflite.ModelStartBuffersVector, buffers, b.PrependUOffsetTRelative)
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, codes_vec)
    tflite.ModelAddSubgraphs(b, subgraphs_vec)
    tflite.ModelAddBuffers(b, buffers_vec)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def activation_t(shape, scale):
    return dict(shape=shape, type=T.INT16, scales=[scale])


def weights_t(w, scales, axis):
    return dict(shape=w.shape, type=T.INT8, scales=list(scales), axis=axis, data=w.astype(np.int8))


def bias_t(bias, input_scale, scales):
    return dict(shape=bias.shape, type=T.INT64, scales=[float(np.float32(input_scale)) * float(s) for s in scales],
                data=bias.astype(np.int64))


def int8_t(shape, scale, zero_point):
    """An int8 activation tensor with its zero point."""
    return dict(shape=shape, type=T.INT8, scales=[scale], zps=[int(zero_point)])


def const_t(values, dtype=np.int32):
    """A constant operand without quantization (axes, paddings, shapes)."""
    values = np.asarray(values, dtype)
    return dict(shape=values.shape, type=TYPES[values.dtype], scales=[], zps=[], data=values)


def run_tflm(model, inputs, n_outputs=None, reset=False):
    """TFLM's interpreter on each sample: inputs is a list of (N, *shape) arrays, one per model input. Returns
    output 0 stacked over the samples, or with n_outputs the list of the first n_outputs outputs. reset: each
    sample from TFLM's reset state (variable tensors zero, int8 ones at their zero point: a recurrent op's
    state), as the generated C runs every call."""
    from tflite_micro import runtime
    interp = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    outs = [[] for _ in range(n_outputs or 1)]
    for i in range(len(inputs[0])):
        if reset:
            interp.reset()
        for k, x in enumerate(inputs):
            interp.set_input(x[i], k)
        interp.invoke()
        for j, out in enumerate(outs):
            out.append(interp.get_output(j).copy())
    stacked = [np.stack(out) for out in outs]
    return stacked if n_outputs else stacked[0]


def run_imported(model, inputs, dtype, all_outputs=False):
    """The .tflite through the whole tool: import, plan, generate, compile with gcc, run. Returns output 0, or
    with all_outputs the list of every output in model order."""
    import mcu_codegen
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "one_op.tflite"
        path.write_bytes(model)
        converted = mcu_codegen.Converter.from_tflite(path).convert()
        assert [m["dtype"] for m in converted.report["inputs"]] == [dtype] * len(inputs)
        feeds = {m["name"]: x for m, x in zip(converted.report["inputs"], inputs)}
        outs = converted.build().run(feeds)
        return [outs[m["name"]] for m in converted.report["outputs"]] if all_outputs else next(iter(outs.values()))


def converted(model, work, mode=None, stateful=False):
    """A .tflite model's bytes written into the folder `work` and converted (in memory); mode, stateful: the
    Converter's."""
    import mcu_codegen
    path = Path(work) / "one_op.tflite"
    path.write_bytes(model)
    conv = mcu_codegen.Converter.from_tflite(path)
    conv.mode, conv.stateful = mode or conv.mode, stateful
    return conv.convert()


def recurrent_op_equals_tflm(run_kernel, op, model, xs, work, mode=None, atol=None):
    """A one-operator file of a recurrent op (graph input xs, (N, *shape)) run by TFLM from its reset state per
    sample: the tool's reference (mode: the Converter's) and the C kernel of the node (op: the ops module) equal
    TFLM's outputs bit for bit, or within atol (float32). Returns TFLM's outputs."""
    want = run_tflm(model, [xs], reset=True)
    conv = converted(model, work, mode)
    (node,) = conv.graph.nodes
    assert node.op == op.__name__.rsplit(".", 1)[-1]
    ref = conv.reference({conv.report["inputs"][0]["name"]: xs})[conv.report["outputs"][0]["name"]]
    c = np.stack([run_kernel(op, node.params, [x], want.shape[1:], want.dtype) for x in xs])
    for got in (ref.reshape(want.shape), c):
        if atol is None:
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=0, atol=atol)
    return want


def stateful_op_equals_tflm(model, xs, work, mode=None, atol=None):
    """A one-operator file of a recurrent op converted with --stateful (mode: the Converter's): xs (N, *shape)
    run as N invokes in turn, never reset, by TFLM (its variable tensors persist), by the generated C and by the
    tool's twins, equal bit for bit (or within atol, float32); reset_state starts the C and the twins over at
    TFLM's reset state. Returns (TFLM's outputs, the Model)."""
    m = converted(model, work, mode, stateful=True)
    assert m.report["state"] and f"void {m.name}_reset_state(void *arena);" in m.files[f"{m.name}.h"]
    want = run_tflm(model, [xs])
    fresh = run_tflm(model, [xs[1:3]])  # a new interpreter: from the reset state
    host = m.build()
    name, out = m.report["inputs"][0]["name"], m.report["outputs"][0]["name"]
    got = [host.run({name: xs})[out], m.reference({name: xs})[out]]
    host.reset_state()
    m.reset_state()
    again = [host.run({name: xs[1:3]})[out], m.reference({name: xs[1:3]})[out]]
    for g, w in zip(got + again, [want] * 2 + [fresh] * 2):
        if atol is None:
            np.testing.assert_array_equal(g.reshape(w.shape), w)
        else:
            np.testing.assert_allclose(g.reshape(w.shape), w, rtol=0, atol=atol)
    assert not np.array_equal(want[1], fresh[0])  # the kept state changes the second frame's output
    return want, m


def copy_op_equals_tflm(run_kernel, work, model, data, op, n_outputs=1, compile_it=False):
    """A one-operator file of a copy op (one graph input `data`, (N, *shape)): TFLM's outputs == our twin's ==
    the C kernel of each `op` node (op: the ops module), and with compile_it the generated C's too. Returns
    TFLM's outputs, a list of (N, *shape) arrays."""
    want = run_tflm(model, [data], n_outputs)
    model_c = converted(model, work)
    ref = model_c.reference({model_c.report["inputs"][0]["name"]: data})
    got = [ref[o["name"]] for o in model_c.report["outputs"]]
    assert len(got) == n_outputs
    nodes = [model_c.graph.producer(t) for t in model_c.graph.outputs]  # the planner may reorder the nodes
    assert [n.op for n in nodes] == [op.__name__.rsplit(".", 1)[-1]] * n_outputs
    for g, node, w in zip(got, nodes, want):
        np.testing.assert_array_equal(g.reshape(w.shape), w)
        out = model_c.graph.tensors[node.outputs[0]]
        c = np.stack([run_kernel(op, node.params, [d], out.shape, data.dtype) for d in data])
        np.testing.assert_array_equal(c.reshape(w.shape), w)
    if compile_it:
        for g, w in zip(run_imported(model, [data], str(data.dtype), all_outputs=True), want):
            np.testing.assert_array_equal(g.reshape(w.shape), w)
    return want


# -- dynamic range (hybrid) files: float32 activations and bias, int8 weights; TFLite's own kernels run them ----
def float_t(shape, data=None):
    """A float32 tensor without quantization: an activation, or a constant (the bias) with data."""
    t = dict(shape=tuple(shape), type=T.FLOAT32, scales=[], zps=[])
    return t if data is None else dict(t, data=np.asarray(data, np.float32))


def fc_options(activation=0, asymmetric=True):
    def build(b):
        tflite.FullyConnectedOptionsStart(b)
        tflite.FullyConnectedOptionsAddFusedActivationFunction(b, activation)
        tflite.FullyConnectedOptionsAddAsymmetricQuantizeInputs(b, asymmetric)
        return tflite.FullyConnectedOptionsEnd(b)
    return tflite.BuiltinOptions.FullyConnectedOptions, build


def conv_options(depthwise, same, stride, activation=0, depth_multiplier=1):
    """Conv2DOptions or DepthwiseConv2DOptions: padding SAME or VALID, one stride for both axes, no dilation."""
    name = "DepthwiseConv2DOptions" if depthwise else "Conv2DOptions"

    def add(b, field, value):
        getattr(tflite, f"{name}Add{field}")(b, value)

    def build(b):
        getattr(tflite, f"{name}Start")(b)
        add(b, "Padding", tflite.Padding.SAME if same else tflite.Padding.VALID)
        for field in ("StrideW", "StrideH"):
            add(b, field, stride)
        for field in ("DilationWFactor", "DilationHFactor"):
            add(b, field, 1)
        add(b, "FusedActivationFunction", activation)
        if depthwise:
            add(b, "DepthMultiplier", depth_multiplier)
        return getattr(tflite, f"{name}End")(b)
    return getattr(tflite.BuiltinOptions, name), build


def run_litert(model, inputs):
    """TFLite's own interpreter (the ai-edge-litert package, its builtin kernels without the XNNPACK delegate,
    which TFLM no longer has: hybrid and float16 operators) on each sample of the one input."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    interp = Interpreter(model_content=model,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    index, out = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]
    outs = []
    for x in inputs:
        interp.set_tensor(index, np.ascontiguousarray(x))
        interp.invoke()
        outs.append(interp.get_tensor(out).copy())
    return np.stack(outs)


def run_imported_float(model, inputs):
    """A dynamic range (or float16) .tflite through the whole tool, float32 in and out: (outputs, the Model)."""
    import mcu_codegen
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "one_op.tflite"
        path.write_bytes(model)
        converted = mcu_codegen.Converter.from_tflite(path).convert()
        assert [m["dtype"] for m in converted.report["inputs"]] == ["float32"]
        name = converted.report["inputs"][0]["name"]
        return next(iter(converted.build().run({name: inputs}).values())), converted
