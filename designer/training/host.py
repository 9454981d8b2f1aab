"""The Training tab as a light container: the pyqtgraph dashboard is built the first time the
tab is shown or a run starts, so neither pyqtgraph nor torch loads at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from designer.training.dashboard import TrainingDashboard


class DashboardHost(QWidget):
    """Holds the dashboard once built; until then a one-line hint on how to start a run."""

    def __init__(self, controller: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("training_tab")
        self.controller = controller
        self.dashboard: TrainingDashboard | None = None
        self.predict: Any = None
        self.runs: Any = None
        self.hint = QLabel(
            "Press Train (F5) to train the design; Training ▸ Training settings… chooses the "
            "data set, optimiser and schedule.",
            self,
        )
        self.hint.setWordWrap(True)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.hint)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        try:
            self.ensure_dashboard()
        except Exception as error:  # never out of an event handler: say it in the tab
            self.hint.setText(f"The training dashboard could not be shown: {error}")
            self.hint.show()

    def ensure_dashboard(self) -> TrainingDashboard:
        """Build the dashboard (imports pyqtgraph) on first use."""
        if self.dashboard is None:
            from designer.training.dashboard import TrainingDashboard
            from designer.training.predict import PredictPage
            from designer.training.runs_page import RunsPage

            self.hint.hide()
            self.dashboard = TrainingDashboard(self)
            self.dashboard.view_changed.connect(self.controller.set_view)
            self.dashboard.epoch_ended.connect(self._epoch_ended)
            self.dashboard.paused.connect(self._run_paused)
            self.predict = PredictPage(self.dashboard)
            self.runs = RunsPage(self.dashboard, clock=self.dashboard.run_clock)
            self.dashboard.pages.addTab(self.predict, "Predict")
            workspace = getattr(self.controller.window, "workspace", None)
            runs_view = getattr(workspace, "runs_view", None)
            if runs_view is not None:  # the window's Runs view shows the page full size
                runs_view.adopt(self.runs)
                workspace.view_changed.connect(self._view_shown)
            else:
                self.dashboard.pages.addTab(self.runs, "Runs")
            # in the tab before the run folders are read: a damaged one cannot leave it blank
            self._layout.addWidget(self.dashboard)
            self._show_runs(self.controller.last_run_dir, self.controller.default_run_root())
        return self.dashboard

    def _view_shown(self, name: str) -> None:
        """The window switched views: its charts are laid out before they are painted."""
        if self.dashboard is None:
            return
        if name == "runs":
            self.dashboard.settler.start(self.runs)
        elif name == "train":
            self.dashboard.settler.start(self.dashboard.pages.currentWidget())

    def _epoch_ended(self, end: Any) -> None:
        """A running run ended an epoch (its checkpoints are written): the Runs page shows its
        row and curves as they are, Predict uses its checkpoint; never raises."""
        started = self.dashboard.started if self.dashboard is not None else None
        run_dir = started.run_dir if started is not None else None
        if run_dir is None or self.runs is None:
            return
        try:
            self.runs.follow(run_dir, self.controller.default_run_root())
        except Exception as error:  # a backstop: the run goes on whatever the page does
            self.runs.folder.setText(f"The running run cannot be shown: {error}")
        try:
            self.predict.follow(run_dir, end.epoch)
        except Exception as error:
            self.predict.info.setText(f"Cannot predict with the running run: {error}")

    def _run_paused(self) -> None:
        """The run paused: the Runs page shows its latest epoch, even one its pacing held."""
        if self.runs is not None:
            self.runs.flush_follow()

    def run_ended(self, run_dir: str | None, root: Path) -> None:
        """A run finished or failed: offer its checkpoint for prediction (or the latest run's
        that has one), list it with the rest."""
        self.ensure_dashboard()
        self._show_runs(run_dir, root)

    def _show_runs(self, run_dir: str | None, root: Path) -> None:
        """Fill the Runs and Predict pages; a damaged run folder is named, never raised."""
        history = getattr(self.controller.window, "run_roots", None)  # folders before Save As
        try:
            self.runs.set_root(root, history.earlier if history is not None else None)
        except Exception as error:  # set_root contains what it knows; this is a backstop
            self.runs.folder.setText(f"Runs in {root} cannot be listed: {error}")
        try:
            self.predict.choose_run(run_dir, root)
        except Exception as error:
            self.predict.info.setText(f"Cannot choose a run to predict with: {error}")
