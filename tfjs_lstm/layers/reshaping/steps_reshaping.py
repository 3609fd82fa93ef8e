"""ZeroPadding1D, Cropping1D and UpSampling1D: zeros added, steps cut, steps repeated.

Read in Keras 3.15 `keras/src/layers/reshaping/` (ZeroPadding1D also writes data_format),
tf-keras 2.21 and Keras 2.2.4 `layers/convolutional.py` (no data_format): padding 1 and
cropping 1 at each end, size 2. TensorFlow.js 4.22 has none of the three (only their 2D
forms), so they are Keras-only. An incoming mask stops here, as in Keras 3.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ..base import Field, LayerConfig, LayerType, common_fields, no_weights

KERAS = ("keras3", "keras2", "keras2.2")


def _steps_axis(config: LayerConfig) -> int:
    return 2 if getattr(config, "data_format", "channels_last") == "channels_first" else 1


def _resized(config: LayerConfig, input_shape: tuple, change) -> tuple:
    """The input shape with `change(steps)` steps; unknown stays unknown."""
    axis = _steps_axis(config)
    shape = list(input_shape)
    shape[axis] = None if shape[axis] is None else change(shape[axis])
    return tuple(shape)


def _keras_layer(class_name: str, fields: tuple, output_shape, forward, doc: str
                 ) -> LayerType:
    return LayerType(class_name=class_name, fields=fields, weights=no_weights,
                     output_shape=output_shape, forward=forward,
                     mask_out=lambda config, input_masked: False, families=KERAS, doc=doc)


def _pad(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    x = np.asarray(inputs[0])
    widths = [(0, 0)] * 3
    widths[_steps_axis(config)] = config.padding
    return [np.pad(x, widths)], [None]


ZERO_PADDING_1D = _keras_layer(
    "ZeroPadding1D",
    (Field("padding", k.PAIR, (1, 1), doc="zero steps before and after"),
     Field("data_format", k.DATA_FORMAT, "channels_last", families=("keras3",),
           omit_reason=lambda c, n: None if c.data_format == "channels_first"
           else "channels_last is this runtime's only layout"),
     *common_fields("zero_padding1d")),
    lambda config, shape: _resized(config, shape, lambda n: n + sum(config.padding)),
    _pad, "Adds zero steps before and after; masks stop here.")


def _kept(config: LayerConfig, steps: int) -> int:
    kept = steps - sum(config.cropping)
    if kept <= 0:
        raise InputError(f"layer '{config.name}': cropping {list(config.cropping)} leaves no "
                         f"step of {steps}")
    return kept


def _crop(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    x = np.asarray(inputs[0])
    start = config.cropping[0]
    return [x[:, start:start + _kept(config, x.shape[1])]], [None]


CROPPING_1D = _keras_layer(
    "Cropping1D",
    (Field("cropping", k.PAIR, (1, 1), doc="steps cut at the start and at the end"),
     *common_fields("cropping1d")),
    lambda config, shape: _resized(config, shape, lambda n: _kept(config, n)),
    _crop, "Cuts steps at the start and the end; masks stop here.")


def _repeat(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    return [np.repeat(np.asarray(inputs[0]), config.size, axis=1)], [None]


UP_SAMPLING_1D = _keras_layer(
    "UpSampling1D",
    (Field("size", k.UNITS, 2, doc="how many times each step is repeated"),
     *common_fields("up_sampling1d")),
    lambda config, shape: _resized(config, shape, lambda n: n * config.size),
    _repeat, "Repeats each step size times; masks stop here.")
