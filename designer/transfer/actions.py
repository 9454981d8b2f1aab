"""The window's transfer-learning actions:

- File ▸ Load weights…: a state dict or checkpoint is read and matched on a worker thread
  (torch loads there), the report is shown, and Apply records the file in the training
  settings (``weights``, one undo step) so the next run starts from it;
- File ▸ Replace classifier…: the last Linear layer's ``out_features`` set to N (one undo step);
- Freeze / Unfreeze on the context menu of blocks and groups (one undo step, kept in the
  training settings' ``freeze``), frozen blocks hatched with a lock (``FrozenMark``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction

from designer.canvas.preview_overlay import NodeOverlays
from designer.dialogs.background import (
    BusyIndicator,
    cancel_job,
    describe_error,
    run_in_background,
)
from designer.menus import window_menu
from designer.transfer import frozen
from designer.transfer.marks import FrozenMark

WEIGHTS_FILTER = "PyTorch weights (*.pt *.pth *.bin *.ckpt);;All files (*)"


def match_weights(graph_data: dict[str, Any], path: str) -> tuple[Any, str]:
    """(the report, "" or why the weights cannot be used): worker-thread work, torch."""
    from engine.training.model import graph_from_data
    from engine.transfer import (
        TransferError,
        check_report,
        classifier_prefix,
        design_shapes,
        match,
        read_weights,
    )

    graph = graph_from_data(graph_data)
    try:
        weights = read_weights(path)
        report = match(weights, design_shapes(graph), classifier_prefix(graph))
        check_report(report, strict=False)
    except TransferError as error:
        return error.report, str(error)
    return report, ""


class TransferActions(QObject):
    """Load weights, Replace classifier, Freeze/Unfreeze, and the frozen marks."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.job: Any = None
        self.dialog: Any = None  # the report dialog on screen
        self.marks = NodeOverlays(window.canvas.canvas, FrozenMark)
        self.group_marks = NodeOverlays(window.canvas.canvas, FrozenMark, source="groups")
        self.mark_timer = QTimer(self)  # owned: never fires once the window is gone
        self.mark_timer.setSingleShot(True)
        self.mark_timer.setInterval(0)
        self.mark_timer.timeout.connect(self.show_marks)
        self.load_action = self._action("load_weights", "Load &weights…", self.load_weights)
        self.load_action.setStatusTip("Start the next run from pretrained weights (a state dict)")
        self.clear_action = self._action(
            "clear_weights", "Start from random &weights", self.clear_weights
        )
        self.clear_action.setStatusTip("The next run starts from random weights again")
        self.classifier_action = self._action(
            "replace_classifier", "Replace &classifier…", self.replace_classifier
        )
        self.classifier_action.setStatusTip("Set the last Linear layer to N classes")
        menu = window_menu(window, "&File")
        if menu is not None:
            before = window.actions_by_name.get("quit")
            menu.insertAction(before, self.load_action)
            menu.insertAction(before, self.clear_action)
            menu.insertAction(before, self.classifier_action)
            menu.insertSeparator(before)
        self._extend_context_menus(window.canvas)
        doc = self.document
        doc.inferred.connect(self._later_marks)
        doc.undo_stack.indexChanged.connect(self._later_marks)
        doc.project_replaced.connect(self._later_marks)
        doc.positions_changed.connect(self._later_marks)
        doc.collapsed_changed.connect(self._later_marks)
        holder = self.__dict__  # the window may be gone when it is destroyed: no self
        window.destroyed.connect(lambda *_: cancel_job(holder))
        self._later_marks()

    def _action(self, name: str, text: str, slot: Any) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)
        self.window.actions_by_name[name] = action
        return action

    # ----- freezing ------------------------------------------------------------------------
    def _extend_context_menus(self, view: Any) -> None:
        """Add Freeze/Unfreeze to the canvas's block and group menus."""
        node_actions, group_actions = view.node_actions, view.group_actions
        doc = self.document

        def with_freeze(name: str) -> list[Any]:
            actions = node_actions(name)
            chosen = [n for n in doc.selection if n in doc.graph] or [name]
            if name in frozen.frozen_names(doc):
                actions.append(
                    ("Unfreeze (train again)", lambda: frozen.unfreeze_blocks(doc, chosen))
                )
            else:
                actions.append(("Freeze (do not train)", lambda: frozen.freeze(doc, chosen)))
            return actions

        def group_with_freeze(group: str) -> list[Any]:
            actions = group_actions(group)
            members = set(doc.graph.group_members(group))
            if members and members <= frozen.frozen_names(doc):
                actions.append(("Unfreeze group", lambda: frozen.unfreeze_group(doc, group)))
            else:
                actions.append(("Freeze group (do not train)", lambda: frozen.freeze(doc, [group])))
            return actions

        view.node_actions = with_freeze
        view.group_actions = group_with_freeze

    def _later_marks(self, *_args: object) -> None:
        self.mark_timer.start()  # after the scene has followed the edit
        self.clear_action.setEnabled(bool(self.document.project.training.get("weights")))

    def show_marks(self) -> None:
        """Hatch the frozen blocks (and only those), and the collapsed groups holding them."""
        names = frozen.frozen_names(self.document)
        self.marks.show(dict.fromkeys(names))
        groups: dict[str, Any] = {}
        if names:
            for group, item in self.window.canvas.canvas.groups.items():
                count = sum(member in names for member in item.members)
                if count:
                    groups[group] = (count, len(item.members))
        self.group_marks.show(groups)

    # ----- weights -------------------------------------------------------------------------
    def load_weights(self, path: str | None = None) -> bool:
        """Ask for a weights file (unless ``path``), match it on a worker thread, then show the
        report; False when nothing was chosen or a load is already running."""
        if self.job is not None:
            self.window.statusBar().showMessage("Weights are being read: wait for the report")
            return False
        if path is None:
            from PySide6.QtWidgets import QFileDialog

            path, _ = QFileDialog.getOpenFileName(self.window, "Load weights", "", WEIGHTS_FILTER)
        if not path:
            return False
        busy = BusyIndicator(self.window, f"Reading weights {path}… (PyTorch loads first)")
        graph = self.document.graph.to_data()
        version = self.document.graph.version

        def done(value: Any) -> None:
            self.job = None
            busy.stop()
            report, refusal = value
            if self.document.graph.version != version:  # the design changed: match again
                self.load_weights(path)
                return
            self.show_report(str(Path(path).expanduser().resolve()), report, refusal)

        def failed(error: Exception) -> None:
            self.job = None
            busy.stop()
            self.show_report(path, None, describe_error(error))

        self.job = run_in_background(lambda: match_weights(graph, path), done, failed)
        return True

    def show_report(self, path: str, report: Any, refusal: str) -> None:
        """The report dialog (window-modal, not blocking); Apply records the weights."""
        from designer.transfer.report_dialog import WeightsReportDialog

        self.dialog = WeightsReportDialog(self.window, report, refusal)
        self.dialog.accepted.connect(lambda: self.apply_weights(path) if not refusal else None)
        self.dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        self.dialog.open()

    def apply_weights(self, path: str) -> None:
        """The next run starts from ``path`` (one undo step)."""
        doc = self.document
        if doc.project.training.get("weights") != path:
            doc.edit("Load weights", lambda: doc.set_entry("training", "weights", path))
        self.window.statusBar().showMessage(f"The next run starts from the weights {path}", 8000)

    def clear_weights(self) -> None:
        """The next run starts from random weights (one undo step)."""
        from designer.commands import MISSING

        doc = self.document
        if doc.project.training.get("weights"):
            doc.edit(
                "Start from random weights", lambda: doc.set_entry("training", "weights", MISSING)
            )
        self.window.statusBar().showMessage("The next run starts from random weights", 8000)

    # ----- classifier ----------------------------------------------------------------------
    def replace_classifier(self, classes: int | None = None) -> bool:
        """Set the last Linear layer to ``classes`` outputs (asked for when None)."""
        from engine.errors import DesignerError
        from engine.transfer import replace_classifier

        graph = self.document.graph
        linears = [n for n in self.document.result.order if graph.node(n).type_id == "linear"]
        if classes is None:
            from PySide6.QtWidgets import QInputDialog

            current = graph.node(linears[-1]).params.get("out_features", 10) if linears else 10
            classes, ok = QInputDialog.getInt(
                self.window, "Replace classifier", "Classes:", int(current), 1, 1_000_000
            )
            if not ok:
                return False
        try:
            name = self.document.run_edit(
                f"Replace classifier ({classes} classes)",
                lambda g: replace_classifier(g, classes),
            )
        except DesignerError as error:
            self.window.statusBar().showMessage(f"Cannot replace the classifier: {error}", 10_000)
            return False
        self.window.statusBar().showMessage(f"{name} now gives {classes} scores", 8000)
        return True

    def shutdown(self) -> None:
        """Skip the report of a weights file still being read (the window closes)."""
        cancel_job(self.__dict__)
