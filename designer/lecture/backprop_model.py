"""What the backprop view shows, without Qt: one block's gradients for one sample, by the
lecture's rules (``engine.lecture.backprop``), as 2-D grids of one input and one output channel.

Inputs: the lecture's example (the 5×5 image and 3×3 kernel for a convolution, seeded random
integers for pooling, an upstream gradient of random integers) or the network's real numbers
(what reaches the block for a data set sample, the block's weights and the loss's gradient at
its output, from :mod:`designer.lecture.probe`). Only the channels shown are computed: a
convolution's input gradient for channel c sums the full convolutions of every output
channel's upstream gradient (exact, whatever the layer's size); its weight gradient for (o, c)
needs only input channel c and upstream channel o.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import ParameterError
from engine.lecture.backprop import (
    avg_pool2d_backward,
    conv2d_backward,
    max_pool2d_backward,
)
from engine.lecture.steps_types import LECTURE_IMAGE, LECTURE_KERNEL
from engine.params import pair
from engine.shapes import conv_output_size, pool_output_size

BACKPROP_TYPES = {"conv2d": "Conv2d", "maxpool2d": "MaxPool2d", "avgpool2d": "AvgPool2d"}
EXPLAIN = {
    "conv2d": [
        "Gradient to the input: the full convolution of the upstream gradient with the kernel "
        "rotated by 180° (stride: zeros between the upstream cells; padding: cropped).",
        "Gradient to the weights: the correlation of the input with the upstream gradient.",
        "Gradient to the bias: the sum of the upstream gradient.",
    ],
    "maxpool2d": [
        "Max pooling routes each upstream gradient to the position of its window's maximum "
        "(argmax); every other input gets 0."
    ],
    "avgpool2d": [
        "Average pooling spreads each upstream gradient evenly over its window: each input cell "
        "gets gradient / divisor from every window it is in."
    ],
}


@dataclass
class Window:
    """A block's window parameters, as the engine's backprop functions take them."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int = 1
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: int | None = None


