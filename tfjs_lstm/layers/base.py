"""How a layer type is described once: its config fields per family, weights, shapes, counts.

A `LayerType` is the single place that knows a layer. The dialect readers and writers, the JSON
Schemas, the weight layout, `summary()` and the reference runtime all read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..casing import to_camel_case
from ..kinds import Kind

if TYPE_CHECKING:
    from ..companion import Companion

FAMILIES = ("keras3", "keras2", "keras2.2", "tfjs")
REQUIRED = object()


@dataclass(frozen=True)
class Field:
    """One config field: its kind, its default in each family, and which families have it.

    `omit_reason` is asked when a family lacks the key: it returns why leaving the value out
    cannot change a model's outputs, or None when it would (then a writer refuses).
    `accepted_by` lists families whose constructors take the key without ever writing it back.
    `ignored_by` lists families whose loaders accept the key and then ignore it: a reader keeps
    the runtime's default, and refuses when `omit_reason` says the ignored value matters.
    `thrown_by` lists the families among those whose loaders throw on a value that matters
    instead (tfjs's GRUCell on resetAfter=true): the refusal says so.
    `null_is_default` follows tfjs, whose constructors treat null like a missing argument.
    `written_when` says when a writer emits the key at all (tfjs keeps dtype only with a shape).
    `keys` spells the key differently in some families (Keras 3's InputLayer `batch_shape`).
    """

    name: str
    kind: Kind
    default: Any = REQUIRED
    families: tuple[str, ...] = FAMILIES
    accepted_by: tuple[str, ...] = ()
    ignored_by: tuple[str, ...] = ()
    thrown_by: tuple[str, ...] = ()
    omit_reason: Callable[[LayerConfig, str], str | None] | None = None
    null_is_default: bool = True
    written_when: Callable[[LayerConfig, str], bool] | None = None
    keys: Mapping[str, str] | None = None
    doc: str = ""

    def default_for(self, family: str) -> Any:
        if isinstance(self.default, Mapping):
            return self.default[family]
        return self.default

    def key_for(self, family: str) -> str:
        """The key a family spells this field with: `keys` overrides, else tfjs camelCase."""
        if self.keys and family in self.keys:
            return self.keys[family]
        return to_camel_case(self.name) if family == "tfjs" else self.name


def common_fields(default_name: str, trainable_ignored_by: tuple[str, ...] = ()
                  ) -> tuple[Field, ...]:
    """name, trainable, dtype and the batch input shape: the base Layer's fields everywhere.
    `trainable_ignored_by` names runtimes whose layer ignores its trainable argument."""
    from .. import kinds

    def shape_rule(config: LayerConfig, name: str) -> str | None:
        if config.batch_input_shape is None:
            return "no input shape is declared"
        return ("Keras 3 keeps input shapes on the model's InputLayer, not on the layer: "
                f"use keras.Input(batch_shape={list(config.batch_input_shape)})")

    def dtype_written(config: LayerConfig, family: str) -> bool:
        """tfjs sets a layer's dtype only together with an input shape (topology.ts, Layer)."""
        return family != "tfjs" or getattr(config, "batch_input_shape", None) is not None or \
            config.dtype != "float32"

    return (
        Field("name", kinds.TEXT, default_name),
        Field("trainable", kinds.BOOLEAN, True, ignored_by=trainable_ignored_by,
              omit_reason=lambda c, n: "trainable only matters for training"),
        Field("dtype", kinds.DTYPE, "float32", written_when=dtype_written),
        Field("batch_input_shape", kinds.SHAPE, None, families=("keras2", "keras2.2", "tfjs"),
              omit_reason=shape_rule),
    )


@dataclass(frozen=True)
class Weight:
    """One weight variable: its name within the layer, its shape, and whether training updates
    it through gradients (BatchNormalization's moving statistics do not)."""

    name: str
    shape: tuple[int, ...]
    trainable: bool = True


@dataclass(frozen=True)
class LayerType:
    """Everything tfjs-lstm knows about one Keras/tfjs layer class.

    `forward(config, weights, inputs, masks, dtype)` computes the layer at inference in numpy
    and returns (outputs, output masks); None for layers that are never called (InputLayer).
    `sequence_input` layers read legacy `input_dim`/`input_length` as [length, dim]; the others
    as [dim]. `input_dim_families` lists the families whose constructors honour `input_dim`.
    `adjust(values, family)` applies a runtime's own rewrites of a config (in place) and returns
    {field: why} for each value it changed; readers and writers both apply it.
    `multi_input` layers (Concatenate, Add...) get the list of every input shape in
    `weights` and `output_shape`; the others get their first input's shape.
    `after_read(values, family, given_keys)` / `before_write(values, family)` turn a
    family's own spelling of a structure into the canonical one and back (Keras 3's
    `forward_` names and derived `backward_layer` in Bidirectional).
    `mask_out(config, input_masked)` says whether the output carries a mask (default: passed
    through). `tfjs_weight_names` and
    `keras3_weight_paths` map the weights to the names tfjs matches and the h5 paths Keras 3
    reads, where the defaults (`<weight>`; `vars/<i>` or `cell/vars/<i>`) do not hold.
    `before_write` returns {key: reason} for what the family cannot express. `without_mask`
    gives the config to write for a family when no mask reaches the layer, where mask-only
    settings (zero_output_for_mask) cannot change an output.
    `refuse_masked` maps a family to why it cannot compute this layer when a mask reaches it
    (or is a function of the config giving that map, where it depends on the settings).
    `families` lists the runtimes that have the layer class at all (Keras 2.2 has no
    LayerNormalization); readers and writers of the others refuse it.
    `cell_name` names a recurrent layer's cell (`lstm_cell`, or a function of the config when
    the cell is named in it): Keras 3 saves its weights under `layers/<key>/cell/vars`, tf-keras
    under `<layer>/<cell_name>/`, and extra inputs of a call are its initial states. None for
    layers without a cell.
    `for_input_shapes(config, family, shapes)` gives the config to write for a family once
    the input shape of each call is known (Reshape spells out a -1 tfjs cannot resolve).
    `start_read(data, family)` / `finish_write(out, family)` drop or add keys a family writes
    beside the fields (tfjs's RNN copies its cell's keys to the top level); `extra_keys(family)`
    names those keys for the schemas.
    `companion` names the class of the companion npm package that computes what tfjs's own
    class refuses (GRU's reset_after=true), or None.
    `skips_masked_steps` layers (recurrent ones) ignore their input at masked steps; a layer
    that passes a mask on otherwise computes each step from that step alone, unless
    `mixes_steps(config, rank)` says it mixes steps of an input of that rank (LayerNormalization
    over the steps axis). `model.mask_escapes` follows values at masked steps with them.
    `reads_mask` layers compute with the mask their call receives besides the recurrent ones
    (Keras 3 hands it to a call that takes `mask`, and TimeDistributed each step's slice of it);
    a function of the config where it depends on the settings.
    `call_kwargs` maps each non-tensor call argument the layer honours (Attention's
    use_causal_mask) to its default; `forward` sees a call's values as config fields.
    `input_names` names the tensors of a layer called on several positional tensors
    (MultiHeadAttention(query, value, key)) rather than on one list of them.
    """

    class_name: str
    fields: tuple[Field, ...]
    weights: Callable[[LayerConfig, tuple], list[Weight]]
    output_shape: Callable[[LayerConfig, tuple], Any]
    forward: Callable[..., tuple[list, list]] | None = None
    gate_rescale: Callable[[LayerConfig, str, float], Any] | None = None
    adjust: Callable[[dict[str, Any], str], dict[str, str]] | None = None
    sequence_input: bool = False
    input_dim_families: tuple[str, ...] = ("keras3", "keras2", "keras2.2")
    cell_name: str | Callable[[LayerConfig], str] | None = None
    multi_input: bool = False
    after_read: Callable[[dict[str, Any], str, set[str]], None] | None = None
    before_write: Callable[[dict[str, Any], str], dict[str, str]] | None = None
    mask_out: Callable[[LayerConfig, bool], bool] | None = None
    without_mask: Callable[[LayerConfig, str], LayerConfig] | None = None
    for_input_shapes: Callable[[LayerConfig, str, list[tuple]], LayerConfig] | None = None
    refuse_masked: dict[str, str] | Callable[[LayerConfig], dict[str, str]] | None = None
    families: tuple[str, ...] = FAMILIES
    tfjs_weight_names: Callable[[LayerConfig, list[str]], list[str]] | None = None
    keras3_weight_paths: Callable[[LayerConfig, int], list[str]] | None = None
    start_read: Callable[[dict[str, Any], str], dict[str, Any]] | None = None
    finish_write: Callable[[dict[str, Any], str], dict[str, Any]] | None = None
    extra_keys: Callable[[str], tuple[str, ...]] | None = None
    companion: Companion | None = None
    skips_masked_steps: bool = False
    mixes_steps: Callable[[LayerConfig, int], bool] | None = None
    reads_mask: bool | Callable[[LayerConfig], bool] = False
    call_kwargs: Mapping[str, Any] = field(default_factory=dict)
    input_names: tuple[str, ...] = ()
    doc: str = ""

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def cell_scope(self, config: LayerConfig) -> str | None:
        """The name tf-keras scopes the cell's weights with (`lstm_cell`), or None."""
        return self.cell_name(config) if callable(self.cell_name) else self.cell_name

    def tfjs_names(self, config: LayerConfig, names: list[str]) -> list[str]:
        """The names tfjs gives these weights under the layer's scope (`kernel`)."""
        return self.tfjs_weight_names(config, names) if self.tfjs_weight_names else names

    def keras3_paths(self, config: LayerConfig, count: int) -> list[str]:
        """Where Keras 3's .keras h5 keeps each weight below the layer's group."""
        if self.keras3_weight_paths:
            return self.keras3_weight_paths(config, count)
        cell = "cell/" if self.cell_name else ""
        return [f"{cell}vars/{i}" for i in range(count)]

    def shape_argument(self, input_shapes: list[tuple]) -> tuple | list[tuple]:
        """What `weights` and `output_shape` take: all input shapes, or the first one."""
        return list(input_shapes) if self.multi_input else input_shapes[0]

    def computes_with_mask(self, config: LayerConfig) -> bool:
        """Whether a mask reaching this layer changes what it computes (`reads_mask`; every
        recurrent layer skips masked steps)."""
        reads = self.reads_mask(config) if callable(self.reads_mask) else self.reads_mask
        return self.skips_masked_steps or reads

    def masked_refusals(self, config: LayerConfig) -> dict[str, str]:
        """Family -> why it cannot compute this layer, with these settings, when a mask
        reaches it (`refuse_masked`)."""
        refusals = self.refuse_masked
        return (refusals(config) if callable(refusals) else refusals) or {}

    def as_called(self, config: LayerConfig, kwargs: tuple[tuple[str, Any], ...]
                  ) -> LayerConfig:
        """The config `forward` takes for one call: its call arguments as fields."""
        return config.replace(**{**self.call_kwargs, **dict(kwargs)}) if self.call_kwargs \
            else config

    def param_count(self, config: LayerConfig, input_shape: tuple, *,
                    trainable_only: bool = False) -> int:
        """How many numbers the weights hold (only the trainable weights' if asked)."""
        count = 0
        for weight in self.weights(config, input_shape):
            if trainable_only and not weight.trainable:
                continue
            size = 1
            for dim in weight.shape:
                size *= dim
            count += size
        return count


@dataclass(frozen=True)
class LayerConfig:
    """A canonical, immutable layer config: every field of its type explicit, no 'unset'."""

    class_name: str
    values: tuple[tuple[str, Any], ...] = field(default=())

    def __getattr__(self, name: str) -> Any:
        for key, value in object.__getattribute__(self, "values"):
            if key == name:
                return value
        raise AttributeError(name)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)

    def replace(self, **changes: Any) -> LayerConfig:
        merged = {**self.as_dict(), **changes}
        return replace(self, values=tuple(merged.items()))


def no_weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    """The `weights` of a layer that has none."""
    return []


def same_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    """The `output_shape` of a layer that keeps its input's shape."""
    return tuple(input_shape)
