"""The exact receptive field of one clicked unit: the input pixels it can depend on.

``receptive_field`` gives a block's field by the standard recurrence (size, jump, start), which
boxes unit i at ``start + i·jump``. After MaxUnpool2d, Upsample and ConvTranspose2d the units are
unevenly placed, so that box can be a cell off. ``unit_field`` walks back from one unit through
the graph instead, keeping per node and per axis the exact set of positions needed:

- a window (Conv2d, LocallyConnected2d, pooling): outputs q read inputs q·s − p + t·d, t < k;
  positions outside the input are padding (``padded``);
- ConvTranspose2d: output q gathers input p where p·s − p_pad + t·d = q;
- MaxUnpool2d: output q may receive input p whenever p's pooling window holds q (the index may
  point to any position of it), so every such p;
- Upsample: the source positions torch reads with a non-zero weight (nearest; bilinear with
  align_corners=False), computed in float32 as torch's CPU kernels do (the bilinear source index
  is a fused multiply-add, so a weight that is zero in exact arithmetic may be 1e-8 there);
- adaptive pooling: its window; Flatten, Linear, global pooling and anything else that leaves
  the map: the whole incoming map (``whole``); Softmax over H or W: that whole axis (nothing
  when the axis holds one value: the output is then a constant);
- every other block acts on each position alone; Add and Concat pass the region to every input.

Regions from several paths are merged per axis (the union of the rows, the union of the
columns), so the box is the bounding box of the union over paths. Torch-free and Qt-free.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from engine.errors import ParameterError
from engine.graph import Graph
from engine.inference import InferenceResult
from engine.params import Params, pair

Positions = frozenset[int]
Region = tuple[Positions, Positions] | None  # rows, columns; None: every feature of a vector


@dataclass(frozen=True)
class UnitBox:
    """Rows and columns of the input image that one unit can depend on (None: none at all,
    the unit only reads padding)."""

    rows: tuple[int, int] | None
    cols: tuple[int, int] | None
    padded: bool = False  # some window on the way reached into padding: the box is cut there
    whole: bool = False  # the unit sees a whole map (Flatten, Linear, global pooling)

    @property
    def box(self) -> tuple[int, int, int, int] | None:
        """(first row, first column, last row, last column), or None."""
        if self.rows is None or self.cols is None:
            return None
        return (self.rows[0], self.cols[0], self.rows[1], self.cols[1])

    @property
    def size(self) -> tuple[int, int]:
        """Rows × columns of the box (0 × 0 when the unit sees no pixel)."""
        box = self.box
        return (0, 0) if box is None else (box[2] - box[0] + 1, box[3] - box[1] + 1)


@dataclass
class _Walk:
    padded: bool = False
    whole: bool = False


def _window_back(
    outs: Iterable[int], n: int, k: int, s: int, p: int, d: int
) -> tuple[Positions, bool]:
    """Inputs read by window outputs ``outs`` (inside the map of ``n``), and whether padding is."""
    reads = {q * s - p + t * d for q in outs for t in range(k)}
    kept = frozenset(i for i in reads if 0 <= i < n)
    return kept, len(kept) < len(reads)


def _transposed_back(outs: Iterable[int], n: int, k: int, s: int, p: int, d: int) -> Positions:
    found: set[int] = set()
    for q in outs:
        for t in range(k):
            top = q + p - t * d
            if top % s == 0 and 0 <= top // s < n:
                found.add(top // s)
    return frozenset(found)


def _unpool_back(outs: Iterable[int], n: int, k: int, s: int, p: int) -> Positions:
    """Inputs whose pooling window [i·s − p, i·s − p + k − 1] holds one of ``outs``."""
    found: set[int] = set()
    for q in outs:
        low, high = -(-(q + p - k + 1) // s), (q + p) // s
        found.update(range(max(0, low), min(n - 1, high) + 1))
    return frozenset(found)


def _float32(value: Fraction) -> Fraction:
    """``value`` rounded to the nearest float32 (ties to even), exactly."""
    if value == 0:
        return value
    size = abs(value)
    exponent = size.numerator.bit_length() - size.denominator.bit_length()
    if Fraction(2) ** exponent > size:
        exponent -= 1
    if Fraction(2) ** (exponent + 1) <= size:
        exponent += 1
    unit = Fraction(2) ** (max(exponent, -126) - 23)
    steps = size / unit
    whole = math.floor(steps)
    rest = steps - whole
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and whole % 2):
        whole += 1
    return (1 if value > 0 else -1) * whole * unit


def _upsample_back(outs: Iterable[int], n: int, factor: float, bilinear: bool) -> Positions:
    """Input positions torch reads with a non-zero weight for outputs ``outs``."""
    count = math.floor(n * factor)
    scale = _float32(Fraction(1.0 / factor))  # torch: (float)(1.0 / scale_factor)
    found: set[int] = set()
    for q in outs:
        if count == n:
            found.add(q)
        elif not bilinear:
            found.add(q >> 1 if count == 2 * n else min(math.floor(_float32(q * scale)), n - 1))
        else:
            real = max(_float32(scale * (q + Fraction(1, 2)) - Fraction(1, 2)), Fraction(0))
            first = min(math.floor(real), n - 1)
            weight = min(max(real - first, Fraction(0)), Fraction(1))
            if weight != 1:
                found.add(first)
            if weight != 0:
                found.add(first + (1 if first < n - 1 else 0))
    return frozenset(found)


def _adaptive_back(outs: Iterable[int], n: int, count: int) -> Positions:
    found: set[int] = set()
    for i in outs:
        found.update(range(i * n // count, -(-(i + 1) * n // count)))
    return frozenset(found)


def _conv_padding(p: Params, k: tuple[int, int], d: tuple[int, int]) -> tuple[int, int]:
    if p.get("padding") == "same":  # torch puts the smaller half first
        return (d[0] * (k[0] - 1) // 2, d[1] * (k[1] - 1) // 2)
    if p.get("padding") == "valid":
        return (0, 0)
    return pair(p.get("padding", 0))


def _back(
    type_id: str,
    p: Params,
    region: tuple[Positions, Positions],
    shape: tuple[int, ...],
    walk: _Walk,
) -> tuple[Positions, Positions]:
    """The region of the input (of ``shape``, C×H×W) that output ``region`` reads."""
    rows, cols = region
    n = (shape[1], shape[2])
    if type_id in {"conv2d", "locally_connected2d", "maxpool2d", "avgpool2d", "lppool2d"}:
        k = pair(p["kernel_size"])
        s = pair(p["stride"]) if p.get("stride") is not None else k
        d = pair(p.get("dilation", 1))
        pad = _conv_padding(p, k, d)
        (r, r_pad), (c, c_pad) = (
            _window_back(axis, n[i], k[i], s[i], pad[i], d[i]) for i, axis in enumerate(region)
        )
        walk.padded = walk.padded or r_pad or c_pad
        return r, c
    if type_id == "conv_transpose2d":
        k, s, d, pad = (pair(p[key]) for key in ("kernel_size", "stride", "dilation", "padding"))
        return (
            _transposed_back(rows, n[0], k[0], s[0], pad[0], d[0]),
            _transposed_back(cols, n[1], k[1], s[1], pad[1], d[1]),
        )
    if type_id == "maxunpool2d":
        k = pair(p["kernel_size"])
        s = pair(p["stride"]) if p.get("stride") is not None else k
        pad = pair(p.get("padding", 0))
        return (
            _unpool_back(rows, n[0], k[0], s[0], pad[0]),
            _unpool_back(cols, n[1], k[1], s[1], pad[1]),
        )
    if type_id == "upsample":
        bilinear = p["mode"] == "bilinear"
        factor = float(p["scale_factor"])
        return (
            _upsample_back(rows, n[0], factor, bilinear),
            _upsample_back(cols, n[1], factor, bilinear),
        )
    if type_id in {"adaptive_avgpool2d", "adaptive_maxpool2d"}:
        size = pair(p["output_size"])
        walk.whole = walk.whole or size == (1, 1)
        return _adaptive_back(rows, n[0], size[0]), _adaptive_back(cols, n[1], size[1])
    if type_id in {"softmax", "log_softmax"} and p["dim"] % 4 in (2, 3):
        walk.whole = True
        length = n[p["dim"] % 4 - 2]  # over one value softmax is 1 (log: 0): it reads nothing
        full = frozenset(range(length)) if length > 1 else frozenset()
        return (full, cols) if p["dim"] % 4 == 2 else (rows, full)
    return rows, cols


def _check_unit(node: str, shape: tuple[int, ...], unit: tuple[int, int]) -> None:
    if len(shape) == 3 and not (0 <= unit[0] < shape[1] and 0 <= unit[1] < shape[2]):
        raise ParameterError(
            f"{node}: the unit must lie inside the {shape[1]}×{shape[2]} output map. Received: "
            f"unit={tuple(unit)}. Use rows 0–{shape[1] - 1} and columns 0–{shape[2] - 1}"
        )


def _merge(regions: dict[str, Region], name: str, region: Region) -> None:
    if region is not None and not (region[0] and region[1]):
        return  # this path reads only padding: it brings no pixel
    if name not in regions:
        regions[name] = region
        return
    old = regions[name]
    if old is None or region is None:
        regions[name] = None
    else:
        regions[name] = (old[0] | region[0], old[1] | region[1])


def _is_image(graph: Graph, result: InferenceResult, name: str) -> bool:
    found = result.nodes.get(name)
    shape = found.output if found is not None else None
    return graph.node(name).type_id == "input" and shape is not None and len(shape) == 3


def unit_field(
    graph: Graph, result: InferenceResult, node: str, unit: tuple[int, int]
) -> UnitBox | None:
    """The input pixels unit ``unit`` (row, column) of ``node``'s output can depend on, as a box
    clipped to the image; None when unknown (shapes unknown, or no image input upstream). For
    a node whose output is a vector, ``unit`` is ignored: every feature is taken."""
    graph.node(node)  # an unknown name raises, naming the known ones
    found = result.nodes.get(node)
    shape = found.output if found is not None else None
    if shape is None or node not in result.order:
        return None
    _check_unit(node, shape, unit)
    walk = _Walk(whole=len(shape) != 3)
    regions: dict[str, Region] = {}
    _merge(
        regions, node, ((frozenset({unit[0]}), frozenset({unit[1]}))) if len(shape) == 3 else None
    )
    rows: set[int] = set()
    cols: set[int] = set()
    for name in reversed(result.order[: result.order.index(node) + 1]):
        if name not in regions:
            continue
        region, current = regions[name], graph.node(name)
        if result.nodes[name].output is None:
            return None
        if current.type_id == "input":
            image = result.nodes[name].output
            if image is None or len(image) != 3:
                continue
            full = (frozenset(range(image[1])), frozenset(range(image[2])))
            r, c = full if region is None else region
            rows.update(r)
            cols.update(c)
            continue
        edges = graph.in_edges(name)
        if current.type_id == "maxunpool2d":  # the indices only say where values land
            edges = [e for e in edges if e.dst_port == "in"]
        params = current.spec.with_defaults(current.params)
        for edge in edges:
            incoming = result.edge_shape(edge)
            if incoming is None:
                return None
            if len(incoming) != 3:
                _merge(regions, edge.src, None)
            elif region is None or len(result.nodes[name].output or ()) != 3:
                walk.whole = True
                _merge(
                    regions,
                    edge.src,
                    (frozenset(range(incoming[1])), frozenset(range(incoming[2]))),
                )
            elif current.bypassed:
                _merge(regions, edge.src, region)
            else:
                _merge(regions, edge.src, _back(current.type_id, params, region, incoming, walk))
    if not any(_is_image(graph, result, name) for name in graph.upstream(node) | {node}):
        return None
    if not rows or not cols:
        return UnitBox(None, None, walk.padded, walk.whole)
    return UnitBox((min(rows), max(rows)), (min(cols), max(cols)), walk.padded, walk.whole)
