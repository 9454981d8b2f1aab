"""The document's memory plan, computed lazily: at most once per design or settings change,
a moment after the last edit (``DELAY_MS``), so typing or dragging never waits for it.

The plan is made on a worker thread (``plan_memory`` is pure Python and takes 90-150 ms at
5,000 blocks, which froze the window after every edit there; the interpreter's switch interval
is shortened meanwhile so that the UI thread gets the GIL back at once): the UI thread only
submits it and takes its result, a plan made while the design changed again is dropped and made anew (the
graph's ``version`` tells), so what is shown always belongs to the design shown.

The batch size, optimiser and precision come from the project's training settings (the
precision is "amp" where mixed precision is on and the device may be a GPU, else "fp32"). The
planner is pure Python (``engine.analysis.memory``): nothing here loads torch. Frozen blocks
(``training.freeze``) keep no gradients and no optimiser state; the totals here subtract them.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

if TYPE_CHECKING:
    from designer.document import Document
    from engine.analysis.memory import MemoryPlan
    from engine.inference import InferenceResult
    from engine.training.settings import TrainingSettings

DELAY_MS = 120  # after the last edit; an edit inside it restarts the wait
SWITCH_S = 0.0005  # while a plan is made: how long the UI thread may wait for the GIL

_workers = 0  # plans being made (in all windows), under _lock
_lock = threading.Lock()
_switch = 0.0  # the interpreter's switch interval before the first of them
_jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
_thread: threading.Thread | None = None


def _run_jobs() -> None:
    while True:
        _jobs.get()()


def _submit(job: Callable[[], None]) -> None:
    """Run ``job`` on the planner's worker thread (started once, kept waiting for jobs: the UI
    thread does not wait for a new thread to start)."""
    global _thread
    _yield_more()
    _jobs.put(job)
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_run_jobs, name="memory-plan", daemon=True)
            _thread.start()


def _yield_more() -> None:
    """Let the UI thread take the GIL within ``SWITCH_S`` while a plan is made (from when it
    is submitted until ``_yield_as_before``): the planner is pure Python and would keep it
    5 ms at a time (the interpreter's default), which the UI thread waits each time it comes
    back from Qt."""
    global _workers, _switch
    with _lock:
        if _workers == 0:
            _switch = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch, SWITCH_S))
        _workers += 1


def _yield_as_before() -> None:
    global _workers
    with _lock:
        _workers -= 1
        if _workers == 0:
            sys.setswitchinterval(_switch)


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
    _made = Signal(object, object)  # (key, (plan or None, error or None)), from the worker

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
        self.timer.timeout.connect(self.start)
        self._worker: Callable[[], None] | None = None  # the job being made
        self._finished = threading.Event()
        self._made.connect(self._take)
        document.inferred.connect(lambda *_: self.timer.start())
        document.undo_stack.indexChanged.connect(lambda *_: self.timer.start())  # settings
        document.project_replaced.connect(self.timer.start)
        self.timer.start()

    def _wanted(self) -> tuple[Any, int, PlanSettings] | None:
        """The key of the plan the current design and settings need, None when it is made."""
        doc = self.document
        key = (doc.graph, doc.graph.version, plan_settings(doc.project.training))
        if self._key is not None and key[0] is self._key[0] and key[1:] == self._key[1:]:
            return None
        return key

    def update_now(self) -> None:
        """Make the plan for the current design and settings here and now, unless it is made
        already (the window uses ``start``: on a worker thread)."""
        key = self._wanted()
        if key is not None:
            self._take(key, _make(self.document, key, self.document.result))

    def start(self) -> None:
        """Make the plan on a worker thread unless it is made already or being made (then it
        is started again once that one is done, if the design changed meanwhile)."""
        if self._worker is not None:
            return  # ``_take`` looks again when the running one ends
        key = self._wanted()
        if key is None:
            return
        if not self.document.result.ok:
            self._take(key, (None, "the design has errors"))
            return
        doc, result = self.document, self.document.result

        finished = self._finished = threading.Event()

        def work() -> None:
            try:
                made = _make(doc, key, result)
            except Exception as error:  # never leave the plan unfinished
                made = (None, f"the memory plan failed: {error}")
            finally:
                _yield_as_before()
            with contextlib.suppress(RuntimeError):  # the document is gone (window closed)
                self._made.emit(key, made)
            finished.set()

        self._worker = work
        _submit(work)

    def wait_made(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) until the plan being made is handed to the UI
        thread (taken when its events are processed); for benchmarks and tests."""
        return self._finished.wait(timeout)

    @property
    def busy(self) -> bool:
        """Whether a plan is being made on the worker thread."""
        return self._worker is not None

    def _take(
        self, key: tuple[Any, int, PlanSettings], made: tuple[Plan | None, str | None]
    ) -> None:
        """Show a plan made for ``key``, unless the design or settings changed meanwhile."""
        self._worker = None
        doc = self.document
        current = (doc.graph, doc.graph.version, plan_settings(doc.project.training))
        if key[0] is not current[0] or key[1:] != current[1:]:
            self.timer.start()  # made for a design that changed since: made again
            return
        self._key = key
        self.current, self.error = made
        if made[0] is not None:
            self.computed += 1
        self.changed.emit()


def _make(
    doc: Document, key: tuple[Any, int, PlanSettings], result: InferenceResult
) -> tuple[Plan | None, str | None]:
    """The plan for ``key`` (a graph, its version and the settings) or why there is none; on a
    worker thread the UI thread may change the graph meanwhile: ``_take`` drops the result."""
    from designer.transfer.frozen import frozen_names
    from engine.analysis.memory import MemoryPlanError, plan_memory

    graph, _version, settings = key
    if not result.ok:
        return None, "the design has errors"
    try:
        plan = plan_memory(
            graph,
            settings.batch,
            settings.optimizer,
            settings.precision,
            momentum=settings.momentum,
            device=settings.device,
            result=result,
        )
        frozen = frozen_names(doc)
    except MemoryPlanError as error:
        return None, str(error)
    except Exception as error:  # the design changed under the worker, or a planner bug
        if graph.version != key[1]:
            return None, None  # dropped by ``_take``
        return None, f"the memory plan failed: {error}"
    weights = {layer.name: layer.weights for layer in plan.layers}
    frozen_bytes = sum(weights.get(name, 0) for name in frozen)
    return Plan(plan, settings, frozen_bytes), None


def plans_of(document: Document) -> MemoryPlans:
    """The document's ``MemoryPlans`` (made on first use)."""
    plans = getattr(document, "_memory_plans", None)
    if plans is None:
        plans = MemoryPlans(document)
        document._memory_plans = plans  # type: ignore[attr-defined]
    return plans