def window_of_params(type_id: str, params: dict[str, Any]) -> Window:
    """The block's parameters as a :class:`Window`; ParameterError for what the view cannot
    show (padding "same" with an even window)."""
    kernel = pair(params.get("kernel_size", 3))
    stride_value = params.get("stride")
    stride = kernel if stride_value is None else pair(stride_value)
    dilation = pair(params.get("dilation", 1)) if type_id != "avgpool2d" else (1, 1)
    padding_value = params.get("padding", 0)
    if padding_value == "same":
        reach = tuple(d * (k - 1) for k, d in zip(kernel, dilation, strict=True))
        if any(r % 2 for r in reach):
            raise ParameterError(
                f"Backprop ({BACKPROP_TYPES.get(type_id, type_id)}): padding 'same' with an "
                f"even window pads one side more than the other. Received: "
                f"kernel_size={list(kernel)}, dilation={list(dilation)}. Use an odd kernel "
                "or a numeric padding to see its backprop."
            )
        padding = (reach[0] // 2, reach[1] // 2)
    else:
        padding = pair(padding_value)
    return Window(
        kernel,
        stride,
        padding,
        dilation,
        int(params.get("groups", 1)),
        bool(params.get("ceil_mode", False)),
        bool(params.get("count_include_pad", True)),
        params.get("divisor_override"),
    )


@dataclass
class BackpropShown:
    """The grids of one input channel ``c`` (and output channel ``o`` for a convolution)."""

    type_id: str
    channel: int
    out_channel: int
    grids: dict[str, np.ndarray]  # title → full 2-D grid (the view may show a window of it)
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def output_size(type_id: str, size: tuple[int, int], w: Window) -> tuple[int, int]:
    if type_id == "conv2d":
        return (
            conv_output_size(size[0], w.kernel[0], w.stride[0], w.padding[0], w.dilation[0]),
            conv_output_size(size[1], w.kernel[1], w.stride[1], w.padding[1], w.dilation[1]),
        )
    return (
        pool_output_size(
            size[0], w.kernel[0], w.stride[0], w.padding[0], w.dilation[0], w.ceil_mode
        ),
        pool_output_size(
            size[1], w.kernel[1], w.stride[1], w.padding[1], w.dilation[1], w.ceil_mode
        ),
    )


def lecture_example(
    type_id: str, w: Window, seed: int = 0
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(input 1×H×W, kernel 1×1×kh×kw or None, upstream 1×Ho×Wo): the lecture's image and
    kernel for a convolution (random integers for another kernel size), seeded random integers
    for pooling; the upstream gradient is random integers from −2 to 2."""
    rng = np.random.default_rng(seed)
    if type_id == "conv2d":
        x = np.asarray(LECTURE_IMAGE, dtype=np.float64)[None]
        kernel = (
            np.asarray(LECTURE_KERNEL, dtype=np.float64)
            if w.kernel == (3, 3)
            else rng.integers(-1, 3, size=w.kernel).astype(np.float64)
        )[None, None]
    else:
        x = rng.integers(0, 10, size=(1, 6, 6)).astype(np.float64)
        kernel = None
    out = output_size(type_id, (x.shape[1], x.shape[2]), w)
    if min(out) < 1:
        raise ParameterError(
            f"Backprop ({BACKPROP_TYPES[type_id]}): the example's {x.shape[1]}×{x.shape[2]} "
            f"input gives an output of {out[0]}×{out[1]}. Received: kernel_size="
            f"{list(w.kernel)}, stride={list(w.stride)}, padding={list(w.padding)}, "
            f"dilation={list(w.dilation)}. Use the data set sample instead."
        )
    upstream = rng.integers(-2, 3, size=(1, *out)).astype(np.float64)
    return x, kernel, upstream


def compute(
    type_id: str,
    w: Window,
    x: np.ndarray,
    upstream: np.ndarray,
    weight: np.ndarray | None,
    channel: int = 0,
    out_channel: int = 0,
) -> BackpropShown:
    """The gradient grids of input channel ``channel`` (and output channel ``out_channel``).

    ``x`` is C×H×W, ``upstream`` C_out×Ho×Wo, ``weight`` C_out×C_in/groups×kh×kw."""
    if type_id not in BACKPROP_TYPES:
        raise ParameterError(
            f"Backprop: the view shows Conv2d, MaxPool2d and AvgPool2d. Received: "
            f"type={type_id}. Select one of those blocks."
        )
    c_in = x.shape[0]
    channel = max(0, min(channel, c_in - 1))
    xc = x[channel : channel + 1]
    lines = list(EXPLAIN[type_id])
    if type_id == "conv2d":
        if weight is None:
            raise ParameterError(
                "Backprop (Conv2d): the block's weights are needed. Received: weight=None. "
                "Pick the lecture example or a data set sample."
            )
        c_out, c_g = weight.shape[0], weight.shape[1]
        group = channel // c_g
        o_g = c_out // w.groups
        outs = list(range(group * o_g, (group + 1) * o_g))
        out_channel = out_channel if out_channel in outs else outs[0]
        local = channel - group * c_g
        kernels = weight[outs][:, local : local + 1]
        g = upstream[outs]
        grads = conv2d_backward(xc, kernels, g, w.stride, w.padding, w.dilation, 1)
        at = outs.index(out_channel)
        grad_w = np.asarray(grads.grad_weight)[at, 0]
        shown = BackpropShown(
            type_id,
            channel,
            out_channel,
            {
                f"Input (channel {channel})": xc[0],
                f"Kernel (out {out_channel}, in {channel})": kernels[at, 0],
                "Kernel rotated 180°": np.rot90(kernels[at, 0], 2),
                f"Upstream gradient (out {out_channel})": g[at],
                f"Gradient to the input (channel {channel})": np.asarray(grads.grad_input)[0],
                f"Gradient to the weights (out {out_channel}, in {channel})": grad_w,
            },
            lines,
        )
        shown.lines.append(
            f"bias gradient of output channel {out_channel} = Σ upstream = {float(g[at].sum()):.6g}"
        )
        if len(outs) > 1:
            shown.notes.append(
                f"The input gradient of channel {channel} sums the full convolutions of all "
                f"{len(outs)} output channels' upstream gradients with their kernels."
            )
        return shown
    uc = upstream[channel : channel + 1]
    if type_id == "maxpool2d":
        grads = max_pool2d_backward(xc, uc, w.kernel, w.stride, w.padding, w.dilation, w.ceil_mode)
    else:
        grads = avg_pool2d_backward(
            xc,
            uc,
            w.kernel,
            w.stride,
            w.padding,
            w.ceil_mode,
            w.count_include_pad,
            w.divisor_override,
        )
    return BackpropShown(
        type_id,
        channel,
        channel,
        {
            f"Input (channel {channel})": xc[0],
            f"Upstream gradient (channel {channel})": uc[0],
            f"Gradient to the input (channel {channel})": np.asarray(grads.grad_input)[0],
        },
        lines,
    )
