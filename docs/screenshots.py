"""Regenerate the README's pictures: `python docs/screenshots.py` (offscreen, a few minutes).

- docs/images/main_window.png: the Design view with ResNet-18 at 1600×1100
  (`cnn-designer --preset resnet18 --screenshot`);
- docs/images/dashboard.png: the Train view during a real run of LeNet-5 on Digits;
- docs/images/runs.png: the Runs view's run browser with two LeNet-5 runs on Digits (another
  learning rate and length) selected in the table, their curves overlaid;
- docs/images/search_to_add.png: search-to-add on LeNet-5: conv1 selected, Tab, "pool" typed;
- docs/images/step_through.png and cnn_vs_mlp.png: the step-through of a 3×3 convolution on the
  lecture's example, and the inspector's receptive field and CNN-vs-MLP rows of LeNet-5's conv1;
- docs/images/experiment_dropout.png: Lessons ▸ Experiments ▸ Dropout p = 0 vs p = 0.5 on
  LeNet-5 after a real (short) run of both variants on Digits: the comparison window.

`python docs/screenshots.py step_through experiment` makes only the pictures named.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

IMAGES = Path(__file__).resolve().parent / "images"


def main_window() -> None:
    """The main window with ResNet-18, through the command line's screenshot mode."""
    target = IMAGES / "main_window.png"
    command = [
        sys.executable,
        "-m",
        "designer",
        "--preset",
        "resnet18",
        "--screenshot",
        str(target),
    ]
    subprocess.run(command, check=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def search_to_add() -> None:
    """LeNet-5 with conv1 selected after Tab and "pool" were typed: the search lists the
    pooling blocks, and Enter would add the first below conv1, wired in after it."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QPainter
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from designer.app import create_application, create_window

    create_application(offscreen=True)
    window = create_window(preset="lenet5", session=False)
    window.resize(1280, 800)
    window.show()
    QApplication.processEvents()
    canvas = window.canvas
    window.document.set_selection(["conv1"])
    box = canvas.canvas.nodes["conv1"].scene_rect()
    point = canvas.mapFromScene(box.bottomRight())  # the mouse beside conv1
    canvas.quick_add.open(point)
    popup = canvas.quick_add.popup
    QTest.keyClicks(popup.edit, "pool")
    # the offscreen screen is 800×600: put the popup where a real screen shows it
    popup.move(canvas.viewport().mapToGlobal(point) + QPoint(14, 14))
    for _ in range(10):  # the inspector's rows laid out, the memory plan shown
        QTest.qWait(50)
    picture = window.grab()
    painter = QPainter(picture)  # the popup is a window of its own: drawn where it shows
    painter.drawPixmap(popup.pos() - window.pos(), popup.grab())
    painter.end()
    picture.save(str(IMAGES / "search_to_add.png"))
    popup.close()
    window.document.undo_stack.setClean()
    window.close()


def minimap() -> None:
    """ResNet-50 with every group expanded, fitted (wrapped into columns, names readable), with
    the minimap in the canvas's corner showing the whole design and the part in view."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from designer.app import create_application, create_window

    create_application(offscreen=True)
    window = create_window(preset="resnet50", session=False)
    window.resize(1600, 1100)
    window.show()
    QApplication.processEvents()
    window.canvas.expand_all()
    loop = QEventLoop()
    QTimer.singleShot(800, loop.quit)  # the minimap draws once the design has settled
    loop.exec()
    window.grab().save(str(IMAGES / "minimap.png"))
    window.document.undo_stack.setClean()
    window.close()


def step_through() -> None:
    """LeNet-5's conv1 in the inspector (receptive field, dense / LC / conv rows), then with a
    3×3 kernel stepped five windows through the lecture's 5×5 example, the fifth output cell
    clicked (its receptive field on the network's input)."""
    from PySide6.QtWidgets import QApplication

    from designer.app import create_application, create_window
    from designer.panels.inspector import Inspector

    create_application(offscreen=True)
    window = create_window(preset="lenet5", session=False)
    window.resize(1600, 1000)
    window.show()
    window.document.set_selection(["conv1"])
    QApplication.processEvents()
    inspector = window.findChild(Inspector)
    inspector.grab().save(str(IMAGES / "cnn_vs_mlp.png"))
    rows = inspector.lecture
    window.document.set_params("conv1", {"kernel_size": 3})
    dialog = rows.open_step_through()
    dialog.resize(1100, 600)
    for _ in range(5):
        dialog.advance(1)
    QApplication.processEvents()
    dialog.show_field(1, 1)  # the cell just written: its receptive field on the input image
    QApplication.processEvents()
    dialog.grab().save(str(IMAGES / "step_through.png"))
    dialog.close()
    window.document.undo_stack.setClean()
    window.close()


def experiment() -> None:
    """The dropout experiment of the Lessons menu on LeNet-5 (the open design), trained for
    real on Digits in the background, and the comparison window it opens."""
    from PySide6.QtCore import QEventLoop, QTimer

    from designer.app import create_application, create_window

    create_application(offscreen=True)
    window = create_window(preset="lenet5", session=False)
    window.resize(1600, 1000)
    window.show()
    window.training.run_root = Path(tempfile.mkdtemp(prefix="screenshot-runs-"))
    window.lessons.experiment_args = ["--epochs", "8", "--limit", "600", "--seed", "0"]
    window.lessons.actions["experiment_dropout"].trigger()
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if not window.lessons.run.is_running() else None)
    timer.start(200)
    loop.exec()
    timer.stop()
    compare = window.lessons.compare
    compare.resize(1100, 720)
    for _ in range(5):
        loop.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 100)
    compare.grab().save(str(IMAGES / "experiment_dropout.png"))
    compare.close()
    window.document.undo_stack.setClean()
    window.close()


