"""What TensorFlow.js 4.22's graph executor (`tfjs-layers/src/engine/executor.ts`, behind
`predict` and `execute` of every LayersModel, Sequential included) does otherwise than Keras,
replayed on a canonical model: the mask it hands a layer, and the tensors it frees."""

from __future__ import annotations

from .. import companion as companions
from .. import dialects
from ..errors import Problem
from ..model import LayerCall, Model, TensorRef, makes_mask, passes_mask_to

STALE_MASK = ("TensorFlow.js 4.22's executor keeps the last mask it handed a layer in the "
              "keyword arguments it passes on, so this layer, which {}, gets the mask of an "
              "earlier layer's input and computes other numbers than Keras (or fails)")

FREED = ("TensorFlow.js 4.22's executor counts each layer reading a tensor once but frees it "
         "after as many reads, so this layer, taking {} more than once, has it freed before "
         "'{}' reads it (tfjs fails reading it: \"Cannot read properties of undefined\")")

MASK_USERS = frozenset({"Softmax", "ConvLSTM2D"})
"""tfjs layers besides the recurrent ones whose call reads the mask in its keyword arguments."""


def _uses_mask(class_name: str) -> bool:
    """Whether tfjs's layer, or the companion class written for it, computes with the mask the
    executor hands it (`kwargs.mask`)."""
    layer = dialects.REGISTRY[class_name]
    return (class_name in MASK_USERS or layer.skips_masked_steps
            or bool(layer.companion and layer.companion.first_mask))


def _producers(model: Model) -> dict[TensorRef, LayerCall]:
    """The call making each tensor of the model (any output index of its node)."""
    made: dict[TensorRef, LayerCall] = {}
    nodes: dict[str, int] = {}
    for call in model.calls:
        node = nodes.get(call.layer, 0)
        nodes[call.layer] = node + 1
        for index in range(8):
            made[TensorRef(call.layer, node, index)] = call
    return made


def _inputs(model: Model, call: LayerCall) -> list[TensorRef]:
    """The tensors a tfjs node names for a call, in order (`companion.tfjs_inputs`)."""
    layer = dialects.REGISTRY[model.layers[call.layer].class_name]
    return companions.tfjs_inputs(layer.companion, call.inputs)


def execution_order(model: Model) -> tuple[list[TensorRef], dict[TensorRef, int]]:
    """The tensors in the order tfjs computes them, and how many tensors read each: a
    depth-first walk from each model output that visits a node's last input first, the
    readers counted once per reading tensor (`getTopologicalSortAndRecipientCounts`)."""
    made = _producers(model)
    order: list[TensorRef] = []
    readers: dict[TensorRef, set[TensorRef]] = {}
    for fetch in model.outputs:
        visited, stack, marks = set(model.inputs), [fetch], []
        while stack:
            top = stack[-1]
            if top in visited:
                stack.pop()
                continue
            marked = bool(marks) and marks[-1] == len(stack) - 1
            inputs = _inputs(model, made[top]) if top in made else []
            if not inputs or marked:
                stack.pop()
                visited.add(top)
                if top not in order:
                    order.append(top)
                if marked:
                    marks.pop()
                continue
            marks.append(len(stack) - 1)
            for ref in inputs:
                readers.setdefault(ref, set()).add(top)
                if ref not in visited:
                    stack.append(ref)
    return order, {ref: len(names) for ref, names in readers.items()}


def _mask_origins(model: Model) -> tuple[dict[TensorRef, TensorRef], dict[TensorRef, TensorRef]]:
    """The mask each tensor carries, named by the tensor where it was made, as Keras sees it
    and as tfjs does (tfjs gives every output of a layer the first output's mask)."""
    made = _producers(model)
    keras: dict[TensorRef, TensorRef] = {}
    tfjs: dict[TensorRef, TensorRef] = {}
    nodes: dict[str, int] = {}
    for call in model.calls:
        node = nodes.get(call.layer, 0)
        nodes[call.layer] = node + 1
        config = model.layers[call.layer]
        masks = {keras[ref] for ref in call.inputs if ref in keras}
        count = passes_mask_to(config) if masks else 0
        if makes_mask(config):
            origin = TensorRef(call.layer, node, 0)
            count = max(count, 1)
        elif len(masks) == 1:
            origin = masks.pop()
        else:
            origin = TensorRef(call.layer, node, 0)
        for index in range(8):
            ref = TensorRef(call.layer, node, index)
            if index < count:
                keras[ref] = origin
            if count and made.get(ref) is call:
                tfjs[ref] = origin
    return keras, tfjs


def executor_problems(model: Model, dialect: str) -> list[Problem]:
    """The layers tfjs 4.22's executor runs otherwise than Keras: one handed a stale mask
    (`STALE_MASK`), one reading a tensor an earlier layer freed (`FREED`)."""
    order, counts = execution_order(model)
    made = _producers(model)
    keras, tfjs = _mask_origins(model)
    kept = set(model.inputs) | set(model.outputs)
    freed: set[TensorRef] = set()
    handed: TensorRef | None = None
    problems: dict[tuple[str, str], Problem] = {}
    for ref in order:
        call = made[ref]
        config = model.layers[call.layer]
        inputs = _inputs(model, call)
        release = []
        for value in inputs:
            if value in freed:
                twice = next((c.layer for c in model.calls
                              if _inputs(model, c).count(value) > 1), call.layer)
                where = f"[{value.layer}, {value.node}, {value.index}]"
                problems.setdefault((twice, "inputs"), Problem(
                    twice, "inputs", dialect, FREED.format(where, call.layer)))
            counts[value] -= 1
            stateful = bool(getattr(model.layers[value.layer], "stateful", False))
            if counts[value] == 0 and value not in kept and not stateful:
                release.append(value)
        if any(value in tfjs for value in inputs):
            handed = tfjs.get(inputs[0])
        wanted = keras.get(call.inputs[0])
        if _uses_mask(config.class_name) and handed != wanted:
            why = "has no mask in Keras" if wanted is None else "has another mask in Keras"
            problems.setdefault((call.layer, "mask"), Problem(
                call.layer, "mask", dialect, STALE_MASK.format(why)))
        freed.update(release)
    return list(problems.values())
