"""The problems list: every diagnostic of the latest inference, errors first.

Clicking a problem selects its block (and ``node_activated`` lets the window centre the canvas on
it); a problem with a quick fix has a "Fix: …" button and a context-menu action that apply it
through ``Document.apply_fix`` (one undo step).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import (
    QHeaderView,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.document import Document
from engine import DesignerError, Diagnostic, InferenceResult, Severity

COLOURS = {Severity.ERROR: QColor("#d32f2f"), Severity.WARNING: QColor("#b26a00")}
COLUMNS = ("", "Block", "Problem", "Quick fix")


class ProblemsList(QWidget):
    """Diagnostics with their node, message and quick fix."""

    node_activated = Signal(str)
    count_changed = Signal(int, int)  # errors, warnings
    status_message = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.diagnostics: list[Diagnostic] = []
        self._built = False
        self.tree = QTreeWidget(self)
        self.tree.setRootIsDecorated(False)
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setWordWrap(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemClicked.connect(self._on_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        document.inferred.connect(self.update_from)
        self.update_from(document.result)

    def update_from(self, result: InferenceResult) -> None:
        """Show the diagnostics of ``result``, errors first. The list is built again only when
        they differ from those shown (most edits of a big design change none)."""
        diagnostics = sorted(result.diagnostics, key=lambda d: d.severity is not Severity.ERROR)
        if diagnostics == self.diagnostics and self._built:
            self.count_changed.emit(len(result.errors), len(result.warnings))
            return
        self.diagnostics = diagnostics
        self._built = True
        self.tree.clear()
        icons = self._severity_icons() if self.diagnostics else {}
        for index, diagnostic in enumerate(self.diagnostics):
            item = QTreeWidgetItem(
                self.tree, ["", diagnostic.node or "(network)", diagnostic.message]
            )
            item.setIcon(0, icons[diagnostic.severity])
            item.setToolTip(0, diagnostic.severity.value)
            item.setToolTip(2, diagnostic.message)
            item.setData(0, Qt.ItemDataRole.UserRole, index)
            brush = QBrush(COLOURS[diagnostic.severity])
            for column in (1, 2):
                item.setForeground(column, brush)
            if diagnostic.fix is not None:
                button = QPushButton(f"Fix: {diagnostic.fix.label}", self.tree)
                button.setObjectName("quick_fix")
                button.clicked.connect(lambda _=False, d=diagnostic: self.apply_fix(d))
                self.tree.setItemWidget(item, 3, button)
        self.count_changed.emit(len(result.errors), len(result.warnings))

    def _severity_icons(self) -> dict[Severity, QIcon]:
        # QStyle is imported here, not at the top: PySide6 makes its ~700 enum members the
        # moment the name is imported (about 5 ms of start-up), and a design without problems
        # never needs the icons
        from PySide6.QtWidgets import QStyle

        style = self.style()
        return {
            Severity.ERROR: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
            Severity.WARNING: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
        }

    def diagnostic_at(self, item: QTreeWidgetItem) -> Diagnostic:
        """The diagnostic shown by ``item``."""
        return self.diagnostics[item.data(0, Qt.ItemDataRole.UserRole)]

    def _on_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        node = self.diagnostic_at(item).node
        if node is not None and node in self.document.graph:
            self.document.set_selection([node])
            self.node_activated.emit(node)

    def apply_fix(self, diagnostic: Diagnostic) -> None:
        """Apply the diagnostic's quick fix as one undo step."""
        if diagnostic.fix is None:
            return
        try:
            self.document.apply_fix(diagnostic.fix)
        except DesignerError as error:  # the graph changed since; tell, do not crash
            self.status_message.emit(f"Quick fix failed: {error}")

    def _context_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        diagnostic = self.diagnostic_at(item)
        menu = QMenu(self)
        if diagnostic.node is not None:
            menu.addAction("Select block", lambda: self._on_clicked(item, 0))
        if diagnostic.fix is not None:
            menu.addAction(f"Quick fix: {diagnostic.fix.label}", lambda: self.apply_fix(diagnostic))
        if not menu.isEmpty():
            menu.exec(self.tree.viewport().mapToGlobal(pos))
