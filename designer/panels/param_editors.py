"""One editor widget per parameter kind, generated from a ParamSpec and bound to the model.

Each editor shows a value given by ``set_value`` (from the model, without echoing a change) and
emits ``committed(value)`` when the user finishes an acceptable edit; the inspector sends it to
the document. Text editors validate while the user types: a red border and the spec's message.

What an editor shows is always the model's value. A value the kind's own widget cannot show
exactly (a whole number past a spin box's 32-bit range or below its minimum, NaN, 5.0 for a
probability, "yes" for a flag) is shown in a text box instead, and a choice that is not one of
the choices is shown as an extra, marked entry of the list. A value the spec refuses gets a red
border and the problem as its tooltip; any different value the user then enters is committed.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QSpinBox,
    QStackedWidget,
    QWidget,
)

from engine.errors import ParameterError
from engine.params import ParamKind, ParamSpec

INT_LIMIT = 2**31 - 1
INVALID_COLOUR = "#d32f2f"
INVALID_STYLE = f"QLineEdit {{ border: 2px solid {INVALID_COLOUR}; }}"
_DIGITS = 4000  # below Python's limit on str() of an int (4,300 digits)
_MARKER_CHARS = 40  # how much of a value not among the choices the list shows


def _int_text(value: int) -> str:
    """str(value), also for whole numbers longer than Python's str() accepts."""
    try:
        return str(value)
    except ValueError:
        high, low = divmod(abs(value), 10**_DIGITS)
        return ("-" if value < 0 else "") + _int_text(high) + str(low).zfill(_DIGITS)


