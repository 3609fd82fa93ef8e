"""Runs a canonical `Model` in numpy: layer calls in order, masks carried the way Keras does."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from ..layers import REGISTRY
from ..model import Model, TensorRef, ignores_mask, makes_mask, passes_mask_to
from .memory import require_memory

PRECISIONS = {"float32": np.float32, "float64": np.float64}


def run(model: Model, inputs: Sequence[np.ndarray], *, precision: str = "float32",
        initial_states: dict[str, Sequence[np.ndarray]] | None = None) -> list[np.ndarray]:
    """The model's outputs for `inputs` (one array per model input, in order)."""
    return Runner(model, precision=precision).predict(inputs, initial_states=initial_states)


class LayerWeights(dict):
    """A layer's weights as a Runner hands them to the layer's forward, with `prepared`: what
    the forward made from them (reordered, transposed copies) for the Runner's next calls."""

    def __init__(self, weights: dict[str, np.ndarray], prepared: dict | None = None) -> None:
        super().__init__(weights)
        self.prepared: dict = {} if prepared is None else prepared


class Runner:
    """Runs a model call after call; stateful layers carry their states between calls, as
    Keras and tfjs do, until `reset_states()`. Made once, it keeps what repeats from call to
    call: the weights in the layouts the kernels run on, and the memory check of each set of
    input shapes."""

    def __init__(self, model: Model, *, precision: str = "float32"):
        self.model = model
        self.dtype = PRECISIONS[precision]
        self.states: dict[str, list[np.ndarray]] = {}
        self.weights = {name: LayerWeights(model.weights.get(name, {})) for name in model.layers}
        self.memory_checked: set[tuple] = set()

    def reset_states(self) -> None:
        self.states.clear()

    def predict(self, inputs: Sequence[np.ndarray], *,
                initial_states: dict[str, Sequence[np.ndarray]] | None = None
                ) -> list[np.ndarray]:
        """The model's outputs for `inputs` (one array per model input, in order)."""
        return _execute(self, inputs, initial_states or {})[0]


def output_masks(model: Model, inputs: Sequence[np.ndarray]) -> list[np.ndarray | None]:
    """The mask each model output carries for `inputs` ([batch, steps] booleans: False where
    Keras's losses and metrics skip a step), or None; a model no mask enters is not run."""
    if not any(makes_mask(config) for config in model.layers.values()):
        return [None] * len(model.outputs)
    return _execute(Runner(model), inputs, {})[1]


def _execute(runner: Runner, inputs: Sequence[np.ndarray],
             initial_states: dict[str, Sequence[np.ndarray]]
             ) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """The model's outputs and the masks they carry."""
    model, dtype, carried = runner.model, runner.dtype, runner.states
    if len(inputs) != len(model.inputs):
        raise InputError(f"model '{model.name}' takes {len(model.inputs)} input(s), "
                         f"got {len(inputs)}")
    tensors: dict[TensorRef, tuple[np.ndarray, Any]] = {}
    for ref, array in zip(model.inputs, inputs, strict=True):
        config = model.layers[ref.layer]
        array = np.asarray(array)
        _check_input(config.batch_input_shape, array.shape, ref.layer)
        if array.dtype.kind not in "fiub":
            raise InputError(f"input '{ref.layer}' has dtype {array.dtype}; a model takes "
                             "numbers")
        tensors[ref] = (array.astype(dtype) if array.dtype.kind == "f" else array, None)
    shapes = tuple(np.shape(array) for array in inputs)
    if shapes not in runner.memory_checked:
        require_run_memory(model, shapes, dtype)
        runner.memory_checked.add(shapes)
    node_counts: dict[str, int] = {}
    for call in model.calls:
        layer = REGISTRY[model.layers[call.layer].class_name]
        config = layer.as_called(model.layers[call.layer], call.kwargs)
        arrays = [_tensor(tensors, ref, call.layer)[0] for ref in call.inputs]
        masks = [_tensor(tensors, ref, call.layer)[1] for ref in call.inputs]
        if layer.skips_masked_steps and masks[0] is not None and np.ndim(masks[0]) != 2:
            raise InputError(f"layer '{call.layer}' ({config.class_name}) gets a mask of shape "
                             f"{list(np.shape(masks[0]))} from the layers before it, where a "
                             "recurrent layer takes [batch, steps] (nor can Keras run it)")
        unmasked = masks[0] is not None and ignores_mask(model, call)
        if unmasked:  # Keras 3: the layer runs over every step, its output keeps the mask
            passed, masks = masks[0], [None] * len(masks)
        stateful = bool(getattr(config, "stateful", False))
        if call.layer in initial_states:
            arrays = [*arrays[:1], *initial_states[call.layer]]
        elif stateful and call.layer in carried:
            arrays = [*arrays[:1], *carried[call.layer]]
        if stateful:
            _check_stateful_batch(config, arrays[0], call.layer)
            as_called = config.replace(return_state=True)
            outputs, out_masks = layer.forward(as_called, runner.weights[call.layer], arrays,
                                               masks, dtype)
            carried[call.layer] = outputs[1:]  # the output comes first, then the states
            if not config.return_state:
                outputs, out_masks = outputs[:1], out_masks[:1]
        else:
            outputs, out_masks = layer.forward(config, runner.weights[call.layer], arrays,
                                               masks, dtype)
        if unmasked:
            count = passes_mask_to(config)
            out_masks = [passed] * count + [None] * (len(outputs) - count)
        node = node_counts.get(call.layer, 0)
        node_counts[call.layer] = node + 1
        for index, (output, mask) in enumerate(zip(outputs, out_masks, strict=True)):
            tensors[TensorRef(call.layer, node, index)] = (output, mask)
    found = [_tensor(tensors, ref, "the model's outputs") for ref in model.outputs]
    return [np.asarray(array) for array, _ in found], \
        [None if mask is None else np.asarray(mask, bool) for _, mask in found]


