"""File ▸ Import PyTorch model: a torchvision architecture or an ``nn.Module`` class from a file.

``open_import_dialog(window)`` shows the dialog (one per window, not blocking). Accepting it asks
about unsaved changes the way Open does, then traces the model with ``engine.importer`` on the
thread pool (torch loads there) and lays it out there too. The result opens as a new, untitled
project; operations without a block are listed by name in a message (they stay in the import's
report, never dropped silently), and errors go to a message box with the current design kept.
The torchvision names are read in the background as well; the name box can be typed in first.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QMessageBox,
    QRadioButton,
)

from designer.dialogs.background import (
    BackgroundJob,
    BusyIndicator,
    describe_error,
    run_in_background,
)
from designer.dialogs.form import error_label, lay_out, with_browse
from engine import DesignerError

DEFAULT_SHAPE = "3×224×224"
DEFAULT_TORCHVISION = "resnet18"


@dataclass(frozen=True)
class ImportRequest:
    """A torchvision name, or a file and class name; and one input sample's shape."""

    shape: tuple[int, ...]
    torchvision: str | None = None
    file: Path | None = None
    class_name: str = ""

    @property
    def origin(self) -> str:
        """Where the model came from, as the project's title says it."""
        if self.torchvision is not None:
            return f"torchvision {self.torchvision}"
        return f"{self.file.name if self.file else '?'}:{self.class_name}"


def torchvision_available() -> bool:
    """Whether torchvision is installed (checked without importing it)."""
    return importlib.util.find_spec("torchvision") is not None


def torchvision_names() -> list[str]:
    """The classification models torchvision can build (imports torch: call it off the UI)."""
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def parse_input_shape(text: str) -> tuple[int, ...]:
    """``3×224×224`` (or ``3x224x224``) as a tuple; DesignerError says how to write it."""
    from designer.cli.common import parse_shape

    return tuple(parse_shape(text))


