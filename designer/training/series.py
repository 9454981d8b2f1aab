"""Growable x/y arrays for live curves: appending is amortised O(1), views are zero-copy."""

from __future__ import annotations

import numpy as np


class Series:
    """Two float64 arrays that grow by doubling; ``x``/``y`` are views of the filled part."""

    def __init__(self, capacity: int = 1024) -> None:
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def clear(self) -> None:
        self.size = 0

    def extend(self, xs: np.ndarray | list[float], ys: np.ndarray | list[float]) -> None:
        """Append points (``xs`` and ``ys`` of equal length)."""
        n = len(xs)
        if n != len(ys):
            raise ValueError(f"series: {n} x values but {len(ys)} y values")
        need = self.size + n
        if need > len(self._x):
            capacity = max(need, 2 * len(self._x))
            for name in ("_x", "_y"):
                grown = np.empty(capacity, dtype=np.float64)
                grown[: self.size] = getattr(self, name)[: self.size]
                setattr(self, name, grown)
        self._x[self.size : need] = xs
        self._y[self.size : need] = ys
        self.size = need

    def append(self, x: float, y: float) -> None:
        self.extend([x], [y])

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.size]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.size]

    @property
    def last(self) -> float | None:
        return float(self._y[self.size - 1]) if self.size else None
