"""Building units shared by several families: convolution + BatchNorm + activation, the head.

Each unit is a handful of ordinary blocks added through ``GraphBuilder``, grouped under one name
(torchvision's ``BasicConv2d`` becomes the group ``conv1`` with nodes ``conv1.conv``,
``conv1.bn`` and ``conv1.relu``), so a user sees and can edit every layer.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from presets.builder import GraphBuilder, Ref
from presets.registry import PresetOption

Size = int | tuple[int, int]


def _size(value: Size) -> int | list[int]:
    """A kernel/stride/padding as a block parameter: k, or [kh, kw] when the axes differ."""
    if isinstance(value, tuple):
        return value[0] if value[0] == value[1] else list(value)
    return value


def conv(
    b: GraphBuilder,
    local: str,
    source: Ref,
    out_channels: int,
    kernel_size: Size,
    stride: Size = 1,
    padding: Size = 0,
    groups: int = 1,
    bias: bool = True,
) -> str:
    """One Conv2d block (sizes may be (h, w) tuples)."""
    return b.add(
        "conv2d",
        local,
        source,
        out_channels=out_channels,
        kernel_size=_size(kernel_size),
        stride=_size(stride),
        padding=_size(padding),
        groups=groups,
        bias=bias,
    )


def conv_bn_act(
    b: GraphBuilder,
    local: str,
    source: Ref,
    out_channels: int,
    kernel_size: Size,
    stride: Size = 1,
    padding: Size = 0,
    *,
    groups: int = 1,
    batch_norm: bool = True,
    eps: float = 1e-5,
    activation: str | None = "relu",
    names: tuple[str, str, str] = ("conv", "bn", "relu"),
) -> str:
    """Group ``local``: conv (bias only without BN), BatchNorm, activation; returns the last node.

    ``names`` are the node names inside the group: torchvision's BasicConv2d uses
    ("conv", "bn", "relu"), its Conv2dNormActivation ("0", "1", "2").
    """
    with b.group(local):
        x = conv(
            b, names[0], source, out_channels, kernel_size, stride, padding, groups, not batch_norm
        )
        if batch_norm:
            x = b.add("batchnorm", names[1], x, eps=eps)
        if activation is not None:
            x = b.add(activation, names[2], x)
    return x


def classes_option(default: int = 1000) -> PresetOption:
    """The ``classes`` option every preset has."""
    return PresetOption("classes", default, help="Number of classes (outputs of the last layer).")


def resolution_option(
    default: int, minimum: int, minimum_when: tuple[tuple[str, Any, int], ...] = ()
) -> PresetOption:
    """The ``resolution`` option: the input's height and width (no change to the layers).

    ``minimum_when`` lists higher minimums under other options' values, (option, value, minimum).
    """
    option = PresetOption(
        "resolution", default, structural=False, minimum=minimum, minimum_when=minimum_when
    )
    help = f"Input height and width (the standard is {default}; {option.describe_minimum()})."
    return dataclasses.replace(option, help=help)


def batch_norm_option(default: bool, help: str) -> PresetOption:
    """The ``batch_norm`` option."""
    return PresetOption("batch_norm", default, (False, True), help)


def aux_logits_option(help: str) -> PresetOption:
    """The ``aux_logits`` option (off by default: evaluation needs only the main output)."""
    return PresetOption("aux_logits", False, (False, True), help)
