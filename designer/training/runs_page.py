"""The Runs page, the run browser: every run of the project in a sortable table (start time,
status, data, epochs, best validation accuracy and loss, parameters, MACs, time, design
fingerprint, name, note, star), and for the selected runs their curves overlaid, the settings
that differ and the design diff of two (``designer.runs.compare``). A run's design opens as a
new design; runs are renamed, noted and starred in place (stored in run_meta.json) and deleted
to the runs folder's trash, with an undo for the session.

After Save As the design's runs folder changes (``designer.run_history``): the page lists the
runs of the current folder, then those of the folders the design had before in this session,
each marked with its folder, so that Save As never hides a run the page showed.

A run that is training is followed (``follow``, at each of its epoch ends): its row and its
curves are read again from its own folder only, and only while the page is shown (else once
when it is shown); the first time, the whole folder is listed once, with the run selected,
shown or not (so that showing the page later updates a row and a curve, not a whole listing).
Each read waits for the next turn of the event loop and, like the dashboard's pages, the reads
are paced on the run's clock (``follow_pacer``: once a second of training at most, and within
2 % of the UI thread's time): with epochs of a tenth of a second, reading and redrawing at
every epoch took 8 % of a core from the run. An epoch that ends too soon waits for the next
one, or for ``flush_follow`` (the run paused or ended)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from designer.runs.actions import RunTrash, open_run_design, training_run
from designer.runs.compare import ComparePanel
from designer.runs.model import COLUMN, PATH_ROLE, RunRow, RunsModel, RunsProxy, make_row
from designer.training.pacing import DrawPacer
from engine.errors import DesignerError
from engine.training.runs import RunInfo, check_metrics, list_runs, read_metrics

FOLLOW_INTERVAL = 1.0  # seconds of training between two reads of a followed run, at least
FOLLOW_BUDGET = 0.02  # of the UI thread's time, as the dashboard's draws


class RunsPage(QWidget):
    """The run browser: the table of runs above the comparison of the selected ones."""

    def __init__(
        self, parent: QWidget | None = None, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        """``clock``: the followed run's clock (the dashboard's training seconds)."""
        super().__init__(parent)
        self.follow_pacer = DrawPacer(FOLLOW_INTERVAL, FOLLOW_BUDGET, clock=clock)
        self.root: Path | None = None
        self.earlier: list[Path] = []  # the design's runs folders before its last Save As
        self.runs: list[RunInfo] = []
        self.earlier_runs: list[RunInfo] = []
        self.following: str | None = None  # the run folder of a run that is training
        self._follow_pending = False  # its epoch ended while the page was hidden
        # a read of it waits for the next turn of the event loop: a timer, not a posted call
        # (posted calls run in one batch with the paint that shows the page, as one long wait)
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(1)  # a timer, not a zero one: input and due timers run first
        self._flush_timer.timeout.connect(self._flush_due)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(1)
        self._redraw_timer.timeout.connect(self.redraw)
        # a followed run's new curves: drawn a turn after its folder is read (two short waits)
        self._followed_curves: tuple[str, list[dict[str, Any]]] | None = None
        self._curves_timer = QTimer(self)
        self._curves_timer.setSingleShot(True)
        self._curves_timer.setInterval(1)
        self._curves_timer.timeout.connect(self._draw_followed_curves)
        self.follow_reads = 0  # how often a followed run was read again (for tests)
        self.records: dict[str, list[dict[str, Any]]] = {}  # metrics of the selected runs
        self.trash = RunTrash()
        self.folder = QLabel("", self)
        self.folder.setWordWrap(True)
        self.model = RunsModel(self)
        self.model.failed.connect(self.say)
        self.model.meta_changed.connect(lambda _path: self.redraw(diffs_only=True))
        self.proxy = RunsProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = self._make_table()
        self.message = QLabel("", self)
        self.message.setObjectName("runs_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.compare = ComparePanel(self)
        tab = self.compare.curves_tab
        self.curves = tab.curves  # run folder -> (accuracy curve, loss curve)
        self.bands = tab.bands
        self.acc_plot, self.loss_plot = tab.acc_plot, tab.loss_plot
        tab.x_axis.currentIndexChanged.connect(lambda _i: self.redraw())
        tab.group.toggled.connect(lambda _on: self.redraw())
        top = QWidget(self)
        side = QVBoxLayout(top)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.folder)
        side.addWidget(self.table, 1)
        side.addLayout(self._make_buttons())
        side.addWidget(self.message)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(top)
        splitter.addWidget(self.compare)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _make_table(self) -> QTableView:
        table = QTableView(self)
        table.setObjectName("runs_table")
        table.setModel(self.proxy)
        table.setSortingEnabled(True)
        table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # as listed until a header is clicked
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.setWordWrap(False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        table.selectionModel().selectionChanged.connect(lambda *_a: self.redraw())
        table.clicked.connect(self._clicked)
        return table

    def _clicked(self, index: Any) -> None:
        """A click on a run's star stars it, or not any more."""
        if index.column() == COLUMN["star"]:
            self.model.toggle_star(self.proxy.mapToSource(index).row())

    def _make_buttons(self) -> QHBoxLayout:
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.clicked.connect(lambda: self.set_root(self.root) if self.root else None)
        self.open_button = QPushButton("Open this run's design", self)
        self.open_button.setObjectName("runs_open_design")
        self.open_button.setToolTip("Open the design the selected run trained, as a new design")
        self.open_button.clicked.connect(self.open_design)
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setObjectName("runs_delete")
        self.delete_button.setToolTip("Move the selected runs to the runs folder's .trash")
        self.delete_button.clicked.connect(self.delete_selected)
        self.undo_button = QPushButton("Undo delete", self)
        self.undo_button.setObjectName("runs_undo_delete")
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(self.undo_delete)
        self.canvas_button = QPushButton("Compare with canvas", self)
        self.canvas_button.setObjectName("runs_compare_canvas")
        self.canvas_button.setToolTip(
            "The selected run's design against the design open on the canvas, side by side, "
            "with the changes outlined on the canvas"
        )
        self.canvas_button.clicked.connect(self.compare_with_canvas)
        self.tradeoff_button = QPushButton("Trade-off…", self)
        self.tradeoff_button.setObjectName("runs_tradeoff")
        self.tradeoff_button.setToolTip(
            "Accuracy against parameters, MACs or time of the selected runs (all when none is "
            "selected), with the Pareto front; a click on a point selects its run here"
        )
        self.tradeoff_button.clicked.connect(self.show_tradeoff)
        hint = QLabel("Double-click a name or note to edit it; click ☆ to star a run.", self)
        hint.setWordWrap(True)
        bar = QHBoxLayout()
        for widget in (self.refresh_button, self.open_button, self.canvas_button):
            bar.addWidget(widget)
        for widget in (self.tradeoff_button, self.delete_button, self.undo_button):
            bar.addWidget(widget)
        bar.addWidget(hint, 1)
        return bar

    # ----- listing -------------------------------------------------------------------------
    def set_root(
        self, root: Path, earlier: list[Path] | None = None, draw_now: bool = True
    ) -> None:
        """List the runs under ``root`` (the newest selected), then those under the ``earlier``
        folders (None: the ones given last time); a damaged run is marked, with what is wrong
        in its tooltip. ``draw_now=False``: the selected runs' curves and diffs are drawn at
        the next turn of the event loop (two short waits instead of one long one)."""
        self.root = Path(root)
        if earlier is not None:
            self.earlier = [Path(e) for e in earlier if Path(e) != self.root]
        selected = self.selected_paths()
        try:
            self.runs = list_runs(self.root)
            self.folder.setText(self._folder_text())
        except Exception as error:  # list_runs contains what it knows; this is a backstop
            self.runs = []
            self.folder.setText(f"Runs in {self.root} cannot be listed: {error}")
        self.earlier_runs = []
        for folder in self.earlier:
            try:
                self.earlier_runs += list_runs(folder)
            except Exception:  # a folder that went away meanwhile lists nothing
                continue
        if self.earlier_runs:
            names = ", ".join(str(folder) for folder in self.earlier)
            self.folder.setText(
                f"{self.folder.text()}\nAlso listed: the runs this design had in {names} "
                "before Save As (new runs go to the folder above)."
            )
        rows = [make_row(run) for run in self.runs]
        rows += [make_row(run, earlier=True) for run in self.earlier_runs]
        self.records = {}
        with QSignalBlocker(self.table.selectionModel()):
            self.model.set_rows(rows)
        self.table.resizeColumnsToContents()
        known = {row.path for row in rows}
        selected = [p for p in selected if p in known]
        if not selected and rows:
            newest = self.runs[-1] if self.runs else self.earlier_runs[-1]
            selected = [str(newest.path)]
        self.select_paths(selected, draw_now)

    def _folder_text(self) -> str:
        assert self.root is not None
        if self.runs:
            return f"Runs in {self.root}"
        try:
            os.listdir(self.root)
        except FileNotFoundError:
            pass
        except OSError as error:
            return (
                f"Runs in {self.root} cannot be listed ({error.strerror or error}): "
                "check that the folder can be read"
            )
        return f"No runs yet in {self.root}"

    # ----- rows and selection (in the table's order) ---------------------------------------
    def row_count(self) -> int:
        return self.proxy.rowCount()

    def paths(self) -> list[str]:
        """The run folders in the order the table shows them."""
        return [str(self.proxy.index(r, 0).data(PATH_ROLE)) for r in range(self.row_count())]

    def cell(self, row: int, column: str) -> str:
        """The text the table shows in ``row`` (in its order) and ``column`` (a key of
        ``designer.runs.model.COLUMNS``)."""
        return str(self.proxy.index(row, COLUMN[column]).data() or "")

    def tooltip(self, row: int) -> str:
        return str(self.proxy.index(row, 0).data(Qt.ItemDataRole.ToolTipRole) or "")

    def selected_paths(self) -> list[str]:
        """The selected runs' folders, in the table's order."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [str(self.proxy.index(r, 0).data(PATH_ROLE)) for r in rows]

    def select_paths(self, paths: list[str], draw_now: bool = True) -> None:
        """Select exactly the runs in ``paths`` (and redraw once: at the next turn of the
        event loop with ``draw_now=False``)."""
        model = self.table.selectionModel()
        selection = QItemSelection()
        wanted = set(paths)
        for r in range(self.row_count()):
            if self.proxy.index(r, 0).data(PATH_ROLE) in wanted:
                selection.select(self.proxy.index(r, 0), self.proxy.index(r, len(COLUMN) - 1))
        with QSignalBlocker(model):
            model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.table.viewport().update()
        if draw_now:
            self.redraw()
        else:
            self._redraw_timer.start()

    def select_run(self, path: str | Path) -> bool:
        """Select the run in ``path`` alone and scroll to it (listing the folders again when
        it is not listed yet, a run that ended meanwhile); False when it is not listed."""
        path = str(path)
        if path not in self.paths() and self.root is not None:
            self.set_root(self.root)
        if path not in self.paths():
            self.say(f"Run {Path(path).name} is not in the runs listed here ({path}).")
            return False
        self.select_paths([path])
        self.table.scrollTo(self.proxy.index(self.paths().index(path), 0))
        return True

    def _row(self, path: str) -> RunRow | None:
        index = self.model.row_of(path)
        return None if index is None else self.model.rows[index]

    # ----- a run that is training ----------------------------------------------------------
    def follow(self, run_dir: str | Path, root: Path | None = None) -> None:
        """An epoch of the run in ``run_dir`` ended: show its row and curves as they are now
        (while the page is hidden, once it is shown). ``root``: the folder it is in, when it
        is not the one listed."""
        if self.following != str(run_dir):  # a new run: its first epoch shows at once
            self.follow_pacer.reset()
        self.following = str(run_dir)
        if root is not None and (self.root is None or Path(root) != self.root):
            self.root = Path(root)
            self.runs = []  # listed again below
        self._follow_pending = True
        if self.isVisible() and self.follow_pacer.due():
            self.follow_pacer.drawing()
            self._flush_soon()
        elif not self._listed():  # listed once even while hidden: showing it later is cheap
            self._flush_soon()

    def _listed(self) -> bool:
        """Whether the followed run has its row (and the page its folder's listing)."""
        path = self.following
        return (
            any(str(run.path) == path for run in self.runs) and self.model.row_of(path) is not None
        )

    def _flush_due(self) -> None:
        """The flush timer: show the followed run when the page is shown, or list it when it
        is not listed yet."""
        if self._follow_pending and (self.isVisible() or not self._listed()):
            self._show_followed()

    def _flush_soon(self) -> None:
        """Read the followed run at the next turn of the event loop (not in the middle of the
        dashboard's draw of the epoch's end, nor of the switch that shows this page)."""
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush_follow(self) -> None:
        """The followed run paused or ended: show what its last epoch wrote, if not shown yet
        (while the page is hidden, when it is shown)."""
        if self._follow_pending and self.isVisible():
            self._show_followed()

    def showEvent(self, event: QShowEvent) -> None:
        """Shown: the followed run is read once the page has been drawn as it was (the next
        turn of the event loop), so a switch to the page and its read are two short waits,
        not one long one."""
        super().showEvent(event)
        if self._follow_pending:
            self._flush_soon()

    def _show_followed(self) -> None:
        """Read the followed run's folder again and update its row and curve only (a run not
        listed yet: the whole folder, the run selected, and still pending while hidden)."""
        self._follow_pending = False
        path = self.following
        if path is None or self.root is None:
            return
        self.follow_reads += 1
        index = next((i for i, r in enumerate(self.runs) if str(r.path) == path), None)
        row_index = self.model.row_of(path)
        if index is None or row_index is None:  # a new run: list the folder once, selected
            # keeps the selection, else selects the newest run; drawn at the next turn
            self.set_root(self.root, draw_now=False)
            if path not in (selected := self.selected_paths()):
                self.select_paths([*selected, path], draw_now=False)
            return

        # its metrics.jsonl only (settings.json, with the whole design, was read when listed)
        records, problems = check_metrics(path)
        accuracies = [
            float(r["val_accuracy"]) for r in records if r.get("val_accuracy") is not None
        ]
        losses = [float(r["val_loss"]) for r in records if r.get("val_loss") is not None]
        seconds = [float(r["seconds"]) for r in records if r.get("seconds") is not None]
        info = replace(
            self.runs[index],
            epochs=len(records),
            best_val_accuracy=max(accuracies) if accuracies else None,
            final_val_accuracy=accuracies[-1] if accuracies else None,
            problems=tuple(problems),
        )
        self.runs[index] = info
        old = self.model.rows[row_index]
        facts = replace(
            old.facts,
            epochs=info.epochs,
            best_val_accuracy=info.best_val_accuracy,
            best_val_loss=min(losses) if losses else None,
            seconds=round(sum(seconds), 3) if seconds else None,
        )
        kept = tuple(p for p in old.damage if not p.startswith("metrics.jsonl"))
        self.model.update_row(
            row_index, replace(old, info=info, facts=facts, damage=(*problems, *kept))
        )
        if path in self.selected_paths():
            self._followed_curves = (path, records)
            self._curves_timer.start()

    def _draw_followed_curves(self) -> None:
        """The followed run's curves, from the records its last read found."""
        pending, self._followed_curves = self._followed_curves, None
        if pending is not None and pending[0] in self.selected_paths():
            self.redraw(only=pending[0], records=pending[1])

    # ----- the comparison of the selected runs ---------------------------------------------
    def redraw(
        self,
        only: str | None = None,
        records: list[dict[str, Any]] | None = None,
        diffs_only: bool = False,
    ) -> None:
        """Show the selected runs' curves (one persistent pair of curves per run), settings
        diff and design diff; ``only``: read again the curves of that run alone (from
        ``records`` when given)."""
        if only is None and not diffs_only:
            self._redraw_timer.stop()  # a full redraw waiting: this one is it
        paths = self.selected_paths()
        rows = [row for row in (self._row(p) for p in paths) if row is not None]
        self.records = {p: r for p, r in self.records.items() if p in paths}
        if only is not None and records is not None:
            self.records[only] = records
        for row in rows:
            if row.path not in self.records or (only == row.path and records is None):
                try:
                    self.records[row.path] = read_metrics(row.path)
                except Exception:  # read_metrics skips damaged records; this is a backstop
                    self.records[row.path] = []
        if not diffs_only:
            runs = [(row.path, row.title, row.repeat_key) for row in rows]
            self.compare.curves_tab.show_runs(runs, self.records, only)
        if only is not None:
            return  # a new epoch changes neither the settings nor the design
        names = [row.title for row in rows]
        self.compare.settings_tab.show_runs(names, [row.info.settings for row in rows])
        self.compare.design_tab.show_runs([row.path for row in rows], names)
        self.open_button.setEnabled(len(rows) == 1)
        self.canvas_button.setEnabled(len(rows) == 1)
        self.delete_button.setEnabled(bool(rows))

    # ----- open, delete, undo --------------------------------------------------------------
    def say(self, text: str) -> None:
        self.message.setText(text)

    def open_design(self) -> bool:
        """Open the selected run's design as a new design (asking about unsaved changes)."""
        paths = self.selected_paths()
        row = self._row(paths[0]) if len(paths) == 1 else None
        window = self.window()
        if row is None or not hasattr(window, "maybe_save"):
            self.say("Select one run to open its design.")
            return False
        why = open_run_design(window, row.path, row.info.settings)
        if why is None:
            self.say(f"Opened the design of run {row.title} as a new design.")
            if hasattr(window, "switch_view"):
                window.switch_view("design")
            return True
        self.say(f"Cannot open the design of run {row.title}: {why}" if why else "")
        return False

    def compare_with_canvas(self) -> Any:
        """Open Experiments ▸ Compare design with… on the selected run's design (its
        graph.json) against the open design; returns the dialog (None when not opened)."""
        paths = self.selected_paths()
        experiments = getattr(self.window(), "experiments", None)
        if len(paths) != 1 or experiments is None:
            self.say("Select one run to compare its design with the canvas.")
            return None
        dialog = experiments.show_compare()
        dialog.compare(paths[0])
        return dialog

    def show_tradeoff(self) -> Any:
        """Open the trade-off plot of the selected runs (of every run listed when none is
        selected); returns its window (None when not opened)."""
        experiments = getattr(self.window(), "experiments", None)
        if experiments is None:
            self.say("The trade-off plot needs the designer's window (Experiments menu).")
            return None
        paths = self.selected_paths()
        if len(paths) < 1:
            paths = self.paths()
        return experiments.show_tradeoff([Path(p) for p in paths])

    def delete_selected(self) -> list[str]:
        """Move the selected runs to the trash (never the run that is training); returns the
        folders moved."""
        moved: list[str] = []
        problems: list[str] = []
        training = training_run(self.window())
        for path in self.selected_paths():
            try:
                self.trash.delete(path, training)
                moved.append(path)
            except DesignerError as error:
                problems.append(str(error))
        if moved and self.root is not None:
            self.set_root(self.root)
        names = ", ".join(Path(p).name for p in moved)
        text = f"Moved to the trash: {names} (Undo delete brings them back)." if moved else ""
        self.say(" ".join([text, *problems]).strip())
        self.undo_button.setEnabled(bool(self.trash.deleted))
        return moved

    def undo_delete(self) -> str | None:
        """Bring the newest deleted run back from the trash; returns its folder."""
        try:
            done = self.trash.undo()
        except DesignerError as error:
            self.say(str(error))
            done = None
        self.undo_button.setEnabled(bool(self.trash.deleted))
        if done is None:
            return None
        if self.root is not None:
            self.set_root(self.root)
        self.select_paths([str(done.original)])
        self.say(f"Restored run {done.original.name} from the trash.")
        return str(done.original)
