"""Receptive field, jump and start of every block, by the standard recurrence.

Along each axis, a unit of a block's output sees ``size`` input pixels; neighbouring units are
``jump`` input pixels apart (the effective stride); the first unit's field is centred on input
coordinate ``start`` (pixel centres at 0, 1, 2, ...). A window of kernel k, stride s, padding p
and dilation d gives

    size_out = size_in + (k − 1)·d·jump_in,  jump_out = jump_in·s,
    start_out = start_in + ((k − 1)/2·d − p)·jump_in.

Pooling follows the same rule (ceil_mode changes neither size nor jump); a transposed
convolution, unpooling and upsampling divide the jump (a Fraction) and give the largest field
of their unevenly placed units (windows after them follow the recurrence, which treats those
units as evenly spaced, so the size there is that of an average unit); adaptive pooling takes its
largest window; Flatten, Linear and global pooling see the whole incoming map (``whole``); blocks
that act on each value alone leave the field unchanged; through Add and Concat the largest field
over the paths is kept. Fields are not clipped to the image: a field larger than the image is
reported as it is (the padding it reaches into is part of it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction

from engine.graph import Graph
from engine.inference import InferenceResult
from engine.params import Params, pair


@dataclass(frozen=True)
class Axis:
    """The field along one axis, exactly (size may be fractional after upsampling)."""

    size: Fraction
    jump: Fraction
    start: Fraction


@dataclass(frozen=True)
class Field:
    """The receptive field of one block's output units, along (height, width)."""

    axes: tuple[Axis, Axis]
    whole: bool = False  # every unit sees the whole incoming map (Linear, global pooling)
    note: str = ""
    grid: tuple[int, int] | None = None  # the last image map's H×W (for a Linear after Flatten)

    @property
    def size(self) -> tuple[int, int]:
        """Input pixels seen by one unit along each axis (the largest, where units differ)."""
        return (math.ceil(self.axes[0].size), math.ceil(self.axes[1].size))

    @property
    def jump(self) -> tuple[Fraction, Fraction]:
        return (self.axes[0].jump, self.axes[1].jump)

    @property
    def start(self) -> tuple[Fraction, Fraction]:
        return (self.axes[0].start, self.axes[1].start)

    def span(self, unit: tuple[int, int]) -> tuple[tuple[float, float], tuple[float, float]]:
        """The first and last input coordinate of ``unit``'s field (row, column), unclipped."""
        spans = []
        for axis, index in zip(self.axes, unit, strict=True):
            centre = axis.start + index * axis.jump
            half = (math.ceil(axis.size) - 1) / 2
            spans.append((float(centre - half), float(centre + half)))
        return spans[0], spans[1]

    def as_dict(self) -> dict[str, object]:
        return {
            "receptive_field": list(self.size),
            "jump": [number(j) for j in self.jump],
            "start": [number(s) for s in self.start],
            "whole": self.whole,
        }


def number(value: Fraction) -> int | float:
    """A Fraction for JSON: an int when whole, else a float."""
    return int(value) if value.denominator == 1 else float(value)


def fraction_text(value: Fraction) -> str:
    """1, 1/2, -3/2: how the CLI and the summary write a jump or a start."""
    return str(value)


def _window(axis: Axis, k: int, s: int, p: int, d: int = 1) -> Axis:
    return Axis(
        axis.size + (k - 1) * d * axis.jump,
        axis.jump * s,
        axis.start + (Fraction((k - 1) * d, 2) - p) * axis.jump,
    )


