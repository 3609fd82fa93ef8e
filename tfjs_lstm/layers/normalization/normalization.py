"""LayerNormalization and BatchNormalization at inference.

Read in Keras 3.15 `keras/src/layers/normalization/{layer,batch}_normalization.py`, tf-keras 2.21
`layers/normalization/` and TensorFlow.js 4.22 `tfjs-layers/src/layers/normalization.ts`:
epsilon 1e-3, momentum 0.99, axis -1, center and scale on everywhere. Keras 2.2.4 has no
LayerNormalization; tfjs's has no constraints and its BatchNormalization takes one integer axis.
A built layer writes its axis resolved: tf-keras and tfjs as a list of positive axes, Keras 3's
LayerNormalization as a list. Weights in build order: gamma, beta (each when enabled), then
BatchNormalization's moving_mean and moving_variance, which no gradient trains. Inference
normalizes with the moving statistics: `(x - mean) / sqrt(variance + epsilon) * gamma + beta`.
Masks pass through unchanged.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ...objects import INITIALIZERS
from ..base import Field, LayerConfig, LayerType, Weight, common_fields

KERAS_2_AND_3 = ("keras3", "keras2")


def _affine_fields(constraint_families: tuple[str, ...]) -> tuple[Field, ...]:
    """center/scale with the initializers, regularizers and constraints of beta and gamma."""
    def constraint(name: str) -> Field:
        return Field(name, k.CONSTRAINT, None, families=constraint_families,
                     ignored_by=() if "tfjs" in constraint_families else ("tfjs",),
                     omit_reason=lambda c, n: "TensorFlow.js has no constraint here; the "
                                              "stored weights are used as they are")

    return (
        Field("center", k.BOOLEAN, True, doc="add the learned offset beta"),
        Field("scale", k.BOOLEAN, True, doc="multiply by the learned gamma"),
        Field("beta_initializer", k.INITIALIZER, INITIALIZERS.make("Zeros")),
        Field("gamma_initializer", k.INITIALIZER, INITIALIZERS.make("Ones")),
        Field("beta_regularizer", k.REGULARIZER, None),
        Field("gamma_regularizer", k.REGULARIZER, None),
        constraint("beta_constraint"),
        constraint("gamma_constraint"),
    )


def _axes(config: LayerConfig, rank: int) -> list[int]:
    """The config's axes as sorted non-negative indices of a tensor of `rank`."""
    given = list(config.axis) if isinstance(config.axis, tuple) else [config.axis]
    resolved = sorted(a + rank if a < 0 else a for a in given)
    if any(not 0 < a < rank for a in resolved):
        raise InputError(f"layer '{config.name}': axis {config.axis} does not fit an input of "
                         f"rank {rank}")
    return resolved


def _affine_weights(config: LayerConfig, shape: tuple) -> list[Weight]:
    weights = []
    if config.scale:
        weights.append(Weight("gamma", shape))
    if config.center:
        weights.append(Weight("beta", shape))
    return weights


def _broadcast(array, axes: list[int], rank: int, dtype) -> np.ndarray:
    """A weight laid along `axes` of a tensor of `rank`, the other axes of size 1."""
    array = np.asarray(array, dtype=dtype)
    shape = [1] * rank
    for axis, size in zip(axes, array.shape, strict=True):
        shape[axis] = size
    return array.reshape(shape)


def _normalized(config: LayerConfig, weights: dict, x: np.ndarray, axes: list[int],
                mean: np.ndarray, variance: np.ndarray, dtype) -> np.ndarray:
    """`x * inv + (beta - mean * inv)` with `inv = gamma / sqrt(variance + epsilon)`, the
    order TensorFlow's batch_normalization uses."""
    inv = (1.0 / np.sqrt(variance + dtype(config.epsilon))).astype(dtype)
    if config.scale:
        inv = inv * _broadcast(weights["gamma"], axes, x.ndim, dtype)
    offset = -mean * inv
    if config.center:
        offset = offset + _broadcast(weights["beta"], axes, x.ndim, dtype)
    return (x * inv + offset).astype(dtype)


LAYER_NORMALIZATION_FIELDS = (
    Field("axis", k.AXES, -1, doc="the axis or axes normalized (and gamma/beta laid along)"),
    Field("epsilon", k.NUMBER, 1e-3),
    *_affine_fields(KERAS_2_AND_3),
    Field("rms_scaling", k.FALSE_ONLY, False, families=("keras3",), ignored_by=("tfjs",),
          omit_reason=lambda c, n: "Keras 3's deprecated rms_scaling is off"),
    *common_fields("layer_normalization"),
)


def _layer_norm_weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    axes = _axes(config, len(input_shape))
    return _affine_weights(config, tuple(input_shape[a] for a in axes))


def _layer_norm_forward(config: LayerConfig, weights: dict, inputs: list, masks: list,
                        dtype) -> tuple:
    x = np.asarray(inputs[0], dtype=dtype)
    axes = _axes(config, x.ndim)
    mean = x.mean(axis=tuple(axes), keepdims=True, dtype=dtype)
    variance = np.square(x - mean).mean(axis=tuple(axes), keepdims=True, dtype=dtype)
    return [_normalized(config, weights, x, axes, mean, variance, dtype)], [masks[0]]


