"""Which tensors each block type keeps for the backward pass: the memory planner's table.

Measured, not guessed: ``tests/test_memory_plan.py`` builds every block type in training mode,
runs it under ``torch.autograd.graph.saved_tensors_hooks`` and compares the distinct storages
autograd keeps with what this table says (parameters and buffers left out). What torch 2.14 keeps:

- Conv2d, ConvTranspose2d, Linear: their input (and the weight, a parameter).
- ReLU, Sigmoid, Tanh, Softmax, LogSoftmax: their output. LeakyReLU, PReLU, ELU, GELU, SiLU,
  ReLU6 (hardtanh), Hardswish: their input (PReLU also a view of its weight, a parameter).
- BatchNorm: its input plus the batch mean and inverse standard deviation per channel.
- MaxPool2d, AdaptiveMaxPool2d: the input and the int64 indices (one per output element).
- AvgPool2d, AdaptiveAvgPool2d: the input; to 1×1 (a mean) nothing, as Global average pooling.
- LPPool2d: the input, its power (input-sized) and four output-sized intermediates.
- LocalResponseNorm: the input, two input-sized intermediates and the squared input padded along
  the channels (C + size - 1 channels).
- Dropout: the mask (the activation's dtype on the CPU, one byte per element on CUDA);
  Dropout2d: one noise value per sample and channel; nothing at p = 0.
- LocallyConnected2d: the unfolded input (C·k·k values per output position) and a permuted view
  of its weight (the parameter's storage).
- MaxUnpool2d: the indices it receives. Add, Concat, Flatten (a view), Scale, Upsample and
  Global average pooling: nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.catalog import Shape

INPUT, OUTPUT, EXTRA = "input", "output", "extra"
# kinds of an extra tensor: the activation's dtype, int64 indices, per-channel float statistics,
# a dropout mask
ACT, INDEX, STAT, MASK = "act", "index", "stat", "mask"


@dataclass(frozen=True)
class Saved:
    """One tensor a block keeps for backward.

    ``what`` is INPUT (the tensor on input ``index``: shared with whoever else keeps it),
    OUTPUT (the block's output on ``port``: shared likewise) or EXTRA (a tensor only this block
    holds: ``elements`` values of ``kind``, per sample when ``per_sample``, else in all).
    """

    what: str
    index: int = 0
    port: str = "out"
    elements: int = 0
    kind: str = ACT
    per_sample: bool = True


Rule = Callable[[dict[str, Any], list[Shape], list[Shape]], list[Saved]]


def _size(shape: Shape) -> int:
    return math.prod(shape)


def _keeps_input(params: dict[str, Any], ins: list[Shape], outs: list[Shape]) -> list[Saved]:
    return [Saved(INPUT)]


def _keeps_output(params: dict[str, Any], ins: list[Shape], outs: list[Shape]) -> list[Saved]:
    return [Saved(OUTPUT)]


def _keeps_nothing(params: dict[str, Any], ins: list[Shape], outs: list[Shape]) -> list[Saved]:
    return []


def _max_pool(params: dict[str, Any], ins: list[Shape], outs: list[Shape]) -> list[Saved]:
    # the indices are the block's "indices" output where it returns them: one storage
    return [Saved(INPUT), Saved(OUTPUT, port="indices", elements=_size(outs[0]), kind=INDEX)]


def _adaptive_avg(params: dict[str, Any], ins: list[Shape], outs: list[Shape]) -> list[Saved]:
    return [] if tuple(outs[0][1:]) == (1, 1) else [Saved(INPUT)]


def _batchnorm(params: dict[str, Any], ins: list[Shape], outs: list[Shape]) -> list[Saved]:
    channels = ins[0][0]
    stat = Saved(EXTRA, elements=channels, kind=STAT, per_sample=False)
    return [Saved(INPUT), stat, stat]


def _lppool(params: dict[str, Any], ins: list[Shape], outs: list[Shape]) -> list[Saved]:
    out = Saved(EXTRA, elements=_size(outs[0]))
    return [Saved(INPUT), Saved(EXTRA, elements=_size(ins[0])), out, out, out, out]


def _lrn(params: dict[str, Any], ins: list[Shape], outs: list[Shape]) -> list[Saved]:
    channels, *rest = ins[0]
    padded = Saved(EXTRA, elements=(channels + int(params["size"]) - 1) * math.prod(rest))
    same = Saved(EXTRA, elements=_size(ins[0]))
    return [Saved(INPUT), padded, same, same]


def _dropout(params: dict[str, Any], ins: list[Shape], outs: list[Shape]) -> list[Saved]:
    p = float(params["p"])
    return [] if p in (0.0, 1.0) else [Saved(EXTRA, elements=_size(ins[0]), kind=MASK)]


def _dropout2d(params: dict[str, Any], ins: list[Shape], outs: list[Shape]) -> list[Saved]:
    return [] if float(params["p"]) == 0.0 else [Saved(EXTRA, elements=ins[0][0])]


def _locally_connected(params: dict[str, Any], ins: list[Shape], outs: list[Shape]) -> list[Saved]:
    kernel = params["kernel_size"]
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    positions = outs[0][1] * outs[0][2]
    fan_in = ins[0][0] * kh * kw
    return [Saved(EXTRA, elements=fan_in * positions)]  # its weight: a permuted view


def _unpool(params: dict[str, Any], ins: list[Shape], outs: list[Shape]) -> list[Saved]:
    return [Saved(INPUT, index=1)]


RULES: dict[str, Rule] = {
    "input": _keeps_nothing,
    "output": _keeps_nothing,
    "flatten": _keeps_nothing,
    "add": _keeps_nothing,
    "concat": _keeps_nothing,
    "scale": _keeps_nothing,
    "upsample": _keeps_nothing,
    "global_avgpool": _keeps_nothing,
    "conv2d": _keeps_input,
    "conv_transpose2d": _keeps_input,
    "linear": _keeps_input,
    "avgpool2d": _keeps_input,
    "adaptive_avgpool2d": _adaptive_avg,
    "maxpool2d": _max_pool,
    "adaptive_maxpool2d": _max_pool,
    "lppool2d": _lppool,
    "maxunpool2d": _unpool,
    "locally_connected2d": _locally_connected,
    "batchnorm": _batchnorm,
    "local_response_norm": _lrn,
    "dropout": _dropout,
    "dropout2d": _dropout2d,
    "relu": _keeps_output,
    "sigmoid": _keeps_output,
    "tanh": _keeps_output,
    "softmax": _keeps_output,
    "log_softmax": _keeps_output,
    "leaky_relu": _keeps_input,
    "prelu": _keeps_input,
    "elu": _keeps_input,
    "gelu": _keeps_input,
    "silu": _keeps_input,
    "relu6": _keeps_input,
    "hardswish": _keeps_input,
}

# Blocks whose output is a view of their input (no new storage), in training and evaluation.
VIEWS = frozenset({"flatten"})
# Blocks that are identity in evaluation mode (the output is the input itself).
EVAL_IDENTITY = frozenset({"dropout", "dropout2d"})
# Under fp16 autocast these run in half precision: they keep a half copy of a float32 input and
# of their weight, and give a half output (torch's autocast lower-precision list).
HALF_OPS = frozenset({"conv2d", "conv_transpose2d", "linear"})
# Under fp16 autocast these run in float32 (torch's autocast float32 list).
FLOAT_OPS = frozenset({"softmax", "log_softmax"})


def saved_for_backward(
    type_id: str, params: dict[str, Any], inputs: list[Shape], outputs: list[Shape]
) -> list[Saved] | None:
    """What a block of ``type_id`` keeps for backward, or None for a type the table lacks (a
    block from a local module: the planner then counts its input and output)."""
    rule = RULES.get(type_id)
    return None if rule is None else rule(params, inputs, outputs)
