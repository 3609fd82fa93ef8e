"""Initializers, regularizers and constraints: one canonical form, each family's serialization.

The canonical form is Keras 3's class name with every parameter explicit under Keras 3's
parameter name. These objects only shape fresh weights or training losses: they never change the
outputs of a model whose weights are given, so where a family lacks one, a writer substitutes the
nearest and leaves a note instead of refusing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from .casing import UNDEFINED, to_camel_case, to_snake_case
from .context import Context

_SEED = {"seed": None}
_AXES = {"input_axes": None, "output_axes": None}


@dataclass(frozen=True)
class KerasObject:
    """A canonical initializer, regularizer or constraint: class name and explicit parameters."""

    class_name: str
    params: tuple[tuple[str, Any], ...]

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.params)

    def to_json(self) -> dict[str, Any]:
        return {"class_name": self.class_name, "config": self.config}


@dataclass(frozen=True)
class ObjectFamily:
    """One kind of object (initializer, regularizer, constraint) across runtimes."""

    kind: str
    module: str
    classes: dict[str, dict[str, Any]]
    keras2_classes: frozenset[str]
    keras22_classes: frozenset[str]
    tfjs_classes: frozenset[str]
    keras3_only_params: frozenset[str] = frozenset()
    tfjs_defaults: dict[str, dict[str, Any]] | None = None

    def make(self, class_name: str, **params: Any) -> KerasObject:
        """A canonical object with every parameter filled from the Keras defaults."""
        full = {**self.classes[class_name], **params}
        return KerasObject(class_name, tuple(sorted(full.items())))

    def names_for(self, family: str) -> list[str]:
        """Class names a family can serialize, as that family spells them."""
        if family == "tfjs":
            readable = set(self.tfjs_classes)
            if self is INITIALIZERS:
                readable |= set(_VARIANCE_SCALING_PRESETS)  # registered classes tfjs reads
            return sorted(_TFJS_CLASS_NAMES.get(c, c) for c in readable)
        supported = {"keras3": set(self.classes), "keras2": self.keras2_classes,
                     "keras2.2": self.keras22_classes}[family]
        return sorted(supported)


INITIALIZERS = ObjectFamily(
    kind="initializer",
    module="keras.initializers",
    classes={
        "Zeros": {},
        "Ones": {},
        "Constant": {"value": 0.0},
        "RandomNormal": {"mean": 0.0, "stddev": 0.05, **_SEED},
        "TruncatedNormal": {"mean": 0.0, "stddev": 0.05, **_SEED},
        "RandomUniform": {"minval": -0.05, "maxval": 0.05, **_SEED},
        "VarianceScaling": {
            "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", **_SEED, **_AXES
        },
        "GlorotUniform": {**_SEED, **_AXES},
        "GlorotNormal": {**_SEED, **_AXES},
        "HeUniform": {**_SEED, **_AXES},
        "HeNormal": {**_SEED, **_AXES},
        "LecunUniform": {**_SEED, **_AXES},
        "LecunNormal": {**_SEED, **_AXES},
        "Orthogonal": {"gain": 1.0, **_SEED},
        "Identity": {"gain": 1.0},
    },
    keras2_classes=frozenset(
        "Zeros Ones Constant RandomNormal TruncatedNormal RandomUniform VarianceScaling "
        "GlorotUniform GlorotNormal HeUniform HeNormal LecunUniform LecunNormal Orthogonal "
        "Identity".split()
    ),
    keras22_classes=frozenset(
        "Zeros Ones Constant RandomNormal TruncatedNormal RandomUniform VarianceScaling "
        "Orthogonal Identity".split()
    ),
    tfjs_classes=frozenset(
        "Zeros Ones Constant RandomNormal TruncatedNormal RandomUniform VarianceScaling "
        "Orthogonal Identity".split()
    ),
    keras3_only_params=frozenset(_AXES),
)

REGULARIZERS = ObjectFamily(
    kind="regularizer",
    module="keras.regularizers",
    classes={
        "L1": {"l1": 0.01},
        "L2": {"l2": 0.01},
        "L1L2": {"l1": 0.0, "l2": 0.0},
        "OrthogonalRegularizer": {"factor": 0.01, "mode": "rows"},
    },
    keras2_classes=frozenset({"L1", "L2", "L1L2", "OrthogonalRegularizer"}),
    keras22_classes=frozenset({"L1L2"}),
    tfjs_classes=frozenset({"L1L2"}),
    # tfjs's L1L2 fills a missing factor with 0.01, Keras's with 0 (tfjs-layers regularizers.ts).
    tfjs_defaults={"L1L2": {"l1": 0.01, "l2": 0.01}},
)

CONSTRAINTS = ObjectFamily(
    kind="constraint",
    module="keras.constraints",
    classes={
        "MaxNorm": {"max_value": 2.0, "axis": 0},
        "NonNeg": {},
        "UnitNorm": {"axis": 0},
        "MinMaxNorm": {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0},
    },
    keras2_classes=frozenset({"MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm"}),
    keras22_classes=frozenset({"MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm"}),
    tfjs_classes=frozenset({"MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm"}),
)

GLOROT_UNIFORM = INITIALIZERS.make("GlorotUniform")
# tfjs's 'glorotNormal': a truncated normal without Keras's stddev correction (see below).
TFJS_GLOROT_NORMAL = INITIALIZERS.make(
    "VarianceScaling", scale=1.0, mode="fan_avg", distribution="truncated_normal_uncorrected")
# Every Keras kernel defaults to GlorotUniform; every tfjs kernel to 'glorotNormal'.
KERNEL_INITIALIZER_DEFAULTS = {"keras3": GLOROT_UNIFORM, "keras2": GLOROT_UNIFORM,
                               "keras2.2": GLOROT_UNIFORM, "tfjs": TFJS_GLOROT_NORMAL}

# Named initializers that Keras 2.2 and tfjs store as VarianceScaling(scale, mode, distribution).
_VARIANCE_SCALING_PRESETS = {
    "GlorotUniform": (1.0, "fan_avg", "uniform"),
    "GlorotNormal": (1.0, "fan_avg", "truncated_normal"),
    "HeUniform": (2.0, "fan_in", "uniform"),
    "HeNormal": (2.0, "fan_in", "truncated_normal"),
    "LecunUniform": (1.0, "fan_in", "uniform"),
    "LecunNormal": (1.0, "fan_in", "truncated_normal"),
}
_TFJS_CLASS_NAMES = {"LecunUniform": "LeCunUniform", "LecunNormal": "LeCunNormal"}
_STRING_ALIASES = {"l1_l2": "L1L2", "l1l2": "L1L2", "lecun_normal": "LecunNormal",
                   "lecun_uniform": "LecunUniform", "le_cun_normal": "LecunNormal",
                   "le_cun_uniform": "LecunUniform"}
# VarianceScaling distributions: each family's spelling -> canonical value. tfjs's "normal" is a
# truncated normal without Keras's stddev correction, so it is a value of its own.
_UNCORRECTED = "truncated_normal_uncorrected"
_DISTRIBUTIONS = {
    "keras3": {"truncated_normal": "truncated_normal", "untruncated_normal": "untruncated_normal",
               "uniform": "uniform", "normal": "truncated_normal"},
    "keras2": {"truncated_normal": "truncated_normal", "untruncated_normal": "untruncated_normal",
               "uniform": "uniform", "normal": "truncated_normal"},
    "keras2.2": {"normal": "truncated_normal", "uniform": "uniform"},
    "tfjs": {"normal": _UNCORRECTED, "uniform": "uniform"},
}
# What a family writes for a canonical distribution it lacks, nearest first (fresh weights only,
# so a note): Keras lacks tfjs's uncorrected normal, tfjs lacks both of Keras's normals.
_NEAREST_DISTRIBUTION = {"truncated_normal": ("truncated_normal", _UNCORRECTED),
                         "untruncated_normal": ("truncated_normal", _UNCORRECTED),
                         _UNCORRECTED: ("truncated_normal",), "uniform": ("uniform",)}


def _class_from_string(family: ObjectFamily, text: str) -> str | None:
    snake = to_snake_case(text)
    if snake in _STRING_ALIASES:
        return _STRING_ALIASES[snake]
    pascal = "".join(part.capitalize() for part in snake.split("_"))
    for name in family.classes:
        if name.lower() == pascal.lower():
            return name
    return None


def read_object(family: ObjectFamily, dialect_family: str, value: Any, ctx: Context,
                key: str) -> KerasObject | None:
    """Parse one serialized object of `dialect_family` into canonical form."""
    if value is None:
        return None
    tfjs = dialect_family == "tfjs"
    if isinstance(value, str):
        class_name = _class_from_string(family, value)
        if class_name is None or (tfjs and "_" in value):
            spelled = family.names_for(dialect_family)
            ctx.bad_input(key, f"unknown {family.kind} '{value}' (known: {', '.join(spelled)})")
        raw: dict[str, Any] = {}
    elif isinstance(value, dict):
        class_key = "className" if tfjs else "class_name"
        if class_key not in value:
            other = "class_name" if tfjs else "className"
            hint = f" (found '{other}': a key of the other casing)" if other in value else ""
            ctx.bad_input(key, f"{family.kind} object lacks '{class_key}'{hint}")
        spelled_class = value[class_key]
        raw = value.get("config") or {}
        if not isinstance(raw, dict):
            ctx.bad_input((key, "config"), f"{family.kind} config must be an object")
        class_name = _canonical_class(family, dialect_family, spelled_class)
        if class_name is None:
            spelled = family.names_for(dialect_family)
            ctx.bad_input((key, class_key),
                          f"unknown {family.kind} class '{spelled_class}' "
                          f"(known: {', '.join(spelled)})")
    else:
        ctx.bad_input(key, f"{family.kind} must be a string, an object or null")
    params = {(to_snake_case(k) if tfjs else k): v for k, v in raw.items()}
    if family is INITIALIZERS and "dtype" in params:  # Keras 2.2.4-tf's RandomUniform(dtype=)
        params.pop("dtype")
        ctx.note(key, f"the dtype of {class_name} is left out: an initializer's dtype only "
                      "matters for fresh weights")
    if tfjs and isinstance(params.get("mode"), str):
        params["mode"] = to_snake_case(params["mode"])
    for name, given in params.items():
        _check_param_type(family.classes[class_name].get(name), given, ctx, (key, "config", name))
    if "distribution" in params:
        params["distribution"] = _read_distribution(dialect_family, params["distribution"],
                                                    ctx, key)
    if tfjs and class_name in _VARIANCE_SCALING_PRESETS:
        # tfjs's GlorotNormal & co. are its own VarianceScaling presets (uncorrected 'normal').
        scale, mode, distribution = _VARIANCE_SCALING_PRESETS[class_name]
        if distribution != "uniform":
            distribution = _UNCORRECTED
        params = {"scale": scale, "mode": mode, "distribution": distribution, **params}
        class_name = "VarianceScaling"
    if family is INITIALIZERS and class_name == "VarianceScaling":
        class_name, params = _named_preset(params)
    defaults = family.classes[class_name]
    if tfjs and family.tfjs_defaults and class_name in family.tfjs_defaults:
        params = {**family.tfjs_defaults[class_name], **params}
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        ctx.bad_input((key, "config", unknown[0]),
                      f"{class_name} takes no parameter '{unknown[0]}' "
                      f"(takes: {', '.join(sorted(defaults)) or 'none'})")
    return family.make(class_name, **params)


def _check_param_type(default: Any, given: Any, ctx: Context, where: tuple) -> None:
    """A parameter holds what its default holds: a number, a string, or (seed) an integer."""
    if isinstance(default, bool):
        ok = isinstance(given, bool)
    elif isinstance(default, (int, float)):
        ok = isinstance(given, (int, float)) and not isinstance(given, bool)
    elif isinstance(default, str):
        ok = isinstance(given, str)
    else:
        ok = given is None or isinstance(given, (int, float, str, bool, list))
    if not ok:
        wanted = "a value" if default is None else type(default).__name__
        ctx.bad_input(where, f"expected {wanted}, found {json.dumps(given)[:40]}")


def _canonical_class(family: ObjectFamily, dialect_family: str, spelled: Any) -> str | None:
    if not isinstance(spelled, str):
        return None
    if dialect_family == "tfjs":
        reverse = {v: k for k, v in _TFJS_CLASS_NAMES.items()}
        spelled = reverse.get(spelled, spelled)
        return spelled if spelled in family.classes else None
    return spelled if spelled in family.classes else None


def _read_distribution(dialect_family: str, spelled: Any, ctx: Context, key: str) -> str:
    if dialect_family == "tfjs" and spelled == "truncatedNormal":
        ctx.note(key, "TensorFlow.js accepts distribution 'truncatedNormal' but draws uniform "
                      "samples for it; read as 'uniform', what it computes")
        return "uniform"
    known = _DISTRIBUTIONS[dialect_family]
    if not isinstance(spelled, str) or spelled not in known:
        ctx.bad_input((key, "config", "distribution"),
                      f"unknown distribution {spelled!r} (known: {', '.join(sorted(known))})")
    return known[spelled]


def _write_distribution(dialect_family: str, canonical: str, ctx: Context, key: str) -> str:
    spellings = {v: k for k, v in reversed(list(_DISTRIBUTIONS[dialect_family].items()))}
    if canonical in spellings:
        return spellings[canonical]
    nearest = next(spellings[c] for c in _NEAREST_DISTRIBUTION[canonical] if c in spellings)
    ctx.note(key, f"distribution {canonical!r} does not exist here; written as {nearest!r}, "
                  "which draws a different spread (fresh weights only)")
    return nearest


def _named_preset(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """VarianceScaling with a named initializer's settings is that named initializer."""
    defaults = INITIALIZERS.classes["VarianceScaling"]
    setting = (float(params.get("scale", defaults["scale"])), params.get("mode", defaults["mode"]),
               params.get("distribution", defaults["distribution"]))
    for name, preset in _VARIANCE_SCALING_PRESETS.items():
        if preset == setting:
            rest = {k: v for k, v in params.items() if k not in ("scale", "mode", "distribution")}
            return name, rest
    return "VarianceScaling", params


