"""The lessons' texts and the architectures' numbers (engine.lessons), torch-free: every number
a text shows is the engine's, a design that no longer validates gives a message, and the
architectures' savings equal torch's module sizes and the paper's formula."""

from __future__ import annotations

import subprocess
import sys

import pytest
from torch import nn

from engine import infer
from engine.analysis.equivalents import node_equivalents
from engine.lessons import designs
from engine.lessons.architectures import (
    architecture_rows,
    architectures_text,
    bottleneck_saving,
    multiplier_table,
    separable_saving,
)
from engine.lessons.lessons import LESSONS, focus_node, lesson_text
from presets import PRESETS


def _design(lesson):
    kind, name = lesson.design.split(":")
    return PRESETS.get(name).create() if kind == "preset" else getattr(designs, name)()


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.key)
def test_every_lesson_has_text_with_the_engines_numbers(lesson) -> None:
    graph = _design(lesson)
    result = infer(graph)
    text = lesson_text(lesson, graph, result)
    assert text.problem is None and text.lines and text.numbers
    name = focus_node(graph, lesson)
    assert name is not None and name in " ".join(text.lines)
    found = result.nodes[name]
    if "params" in text.numbers:
        assert text.numbers["params"] == found.params
        assert f"{found.params:,} parameters" in " ".join(text.lines)
    if "out_h" in text.numbers:
        assert text.numbers["out_h"] == found.output[1]


def test_cnn_vs_mlp_numbers_are_the_equivalents() -> None:
    lesson = LESSONS[0]
    graph = _design(lesson)
    result = infer(graph)
    text = lesson_text(lesson, graph, result)
    rows = node_equivalents(graph, result, focus_node(graph, lesson))
    assert text.numbers["dense_params"] == rows.dense.params
    assert text.numbers["lc_params"] == rows.locally_connected.params
    assert text.numbers["conv_params"] == rows.convolution.params
    joined = " ".join(text.lines)
    for value in (rows.dense.params, rows.locally_connected.params, rows.convolution.macs):
        assert f"{value:,}" in joined


def test_a_design_that_no_longer_validates_gives_a_message() -> None:
    lesson = next(item for item in LESSONS if item.key == "convolution")
    graph = _design(lesson)
    graph.set_params("conv1", {"kernel_size": 40})
    text = lesson_text(lesson, graph, infer(graph))
    assert text.problem is not None and not text.lines
    assert "no longer validates" in text.problem and "conv1" in text.problem


def test_a_design_without_the_lessons_block_gives_a_message() -> None:
    lesson = next(item for item in LESSONS if item.key == "dropout")
    graph = PRESETS.get("lenet5").create()
    text = lesson_text(lesson, graph, infer(graph))
    assert text.problem is not None and "dropout blocks=0" in text.problem


def test_the_savings_equal_torch_modules_and_the_formula() -> None:
    googlenet = PRESETS.get("googlenet").create()
    saving = bottleneck_saving(googlenet)
    assert saving is not None
    result = infer(googlenet)
    cin = result.nodes[saving.first].inputs[0][0]
    mid = result.nodes[saving.first].output[0]
    cout = result.nodes[saving.second].output[0]

    def weights(module: nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    assert saving.replaced_params == weights(nn.Conv2d(cin, cout, 3, bias=False))
    pair = nn.Sequential(nn.Conv2d(cin, mid, 1, bias=False), nn.Conv2d(mid, cout, 3, bias=False))
    assert saving.params == weights(pair)
    assert saving.ratio < 1
    mobilenet = PRESETS.get("mobilenet_v1").create()
    separable = separable_saving(mobilenet)
    assert separable is not None and separable.formula is not None
    assert separable.ratio == pytest.approx(separable.formula, rel=1e-12)
    m = infer(mobilenet).nodes[separable.first].output[0]
    n = infer(mobilenet).nodes[separable.second].output[0]
    assert separable.formula == pytest.approx(1 / n + 1 / 9)
    assert separable.params == weights(
        nn.Sequential(nn.Conv2d(m, m, 3, groups=m, bias=False), nn.Conv2d(m, n, 1, bias=False))
    )


def test_architectures_text_holds_every_row_and_the_multiplier_table() -> None:
    names = ("lenet5", "alexnet", "mobilenet_v1")
    rows = architecture_rows((n, PRESETS.get(n).create()) for n in names)
    preset = PRESETS.get("mobilenet_v1")
    table = multiplier_table(preset.create, preset.option("width").choices, [224, 128])
    assert [r.params for r in rows] == [infer(PRESETS.get(n).create()).total_params for n in names]
    assert len(table) == len(preset.option("width").choices) + 1
    assert table[-1].params == table[0].params and table[-1].macs < table[0].macs
    text = architectures_text(rows, None, None, table)
    joined = "\n".join(text.lines)
    for row in rows:
        assert f"{row.params:,} parameters, {row.macs:,} MACs" in joined


def test_engine_lessons_imports_neither_torch_nor_qt() -> None:
    code = (
        "import sys, engine.lessons.lessons, engine.lessons.architectures, "
        "engine.lessons.experiments; "
        "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
