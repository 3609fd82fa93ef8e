"""What TensorFlow.js 4.22's predict makes of masks and initial states: where it throws, where
it hands a layer a mask Keras does not.

tfjs-layers' `execute` (engine/executor.ts) runs a model one symbolic tensor at a time, in the
order of a depth-first walk from each output, and applies a tensor's layer once per tensor it
needs (twice for an LSTM whose output and state both count). It hands every layer the same
`kwargs` object, created at the first call whose inputs carry a mask (until then it is
undefined and each layer makes its own). `RNN.apply` and `Bidirectional.apply`
(layers/recurrent.ts, wrappers.ts) store a call's initial states in that object, so every
later recurrent call finds them there beside its array of inputs, and `standardizeArgs` throws.
`execute` also sets `kwargs.mask` only for a call whose inputs carry a mask, so a later call
without one runs with the previous call's mask: recurrent layers, Softmax and the companion
classes that read one mask apply it. It frees a tensor once it has been read as many times as
tensors read it, counting each input of a call, so a call taking a tensor twice ([h, h])
frees it before a later reader. A stateful layer applied once per output the model reads
advances its states as often.
"""

from __future__ import annotations

from .. import companion as companions
from ..errors import Problem
from ..layers import REGISTRY
from ..model import Model, TensorRef, masked_with_states

BACKWARDS = ("TensorFlow.js 4.22 outputs the initial state at the padded steps it meets before "
             "the first kept one (its rnn() repeats the previous state), tf-keras zeros; with "
             "go_backwards and return_sequences those outputs sit at positions the output mask "
             "keeps, since the mask is not reversed")
TFJS_ERROR = "When inputs is an array, neither initialState or constants should be provided"
REPEATED = ("TensorFlow.js 4.22's predict applies a layer once per output tensor of it the model "
            "reads ({} here), and this stateful layer's states advance at each: from the "
            "second predict on, its outputs differ from Keras's (measured: 2.7e-3)")
FREED = ("TensorFlow.js 4.22's predict counts each tensor reading a tensor once but frees it "
         "after as many reads as inputs, so this call, taking {} more than once, has it freed "
         "before '{}' reads it (tfjs fails: 'Cannot read properties of undefined')")


def _recurrent(model: Model, layer: str) -> bool:
    return bool(REGISTRY[model.layers[layer].class_name].skips_masked_steps)


def execution_order(model: Model) -> list[tuple[TensorRef, int]]:
    """The tensors tfjs's `execute` computes, in its order, each with the index of the call
    that makes it: one depth-first walk per model output, merged without repeats."""
    maker, node_counts = {}, {}
    for position, call in enumerate(model.calls):
        node = node_counts.get(call.layer, 0)
        node_counts[call.layer] = node + 1
        maker[(call.layer, node)] = position
    fed = {ref.layer for ref in model.inputs}
    order: list[tuple[TensorRef, int]] = []
    seen: set[TensorRef] = set()
    for fetch in model.outputs:
        visited, stack, marks = set(), [fetch], []
        while stack:
            top = stack[-1]
            if top in visited or top.layer in fed:
                stack.pop()
                continue
            position = maker[(top.layer, top.node)]
            if marks and marks[-1] == len(stack) - 1:
                stack.pop()
                marks.pop()
                visited.add(top)
                if top not in seen:
                    seen.add(top)
                    order.append((top, position))
                continue
            marks.append(len(stack) - 1)
            stack.extend(ref for ref in model.calls[position].inputs if ref not in visited)
    return order


def state_throws(model: Model) -> dict[str, str]:
    """Recurrent layers called with initial states whose states tfjs 4.22's predict leaves
    in the shared `kwargs` for a later recurrent call, which then throws: layer -> that call's
    layer. A tensor carries a mask in tfjs where its call's first output does in Keras
    (`execute` gives every output of a call the first output's mask)."""
    masked = _masked_calls(model)
    shared, leaked, throws = False, None, {}
    for _, position in execution_order(model):
        call = model.calls[position]
        shared = shared or any((ref.layer, ref.node) in masked for ref in call.inputs)
        if not _recurrent(model, call.layer):
            continue
        if leaked is not None:
            throws.setdefault(leaked, call.layer)
        if shared and len(call.inputs) > 1:
            leaked = call.layer
    return throws


def stale_masks(model: Model) -> dict[str, str]:
    """Layers that apply a mask (recurrent ones, Softmax) called where tfjs 4.22's predict
    hands them an earlier call's mask although their inputs carry none: layer -> the layer
    whose input's mask it is. Keras computes them without a mask."""
    masked = _masked_calls(model)
    source, stale = None, {}
    for _, position in execution_order(model):
        call = model.calls[position]
        if any((ref.layer, ref.node) in masked for ref in call.inputs):
            first = call.inputs[0]
            source = call.layer if (first.layer, first.node) in masked else None
        elif source is not None and _applies_mask(model, call.layer):
            stale.setdefault(call.layer, source)
    return stale


