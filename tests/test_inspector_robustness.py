"""The inspector with parameter values its widgets cannot hold: whole numbers past 32 bits,
values outside a parameter's range, NaN, Infinity, a choice that is not one of the choices.

Each project is opened from a file, as a user would get it. The inspector must show the value
the model holds (never a clamped or first value), mark a refused value, and send any different
value the user enters as one undoable edit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from designer.document import Document
from designer.panels.arithmetic import size_lines
from designer.panels.inspector import Inspector
from designer.panels.problems import ProblemsList
from engine import CATALOG

pytestmark = pytest.mark.gui


def project_file(tmp_path: Path, type_id: str, params: dict[str, Any]) -> Path:
    """A project file with an 8×8 image input wired into one block named ``b``."""
    data = {
        "format": "cnn-designer-project",
        "version": 2,
        "graph": {
            "nodes": [
                {"name": "x", "type": "input", "params": {"shape": [1, 8, 8]}},
                {"name": "b", "type": type_id, "params": params},
            ],
            "edges": [["x", "out", "b", "in"]],
        },
        "layout": {"x": [0, 0], "b": [0, 100]},
    }
    path = tmp_path / "bad.cnnd"
    path.write_text(json.dumps(data))  # NaN and Infinity are written as JSON allows in Python
    return path


class Panels:
    """An inspector and a problems list on a document opened from ``path``, block b selected."""

    def __init__(self, qtbot: Any, path: Path) -> None:
        self.doc = Document()
        self.inspector = Inspector(self.doc)
        self.problems = ProblemsList(self.doc)
        qtbot.addWidget(self.inspector)
        qtbot.addWidget(self.problems)
        self.inspector.show()
        self.doc.open(path)
        self.doc.set_selection(["b"])

    def widget(self, key: str) -> QWidget:
        return self.inspector.editors[key].widget

    def value(self, key: str) -> Any:
        return self.doc.graph.node("b").params[key]

    def problems_of_b(self) -> list[str]:
        return [d.message for d in self.problems.diagnostics if d.node == "b"]


def type_text(qtbot: Any, widget: QWidget, text: str) -> None:
    """Select what the field holds, type ``text`` and press Enter (spin boxes too)."""
    widget.setFocus()
    edit = widget.lineEdit() if isinstance(widget, QSpinBox | QDoubleSpinBox) else widget
    assert isinstance(edit, QLineEdit)
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def assert_marked(widget: QWidget, problem: str) -> None:
    assert "border" in widget.styleSheet() and problem in widget.toolTip()


def assert_fixed_and_undoable(panels: Panels, key: str, new: Any, old_text: str) -> None:
    """The edit reached the model as one undo step, the problem went, and undo brings back
    the old value, shown as it is."""
    assert panels.value(key) == new and type(panels.value(key)) is type(new)
    assert panels.doc.undo_stack.count() == 1
    assert panels.problems_of_b() == []
    panels.doc.undo_stack.undo()
    widget = panels.widget(key)
    assert isinstance(widget, QLineEdit | QComboBox) and old_text in (
        widget.text() if isinstance(widget, QLineEdit) else widget.currentText()
    )


# ----- 1. whole numbers past a spin box's 32-bit range ------------------------------------------
@pytest.mark.parametrize("huge", [3_000_000_000, 10**30])
def test_huge_whole_number_is_shown_exactly_and_can_be_changed(qtbot, tmp_path, huge) -> None:
    panels = Panels(qtbot, project_file(tmp_path, "conv2d", {"out_channels": huge}))
    field = panels.widget("out_channels")  # selecting the block raised OverflowError
    assert isinstance(field, QLineEdit) and field.text() == str(huge)
    assert "border" not in field.styleSheet()  # the spec accepts it: not marked
    type_text(qtbot, field, "16")
    spin = panels.widget("out_channels")
    assert panels.value("out_channels") == 16
    assert isinstance(spin, QSpinBox) and spin.value() == 16
    panels.doc.undo_stack.undo()
    assert panels.value("out_channels") == huge
    assert panels.widget("out_channels").text() == str(huge)


def test_huge_whole_number_set_by_an_edit_is_shown(qtbot, tmp_path) -> None:
    panels = Panels(qtbot, project_file(tmp_path, "linear", {"out_features": 10}))
    assert isinstance(panels.widget("out_features"), QSpinBox)
    panels.doc.set_params("b", {"out_features": 2**40})
    field = panels.widget("out_features")
    assert isinstance(field, QLineEdit) and field.text() == str(2**40)
    panels.doc.set_params("b", {"out_features": 10**5000})  # more digits than str() writes
    assert panels.widget("out_features").text() == str(10**2500) + "0" * 2500


# ----- 2. the output-size arithmetic with values it cannot compute --------------------------
@pytest.mark.parametrize("key", ["stride", "padding", "dilation"])
def test_infinite_geometry_shows_the_problem_not_a_crash(qtbot, tmp_path, key) -> None:
    params = {"out_channels": 4, "kernel_size": 3, key: float("inf")}
    panels = Panels(qtbot, project_file(tmp_path, "conv2d", params))
    details = panels.inspector.details.text()
    assert "Output size" not in details and f"{key}=inf" in details
    field = panels.widget(key)
    assert isinstance(field, QLineEdit) and field.text() == "inf"
    assert_marked(field, f"Received: {key}=inf")
    type_text(qtbot, field, "1")
    assert panels.value(key) == 1 and panels.problems_of_b() == []
    assert "Output size" in panels.inspector.details.text()


BAD_VALUES = {
    "inf": float("inf"),
    "-inf": float("-inf"),
    "nan": float("nan"),
    "inf_pair": [float("inf"), 1],
    "text": "abc",
    "dict": {"a": 1},
    "three": [1, 2, 3],
    "bool": True,
    "none": None,
    "minus_5000_digits": -(10**5000),
    "5000_digits": 10**5000,  # str() refuses it
}


@pytest.mark.parametrize("type_id", ["conv2d", "maxpool2d", "avgpool2d", "conv_transpose2d"])
@pytest.mark.parametrize("bad", BAD_VALUES)
def test_size_arithmetic_never_raises(type_id, bad) -> None:
    spec, bad = CATALOG.get(type_id), BAD_VALUES[bad]
    for key in ("kernel_size", "stride", "padding", "dilation", "output_padding", "ceil_mode"):
        if key in {p.name for p in spec.params}:
            params = spec.with_defaults({"kernel_size": 3, key: bad})
            assert isinstance(size_lines(type_id, params, (3, 8, 8)), list)


# ----- 3. values a spin box or list cannot show -----------------------------------------------
def test_negative_channel_count_is_shown_and_can_be_fixed(qtbot, tmp_path) -> None:
    panels = Panels(qtbot, project_file(tmp_path, "conv2d", {"out_channels": -5}))
    assert any("Received: out_channels=-5" in m for m in panels.problems_of_b())
    field = panels.widget("out_channels")
    assert isinstance(field, QLineEdit) and field.text() == "-5"  # was a spin box showing 1
    assert_marked(field, "out_channels must be at least 1")
    type_text(qtbot, field, "1")  # the value the spin box showed: now an edit
    assert isinstance(panels.widget("out_channels"), QSpinBox)
    assert_fixed_and_undoable(panels, "out_channels", 1, "-5")


def test_fractional_channel_count_is_replaced_by_the_same_whole_number(qtbot, tmp_path) -> None:
    panels = Panels(qtbot, project_file(tmp_path, "conv2d", {"out_channels": 4.0}))
    field = panels.widget("out_channels")
    assert isinstance(field, QLineEdit) and field.text() == "4.0"
    type_text(qtbot, field, "4")  # 4 == 4.0, but only 4 is a whole number
    assert_fixed_and_undoable(panels, "out_channels", 4, "4.0")


@pytest.mark.parametrize(("bad", "text"), [(5.0, "5.0"), (float("nan"), "nan")])
def test_probability_out_of_range_is_shown_and_can_be_fixed(qtbot, tmp_path, bad, text) -> None:
    panels = Panels(qtbot, project_file(tmp_path, "dropout", {"p": bad}))
    field = panels.widget("p")
    assert isinstance(field, QLineEdit) and field.text() == text  # was a spin box at 1.0
    assert_marked(field, "Received: p=")
    type_text(qtbot, field, "1")  # what the spin box showed, and still refused: no edit
    assert panels.doc.undo_stack.count() == 0 and "p must be in" in panels.inspector.message.text()
    type_text(qtbot, field, "0.25")
    spin = panels.widget("p")
    assert isinstance(spin, QDoubleSpinBox) and spin.value() == 0.25
    assert panels.inspector.message.text() == ""
    assert_fixed_and_undoable(panels, "p", 0.25, text)


def test_refused_value_a_spin_box_can_show_is_marked_and_can_be_fixed(qtbot, tmp_path) -> None:
    panels = Panels(qtbot, project_file(tmp_path, "dropout", {"p": 1.0}))  # p must be < 1
    spin = panels.widget("p")
    assert isinstance(spin, QDoubleSpinBox) and spin.value() == 1.0
    assert_marked(spin, "Received: p=1.0")
    type_text(qtbot, spin, "0.5")
    assert panels.value("p") == 0.5 and panels.problems_of_b() == []
    assert "border" not in panels.widget("p").styleSheet()


def test_too_precise_float_is_not_rounded_by_the_spin_box(qtbot, tmp_path) -> None:
    panels = Panels(qtbot, project_file(tmp_path, "batchnorm", {"eps": 1e-9}))
    field = panels.widget("eps")  # six decimals would show (and keep) 0
    assert isinstance(field, QLineEdit) and field.text() == "1e-09"
    assert "border" not in field.styleSheet()


def test_choice_not_among_the_choices_is_shown_and_can_be_fixed(qtbot, tmp_path) -> None:
    panels = Panels(qtbot, project_file(tmp_path, "upsample", {"mode": "bogus"}))
    combo = panels.widget("mode")
    assert isinstance(combo, QComboBox)
    assert combo.currentText() == "bogus (not a choice)"  # was "nearest"
    assert_marked(combo, "mode is not one of the allowed choices")
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)  # the first entry: "nearest"
    assert panels.value("mode") == "nearest"
    assert combo.count() == 2 and combo.currentText() == "nearest"
    assert "border" not in combo.styleSheet()
    assert_fixed_and_undoable(panels, "mode", "nearest", "bogus")
    assert combo.count() == 3


def test_flag_that_is_not_true_or_false_is_shown_and_can_be_fixed(qtbot, tmp_path) -> None:
    panels = Panels(qtbot, project_file(tmp_path, "conv2d", {"out_channels": 4, "bias": 1}))
    field = panels.widget("bias")
    assert isinstance(field, QLineEdit) and field.text() == "1"  # was a ticked check box
    assert_marked(field, "bias must be true or false")
    type_text(qtbot, field, "true")  # True == 1, but only True is a flag
    check = panels.widget("bias")
    assert isinstance(check, QCheckBox) and check.isChecked()
    assert_fixed_and_undoable(panels, "bias", True, "1")
