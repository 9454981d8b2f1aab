"""How each block type is written in exported PyTorch code.

``constructor`` gives the ``nn.*`` call that ``__init__`` assigns (``nn.Conv2d(1, 6,
kernel_size=5)``), leaving out arguments equal to torch's defaults so it reads as if written by
hand; ``inline`` gives the expression of blocks that are plain operations in ``forward`` (Add,
Concat, Scale). Every value goes through ``engine.export.literals``, so only numbers and known
words are written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.catalog import CATALOG, Shape
from engine.export.literals import ExportError, choice, literal, size

INLINE_TYPES = frozenset({"add", "concat", "scale"})
GRAPH_TYPES = frozenset({"input", "output"})


class _Call:
    """Collects the arguments of one constructor call."""

    def __init__(self, cls: str, node: str) -> None:
        self.cls, self.node = cls, node
        self.args: list[str] = []

    def pos(self, text: str) -> _Call:
        self.args.append(text)
        return self

    def kw(self, name: str, value: Any, default: Any = ..., kind: str = "value") -> _Call:
        """``name=value``, left out when ``value`` equals torch's ``default``."""
        what = f"{self.node}: {name}"
        text = size(value, what) if kind == "size" else literal(value, what)
        if default is not ... and text == (
            size(default, what) if kind == "size" else literal(default, what)
        ):
            return self
        self.args.append(f"{name}={text}")
        return self

    def __str__(self) -> str:
        return f"{self.cls}({', '.join(self.args)})"


def _channels(node: str, shapes: list[Shape]) -> str:
    return literal(shapes[0][0], f"{node}: input channels")


def _conv(node: str, p: dict, shapes: list[Shape]) -> _Call:
    call = _Call("nn.Conv2d", node).pos(_channels(node, shapes))
    call.pos(literal(p["out_channels"], f"{node}: out_channels"))
    call.kw("kernel_size", p["kernel_size"], kind="size").kw("stride", p["stride"], 1, "size")
    if p["padding"] == "same":
        call.kw("padding", "same")
    else:
        call.kw("padding", p["padding"], 0, "size")
    call.kw("dilation", p["dilation"], 1, "size").kw("groups", p["groups"], 1)
    return call.kw("bias", p["bias"], True)


def _conv_transpose(node: str, p: dict, shapes: list[Shape]) -> _Call:
    call = _Call("nn.ConvTranspose2d", node).pos(_channels(node, shapes))
    call.pos(literal(p["out_channels"], f"{node}: out_channels"))
    call.kw("kernel_size", p["kernel_size"], kind="size").kw("stride", p["stride"], 1, "size")
    call.kw("padding", p["padding"], 0, "size")
    call.kw("output_padding", p["output_padding"], 0, "size").kw("groups", p["groups"], 1)
    return call.kw("bias", p["bias"], True).kw("dilation", p["dilation"], 1, "size")


def _local(node: str, p: dict, shapes: list[Shape]) -> _Call:
    call = _Call("LocallyConnected2d", node).pos(_channels(node, shapes))
    call.pos(literal(p["out_channels"], f"{node}: out_channels"))
    call.kw("input_size", list(shapes[0][1:]), kind="size")
    call.kw("kernel_size", p["kernel_size"], kind="size").kw("stride", p["stride"], 1, "size")
    return call.kw("padding", p["padding"], 0, "size").kw("bias", p["bias"], True)


def _maxpool(node: str, p: dict, shapes: list[Shape]) -> _Call:
    call = _Call("nn.MaxPool2d", node).kw("kernel_size", p["kernel_size"], kind="size")
    call.kw("stride", p["stride"], None, "size").kw("padding", p["padding"], 0, "size")
    call.kw("dilation", p["dilation"], 1, "size")
    call.kw("return_indices", p["return_indices"], False)
    return call.kw("ceil_mode", p["ceil_mode"], False)


