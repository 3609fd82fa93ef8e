"""ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU and Softmax: activation functions as layers,
with their parameters.

Read in Keras 3.15 `keras/src/layers/activations/`, tf-keras 2.21 `layers/activation/` (which
writes slopes cast to float32: LeakyReLU's 0.3 as 0.30000001192092896), Keras 2.2.4
`layers/advanced_activations.py` and TensorFlow.js 4.22 `advanced_activations.ts`: its ReLU has
only maxValue (written when set); its ELU throws on any alpha but 1; its Softmax's default axis
is 1, not -1, and tfjs-core's softmax takes one axis only when it is the last; its LeakyReLU
and ELU stop masks (refused where one arrives). Masks pass through the others, except into
Softmax: every runtime applies a [batch, steps] mask to the inputs by broadcasting, which a
[batch, steps, features] input cannot take, so a masked Softmax is refused.
PReLU (`x`, or `alpha * x` below zero) learns alpha per input entry but the batch, of size 1
along `shared_axes`; its alpha initializer defaults to zeros everywhere. ThresholdedReLU (`x`
where above theta, default 1, else 0) is gone from Keras 3; tf-keras writes theta cast to
float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import kinds as k
from ...casing import UNDEFINED
from ...errors import InputError
from ...objects import INITIALIZERS
from ..base import Field, LayerConfig, LayerType, Weight, common_fields, no_weights, same_shape

KERAS = ("keras3", "keras2", "keras2.2")


def _elementwise(function):
    """A forward pass applying `function(config, x)`; the mask passes through."""
    def forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
        x = np.asarray(inputs[0], dtype=dtype)
        return [np.asarray(function(config, x), dtype=dtype)], [masks[0]]
    return forward


def _drops_mask_in_tfjs(class_name: str) -> dict[str, str]:
    """tfjs's executor keeps a mask only past layers that support masking, which its
    LeakyReLU and ELU do not: the layers after them would compute unmasked."""
    return {"tfjs": f"TensorFlow.js 4.22's {class_name} does not support masking, so the "
                    "mask would stop there while Keras passes it on"}


def _relu(config: LayerConfig, x: np.ndarray) -> np.ndarray:
    """Keras's relu: x where above threshold (else 0), capped at max_value, minus
    negative_slope * (threshold - x) where below threshold."""
    dtype = x.dtype.type
    threshold = dtype(config.threshold)
    positive = np.where(x > threshold, x, dtype(0))
    if config.max_value is not None:
        positive = np.minimum(positive, dtype(config.max_value))
    return positive - dtype(config.negative_slope) * np.maximum(threshold - x, dtype(0))


def _relu_finish_write(out: dict, family: str) -> dict:
    """tfjs's ReLU.getConfig() always carries maxValue, `undefined` when unset: getConfig()'s
    JSON drops it and model.save() writes null, so the writer keeps it undefined."""
    if family == "tfjs" and "maxValue" not in out:
        return out | {"maxValue": UNDEFINED}
    return out


def _keras_only_zero(config: LayerConfig, name: str) -> str | None:
    return None if getattr(config, name) else "0 is TensorFlow.js's only value"


RELU = LayerType(
    class_name="ReLU",
    fields=(
        Field("max_value", k.OPTIONAL_NON_NEGATIVE, None, doc="cap, null for none",
              written_when=lambda c, f: f != "tfjs" or c.max_value is not None),
        Field("negative_slope", k.NON_NEGATIVE, 0.0, families=KERAS,
              omit_reason=_keras_only_zero),
        Field("threshold", k.NON_NEGATIVE, 0.0, families=KERAS, omit_reason=_keras_only_zero),
        *common_fields("re_lu"),
    ),
    weights=no_weights,
    output_shape=same_shape,
    forward=_elementwise(_relu),
    finish_write=_relu_finish_write,
    doc="Rectified linear unit with an optional cap, slope and threshold.",
)

LEAKY_RELU = LayerType(
    class_name="LeakyReLU",
    fields=(
        Field("negative_slope", k.NON_NEGATIVE,
              {"keras3": 0.3, "keras2": float(np.float32(0.3)),
               "keras2.2": float(np.float32(0.3)), "tfjs": 0.3},
              keys={"keras2": "alpha", "keras2.2": "alpha", "tfjs": "alpha"},
              doc="slope below zero (Keras 2 and tfjs call it alpha)"),
        *common_fields("leaky_re_lu"),
    ),
    weights=no_weights,
    output_shape=same_shape,
    forward=_elementwise(lambda c, x: np.where(x >= 0, x, x.dtype.type(c.negative_slope) * x)),
    refuse_masked=_drops_mask_in_tfjs("LeakyReLU"),
    doc="x, or negative_slope * x below zero.",
)


def _elu(config: LayerConfig, x: np.ndarray) -> np.ndarray:
    dtype = x.dtype.type
    return np.where(x > 0, x, dtype(config.alpha) * np.expm1(np.minimum(x, dtype(0))))


def _elu_before_write(values: dict, family: str) -> dict[str, str]:
    if family == "tfjs" and values["alpha"] != 1.0:
        return {"alpha": "TensorFlow.js 4.22's ELU throws on any alpha but 1"}
    return {}


ELU = LayerType(
    class_name="ELU",
    fields=(Field("alpha", k.NUMBER, 1.0), *common_fields("elu")),
    weights=no_weights,
    output_shape=same_shape,
    forward=_elementwise(_elu),
    before_write=_elu_before_write,
    refuse_masked=_drops_mask_in_tfjs("ELU"),
    doc="x, or alpha * (exp(x) - 1) below zero.",
)


def _softmax(config: LayerConfig, x: np.ndarray) -> np.ndarray:
    axes = config.axis if isinstance(config.axis, tuple) else (config.axis,)
    shifted = x - x.max(axis=axes, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=axes, keepdims=True)


def _single_axis(axis) -> int | None:
    """The axis of a one-axis softmax (an int or a list of one), else None."""
    if isinstance(axis, tuple):
        return axis[0] if len(axis) == 1 else None
    return axis


def _softmax_for_tfjs(config: LayerConfig, family: str, input_shapes: list[tuple]
                      ) -> LayerConfig:
    """tfjs-core's softmax takes the last axis only: one named by its index is written as -1
    (the same axis) once the input rank is known."""
    axis = _single_axis(config.axis)
    ranks = {len(shape) for shape in input_shapes}
    if family != "tfjs" or axis is None or len(ranks) != 1 or axis != ranks.pop() - 1:
        return config
    return config.replace(axis=(-1,) if isinstance(config.axis, tuple) else -1)


def _softmax_before_write(values: dict, family: str) -> dict[str, str]:
    if family == "tfjs" and _single_axis(values["axis"]) not in (None, -1):
        return {"axis": "TensorFlow.js 4.22's softmax works along the last axis only"}
    return {}


_MASKED_SOFTMAX = ("a [batch, steps] mask reaching Softmax is applied to its inputs by "
                   "broadcasting, which [batch, steps, features] inputs cannot take")

SOFTMAX = LayerType(
    class_name="Softmax",
    fields=(Field("axis", k.AXES, {"keras3": -1, "keras2": -1, "keras2.2": -1, "tfjs": 1},
                  doc="the axis or axes normalized; TensorFlow.js's default is 1"),
            *common_fields("softmax")),
    weights=no_weights,
    output_shape=same_shape,
    forward=_elementwise(_softmax),
    before_write=_softmax_before_write,
    for_input_shapes=_softmax_for_tfjs,
    refuse_masked={family: _MASKED_SOFTMAX for family in ("keras3", "keras2", "keras2.2",
                                                           "tfjs")},
    reads_mask=True,
    doc="Softmax over the given axis.",
)


class _SharedAxes(k.Kind):
    """PReLU's shared_axes: null, an axis, or a list of them (1 is the first after the batch);
    canonically null or a tuple."""

    def read(self, family: str, value: Any, ctx: Any, key: str) -> Any:
        if value is None:
            return None
        items = value if isinstance(value, (list, tuple)) else [value]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in items):
            ctx.bad_input(key, f"expected null, a positive axis or a list of them, found "
                               f"{value!r}")
        return tuple(items)

    def write(self, family: str, value: Any, ctx: Any, key: str) -> Any:
        return None if value is None else list(value)

    def to_json(self, value: Any) -> Any:
        return None if value is None else list(value)

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        axis = {"type": "integer", "minimum": 1}
        return {"anyOf": [{"type": "null"}, axis, {"type": "array", "items": axis}]}


def _prelu_weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    shape = list(input_shape[1:])
    for axis in config.shared_axes or ():
        if axis > len(shape):
            raise InputError(f"layer '{config.name}': shared axis {axis} does not fit an "
                             f"input of rank {len(input_shape)}")
        shape[axis - 1] = 1
    if None in shape:
        raise InputError(f"layer '{config.name}': PReLU needs every size of its input but the "
                         "batch known, or shared")
    return [Weight("alpha", tuple(shape))]


def _prelu_forward(config: LayerConfig, weights: dict, inputs: list, masks: list,
                   dtype) -> tuple:
    x = np.asarray(inputs[0], dtype)
    alpha = np.asarray(weights["alpha"], dtype)
    return [np.where(x < 0, alpha * x, x).astype(dtype)], [masks[0]]


PRELU = LayerType(
    class_name="PReLU",
    fields=(
        Field("alpha_initializer", k.INITIALIZER, INITIALIZERS.make("Zeros")),
        Field("alpha_regularizer", k.REGULARIZER, None),
        Field("alpha_constraint", k.CONSTRAINT, None),
        Field("shared_axes", _SharedAxes(), None, doc="axes alpha is shared along"),
        *common_fields("p_re_lu"),
    ),
    weights=_prelu_weights,
    output_shape=same_shape,
    forward=_prelu_forward,
    doc="x, or a learned alpha * x below zero.",
)

THRESHOLDED_RELU = LayerType(
    class_name="ThresholdedReLU",
    fields=(Field("theta", k.NON_NEGATIVE, 1.0, doc="the threshold"),
            *common_fields("thresholded_re_lu")),
    weights=no_weights,
    output_shape=same_shape,
    forward=_elementwise(lambda c, x: np.where(x > x.dtype.type(c.theta), x, x.dtype.type(0))),
    refuse_masked=_drops_mask_in_tfjs("ThresholdedReLU"),
    families=("keras2", "keras2.2", "tfjs"),
    doc="x where above theta, else 0.",
)
