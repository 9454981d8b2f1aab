"""The dropout view (issue 18, point 6): training against test for a Dropout block.

The masks of several training passes (torch's own, seeded), each pass's output with torch's
inverted dropout (kept units × 1/(1 − p)) and with the lecture's rule (kept units unscaled),
the test outputs of both (torch: x; the lecture: (1 − p)·x), and the check, over many passes,
that each convention's training mean equals its own test output. For Dropout2d the values are
a (channels, positions) grid, a row per channel, and each mask keeps or drops a whole row, as
``F.dropout2d`` does. Numbers from ``engine.lecture.dropout``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QLabel, QSpinBox, QWidget

from designer.lecture.grids import vector_grid
from designer.lecture.probe import Probe
from designer.lecture.view_base import LECTURE, SAMPLE, LectureView
from engine import DesignerError
from engine.lecture.dropout import (
    DropoutTrace,
    ExpectationCheck,
    dropout_trace,
    expectation_check,
)

TYPES = {"dropout": "Dropout", "dropout2d": "Dropout2d"}
SOURCES = {
    LECTURE: "Example: random integers, 6×6",
    SAMPLE: "Data set sample (the real values reaching the block)",
}
EXPECTATION_PASSES = 2000
MAX_VALUES = 64  # a vector input: its first values, in rows of 8
MAX_CHANNELS = 16  # Dropout2d: the channels (rows) and positions (columns) shown


class DropoutView(LectureView):
    def __init__(self, window: Any, node: str, parent: QWidget | None = None) -> None:
        super().__init__(window, node, "Dropout: training vs test", SOURCES, TYPES, parent)
        self.setObjectName("dropout_view")
        self.passes = self._spin("Passes", "dropout_passes", 1, 6, 3)
        self.sample = self._spin("Sample", "dropout_sample", 0, 9999, 0)
        self.channel = self._spin("Channel", "dropout_channel", 0, 4095, 0)
        self.seed = self._spin("Seed", "dropout_seed", 0, 10_000, 0)
        self.controls.addStretch(1)
        self.trace: DropoutTrace | None = None
        self.x: np.ndarray | None = None  # the 2-D values the passes run on
        self.real: dict[tuple[int, int], tuple[np.ndarray, str]] = {}
        self.check: ExpectationCheck | None = None
        self.fit_height(900)  # four rows of grids: tall enough to write the numbers in them
        self.refresh()

    def _spin(self, label: str, name: str, low: int, high: int, value: int) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setObjectName(name)
        spin.setRange(low, high)
        spin.setValue(value)
        self.controls.addWidget(QLabel(label, self))
        self.controls.addWidget(spin)
        spin.valueChanged.connect(self.refresh)
        return spin

    def _p(self) -> float:
        node = self.document.graph.node(self.node)
        return float(node.spec.with_defaults(node.params)["p"])

    def refresh(self) -> None:
        if not self.alive():
            return
        self.message.clear()
        if self.source.currentData() == LECTURE:
            rng = np.random.default_rng(0)
            self.weights_note = ""
            what = "6 channels (rows) of 6 positions" if self.channelwise else ""
            self._draw(rng.integers(1, 10, size=(6, 6)).astype(np.float64), what)
            return
        if problem := self.design_problem():
            self.fail(problem)
            return
        key = (self.sample.value(), self.channel.value())
        if key in self.real:
            self._draw(*self.real[key])
            return
        self.with_probe(lambda probe: self._load(probe, *key), self._loaded)

    @property
    def channelwise(self) -> bool:
        """Dropout2d: the masks keep or drop whole channels (the grids' rows)."""
        return self.type_id == "dropout2d"

    def _load(self, probe: Probe, index: int, channel: int) -> tuple[Any, Any]:
        x = probe.block_io(self.node, 1, index).x[0]
        if self.channelwise and x.ndim == 3:
            c, positions = x.shape[0], x.shape[1] * x.shape[2]
            rows, cols = min(c, MAX_CHANNELS), min(positions, MAX_CHANNELS)
            what = (
                f"sample {index}, channels 0–{rows - 1} of {c} (rows), the first {cols} of "
                f"their {positions} positions (columns)"
            )
            return (index, channel), (x.reshape(c, -1)[:rows, :cols], what)
        if x.ndim == 3:
            channel = min(channel, x.shape[0] - 1)
            return (index, channel), (x[channel], f"sample {index}, channel {channel}")
        flat = x.reshape(-1)
        what = f"sample {index}" + (
            f", its first {MAX_VALUES} of {flat.size} values" if flat.size > MAX_VALUES else ""
        )
        return (index, channel), (vector_grid(flat[:MAX_VALUES]), what)

    def _loaded(self, value: tuple[Any, Any]) -> None:
        key, numbers = value
        self.real[key] = numbers
        self.refresh()

    def _draw(self, x: np.ndarray, what: str) -> None:
        p = self._p()
        values = np.nan_to_num(x)  # the padding of a vector laid out in rows
        try:
            seed, rows = self.seed.value(), self.channelwise
            self.trace = dropout_trace(values, p, self.passes.value(), seed, rows)
            check = expectation_check(values, p, EXPECTATION_PASSES, seed, rows)
        except DesignerError as error:
            self.fail(str(error))
            return
        self.x = values
        trace = self.trace
        # rows of three that line up: the input and both test outputs, then one row a pass
        # (its mask, torch's output, the lecture's output)
        grids: dict[str, np.ndarray] = {
            "x (input)": x,
            "torch at test: x": np.asarray(trace.eval_output),
            "lecture at test: (1 − p)·x": np.asarray(trace.lecture_eval_output),
        }
        for i in range(len(trace.masks)):
            grids[f"mask {i + 1} (kept {trace.kept_fraction[i]:.0%})"] = np.asarray(trace.masks[i])
            grids[f"torch, pass {i + 1}: x·mask/(1 − p)"] = np.asarray(trace.train_outputs[i])
            grids[f"lecture, pass {i + 1}: x·mask"] = np.asarray(trace.lecture_train_outputs[i])
        notes = self.show_grids(grids, columns=3)
        self.check = check
        self.lines.setText(
            "\n".join(
                [
                    f"p = {p:g}: torch keeps each unit with probability q = {trace.keep:g} and "
                    f"scales it by 1/q = {1 / trace.keep:.6g} while training; nothing at test.",
                    f"The lecture keeps each unit with probability q and multiplies by q = "
                    f"{trace.keep:g} at test.",
                    *(
                        [
                            "Dropout2d keeps or drops whole channels: each row here is one "
                            "channel, kept or dropped as one."
                        ]
                        if self.channelwise
                        else []
                    ),
                    *check.lines,
                ]
            )
        )
        weights = f", {self.weights_note}" if self.weights_note else ""
        head = [f"Values: {what}{weights}."] if what else []
        self.notes.setText(" ".join(head + notes))
