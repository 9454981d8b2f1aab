"""The deeper pre-flight checks: run the design on one small batch of the real data, in-process.

Each takes a few seconds on the CPU for the small presets:

- **initial loss**: with fresh weights a classifier of C classes should score about ln C under
  cross-entropy (every class equally likely); far above (more than twice) or NaN means the
  initial scores are huge or broken;
- **gradients**: one backward pass must reach every parameter (a parameter without a gradient
  sits on a dead branch that never trains);
- **overfit one batch**: Adam (lr 1e-3) for ``steps`` steps on ``samples`` images must drive the
  loss near zero (below a tenth of ln C); a design that cannot memorise 16 images cannot learn,
  e.g. one ending in a ReLU before the loss: scores of dead units receive no gradient;
- **the chosen learning rate**: the settings' optimiser and lr for ``lr_steps`` steps on the same
  batch; a NaN or a loss that climbs far above its start means the lr is too high (lr 10);
- **learning-rate range test**: the loss while the lr rises geometrically, step by step; the
  suggested lr is where the smoothed loss falls fastest (a fix that sets it).

``deep_checks`` never raises for a design or data problem: each becomes a ``Finding``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import replace
from typing import Any

import torch

from engine.compiler import compile_graph
from engine.data.augment_spec import without_augmentation
from engine.errors import DesignerError
from engine.graph import Graph
from engine.preflight import Finding, PreflightFix
from engine.training.data_setup import prepare_data
from engine.training.distributed import DistContext
from engine.training.model import input_node, loss_function, make_optimizer

OVERFIT_LR = 1e-3
OVERFIT_SHARE = 0.1  # the overfit loss must end below this share of ln C
INITIAL_FACTOR = 2.0  # an initial loss above this many times ln C is a warning
DIVERGE_FACTOR = 3.0
ZERO_SHARE = 0.1  # a share of initial scores exactly 0 this high: the scores are clipped  # a loss above this many times its start under the chosen lr: too high


def small_batch(
    graph: Graph, settings: Any, samples: int
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """``samples`` normalised images of the settings' data set fitted to the Input block, their
    labels and the number of classes (TrainingError/DataFormatError saying what is wrong)."""
    name, shape = input_node(graph)
    data = replace(without_augmentation(settings.data), limit=samples, val_split=0.0)
    s = replace(settings, data=data, batch_size=samples)
    prepared = prepare_data(s, shape, name, torch.device("cpu"), DistContext())
    x, y = next(iter(prepared.loader))
    return x, y, len(prepared.classes)


def deep_checks(
    graph: Graph,
    settings: Any,
    *,
    samples: int = 16,
    steps: int = 50,
    lr_steps: int = 20,
    range_steps: int = 40,
) -> list[Finding]:
    """The deeper checks of ``graph`` under ``settings`` on ``samples`` images (seeded)."""
    torch.manual_seed(settings.seed)
    try:
        x, y, classes = small_batch(graph, settings, samples)
        model = compile_graph(graph)
    except (DesignerError, ValueError, OSError) as error:
        return [Finding("error", "data", f"the deeper checks could not run: {error}")]
    start = copy.deepcopy(model.state_dict())
    loss_fn = loss_function(settings.loss, classes)
    findings: list[Finding] = []
    findings += _initial_loss(model, x, y, loss_fn, settings.loss, classes)
    findings += _gradients(model, x, y, loss_fn)
    model.load_state_dict(start)
    findings += _overfit(model, x, y, loss_fn, classes, steps)
    model.load_state_dict(start)
    findings += _chosen_lr(model, x, y, loss_fn, settings, lr_steps)
    model.load_state_dict(start)
    findings += _lr_range(model, x, y, loss_fn, settings, range_steps)
    return findings


def _loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Any) -> torch.Tensor:
    out = model(x)
    return loss_fn(out[0] if isinstance(out, tuple | list) else out, y)


def _initial_loss(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Any, loss: str, classes: int
) -> list[Finding]:
    model.train()
    with torch.no_grad():
        out = model(x)
        scores = out[0] if isinstance(out, tuple | list) else out
        value = float(loss_fn(scores, y))
    zeros = float((scores == 0).float().mean())
    if zeros >= ZERO_SHARE:
        return [
            Finding(
                "error",
                "initial_loss",
                f"initial scores: {zeros:.0%} of the network's scores are exactly 0 before "
                "training, so the last block clips them (a ReLU before the Output block): "
                "a clipped score gets no gradient, and its class cannot be learned. Remove "
                "that block so the last Linear feeds the Output block",
            )
        ]
    if loss != "cross_entropy":
        return []
    expected = math.log(classes)
    if not math.isfinite(value) or value > INITIAL_FACTOR * expected:
        return [
            Finding(
                "warning",
                "initial_loss",
                f"initial loss: with fresh weights the loss is {value:.4g}, but a classifier "
                f"of {classes} classes that guesses evenly scores ln {classes} = "
                f"{expected:.3f}. Received: loss={value:.4g}. The initial scores are too large "
                "or not finite: check the last layers (a Scale factor, a missing "
                "normalisation) and the data's normalisation",
            )
        ]
    return [
        Finding(
            "info",
            "initial_loss",
            f"initial loss {value:.3f}, near ln {classes} = {expected:.3f} as expected",
        )
    ]


def _gradients(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Any
) -> list[Finding]:
    model.train()
    model.zero_grad(set_to_none=True)
    loss = _loss(model, x, y, loss_fn)
    if not torch.isfinite(loss):
        return []  # the initial-loss finding says so
    loss.backward()
    dead = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    model.zero_grad(set_to_none=True)
    if not dead:
        return [Finding("info", "gradients", "every parameter receives a gradient")]
    listed = ", ".join(dead[:5]) + (f" and {len(dead) - 5} more" if len(dead) > 5 else "")
    return [
        Finding(
            "error",
            "gradients",
            f"gradients: no gradient reaches {listed}: these weights sit on a branch that does "
            "not lead to the Output block, so they never train. Connect the branch or remove it",
        )
    ]


def _overfit(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Any,
    classes: int,
    steps: int,
) -> list[Finding]:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        return []
    optimizer = torch.optim.Adam(params, lr=OVERFIT_LR)
    model.train()
    first = None
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = _loss(model, x, y, loss_fn)
        first = float(loss.detach()) if first is None else first
        if not torch.isfinite(loss):
            break
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        final = float(_loss(model, x, y, loss_fn))
    goal = OVERFIT_SHARE * math.log(max(classes, 2))
    n = len(y)
    if math.isfinite(final) and final < goal:
        return [
            Finding(
                "info",
                "overfit",
                f"overfit one batch: {steps} steps of Adam (lr {OVERFIT_LR:g}) took the loss on "
                f"{n} images from {first:.3f} to {final:.4f}: the design can learn",
            )
        ]
    return [
        Finding(
            "error",
            "overfit",
            f"overfit one batch: the design cannot learn: {steps} steps of Adam (lr "
            f"{OVERFIT_LR:g}) on just {n} images left the loss at {final:.4g} (from "
            f"{first:.4g}); a design that learns memorises them (loss below {goal:.3f}). Look "
            "for a ReLU, Sigmoid or Softmax right before the Output block (the scores of dead "
            "units get no gradient), a layer too narrow, or weights that cannot train",
        )
    ]


def _chosen_lr(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Any,
    settings: Any,
    steps: int,
) -> list[Finding]:
    try:
        optimizer = make_optimizer(model, settings)
    except DesignerError:
        return []
    model.train()
    losses: list[float] = []
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = _loss(model, x, y, loss_fn)
        losses.append(float(loss.detach()))
        if not torch.isfinite(loss):
            break
        loss.backward()
        optimizer.step()
    first, lr = losses[0], settings.lr
    worst = max(losses) if all(map(math.isfinite, losses)) else math.inf
    if math.isfinite(worst) and worst <= DIVERGE_FACTOR * first and losses[-1] < first * 1.05:
        return [
            Finding(
                "info",
                "lr",
                f"lr {lr:g}: {steps} steps of {settings.optimizer} took the loss from "
                f"{first:.3f} to {losses[-1]:.3f}",
            )
        ]
    what = (
        f"reached {worst:.4g}, over {DIVERGE_FACTOR:g}× its start ({first:.3f})"
        if math.isfinite(worst)
        else "became NaN or infinite"
        if not all(map(math.isfinite, losses))
        else ""
    )
    if not what:
        what = f"did not fall ({first:.3f} → {losses[-1]:.3f})"
    lower = lr / 10
    return [
        Finding(
            "error" if not math.isfinite(worst) or worst > DIVERGE_FACTOR * first else "warning",
            "lr",
            f"training setting lr: with {settings.optimizer} at lr {lr:g} the loss on one batch "
            f"{what} within {len(losses)} steps: the learning rate is too high. Received: "
            f"lr={lr:g}. Lower it (try {lower:g}, or the range test's suggestion)",
            (
                PreflightFix(
                    f"Set the learning rate to {lower:g}", f"--lr {lower:g}", settings={"lr": lower}
                ),
            ),
        )
    ]


def lr_range(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Any,
    settings: Any,
    steps: int,
    low: float = 1e-6,
    high: float = 10.0,
) -> tuple[list[float], list[float]]:
    """The learning rates and the losses of a range test (stops once the loss explodes)."""
    optimizer = make_optimizer(model, replace(settings, lr=low))
    model.train()
    rates, losses = [], []
    best = math.inf
    for step in range(steps):
        lr = low * (high / low) ** (step / max(steps - 1, 1))
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        loss = _loss(model, x, y, loss_fn)
        value = float(loss.detach())
        if not math.isfinite(value) or value > 4 * best:
            break
        rates.append(lr)
        losses.append(value)
        best = min(best, value)
        loss.backward()
        optimizer.step()
    return rates, losses


def _lr_range(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Any,
    settings: Any,
    steps: int,
) -> list[Finding]:
    try:
        rates, losses = lr_range(model, x, y, loss_fn, settings, steps)
    except DesignerError:
        return []
    if len(losses) < 5:
        return []
    smooth = [losses[0]]
    for value in losses[1:]:
        smooth.append(0.7 * smooth[-1] + 0.3 * value)
    slopes = [
        (smooth[i + 1] - smooth[i - 1]) / math.log(rates[i + 1] / rates[i - 1])
        for i in range(1, len(smooth) - 1)
    ]
    steepest = min(range(len(slopes)), key=slopes.__getitem__)
    if slopes[steepest] >= 0:
        return []
    suggested = float(f"{rates[steepest + 1]:.1g}")
    return [
        Finding(
            "info",
            "lr_range",
            f"learning-rate range test ({settings.optimizer}, {rates[0]:g} to "
            f"{rates[-1]:.3g}): the loss falls fastest near lr {suggested:g} (now "
            f"{settings.lr:g})",
            (
                PreflightFix(
                    f"Use the suggested learning rate {suggested:g}",
                    f"--lr {suggested:g}",
                    settings={"lr": suggested},
                ),
            ),
        )
    ]
