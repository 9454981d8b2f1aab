"""One editor widget per parameter kind, generated from a ParamSpec and bound to the model.

Each editor shows a value given by ``set_value`` (from the model, without echoing a change) and
emits ``committed(value)`` when the user finishes an acceptable edit; the inspector sends it to
the document. Text editors validate while the user types: a red border and the spec's message.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from engine.errors import ParameterError
from engine.params import ParamKind, ParamSpec

INT_LIMIT = 2**31 - 1
INVALID_STYLE = "QLineEdit { border: 2px solid #d32f2f; }"


def value_text(value: Any) -> str:
    """A parameter value as the user writes it: 3, 3×5, 1×28×28, same, or empty for None."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "×".join(str(v) for v in value)
    return str(value)


class ParamEditor(QObject):
    """Binds one widget to one parameter."""

    committed = Signal(object)  # the new value, already checked by the spec
    problem_changed = Signal(str)  # "" when the text is acceptable

    def __init__(self, spec: ParamSpec, parent: QWidget) -> None:
        super().__init__(parent)
        self.spec = spec
        self.widget = self._make_widget(parent)
        self.widget.setToolTip(spec.help)
        self.widget.setObjectName(f"param_{spec.name}")
        self.problem = ""

    def _make_widget(self, parent: QWidget) -> QWidget:
        spec = self.spec
        if spec.kind is ParamKind.INT:
            box = QSpinBox(parent)
            box.setRange(
                int(spec.minimum) if spec.minimum is not None else -INT_LIMIT,
                int(spec.maximum) if spec.maximum is not None else INT_LIMIT,
            )
            box.setKeyboardTracking(False)  # commit on Enter, focus-out or arrows, not per key
            box.valueChanged.connect(self.committed.emit)
            return box
        if spec.kind is ParamKind.FLOAT:
            box = QDoubleSpinBox(parent)
            box.setDecimals(6)
            box.setRange(
                spec.minimum if spec.minimum is not None else -1e9,
                spec.maximum if spec.maximum is not None else 1e9,
            )
            box.setSingleStep(0.05 if spec.maximum is not None and spec.maximum <= 1 else 0.1)
            box.setKeyboardTracking(False)
            box.valueChanged.connect(lambda v: self.committed.emit(float(v)))
            return box
        if spec.kind is ParamKind.BOOL:
            check = QCheckBox(parent)
            check.toggled.connect(self.committed.emit)
            return check
        if spec.kind is ParamKind.CHOICE:
            combo = QComboBox(parent)
            combo.addItems([str(c) for c in spec.choices])
            combo.currentIndexChanged.connect(self._choice_changed)
            return combo
        edit = QLineEdit(parent)
        edit.setPlaceholderText(_placeholder(spec))
        edit.textEdited.connect(self._validate_text)
        edit.editingFinished.connect(self._commit_text)
        return edit

    # ----- model → widget ------------------------------------------------------------------
    def set_value(self, value: Any) -> None:
        """Show the model's value without emitting ``committed``."""
        widget = self.widget
        with QSignalBlocker(widget):
            if isinstance(widget, QSpinBox | QDoubleSpinBox):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    widget.setValue(value)
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QComboBox):
                texts = [str(c) for c in self.spec.choices]
                if str(value) in texts:
                    widget.setCurrentIndex(texts.index(str(value)))
            elif isinstance(widget, QLineEdit) and not (widget.hasFocus() and self.problem):
                widget.setText(value_text(value))
                self._show_problem("")
        self._shown = value

    # ----- widget → model ------------------------------------------------------------------
    def _choice_changed(self, index: int) -> None:
        if 0 <= index < len(self.spec.choices):
            self.committed.emit(self.spec.choices[index])

    def parse(self, text: str) -> tuple[Any, str]:
        """The value typed and "" , or None and the problem with it."""
        try:
            value = self.spec.parse(text)
        except ParameterError as error:
            return None, str(error)
        problem = self.spec.problem(value)
        return (None, problem) if problem else (value, "")

    def _validate_text(self, text: str) -> None:
        self._show_problem(self.parse(text)[1])

    def _commit_text(self) -> None:
        assert isinstance(self.widget, QLineEdit)
        value, problem = self.parse(self.widget.text())
        self._show_problem(problem)
        if not problem and value != getattr(self, "_shown", object()):
            self.committed.emit(value)

    def _show_problem(self, problem: str) -> None:
        if problem == self.problem:
            return
        self.problem = problem
        self.widget.setStyleSheet(INVALID_STYLE if problem else "")
        self.problem_changed.emit(problem)


def _placeholder(spec: ParamSpec) -> str:
    if spec.kind is ParamKind.OPTIONAL_SIZE2:
        return "default (k or kh×kw)"
    if spec.kind is ParamKind.PADDING:
        return "p, ph×pw or same"
    if spec.kind is ParamKind.SHAPE:
        return "C×H×W or features"
    return "k or kh×kw"
