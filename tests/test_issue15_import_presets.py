"""Issue 15, items 4, 5 and 13: what the importer must not change silently, minimums that depend
on other options, and the preset dialog's figures and names.

- ``F.dropout(x, 0.5)`` without ``training=`` drops in evaluation mode too (F.dropout's default
  is training=True): it is listed as not mapped with the reason, while ``training=self.training``
  still becomes a Dropout block; a ``x.view(1, -1)`` traced at batch 1 becomes a Flatten with a
  warning naming the op and the fix. Through ``cnn-designer import`` and ``import_file``.
- Inception v3 with ``aux_logits`` needs 299×299: the command line and the dialog refuse less,
  naming the minimum for those options.
- The dialog's figures are those of the preset built with the chosen options, and every preset
  name fits the list.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from designer.dialogs.preset_dialog import PresetDialog
from engine import compile_graph, infer, load_project
from engine.importer import import_file, load_file_module
from presets import PRESETS

ROOT = Path(__file__).resolve().parents[1]

MODEL = '''
import torch
import torch.nn.functional as F
from torch import nn


class AlwaysDrops(nn.Module):
    """F.dropout without training=: drops in eval mode too."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 3)

    def forward(self, x):
        x = F.dropout(self.conv(x), 0.5)
        return self.fc(x.view(x.size(0), -1))


class AlwaysDrops2d(AlwaysDrops):
    def forward(self, x):
        x = F.dropout2d(self.conv(x), p=0.3)
        return self.fc(torch.flatten(x, 1))


