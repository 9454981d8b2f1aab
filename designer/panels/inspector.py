"""The inspector: edits the selected block's name and parameters and explains its shapes.

The form is generated from the block's ParamSpecs (one ``ParamEditor`` each). Values live in the
model: edits go through ``Document.set_params`` / ``Document.rename`` (one undo step each) and the
widgets are refreshed from the graph after every inference, with signals blocked.

An edit applies on Enter, on leaving the field, and when another block (or none) is selected
while it is being typed: nothing typed is dropped silently. What cannot be applied (a refused
value or name) stays in its field, marked, or, when the form moves on to another block, is named
in the message line. The name field checks the name as it is typed (the reason in its tooltip
and the message line).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from designer.document import Document
from designer.panels.arithmetic import size_lines
from designer.panels.lecture_rows import LectureRows
from designer.panels.param_editors import INVALID_STYLE, ParamEditor, same_value
from engine import CATALOG, DesignerError, InferenceResult, Severity, fmt_shape
from engine.identifiers import name_problem

ERROR_COLOUR = "#d32f2f"
WARNING_COLOUR = "#b26a00"


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _escape(text: str) -> str:
    """``text`` escaped for rich text. The html module loads on first use: its entity table
    would cost the start-up about 2 ms, and nothing is selected when the window opens."""
    import html

    return html.escape(text)


class Inspector(QScrollArea):
    """Name, parameters, shapes and costs of the one selected block."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.node_name: str | None = None
        self._type_id: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self._set: dict[str, Any] = {}  # the value each editor was last given (by refresh)
        self._committing = False  # applying typed edits before the form shows another block
        self._notices: list[str] = []  # typed values dropped on focus-out, shown past a rebuild
        self.setWidgetResizable(True)
        body = QWidget(self)
        self.setWidget(body)
        outer = QVBoxLayout(body)
        self.title = QLabel(body)
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        outer.addWidget(self.title)
        self.form_host = QWidget(body)
        host_layout = QVBoxLayout(self.form_host)
        host_layout.setContentsMargins(0, 0, 0, 0)
        name_form = QFormLayout()
        self.name_edit = QLineEdit(self.form_host)
        self.name_edit.setObjectName("node_name")
        self.name_edit.editingFinished.connect(self._commit_name)
        self.name_edit.textEdited.connect(self._check_name)
        name_form.addRow("Name", self.name_edit)
        self.form = QFormLayout()
        host_layout.addLayout(name_form)
        host_layout.addLayout(self.form)
        outer.addWidget(self.form_host)
        self.message = QLabel(body)
        self.message.setObjectName("inspector_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {ERROR_COLOUR};")
        outer.addWidget(self.message)
        self.details = QLabel(body)
        self.details.setObjectName("inspector_details")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.details)
        from designer.memory.rows import MemoryRows

        self.memory = MemoryRows(document, body)  # weights, gradients, optimiser, activations
        outer.addWidget(self.memory)
        self.lecture = LectureRows(document, body)  # receptive field, CNN vs MLP, step-through
        outer.addWidget(self.lecture)
        outer.addStretch(1)
        document.selection_changed.connect(self._on_selection)
        document.inferred.connect(self._on_inferred)
        document.project_replaced.connect(lambda: self._on_selection(document.selection))
        self._rebuild(0)
        self._on_selection(document.selection)

    # ----- building the form -------------------------------------------------------------
    def _on_selection(self, names: list[str]) -> None:
        if self._committing:
            return  # an edit applied by commit_pending: the form moves on once it is done
        name = names[0] if len(names) == 1 else None
        problems = self.commit_pending() if name != self.node_name else []
        self.show_node(name, count=len(names))
        notices, self._notices = self._notices + problems, []
        if notices:
            self._show_message("\n".join(notices))

    def commit_pending(self) -> list[str]:
        """Apply what was typed in the form and not applied yet (each an undo step); returns
        what could not be applied, each naming the block, the field and why."""
        name = self.node_name
        if name is None or name not in self.document.graph or self._committing:
            return []
        self._committing = True
        problems: list[str] = []
        try:
            for editor in list(self.editors.values()):
                problem = editor.flush()
                if problem:
                    problems.append(f"Not applied to {name}: {problem}")
            if self.name_edit.text().strip() != name:
                problem = self._commit_name(show=False)
                if problem:
                    problems.append(
                        f"{name} was not renamed to {self.name_edit.text().strip()!r}: {problem}"
                    )
        finally:
            self._committing = False
        return problems

    def show_node(self, name: str | None, count: int = 1) -> None:
        """Build the form for block ``name`` (None: show what is selected instead)."""
        graph = self.document.graph
        if name is not None and name not in graph:
            name = None
        type_id = graph.node(name).type_id if name else None
        if name != self.node_name or type_id != self._type_id:
            self.node_name, self._type_id = name, type_id
            self._rebuild(count)
        self.refresh()

    def _rebuild(self, count: int) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)  # deletes the row's widgets
        for editor in self.editors.values():
            editor.deleteLater()
        self.editors.clear()
        self._set.clear()
        self.message.clear()
        self.name_edit.setStyleSheet("")
        self.name_edit.setToolTip("")
        self.name_edit.setText(self.node_name or "")
        if self.node_name is None:
            self.form_host.hide()
            self.title.setText(
                f"<i>{count} blocks selected</i>"
                if count > 1
                else "<i>Select a block to edit it.</i>"
            )
            return
        type_id = self._type_id
        spec = CATALOG.get(type_id) if type_id is not None and type_id in CATALOG else None
        self.form_host.show()
        if spec is None:
            return
        for param in spec.params:
            editor = ParamEditor(param, self.form_host)
            editor.committed.connect(lambda value, key=param.name: self._commit_param(key, value))
            editor.problem_changed.connect(self._show_message)
            editor.reverted.connect(self._note_reverted)
            self.editors[param.name] = editor
            self.form.addRow(param.name, editor.row)

    # ----- model → widgets ---------------------------------------------------------------
    def _on_inferred(self, _result: InferenceResult) -> None:
        self._on_selection(self.document.selection)

    def refresh(self) -> None:
        """Update the editors and the details from the graph and the latest inference."""
        name = self.node_name
        self.lecture.show_node(name)
        self.memory.show_node(name)
        if name is None:
            self.details.setText(self._totals_text())
            return
        node = self.document.graph.node(name)
        spec = CATALOG.get(node.type_id) if node.type_id in CATALOG else None
        display = spec.display_name if spec else node.type_id
        description = _escape(spec.description) if spec else "unknown block type"
        self.title.setText(f"<b>{_escape(display)}</b><br><small>{description}</small>")
        if (
            not self.name_edit.hasFocus()
            and not self.name_edit.toolTip()
            and self.name_edit.text() != name
        ):
            self.name_edit.setText(name)  # (a refused name typed stays, marked, until changed)
        self._set_values(node.params)
        self.details.setText(self._details_text(name, node.type_id, node.params))

    def _set_values(self, params: dict[str, Any]) -> None:
        """Give each editor its value from the model, only where that changed since it was
        last given (or the editor shows a mistake to settle): after an edit elsewhere in a big
        design, setting all of them again restyled and repainted every one."""
        for key, editor in self.editors.items():
            value = params.get(key)
            if key in self._set and not editor.problem and same_value(value, self._set[key]):
                continue
            self._set[key] = list(value) if isinstance(value, list) else value  # (a copy)
            editor.set_value(value)

    def _totals_text(self) -> str:
        result = self.document.result
        return (
            f"Network: {len(self.document.graph)} blocks, {_count(result.total_params)} "
            f"parameters, {_count(result.total_macs)} MACs"
        )

    def _details_text(self, name: str, type_id: str, params: dict[str, Any]) -> str:
        result = self.document.result.nodes.get(name)
        if result is None:
            return ""
        inputs = ", ".join(fmt_shape(s) for s in result.inputs) or "none"
        outputs = ", ".join(
            f"{fmt_shape(s)}" if port == "out" else f"{port}: {fmt_shape(s)}"
            for port, s in result.outputs.items()
        ) or ("?" if result.error or not result.known else "none")
        rows = [
            ("Input", inputs),
            ("Output", outputs),
            ("Parameters", _count(result.params)),
            ("MACs", _count(result.macs)),
        ]
        text = (
            "<table>"
            + "".join(
                f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{_escape(v)}</td></tr>" for k, v in rows
            )
            + "</table>"
        )
        spec = CATALOG.get(type_id) if type_id in CATALOG else None
        full = spec.with_defaults(params) if spec else params
        lines = size_lines(type_id, full, result.inputs[0] if result.inputs else None)
        if lines:
            text += (
                "<p><b>Output size</b><br><code>"
                + "<br>".join(_escape(line) for line in lines)
                + "</code></p>"
            )
        for diagnostic in self.document.result.for_node(name):
            colour = ERROR_COLOUR if diagnostic.severity is Severity.ERROR else WARNING_COLOUR
            text += f"<p style='color:{colour}'>{_escape(diagnostic.message)}</p>"
        return text

    # ----- widgets → model ---------------------------------------------------------------
    def _commit_param(self, key: str, value: Any) -> None:
        name = self.node_name
        if name is None or name not in self.document.graph:
            return
        if same_value(self.document.graph.node(name).params.get(key), value):
            return  # 1 replaces 1.0 or True: only the very same value is no change
        try:
            self.document.set_params(name, {key: value})
        except DesignerError as error:
            self._show_message(str(error))

    def name_problem(self, new: str) -> str:
        """Why ``new`` cannot be the selected block's name ("" when it can)."""
        old = self.node_name
        if old is None or new == old:
            return ""
        problem = name_problem(new)
        if problem is None and new in self.document.graph:
            problem = f"a block called {new!r} already exists. Choose another name"
        return problem or ""

    def _check_name(self, text: str) -> None:
        """Mark a name that cannot be used while it is typed; the reason in the tooltip."""
        problem = self.name_problem(text.strip())
        self.name_edit.setStyleSheet(INVALID_STYLE if problem else "")
        self.name_edit.setToolTip(problem)
        self._show_message(f"Name: {problem}" if problem else "")

    def _commit_name(self, show: bool = True) -> str:
        """Rename the block to the typed name; returns "" or why it was refused (the field
        then stays marked with the typed name)."""
        old = self.node_name
        new = self.name_edit.text().strip()
        if old is None or new == old:
            self.name_edit.setStyleSheet("")
            self.name_edit.setToolTip("")
            return ""
        try:
            self.document.rename(old, new)
        except DesignerError as error:
            self.name_edit.setStyleSheet(INVALID_STYLE)
            self.name_edit.setToolTip(str(error))
            self._show_message(str(error))
            return str(error)
        self.name_edit.setStyleSheet("")
        self.name_edit.setToolTip("")
        self._show_message("")
        if show:
            self.show_node(new)
        return ""

    def _note_reverted(self, text: str) -> None:
        """A spin box left with text it could not use went back to its value: say so now, and
        again once the form shows the block selected by the click that took the focus."""
        notice = f"Not applied to {self.node_name}: {text}"
        self._notices.append(notice)
        self._show_message(notice)
        QTimer.singleShot(0, self._notices.clear)  # a click's selection comes before this

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
