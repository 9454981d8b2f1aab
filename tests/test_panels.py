"""The panels bound to a Document, both ways: palette, inspector, summary table, problems list,
the output-size arithmetic, and the preset dialog."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from designer.dialogs.preset_dialog import PresetDialog, preset_costs
from designer.document import Document, preset_project
from designer.mime import MIME_BLOCK
from designer.panels.arithmetic import size_lines
from designer.panels.inspector import Inspector
from designer.panels.palette import Palette
from designer.panels.problems import ProblemsList
from designer.panels.summary_table import SummaryTable
from engine import CATALOG, infer
from engine.catalog import CATEGORY_ORDER
from presets import PRESETS

pytestmark = pytest.mark.gui


@pytest.fixture
def doc() -> Document:
    return Document(preset_project("lenet5"))


# ----- arithmetic --------------------------------------------------------------------------
ARITHMETIC = [
    (
        "conv2d",
        dict(kernel_size=3, stride=2, padding=1, dilation=1),
        (64, 56, 56),
        ["(56 − 3 + 2·1)/2 + 1 = 28"],
    ),
    (
        "conv2d",
        dict(kernel_size=[3, 5], stride=1, padding=0, dilation=2),
        (8, 32, 32),
        ["H: 32 − (2·(3 − 1) + 1) + 1 = 28", "W: 32 − (2·(5 − 1) + 1) + 1 = 24"],
    ),
    (
        "conv2d",
        dict(kernel_size=3, stride=1, padding="same", dilation=1),
        (8, 9, 7),
        ["padding 'same': output = input = 9×7"],
    ),
    (
        "maxpool2d",
        dict(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=True),
        (64, 112, 112),
        ["⌈(112 − 3)/2⌉ + 1 = 56"],
    ),
    (
        "avgpool2d",
        dict(kernel_size=2, stride=None, padding=0, ceil_mode=False),
        (6, 28, 28),
        ["(28 − 2)/2 + 1 = 14"],
    ),
    (
        "conv_transpose2d",
        dict(kernel_size=4, stride=2, padding=1, output_padding=0, dilation=1),
        (8, 7, 7),
        ["(7 − 1)·2 − 2·1 + 4 = 14"],
    ),
]


@pytest.mark.parametrize(("type_id", "params", "shape", "expected"), ARITHMETIC)
def test_size_arithmetic_matches_inference(type_id, params, shape, expected) -> None:
    lines = size_lines(type_id, CATALOG.get(type_id).with_defaults(params), shape)
    assert lines[: len(expected)] == expected
    # the number after "=" is what inference computes for the same block
    from engine import Graph

    graph = Graph()
    graph.add_node("input", "x", {"shape": list(shape)})
    graph.add_node(type_id, "b", params)
    graph.connect("x", "b")
    out = infer(graph).nodes["b"].output
    if lines[0].startswith("H:"):
        assert [int(line.rsplit("= ", 1)[1]) for line in lines[:2]] == list(out[1:])
    elif "=" in lines[0] and "same" not in lines[0]:
        assert int(lines[0].rsplit("= ", 1)[1]) == out[1] == out[2]


def test_no_arithmetic_for_other_blocks() -> None:
    assert size_lines("relu", {}, (3, 8, 8)) == []
    assert size_lines("conv2d", CATALOG.get("conv2d").defaults(), (10,)) == []


# ----- palette -----------------------------------------------------------------------------
def test_palette_groups_every_block_and_filters(qtbot) -> None:
    palette = Palette()
    qtbot.addWidget(palette)
    headers = [
        palette.tree.topLevelItem(i).text(0) for i in range(palette.tree.topLevelItemCount())
    ]
    assert headers == [c for c in CATEGORY_ORDER if c in {s.category for s in CATALOG}]
    assert set(palette.items) == {s.type_id for s in CATALOG}
    conv = palette.items["conv2d"]
    assert conv.parent().text(0) == "Convolution"
    assert CATALOG.get("conv2d").description in conv.toolTip(0)
    data = palette.tree.mimeData([conv])
    assert bytes(data.data(MIME_BLOCK)).decode() == "conv2d"
    qtbot.keyClicks(palette.filter_edit, "pool")
    visible = palette.visible_types()
    assert "maxpool2d" in visible and "conv2d" not in visible and "relu" not in visible
    palette.filter_edit.clear()
    assert len(palette.visible_types()) == len(CATALOG)
    with qtbot.waitSignal(palette.block_activated) as signal:
        palette.tree.itemActivated.emit(conv, 0)
    assert signal.args == ["conv2d"]


# ----- inspector ---------------------------------------------------------------------------
def test_inspector_editors_follow_the_spec_kinds(qtbot, doc: Document) -> None:
    inspector = Inspector(doc)
    qtbot.addWidget(inspector)
    assert inspector.node_name is None and "Select a block" in inspector.title.text()
    doc.set_selection(["conv1"])
    widgets = {k: e.widget for k, e in inspector.editors.items()}
    assert isinstance(widgets["out_channels"], QSpinBox) and widgets["out_channels"].minimum() == 1
    assert isinstance(widgets["bias"], QCheckBox) and widgets["bias"].isChecked()
    assert isinstance(widgets["padding"], QLineEdit) and widgets["padding"].text() == "0"
    assert "1×32×32" in inspector.details.text() and "156" in inspector.details.text()
    doc.add_node("dropout", (0.0, 0.0), name="drop")
    doc.set_selection(["drop"])
    spin = inspector.editors["p"].widget
    assert isinstance(spin, QDoubleSpinBox) and spin.maximum() == 1.0
    doc.add_node("gelu", (0.0, 0.0), name="g")
    doc.set_selection(["g"])
    assert isinstance(inspector.editors["approximate"].widget, QComboBox)
    doc.set_selection(["g", "drop"])
    assert "2 blocks selected" in inspector.title.text() and not inspector.editors


def test_inspector_binds_both_ways(qtbot, doc: Document) -> None:
    inspector = Inspector(doc)
    qtbot.addWidget(inspector)
    doc.set_selection(["conv2"])
    channels = inspector.editors["out_channels"].widget
    # widget → model: one undo step per committed edit
    channels.setValue(32)
    assert doc.graph.node("conv2").params["out_channels"] == 32 and doc.undo_stack.count() == 1
    bias = inspector.editors["bias"].widget
    qtbot.keyClick(bias, Qt.Key.Key_Space)
    assert doc.graph.node("conv2").params["bias"] is False
    # model → widget, without echoing a new edit
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert channels.value() == 16 and bias.isChecked() and doc.undo_stack.index() == 0
    doc.set_params("conv2", {"kernel_size": [3, 5]})
    assert inspector.editors["kernel_size"].widget.text() == "3×5"
    assert doc.undo_stack.count() == 1
    # validation while typing, with the spec's own message
    edit = inspector.editors["stride"].widget
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "0")
    assert "stride must be" in inspector.message.text() and "border" in edit.styleSheet()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, "2x1")
    assert inspector.message.text() == "" and edit.styleSheet() == ""
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert doc.graph.node("conv2").params["stride"] == [2, 1]


# ----- summary and problems ----------------------------------------------------------------
def test_summary_rows_totals_and_selection(qtbot, doc: Document) -> None:
    table = SummaryTable(doc)
    qtbot.addWidget(table)
    model = table.model
    assert model.rowCount() == len(doc.graph)
    row = model.row_of("fc1")
    assert [model.index(row, c).data() for c in range(5)] == [
        "fc1",
        "Linear",
        "120",
        "48,120",
        "48,000",
    ]
    assert f"{doc.result.total_params:,}" in table.totals.text() and "MB" in table.totals.text()
    with qtbot.waitSignal(table.node_activated) as signal:
        table.view.clicked.emit(model.index(row, 0))
    assert signal.args == ["fc1"] and doc.selection == ["fc1"]
    doc.set_selection(["conv2"])
    assert table.view.selectionModel().selectedRows()[0].row() == model.row_of("conv2")
    doc.set_params("fc1", {"out_features": 60})
    assert model.index(model.row_of("fc2"), 3).data() == f"{60 * 84 + 84:,}"


def test_problems_list_colours_select_and_fix(qtbot, doc: Document) -> None:
    problems = ProblemsList(doc)
    qtbot.addWidget(problems)
    doc.set_params("pool2", {"padding": 2})
    doc.add_node("conv2d", (0.0, 0.0), name="stray")
    nodes = [d.node for d in problems.diagnostics]
    assert set(nodes) >= {"pool2", "stray"}
    item = problems.tree.topLevelItem(nodes.index("pool2"))
    assert item.foreground(2).color().name() == "#d32f2f"
    assert not item.icon(0).isNull()  # the style's error icon
    with qtbot.waitSignal(problems.node_activated) as signal:
        problems.tree.itemClicked.emit(item, 2)
    assert signal.args == ["pool2"] and doc.selection == ["pool2"]
    problems.apply_fix(problems.diagnostics[nodes.index("pool2")])
    assert doc.graph.node("pool2").params["padding"] == 1
    doc.undo_stack.undo()
    assert doc.graph.node("pool2").params["padding"] == 2


def test_problems_list_shows_warnings_in_amber(qtbot) -> None:
    doc = Document(preset_project("lenet5"))
    problems = ProblemsList(doc)
    qtbot.addWidget(problems)
    doc.set_params("pool1", {"kernel_size": 5})  # 28 rows in windows of 5: the last 3 dropped
    warnings = [d for d in problems.diagnostics if d.severity.value == "warning"]
    assert warnings, [d.message for d in problems.diagnostics]
    index = problems.diagnostics.index(warnings[0])
    assert problems.tree.topLevelItem(index).foreground(2).color().name() == "#b26a00"


# ----- preset dialog -----------------------------------------------------------------------
def test_preset_dialog_lists_every_preset_with_costs(qtbot) -> None:
    dialog = PresetDialog(current="lenet5")
    qtbot.addWidget(dialog)
    assert dialog.list.count() == len(PRESETS)
    blocks, params, macs = preset_costs("lenet5")
    text = dialog.info.text()
    assert "LeNet-5" in text and "1×32×32" in text and f"{params:,}" in text and f"{macs:,}" in text
    assert f"<td>{blocks}</td>" in text
    assert set(dialog.option_widgets) == {o.name for o in PRESETS.get("lenet5").options}
    assert dialog.chosen() == ("lenet5", {})
    dialog.option_widgets["activation"].setCurrentText("relu")
    dialog.option_widgets["classes"].setValue(7)
    assert dialog.chosen() == ("lenet5", {"activation": "relu", "classes": 7})
