"""The BatchNorm view (issue 18, point 5): training against inference on real batches.

Per channel: the batch mean and variance, the running mean and variance before and after the
batch (the momentum update, one "Next batch" at a time), and for one channel of the batch's
first sample x, x̂ = (x − μ_B)/√(σ²_B + ε), y = γx̂ + β in training mode and y in eval mode
(with the running statistics); the lecture's algorithm lines written with the numbers. A batch
of 1 or 2 shows what so few values do to the statistics. Numbers from
``engine.lecture.batchnorm``; the state starts from the block's module (trained or initial).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QSpinBox, QWidget

from designer.lecture.probe import Probe
from designer.lecture.view_base import LECTURE, SAMPLE, LectureView
from engine import DesignerError
from engine.lecture.batchnorm import BatchNormTrace, batchnorm_walkthrough

TYPES = {"batchnorm": "BatchNorm"}
SOURCES = {
    LECTURE: "Example: random integers, 2 channels of 3×3",
    SAMPLE: "Data set batches (the real values reaching the block)",
}
LINES_PER_CHANNEL = 8
MAX_ROWS = 16
COLUMNS = ("μ_B", "σ²_B", "running mean", "running var")


def _n(v: float) -> str:
    return f"{v:.6g}"


class BatchNormView(LectureView):
    def __init__(self, window: Any, node: str, parent: QWidget | None = None) -> None:
        super().__init__(window, node, "BatchNorm: training vs inference", SOURCES, TYPES, parent)
        self.setObjectName("batchnorm_view")
        self.batch_size = QSpinBox(self)
        self.batch_size.setObjectName("batchnorm_batch_size")
        self.batch_size.setRange(1, 16)
        self.batch_size.setValue(4)
        self.channel = QSpinBox(self)
        self.channel.setObjectName("batchnorm_channel")
        self.channel.setRange(0, 4095)
        self.next_button = QPushButton("Next batch", self)
        self.next_button.setObjectName("batchnorm_next")
        self.reset_button = QPushButton("Reset", self)
        for label, widget in (
            ("Batch of", self.batch_size),
            ("Channel", self.channel),
            ("", self.next_button),
            ("", self.reset_button),
        ):
            if label:
                self.controls.addWidget(QLabel(label, self))
            self.controls.addWidget(widget)
        self.controls.addStretch(1)
        self.table = QLabel(self)
        self.table.setObjectName("batchnorm_table")
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout().insertWidget(1, self.table)
        self.batches: list[np.ndarray] = []
        self.state: dict[str, Any] | None = None  # the module's state the walk starts from
        self.trace: BatchNormTrace | None = None
        self.next_button.clicked.connect(self.next_batch)
        self.reset_button.clicked.connect(self.reset)
        self.batch_size.valueChanged.connect(self.reset)
        self.channel.valueChanged.connect(self._draw)
        self.reset()

    # ----- the batches -------------------------------------------------------------------
    def refresh(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.batches, self.trace = [], None
        self.table.clear()
        if self.alive():
            self.message.clear()
            self.next_batch()

    def _params(self) -> dict[str, Any]:
        node = self.document.graph.node(self.node)
        return node.spec.with_defaults(node.params)

    def next_batch(self) -> None:
        """Walk one more batch through the block in training mode."""
        if not self.alive() or self.busy():
            return
        n, k = self.batch_size.value(), len(self.batches)
        if self.source.currentData() == LECTURE:
            p = self._params()
            rng = np.random.default_rng(k)
            self.state = {
                "eps": float(p["eps"]),
                "momentum": p["momentum"],
                "affine": bool(p["affine"]),
            }
            self.weights_note = "a fresh BatchNorm: γ = 1, β = 0, running mean 0, variance 1"
            self._add(rng.integers(0, 10, size=(n, 2, 3, 3)).astype(np.float64))
            return
        if problem := self.design_problem():
            self.fail(problem)
            return
        self.with_probe(lambda probe: self._load(probe, n, k * n), self._loaded)

    def _load(self, probe: Probe, count: int, start: int) -> tuple[np.ndarray, dict[str, Any]]:
        io = probe.block_io(self.node, count, start)
        m = io.module
        state = {
            "eps": float(m.eps),
            "momentum": m.momentum,
            "affine": bool(m.affine),
            "weight": None if m.weight is None else m.weight.detach().double().numpy(),
            "bias": None if m.bias is None else m.bias.detach().double().numpy(),
            "running_mean": m.running_mean.detach().double().numpy(),
            "running_var": m.running_var.detach().double().numpy(),
            "num_batches_tracked": int(m.num_batches_tracked),
        }
        x = io.x if io.x.ndim == 4 else io.x.reshape(*io.x.shape, *(1,) * (4 - io.x.ndim))
        return x, state

    def _loaded(self, value: tuple[np.ndarray, dict[str, Any]]) -> None:
        batch, state = value
        if self.state is None or not self.batches:
            self.state = state
        self._add(batch)

    def _add(self, batch: np.ndarray) -> None:
        self.batches.append(batch)
        s = self.state or {}
        try:
            self.trace = batchnorm_walkthrough(
                self.batches,
                s.get("weight"),
                s.get("bias"),
                s.get("running_mean"),
                s.get("running_var"),
                s.get("num_batches_tracked", 0),
                s.get("eps", 1e-5),
                s.get("momentum", 0.1),
                s.get("affine", True),
            )
        except DesignerError as error:
            self.batches.pop()
            self.fail(str(error))
            return
        self._draw()

    # ----- drawing -----------------------------------------------------------------------
    def _draw(self) -> None:
        trace = self.trace
        if trace is None:
            return
        step = trace.steps[-1]
        channels = step.batch_shape[1]
        ch = min(self.channel.value(), channels - 1)
        self._table(step, channels)
        x = self.batches[-1]
        grids = {f"x (sample 0, channel {ch})": x[0, ch]}
        if step.x_hat is not None and step.y_train is not None:
            grids["x̂ (batch statistics)"] = np.asarray(step.x_hat)[0, ch]
            grids["y = γx̂ + β (training)"] = np.asarray(step.y_train)[0, ch]
        if step.y_eval is not None:
            grids["y (eval: running statistics)"] = np.asarray(step.y_eval)[0, ch]
        notes = self.show_grids(grids, columns=4)
        lines = step.lines[ch * LINES_PER_CHANNEL : (ch + 1) * LINES_PER_CHANNEL]
        self.lines.setText("\n".join(lines))
        self.message.setText(step.message or "")
        head = (
            f"Batch {step.index}: {step.batch_shape[0]} sample(s) of {step.batch_shape[1]}×"
            f"{step.batch_shape[2]}×{step.batch_shape[3]}, m = {step.count} values per channel; "
            f"momentum {trace.momentum}, ε = {trace.eps:g}; starting from {self.weights_note}."
        )
        self.notes.setText(" ".join([head, *notes]))

    def _table(self, step: Any, channels: int) -> None:
        self.rows: dict[tuple[int, str], str] = {}
        cells = []
        for ch in range(min(channels, MAX_ROWS)):
            values = {
                "μ_B": _n(step.mean[ch]) if step.mean else "–",
                "σ²_B": _n(step.var[ch]) if step.var else "–",
                "running mean": (
                    f"{_n(step.running_mean_before[ch])} → {_n(step.running_mean[ch])}"
                ),
                "running var": f"{_n(step.running_var_before[ch])} → {_n(step.running_var[ch])}",
            }
            for key, text in values.items():
                self.rows[(ch, key)] = text
            row = "".join(f"<td>&nbsp;{values[c]}&nbsp;</td>" for c in COLUMNS)
            cells.append(f"<tr><td><b>{ch}</b></td>{row}</tr>")
        head = "".join(f"<th>&nbsp;{c}&nbsp;</th>" for c in COLUMNS)
        more = f"<br>(first {MAX_ROWS} of {channels} channels)" if channels > MAX_ROWS else ""
        self.table.setText(
            f"<table cellspacing='0'><tr><th>channel</th>{head}</tr>{''.join(cells)}</table>" + more
        )
