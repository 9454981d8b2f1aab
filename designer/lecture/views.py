"""One entry point for the lecture lab's views (issue 18): step-through, backprop, BatchNorm,
dropout.

``open_lecture_view(window, kind, node)`` opens the view ``kind`` for block ``node`` of
``window.document`` and returns it (shown, deleted on close). A block the view cannot show or a
design that no longer validates gives a view with a message, never an exception; an unknown
``kind`` gives a message view too. The canvas's context menu and the inspector offer the views
through :func:`lecture_actions`; the Lessons menu calls :func:`open_lecture_view`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from designer.lecture.step_model import STEPPABLE

KINDS = ("step", "backprop", "batchnorm", "dropout")
TITLES = {
    "step": "Step through…",
    "backprop": "Backprop…",
    "batchnorm": "BatchNorm: training vs inference…",
    "dropout": "Dropout: training vs test…",
}
BACKPROP_TYPES = ("conv2d", "maxpool2d", "avgpool2d")
BATCHNORM_TYPES = ("batchnorm",)
DROPOUT_TYPES = ("dropout", "dropout2d")


def kinds_for(type_id: str) -> list[str]:
    """The views that can show a block of ``type_id``, in menu order."""
    found = []
    if type_id in STEPPABLE:
        found.append("step")
    if type_id in BACKPROP_TYPES:
        found.append("backprop")
    if type_id in BATCHNORM_TYPES:
        found.append("batchnorm")
    if type_id in DROPOUT_TYPES:
        found.append("dropout")
    return found


class MessageView(QDialog):
    """A view that could not be built: says why and how to fix it."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lecture_message_view")
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        self.message = QLabel(text, self)
        self.message.setObjectName("lecture_view_message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.resize(520, 160)


def _build(window: Any, kind: str, node: str | None, parent: QWidget | None) -> QWidget:
    document = window.document
    if kind not in KINDS:
        return MessageView(
            "Lecture view",
            f"Lecture view: unknown kind. Received: kind={kind!r}. Use one of {', '.join(KINDS)}.",
            parent,
        )
    if node is None or node not in document.graph:
        return MessageView(
            "Lecture view",
            f"Lecture view ({kind}): select a block first. Received: node={node!r}. "
            "Select a block on the canvas, then open the view from its context menu.",
            parent,
        )
    if kind == "step":
        from designer.lecture.step_view import StepDialog

        return StepDialog.for_node(document, node, parent, window)
    if kind == "backprop":
        from designer.lecture.backprop_view import BackpropView

        return BackpropView(window, node, parent)
    if kind == "batchnorm":
        from designer.lecture.batchnorm_view import BatchNormView

        return BatchNormView(window, node, parent)
    from designer.lecture.dropout_view import DropoutView

    return DropoutView(window, node, parent)


def open_lecture_view(
    window: Any, kind: str, node: str | None, parent: QWidget | None = None
) -> QWidget:
    """Open view ``kind`` ("step", "backprop", "batchnorm", "dropout") for block ``node`` of
    ``window.document`` (``window`` is the main window, or any object with a ``document``; its
    ``run_roots`` or ``training`` say where the trained runs are). ``parent``: the view's
    parent widget (default: ``window`` when it is a widget). Returns the shown view; problems
    are written in it, never raised."""
    if parent is None and isinstance(window, QWidget):
        parent = window
    view = _build(window, kind, node, parent)
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    view.show()
    return view


def lecture_actions(window: Any, name: str) -> list[tuple[str, Callable[[], object]]]:
    """Context-menu entries (text, callback) for block ``name``: the views that can show it."""
    node = window.document.graph.node(name)
    return [
        (TITLES[kind], lambda k=kind: open_lecture_view(window, k, name))
        for kind in kinds_for(node.type_id)
    ]
