"""Issue 14: a public helper for a model's I/O: float inputs quantized into the I/O type (and outputs back), as
TFLite computes it."""
import numpy as np
import pytest
from mlperf import dataset, onnx_path, ref, tflite_path

import mcu_codegen


def test_quantize_inputs_and_dequantize_outputs_match_tflite_and_the_float_io_model(tmp_path):
    """Model.quantize_inputs: TFLite's own int8 inputs from its float ones (kws's reference file); an int8-I/O model
    run on them and dequantized equals the --io float32 model's C on the float inputs, bit for bit."""
    model = mcu_codegen.Converter.from_tflite(tflite_path("kws")).convert()
    q = model.quantize_inputs({"input_1": ref("kws")["inputs_float"]})
    np.testing.assert_array_equal(q["input_1"], ref("kws")["inputs_int8"])
    assert q["input_1"].dtype == np.int8
    with pytest.raises(mcu_codegen.ConversionError, match="no array for input 'input_1'"):
        model.quantize_inputs({"x": ref("kws")["inputs_float"]})
    models = {}
    for io in ("int8", "float32"):
        conv = mcu_codegen.Converter.from_onnx(onnx_path("kws"))
        conv.representative_dataset = [{"input_1": dataset("kws", "calibration", 20)}]
        conv.inference_input_type = conv.inference_output_type = io
        models[io] = conv.convert()
    x = dataset("kws", "evaluation", 6).astype(np.float32).reshape((6,) + tuple(models["int8"].report["inputs"][0]
                                                                                  ["shape"]))
    int8 = models["int8"].build().run(models["int8"].quantize_inputs({"input_1": x}))
    floats = models["float32"].build().run({"input_1": x})
    np.testing.assert_array_equal(models["int8"].dequantize_outputs(int8)["dense"], floats["dense"])
    passed = models["float32"].quantize_inputs({"input_1": x.astype(np.float64)})["input_1"]  # float I/O: unchanged
    assert passed.dtype == np.float32 and np.array_equal(passed, x)