def problems(model: Model, dialect: str) -> list[Problem]:
    """What tfjs 4.22 cannot run or computes otherwise with masks and initial states: a call
    whose states make a later one throw, a masked go_backwards sequence with initial states,
    and a call handed a stale mask."""
    throws = state_throws(model)
    backwards = [name for name in masked_with_states(model) if name not in throws
                 and getattr(model.layers[name], "go_backwards", False)
                 and getattr(model.layers[name], "return_sequences", False)]
    return [Problem(name, "initial_state", dialect,
                    f"TensorFlow.js 4.22 fails to predict: after a masked call, its predict "
                    f"leaves this call's initial states in the arguments it shares between "
                    f"layers, and the later recurrent layer '{later}' throws "
                    f"'{TFJS_ERROR}'")
            for name, later in sorted(throws.items())] + [
        Problem(name, "initial_state", dialect, BACKWARDS) for name in backwards
    ] + stale_problems(model, dialect)


def stale_problems(model: Model, dialect: str) -> list[Problem]:
    """One problem per call tfjs 4.22's predict hands a stale mask (`stale_masks`)."""
    return [Problem(name, "mask", dialect,
                    f"TensorFlow.js 4.22's predict applies the mask that reached layer "
                    f"'{source}' to this call, whose inputs carry none (it keeps the last mask "
                    f"in the arguments it shares between layers); Keras applies none")
            for name, source in sorted(stale_masks(model).items())]


def repeated_state_problems(model: Model, dialect: str) -> list[Problem]:
    """Stateful layers whose call tfjs 4.22's predict applies more than once (`REPEATED`)."""
    applied: dict[int, int] = {}
    for _, position in execution_order(model):
        applied[position] = applied.get(position, 0) + 1
    found: dict[str, Problem] = {}
    for position, count in sorted(applied.items()):
        name = model.calls[position].layer
        config = model.layers[name]
        stateful = getattr(config, "stateful", False) or getattr(
            getattr(config, "layer", None), "stateful", False)
        if count > 1 and stateful:
            found.setdefault(name, Problem(name, "stateful", dialect, REPEATED.format(count)))
    return list(found.values())


def _applies_mask(model: Model, layer: str) -> bool:
    """Whether tfjs's layer, or the companion class written for it, applies `kwargs.mask`."""
    kind = REGISTRY[model.layers[layer].class_name]
    return (kind.skips_masked_steps or kind.class_name == "Softmax"
            or bool(kind.companion and kind.companion.first_mask))


def _tfjs_inputs(model: Model, position: int) -> list[TensorRef]:
    """The tensors the tfjs node of a call names (`companion.tfjs_inputs`)."""
    call = model.calls[position]
    kind = REGISTRY[model.layers[call.layer].class_name]
    return companions.tfjs_inputs(kind.companion, call.inputs)


def freed_problems(model: Model, dialect: str) -> list[Problem]:
    """Calls taking a tensor twice that make tfjs 4.22's predict free it before another call
    reads it (`FREED`); a model input or output, or a stateful layer's output, is never freed."""
    order = execution_order(model)
    counts: dict[TensorRef, int] = {}
    for _, position in order:
        for ref in set(_tfjs_inputs(model, position)):
            counts[ref] = counts.get(ref, 0) + 1
    kept = set(model.inputs) | set(model.outputs)
    freed: set[TensorRef] = set()
    found: dict[str, Problem] = {}
    for _, position in order:
        inputs, release = _tfjs_inputs(model, position), []
        for ref in inputs:
            if ref in freed:
                twice = next((model.calls[p].layer for _, p in order
                              if _tfjs_inputs(model, p).count(ref) > 1), ref.layer)
                where = f"[{ref.layer}, {ref.node}, {ref.index}]"
                found.setdefault(twice, Problem(twice, "inputs", dialect, FREED.format(
                    where, model.calls[position].layer)))
            counts[ref] -= 1
            if (counts[ref] == 0 and ref not in kept
                    and not getattr(model.layers[ref.layer], "stateful", False)):
                release.append(ref)
        freed.update(release)
    return list(found.values())


def _masked_calls(model: Model) -> set[tuple[str, int]]:
    """(layer, node) of the calls whose outputs carry a mask in tfjs; a recurrent layer's
    output mask is its first input's (`RNN.computeMask`)."""
    carries, node_counts = set(), {}
    for call in model.calls:
        config = model.layers[call.layer]
        layer = REGISTRY[config.class_name]
        node = node_counts.get(call.layer, 0)
        node_counts[call.layer] = node + 1
        sources = call.inputs[:1] if layer.skips_masked_steps else call.inputs
        inherit = any((ref.layer, ref.node) in carries for ref in sources)
        if layer.mask_out(config, inherit) if layer.mask_out else inherit:
            carries.add((call.layer, node))
    return carries
