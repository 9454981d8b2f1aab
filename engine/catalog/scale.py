"""The Scale block: multiplies its input by a constant (Inception-ResNet's scaled residuals).

Inception-ResNet-v2 adds ``0.17 * branch`` (or 0.10, 0.20) to its shortcut, which no other block
can express without parameters. The torch module is created on first use so that importing the
catalog does not import torch; the class is reachable as ``engine.catalog.scale.Scale`` so that
pickled models load again.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from engine.catalog.spec import BlockSpec, RuleContext, Shape
from engine.params import Params, float_param


@cache
def _scale_class() -> type:
    import torch
    from torch import nn

    class Scale(nn.Module):
        """``x * factor``, a parameter-free constant multiplication."""

        def __init__(self, factor: float) -> None:
            super().__init__()
            self.factor = float(factor)

        # typed, not ``Any``: torch.jit.script refuses Any, and a design it cannot script is
        # exported as a trace, frozen in evaluation mode (Dropout and BatchNorm ignore .train())
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.factor

        def extra_repr(self) -> str:
            return f"factor={self.factor:g}"

    Scale.__module__ = __name__
    Scale.__qualname__ = "Scale"
    return Scale


def __getattr__(name: str) -> Any:  # PEP 562: ``Scale`` appears when first asked for
    if name == "Scale":
        return _scale_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_scale(p: Params, inputs: list[Shape]) -> Any:
    return _scale_class()(p["factor"])


def scale_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    return (ctx.input(),)


SCALE = BlockSpec(
    type_id="scale",
    display_name="Scale",
    category="Structure",
    description="Multiplies every value by a constant factor, e.g. a residual branch before its Add.",
    params=(float_param("factor", 1.0, "The constant every value is multiplied by."),),
    shape=scale_shape,
    build=build_scale,
    name_prefix="scale",
    label=lambda p: f"×{p['factor']:g}",
)

SPECS = (SCALE,)