def write_object(family: ObjectFamily, dialect_family: str, obj: KerasObject | None,
                 ctx: Context, key: str) -> Any:
    """Serialize a canonical object the way `dialect_family` writes it in a layer config."""
    if obj is None:
        return None
    class_name, params = obj.class_name, obj.config
    if dialect_family != "keras3":
        dropped = {k for k in family.keras3_only_params if params.get(k) is not None}
        if dropped:
            ctx.note(key, f"{', '.join(sorted(dropped))} of {class_name} exist in Keras 3 only; "
                          "dropped (initializers do not change given weights)")
        params = {k: v for k, v in params.items() if k not in family.keras3_only_params}
        supported = {"keras2": family.keras2_classes, "keras2.2": family.keras22_classes,
                     "tfjs": family.tfjs_classes}[dialect_family]
        class_name, params = _fit_classes(family, supported, class_name, params, ctx, key)
    if "distribution" in params:
        params = {**params, "distribution": _write_distribution(
            dialect_family, params["distribution"], ctx, key)}
    if dialect_family in ("keras3", "keras2"):
        if dialect_family == "keras2" and family is REGULARIZERS:
            params = {k: _float32(v) for k, v in params.items()}
        return {"module": family.module, "class_name": class_name, "config": params,
                "registered_name": None}
    if dialect_family == "keras2.2":
        return {"class_name": class_name, "config": params}
    return {"className": _TFJS_CLASS_NAMES.get(class_name, class_name),
            "config": _tfjs_params(class_name, params, ctx, key)}


