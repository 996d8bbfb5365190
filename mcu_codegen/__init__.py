__version__ = "0.1.0"

from .api import Converter, Model  # noqa: E402  (the public API)
from .ir import ConversionError  # noqa: E402

__all__ = ["Converter", "Model", "ConversionError", "__version__"]