def _transposed_reach(k: int, s: int, d: int) -> int:
    """The most input positions apart that one output unit of a transposed conv reads."""
    widest = 0
    for residue in range(s):  # the output position modulo the stride
        hits = [(residue - t * d) // s for t in range(k) if (residue - t * d) % s == 0]
        if hits:
            widest = max(widest, max(hits) - min(hits))
    return widest


def _upsampled(axis: Axis, s: Fraction, reach: int, offset: Fraction) -> Axis:
    """Jump divided by ``s``; ``reach`` more input units; the first unit at ``offset`` of the
    new jump from the old start."""
    jump = axis.jump / s
    return Axis(axis.size + reach * axis.jump, jump, axis.start + offset * jump)


def _whole_map(axis: Axis, length: int, outputs: int = 1) -> Axis:
    """Adaptive pooling to ``outputs`` units over ``length`` (1: the whole map)."""
    bounds = [(i * length // outputs, -(-(i + 1) * length // outputs)) for i in range(outputs)]
    widest = max(end - begin for begin, end in bounds)
    first = bounds[0][1] - 1
    return Axis(
        axis.size + (widest - 1) * axis.jump,
        axis.jump * Fraction(length, outputs),
        axis.start + Fraction(first, 2) * axis.jump,
    )


Rule = Callable[[Field, Params, tuple[int, ...], tuple[int, ...] | None], Field]


def _per_axis(field: Field, make: Callable[[int, Axis], Axis], **changes: object) -> Field:
    axes = (make(0, field.axes[0]), make(1, field.axes[1]))
    return replace(field, axes=axes, **changes)  # type: ignore[arg-type]


def _conv(field: Field, p: Params, shape: tuple[int, ...], out: tuple[int, ...] | None) -> Field:
    k, s, d = pair(p["kernel_size"]), pair(p["stride"]), pair(p.get("dilation", 1))
    if p.get("padding") == "same":
        pad = tuple(d[i] * (k[i] - 1) // 2 for i in range(2))
    else:
        pad = pair(p.get("padding", 0))
    return _per_axis(field, lambda i, a: _window(a, k[i], s[i], pad[i], d[i]))


def _pool(field: Field, p: Params, shape: tuple[int, ...], out: tuple[int, ...] | None) -> Field:
    k = pair(p["kernel_size"])
    s = pair(p["stride"]) if p.get("stride") is not None else k
    pad, d = pair(p.get("padding", 0)), pair(p.get("dilation", 1))
    return _per_axis(field, lambda i, a: _window(a, k[i], s[i], pad[i], d[i]))


def _transposed(
    field: Field, p: Params, shape: tuple[int, ...], out: tuple[int, ...] | None
) -> Field:
    k, s, d = pair(p["kernel_size"]), pair(p["stride"]), pair(p["dilation"])
    pad = pair(p["padding"])

    def make(i: int, a: Axis) -> Axis:
        offset = pad[i] - Fraction((k[i] - 1) * d[i], 2)
        return _upsampled(a, Fraction(s[i]), _transposed_reach(k[i], s[i], d[i]), offset)

    return _per_axis(field, make)


def _unpool(field: Field, p: Params, shape: tuple[int, ...], out: tuple[int, ...] | None) -> Field:
    k = pair(p["kernel_size"])
    s = pair(p["stride"]) if p.get("stride") is not None else k
    pad = pair(p.get("padding", 0))
    return _per_axis(
        field, lambda i, a: _upsampled(a, Fraction(s[i]), 0, pad[i] - Fraction(k[i] - 1, 2))
    )


def _upsample(
    field: Field, p: Params, shape: tuple[int, ...], out: tuple[int, ...] | None
) -> Field:
    factor = Fraction(str(float(p["scale_factor"])))
    reach = 1 if p["mode"] == "bilinear" else 0
    offset = Fraction(1, 2) - factor / 2  # output pixel 0's centre, in output pixels
    return _per_axis(field, lambda i, a: _upsampled(a, factor, reach, offset))


def _adaptive(
    field: Field, p: Params, shape: tuple[int, ...], out: tuple[int, ...] | None
) -> Field:
    sizes = pair(p["output_size"]) if "output_size" in p else (1, 1)
    whole = sizes == (1, 1)
    note = "adaptive windows differ in size: the largest is given" if not whole else ""
    return _per_axis(
        field,
        lambda i, a: _whole_map(a, shape[1 + i], sizes[i]),
        whole=whole or field.whole,
        note=note or field.note,
    )


def _whole(field: Field, p: Params, shape: tuple[int, ...], out: tuple[int, ...] | None) -> Field:
    """Linear: every output feature sees every input feature, so the whole map they came from."""
    if field.whole:
        return field
    grid = shape[1:] if len(shape) == 3 else field.grid
    if grid is None:
        return field
    return _per_axis(
        field,
        lambda i, a: _whole_map(a, grid[i]),
        whole=True,
        note="every unit sees the whole input",
    )


def _flatten(field: Field, p: Params, shape: tuple[int, ...], out: tuple[int, ...] | None) -> Field:
    """Each feature is one unit of the map: the field is the map's, the layout a vector."""
    return replace(field, note=field.note or "each feature is one unit of the flattened map")


def _softmax(field: Field, p: Params, shape: tuple[int, ...], out: tuple[int, ...] | None) -> Field:
    rank = len(shape) + 1
    dim = p["dim"] % rank
    if len(shape) != 3 or dim < 2:
        return field
    axis = dim - 2
    return _per_axis(field, lambda i, a: _whole_map(a, shape[1 + i]) if i == axis else a)


def _same(field: Field, p: Params, shape: tuple[int, ...], out: tuple[int, ...] | None) -> Field:
    return field


RULES: dict[str, Rule] = {
    "conv2d": _conv,
    "locally_connected2d": _conv,
    "maxpool2d": _pool,
    "avgpool2d": _pool,
    "lppool2d": _pool,
    "conv_transpose2d": _transposed,
    "maxunpool2d": _unpool,
    "upsample": _upsample,
    "adaptive_avgpool2d": _adaptive,
    "adaptive_maxpool2d": _adaptive,
    "global_avgpool": _adaptive,
    "flatten": _flatten,
    "linear": _whole,
    "softmax": _softmax,
    "log_softmax": _softmax,
}
# everything else acts on each value alone, across channels only, or joins paths (Add, Concat)


def _largest(fields: list[Field]) -> Field:
    return max(fields, key=lambda f: (f.axes[0].size * f.axes[1].size, f.whole))


def receptive_fields(graph: Graph, result: InferenceResult) -> dict[str, Field | None]:
    """Each node's field; None where unknown (shapes unknown, or no image input upstream)."""
    fields: dict[str, Field | None] = {}
    for name in result.order:
        fields[name] = node_field(graph, result, name, fields)
    return fields


def node_field(
    graph: Graph, result: InferenceResult, name: str, fields: dict[str, Field | None]
) -> Field | None:
    """The field of node ``name`` from the fields of the nodes feeding it (in ``fields``)."""
    node = graph.node(name)
    found = result.nodes.get(name)
    if found is None or not found.known:
        return None
    if node.type_id == "input":
        shape = found.output
        start = Axis(Fraction(1), Fraction(1), Fraction(0))
        return Field((start, start)) if shape is not None and len(shape) == 3 else None
    edges = graph.in_edges(name)
    if node.type_id == "maxunpool2d":  # the indices only say where values land
        edges = [e for e in edges if e.dst_port == "in"]
    upstream = [fields.get(e.src) for e in edges]
    if not upstream or any(f is None for f in upstream):
        return None
    field = _largest([f for f in upstream if f is not None])
    shape = found.inputs[0]
    if shape is None:
        return None
    if len(shape) == 3:
        field = replace(field, grid=(shape[1], shape[2]))
    rule = RULES.get(node.type_id, _same)
    return rule(field, node.spec.with_defaults(node.params), shape, found.output)


def pair_text(values: tuple[object, object]) -> str:
    """(5, 5) as "5", (5, 3) as "5×3", (Fraction(1, 2), 1) as "1/2×1"."""
    a, b = (str(v) for v in values)
    return a if a == b else f"{a}×{b}"


def size_text(field: Field | None) -> str:
    """A field's size for a table: "5×5", "224×224 (all)" when it sees the whole map, "-"."""
    if field is None:
        return "-"
    h, w = field.size
    return f"{h}×{w}" + (" (all)" if field.whole else "")


def jump_text(field: Field | None) -> str:
    return "-" if field is None else pair_text(field.jump)
