"""The dialog asking for the name of a new group (Group ▸ Group selection, the canvas menu).

Its title is one short word that a window manager's title bar shows whole, the dialog is wide
enough for the title bar's buttons, and the name field starts with a free name (group1,
group2, ...) selected, so typing replaces it and Enter accepts it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QWidget

from designer.canvas.editing import default_group_name
from designer.document import Document

TITLE = "Group"
LABEL = "Name of the new group (letters, digits and underscores):"
MIN_WIDTH = 380


def group_name_dialog(parent: QWidget | None, document: Document) -> QInputDialog:
    """The dialog for grouping the document's selection, not yet shown."""
    dialog = QInputDialog(parent)
    dialog.setObjectName("group_name_dialog")
    dialog.setWindowTitle(TITLE)
    dialog.setLabelText(LABEL)
    dialog.setTextValue(default_group_name(document.graph, document.selection))
    dialog.setMinimumWidth(MIN_WIDTH)
    return dialog


def ask_group_name(parent: QWidget | None, document: Document) -> str | None:
    """The name typed for a new group of the selection; None when cancelled or empty."""
    dialog = group_name_dialog(parent, document)
    try:
        if not dialog.exec():
            return None
        return dialog.textValue().strip() or None
    finally:
        dialog.deleteLater()
