"""What a step-through returns: one plain record per step and the whole result.

Coordinates are ``[channel, row, col]`` lists. For window operations (convolution, pooling) a
step's cells are in the padded input grid (``StepThrough.padded_input``; the real input starts
at ``StepThrough.pad``). For scatter operations (transposed convolution, unpooling) a step reads
one input cell and writes output cells.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from engine.errors import ParameterError

# The lecture's own example (section "Convolution Layer"): a 5×5 binary image, a 3×3 kernel,
# stride 1, no padding; the convolved feature is 3×3 (torch's F.conv2d: correlation, no flip).
LECTURE_IMAGE: tuple[tuple[int, ...], ...] = (
    (1, 1, 1, 0, 0),
    (0, 1, 1, 1, 0),
    (0, 0, 1, 1, 1),
    (0, 0, 1, 1, 0),
    (0, 1, 1, 0, 0),
)
LECTURE_KERNEL: tuple[tuple[int, ...], ...] = ((1, 0, 1), (0, 1, 0), (1, 0, 1))
LECTURE_FEATURE: tuple[tuple[int, ...], ...] = ((4, 3, 4), (2, 4, 3), (2, 3, 4))

# Without a window, a step-through shows at most this many steps and says so.
MAX_STEPS = 2500

# ``window``: None (all steps, at most MAX_STEPS), an int N (the first N steps) or a crop
# (row0, row1, col0, col1), half-open, of the stepped positions (output positions for window
# operations, input positions for scatter operations).
Window = int | tuple[int, int, int, int] | None


@dataclass
class WindowStep:
    """One output cell of a convolution or pooling: the window read and the value written."""

    index: int
    output: list[int]  # [channel, row, col] of the output cell
    cells: list[list[int]]  # [channel, row, col] in the padded grid, with dilation
    values: list[float]  # the input values in those cells (padding included)
    kernel: list[float] = field(default_factory=list)  # convolution: the weights used
    products: list[float] = field(default_factory=list)  # convolution: value × weight
    bias: float | None = None
    reduction: str = "sum"  # "sum" (conv), "max", "mean", "lp"
    chosen: int | None = None  # max pooling: which cell holds the maximum
    divisor: float | None = None  # average / LP pooling: what the sum is divided by
    clipped: int = 0  # window cells beyond the padded grid (ceil_mode), not read
    written: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScatterStep:
    """One input cell of a transposed convolution or unpooling and the output cells it writes.

    ``targets`` are in the uncropped output grid (transposed convolution: before the padding is
    cropped); ``inside`` says which of them lie in the final output. ``written`` is each target's
    value after this step (a running total for transposed convolution).
    """

    index: int
    source: list[int]  # [channel, row, col] of the input cell
    value: float
    targets: list[list[int]]
    kernel: list[float] = field(default_factory=list)
    added: list[float] = field(default_factory=list)
    inside: list[bool] = field(default_factory=list)
    written: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StepThrough:
    """A whole step-through: the grid it walks, the steps shown and the final output."""

    operation: str
    params: dict[str, Any]
    padded_input: list[Any]  # (C, H + 2p, W + 2p) nested lists
    pad: list[int]  # [top, left] offset of the real input in padded_input
    steps: list[WindowStep] | list[ScatterStep]
    output: list[Any]  # (C_out, H_out, W_out) nested lists, exactly torch's
    total_steps: int  # steps the whole operation has (for the chosen channel)
    note: str | None = None  # set when only part of the steps is shown, or a caveat
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. max pooling's indices

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "params": dict(self.params),
            "padded_input": self.padded_input,
            "pad": list(self.pad),
            "steps": [s.to_dict() for s in self.steps],
            "output": self.output,
            "total_steps": self.total_steps,
            "note": self.note,
            "extra": dict(self.extra),
        }


def pair(value: int | tuple[int, int] | list[int], name: str, minimum: int) -> tuple[int, int]:
    """An int or a pair as a pair, each at least ``minimum``; a ParameterError otherwise."""
    pr = (value, value) if isinstance(value, int) else tuple(value)
    if len(pr) != 2 or not all(isinstance(v, (int, np.integer)) for v in pr):
        raise ParameterError(
            f"step-through: {name} must be an int or a pair of ints. Received: {name}={value!r}. "
            f"Give e.g. {name}=1 or {name}=(1, 1)."
        )
    if min(pr) < minimum:
        raise ParameterError(
            f"step-through: {name} must be at least {minimum}. Received: {name}={value!r}. "
            f"Use {name}>={minimum}."
        )
    return int(pr[0]), int(pr[1])


def as_chw(x: Any, name: str = "input") -> np.ndarray:
    """A (H, W) or (C, H, W) array as float64 (C, H, W); a ParameterError otherwise."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise ParameterError(
            f"step-through: the {name} must be a non-empty (H, W) or (C, H, W) array. "
            f"Received: shape={tuple(arr.shape)}. Pass one sample, one channel or all."
        )
    return arr


def select_positions(
    rows: int, cols: int, window: Window, what: str
) -> tuple[list[tuple[int, int]], str | None]:
    """The (row, col) positions to step through, row-major, and a note when limited."""
    total = rows * cols
    if window is None:
        if total <= MAX_STEPS:
            return [(r, c) for r in range(rows) for c in range(cols)], None
        window = MAX_STEPS
        prefix = f"{total} {what} positions are too many to step through one by one: "
    else:
        prefix = ""
    if isinstance(window, (int, np.integer)) and not isinstance(window, bool):
        n = max(0, min(int(window), total))
        chosen = [(i // cols, i % cols) for i in range(n)]
        if n == total:
            return chosen, None
        return chosen, f"{prefix}showing the first {n} of {total} {what} positions."
    if isinstance(window, tuple) and len(window) == 4:
        r0, r1, c0, c1 = (int(v) for v in window)
        r0, r1 = max(0, r0), min(rows, r1)
        c0, c1 = max(0, c0), min(cols, c1)
        chosen = [(r, c) for r in range(r0, r1) for c in range(c0, c1)]
        if len(chosen) == total:
            return chosen, None
        return chosen, (
            f"showing {what} rows {r0}..{r1 - 1}, columns {c0}..{c1 - 1} "
            f"({len(chosen)} of {total} positions)."
        )
    raise ParameterError(
        f"step-through: window must be None, a number of steps or (row0, row1, col0, col1). "
        f"Received: window={window!r}. Give e.g. window=100 or window=(0, 4, 0, 4)."
    )


def nested(arr: np.ndarray) -> list[Any]:
    """A numpy array as nested Python lists of floats."""
    return np.asarray(arr, dtype=np.float64).tolist()  # type: ignore[no-any-return]
