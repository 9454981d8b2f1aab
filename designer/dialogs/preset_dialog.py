""" "New from preset": every preset with its description, input size, parameters, MACs and options.

The counts come from building the preset and inferring it, done only when an entry is first
shown and cached (ResNet-152 takes a moment). ``chosen()`` gives the preset name and options.
Open checks the choice first (``choice_problem``): an option value the preset refuses, a
resolution below the minimum its tooltip states, or options that give a design with errors
are refused with the reason under the options, and the dialog stays open.
"""

from __future__ import annotations

import html
import time
from functools import cache
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from designer.dialogs.form import error_label
from engine import DesignerError, fmt_shape, infer
from presets import PRESETS, Preset, PresetOption

_SEARCH = 512  # how far above a failing resolution to look for the smallest one that works
_SEARCH_SECONDS = 2.0  # and for how long at most


@cache
def preset_costs(name: str) -> tuple[int, int, int]:
    """Blocks, parameters and MACs of a preset at its default options."""
    graph = PRESETS.get(name).create()
    result = infer(graph)
    return len(graph), result.total_params, result.total_macs


def _compact(value: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return str(value)


class PresetDialog(QDialog):
    """Pick a preset and its options."""

    def __init__(self, parent: QWidget | None = None, current: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New from preset")
        self.resize(760, 460)
        self.list = QListWidget(self)
        self.list.setObjectName("preset_list")
        for preset in PRESETS:
            item = QListWidgetItem(f"{preset.display_name} ({preset.year})", self.list)
            item.setData(Qt.ItemDataRole.UserRole, preset.name)
        self.info = QLabel(self)
        self.info.setObjectName("preset_info")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.options_host = QWidget(self)
        self.options_form = QFormLayout(self.options_host)
        self.option_widgets: dict[str, QWidget] = {}
        right = QVBoxLayout()
        right.addWidget(self.info, 1)
        right.addWidget(QLabel("<b>Options</b>", self))
        right.addWidget(self.options_host)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addLayout(right, 2)
        self.error = error_label(self)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.list.currentItemChanged.connect(self._show_current)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        names = [p.name for p in PRESETS]
        self.list.setCurrentRow(names.index(current) if current in names else 0)

    @property
    def preset(self) -> Preset:
        """The highlighted preset."""
        return PRESETS.get(self.list.currentItem().data(Qt.ItemDataRole.UserRole))

    def select(self, name: str) -> None:
        """Highlight preset ``name``."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.list.setCurrentRow(row)
                return
        PRESETS.get(name)  # raises UnknownNameError with suggestions

    def _show_current(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        if item is None:
            return
        self.error.hide()
        preset = self.preset
        blocks, params, macs = preset_costs(preset.name)
        paper = html.escape(f"{preset.authors} ({preset.year}), “{preset.paper}”")
        text = (
            f"<h3>{html.escape(preset.display_name)}</h3><p>{html.escape(preset.description)}</p>"
            f"<p><small>{paper}</small></p><table>"
            f"<tr><td><b>Input</b>&nbsp;</td><td>{fmt_shape(preset.input_shape)}</td></tr>"
            f"<tr><td><b>Blocks</b>&nbsp;</td><td>{blocks}</td></tr>"
            f"<tr><td><b>Parameters</b>&nbsp;</td><td>{params:,} ({_compact(params)})</td></tr>"
            f"<tr><td><b>MACs</b>&nbsp;</td><td>{macs:,} ({_compact(macs)})</td></tr></table>"
        )
        if preset.deviations:
            text += f"<p><small><i>{html.escape(preset.deviations)}</i></small></p>"
        self.info.setText(text)
        self._build_options(preset.options)

    def _build_options(self, options: tuple[PresetOption, ...]) -> None:
        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        self.option_widgets.clear()
        for option in options:
            widget = _option_widget(option, self.options_host)
            widget.setToolTip(option.help)
            widget.setObjectName(f"option_{option.name}")
            self.option_widgets[option.name] = widget
            self.options_form.addRow(option.name, widget)

    def chosen(self) -> tuple[str, dict[str, Any]]:
        """The preset name and the options that differ from its defaults."""
        preset = self.preset
        values: dict[str, Any] = {}
        for option in preset.options:
            value = _option_value(option, self.option_widgets[option.name])
            if value != option.default:
                values[option.name] = value
        return preset.name, values

    def accept(self) -> None:
        """Open the chosen preset, or say why not (the dialog stays open)."""
        try:
            problem = choice_problem(self.preset, self.chosen()[1])
        except (DesignerError, ValueError, TypeError) as error:
            problem = str(error)
        if problem:
            self.error.setText(problem)
            self.error.show()
            widget = self.option_widgets.get("resolution")
            if widget is not None and "resolution" in problem:
                widget.setFocus()
            return
        self.error.hide()
        super().accept()


def _first_error(preset: Preset, options: dict[str, Any]) -> tuple[int, str] | None:
    """The number of errors of the design ``options`` give, and the first one (None: none)."""
    errors = infer(preset.create(**options)).errors
    if not errors:
        return None
    # the problem itself, without the advice on editing layers (the dialog edits options)
    return len(errors), errors[0].message.split(". ", 1)[0].rstrip(".")


def choice_problem(preset: Preset, options: dict[str, Any]) -> str | None:
    """Why ``preset`` cannot be opened with ``options`` (those that differ from the defaults),
    with what to change; None when it can. Raises DesignerError for a value the preset refuses."""
    for option in preset.options:
        if option.name in options:
            option.check(options[option.name])  # ParameterError: "must be at least 63", ...
    resolution = next((o for o in preset.options if o.name == "resolution"), None)
    value = options.get("resolution", resolution.default if resolution else None)
    found = _first_error(preset, options)
    if found is None:
        return None
    text = f"{preset.display_name} with these options gives a design with {found[0]} error(s), the first: {found[1]}"
    if resolution is None or resolution.choices or value is None:
        return f"{text}. Change the options."
    works = _smallest_working(preset, options, value)
    if works is None:
        return f"{text}. Change the options."
    return (
        f"{text}. Received: resolution={value}; the smallest resolution above it that works "
        f"is {works}. Type {works} or more."
    )


def _smallest_working(preset: Preset, options: dict[str, Any], value: int) -> int | None:
    """The first resolution above ``value`` whose design has no errors (a short search)."""
    deadline = time.monotonic() + _SEARCH_SECONDS
    for candidate in range(value + 1, value + _SEARCH):
        if _first_error(preset, {**options, "resolution": candidate}) is None:
            return candidate
        if time.monotonic() > deadline:
            break
    return None


def _option_widget(option: PresetOption, parent: QWidget) -> QWidget:
    if option.choices:
        combo = QComboBox(parent)
        combo.addItems([str(c) for c in option.choices])
        combo.setCurrentIndex(list(option.choices).index(option.default))
        return combo
    if isinstance(option.default, bool):
        check = QCheckBox(parent)
        check.setChecked(option.default)
        return check
    if isinstance(option.default, int):
        spin = QSpinBox(parent)
        spin.setRange(1, 100_000)
        spin.setValue(option.default)
        return spin
    if isinstance(option.default, float):
        real = QDoubleSpinBox(parent)
        real.setRange(0.01, 1000.0)
        real.setSingleStep(0.25)
        real.setValue(option.default)
        return real
    raise TypeError(f"preset option {option.name}: no editor for {type(option.default).__name__}")


def _option_value(option: PresetOption, widget: QWidget) -> Any:
    if isinstance(widget, QComboBox):
        return option.choices[widget.currentIndex()]
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    assert isinstance(widget, QSpinBox | QDoubleSpinBox)
    return widget.value()
