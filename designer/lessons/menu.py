"""The Lessons menu and what it opens.

Each lesson (``engine.lessons.lessons.LESSONS``) asks about unsaved work as File ▸ New does,
then opens its design (a preset, or one of ``engine.lessons.designs``), selects the block it is
about, shows its text in the Lesson dock and opens its view (the lecture views through
``designer.lecture.views.open_lecture_view``; the architectures chart). Lessons ▸ Experiments
starts an experiment on the open design (when it suits, else LeNet-5 for Digits) in the
background (``ExperimentRun``); the runs go to
the window's runs folder and the comparison window opens when they are done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QWidget

from designer.document import laid_out_project, preset_project
from designer.lessons.panel import LessonPanel
from engine import DesignerError, Project
from engine.lessons import designs
from engine.lessons.base import BASE_PRESET, choose_base
from engine.lessons.experiments import EXPERIMENTS, TRAIN_ARGS
from engine.lessons.lessons import (
    LESSONS,
    LESSONS_BY_KEY,
    Lesson,
    LessonText,
    focus_node,
    lesson_text,
)


def lesson_project(lesson: Lesson) -> Project:
    """A new project holding the lesson's design, laid out."""
    kind, name = lesson.design.split(":", 1)
    if kind == "preset":
        project = preset_project(name)
    else:
        project = laid_out_project(getattr(designs, name)())
    project.metadata["lesson"] = lesson.key
    return project


