"""Pure numpy helpers that turn training arrays into displayable pictures (no Qt, no torch).

Every function returns float32 in [0, 1] laid out row-major: H×W (grey) or H×W×3 (colour).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

PAD = 1  # pixels between tiles
PAD_VALUE = 1.0  # white grid lines


def grid_shape(count: int) -> tuple[int, int]:
    """Rows and columns of a near-square grid holding ``count`` tiles."""
    cols = max(1, math.ceil(math.sqrt(count)))
    return max(1, math.ceil(count / cols)), cols


def tile(tiles: np.ndarray, pad: int = PAD) -> np.ndarray:
    """N×h×w (grey) or N×h×w×3 (colour) tiles in [0, 1] as one mosaic with grid lines."""
    n, h, w = tiles.shape[:3]
    rows, cols = grid_shape(n)
    extra = tiles.shape[3:]
    mosaic = np.full(
        (rows * (h + pad) + pad, cols * (w + pad) + pad, *extra), PAD_VALUE, dtype=np.float32
    )
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        mosaic[y : y + h, x : x + w] = tiles[i]
    return mosaic


def filter_mosaic(weights: np.ndarray) -> tuple[np.ndarray, str]:
    """Conv weights out×in×kh×kw as a mosaic, and a caption saying how it is drawn.

    Three input channels are drawn in colour; otherwise each filter is the mean over its input
    channels in grey. Each filter is scaled on its own so that 0 is mid-grey.
    """
    w = np.nan_to_num(np.asarray(weights, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if w.ndim != 4 or w.shape[0] == 0:
        raise ValueError(f"filters must be out×in×kh×kw. Received: shape={w.shape}")
    if w.shape[1] == 3:
        tiles = np.transpose(w, (0, 2, 3, 1))  # out×kh×kw×3
        caption = f"{w.shape[0]} filters {w.shape[2]}×{w.shape[3]}, RGB"
    else:
        tiles = w.mean(axis=1)
        caption = f"{w.shape[0]} filters {w.shape[2]}×{w.shape[3]}" + (
            f", mean over {w.shape[1]} input channels" if w.shape[1] > 1 else ""
        )
    scale = np.abs(tiles).reshape(len(tiles), -1).max(axis=1)
    scale = np.where(scale > 0, scale, 1.0).reshape((-1,) + (1,) * (tiles.ndim - 1))
    return tile(0.5 + 0.5 * tiles / scale), caption


def map_mosaic(maps: np.ndarray, limit: int = 64) -> np.ndarray:
    """Activations C×H×W (each channel scaled to its own range) or a flat F vector as a square."""
    m = np.asarray(maps, dtype=np.float32)
    if m.ndim == 1:
        side = max(1, math.ceil(math.sqrt(len(m))))
        square = np.full(side * side, np.nan, dtype=np.float32)
        square[: len(m)] = m
        m = square.reshape(1, side, side)
    elif m.ndim == 2:
        m = m[None]
    m = m[:limit]
    flat = m.reshape(len(m), -1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a diverged run's maps are all NaN
        lo = np.nanmin(flat, axis=1).reshape(-1, 1, 1)
        hi = np.nanmax(flat, axis=1).reshape(-1, 1, 1)
    scaled = (m - lo) / np.where(hi > lo, hi - lo, 1.0)
    return tile(np.nan_to_num(scaled, nan=PAD_VALUE))


def image_to_display(image: np.ndarray) -> np.ndarray:
    """A uint8 C×H×W image as H×W (grey) or H×W×3 in [0, 1]."""
    x = np.asarray(image, dtype=np.float32) / 255.0
    if x.ndim == 2:
        return x
    if x.shape[0] == 1:
        return x[0]
    return np.transpose(x[:3], (1, 2, 0))


def ema(values: np.ndarray, alpha: float, start: float | None = None) -> np.ndarray:
    """Exponential moving average (weight ``alpha`` on the newest value), continuing from
    ``start`` when given."""
    out = np.empty(len(values), dtype=np.float64)
    last = start
    for i, v in enumerate(values):
        last = float(v) if last is None else (1 - alpha) * last + alpha * float(v)
        out[i] = last
    return out
