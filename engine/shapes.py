"""Shape arithmetic of convolution and pooling, exactly as PyTorch computes it.

Pure functions of integers, no torch: the designer uses them on every edit. Each works on one
spatial axis; callers apply them per axis. The formulas are those of the PyTorch docs:
``out = floor((W + 2P - D*(F-1) - 1) / S) + 1`` (the lecture's ``(W - F + 2P)/S + 1`` with
dilation), with ``ceil`` instead of ``floor`` under ``ceil_mode`` and the rule that the last
pooling window must start inside the input or its left padding.
"""

from __future__ import annotations

import math


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length of a convolution along one axis (may be <= 0 for an impossible setting)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(
    size: int,
    kernel: int,
    stride: int,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of max/avg pooling along one axis, with PyTorch's ceil_mode rule."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1  # ceil division
    # PyTorch: the last window must start inside the input or the left padding.
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def conv_transpose_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output length of a transposed convolution along one axis."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def unpool_output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Output length of MaxUnpool2d along one axis (without an explicit output_size)."""
    return (size - 1) * stride - 2 * padding + kernel


def upsample_output_size(size: int, scale_factor: float) -> int:
    """Output length of nn.Upsample with a scale factor (PyTorch floors the product)."""
    return math.floor(size * scale_factor)


def dropped_by_stride(
    size: int, kernel: int, stride: int, padding: int = 0, dilation: int = 1
) -> int:
    """How many input rows (or columns) at the far edge no window covers (floor mode).

    Only real rows count: a window that stops inside the right padding drops only zeros
    (ResNet's 3×3 stride-2 padding-1 convolutions on even sizes drop nothing).
    """
    out = conv_output_size(size, kernel, stride, padding, dilation)
    if out <= 0:
        return 0
    covered = (out - 1) * stride + dilation * (kernel - 1) + 1  # in padded coordinates
    return max(0, padding + size - covered)


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """Left and right padding that PyTorch's padding='same' applies along one axis."""
    total = dilation * (kernel - 1)
    left = total // 2
    return left, total - left
