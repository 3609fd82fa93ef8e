"""tfjs-lstm: move recurrent Keras models to TensorFlow.js and back without changing a number.

Light at run time: importing this package needs numpy, jsonschema and h5py only.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Bound after the `convert` module is imported, so the name is the function, not the module.
from .convert import check, convert, load  # noqa: E402
from .dialects import DIALECTS, MapResult, read, to_json, write  # noqa: E402
from .dialects import convert as map_config  # noqa: E402
from .errors import InputError, NotExpressibleError, Problem, TfjsLstmError  # noqa: E402
from .layers import REGISTRY, LayerConfig  # noqa: E402
from .runtime.batches import predict_in_batches  # noqa: E402
from .runtime.engine import run  # noqa: E402

__all__ = [
    "DIALECTS", "REGISTRY", "InputError", "LayerConfig", "MapResult", "NotExpressibleError",
    "Problem", "TfjsLstmError", "__version__", "check", "convert", "load", "map_config",
    "predict_in_batches", "read", "run", "to_json", "write",
]
