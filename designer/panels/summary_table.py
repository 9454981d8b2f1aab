"""The layer summary (like torchinfo's): name, type, output shape, parameters and MACs per block,
with totals and the memory of the activations. A table model over ``engine.summary.layer_rows``,
reset once per inference, so 500 rows stay instant. Clicking a row selects the block.

Rows follow the design's order (``design_order``): the order of the blocks in the design,
moved only where a wire requires it. The evaluation order lists blocks by generation, which
puts every unwired block near the top: a block just added showed as the second row and jumped
to the bottom once wired."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from designer.document import Document
from engine import MACS_CONVENTION, Graph, InferenceResult, fmt_shape
from engine.digraph import stable_topological_order
from engine.summary import LayerRow, activation_bytes, layer_rows

HEADERS = ("Layer", "Type", "Output shape", "Params", "MACs", "Memory")
MEMORY_TIP = (
    "Training memory of the activations each block keeps for the backward pass, at the "
    "training settings' batch size and precision (engine.analysis.memory)"
)
ERROR_BRUSH = QBrush(QColor("#d32f2f"))
Index = QModelIndex | QPersistentModelIndex


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _memory(value: int | None) -> str:
    from engine.analysis.memory_sizes import format_bytes

    return "" if value is None else format_bytes(value)


def design_order(graph: Graph, in_cycles: set[str]) -> list[str]:
    """The blocks outside cycles in the design's order, each after the blocks feeding it."""
    successors: dict[str, dict[str, None]] = {
        name: {} for name in graph.names if name not in in_cycles
    }
    for edge in graph.edges:
        if edge.src in successors and edge.dst in successors:
            successors[edge.src][edge.dst] = None
    return stable_topological_order(successors)


def in_design_order(graph: Graph, rows: list[LayerRow], in_cycles: set[str]) -> list[LayerRow]:
    """``rows`` in ``design_order``; rows of blocks in cycles keep their place at the end."""
    place = {name: i for i, name in enumerate(design_order(graph, in_cycles))}
    last = len(place)
    return sorted(rows, key=lambda row: place.get(row.name, last))


class SummaryModel(QAbstractTableModel):
    """One row per block in evaluation order."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[LayerRow] = []
        self.failed: set[str] = set()
        self._row_of: dict[str, int] = {}
        self.memory: dict[str, int] = {}  # training activations per block, in bytes

    def set_memory(self, memory: dict[str, int]) -> None:
        """Show the activations' bytes per block (the Memory column)."""
        self.memory = memory
        if self.rows:
            column = len(HEADERS) - 1
            last = self.index(len(self.rows) - 1, column)
            self.dataChanged.emit(self.index(0, column), last)

    def set_rows(self, rows: list[LayerRow], failed: set[str]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self.rows, self.failed = rows, failed
        self._row_of = {row.name: index for index, row in enumerate(rows)}
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return MEMORY_TIP if section == len(HEADERS) - 1 else None
        return None

    def data(self, index: Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                row.name,
                row.type,
                fmt_shape(row.output_shape),
                _count(row.params),
                _count(row.macs),
                _memory(self.memory.get(row.name)),
            )[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and row.name in self.failed:
            return ERROR_BRUSH
        if role == Qt.ItemDataRole.ToolTipRole and column == 0 and row.group:
            return f"in group {row.group}"
        return None

    def row_of(self, name: str) -> int:
        """The row of block ``name`` (-1 if absent)."""
        return self._row_of.get(name, -1)


class SummaryTable(QWidget):
    """The table and a totals line below it."""

    node_activated = Signal(str)  # a row was clicked: centre the canvas on it

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.model = SummaryModel(self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(20)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate((200, 150, 130, 130, 150, 100)):
            self.view.setColumnWidth(column, width)
        self.view.clicked.connect(self._on_clicked)
        self.totals = QLabel(self)
        self.totals.setObjectName("summary_totals")
        self.totals.setToolTip(MACS_CONVENTION)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        layout.addWidget(self.totals)
        document.inferred.connect(self.update_from)
        document.selection_changed.connect(self._show_selection)
        self.update_from(document.result)
        from designer.memory.plans import plans_of

        self.plans = plans_of(document)
        self.plans.changed.connect(self._show_memory)

    def update_from(self, result: InferenceResult) -> None:
        """Rebuild the rows and totals from an inference result."""
        failed = {name for name, node in result.nodes.items() if node.error}
        graph = self.document.graph
        _order, in_cycles = graph.evaluation_order()
        rows = in_design_order(graph, layer_rows(graph, result), in_cycles)
        self.model.set_rows(rows, failed)
        self._show_totals(result)
        self._show_selection(self.document.selection)

    def _frozen_text(self, result: InferenceResult) -> str:
        """ " (trainable N, frozen M)" where the training settings freeze blocks."""
        from designer.transfer.frozen import frozen_names

        frozen = frozen_names(self.document)
        if not frozen:
            return ""
        count = sum(result.nodes[n].params or 0 for n in frozen if n in result.nodes)
        return f" (trainable {result.total_params - count:,}, frozen {count:,})"

    def _show_memory(self) -> None:
        plan = self.plans.current
        memory = {} if plan is None else {x.name: x.activations for x in plan.plan.layers}
        self.model.set_memory(memory)
        self._show_totals(self.document.result)

    def _show_totals(self, result: InferenceResult) -> None:
        """The totals line: parameters (trainable and frozen), MACs, activations per sample
        and, once planned, the training memory at the settings' batch."""
        memory = activation_bytes(result) / 2**20
        problems = f", {len(result.errors)} error(s)" if result.errors else ""
        text = (
            f"Total params: {result.total_params:,}{self._frozen_text(result)}   "
            f"Total MACs: {result.total_macs:,}   "
            f"Activations: {memory:.2f} MB per sample (float32){problems}"
        )
        plans = getattr(self, "plans", None)
        plan = plans.current if plans is not None else None
        if plan is not None:
            from engine.analysis.memory_sizes import format_bytes

            s = plan.settings
            text += (
                f"   Training memory: {format_bytes(plan.total_training)} at batch {s.batch} "
                f"({s.optimizer}, {s.precision}; activations "
                f"{format_bytes(plan.plan.activations)})"
            )
        self.totals.setText(text)

    def _on_clicked(self, index: QModelIndex) -> None:
        name = self.model.rows[index.row()].name
        self.document.set_selection([name])
        self.node_activated.emit(name)

    def _show_selection(self, names: list[str]) -> None:
        row = self.model.row_of(names[0]) if len(names) == 1 else -1
        selection = self.view.selectionModel()
        if row < 0 and not selection.hasSelection():
            return  # nothing to show or clear (as at start-up, before the first paint)
        selection.blockSignals(True)
        if row < 0:
            self.view.clearSelection()
        else:
            self.view.selectRow(row)
            self.view.scrollTo(self.model.index(row, 0))
        selection.blockSignals(False)
        self.view.viewport().update()
