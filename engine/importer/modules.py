"""torch modules to catalog blocks: ``convert_module(module, input_shapes) -> Block``.

Only exact torch classes are mapped (a subclass may change ``forward``); values are read from the
module's attributes and normalised as the designer stores them (3 rather than (3, 3)). A module
that has no faithful block raises ``UnmappableError`` with the reason, which the importer lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.catalog import CATALOG, Shape


class UnmappableError(Exception):
    """A module or function without a faithful catalog block; the message says why."""


@dataclass
class Block:
    """A catalog block to add: its type and parameters (None type_id: a plain wire), and a
    warning when the block works where the original did not (the importer lists it)."""

    type_id: str | None
    params: dict[str, Any] = field(default_factory=dict)
    warning: str | None = None


WIRE = Block(None)


def normalized(type_id: str, params: dict[str, Any]) -> Block:
    """A block with parameters in the designer's canonical form (pairs of equal sides as ints)."""
    spec = CATALOG.get(type_id)
    clean = {}
    for name, value in params.items():
        if isinstance(value, tuple):
            value = list(value)
        clean[name] = spec.param(name).normalize(value)
    return Block(spec.type_id, clean)


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise UnmappableError(reason)


def _conv(m: Any, shapes: list[Shape]) -> Block:
    _require(m.padding_mode == "zeros", f"padding_mode={m.padding_mode!r} (only zeros)")
    padding = m.padding
    if padding == "valid":
        padding = 0
    return normalized(
        "conv2d",
        {
            "out_channels": m.out_channels,
            "kernel_size": m.kernel_size,
            "stride": m.stride,
            "padding": padding,
            "dilation": m.dilation,
            "groups": m.groups,
            "bias": m.bias is not None,
        },
    )


def _conv_transpose(m: Any, shapes: list[Shape]) -> Block:
    _require(m.padding_mode == "zeros", f"padding_mode={m.padding_mode!r} (only zeros)")
    return normalized(
        "conv_transpose2d",
        {
            "out_channels": m.out_channels,
            "kernel_size": m.kernel_size,
            "stride": m.stride,
            "padding": m.padding,
            "output_padding": m.output_padding,
            "dilation": m.dilation,
            "groups": m.groups,
            "bias": m.bias is not None,
        },
    )


def pool_stride(kernel: Any, stride: Any) -> Any:
    """None (the designer's "same as the kernel") when the stride equals the kernel size."""
    as_pair = lambda v: tuple(v) if isinstance(v, list | tuple) else (v, v)  # noqa: E731
    if stride is None or (isinstance(stride, list | tuple) and len(stride) == 0):
        return None
    return None if as_pair(stride) == as_pair(kernel) else stride


def _maxpool(m: Any, shapes: list[Shape]) -> Block:
    return normalized(
        "maxpool2d",
        {
            "kernel_size": m.kernel_size,
            "stride": pool_stride(m.kernel_size, m.stride),
            "padding": m.padding,
            "dilation": m.dilation,
            "ceil_mode": bool(m.ceil_mode),
            "return_indices": bool(m.return_indices),
        },
    )


def _avgpool(m: Any, shapes: list[Shape]) -> Block:
    _require(m.divisor_override is None, "divisor_override is set")
    return normalized(
        "avgpool2d",
        {
            "kernel_size": m.kernel_size,
            "stride": pool_stride(m.kernel_size, m.stride),
            "padding": m.padding,
            "ceil_mode": bool(m.ceil_mode),
            "count_include_pad": bool(m.count_include_pad),
        },
    )


def _lppool(m: Any, shapes: list[Shape]) -> Block:
    return normalized(
        "lppool2d",
        {
            "norm_type": float(m.norm_type),
            "kernel_size": m.kernel_size,
            "stride": pool_stride(m.kernel_size, m.stride),
            "ceil_mode": bool(m.ceil_mode),
        },
    )


def _unpool(m: Any, shapes: list[Shape]) -> Block:
    return normalized(
        "maxunpool2d",
        {
            "kernel_size": m.kernel_size,
            "stride": pool_stride(m.kernel_size, m.stride),
            "padding": m.padding,
        },
    )


def _adaptive(type_id: str) -> Callable[[Any, list[Shape]], Block]:
    def convert(m: Any, shapes: list[Shape]) -> Block:
        size = m.output_size
        sizes = size if isinstance(size, list | tuple) else (size, size)
        _require(all(s is not None for s in sizes), "an output_size of None keeps the input size")
        _require(not getattr(m, "return_indices", False), "return_indices=True")
        return normalized(type_id, {"output_size": size})

    return convert


def _upsample(m: Any, shapes: list[Shape]) -> Block:
    _require(m.size is None and m.scale_factor is not None, "a fixed output size (size=...)")
    scale = m.scale_factor
    if isinstance(scale, list | tuple):
        _require(len(set(scale)) == 1, f"different scale factors per axis {scale}")
        scale = scale[0]
    _require(m.mode in ("nearest", "bilinear"), f"mode={m.mode!r}")
    _require(not m.align_corners, "align_corners=True")
    return normalized("upsample", {"scale_factor": float(scale), "mode": m.mode})