def value_text(value: Any) -> str:
    """A parameter value as the user writes it: 3, 3×5, 1×28×28, same, or empty for None."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "×".join(value_text(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _int_text(value)
    return str(value)


def same_value(a: Any, b: Any) -> bool:
    """Whether two parameter values are the same, type included: 1 is not 1.0 nor True, and
    NaN is never the same as anything (a list and a tuple of the same items are the same)."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class ParamEditor(QObject):
    """Binds one widget to one parameter.

    ``row`` goes in the form; ``widget`` is the editor it shows now: the kind's own widget
    (spin box, check box, list) or, for a value that one cannot show, the text box.
    """

    committed = Signal(object)  # the new value, already checked by the spec
    problem_changed = Signal(str)  # "" when the text is acceptable
    reverted = Signal(str)  # typed text a spin box could not use and dropped: what and why

    def __init__(self, spec: ParamSpec, parent: QWidget) -> None:
        super().__init__(parent)
        self.spec = spec
        self.problem = ""
        self._shown: Any = object()  # the model's value, once set_value has run
        self.row = QStackedWidget(parent)
        self.native = self._make_native(self.row)
        self.text_edit = self._make_text_edit(self.row)
        for widget in (self.native, self.text_edit):
            if widget is not None:
                widget.setToolTip(spec.help)
                self.row.addWidget(widget)

    @property
    def widget(self) -> QWidget:
        """The editor shown now."""
        current = self.row.currentWidget()
        assert current is not None
        return current

    def _make_native(self, parent: QWidget) -> QWidget | None:
        spec = self.spec
        name = f"param_{spec.name}"
        box: QWidget
        if spec.kind is ParamKind.INT:
            spin = QSpinBox(parent)
            spin.setRange(
                int(spec.minimum) if spec.minimum is not None else -INT_LIMIT,
                int(spec.maximum) if spec.maximum is not None else INT_LIMIT,
            )
            spin.setKeyboardTracking(False)  # commit on Enter, focus-out or arrows, not per key
            spin.valueChanged.connect(self.committed.emit)
            spin.installEventFilter(self)
            box = spin
        elif spec.kind is ParamKind.FLOAT:
            double = QDoubleSpinBox(parent)
            double.setDecimals(6)
            double.setRange(
                spec.minimum if spec.minimum is not None else -1e9,
                spec.maximum if spec.maximum is not None else 1e9,
            )
            double.setSingleStep(0.05 if spec.maximum is not None and spec.maximum <= 1 else 0.1)
            double.setKeyboardTracking(False)
            double.valueChanged.connect(lambda v: self.committed.emit(float(v)))
            double.installEventFilter(self)
            box = double
        elif spec.kind is ParamKind.BOOL:
            check = QCheckBox(parent)
            check.toggled.connect(self.committed.emit)
            box = check
        elif spec.kind is ParamKind.CHOICE:
            combo = QComboBox(parent)
            combo.addItems([str(c) for c in spec.choices])
            combo.currentIndexChanged.connect(self._choice_changed)
            box = combo
        else:
            return None
        box.setObjectName(name)
        return box

    def _make_text_edit(self, parent: QWidget) -> QLineEdit:
        edit = QLineEdit(parent)
        edit.setObjectName(f"param_{self.spec.name}" + ("_text" if self.native is not None else ""))
        edit.setPlaceholderText(_placeholder(self.spec))
        edit.textEdited.connect(self._validate_text)
        edit.editingFinished.connect(self._commit_text)
        return edit

    # ----- model → widget ------------------------------------------------------------------
    def set_value(self, value: Any) -> None:
        """Show the model's value without emitting ``committed``.

        Text the user typed that was refused stays, marked, until they change it or the
        model's value changes (an undo): it is never silently replaced by the old value."""
        unchanged = value is self._shown or same_value(value, self._shown)
        self._shown = value
        problem = self._model_problem(value)
        native = self.native
        if unchanged and native is self.widget and self._typing_in(native):
            return  # a number being typed (not applied yet): a refresh must not replace it
        if native is not None:
            with QSignalBlocker(native):
                shown = self._show_natively(native, value)
            if shown:
                self.row.setCurrentWidget(native)
                self._mark(native, problem)
                self._show_problem("")  # forget a mistake typed in the text box
                return
        edit = self.text_edit
        self.row.setCurrentWidget(edit)
        if self.problem and unchanged:
            return  # refused text the user has yet to correct: leave it, marked
        with QSignalBlocker(edit):
            edit.setText(value_text(value))
        self._show_problem("", problem)

    @staticmethod
    def _typing_in(widget: QWidget | None) -> bool:
        """Whether ``widget`` is a spin box holding typed text that is not its value yet."""
        if not isinstance(widget, QSpinBox | QDoubleSpinBox):
            return False
        line = widget.lineEdit()
        return line is not None and line.text() != widget.textFromValue(widget.value())

    def _model_problem(self, value: Any) -> str:
        try:
            return self.spec.problem(value) or ""
        except ValueError:  # repr() of a whole number of over 4,300 digits
            return f"{self.spec.name} is a number with too many digits to check"

    def _show_natively(self, widget: QWidget, value: Any) -> bool:
        """Show ``value`` in the kind's own widget if it can show it exactly."""
        if isinstance(widget, QSpinBox):
            if not _is_int(value) or not widget.minimum() <= value <= widget.maximum():
                return False
            widget.setValue(value)
            return True
        if isinstance(widget, QDoubleSpinBox):
            if not isinstance(value, int | float) or isinstance(value, bool):
                return False
            if not math.isfinite(value) or not widget.minimum() <= value <= widget.maximum():
                return False
            widget.setValue(float(value))
            return widget.value() == value  # False when rounding to 6 decimals changed it
        if isinstance(widget, QCheckBox):
            if not isinstance(value, bool):
                return False
            widget.setChecked(value)
            return True
        if isinstance(widget, QComboBox):
            count = len(self.spec.choices)
            while widget.count() > count:  # the marked entry of an earlier value
                widget.removeItem(count)
            index = next((i for i, c in enumerate(self.spec.choices) if same_value(c, value)), None)
            if index is None:
                text = value_text(value) if value is not None else "None"
                if len(text) > _MARKER_CHARS:
                    text = text[: _MARKER_CHARS - 1] + "…"
                widget.addItem(f"{text} (not a choice)")
                index = count
            widget.setCurrentIndex(index)
            return True
        return False

    def _mark(self, widget: QWidget, problem: str) -> None:
        """A red border and the problem as the tooltip, or the plain look and the help."""
        name = type(widget).__name__
        widget.setStyleSheet(f"{name} {{ border: 2px solid {INVALID_COLOUR}; }}" if problem else "")
        widget.setToolTip(f"{problem}\n\n{self.spec.help}" if problem else self.spec.help)

    # ----- widget → model ------------------------------------------------------------------
    def flush(self) -> str:
        """Commit what the user typed and has not committed yet (the form is about to show
        another block); returns "" or the reason it could not be committed.

        A spin box commits on Enter and focus-out, a text box on editingFinished; this catches
        text typed and left when the selection changes before either happens."""
        widget = self.widget
        if isinstance(widget, QAbstractSpinBox):
            problem = self._spin_problem(widget)
            if not problem:
                widget.interpretText()  # emits valueChanged, hence committed, when it changed
            return problem
        if widget is self.text_edit and self.text_edit.text() != value_text(self._shown):
            self._commit_text()
            if self.problem:
                return f"{self.spec.name} {self.text_edit.text()!r}: {self.problem}"
        return ""

    def _spin_problem(self, spin: QAbstractSpinBox) -> str:
        """Why the text typed in ``spin`` cannot be used ("" when it can, or nothing is
        pending): a spin box would silently go back to its value."""
        line = spin.lineEdit()
        if line is None or spin.hasAcceptableInput():
            return ""
        typed = line.text().strip()
        low, high = spin.minimum(), spin.maximum()  # type: ignore[attr-defined]
        kind = "a whole number" if isinstance(spin, QSpinBox) else "a number"
        return (
            f"{self.spec.name} {typed!r} was not applied: it must be {kind} from "
            f"{value_text(low)} to {value_text(high)}; it stays {value_text(self._shown)}"
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A spin box left with text it cannot use says so (it goes back to its value)."""
        if (
            event.type() == QEvent.Type.FocusOut
            and isinstance(watched, QAbstractSpinBox)
            and (problem := self._spin_problem(watched))
        ):
            self.reverted.emit(problem)
        return False

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
        value, problem = self.parse(self.text_edit.text())
        self._show_problem(problem)
        if not problem and not same_value(value, self._shown):
            self.committed.emit(value)

    def _show_problem(self, problem: str, model_problem: str = "") -> None:
        """Show the problem with the typed text (or with the model's value, as a tooltip)."""
        edit = self.text_edit
        edit.setStyleSheet(INVALID_STYLE if problem or model_problem else "")
        edit.setToolTip(f"{model_problem}\n\n{self.spec.help}" if model_problem else self.spec.help)
        if problem != self.problem:
            self.problem = problem
            self.problem_changed.emit(problem)


def _placeholder(spec: ParamSpec) -> str:
    if spec.kind is ParamKind.INT:
        return "a whole number"
    if spec.kind is ParamKind.FLOAT:
        return "a number"
    if spec.kind is ParamKind.BOOL:
        return "true or false"
    if spec.kind is ParamKind.CHOICE:
        return " or ".join(str(c) for c in spec.choices)
    if spec.kind is ParamKind.OPTIONAL_SIZE2:
        return "default (k or kh×kw)"
    if spec.kind is ParamKind.PADDING:
        return "p, ph×pw or same"
    if spec.kind is ParamKind.SHAPE:
        return "C×H×W or features"
    return "k or kh×kw"