def _avgpool(node: str, p: dict, shapes: list[Shape]) -> _Call:
    call = _Call("nn.AvgPool2d", node).kw("kernel_size", p["kernel_size"], kind="size")
    call.kw("stride", p["stride"], None, "size").kw("padding", p["padding"], 0, "size")
    call.kw("ceil_mode", p["ceil_mode"], False)
    return call.kw("count_include_pad", p["count_include_pad"], True)


def _lppool(node: str, p: dict, shapes: list[Shape]) -> _Call:
    call = _Call("nn.LPPool2d", node).pos(literal(p["norm_type"], f"{node}: norm_type"))
    call.kw("kernel_size", p["kernel_size"], kind="size").kw("stride", p["stride"], None, "size")
    return call.kw("ceil_mode", p["ceil_mode"], False)


def _unpool(node: str, p: dict, shapes: list[Shape]) -> _Call:
    call = _Call("nn.MaxUnpool2d", node).kw("kernel_size", p["kernel_size"], kind="size")
    return call.kw("stride", p["stride"], None, "size").kw("padding", p["padding"], 0, "size")


def _adaptive(cls: str) -> Callable[[str, dict, list[Shape]], _Call]:
    def emit(node: str, p: dict, shapes: list[Shape]) -> _Call:
        return _Call(cls, node).pos(size(p["output_size"], f"{node}: output_size"))

    return emit


def _upsample(node: str, p: dict, shapes: list[Shape]) -> _Call:
    mode = choice(p["mode"], ("nearest", "bilinear"), f"{node}: mode")
    call = _Call("nn.Upsample", node).kw("scale_factor", float(p["scale_factor"]))
    call.pos(f"mode={mode}")
    return call.kw("align_corners", False) if p["mode"] == "bilinear" else call


def _batchnorm(node: str, p: dict, shapes: list[Shape]) -> _Call:
    cls = "nn.BatchNorm2d" if len(shapes[0]) == 3 else "nn.BatchNorm1d"
    call = _Call(cls, node).pos(_channels(node, shapes)).kw("eps", p["eps"], 1e-5)
    return call.kw("momentum", p["momentum"], 0.1).kw("affine", p["affine"], True)


def _lrn(node: str, p: dict, shapes: list[Shape]) -> _Call:
    call = _Call("nn.LocalResponseNorm", node).pos(literal(p["size"], f"{node}: size"))
    return call.kw("alpha", p["alpha"], 1e-4).kw("beta", p["beta"], 0.75).kw("k", p["k"], 1.0)


def _dropout(cls: str) -> Callable[[str, dict, list[Shape]], _Call]:
    return lambda node, p, shapes: _Call(cls, node).kw("p", p["p"], 0.5)


def _plain(cls: str) -> Callable[[str, dict, list[Shape]], _Call]:
    return lambda node, p, shapes: _Call(cls, node)


def _prelu(node: str, p: dict, shapes: list[Shape]) -> _Call:
    count = shapes[0][0] if p["per_channel"] else 1
    return _Call("nn.PReLU", node).kw("num_parameters", count, 1).kw("init", p["init"], 0.25)


def _linear(node: str, p: dict, shapes: list[Shape]) -> _Call:
    call = _Call("nn.Linear", node).pos(_channels(node, shapes))
    return call.pos(literal(p["out_features"], f"{node}: out_features")).kw("bias", p["bias"], True)


def _softmax(cls: str) -> Callable[[str, dict, list[Shape]], _Call]:
    return lambda node, p, shapes: _Call(cls, node).kw("dim", p["dim"])


