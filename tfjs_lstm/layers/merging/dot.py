"""Dot: the batchwise dot product of two inputs along one axis of each.

Read in Keras 3.15 `keras/src/layers/merging/dot.py`, tf-keras 2.21, Keras 2.2.4 and
TensorFlow.js 4.22 `merge.ts`: `axes` (required) is one axis for both inputs or one per input,
negative ones counted from the end; with `normalize` (default false) each input is first
L2-normalized along its axis, as Keras 3 does it: `x * min(rsqrt(sum(x^2)), 1e7)` (tf-keras and
tfjs floor the squared norm at 1e-12 and 1e-7 instead, which differ only for vectors shorter
than about 3e-4). The output holds the first input's remaining axes then the second's, (batch,
1) when none remain. TensorFlow.js takes inputs of rank 2 or 3 only; so does tfjs-lstm; it
cannot build a Dot given a list of axes with a negative one. The output carries no mask in any
runtime.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ..base import Field, LayerConfig, LayerType, common_fields, no_weights
from ..normalization.unit_normalization import l2_normalized


class _DotAxes(k.Axes):
    """An axis for both inputs, or a list of one axis per input; canonically an int or a
    pair, written as Axes are."""

    def read(self, family: str, value: Any, ctx: Any, key: str) -> Any:
        def axis(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        if axis(value):
            return value
        if isinstance(value, (list, tuple)) and len(value) == 2 and all(map(axis, value)):
            return tuple(value)
        ctx.bad_input(key, f"expected an axis or a list of two, found {value!r}")

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"},
                                                "minItems": 2, "maxItems": 2}]}


def _axes(config: LayerConfig, input_shapes: list[tuple]) -> tuple[int, int]:
    """Each input's contracted axis, non-negative, after checking ranks and sizes."""
    if len(input_shapes) != 2:
        raise InputError(f"layer '{config.name}': Dot takes exactly 2 inputs, got "
                         f"{len(input_shapes)}")
    ranks = [len(shape) for shape in input_shapes]
    if any(not 2 <= rank <= 3 for rank in ranks):
        raise InputError(f"layer '{config.name}': Dot takes inputs of rank 2 or 3, got "
                         f"shapes {[list(s) for s in input_shapes]}")
    given = config.axes if isinstance(config.axes, tuple) else (config.axes, config.axes)
    axes = tuple(a % rank if -rank <= a < rank else -1 for a, rank in zip(given, ranks,
                                                                          strict=True))
    sizes = [shape[a] for shape, a in zip(input_shapes, axes, strict=True)]
    if -1 in axes or 0 in axes or (None not in sizes and sizes[0] != sizes[1]):
        raise InputError(f"layer '{config.name}': axes {config.axes} do not pair sizes of "
                         f"inputs shaped {[list(s) for s in input_shapes]}")
    return axes


def _output_shape(config: LayerConfig, input_shapes: list[tuple]) -> tuple:
    first, second = (list(shape) for shape in input_shapes)
    a, b = _axes(config, input_shapes)
    del first[a], second[b]
    shape = (*first, *second[1:])
    return shape if len(shape) > 1 else (*shape, 1)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    x, y = (np.asarray(v, dtype) for v in inputs)
    a, b = _axes(config, [x.shape, y.shape])
    if config.normalize:  # Keras 3's epsilon, 1e-7
        x, y = l2_normalized(x, a, 1e-7), l2_normalized(y, b, 1e-7)
    x, y = np.moveaxis(x, a, -1), np.moveaxis(y, b, 1)
    out = np.einsum("bxn,bny->bxy", x.reshape(len(x), -1, x.shape[-1]),
                    y.reshape(len(y), y.shape[1], -1))
    out = out.reshape(_output_shape(config, [inputs[0].shape, inputs[1].shape]))
    return [out.astype(dtype)], [None]


def _before_write(values: dict, family: str) -> dict[str, str]:
    axes = values["axes"]
    if family == "tfjs" and isinstance(axes, tuple) and min(axes) < 0:
        return {"axes": "TensorFlow.js 4.22's Dot checks a list of axes without counting "
                        "negative ones from the end: give them as non-negative axes"}
    return {}


DOT = LayerType(
    class_name="Dot",
    fields=(Field("axes", _DotAxes(), doc="the contracted axis, or one per input"),
            Field("normalize", k.BOOLEAN, False, doc="L2-normalize each input along its axis"),
            *common_fields("dot")),
    weights=no_weights,
    output_shape=_output_shape,
    forward=_forward,
    multi_input=True,
    before_write=_before_write,
    mask_out=lambda config, masked: False,
    doc="Batchwise dot product of two inputs.",
)
