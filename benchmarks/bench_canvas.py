"""Canvas speed on a ~500-block network (ResNet-152): open + lay out + draw, a parameter edit
(re-inference + label update), and the paint time of a full viewport (smooth panning).

Targets (issue 4): open < 1 s, edit < 30 ms, viewport paint well under a frame (16 ms).
Inference alone is printed beside the edit as the reference the canvas adds to. Then the same at
5,000 blocks through the whole window (issue 17; ``benchmarks/canvas_5000.py``):
canvas.open_5000.s, canvas.edit_5000.ms and canvas.frame_5000.ms.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

from benchmarks.results import Measure, measure

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _big_graph():
    from presets import PRESETS

    return PRESETS.get("resnet152").create()


def main() -> list[Measure]:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from designer.canvas import CanvasView
    from designer.document import Document
    from engine import Project, infer

    app = QApplication.instance() or QApplication([])
    doc = Document()
    view = CanvasView(doc)
    view.resize(1400, 900)
    view.show()
    app.processEvents()
    image = QImage(1400, 900, QImage.Format.Format_ARGB32_Premultiplied)

    def draw() -> None:
        painter = QPainter(image)
        view.render(painter)
        painter.end()

    def open_big(expanded: bool) -> None:
        project = Project(_big_graph())
        if expanded:
            project.view["collapsed"] = []
        doc.replace_project(project)
        app.processEvents()
        draw()

    measures: list[Measure] = []
    graph = _big_graph()
    print(f"graph: ResNet-152, {len(graph)} blocks, {len(graph.edges)} wires")
    for expanded in (False, True):
        ms = _median_ms(lambda expanded=expanded: open_big(expanded), 3)
        shown = len(view.canvas.nodes) + len(view.canvas.groups)
        state = "expanded " if expanded else "collapsed"
        print(f"open + layout + draw ({state}, {shown:3d} items): {ms:7.1f} ms   (target < 1000)")
        measures.append(measure(f"canvas.open_{state.strip()}.ms", ms, "ms", "< 1000"))

    conv = next(n.name for n in doc.graph if n.type_id == "conv2d" and n.name.startswith("layer3"))
    sizes = iter([1, 3] * 100)
    edit_ms = _median_ms(lambda: doc.set_params(conv, {"kernel_size": next(sizes)}), 21)
    infer_ms = _median_ms(lambda: infer(doc.graph), 21)
    print(f"parameter edit (undo step + infer + labels): {edit_ms:6.1f} ms   (target < 30)")
    print(f"  of which inference alone:                  {infer_ms:6.1f} ms")
    measures.append(measure("canvas.edit.ms", edit_ms, "ms", "< 30"))
    measures.append(measure("canvas.edit_inference.ms", infer_ms, "ms"))
    changed = view.canvas.update_texts(doc.result)
    print(f"  labels repainted by a repeated update: {changed} (only changes repaint)")

    view.resetTransform()
    view.centerOn(QPointF(view.items_rect().center().x(), view.items_rect().top() + 3000))
    app.processEvents()
    draw()  # fill the item caches, as panning does after the first frame
    paint_ms = _median_ms(draw, 15)
    print(f"paint a full 1400×900 viewport at 100%:      {paint_ms:6.1f} ms   (16 ms = 60 fps)")
    view.zoom_to_fit()
    app.processEvents()
    draw()
    fit_ms = _median_ms(draw, 5)
    print(f"paint the whole graph zoomed to fit:         {fit_ms:6.1f} ms")
    measures.append(measure("canvas.paint_viewport.ms", paint_ms, "ms", "< 16"))
    measures.append(measure("canvas.paint_fit.ms", fit_ms, "ms"))
    from benchmarks.canvas_5000 import run as run_5000  # issue 17: a 5,000-block design

    measures.extend(run_5000(app))
    return measures


if __name__ == "__main__":
    main()