CONSTRUCTORS: dict[str, Callable[[str, dict, list[Shape]], _Call]] = {
    "conv2d": _conv,
    "conv_transpose2d": _conv_transpose,
    "locally_connected2d": _local,
    "maxpool2d": _maxpool,
    "avgpool2d": _avgpool,
    "lppool2d": _lppool,
    "maxunpool2d": _unpool,
    "adaptive_avgpool2d": _adaptive("nn.AdaptiveAvgPool2d"),
    "adaptive_maxpool2d": _adaptive("nn.AdaptiveMaxPool2d"),
    "global_avgpool": lambda node, p, shapes: (
        _Call("nn.Sequential", node).pos("nn.AdaptiveAvgPool2d(1)").pos("nn.Flatten()")
    ),
    "upsample": _upsample,
    "batchnorm": _batchnorm,
    "local_response_norm": _lrn,
    "dropout": _dropout("nn.Dropout"),
    "dropout2d": _dropout("nn.Dropout2d"),
    "relu": _plain("nn.ReLU"),
    "leaky_relu": lambda node, p, shapes: _Call("nn.LeakyReLU", node).kw(
        "negative_slope", p["negative_slope"], 0.01
    ),
    "prelu": _prelu,
    "elu": lambda node, p, shapes: _Call("nn.ELU", node).kw("alpha", p["alpha"], 1.0),
    "gelu": lambda node, p, shapes: _gelu(node, p),
    "silu": _plain("nn.SiLU"),
    "relu6": _plain("nn.ReLU6"),
    "hardswish": _plain("nn.Hardswish"),
    "sigmoid": _plain("nn.Sigmoid"),
    "tanh": _plain("nn.Tanh"),
    "softmax": _softmax("nn.Softmax"),
    "log_softmax": _softmax("nn.LogSoftmax"),
    "flatten": _plain("nn.Flatten"),
    "unflatten": lambda node, p, shapes: (
        _Call("nn.Unflatten", node).pos("1").pos(literal(list(p["shape"]), f"{node}: shape"))
    ),
    "linear": _linear,
}


def _gelu(node: str, p: dict) -> _Call:
    choice(p["approximate"], ("none", "tanh"), f"{node}: approximate")
    return _Call("nn.GELU", node).kw("approximate", p["approximate"], "none")


# classes torch lacks, by block type: the exported file defines them before the network
HELPER_CLASSES: dict[str, str] = {"locally_connected2d": "LocallyConnected2d"}


def helper_sources(type_ids: set[str]) -> str:
    """The source of the classes that ``type_ids`` need beyond torch (empty when none)."""
    if not type_ids & HELPER_CLASSES.keys():
        return ""
    import inspect

    from engine.catalog import local_module

    names = sorted({HELPER_CLASSES[t] for t in type_ids & HELPER_CLASSES.keys()})
    parts = [inspect.getsource(local_module._pair)]
    parts += [inspect.getsource(getattr(local_module, name)) for name in names]
    return "\n\n".join(parts) + "\n\n"


def constructor(node: str, type_id: str, params: dict[str, Any], shapes: list[Shape]) -> str:
    """The ``nn.*(...)`` call that builds ``node``'s layer, from numbers and known words only."""
    emit = CONSTRUCTORS.get(type_id)
    if emit is None:
        raise ExportError(
            f"{node} ({type_id}): this block type has no PyTorch code writer yet. "
            "Add one to engine/export/layers.py"
        )
    return str(emit(node, CATALOG.get(type_id).with_defaults(params), shapes))


def inline(node: str, type_id: str, params: dict[str, Any], args: list[str]) -> str:
    """The expression of a block written as an operation in ``forward`` (Add, Concat, Scale)."""
    if type_id == "add":
        return " + ".join(args)
    if type_id == "concat":
        return f"torch.cat([{', '.join(args)}], dim=1)"
    if type_id == "scale":
        factor = CATALOG.get(type_id).with_defaults(params)["factor"]
        return f"{args[0]} * {literal(factor, f'{node}: factor')}"
    raise ExportError(f"{node} ({type_id}): not an inline operation")


def supported(type_id: str) -> bool:
    """Whether blocks of ``type_id`` can be exported."""
    return type_id in CONSTRUCTORS or type_id in INLINE_TYPES or type_id in GRAPH_TYPES
