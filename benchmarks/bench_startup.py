"""Start-up time: from launch to an interactive window with LeNet-5 drawn, against a bare PySide6
program that shows one label. Both run as fresh subprocesses (offscreen), alternated, several
times; the medians are compared. Target (issue 4): the designer within 2× the bare program.

Bytecode caching is allowed in the subprocesses (as in an installed program) even where the
environment turns it off, and a warm-up run of each fills the caches.

Each program stops once its window has been shown and the first paint has been processed: a
zero-time timer queued after ``show()`` runs only when the event loop is idle, i.e. interactive.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7
TARGET_RATIO = 2.0
ROOT = Path(__file__).resolve().parents[1]

BARE = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel("hello")
label.show()
QTimer.singleShot(0, app.quit)
app.exec()
"""

DESIGNER = """
from designer.app import create_application, create_window  # first, as `cnn-designer` does
from PySide6.QtCore import QTimer
app = create_application()
window = create_window(session=False)
window.show()
QTimer.singleShot(0, window.canvas.zoom_to_fit)
QTimer.singleShot(0, app.quit)
app.exec()
assert window.document.graph.nodes_of_type("conv2d"), "LeNet-5 is not loaded"
"""


def time_program(code: str, env: dict[str, str]) -> float:
    """Wall time of one fresh interpreter running ``code``, in seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        env = dict(
            os.environ, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=home, XDG_CONFIG_HOME=home
        )
        # an installed program starts from cached bytecode: let the warm-up runs write it
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        time_program(BARE, env)  # warm the file and bytecode caches for both
        time_program(DESIGNER, env)
        bare, designer = [], []
        for _ in range(RUNS):
            bare.append(time_program(BARE, env))
            designer.append(time_program(DESIGNER, env))
    bare_median, designer_median = statistics.median(bare), statistics.median(designer)
    ratio = designer_median / bare_median
    verdict = "ok" if ratio <= TARGET_RATIO else "SLOWER THAN TARGET"
    print(f"bare PySide6 label window : median {bare_median * 1000:7.0f} ms over {RUNS} runs")
    print(f"designer with LeNet-5     : median {designer_median * 1000:7.0f} ms over {RUNS} runs")
    print(f"ratio {ratio:.2f}× (target ≤ {TARGET_RATIO:.0f}×): {verdict}")


if __name__ == "__main__":
    main()
