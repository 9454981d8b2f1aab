"""The step-through dialog: one block's sliding window, position by position (issue 18, point 2).

Opened from the inspector ("Step through…") for a Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d,
LPPool2d or MaxUnpool2d. Its stride, padding, dilation and kernel controls are a local copy of
the block's parameters, for exploring: they change the path drawn here, never the design. Step,
Play/Pause and the speed move through the engine's step records (``engine.lecture``); a block
the view cannot show, or parameters that do not fit, give a message, never an exception.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from designer.document import Document
from designer.lecture.grids import GridPanel
from designer.lecture.probe import Probe, ProbeRequest, probe_for
from designer.lecture.step_canvas import StepCanvas
from designer.lecture.step_field import (
    network_unit,
    padding_words,
    unit_box,
    unit_size,
    window_cells,
)
from designer.lecture.step_model import KNOBS, REAL_SOURCES, STEPPABLE, StepModel
from designer.lecture.worker import Job
from engine import DesignerError
from engine.analysis.receptive_field import receptive_fields

SOURCE_LABELS = {
    "lecture": "Lecture example (5×5 image)",
    "random": "Random integers",
    "sample": "A sample of the data set",
    "activation": "The network's activation at this block",
}


class StepDialog(QDialog):
    """Step through one block's window operation on a local copy of its parameters."""

    def __init__(
        self,
        model: StepModel,
        title: str,
        parent: QWidget | None = None,
        document: Document | None = None,
        node: str | None = None,
        window: Any = None,
    ) -> None:
        super().__init__(parent)
        self.document, self.node = document, node
        self.window_ = window if window is not None else SimpleNamespace(document=document)
        self.job: Job | None = None
        self.loaded: dict[tuple[str, int, int], tuple[np.ndarray, np.ndarray | None, str]] = {}
        self.image: np.ndarray | None = None  # the network input of the loaded sample
        self.clicked: tuple[int, int] | None = None
        self.setObjectName("step_through_dialog")
        self.setWindowTitle(f"Step through {title}")
        self.model = model
        self.resize(1000, 640)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "A local copy of the block's parameters, for exploring: changing them here does not "
            "change the design.",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        knobs = QHBoxLayout()
        self.source = QComboBox(self)
        for key, label in SOURCE_LABELS.items():
            self.source.addItem(label, key)
        self.source.setCurrentIndex(self.source.findData(model.source))
        knobs.addWidget(QLabel("Input", self))
        knobs.addWidget(self.source)
        self.sample = QSpinBox(self)
        self.sample.setObjectName("step_sample")
        self.sample.setRange(0, 9999)
        self.channel = QSpinBox(self)
        self.channel.setObjectName("step_channel")
        self.channel.setRange(0, 4095)
        for label, spin in (("Sample", self.sample), ("Channel", self.channel)):
            knobs.addWidget(QLabel(label, self))
            knobs.addWidget(spin)
            spin.setEnabled(False)  # for the network's numbers only
        self.spins: dict[str, QSpinBox] = {}
        for name, low, high in (
            ("kernel", 1, 9),
            ("stride", 1, 6),
            ("padding", 0, 6),
            ("dilation", 1, 5),
        ):
            spin = QSpinBox(self)
            spin.setObjectName(f"step_{name}")
            spin.setRange(low, high)
            knobs.addWidget(QLabel(name.capitalize(), self))
            knobs.addWidget(spin)
            self.spins[name] = spin
        knobs.addStretch(1)
        layout.addLayout(knobs)
        self.canvas = StepCanvas(model, self)
        self.canvas.output_clicked.connect(self.show_field)
        self.field = GridPanel("Network input", self)
        self.field.setObjectName("step_field")
        self.field.min_cell = 1.0
        self.field.setMinimumWidth(220)
        self.field.setMaximumWidth(300)
        self.field_note = QLabel(
            "Click an output cell: its receptive field on the network's input shows here.", self
        )
        self.field_note.setObjectName("step_field_note")
        self.field_note.setWordWrap(True)
        self.field_note.setMinimumWidth(220)
        self.field_note.setMaximumWidth(300)
        row = QHBoxLayout()
        row.addWidget(self.canvas, 1)
        side = QVBoxLayout()
        side.addWidget(self.field, 1)
        side.addWidget(self.field_note)
        row.addLayout(side)
        layout.addLayout(row, 1)
        self.message = QLabel(self)
        self.message.setObjectName("step_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d32f2f;")
        layout.addWidget(self.message)
        self.notes = QLabel(self)
        self.notes.setObjectName("step_notes")
        self.notes.setWordWrap(True)
        layout.addWidget(self.notes)
        controls = QHBoxLayout()
        self.step_button = QPushButton("Step", self)
        self.step_button.setObjectName("step_once")
        self.step_button.clicked.connect(lambda: self.advance(1))
        self.play_button = QPushButton("Play", self)
        self.play_button.setObjectName("step_play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._play)
        self.reset_button = QPushButton("Reset", self)
        self.reset_button.clicked.connect(self._reset)
        self.finish_button = QPushButton("To the end", self)
        self.finish_button.clicked.connect(lambda: self.advance(len(self.model.steps)))
        self.speed = QSlider(Qt.Orientation.Horizontal, self)
        self.speed.setObjectName("step_speed")
        self.speed.setRange(1, 30)
        self.speed.setValue(4)
        self.speed.setToolTip("Steps per second while playing")
        self.speed.valueChanged.connect(self._set_speed)
        self.progress = QLabel(self)
        self.progress.setObjectName("step_progress")
        for widget in (self.step_button, self.play_button, self.reset_button, self.finish_button):
            controls.addWidget(widget)
        controls.addWidget(QLabel("Speed", self))
        controls.addWidget(self.speed)
        controls.addWidget(self.progress, 1)
        layout.addLayout(controls)
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.advance(1))
        self._set_speed(self.speed.value())
        self._load_knobs()
        self.source.currentIndexChanged.connect(self._knobs_changed)
        for spin in (*self.spins.values(), self.sample, self.channel):
            spin.valueChanged.connect(self._knobs_changed)
        self._show()

    @classmethod
    def for_node(
        cls, document: Document, name: str, parent: QWidget | None = None, window: Any = None
    ) -> StepDialog:
        """The dialog for block ``name`` of the design (a message for a block it cannot show)."""
        node = document.graph.node(name)
        params = node.spec.with_defaults(node.params)
        found = document.result.nodes.get(name)
        shape = found.inputs[0] if found is not None and found.inputs else None
        model = StepModel.for_block(node.type_id, params, shape)
        label = STEPPABLE.get(node.type_id, node.type_id)
        if window is None and parent is not None:
            window = parent.window()  # the main window: its runs folders hold the trained runs
        if window is not None and getattr(window, "document", None) is not document:
            window = None
        return cls(model, f"{name} ({label})", parent, document, name, window)

    # ----- knobs -------------------------------------------------------------------------
    def _load_knobs(self) -> None:
        model = self.model
        values = {
            "kernel": model.kernel_size[0],
            "stride": model.stride[0],
            "padding": model.padding[0],
            "dilation": model.dilation[0],
        }
        allowed = (*KNOBS.get(model.type_id, ()), "kernel") if model.type_id in KNOBS else ()
        for name, spin in self.spins.items():
            spin.blockSignals(True)
            spin.setValue(values[name])
            spin.blockSignals(False)
            spin.setEnabled(name in allowed)
        self.source.setEnabled(model.type_id in KNOBS)

    def _knobs_changed(self) -> None:
        model = self.model
        model.source = str(self.source.currentData())
        real = model.source in REAL_SOURCES
        self.sample.setEnabled(real)
        self.channel.setEnabled(real)
        self.clicked = None
        self.canvas.field_cells = set()
        if real and not self._use_real():
            return
        model.kernel_size = (self.spins["kernel"].value(),) * 2
        model.stride = (self.spins["stride"].value(),) * 2
        model.padding = (self.spins["padding"].value(),) * 2
        model.dilation = (self.spins["dilation"].value(),) * 2
        model.compute()
        self._show()

    # ----- the network's numbers ---------------------------------------------------------
    def _use_real(self) -> bool:
        """Put the loaded numbers of the chosen source, sample and channel in the model;
        start loading them (and return False) when they are not there yet."""
        model = self.model
        key = (model.source, self.sample.value(), self.channel.value())
        if key in self.loaded:
            model.real, model.real_kernel, model.real_note = self.loaded[key]
            return True
        model.real, model.result, model.done = None, None, 0
        document = self.document
        if document is None or self.node is None:
            model.error = "The step-through was opened without a design: no network to run."
        elif not document.result.ok:
            model.error = (
                f"{self.node}: the design does not validate ({len(document.result.errors)} "
                "problem(s)), so the network cannot run. Fix the Problems list, or pick the "
                "lecture's example."
            )
        elif (read_at := self._read_at(model.source)) is None:
            model.error = (
                f"{self.node}: its indices input is not wired to a MaxPool2d, so the network "
                "gives no map to unpool. Wire it, or pick the lecture's example."
            )
        elif self.job is None or not self.job.running:
            model.error = ""
            self.notes.setText("Running the network (the first time takes a few seconds)…")
            request = ProbeRequest.of(self.window_)
            own = self.node
            self.job = Job(lambda: self._load(probe_for(request), read_at, key, own), self)
            self.job.done.connect(self._loaded)
            self.job.failed.connect(self._failed)
            self.job.start()
        self._show()
        return False

    def _read_at(self, source: str) -> str | None:
        """The block whose input the network's numbers are read at: this one, or for an
        unpooling's activation the max pooling that gives it its indices (None: none wired)."""
        assert self.document is not None and self.node is not None
        if self.model.type_id != "maxunpool2d" or source != "activation":
            return self.node
        edge = self.document.graph.edge_into(self.node, "indices")
        if edge is None or self.document.graph.node(edge.src).type_id != "maxpool2d":
            return None
        return edge.src

    @staticmethod
    def _load(probe: Probe, node: str, key: tuple[str, int, int], own: str) -> tuple[Any, ...]:
        source, index, channel = key
        io = probe.block_io(node, 1, index)
        image = io.images[0].astype(np.float64)
        if source == "sample":
            channel = min(channel, image.shape[0] - 1)
            note = (
                f"Sample {index} of the data set (class {io.labels[0]}), channel {channel}: "
                "its pixel values 0–255, before normalisation."
            )
            return key, (image[channel], None, note), image
        x = io.x[0]
        if x.ndim != 3:
            raise DesignerError(
                f"{node}: the step-through needs a C×H×W map at the block's input. Received: "
                f"shape={list(x.shape)}. Pick the data set sample instead."
            )
        channel = min(channel, x.shape[0] - 1)
        weight = getattr(io.module, "weight", None)
        kernel = None
        transposed = type(io.module).__name__ == "ConvTranspose2d"  # weight: in × out × kh × kw
        if weight is not None and weight.dim() == 4:
            if transposed and channel < weight.shape[0]:
                kernel = weight[channel, 0].detach().double().numpy()
            elif not transposed and channel < weight.shape[1]:
                kernel = weight[0, channel].detach().double().numpy()
        where = node if node == own else f"{node} (the max pooling whose indices {own} uses)"
        note = (
            f"The network's activation at {where}, sample {index} (class {io.labels[0]}), "
            f"channel {channel} of {x.shape[0]}; {probe.note}."
        )
        return key, (x[channel], kernel, note), image

    def _loaded(self, value: tuple[Any, ...]) -> None:
        key, numbers, image = value
        self.loaded[key] = numbers
        self.image = image
        self._knobs_changed()

    def _failed(self, text: str) -> None:
        self.model.error = text
        self._show()

    # ----- receptive field ---------------------------------------------------------------
    def show_field(self, row: int, col: int) -> None:
        """Outline the window output cell (row, col) reads, and its receptive field on the
        network's input image."""
        model = self.model
        self.clicked = (row, col)
        self.canvas.field_cells = window_cells(model, row, col)
        self.canvas.update()
        document, node = self.document, self.node
        if document is None or node is None:
            return
        try:
            field = receptive_fields(document.graph, document.result).get(node)
        except (DesignerError, KeyError, ValueError, ZeroDivisionError):
            field = None
        shape = self._input_shape()
        if field is None or shape is None:
            self.field.set_grid(None)
            self.field_note.setText("The receptive field is unknown (shapes unknown).")
            return
        real = model.source == "activation"  # the block's own map: its units are the design's
        unit = network_unit(model, row, col) if real else (row, col)
        image = self.image[0] if self.image is not None else np.zeros(shape)
        box, exact = unit_box(document, node, field, unit, shape)
        self.field.title = f"Network input: field of unit {unit}"
        self.field.set_grid(image)
        self.field.box = box
        self.field.update()
        h, w = unit_size(field, exact)
        words = [
            f"Unit {unit} of {node}'s output sees a {h}×{w} field of the input"
            + (f", rows {box[0]}–{box[2]}, columns {box[1]}–{box[3]}" if box else "")
            + f" (jump {field.jump[0]}×{field.jump[1]})."
            + padding_words(exact)
        ]
        if not real:
            words.append(
                "The grids here are not the block's own input; the field is that of the "
                "design's block."
            )
        if self.image is None:
            words.append("Load a data set sample to see the image.")
        self.field_note.setText(" ".join(words))

    def _input_shape(self) -> tuple[int, int] | None:
        document = self.document
        if document is None:
            return None
        for name in document.graph.names_of_type("input"):
            shape = document.graph.node(name).params.get("shape")
            if shape is not None and len(shape) == 3:
                return (int(shape[1]), int(shape[2]))
        return None

    # ----- stepping ----------------------------------------------------------------------
    def advance(self, count: int) -> None:
        self.model.step(count)
        if self.model.finished:
            self.play_button.setChecked(False)
        self._show()

    def _play(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        if on and self.model.finished:
            self.model.done = 0
        if on:
            self.timer.start()
        else:
            self.timer.stop()

    def _set_speed(self, per_second: int) -> None:
        self.timer.setInterval(max(10, int(1000 / max(1, per_second))))

    def _reset(self) -> None:
        self.play_button.setChecked(False)
        self.model.done = 0
        self._show()

    def _show(self) -> None:
        model = self.model
        self.message.setText(model.error)
        self.notes.setText(" ".join(model.notes))
        total = model.result.total_steps if model.result is not None else 0
        self.progress.setText(
            f"Step {model.done} of {len(model.steps)}"
            + (f" (the whole operation has {total})" if total != len(model.steps) else "")
        )
        usable = model.result is not None
        for widget in (self.step_button, self.play_button, self.finish_button):
            widget.setEnabled(usable and not (widget is self.step_button and model.finished))
        self.canvas.update()
