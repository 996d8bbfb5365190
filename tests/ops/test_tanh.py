"""TANH: TFLite's int8 arithmetic (output 1/128, zero point 0) on every int8 input, against the twin, the
float reference and TFLM; float32; ONNX Tanh through the tool (the checks: tests/unary.py)."""
import tflite
import unary

from mcu_codegen.ops import tanh

globals().update(unary.op_tests(tanh, "Tanh", tflite.BuiltinOperator.TANH))
