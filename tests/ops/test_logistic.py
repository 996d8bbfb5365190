"""LOGISTIC: TFLite's int8 arithmetic (output 1/256, zero point -128) on every int8 input, against the twin,
the float reference and TFLM; float32; ONNX Sigmoid through the tool (the checks: tests/unary.py)."""
import tflite
import unary

from mcu_codegen.ops import logistic

globals().update(unary.op_tests(logistic, "Sigmoid", tflite.BuiltinOperator.LOGISTIC))


def test_sigmoid_table_is_tflms():
    """fixedpoint.SIGMOID_TABLE_U16 read again from TFLM: its int16 TANH at input scale 1/6144 rescales x to 2x
    (multiplier 16384, shift 13), so x = 128 k lands on table step k, where the output is entry k - 32768;
    the last entry from the interpolation at step 254, fraction 254/256."""
    import numpy as np
    from tflite16 import activation_t, one_op_model, run_tflm

    from mcu_codegen import fixedpoint as fp
    scale = float(np.float32(1 / 6144))
    model = one_op_model(tflite.BuiltinOperator.TANH, 0, lambda b: None,
                         [activation_t((1, 256), scale), activation_t((1, 256), 2.0 ** -15)], 1)
    x = np.minimum(np.arange(256) * 128, 32767).astype(np.int16)
    x[255] = 128 * 254 + 127
    out = run_tflm(model, [x[None, None]])[0, 0].astype(np.int64)
    table = out[:255] + 32768
    table = np.append(table, table[254] + out[255] - out[254])  # floor((254 d + 128) / 256) = d for a step d < 128
    np.testing.assert_array_equal(table, fp.SIGMOID_TABLE_U16)
