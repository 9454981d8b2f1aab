"""Step through a convolution or a pooling window by window, exactly as torch computes it.

Each function takes one sample as a numpy array ((H, W) or (C, H, W)), the layer's parameters
and returns a :class:`StepThrough`: the padded input grid, one :class:`WindowStep` per output
position of the chosen channel (the window's cells with dilation, the kernel values, the
products, the value written) and the whole output. The output equals ``F.conv2d``,
``F.max_pool2d``, ``F.avg_pool2d`` and ``F.lp_pool2d`` (the tests check it); the steps are
written from the lecture's rules, one window at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.errors import ParameterError
from engine.lecture.steps_types import (
    StepThrough,
    Window,
    WindowStep,
    as_chw,
    nested,
    pair,
    select_positions,
)
from engine.shapes import conv_output_size, pool_output_size

IntPair = int | tuple[int, int]


def _check_channel(channel: int, count: int, name: str) -> None:
    if not 0 <= channel < count:
        raise ParameterError(
            f"step-through: {name} must name one of the {count} channels. "
            f"Received: {name}={channel}. Choose 0..{count - 1}."
        )


def _check_size(out: tuple[int, int], what: str, params: dict[str, Any]) -> None:
    if min(out) < 1:
        raise ParameterError(
            f"step-through ({what}): the window does not fit the input: the output would be "
            f"{out[0]}×{out[1]}. Received: {params}. Use a smaller kernel, dilation or stride, "
            "more padding, or a larger input."
        )


def _window_index(start: int, step: int, count: int, dil: int, k: int) -> np.ndarray:
    """(k, count) grid coordinates: row ``i*step + j*dil`` of window ``i``, tap ``j``."""
    return (np.arange(k) * dil)[:, None] + (np.arange(count) * step)[None, :] + start


def _patches(grid: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """(C, kh, kw, H_out, W_out) window values gathered from a (C, H, W) grid."""
    return grid[:, rows[:, None, :, None], cols[None, :, None, :]]  # type: ignore[no-any-return]


def conv2d_steps(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
    out_channel: int = 0,
    window: Window = None,
) -> StepThrough:
    """Step through ``F.conv2d``: each output cell is the sum over the input channels of the
    window's values times the kernel's (correlation, no flip), plus the bias.

    ``weight`` is (O, C/groups, kh, kw), or (kh, kw) for one channel in and out; the steps are
    those of output channel ``out_channel``.
    """
    xs = as_chw(x)
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim == 2:
        w = w[None, None]
    elif w.ndim == 3:
        w = w[None]
    sh, sw = pair(stride, "stride", 1)
    ph, pw = pair(padding, "padding", 0)
    dh, dw = pair(dilation, "dilation", 1)
    c_in, h, wd = xs.shape
    if (
        w.ndim != 4
        or groups < 1
        or c_in % groups
        or w.shape[0] % groups
        or (w.shape[1] * groups != c_in)
    ):
        raise ParameterError(
            "step-through (Conv2d): the kernel must be (out_channels, in_channels/groups, kh, kw) "
            "with both channel counts divisible by groups. Received: "
            f"input channels={c_in}, weight shape={tuple(w.shape)}, groups={groups}. "
            "Pass the block's own weight."
        )
    c_out, c_g, kh, kw = w.shape
    b = np.zeros(c_out) if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1)
    if b.shape[0] != c_out:
        raise ParameterError(
            f"step-through (Conv2d): the bias needs one value per output channel. "
            f"Received: bias length={b.shape[0]}, out_channels={c_out}. Pass the block's bias."
        )
    _check_channel(out_channel, c_out, "out_channel")
    params = {"stride": [sh, sw], "padding": [ph, pw], "dilation": [dh, dw], "groups": groups}
    ho = conv_output_size(h, kh, sh, ph, dh)
    wo = conv_output_size(wd, kw, sw, pw, dw)
    _check_size((ho, wo), "Conv2d", params)
    grid = np.pad(xs, ((0, 0), (ph, ph), (pw, pw)))
    patches = _patches(grid, _window_index(0, sh, ho, dh, kh), _window_index(0, sw, wo, dw, kw))
    o_g = c_out // groups
    out = np.empty((c_out, ho, wo))
    for g in range(groups):
        part = patches[g * c_g : (g + 1) * c_g]
        out[g * o_g : (g + 1) * o_g] = np.einsum(
            "ckluv,ockl->ouv", part, w[g * o_g : (g + 1) * o_g]
        )
    out += b[:, None, None]
    positions, note = select_positions(ho, wo, window, "output")
    first_c = (out_channel // o_g) * c_g
    kernel = w[out_channel]
    steps = []
    for i, (r, c) in enumerate(positions):
        cells, values, weights = [], [], []
        for ch in range(c_g):
            for ki in range(kh):
                for kj in range(kw):
                    row, col = r * sh + ki * dh, c * sw + kj * dw
                    cells.append([first_c + ch, row, col])
                    values.append(float(grid[first_c + ch, row, col]))
                    weights.append(float(kernel[ch, ki, kj]))
        products = [v * k for v, k in zip(values, weights, strict=True)]
        total = float(np.sum(products)) + float(b[out_channel])
        steps.append(
            WindowStep(
                i,
                [out_channel, r, c],
                cells,
                values,
                weights,
                products,
                float(b[out_channel]),
                "sum",
                written=total,
            )
        )
    params.update({"kernel_size": [kh, kw], "out_channel": out_channel})
    return StepThrough("Conv2d", params, nested(grid), [ph, pw], steps, nested(out), ho * wo, note)


def _pool_setup(
    x: Any,
    kernel_size: IntPair,
    stride: IntPair | None,
    padding: IntPair,
    dilation: IntPair,
    ceil_mode: bool,
    channel: int,
    what: str,
) -> tuple[
    np.ndarray,
    tuple[int, int],
    tuple[int, int],
    tuple[int, int],
    tuple[int, int],
    tuple[int, int],
    dict[str, Any],
]:
    xs = as_chw(x)
    k = pair(kernel_size, "kernel_size", 1)
    s = k if stride is None or stride == () else pair(stride, "stride", 1)
    p = pair(padding, "padding", 0)
    d = pair(dilation, "dilation", 1)
    _check_channel(channel, xs.shape[0], "channel")
    params = {
        "kernel_size": list(k),
        "stride": list(s),
        "padding": list(p),
        "dilation": list(d),
        "ceil_mode": ceil_mode,
        "channel": channel,
    }
    out = tuple(
        pool_output_size(xs.shape[1 + a], k[a], s[a], p[a], d[a], ceil_mode) for a in (0, 1)
    )
    _check_size(out, what, params)  # type: ignore[arg-type]
    return xs, k, s, p, d, out, params  # type: ignore[return-value]


def _extended(
    xs: np.ndarray, p: tuple[int, int], extra: tuple[int, int], fill: float
) -> np.ndarray:
    """The input padded by ``p`` on every side and ``extra`` more at the bottom/right."""
    return np.pad(
        xs, ((0, 0), (p[0], p[0] + extra[0]), (p[1], p[1] + extra[1])), constant_values=fill
    )


def _extra(size: int, out: int, k: int, s: int, p: int, d: int) -> int:
    return max(0, (out - 1) * s + (k - 1) * d + 1 - (size + 2 * p))


def max_pool2d_steps(
    x: Any,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    channel: int = 0,
    window: Window = None,
) -> StepThrough:
    """Step through ``F.max_pool2d``: each output cell is the window's maximum (padding is
    -inf, so it never wins); ``extra["indices"]`` are torch's flat indices of the maxima."""
    xs, k, s, p, d, (ho, wo), params = _pool_setup(
        x, kernel_size, stride, padding, dilation, ceil_mode, channel, "MaxPool2d"
    )
    for a in (0, 1):
        if 2 * p[a] > k[a]:
            raise ParameterError(
                f"step-through (MaxPool2d): padding must be at most half the kernel size. "
                f"Received: padding={p[a]}, kernel_size={k[a]}. Lower the padding (torch "
                "refuses it too)."
            )
    c, h, w = xs.shape
    ext = (_extra(h, ho, k[0], s[0], p[0], d[0]), _extra(w, wo, k[1], s[1], p[1], d[1]))
    big = _extended(xs, p, ext, -np.inf)
    rows = _window_index(0, s[0], ho, d[0], k[0])
    cols = _window_index(0, s[1], wo, d[1], k[1])
    flat = _patches(big, rows, cols).reshape(c, k[0] * k[1], ho, wo)
    nan = np.isnan(flat)
    # torch keeps the first maximum in scan order, or the last NaN (NaN always wins).
    arg = np.where(
        nan.any(axis=1),
        k[0] * k[1] - 1 - np.argmax(nan[:, ::-1], axis=1),
        np.argmax(np.where(nan, -np.inf, flat), axis=1),
    )
    out = np.take_along_axis(flat, arg[:, None], axis=1)[:, 0]
    tap_r, tap_c = arg // k[1], arg % k[1]
    src_r = rows[tap_r, np.arange(ho)[None, :, None]] - p[0]
    src_c = cols[tap_c, np.arange(wo)[None, None, :]] - p[1]
    indices = src_r * w + src_c
    grid = big[:, : h + 2 * p[0], : w + 2 * p[1]]
    positions, note = select_positions(ho, wo, window, "output")
    steps = []
    for i, (r, cc) in enumerate(positions):
        cells, values = _window_cells(grid, channel, r, cc, k, s, d)
        chosen = int(arg[channel, r, cc])
        # the chosen tap as an index into the cells read (taps beyond the grid are not listed)
        listed = [
            (cell[1] - r * s[0]) // d[0] * k[1] + (cell[2] - cc * s[1]) // d[1] for cell in cells
        ]
        steps.append(
            WindowStep(
                i,
                [channel, r, cc],
                cells,
                values,
                reduction="max",
                chosen=listed.index(chosen) if chosen in listed else None,
                clipped=k[0] * k[1] - len(cells),
                written=float(out[channel, r, cc]),
            )
        )
    return StepThrough(
        "MaxPool2d",
        params,
        nested(grid),
        list(p),
        steps,
        nested(out),
        ho * wo,
        note,
        {"indices": indices.astype(int).tolist()},
    )


