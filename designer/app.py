"""Start the designer: the QApplication, the main window, and the offscreen screenshot mode.

Only Qt, the engine's Qt-free core and the presets are imported on the way to the first frame:
torch and pyqtgraph load later, when compiling, training or exporting needs them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The Qt-free modules the first frame needs (the engine and the presets) are imported before
# PySide6 on purpose: once PySide6 is loaded, its __feature__ import hook reads the source of every
# module imported after it. The training package loads when training is first asked for.
import engine  # noqa: F401
import presets  # noqa: F401
from designer.settings import APPLICATION, ORGANIZATION

SCREENSHOT_SIZE = (1600, 1100)
MIN_WINDOW_SIZE = (640, 480)  # the main window's own minimum
MAX_WINDOW_SIZE = (7680, 4320)
VIEWS = ("design", "train", "runs")
READABLE_SCALE = 0.7  # the smallest zoom at which block labels read well in a screenshot


def create_application(offscreen: bool = False):
    """The QApplication (created once) with the names QSettings and QStandardPaths use."""
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "cnn-designer"])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("CNN Designer")
    if app.platformName() == "offscreen":
        app.aboutToQuit.connect(clear_clipboard)
    from designer.document import dispose_all

    app.aboutToQuit.connect(dispose_all)
    app.aboutToQuit.connect(wait_for_background_work)
    return app


def wait_for_background_work() -> None:
    """Let work on the thread pool (an export being written, torch loading for the import
    dialog) finish before Python shuts down under it, for at most 30 s."""
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(30_000)


def clear_clipboard() -> None:
    """Empty the clipboard. Qt's offscreen platform crashes at exit (a segmentation fault while
    the application is torn down) when the clipboard still holds data set from Python, so
    offscreen runs (screenshots, tests) clear it before quitting."""
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        QGuiApplication.clipboard().clear()


def create_window(file: str | None = None, preset: str | None = None, session: bool = True):
    """The main window holding ``file``, or preset ``preset``, or LeNet-5 on the Digits data.

    A file that cannot be opened is reported in a dialog in a session; without one (a
    screenshot run, where nobody could answer a dialog) it raises DesignerError or OSError.
    """
    from designer.document import Document, preset_project
    from designer.main_window import MainWindow

    document = Document(preset_project(preset or "lenet5"))
    window = MainWindow(document, session=session)
    if file is not None and session:
        window.open_file(file)
    elif file is not None:
        try:
            document.open(Path(file))
        except BaseException:
            window.close()
            raise
    return window


def parse_window_size(text: str) -> tuple[int, int]:
    """``"1600x1100"`` as (1600, 1100). Raises ValueError naming the value and the fix when it
    is malformed or outside MIN_WINDOW_SIZE..MAX_WINDOW_SIZE."""
    import re

    match = re.fullmatch(r"\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*", text)
    if match is None:
        raise ValueError(
            f"--window-size must be WIDTHxHEIGHT in pixels. Received: window_size={text!r}. "
            "Write it like 1600x1100"
        )
    width, height = int(match[1]), int(match[2])
    low, high = MIN_WINDOW_SIZE, MAX_WINDOW_SIZE
    if not (low[0] <= width <= high[0] and low[1] <= height <= high[1]):
        raise ValueError(
            f"--window-size must be between {low[0]}x{low[1]} and {high[0]}x{high[1]}. "
            f"Received: window_size={text!r}. Choose a size a screen shows, like 1280x720"
        )
    return width, height


def save_screenshot(
    window, path: str | Path, view: str = "design", size: tuple[int, int] = SCREENSHOT_SIZE
) -> None:
    """Render the window at ``size`` in ``view`` and save a PNG.

    Design: the design is fitted to the view; when that would make the blocks too small to read
    (a long network), the view keeps a readable zoom and shows the top of the network instead.
    The first convolution is selected so the inspector shows its output-size arithmetic; the
    memory plan (a worker's job in the window) is made before the picture is taken.
    Train: the dashboard shows the project's newest recorded run, if it has one (else its empty
    state). Runs: the project's runs.
    """
    from PySide6.QtWidgets import QApplication

    window.resize(*size)
    window.show()
    QApplication.processEvents()
    window.workspace.size_design_docks()
    if view != "design":
        window.switch_view(view)
        if view == "train":
            from designer.workspace.recorded import show_newest_run

            show_newest_run(window)
        QApplication.processEvents()
    _prepare_design(window)
    from designer.memory.plans import plans_of

    plans_of(window.document).update_now()  # made on a worker in the window: here at once
    QApplication.processEvents()
    if "designer.training.settling" in sys.modules:  # charts shown: laid out, then painted
        from designer.training.settling import finish_settling

        finish_settling(window)
    _write_png(window, Path(path))


def _prepare_design(window) -> None:
    document = window.document
    convs = [n for n in document.result.order if document.graph.node(n).type_id == "conv2d"]
    document.set_selection(convs[:1])
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    canvas = window.canvas
    canvas.zoom_to_fit()
    if canvas.transform().m11() < READABLE_SCALE:
        rect = canvas.items_rect()
        canvas.resetTransform()
        canvas.scale(READABLE_SCALE, READABLE_SCALE)
        visible_height = canvas.viewport().height() / READABLE_SCALE
        canvas.centerOn(rect.center().x(), rect.top() - 30 + visible_height / 2)


def _write_png(window, target: Path) -> None:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    from engine.atomic_files import write_files_atomic

    image = QByteArray()
    buffer = QBuffer(image)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    kind = target.suffix.lstrip(".").upper() or None  # Qt picks the format from the suffix
    if not window.grab().save(buffer, kind):
        raise OSError(f"cannot write the screenshot to {target}: check the folder and the suffix")
    try:  # atomic, like every file written: never into a FIFO (which would block) or a device
        write_files_atomic([(target, bytes(image.data()))])
    except OSError as error:
        raise OSError(
            f"cannot write the screenshot to {target} ({error.strerror or error}). Choose a file "
            "name that is free or names a regular file, in a folder you can write to"
        ) from error


def run_app(
    file: str | None = None,
    preset: str | None = None,
    screenshot: str | None = None,
    view: str = "design",
    window_size: tuple[int, int] | None = None,
) -> int:
    """Run the designer in ``view``; returns the exit status. ``window_size``: the screenshot's
    size (SCREENSHOT_SIZE when None), or the window's (None: as it was last left)."""
    from engine import DesignerError

    if screenshot is None:
        from designer.system_libraries import missing_libraries_message

        message = missing_libraries_message()
        if message is not None:  # Qt would abort with a page of plugin diagnostics
            print(message, file=sys.stderr)
            return 2
    app = create_application(offscreen=screenshot is not None)
    try:
        window = create_window(file, preset, session=screenshot is None)
    except (DesignerError, OSError) as error:  # an unknown preset, a file that cannot be read
        print(f"cnn-designer: error: {error}", file=sys.stderr)
        return 2
    if screenshot is not None:
        try:
            save_screenshot(window, screenshot, view, window_size or SCREENSHOT_SIZE)
        except OSError as error:
            print(f"cnn-designer: {error}", file=sys.stderr)
            return 1
        finally:
            window.close()
        return 0
    if window_size is not None:
        window.resize(*window_size)
    window.show()
    if view != "design":
        window.switch_view(view)
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, window.offer_recovery)  # the canvas fits itself as the window settles
    return app.exec()
