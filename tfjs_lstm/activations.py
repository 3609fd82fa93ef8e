"""Activation functions by what they compute, with each runtime's name for them.

Names are not functions: Keras 3's `hard_sigmoid` is clip(x/6 + 0.5, 0, 1) while Keras 2's and
TensorFlow.js's are clip(0.2x + 0.5, 0, 1). The canonical name says which function it is; each
dialect family maps it to its own spelling, or has none (then a writer must rescale or refuse).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

FAMILIES = ("keras3", "keras2", "keras2.2", "tfjs")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


# fn(x) == outer * tanh(inner * x) + shift, bit for bit: scaling by 0.5 is exact, so
# 0.5 * (t + 1) and 0.5 * t + 0.5 round alike.
_TANH_FORMS: dict[Callable, tuple[float, float, float]] = {
    np.tanh: (1.0, 1.0, 0.0),
    _sigmoid: (0.5, 0.5, 0.5),
}


def tanh_form(fn: Callable) -> tuple[float, float, float] | None:
    """(inner, outer, shift) when `fn` is outer*tanh(inner*x) + shift (tanh, sigmoid), else None.

    This is the fast in-place path of the recurrent kernels: they fold `inner` (a power of two,
    so exactly) into the weights, then run one in-place tanh over all gates of that form and the
    affine outer/shift without temporaries.
    """
    return _TANH_FORMS.get(fn)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(np.zeros_like(x), x)


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[x.dtype])(x)


@dataclass(frozen=True)
class Activation:
    """One activation function: its canonical name, each family's spelling, its numpy form.

    `hard_sigmoid_slope` is set for clip(slope*x + 0.5, 0, 1): such a function followed by an
    affine map can be turned into another slope's by scaling that map's weights.
    """

    name: str
    spellings: dict[str, str | None]
    function: Callable[[np.ndarray], np.ndarray] = field(compare=False, repr=False)
    hard_sigmoid_slope: float | None = None


def _same_everywhere(
    name: str, fn: Callable, tfjs: str | None = "", keras22: bool = True
) -> Activation:
    """An activation every family spells `name` (tfjs may differ; Keras 2.2 may lack it)."""
    spellings = {family: name for family in FAMILIES}
    spellings["tfjs"] = name if tfjs == "" else tfjs
    spellings["keras2.2"] = name if keras22 else None
    return Activation(name, spellings, fn)


_TABLE = [
    _same_everywhere("linear", lambda x: x),
    _same_everywhere("tanh", np.tanh),
    _same_everywhere("sigmoid", _sigmoid),
    _same_everywhere("relu", lambda x: np.maximum(x, 0)),
    _same_everywhere("relu6", lambda x: np.clip(x, 0, 6), keras22=False),
    _same_everywhere("elu", lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    _same_everywhere(
        "selu",
        lambda x: 1.0507009873554805
        * np.where(x > 0, x, 1.6732632423543772 * np.expm1(np.minimum(x, 0))),
    ),
    _same_everywhere("softplus", _softplus),
    _same_everywhere("softsign", lambda x: x / (1 + np.abs(x))),
    _same_everywhere("softmax", _softmax),
    _same_everywhere("mish", lambda x: x * np.tanh(_softplus(x)), keras22=False),
    _same_everywhere(
        "gelu", lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2).astype(x.dtype))), keras22=False
    ),
    _same_everywhere("exponential", np.exp, tfjs=None),
    _same_everywhere(
        "log_softmax", lambda x: np.log(_softmax(x)), tfjs="logSoftmax", keras22=False
    ),
    Activation(
        "swish",
        {"keras3": "silu", "keras2": "swish", "keras2.2": None, "tfjs": "swish"},
        lambda x: x * _sigmoid(x),
    ),
    Activation(
        "hard_sigmoid_keras2",
        {"keras3": None, "keras2": "hard_sigmoid", "keras2.2": "hard_sigmoid",
         "tfjs": "hardSigmoid"},
        lambda x: np.clip(0.2 * x + 0.5, 0, 1),
        hard_sigmoid_slope=0.2,
    ),
    Activation(
        "hard_sigmoid_keras3",
        {"keras3": "hard_sigmoid", "keras2": None, "keras2.2": None, "tfjs": None},
        lambda x: np.clip(x / 6 + 0.5, 0, 1),
        hard_sigmoid_slope=1 / 6,
    ),
    Activation(
        "hard_silu",
        {"keras3": "hard_silu", "keras2": None, "keras2.2": None, "tfjs": None},
        lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    ),
]

ACTIVATIONS: dict[str, Activation] = {a.name: a for a in _TABLE}

# Other spellings each family accepts when reading (aliases), mapped to canonical names.
_READ_ALIASES = {
    "keras3": {"swish": "swish", "hard_swish": "hard_silu", None: "linear"},
    "keras2": {"silu": "swish", None: "linear"},
    "keras2.2": {None: "linear"},
    "tfjs": {None: "linear"},
}


def from_spelling(family: str, spelling: str | None) -> Activation | None:
    """The activation a family means by `spelling`, or None when the family has no such name."""
    aliases = _READ_ALIASES[family]
    if spelling in aliases:
        return ACTIVATIONS[aliases[spelling]]
    for activation in _TABLE:
        if activation.spellings[family] == spelling:
            return activation
    return None


def spellings_of(family: str) -> list[str]:
    """Every activation name the family accepts, for schemas and hints."""
    names = [a.spellings[family] for a in _TABLE if a.spellings[family]]
    return sorted(set(names) | {k for k in _READ_ALIASES[family] if k})


def hard_sigmoid_in(family: str) -> Activation | None:
    """The family's own hard sigmoid, the target of a slope rescale."""
    for activation in _TABLE:
        if activation.hard_sigmoid_slope is not None and activation.spellings[family]:
            return activation
    return None
