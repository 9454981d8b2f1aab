"""The block palette: every catalog block type, grouped by category, searchable, draggable.

Dragging an entry starts a QDrag carrying ``MIME_BLOCK`` (the type_id) that the canvas accepts;
double-clicking (or Enter) emits ``block_activated(type_id)`` so the window adds the block at the
view's centre.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.mime import MIME_BLOCK
from engine.catalog import CATALOG, CATEGORY_ORDER, BlockSpec

TYPE_ROLE = Qt.ItemDataRole.UserRole


class BlockTree(QTreeWidget):
    """The tree of block types; its drags carry MIME_BLOCK."""

    def mimeTypes(self) -> list[str]:
        return [MIME_BLOCK]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:
        data = QMimeData()
        type_ids = [item.data(0, TYPE_ROLE) for item in items if item.data(0, TYPE_ROLE)]
        if type_ids:
            data.setData(MIME_BLOCK, type_ids[0].encode("utf-8"))
            data.setText(type_ids[0])
        return data

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


def _category_order(specs: list[BlockSpec]) -> list[str]:
    known = [c for c in CATEGORY_ORDER if any(s.category == c for s in specs)]
    extra = sorted({s.category for s in specs} - set(CATEGORY_ORDER))
    return known + extra


class Palette(QWidget):
    """Block types by category with a filter box."""

    block_activated = Signal(str)  # type_id: add it at the view's centre

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Search blocks…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.set_filter)
        self.tree = BlockTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.itemActivated.connect(self._on_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.tree)
        self.items: dict[str, QTreeWidgetItem] = {}
        self._populate()

    def _populate(self) -> None:
        specs = list(CATALOG)
        for category in _category_order(specs):
            header = QTreeWidgetItem(self.tree, [category])
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = header.font(0)
            font.setBold(True)
            header.setFont(0, font)
            for spec in sorted((s for s in specs if s.category == category), key=_sort_key):
                item = QTreeWidgetItem(header, [spec.display_name])
                item.setData(0, TYPE_ROLE, spec.type_id)
                item.setToolTip(0, f"<b>{spec.display_name}</b><br>{spec.description}")
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                self.items[spec.type_id] = item
        self.tree.expandAll()

    def set_filter(self, text: str) -> None:
        """Show only blocks whose name, id or description contains ``text``."""
        needle = text.strip().lower()
        for index in range(self.tree.topLevelItemCount()):
            header = self.tree.topLevelItem(index)
            shown = 0
            for child_index in range(header.childCount()):
                item = header.child(child_index)
                spec = CATALOG.get(item.data(0, TYPE_ROLE))
                haystack = f"{spec.display_name} {spec.type_id} {spec.description}".lower()
                hidden = bool(needle) and needle not in haystack
                item.setHidden(hidden)
                shown += not hidden
            header.setHidden(shown == 0)

    def visible_types(self) -> list[str]:
        """The type_ids the filter leaves visible, in display order."""
        return [
            type_id
            for type_id, item in self.items.items()
            if not item.isHidden() and not item.parent().isHidden()
        ]

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.block_activated.emit(type_id)


def _sort_key(spec: BlockSpec) -> tuple[int, str]:
    order = {"input": 0, "output": 1}
    return order.get(spec.type_id, 2), spec.display_name.lower()
