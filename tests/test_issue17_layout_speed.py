"""Issue 17, Scale: laying out a 5,000-block design. The wrapped layout scores each number of
columns from the layers' bounding boxes instead of placing every block for each of the eight
counts it tries, and layers of one block are not sorted; the layouts stay exactly those of the
straightforward algorithm kept here as the reference (every preset, collapsed and expanded,
both directions, and long chains)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

import engine.layout as layout_module
from benchmarks.canvas_5000 import chain_graph
from engine import Graph
from engine.layout import LayoutOptions, default_collapsed, layered_layout
from engine.layout_wrap import COLUMN_GAP, MAX_COLUMNS, WRAP_MIN_ROWS, _columns, cut_rows
from presets import PRESETS

Unit = tuple[str, str]
Point = tuple[float, float]


def reference_wrap(
    rows: Sequence[Sequence[Unit]],
    positions: dict[Unit, Point],
    sizes: dict[Unit, tuple[float, float]],
    groups_of: Callable[[Unit], list[str]],
    aspect: float,
) -> dict[Unit, Point]:
    """The wrap as first written: every column count placed in full, then measured."""
    if len(rows) <= WRAP_MIN_ROWS:
        return positions
    cuts = cut_rows(rows, groups_of)
    if not cuts:
        return positions
    real = [[u for u in row if u in positions] for row in rows]
    tops = [min((positions[u][1] for u in row), default=0.0) for row in real]
    bottoms = [max((positions[u][1] + sizes[u][1] for u in row), default=0.0) for row in real]
    best, best_score = positions, float("inf")
    for count in range(1, min(MAX_COLUMNS, len(cuts) + 1) + 1):
        chosen = _columns(cuts, bottoms, count)
        placed = _reference_arrange(real, positions, sizes, tops, chosen)
        xs = [p[0] for p in placed.values()] + [p[0] + sizes[u][0] for u, p in placed.items()]
        ys = [p[1] for p in placed.values()] + [p[1] + sizes[u][1] for u, p in placed.items()]
        score = max((max(xs) - min(xs)) / aspect, max(ys) - min(ys))
        if score < best_score * 0.97:
            best, best_score = placed, score
    return best


def _reference_arrange(
    rows: list[list[Unit]],
    positions: dict[Unit, Point],
    sizes: dict[Unit, tuple[float, float]],
    tops: list[float],
    cuts: list[int],
) -> dict[Unit, Point]:
    placed: dict[Unit, Point] = {}
    starts = [0, *(c + 1 for c in cuts)]
    ends = [*(c + 1 for c in cuts), len(rows)]
    right = None
    for start, end in zip(starts, ends, strict=True):
        units = [u for row in rows[start:end] for u in row]
        if not units:
            continue
        left = min(positions[u][0] for u in units)
        shift_x = 0.0 if right is None else right + COLUMN_GAP - left
        for u in units:
            x, y = positions[u]
            placed[u] = (round(x + shift_x, 2), round(y - tops[start], 2))
        right = max(placed[u][0] + sizes[u][0] for u in units)
    return placed


def _designs() -> list[tuple[str, Graph, list[str]]]:
    designs = []
    for preset in PRESETS:
        graph = preset.create()
        designs.append((f"{preset.name} collapsed", graph, default_collapsed(graph)))
        designs.append((f"{preset.name} expanded", graph, []))
    for groups in (5, 40, 333):
        designs.append((f"chain of {groups}", chain_graph(groups), []))
    return designs


@pytest.mark.parametrize("direction", ["down", "right"])
def test_the_layouts_equal_the_reference_algorithm(
    direction: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = LayoutOptions(direction=direction)
    for label, graph, collapsed in _designs():
        fast = layered_layout(graph, collapsed, None, options)
        with monkeypatch.context() as patch:
            patch.setattr(layout_module, "wrap", reference_wrap)
            reference = layered_layout(graph, collapsed, None, options)
        assert fast == reference, (label, direction)


def test_a_5000_block_chain_is_wrapped_into_columns() -> None:
    placed = layered_layout(chain_graph(), [], None, LayoutOptions())
    columns = {x for x, _y in placed.values()}
    assert 2 <= len(columns) <= MAX_COLUMNS  # cut into side-by-side columns, tops aligned
    assert min(y for _x, y in placed.values()) == 0.0