def _float32(value: Any) -> Any:
    """tf-keras stores regularizer factors as float32 and writes them back widened."""
    return float(np.float32(value)) if isinstance(value, float) else value


def _fit_classes(family: ObjectFamily, supported: frozenset[str], class_name: str,
                 params: dict[str, Any], ctx: Context, key: str) -> tuple[str, dict[str, Any]]:
    """Rewrite a class the target lacks into one it has that computes the same, or the nearest."""
    if class_name in supported:
        return class_name, params
    if class_name in _VARIANCE_SCALING_PRESETS:
        scale, mode, distribution = _VARIANCE_SCALING_PRESETS[class_name]
        return "VarianceScaling", {"scale": scale, "mode": mode, "distribution": distribution,
                                   **params}
    if class_name in ("L1", "L2") and "L1L2" in supported:
        return "L1L2", {"l1": params.get("l1", 0.0), "l2": params.get("l2", 0.0)}
    if family is REGULARIZERS:
        ctx.note(key, f"{class_name} does not exist here; dropped (a training-only loss term)")
        return "L1L2", {"l1": 0.0, "l2": 0.0}
    ctx.note(key, f"{class_name} does not exist here; written as GlorotUniform "
                  "(initializers do not change given weights)")
    return "VarianceScaling", {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform",
                               "seed": params.get("seed")}


def _tfjs_params(class_name: str, params: dict[str, Any], ctx: Context,
                 key: str) -> dict[str, Any]:
    converted = {to_camel_case(k): v for k, v in params.items()}
    if converted.get("seed", 0) is None and class_name != "VarianceScaling":
        converted["seed"] = UNDEFINED  # tfjs keeps an unset seed undefined, but VarianceScaling
    if "mode" in converted:
        converted["mode"] = to_camel_case(converted["mode"])
    if class_name in ("RandomUniform", "RandomNormal", "TruncatedNormal"):
        zeroed = [k for k in ("minval", "maxval", "mean", "stddev") if converted.get(k) == 0]
        if zeroed:
            ctx.note(key, f"TensorFlow.js replaces a zero {', '.join(zeroed)} by its default "
                          "(fresh weights only)")
    return converted
