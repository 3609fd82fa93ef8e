"""Readers (dialect dict -> canonical `LayerConfig`) and writers (canonical -> dialect dict).

Dialects:
- `tfjs`: TensorFlow.js constructor args and `getConfig()` (camelCase).
- `tfjs-json`: the snake_case layer config inside a tfjs `model.json` (`model.save()` output),
  which is `tfjs` passed through tfjs's own casing rules (casing.py).
- `keras2`: tf.keras 2.x / tf-keras `get_config()` and kwargs.
- `keras2.2`: standalone Keras 2.0-2.2 kwargs and configs, as old tutorials still show them.
- `keras3`: Keras 3 `get_config()` and kwargs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from . import activations as act
from . import companion as companions
from .casing import pythonic_to_ts, strip_undefined, to_camel_case, to_snake_case, ts_to_pythonic
from .context import Context
from .errors import InputError, NotExpressibleError, Problem
from .layers import REGISTRY, LayerConfig, LayerType
from .layers.base import REQUIRED
from .transforms import ScaleGateColumns

DIALECTS = ("tfjs", "tfjs-json", "keras2", "keras2.2", "keras3")
FAMILY_OF = {"tfjs": "tfjs", "tfjs-json": "tfjs", "keras2": "keras2", "keras2.2": "keras2.2",
             "keras3": "keras3"}

# Keras 1 keys -> the Keras 2 keys they became (Keras 2.2.4 legacy/interfaces.py).
_KERAS1_KEYS = {"inner_activation": "recurrent_activation", "dropout_W": "dropout",
                "dropout_U": "recurrent_dropout", "inner_init": "recurrent_initializer",
                "init": "kernel_initializer", "forget_bias_init": "unit_forget_bias",
                "consume_less": "implementation", "output_dim": "units"}
# Keys that belong to a neighbouring dialect, with the hint a user needs.
_FOREIGN_KEY_HINTS = {
    "keras3": {
        "time_major": "a tf.keras 2 key; Keras 3 refuses it (read the file as keras2)",
        "batch_input_shape": "Keras 3 refuses it on layers; shapes belong on keras.Input",
        "batch_shape": "Keras 3 accepts batch_shape on InputLayer only",
    },
    **{family: {key: f"a Keras 1 key, Keras 2's {new}; Keras 1 files are not read, as their "
                     "weights are laid out otherwise too (Keras 2.2.4 preprocess_weights_"
                     "for_loading)" for key, new in _KERAS1_KEYS.items()}
       for family in ("keras2", "keras2.2")},
    "tfjs": {
        "inputDim": "TensorFlow.js ignores inputDim; use inputShape: [timesteps, features]",
        "inputLength": "TensorFlow.js ignores inputLength; use inputShape: [timesteps, features]",
        "batchShape": "a Keras 3 InputLayer key; TensorFlow.js wants batchInputShape",
    },
}


@dataclass
class MapResult:
    """A mapped config plus what the target needs to compute exactly the same thing;
    `class_name` is the class the target knows the layer by (a companion class, or None for
    the canonical one)."""

    config: dict[str, Any]
    transforms: list[ScaleGateColumns] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    class_name: str | None = None


def layer_type(class_name: str, ctx: Context) -> LayerType:
    if class_name not in REGISTRY:
        ctx.bad_input("class_name", f"layer class '{class_name}' is not supported "
                                    f"(supported: {', '.join(sorted(REGISTRY))})")
    return REGISTRY[class_name]


def canonical_class(class_name: str, dialect: str) -> str:
    """The canonical class of a class name: a tfjs dialect's companion class (`TfjsLstmGRU`)
    is the layer it computes (`GRU`); every other name is itself."""
    if FAMILY_OF.get(dialect) == "tfjs" and class_name in companions.by_class_name():
        return companions.by_class_name()[class_name][0]
    return class_name


def unwrap(data: Any, dialect: str, file: str | None = None) -> tuple[str | None, Any, str]:
    """Split `{class_name, config}` wrappers; returns (class name or None, config, pointer)."""
    if isinstance(data, dict):
        for class_key in ("class_name", "className"):
            if class_key in data and isinstance(data.get("config"), dict):
                if not isinstance(data[class_key], str):
                    raise InputError(f"{class_key} must be a layer class name (a string)",
                                     file=file, pointer=f"/{class_key}")
                return data[class_key], data["config"], "/config"
    return None, data, ""


def read(dialect: str, data: Any, *, class_name: str = "LSTM", file: str | None = None,
         pointer: str = "", notes: list[str] | None = None,
         mask_problems: list[Problem] | None = None) -> LayerConfig:
    """Read one layer config of `dialect`, filling that runtime's defaults for missing keys.

    An ignored key that changes outputs only where a mask arrives (zero_output_for_mask) goes
    to `mask_problems` for the model reader to judge; without that list it is refused."""
    _check_dialect(dialect)
    wrapped_class, data, inner = unwrap(data, dialect, file)
    class_name = wrapped_class or class_name
    family = FAMILY_OF[dialect]
    ctx = Context(dialect, family, file=file, pointer=pointer + inner)
    if not isinstance(data, dict):
        raise InputError("a layer config must be a JSON object", file=file, pointer=ctx.pointer)
    companion = None
    if canonical_class(class_name, dialect) != class_name:
        class_name, companion = companions.by_class_name()[class_name]
    layer = layer_type(class_name, ctx)
    if family not in layer.families and companion is None:
        ctx.bad_input("class_name", _missing_class(layer, dialect))
    if dialect == "tfjs-json":
        data = pythonic_to_ts(data)
    if layer.start_read:
        data = layer.start_read(data, family)
    name_key = "name"
    if isinstance(data.get(name_key), str):
        ctx.layer = data[name_key]
    remaining = dict(data)
    given = set(data)
    values: dict[str, Any] = {}
    if any(spec.name == "batch_input_shape" for spec in layer.fields):
        values["batch_input_shape"] = _read_shape(layer, family, remaining, ctx)
    keras1 = [key for key in remaining if key in _KERAS1_KEYS and family in ("keras2", "keras2.2")
              and all(spec.key_for(family) != key for spec in layer.fields)]
    if keras1:  # named before the Keras 2 key they replace is missed
        _reject_leftovers(layer, family, {key: remaining[key] for key in keras1}, ctx)
    ignored: dict[str, Any] = {}
    for spec in layer.fields:
        if spec.name == "batch_input_shape":
            continue
        key = spec.key_for(family)
        honoured = companion is not None and spec.name in companion.fields
        default = companion.fields[spec.name] if honoured else spec.default_for(family)
        readable = family in spec.families or family in spec.accepted_by
        if family in spec.ignored_by and key in remaining and not honoured:
            ignored[spec.name] = spec.kind.read(family, remaining.pop(key), ctx, key)
            values[spec.name] = default
        elif readable and key in remaining:
            raw = remaining.pop(key)
            if raw is None and family == "tfjs" and spec.null_is_default:
                if default is REQUIRED:
                    ctx.bad_input(key, f"'{key}' is required; null leaves it unset")
                values[spec.name] = default
            else:
                values[spec.name] = spec.kind.read(family, raw, ctx, key)
        elif default is REQUIRED:
            ctx.bad_input(key, f"missing required key '{key}'")
        else:
            values[spec.name] = default
        if honoured and values[spec.name] != default:
            ctx.bad_input(key, f"{companion.class_name} computes {key}={default!r} only; "
                               f"{layer.class_name} is tfjs's own class for the other value")
    _reject_leftovers(layer, family, remaining, ctx)
    _check_ignored(layer, family, values, ignored, ctx)
    if layer.after_read:
        layer.after_read(values, family, given)
    if companion is not None and companion.from_tfjs:
        companion.from_tfjs(values)
    if layer.adjust:
        layer.adjust(values, family)
    if mask_problems is None:
        ctx.problems.extend(ctx.mask_problems)
    else:
        mask_problems.extend(ctx.mask_problems)
    if ctx.problems:
        raise NotExpressibleError(ctx.problems)
    if notes is not None:
        notes.extend(ctx.notes)
    return LayerConfig(layer.class_name, tuple((s.name, values[s.name]) for s in layer.fields))


def _missing_class(layer: LayerType, dialect: str) -> str:
    have = ", ".join(layer.families)
    runtime = "TensorFlow.js 4.22" if dialect.startswith("tfjs") else dialect
    hint = companions.hint(layer.companion) if layer.companion and \
        dialect.startswith("tfjs") else ""
    return f"{runtime} has no {layer.class_name} layer (only {have} do){hint}"


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise InputError(f"unknown dialect '{dialect}' (known: {', '.join(DIALECTS)})")


def _read_shape(layer: LayerType, family: str, data: dict[str, Any],
                ctx: Context) -> tuple | None:
    """The batch input shape from whatever shape keys the family's constructors accept."""
    from .kinds import SHAPE

    camel = family == "tfjs"
    keys = {name: (to_camel_case(name) if camel else name) for name in
            ("input_shape", "batch_size", "input_dim", "input_length")}
    keys["batch_input_shape"] = layer.field("batch_input_shape").key_for(family)
    # Embedding's own input_dim (its vocabulary) and input_length are fields, not shape keys.
    own = {spec.name for spec in layer.fields}
    legacy = tuple(name for name in (("input_length", "input_dim") if layer.sequence_input
                                     else ("input_dim",)) if name not in own)
    if family not in layer.input_dim_families:
        for name in ("input_dim", "input_length"):
            if name not in own and keys[name] in data:
                ctx.bad_input(keys[name], _FOREIGN_KEY_HINTS["tfjs"][keys[name]])
    readable_batch_shape = family in layer.field("batch_input_shape").families
    batch_shape = data.pop(keys["batch_input_shape"], None) if readable_batch_shape else None
    input_shape = data.pop(keys["input_shape"], None)
    batch_size = data.pop(keys["batch_size"], None)
    dims = [data.pop(keys[name], None) for name in legacy]
    if batch_shape is not None:
        return SHAPE.read(family, batch_shape, ctx, keys["batch_input_shape"])
    if input_shape is not None:
        shape = SHAPE.read(family, input_shape, ctx, keys["input_shape"])
        return (batch_size, *shape)
    if any(d is not None for d in dims):
        return (batch_size, *SHAPE.read(family, dims, ctx, keys["input_dim"]))
    return None


