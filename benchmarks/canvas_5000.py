"""The canvas at 5,000 blocks (issue 17, "Scale"), measured through the whole window: a generated
chain of conv/BN/ReLU triples (1,666 of them between an Input and an Output, no groups: every
block is an item on the canvas), in a shown 1600×1100 ``MainWindow`` with its inspector, layer
summary, Problems list and minimap, as a user has it.

- ``canvas.open_5000.s``: File ▸ Open of the design saved on disk (no positions saved: the layout
  places every block), until the scene is built, every panel filled, the minimap drawn, the
  events processed and the canvas painted; target <= 2 s.
- ``canvas.edit_5000.ms``: a parameter edit (a convolution's channels, the block selected as
  when it is edited in the inspector) as the undo command the inspector pushes, until the events
  are processed: the block's label on the canvas, its row of the summary, the Problems list and
  the inspector are checked to show the new value; median, target <= 16 ms.
  ``canvas.edit_5000_inference.ms`` is the re-inference alone, ``canvas.full_inference_5000.ms``
  a full pass, for reference. The layer summary's Memory column is planned a moment after the
  last edit (``designer.memory.plans.DELAY_MS``) on a worker thread, not within the edit: the UI
  thread's part of it (starting the worker, taking the plan, filling the column and the
  inspector) is timed apart, ``canvas.edit_5000_memory_plan.ms`` (target <= 16), the worker's
  time from start to end as ``canvas.edit_5000_memory_plan_worker.ms``, and so
  is the minimap's overview, drawn again a moment after the edits stop
  (``canvas.edit_5000_minimap.ms``).
- ``canvas.frame_5000.ms``: one frame of panning (scrolled 40 pixels) at 100 % and of zooming
  (scaled by 1.1) at the fitted zoom: the whole viewport painted (``repaint``: every item in view
  drawn, not only the strip a scroll uncovers) and the events processed (the minimap's
  rectangle follows); the slower median of the two, target <= 16. Measured once the work an
  edit leaves for later (the memory plan on its worker thread, the minimap's redraw) is done:
  the frames of a user who pans or zooms, not the edit's aftermath, which has its own measures.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.results import Measure, measure

GROUPS = 1_666  # 3 blocks each, plus the Input and the Output: 5,000 blocks


def chain_graph(groups: int = GROUPS):
    """Input → (Conv 3×3 → BatchNorm → ReLU) × groups → Output, 16 channels at 32×32."""
    from engine import Graph

    g = Graph()
    g.add_node("input", "input1", {"shape": [16, 32, 32]})
    previous = "input1"
    for i in range(groups):
        conv = g.add_node("conv2d", f"conv{i}", {"out_channels": 16, "padding": 1}).name
        bn = g.add_node("batchnorm", f"bn{i}").name
        relu = g.add_node("relu", f"relu{i}").name
        g.connect(previous, conv)
        g.connect(conv, bn)
        g.connect(bn, relu)
        previous = relu
    g.add_node("output", "output1")
    g.connect(previous, "output1")
    return g


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _isolated_settings(folder: Path) -> None:
    """Keep the benchmark's recent files and layout out of the user's settings."""
    from PySide6.QtCore import QSettings

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))


def _open(app, window, path: Path) -> float:
    start = time.perf_counter()
    if not window.open_file(path):
        raise RuntimeError(f"the benchmark could not open {path}")
    app.processEvents()
    minimap = window.canvas.minimap
    if minimap.isVisible() and minimap._stale:
        minimap._redraw()  # what its timer does a moment later: part of showing the design
    window.canvas.viewport().repaint()
    app.processEvents()
    return time.perf_counter() - start


def _edits(app, window, graph) -> tuple[float, float, float, float | None]:
    from engine import infer

    doc = window.document
    scene = window.canvas.canvas
    plans = getattr(window.summary, "plans", None)  # the memory column's plans
    edits = iter(range(10_000))
    samples: list[float] = []
    plan_samples: list[float] = []
    worker_samples: list[float] = []
    for _ in range(31):
        step = next(edits)
        name = f"conv{(step * 379) % GROUPS}"
        channels = 8 + 8 * (step % 3)
        doc.set_selection([name])  # the user picks the block, then edits it in the inspector
        app.processEvents()
        start = time.perf_counter()
        doc.set_params(name, {"out_channels": channels})
        app.processEvents()
        samples.append((time.perf_counter() - start) * 1000)
        if plans is not None:  # made DELAY_MS after the last edit: timed apart
            plan_samples.append(_plan_ms(app, plans, worker_samples))
        shown = f"{channels}×32×32"
        assert str(channels) in scene.nodes[name].content.subtitle, name
        row = window.summary.model.rows[window.summary.model.row_of(name)]
        assert row.output_shape == (channels, 32, 32), (name, row)
        assert shown in window.inspector.details.text(), name
        assert not window.problems.diagnostics, window.problems.diagnostics
    inference = doc.inference

    def reinfer() -> None:
        step = next(edits)
        doc.graph.set_params(f"conv{(step * 379) % GROUPS}", {"out_channels": 8 + 8 * (step % 3)})
        inference.update()

    reinfer_ms = _median_ms(reinfer, 31)
    full_ms = _median_ms(lambda: infer(doc.graph), 5)
    plan_ms = statistics.median(plan_samples) if plan_samples else None
    worker_ms = statistics.median(worker_samples) if worker_samples else None
    return statistics.median(samples), reinfer_ms, full_ms, plan_ms, worker_ms


def _plan_ms(app, plans, worker_samples: list[float]) -> float:
    """The memory plan after an edit, as its timer starts it: the UI thread's part (starting the
    worker, then taking the plan and filling the Memory column and the inspector), in ms; the
    worker's time from start to end goes to ``worker_samples``."""
    plans.timer.stop()
    started = time.perf_counter()
    plans.start()
    ui = time.perf_counter() - started
    plans.wait_made(30)
    worker_samples.append((time.perf_counter() - started) * 1000)
    computed = plans.computed
    started = time.perf_counter()
    app.processEvents()  # the worker's result, queued to the UI thread, is taken here
    ui += time.perf_counter() - started
    assert plans.computed == computed + 1 and not plans.busy, "the plan was not taken"
    return ui * 1000


