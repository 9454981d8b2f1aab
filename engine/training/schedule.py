"""Learning-rate schedules as pure functions of the step (no torch, so resuming is exact)."""

from __future__ import annotations

import math


def lr_at(
    schedule: str,
    base_lr: float,
    step: int,
    total_steps: int,
    steps_per_epoch: int,
    step_epochs: int = 10,
    gamma: float = 0.1,
) -> float:
    """The learning rate for 0-based ``step`` of ``total_steps``.

    constant; step (× gamma every ``step_epochs`` epochs); cosine (to 0 at the end);
    onecycle (as ``torch.optim.lr_scheduler.OneCycleLR`` with its defaults: warm up for 30% of
    the steps from base/25 to base, cosine down to base/(25·10⁴)).
    """
    total = max(total_steps, 1)
    step = min(max(step, 0), total)
    if schedule == "constant":
        return base_lr
    if schedule == "step":
        return base_lr * gamma ** (step // max(steps_per_epoch * step_epochs, 1))
    if schedule == "cosine":
        return 0.5 * base_lr * (1 + math.cos(math.pi * step / total))
    if schedule == "onecycle":
        initial, final = base_lr / 25.0, base_lr / 25.0 / 1e4
        warm = max(float(0.3 * total) - 1, 1.0)
        if step <= warm:
            return _cos(initial, base_lr, step / warm)
        return _cos(base_lr, final, (step - warm) / max(total - 1 - warm, 1.0))
    raise ValueError(f"unknown schedule {schedule!r}")


def _cos(start: float, end: float, fraction: float) -> float:
    fraction = min(max(fraction, 0.0), 1.0)
    return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)
