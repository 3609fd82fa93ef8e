"""The layer registry: one module per layer type, each exporting a `LayerType`."""

from __future__ import annotations

from .activation import ACTIVATION
from .advanced_activations import ELU, LEAKY_RELU, RELU, SOFTMAX
from .base import FAMILIES, Field, LayerConfig, LayerType, Weight
from .conv1d import CONV1D
from .dense import DENSE
from .dropout import DROPOUT, SPATIAL_DROPOUT_1D
from .embedding import EMBEDDING
from .flatten import FLATTEN
from .gru import GRU
from .input_layer import INPUT_LAYER
from .lstm import LSTM
from .masking import MASKING
from .merge import ADD, AVERAGE, CONCATENATE, MULTIPLY
from .noise import ALPHA_DROPOUT, GAUSSIAN_DROPOUT, GAUSSIAN_NOISE
from .normalization import BATCH_NORMALIZATION, LAYER_NORMALIZATION
from .permute import PERMUTE
from .pooling import (
    AVERAGE_POOLING_1D,
    GLOBAL_AVERAGE_POOLING_1D,
    GLOBAL_MAX_POOLING_1D,
    MAX_POOLING_1D,
)
from .repeat_vector import REPEAT_VECTOR
from .reshape import RESHAPE
from .rnn import GRU_CELL, LSTM_CELL, RNN, SIMPLE_RNN_CELL
from .simple_rnn import SIMPLE_RNN
from .steps_reshaping import CROPPING_1D, UP_SAMPLING_1D, ZERO_PADDING_1D
from .wrappers import BIDIRECTIONAL, TIME_DISTRIBUTED

REGISTRY: dict[str, LayerType] = {layer.class_name: layer for layer in (
    INPUT_LAYER, LSTM, DENSE, GRU, SIMPLE_RNN, EMBEDDING, MASKING, DROPOUT, SPATIAL_DROPOUT_1D,
    ACTIVATION, BIDIRECTIONAL, TIME_DISTRIBUTED, FLATTEN, RESHAPE, REPEAT_VECTOR, CONCATENATE,
    ADD, MULTIPLY, AVERAGE, RNN, LSTM_CELL, GRU_CELL, SIMPLE_RNN_CELL, CONV1D, MAX_POOLING_1D,
    AVERAGE_POOLING_1D, GLOBAL_MAX_POOLING_1D, GLOBAL_AVERAGE_POOLING_1D, LAYER_NORMALIZATION,
    BATCH_NORMALIZATION, RELU, LEAKY_RELU, ELU, SOFTMAX, GAUSSIAN_NOISE, GAUSSIAN_DROPOUT,
    ALPHA_DROPOUT, PERMUTE, ZERO_PADDING_1D, CROPPING_1D, UP_SAMPLING_1D)}

__all__ = ["FAMILIES", "Field", "LayerConfig", "LayerType", "REGISTRY", "Weight"]
