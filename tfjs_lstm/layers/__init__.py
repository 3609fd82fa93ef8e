"""The layer registry: one module per layer type, each exporting a `LayerType`."""

from __future__ import annotations

from .activations.activation import ACTIVATION
from .activations.advanced_activations import (
    ELU,
    LEAKY_RELU,
    PRELU,
    RELU,
    SOFTMAX,
    THRESHOLDED_RELU,
)
from .attention.attention import ADDITIVE_ATTENTION, ATTENTION
from .attention.multi_head_attention import MULTI_HEAD_ATTENTION
from .base import FAMILIES, Field, LayerConfig, LayerType, Weight
from .convolutional.conv1d import CONV1D
from .convolutional.conv2d import CONV2D
from .convolutional.depthwise_conv1d import DEPTHWISE_CONV1D
from .convolutional.separable_conv1d import SEPARABLE_CONV1D
from .core.dense import DENSE
from .core.embedding import EMBEDDING
from .core.input_layer import INPUT_LAYER
from .core.masking import MASKING
from .merging.dot import DOT
from .merging.merge import ADD, AVERAGE, CONCATENATE, MAXIMUM, MINIMUM, MULTIPLY, SUBTRACT
from .normalization.normalization import BATCH_NORMALIZATION, LAYER_NORMALIZATION
from .normalization.unit_normalization import UNIT_NORMALIZATION
from .pooling.pooling import (
    AVERAGE_POOLING_1D,
    AVERAGE_POOLING_2D,
    GLOBAL_AVERAGE_POOLING_1D,
    GLOBAL_AVERAGE_POOLING_2D,
    GLOBAL_MAX_POOLING_1D,
    GLOBAL_MAX_POOLING_2D,
    MAX_POOLING_1D,
    MAX_POOLING_2D,
)
from .regularization.activity_regularization import ACTIVITY_REGULARIZATION
from .regularization.dropout import DROPOUT, SPATIAL_DROPOUT_1D
from .regularization.noise import ALPHA_DROPOUT, GAUSSIAN_DROPOUT, GAUSSIAN_NOISE
from .reshaping.flatten import FLATTEN
from .reshaping.permute import PERMUTE
from .reshaping.repeat_vector import REPEAT_VECTOR
from .reshaping.reshape import RESHAPE
from .reshaping.steps_reshaping import CROPPING_1D, UP_SAMPLING_1D, ZERO_PADDING_1D
from .rnn.conv_lstm2d import CONV_LSTM2D
from .rnn.gru import GRU
from .rnn.lstm import LSTM
from .rnn.rnn import GRU_CELL, LSTM_CELL, RNN, SIMPLE_RNN_CELL
from .rnn.simple_rnn import SIMPLE_RNN
from .rnn.wrappers import BIDIRECTIONAL, TIME_DISTRIBUTED

REGISTRY: dict[str, LayerType] = {layer.class_name: layer for layer in (
    INPUT_LAYER, LSTM, DENSE, GRU, SIMPLE_RNN, EMBEDDING, MASKING, DROPOUT, SPATIAL_DROPOUT_1D,
    ACTIVATION, BIDIRECTIONAL, TIME_DISTRIBUTED, FLATTEN, RESHAPE, REPEAT_VECTOR, CONCATENATE,
    ADD, MULTIPLY, AVERAGE, RNN, LSTM_CELL, GRU_CELL, SIMPLE_RNN_CELL, CONV1D, MAX_POOLING_1D,
    AVERAGE_POOLING_1D, GLOBAL_MAX_POOLING_1D, GLOBAL_AVERAGE_POOLING_1D, LAYER_NORMALIZATION,
    BATCH_NORMALIZATION, RELU, LEAKY_RELU, ELU, SOFTMAX, GAUSSIAN_NOISE, GAUSSIAN_DROPOUT,
    ALPHA_DROPOUT, PERMUTE, ZERO_PADDING_1D, CROPPING_1D, UP_SAMPLING_1D,
    CONV2D, MAX_POOLING_2D, AVERAGE_POOLING_2D, GLOBAL_MAX_POOLING_2D, GLOBAL_AVERAGE_POOLING_2D,
    ATTENTION, ADDITIVE_ATTENTION, MULTI_HEAD_ATTENTION, DOT, SUBTRACT, MAXIMUM, MINIMUM,
    PRELU, THRESHOLDED_RELU, UNIT_NORMALIZATION, ACTIVITY_REGULARIZATION, SEPARABLE_CONV1D,
    DEPTHWISE_CONV1D, CONV_LSTM2D)}

__all__ = ["FAMILIES", "Field", "LayerConfig", "LayerType", "REGISTRY", "Weight"]
