"""The document's memory plan, computed lazily: at most once per design or settings change,
a moment after the last edit (``DELAY_MS``), so typing or dragging never waits for it.

The batch size, optimiser and precision come from the project's training settings (the
precision is "amp" where mixed precision is on and the device may be a GPU, else "fp32"). The
planner is pure Python (``engine.analysis.memory``): nothing here loads torch. Frozen blocks
(``training.freeze``) keep no gradients and no optimiser state; the totals here subtract them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

if TYPE_CHECKING:
    from designer.document import Document
    from engine.analysis.memory import MemoryPlan
    from engine.training.settings import TrainingSettings

DELAY_MS = 120  # after the last edit; an edit inside it restarts the wait


@dataclass(frozen=True)
class PlanSettings:
    """What the plan depends on besides the design."""

    batch: int
    optimizer: str
    precision: str
    momentum: float
    device: str
    frozen: frozenset[str]


@dataclass(frozen=True)
class Plan:
    """A memory plan and the settings it was made for; ``frozen_weights``: the bytes of the
    frozen blocks' weights (no gradients or optimiser state for those)."""

    plan: MemoryPlan
    settings: PlanSettings
    frozen_weights: int

    @property
    def gradients(self) -> int:
        return self.plan.gradients - self.frozen_weights

    @property
    def optimizer_state(self) -> int:
        if not self.plan.weights:
            return 0
        per_weight = self.plan.optimizer_state // self.plan.weights
        return self.plan.optimizer_state - per_weight * self.frozen_weights

    @property
    def total_training(self) -> int:
        saved = self.plan.gradients - self.gradients
        saved += self.plan.optimizer_state - self.optimizer_state
        return self.plan.total_training - saved

    def activations(self, name: str) -> int | None:
        layer = self.by_name().get(name)
        return None if layer is None else layer.activations

    def by_name(self) -> dict[str, Any]:
        cached = self.__dict__.get("_by_name")
        if cached is None:
            cached = {layer.name: layer for layer in self.plan.layers}
            object.__setattr__(self, "_by_name", cached)
        return cached


def plan_settings(training: dict[str, Any]) -> PlanSettings:
    """The planner's settings from the project's stored training settings (their defaults
    where those are invalid: the settings dialog reports that)."""
    from engine.training.settings import SettingsError, TrainingSettings

    try:
        settings: TrainingSettings = TrainingSettings.from_dict(training)
    except SettingsError:
        settings = TrainingSettings()
    gpu = settings.device not in ("cpu", "mps")
    return PlanSettings(
        batch=settings.batch_size,
        optimizer=settings.optimizer,
        precision="amp" if settings.mixed_precision and gpu else "fp32",
        momentum=settings.momentum if settings.optimizer in ("sgd", "rmsprop") else 0.0,
        device="cuda" if gpu else "cpu",
        frozen=frozenset(settings.freeze),
    )


class MemoryPlans(QObject):
    """One per document (``plans_of``): ``current`` is the latest plan (None for a design
    with errors, or before the first one is made); ``changed`` says a new one is there."""

    changed = Signal()

    def __init__(self, document: Document) -> None:
        super().__init__(document)
        self.document = document
        self.current: Plan | None = None
        self.error: str | None = None
        self.computed = 0  # how many plans were made (a test counts them)
        self._key: tuple[Any, int, PlanSettings] | None = None  # (graph, its version, settings)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DELAY_MS)
        self.timer.timeout.connect(self.update_now)
        document.inferred.connect(lambda *_: self.timer.start())
        document.undo_stack.indexChanged.connect(lambda *_: self.timer.start())  # settings
        document.project_replaced.connect(self.timer.start)
        self.timer.start()

    def update_now(self) -> None:
        """Make the plan for the current design and settings unless it is made already."""
        from designer.transfer.frozen import frozen_names
        from engine.analysis.memory import MemoryPlanError, plan_memory

        doc = self.document
        settings = plan_settings(doc.project.training)
        key = (doc.graph, doc.graph.version, settings)
        if self._key is not None and key[0] is self._key[0] and key[1:] == self._key[1:]:
            return
        self._key = key
        if not doc.result.ok:
            self.current, self.error = None, "the design has errors"
        else:
            try:
                plan = plan_memory(
                    doc.graph,
                    settings.batch,
                    settings.optimizer,
                    settings.precision,
                    momentum=settings.momentum,
                    device=settings.device,
                    result=doc.result,
                )
            except MemoryPlanError as error:
                self.current, self.error = None, str(error)
            else:
                frozen = frozen_names(doc)
                weights = {layer.name: layer.weights for layer in plan.layers}
                frozen_bytes = sum(weights.get(name, 0) for name in frozen)
                self.current, self.error = Plan(plan, settings, frozen_bytes), None
                self.computed += 1
        self.changed.emit()


def plans_of(document: Document) -> MemoryPlans:
    """The document's ``MemoryPlans`` (made on first use)."""
    plans = getattr(document, "_memory_plans", None)
    if plans is None:
        plans = MemoryPlans(document)
        document._memory_plans = plans  # type: ignore[attr-defined]
    return plans
