"""The backprop view (issue 18, point 4): for a Conv2d, MaxPool2d or AvgPool2d block and one
sample, the upstream gradient, the gradient to the input and (convolution) to the weights,
drawn as grids with the lecture's rules written under them. Numbers from
``engine.lecture.backprop`` via :mod:`designer.lecture.backprop_model`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QLabel, QSpinBox, QWidget

from designer.lecture.backprop_model import (
    BACKPROP_TYPES,
    compute,
    lecture_example,
    window_of_params,
)
from designer.lecture.probe import Probe
from designer.lecture.view_base import LECTURE, SAMPLE, LectureView
from engine import DesignerError

SOURCES = {
    LECTURE: "Lecture example (upstream gradient: random integers)",
    SAMPLE: "Data set sample (the loss's real gradient)",
}


class BackpropView(LectureView):
    def __init__(self, window: Any, node: str, parent: QWidget | None = None) -> None:
        super().__init__(window, node, "Backprop", SOURCES, BACKPROP_TYPES, parent)
        self.setObjectName("backprop_view")
        self.sample = self._spin("Sample", "backprop_sample", 0, 9999)
        self.channel = self._spin("Input channel", "backprop_channel", 0, 4095)
        self.out_channel = self._spin("Output channel", "backprop_out_channel", 0, 4095)
        self.out_channel.setEnabled(self.type_id == "conv2d")
        self.controls.addStretch(1)
        self.real: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray | None, int]] = {}
        self.refresh()

    def _spin(self, label: str, name: str, low: int, high: int) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setObjectName(name)
        spin.setRange(low, high)
        self.controls.addWidget(QLabel(label, self))
        self.controls.addWidget(spin)
        spin.valueChanged.connect(self.refresh)
        return spin

    def refresh(self) -> None:
        if not self.alive():
            return
        self.message.clear()
        node = self.document.graph.node(self.node)
        try:
            window = window_of_params(self.type_id, node.spec.with_defaults(node.params))
        except DesignerError as error:
            self.fail(str(error))
            return
        source = self.source.currentData()
        if source == LECTURE:
            try:
                x, kernel, upstream = lecture_example(self.type_id, window)
            except DesignerError as error:
                self.fail(str(error))
                return
            self._draw(window, x, upstream, kernel, "")
            return
        if problem := self.design_problem():
            self.fail(problem)
            return
        index = self.sample.value()
        if index in self.real:
            x, upstream, weight, label = self.real[index]
            self._draw(window, x, upstream, weight, f"sample {index} (class {label})")
            return
        self.with_probe(lambda probe: self._load(probe, index), self._loaded)

    def _load(self, probe: Probe, index: int) -> tuple[int, Any]:
        io = probe.block_io(self.node, 1, index, grad=True)
        weight = getattr(io.module, "weight", None)
        w = None if weight is None else weight.detach().double().numpy()
        if io.grad is None:
            raise DesignerError(
                f"{self.node}: no gradient reached this block. Received: node={self.node}. "
                "Pick a block whose output the loss depends on."
            )
        return index, (io.x[0], io.grad[0], w, io.labels[0])

    def _loaded(self, value: tuple[int, Any]) -> None:
        index, numbers = value
        self.real[index] = numbers
        self.refresh()

    def _draw(
        self,
        window: Any,
        x: np.ndarray,
        upstream: np.ndarray,
        weight: np.ndarray | None,
        what: str,
    ) -> None:
        try:
            shown = compute(
                self.type_id,
                window,
                x,
                upstream,
                weight,
                self.channel.value(),
                self.out_channel.value(),
            )
        except DesignerError as error:
            self.fail(str(error))
            return
        notes = self.show_grids(shown.grids)
        self.lines.setText("\n".join(shown.lines))
        head = []
        if what:
            head.append(f"The loss's gradient for {what}, {self.weights_note}.")
        if shown.channel != self.channel.value() or (
            self.type_id == "conv2d" and shown.out_channel != self.out_channel.value()
        ):
            head.append(
                f"Channels shown: input {shown.channel}, output {shown.out_channel} (the block "
                f"has {x.shape[0]} input channels"
                + (f", {upstream.shape[0]} output channels)." if self.type_id == "conv2d" else ").")
            )
        self.notes.setText(" ".join(head + shown.notes + notes))
