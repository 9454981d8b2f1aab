"""Paired throughput ratios on a machine whose speed drifts (issue 16).

On the shared 2-core machines these benchmarks run on, the time of one LeNet-5 epoch moves by
±30 % within a second, and two plain loops compared with each other, epoch by epoch, give pair
ratios from 0.63 to 1.78 (A/A test, 2026-12-02). So a run's epoch is compared with the plain
epochs on both sides of it (the geometric mean of the one before and the one after: a drift
that is linear over the three epochs cancels; the spread of the pairs fell from 0.12 to 0.10 in
the log), and a page's ratio is the Hodges–Lehmann estimate of the pairs' log ratios (the
median of all pairwise means: as robust to a stalled epoch as the median, and nearly as
efficient as the mean; with the median of 20 pairs a page's figure moved by ±0.05 between runs
of the same code). A percentile bootstrap gives the interval printed beside it.
"""

from __future__ import annotations

import math

import numpy as np


def sandwich_ratios(
    plain: list[float], run: list[float], counted: list[int]
) -> list[tuple[float, float]]:
    """``(plain seconds, run seconds)`` for each counted run epoch.

    ``run[e - 1]`` is epoch ``e`` (1-based) of the run; ``plain[i]`` ran in the pause after the
    run's epoch ``i + 1``, so epoch ``e`` is preceded by ``plain[e - 2]`` and followed by
    ``plain[e - 1]``. The plain side of a pair is the geometric mean of the two, or the one
    before when the run ended (or was stopped) without a plain epoch after it."""
    pairs = []
    for epoch in counted:
        if epoch < 2 or epoch > len(run) or epoch - 2 >= len(plain):
            continue
        before = plain[epoch - 2]
        after = plain[epoch - 1] if epoch - 1 < len(plain) else None
        reference = before if after is None else math.sqrt(before * after)
        pairs.append((reference, run[epoch - 1]))
    return pairs


def hodges_lehmann(values: np.ndarray) -> float:
    """The median of the Walsh averages (every mean of two values, each value with itself)."""
    values = np.asarray(values, dtype=float)
    rows, columns = np.triu_indices(len(values))
    return float(np.median((values[rows] + values[columns]) / 2))


def paired_ratio(
    pairs: list[tuple[float, float]], rounds: int = 1000, level: float = 0.90, seed: int = 0
) -> tuple[float, float, float] | None:
    """The ratio plain / run of ``pairs`` (Hodges–Lehmann on the log ratios) and a ``level``
    percentile-bootstrap interval of it; None without pairs."""
    if not pairs:
        return None
    logs = np.log([plain / run for plain, run in pairs])
    estimate = math.exp(hodges_lehmann(logs))
    if len(logs) < 2:
        return estimate, estimate, estimate
    generator = np.random.default_rng(seed)
    draws = [
        hodges_lehmann(generator.choice(logs, size=len(logs), replace=True)) for _ in range(rounds)
    ]
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return estimate, math.exp(low), math.exp(high)
