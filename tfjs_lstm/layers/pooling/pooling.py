"""MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D and GlobalAveragePooling1D.

Read in Keras 3.15 `keras/src/layers/pooling/` (AveragePooling1D requires pool_size, MaxPooling1D
defaults it to 2; strides default to the pool size; global pooling writes data_format and
keepdims; only GlobalAveragePooling1D takes a mask, averaging the unmasked steps), tf-keras 2.21
`layers/pooling/` (pool_size 2 for both; the same mask rule), Keras 2.2.4 `layers/pooling.py`
(no keepdims) and TensorFlow.js 4.22 `tfjs-layers/src/layers/pooling.ts` (poolSize 2, strides
the pool size; no dataFormat, no keepdims; GlobalAveragePooling1D is a plain mean that ignores
any mask). Average pooling with 'same' padding divides by the steps inside the input only, as
TensorFlow's and tfjs-core's avgPool do. No mask leaves a pooling layer.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ..base import REQUIRED, Field, LayerConfig, LayerType, Weight, common_fields
from ..windows import channels_last_only, output_length, windows

KERAS = ("keras3", "keras2", "keras2.2")


def _data_format() -> Field:
    return Field("data_format", k.DATA_FORMAT, "channels_last", families=KERAS,
                 ignored_by=("tfjs",), omit_reason=channels_last_only)


def _pooling_fields(default_name: str, pool_size_default) -> tuple[Field, ...]:
    return (
        Field("pool_size", k.SIZES, pool_size_default, doc="window length"),
        Field("strides", k.STRIDES, None, doc="null for the pool size"),
        Field("padding", k.POOL_PADDING, "valid"),
        _data_format(),
        *common_fields(default_name),
    )


def _global_fields(default_name: str) -> tuple[Field, ...]:
    return (
        _data_format(),
        Field("keepdims", k.BOOLEAN, False, families=("keras3", "keras2"),
              omit_reason=lambda c, n: None if c.keepdims else "the steps axis is dropped"),
        *common_fields(default_name),
    )


def _no_weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    return []


def _strides_as_pool_size(values: dict, family: str) -> dict[str, str]:
    """Null strides mean the pool size in every runtime, which all write it resolved."""
    if values["strides"] is None:
        values["strides"] = values["pool_size"]
    return {}


def _steps_axis(config: LayerConfig) -> int:
    return 2 if config.data_format == "channels_first" else 1


def _pooled_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    shape = list(input_shape)
    axis = _steps_axis(config)
    shape[axis] = output_length(shape[axis], config.pool_size[0], config.padding,
                                config.strides[0])
    return tuple(shape)


def _pool(mode: str):
    def forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
        x = np.asarray(inputs[0], dtype=dtype)
        if config.data_format == "channels_first":
            x = np.transpose(x, (0, 2, 1))
        fill = -np.inf if mode == "max" else 0.0
        patches, real = windows(x, config.pool_size[0], config.padding, config.strides[0],
                                fill=fill)
        if mode == "max":
            y = patches.max(axis=2)
        else:
            y = patches.sum(axis=2) / real.sum(axis=1).astype(dtype)[None, :, None]
        y = y.astype(dtype)
        if config.data_format == "channels_first":
            y = np.transpose(y, (0, 2, 1))
        return [y], [None]
    return forward


def _global_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    axis = _steps_axis(config)
    if config.keepdims:
        return tuple(1 if i == axis else d for i, d in enumerate(input_shape))
    return tuple(d for i, d in enumerate(input_shape) if i != axis)


def _global(mode: str):
    def forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
        x = np.asarray(inputs[0], dtype=dtype)
        axis = _steps_axis(config)
        if mode == "max":
            y = x.max(axis=axis, keepdims=config.keepdims)
        elif masks[0] is None:
            y = x.mean(axis=axis, keepdims=config.keepdims)
        else:
            keep = np.expand_dims(np.asarray(masks[0], bool), 3 - axis).astype(dtype)
            y = (x * keep).sum(axis=axis, keepdims=config.keepdims) / \
                keep.sum(axis=axis, keepdims=config.keepdims)
        return [y.astype(dtype)], [None]
    return forward


def _pooling(class_name: str, mode: str, default_name: str, pool_size_default) -> LayerType:
    return LayerType(
        class_name=class_name,
        fields=_pooling_fields(default_name, pool_size_default),
        weights=_no_weights,
        output_shape=_pooled_shape,
        forward=_pool(mode),
        adjust=_strides_as_pool_size,
        mask_out=lambda config, input_masked: False,
        doc=f"{mode.title()} over windows of pool_size steps; masks stop here.",
    )


MAX_POOLING_1D = _pooling("MaxPooling1D", "max", "max_pooling1d", (2,))
AVERAGE_POOLING_1D = _pooling(
    "AveragePooling1D", "average", "average_pooling1d",
    {"keras3": REQUIRED, "keras2": (2,), "keras2.2": (2,), "tfjs": (2,)})

def _global_pooling(class_name: str, mode: str, default_name: str, doc: str,
                    refuse_masked: dict[str, str] | None = None) -> LayerType:
    return LayerType(
        class_name=class_name,
        fields=_global_fields(default_name),
        weights=_no_weights,
        output_shape=_global_shape,
        forward=_global(mode),
        mask_out=lambda config, input_masked: False,
        refuse_masked=refuse_masked,
        doc=doc,
    )


GLOBAL_MAX_POOLING_1D = _global_pooling(
    "GlobalMaxPooling1D", "max", "global_max_pooling1d",
    "The maximum over every step, masked ones included, as every runtime does.")
GLOBAL_AVERAGE_POOLING_1D = _global_pooling(
    "GlobalAveragePooling1D", "average", "global_average_pooling1d",
    "The mean over the steps; with a mask, over the unmasked steps only (Keras).",
    refuse_masked={"tfjs": "TensorFlow.js 4.22's GlobalAveragePooling1D averages every step, "
                           "masked ones included; Keras averages the unmasked steps only"})
