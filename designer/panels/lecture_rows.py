"""The inspector's lecture rows: receptive field, CNN vs MLP, and the lecture tools of a block.

For every block: its receptive field, jump (effective stride) and start, from
``engine.analysis.receptive_field``. For a Conv2d: the lecture's three rows (dense, locally
connected, convolution: weights, biases, parameters, MACs) with the ratios, from
``engine.analysis.equivalents``, and a one-click "Replace with locally connected" (one undo
step). For a sliding-window block: "Step through…", which opens the step-through view.
Everything is recomputed from the document's latest inference, so it follows every edit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from designer.document import Document
from designer.lecture.replace import REPLACE_NOTE, replace_with_locally_connected
from designer.lecture.replace_dense import DENSE_NOTE, replace_with_dense
from designer.lecture.step_model import STEPPABLE
from designer.lecture.views import TITLES, kinds_for, open_lecture_view
from engine import DesignerError, InferenceResult
from engine.analysis.equivalents import Equivalents, node_equivalents
from engine.analysis.receptive_field import Field, fraction_text, pair_text
from engine.analysis.receptive_incremental import ReceptiveFields

COLUMNS = ("weights", "biases", "params", "macs")
HEADERS = ("Weights", "Biases", "Params", "MACs")
LAYERS = ("Dense", "Local", "Conv")


def _ratio(value: float) -> str:
    return "∞" if not math.isfinite(value) else f"{value:,.1f}×"


class LectureRows(QWidget):
    """Receptive field and (for a Conv2d) the dense / LC / conv rows of one block."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.node_name: str | None = None
        self.field: Field | None = None
        self.equivalents: Equivalents | None = None
        self._fields_for: InferenceResult | None = None
        self._fields: dict[str, Field | None] = {}
        self._kept: ReceptiveFields | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.field_label = QLabel(self)
        self.field_label.setObjectName("receptive_field")
        self.field_label.setWordWrap(True)
        self.field_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.field_label)
        self.title = QLabel("<b>CNN vs MLP</b> (the lecture's three layers at this size)", self)
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.table = QLabel(self)  # rows: weights, biases, params, MACs; columns: the layers
        self.table.setObjectName("equivalents")
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table.setToolTip(
            "Dense (MLNN): every input value to every output value. Locally connected "
            "(MLNN-LC): the same windows, unshared weights and biases per output position. "
            "Convolution (MLNN-LC-PS): one shared kernel per output channel."
        )
        self.shown: dict[tuple[int, str], int] = {}  # what the table shows, by (row, column)
        layout.addWidget(self.table)
        self.ratios = QLabel(self)
        self.ratios.setObjectName("equivalent_ratios")
        self.ratios.setWordWrap(True)
        layout.addWidget(self.ratios)
        buttons = QVBoxLayout()
        self.replace_lc = QPushButton("Replace with locally connected", self)
        self.replace_lc.setObjectName("replace_locally_connected")
        self.replace_lc.setToolTip(REPLACE_NOTE)
        self.replace_lc.clicked.connect(self._replace_lc)
        buttons.addWidget(self.replace_lc)
        self.replace_dense = QPushButton("Replace with dense equivalent", self)
        self.replace_dense.setObjectName("replace_dense")
        self.replace_dense.setToolTip(DENSE_NOTE)
        self.replace_dense.clicked.connect(lambda: self._replace(replace_with_dense))
        buttons.addWidget(self.replace_dense)
        self.step_button = QPushButton("Step through…", self)
        self.step_button.setObjectName("step_through")
        self.step_button.clicked.connect(self.open_step_through)
        buttons.addWidget(self.step_button)
        self.view_buttons: dict[str, QPushButton] = {}  # the other lecture views of the block
        for kind in ("backprop", "batchnorm", "dropout"):
            button = QPushButton(TITLES[kind], self)
            button.setObjectName(f"lecture_{kind}")
            button.clicked.connect(lambda _=False, k=kind: self.open_view(k))
            buttons.addWidget(button)
            self.view_buttons[kind] = button
        layout.addLayout(buttons)
        self.message = QLabel(self)
        self.message.setObjectName("lecture_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d32f2f;")
        layout.addWidget(self.message)
        self.show_node(None)

    # ----- model → widgets ---------------------------------------------------------------
    def _field_of(self, name: str) -> Field | None:
        result, graph = self.document.result, self.document.graph
        if self._fields_for is not result:
            if self._kept is None or self._kept.graph is not graph:
                self._kept = ReceptiveFields(graph)  # after an edit: only what it changed
            try:
                self._fields = self._kept.update(result)
            except (DesignerError, KeyError, ValueError, ZeroDivisionError):
                self._fields, self._kept = {}, None
            self._fields_for = result
        return self._fields.get(name)

    def show_node(self, name: str | None) -> None:
        """Show the rows of block ``name`` (None: hide them)."""
        graph = self.document.graph
        if name is not None and name not in graph:
            name = None
        if name != self.node_name:
            self.message.clear()
        self.node_name = name
        self.setVisible(name is not None)
        if name is None:
            self.field, self.equivalents = None, None
            return
        type_id = graph.node(name).type_id
        self.field = self._field_of(name)
        self.field_label.setText(self._field_text(self.field))
        try:
            self.equivalents = node_equivalents(graph, self.document.result, name)
        except (DesignerError, KeyError, ValueError):
            self.equivalents = None
        conv = type_id == "conv2d"
        for widget in (self.title, self.table, self.ratios, self.replace_lc, self.replace_dense):
            widget.setVisible(conv)
        self.step_button.setVisible(type_id in STEPPABLE)
        for kind, button in self.view_buttons.items():
            button.setVisible(kind in kinds_for(type_id))
        if self.equivalents is not None:
            self._fill(self.equivalents)
        elif conv:
            self.shown = {}
            self.table.clear()
            self.ratios.setText("Unknown until the block's input and output shapes are known.")

    @staticmethod
    def _field_text(field: Field | None) -> str:
        if field is None:
            return "<b>Receptive field</b> unknown (no image input, or shapes unknown)"
        h, w = field.size
        start = pair_text((fraction_text(field.start[0]), fraction_text(field.start[1])))
        whole = " (sees the whole map)" if field.whole else ""
        return (
            f"<b>Receptive field</b> {pair_text((h, w))}{whole}, "
            f"<b>jump</b> {pair_text(field.jump)}, <b>start</b> {start}"
        )

    def _fill(self, rows: Equivalents) -> None:
        self.shown = {
            (r, key): value
            for r, (_label, counts) in enumerate(rows.rows())
            for key, value in counts.as_dict().items()
        }
        cell = "<td align='right'>&nbsp;{}</td>"
        head = "".join(f"<th align='right'>&nbsp;{name}</th>" for name in LAYERS)
        body = "".join(
            f"<tr><td><b>{title}</b></td>"
            + "".join(cell.format(f"{self.shown[(r, key)]:,}") for r in range(3))
            + "</tr>"
            for key, title in zip(COLUMNS, HEADERS, strict=True)
        )
        self.table.setText(f"<table cellspacing='0'><tr><th></th>{head}</tr>{body}</table>")
        ratios = rows.ratios()
        self.ratios.setText(
            f"Parameters: dense {_ratio(ratios['dense_over_conv_params'])}, locally connected "
            f"{_ratio(ratios['lc_over_conv_params'])} the convolution's. MACs: dense "
            f"{_ratio(ratios['dense_over_conv_macs'])} the convolution's "
            f"({_ratio(ratios['dense_over_lc_macs'])} the locally connected's)."
        )

    def cell(self, row: int, column: str) -> int | None:
        """The number shown in ``row`` (0 dense, 1 LC, 2 conv) and ``column`` (weights, ...)."""
        return self.shown.get((row, column))

    # ----- actions -----------------------------------------------------------------------
    def _replace_lc(self) -> None:
        self._replace(replace_with_locally_connected)

    def _replace(self, replace: Callable[[Document, str], str]) -> None:
        name = self.node_name
        if name is None:
            return
        try:
            new = replace(self.document, name)
        except DesignerError as error:
            self.message.setText(str(error))
            return
        self.message.clear()
        self.document.set_selection([new])

    def open_step_through(self) -> QWidget | None:
        """Open the step-through view for the selected block; returns the dialog."""
        from designer.lecture.step_view import StepDialog

        if self.node_name is None:
            return None
        dialog = StepDialog.for_node(self.document, self.node_name, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_view(self, kind: str) -> QWidget | None:
        """Open lecture view ``kind`` for the selected block; returns the view."""
        if self.node_name is None:
            return None
        window = self.window()
        host = window if getattr(window, "document", None) is self.document else self
        return open_lecture_view(host, kind, self.node_name, window)
