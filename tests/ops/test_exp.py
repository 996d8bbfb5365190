"""EXP: float32 only (no integer kernel). The float reference against onnxruntime, the C kernel against it; in
an int8 model it runs through --float-fallback (tests/test_modes.py)."""
import unary

from mcu_codegen.ops import exp


def test_float_ref_matches_onnxruntime():
    unary.check_float_ref_matches_onnxruntime(exp, "Exp")


def test_c_float32(run_kernel):
    """expf against the reference (within 2 ulp in float64, then rounded): a relative 1e-6 is 8 float32 ulp."""
    unary.check_c_float32(run_kernel, exp)