class BatchOne(nn.Module):
    """Dropout only while training, but a batch size fixed at 1 by x.view(1, -1)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 3)

    def forward(self, x):
        x = F.dropout(self.conv(x), 0.5, training=self.training)
        return self.fc(x.view(1, -1))


class Faithful(BatchOne):
    def forward(self, x):
        x = F.dropout(self.conv(x), 0.5, self.training)
        return self.fc(x.view(x.size(0), -1))
'''


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(MODEL))
    return path


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "designer", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


# ----- item 4: the importer -------------------------------------------------------------------
def test_cli_lists_dropout_without_training_as_not_mapped(model_file: Path, tmp_path: Path):
    out = tmp_path / "out.cnnd"
    done = cli(
        "import", "--file", str(model_file), "--class", "AlwaysDrops", "--input", "1x8x8",
        "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "not mapped: dropout (dropout): training=True" in done.stdout
    assert "drops in evaluation mode too" in done.stdout
    assert "training=self.training" in done.stdout
    graph = load_project(out).graph  # written anyway, with the gap shown as an open input
    assert "dropout" not in [n.type_id for n in graph]
    assert not infer(graph).ok


def test_import_file_keeps_dropout_with_training_of_the_module(model_file: Path):
    imported = import_file(model_file, "Faithful", (1, 8, 8))
    assert imported.unmapped == [] and imported.warnings == []
    (dropout,) = [n for n in imported.graph if n.type_id == "dropout"]
    assert dropout.params["p"] == 0.5
    model = load_file_module(model_file).Faithful().eval()  # computes the same in eval mode
    compiled = compile_graph(imported.graph).eval()
    compiled.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x))


@pytest.mark.parametrize(
    ("name", "function"), [("AlwaysDrops", "dropout"), ("AlwaysDrops2d", "dropout2d")]
)
def test_import_file_lists_always_on_dropout_with_the_reason(
    model_file: Path, name: str, function: str
):
    imported = import_file(model_file, name, (1, 8, 8))
    assert len(imported.unmapped) == 1, imported.unmapped
    reason = imported.unmapped[0]
    assert reason.startswith(f"{function} ({function}): training=True (F.{function}'s default)")
    assert "training=self.training" in reason
    assert not any(n.type_id.startswith("dropout") for n in imported.graph)


def test_cli_warns_when_the_batch_size_is_a_trace_time_constant(model_file: Path, tmp_path: Path):
    out = tmp_path / "out.cnnd"
    done = cli(
        "import", "--file", str(model_file), "--class", "BatchOne", "--input", "1x8x8",
        "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    warning = next(line for line in done.stdout.splitlines() if "warning: view" in line)
    assert "view (Tensor.view): the batch size is the constant 1 in view(1, ...)" in warning
    assert "works only at batch 1" in warning
    assert "x.view(x.size(0), -1) or torch.flatten(x, 1)" in warning
    graph = load_project(out).graph
    assert {"dropout", "flatten"} <= {n.type_id for n in graph}


def test_import_file_warns_about_the_constant_batch_but_not_about_size_0(model_file: Path):
    fixed = import_file(model_file, "BatchOne", (1, 8, 8))
    assert fixed.unmapped == []
    assert len(fixed.warnings) == 1 and "x.view(x.size(0), -1)" in fixed.warnings[0]
    assert import_file(model_file, "Faithful", (1, 8, 8)).warnings == []


# ----- item 5: a minimum that depends on the other options --------------------------------------
def test_cli_refuses_inception_aux_below_299_naming_the_minimum() -> None:
    done = cli(
        "summary", "--preset", "inception_v3", "--option", "resolution=200",
        "--option", "aux_logits=true",
    )  # fmt: skip
    assert done.returncode == 2, done.stdout
    assert "Traceback" not in done.stderr
    assert "resolution: must be at least 299 with aux_logits=True" in done.stderr
    assert "Received: resolution=200, aux_logits=True" in done.stderr
    assert "AuxLogits" not in done.stdout  # refused before any summary
    assert cli("summary", "--preset", "inception_v3", "--option", "resolution=200").returncode == 0
    done = cli(
        "summary", "--preset", "inception_v3", "--option", "resolution=299",
        "--option", "aux_logits=true",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_cli_presets_listing_states_the_minimum_for_the_options() -> None:
    done = cli("presets")
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("inception_v3 "))
    assert "resolution=299 (at least 75, or 299 with aux_logits=True)" in line


# ----- items 5 and 13: the preset dialog --------------------------------------------------------
def open_dialog(qtbot, name: str, size: tuple[int, int] | None = None) -> PresetDialog:
    dialog = PresetDialog(current="lenet5")
    qtbot.addWidget(dialog)
    if size is not None:
        dialog.resize(*size)
    dialog.show()
    qtbot.waitExposed(dialog)
    items = dialog.list.findItems(
        f"{PRESETS.get(name).display_name} (", Qt.MatchFlag.MatchStartsWith
    )
    dialog.list.scrollToItem(items[0])
    rect = dialog.list.visualItemRect(items[0])
    qtbot.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert dialog.preset.name == name
    return dialog


def choose(qtbot, combo, text: str) -> None:
    """Pick ``text`` in a combo box from the keyboard, as a user does."""
    combo.setFocus()
    qtbot.keyClicks(combo, text)
    assert combo.currentText() == text


def type_into(qtbot, spin, text: str) -> None:
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)


def shown_figures(dialog: PresetDialog) -> dict[str, int]:
    text = dialog.info.text()
    return {
        key: int(re.search(rf"<b>{label}</b>&nbsp;</td><td>([\d,]+)", text)[1].replace(",", ""))
        for key, label in (("blocks", "Blocks"), ("params", "Parameters"), ("macs", "MACs"))
    }


def test_preset_dialog_figures_follow_the_options(qtbot) -> None:
    dialog = open_dialog(qtbot, "mobilenet_v1")
    standard = infer(PRESETS.get("mobilenet_v1").create())
    assert shown_figures(dialog)["params"] == standard.total_params
    choose(qtbot, dialog.option_widgets["width"], "0.5")
    graph = PRESETS.get("mobilenet_v1").create(width=0.5)
    expected = infer(graph)
    assert shown_figures(dialog) == {
        "blocks": len(graph),
        "params": expected.total_params,
        "macs": expected.total_macs,
    }
    assert expected.total_params == 1_331_592 and expected.total_macs == 149_497_088
    type_into(qtbot, dialog.option_widgets["resolution"], "160")
    smaller = infer(PRESETS.get("mobilenet_v1").create(width=0.5, resolution=160))
    assert shown_figures(dialog)["macs"] == smaller.total_macs
    assert "3×160×160" in dialog.info.text()
    box = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(box.button(QDialogButtonBox.StandardButton.Open), Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.chosen() == ("mobilenet_v1", {"width": 0.5, "resolution": 160})


def test_preset_dialog_refuses_inception_aux_below_its_minimum(qtbot) -> None:
    dialog = open_dialog(qtbot, "inception_v3")
    resolution = dialog.option_widgets["resolution"]
    assert "299 with aux_logits=True" in resolution.toolTip()
    choose(qtbot, dialog.option_widgets["aux_logits"], "True")
    assert "With these options: at least 299" in resolution.toolTip()
    type_into(qtbot, resolution, "200")
    assert "at least 299 with aux_logits=True" in dialog.info.text()  # no figures, the reason
    assert "<b>Parameters</b>" not in dialog.info.text()
    box = dialog.findChild(QDialogButtonBox)
    open_button = box.button(QDialogButtonBox.StandardButton.Open)
    qtbot.mouseClick(open_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected
    assert dialog.error.isVisible()
    assert "must be at least 299 with aux_logits=True" in dialog.error.text()
    assert "resolution=200" in dialog.error.text()
    type_into(qtbot, resolution, "299")
    qtbot.mouseClick(open_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted, dialog.error.text()
    assert dialog.chosen() == ("inception_v3", {"aux_logits": True})


@pytest.mark.parametrize("size", [None, (1280, 720), (1600, 1000), (400, 300)])
def test_preset_dialog_shows_every_name_whole(qtbot, size: tuple[int, int] | None) -> None:
    dialog = open_dialog(qtbot, "vgg16_c", size)
    viewport = dialog.list.viewport().width()
    metrics = dialog.list.fontMetrics()
    for row in range(dialog.list.count()):
        item = dialog.list.item(row)
        needed = dialog.list.sizeHintForIndex(dialog.list.model().index(row, 0)).width()
        assert metrics.horizontalAdvance(item.text()) < needed <= viewport, item.text()
        assert dialog.list.visualItemRect(item).width() >= needed, item.text()
