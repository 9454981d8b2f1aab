"""Dashboard snapshots: filters, gradient flow, dying ReLUs, weight histograms, feature maps.

A snapshot has three parts, each drawn by one dashboard page: ``filters`` (the Filters page),
``feature_maps`` (Feature maps: one extra forward pass of one image) and ``gradients`` (Gradient
flow: gradient norms, dead ReLUs, weight histograms; hooks on the step it is taken in). The view
(``TrainingControl.set_view(snapshot_parts=...)``) names the parts the page in front draws:
only those are computed at the live rate. Headless runs, and a view that says
``snapshots_shown=True``, take every part.

Taken on some training steps only, at a rate that keeps their cost within a budget: after a
snapshot that cost ``c`` seconds the next one waits ``max(min_interval, c / budget)``, so at most
``budget`` (default 2%) of the training time goes to them, and never more than two a second.
The clock is the trainer's training seconds (pauses and validation left out), so a run that is
paused or held back gets no more snapshots per second of training. While
no page shows any part they are taken every ``IDLE_INTERVAL`` seconds instead (every part: a
few milliseconds every few seconds), so a page brought into view, a pause or the end of a run
still finds recent ones. A snapshot is not taken while the previous one has not reached the
window yet (``room``, the process runner's count of snapshots in flight): a window that falls
behind costs the run no snapshot work and no queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.training.events import FeatureMaps, Snapshot

MAX_FILTERS = 64
IDLE_INTERVAL = 2.0  # seconds between snapshots while no page shows them
MIN_INTERVAL = 0.5  # seconds between snapshots while a page shows them (at most 2 a second)
HISTOGRAM_BINS = 40
PARTS = ("filters", "feature_maps", "gradients")


class SnapshotTaker:
    """Collects one ``Snapshot`` around a training step when one is due."""

    def __init__(
        self,
        model: nn.Module,
        conv_layers: list[str],
        relu_layers: list[str],
        feature_source: Callable[[int], tuple[torch.Tensor, np.ndarray, int]],
        budget: float = 0.02,
        min_interval: float | None = None,
        feature_layer: str | None = None,
        feature_image: int = 0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.model = model
        self.clock = clock  # when snapshots are due: the trainer's training seconds
        self.modules = dict(model.named_modules())
        self.conv_layers, self.relu_layers = conv_layers, relu_layers
        self.feature_source = feature_source
        self.budget = budget
        self.min_interval = MIN_INTERVAL if min_interval is None else min_interval
        self.filter_layers = conv_layers[:1]
        self.feature_layer = feature_layer or (conv_layers[0] if conv_layers else None)
        self.feature_image = feature_image
        self.next_time = 0.0
        # the parts a dashboard page shows (headless runs say nothing: all of them)
        self.parts: frozenset[str] = frozenset(PARTS)
        self.room: Callable[[], bool] = lambda: True  # whether the last one has been taken
        self._taking: frozenset[str] = frozenset(PARTS)  # the parts of the snapshot under way
        self._hooks: list[Any] = []
        self._dead: dict[str, torch.Tensor] = {}
        self._grads: dict[str, float] = {}
        self._cost = 0.0
        self.weighted = [
            (name, m)
            for name, m in self.modules.items()
            if name
            and getattr(m, "weight", None) is not None
            and isinstance(m.weight, torch.Tensor)
        ]

    @property
    def shown(self) -> bool:
        """Whether a dashboard page shows a part of the snapshots."""
        return bool(self.parts)

    def apply_view(self, changes: dict[str, Any]) -> None:
        """Apply ``TrainingControl.set_view`` requests (unknown layers and parts are ignored)."""
        if "snapshots_shown" in changes:
            self.parts = frozenset(PARTS) if changes["snapshots_shown"] else frozenset()
        if "snapshot_parts" in changes:
            asked = changes["snapshot_parts"] or ()
            self.parts = frozenset(p for p in asked if p in PARTS)
        if "filter_layers" in changes:
            self.filter_layers = [n for n in changes["filter_layers"] if n in self.conv_layers]
        if changes.get("feature_layer") in self.modules:
            self.feature_layer = changes["feature_layer"]
        if isinstance(changes.get("feature_image"), int):
            self.feature_image = changes["feature_image"]
        if self.shown:
            self.next_time = 0.0  # show the change at once

    def due(self, final: bool = False) -> bool:
        """Whether a snapshot is to be taken around the next step, and which parts: those
        shown, or all of them when none is. ``final`` (the run's last step, its final
        weights): always, every part."""
        if final:
            self._taking = frozenset(PARTS)
            return True
        if self.clock() < self.next_time or not self.room():
            return False
        self._taking = self.parts or frozenset(PARTS)
        return True

    def before_forward(self) -> None:
        """Hook every ReLU to record the share of units zero for the whole batch."""
        start = time.perf_counter()
        self._dead.clear()
        self._grads = {}
        if "gradients" not in self._taking:
            self._cost = 0.0
            return
        for name in self.relu_layers:

            def hook(_m: nn.Module, _i: Any, out: torch.Tensor, name: str = name) -> None:
                self._dead[name] = (out.detach() <= 0).flatten(1).all(0).float().mean()

            self._hooks.append(self.modules[name].register_forward_hook(hook))
        self._cost = time.perf_counter() - start

    def after_backward(self) -> None:
        """Gradient norms per layer (call after unscaling, before the optimiser step)."""
        start = time.perf_counter()
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()
        if "gradients" not in self._taking:
            return
        names, norms = [], []
        for name, module in self.modules.items():
            grads = [p.grad for p in module.parameters(recurse=False) if p.grad is not None]
            if name and grads:
                names.append(name)
                norms.append(
                    torch.linalg.vector_norm(
                        torch.stack([g.detach().float().norm() for g in grads])
                    )
                )
        values = torch.stack(norms).tolist() if norms else []
        self._grads = dict(zip(names, values, strict=True))
        self._cost += time.perf_counter() - start

    def take(self, step: int, epoch: int) -> Snapshot:
        """Assemble the snapshot and schedule the next one."""
        start = time.perf_counter()
        parts = self._taking
        filters: dict[str, np.ndarray] = {}
        histograms: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        with torch.no_grad():
            if "filters" in parts:
                filters = {
                    name: self.modules[name].weight[:MAX_FILTERS].detach().float().cpu().numpy()
                    for name in self.filter_layers
                }
            for name, module in self.weighted if "gradients" in parts else ():
                w = module.weight.detach().float()
                lo, hi = float(w.min()), float(w.max())
                if not (np.isfinite(lo) and np.isfinite(hi)):
                    continue  # diverged weights: the loss check reports it with advice
                if hi <= lo:
                    hi = lo + 1e-6
                counts = torch.histc(w, HISTOGRAM_BINS, lo, hi).cpu().numpy()
                histograms[name] = (
                    counts,
                    np.linspace(lo, hi, HISTOGRAM_BINS + 1, dtype=np.float32),
                )
            dead = {k: float(v) for k, v in self._dead.items()}
            feature_maps = self._feature_maps() if "feature_maps" in parts else None
        cost = self._cost + time.perf_counter() - start
        interval = self.min_interval if self.shown else IDLE_INTERVAL
        self.next_time = self.clock() + max(interval, cost / self.budget)
        return Snapshot(
            step,
            epoch,
            filters,
            dict(self._grads),
            dead,
            histograms,
            feature_maps,
            cost,
            tuple(p for p in PARTS if p in parts),
        )

    def _feature_maps(self) -> FeatureMaps | None:
        if self.feature_layer is None:
            return None
        x, image, label = self.feature_source(self.feature_image)
        captured: list[torch.Tensor] = []
        module = self.modules[self.feature_layer]
        hook = module.register_forward_hook(lambda _m, _i, out: captured.append(out))
        was_training = self.model.training
        self.model.eval()
        try:
            self.model(x)
        finally:
            hook.remove()
            self.model.train(was_training)
        if not captured or not isinstance(captured[0], torch.Tensor):
            return None
        maps = captured[0][0].detach().float().cpu().numpy()
        return FeatureMaps(self.feature_layer, self.feature_image, image, label, maps)
