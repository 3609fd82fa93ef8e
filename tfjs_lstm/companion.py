"""The companion npm package (`js/companion`, `tfjs-lstm-companion`): Keras layers TensorFlow.js
4.22 cannot compute, registered with `tf.serialization.registerClass` under class names of
their own. A layer description names its companion class (`LayerType.companion`); this module
says what the package is called and when a layer needs it. The package's version is
`tfjs_lstm.__version__`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE = "tfjs-lstm-companion"
FLAG = "--companion"


@dataclass(frozen=True)
class Companion:
    """A class of the companion package that computes a layer where tfjs's own class cannot:
    `fields` maps each field tfjs ignores and the companion class honours to the companion
    class's default (GRU's reset_after: true).
    A companion whose difference lies in a nested layer (Bidirectional's zeros at masked steps)
    says instead `when` it is needed, `to_tfjs` gives the config as the companion class is
    written (what tfjs's own class takes), and `from_tfjs` restores the canonical values read.
    A companion of a layer tfjs lacks altogether (Attention) is `always` needed; `first_mask`
    says it sees the one mask tfjs's executor hands a layer, its first input's."""

    class_name: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    when: Callable[[Any], bool] | None = None
    to_tfjs: Callable[[Any], Any] | None = None
    from_tfjs: Callable[[dict], None] | None = None
    always: bool = False
    first_mask: bool = False

    def needed(self, config: Any) -> bool:
        """Whether this config differs from what tfjs's own class computes."""
        if self.always:
            return True
        if self.when is not None:
            return self.when(config)
        return any(getattr(config, name) == value for name, value in self.fields.items())

    def cell(self) -> Companion:
        """The companion of the layer's cell (`TfjsLstmGRUCell`)."""
        return Companion(f"{self.class_name}Cell", self.fields)


def hint(companion: Companion) -> str:
    """What a refusal adds: the flag that writes the companion class, and the package."""
    return (f"; `tfjs-lstm convert {FLAG}` writes {companion.class_name}, which the npm package "
            f"{PACKAGE} computes (import it before tf.loadLayersModel)")


def by_class_name() -> dict[str, tuple[str, Companion]]:
    """Companion class name -> (canonical class name, companion), over the layer registry."""
    from .layers import REGISTRY

    return {layer.companion.class_name: (name, layer.companion)
            for name, layer in REGISTRY.items() if layer.companion is not None}


def tfjs_inputs(companion: Companion | None, refs: Sequence[Any]) -> list[Any]:
    """The tensors a tfjs node names for a call: a companion class of a layer tfjs lacks,
    called on one tensor repeated ([h, h], self-attention), takes it once, since tfjs's
    executor frees a tensor a layer takes twice before other layers read it."""
    refs = list(refs)
    if companion is not None and companion.always and len(refs) > 1 and len(set(refs)) == 1:
        return refs[:1]
    return refs


def used_in(folder: Path) -> bool:
    """Whether a tfjs folder's model.json names a companion class (tfjs needs the package)."""
    names = by_class_name()

    def uses(item: Any) -> bool:
        if isinstance(item, dict):
            return item.get("class_name") in names or any(map(uses, item.values()))
        return isinstance(item, list) and any(map(uses, item))

    try:
        return uses(json.loads((folder / "model.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return False


def tfjs_class_name(config: Any) -> str:
    """The class tfjs knows this layer by: the companion class where tfjs's own cannot
    compute it, else the canonical one."""
    from .layers import REGISTRY

    companion = REGISTRY[config.class_name].companion
    return companion.class_name if companion and companion.needed(config) else \
        config.class_name
