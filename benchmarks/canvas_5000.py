"""The canvas at 5,000 blocks (issue 17, "Scale"): a generated chain of conv/BN/ReLU triples
(1,666 of them between an Input and an Output, no groups: every block is an item on the canvas).

- ``canvas.open_5000.s``: open it (no positions saved: the layout places every block), build
  the scene and draw the first frame; target <= 2 s.
- ``canvas.edit_5000.ms``: a parameter edit (a convolution's channels) through the document:
  undo step, incremental re-inference, the changed labels updated, events processed; median,
  target <= 16 ms. ``canvas.edit_5000_inference.ms`` is the re-inference alone and
  ``canvas.full_inference_5000.ms`` a full pass, for reference.
- ``canvas.frame_5000.ms``: one frame of panning at 100 % and of zooming at the fitted zoom
  (the viewport scrolled or scaled, then painted); the slower median of the two, target <= 16.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

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


def run(app, view, draw: Callable[[], None]) -> list[Measure]:
    """The 5,000-block measures with ``view`` (a shown CanvasView) and ``draw`` (one frame)."""
    from PySide6.QtCore import QPointF

    from engine import Project, infer

    doc = view.document
    graph = chain_graph()
    assert len(graph) == 5_000
    start = time.perf_counter()
    doc.replace_project(Project(graph))
    app.processEvents()
    draw()
    open_s = time.perf_counter() - start
    print(f"5,000 blocks: open + layout + first frame: {open_s:6.2f} s    (target <= 2)")

    scene = view.canvas
    edits = iter(range(10_000))

    def edit() -> None:
        step = next(edits)
        name = f"conv{(step * 379) % GROUPS}"
        channels = 8 + 8 * (step % 3)
        doc.set_params(name, {"out_channels": channels})
        app.processEvents()
        assert scene.nodes[name].content.subtitle.count(str(channels)), name

    edit_ms = _median_ms(edit, 31)
    inference = doc.inference

    def reinfer() -> None:
        step = next(edits)
        graph.set_params(f"conv{(step * 379) % GROUPS}", {"out_channels": 8 + 8 * (step % 3)})
        inference.update()

    reinfer_ms = _median_ms(reinfer, 31)
    full_ms = _median_ms(lambda: infer(graph), 5)
    print(f"5,000 blocks: parameter edit → labels:     {edit_ms:6.1f} ms   (target <= 16)")
    print(f"  of which the incremental re-inference:  {reinfer_ms:6.1f} ms")
    print(f"  a full inference, for reference:        {full_ms:6.1f} ms")

    view.resetTransform()
    view.centerOn(QPointF(view.items_rect().center().x(), view.items_rect().top() + 2000))
    app.processEvents()
    draw()
    steps = iter(range(10_000))

    def pan() -> None:
        dy = 40 if next(steps) % 2 else -40
        bar = view.verticalScrollBar()
        bar.setValue(bar.value() + dy)
        draw()

    pan_ms = _median_ms(pan, 21)
    view.zoom_to_fit()
    app.processEvents()
    draw()

    def zoom() -> None:
        factor = 1.1 if next(steps) % 2 else 1 / 1.1
        view.scale(factor, factor)
        draw()

    zoom_ms = _median_ms(zoom, 11)
    frame_ms = max(pan_ms, zoom_ms)
    print(f"5,000 blocks: a pan frame at 100 %:        {pan_ms:6.1f} ms   (target <= 16)")
    print(f"5,000 blocks: a zoom frame at the fit:     {zoom_ms:6.1f} ms   (target <= 16)")
    return [
        measure("canvas.open_5000.s", open_s, "s", "<= 2"),
        measure("canvas.edit_5000.ms", edit_ms, "ms", "<= 16"),
        measure("canvas.edit_5000_inference.ms", reinfer_ms, "ms"),
        measure("canvas.full_inference_5000.ms", full_ms, "ms"),
        measure("canvas.frame_5000.ms", frame_ms, "ms", "<= 16"),
        measure("canvas.frame_5000_pan.ms", pan_ms, "ms"),
        measure("canvas.frame_5000_zoom_fit.ms", zoom_ms, "ms"),
    ]
