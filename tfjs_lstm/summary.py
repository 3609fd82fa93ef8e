"""`summary()`: parameter counts and output shapes from configs alone, printed the way each
runtime's own `model.summary()` prints them (tfjs-layers `utils/layer_utils.ts`; Keras 3
`utils/summary_utils.py`, a rich table; tf-keras `utils/layer_utils.py`, fixed-width text)."""

from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import dataclass, replace

from .companion import tfjs_class_name, tfjs_inputs
from .layers import REGISTRY
from .model import STACKED, Model, TensorRef, for_family
from .runtime.engine import output_shapes

STYLES = ("keras3", "keras2", "tfjs")


@dataclass(frozen=True)
class Row:
    name: str
    class_name: str
    input_shapes: list[tuple]
    output_shapes: list[tuple]
    params: int
    trainable_params: int
    inbound: list[TensorRef]


def rows(model: Model, *, include_input_layers: bool) -> list[Row]:
    """One row per layer, in the model's order."""
    shapes = output_shapes(model)
    result = []
    for name, config in model.layers.items():
        if config.class_name == "InputLayer":
            if include_input_layers:
                shape = tuple(config.batch_input_shape)
                result.append(Row(name, "InputLayer", [shape], [shape], 0, 0, []))
            continue
        calls = model.layer_calls(name)
        inputs = [shapes[ref] for ref in calls[0].inputs] if calls else []
        outputs = [shapes[ref] for ref in shapes if ref.layer == name and ref.node == 0]
        layer = REGISTRY[config.class_name]
        params = trainable = 0
        if inputs:
            params = layer.param_count(config, layer.shape_argument(inputs))
            trainable = layer.param_count(config, layer.shape_argument(inputs),
                                          trainable_only=True)
        if not getattr(config, "trainable", True):
            trainable = 0
        result.append(Row(name, config.class_name, inputs, outputs, params, trainable,
                          [ref for call in calls for ref in call.inputs]))
    return _nested_rows(model, result)


def _nested_rows(model: Model, table: list[Row]) -> list[Row]:
    """A nested model (or an RNN over stacked cells), inlined in `model`, as the one row each
    runtime's summary shows: its parameters summed, its first layer's input, its last layer's
    output; tensors it makes are named by it."""
    merged: list[Row] = []
    index: dict[str, int] = {}
    for row in table:
        row = replace(row, inbound=[replace(ref, layer=model.scopes[ref.layer][0][0])
                                    if ref.layer in model.scopes else ref
                                    for ref in row.inbound])
        scope = model.scopes.get(row.name)
        if not scope:
            merged.append(row)
        elif scope[0][0] not in index:
            index[scope[0][0]] = len(merged)
            merged.append(replace(row, name=scope[0][0], class_name="RNN"
                                  if scope[0][1] == STACKED else scope[0][1]))
        else:
            first = merged[index[scope[0][0]]]
            merged[index[scope[0][0]]] = replace(
                first, output_shapes=row.output_shapes, params=first.params + row.params,
                trainable_params=first.trainable_params + row.trainable_params)
    return merged


def counts(model: Model) -> tuple[int, int]:
    """(trainable, non-trainable) parameter counts: a frozen layer's weights and weights no
    gradient updates (BatchNormalization's moving statistics) count as non-trainable."""
    all_rows = rows(model, include_input_layers=False)
    trainable = sum(r.trainable_params for r in all_rows)
    return trainable, sum(r.params for r in all_rows) - trainable


def sequential_like(model: Model, tfjs: bool = False) -> bool:
    """Keras's and tfjs's test: one node per graph depth, each with one input tensor, no
    shared layer; extra outputs (return_state) do not matter. `tfjs` counts a node's tensors
    as tfjs's model.json names them (`tfjs_inputs`)."""
    if model.sequential:
        return True
    if len(model.inputs) != 1:
        return False
    called, consumed = set(), set()
    for call in model.calls:
        inputs = tfjs_inputs(REGISTRY[model.layers[call.layer].class_name].companion,
                             call.inputs) if tfjs else call.inputs
        if call.layer in called or len(inputs) != 1 or inputs[0].layer in consumed:
            return False
        called.add(call.layer)
        consumed.add(call.inputs[0].layer)
    return True


def as_json(model: Model) -> dict:
    trainable, frozen = counts(model)
    return {
        "layers": [{"name": r.name, "class_name": r.class_name,
                    "output_shape": [list(s) for s in r.output_shapes]
                    if len(r.output_shapes) > 1 else list(r.output_shapes[0]),
                    "params": r.params}
                   for r in rows(model, include_input_layers=not model.sequential)],
        "total_params": trainable + frozen,
        "trainable_params": trainable,
        "non_trainable_params": frozen,
    }


