"""Dropout, training against test: torch's inverted dropout beside the lecture's rule.

The lecture: while training each unit is kept with probability q = 1 − p (dropped with p); "at
test time, multiply by the keep probability" q. torch's inverted dropout scales the kept units
by 1/q while training and does nothing at test. Both keep the expected activation equal between
training and test; the two networks differ by the constant factor q in this layer's outputs.
The masks are torch's own (its dropout run on a seeded generator), so a trained model's masks
can be reproduced; torch is imported only when a function runs. Dropout2d (``channels=True``)
keeps or drops whole channels: the values are a (channels, positions) grid, one mask value per
row, drawn as ``F.dropout2d`` draws them; the scale and the expectation are the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import ParameterError
from engine.lecture.steps_types import nested


@dataclass
class DropoutTrace:
    """Several training-mode passes of one input through Dropout(p), and the test outputs."""

    p: float
    keep: float  # q = 1 − p
    seed: int
    masks: list[Any]  # one (shape of x) 0/1 grid per pass: torch's own masks
    train_outputs: list[Any]  # torch (inverted): x · mask / q
    eval_output: list[Any]  # torch at test: x unchanged
    lecture_train_outputs: list[Any]  # the lecture: x · mask
    lecture_eval_output: list[Any]  # the lecture at test: q · x
    kept_fraction: list[float]  # per pass: how many units survived

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ExpectationCheck:
    """Mean over many masks against the test-time output, for both conventions."""

    p: float
    passes: int
    max_error_inverted: float  # max |mean(x·mask/q) − x|
    max_error_lecture: float  # max |mean(x·mask) − q·x|
    bound: float  # 5 standard errors of the worst element's mean (binomial variance)
    within_bound: bool
    lines: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _check_p(p: float) -> float:
    if not 0 <= p <= 1 or math.isnan(p):
        raise ParameterError(
            f"Dropout: p is the probability of dropping a unit, in [0, 1]. Received: p={p}. "
            "Use e.g. p=0.5."
        )
    return float(p)


def torch_masks(
    shape: tuple[int, ...], p: float, passes: int, seed: int, channels: bool = False
) -> np.ndarray:
    """(passes, *shape) 0/1 masks exactly as ``F.dropout`` draws them in training mode after
    ``torch.manual_seed(seed)``, without touching the caller's global random state. With
    ``channels``, as ``F.dropout2d`` draws them for one image whose channels are the rows of
    ``shape`` (one draw per channel, the same for every position of it)."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    if channels and len(shape) != 2:
        raise ParameterError(
            f"Dropout2d: the values must be a (channels, positions) grid. Received: "
            f"shape={list(shape)}. Give one row per channel."
        )
    ones = torch.ones((1, shape[0], 1, 1) if channels else shape, dtype=torch.float64)
    drop = F.dropout2d if channels else F.dropout
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        # a unit is kept exactly where dropout left the 1 non-zero
        drawn = [(drop(ones, p, training=True) != 0).numpy() for _ in range(passes)]
    masks = np.stack(drawn).astype(np.float64)
    if channels:
        masks = np.broadcast_to(masks.reshape(passes, shape[0], 1), (passes, *shape)).copy()
    return masks


def dropout_trace(
    x: Any, p: float, passes: int = 3, seed: int = 0, channels: bool = False
) -> DropoutTrace:
    """``passes`` training passes of ``x`` through Dropout(p) (torch's masks after
    ``torch.manual_seed(seed)``; Dropout2d's channel masks with ``channels``, the rows of
    ``x`` being the channels) and the test-time outputs of both conventions."""
    p = _check_p(p)
    arr = np.asarray(x, dtype=np.float64)
    if passes < 1:
        raise ParameterError(
            f"Dropout: passes must be at least 1. Received: passes={passes}. Use e.g. 3."
        )
    keep = 1.0 - p
    masks = torch_masks(arr.shape, p, passes, seed, channels)
    scale = 1.0 / keep if keep > 0 else 0.0
    return DropoutTrace(
        p,
        keep,
        seed,
        [nested(m) for m in masks],
        [nested(arr * m * scale) for m in masks],
        nested(arr),
        [nested(arr * m) for m in masks],
        nested(arr * keep),
        [float(m.mean()) if m.size else 0.0 for m in masks],
    )


def expectation_check(
    x: Any, p: float, passes: int = 2000, seed: int = 0, channels: bool = False
) -> ExpectationCheck:
    """Average ``passes`` training outputs and compare with the test-time outputs: inverted
    dropout's mean tends to x, the lecture's to q·x. The bound is 5 standard errors of the
    worst element: |x|·√(p/q/n) for inverted dropout (binomial variance of the mask)."""
    p = _check_p(p)
    arr = np.asarray(x, dtype=np.float64)
    keep = 1.0 - p
    if keep == 0:
        raise ParameterError(
            "Dropout: with p = 1 every unit is dropped; there is no expectation to keep. "
            "Received: p=1. Use p < 1."
        )
    masks = torch_masks(arr.shape, p, passes, seed, channels)
    freq = masks.mean(axis=0)
    err_inv = float(np.max(np.abs(arr * freq / keep - arr))) if arr.size else 0.0
    err_lec = float(np.max(np.abs(arr * freq - keep * arr))) if arr.size else 0.0
    worst = float(np.max(np.abs(arr))) if arr.size else 0.0
    bound = 5.0 * worst * math.sqrt(p / keep / passes)
    lines = [
        f"keep probability q = 1 − p = {keep:.6g}",
        f"inverted (torch): E[x·mask/q] = x; mean over {passes} masks differs by at most "
        f"{err_inv:.3g} (bound {bound:.3g})",
        f"lecture: E[x·mask] = q·x, the test output; differs by at most {err_lec:.3g} "
        f"(bound {bound * keep:.3g})",
        f"the lecture's network = torch's × {keep:.6g} at this layer, in training and at test",
    ]
    return ExpectationCheck(
        p, passes, err_inv, err_lec, bound, err_inv <= bound and err_lec <= bound * keep, lines
    )
