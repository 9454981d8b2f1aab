"""Which runs folders the Runs page shows for the open design, as its file changes.

New runs always go to the design's own runs folder: ``<name>.runs`` beside the project file,
or the user data folder for an untitled design (``TrainingController.default_run_root``). What a
user expects when the file changes:

- **Save As** (or the first save of an untitled design) gives the design a new runs folder, but
  the runs trained before are still runs of this design. The Runs page lists the new folder's
  runs first and, below them, the runs of the folders the design had before in this session,
  each marked with its folder; the Export dialog's "Latest run" looks there too. Nothing is
  copied or moved: the old folder stays where it was, beside the old file.
- **Open, New, New from preset, recovery** show another design: the earlier folders are
  forgotten and the Runs page lists the new design's runs only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject


class RunRoots(QObject):
    """Follows ``window.document`` and keeps ``earlier``: the runs folders this design had
    before its last Save As, newest first. The Runs page is refreshed when the folder changes."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.earlier: list[Path] = []
        self._last = self.current()
        window.document.project_replaced.connect(self._on_project_replaced)
        window.document.file_changed.connect(self._on_file_changed)

    def current(self) -> Path | None:
        """Where new runs of the design go (None without a training controller)."""
        training = getattr(self.window, "training", None)
        return Path(training.default_run_root()) if training is not None else None

    def all(self) -> list[Path]:
        """The current folder, then the earlier ones."""
        current = self.current()
        return ([current] if current is not None else []) + [
            root for root in self.earlier if root != current
        ]

    def _on_project_replaced(self) -> None:
        self.earlier.clear()
        self._last = None  # another design: its folder is not an earlier one of this design

    def _on_file_changed(self) -> None:
        current = self.current()
        if current == self._last:
            return
        last, self._last = self._last, current
        if last is not None and last.is_dir():
            self.earlier = [last] + [root for root in self.earlier if root not in (last, current)]
        self.refresh_runs_page()

    def refresh_runs_page(self) -> None:
        """List the runs again if the Runs page has been built (it reads them when built)."""
        host = getattr(getattr(self.window, "training", None), "host", None)
        runs = getattr(host, "runs", None)
        current = self.current()
        if runs is None or current is None:
            return
        try:
            runs.set_root(current, self.earlier)
        except Exception as error:  # set_root contains what it knows; this is a backstop
            runs.folder.setText(f"Runs in {current} cannot be listed: {error}")
