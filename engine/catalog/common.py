"""Shared pieces of block rules: per-axis sizes, labels and messages."""

from __future__ import annotations

from collections.abc import Callable

from engine.catalog.spec import RuleContext, Shape, fmt_shape
from engine.catalog.window_fixes import AxisRule, Window, window_fixes
from engine.params import pair
from engine.shapes import dropped_by_stride


def axis_text(values: tuple[int, int], sep: str = "×") -> str:
    """(3, 3) as "3", (3, 5) as "3×5"."""
    return str(values[0]) if values[0] == values[1] else f"{values[0]}{sep}{values[1]}"


def window_label(params: dict, channels: int | None = None) -> str:
    """The canvas label of a windowed block: "3×3 /2 p1, 64"."""
    kernel = pair(params["kernel_size"])
    stride = params.get("stride")
    text = f"{kernel[0]}×{kernel[1]}"
    if stride is not None and pair(stride) != (1, 1):
        text += f" /{axis_text(pair(stride))}"
    padding = params.get("padding", 0)
    if padding == "same":
        text += " same"
    elif padding and pair(padding) != (0, 0):
        text += f" p{axis_text(pair(padding))}"
    if channels is not None:
        text += f", {channels}"
    return text


def check_output_size(
    ctx: RuleContext,
    out: tuple[int, int],
    hw: tuple[int, int],
    kernel: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    axis_output: AxisRule,
    can_pad: bool = True,
    max_padding: Callable[[int], int] | None = None,
    default_kernel: int = 3,
) -> None:
    """Fail with the lecture's wording when a window does not fit its input.

    ``axis_output(axis, kernel, padding)`` is the block's own size rule along one axis;
    ``can_pad`` says whether the block has a padding, and ``max_padding(kernel)`` the most it
    takes (None: any). The quick fixes are those of ``engine.catalog.window_fixes``: padding
    that keeps the size where there is one, then kernels that fit (inference offers the one
    that leaves the rest of the network cleanest).
    """
    if out[0] > 0 and out[1] > 0:
        return
    effective = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    kernel_text = axis_text(kernel)
    if effective != kernel:
        kernel_text += f" (dilated to {axis_text(effective)})"  # type: ignore[arg-type]
    message = (
        f"kernel {kernel_text} is larger than its {hw[0]}×{hw[1]} input "
        f"(padding {axis_text(padding)}): the output would be {out[0]}×{out[1]}. "
        "Use a smaller kernel, add padding, or remove a pooling layer before it"
    )

    def allowed(k: int) -> int:  # the most padding a kernel of k takes
        if not can_pad:
            return 0
        return max_padding(k) if max_padding is not None else k * max(dilation)

    window = Window(hw, kernel, padding, dilation, axis_output, allowed, default_kernel)
    fixes = window_fixes(ctx.node, window)
    ctx.fail(message, fixes[0] if fixes else None, "output_size", tuple(fixes[1:]))


def warn_uneven_stride(
    ctx: RuleContext,
    hw: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> None:
    """Warn which rows or columns a stride leaves out of every window (floor mode).

    Along an axis whose windows are narrower than the stride (a 1×1 convolution with stride 2,
    as in ResNet's downsampling), rows between windows are skipped by design; a row left at the
    edge is part of that subsampling, so no warning is given for it.
    """

    def dropped(axis: int) -> int:
        if dilation[axis] * (kernel[axis] - 1) + 1 < stride[axis]:
            return 0
        return dropped_by_stride(
            hw[axis], kernel[axis], stride[axis], padding[axis], dilation[axis]
        )

    rows, cols = dropped(0), dropped(1)
    if not rows and not cols:
        return
    parts = [
        f"the last {what}" if count == 1 else f"the last {count} {what}s"
        for count, what in ((rows, "row"), (cols, "column"))
        if count
    ]
    plural = len(parts) > 1 or max(rows, cols) > 1
    ctx.warn(
        f"stride {axis_text(stride)} does not divide the {hw[0]}×{hw[1]} input evenly "
        f"(kernel {axis_text(kernel)}, padding {axis_text(padding)}): {' and '.join(parts)} "
        + (
            "are never used. Change the padding or the input size if they matter"
            if plural
            else "is never used. Change the padding or the input size if it matters"
        )
    )


def same_rank(shapes: list[Shape]) -> bool:
    """Whether all shapes have the same number of axes."""
    return len({len(s) for s in shapes}) == 1


def shapes_text(shapes: list[Shape]) -> str:
    """Several shapes, written for a message: 64×56×56, 128×28×28."""
    return ", ".join(fmt_shape(s) for s in shapes)
