"""BatchNorm2d, training against inference, with the numbers of the lecture's algorithm.

Ioffe & Szegedy's Algorithm 1 per channel over the N·H·W values of a mini-batch:
μ_B = (1/m) Σ xᵢ, σ²_B = (1/m) Σ (xᵢ − μ_B)², x̂ᵢ = (xᵢ − μ_B)/√(σ²_B + ε), yᵢ = γx̂ᵢ + β.
Training also moves the running statistics: running ← (1 − momentum)·running + momentum·batch,
with the *unbiased* variance m/(m − 1)·σ²_B (momentum None: the cumulative average, factor
1/num_batches_tracked). Inference uses the running statistics instead of the batch's. The
tests hold every number against ``nn.BatchNorm2d``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import ParameterError
from engine.lecture.steps_types import nested


@dataclass
class BatchNormStep:
    """One training-mode forward pass over one mini-batch."""

    index: int  # 1 for the first batch walked through
    batch_shape: list[int]
    count: int  # m = N·H·W values per channel
    mean: list[float] | None = None  # μ_B per channel
    var: list[float] | None = None  # σ²_B (biased) per channel: what x̂ uses
    var_unbiased: list[float] | None = None  # m/(m−1)·σ²_B: what the running variance takes
    factor: float | None = None  # the momentum used (momentum None: 1/num_batches_tracked)
    running_mean_before: list[float] = field(default_factory=list)
    running_var_before: list[float] = field(default_factory=list)
    running_mean: list[float] = field(default_factory=list)  # after this step
    running_var: list[float] = field(default_factory=list)
    num_batches_tracked: int = 0  # after this step
    x_hat: list[Any] | None = None  # (N, C, H, W)
    y_train: list[Any] | None = None  # γx̂ + β with the batch's statistics
    y_eval: list[Any] | None = None  # the same batch in eval mode, with the running statistics
    lines: list[str] = field(default_factory=list)  # the algorithm's lines with the numbers
    message: str | None = None  # a batch too small to normalise, or another caveat

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class BatchNormTrace:
    """Several training steps in turn, and the state they leave."""

    eps: float
    momentum: float | None
    gamma: list[float]
    beta: list[float]
    steps: list[BatchNormStep]
    running_mean: list[float]
    running_var: list[float]
    num_batches_tracked: int

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["steps"] = [s.to_dict() for s in self.steps]
        return out


def _num(v: float) -> str:
    return f"{v:.6g}"


def _vector(value: Any, size: int, default: float, name: str) -> np.ndarray:
    if value is None:
        return np.full(size, default)
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.shape[0] != size:
        raise ParameterError(
            f"BatchNorm walkthrough: {name} needs one value per channel. Received: "
            f"{name} length={arr.shape[0]}, channels={size}. Pass the block's own state."
        )
    return arr


def _lines(
    c: int,
    m: int,
    mean: float,
    var: float,
    var_u: float,
    eps: float,
    g: float,
    b: float,
    factor: float,
    rm: tuple[float, float],
    rv: tuple[float, float],
) -> list[str]:
    std = float(np.sqrt(var + eps))
    return [
        f"channel {c}: m = N·H·W = {m}",
        f"μ_B ← (1/m) Σ xᵢ = {_num(mean)}",
        f"σ²_B ← (1/m) Σ (xᵢ − μ_B)² = {_num(var)}",
        f"x̂ᵢ ← (xᵢ − μ_B)/√(σ²_B + ε) = (xᵢ − {_num(mean)})/√({_num(var)} + {_num(eps)}) "
        f"= (xᵢ − {_num(mean)})/{_num(std)}",
        f"yᵢ ← γx̂ᵢ + β = {_num(g)}·x̂ᵢ + {_num(b)}",
        f"running_mean ← (1 − {_num(factor)})·{_num(rm[0])} + {_num(factor)}·{_num(mean)} "
        f"= {_num(rm[1])}",
        f"running_var ← (1 − {_num(factor)})·{_num(rv[0])} + {_num(factor)}·"
        f"{m}/{m - 1}·{_num(var)} = (1 − {_num(factor)})·{_num(rv[0])} + {_num(factor)}·"
        f"{_num(var_u)} = {_num(rv[1])}",
        f"inference: yᵢ = γ(xᵢ − {_num(rm[1])})/√({_num(rv[1])} + {_num(eps)}) + β",
    ]


def batchnorm_walkthrough(
    batches: Sequence[Any],
    weight: Any = None,
    bias: Any = None,
    running_mean: Any = None,
    running_var: Any = None,
    num_batches_tracked: int = 0,
    eps: float = 1e-5,
    momentum: float | None = 0.1,
    affine: bool = True,
) -> BatchNormTrace:
    """Walk a BatchNorm2d in training mode through ``batches`` (each (N, C, H, W)) in turn.

    The state defaults to a fresh module's (γ = 1, β = 0, running mean 0, variance 1). A batch
    with one value per channel (N·H·W = 1) is refused by torch while training: its step carries
    a message, changes nothing and the walk goes on.
    """
    arrays = [np.asarray(b, dtype=np.float64) for b in batches]
    if not arrays or any(a.ndim != 4 or min(a.shape) < 1 for a in arrays):
        shapes = [tuple(a.shape) for a in arrays]
        raise ParameterError(
            f"BatchNorm walkthrough: every batch must be a non-empty (N, C, H, W) array. "
            f"Received: shapes={shapes}. Pass at least one batch of feature maps."
        )
    channels = arrays[0].shape[1]
    if any(a.shape[1] != channels for a in arrays):
        raise ParameterError(
            f"BatchNorm walkthrough: every batch must have the same channels. Received: "
            f"channels={[a.shape[1] for a in arrays]}. Pass batches of the same layer."
        )
    if eps <= 0 or (momentum is not None and not 0 <= momentum <= 1):
        raise ParameterError(
            f"BatchNorm walkthrough: eps must be > 0 and momentum in [0, 1] or None. "
            f"Received: eps={eps}, momentum={momentum}. Use the block's own values."
        )
    gamma = _vector(weight if affine else None, channels, 1.0, "weight")
    beta = _vector(bias if affine else None, channels, 0.0, "bias")
    r_mean = _vector(running_mean, channels, 0.0, "running_mean")
    r_var = _vector(running_var, channels, 1.0, "running_var")
    tracked = int(num_batches_tracked)
    steps = []
    for i, x in enumerate(arrays, start=1):
        step, r_mean, r_var, tracked = _train_step(
            i, x, gamma, beta, r_mean, r_var, tracked, eps, momentum
        )
        steps.append(step)
    return BatchNormTrace(
        eps,
        momentum,
        gamma.tolist(),
        beta.tolist(),
        steps,
        r_mean.tolist(),
        r_var.tolist(),
        tracked,
    )


def _affine(
    x: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float,
    gamma: np.ndarray,
    beta: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    per = (None, slice(None), None, None)
    x_hat = (x - mean[per]) / np.sqrt(var[per] + eps)
    return x_hat, gamma[per] * x_hat + beta[per]


def _train_step(
    index: int,
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    r_mean: np.ndarray,
    r_var: np.ndarray,
    tracked: int,
    eps: float,
    momentum: float | None,
) -> tuple[BatchNormStep, np.ndarray, np.ndarray, int]:
    n, c, h, w = x.shape
    m = n * h * w
    step = BatchNormStep(
        index,
        [n, c, h, w],
        m,
        running_mean_before=r_mean.tolist(),
        running_var_before=r_var.tolist(),
    )
    if m == 1:
        step.message = (
            f"BatchNorm2d: a training batch needs more than one value per channel "
            f"(N·H·W > 1): with one value the batch variance is 0 and every x̂ is 0. "
            f"Received: batch shape={[n, c, h, w]}. torch refuses this batch while training "
            "(the running statistics do not change); use a larger batch, or eval mode."
        )
        _, y_eval = _affine(x, r_mean, r_var, eps, gamma, beta)
        step.y_eval = nested(y_eval)
        step.running_mean, step.running_var = r_mean.tolist(), r_var.tolist()
        step.num_batches_tracked = tracked
        return step, r_mean, r_var, tracked
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))  # biased: what the normalisation divides by
    var_u = var * m / (m - 1)  # unbiased: what the running variance takes
    tracked += 1
    factor = 1.0 / tracked if momentum is None else float(momentum)
    new_mean = (1 - factor) * r_mean + factor * mean
    new_var = (1 - factor) * r_var + factor * var_u
    x_hat, y = _affine(x, mean, var, eps, gamma, beta)
    _, y_eval = _affine(x, new_mean, new_var, eps, gamma, beta)
    step.mean, step.var, step.var_unbiased = mean.tolist(), var.tolist(), var_u.tolist()
    step.factor = factor
    step.running_mean, step.running_var = new_mean.tolist(), new_var.tolist()
    step.num_batches_tracked = tracked
    step.x_hat, step.y_train, step.y_eval = nested(x_hat), nested(y), nested(y_eval)
    for ch in range(c):
        step.lines += _lines(
            ch,
            m,
            float(mean[ch]),
            float(var[ch]),
            float(var_u[ch]),
            eps,
            float(gamma[ch]),
            float(beta[ch]),
            factor,
            (float(r_mean[ch]), float(new_mean[ch])),
            (float(r_var[ch]), float(new_var[ch])),
        )
    notes = []
    if m == 2:
        notes.append(
            "with m = 2 values per channel σ²_B is a quarter of their squared "
            "difference, x̂ is ±1 (or 0) whatever the values, and the running "
            "variance takes twice σ²_B (m/(m − 1) = 2)."
        )
    if np.any(var == 0):
        flat = [int(ch) for ch in np.flatnonzero(var == 0)]
        notes.append(f"channels {flat} have variance 0 in this batch: x̂ = 0 and y = β there.")
    step.message = " ".join(notes) or None
    return step, new_mean, new_var, tracked


def batchnorm_eval(
    x: Any, weight: Any, bias: Any, running_mean: Any, running_var: Any, eps: float = 1e-5
) -> list[Any]:
    """The eval-mode output: yᵢ = γ(xᵢ − running_mean)/√(running_var + ε) + β."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 4:
        raise ParameterError(
            f"BatchNorm eval: the batch must be (N, C, H, W). Received: shape={arr.shape}. "
            "Pass a batch of feature maps."
        )
    c = arr.shape[1]
    _, y = _affine(
        arr,
        _vector(running_mean, c, 0.0, "running_mean"),
        _vector(running_var, c, 1.0, "running_var"),
        eps,
        _vector(weight, c, 1.0, "weight"),
        _vector(bias, c, 0.0, "bias"),
    )
    return nested(y)
