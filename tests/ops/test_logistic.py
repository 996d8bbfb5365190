"""LOGISTIC: TFLite's int8 arithmetic (output 1/256, zero point -128) on every int8 input, against the twin,
the float reference and TFLM; float32; ONNX Sigmoid through the tool (the checks: tests/unary.py)."""
import tflite
import unary

from mcu_codegen.ops import logistic

globals().update(unary.op_tests(logistic, "Sigmoid", tflite.BuiltinOperator.LOGISTIC))
