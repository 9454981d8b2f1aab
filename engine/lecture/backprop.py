"""Backprop through a convolution and through pooling, written from the lecture's rules.

No autograd here: numpy only, so each intermediate grid can be shown. The rules:

- convolution, gradient to the input: the *full* convolution of the upstream gradient with the
  kernel rotated by 180° (with stride: the upstream gradient first dilated by stride - 1 zeros
  between its cells; with dilation: the kernel's taps spread apart; with padding: the result
  cropped by the padding);
- convolution, gradient to the weights: the correlation of the (padded) input with the (dilated)
  upstream gradient; to the bias: the sum of the upstream gradient;
- max pooling: each gradient goes only to the position of its window's maximum;
- average pooling: each gradient is spread evenly (divided by the window's divisor) over the
  window; what falls on padding is dropped.

The tests hold every grid against torch autograd.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import ParameterError
from engine.lecture.steps import _divisors, max_pool2d_steps
from engine.lecture.steps_types import as_chw, nested, pair
from engine.shapes import conv_output_size, pool_output_size

IntPair = int | tuple[int, int]


@dataclass
class Gradients:
    """The gradients of one layer for one sample, and the grids that lead to them."""

    operation: str
    rule: str
    upstream: list[Any]  # (C_out, H_out, W_out)
    grad_input: list[Any]  # (C_in, H, W)
    grad_weight: list[Any] | None = None  # (C_out, C_in/groups, kh, kw)
    grad_bias: list[float] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "rule": self.rule,
            "upstream": self.upstream,
            "grad_input": self.grad_input,
            "grad_weight": self.grad_weight,
            "grad_bias": self.grad_bias,
            "details": dict(self.details),
        }


def dilate(grid: np.ndarray, step: tuple[int, int]) -> np.ndarray:
    """Insert ``step - 1`` zeros between neighbouring cells of the last two axes."""
    h, w = grid.shape[-2:]
    out = np.zeros((*grid.shape[:-2], (h - 1) * step[0] + 1, (w - 1) * step[1] + 1))
    out[..., :: step[0], :: step[1]] = grid
    return out


def correlate_valid(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """2-D correlation without padding: out[i, j] = Σ a[i + u, j + v] · k[u, v]."""
    windows = np.lib.stride_tricks.sliding_window_view(a, k.shape)
    return np.einsum("ijuv,uv->ij", windows, k)  # type: ignore[no-any-return]


def convolve_full(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The full 2-D convolution: ``a`` padded by the kernel size - 1 on every side,
    correlated with the kernel rotated by 180°."""
    padded = np.pad(a, ((k.shape[0] - 1,) * 2, (k.shape[1] - 1,) * 2))
    return correlate_valid(padded, np.rot90(k, 2))


def _upstream(grad_out: Any, shape: tuple[int, int, int], what: str) -> np.ndarray:
    g = as_chw(grad_out, "upstream gradient")
    if g.shape != shape:
        raise ParameterError(
            f"backprop ({what}): the upstream gradient must have the layer's output shape. "
            f"Received: upstream shape={tuple(g.shape)}, output shape={shape}. Pass the "
            "gradient of the loss with respect to this layer's output."
        )
    return g


