"""What the backprop, BatchNorm and dropout views share: the block they show, a source of
numbers (the lecture's example or the network's real numbers), a message line for problems,
notes (which weights, windows cut), and background loading of the network (a worker thread).

Problems are written in the view (``message``), never raised: a block of another type, a
design that no longer validates (for real numbers), a data set that cannot be read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from designer.lecture.grids import GridPanel, window_of
from designer.lecture.probe import Probe, ProbeRequest, probe_for
from designer.lecture.worker import Job

LECTURE, SAMPLE = "lecture", "sample"


class LectureView(QDialog):
    """A dialog for one block; subclasses fill ``controls`` and ``grids`` and define ``refresh``."""

    def __init__(
        self,
        window: Any,
        node: str,
        title: str,
        sources: dict[str, str],
        types: dict[str, str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.window_ = window
        self.document = window.document
        self.node = node
        self.job: Job | None = None
        self.weights_note = ""
        self.resize(1000, 680)
        self.setWindowTitle(f"{title}: {node}")
        layout = QVBoxLayout(self)
        self.controls = QHBoxLayout()
        self.source = QComboBox(self)
        self.source.setObjectName("lecture_source")
        for key, label in sources.items():
            self.source.addItem(label, key)
        self.controls.addWidget(QLabel("Numbers", self))
        self.controls.addWidget(self.source)
        layout.addLayout(self.controls)
        self.grid_layout = QGridLayout()
        layout.addLayout(self.grid_layout, 1)
        self.lines = QLabel(self)
        self.lines.setObjectName("lecture_view_lines")
        self.lines.setWordWrap(True)
        layout.addWidget(self.lines)
        self.notes = QLabel(self)
        self.notes.setObjectName("lecture_view_notes")
        self.notes.setWordWrap(True)
        layout.addWidget(self.notes)
        self.message = QLabel(self)
        self.message.setObjectName("lecture_view_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d32f2f;")
        layout.addWidget(self.message)
        self.panels: list[GridPanel] = []
        self.shown: dict[str, np.ndarray] = {}  # title → the full grid (tests read it)
        node_type = self.document.graph.node(node).type_id
        self.type_id = node_type
        if node_type not in types:
            self.message.setText(
                f"{node} ({node_type}): {title} shows {', '.join(types.values())} blocks. "
                f"Received: type={node_type}. Select one of those blocks."
            )
        self.usable = node_type in types
        self.source.currentIndexChanged.connect(self.refresh)

    def fit_height(self, height: int) -> None:
        """As tall as ``height`` where the screen allows (less its frame and a panel)."""
        screen = self.screen() if self.parentWidget() is None else self.parentWidget().screen()
        room = screen.availableGeometry().height() - 80 if screen is not None else height
        self.resize(self.width(), max(self.height(), min(height, room)))

    # ----- real numbers ------------------------------------------------------------------
    def alive(self) -> bool:
        """Whether the block is still in the design as the type shown (else says so)."""
        graph = self.document.graph
        if self.node in graph and graph.node(self.node).type_id == self.type_id:
            return self.usable
        if self.usable:
            self.fail(
                f"{self.node}: the block is no longer in the design (deleted, renamed or "
                f"replaced). Received: node={self.node}. Open the view again from a block."
            )
        self.usable = False
        return False

    def design_problem(self) -> str:
        """Why the network's real numbers cannot be had now ("" when they can)."""
        result = self.document.result
        if not result.ok:
            return (
                f"{self.node}: the design does not validate ({len(result.errors)} problem(s)), "
                "so the network cannot run. Fix the Problems list, or pick the lecture's example."
            )
        return ""

    def with_probe(self, work: Callable[[Probe], Any], done: Callable[[Any], None]) -> None:
        """Run ``work(probe)`` in a worker thread, then ``done(result)`` here."""
        if self.job is not None and self.job.running:
            return
        request = ProbeRequest.of(self.window_)

        def run() -> Any:
            probe = probe_for(request)
            return probe.note, work(probe)

        def finished(value: Any) -> None:
            self.weights_note, result = value
            done(result)

        self.clear_grids()
        self.notes.setText("Running the network (the first time takes a few seconds)…")
        self.job = Job(run, self)
        self.job.done.connect(finished)
        self.job.failed.connect(self.fail)
        self.job.start()

    def busy(self) -> bool:
        return self.job is not None and self.job.running

    def fail(self, text: str) -> None:
        self.message.setText(text)
        self.notes.setText("")
        self.clear_grids()

    def clear_grids(self) -> None:
        """Hide every grid (numbers that no longer belong to what the view is asked for)."""
        for panel in self.panels:
            panel.hide()
        self.shown = {}
        self.lines.clear()

    # ----- grids -------------------------------------------------------------------------
    def show_grids(self, grids: dict[str, np.ndarray], columns: int = 3) -> list[str]:
        """Draw ``grids`` (title → 2-D array) in rows of ``columns``; returns the notes of the
        grids cut to a window."""
        while len(self.panels) < len(grids):
            panel = GridPanel("", self)
            self.panels.append(panel)
        for panel in self.panels:
            self.grid_layout.removeWidget(panel)
            panel.hide()
        notes = []
        self.shown = {}
        for i, (title, grid) in enumerate(grids.items()):
            panel = self.panels[i]
            part, note = window_of(grid, title)
            panel.title = title
            panel.setObjectName(f"grid_{i}")
            panel.set_grid(part)
            self.grid_layout.addWidget(panel, i // columns, i % columns)
            panel.show()
            self.shown[title] = np.asarray(grid, dtype=np.float64)
            if note:
                notes.append(note)
        return notes

    def grid(self, starts: str) -> np.ndarray:
        """The full grid whose title starts with ``starts`` (tests)."""
        for title, grid in self.shown.items():
            if title.startswith(starts):
                return grid
        raise KeyError(f"no grid titled {starts!r}: {list(self.shown)}")

    def refresh(self) -> None:  # pragma: no cover - every view defines it
        raise NotImplementedError
