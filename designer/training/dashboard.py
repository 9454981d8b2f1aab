"""The live training dashboard: curves, progress, filters, feature maps, gradient flow,
evaluation, prediction after training and the runs of the project.

``apply(events)`` takes every event that arrived since the last UI tick and draws once: steps
are appended to growable arrays and the curves get one ``setData`` each; of several snapshots
only the newest is drawn; epoch ends extend the per-epoch curves and redraw the evaluation page.
All pyqtgraph items are created once here and reused for every run.

Only the page in front draws, at a bounded rate (curves 5 times a second, the other pages
twice: with epochs of a tenth of a second, a confusion matrix and its gallery every epoch took
a tenth of the run's time),
and nothing draws while the dashboard is hidden; a page brought to the front draws the latest
data once. The training process hears which snapshot parts the page in front draws
(``view_changed``: ``{"snapshot_parts": ("filters",)}``, ``()`` for none) and computes only
those at the live rate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.training.images import ema
from designer.training.pacing import DrawPacer
from designer.training.series import Series
from designer.training.settling import ChartSettler
from designer.training.visuals import EvaluationPage, FeatureMapsPage, FiltersPage, GradientsPage
from designer.training.widgets import (
    COLOURS,
    EpochCurve,
    PlotArea,
    SteadyRanges,
    legend_above,
    readable_plot,
    readable_progress_text,
    steady_left_axis,
)
from designer.workspace.elided import ElidedLabel
from engine.training.events import (
    EpochEnd,
    Failed,
    Finished,
    Paused,
    Resumed,
    RunStarted,
    Snapshot,
    Step,
)

SMOOTHING = 0.1  # weight of the newest loss in the smoothed curve
CURVE_INTERVAL = 0.2  # seconds: curves redraw at 5 Hz at most (each redraw repaints 4 plots)
PAGE_INTERVAL = 0.5  # seconds: a snapshot or evaluation page redraws at 2 Hz at most
# the share of one core that each of the two (curves and header; the page in front) may take
# while a run trains: a draw that took c seconds of the UI thread waits c / DRAW_BUDGET
DRAW_BUDGET = 0.02


def format_seconds(seconds: float) -> str:
    """``1:05`` or ``1:02:03``; ``--:--`` when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "--:--"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}:{secs:02d}"
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def best_accuracy_text(end: Finished) -> str:
    """``best validation accuracy 91.2%``; without a validation split the figure is a training
    accuracy and says so; "" when the run has none (stopped before its first epoch)."""
    if end.best_val_accuracy is not None:
        return f"best validation accuracy {end.best_val_accuracy:.1%}"
    train = (end.extra or {}).get("best_train_accuracy")
    if isinstance(train, int | float) and not isinstance(train, bool) and math.isfinite(train):
        return f"best training accuracy {train:.1%} (no validation split)"
    return ""


