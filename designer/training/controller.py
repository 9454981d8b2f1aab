"""The Train, Pause, Resume, Stop and Training settings actions of the main window.

Train checks the design first (inference errors: refuse and show the Problems tab; the Input
block against the data set: convert the data automatically when the settings allow it, else
offer the fixes), then starts ``engine.training.runner.start_training`` on a copy of the graph in
a separate process. A QTimer polls the handle every 100 ms and hands the events to the
dashboard. While a run trains the design stays editable: a banner says edits apply to the next
run (the running process trains the copy it was given). A failed run shows its message in the
dashboard and the status bar; the window and the graph are untouched. The dashboard fills the
window's Train view; starting a run switches to it.

Settings live in ``project.training``; the dialog stores them as one undoable step
(``SetTrainingSettings``), so the document is marked modified and Undo restores them.
"""

from __future__ import annotations

import gc
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow

from designer.commands import DocumentCommand
from designer.training import preflight_gui

if TYPE_CHECKING:  # the training package loads when first needed, not on the way to the window
    from engine.data.agreement import ShapeAgreement
    from engine.preflight import Finding, PreflightFix
    from engine.training.settings import TrainingSettings

POLL_MS = 100
STOP_GRACE_MS = 15_000  # a run that ignores Stop this long is killed
NEXT_RUN_BANNER = (
    "A run is training a copy of the design: edits you make now apply to the next run."
)
# C×H×W of each built-in or downloadable data set's images (imagefolder follows the Input block)
SAMPLE_SHAPES: dict[str, tuple[int, int, int]] = {
    "digits": (1, 8, 8),
    "shapes": (3, 32, 32),
    "mnist": (1, 28, 28),
    "fashion_mnist": (1, 28, 28),
    "cifar10": (3, 32, 32),
}


def settings_from_project(training: dict[str, Any]) -> TrainingSettings:
    """The project's stored settings. Raises SettingsError naming a bad field."""
    from engine.training.settings import TrainingSettings

    return TrainingSettings.from_dict(training)


def input_agreement(graph: Any, settings: TrainingSettings) -> ShapeAgreement | None:
    """The Input block against the data set's images (None when it cannot be known here)."""
    from engine.data.agreement import check_input_shape

    inputs = graph.nodes_of_type("input")
    sample = SAMPLE_SHAPES.get(settings.data.dataset)
    if len(inputs) != 1 or sample is None:
        return None
    node = inputs[0]
    return check_input_shape(node.params.get("shape", ()), sample, settings.data.dataset, node.name)


class SetTrainingSettings(DocumentCommand):
    """Replace ``project.training`` (one undo step)."""

    def __init__(self, document: Any, new: dict[str, Any]) -> None:
        super().__init__(document, "Change training settings")
        self.old = dict(document.project.training)
        self.new = dict(new)

    def redo(self) -> None:
        self.doc.project.training = dict(self.new)

    def undo(self) -> None:
        self.doc.project.training = dict(self.old)


def settle_heap() -> None:
    """Collect once, then move every object alive into the collector's permanent generation
    (``gc.freeze``). With the window, pyqtgraph and often torch loaded, a full collection walks
    a quarter of a million objects (about 0.1 s on this machine) and came, unannounced, in the
    middle of a run as an 80-140 ms freeze of the window; after this, the collections during
    the run walk only what the run made. Objects frozen are still freed by reference counting."""
    gc.collect()
    gc.freeze()


