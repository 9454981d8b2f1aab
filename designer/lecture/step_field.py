"""Receptive fields for the step-through (issue 18, point 3), without Qt.

Clicking an output cell of the step-through shows two things: the window that cell reads in
the block's (padded) input drawn here, and the cell's receptive field on the network's input
image, from ``engine.analysis.receptive_field`` (size, jump, start by the standard recurrence)
for the design's own block, boxed exactly by ``engine.analysis.unit_field`` (the recurrence's
``start + i·jump`` is a cell off after unpooling, upsampling and transposed convolutions). Output cell (i, j) of a window cut from the real map at ``offset``
(a multiple of the stride) is unit (offset/stride + i, offset/stride + j) of the whole map.
"""

from __future__ import annotations

import math
from typing import Any

from designer.lecture.step_model import StepModel
from engine import DesignerError
from engine.analysis.receptive_field import Field
from engine.analysis.unit_field import UnitBox, unit_field


def window_cells(model: StepModel, row: int, col: int) -> set[tuple[int, int]]:
    """The padded-input cells output cell (row, col) reads (empty for scatter operations)."""
    if model.scatter or model.result is None:
        return set()
    (kh, kw), (sh, sw), (dh, dw) = model.kernel_size, model.stride, model.dilation
    return {(row * sh + i * dh, col * sw + j * dw) for i in range(kh) for j in range(kw)}


def network_unit(model: StepModel, row: int, col: int) -> tuple[int, int]:
    """The unit of the block's whole output map that output cell (row, col) shows (an
    unpooling's output has the size of the map it was given: the same offset)."""
    if model.type_id == "maxunpool2d":
        return (model.offset[0] + row, model.offset[1] + col)
    return (
        model.offset[0] // max(1, model.stride[0]) + row,
        model.offset[1] // max(1, model.stride[1]) + col,
    )


def field_box(
    field: Field, unit: tuple[int, int], size: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """Rows r0..r1 and columns c0..c1 of the input image in ``unit``'s field, clipped to the
    image of ``size`` (None when the field lies wholly in the padding)."""
    (top, bottom), (left, right) = field.span(unit)
    if field.whole:
        return (0, 0, size[0] - 1, size[1] - 1)
    r0, r1 = max(0, math.ceil(top)), min(size[0] - 1, math.floor(bottom))
    c0, c1 = max(0, math.ceil(left)), min(size[1] - 1, math.floor(right))
    if r0 > r1 or c0 > c1:
        return None
    return (r0, c0, r1, c1)


def unit_box(
    document: Any, node: str, field: Field, unit: tuple[int, int], size: tuple[int, int]
) -> tuple[tuple[int, int, int, int] | None, UnitBox | None]:
    """The exact box of ``unit``'s field on the input image (``unit_field``) and what it found;
    the recurrence's box (``field_box``) where the exact one is unknown (a unit outside the
    design's map, as on the lecture's own example)."""
    try:
        exact = unit_field(document.graph, document.result, node, unit)
    except (DesignerError, KeyError, ValueError, ZeroDivisionError):
        exact = None
    if exact is None:
        return field_box(field, unit, size), None
    return exact.box, exact


def padding_words(exact: UnitBox | None) -> str:
    """A sentence for a field cut at the image's edge, else nothing."""
    if exact is None or not exact.padded:
        return ""
    return " Its windows reach into the padding: the box stops at the image's edge."


def unit_size(field: Field, exact: UnitBox | None) -> tuple[int, int]:
    """The size of this unit's field: its exact box where no window reached into padding, else
    the recurrence's (the box is then cut at the image's edge)."""
    if exact is None or exact.padded or exact.box is None:
        return field.size
    return exact.size