class ImportDialog(QDialog):
    """Choose the model (torchvision name or file + class) and the input shape."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.setObjectName("import_dialog")
        self.setWindowTitle("Import PyTorch model")
        self.window_ = window
        self.job: BackgroundJob | None = None
        self.names_job: BackgroundJob | None = None

        self.from_torchvision = QRadioButton("A &torchvision model", self)
        self.from_torchvision.setObjectName("from_torchvision")
        self.from_file = QRadioButton("A class in a Python &file", self)
        self.from_file.setObjectName("from_file")
        group = QButtonGroup(self)
        group.addButton(self.from_torchvision)
        group.addButton(self.from_file)
        self.torchvision_name = QComboBox(self)
        self.torchvision_name.setObjectName("torchvision_name")
        self.torchvision_name.setEditable(True)
        self.torchvision_name.setEditText(DEFAULT_TORCHVISION)
        self.file_path = QLineEdit(self)
        self.file_path.setObjectName("file_path")
        self.file_path.setPlaceholderText("model.py (only this file is run)")
        self.class_name = QLineEdit(self)
        self.class_name.setObjectName("class_name")
        self.class_name.setPlaceholderText("the nn.Module class, e.g. Net")
        self.shape = QLineEdit(DEFAULT_SHAPE, self)
        self.shape.setObjectName("input_shape")
        self.shape.setToolTip("One input sample without the batch: C×H×W, or F features")
        self.error = error_label(self)

        file_row = with_browse(self, self.file_path, self._browse)
        self.file_fields = (file_row, self.class_name)

        form = QFormLayout()
        form.addRow(self.from_torchvision)
        form.addRow("Name:", self.torchvision_name)
        form.addRow(self.from_file)
        form.addRow("File:", file_row)
        form.addRow("Class:", self.class_name)
        form.addRow("&Input shape:", self.shape)
        self.buttons = lay_out(self, form, self.error, "Import")

        self.from_torchvision.toggled.connect(self._on_source)
        self.accepted.connect(self._start)
        if torchvision_available():
            self.from_torchvision.setChecked(True)
            self.names_job = run_in_background(torchvision_names, self._fill_names, self._no_names)
            self.destroyed.connect(self.names_job.cancel)
        else:
            self.from_torchvision.setEnabled(False)
            self.from_torchvision.setToolTip("torchvision is not installed")
            self.from_file.setChecked(True)
        self._on_source()

    def _fill_names(self, names: list[str]) -> None:
        text = self.torchvision_name.currentText()
        self.torchvision_name.addItems(names)
        self.torchvision_name.setEditText(text)

    def _no_names(self, error: Exception) -> None:
        self.torchvision_name.setToolTip(f"torchvision cannot list its models: {error}")

    def _on_source(self, *_args: object) -> None:
        torchvision = self.from_torchvision.isChecked()
        self.torchvision_name.setEnabled(torchvision)
        for widget in self.file_fields:
            widget.setEnabled(not torchvision)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Python file with the model", self.file_path.text(), "Python files (*.py)"
        )
        if path:
            self.file_path.setText(path)
            self.from_file.setChecked(True)

    # ----- result --------------------------------------------------------------------------
    def request(self) -> ImportRequest:
        """The import asked for; DesignerError naming the field that is not usable."""
        shape = parse_input_shape(self.shape.text())
        if self.from_torchvision.isChecked():
            name = self.torchvision_name.currentText().strip()
            if not name:
                raise DesignerError("torchvision model: give a name, e.g. resnet18")
            return ImportRequest(shape, torchvision=name)
        text = self.file_path.text().strip()
        if not text:
            raise DesignerError("Python file: choose the file that defines the model")
        path = Path(text).expanduser()
        if not path.is_file():
            raise DesignerError(f"Python file {str(path)!r}: not found. Check the path")
        class_name = self.class_name.text().strip()
        if not class_name.isidentifier():
            raise DesignerError(
                f"class name: must be a Python identifier. Received: {class_name!r}. "
                "Give the nn.Module class defined in the file, e.g. Net"
            )
        return ImportRequest(shape, file=path, class_name=class_name)

    def accept(self) -> None:
        try:
            self.request()
        except DesignerError as error:
            self.error.setText(str(error))
            self.error.show()
            return
        self.error.hide()
        super().accept()

    def _start(self) -> None:
        if self.window_.maybe_save():  # like Open: unsaved changes first
            self.job = start_import(self.window_, self.request())


def start_import(window: Any, request: ImportRequest) -> BackgroundJob:
    """Import on the thread pool; the result replaces the window's project."""
    busy = BusyIndicator(window, f"Importing {request.origin}…")
    before = window.document.result  # a new result object after every edit

    def work() -> tuple[Any, Any]:
        from designer.document import laid_out_project
        from engine.importer import import_file, import_torchvision

        if request.torchvision is not None:
            imported = import_torchvision(request.torchvision, request.shape)
        else:
            assert request.file is not None
            imported = import_file(request.file, request.class_name, request.shape)
        metadata = {"title": request.origin, "imported_from": request.origin}
        return imported, laid_out_project(imported.graph, metadata)

    def done(value: tuple[Any, Any]) -> None:
        imported, project = value
        edited = window.document.result is not before  # while importing: ask again
        if edited and window.document.modified and not window.maybe_save():
            busy.stop(f"Import of {request.origin} discarded: the design was kept")
            return
        window.document.replace_project(project)
        window.canvas.zoom_to_fit()
        result = window.document.result
        busy.stop(
            f"Imported {request.origin}: {len(project.graph)} blocks, "
            f"{result.total_params:,} parameters",
            30_000,
        )
        if imported.unmapped or imported.warnings:
            QMessageBox.warning(
                window, "Imported with differences", report_text(request.origin, imported)
            )

    def failed(error: Exception) -> None:
        busy.stop(f"Import of {request.origin} failed")
        QMessageBox.critical(
            window, "Cannot import model", f"{request.origin}\n\n{describe_error(error)}"
        )

    job = run_in_background(work, done, failed)
    window.destroyed.connect(job.cancel)
    return job


def report_text(origin: str, imported: Any) -> str:
    """What did not map (by name and reason) and the warnings, for a message box."""
    lines = []
    if imported.unmapped:
        lines.append(
            f"{len(imported.unmapped)} operation(s) of {origin} have no block. They are not "
            "in the design and the blocks after them are left unwired: rebuild them by hand."
        )
        lines += [f"• not mapped: {item}" for item in imported.unmapped]
    if imported.warnings:
        lines += ["", "Warnings:"] if lines else ["Warnings:"]
        lines += [f"• {item}" for item in imported.warnings]
    return "\n".join(lines)


def open_import_dialog(window: Any) -> ImportDialog:
    """Show the window's import dialog (not blocking)."""
    dialog = window.findChild(ImportDialog, "import_dialog") or ImportDialog(window)
    dialog.error.hide()
    dialog.open()
    return dialog
