"""View ▸ Live preview: runs ``compute_preview`` on a worker thread after each edit.

Off by default; turning it on starts the first run (torch loads then, on the worker). Edits are
debounced (``DEBOUNCE_MS`` after the last one); one run at a time: an edit while a run is in
flight asks for one more run when it ends, and a result that an edit has made stale is dropped
(counted in ``dropped``), so the latest edit always wins. The canvas shows the result with one
``PreviewBadge`` per block; a design or data set the preview cannot use is one line in the
status bar.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction

from designer.canvas.preview_overlay import NodeOverlays, PreviewBadge
from designer.dialogs.background import cancel_job, describe_error, run_in_background
from designer.menus import window_menu

DEBOUNCE_MS = 250


class LivePreview(QObject):
    """The action, the worker runs and the canvas badges of one window."""

    shown = Signal()  # a fresh result (or its error) is on screen

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.result: Any = None  # the PreviewResult on screen
        self.generation = 0  # bumps on every edit while on
        self.job: Any = None
        self.again = False  # an edit came while a run was in flight
        self.runs = 0
        self.dropped = 0
        self.overlays = NodeOverlays(window.canvas.canvas, PreviewBadge)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self._launch)
        self.sync_timer = QTimer(self)  # owned: never fires once the window is gone
        self.sync_timer.setSingleShot(True)
        self.sync_timer.setInterval(0)
        self.sync_timer.timeout.connect(self.overlays.sync)
        self.action = QAction("&Live preview", window)
        self.action.setObjectName("live_preview")
        self.action.setCheckable(True)
        self.action.setChecked(False)
        self.action.setStatusTip(
            "Run one sample of the data set through the design as you edit it: each block "
            "shows its output, mean and spread; dead and saturated blocks are marked"
        )
        self.action.toggled.connect(self.set_enabled)
        window.addAction(self.action)
        if hasattr(window, "actions_by_name"):
            window.actions_by_name["live_preview"] = self.action
        menu = window_menu(window, "&View")
        if menu is not None:
            menu.addSeparator()
            menu.addAction(self.action)
        self.document.inferred.connect(self._edited)
        self.document.undo_stack.indexChanged.connect(self._edited)  # settings, freeze, weights
        self.document.project_replaced.connect(self._edited)
        self.document.positions_changed.connect(self._follow_scene)
        job_holder = self.__dict__  # the window may be gone when it is destroyed: no self
        window.destroyed.connect(lambda *_: cancel_job(job_holder))

    @property
    def enabled(self) -> bool:
        return self.action.isChecked()

    def set_enabled(self, on: bool) -> None:
        """Start previewing (now, then after each edit) or stop and clear the badges."""
        if self.action.isChecked() != on:
            self.action.setChecked(on)  # comes back here through toggled
            return
        self.generation += 1
        if on:
            self._launch()
        else:
            self.timer.stop()
            self.result = None
            self.overlays.clear()

    def _edited(self, *_args: object) -> None:
        if not self.enabled:
            return
        self.generation += 1
        self.timer.start()
        self.sync_timer.start()  # after the scene has followed the edit (new node items)

    def _follow_scene(self, *_args: object) -> None:
        if self.enabled:
            self.overlays.sync()

    def _launch(self) -> None:
        if not self.enabled:
            return
        if self.job is not None:
            self.again = True
            return
        from designer.preview.compute import compute_preview

        generation = self.generation
        graph = self.document.graph.to_data()
        training = dict(self.document.project.training)
        self.runs += 1
        self.job = run_in_background(
            lambda: compute_preview(graph, training),
            lambda result: self._done(generation, result),
            lambda error: self._done(generation, None, describe_error(error)),
        )

    def _done(self, generation: int, result: Any, failure: str = "") -> None:
        self.job = None
        if not self.enabled:
            return
        if generation != self.generation:
            self.dropped += 1  # an edit came after this run started: its result is stale
            self.again = False
            self._launch()
            return
        self.result = result
        error = failure or (result.error if result is not None else "")
        if error:
            self.overlays.clear()
            self.window.statusBar().showMessage(f"Live preview: {error}", 10_000)
        else:
            self.overlays.show(result.blocks)
            marked = sorted(n for n, b in result.blocks.items() if b.mark)
            text = f"Live preview of one sample ({result.label})"
            if marked:
                text += f": {len(marked)} block(s) dead or saturated ({', '.join(marked[:4])})"
            self.window.statusBar().showMessage(text, 6_000)
        self.shown.emit()

    def shutdown(self) -> None:
        """Stop previewing (the window closes): a run in flight is left to end unseen."""
        cancel_job(self.__dict__)
        self.timer.stop()