def _batchnorm(m: Any, shapes: list[Shape]) -> Block:
    _require(m.momentum is not None, "momentum=None (a cumulative average)")
    _require(m.track_running_stats, "track_running_stats=False")
    return normalized(
        "batchnorm", {"eps": float(m.eps), "momentum": float(m.momentum), "affine": m.affine}
    )


def _prelu(m: Any, shapes: list[Shape]) -> Block:
    weight = m.weight.detach().flatten()
    init = 0.25  # trained slopes that differ per channel: keep the usual starting value
    if not weight.is_meta and weight.numel() and bool((weight == weight[0]).all()):
        init = round(float(weight[0]), 6)
    return normalized("prelu", {"per_channel": m.num_parameters > 1, "init": init})


def _flatten(m: Any, shapes: list[Shape]) -> Block:
    _require(m.start_dim == 1 and m.end_dim == -1, f"start_dim={m.start_dim}, end_dim={m.end_dim}")
    return Block("flatten")


def _softmax(type_id: str) -> Callable[[Any, list[Shape]], Block]:
    def convert(m: Any, shapes: list[Shape]) -> Block:
        _require(m.dim is not None, "dim=None (implicit dimension)")
        return normalized(type_id, {"dim": m.dim})

    return convert


def _simple(type_id: str, **attributes: str) -> Callable[[Any, list[Shape]], Block]:
    def convert(m: Any, shapes: list[Shape]) -> Block:
        return normalized(type_id, {p: getattr(m, a) for p, a in attributes.items()})

    return convert


def _global_avgpool(m: Any, shapes: list[Shape]) -> Block:
    return Block("global_avgpool")


def is_global_avgpool(module: Any) -> bool:
    """``nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())``: the GlobalAvgPool block."""
    from torch import nn

    if type(module) is not nn.Sequential or len(module) != 2:
        return False
    pool, flat = module[0], module[1]
    return (
        type(pool) is nn.AdaptiveAvgPool2d
        and pool.output_size in (1, (1, 1))
        and type(flat) is nn.Flatten
        and (flat.start_dim, flat.end_dim) == (1, -1)
    )


def _table() -> dict[type, Callable[[Any, list[Shape]], Block]]:
    from torch import nn

    return {
        nn.Conv2d: _conv,
        nn.ConvTranspose2d: _conv_transpose,
        nn.MaxPool2d: _maxpool,
        nn.AvgPool2d: _avgpool,
        nn.LPPool2d: _lppool,
        nn.MaxUnpool2d: _unpool,
        nn.AdaptiveAvgPool2d: _adaptive("adaptive_avgpool2d"),
        nn.AdaptiveMaxPool2d: _adaptive("adaptive_maxpool2d"),
        nn.Upsample: _upsample,
        nn.BatchNorm2d: _batchnorm,
        nn.BatchNorm1d: _batchnorm,
        nn.LocalResponseNorm: _simple(
            "local_response_norm", size="size", alpha="alpha", beta="beta", k="k"
        ),
        nn.Dropout: _simple("dropout", p="p"),
        nn.Dropout2d: _simple("dropout2d", p="p"),
        nn.ReLU: _simple("relu"),
        nn.LeakyReLU: _simple("leaky_relu", negative_slope="negative_slope"),
        nn.PReLU: _prelu,
        nn.ELU: _simple("elu", alpha="alpha"),
        nn.GELU: _simple("gelu", approximate="approximate"),
        nn.SiLU: _simple("silu"),
        nn.ReLU6: _simple("relu6"),
        nn.Hardswish: _simple("hardswish"),
        nn.Sigmoid: _simple("sigmoid"),
        nn.Tanh: _simple("tanh"),
        nn.Softmax: _softmax("softmax"),
        nn.LogSoftmax: _softmax("log_softmax"),
        nn.Flatten: _flatten,
        nn.Linear: lambda m, s: normalized(
            "linear", {"out_features": m.out_features, "bias": m.bias is not None}
        ),
        nn.Identity: lambda m, s: WIRE,
        **_designer_modules(),
    }


def _designer_modules() -> dict[type, Callable[[Any, list[Shape]], Block]]:
    """Modules of the designer's own blocks (a compiled design imported back)."""
    try:
        from engine.catalog.scale import Scale  # type: ignore[attr-defined]
    except ImportError:
        return {}
    return {Scale: lambda m, s: normalized("scale", {"factor": float(m.factor)})}


_TABLE: dict[type, Callable[[Any, list[Shape]], Block]] = {}


def convert_module(module: Any, shapes: list[Shape]) -> Block:
    """The block for a leaf module; UnmappableError says why there is none."""
    if not _TABLE:
        _TABLE.update(_table())
    if is_global_avgpool(module):
        return _global_avgpool(module, shapes)
    convert = _TABLE.get(type(module))
    if convert is None:
        raise UnmappableError(f"no catalog block for {type(module).__name__}")
    return convert(module, shapes)
