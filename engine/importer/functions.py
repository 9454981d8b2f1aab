"""torch functions and tensor methods to catalog blocks (``F.relu``, ``torch.cat``, ``x + y``...).

``convert_call(node)`` returns the block and the fx nodes that feed it, in port order. Arguments
are bound by the functions' documented signatures; an argument the block cannot express (a
``dim`` other than the channels, an ``alpha`` on ``torch.add``) raises ``UnmappableError``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from engine.importer.modules import WIRE, Block, UnmappableError, normalized, pool_stride

Signature = tuple[Any, ...]  # "name" (required) or ("name", default)
Converter = Callable[[dict[str, Any], Any], tuple[Block, list[Any]]]


def bind(signature: Signature, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Arguments by name, defaults filled in."""
    names = [s if isinstance(s, str) else s[0] for s in signature]
    bound = {s[0]: s[1] for s in signature if not isinstance(s, str)}
    if len(args) > len(names):
        raise UnmappableError(f"{len(args)} positional arguments (expected at most {len(names)})")
    bound.update(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in names:
            raise UnmappableError(f"argument {key}={value!r}")
        bound[key] = value
    if missing := [n for n in names if n not in bound]:
        raise UnmappableError(f"missing argument {missing[0]}")
    return bound


def _is_tensor(value: Any) -> bool:
    import torch.fx

    return isinstance(value, torch.fx.Node) and "tensor_meta" in value.meta


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(value.meta["tensor_meta"].shape)


def _unary(type_id: str, **params: str) -> Converter:
    """A one-input block whose parameters come from arguments of the same meaning."""

    def convert(bound: dict[str, Any], node: Any) -> tuple[Block, list[Any]]:
        return normalized(type_id, {p: bound[a] for p, a in params.items()}), [bound["input"]]

    return convert


def _softmax(type_id: str) -> Converter:
    def convert(bound: dict[str, Any], node: Any) -> tuple[Block, list[Any]]:
        if bound["dim"] is None or bound.get("dtype") is not None:
            raise UnmappableError("dim=None or a dtype")
        return normalized(type_id, {"dim": bound["dim"]}), [bound["input"]]

    return convert


def _flatten(bound: dict[str, Any], node: Any) -> tuple[Block, list[Any]]:
    rank = len(_shape(bound["input"]))
    if bound["start_dim"] != 1 or bound["end_dim"] not in (-1, rank - 1):
        raise UnmappableError(
            f"flatten from dim {bound['start_dim']} (the designer keeps the batch)"
        )
    return Block("flatten"), [bound["input"]]


def _reshape(bound: dict[str, Any], node: Any) -> tuple[Block, list[Any]]:
    """``x.view(x.size(0), -1)`` and friends: a Flatten when the result is (batch, C·H·W).

    The trace runs at batch 1, so ``x.view(1, -1)`` gives (1, C·H·W) too; but its batch size is
    a constant of the code, and the original then works only at batch 1: the Flatten keeps
    every batch, which the warning says."""
    before, after = _shape(bound["input"]), _shape(node)
    if not (len(after) == 2 and after[0] == before[0] and after[1] == math.prod(before[1:])):
        raise UnmappableError(
            f"reshape to {after} (only flattening to (batch, features) is a block)"
        )
    shape = bound["shape"]
    first = shape[0] if isinstance(shape, list | tuple) and shape else shape
    warning = None
    if isinstance(first, int) and not isinstance(first, bool) and first != -1:
        method = node.target if isinstance(node.target, str) else "reshape"
        warning = (
            f"the batch size is the constant {first} in {method}({first}, ...), fixed when the "
            f"model was traced: the original works only at batch {first}, the imported Flatten "
            "at any batch. Write x.view(x.size(0), -1) or torch.flatten(x, 1) in the model"
        )
    return Block("flatten", warning=warning), [bound["input"]]


def _pool(type_id: str) -> Converter:
    def convert(bound: dict[str, Any], node: Any) -> tuple[Block, list[Any]]:
        if bound.get("divisor_override") is not None:
            raise UnmappableError("divisor_override is set")
        params = {
            "kernel_size": bound["kernel_size"],
            "stride": pool_stride(bound["kernel_size"], bound["stride"]),
            "padding": bound["padding"],
            "ceil_mode": bool(bound["ceil_mode"]),
        }
        if type_id == "maxpool2d":
            params.update(dilation=bound["dilation"], return_indices=bound["return_indices"])
        else:
            params["count_include_pad"] = bool(bound["count_include_pad"])
        return normalized(type_id, params), [bound["input"]]

    return convert


def _adaptive(type_id: str) -> Converter:
    def convert(bound: dict[str, Any], node: Any) -> tuple[Block, list[Any]]:
        size = bound["output_size"]
        sizes = size if isinstance(size, list | tuple) else (size, size)
        if any(s is None for s in sizes) or bound.get("return_indices"):
            raise UnmappableError("output_size None or return_indices")
        return normalized(type_id, {"output_size": size}), [bound["input"]]

    return convert


def _add(bound: dict[str, Any], node: Any) -> tuple[Block, list[Any]]:
    if bound.get("alpha", 1) != 1:
        raise UnmappableError(f"alpha={bound['alpha']}")
    if not (_is_tensor(bound["input"]) and _is_tensor(bound["other"])):
        raise UnmappableError("adds a constant (the Add block sums tensors)")
    if _shape(bound["input"]) != _shape(bound["other"]):
        raise UnmappableError("broadcasting add of different shapes")
    return Block("add"), [bound["input"], bound["other"]]


def _mul(bound: dict[str, Any], node: Any) -> tuple[Block, list[Any]]:
    tensor, factor = bound["input"], bound["other"]
    if not _is_tensor(tensor):
        tensor, factor = factor, tensor
    if not _is_tensor(tensor) or isinstance(factor, bool) or not isinstance(factor, int | float):
        raise UnmappableError("multiplies tensors (only a constant factor is a Scale block)")
    return normalized("scale", {"factor": float(factor)}), [tensor]


def _cat(bound: dict[str, Any], node: Any) -> tuple[Block, list[Any]]:
    tensors = list(bound["tensors"])
    if len(tensors) == 1 and _is_tensor(tensors[0]):
        return WIRE, tensors  # concatenating one tensor returns it unchanged
    rank = len(_shape(node))
    if bound["dim"] not in (1, 1 - rank) or not all(_is_tensor(t) for t in tensors):
        raise UnmappableError(
            f"concatenates along dim {bound['dim']} (the Concat block uses dim 1)"
        )
    return Block("concat"), tensors


def _dropout(type_id: str) -> Converter:
    """A Dropout block for ``F.dropout(x, p, training=self.training)``, traced in eval mode as
    training=False. ``training=True`` (F.dropout's default) drops in eval mode too, which no
    block does: it is listed as not mapped rather than changed silently."""

    def convert(bound: dict[str, Any], node: Any) -> tuple[Block, list[Any]]:
        if bound["training"] is not False:
            raise UnmappableError(
                f"training={bound['training']!r} (F.{node.target.__name__}'s default) drops in "
                "evaluation mode too, and a Dropout block drops only while training. Pass "
                "training=self.training to drop only while training"
            )
        return normalized(type_id, {"p": float(bound["p"])}), [bound["input"]]

    return convert


def _identity(bound: dict[str, Any], node: Any) -> tuple[Block, list[Any]]:
    return WIRE, [bound["input"]]


_X = ("input",)
_INPLACE = ("inplace", False)
_POOL = ("input", "kernel_size", ("stride", None), ("padding", 0))


def _table() -> dict[Any, tuple[Signature, Converter]]:
    import torch
    import torch.nn.functional as F  # noqa: N812

    softmax_sig = ("input", ("dim", None), ("_stacklevel", 3), ("dtype", None))
    flatten_sig = ("input", ("start_dim", 0), ("end_dim", -1))
    add_sig = ("input", "other", ("alpha", 1))
    entries: list[tuple[tuple[Any, ...], Signature, Converter]] = [
        ((F.relu, torch.relu, "relu"), (*_X, _INPLACE), _unary("relu")),
        ((F.relu6,), (*_X, _INPLACE), _unary("relu6")),
        (
            (F.leaky_relu,),
            (*_X, ("negative_slope", 0.01), _INPLACE),
            _unary("leaky_relu", negative_slope="negative_slope"),
        ),
        ((F.elu,), (*_X, ("alpha", 1.0), _INPLACE), _unary("elu", alpha="alpha")),
        ((F.gelu,), (*_X, ("approximate", "none")), _unary("gelu", approximate="approximate")),
        ((F.silu,), (*_X, _INPLACE), _unary("silu")),
        ((F.hardswish,), (*_X, _INPLACE), _unary("hardswish")),
        ((torch.sigmoid, F.sigmoid, "sigmoid"), _X, _unary("sigmoid")),
        ((torch.tanh, F.tanh, "tanh"), _X, _unary("tanh")),
        ((F.softmax, torch.softmax, "softmax"), softmax_sig, _softmax("softmax")),
        ((F.log_softmax, torch.log_softmax, "log_softmax"), softmax_sig, _softmax("log_softmax")),
        ((torch.flatten, "flatten"), flatten_sig, _flatten),
        (("view", "reshape", torch.reshape), ("input", "shape"), _reshape),
        (
            (F.max_pool2d,),
            (*_POOL, ("dilation", 1), ("ceil_mode", False), ("return_indices", False)),
            _pool("maxpool2d"),
        ),
        (
            (F.avg_pool2d,),
            (*_POOL, ("ceil_mode", False), ("count_include_pad", True), ("divisor_override", None)),
            _pool("avgpool2d"),
        ),
        ((F.adaptive_avg_pool2d,), ("input", "output_size"), _adaptive("adaptive_avgpool2d")),
        (
            (F.adaptive_max_pool2d,),
            ("input", "output_size", ("return_indices", False)),
            _adaptive("adaptive_maxpool2d"),
        ),
        ((F.dropout,), (*_X, ("p", 0.5), ("training", True), _INPLACE), _dropout("dropout")),
        ((F.dropout2d,), (*_X, ("p", 0.5), ("training", True), _INPLACE), _dropout("dropout2d")),
        ((operator.add, operator.iadd, torch.add, "add"), add_sig, _add),
        ((operator.mul, torch.mul, "mul"), ("input", "other"), _mul),
        ((torch.cat, torch.concat, torch.concatenate), ("tensors", ("dim", 0)), _cat),
        (("contiguous",), _X, _identity),
    ]
    return {target: (sig, conv) for targets, sig, conv in entries for target in targets}


_TABLE: dict[Any, tuple[Signature, Converter]] = {}


def convert_call(node: Any) -> tuple[Block, list[Any]]:
    """The block for a call_function/call_method fx node, and its tensor inputs in port order."""
    if not _TABLE:
        _TABLE.update(_table())
    entry = _TABLE.get(node.target)
    if entry is None:
        name = (
            node.target
            if isinstance(node.target, str)
            else getattr(node.target, "__name__", str(node.target))
        )
        kind = "tensor method" if node.op == "call_method" else "function"
        raise UnmappableError(f"no catalog block for the {kind} {name}")
    signature, convert = entry
    args = tuple(node.args)
    if node.op == "call_method" and node.target in ("view", "reshape") and len(args) > 2:
        args = (args[0], args[1:])  # x.view(a, b) passes the shape unpacked
    return convert(bind(signature, args, dict(node.kwargs)), node)
