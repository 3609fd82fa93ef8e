"""tfjs-lstm: move recurrent Keras models to TensorFlow.js and back without changing a number.

Light at run time: importing this package needs numpy, jsonschema and h5py only.
"""

from __future__ import annotations

from .dialects import DIALECTS, MapResult, convert, read, to_json, write
from .errors import InputError, NotExpressibleError, Problem, TfjsLstmError
from .layers import REGISTRY, LayerConfig

__version__ = "0.1.0"

__all__ = [
    "DIALECTS", "REGISTRY", "InputError", "LayerConfig", "MapResult", "NotExpressibleError",
    "Problem", "TfjsLstmError", "__version__", "convert", "read", "to_json", "write",
]
