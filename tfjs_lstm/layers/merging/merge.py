"""Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum: layers that combine a list
of inputs into one.

Read in Keras 3.15 `keras/src/layers/merging/` (only Concatenate has a key of its own, axis,
default -1), tf-keras 2.21, Keras 2.2.4 and TensorFlow.js 4.22 `merge.ts`, which has no
Subtract (it takes exactly two inputs in Keras). Inputs of lower rank get axes inserted at
axis 1, then broadcast, in every runtime.

Masks follow Keras 3, the runtime the tests judge by; the others disagree:
- Add, Subtract, Average, Multiply: the OR of the masks, or none unless every input has
  one (tf-keras ANDs the masks it has; tfjs keeps the first input's mask only, with an extra
  leading axis, which a recurrent layer after it cannot broadcast: tfjs throws).
  Keras 3's Multiply also multiplies masked entries as 1 and, when every input is masked,
  zeroes the entries masked everywhere; its Maximum and Minimum take masked entries from the
  other inputs, tf-keras's do not: masks reaching them are refused.
- Concatenate: each mask spread over its input's last axis (all-true when absent), joined
  along `axis`, reduced with ANY over the last axis (tf-keras and tfjs reduce with ALL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ..base import Field, LayerConfig, LayerType, Weight, common_fields


def _weights(config: LayerConfig, input_shapes: list[tuple]) -> list[Weight]:
    return []


def _batch(config: LayerConfig, input_shapes: list[tuple]) -> int | None:
    """The one batch size the inputs declare, or None; several are refused as everywhere."""
    sizes = {shape[0] for shape in input_shapes} - {None}
    if len(sizes) > 1:
        raise InputError(f"layer '{config.name}': cannot merge inputs of batch sizes "
                         f"{sorted(sizes)}")
    return sizes.pop() if sizes else None


def _broadcast(config: LayerConfig, first: tuple, second: tuple) -> tuple:
    """Two shapes without their batch axes broadcast from the right; None stays unknown."""
    if len(first) < len(second):
        first, second = second, first
    if not second:
        return first
    out = list(first[:len(first) - len(second)])
    for i, j in zip(first[len(first) - len(second):], second, strict=True):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1 or i == j:
            out.append(j if i == 1 else i)
        else:
            raise InputError(f"layer '{config.name}': inputs of shapes {list(first)} and "
                             f"{list(second)} do not broadcast together")
    return tuple(out)


def _elementwise_shape(config: LayerConfig, input_shapes: list[tuple]) -> tuple:
    out = tuple(input_shapes[0][1:])
    for shape in input_shapes[1:]:
        out = _broadcast(config, out, tuple(shape[1:]))
    return (_batch(config, input_shapes), *out)


def _aligned(inputs: list) -> list[np.ndarray]:
    """Inputs of lower rank get axes inserted at axis 1 until every rank is the largest."""
    arrays = [np.asarray(x) for x in inputs]
    rank = max(x.ndim for x in arrays)
    return [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in arrays]


def _or_of_masks(masks: list) -> np.ndarray | None:
    """Keras 3's Merge.compute_mask: no mask unless every input has one, else their OR."""
    if not masks or any(m is None for m in masks):
        return None
    return np.logical_or.reduce([np.asarray(m, bool) for m in masks])


def _add(inputs: list, masks: list) -> np.ndarray:
    output = inputs[0]
    for x in inputs[1:]:
        output = output + x
    return output


def _average(inputs: list, masks: list) -> np.ndarray:
    total = _add(inputs, masks)
    return total / np.asarray(len(inputs), total.dtype)


def _multiply(inputs: list, masks: list) -> np.ndarray:
    """Masked entries count as 1; when every input is masked, entries masked in all are 0."""
    output = None
    for x, mask in zip(inputs, masks, strict=True):
        if mask is not None:
            x = np.where(np.broadcast_to(np.asarray(mask, bool)[..., None], x.shape), x,
                         np.ones((), x.dtype))
        output = x if output is None else output * x
    kept = _or_of_masks(masks)
    if kept is not None:
        output = np.where(kept[..., None], output, np.zeros((), output.dtype))
    return output


def _elementwise_forward(combine: Callable[[list, list], np.ndarray]) -> Callable:
    def forward(config: LayerConfig, weights: dict, inputs: list, masks: list,
                dtype) -> tuple:
        aligned = _aligned(inputs)
        if any(m is not None for m in masks) and len({x.ndim for x in inputs}) > 1:
            raise InputError(f"layer '{config.name}': masked inputs of different ranks are "
                             "not supported")
        return [combine(aligned, masks)], [_or_of_masks(masks)]

    return forward


# Measured: tfjs 4.22 ANDs Concatenate's masks where Keras 3 ORs them (0.19 apart), and its
# Add/Multiply/Average mask breaks the next layer ("Operands could not be broadcast").
_TFJS_MASKS = {"tfjs": "TensorFlow.js 4.22 merges masks differently from Keras, or fails to"}


