"""Max and average pooling, windowed and global, in 1D and 2D.

Read in Keras 3.15 `keras/src/layers/pooling/` (AveragePooling1D requires pool_size, MaxPooling1D
defaults it to 2; strides default to the pool size; global pooling writes data_format and
keepdims; only GlobalAveragePooling1D takes a mask, averaging the unmasked steps), tf-keras 2.21
`layers/pooling/` (pool_size 2 for both; the same mask rule), Keras 2.2.4 `layers/pooling.py`
(no keepdims) and TensorFlow.js 4.22 `tfjs-layers/src/layers/pooling.ts` (poolSize 2, strides
the pool size; no dataFormat, no keepdims: a converter's data_format and keepdims are ignored;
GlobalAveragePooling1D is a plain mean that ignores any mask). The 2D layers (Keras 3
`{max,average}_pooling2d.py`, tf-keras `pooling/*2d.py`, tfjs `Pooling2D`, `GlobalPooling2D`)
take the same keys with two sizes: pool_size (2, 2) except Keras 3's AveragePooling2D, which
requires it; tfjs has dataFormat for them, computing channelsFirst by transposing, and no
keepdims. Average pooling with 'same' padding divides by the positions inside the input only,
as TensorFlow's and tfjs-core's avgPool do. No mask leaves a pooling layer.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ..base import REQUIRED, Field, LayerConfig, LayerType, common_fields, no_weights
from ..windows import channels_last_only, output_length, windows_nd

KERAS = ("keras3", "keras2", "keras2.2")


def _data_format(rank: int) -> Field:
    """tfjs's 1D pooling layers have no dataFormat; its 2D ones have it."""
    if rank == 2:
        return Field("data_format", k.DATA_FORMAT, "channels_last")
    return Field("data_format", k.DATA_FORMAT, "channels_last", families=KERAS,
                 ignored_by=("tfjs",), omit_reason=channels_last_only)


def _pooling_fields(default_name: str, pool_size_default, rank: int) -> tuple[Field, ...]:
    sizes, strides = (k.SIZES_2D, k.STRIDES_2D) if rank == 2 else (k.SIZES, k.STRIDES)
    return (
        Field("pool_size", sizes, pool_size_default,
              doc="window length" if rank == 1 else "window rows and columns"),
        Field("strides", strides, None, doc="null for the pool size"),
        Field("padding", k.POOL_PADDING, "valid"),
        _data_format(rank),
        *common_fields(default_name),
    )


def _global_fields(default_name: str, rank: int) -> tuple[Field, ...]:
    return (
        _data_format(rank),
        Field("keepdims", k.BOOLEAN, False, families=("keras3", "keras2"), ignored_by=("tfjs",),
              omit_reason=lambda c, n: None if c.keepdims else "the pooled axes are dropped"),
        *common_fields(default_name),
    )


def _strides_as_pool_size(values: dict, family: str) -> dict[str, str]:
    """Null strides mean the pool size in every runtime, which all write it resolved."""
    if values["strides"] is None:
        values["strides"] = values["pool_size"]
    return {}


def _space_axes(config: LayerConfig, rank: int) -> tuple[int, ...]:
    first = 2 if config.data_format == "channels_first" else 1
    return tuple(range(first, first + rank))


def _pooled_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    shape = list(input_shape)
    for i, axis in enumerate(_space_axes(config, len(config.pool_size))):
        shape[axis] = output_length(shape[axis], config.pool_size[i], config.padding,
                                    config.strides[i])
    return tuple(shape)


