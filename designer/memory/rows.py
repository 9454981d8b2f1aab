"""The inspector's memory section for the selected block: its weights, gradients, optimiser
state and the activations it keeps for the backward pass, at the training settings' batch,
optimiser and precision (a frozen block keeps no gradients and no optimiser state)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from designer.document import Document
from designer.memory.plans import plans_of

_PRECISION = {"fp32": "float32", "amp": "fp16 mixed", "bf16": "bfloat16"}


class MemoryRows(QLabel):
    """A small table: weights, gradients, optimiser state, activations, and the settings."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector_memory")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.document = document
        self.node_name: str | None = None
        self.values: dict[str, int] = {}  # what is shown, in bytes (a test reads them)
        self.plans = plans_of(document)
        self.plans.changed.connect(self.refresh)

    def show_node(self, name: str | None) -> None:
        self.node_name = name
        self.refresh()

    def refresh(self) -> None:
        from designer.transfer.frozen import frozen_names
        from engine.analysis.memory_sizes import format_bytes

        plan = self.plans.current
        layer = (
            None if plan is None or self.node_name is None else plan.by_name().get(self.node_name)
        )
        if plan is None or layer is None:
            self.values = {}
            self.setText("")
            self.setVisible(False)
            return
        s = plan.settings
        frozen = self.node_name in frozen_names(self.document)
        buffers = plan.plan.optimizer_state // plan.plan.weights if plan.plan.weights else 0
        grads = 0 if frozen else layer.weights
        self.values = {
            "weights": layer.weights,
            "gradients": grads,
            "optimizer": buffers * grads,
            "activations": layer.activations,
        }
        rows = [
            ("Weights", self.values["weights"]),
            ("Gradients", self.values["gradients"]),
            ("Optimiser state", self.values["optimizer"]),
            ("Activations kept", self.values["activations"]),
        ]
        body = "".join(
            f"<tr><td>{label}&nbsp;&nbsp;</td><td align='right'>{format_bytes(value)}</td></tr>"
            for label, value in rows
        )
        note = " (frozen: no gradients)" if frozen else ""
        self.setText(
            f"<p><b>Training memory</b>{note}<br><small>batch {s.batch}, {s.optimizer}, "
            f"{_PRECISION.get(s.precision, s.precision)} (training settings)</small></p>"
            f"<table>{body}</table>"
        )
        self.setVisible(True)
