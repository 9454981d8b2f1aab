"""The declarative description of a block type: ``BlockSpec``.

A spec says everything about one type in one place: its parameters, its ports, the rule that
gives its output shapes, its parameter and multiply-accumulate counts, the one-line label the
canvas shows, and the torch module it becomes. Shapes are per sample, without the batch axis:
``(C, H, W)`` for images and ``(F,)`` for vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

from engine.diagnostics import Fix
from engine.params import ParamKind, Params, ParamSpec, as_float

if TYPE_CHECKING:
    from torch import nn

Shape = tuple[int, ...]


class ShapeRuleError(Exception):
    """Raised by a shape rule: the message (without the node prefix), an optional fix, and other
    fixes that repair the node too (inference offers whichever leaves the network cleanest)."""

    def __init__(
        self,
        message: str,
        fix: Fix | None = None,
        code: str = "shape",
        alternatives: tuple[Fix, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.code = code
        self.alternatives = alternatives


@dataclass
class RuleContext:
    """What a shape rule sees: the node, its parameters (defaults filled in) and input shapes."""

    node: str
    params: Params
    inputs: list[Shape]
    warnings: list[tuple[str, Fix | None]] = field(default_factory=list)
    ports: tuple[str, ...] = ()  # the input port of each shape in ``inputs``, where known

    def port(self, index: int) -> str:
        """The input port that receives ``inputs[index]`` (in0, in1, ... by default)."""
        return self.ports[index] if index < len(self.ports) else f"in{index}"

    def warn(self, message: str, fix: Fix | None = None) -> None:
        """Record a warning; the rule still returns its shapes."""
        self.warnings.append((message, fix))

    def fail(
        self,
        message: str,
        fix: Fix | None = None,
        code: str = "shape",
        alternatives: tuple[Fix, ...] = (),
    ) -> NoReturn:
        """Stop the rule: the node gets an error diagnostic and unknown outputs. ``fix`` is the
        preferred repair, ``alternatives`` others that also make the node valid."""
        raise ShapeRuleError(message, fix, code, alternatives)

    def input(self, index: int = 0) -> Shape:
        """The shape on input ``index``."""
        return self.inputs[index]

    def image_input(self, what: str = "this block") -> tuple[int, int, int]:
        """The input as (C, H, W); fail with a fix when it is a flat vector."""
        shape = self.inputs[0]
        if len(shape) != 3:
            self.fail(
                f"{what} needs a C×H×W image input, but receives a vector of {fmt_shape(shape)}. "
                "Move it before the Flatten, or feed it from a convolution or pooling layer",
                code="rank",
            )
        return shape[0], shape[1], shape[2]


def fmt_shape(shape: Shape | None) -> str:
    """A shape as the canvas writes it: 64×56×56, or ? when unknown."""
    if shape is None:
        return "?"
    return "×".join(str(s) for s in shape)


def _default_outputs(params: Params) -> tuple[str, ...]:
    return ("out",)


def _no_count(params: Params, inputs: list[Shape]) -> int:
    return 0


def _no_macs(params: Params, inputs: list[Shape], outputs: tuple[Shape, ...]) -> int:
    return 0


def _no_label(params: Params) -> str:
    return ""


@dataclass(frozen=True)
class BlockSpec:
    """One block type of the catalog."""

    type_id: str
    display_name: str
    category: str
    description: str
    params: tuple[ParamSpec, ...]
    shape: Callable[[RuleContext], tuple[Shape, ...]]
    build: Callable[[Params, list[Shape]], nn.Module] | None
    name_prefix: str
    inputs: tuple[str, ...] = ("in",)
    variadic: bool = False  # inputs are in0, in1, ... (Add, Concat)
    min_inputs: int = 1
    outputs: Callable[[Params], tuple[str, ...]] = _default_outputs
    param_count: Callable[[Params, list[Shape]], int] = _no_count
    macs: Callable[[Params, list[Shape], tuple[Shape, ...]], int] = _no_macs
    label: Callable[[Params], str] = _no_label
    old_ids: tuple[str, ...] = ()
    # other words people search for it by ("fc", "dense" for Linear; "bn" for BatchNorm)
    keywords: tuple[str, ...] = ()

    def param(self, name: str) -> ParamSpec:
        """The spec of one parameter."""
        for spec in self.params:
            if spec.name == name:
                return spec
        from engine.errors import UnknownNameError

        raise UnknownNameError(f"parameter of {self.type_id}", name, [p.name for p in self.params])

    def defaults(self) -> Params:
        """Every parameter at its default value."""
        return {p.name: p.default for p in self.params}

    def with_defaults(self, params: Params) -> Params:
        """``params`` completed with defaults for the parameters it leaves out, decimal ones as
        floats (torch reads a whole number as a 64-bit integer: see ``engine.params.as_float``)."""
        full = self.defaults()
        full.update(params)
        for spec in self._float_params:
            full[spec.name] = as_float(full[spec.name])
        return full

    @cached_property
    def _float_params(self) -> tuple[ParamSpec, ...]:
        return tuple(p for p in self.params if p.kind is ParamKind.FLOAT)

    def input_ports(self, connected: int = 0) -> tuple[str, ...]:
        """Input port names; a variadic block shows one free port beyond those connected."""
        if not self.variadic:
            return self.inputs
        count = max(self.min_inputs, connected + 1)
        return tuple(f"in{i}" for i in range(count))

    def accepts_port(self, port: str) -> bool:
        """Whether ``port`` names one of this block's input ports."""
        if self.variadic:
            return port.startswith("in") and port[2:].isdigit()
        return port in self.inputs

    @property
    def is_source(self) -> bool:
        """Blocks without inputs (Input) start the graph."""
        return not self.inputs and not self.variadic


def any_args(**kwargs: Any) -> dict[str, Any]:
    """Keyword arguments without those whose value is None (torch then uses its default)."""
    return {k: v for k, v in kwargs.items() if v is not None}
