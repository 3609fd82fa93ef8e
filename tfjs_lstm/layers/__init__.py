"""The layer registry: one module per layer type, each exporting a `LayerType`."""

from __future__ import annotations

from .base import FAMILIES, Field, LayerConfig, LayerType, Weight
from .dense import DENSE
from .input_layer import INPUT_LAYER
from .lstm import LSTM

REGISTRY: dict[str, LayerType] = {layer.class_name: layer for layer in (INPUT_LAYER, LSTM, DENSE)}

__all__ = ["FAMILIES", "Field", "LayerConfig", "LayerType", "REGISTRY", "Weight"]
