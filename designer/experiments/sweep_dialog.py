"""Experiments ▸ Sweep…: vary training settings, preset options or block parameters of the
open design over an Optuna study, and watch its trials.

Each row names a key and its values (log, int or float range LOW..HIGH, or a choice A,B,C);
sampler, pruning and the number of trials complete the study. Start checks it all with
``cnn-designer sweep``'s own planning (its message shown, nothing started, when something is
refused), then runs the command in a background process (``QProcess``; the window never waits
for it). A timer reads the trials back from the run folders once a second: number, values,
state, validation accuracy, the best so far starred. Stop ends the process as Ctrl-C would: the
running trial is marked failed and the finished ones stay in the study, which Start continues.
A design's study is named after its file and its design fingerprint, so an edited design starts
a study of its own (the command refuses to continue a study on another design).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.experiments import sweep_plan
from designer.experiments.command_dialog import CommandDialog
from designer.experiments.sweep_plan import Row, SweepRequest, TrialRow
from designer.experiments.sweep_study import StudyReader, merge
from engine.experiments.space import KINDS
from engine.experiments.sweep import SAMPLERS

POLL_MS = 1000
STOP_GRACE_MS = 15_000  # after Stop, the process is killed when it has not ended by then
LOG_LINES = 500
PLACEHOLDERS = {"log": "1e-4..1e-1", "int": "8..64", "float": "0..0.5", "choice": "adam,sgd"}
TRIAL_COLUMNS = ("Trial", "Parameters", "State", "Val. accuracy", "Best")


class ParamRow(QWidget):
    """Key, kind and values of one varied key."""

    def __init__(self, keys: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = QComboBox(self)
        self.key.setEditable(True)
        self.key.addItems(keys)
        self.key.setCurrentText("")
        self.key.setMinimumWidth(200)
        self.kind = QComboBox(self)
        self.kind.addItems(list(KINDS))
        self.values = QLineEdit(self)
        self.kind.currentTextChanged.connect(self._placeholder)
        self._placeholder(self.kind.currentText())
        self.remove = QPushButton("Remove", self)
        self.remove.setAutoDefault(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.key, 2)
        layout.addWidget(self.kind)
        layout.addWidget(self.values, 2)
        layout.addWidget(self.remove)

    def _placeholder(self, kind: str) -> None:
        self.values.setPlaceholderText(PLACEHOLDERS.get(kind, ""))

    def set(self, key: str, kind: str, values: str) -> None:
        self.key.setCurrentText(key)
        self.kind.setCurrentText(kind)
        self.values.setText(values)

    def row(self) -> Row:
        return Row(self.key.currentText(), f"{self.kind.currentText()}:{self.values.text()}")


class SweepDialog(CommandDialog):
    """The study's definition, Start and Stop, and the live table of trials."""

    def __init__(self, window: Any) -> None:
        super().__init__(window, "sweep_dialog", "Sweep", "sweep")
        self.request: SweepRequest | None = None
        self.trials: list[TrialRow] = []
        self._known: dict[Path, TrialRow] = {}
        self._study: StudyReader | None = None
        document = window.document
        self.preset_name = document.project.metadata.get("preset")
        self.source = QComboBox(self)
        self.source.setObjectName("sweep_source")
        self.source.addItem("This design (block parameters and training settings)", "design")
        self.rows: list[ParamRow] = []
        self.rows_box = QVBoxLayout()
        add = QPushButton("Add parameter", self)
        add.setObjectName("sweep_add_param")
        add.setAutoDefault(False)
        add.clicked.connect(lambda: self.add_row())
        self.sampler = QComboBox(self)
        self.sampler.setObjectName("sweep_sampler")
        self.sampler.addItems(list(SAMPLERS))
        self.prune = QCheckBox("Stop poor trials early (median pruner)", self)
        self.prune.setObjectName("sweep_prune")
        self.trial_count = QSpinBox(self)
        self.trial_count.setObjectName("sweep_trials")
        self.trial_count.setRange(1, 10_000)
        self.trial_count.setValue(10)
        self.start_button = QPushButton("Start", self)
        self.start_button.setObjectName("sweep_start")
        self.start_button.setDefault(True)  # Enter in a field starts the sweep
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("sweep_stop")
        self.stop_button.setAutoDefault(False)
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.message = QLabel("", self)
        self.message.setObjectName("sweep_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(TRIAL_COLUMNS), self)
        self.table.setObjectName("sweep_trials_table")
        self.table.setHorizontalHeaderLabels(list(TRIAL_COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.cellDoubleClicked.connect(self._open_trial)
        self.log = QPlainTextEdit(self)
        self.log.setObjectName("sweep_log")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setMaximumHeight(110)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        form = QFormLayout()
        form.addRow("Sweep over:", self.source)
        form.addRow("Sampler:", self.sampler)
        form.addRow("Trials:", self.trial_count)
        form.addRow("", self.prune)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Vary (key, kind, values):", self))
        layout.addLayout(self.rows_box)
        layout.addLayout(buttons)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(QLabel("Trials (double-click one to open its run):", self))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.log)
        self.refresh_design()
        self.source.currentIndexChanged.connect(lambda _i: self._refresh_keys())
        self.add_row()
        self.resize(820, 640)

    # ----- the definition ----------------------------------------------------------------
    def _preset(self) -> Any:
        from presets import PRESETS

        name = self.preset_name
        return PRESETS.get(name) if isinstance(name, str) and name in PRESETS else None

    def _keys(self) -> list[str]:
        preset = self._preset() if self.source.currentData() == "preset" else None
        project = self.window.document.project
        graph = preset.create() if preset is not None else project.graph
        return sweep_plan.known_keys(graph, project.training, preset)

    def refresh_design(self) -> None:
        """Follow the open design: its preset (a source) and its keys."""
        self.preset_name = self.window.document.project.metadata.get("preset")
        has_preset = isinstance(self.preset_name, str) and self._preset() is not None
        index = self.source.findData("preset")
        if has_preset and index < 0:
            self.source.addItem("", "preset")
        elif not has_preset and index >= 0:
            self.source.removeItem(index)
        index = self.source.findData("preset")
        if index >= 0:
            self.source.setItemText(
                index, f"Preset {self.preset_name} with its default options (preset options too)"
            )
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        keys = self._keys()
        for row in self.rows:
            text = row.key.currentText()
            row.key.clear()
            row.key.addItems(keys)
            row.key.setCurrentText(text)

    def add_row(self, key: str = "", kind: str = "log", values: str = "") -> ParamRow:
        row = ParamRow(self._keys(), self)
        row.set(key, kind, values)
        row.remove.clicked.connect(lambda: self._remove_row(row))
        self.rows.append(row)
        self.rows_box.addWidget(row)
        return row

    def _remove_row(self, row: ParamRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
            self.rows_box.removeWidget(row)
            row.deleteLater()

    def _request(self) -> SweepRequest:
        window = self.window
        training = window.training
        out = Path(training.default_run_root())
        document = window.document
        use_preset = self.source.currentData() == "preset"
        if use_preset:
            study = str(self.preset_name)
        else:  # one study per design: an edited design starts a study of its own
            from engine.experiments.tradeoff import design_fingerprint

            window.apply_typed_edits()
            stem = document.path.stem if document.path is not None else "untitled"
            study = f"{stem}-{design_fingerprint(document.graph.to_data())}"
        file = None
        if not use_preset:
            from engine.project import save_project

            window.apply_typed_edits()
            self.temp = Path(tempfile.mkdtemp(prefix="cnnd-sweep-"))
            file = self.temp / f"{study}.cnnd"
            save_project(document.project, file)
        return SweepRequest(
            rows=tuple(r.row() for r in self.rows),
            trials=self.trial_count.value(),
            sampler=self.sampler.currentText(),
            prune=self.prune.isChecked(),
            out=out,
            study=study,
            file=file,
            preset=str(self.preset_name) if use_preset else None,
            training=dict(document.project.training),
        )

    # ----- running -----------------------------------------------------------------------
    def start(self) -> bool:
        """Check the study as the command would, then run it; False when refused."""
        if self.running:
            return False
        from engine import DesignerError

        try:
            request = self._request()
        except (DesignerError, OSError) as error:
            self._remove_temp()
            self.message.setText(f"The design cannot be saved for the sweep: {error}")
            return False
        try:
            args = sweep_plan.command_line(request)
        except DesignerError as error:  # the project's training settings, for a preset
            self._remove_temp()
            self.message.setText(f"Not started: {error}")
            return False
        refusal = sweep_plan.check(args)
        if refusal is not None:
            self._remove_temp()
            self.message.setText(f"Not started: {refusal}")
            return False
        self.request = request
        self._known.clear()
        self._study = StudyReader(request.out / "sweep.db", request.study)
        self.log.clear()
        self.command.start(args)
        self.message.setText(
            f"Running study {request.study!r}: {request.trials} more trial(s) in {request.out}"
        )
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.timer.start()
        return True

    def stop(self) -> None:
        """End the sweep as Ctrl-C would (SIGTERM); killed if it has not ended in time."""
        if not self.running:
            return
        self.stop_button.setEnabled(False)
        self.message.setText("Stopping: the running trial is marked failed, the finished kept…")
        self.command.stop(STOP_GRACE_MS)

    def _finished(self, code: int) -> None:
        self.poll()
        db = self.request.out / "sweep.db" if self.request is not None else "sweep.db"
        if self.command.stopping:
            text = f"Stopped. The study is kept in {db}: Start continues it."
        elif code == 0:
            best = sweep_plan.best_trial(self.trials)
            text = "Finished." + (
                f" Best: trial {best.number}, {best.value:.2%}." if best and best.value else ""
            )
        else:
            text = self._failed_text(code)
        self.message.setText(text)
        self._ended()

    def _ended(self) -> None:
        self.timer.stop()
        super()._ended()

    # ----- the trials --------------------------------------------------------------------
    def poll(self) -> None:
        """Read the trials from the run folders and show them."""
        if self.request is None:
            return
        self.trials = sweep_plan.read_trials(self.request.out, self.request.study, self._known)
        if self._study is not None:  # trials that made no run folder, from the study itself
            self.trials = merge(self.trials, self._study.trials())
        self._show_trials()

    def _show_trials(self) -> None:
        best = sweep_plan.best_trial(self.trials)
        self.table.setRowCount(len(self.trials))
        bold = QFont()
        bold.setBold(True)
        for i, trial in enumerate(self.trials):
            params = "  ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in trial.params.items()
            )
            value = f"{trial.value:.2%}" if trial.value is not None else "–"
            cells = (
                str(trial.number),
                params,
                trial.state.lower(),
                value,
                "★" if trial is best else "",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if trial.run_dir is not None:
                    item.setData(Qt.ItemDataRole.UserRole, str(trial.run_dir))
                if trial.message:
                    item.setToolTip(trial.message)
                if trial is best:
                    item.setFont(bold)
                self.table.setItem(i, column, item)

    def _open_trial(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is None:
            return
        path = item.data(Qt.ItemDataRole.UserRole)
        if not path:
            why = item.toolTip() or "it ended before it could start training"
            self.message.setText(f"Trial {item.text()} made no run folder: {why}")
            return
        from designer.experiments.open_run import open_run

        open_run(self.window, path)

    def shut_down(self) -> None:
        """Stop a running sweep and wait for it (bounded): the window or the dialog closes."""
        if self.running:
            self.stop()
            self.command.shut_down(STOP_GRACE_MS)
        self._ended()