def conv2d_backward(
    x: Any,
    weight: Any,
    grad_out: Any,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Gradients:
    """Input, weight and bias gradients of ``F.conv2d`` for one sample by the lecture's rules.

    ``details`` holds, for output channel 0 and input channel 0 of its group, the dilated
    upstream gradient, the dilated kernel rotated by 180° and the uncropped full convolution.
    """
    xs = as_chw(x)
    w = np.asarray(weight, dtype=np.float64)
    while w.ndim < 4:
        w = w[None]
    s, p, d = pair(stride, "stride", 1), pair(padding, "padding", 0), pair(dilation, "dilation", 1)
    c_in, h, wd = xs.shape
    c_out, c_g, kh, kw = w.shape
    if groups < 1 or c_g * groups != c_in or c_out % groups:
        raise ParameterError(
            "backprop (Conv2d): the kernel must be (out_channels, in_channels/groups, kh, kw). "
            f"Received: input channels={c_in}, weight shape={tuple(w.shape)}, groups={groups}. "
            "Pass the block's own weight."
        )
    ho, wo = conv_output_size(h, kh, s[0], p[0], d[0]), conv_output_size(wd, kw, s[1], p[1], d[1])
    g = _upstream(grad_out, (c_out, ho, wo), "Conv2d")
    g_dil = dilate(g, s)  # stride: zeros between the upstream cells
    w_dil = dilate(w, d)  # dilation: zeros between the kernel taps
    o_g = c_out // groups
    used = (g_dil.shape[1] + w_dil.shape[2] - 1, g_dil.shape[2] + w_dil.shape[3] - 1)
    grad_padded = np.zeros((c_in, h + 2 * p[0], wd + 2 * p[1]))
    for c in range(c_in):
        group = c // c_g
        for o in range(group * o_g, (group + 1) * o_g):
            full = convolve_full(g_dil[o], w_dil[o, c - group * c_g])
            grad_padded[c, : used[0], : used[1]] += full[: h + 2 * p[0], : wd + 2 * p[1]]
    grad_x = grad_padded[:, p[0] : p[0] + h, p[1] : p[1] + wd]
    xp = np.pad(xs, ((0, 0), p[:1] * 2, p[1:] * 2))
    grad_w = np.zeros_like(w)
    for o in range(c_out):
        group = o // o_g
        for c in range(c_g):
            # correlation of the padded input with the dilated upstream gradient, read at the
            # kernel's (dilated) tap offsets
            corr = correlate_valid(xp[group * c_g + c, : used[0], : used[1]], g_dil[o])
            grad_w[o, c] = corr[:: d[0], :: d[1]]
    details = {
        "dilated_upstream": nested(g_dil[0]),
        "rotated_kernel": nested(np.rot90(w_dil[0, 0], 2)),
        "full_convolution": nested(convolve_full(g_dil[0], w_dil[0, 0])),
        "crop": [p[0], p[1]],
    }
    return Gradients(
        "Conv2d",
        "input gradient = full convolution of the upstream gradient with the kernel rotated "
        "180° (stride dilates the upstream gradient, padding is cropped); weight gradient = "
        "correlation of the input with the upstream gradient; bias gradient = its sum.",
        nested(g),
        nested(grad_x),
        nested(grad_w),
        g.sum(axis=(1, 2)).tolist(),
        details,
    )


def max_pool2d_backward(
    x: Any,
    grad_out: Any,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
) -> Gradients:
    """Max pooling's input gradient: each upstream value goes only to its window's maximum
    (two windows sharing a maximum both send theirs there)."""
    xs = as_chw(x)
    result = max_pool2d_steps(xs, kernel_size, stride, padding, dilation, ceil_mode, window=0)
    idx = np.asarray(result.extra["indices"])
    g = _upstream(grad_out, idx.shape, "MaxPool2d")
    c, h, w = xs.shape
    grad = np.zeros((c, h * w))
    for ch in range(c):
        np.add.at(grad[ch], idx[ch].reshape(-1), g[ch].reshape(-1))
    return Gradients(
        "MaxPool2d",
        "each upstream gradient goes only to the position of its window's maximum.",
        nested(g),
        nested(grad.reshape(c, h, w)),
        details={"indices": result.extra["indices"]},
    )


def avg_pool2d_backward(
    x: Any,
    grad_out: Any,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Gradients:
    """Average pooling's input gradient: each upstream value divided by its window's divisor
    and spread evenly over the window (the share that falls on padding is dropped)."""
    xs = as_chw(x)
    k = pair(kernel_size, "kernel_size", 1)
    s = k if stride is None else pair(stride, "stride", 1)
    p = pair(padding, "padding", 0)
    c, h, w = xs.shape
    out = tuple(pool_output_size((h, w)[a], k[a], s[a], p[a], 1, ceil_mode) for a in (0, 1))
    g = _upstream(grad_out, (c, out[0], out[1]), "AvgPool2d")
    div = _divisors(xs.shape, (out[0], out[1]), k, s, p, count_include_pad, divisor_override)
    share = g / div[None]
    grad = np.zeros((c, h + 2 * p[0], w + 2 * p[1]))
    for r in range(out[0]):
        for col in range(out[1]):
            rows = slice(r * s[0], min(r * s[0] + k[0], h + 2 * p[0]))
            cols = slice(col * s[1], min(col * s[1] + k[1], w + 2 * p[1]))
            grad[:, rows, cols] += share[:, r, col][:, None, None]
    return Gradients(
        "AvgPool2d",
        "each upstream gradient is divided by its window's divisor and spread evenly over it.",
        nested(g),
        nested(grad[:, p[0] : p[0] + h, p[1] : p[1] + w]),
        details={"divisors": nested(div), "share": nested(share)},
    )
