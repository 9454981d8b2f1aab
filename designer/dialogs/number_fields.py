"""Number fields that show and give back exactly the value they hold.

``QSpinBox`` stops at 2^31 - 1 (and raises OverflowError beyond it); ``QDoubleSpinBox`` rounds
to a fixed number of decimals and clamps to its range, both without a word. These fields keep
the number as text: an ``int`` as ``str(value)``, a ``float`` as ``repr(value)`` (the shortest
text that reads back as the same float, ``1e-08`` or ``0.00012345678``), so what is shown is
the value itself and reading it back gives the same value. The arrows step within ``minimum`` and
``maximum``; typing is not limited to them: the dialog checks the value on OK and says what to
change (never clamping it). Text that is not a number raises ``FieldError`` from ``value()``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QSize
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QWidget

# What may be typed at all (a number or the start of one); anything else is not accepted.
_INT_CHARS = re.compile(r"[+-]?[0-9_]*")
_REAL_CHARS = re.compile(r"[+-]?[0-9_.]*([eE][+-]?[0-9_]*)?|[+-]?(i|in|inf|n|na|nan)", re.I)


class FieldError(ValueError):
    """A field whose text is not a number of its kind (the message says what to type)."""

    def __init__(self, message: str, field: QWidget | None = None) -> None:
        super().__init__(message)
        self.field = field


class _NumberField(QAbstractSpinBox):
    """The shared part: the label (for messages), the range the arrows keep to, the step."""

    def __init__(
        self,
        label: str,
        minimum: float | None,
        maximum: float | None,
        step: float,
        example: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.label = label
        self._minimum = minimum
        self._maximum = maximum
        self._step = step
        self.example = example
        self.setAccelerated(True)

    # ----- QAbstractSpinBox ----------------------------------------------------------------
    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        if self._pattern().fullmatch(text.strip()):
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Invalid, text, pos

    def fixup(self, text: str) -> str:
        return text  # never change what was typed: OK says what is wrong with it

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:
        try:
            value = self._read()
        except FieldError:
            return QAbstractSpinBox.StepEnabledFlag.StepNone
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if value is None or self._maximum is None or value < self._maximum:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        if value is None or self._minimum is None or value > self._minimum:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        return flags

    def stepBy(self, steps: int) -> None:
        try:
            value = self._read()
        except FieldError:
            return
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            new = self._minimum if self._minimum is not None else 0
        else:
            new = self._add(value, steps)
            if self._maximum is not None and new > self._maximum:
                new = self._maximum
            if self._minimum is not None and new < self._minimum:
                new = self._minimum
        self._show(new)
        self.lineEdit().selectAll()

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()  # QAbstractSpinBox itself sizes for no text at all
        text = self.fontMetrics().horizontalAdvance("0" * 14)
        return QSize(max(hint.width(), hint.width() + text), hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        text = self.fontMetrics().horizontalAdvance("0" * 6)
        return QSize(hint.width() + text, hint.height())

    # ----- range ---------------------------------------------------------------------------
    def minimum(self) -> float | None:
        return self._minimum

    def maximum(self) -> float | None:
        return self._maximum

    # ----- subclasses ----------------------------------------------------------------------
    def _pattern(self) -> re.Pattern[str]:
        raise NotImplementedError

    def _read(self) -> int | float | None:
        raise NotImplementedError

    def _add(self, value: int | float, steps: int) -> int | float:
        raise NotImplementedError

    def _show(self, value: int | float | None) -> None:
        raise NotImplementedError


class IntField(_NumberField):
    """A whole number of any size; ``optional`` fields may be left empty (``value()`` None)."""

    def __init__(
        self,
        label: str,
        value: int | None,
        minimum: int | None = None,
        maximum: int | None = None,
        step: int = 1,
        optional: bool = False,
        example: str = "10",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(label, minimum, maximum, step, example, parent)
        self.optional = optional
        self.setValue(value)

    def setValue(self, value: int | None) -> None:
        """Show ``value`` (None: empty, for an optional field)."""
        if value is None and not self.optional:
            raise ValueError(f"{self.label} needs a whole number")
        self._show(value)

    def value(self) -> int | None:
        """The number shown; FieldError when the text is not a whole number."""
        return self._read()

    def _pattern(self) -> re.Pattern[str]:
        return _INT_CHARS

    def _read(self) -> int | None:
        text = self.text().strip()
        if not text and self.optional:
            return None
        try:
            return int(text)
        except ValueError:
            empty = "nothing" if not text else repr(text)
            raise FieldError(
                f"{self.label}: {empty} is not a whole number. Type one, e.g. {self.example}"
                + (", or leave it empty" if self.optional else ""),
                self,
            ) from None

    def _add(self, value: int | float, steps: int) -> int:
        return int(value) + steps * int(self._step)

    def _show(self, value: int | float | None) -> None:
        self.lineEdit().setText("" if value is None else str(int(value)))


class RealField(_NumberField):
    """A float shown in full (``repr``); ``log_steps`` makes the arrows multiply by 10."""

    def __init__(
        self,
        label: str,
        value: float,
        minimum: float | None = None,
        maximum: float | None = None,
        step: float = 0.1,
        log_steps: bool = False,
        example: str = "0.1",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(label, minimum, maximum, step, example, parent)
        self.log_steps = log_steps
        self.setValue(value)

    def setValue(self, value: float) -> None:
        """Show ``value`` exactly (the shortest text that reads back as the same float)."""
        self._show(float(value))

    def value(self) -> float:
        """The number shown; FieldError when the text is not a number."""
        value = self._read()
        assert value is not None
        return value

    def _pattern(self) -> re.Pattern[str]:
        return _REAL_CHARS

    def _read(self) -> float:
        text = self.text().strip()
        try:
            return float(text)
        except ValueError:
            empty = "nothing" if not text else repr(text)
            raise FieldError(
                f"{self.label}: {empty} is not a number. Type one, e.g. {self.example}", self
            ) from None

    def _add(self, value: int | float, steps: int) -> float:
        try:
            exact = Decimal(repr(float(value)))
            if self.log_steps and exact > 0:
                new = exact.scaleb(steps)  # × 10 per step: 1e-3 → 1e-2, and back exactly
            else:
                new = exact + steps * Decimal(repr(float(self._step)))
            return float(new)  # decimal arithmetic: 0.1 + 0.2 gives 0.3, not 0.30000000000000004
        except (InvalidOperation, OverflowError):
            return float(value)

    def _show(self, value: int | float | None) -> None:
        self.lineEdit().setText(repr(float(0.0 if value is None else value)))
