"""File ▸ Export: the design as PyTorch code, TorchScript or ONNX, with or without trained weights.

``open_export_dialog(window, "python")`` refuses a design with errors (the Problems tab is
shown), else opens the window's export dialog (one per window: it remembers the last choices).
Accepting it starts ``engine.export.export_model`` on a copy of the graph on the thread pool
(torch loads there, not on the UI thread), with a busy bar in the status bar; the written path
is reported there, and an ExportError (or any failure) in a message box. The design stays open.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QMessageBox,
)

from designer.dialogs.background import (
    BackgroundJob,
    BusyIndicator,
    describe_error,
    run_in_background,
)
from designer.dialogs.form import error_label, lay_out, with_browse
from engine import DesignerError
from engine.export import DEFAULT_CLASS, FORMATS, class_name_problem

FORMAT_LABELS = {"python": "Python code (.py)", "torchscript": "TorchScript (.ts)", "onnx": "ONNX"}
# the file names offered: never the same for two formats, nor the weights file that a Python
# export writes beside its code (``mynet.py`` and ``mynet.pt``), so one export cannot replace
# another's file by default (TorchScript is ``.ts``, as in the README's command line)
DEFAULT_SUFFIX = {"python": ".py", "torchscript": ".ts", "onnx": ".onnx"}
FORMAT_FILTERS = {
    "python": "Python files (*.py)",
    "torchscript": "TorchScript files (*.ts *.pt)",
    "onnx": "ONNX files (*.onnx)",
}
WEIGHTS_FILTER = "PyTorch weights (*.pt *.pth *.ckpt);;All files (*)"
NO_WEIGHTS, LATEST_RUN, WEIGHTS_FILE = "none", "run", "file"


@dataclass(frozen=True)
class ExportRequest:
    """What the dialog asks for: the format, the file, the weights (None: untrained)."""

    format: str
    path: Path
    weights: Path | None
    class_name: str


def latest_checkpoint(window: Any) -> Path | None:
    """The newest run of this project that has a checkpoint: its best.pt, else its last.pt.

    Runs are looked for where Train writes them (the training controller's run folder), then in
    the folders the design had before a Save As (``designer.run_history``)."""
    from designer.training.predictor import checkpoint_of
    from engine.training.runs import default_run_root, list_runs

    training = getattr(window, "training", None)
    if training is not None:
        root = training.default_run_root()
    else:
        document = window.document
        root = default_run_root(document.path, document.project.metadata.get("preset"))
    history = getattr(window, "run_roots", None)
    for folder in [root, *(history.earlier if history is not None else [])]:
        for run in reversed(list_runs(folder)):
            try:
                return checkpoint_of(run.path)
            except FileNotFoundError:
                continue
    return None


def default_class_name(window: Any) -> str:
    """The preset's name without punctuation (``LeNet5``), else ``DesignedNet``."""
    preset = window.document.project.metadata.get("preset")
    if preset:
        from presets import PRESETS

        try:
            display = PRESETS.get(str(preset)).display_name
            name = "".join(ch for ch in display if ch.isascii() and ch.isalnum())
        except DesignerError:
            name = ""
        if name[:1].isalpha() and class_name_problem(name) is None:
            return name
    return DEFAULT_CLASS


class ExportDialog(QDialog):
    """Format, output file, class name (python) and the weights to include."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.setObjectName("export_dialog")
        self.setWindowTitle("Export design")
        self.window_ = window
        self.job: BackgroundJob | None = None
        self._auto_path = ""
        self._auto_class = ""
        self.run_checkpoint: Path | None = None

        self.format = QComboBox(self)
        self.format.setObjectName("format")
        for name in FORMATS:
            self.format.addItem(FORMAT_LABELS.get(name, name), name)
        self.path = QLineEdit(self)
        self.path.setObjectName("output_path")
        self.class_name = QLineEdit(self)
        self.class_name.setObjectName("class_name")
        self.weights = QComboBox(self)
        self.weights.setObjectName("weights")
        self.weights_path = QLineEdit(self)
        self.weights_path.setObjectName("weights_path")
        self.weights_path.setPlaceholderText("a checkpoint, a state dict file or a run folder")
        self.error = error_label(self)

        form = QFormLayout()
        form.addRow("&Format:", self.format)
        form.addRow("&Save to:", with_browse(self, self.path, self._browse_output))
        form.addRow("&Class name:", self.class_name)
        form.addRow("&Weights:", self.weights)
        form.addRow("", with_browse(self, self.weights_path, self._browse_weights))
        self.buttons = lay_out(self, form, self.error, "Export")

        self.format.currentIndexChanged.connect(self._on_format)
        self.weights.currentIndexChanged.connect(self._on_weights)
        self.accepted.connect(self._start)

    # ----- filling in ----------------------------------------------------------------------
    def prepare(self, format: str) -> None:
        """Fill the fields for the current design and select ``format`` (before showing)."""
        if format not in FORMATS:
            raise ValueError(f"export format {format!r}: choose one of {', '.join(FORMATS)}")
        self.error.hide()
        document = self.window_.document
        if self.path.text() in ("", self._auto_path):
            folder = Path(document.path).parent if document.path else Path.cwd()
            stem = Path(document.path).stem if document.path else None
            stem = stem or str(document.project.metadata.get("preset") or "model")
            self._auto_path = str(folder / f"{stem}{DEFAULT_SUFFIX[format]}")
            self.path.setText(self._auto_path)
        if self.class_name.text() in ("", self._auto_class):
            self._auto_class = default_class_name(self.window_)
            self.class_name.setText(self._auto_class)
        self._fill_weights()
        self.format.setCurrentIndex(self.format.findData(format))
        self._on_format()

    def _fill_weights(self) -> None:
        previous = self.weights.currentData()
        self.run_checkpoint = latest_checkpoint(self.window_)
        self.weights.blockSignals(True)
        self.weights.clear()
        self.weights.addItem("None: untrained (random) weights", NO_WEIGHTS)
        if self.run_checkpoint is not None:
            run = self.run_checkpoint.parent.name
            label = f"Latest run {run} ({self.run_checkpoint.name})"
            self.weights.addItem(label, LATEST_RUN)
            self.weights.setItemData(1, str(self.run_checkpoint), Qt.ItemDataRole.ToolTipRole)
        self.weights.addItem("A weights file…", WEIGHTS_FILE)
        index = self.weights.findData(previous)
        if previous is None and self.run_checkpoint is not None:
            index = self.weights.findData(LATEST_RUN)
        self.weights.setCurrentIndex(max(index, 0))
        self.weights.blockSignals(False)
        self._on_weights()

    def _on_format(self, *_args: object) -> None:
        format = self.chosen_format()
        self.class_name.setEnabled(format == "python")
        text = self.path.text().strip()
        if text and Path(text).suffix in set(FORMATS.values()) | set(DEFAULT_SUFFIX.values()):
            new = str(Path(text).with_suffix(DEFAULT_SUFFIX[format]))
            if text == self._auto_path:
                self._auto_path = new
            self.path.setText(new)

    def _on_weights(self, *_args: object) -> None:
        row = self.weights_path.parentWidget()
        if row is not None:
            row.setEnabled(self.weights.currentData() == WEIGHTS_FILE)

    def _browse_output(self) -> None:
        format = self.chosen_format()
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export to",
            self.path.text(),
            f"{FORMAT_FILTERS[format]};;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,  # Export asks, for every file
        )
        if path:
            self.path.setText(path)

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Trained weights", self.weights_path.text(), WEIGHTS_FILTER
        )
        if path:
            self.weights_path.setText(path)
            self.weights.setCurrentIndex(self.weights.findData(WEIGHTS_FILE))

    # ----- result --------------------------------------------------------------------------
    def chosen_format(self) -> str:
        return str(self.format.currentData())

    def request(self) -> ExportRequest:
        """The export asked for; ValueError with a message for a field that is not usable."""
        format = self.chosen_format()
        text = self.path.text().strip()
        if not text:
            raise ValueError("Choose the file to write (Save to).")
        path = Path(text).expanduser()
        if not path.suffix:
            path = path.with_suffix(DEFAULT_SUFFIX[format])
        if format == "python" and path.suffix != ".py":
            raise ValueError(f"Python code must go to a .py file. Received: {path.name}.")
        if not path.parent.is_dir():
            raise ValueError(f"Folder {path.parent} does not exist. Choose an existing folder.")
        weights: Path | None = None
        source = self.weights.currentData()
        if source == LATEST_RUN:
            weights = self.run_checkpoint
        elif source == WEIGHTS_FILE:
            given = self.weights_path.text().strip()
            if not given or not Path(given).expanduser().exists():
                raise ValueError(
                    f"Weights file {given!r} not found. Choose a checkpoint or state dict file, "
                    "or export without weights."
                )
            weights = Path(given).expanduser()
        class_name = self.class_name.text().strip()
        if format == "python":
            problem = class_name_problem(class_name)
            if problem:
                raise ValueError(problem)
        return ExportRequest(format, path, weights, class_name or DEFAULT_CLASS)

    def accept(self) -> None:
        try:
            request = self.request()
        except ValueError as error:
            self.error.setText(str(error))
            self.error.show()
            return
        self.error.hide()
        if not self._may_replace(request):
            self.path.setFocus()
            return
        super().accept()

    def _may_replace(self, request: ExportRequest) -> bool:
        """Ask before replacing files that exist; True when none does or the user agrees."""
        existing = [path for path in written_files(request) if os.path.lexists(path)]
        if not existing:
            return True
        names = "\n".join(f"  {path}" for path in existing)
        weights = written_files(request)[1:] if request.format == "python" else []
        note = (
            f"\n\nPython code is written with its weights beside it, as {weights[0].name}."
            if weights and weights[0] in existing
            else ""
        )
        answer = QMessageBox.question(
            self,
            "Replace files?",
            f"{'These files exist' if len(existing) > 1 else 'This file exists'} "
            f"already:\n{names}{note}\n\nReplace "
            f"{'them' if len(existing) > 1 else 'it'}? Choose No to pick another name.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _start(self) -> None:
        self.job = start_export(self.window_, self.request())


def written_files(request: ExportRequest) -> list[Path]:
    """The files an export writes: the file asked for, and for Python code with weights the
    weights file beside it (same name, ``.pt``)."""
    files = [request.path]
    if request.format == "python" and request.weights is not None:
        files.append(request.path.with_suffix(".pt"))
    if request.format != "python":  # the preprocessing, beside the model
        from engine.export.preprocess import json_path

        files.append(json_path(request.path))
    return files


def _training_settings(window: Any) -> Any:
    """The project's training settings when it stores valid ones (for the preprocessing the
    export carries), else None."""
    from engine.errors import DesignerError
    from engine.training.settings import TrainingSettings

    stored = getattr(getattr(window.document, "project", None), "training", None)
    try:
        return TrainingSettings.from_dict(stored) if stored else None
    except DesignerError:
        return None


def start_export(window: Any, request: ExportRequest) -> BackgroundJob:
    """Export a copy of the design on the thread pool; the outcome goes to the window."""
    graph = window.document.graph.copy()  # edits made meanwhile do not reach the export
    settings = _training_settings(window)
    busy = BusyIndicator(window, f"Exporting {FORMAT_LABELS[request.format]}…")
    notes: list[str] = []  # filled on the thread pool, read in done()

    def work() -> Path:
        from engine.export import export_model
        from engine.export.preprocess import export_preprocessing

        # the preprocessing travels with the model (preprocess() or NAME.preprocess.json)
        pre = export_preprocessing(graph, settings, request.weights)
        return export_model(
            graph,
            request.format,
            request.path,
            request.weights,
            class_name=request.class_name,
            on_note=notes.append,
            preprocessing=pre,
        )

    def done(path: Path) -> None:
        extra = ""
        if request.format == "python" and request.weights is not None:
            extra = f" (weights: {path.with_suffix('.pt')})"
        busy.stop(f"Exported {request.format} to {path}{extra}", 30_000)
        if notes:  # such as a TorchScript file traced, which .train() cannot change
            text = f"{path}\n\n" + "\n\n".join(notes)
            QMessageBox.warning(window, "Exported with limits", text)

    def failed(error: Exception) -> None:
        busy.stop(f"Export failed: {request.path.name}")
        QMessageBox.critical(window, "Cannot export", f"{request.path}\n\n{describe_error(error)}")

    job = run_in_background(work, done, failed)
    window.destroyed.connect(job.cancel)
    return job


def open_export_dialog(window: Any, format: str = "python") -> ExportDialog | None:
    """Refuse a design with errors (Problems shown); else show the export dialog (not blocking)."""
    result = window.document.result
    if not result.ok:
        window.show_problems()
        window.statusBar().showMessage(
            f"Cannot export: the design has {len(result.errors)} error(s). "
            "Fix them in the Problems list first",
            10_000,
        )
        return None
    dialog = window.findChild(ExportDialog, "export_dialog") or ExportDialog(window)
    dialog.prepare(format)
    dialog.open()
    return dialog
