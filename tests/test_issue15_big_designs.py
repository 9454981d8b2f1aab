"""Issue 15, item 26: big designs must not stall the window.

A design is opened the way a user opens it (``cnn-designer open FILE --screenshot``, or File ▸
Open in the window) from files written here. The window opens designs of up to
MAX_CANVAS_BLOCKS blocks and refuses bigger ones at once with a message; the view never fits a
design below its minimum zoom (fitting a long chain made Qt paint every block as a speck); and
groups are compared with their own enclosing groups only (1,000 groups nested 30 deep took
minutes in ``default_collapsed`` and the frames' nesting, each comparing every group with every
other).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from canvas_helpers import make_view
from designer_helpers import DialogRecorder, close_clean, shown_window

from designer.canvas.view import FIT_MIN_SCALE, PARTIAL_FIT_MAX
from designer.document import MAX_CANVAS_BLOCKS
from engine import Graph, load_project
from engine.layout import default_collapsed, innermost_groups

ROOT = Path(__file__).resolve().parent.parent


def write_chain(path: Path, blocks: int, groups: int = 0, depth: int = 0) -> Path:
    """A project file: Input, ReLUs, Output in a chain, ``blocks`` blocks in all.

    With ``groups``, the ReLUs are shared out among that many groups, each nested ``depth``
    levels deep (b7.l0.l1...)."""
    relus = blocks - 2
    nodes: list[dict] = [{"name": "input", "type": "input", "params": {"shape": [1, 4, 4]}}]
    for i in range(relus):
        node: dict = {"name": f"r{i}", "type": "relu", "params": {}}
        if groups:
            node["group"] = [f"b{i * groups // relus}"] + [f"l{d}" for d in range(depth - 1)]
        nodes.append(node)
    nodes.append({"name": "output", "type": "output", "params": {}})
    names = [n["name"] for n in nodes]
    edges = [[a, "out", b, "in"] for a, b in itertools.pairwise(names)]
    document = {
        "format": "cnn-designer-project",
        "version": 2,
        "graph": {"nodes": nodes, "edges": edges},
        "layout": {},
        "view": {},
        "training": {},
        "metadata": {},
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def open_screenshot(design: Path, png: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "designer", "open", str(design), "--screenshot", str(png)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


@pytest.mark.timeout(300)
def test_a_design_over_the_limit_is_refused_at_once_with_a_message(tmp_path: Path) -> None:
    design = write_chain(tmp_path / "big.cnnd", MAX_CANVAS_BLOCKS + 1)
    png = tmp_path / "big.png"
    done = open_screenshot(design, png, timeout=240)
    assert done.returncode == 2, done.stderr
    message = done.stderr.strip()
    assert f"opens at most {MAX_CANVAS_BLOCKS:,} blocks" in message
    assert f"blocks={MAX_CANVAS_BLOCKS + 1:,}" in message and str(design) in message
    assert "cnn-designer summary" in message and "Traceback" not in message
    assert not png.exists()
    # the engine still takes it: the command line works on it
    summary = subprocess.run(
        [sys.executable, "-m", "designer", "summary", str(design)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert summary.returncode == 0, summary.stderr


@pytest.mark.timeout(300)
def test_file_open_in_the_window_refuses_it_and_keeps_the_design(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = write_chain(tmp_path / "big.cnnd", MAX_CANVAS_BLOCKS + 1)
    window = shown_window(qtbot, tmp_path, monkeypatch)
    recorder = DialogRecorder().install(monkeypatch)
    try:
        before = window.document.graph.names
        assert not window.open_file(design)
        (kind, _title, text) = recorder.calls[-1]
        assert kind == "critical" and f"at most {MAX_CANVAS_BLOCKS:,} blocks" in text
        assert window.document.graph.names == before
        assert len(window.canvas.canvas.nodes) == len(before)
    finally:
        close_clean(window)


@pytest.mark.timeout(300)
def test_a_20000_block_chain_opens_with_a_screenshot(tmp_path: Path) -> None:
    design = write_chain(tmp_path / "chain.cnnd", 20_000)
    png = tmp_path / "chain.png"
    done = open_screenshot(design, png, timeout=280)
    assert done.returncode == 0, done.stderr
    assert png.stat().st_size > 10_000


def test_fitting_a_long_chain_stops_at_the_minimum_zoom_showing_its_top(
    qtbot, tmp_path: Path
) -> None:
    """Fitting 3,000 blocks made each a speck and put every one of them in the view, so Qt
    painted them all; the fit stops at FIT_MIN_SCALE (where names still read: issue 17), fits
    the wrapped columns by width and shows the top."""
    from designer.document import laid_out_project

    graph = load_project(write_chain(tmp_path / "chain.cnnd", 3_000)).graph
    _doc, view, _ = make_view(qtbot, laid_out_project(graph))
    view.zoom_to_fit()
    assert FIT_MIN_SCALE <= view.transform().m11() <= PARTIAL_FIT_MAX
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(view.canvas.nodes["input"].scene_rect())
    in_view = view.items(view.viewport().rect())
    assert len(in_view) < 4_000  # about 2,500 items of 12,000
    assert len(view.canvas.nodes) == 3_000  # the whole chain is there, below
    assert not shown.contains(view.items_rect())


@pytest.mark.timeout(300)
def test_a_thousand_groups_nested_thirty_deep_open_in_seconds(tmp_path: Path) -> None:
    """2,000 blocks in 1,000 groups 30 levels deep: minutes of comparing every group with
    every other before (default_collapsed, the frames' nesting); seconds now."""
    design = write_chain(tmp_path / "deep.cnnd", 2_002, groups=1_000, depth=30)
    png = tmp_path / "deep.png"
    start = time.monotonic()
    done = open_screenshot(design, png, timeout=150)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 150
    assert png.exists()


def _grouped(groups: int) -> Graph:
    graph = Graph()
    previous = graph.add_node("input", "input", {"shape": [1, 4, 4]}).name
    for g in range(groups):
        for k in range(2):
            name = graph.add_node("relu", f"b{g}_r{k}", group=(f"b{g}", "inner")).name
            graph.connect(previous, name)
            previous = name
    return graph


def _best_time(action, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def test_choosing_the_groups_to_collapse_grows_linearly_with_the_groups() -> None:
    """4× the groups must cost about 4× the time, not 16× (every group against every other)."""
    small, large = _grouped(1_000), _grouped(4_000)
    assert innermost_groups(large)[:2] == ["b0.inner", "b1.inner"]
    assert default_collapsed(large)[:2] == ["b0", "b1"]

    def both(graph: Graph) -> None:
        innermost_groups(graph)
        default_collapsed(graph)

    ratio = _best_time(lambda: both(large)) / _best_time(lambda: both(small))
    assert ratio < 8, f"4× the groups took {ratio:.1f}× the time"