def _tfjs_shape(shapes: list[tuple]) -> str:
    value = [list(s) for s in shapes] if len(shapes) > 1 else list(shapes[0])
    return json.dumps(value, separators=(",", ":"))


def render_tfjs(model: Model) -> str:
    """tfjs's printSummary: fixed-width columns, JSON shapes; a layer only the companion
    package computes shows its class (TfjsLstmGRU), as tfjs prints it with the package."""
    chain = sequential_like(model, tfjs=True)
    header = ["Layer (type)", "Input Shape", "Output shape", "Param #"]
    if chain:
        width, positions = 90, [0.32, 0.61, 0.89, 1]
    else:
        width, positions = 115, [0.24, 0.48, 0.70, 0.80, 1]
        header.append("Receives inputs")
    stops = [int(width * p) for p in positions]
    lines = ["_" * width, _fixed_row(header, stops), "=" * width]
    table = rows(model, include_input_layers=not model.sequential)
    configs = for_family(model, "tfjs", companion=True)  # as `convert --companion` writes
    for i, row in enumerate(table):
        inbound, shapes = row.inbound, row.input_shapes
        if row.name in model.layers:  # a companion class takes [h, h] as h (`tfjs_inputs`)
            inbound = tfjs_inputs(REGISTRY[configs[row.name].class_name].companion, inbound)
            shapes = shapes[:len(inbound)] if inbound else shapes
        # A loaded model's nodes hold a list of input shapes, which tfjs prints as such.
        inputs = json.dumps([list(s) for s in shapes], separators=(",", ":"))
        if row.name not in model.layers and row.class_name != "RNN":
            # tfjs prints every inbound node: a nested model's first is the one that built it
            # on its own inputs, which take the shapes it is called on.
            inputs = f"{inputs},{inputs}"
        shown = tfjs_class_name(configs[row.name]) if row.name in model.layers \
            else row.class_name
        fields = [f"{row.name} ({shown})", inputs,
                  _tfjs_shape(row.output_shapes), str(row.params)]
        if chain:
            lines.append(_fixed_row(fields, stops))
        else:
            sources = [f"{ref.layer}[{ref.node}][{ref.index}]" for ref in inbound] or [""]
            lines.append(_fixed_row([*fields, sources[0]], stops))
            lines.extend(_fixed_row(["", "", "", "", extra], stops) for extra in sources[1:])
        lines.append(("=" if i == len(table) - 1 else "_") * width)
    trainable, frozen = counts(model)
    lines += [f"Total params: {trainable + frozen}", f"Trainable params: {trainable}",
              f"Non-trainable params: {frozen}", "_" * width]
    return "\n".join(lines)


def _fixed_row(fields: list[str], stops: list[int]) -> str:
    line = ""
    for i, text in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "
        line = (line + text)[:stops[i]]
        line += " " * (stops[i] - len(line))
    return line