def _elementwise(class_name: str, combine: Callable[[list, list], np.ndarray],
                 doc: str) -> LayerType:
    return LayerType(
        class_name=class_name,
        fields=common_fields(class_name.lower()),
        weights=_weights,
        output_shape=_elementwise_shape,
        forward=_elementwise_forward(combine),
        multi_input=True,
        refuse_masked=_TFJS_MASKS,
        doc=doc,
    )


def _subtract(inputs: list, masks: list) -> np.ndarray:
    return inputs[0] - inputs[1]


def _maximum(inputs: list, masks: list) -> np.ndarray:
    return np.maximum.reduce(np.broadcast_arrays(*inputs))


def _minimum(inputs: list, masks: list) -> np.ndarray:
    return np.minimum.reduce(np.broadcast_arrays(*inputs))


def _two_inputs_shape(config: LayerConfig, input_shapes: list[tuple]) -> tuple:
    if len(input_shapes) != 2:
        raise InputError(f"layer '{config.name}': Subtract takes exactly 2 inputs, got "
                         f"{len(input_shapes)}")
    return _elementwise_shape(config, input_shapes)


ADD = _elementwise("Add", _add, "Elementwise sum of its inputs.")
# Keras 3 takes masked entries of Maximum/Minimum from the other inputs, tf-keras does not.
_MASKED_EXTREMA = dict.fromkeys(("keras3", "keras2", "keras2.2", "tfjs"),
                                "masks reaching Maximum or Minimum are not supported")


def _unmasked(combine: Callable[[list, list], np.ndarray]) -> Callable:
    def checked(inputs: list, masks: list) -> np.ndarray:
        if any(mask is not None for mask in masks):
            raise InputError(_MASKED_EXTREMA["keras3"])
        return combine(inputs, masks)
    return checked


MAXIMUM = replace(_elementwise("Maximum", _unmasked(_maximum),
                               "Elementwise maximum of its inputs."),
                  refuse_masked=_MASKED_EXTREMA)
MINIMUM = replace(_elementwise("Minimum", _unmasked(_minimum),
                               "Elementwise minimum of its inputs."),
                  refuse_masked=_MASKED_EXTREMA)
SUBTRACT = replace(_elementwise("Subtract", _subtract, "The first input minus the second."),
                   output_shape=_two_inputs_shape, families=("keras3", "keras2", "keras2.2"))
MULTIPLY = _elementwise("Multiply", _multiply, "Elementwise product of its inputs.")
AVERAGE = _elementwise("Average", _average, "Elementwise mean of its inputs.")


def _concat_axis(config: LayerConfig, rank: int) -> int:
    if not -rank <= config.axis < rank:
        raise InputError(f"layer '{config.name}': axis {config.axis} is out of range for "
                         f"inputs of rank {rank}")
    return config.axis % rank


def _concatenate_shape(config: LayerConfig, input_shapes: list[tuple]) -> tuple:
    """Sizes along `axis` add up (None if one is unknown); the others are the first input's,
    and known ones must agree."""
    ranks = {len(shape) for shape in input_shapes}
    if len(ranks) > 1:
        raise InputError(f"layer '{config.name}': Concatenate takes inputs of one rank, got "
                         f"shapes {[list(s) for s in input_shapes]}")
    axis = _concat_axis(config, ranks.pop())
    out = list(input_shapes[0])
    for shape in input_shapes[1:]:
        for index, (mine, theirs) in enumerate(zip(out, shape, strict=True)):
            if index == axis:
                out[index] = None if mine is None or theirs is None else mine + theirs
            elif None not in (mine, theirs) and mine != theirs:
                raise InputError(f"layer '{config.name}': shapes "
                                 f"{[list(s) for s in input_shapes]} differ off axis {axis}")
    return tuple(out)


def _concatenate_forward(config: LayerConfig, weights: dict, inputs: list, masks: list,
                         dtype) -> tuple:
    arrays = [np.asarray(x) for x in inputs]
    _concatenate_shape(config, [x.shape for x in arrays])
    output = np.concatenate(arrays, axis=config.axis)
    if all(m is None for m in masks):
        return [output], [None]
    spread = [np.ones(x.shape, bool) if m is None else
              np.broadcast_to(np.asarray(m, bool)[..., None], x.shape)
              if np.ndim(m) < x.ndim else np.asarray(m, bool)
              for x, m in zip(arrays, masks, strict=True)]
    return [output], [np.any(np.concatenate(spread, axis=config.axis), axis=-1)]


CONCATENATE = LayerType(
    class_name="Concatenate",
    fields=(Field("axis", k.AXIS, -1, doc="the axis the inputs are joined along"),
            *common_fields("concatenate")),
    weights=_weights,
    output_shape=_concatenate_shape,
    forward=_concatenate_forward,
    multi_input=True,
    refuse_masked=_TFJS_MASKS,
    doc="Joins its inputs along one axis.",
)
