"""The block palette: every catalog block type, grouped by category, searchable, draggable.

A search keeps the categories but puts the best matches first, ranked as the canvas's
search-to-add ranks them (``engine.block_search.match_rank``): a name or type id that is the
text, a common word for the block ("fc", "bn"), a name that starts with it, then a word of the
name or description that starts with it, then the text anywhere (searching "lin" lists Linear
before the blocks whose description says "linear" and the pooling blocks that merely contain
the letters).

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
from engine.block_search import NO_MATCH, match_rank
from engine.block_search import sort_key as _sort_key
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
        self._category_rank: dict[str, int] = {}
        self._populate()

    def _populate(self) -> None:
        specs = list(CATALOG)
        for rank, category in enumerate(_category_order(specs)):
            self._category_rank[category] = rank
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
        """Show only blocks matching ``text``, the best matches first (see ``match_rank``):
        within each category, and the categories by their best match."""
        needle = text.strip().lower()
        ranks: dict[QTreeWidgetItem, int | None] = {}
        categories: list[tuple[tuple[int, int], QTreeWidgetItem]] = []
        for index in range(self.tree.topLevelItemCount()):
            header = self.tree.topLevelItem(index)
            ranked = []
            for child_index in range(header.childCount()):
                item = header.child(child_index)
                spec = CATALOG.get(item.data(0, TYPE_ROLE))
                ranks[item] = rank = match_rank(spec, needle)
                ranked.append(((NO_MATCH if rank is None else rank, *_sort_key(spec)), item))
            ranked.sort(key=lambda pair: pair[0])
            self._reorder(header, [item for _key, item in ranked])
            best = ranked[0][0][0] if ranked else NO_MATCH
            ranks[header] = None if best == NO_MATCH else best
            categories.append(((best, self._category_rank[header.text(0)]), header))
        categories.sort(key=lambda pair: pair[0])
        self._reorder_top([header for _key, header in categories])
        for item, rank in ranks.items():  # after reordering: a moved row forgets it was hidden
            item.setHidden(rank is None)

    def _reorder(self, header: QTreeWidgetItem, items: list[QTreeWidgetItem]) -> None:
        """Put ``header``'s children in the order of ``items`` (nothing when they are)."""
        if [header.child(i) for i in range(header.childCount())] == items:
            return
        header.takeChildren()
        header.addChildren(items)

    def _reorder_top(self, headers: list[QTreeWidgetItem]) -> None:
        tree = self.tree
        if [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())] == headers:
            return
        current = tree.currentItem()
        while tree.topLevelItemCount():
            tree.takeTopLevelItem(0)
        tree.addTopLevelItems(headers)
        tree.expandAll()
        if current is not None:
            tree.setCurrentItem(current)

    def visible_types(self) -> list[str]:
        """The type_ids the filter leaves visible, in display order."""
        shown = []
        for index in range(self.tree.topLevelItemCount()):
            header = self.tree.topLevelItem(index)
            if header.isHidden():
                continue
            for child_index in range(header.childCount()):
                item = header.child(child_index)
                if not item.isHidden():
                    shown.append(item.data(0, TYPE_ROLE))
        return shown

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.block_activated.emit(type_id)