class CurvesPage(PlotArea):
    """Loss (raw, smoothed, validation), accuracy, learning rate and throughput."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = readable_plot(self, "Loss")
        legend_above(self.loss_plot, 3)
        self.loss_plot.setLabel("bottom", "step")
        self.raw = self.loss_plot.plot(pen=pg.mkPen("#9ecae1", width=1), name="per step")
        self.smooth = self.loss_plot.plot(pen=pg.mkPen("#08519c", width=1), name="smoothed")
        self.val_loss = EpochCurve(self.loss_plot, "#d62728", "o", "validation")
        for curve in (self.raw, self.smooth):
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
        self.acc_plot = readable_plot(self, "Accuracy")
        legend_above(self.acc_plot, 2)
        self.acc_plot.setLabel("bottom", "epoch")
        self.acc_plot.setYRange(0, 1)
        self.train_acc = EpochCurve(self.acc_plot, "#1f77b4", "s", "training")
        self.val_acc = EpochCurve(self.acc_plot, "#d62728", "o", "validation")
        self.nextRow()
        self.lr_plot = readable_plot(self, "Learning rate")
        self.lr_plot.setLabel("bottom", "step")
        # 1-pixel lines for the secondary curves: Qt strokes wider lines several times slower
        self.lr = self.lr_plot.plot(pen=pg.mkPen(COLOURS[2], width=1))
        self.speed_plot = readable_plot(self, "Images per second")
        self.speed_plot.setLabel("bottom", "step")
        self.speed = self.speed_plot.plot(pen=pg.mkPen(COLOURS[4], width=1))
        self._ranges = SteadyRanges()
        for plot in (self.loss_plot, self.acc_plot, self.lr_plot, self.speed_plot):
            steady_left_axis(plot)

    def set_run_length(self, total_steps: int, epochs: int) -> None:
        """Fix the x axes to the whole run, so they are not re-laid out on every update."""
        for plot in (self.loss_plot, self.lr_plot, self.speed_plot):
            plot.disableAutoRange()
            plot.setXRange(0, max(total_steps, 1), padding=0.02)
        self.acc_plot.disableAutoRange()
        self.acc_plot.setXRange(1, max(epochs, 2), padding=0.04)
        self.acc_plot.setYRange(0, 1, padding=0.02)
        self._ranges.clear()

    def fit_top(self, plot: pg.PlotItem, highest: float) -> None:
        """Keep the y axis at [0, top], moving top only when the data outgrow it or fall far
        below it: a steady axis is not redrawn (its ticks are the costly part of a repaint)."""
        if highest > 0:
            self._ranges.follow(plot, "y", 0.0, highest, margin=0.2, from_zero=True)


class TrainingDashboard(QWidget):
    """Everything a person watches while a network trains (a bottom tab of the main window)."""

    view_changed = Signal(dict)  # what snapshots should show: for TrainingHandle.set_view
    epoch_ended = Signal(object)  # an EpochEnd of the run shown (its checkpoint is written)
    paused = Signal()  # the run shown paused (after the events of its tick are drawn)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("training_dashboard")
        # opaque: an update in here repaints only the dashboard, not the dock and window behind
        self.setAutoFillBackground(True)
        # elided (the whole text in its tooltip): a run folder path must not widen the window
        self.title = ElidedLabel("No run yet: press Train.", self)
        self.title.setObjectName("dashboard_title")
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p%")
        self.progress.setMinimumWidth(260)
        readable_progress_text(self.progress)
        self.eta = QLabel("", self)
        self.speed_label = QLabel("", self)
        # fixed sizes: Qt re-lays out the parents (up to the main window) of a label whose text
        # changes unless its width and height are both fixed
        line = self.eta.sizeHint().height()
        self.eta.setFixedSize(230, line)
        self.speed_label.setFixedSize(120, line)
        self.banner = QLabel("", self)
        self.banner.setObjectName("dashboard_banner")
        self.banner.setWordWrap(True)
        self.banner.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.banner.hide()
        self.message = QLabel("", self)
        self.message.setObjectName("dashboard_message")
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message.hide()
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(110)
        self.details.hide()
        self.curves = CurvesPage(self)
        self.filters = FiltersPage(self)
        self.feature_maps = FeatureMapsPage(self)
        self.gradients = GradientsPage(self)
        self.evaluation = EvaluationPage(self)
        self.pages = QTabWidget(self)
        self.pages.setObjectName("dashboard_pages")
        for page, title in (
            (self.curves, "Curves"),
            (self.filters, "Filters"),
            (self.feature_maps, "Feature maps"),
            (self.gradients, "Gradient flow"),
            (self.evaluation, "Evaluation"),
        ):
            self.pages.addTab(page, title)
        for page in (self.filters, self.feature_maps):
            page.view_changed.connect(self.view_changed)
        self.pages.currentChanged.connect(self._draw_current_page)
        self.pages.currentChanged.connect(self._tell_snapshot_demand)
        self.settler = ChartSettler(self)  # a page brought to the front settles, then paints
        self.pages.currentChanged.connect(
            lambda _index: self.settler.start(self.pages.currentWidget())
        )
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.speed_label)
        header.addWidget(self.eta)
        header.addWidget(self.progress)
        self.header = header
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.message)
        layout.addWidget(self.details)
        layout.addWidget(self.pages, 1)
        self.loss = Series()
        self.smoothed = Series()
        self.lrs = Series()
        self.speeds = Series()
        self.val_losses = Series(64)
        self.train_accs = Series(64)
        self.val_accs = Series(64)
        self.started: RunStarted | None = None
        self.state = "idle"  # idle, running, paused, completed, stopped, failed
        self.last_step: Step | None = None
        self.last_event_time = 0.0
        self.draw_seconds = 0.0  # time spent in the latest apply()
        self._drawn: dict[str, int] = {}  # series name -> size when last drawn
        # paced on the run's own clock (training seconds, pauses left out; see run_clock)
        self._trained = 0.0  # the run's training seconds at its latest Step
        self.curve_pacer = DrawPacer(CURVE_INTERVAL, DRAW_BUDGET, clock=self.run_clock)
        self._undrawn = False  # data arrived that the header and curves do not show yet
        self._curves_stale = False  # the curves page was not in front when data arrived
        self.page_pacer = DrawPacer(PAGE_INTERVAL, DRAW_BUDGET, clock=self.run_clock)
        self._progress_text = ""
        # snapshot and evaluation pages are drawn only while shown: the latest data waits here
        self._snapshots: dict[str, Snapshot] = {}  # part -> the newest snapshot that has it
        self._epoch_end: EpochEnd | None = None
        self._page_drawn: dict[str, object] = {}  # page name -> the data it shows
        self._parts_told: tuple[str, ...] | None = None  # as last told to the training process

    @property
    def page_interval(self) -> float:
        """Seconds between two draws of a snapshot or evaluation page, at least."""
        return self.page_pacer.interval

    @page_interval.setter
    def page_interval(self, seconds: float) -> None:
        """0 draws every new snapshot or evaluation (no rate and no CPU budget)."""
        if seconds > 0:
            self.page_pacer = DrawPacer(seconds, DRAW_BUDGET, clock=self.run_clock)
        else:  # on the wall clock with the whole budget: a draw never costs more than it lasts
            self.page_pacer = DrawPacer(0.0, 1.0)

    def run_clock(self) -> float:
        """The run's training seconds so far (its latest Step's ``elapsed``): the pacers'
        clock. The window draws at most so often, and spends at most ``DRAW_BUDGET`` of this
        time drawing, whatever else the wall clock counts (a pause, a slow validation, another
        program holding the run back): per second of training, the run gives the window the
        same share however it is interrupted."""
        return self._trained

    def sizeHint(self) -> QSize:
        """As tall as the bottom dock usually is: opening the Training tab keeps the canvas's
        share of the window (the dock can be dragged taller for the plots)."""
        return QSize(super().sizeHint().width(), 260)

    # ----- run lifecycle ---------------------------------------------------------------------
    def begin(self, description: str) -> None:
        """Clear everything for a new run (the child process is starting)."""
        for series in (
            self.loss,
            self.smoothed,
            self.lrs,
            self.speeds,
            self.val_losses,
            self.train_accs,
            self.val_accs,
        ):
            series.clear()
        self.started, self.last_step = None, None
        self._drawn.clear()
        self._progress_text, self._undrawn, self._curves_stale = "", False, False
        self._trained = 0.0
        self.curve_pacer.reset()
        self.page_pacer.reset()
        self._snapshots, self._epoch_end = {}, None
        self._page_drawn.clear()
        self.state = "running"
        self.title.setText(description)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.eta.setText("starting…")
        self.speed_label.setText("")
        self.speed_label.setToolTip("")
        self.message.hide()
        self.details.hide()
        self._draw_curves()
        self._parts_told = None
        self._tell_snapshot_demand()

    def set_banner(self, text: str) -> None:
        """A notice above the plots (e.g. "edits apply to the next run"); empty hides it."""
        self.banner.setText(text)
        self.banner.setStyleSheet("background: #fff4ce; padding: 4px; border: 1px solid #e0c060")
        self.banner.setVisible(bool(text))

    def show_failure(self, message: str, details: str = "") -> None:
        """Show why a run failed (the designer keeps running)."""
        self.state = "failed"
        self.message.setText(f"Training failed: {message}")
        self.message.setStyleSheet(
            "color: #8b0000; background: #fde7e9; padding: 4px; border: 1px solid #d32f2f"
        )
        self.message.show()
        self.details.setPlainText(details)
        self.details.setVisible(bool(details.strip()))
        self.eta.setText("failed")

    # ----- events ------------------------------------------------------------------------------
    def apply(self, events: Iterable[object]) -> None:
        """Take the events of one UI tick and redraw what they changed, once."""
        start = time.perf_counter()
        steps: list[Step] = []
        snapshot: Snapshot | None = None
        epoch_end: EpochEnd | None = None
        paused = False
        for event in events:
            if isinstance(event, Step):
                steps.append(event)
            elif isinstance(event, Snapshot):
                snapshot = event
            elif isinstance(event, EpochEnd):
                self._add_epoch(event)
                epoch_end = event
            elif isinstance(event, RunStarted):
                self._configure(event)
            elif isinstance(event, Paused):
                paused = True
                self.state = "paused"
                self.eta.setText(f"paused at step {event.step}")
            elif isinstance(event, Resumed):
                self.state = "running"
            elif isinstance(event, Finished):
                self._finish(event)
            elif isinstance(event, Failed):
                self.show_failure(event.message, event.details)
        if steps:
            self._add_steps(steps)
        if steps or epoch_end is not None:
            self._undrawn = True
        # while running, at most 5 Hz and within the CPU budget (an epoch's points wait for
        # the next due tick); at once when the run pauses or ends, so the latest data shows;
        # not at all while the dashboard is hidden (another bottom tab in front): showing it
        # draws the latest data
        shown = self.isVisible()
        running = self.state == "running"
        if shown and self._undrawn and (not running or self.curve_pacer.due()):
            self.curve_pacer.drawing()
            self._draw_latest()
        if snapshot is not None:
            for part in snapshot.parts:
                self._snapshots[part] = snapshot
        if epoch_end is not None:
            self._epoch_end = epoch_end
        if shown and not running:  # paused or ended: the latest data at once
            self._draw_current_page()
        # a snapshot or evaluation page: twice a second at most, within the CPU budget
        elif shown and self.page_pacer.due():
            self.page_pacer.drawing()
            if not self._draw_current_page():  # nothing new: no draw to pace
                self.page_pacer.cancel()
        if shown:  # axes that changed are laid out a slice a turn before the paint
            self.settler.settle_if_stale(self.pages.currentWidget())
        self.draw_seconds = time.perf_counter() - start
        if epoch_end is not None:
            self.epoch_ended.emit(epoch_end)
        if paused and self.state == "paused":
            self.paused.emit()

    def showEvent(self, event: QShowEvent) -> None:
        """Draw what arrived while the dashboard was hidden."""
        super().showEvent(event)
        if self._undrawn:
            self._draw_latest()
        self._draw_current_page()
        self._tell_snapshot_demand()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._tell_snapshot_demand()

    def _part_of(self, page: QWidget | None) -> str | None:
        """The snapshot part ``page`` draws (None for the other pages)."""
        return {self.filters: "filters", self.feature_maps: "feature_maps"}.get(
            page, "gradients" if page is self.gradients else None
        )

    @property
    def snapshot_parts(self) -> tuple[str, ...]:
        """The snapshot parts the page in view draws: () while it draws none or is hidden."""
        part = self._part_of(self.pages.currentWidget())
        return (part,) if part is not None and self.isVisible() else ()

    @property
    def shows_snapshots(self) -> bool:
        """Whether a page that draws snapshots (filters, feature maps, gradients) is in view."""
        return bool(self.snapshot_parts)

    def _tell_snapshot_demand(self, *_: object) -> None:
        """Tell the training process which snapshot parts are being looked at: it computes
        those twice a second, and all of them every few seconds while none is (so a page
        brought to the front has recent data at once)."""
        parts = self.snapshot_parts
        if parts != self._parts_told:
            self._parts_told = parts
            self.view_changed.emit({"snapshot_parts": parts})

    def _draw_latest(self) -> None:
        """The header, and the curves when their page is in front (else when it comes)."""
        if self.pages.currentWidget() is self.curves:
            self._draw_curves()
        else:
            self._curves_stale = True
        self._draw_progress()  # the bar shows the last step, whatever the run's state
        if self.state == "running":  # a paused or ended run keeps its own message
            self._draw_header()
        self._undrawn = False

    def _configure(self, s: RunStarted) -> None:
        self.started = s
        batch = f"batch {s.batch_size}" + (
            f" × {s.world_size} = {s.global_batch_size}" if s.world_size > 1 else ""
        )
        self.title.setText(
            f"Training {s.param_count:,} parameters on {s.dataset} ({s.train_size} train / "
            f"{s.val_size} validation, {len(s.classes)} classes) on {s.device}; {batch}, "
            f"{s.settings.get('optimizer')} lr {s.lr:g}, {s.epochs} epochs"
        )
        self.title.setToolTip(
            "\n".join([*(f"note: {n}" for n in s.notes), f"run folder: {s.run_dir}"])
        )
        self.curves.set_run_length(s.total_steps, s.epochs)
        for page in (self.filters, self.feature_maps, self.gradients, self.evaluation):
            page.configure(s)
        # every axis of the page in front has a new range: laid out a slice a turn, then painted
        self.settler.start(self.pages.currentWidget(), keep_shown=True)

    def _add_steps(self, steps: list[Step]) -> None:
        self._trained = max(self._trained, max(event.elapsed for event in steps))
        for event in steps:
            n = len(event.losses)
            xs = np.arange(event.step - n + 1, event.step + 1, dtype=np.float64)
            ys = np.asarray(event.losses, dtype=np.float64)
            self.loss.extend(xs, ys)
            self.smoothed.extend(xs, ema(ys, SMOOTHING, self.smoothed.last))
            self.lrs.append(event.step, event.lr)
            self.speeds.append(event.step, event.images_per_second)
        self.last_step = steps[-1]

    def _draw_progress(self) -> None:
        """The progress bar at the latest step: its epoch and share of the run."""
        last = self.last_step
        if last is None:
            return
        total = self.started.epochs if self.started else "?"
        value = round(1000 * min(max(last.progress, 0.0), 1.0))
        text = f"epoch {last.epoch}/{total} · %p%"
        if value != self.progress.value() or text != self._progress_text:
            # QProgressBar repaints at once on a visible change; with updates off it only
            # schedules a paint, so the bar is drawn in the same pass as the curves
            self.progress.setUpdatesEnabled(False)
            self.progress.setValue(value)
            if text != self._progress_text:
                self._progress_text = text
                self.progress.setFormat(text)
            self.progress.setUpdatesEnabled(True)  # schedules the one repaint

    def _draw_header(self) -> None:
        """Time left and throughput of the latest step (drawn with the curves)."""
        last = self.last_step
        if last is None:
            return
        for label, words in (
            (self.eta, f"{format_seconds(last.elapsed)} elapsed, {format_seconds(last.eta)} left"),
            (self.speed_label, f"{last.images_per_second:,.0f} images/s"),
        ):
            if label.text() != words:
                label.setText(words)

    def _add_epoch(self, end: EpochEnd) -> None:
        if end.threads and self.started is not None and self.started.device.startswith("cpu"):
            threads = f"{end.threads} thread" + ("s" if end.threads != 1 else "")
            tip = (
                f"Epoch {end.epoch} computed with {threads} on the CPU: as many as the cores "
                "other programs leave free (checked every second of training)"
            )
            if self.speed_label.toolTip() != tip:
                self.speed_label.setToolTip(tip)
        if end.val_loss is not None:
            self.val_losses.append(end.step, end.val_loss)
        self.train_accs.append(end.epoch, end.train_accuracy)
        if end.val_accuracy is not None:
            self.val_accs.append(end.epoch, end.val_accuracy)

    def _draw_curves(self) -> None:
        """``setData`` on the curves whose data grew since their last draw (or were cleared)."""
        self._curves_stale = False
        c = self.curves
        for name, curve, series in (
            ("raw", c.raw, self.loss),
            ("smooth", c.smooth, self.smoothed),
            ("val_loss", c.val_loss, self.val_losses),
            ("train_acc", c.train_acc, self.train_accs),
            ("val_acc", c.val_acc, self.val_accs),
            ("lr", c.lr, self.lrs),
            ("speed", c.speed, self.speeds),
        ):
            if self._drawn.get(name) != series.size:
                self._drawn[name] = series.size
                curve.setData(series.x, series.y)
        for plot, series in (
            (c.loss_plot, (self.loss, self.val_losses)),
            (c.lr_plot, (self.lrs,)),
            (c.speed_plot, (self.speeds,)),
        ):
            values = [s.y[np.isfinite(s.y)] for s in series if s.size]
            highest = max((float(v.max()) for v in values if v.size), default=0.0)
            c.fit_top(plot, highest)

    def _draw_current_page(self, *_: object) -> bool:
        """Draw the latest snapshot or evaluation into the page being shown, once per new data;
        whether it drew.

        Hidden pages are not drawn while training (on a 2-core machine every millisecond of
        drawing is taken from the training process); switching to one draws it at once.
        """
        page = self.pages.currentWidget()
        if page is self.curves:
            if self._curves_stale and self.isVisible():
                self._draw_curves()
                return True
            return False
        part = self._part_of(page)
        end = self._epoch_end
        snap = self._snapshots.get(part) if part is not None else None
        if page is self.evaluation:
            data: object = end
        elif part is not None:
            data = snap
        else:
            return False
        name = page.objectName() or type(page).__name__
        if data is None or self._page_drawn.get(name) is data:
            return False
        self._page_drawn[name] = data
        if page is self.evaluation and end is not None:
            self.evaluation.update_from(end)
        elif page is self.filters and snap is not None:
            self.filters.update_from(snap.filters)
        elif page is self.feature_maps and snap is not None and snap.feature_maps is not None:
            self.feature_maps.update_from(snap.feature_maps)
        elif page is self.gradients and snap is not None:
            self.gradients.update_from(snap)
        return True

    def show_page(self, page: QWidget) -> None:
        """Bring a page to the front (as clicking its tab does) and draw its latest data."""
        self.pages.setCurrentWidget(page)

    def _finish(self, end: Finished) -> None:
        self.state = end.status
        best = best_accuracy_text(end)
        best = f", {best}" if best else ""
        self.eta.setText(f"{end.status} after {format_seconds(end.seconds)}")
        if end.status == "completed":
            self.progress.setValue(1000)
        self.title.setText(
            f"Run {end.status}: {end.epochs_done} epoch(s), {end.steps} steps{best}"
            + (f" — {end.run_dir}" if end.run_dir else "")
        )
