"""Sliding windows over spatial axes, shared by the convolution and pooling layers (1D, 2D).

The padding rules are TensorFlow's, which Keras 3, tf-keras and tfjs-core all follow: 'valid'
keeps whole windows; 'same' gives ceil(length / stride) windows and pads the total shortfall
half before (rounded down), half after; 'causal' (Conv1D only) pads dilation * (size - 1)
before (Keras 3 `conv1d.py`, tf-keras `base_conv.py`).
"""

from __future__ import annotations

import numpy as np

from .base import LayerConfig


def output_length(length: int | None, size: int, padding: str, stride: int,
                  dilation: int = 1) -> int | None:
    """How many windows fit along `length` steps (ceil(length / stride) when padded, causal
    included); None while the length is unknown."""
    if length is None:
        return None
    if padding == "valid":
        return max((length - dilation * (size - 1) - 1) // stride + 1, 0)
    return -(-length // stride)


def _padding(length: int, size: int, padding: str, stride: int, dilation: int
             ) -> tuple[int, int]:
    span = dilation * (size - 1) + 1
    if padding == "causal":
        return span - 1, 0
    if padding == "same":
        total = max((output_length(length, size, padding, stride) - 1) * stride + span - length,
                    0)
        return total // 2, total - total // 2
    return 0, 0


def windows(x: np.ndarray, size: int, padding: str, stride: int, dilation: int = 1,
            fill: float = 0.0, axis: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Windows along `axis` ([batch, steps, channels] -> [batch, windows, size, channels], a
    read-only view of the padded input) and a [windows, size] bool array marking the window
    positions on real (not padded) steps."""
    length = x.shape[axis]
    before, after = _padding(length, size, padding, stride, dilation)
    pads = [(0, 0)] * x.ndim
    pads[axis] = (before, after)
    padded = np.pad(x, pads, constant_values=fill)
    count = output_length(length, size, padding, stride, dilation)
    index = np.arange(count)[:, None] * stride + np.arange(size)[None, :] * dilation
    real = (index >= before) & (index < before + length)
    if count == 0:
        return np.take(padded, index, axis=axis), real
    span = dilation * (size - 1) + 1
    view = np.lib.stride_tricks.sliding_window_view(padded, span, axis=axis)
    picked = (slice(None),) * axis + (slice(0, count * stride, stride),)
    return np.moveaxis(view[picked][..., ::dilation], -1, axis + 1), real


def windows_nd(x: np.ndarray, sizes: tuple, padding: str, strides: tuple,
               dilations: tuple, fill: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """[batch, *space, channels] -> ([batch, *windows, *sizes, channels], real) with `real`
    [*windows, *sizes] bool: the 1D windows taken along each spatial axis in turn."""
    rank = len(sizes)
    real = np.ones((), bool)
    for i in range(rank):  # axis 1 + 2i holds the windows of spatial axis i
        x, along = windows(x, sizes[i], padding, strides[i], dilations[i], fill, axis=1 + 2 * i)
        real = real[..., None, None] & along.reshape((1,) * (2 * i) + along.shape)
    order = [0, *range(1, 2 * rank, 2), *range(2, 2 * rank + 1, 2), 2 * rank + 1]
    real_order = [*range(0, 2 * rank, 2), *range(1, 2 * rank, 2)]
    return x.transpose(order), real.transpose(real_order)


def channels_last_only(config: LayerConfig, name: str) -> str | None:
    """A Field omit rule for tfjs's 1D layers, which have no data_format: fine for channels_last,
    refused (None) for channels_first. The converter copies Keras's data_format into model.json
    files; tfjs loads them computing channels_last, so reading refuses channels_first too."""
    if config.data_format == "channels_first":
        return None
    return "channels_last is the only layout TensorFlow.js 4.22 has for this layer"
