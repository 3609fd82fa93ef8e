"""The layer registry: one module per layer type, each exporting a `LayerType`."""

from __future__ import annotations

from .activation import ACTIVATION
from .base import FAMILIES, Field, LayerConfig, LayerType, Weight
from .dense import DENSE
from .dropout import DROPOUT, SPATIAL_DROPOUT_1D
from .embedding import EMBEDDING
from .gru import GRU
from .input_layer import INPUT_LAYER
from .lstm import LSTM
from .masking import MASKING
from .simple_rnn import SIMPLE_RNN

REGISTRY: dict[str, LayerType] = {layer.class_name: layer for layer in (
    INPUT_LAYER, LSTM, DENSE, GRU, SIMPLE_RNN, EMBEDDING, MASKING, DROPOUT, SPATIAL_DROPOUT_1D,
    ACTIVATION)}

__all__ = ["FAMILIES", "Field", "LayerConfig", "LayerType", "REGISTRY", "Weight"]