def _tensor(tensors: dict[TensorRef, Any], ref: TensorRef, user: str) -> Any:
    """The tensor `ref` names; a node or tensor index beyond what its layer returns is bad
    input, named as such."""
    if ref not in tensors:
        raise InputError(f"{user} uses tensor {[ref.layer, ref.node, ref.index]}, which layer "
                         f"'{ref.layer}' does not return")
    return tensors[ref]


def _check_stateful_batch(config, x: np.ndarray, name: str) -> None:
    """Keras requires a fixed batch size for stateful layers: the states are per sample."""
    batch = (config.batch_input_shape or (None,))[0]
    if batch is not None and x.shape[0] != batch:
        raise InputError(f"stateful layer '{name}' was built for batch {batch}, got "
                         f"{x.shape[0]}")


def _check_input(declared: tuple | None, actual: tuple, name: str) -> None:
    if declared is None:
        return
    if len(declared) != len(actual) or any(d is not None and d != a
                                           for d, a in zip(declared, actual, strict=True)):
        raise InputError(f"input '{name}' expects shape {_shape_text(declared)}, "
                         f"got {list(actual)}")


def _shape_text(shape: tuple) -> str:
    return "[" + ", ".join("null" if d is None else str(d) for d in shape) + "]"


def require_run_memory(model: Model, input_shapes: Sequence[tuple], dtype: type = np.float32
                       ) -> None:
    """Refuse before running when the model's tensors for these inputs (each kept until the
    run ends, and as much again for a layer's work) exceed the memory available."""
    shapes = shapes_for_inputs(model, input_shapes)
    require_memory(2 * np.dtype(dtype).itemsize * sum(
        math.prod(d or 1 for d in shape) for shape in shapes.values()),
        f"running model '{model.name}'")


def shapes_for_inputs(model: Model, input_shapes: Sequence[tuple]) -> dict[TensorRef, tuple]:
    """Every tensor's shape when the model runs on inputs of these shapes (checked against
    the model's declared ones)."""
    if len(input_shapes) != len(model.inputs):
        raise InputError(f"model '{model.name}' takes {len(model.inputs)} input(s), "
                         f"got {len(input_shapes)}")
    layers = dict(model.layers)
    for ref, shape in zip(model.inputs, input_shapes, strict=True):
        _check_input(layers[ref.layer].batch_input_shape, tuple(shape), ref.layer)
        layers[ref.layer] = layers[ref.layer].replace(batch_input_shape=tuple(shape))
    return output_shapes(Model(model.name, layers, model.calls, model.inputs, model.outputs))


def output_shapes(model: Model) -> dict[TensorRef, tuple]:
    """Every tensor's shape computed from configs alone (no weights needed)."""
    shapes: dict[TensorRef, tuple] = {}
    for ref in model.inputs:
        shapes[ref] = tuple(model.layers[ref.layer].batch_input_shape)
    node_counts: dict[str, int] = {}
    for call in model.calls:
        config = model.layers[call.layer]
        layer = REGISTRY[config.class_name]
        in_shapes = [_tensor(shapes, ref, call.layer) for ref in call.inputs]
        result = layer.output_shape(config, layer.shape_argument(in_shapes))
        results = result if isinstance(result, list) else [result]
        node = node_counts.get(call.layer, 0)
        node_counts[call.layer] = node + 1
        for index, shape in enumerate(results):
            shapes[TensorRef(call.layer, node, index)] = tuple(shape)
    for ref in model.outputs:
        _tensor(shapes, ref, "the model's outputs")
    return shapes


