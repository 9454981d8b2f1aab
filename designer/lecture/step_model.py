"""What the step-through view shows, without Qt: a local copy of one block's window parameters,
an input, and the engine's step records (``engine.lecture``), with how many steps are done.

The parameters start from the design's block and are the view's own to explore: changing the
stride, padding or dilation here never edits the design. Inputs: the lecture's example (the 5×5
binary image; with a 3×3 kernel also the lecture's kernel) or random integers (seeded) of the
block's input size, at most ``MAX_SIDE`` cells a side (a note says when the input was cut).
One input channel and one output channel are shown; the kernel is the lecture's or random
integers (the design's trained weights are not used, and a note says so). For MaxUnpool2d the
input is the map a max pooling reduces (the real sources: the map entering the pooling that
gives the block its indices), pooled here and unpooled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine import DesignerError
from engine.errors import ParameterError
from engine.lecture.steps import (
    avg_pool2d_steps,
    conv2d_steps,
    lp_pool2d_steps,
    max_pool2d_steps,
)
from engine.lecture.steps_scatter import conv_transpose2d_steps, max_unpool2d_steps
from engine.lecture.steps_types import (
    LECTURE_IMAGE,
    LECTURE_KERNEL,
    ScatterStep,
    StepThrough,
    WindowStep,
)
from engine.params import pair

STEPPABLE = {
    "conv2d": "Conv2d",
    "conv_transpose2d": "ConvTranspose2d",
    "maxpool2d": "MaxPool2d",
    "avgpool2d": "AvgPool2d",
    "lppool2d": "LPPool2d",
    "maxunpool2d": "MaxUnpool2d",
}
# Which of stride / padding / dilation each operation has.
KNOBS = {
    "conv2d": ("stride", "padding", "dilation"),
    "conv_transpose2d": ("stride", "padding", "dilation"),
    "maxpool2d": ("stride", "padding", "dilation"),
    "avgpool2d": ("stride", "padding"),
    "lppool2d": ("stride",),
    "maxunpool2d": ("stride", "padding"),
}
MAX_SIDE = 16  # the largest input side drawn cell by cell
MAX_STEPS = 400  # the most steps computed for the view (the engine's note says when cut)
SOURCES = ("lecture", "random", "sample", "activation")
REAL_SOURCES = ("sample", "activation")  # numbers from the network (``designer.lecture.probe``)

Pair = tuple[int, int]


def _pair(value: Any, default: Pair) -> Pair:
    try:
        return pair(value) if value is not None else default
    except (TypeError, ValueError):
        return default


@dataclass
class StepModel:
    """One block's step-through: parameters, input, the engine's result and the steps done."""

    type_id: str
    params: dict[str, Any]  # the design's parameters, defaults filled in (read only)
    input_shape: tuple[int, ...] | None = None
    source: str = "random"
    seed: int = 0
    kernel_size: Pair = (3, 3)
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    result: StepThrough | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)
    done: int = 0  # steps shown so far
    input_grid: np.ndarray | None = None
    kernel: np.ndarray | None = None
    # the real numbers of the "sample" / "activation" sources: a full 2-D map, where it came
    # from, and (activation, convolution) the block's own kernel for that input channel
    real: np.ndarray | None = None
    real_note: str = ""
    real_kernel: np.ndarray | None = None
    offset: tuple[int, int] = (0, 0)  # where the window shown starts in ``real``

    @classmethod
    def for_block(
        cls, type_id: str, params: dict[str, Any], input_shape: tuple[int, ...] | None
    ) -> StepModel:
        """A model whose knobs start at the block's own values."""
        model = cls(type_id, dict(params), input_shape)
        if type_id not in STEPPABLE:
            model.error = (
                f"The step-through shows Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, LPPool2d "
                f"and MaxUnpool2d. Received: type={type_id}. Select one of those blocks."
            )
            return model
        model.kernel_size = _pair(params.get("kernel_size"), (3, 3))
        model.stride = _pair(params.get("stride"), model.kernel_size)
        padding = params.get("padding", 0)
        if padding == "same":
            padding = tuple((k - 1) // 2 for k in model.kernel_size)
        model.padding = _pair(padding, (0, 0))
        model.dilation = _pair(params.get("dilation", 1), (1, 1))
        conv = type_id == "conv2d"
        model.source = "lecture" if conv and model.kernel_size == (3, 3) else "random"
        model.compute()
        return model

    @property
    def operation(self) -> str:
        return STEPPABLE.get(self.type_id, self.type_id)

    @property
    def scatter(self) -> bool:
        return self.type_id in ("conv_transpose2d", "maxunpool2d")

    @property
    def steps(self) -> list[WindowStep] | list[ScatterStep]:
        return [] if self.result is None else self.result.steps

    # ----- inputs ------------------------------------------------------------------------
    def _input_size(self) -> Pair:
        if self.source == "lecture":
            return (len(LECTURE_IMAGE), len(LECTURE_IMAGE[0]))
        shape = self.input_shape
        if shape is None or len(shape) != 3:
            self.notes.append("The block's input size is unknown: a 7×7 random input is shown.")
            return (7, 7)
        h, w = int(shape[1]), int(shape[2])
        if max(h, w) > MAX_SIDE:
            self.notes.append(
                f"The block's input is {h}×{w}, too large to draw cell by cell: a "
                f"{min(h, MAX_SIDE)}×{min(w, MAX_SIDE)} corner of random values is shown."
            )
        return (min(h, MAX_SIDE), min(w, MAX_SIDE))

    def _make_input(self, rng: np.random.Generator) -> np.ndarray:
        self.offset = (0, 0)
        if self.source == "lecture":
            return np.asarray(LECTURE_IMAGE, dtype=np.float64)
        if self.source in REAL_SOURCES:
            return self._real_window()
        return rng.integers(0, 5, size=self._input_size()).astype(np.float64)

    def _real_window(self) -> np.ndarray:
        """The real map, or a window of ``MAX_SIDE`` cells a side near its centre (starting
        at a multiple of the stride, so output cell (i, j) is the full map's
        (offset/stride + i, offset/stride + j))."""
        if self.real is None:
            raise ParameterError(
                f"{self.operation}: the network's numbers are not loaded yet. Received: "
                f"source={self.source}. Wait for them, or pick the lecture's example."
            )
        h, w = self.real.shape
        self.notes.append(self.real_note)
        if max(h, w) <= MAX_SIDE:
            return np.asarray(self.real, dtype=np.float64)
        starts = []
        for size, stride in ((h, self.stride[0]), (w, self.stride[1])):
            start = max(0, (size - MAX_SIDE) // 2)
            starts.append(start - start % max(1, stride))
        self.offset = (starts[0], starts[1])
        rows, cols = min(h, MAX_SIDE), min(w, MAX_SIDE)
        self.notes.append(
            f"The map is {h}×{w}, too large to draw cell by cell: the {rows}×{cols} window "
            f"from row {starts[0]}, column {starts[1]} is shown (its border cells see "
            "padding where the whole map has values)."
        )
        part = self.real[starts[0] : starts[0] + rows, starts[1] : starts[1] + cols]
        return np.asarray(part, dtype=np.float64)

    def _make_kernel(self, rng: np.random.Generator) -> np.ndarray:
        if self.real_kernel is not None and self.source == "activation":
            if self.real_kernel.shape == self.kernel_size:
                return np.asarray(self.real_kernel, dtype=np.float64)
            self.notes.append(
                "The kernel size here differs from the block's: random integers instead of "
                "its weights."
            )
        if self.source == "lecture" and self.kernel_size == (3, 3):
            return np.asarray(LECTURE_KERNEL, dtype=np.float64)
        if self.source == "lecture":
            self.notes.append(
                f"The lecture's kernel is 3×3; this block's is {self.kernel_size[0]}×"
                f"{self.kernel_size[1]}: its values are random integers."
            )
        return rng.integers(-1, 3, size=self.kernel_size).astype(np.float64)

    # ----- computing ---------------------------------------------------------------------
    def compute(self) -> None:
        """Recompute the steps for the current knobs and input (back to step 0)."""
        self.result, self.error, self.notes, self.done = None, "", [], 0
        if self.type_id not in STEPPABLE:
            return
        rng = np.random.default_rng(self.seed)
        try:
            x = self._make_input(rng)
            self.input_grid = x
            self.result = self._run(x, rng)
        except DesignerError as error:
            self.error = str(error)
            return
        if self.result.note:
            self.notes.append(self.result.note)
        if self.type_id in ("conv2d", "conv_transpose2d"):
            own = self.source == "activation"
            self.notes.append(
                "One input and one output channel, no bias; "
                + (
                    "the kernel is the block's own (output channel 0)."
                    if own and self.real_kernel is not None
                    else "the design's weights are not used."
                )
            )

    def _run(self, x: np.ndarray, rng: np.random.Generator) -> StepThrough:
        p, k, s, pad, d = self.params, self.kernel_size, self.stride, self.padding, self.dilation
        t = self.type_id
        if t == "conv2d":
            self.kernel = self._make_kernel(rng)
            return conv2d_steps(x, self.kernel, None, s, pad, d, window=MAX_STEPS)
        if t == "conv_transpose2d":
            self.kernel = self._make_kernel(rng)
            out_pad = _pair(p.get("output_padding", 0), (0, 0))
            out_pad = (min(out_pad[0], max(s[0], d[0]) - 1), min(out_pad[1], max(s[1], d[1]) - 1))
            return conv_transpose2d_steps(
                x, self.kernel, None, s, pad, out_pad, d, window=MAX_STEPS
            )
        self.kernel = None
        ceil = bool(p.get("ceil_mode", False))
        if t == "maxpool2d":
            return max_pool2d_steps(x, k, s, pad, d, ceil, window=MAX_STEPS)
        if t == "avgpool2d":
            return avg_pool2d_steps(
                x,
                k,
                s,
                pad,
                ceil,
                bool(p.get("count_include_pad", True)),
                p.get("divisor_override"),
                window=MAX_STEPS,
            )
        if t == "lppool2d":
            return lp_pool2d_steps(x, float(p.get("norm_type", 2.0)), k, s, ceil, window=MAX_STEPS)
        return self._unpool(x, rng)

    def _unpool(self, x: np.ndarray, rng: np.random.Generator) -> StepThrough:
        """Unpooling needs indices: those of a max pooling (same kernel, stride, padding) whose
        maxima are the values unpooled. The lecture's image, a data set sample or the network's
        map entering the max pooling that gives the block its indices is that pooling's input
        (``x``); else a random map of the unpooled size."""
        k, s, pad = self.kernel_size, self.stride, self.padding
        if self.source != "random":
            return self._unpool_of(x)
        h, w = x.shape
        size = ((h - 1) * s[0] - 2 * pad[0] + k[0], (w - 1) * s[1] - 2 * pad[1] + k[1])
        if min(size) < 1:
            self.error = (
                f"MaxUnpool2d: the unpooled map would be {size[0]}×{size[1]}. Received: "
                f"kernel_size={list(k)}, stride={list(s)}, padding={list(pad)}. "
                "Use less padding or a larger kernel."
            )
            raise ParameterError(self.error)
        source = rng.integers(0, 10, size=size).astype(np.float64)
        pooled = max_pool2d_steps(source, k, s, pad)
        self.notes.append(
            f"The values and indices are those of a max pooling of a random {size[0]}×{size[1]} "
            "map with the same kernel, stride and padding."
        )
        values = np.asarray(pooled.output, dtype=np.float64)
        self.input_grid = values[0]
        indices = np.asarray(pooled.extra["indices"], dtype=np.int64)
        return max_unpool2d_steps(values, indices, k, s, pad, size, window=MAX_STEPS)

    def _unpool_of(self, source: np.ndarray) -> StepThrough:
        """Max-pool ``source`` with the kernel, stride and padding shown, then unpool the maxima
        by their indices back to ``source``'s size."""
        k, s, pad = self.kernel_size, self.stride, self.padding
        pooled = max_pool2d_steps(source, k, s, pad)  # ParameterError: a window that fits none
        values = np.asarray(pooled.output, dtype=np.float64)
        self.input_grid = values[0]
        h, w = source.shape
        what = f"The lecture's {h}×{w} image" if self.source == "lecture" else f"That {h}×{w} map"
        self.notes.append(
            f"{what} (not drawn) is max-pooled here with the kernel, stride and "
            f"padding shown: the Input grid holds its maxima, and each lands in the {h}×{w} "
            "output where its maximum was (its index)."
        )
        indices = np.asarray(pooled.extra["indices"], dtype=np.int64)
        return max_unpool2d_steps(values, indices, k, s, pad, source.shape, window=MAX_STEPS)

    # ----- stepping ----------------------------------------------------------------------
    def step(self, count: int = 1) -> None:
        self.done = max(0, min(len(self.steps), self.done + count))

    @property
    def finished(self) -> bool:
        return self.done >= len(self.steps)

    @property
    def current(self) -> WindowStep | ScatterStep | None:
        """The step shown last (None before the first)."""
        return self.steps[self.done - 1] if self.done else None

    def shown_output(self) -> dict[tuple[int, int], float]:
        """(row, col) → the value written so far, by the steps done. For a transposed
        convolution the coordinates are in the uncropped output (``extra["full"]``)."""
        shown: dict[tuple[int, int], float] = {}
        for step in self.steps[: self.done]:
            if isinstance(step, WindowStep):
                shown[(step.output[1], step.output[2])] = step.written
            else:
                for target, value in zip(step.targets, step.written, strict=True):
                    shown[(target[1], target[2])] = value
        return shown

    def output_grid(self) -> np.ndarray | None:
        """The grid the output is drawn on: the operation's output, or for a transposed
        convolution the uncropped one."""
        if self.result is None:
            return None
        if self.type_id == "conv_transpose2d":
            return np.asarray(self.result.extra["full"], dtype=np.float64)
        return np.asarray(self.result.output, dtype=np.float64)[0]

    def padded_grid(self) -> np.ndarray | None:
        if self.result is None:
            return None
        return np.asarray(self.result.padded_input, dtype=np.float64)[0]