def _layer_norm_before_write(values: dict, family: str) -> dict[str, str]:
    axis = values["axis"]
    if family == "tfjs" and isinstance(axis, tuple) and list(axis) != sorted(axis):
        return {"axis": "TensorFlow.js lays gamma and beta along the axes in the order given, "
                        "Keras in sorted order: list the axes sorted"}
    return {}


def _layer_norm_built(config: LayerConfig, family: str, input_shapes: list[tuple]
                      ) -> LayerConfig:
    """tfjs's LayerNormalization writes its axes as built: non-negative, in the given order, a
    list; so does a model.json written here."""
    if family != "tfjs" or not input_shapes:
        return config
    rank = len(input_shapes[0])
    given = config.axis if isinstance(config.axis, tuple) else (config.axis,)
    return config.replace(axis=tuple(a + rank if a < 0 else a for a in given))


def _normalizes_steps(config: LayerConfig, rank: int) -> bool:
    """Statistics over the steps axis (1) mix steps: a masked step's value moves the others."""
    given = config.axis if isinstance(config.axis, tuple) else (config.axis,)
    return any(a % rank == 1 for a in given)


LAYER_NORMALIZATION = LayerType(
    class_name="LayerNormalization",
    fields=LAYER_NORMALIZATION_FIELDS,
    weights=_layer_norm_weights,
    output_shape=lambda config, input_shape: tuple(input_shape),
    forward=_layer_norm_forward,
    before_write=_layer_norm_before_write,
    for_input_shapes=_layer_norm_built,
    mixes_steps=_normalizes_steps,
    families=("keras3", "keras2", "tfjs"),
    doc="Normalizes each sample over `axis` with its own mean and variance.",
)


BATCH_NORMALIZATION_FIELDS = (
    Field("axis", k.AXES, -1, doc="the features axis the statistics are kept for"),
    Field("momentum", k.NUMBER, 0.99, doc="moving-average decay while training"),
    Field("epsilon", k.NUMBER, 1e-3),
    *_affine_fields(("keras3", "keras2", "keras2.2", "tfjs")),
    Field("moving_mean_initializer", k.INITIALIZER, INITIALIZERS.make("Zeros")),
    Field("moving_variance_initializer", k.INITIALIZER, INITIALIZERS.make("Ones")),
    Field("synchronized", k.BOOLEAN, False, families=("keras3",), accepted_by=("keras2",),
          ignored_by=("tfjs",),
          omit_reason=lambda c, n: "synchronizes statistics across replicas while training"),
    Field("renorm", k.FALSE_ONLY, False, families=("keras3",), accepted_by=("keras2",),
          ignored_by=("tfjs",), omit_reason=lambda c, n: "batch renormalization is off"),
    Field("renorm_clipping", k.NULL_ONLY, None, families=("keras3",), accepted_by=("keras2",),
          ignored_by=("tfjs",), omit_reason=lambda c, n: "batch renormalization is off"),
    Field("renorm_momentum", k.NUMBER, 0.99, families=("keras3",), accepted_by=("keras2",),
          ignored_by=("tfjs",),
          omit_reason=lambda c, n: "only batch renormalization, which is off, reads it"),
    *common_fields("batch_normalization"),
)


def _batch_axis(config: LayerConfig, rank: int) -> list[int]:
    axes = _axes(config, rank)
    if len(axes) != 1:
        raise InputError(f"layer '{config.name}': BatchNormalization over several axes "
                         f"({config.axis}) is not supported")
    return axes


def _batch_norm_weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    shape = (input_shape[_batch_axis(config, len(input_shape))[0]],)
    return [*_affine_weights(config, shape), Weight("moving_mean", shape, trainable=False),
            Weight("moving_variance", shape, trainable=False)]


def _batch_norm_forward(config: LayerConfig, weights: dict, inputs: list, masks: list,
                        dtype) -> tuple:
    x = np.asarray(inputs[0], dtype=dtype)
    axes = _batch_axis(config, x.ndim)
    mean = _broadcast(weights["moving_mean"], axes, x.ndim, dtype)
    variance = _broadcast(weights["moving_variance"], axes, x.ndim, dtype)
    return [_normalized(config, weights, x, axes, mean, variance, dtype)], [masks[0]]


def _batch_norm_before_write(values: dict, family: str) -> dict[str, str]:
    """Keras 3, Keras 2.2 and tfjs take one integer axis; tf-keras also a list."""
    axis = values["axis"]
    if family == "keras2" or not isinstance(axis, tuple):
        return {}
    if len(axis) > 1:
        return {"axis": "this runtime normalizes over one axis only"}
    values["axis"] = axis[0]
    return {}


BATCH_NORMALIZATION = LayerType(
    class_name="BatchNormalization",
    fields=BATCH_NORMALIZATION_FIELDS,
    weights=_batch_norm_weights,
    output_shape=lambda config, input_shape: tuple(input_shape),
    forward=_batch_norm_forward,
    before_write=_batch_norm_before_write,
    doc="Normalizes with the moving mean and variance learned while training (inference).",
)