def train_until(window, epochs: int, settings: dict) -> None:
    """Train the window's design with ``settings`` until ``epochs`` epochs are done, grab the
    window (the Train view) into dashboard.png when ``settings`` say so, then stop the run."""
    from PySide6.QtCore import QEventLoop, QTimer

    controller = window.training
    window.document.project.training = {key: v for key, v in settings.items() if key != "grab"}
    loop = QEventLoop()

    def check() -> None:
        board = controller.host.dashboard
        if board is not None and board.val_accs.size >= epochs:
            if settings.get("grab"):
                window.grab().save(str(IMAGES / "dashboard.png"))
            loop.quit()
        elif not controller.is_running():
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(200)
    controller.train()  # shows the Train view
    loop.exec()
    timer.stop()
    controller.stop()
    while controller.is_running():  # the run ends after the current batch
        loop.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 100)


def dashboard(epoch: int = 12) -> None:
    """The Train view during a LeNet-5 run on Digits (grabbed once ``epoch`` epochs are done)."""
    from designer.app import create_application, create_window

    create_application(offscreen=True)
    window = create_window(session=False)
    window.resize(1600, 1100)
    window.show()
    controller = window.training
    controller.run_root = Path(tempfile.mkdtemp(prefix="screenshot-runs-"))
    base = {"data": {"dataset": "digits"}, "epochs": 40, "batch_size": 32, "schedule": "cosine"}
    train_until(window, epoch, {**base, "lr": 0.002, "grab": True})
    controller.shutdown()
    window.document.undo_stack.setClean()
    window.close()


def runs() -> None:
    """The Runs view's run browser with two LeNet-5 runs on Digits (another learning rate and
    length) selected by clicks in the table: their curves overlaid."""
    from PySide6.QtCore import QEventLoop, Qt
    from PySide6.QtTest import QTest

    from designer.app import create_application, create_window
    from designer.runs.model import COLUMN

    create_application(offscreen=True)
    window = create_window(session=False)
    window.resize(1600, 1000)
    window.show()
    controller = window.training
    controller.run_root = Path(tempfile.mkdtemp(prefix="screenshot-runs-"))
    base = {"data": {"dataset": "digits"}, "epochs": 12, "batch_size": 32, "schedule": "cosine"}
    train_until(window, 12, {**base, "lr": 0.002})
    train_until(window, 8, {**base, "lr": 0.0005})
    window.switch_view("runs")
    page = controller.host.runs
    page.set_root(controller.run_root)
    loop = QEventLoop()
    for row, modifier in (
        (0, Qt.KeyboardModifier.NoModifier),
        (1, Qt.KeyboardModifier.ControlModifier),
    ):
        rect = page.table.visualRect(page.proxy.index(row, COLUMN["status"]))
        QTest.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())
    for _ in range(5):
        loop.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 100)
    window.grab().save(str(IMAGES / "runs.png"))
    controller.shutdown()
    window.document.undo_stack.setClean()
    window.close()


PICTURES = {
    "main_window": main_window,
    "search_to_add": search_to_add,
    "minimap": minimap,
    "step_through": step_through,
    "experiment": experiment,
    "dashboard": dashboard,
    "runs": runs,
}

if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for name in sys.argv[1:] or PICTURES:
        PICTURES[name]()
