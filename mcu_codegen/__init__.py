"""mcu-codegen: trained models -> plain C for microcontrollers. The public API: Converter, Model,
ConversionError, DataWarning, and the modules (mcu_codegen.debug, ...). Imported on first use (PEP 562), so that
`import mcu_codegen` is cheap and the command line can answer Ctrl-C during start-up with one line."""
import importlib

__version__ = "0.2.0"
__all__ = ["Converter", "Model", "ConversionError", "DataWarning", "__version__"]
_FROM = {"Converter": "api", "Model": "api", "DataWarning": "api", "ConversionError": "ir"}
_MODULES = {"api", "boards", "calibration", "debug", "emit", "fixedpoint", "frontend", "ir", "ops", "output", "passes",
            "planner", "quantize", "reference", "stable", "starter", "target",
            "tflite_frontend"}


def __getattr__(name):
    if name in _FROM:
        return getattr(importlib.import_module(f".{_FROM[name]}", __name__), name)
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'mcu_codegen' has no attribute '{name}'")
