"""Unflatten: a flat vector of features reshaped back into C×H×W feature maps.

The dense equivalent of a convolution (``designer.lecture.replace``) is Flatten → Linear →
Unflatten: the Linear gives C'·H'·W' values that this block lays out as the convolution's map.
"""

from __future__ import annotations

import math

from engine.catalog.spec import BlockSpec, RuleContext, Shape, fmt_shape
from engine.diagnostics import Fix, FixAction
from engine.params import ParamKind, Params, ParamSpec


def unflatten_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    shape = ctx.input()
    target = tuple(int(v) for v in ctx.params["shape"])
    if len(shape) != 1:
        ctx.fail(
            f"unflatten needs a flat vector, but receives {fmt_shape(shape)}. Insert a Flatten "
            f"before it (it gives {math.prod(shape)} features)",
            Fix("insert Flatten", FixAction.INSERT_BEFORE, ctx.node, type_id="flatten", port="in"),
            code="needs_flatten",
        )
    if math.prod(target) != shape[0]:
        ctx.fail(
            f"the shape must hold as many values as the input. Received: shape="
            f"{fmt_shape(target)} ({math.prod(target)} values), input={shape[0]} features. "
            f"Choose a shape whose sizes multiply to {shape[0]}"
        )
    return (target,)


def build_unflatten(p: Params, inputs: list[Shape]):
    from torch import nn

    return nn.Unflatten(1, tuple(int(v) for v in p["shape"]))


UNFLATTEN = BlockSpec(
    type_id="unflatten",
    display_name="Unflatten",
    category="Structure",
    description="Lays a flat vector of C·H·W features out as C×H×W feature maps (nn.Unflatten).",
    params=(
        ParamSpec(
            "shape",
            ParamKind.SHAPE,
            [1, 1, 1],
            "The shape of one sample after it: C×H×W; the sizes multiply to the input's features.",
        ),
    ),
    shape=unflatten_shape,
    build=build_unflatten,
    name_prefix="unflatten",
    keywords=("reshape", "view", "unflatten", "map"),
    label=lambda p: fmt_shape(tuple(p["shape"])) if isinstance(p["shape"], list) else "",
)

SPECS = (UNFLATTEN,)