def _settle(app, window, seconds: float = 1.0) -> None:
    """Let the work an edit leaves for later end: the memory plan (its worker thread, then
    the UI thread takes it) and the timers a moment after (the minimap's redraw)."""
    from designer.memory.plans import plans_of

    plans_of(window.document).wait_made(10.0)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:  # bounded: the timers fire within it
        app.processEvents()
        time.sleep(0.01)


def _frames(app, window) -> tuple[float, float]:
    from PySide6.QtCore import QPointF

    view = window.canvas
    steps = iter(range(10_000))
    _settle(app, window)

    def frame() -> None:
        view.viewport().repaint()
        app.processEvents()

    view.resetTransform()
    view.centerOn(QPointF(view.items_rect().center().x(), view.items_rect().top() + 2000))
    frame()

    def pan() -> None:
        bar = view.verticalScrollBar()
        bar.setValue(bar.value() + (40 if next(steps) % 2 else -40))
        frame()

    pan_ms = _median_ms(pan, 21)
    view.zoom_to_fit()
    frame()

    def zoom() -> None:
        factor = 1.1 if next(steps) % 2 else 1 / 1.1
        view.scale(factor, factor)
        frame()

    zoom_ms = _median_ms(zoom, 21)
    return pan_ms, zoom_ms


def _minimap_ms(app, window) -> float | None:
    """The overview drawn again, as its timer does a moment after an edit (a convolution's
    channels: its label and the next blocks' change), in ms; None: hidden."""
    minimap = window.canvas.minimap
    if not minimap.isVisible():
        return None
    doc = window.document
    times = []
    for step in range(7):
        doc.set_params(f"conv{(step * 211) % GROUPS}", {"out_channels": 8 + 8 * (step % 3)})
        app.processEvents()  # the scene reports its changed regions
        start = time.perf_counter()
        minimap._redraw()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(app) -> list[Measure]:
    """The 5,000-block measures, in a window of their own (closed after)."""
    from designer.document import Document
    from designer.main_window import MainWindow
    from engine import Project
    from engine.project import save_project

    with tempfile.TemporaryDirectory(prefix="canvas5000-") as folder:
        _isolated_settings(Path(folder) / "settings")
        graph = chain_graph()
        assert len(graph) == 5_000
        path = Path(folder) / "chain5000.cnnd"
        save_project(Project(graph), path)
        window = MainWindow(Document(Project()), session=False)
        window.resize(1600, 1100)
        window.show()
        app.processEvents()
        try:
            open_s = _open(app, window, path)
            print(f"5,000 blocks: open + layout + first frame: {open_s:6.2f} s    (target <= 2)")
            edit_ms, reinfer_ms, full_ms, plan_ms, worker_ms = _edits(app, window, graph)
            print(f"5,000 blocks: parameter edit → window:     {edit_ms:6.1f} ms   (target <= 16)")
            print(f"  of which the incremental re-inference:  {reinfer_ms:6.1f} ms")
            print(f"  a full inference, for reference:        {full_ms:6.1f} ms")
            if plan_ms is not None:
                print(
                    f"  then the memory plan, UI thread:        {plan_ms:6.1f} ms   (target <= 16)"
                )
                print(f"    on its worker thread (start to end):  {worker_ms:6.1f} ms")
            minimap_ms = _minimap_ms(app, window)
            if minimap_ms is not None:
                print(f"  then the minimap (a moment after):       {minimap_ms:6.1f} ms")
            pan_ms, zoom_ms = _frames(app, window)
            print(f"5,000 blocks: a pan frame at 100 %:        {pan_ms:6.1f} ms   (target <= 16)")
            print(f"5,000 blocks: a zoom frame at the fit:     {zoom_ms:6.1f} ms   (target <= 16)")
        finally:
            window.document.undo_stack.setClean()  # nothing to ask about on close
            window.close()
            window.deleteLater()
            app.processEvents()
    return [
        measure("canvas.open_5000.s", open_s, "s", "<= 2"),
        measure("canvas.edit_5000.ms", edit_ms, "ms", "<= 16"),
        measure("canvas.edit_5000_inference.ms", reinfer_ms, "ms"),
        measure("canvas.full_inference_5000.ms", full_ms, "ms"),
        measure("canvas.edit_5000_memory_plan.ms", plan_ms, "ms", "<= 16"),
        measure("canvas.edit_5000_memory_plan_worker.ms", worker_ms, "ms"),
        measure("canvas.edit_5000_minimap.ms", minimap_ms, "ms"),
        measure("canvas.frame_5000.ms", max(pan_ms, zoom_ms), "ms", "<= 16"),
        measure("canvas.frame_5000_pan.ms", pan_ms, "ms"),
        measure("canvas.frame_5000_zoom_fit.ms", zoom_ms, "ms"),
    ]


if __name__ == "__main__":
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    run(QApplication.instance() or QApplication([]))