def _check_ignored(layer: LayerType, family: str, values: dict[str, Any],
                   ignored: dict[str, Any], ctx: Context) -> None:
    """Keys the runtime accepts and ignores: fine while ignoring them changes no output; where
    only a mask could make them matter (`LayerType.without_mask`), the model reader decides."""
    for name, value in ignored.items():
        spec = layer.field(name)
        if value == spec.default_for(family):
            continue
        as_written = LayerConfig(layer.class_name, tuple({**values, name: value}.items()))
        reason = spec.omit_reason(as_written, name) if spec.omit_reason else None
        key = spec.key_for(family)
        companion = layer.companion if layer.companion and name in layer.companion.fields \
            else None
        refusal = (f"this runtime ignores '{key}', so {_shown(value)} would run as if it were "
                   "absent") if family not in spec.thrown_by else (
            f"this runtime throws on loading '{key}' {_shown(value)}: it computes "
            f"{_shown(spec.default_for(family))} only")
        if reason is None and layer.without_mask and spec.omit_reason and spec.omit_reason(
                layer.without_mask(as_written, family), name) is not None:
            ctx.mask_problems.append(Problem(ctx.layer, key, ctx.dialect,
                                             f"{refusal}, which matters where a mask arrives"))
            ctx.note(key, "ignored by this runtime: it only matters where a mask arrives")
        elif reason is None:
            ctx.refuse(key, refusal + (companions.hint(companion) if companion else ""))
        else:
            ctx.note(key, f"ignored by this runtime: {reason}")


