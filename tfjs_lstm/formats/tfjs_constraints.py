"""TensorFlow.js applies a layer's weight constraints when it loads weights; Keras never does.

`LayerVariable.write` (tfjs-layers `variables.ts`) runs `constraint.apply` on every write, and
`loadWeights` writes. So a tfjs folder computes with constrained weights: the reader applies
the constraints the same way (`constraints.ts`), and the writer leaves a constraint out where
applying it would change the weights it writes (a note says so), since Keras only applies
constraints after training steps and the weights need not satisfy them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import kinds as k
from ..layers import REGISTRY, LayerConfig
from ..model import Model
from ..objects import KerasObject

EPSILON = np.float32(1e-7)  # tfjs backend epsilon()
# Beyond float32 rounding, a constraint applied at load changes the numbers.
UNCHANGED = 1e-6


def apply(constraint: KerasObject, w: np.ndarray) -> np.ndarray:
    """What tfjs's constraint makes of `w` (float32, in tfjs's order of operations)."""
    w = np.asarray(w, np.float32)
    params = constraint.config
    if constraint.class_name == "NonNeg":
        return np.maximum(w, np.float32(0))
    norms = np.sqrt(np.sum(np.square(w), axis=params["axis"], keepdims=True))
    if constraint.class_name == "UnitNorm":
        return w / (EPSILON + norms)
    if constraint.class_name == "MaxNorm":
        desired = np.clip(norms, 0, np.float32(params["max_value"]))
    else:  # MinMaxNorm
        rate = np.float32(params["rate"])
        desired = rate * np.clip(norms, np.float32(params["min_value"]),
                                 np.float32(params["max_value"])) + (1 - rate) * norms
    return w * (desired / (EPSILON + norms))


def constrained(config: LayerConfig, prefix: str = "") -> Iterator[tuple[str, tuple[str, ...],
                                                                         KerasObject]]:
    """(weight name, path of the config field, constraint) of every constrained weight,
    wrapped layers included (`forward/kernel`, ('layer', 'kernel_constraint'))."""
    layer = REGISTRY[config.class_name]
    for spec in layer.fields:
        value = getattr(config, spec.name)
        if value is None:
            continue
        if spec.kind is k.CONSTRAINT:
            weight = spec.name.removesuffix("_constraint")
            weight = "recurrent_kernel" if weight == "recurrent" else weight
            yield prefix + weight, (spec.name,), value
        elif isinstance(spec.kind, k.NestedLayer):
            for inner in spec.kind.prefixes:
                for name, path, constraint in constrained(value, prefix + inner):
                    yield name, (spec.name, *path), constraint


def as_loaded(model: Model) -> Model:
    """The model with the weights tfjs computes with once it has loaded them."""
    weights = {name: dict(arrays) for name, arrays in model.weights.items()}
    for layer, config in model.layers.items():
        for weight, _, constraint in constrained(config):
            if weight in weights.get(layer, {}):
                weights[layer][weight] = apply(constraint, weights[layer][weight])
    return dataclasses.replace(model, weights=weights)


def keeping_weights(model: Model, written: dict[str, dict[str, Any]]
                    ) -> tuple[Model, list[str]]:
    """The model without the constraints tfjs would change the `written` weights with, and a
    note for each one left out."""
    layers, notes = dict(model.layers), []
    for layer, config in model.layers.items():
        for weight, path, constraint in constrained(config):
            array = written.get(layer, {}).get(weight)
            if array is None:
                continue
            change = float(np.abs(apply(constraint, array) - array).max(initial=0.0))
            if change > UNCHANGED:
                layers[layer] = _without(layers[layer], path)
                notes.append(f"layer '{layer}', key '{'/'.join(path)}' (tfjs): left out: "
                             f"TensorFlow.js applies {constraint.class_name} to '{weight}' when "
                             f"it loads it, which would change it by {change:.3g}; Keras "
                             "applies constraints only when training")
    return dataclasses.replace(model, layers=layers), notes


def _without(config: LayerConfig, path: tuple[str, ...]) -> LayerConfig:
    head, *rest = path
    value = _without(getattr(config, head), tuple(rest)) if rest else None
    return config.replace(**{head: value})
