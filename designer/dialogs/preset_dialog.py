""" "New from preset": every preset with its description, input size, parameters, MACs and options.

The figures (input, blocks, parameters, MACs) are those of the preset built with the options as
chosen: they follow every option change (building and inferring a preset is pure Python and
takes milliseconds; results are cached per preset and options). Options that the preset refuses
or that give a design with errors show no figures but the reason. ``chosen()`` gives the preset
name and options. Open checks the choice first (``choice_problem``): an option value the preset
refuses, a resolution below the minimum for the other options (its tooltip states it), or
options that give a design with errors are refused with the reason under the options, and the
dialog stays open. The list is as wide as its longest name, so no name is clipped.
"""

from __future__ import annotations

import html
import time
from functools import lru_cache
from typing import Any, NamedTuple

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
from engine import DesignerError, Shape, fmt_shape, infer
from presets import PRESETS, Preset, PresetOption

_SEARCH = 512  # how far above a failing resolution to look for the smallest one that works
_SEARCH_SECONDS = 2.0  # and for how long at most
OptionItems = tuple[tuple[str, Any], ...]  # options as a hashable, sorted tuple


class Figures(NamedTuple):
    """What a preset built with some options amounts to."""

    input_shape: Shape
    blocks: int
    params: int
    macs: int


def preset_figures(name: str, options: OptionItems = ()) -> Figures | str:
    """The figures of preset ``name`` built with ``options``, or why it cannot be built or has
    errors (a short reason)."""
    return _figures(PRESETS.get(name), options)


@lru_cache(maxsize=512)
def _figures(preset: Preset, options: OptionItems) -> Figures | str:
    try:
        graph = preset.create(**dict(options))
    except DesignerError as error:
        return str(error)
    result = infer(graph)
    if result.errors:
        return f"the design has {len(result.errors)} error(s), the first: {_problem(result)}"
    shapes = [tuple(n.params["shape"]) for n in graph.nodes_of_type("input")]
    return Figures(shapes[0] if shapes else (), len(graph), result.total_params, result.total_macs)


def preset_costs(name: str, options: OptionItems = ()) -> tuple[int, int, int]:
    """Blocks, parameters and MACs of a preset (at its default options unless given)."""
    figures = preset_figures(name, options)
    if isinstance(figures, str):
        raise DesignerError(f"preset {name}: {figures}")
    return figures.blocks, figures.params, figures.macs


def _problem(result: Any) -> str:
    # the problem itself, without the advice on editing layers (the dialog edits options)
    return str(result.errors[0].message.split(". ", 1)[0].rstrip("."))


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
            item.setToolTip(item.text())
        self._fit_list_to_names()
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
        body.addWidget(self.list, 0)
        body.addLayout(right, 1)
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

    def _fit_list_to_names(self) -> None:
        """Make the list exactly as wide as its longest name (with room for a scroll bar), so
        no name is clipped whatever the dialog's or the screen's size."""
        widest = max(
            (self.list.sizeHintForIndex(self.list.model().index(r, 0)).width())
            for r in range(self.list.count())
        )
        scroll = self.list.style().pixelMetric(self.list.style().PixelMetric.PM_ScrollBarExtent)
        spacing = 2 * self.list.spacing() + 8  # the item's own margins vary by style
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setFixedWidth(widest + spacing + scroll + 2 * self.list.frameWidth())

    def _show_current(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        if item is None:
            return
        self.error.hide()
        preset = self.preset
        self._build_options(preset.options)
        self._show_figures()

    def _show_figures(self) -> None:
        """Show the highlighted preset with the figures of the options as they are now."""
        preset = self.preset
        try:
            options = self.chosen()[1]
        except (DesignerError, ValueError, TypeError) as error:
            figures: Figures | str = str(error)
        else:
            figures = preset_figures(preset.name, tuple(sorted(options.items())))
        self._show_minimums(preset)
        paper = html.escape(f"{preset.authors} ({preset.year}), “{preset.paper}”")
        text = (
            f"<h3>{html.escape(preset.display_name)}</h3><p>{html.escape(preset.description)}</p>"
            f"<p><small>{paper}</small></p>"
        )
        if isinstance(figures, str):
            text += f"<p><b>With these options</b>: no figures, {html.escape(figures)}</p>"
        else:
            input_shape, blocks, params, macs = figures
            text += (
                "<table>"
                f"<tr><td><b>Input</b>&nbsp;</td><td>{fmt_shape(input_shape)}</td></tr>"
                f"<tr><td><b>Blocks</b>&nbsp;</td><td>{blocks}</td></tr>"
                f"<tr><td><b>Parameters</b>&nbsp;</td><td>{params:,} ({_compact(params)})</td></tr>"
                f"<tr><td><b>MACs</b>&nbsp;</td><td>{macs:,} ({_compact(macs)})</td></tr></table>"
            )
        if preset.deviations:
            text += f"<p><small><i>{html.escape(preset.deviations)}</i></small></p>"
        self.info.setText(text)

    def _show_minimums(self, preset: Preset) -> None:
        """Say in a whole-number option's tooltip its minimum for the other options as set."""
        values = preset.defaults()
        for option in preset.options:
            widget = self.option_widgets.get(option.name)
            if widget is not None:
                values[option.name] = _option_value(option, widget)
        for option in preset.options:
            widget = self.option_widgets.get(option.name)
            if widget is None or not option.minimum_when:
                continue
            widget.setToolTip(
                f"{option.help} With these options: at least {option.minimum_for(values)}."
            )

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
            _on_change(widget, self._show_figures)

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
    result = infer(preset.create(**options))
    if not result.errors:
        return None
    return len(result.errors), _problem(result)


def choice_problem(preset: Preset, options: dict[str, Any]) -> str | None:
    """Why ``preset`` cannot be opened with ``options`` (those that differ from the defaults),
    with what to change; None when it can. Raises DesignerError for a value the preset refuses,
    alone or with the other options (a resolution below the minimum for them)."""
    preset.values(**options)  # ParameterError: "must be at least 299 with aux_logits=True", ...
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


def _on_change(widget: QWidget, slot: Any) -> None:
    """Call ``slot()`` whenever the option editor's value changes."""
    if isinstance(widget, QComboBox):
        widget.currentIndexChanged.connect(lambda _index: slot())
    elif isinstance(widget, QCheckBox):
        widget.toggled.connect(lambda _checked: slot())
    elif isinstance(widget, QSpinBox | QDoubleSpinBox):
        widget.valueChanged.connect(lambda _value: slot())
