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
        self.ensure_dashboard()

    def ensure_dashboard(self) -> TrainingDashboard:
        """Build the dashboard (imports pyqtgraph) on first use."""
        if self.dashboard is None:
            from designer.training.dashboard import TrainingDashboard
            from designer.training.predict import PredictPage
            from designer.training.runs_page import RunsPage

            self.hint.hide()
            self.dashboard = TrainingDashboard(self)
            self.dashboard.view_changed.connect(self.controller.set_view)
            self.predict = PredictPage(self.dashboard)
            self.runs = RunsPage(self.dashboard)
            self.dashboard.pages.addTab(self.predict, "Predict")
            self.dashboard.pages.addTab(self.runs, "Runs")
            self.runs.set_root(self.controller.default_run_root())
            if self.controller.last_run_dir:
                self.predict.set_run(self.controller.last_run_dir)
            self._layout.addWidget(self.dashboard)
        return self.dashboard

    def run_ended(self, run_dir: str | None, root: Path) -> None:
        """A run finished or failed: offer its checkpoint for prediction, list it with the rest."""
        self.ensure_dashboard()
        if run_dir:
            self.predict.set_run(run_dir)
        self.runs.set_root(root)
