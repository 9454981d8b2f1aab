"""The Train and Runs views' central widgets.

Train: the live dashboard fills the view; a side column keeps the design in sight (a small,
read-only overview of the canvas's own scene, fitted) and the run at hand (Train, Pause,
Resume and Stop, a summary of the training settings and a button to the settings dialog).
Runs: the run browser (the Runs page), full size. Both fill in lazily: the dashboard and the
Runs page load pyqtgraph, which the first frame does without.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QGraphicsScene,
    QGraphicsView,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

SIDE_WIDTH = 280  # pixels: the Train view's side column


class DesignOverview(QGraphicsView):
    """The design, fitted and read-only, on the canvas's own scene (nothing is copied: every
    edit shows at once). A double click asks for the Design view."""

    open_requested = Signal()

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("design_overview")
        self.setInteractive(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("The design (double-click to edit it in the Design view)")
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(100)
        self._fit_timer.timeout.connect(self.fit)

    def sizeHint(self) -> QSize:
        return QSize(SIDE_WIDTH, 220)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 100)

    def fit(self) -> None:
        """Show every block (a hidden overview waits until it is shown)."""
        if not self.isVisible():
            return
        rect = self.scene().itemsBoundingRect()
        if not rect.isNull():
            self.fitInView(rect.adjusted(-20, -20, 20, 20), Qt.AspectRatioMode.KeepAspectRatio)

    def schedule_fit(self, *_args: object) -> None:
        self._fit_timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.open_requested.emit()
        event.accept()


def settings_summary(training: dict[str, Any]) -> str:
    """The training settings in three short lines (or why they cannot be read)."""
    from engine.training.settings import SettingsError, TrainingSettings

    try:
        s = TrainingSettings.from_dict(training)
    except SettingsError as error:
        return f"The stored settings are invalid: {error}"
    schedule = "constant lr" if s.schedule == "constant" else f"{s.schedule} schedule"
    return (
        f"{s.data.dataset}, {s.epochs} epoch(s), batch {s.batch_size}\n"
        f"{s.optimizer} lr {s.lr:g}, {schedule}\n"
        f"device {s.device}, seed {s.seed}"
    )


class TrainView(QWidget):
    """The Train view: side column (overview, run controls, settings) and the dashboard."""

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("train_view")
        self.window_ = window
        self.overview = DesignOverview(window.canvas.scene(), self)
        self.controls = QGroupBox("Run", self)
        self.buttons = QGridLayout()
        self.summary = QLabel("", self.controls)
        self.summary.setObjectName("settings_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.settings_button = QPushButton("Settings…", self.controls)
        self.settings_button.setObjectName("settings_button")
        box = QVBoxLayout(self.controls)
        box.addLayout(self.buttons)
        box.addWidget(self.summary)
        box.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignLeft)
        design = QGroupBox("Design", self)
        design_box = QVBoxLayout(design)
        design_box.setContentsMargins(4, 4, 4, 4)
        design_box.addWidget(self.overview)
        self.side = QWidget(self)
        self.side.setObjectName("train_side")
        self.side.setFixedWidth(SIDE_WIDTH)
        side = QVBoxLayout(self.side)
        side.setContentsMargins(4, 4, 0, 4)
        side.addWidget(self.controls)
        side.addWidget(design, 1)
        self.body = QHBoxLayout(self)
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(4)
        self.body.addWidget(self.side)
        self.dashboard_slot = QVBoxLayout()
        self.body.addLayout(self.dashboard_slot, 1)
        document = window.document
        document.inferred.connect(self.overview.schedule_fit)
        document.project_replaced.connect(self.overview.schedule_fit)
        document.undo_stack.indexChanged.connect(self._refresh_summary)
        document.project_replaced.connect(self._refresh_summary)

    def attach(self, host: QWidget, actions: dict[str, QAction]) -> None:
        """Hold the training ``host`` (the dashboard's container) and the run's actions."""
        self.dashboard_slot.addWidget(host)
        for i, name in enumerate(("train", "pause", "resume", "stop")):
            button = QToolButton(self.controls)
            button.setObjectName(f"{name}_button")
            button.setDefaultAction(actions[name])
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            self.buttons.addWidget(button, i // 2, i % 2)
        self.settings_button.clicked.connect(lambda: actions["training_settings"].trigger())
        controller = getattr(host, "controller", None)
        if controller is not None:  # the settings a run starts with, however they were set
            controller.run_started.connect(self._refresh_summary)
        self._refresh_summary()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._refresh_summary()

    def _refresh_summary(self, *_args: object) -> None:
        text = settings_summary(self.window_.document.project.training)
        if text != self.summary.text():
            self.summary.setText(text)


class RunsView(QWidget):
    """The Runs view: holds the Runs page, built with the dashboard the first time it is needed."""

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runs_view")
        self.window_ = window
        self.page: QWidget | None = None
        self.hint = QLabel("The runs of this design are listed here.", self)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.addWidget(self.hint)

    def adopt(self, page: QWidget) -> None:
        """Show ``page`` (the Runs page) full size."""
        self.hint.hide()
        self.page = page
        self._layout.addWidget(page)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        training = getattr(self.window_, "training", None)
        if self.page is None and training is not None:
            try:
                training.host.ensure_dashboard()
            except Exception as error:  # never out of an event handler: say it here
                self.hint.setText(f"The runs could not be shown: {error}")