def _shown(value: Any) -> str:
    """A value as a message shows it: a nested layer by class and name."""
    if isinstance(value, LayerConfig):
        return f"{value.class_name} '{value.name}'"
    return repr(value)


def _reject_leftovers(layer: LayerType, family: str, remaining: dict[str, Any],
                      ctx: Context) -> None:
    for key in remaining:
        hint = _FOREIGN_KEY_HINTS.get(family, {}).get(key)
        if hint is None:
            hint = _casing_hint(layer, family, key)
        ctx.bad_input(key, f"unknown key '{key}' for {layer.class_name}" +
                      (f" ({hint})" if hint else ""))


def _casing_hint(layer: LayerType, family: str, key: str) -> str | None:
    """Name the classic mix-up: a camelCase key in a snake_case config, or the reverse."""
    snake, camel = to_snake_case(key), to_camel_case(key)
    names = {spec.name for spec in layer.fields
             if family in spec.families + spec.accepted_by + spec.ignored_by}
    if family == "tfjs" and snake in names and snake != key:
        return f"a snake_case key; TensorFlow.js args use '{to_camel_case(snake)}'"
    if family == "tfjs" and key in names and "_" in key:
        return f"a snake_case key; TensorFlow.js args use '{camel}'"
    if family != "tfjs" and snake in names and snake != key:
        return f"a camelCase TensorFlow.js key; this dialect uses '{snake}'"
    return None


