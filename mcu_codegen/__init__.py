__version__ = "0.1.0"

from .api import Converter, DataWarning, Model  # noqa: E402  (the public API)
from .ir import ConversionError  # noqa: E402

__all__ = ["Converter", "Model", "ConversionError", "DataWarning", "__version__"]