def _pool(mode: str):
    def forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
        x = np.asarray(inputs[0], dtype=dtype)
        rank = len(config.pool_size)
        if config.data_format == "channels_first":
            x = np.moveaxis(x, 1, -1)
        fill = -np.inf if mode == "max" else 0.0
        patches, real = windows_nd(x, config.pool_size, config.padding, config.strides,
                                   (1,) * rank, fill=fill)
        # Tap by tap over the window: each tap is a [batch, *windows, channels] view, so a
        # few whole-array passes replace a reduction over tiny strided axes.
        combine = np.maximum if mode == "max" else np.add
        taps = iter(np.ndindex(*config.pool_size))
        y = np.array(patches[(Ellipsis, *next(taps), slice(None))])
        for tap in taps:
            combine(y, patches[(Ellipsis, *tap, slice(None))], out=y)
        if mode != "max":
            count = real.sum(axis=tuple(range(rank, 2 * rank))).astype(dtype)
            y = y / count[None, ..., None]
        y = y.astype(dtype)
        if config.data_format == "channels_first":
            y = np.moveaxis(y, -1, 1)
        return [y], [None]
    return forward


def _global_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    axes = _space_axes(config, len(input_shape) - 2)
    if config.keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
    return tuple(d for i, d in enumerate(input_shape) if i not in axes)


def _global(mode: str):
    def forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
        x = np.asarray(inputs[0], dtype=dtype)
        axes = _space_axes(config, x.ndim - 2)
        if not all(x.shape[axis] for axis in axes):  # no positions: TF's reductions' identity
            y = np.full(_global_shape(config, x.shape), -np.inf if mode == "max" else np.nan)
        elif mode == "max":
            y = x.max(axis=axes, keepdims=config.keepdims)
        elif masks[0] is None or len(axes) > 1:  # Keras's 2D global pooling takes no mask
            y = x.mean(axis=axes, keepdims=config.keepdims)
        else:
            keep = np.expand_dims(np.asarray(masks[0], bool), 3 - axes[0]).astype(dtype)
            y = (x * keep).sum(axis=axes, keepdims=config.keepdims) / \
                keep.sum(axis=axes, keepdims=config.keepdims)
        return [y.astype(dtype)], [None]
    return forward


def _pooling(class_name: str, mode: str, default_name: str, pool_size_default,
             rank: int = 1) -> LayerType:
    return LayerType(
        class_name=class_name,
        fields=_pooling_fields(default_name, pool_size_default, rank),
        weights=no_weights,
        output_shape=_pooled_shape,
        forward=_pool(mode),
        adjust=_strides_as_pool_size,
        mask_out=lambda config, input_masked: False,
        doc=f"{mode.title()} over windows of pool_size {'steps' if rank == 1 else 'pixels'}; "
            "masks stop here.",
    )


MAX_POOLING_1D = _pooling("MaxPooling1D", "max", "max_pooling1d", (2,))
AVERAGE_POOLING_1D = _pooling(
    "AveragePooling1D", "average", "average_pooling1d",
    {"keras3": REQUIRED, "keras2": (2,), "keras2.2": (2,), "tfjs": (2,)})
MAX_POOLING_2D = _pooling("MaxPooling2D", "max", "max_pooling2d", (2, 2), rank=2)
AVERAGE_POOLING_2D = _pooling(
    "AveragePooling2D", "average", "average_pooling2d",
    {"keras3": REQUIRED, "keras2": (2, 2), "keras2.2": (2, 2), "tfjs": (2, 2)}, rank=2)


def _global_pooling(class_name: str, mode: str, default_name: str, doc: str,
                    refuse_masked: dict[str, str] | None = None, rank: int = 1) -> LayerType:
    return LayerType(
        class_name=class_name,
        fields=_global_fields(default_name, rank),
        weights=no_weights,
        output_shape=_global_shape,
        forward=_global(mode),
        mask_out=lambda config, input_masked: False,
        refuse_masked=refuse_masked,
        reads_mask=mode == "average" and rank == 1,
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
GLOBAL_MAX_POOLING_2D = _global_pooling(
    "GlobalMaxPooling2D", "max", "global_max_pooling2d",
    "The maximum over rows and columns.", rank=2)
GLOBAL_AVERAGE_POOLING_2D = _global_pooling(
    "GlobalAveragePooling2D", "average", "global_average_pooling2d",
    "The mean over rows and columns.", rank=2)