def write(dialect: str, config: LayerConfig, *, nested: bool = False,
          companion: bool = False) -> MapResult:
    """Write a canonical config into `dialect`, or raise NotExpressibleError naming every key.

    `nested` configs (inside a wrapper) keep tfjs's `undefined` values for the outer writer,
    which turns them into what JSON.stringify or model.save() writes. With `companion`, a tfjs
    layer its own class cannot compute is written as the companion package's class."""
    _check_dialect(dialect)
    family = FAMILY_OF[dialect]
    ctx = Context(dialect, family, layer=config.name, companion=companion)
    layer = REGISTRY[config.class_name]
    if family not in layer.families and not (companion and family == "tfjs" and layer.companion):
        ctx.refuse("class_name", _missing_class(layer, dialect))
        raise NotExpressibleError(ctx.problems)
    uses = layer.companion if family == "tfjs" and layer.companion and \
        layer.companion.needed(config) else None
    honoured = set(uses.fields) if uses and companion else set()
    if uses and companion and uses.to_tfjs:
        config = uses.to_tfjs(config)
    values = config.as_dict()
    for key, why in (layer.adjust(values, family) if layer.adjust else {}).items():
        ctx.note(key, why)
    if layer.before_write:
        for key, reason in layer.before_write(values, family).items():
            ctx.refuse(key, reason)
    out: dict[str, Any] = {}
    for spec in layer.fields:
        value = values[spec.name]
        key = spec.key_for(family)
        ignored_here = family in spec.ignored_by and family in spec.families and \
            spec.name not in honoured
        if family not in spec.families or ignored_here:
            reason = spec.omit_reason(config, spec.name) if spec.omit_reason else None
            if reason is None:
                if not any(p.key == spec.name for p in ctx.problems):  # before_write's says why
                    ctx.refuse(spec.name, f"{spec.name}={_shown(value)} does not exist in this "
                                          "runtime" + (companions.hint(uses) if uses and
                                                       spec.name in uses.fields else ""))
            elif value != spec.default_for(family):
                ctx.note(spec.name, f"left out: {reason}")
            if ignored_here:
                out[key] = spec.kind.write(family, spec.default_for(family), ctx, key)
            continue
        if spec.name == "batch_input_shape" and value is None:
            continue
        if spec.written_when and not spec.written_when(config, family):
            continue
        if spec.kind is _activation_kind() and act.ACTIVATIONS[value].spellings[family] is None:
            out[key] = _rescaled_activation(layer, config, spec.name, family, ctx)
            continue
        out[key] = spec.kind.write(family, value, ctx, key)
    if ctx.problems and uses and not companion and not uses.fields:
        ctx.problems = [replace(p, reason=p.reason + companions.hint(uses))
                        for p in ctx.problems]
    if ctx.problems:
        raise NotExpressibleError(ctx.problems)
    if layer.finish_write:
        out = layer.finish_write(out, family)
    if dialect == "tfjs-json":
        out = ts_to_pythonic(out)
    elif family == "tfjs" and not nested:
        out = strip_undefined(out)
    return MapResult(out, list(ctx.transforms), list(ctx.notes),
                     uses.class_name if uses and companion else config.class_name)


def _activation_kind() -> Any:
    from .kinds import ACTIVATION

    return ACTIVATION


def _rescaled_activation(layer: LayerType, config: LayerConfig, field_name: str, family: str,
                         ctx: Context) -> str | None:
    """Express a hard sigmoid the family spells differently by scaling the weights feeding it."""
    wanted = act.ACTIVATIONS[getattr(config, field_name)]
    target = act.hard_sigmoid_in(family)
    transform = None
    if wanted.hard_sigmoid_slope is not None and target is not None and layer.gate_rescale:
        factor = wanted.hard_sigmoid_slope / target.hard_sigmoid_slope
        transform = layer.gate_rescale(config, field_name, factor)
    if transform is None:
        ctx.refuse(field_name, f"activation '{wanted.name}' does not exist in this runtime"
                   + (" and cannot be reached by rescaling weights here"
                      if wanted.hard_sigmoid_slope is not None else ""))
        return None
    ctx.transforms.append(transform)
    return target.spellings[family]


def to_json(config: LayerConfig) -> dict[str, Any]:
    """The canonical config as plain JSON, for `map --to canonical` and debugging."""
    layer = REGISTRY[config.class_name]
    return {"class_name": config.class_name,
            "config": {spec.name: spec.kind.to_json(getattr(config, spec.name))
                       for spec in layer.fields}}


def convert(source: str, target: str, data: Any, *, file: str | None = None) -> MapResult:
    """Read `data` as `source` and write it as `target`."""
    notes: list[str] = []
    config = read(source, data, file=file, notes=notes)
    result = write(target, config)
    result.notes[:0] = notes
    return result
