"""The layer summary (like torchinfo's): name, type, output shape, parameters and MACs per block,
with totals and the memory of the activations. A table model over ``engine.summary.layer_rows``:
reset when the design's blocks or wires change; after an edit that keeps them (a parameter, a
bypass), only the rows of the blocks the incremental inference changed are replaced, each
announced by ``dataChanged``, and the totals move by those blocks' figures, so a 5,000-row
summary follows an edit in well under a millisecond. Clicking a row selects the block.

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
    QTableView,
    QVBoxLayout,
    QWidget,
)

from designer.document import Document
from designer.lecture.summary_fields import LazyFields
from designer.panels.text_line import TextLine
from engine import MACS_CONVENTION, Graph, InferenceResult, fmt_shape
from engine.digraph import stable_topological_order
from engine.summary import (
    BYTES_PER_VALUE,
    LayerRow,
    layer_row,
    layer_rows,
    node_activation_values,
)

HEADERS = ("Layer", "Type", "Output shape", "Params", "MACs", "RF", "Jump", "Memory")
RF_COLUMN, JUMP_COLUMN, MEMORY_COLUMN = 5, 6, 7
FIELD_TIP = (
    "Receptive field on the input image and jump (effective stride), by the standard "
    "recurrence (engine.analysis.receptive_field); worked out for the rows shown"
)
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
        self.fields = LazyFields()  # the RF and Jump columns, worked out for rows drawn

    def set_memory(self, memory: dict[str, int]) -> None:
        """Show the activations' bytes per block (the Memory column)."""
        self.memory = memory
        if self.rows:
            column = MEMORY_COLUMN
            last = self.index(len(self.rows) - 1, column)
            self.dataChanged.emit(self.index(0, column), last)

    def show_fields(self, names: set[str] | None) -> None:
        """Redraw the RF and Jump cells of blocks ``names`` (their field changed)."""
        for name in names or ():
            row = self._row_of.get(name, -1)
            if row >= 0:
                self.dataChanged.emit(self.index(row, RF_COLUMN), self.index(row, JUMP_COLUMN))

    def set_rows(self, rows: list[LayerRow], failed: set[str]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self.rows, self.failed = rows, failed
        self._row_of = {row.name: index for index, row in enumerate(rows)}
        self.endResetModel()

    def update_rows(self, rows: list[LayerRow], failed: dict[str, bool]) -> int:
        """Replace the rows of the same blocks (the design's structure is unchanged) and tell
        the view which rows changed; returns how many did."""
        changed = 0
        last = len(HEADERS) - 1
        for row in rows:
            index = self._row_of.get(row.name, -1)
            was_failed = row.name in self.failed
            if index < 0 or (self.rows[index] == row and was_failed == failed[row.name]):
                continue
            self.rows[index] = row
            if failed[row.name]:
                self.failed.add(row.name)
            else:
                self.failed.discard(row.name)
            self.dataChanged.emit(self.index(index, 0), self.index(index, last))
            changed += 1
        return changed

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return {MEMORY_COLUMN: MEMORY_TIP, RF_COLUMN: FIELD_TIP, JUMP_COLUMN: FIELD_TIP}.get(
                section
            )
        return None

    def data(self, index: Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column in (RF_COLUMN, JUMP_COLUMN):
                return self.fields.texts(row.name)[column - RF_COLUMN]
            return (
                row.name,
                row.type,
                fmt_shape(row.output_shape),
                _count(row.params),
                _count(row.macs),
                "",
                "",
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


class Sums:
    """The totals line's sums (parameters, MACs, activation values), kept per block so that an
    incremental result updates them by its changed blocks instead of adding up every block."""

    def __init__(self) -> None:
        self.params = self.macs = self.values = 0
        self._by_node: dict[str, tuple[int, int, int]] = {}

    def _of(self, result: InferenceResult, name: str) -> tuple[int, int, int]:
        node = result.nodes.get(name)
        if node is None:
            return (0, 0, 0)
        return (node.params or 0, node.macs or 0, node_activation_values(result, name))

    def reset(self, result: InferenceResult) -> None:
        """Add up every block of ``result``."""
        self._by_node = {name: self._of(result, name) for name in result.nodes}
        self.params = sum(p for p, _m, _v in self._by_node.values())
        self.macs = sum(m for _p, m, _v in self._by_node.values())
        self.values = sum(v for _p, _m, v in self._by_node.values())

    def update(self, result: InferenceResult, names: list[str]) -> None:
        """Take the new figures of blocks ``names`` (the others are unchanged)."""
        for name in names:
            old = self._by_node.get(name, (0, 0, 0))
            new = self._by_node[name] = self._of(result, name)
            self.params += new[0] - old[0]
            self.macs += new[1] - old[1]
            self.values += new[2] - old[2]


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
        for column, width in enumerate((200, 150, 130, 130, 150, 90, 70, 100)):
            self.view.setColumnWidth(column, width)
        self.view.clicked.connect(self._on_clicked)
        # (a QLabel's new text, at every edit, laid the whole window out again: TextLine)
        self.totals = TextLine(self, tooltip=MACS_CONVENTION)
        self.totals.setObjectName("summary_totals")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        layout.addWidget(self.totals)
        document.inferred.connect(self.update_from)
        document.selection_changed.connect(self._show_selection)
        self._shown: tuple[InferenceResult | None, Graph | None, int] = (None, None, -1)
        self._regrouped = False
        self.sums = Sums()
        self.update_from(document.result)
        from designer.memory.plans import plans_of

        self.plans = plans_of(document)
        self.plans.changed.connect(self._show_memory)

    def update_from(self, result: InferenceResult) -> None:
        """Show an inference result: after an incremental one derived from the result shown,
        with the same blocks and wires, only the rows of the blocks it changed (their
        ``dataChanged``); otherwise every row again."""
        graph = self.document.graph
        names = self._changed_names(result)
        self.model.show_fields(self.model.fields.update(graph, result))
        if names is None:
            failed = {name for name, node in result.nodes.items() if node.error}
            _order, in_cycles = graph.evaluation_order()
            rows = in_design_order(graph, layer_rows(graph, result), in_cycles)
            self.model.set_rows(rows, failed)
            self.sums.reset(result)
        else:
            names = [name for name in names if name in result.nodes]
            self.model.update_rows(
                [layer_row(graph, result, name) for name in names],
                {name: bool(result.nodes[name].error) for name in names},
            )
            self.sums.update(result, names)
        self._shown = (result, graph, graph.structure_version)
        self._regrouped = False
        self._show_totals(result)
        self._show_selection(self.document.selection)

    def _changed_names(self, result: InferenceResult) -> frozenset[str] | None:
        """The blocks whose rows may differ from those shown, or None: every row."""
        shown, graph, version = self._shown
        current = self.document.graph
        if graph is not current:
            current.events.groups_changed.connect(self._on_regrouped)
            return None
        if result.changed is None or result.base is None or self._regrouped:
            return None
        if result.base() is not shown or current.structure_version != version:
            return None
        return result.changed

    def _on_regrouped(self, *_args: object) -> None:
        if self.document.graph is self._shown[1]:
            self._regrouped = True  # the group column of any row may change: all again

    def _frozen_text(self, result: InferenceResult, total_params: int) -> str:
        """ " (trainable N, frozen M)" where the training settings freeze blocks."""
        from designer.transfer.frozen import frozen_names

        frozen = frozen_names(self.document)
        if not frozen:
            return ""
        count = sum(result.nodes[n].params or 0 for n in frozen if n in result.nodes)
        return f" (trainable {total_params - count:,}, frozen {count:,})"

    def _show_memory(self) -> None:
        plan = self.plans.current
        memory = {} if plan is None else {x.name: x.activations for x in plan.plan.layers}
        self.model.set_memory(memory)
        self._show_totals(self.document.result)

    def _show_totals(self, result: InferenceResult) -> None:
        """The totals line: parameters (trainable and frozen), MACs, activations per sample
        and, once planned, the training memory at the settings' batch."""
        sums = self.sums
        memory = sums.values * BYTES_PER_VALUE / 2**20
        problems = f", {len(result.errors)} error(s)" if result.errors else ""
        text = (
            f"Total params: {sums.params:,}{self._frozen_text(result, sums.params)}   "
            f"Total MACs: {sums.macs:,}   "
            f"Activations: {memory:.2f} MB per sample (float32){problems}"
        )
        plans = getattr(self, "plans", None)
        plan = plans.current if plans is not None else None
        if plan is not None:
            from designer.memory.device import fits_text
            from engine.analysis.memory_sizes import format_bytes

            s = plan.settings
            text += (
                f"   Training memory: {format_bytes(plan.total_training)} at batch {s.batch}"
                f"{fits_text(plan)} ({s.optimizer}, {s.precision}; activations "
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
        if row >= 0 and [i.row() for i in selection.selectedRows()] == [row]:
            return  # shown already (an edit of the selected block): no repaint of the table
        selection.blockSignals(True)
        if row < 0:
            self.view.clearSelection()
        else:
            self.view.selectRow(row)
            self.view.scrollTo(self.model.index(row, 0))
        selection.blockSignals(False)
        self.view.viewport().update()
