"""`mcu-codegen compare MODEL.tflite --input IN.npz`: our reference against TFLM, tensor by tensor, to find the
first layer where they part (TFLM's interpreter keeps every tensor with kPreserveAllTensors)."""
import numpy as np

from . import reference
from .api import Converter, batch_inputs
from .ir import ConversionError


def tflm_tensors(path, x, arena_size=1 << 22):
    """Every tensor TFLM computed for input x, by TFLite tensor index."""
    try:
        from tflite_micro import runtime
    except ImportError:
        raise ConversionError("compare needs TFLM's interpreter: pip install tflite-micro") from None
    try:
        interp = runtime.Interpreter.from_file(str(path), arena_size=arena_size,
                                               intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    except RuntimeError as e:  # TFLM's own limit (it keeps at most 1024 buffers when preserving every tensor)
        raise ConversionError(f"{path}: TFLM cannot keep every tensor of this model for compare ({e}; it prints "
                              "the reason above); `mcu-codegen run --reference` still runs our reference") from None
    interp.set_input(x, 0)
    interp.invoke()

    def get(index):
        return np.asarray(interp.GetTensor(index, 0)["tensor_data"])
    return get, interp.get_output(0)


def compare(path, inputs):
    """Rows (node, op, output shape, differing values, max |diff| in LSB) for the first sample of `inputs`."""
    conv = Converter.from_tflite(path)
    if not conv.graph.quantized:
        raise ConversionError(f"{path}: a float .tflite; compare takes a full-integer one (convert this one with "
                              "--calibration)")
    model = conv.convert()
    graph = model.graph
    import tflite
    n_tensors = tflite.Model.GetRootAsModel(open(path, "rb").read(), 0).Subgraphs(0).TensorsLength()
    if len(graph.inputs) != 1:
        raise ConversionError(f"{path}: compare handles single-input models")
    if len(inputs) == 1:  # one input, one array: its key need not match the tensor name
        inputs = {model.report["inputs"][0]["name"]: next(iter(inputs.values()))}
    feeds, _ = batch_inputs(model.report["inputs"], inputs)
    x = next(iter(feeds.values()))[:1]
    ours = reference.execute(graph, {graph.inputs[0]: x}, integer=True, keep=True)
    get, _ = tflm_tensors(path, x[0])
    rows = []
    for node in graph.nodes:
        y = node.outputs[0]
        if int(y[1:]) >= n_tensors:  # a tensor the importer made (inside a dilated conv's chain): not in the file
            continue
        mine = ours[y][0]
        theirs = get(int(y[1:])).reshape(mine.shape)  # IR tensor "t<i>" is TFLite tensor i
        diff = np.abs(mine.astype(np.int64) - theirs.astype(np.int64))
        rows.append((node.name if len(node.name) <= 70 else node.name[:67] + "...", node.op, "x".join(map(str, mine.shape)), int((diff != 0).sum()), int(diff.max())))
    return rows