def _keras_shape(shape: tuple) -> str:
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def _memory(num_bytes: float, byte_unit: str = "B") -> str:
    """A byte count the way Keras prints it: '20.50 KB' (tf-keras calls bytes 'Byte')."""
    size = float(num_bytes)
    for unit in (byte_unit, "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def render_keras3(model: Model, line_length: int | None = None) -> str:
    """Keras 3's print_summary, as rich draws it: heavy head, a rule between rows."""
    chain = sequential_like(model)
    if chain:
        default, positions = 88, [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        align = "<<>"
    else:
        default, positions = 108, [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        align = "<<><"
    line_length = line_length or min(default, shutil.get_terminal_size().columns - 4)
    widths, current = [], 0
    for p in positions:
        widths.append(int(p * line_length) - current)
        current += widths[-1]
    cells = _rich_widths(widths, line_length)
    body = []
    for row in rows(model, include_input_layers=not model.sequential):
        shapes = row.output_shapes
        shape = _keras_shape(shapes[0]) if len(shapes) == 1 else \
            "[" + ", ".join(_keras_shape(s) for s in shapes) + "]"
        fields = [f"{row.name} ({row.class_name})", shape, f"{row.params:,}"]
        if not chain:
            fields.append(", ".join(f"{r.layer}[{r.node}][{r.index}]" for r in row.inbound)
                          or "-")
        body.append(fields)
    out = [f'Model: "{model.name}"', _rule("┏", "━", "┳", "┓", cells),
           _cells(header, cells, align, "┃"), _rule("┡", "━", "╇", "┩", cells)]
    for i, fields in enumerate(body):
        out.extend(_cells_multiline(fields, cells, align))
        out.append(_rule("├", "─", "┼", "┤", cells) if i < len(body) - 1
                   else _rule("└", "─", "┴", "┘", cells))
    trainable, frozen = counts(model)
    total = trainable + frozen
    out += [f" Total params: {total:,} ({_memory(4 * total)})",
            f" Trainable params: {trainable:,} ({_memory(4 * trainable)})",
            f" Non-trainable params: {frozen:,} ({_memory(4 * frozen)})"]
    return "\n".join(out)


def _rich_widths(widths: list[int], line_length: int) -> list[int]:
    """Cell widths (padding included) after rich shrinks columns to fit `line_length`."""
    cells = [w + 2 for w in widths]
    available = line_length - (len(cells) + 1)
    excess = sum(cells) - available
    if excess > 0:
        remaining, ratio_left = excess, len(cells)
        for i in range(len(cells)):
            cut = min(cells[i], round(remaining / ratio_left))
            cells[i] -= cut
            remaining -= cut
            ratio_left -= 1
    return cells


def _rule(left: str, fill: str, cross: str, right: str, cells: list[int]) -> str:
    return left + cross.join(fill * w for w in cells) + right


def _cells(fields: list[str], cells: list[int], align: str, bar: str = "│") -> str:
    parts = []
    for text, width, how in zip(fields, cells, align, strict=True):
        inner = width - 2
        parts.append(" " + (text.rjust(inner) if how == ">" else text.ljust(inner)) + " ")
    return bar + bar.join(parts) + bar


def _cells_multiline(fields: list[str], cells: list[int], align: str) -> list[str]:
    """A row whose cells wrap at spaces like rich does when text is wider than the cell; a
    word wider than the cell keeps a line of its own, cut with an ellipsis."""
    columns = [[_ellipsized(piece, width - 2) for part in text.split("\n")
                for piece in textwrap.wrap(part, width - 2, break_on_hyphens=False,
                                           break_long_words=False) or [""]]
               for text, width in zip(fields, cells, strict=True)]
    height = max(len(c) for c in columns)
    return [_cells([c[i] if i < len(c) else "" for c in columns], cells, align)
            for i in range(height)]


def _ellipsized(line: str, width: int) -> str:
    return line if len(line) <= width else line[:width - 1] + "…"


def render_keras2(model: Model) -> str:
    """tf-keras's print_summary: Python reprs of shapes and connections, fixed columns, a
    blank line after every layer, sizes in bytes."""
    chain = sequential_like(model)
    if chain:
        width, positions = 65, [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        width, positions = 98, [0.3, 0.6, 0.70, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    stops = [int(width * p) for p in positions]
    lines = [f'Model: "{model.name}"', "_" * width, *_wrapped_row(header, stops), "=" * width]
    for row in rows(model, include_input_layers=not model.sequential):
        shapes = [tuple(s) for s in row.output_shapes]
        # tf-keras shows an input node's shapes as a list, any other single output bare.
        shown = shapes if len(shapes) > 1 or row.class_name == "InputLayer" else shapes[0]
        fields = [f"{row.name} ({row.class_name})", str(shown), str(row.params)]
        if not chain:
            fields.append(str([f"{r.layer}[{r.node}][{r.index}]" for r in row.inbound]))
        lines += [*_wrapped_row(fields, stops), " " * width]
    trainable, frozen = counts(model)
    lines.append("=" * width)
    for label, count in (("Total", trainable + frozen), ("Trainable", trainable),
                         ("Non-trainable", frozen)):
        lines.append(f"{label} params: {count} ({_memory(4 * count, 'Byte')})")
    lines.append("_" * width)
    return "\n".join(lines)


def _wrapped_row(fields: list[str], stops: list[int]) -> list[str]:
    """tf-keras's print_row: each cell cut to its column, broken early after the first '),',
    '},', '],' or "'," it holds; what is left continues on the next lines."""
    left = list(fields)
    lines = []
    while any(left):
        line = ""
        for col, text in enumerate(left):
            last = col == len(stops) - 1
            space = 0 if last else 2
            cutoff = stops[col] - (stops[col - 1] if col else 0) - space - (0 if last else 1)
            piece = text[:cutoff]
            breaks = [piece.find(m) + len(m) for m in ("),", "},", "],", "',") if m in piece]
            if breaks:
                cutoff = min(breaks)
                piece = piece[:cutoff]
            line += (" " if col == 0 else "") + piece + " " * space
            left[col] = text[cutoff:]
            line += " " * (stops[col] - len(line))
        lines.append(line)
    return lines


def render(model: Model, style: str = "keras3") -> str:
    """The summary in the layout of `style`: 'keras3', 'keras2' (tf-keras) or 'tfjs'."""
    if style == "tfjs":
        return render_tfjs(model)
    if style == "keras2":
        return render_keras2(model)
    return render_keras3(model)
