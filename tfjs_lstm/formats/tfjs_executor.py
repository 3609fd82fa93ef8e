"""Where TensorFlow.js 4.22's predict throws on a recurrent layer called with initial states.

tfjs-layers' `execute` (engine/executor.ts) runs a model one symbolic tensor at a time, in the
order of a depth-first walk from each output, and applies a tensor's layer once per tensor it
needs (twice for an LSTM whose output and state both count). It hands every layer the same
`kwargs` object, created at the first call whose inputs carry a mask (until then it is
undefined and each layer makes its own). `RNN.apply` and `Bidirectional.apply`
(layers/recurrent.ts, wrappers.ts) store a call's initial states in that object, so every
later recurrent call finds them there beside its array of inputs, and `standardizeArgs` throws.
"""

from __future__ import annotations

from ..layers import REGISTRY
from ..model import Model, TensorRef

BACKWARDS = ("TensorFlow.js 4.22 outputs the initial state at the padded steps it meets before "
             "the first kept one (its rnn() repeats the previous state), tf-keras zeros; with "
             "go_backwards and return_sequences those outputs sit at positions the output mask "
             "keeps, since the mask is not reversed")
TFJS_ERROR = "When inputs is an array, neither initialState or constants should be provided"


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
