"""Regenerate the README's pictures: `python docs/screenshots.py` (offscreen, a few minutes).

- docs/images/main_window.png: the Design view with ResNet-18 at 1600×1100
  (`cnn-designer --preset resnet18 --screenshot`);
- docs/images/dashboard.png: the Train view during a real run of LeNet-5 on Digits;
- docs/images/runs.png: the Runs view with that run and a second one (another learning rate)
  overlaid.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt

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
    """The Train view during a LeNet-5 run on Digits (grabbed once ``epoch`` epochs are done),
    then the Runs view with a second, shorter run at another learning rate overlaid."""
    from designer.app import create_application, create_window

    create_application(offscreen=True)
    window = create_window(session=False)
    window.resize(1600, 1100)
    window.show()
    controller = window.training
    controller.run_root = Path(tempfile.mkdtemp(prefix="screenshot-runs-"))
    base = {"data": {"dataset": "digits"}, "epochs": 40, "batch_size": 32, "schedule": "cosine"}
    train_until(window, epoch, {**base, "lr": 0.002, "grab": True})
    train_until(window, 8, {**base, "lr": 0.0005})
    window.switch_view("runs")
    runs = controller.host.runs
    runs.set_root(controller.run_root)
    for i in range(runs.list.count()):  # both runs overlaid
        runs.list.item(i).setCheckState(Qt.CheckState.Checked)
    window.grab().save(str(IMAGES / "runs.png"))
    controller.shutdown()
    window.document.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    main_window()
    dashboard()
