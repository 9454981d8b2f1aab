"""Step through a transposed convolution or a max-unpooling input cell by input cell.

Transposed convolution: each input value times the kernel is added into the output (stride
spreads the input cells apart, dilation spreads the kernel taps, the padding is cropped from the
result, output_padding adds rows/columns at the bottom/right). Unpooling: each value lands where
its index says, the rest is zero. The outputs equal ``F.conv_transpose2d`` and
``F.max_unpool2d`` (the tests check it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.errors import ParameterError
from engine.lecture.steps_types import (
    ScatterStep,
    StepThrough,
    Window,
    as_chw,
    nested,
    pair,
    select_positions,
)
from engine.shapes import unpool_output_size

IntPair = int | tuple[int, int]


def _weight_4d(weight: Any) -> np.ndarray:
    w = np.asarray(weight, dtype=np.float64)
    while w.ndim < 4:
        w = w[None]
    return w


def conv_transpose2d_steps(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
    out_channel: int = 0,
    window: Window = None,
) -> StepThrough:
    """Step through ``F.conv_transpose2d`` for output channel ``out_channel``.

    ``weight`` is (C_in, C_out/groups, kh, kw) as torch stores it, or (kh, kw). The steps walk
    the input cells (row-major, then the group's input channels); each adds value × kernel into
    the uncropped output (``extra["full"]``, which starts at the bias); ``pad`` is where the
    final output starts inside it.
    """
    xs = as_chw(x)
    w = _weight_4d(weight)
    s = pair(stride, "stride", 1)
    p = pair(padding, "padding", 0)
    op = pair(output_padding, "output_padding", 0)
    d = pair(dilation, "dilation", 1)
    c_in, h, wd = xs.shape
    if w.ndim != 4 or groups < 1 or c_in % groups or w.shape[0] != c_in:
        raise ParameterError(
            "step-through (ConvTranspose2d): the kernel must be (in_channels, "
            "out_channels/groups, kh, kw) with in_channels divisible by groups. Received: "
            f"input channels={c_in}, weight shape={tuple(w.shape)}, groups={groups}. "
            "Pass the block's own weight."
        )
    o_g, kh, kw = w.shape[1:]
    c_out, c_g = o_g * groups, c_in // groups
    for a in (0, 1):
        if op[a] >= max(s[a], d[a]):
            raise ParameterError(
                "step-through (ConvTranspose2d): output_padding must be smaller than the stride "
                f"or the dilation. Received: output_padding={list(op)}, stride={list(s)}, "
                f"dilation={list(d)}. Lower output_padding."
            )
    b = np.zeros(c_out) if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1)
    if b.shape[0] != c_out:
        raise ParameterError(
            f"step-through (ConvTranspose2d): the bias needs one value per output channel. "
            f"Received: bias length={b.shape[0]}, out_channels={c_out}. Pass the block's bias."
        )
    if not 0 <= out_channel < c_out:
        raise ParameterError(
            f"step-through (ConvTranspose2d): out_channel must be 0..{c_out - 1}. "
            f"Received: out_channel={out_channel}. Choose one of the output channels."
        )
    fh = (h - 1) * s[0] + d[0] * (kh - 1) + 1 + op[0]
    fw = (wd - 1) * s[1] + d[1] * (kw - 1) + 1 + op[1]
    ho, wo = fh - 2 * p[0], fw - 2 * p[1]
    params = {
        "kernel_size": [kh, kw],
        "stride": list(s),
        "padding": list(p),
        "output_padding": list(op),
        "dilation": list(d),
        "groups": groups,
        "out_channel": out_channel,
    }
    if min(ho, wo) < 1:
        raise ParameterError(
            f"step-through (ConvTranspose2d): the padding crops away the whole output "
            f"({ho}×{wo}). Received: {params}, input {h}×{wd}. Lower the padding."
        )
    full = np.broadcast_to(b[:, None, None], (c_out, fh, fw)).copy()
    for g in range(groups):
        xg, wg = xs[g * c_g : (g + 1) * c_g], w[g * c_g : (g + 1) * c_g]
        for ki in range(kh):
            for kj in range(kw):
                r0, c0 = ki * d[0], kj * d[1]
                full[
                    g * o_g : (g + 1) * o_g,
                    r0 : r0 + (h - 1) * s[0] + 1 : s[0],
                    c0 : c0 + (wd - 1) * s[1] + 1 : s[1],
                ] += np.einsum("cij,co->oij", xg, wg[:, :, ki, kj])
    out = full[:, p[0] : p[0] + ho, p[1] : p[1] + wo]
    positions, note = select_positions(h, wd, window, "input")
    group = out_channel // o_g
    running = np.full((fh, fw), b[out_channel])
    steps: list[ScatterStep] = []
    for i, j in positions:
        for ch in range(group * c_g, (group + 1) * c_g):
            value = float(xs[ch, i, j])
            kernel = w[ch, out_channel - group * o_g]
            targets, weights, added, inside, written = [], [], [], [], []
            for ki in range(kh):
                for kj in range(kw):
                    row, col = i * s[0] + ki * d[0], j * s[1] + kj * d[1]
                    running[row, col] += value * float(kernel[ki, kj])
                    targets.append([out_channel, row, col])
                    weights.append(float(kernel[ki, kj]))
                    added.append(value * float(kernel[ki, kj]))
                    inside.append(p[0] <= row < p[0] + ho and p[1] <= col < p[1] + wo)
                    written.append(float(running[row, col]))
            steps.append(
                ScatterStep(len(steps), [ch, i, j], value, targets, weights, added, inside, written)
            )
    return StepThrough(
        "ConvTranspose2d",
        params,
        nested(xs),
        list(p),
        steps,
        nested(out),
        c_g * h * wd,
        note,
        {"full": nested(full[out_channel])},
    )


def max_unpool2d_steps(
    x: Any,
    indices: Any,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    output_size: tuple[int, ...] | list[int] | None = None,
    channel: int = 0,
    window: Window = None,
) -> StepThrough:
    """Step through ``F.max_unpool2d``: each value lands at its flat index in its channel's
    output plane (as MaxPool2d with return_indices gives them); every other cell is zero."""
    xs = as_chw(x)
    idx = np.asarray(indices)
    if idx.ndim == 2:
        idx = idx[None]
    k = pair(kernel_size, "kernel_size", 1)
    s = k if stride is None else pair(stride, "stride", 1)
    p = pair(padding, "padding", 0)
    c, h, w = xs.shape
    if idx.shape != xs.shape or not np.issubdtype(idx.dtype, np.integer):
        raise ParameterError(
            f"step-through (MaxUnpool2d): the indices must be integers shaped like the input. "
            f"Received: indices shape={tuple(idx.shape)} dtype={idx.dtype}, input shape="
            f"{tuple(xs.shape)}. Pass the indices MaxPool2d(return_indices=True) returned."
        )
    default = (unpool_output_size(h, k[0], s[0], p[0]), unpool_output_size(w, k[1], s[1], p[1]))
    size = default if output_size is None else tuple(int(v) for v in list(output_size)[-2:])
    for a in (0, 1):
        if not default[a] - s[a] < size[a] < default[a] + s[a]:
            raise ParameterError(
                f"step-through (MaxUnpool2d): output_size must lie strictly between "
                f"{default[a] - s[a]} and {default[a] + s[a]} along that axis. Received: "
                f"output_size={list(size)}. Give the size of the pooling layer's input."
            )
    if not 0 <= channel < c:
        raise ParameterError(
            f"step-through (MaxUnpool2d): channel must be 0..{c - 1}. Received: "
            f"channel={channel}. Choose one of the input channels."
        )
    ho, wo = size
    bad = (idx < 0) | (idx >= ho * wo)
    if bad.any():
        where = tuple(int(v) for v in np.argwhere(bad)[0])
        raise ParameterError(
            f"step-through (MaxUnpool2d): every index must point into the {ho}×{wo} output "
            f"(0..{ho * wo - 1}). Received: index={int(idx[where])} at {list(where)}. Pass the "
            "indices of the matching MaxPool2d, and its input size as output_size."
        )
    out = np.zeros((c, ho * wo))
    for ch in range(c):
        out[ch, idx[ch].reshape(-1)] = xs[ch].reshape(-1)  # a repeated index: the last wins
    planes = out.reshape(c, ho, wo)
    positions, note = select_positions(h, w, window, "input")
    steps: list[ScatterStep] = []
    for n, (i, j) in enumerate(positions):
        flat = int(idx[channel, i, j])
        value = float(xs[channel, i, j])
        target = [channel, flat // wo, flat % wo]
        steps.append(ScatterStep(n, [channel, i, j], value, [target], [], [value], [True], [value]))
    params = {
        "kernel_size": list(k),
        "stride": list(s),
        "padding": list(p),
        "output_size": [ho, wo],
        "channel": channel,
    }
    return StepThrough(
        "MaxUnpool2d",
        params,
        nested(xs),
        [0, 0],
        steps,
        nested(planes),
        h * w,
        note,
        {"indices": idx.astype(int).tolist()},
    )
