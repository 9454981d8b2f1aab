"""Regenerate the README's pictures: `python docs/screenshots.py` (offscreen, about a minute).

- docs/images/main_window.png: the designer with ResNet-18 (`cnn-designer --screenshot`);
- docs/images/dashboard.png: the training dashboard during a real run of LeNet-5 on Digits.
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


def dashboard(epoch: int = 12) -> None:
    """Start LeNet-5 training from the window and grab it once ``epoch`` epochs are done."""
    from PySide6.QtCore import QEventLoop, QTimer

    from designer.app import create_application, create_window

    create_application(offscreen=True)
    window = create_window(session=False)
    window.resize(1600, 1100)
    window.show()
    controller = window.training
    controller.run_root = Path(tempfile.mkdtemp(prefix="screenshot-runs-"))
    window.document.project.training = {
        "data": {"dataset": "digits"},
        "epochs": 40,
        "batch_size": 32,
        "lr": 0.002,
        "schedule": "cosine",
    }
    loop = QEventLoop()

    def check() -> None:
        board = controller.host.dashboard
        if board is not None and board.val_accs.size >= epoch:
            window.grab().save(str(IMAGES / "dashboard.png"))
            loop.quit()
        elif not controller.is_running():
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(200)
    controller.train()
    loop.exec()
    timer.stop()
    controller.stop()
    controller.shutdown()
    window.document.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    main_window()
    dashboard()
