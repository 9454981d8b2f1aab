"""Experiments ▸ Repeat with N seeds…: train the open design with its training settings N times
with seeds seed..seed+N-1 (``cnn-designer repeat``), then show the runs in the Runs view as
one mean ± standard deviation band.

The design is saved to a temporary project file (with its training settings) that the command
reads; the command runs in a background process (``QProcess``; the window never waits for it)
into the design's runs folder, sequentially or in parallel processes where cores allow. Its
output is shown as it comes; Stop ends it as Ctrl-C would (the run going records the stop).
When it has finished, the Runs view lists the new runs, selected, grouped as one band.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from designer.experiments.command_dialog import CommandDialog

STOP_GRACE_MS = 15_000  # after Stop, the process is killed when it has not ended by then
MAX_SEEDS = 100
LOG_LINES = 500
RUN_LINE = re.compile(r"^seed -?\d+ \w+: .*; run folder (.+)$")


class RepeatDialog(CommandDialog):
    """Seeds, processes at once, Start and Stop, and the command's output."""

    def __init__(self, window: Any) -> None:
        super().__init__(window, "repeat_dialog", "Repeat with N seeds", "repeats")
        self.out: Path | None = None
        self.run_dirs: list[str] = []
        self.seeds = QSpinBox(self)
        self.seeds.setObjectName("repeat_seeds")
        self.seeds.setRange(2, MAX_SEEDS)
        self.seeds.setValue(3)
        cores = os.cpu_count() or 1
        self.parallel = QSpinBox(self)
        self.parallel.setObjectName("repeat_parallel")
        self.parallel.setRange(1, cores)
        self.parallel.setToolTip(f"Runs trained at once, in separate processes (1 to {cores})")
        for spin in (self.seeds, self.parallel):
            spin.setMinimumWidth(80)
            spin.setMaximumWidth(120)
        form = QFormLayout()
        form.addRow("Seeds (runs):", self.seeds)
        form.addRow("At once:", self.parallel)
        self.about = QLabel("", self)
        self.about.setWordWrap(True)
        self.message = QLabel("", self)
        self.message.setObjectName("repeat_message")
        self.message.setWordWrap(True)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.start_button = QPushButton("Start", self)
        self.start_button.setObjectName("repeat_start")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("repeat_stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.start_button, self.stop_button, close):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.about)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.log, 1)
        layout.addLayout(buttons)
        self.refresh_design()
        self.resize(640, 420)

    def refresh_design(self) -> None:
        """Say what Start trains: the open design, its settings, where the runs go."""
        from engine.training.settings import TrainingSettings

        try:
            settings = TrainingSettings.from_dict(self.window.document.project.training or {})
            what = f"{settings.epochs} epochs on {settings.data.dataset}, "
            seed = settings.seed
        except Exception:  # settings the command refuses: it says why when started
            what, seed = "", 0
        root = self.window.training.default_run_root()
        self.about.setText(
            f"Trains the open design with its training settings ({what}Training ▸ Settings) "
            f"once per seed, from seed {seed} upwards, into {root}; then shows the runs in "
            "the Runs view as a mean ± standard deviation band."
        )

    def start(self) -> bool:
        """Save the design and run ``cnn-designer repeat`` on it; False when not started."""
        if self.running:
            return False
        from engine import DesignerError
        from engine.project import save_project

        window = self.window
        window.apply_typed_edits()
        self.out = Path(window.training.default_run_root())
        try:
            self.temp = Path(tempfile.mkdtemp(prefix="cnnd-repeat-"))
            file = self.temp / "design.cnnd"
            save_project(window.document.project, file)
        except (DesignerError, OSError) as error:
            self._remove_temp()
            self.message.setText(f"The design cannot be saved for the repeats: {error}")
            return False
        args = ["repeat", str(file), "--seeds", str(self.seeds.value())]
        args += ["--parallel", str(self.parallel.value()), "--out", str(self.out)]
        self.run_dirs = []
        self.log.clear()
        self.command.start(args)
        self.message.setText(f"Training {self.seeds.value()} runs into {self.out}…")
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        return True

    def stop(self) -> None:
        """End the repeats as Ctrl-C would (SIGTERM); killed if not ended in time."""
        if not self.running:
            return
        self.stop_button.setEnabled(False)
        self.message.setText("Stopping: the run going records the stop…")
        self.command.stop(STOP_GRACE_MS)

    def _read_line(self, line: str) -> None:
        super()._read_line(line)
        match = RUN_LINE.match(line.strip())
        if match:
            self.run_dirs.append(match.group(1))

    def _finished(self, code: int) -> None:
        stopping = self.command.stopping
        if stopping:
            text = "Stopped. The runs that finished are in the Runs view."
        elif code == 0:
            text = f"Finished: {len(self.run_dirs)} runs; the band is shown in the Runs view."
        else:
            text = self._failed_text(code)
        self.message.setText(text)
        self._ended()
        if self.run_dirs and not stopping:
            self.show_band()

    def show_band(self) -> Any:
        """The Runs view with the repeats' runs listed, selected and grouped as a band."""
        from designer.experiments.open_run import runs_page

        page = runs_page(self.window)
        if page is None or self.out is None:
            return None
        self.window.switch_view("runs")
        page.set_root(self.out)
        page.select_paths(self.run_dirs)
        page.compare.setCurrentWidget(page.compare.curves_tab)
        group = page.compare.curves_tab.group
        if not group.isChecked():
            group.setChecked(True)
        return page

    def shut_down(self) -> None:
        """Stop running repeats and wait for them (bounded): the window or dialog closes."""
        if self.running:
            self.stop()
            self.command.shut_down(STOP_GRACE_MS)
        self._ended()