class TrainingController(QObject):
    """Owns the training actions, the running handle and the dashboard of one window."""

    run_started = Signal()
    run_ended = Signal(str)  # completed, stopped, failed

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        from designer.training.host import DashboardHost

        self.window = window
        self.document = window.document
        self.handle: Any = None
        self.run_root: Path | None = None  # None: beside the project file (or the user data dir)
        self.last_run_dir: str | None = None
        self.max_tick_seconds = 0.0  # longest poll+draw, for the benchmark
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.host = DashboardHost(self, window)
        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self._update_actions()
        window.attach_training(self)  # the dashboard fills the Train view
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        window.destroyed.connect(lambda *_: self.shutdown())

    # ----- actions ---------------------------------------------------------------------------
    def _build_actions(self) -> None:
        w = self.window
        specs = (
            ("train", "&Train", self.train, "F5", "Compile the design and train it"),
            ("pause", "&Pause training", self.pause, "F6", "Pause after the current batch"),
            ("resume", "&Resume training", self.resume, "Shift+F6", "Continue a paused run"),
            ("stop", "&Stop training", self.stop, "Shift+F5", "Stop after the current batch"),
            ("check", "&Check design", self.check, None, "Check the design against the data set"),
            ("deep_check", "&Deep check", self.deep_check, None, "Train 16 images a few seconds"),
            ("training_settings", "Training &settings…", self.edit_settings, None, None),
        )
        menu = w.menuBar().addMenu("&Training")
        toolbar = getattr(w, "toolbar", None)
        if toolbar is not None:
            toolbar.addSeparator()
        for name, text, slot, shortcut, tip in specs:
            action = QAction(text, w)
            action.setObjectName(name)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            if tip:
                action.setStatusTip(tip)
            action.setIconText(text.strip("&").split()[0].rstrip("…"))  # "Pause" on buttons
            action.triggered.connect(lambda _checked=False, s=slot: s())
            w.addAction(action)
            menu.addAction(action)
            if toolbar is not None and name not in ("training_settings", "check", "deep_check"):
                toolbar.addAction(action)
            self.actions[name] = action
            if hasattr(w, "actions_by_name"):
                w.actions_by_name[name] = action

    def _update_actions(self) -> None:
        running = self.is_running()
        paused = (
            running and self.host.dashboard is not None and self.host.dashboard.state == "paused"
        )
        self.actions["train"].setEnabled(not running)
        self.actions["stop"].setEnabled(running)
        self.actions["pause"].setEnabled(running and not paused)
        self.actions["resume"].setEnabled(running and paused)

    def is_running(self) -> bool:
        return self.handle is not None

    def _status(self, text: str, ms: int = 10_000) -> None:
        self.window.statusBar().showMessage(text, ms)

    # ----- settings ----------------------------------------------------------------------------
    def settings(self) -> TrainingSettings:
        """The project's training settings (SettingsError when the stored ones are invalid)."""
        return settings_from_project(self.document.project.training)

    def store_settings(self, settings: TrainingSettings) -> None:
        """Keep ``settings`` in the project as one undo step (marks the document modified)."""
        new = settings.to_dict()
        if new != self.document.project.training:
            self.document.undo_stack.push(SetTrainingSettings(self.document, new))

    def edit_settings(self) -> bool:
        """Open the settings dialog; True when the user saved new settings."""
        from designer.training.settings_dialog import TrainingSettingsDialog
        from engine.training.settings import SettingsError, TrainingSettings

        try:
            current = self.settings()
        except SettingsError as error:
            self._status(f"Stored training settings are invalid, defaults shown: {error}")
            current = TrainingSettings()
        inputs = self.document.graph.nodes_of_type("input")
        shape = tuple(int(v) for v in inputs[0].params.get("shape", ())) if inputs else ()
        chw = (shape[0], shape[1], shape[2]) if len(shape) == 3 else None  # for the preview
        dialog = TrainingSettingsDialog(current, self.window, input_shape=chw)
        if dialog.exec():
            self.store_settings(dialog.result_settings)
            return True
        return False

    # ----- train -----------------------------------------------------------------------------
    def train(self) -> bool:
        """Check the design and start a run; False (with the reason shown) when refused."""
        apply_typed = getattr(self.window, "apply_typed_edits", None)
        if apply_typed is not None:  # a value typed in the inspector belongs to the design
            apply_typed()
        if self.is_running():
            self._status("A run is already training: stop it first")
            return False
        from engine.training.settings import SettingsError

        result = self.document.result
        if not result.ok:
            self._show_problems()
            self._status(
                f"Cannot train: the design has {len(result.errors)} error(s). "
                "Fix them in the Problems list first"
            )
            return False
        try:
            settings = self.settings()
        except SettingsError as error:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.critical(self.window, "Invalid training settings", str(error))
            return False
        if preflight_gui.refuses(self, settings, skip=("input",)):  # _agree handles the input
            return False
        settings = self._agree(settings)
        if settings is None:
            return False
        return self._start(settings)

    def check(self) -> bool:
        """Training ▸ Check design: the pre-flight checks, with their fixes one click away."""
        return preflight_gui.check(self)

    def deep_check(self) -> bool:
        """Training ▸ Deep check: a few seconds on a small batch (ln C, overfit, lr)."""
        return preflight_gui.deep_check(self)

    def ask_preflight(self, finding: Finding) -> PreflightFix | None:
        """Show a refusing finding with a button per fix; the fix clicked, or None."""
        return preflight_gui.ask(self.window, finding)

    def _show_problems(self) -> None:
        self.window.show_problems()  # in the Design view

    def _agree(self, settings: TrainingSettings) -> TrainingSettings | None:
        """Settings under which the data fits the Input block, or None when the user cancels."""
        agreement = input_agreement(self.document.graph, settings)
        if agreement is None or agreement.ok:
            return settings
        if settings.data.fit_input and agreement.data_fix_possible:
            self._status(f"{agreement.message}: the data is converted for this run", 8000)
            return settings
        choice = self.ask_agreement(agreement)
        if choice == "data" and agreement.data_fix_possible:
            settings = replace(settings, data=settings.data.with_fit(agreement))
            self.store_settings(settings)
            return settings
        if choice == "input" and agreement.input_fix is not None:
            self.document.apply_fix(agreement.input_fix)
            if not self.document.result.ok:
                self._show_problems()
                self._status("The Input block now fits the data, but the design has errors")
                return None
            return settings
        return None

    def ask_agreement(self, agreement: ShapeAgreement) -> str:
        """Ask how to resolve a mismatch: "data", "input" or "" (cancel). Tests replace this."""
        from PySide6.QtWidgets import QMessageBox  # on first use: its enums cost start-up time

        box = QMessageBox(self.window)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Input block and data disagree")
        box.setText(agreement.message)
        buttons = {}
        if agreement.data_fix_possible:
            buttons[box.addButton("Convert the data", QMessageBox.ButtonRole.AcceptRole)] = "data"
        if agreement.input_fix is not None:
            label = agreement.input_fix.label
            buttons[box.addButton(label, QMessageBox.ButtonRole.ActionRole)] = "input"
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return buttons.get(box.clickedButton(), "")

    def default_run_root(self) -> Path:
        """Runs go beside the project file, or in the user data dir for an unsaved design."""
        if self.run_root is not None:
            return self.run_root
        if self.document.path is not None:
            path = Path(self.document.path)
            return path.with_name(f"{path.stem}.runs")
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        name = str(self.document.project.metadata.get("preset") or "untitled")
        return Path(base or Path.home() / ".cnn-designer") / "runs" / name

    def _start(self, settings: TrainingSettings) -> bool:
        from engine.training.runner import start_training
        from engine.training.settings import SettingsError

        failure: Exception | None = None
        try:
            self.handle = start_training(
                self.document.graph.to_data(), settings, self.default_run_root()
            )
        except (SettingsError, OSError) as error:
            failure = error
        # built after the process starts: loading pyqtgraph (about 0.4 s, the first time) then
        # overlaps the training process loading PyTorch, before its first event can arrive
        dashboard = self.host.ensure_dashboard()
        dashboard.begin(
            f"Starting a run on {settings.data.dataset}: {settings.epochs} epoch(s), "
            f"batch {settings.batch_size}… (the training process loads PyTorch first)"
        )
        if failure is not None:
            dashboard.show_failure(str(failure))
            self._status(f"Training could not start: {failure}")
            return False
        dashboard.set_banner(NEXT_RUN_BANNER)
        self.max_tick_seconds = 0.0
        self.timer.start()
        self.show_dashboard()
        self._update_actions()
        self._status("Training started")
        self.run_started.emit()
        settle_heap()
        return True

    def show_dashboard(self) -> None:
        self.window.switch_view("train")

    # ----- while running -----------------------------------------------------------------------
    def poll(self) -> None:
        """One UI tick: take the events that arrived and draw them (never blocks)."""
        if self.handle is None:
            self.timer.stop()
            return
        start = time.perf_counter()
        events = self.handle.poll_events(max_events=5000)
        dashboard = self.host.dashboard
        if events and dashboard is not None:
            try:
                dashboard.apply(events)
            except Exception as error:  # a drawing fault must not keep the run's end unseen
                self._status(f"The dashboard could not draw the latest events: {error}")
        for event in events:
            kind = getattr(event, "kind", "")
            if kind == "run_started":
                self.last_run_dir = event.run_dir
            elif kind == "paused":  # the request said "Pausing…": now it has taken effect
                self._status(f"Paused at step {event.step}: Resume training continues the run", 0)
                self._update_actions()
            elif kind == "resumed":
                self._status("Training resumed")
                self._update_actions()
            elif kind in ("finished", "failed"):
                self._ended(event)
                break
        self.max_tick_seconds = max(self.max_tick_seconds, time.perf_counter() - start)

    def _ended(self, event: Any) -> None:
        self.timer.stop()
        handle, self.handle = self.handle, None
        self._reap(handle)
        status = "failed" if event.kind == "failed" else event.status
        try:
            dashboard = self.host.dashboard
            if dashboard is not None:
                dashboard.set_banner("")
            if event.kind == "failed":
                self._status(f"Training failed: {event.message}", 20_000)
            else:
                from designer.training.dashboard import best_accuracy_text

                best = best_accuracy_text(event)
                self._status(f"Training {status}" + (f", {best}" if best else ""), 20_000)
            if event.run_dir:
                self.last_run_dir = event.run_dir
            self.host.run_ended(self.last_run_dir, self.default_run_root())
        except Exception as error:  # the run has ended: Train must come back whatever happens
            self._status(f"Training {status}; the Training tab could not be updated: {error}")
        finally:
            self._update_actions()
        self.run_ended.emit(status)

    def _reap(self, handle: Any) -> None:
        """Join the ended process once it has exited, without waiting on the UI thread."""
        if handle.join(0):
            return
        QTimer.singleShot(250, lambda: self._reap(handle))

    def pause(self) -> None:
        if self.handle is not None:
            self.handle.pause()
            self._status("Pausing after the current batch…")

    def resume(self) -> None:
        if self.handle is not None:
            self.handle.resume()
            self._status("Resuming")

    def stop(self) -> None:
        """Ask the run to stop after the current batch; kill it if it does not answer."""
        if self.handle is None:
            return
        handle = self.handle
        handle.stop()
        self._status("Stopping after the current batch…")
        grace = STOP_GRACE_MS
        QTimer.singleShot(grace, lambda: self._kill_if_stuck(handle, grace))

    def _kill_if_stuck(self, handle: Any, grace_ms: int = STOP_GRACE_MS) -> None:
        if handle is self.handle and handle.is_alive():
            # poll() then reports the ended process as a Failed event giving this reason, and
            # the handle records the end in the run folder
            handle.kill(
                f"the training process did not answer Stop within {grace_ms / 1000:g} s (it "
                "may be stuck inside an operation), so the designer ended it"
            )

    def set_view(self, changes: dict[str, Any]) -> None:
        """Forward a dashboard view choice (layer, image) to the running process."""
        if self.handle is not None:
            self.handle.set_view(**changes)

    def shutdown(self) -> None:
        """End a running process (window closing or application quitting)."""
        self.timer.stop()
        if self.handle is not None:
            handle, self.handle = self.handle, None
            handle.shutdown(grace=3.0)
