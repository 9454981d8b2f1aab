"""The arithmetic behind a convolution's or pooling layer's output size, as the inspector shows it.

``size_lines("conv2d", params, (64, 56, 56))`` gives ``["(56 − 3 + 2·1)/2 + 1 = 28"]``: one line
when both axes compute alike, else one line per axis ("H: ...", "W: ..."). Dilation appears as
``d·(k − 1) + 1`` and ceil_mode as ``⌈…⌉``. Pure Python: the same formulas as engine.shapes;
the inspector and ``cnn-designer explain`` both show these lines.
A parameter the block's spec refuses (Infinity, a string, -1, ...) gives no lines: the problems
list explains it.
"""

from __future__ import annotations

from typing import Any

from engine.catalog import CATALOG
from engine.params import pair
from engine.shapes import conv_output_size, conv_transpose_output_size, pool_output_size

CONV_TYPES = ("conv2d", "locally_connected2d")
POOL_TYPES = ("maxpool2d", "avgpool2d", "lppool2d")
TRANSPOSE_TYPES = ("conv_transpose2d",)
GEOMETRY = ("kernel_size", "stride", "padding", "output_padding", "dilation", "ceil_mode")


def _window(kernel: int, dilation: int) -> str:
    return str(kernel) if dilation == 1 else f"({dilation}·({kernel} − 1) + 1)"


def _padding(padding: int) -> str:
    return "" if padding == 0 else f" + 2·{padding}"


def _forward_line(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil: bool, out: int
) -> str:
    inner = f"{size} − {_window(kernel, dilation)}{_padding(padding)}"
    if stride == 1:
        return f"{inner} + 1 = {out}"
    body = f"({inner})/{stride}"
    if ceil:
        body = f"⌈{body}⌉"
    return f"{body} + 1 = {out}"


def _transpose_line(
    size: int, kernel: int, stride: int, padding: int, extra: int, dilation: int, out: int
) -> str:
    text = f"({size} − 1)·{stride}"
    if padding:
        text += f" − 2·{padding}"
    text += f" + {_window(kernel, dilation)}"
    if extra:
        text += f" + {extra}"
    return f"{text} = {out}"


def _axis_lines(lines: tuple[str, str]) -> list[str]:
    if lines[0] == lines[1]:
        return [lines[0]]
    return [f"H: {lines[0]}", f"W: {lines[1]}"]


def size_lines(type_id: str, params: dict[str, Any], input_shape: Any) -> list[str]:
    """Lines explaining the output height and width, or [] when not a sliding-window block."""
    if type_id not in (*CONV_TYPES, *POOL_TYPES, *TRANSPOSE_TYPES):
        return []
    try:
        if input_shape is None or len(input_shape) != 3 or not _acceptable(type_id, params):
            return []
        sizes = (int(input_shape[1]), int(input_shape[2]))
        if type_id in CONV_TYPES:
            return _conv_lines(params, sizes)
        if type_id in POOL_TYPES:
            return _pool_lines(params, sizes)
        if type_id in TRANSPOSE_TYPES:
            return _transpose_lines(params, sizes)
    except (TypeError, ValueError, LookupError, ArithmeticError):
        # an invalid value the checks above let through, or a number with more digits than
        # str() writes: the problems list explains it
        return []
    return []


def _acceptable(type_id: str, params: dict[str, Any]) -> bool:
    """Whether every parameter that sets the output size is one the block's spec accepts."""
    if type_id not in CATALOG:
        return False
    return all(
        param.problem(params.get(param.name)) is None
        for param in CATALOG.get(type_id).params
        if param.name in GEOMETRY and param.name in params
    )


def _conv_lines(params: dict[str, Any], sizes: tuple[int, int]) -> list[str]:
    if params["padding"] == "same":
        return [f"padding 'same': output = input = {sizes[0]}×{sizes[1]}"]
    kernel, stride = pair(params["kernel_size"]), pair(params["stride"])
    padding, dilation = pair(params["padding"]), pair(params.get("dilation", 1))
    lines = tuple(
        _forward_line(size, k, s, p, d, False, conv_output_size(size, k, s, p, d))
        for size, k, s, p, d in zip(sizes, kernel, stride, padding, dilation, strict=True)
    )
    return _axis_lines(lines)  # type: ignore[arg-type]


def _pool_lines(params: dict[str, Any], sizes: tuple[int, int]) -> list[str]:
    kernel = pair(params["kernel_size"])
    stride = pair(params["stride"]) if params.get("stride") is not None else kernel
    padding = pair(params.get("padding", 0))
    dilation = pair(params.get("dilation", 1))
    ceil = bool(params.get("ceil_mode", False))
    lines = tuple(
        _forward_line(size, k, s, p, d, ceil, pool_output_size(size, k, s, p, d, ceil))
        for size, k, s, p, d in zip(sizes, kernel, stride, padding, dilation, strict=True)
    )
    result = _axis_lines(lines)  # type: ignore[arg-type]
    if ceil:
        result.append("ceil_mode: the last partial window counts if it starts inside the input")
    return result


def _transpose_lines(params: dict[str, Any], sizes: tuple[int, int]) -> list[str]:
    kernel, stride = pair(params["kernel_size"]), pair(params["stride"])
    padding, extra = pair(params["padding"]), pair(params["output_padding"])
    dilation = pair(params["dilation"])
    lines = tuple(
        _transpose_line(size, k, s, p, e, d, conv_transpose_output_size(size, k, s, p, e, d))
        for size, k, s, p, e, d in zip(sizes, kernel, stride, padding, extra, dilation, strict=True)
    )
    return _axis_lines(lines)  # type: ignore[arg-type]
