"""The step-through dialog: one block's sliding window, position by position (issue 18, point 2).

Opened from the inspector ("Step through…") for a Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d,
LPPool2d or MaxUnpool2d. Its stride, padding, dilation and kernel controls are a local copy of
the block's parameters, for exploring: they change the path drawn here, never the design. Step,
Play/Pause and the speed move through the engine's step records (``engine.lecture``); a block
the view cannot show, or parameters that do not fit, give a message, never an exception.
"""

from __future__ import annotations

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
from designer.lecture.step_canvas import StepCanvas
from designer.lecture.step_model import KNOBS, STEPPABLE, StepModel

SOURCE_LABELS = {"lecture": "Lecture example (5×5 image)", "random": "Random integers"}


class StepDialog(QDialog):
    """Step through one block's window operation on a local copy of its parameters."""

    def __init__(self, model: StepModel, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        layout.addWidget(self.canvas, 1)
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
        for spin in self.spins.values():
            spin.valueChanged.connect(self._knobs_changed)
        self._show()

    @classmethod
    def for_node(cls, document: Document, name: str, parent: QWidget | None = None) -> StepDialog:
        """The dialog for block ``name`` of the design (a message for a block it cannot show)."""
        node = document.graph.node(name)
        params = node.spec.with_defaults(node.params)
        found = document.result.nodes.get(name)
        shape = found.inputs[0] if found is not None and found.inputs else None
        model = StepModel.for_block(node.type_id, params, shape)
        label = STEPPABLE.get(node.type_id, node.type_id)
        return cls(model, f"{name} ({label})", parent)

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
        self.source.setEnabled(model.type_id in KNOBS and model.type_id != "maxunpool2d")

    def _knobs_changed(self) -> None:
        model = self.model
        model.source = str(self.source.currentData())
        model.kernel_size = (self.spins["kernel"].value(),) * 2
        model.stride = (self.spins["stride"].value(),) * 2
        model.padding = (self.spins["padding"].value(),) * 2
        model.dilation = (self.spins["dilation"].value(),) * 2
        model.compute()
        self._show()

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
