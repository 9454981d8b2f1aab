"""Quick fixes for a window (kernel) larger than its input: the repairs a person would try.

First, padding that keeps the input's size, where one does (stride 1 and an odd window: the
"same" convolution); then kernels that fit: the block's usual one, the usual odd sizes from 3 up,
the largest that fits, then 2 and 1. Every candidate leaves the node valid; inference tries them on the whole network
and offers the one that leaves it cleanest (``engine.inference``), so a kernel of 30 on a 28×28
LeNet input becomes the one the layers after it work with, not one giving a new warning there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.diagnostics import Fix, FixAction

# The output length along one axis (0 for height, 1 for width) for a kernel and a padding there
AxisRule = Callable[[int, int, int], int]

MAX_FIXES = 8  # candidates per diagnostic (each costs inference one trial of the network)
_TRIED_KERNELS = (3, 5, 7, 9, 11)  # the usual odd kernels, smallest first


@dataclass(frozen=True)
class Window:
    """A window that does not fit: sizes per axis (height, width) and the block's own rules."""

    hw: tuple[int, int]
    kernel: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    axis_output: AxisRule  # output length along an axis for (axis, kernel, padding)
    max_padding: Callable[[int], int]  # the most padding the block takes with a kernel
    default_kernel: int

    def fits(self, axis: int, kernel: int, padding: int) -> bool:
        return padding <= self.max_padding(kernel) and self.axis_output(axis, kernel, padding) > 0


def _text(values: tuple[int, int]) -> str:
    return str(values[0]) if values[0] == values[1] else f"{values[0]}×{values[1]}"


def _one_or_pair(values: tuple[int, int]) -> int | list[int]:
    return values[0] if values[0] == values[1] else list(values)


def window_fixes(node: str, window: Window) -> list[Fix]:
    """The candidate fixes for ``window`` of ``node``, in the order a person would try them."""
    fixes = []
    keeping = _keeping_padding(node, window)
    if keeping is not None:
        fixes.append(keeping)
    fixes += _fitting_kernels(node, window)
    return fixes[:MAX_FIXES]


def _keeping_padding(node: str, w: Window) -> Fix | None:
    """Offer "set padding p": only where that padding keeps the input's size on both axes."""
    keep = (w.dilation[0] * (w.kernel[0] - 1) // 2, w.dilation[1] * (w.kernel[1] - 1) // 2)
    for axis in (0, 1):
        if keep[axis] > w.max_padding(w.kernel[axis]):
            return None
        if w.axis_output(axis, w.kernel[axis], keep[axis]) != w.hw[axis]:
            return None
    return Fix(
        f"set padding {_text(keep)} to keep the {w.hw[0]}×{w.hw[1]} size",
        FixAction.SET_PARAMS,
        node,
        {"padding": _one_or_pair(keep)},
    )


def _largest_fitting(w: Window, axis: int, padding: int) -> int | None:
    """The largest kernel below the current one that fits along ``axis``.

    It is (size + 2 padding - 1) // dilation + 1 for a convolution, or one more in ceil mode: a
    few candidates from just above that find it without counting down from a huge kernel."""
    top = min(w.kernel[axis] - 1, (w.hw[axis] + 2 * padding - 1) // w.dilation[axis] + 2)
    return next((k for k in range(top, max(top - 4, 0), -1) if w.fits(axis, k, padding)), None)


def _fitting_kernels(node: str, w: Window) -> list[Fix]:
    """Offer "set kernel_size k" for each tried k that fits every axis the current kernel does not
    (with padding 0 when the current padding is what stops every smaller kernel)."""
    fixes: list[Fix] = []
    for padding in dict.fromkeys([w.padding, (0, 0)]):
        tried: list[int] = [w.default_kernel, *_TRIED_KERNELS]
        for axis in (0, 1):
            largest = _largest_fitting(w, axis, padding[axis])
            if largest is not None:
                tried.append(largest)
        tried += [2, 1]
        seen: set[tuple[int, int]] = set()
        for k in tried:
            chosen = []
            for axis in (0, 1):
                if w.fits(axis, w.kernel[axis], padding[axis]):
                    chosen.append(w.kernel[axis])
                elif k < w.kernel[axis] and w.fits(axis, k, padding[axis]):
                    chosen.append(k)
            if len(chosen) < 2 or (chosen[0], chosen[1]) in seen:
                continue
            kernel = (chosen[0], chosen[1])
            seen.add(kernel)
            fixes.append(_kernel_fix(node, w, kernel, padding))
        if fixes:
            return fixes
    return fixes


def _kernel_fix(node: str, w: Window, kernel: tuple[int, int], padding: tuple[int, int]) -> Fix:
    params: dict[str, int | list[int]] = {"kernel_size": _one_or_pair(kernel)}
    usual = " (the usual size)" if w.default_kernel in kernel else ""
    label = f"set kernel_size {_text(kernel)}{usual}, which fits the {w.hw[0]}×{w.hw[1]} input"
    if padding != w.padding:
        params["padding"] = 0
        label += ", and padding 0"
    return Fix(label, FixAction.SET_PARAMS, node, params)
