"""Long layouts wrapped into columns, so that a deep network uses a wide screen (pure: no Qt).

A layered layout of a deep network (ResNet-50 expanded: 170 layers) is a thin column many
screens high. When it has more than ``WRAP_MIN_ROWS`` layers it is cut into side-by-side
columns, only between two layers that nothing else passes (one unit in the layer and no wire
skipping it) and that split no group (a ResNet stage, an Inception module stays whole in one
column, and so does its frame). The number of columns is the one whose bounding box best
suits a landscape screen (``ASPECT``); the wire from one column's bottom to the next
column's top is drawn up the gap between them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Unit = tuple[str, str]
Point = tuple[float, float]

WRAP_MIN_ROWS = 16  # LeNet-5 (14 layers) stays one column
MAX_COLUMNS = 8
ASPECT = 1.6  # width / height of the screen the columns are shaped for
COLUMN_GAP = 120.0  # room between columns for the wire going up and the shape labels


def cut_rows(rows: Sequence[Sequence[Unit]], groups_of: Callable[[Unit], list[str]]) -> list[int]:
    """The layers after which the layout may be cut: a single unit (no waypoint beside it)
    and no group with units both above and below the cut."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for index, row in enumerate(rows):
        for unit in row:
            if unit[0] == "waypoint":
                continue
            for group in groups_of(unit):
                first.setdefault(group, index)
                last[group] = index
    spanning = [0] * (len(rows) + 1)  # how many groups a cut after each row would split
    for group, start in first.items():
        spanning[start] += 1
        spanning[last[group]] -= 1
    cuts, open_groups = [], 0
    for index in range(len(rows) - 1):
        open_groups += spanning[index]
        if open_groups == 0 and len(rows[index]) == 1 and rows[index][0][0] != "waypoint":
            cuts.append(index)
    return cuts


def _columns(cuts: list[int], bottoms: list[float], count: int) -> list[int]:
    """``count - 1`` cuts nearest to equal heights (fewer when cuts are scarce)."""
    total = bottoms[-1]
    chosen: list[int] = []
    for j in range(1, count):
        target = total * j / count
        later = [c for c in cuts if not chosen or c > chosen[-1]]
        if not later:
            break
        best = min(later, key=lambda c: abs(bottoms[c] - target))
        if best not in chosen:
            chosen.append(best)
    return chosen


def wrap(
    rows: Sequence[Sequence[Unit]],
    positions: dict[Unit, Point],
    sizes: dict[Unit, tuple[float, float]],
    groups_of: Callable[[Unit], list[str]],
    aspect: float = ASPECT,
) -> dict[Unit, Point]:
    """``positions`` of a top-to-bottom layered layout (``rows`` of units, top first) cut
    into columns when it is long; unchanged when it is short or cannot be cut."""
    if len(rows) <= WRAP_MIN_ROWS:
        return positions
    cuts = cut_rows(rows, groups_of)
    if not cuts:
        return positions
    real = [[u for u in row if u in positions] for row in rows]
    tops = [min((positions[u][1] for u in row), default=0.0) for row in real]
    bottoms = [max((positions[u][1] + sizes[u][1] for u in row), default=0.0) for row in real]
    extents = _row_extents(real, positions, sizes)
    best, best_score = None, float("inf")
    for count in range(1, min(MAX_COLUMNS, len(cuts) + 1) + 1):
        chosen = _columns(cuts, bottoms, count)
        width, height = _size(extents, tops, chosen)
        score = max(width / aspect, height)  # the height of the screen it needs
        if score < best_score * 0.97:  # fewer columns unless clearly better
            best, best_score = chosen, score
    if best is None:
        return positions
    return _arrange(real, positions, sizes, tops, bottoms, best)


Extent = tuple[float, float, float, float]  # left, right, top, bottom of a layer's units


def _row_extents(
    rows: list[list[Unit]], positions: dict[Unit, Point], sizes: dict[Unit, tuple[float, float]]
) -> list[Extent | None]:
    """Each layer's bounding box (None for a layer of waypoints only)."""
    extents: list[Extent | None] = []
    for row in rows:
        if not row:
            extents.append(None)
            continue
        xs = [positions[u][0] for u in row]
        ys = [positions[u][1] for u in row]
        rights = [positions[u][0] + sizes[u][0] for u in row]
        bottoms = [positions[u][1] + sizes[u][1] for u in row]
        extents.append((min(xs), max(rights), min(ys), max(bottoms)))
    return extents


def _size(extents: list[Extent | None], tops: list[float], cuts: list[int]) -> tuple[float, float]:
    """The width and height ``_arrange`` gives with ``cuts``, from the layers' boxes alone
    (without placing every unit: a 5,000-block chain tries eight column counts)."""
    starts = [0, *(c + 1 for c in cuts)]
    ends = [*(c + 1 for c in cuts), len(extents)]
    width, columns = 0.0, 0
    low, high = float("inf"), -float("inf")
    for start, end in zip(starts, ends, strict=True):
        boxes = [e for e in extents[start:end] if e is not None]
        if not boxes:
            continue
        width += max(b[1] for b in boxes) - min(b[0] for b in boxes)
        columns += 1
        low = min(low, min(b[2] for b in boxes) - tops[start])
        high = max(high, max(b[3] for b in boxes) - tops[start])
    return width + COLUMN_GAP * (columns - 1), high - low


def _arrange(
    rows: list[list[Unit]],
    positions: dict[Unit, Point],
    sizes: dict[Unit, tuple[float, float]],
    tops: list[float],
    bottoms: list[float],
    cuts: list[int],
) -> dict[Unit, Point]:
    """Each run of rows between cuts as a column, left to right, tops aligned."""
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
        shift_y = -tops[start]
        for u in units:
            x, y = positions[u]
            placed[u] = (round(x + shift_x, 2), round(y + shift_y, 2))
        right = max(placed[u][0] + sizes[u][0] for u in units)
    return placed