def _window_cells(
    grid: np.ndarray,
    channel: int,
    r: int,
    c: int,
    k: tuple[int, int],
    s: tuple[int, int],
    d: tuple[int, int],
) -> tuple[list[list[int]], list[float]]:
    """The window's cells inside the (padded) grid, row-major, and their values."""
    cells, values = [], []
    for ki in range(k[0]):
        for kj in range(k[1]):
            row, col = r * s[0] + ki * d[0], c * s[1] + kj * d[1]
            if row < grid.shape[1] and col < grid.shape[2]:
                cells.append([channel, row, col])
                values.append(float(grid[channel, row, col]))
    return cells, values


def _avg_divisors(size: int, out: int, k: int, s: int, p: int, include_pad: bool) -> np.ndarray:
    """Per output position along one axis: torch's window length for the divisor."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if include_pad:
        return end - start  # type: ignore[no-any-return]
    return np.minimum(end, size) - np.maximum(start, 0)  # type: ignore[no-any-return]


def avg_pool2d_steps(
    x: Any,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    channel: int = 0,
    window: Window = None,
) -> StepThrough:
    """Step through ``F.avg_pool2d``: the window's sum divided by torch's divisor (the window
    clipped to the padded input; padding counted only with ``count_include_pad``; or
    ``divisor_override``)."""
    xs, k, s, p, _, (ho, wo), params = _pool_setup(
        x, kernel_size, stride, padding, 1, ceil_mode, channel, "AvgPool2d"
    )
    if any(2 * p[a] > k[a] for a in (0, 1)):
        raise ParameterError(
            f"step-through (AvgPool2d): padding must be at most half the kernel size. "
            f"Received: padding={list(p)}, kernel_size={list(k)}. Lower the padding."
        )
    if divisor_override is not None and divisor_override < 1:
        raise ParameterError(
            f"step-through (AvgPool2d): divisor_override must be a positive int. "
            f"Received: divisor_override={divisor_override}. Leave it None or give >= 1."
        )
    params.update({"count_include_pad": count_include_pad, "divisor_override": divisor_override})
    divisors = _divisors(xs.shape, (ho, wo), k, s, p, count_include_pad, divisor_override)
    return _mean_steps(
        "AvgPool2d",
        "mean",
        xs,
        k,
        s,
        p,
        (ho, wo),
        divisors,
        params,
        window,
        lambda v: v,
        lambda m: m,
    )


def _divisors(
    shape: tuple[int, ...],
    out: tuple[int, int],
    k: tuple[int, int],
    s: tuple[int, int],
    p: tuple[int, int],
    include_pad: bool,
    override: int | None,
) -> np.ndarray:
    if override is not None:
        return np.full(out, float(override))
    dh = _avg_divisors(shape[1], out[0], k[0], s[0], p[0], include_pad)
    dw = _avg_divisors(shape[2], out[1], k[1], s[1], p[1], include_pad)
    return (dh[:, None] * dw[None, :]).astype(np.float64)  # type: ignore[no-any-return]


def _mean_steps(
    operation: str,
    reduction: str,
    xs: np.ndarray,
    k: tuple[int, int],
    s: tuple[int, int],
    p: tuple[int, int],
    out_hw: tuple[int, int],
    divisors: np.ndarray,
    params: dict[str, Any],
    window: Window,
    power: Any,
    finish: Any,
) -> StepThrough:
    """Average-style pooling: finish(sum(power(values)) / divisor) per window."""
    ho, wo = out_hw
    h, w = xs.shape[1:]
    channel = params["channel"]
    ext = (_extra(h, ho, k[0], s[0], p[0], 1), _extra(w, wo, k[1], s[1], p[1], 1))
    big = _extended(power(xs), p, ext, 0.0)  # torch never reads the cells past the grid
    rows = _window_index(0, s[0], ho, 1, k[0])
    patches = _patches(big, rows, _window_index(0, s[1], wo, 1, k[1]))
    out = finish(patches.sum(axis=(1, 2)) / divisors[None])
    grid = np.pad(xs, ((0, 0), (p[0], p[0]), (p[1], p[1])))
    positions, note = select_positions(ho, wo, window, "output")
    steps = []
    for i, (r, cc) in enumerate(positions):
        cells, values = _window_cells(grid, channel, r, cc, k, s, (1, 1))
        total = float(np.sum(power(np.asarray(values)))) if values else 0.0
        div = float(divisors[r, cc])
        steps.append(
            WindowStep(
                i,
                [channel, r, cc],
                cells,
                values,
                reduction=reduction,
                divisor=div,
                clipped=k[0] * k[1] - len(cells),
                written=float(finish(np.float64(total / div))),
            )
        )
    return StepThrough(operation, params, nested(grid), list(p), steps, nested(out), ho * wo, note)


def lp_pool2d_steps(
    x: Any,
    norm_type: float,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    ceil_mode: bool = False,
    channel: int = 0,
    window: Window = None,
) -> StepThrough:
    """Step through ``F.lp_pool2d``: (Σ xᵖ)^(1/p) over each window, written as torch does it
    (the average of xᵖ times kh·kw, so a ceil_mode window cut by the edge is scaled up)."""
    p_norm = float(norm_type)
    if p_norm == 0 or not np.isfinite(p_norm):
        raise ParameterError(
            f"step-through (LPPool2d): norm_type must be a finite non-zero power. "
            f"Received: norm_type={norm_type}. Use e.g. 2 (an L2 pool); for inf use MaxPool2d "
            "on |x|."
        )
    xs, k, s, p, _, (ho, wo), params = _pool_setup(
        x, kernel_size, stride, 0, 1, ceil_mode, channel, "LPPool2d"
    )
    params["norm_type"] = p_norm
    divisors = _divisors(xs.shape, (ho, wo), k, s, p, True, None)
    area = float(k[0] * k[1])
    return _mean_steps(
        "LPPool2d",
        "lp",
        xs,
        k,
        s,
        p,
        (ho, wo),
        divisors,
        params,
        window,
        lambda v: np.power(v, p_norm),
        lambda m: np.power(m * area, 1.0 / p_norm),
    )