class Lessons(QObject):
    """The Lessons menu of one window, its dock, views and experiments."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.lesson: Lesson | None = None
        self.dock: QDockWidget | None = None
        self.panel: LessonPanel | None = None
        self.view: QWidget | None = None
        self.architectures: Any = None  # ArchitectureNumbers, computed on first use
        self.run: Any = None  # the ExperimentRun in progress or last finished
        self.compare: QWidget | None = None
        self.experiment_args: list[str] = list(TRAIN_ARGS)
        self.actions: dict[str, QAction] = {}
        menu = self.menu = window.menuBar().addMenu("&Lessons")
        menu.setObjectName("lessons_menu")
        for lesson in LESSONS:
            self._add(menu, f"lesson_{lesson.key}", lesson.title, lambda k=lesson.key: self.open(k))
        experiments = menu.addMenu("&Experiments")
        experiments.setObjectName("experiments_menu")
        for key, experiment in EXPERIMENTS.items():
            self._add(
                experiments,
                f"experiment_{key}",
                experiment.title,
                lambda k=key: self.start_experiment(k),
            )
        window.document.inferred.connect(self.refresh)
        window.destroyed.connect(lambda *_: self.shutdown())

    def _add(self, menu: Any, name: str, text: str, slot: Any) -> None:
        action = QAction(text, self.window)
        action.setObjectName(name)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        self.actions[name] = action

    # ----- lessons -------------------------------------------------------------------------
    def open(self, key: str) -> bool:
        """Open lesson ``key`` (after asking about unsaved work); False when cancelled."""
        lesson = LESSONS_BY_KEY[key]
        try:
            project = lesson_project(lesson)
        except DesignerError as error:
            self._status(f"Cannot open the lesson: {error}")
            return False
        if not self.window.maybe_save():
            return False
        self.lesson = lesson
        self.window.switch_view("design")
        self.window.document.replace_project(project)
        self.window.canvas.zoom_to_fit()
        focus = focus_node(self.window.document.graph, lesson)
        if focus is not None:
            self.window.document.set_selection([focus])
        self._show_panel()
        self.refresh()
        if lesson.key == "cnn_vs_mlp":  # its numbers are the inspector's rows: show them
            self._show_inspector_rows()
        self.open_view()
        return True

    def _show_inspector_rows(self) -> None:
        """Scroll the inspector to its receptive field and CNN-vs-MLP rows."""
        from PySide6.QtWidgets import QApplication

        inspector = self.window.inspector
        QApplication.processEvents()  # the rows are filled and laid out for the selection
        inspector.ensureWidgetVisible(inspector.lecture, 0, 0)

    def text(self) -> LessonText:
        """The open lesson's text for the design as it is now."""
        assert self.lesson is not None
        if self.lesson.key == "architectures":
            return self._architectures().text()
        document = self.window.document
        try:
            return lesson_text(self.lesson, document.graph, document.result)
        except DesignerError as error:
            return LessonText(problem=f"{self.lesson.title}: {error}")

    def refresh(self, *_args: object) -> None:
        """Fill the panel from the design (after every edit)."""
        if self.lesson is None or self.panel is None:
            return
        experiment = EXPERIMENTS.get(self.lesson.experiment or "")
        self.panel.show_lesson(self.lesson, self.text(), experiment.title if experiment else None)

    def _show_panel(self) -> None:
        if self.dock is None:
            self.panel = LessonPanel(self.open_view, self._lesson_experiment)
            dock = self.dock = QDockWidget("Lesson", self.window)
            dock.setObjectName("lesson_dock")
            dock.setWidget(self.panel)
            self.window.workspace.prepare_dock(dock)
            self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            # under the inspector it got a few lines; give the text about half the column
            self.dock.show()
            self._share_column()
        self.dock.show()
        self.dock.raise_()

    def _share_column(self) -> None:
        """The Lesson dock gets about half of the right column (the inspector the rest)."""
        from PySide6.QtWidgets import QApplication

        QApplication.processEvents()  # the dock is laid out under the inspector first
        assert self.dock is not None
        inspector = self.window.docks["inspector_dock"]
        column = self.dock.geometry().bottom() - inspector.geometry().top()
        half = max(360, column // 2)
        self.window.resizeDocks(
            [inspector, self.dock], [column - half, half], Qt.Orientation.Vertical
        )

    def _architectures(self) -> Any:
        if self.architectures is None:
            from designer.lessons.chart import ArchitectureNumbers

            self.architectures = ArchitectureNumbers()
        return self.architectures

    def open_view(self) -> QWidget | None:
        """Open the open lesson's view for its block; returns it (None: the lesson has none)."""
        lesson = self.lesson
        if lesson is None or lesson.view is None:
            return None
        if lesson.view == "architectures":
            from designer.lessons.chart import ArchitectureChart

            view: QWidget = ArchitectureChart(self._architectures(), self.window)
            view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            view.show()
        else:
            from designer.lecture.views import open_lecture_view

            view = open_lecture_view(
                self.window, lesson.view, focus_node(self.window.document.graph, lesson)
            )
        self.view = view
        return view

    # ----- experiments ---------------------------------------------------------------------
    def _lesson_experiment(self) -> None:
        if self.lesson is not None and self.lesson.experiment is not None:
            self.start_experiment(self.lesson.experiment)

    def run_root(self) -> Path:
        """The window's runs folder (the Runs view lists what is trained there)."""
        return Path(self.window.training.default_run_root())

    def _design_name(self) -> str:
        document = self.window.document
        if document.path is not None:
            return Path(document.path).stem
        return str(document.project.metadata.get("preset") or "")

    def start_experiment(self, key: str) -> bool:
        """Train experiment ``key``'s variants in the background: of the open design when it
        suits the experiment, else of LeNet-5 for Digits (the status line says which)."""
        from designer.lessons.experiment_run import ExperimentRun
        from presets import PRESETS

        if self.run is not None and self.run.is_running():
            self._status("An experiment is already running; wait for its comparison window.")
            return False
        document = self.window.document
        lesson = PRESETS.get(BASE_PRESET)
        choice = choose_base(
            key,
            document.graph,
            document.project.training,
            self._design_name(),
            lesson.create(),
            lesson.display_name,
        )
        try:
            run = ExperimentRun(
                key,
                choice.graph,
                self.run_root(),
                self.experiment_args,
                self,
                choice.dataset,
                choice.note,
            )
        except DesignerError as error:
            self._status(f"Cannot start the experiment: {error}")
            return False
        self.run = run
        run.progress.connect(lambda text: self._status(f"{text} {choice.note}"))
        run.finished.connect(self._experiment_done)
        run.start()
        return True

    def _experiment_done(self) -> None:
        from designer.lessons.compare import CompareWindow

        run = self.run
        if run is None:
            return
        if run.error is not None:
            self._status(f"{run.experiment.title}: failed: {run.error}")
        else:
            self._status(f"{run.experiment.title}: done; runs in {run.root}")
        if run.results:
            self.compare = CompareWindow(run.experiment, run.results, self.window, run.note)
            self.compare.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.compare.show()
        done = [r["run"] for r in run.results if r.get("status") == "done" and r.get("run")]
        try:  # the Runs view lists the new runs (a damaged folder is named there, never raised)
            self.window.training.host.run_ended(done[-1] if done else None, run.root)
        except Exception as error:  # a backstop: the comparison window is shown all the same
            self._status(f"The Runs view could not list the experiment's runs: {error}")

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 15_000)
        if self.panel is not None:
            self.panel.status.setText(text)

    def shutdown(self) -> None:
        """Stop a running experiment (the window is going away)."""
        try:
            if self.run is not None:
                self.run.stop()
        except RuntimeError:  # its Qt objects went with the window: the process went too
            pass
