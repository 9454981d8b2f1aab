"""Structural blocks: Input, Output, Flatten, Linear, Add and Concat."""

from __future__ import annotations

import math

from engine.catalog.common import same_rank, shapes_text
from engine.catalog.spec import BlockSpec, RuleContext, Shape, fmt_shape
from engine.diagnostics import Fix, FixAction
from engine.params import ParamKind, Params, ParamSpec, bool_param, int_param
from engine.shapes import conv_output_size


def input_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    return (tuple(ctx.params["shape"]),)


INPUT = BlockSpec(
    type_id="input",
    display_name="Input",
    category="Input/Output",
    description="Where data enters: images of C×H×W, or flat vectors of features.",
    params=(
        ParamSpec(
            "shape",
            ParamKind.SHAPE,
            [1, 28, 28],
            "One sample's shape without the batch: C×H×W, or the number of features.",
        ),
    ),
    shape=input_shape,
    build=None,
    name_prefix="input",
    keywords=("data", "image", "source"),
    inputs=(),
    label=lambda p: fmt_shape(tuple(p["shape"])) if isinstance(p["shape"], list) else "",
)

OUTPUT = BlockSpec(
    type_id="output",
    display_name="Output",
    category="Input/Output",
    description="Marks a network output (the scores a loss compares with the targets).",
    params=(),
    shape=lambda ctx: (),
    build=None,
    name_prefix="output",
    keywords=("result", "logits", "sink"),
    outputs=lambda p: (),
)


def build_flatten(p: Params, inputs: list[Shape]):
    from torch import nn

    return nn.Flatten()


FLATTEN = BlockSpec(
    type_id="flatten",
    display_name="Flatten",
    category="Structure",
    description="Unrolls C×H×W feature maps into one vector of C·H·W features.",
    params=(),
    shape=lambda ctx: ((math.prod(ctx.input()),),),
    build=build_flatten,
    name_prefix="flatten",
    keywords=("reshape", "view", "vector"),
)


def linear_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    shape = ctx.input()
    if len(shape) != 1:
        flat = math.prod(shape)
        ctx.fail(
            f"a fully connected layer needs a flat vector, but receives {fmt_shape(shape)}. "
            f"Insert a Flatten before it (it gives {flat} features)",
            Fix("insert Flatten", FixAction.INSERT_BEFORE, ctx.node, type_id="flatten", port="in"),
            code="needs_flatten",
        )
    return ((ctx.params["out_features"],),)


def build_linear(p: Params, inputs: list[Shape]):
    from torch import nn

    return nn.Linear(inputs[0][0], p["out_features"], bias=p["bias"])


LINEAR = BlockSpec(
    type_id="linear",
    display_name="Linear",
    category="Dense",
    description="Fully connected layer: every output is a weighted sum of every input.",
    params=(
        int_param(
            "out_features",
            10,
            "Number of output units (classes for the last layer).",
            reason="A layer of 0 outputs gives an empty output.",
        ),
        bool_param("bias", True, "Learn one bias per output."),
    ),
    shape=linear_shape,
    build=build_linear,
    name_prefix="fc",
    keywords=("fc", "dense", "fully connected", "mlp", "affine"),
    param_count=lambda p, ins: (
        ins[0][0] * p["out_features"] + (p["out_features"] if p["bias"] else 0)
    ),
    macs=lambda p, ins, outs: ins[0][0] * p["out_features"],
    label=lambda p: str(p["out_features"]),
)


def _strides_onto(shape: Shape, target: Shape) -> list[int] | None:
    """The stride per axis with which a 1×1 convolution turns ``shape``'s H×W into
    ``target``'s (None when no stride does: a smaller input cannot grow)."""
    strides = []
    for size, want in zip(shape[1:], target[1:], strict=True):
        stride = max(1, -(-size // want))
        if conv_output_size(size, 1, stride) != want:
            return None
        strides.append(stride)
    return strides


def _projection(shape: Shape, target: Shape) -> tuple[str, str, Params] | None:
    """(block type, what it does, parameters) of one block that turns ``shape`` into ``target``."""
    if len(shape) == 3 and len(target) == 3:
        strides = _strides_onto(shape, target)
        if strides is None:
            return None
        stride: int | list[int] = strides[0] if strides[0] == strides[1] else strides
        what = "a 1×1 convolution"
        if strides != [1, 1]:
            what += f" (stride {'×'.join(map(str, dict.fromkeys(strides)))})"
        params = {"out_channels": target[0], "kernel_size": 1, "stride": stride, "bias": False}
        return "conv2d", what, params
    if len(shape) == 1 and len(target) == 1:
        return "linear", "a Linear layer", {"out_features": target[0], "bias": False}
    if len(shape) == 3 and len(target) == 1 and math.prod(shape) == target[0]:
        return "flatten", "a Flatten", {}
    return None


def _projection_fix(ctx: RuleContext) -> Fix | None:
    """One block on one input that makes every input of the Add agree, or None.

    The target is a shape all inputs but one already have; among candidates, the one with the
    most channels and then the fewest values comes first (a 1×1 convolution with stride, as in
    ResNet's downsampling shortcut). With two inputs, either may be the one projected.
    """
    shapes = ctx.inputs
    candidates = sorted(set(shapes), key=lambda s: (-s[0], math.prod(s), s))
    for target in candidates:
        others = [i for i, shape in enumerate(shapes) if shape != target]
        if len(others) != 1:
            continue
        index = others[0]
        projection = _projection(shapes[index], target)
        if projection is None:
            continue
        type_id, what, params = projection
        unit = "channels" if len(target) == 3 else "features"
        channels = f"{shapes[index][0]} → {target[0]} {unit}"
        same_channels = shapes[index][0] == target[0] and len(target) == len(shapes[index])
        matched = fmt_shape(target) if same_channels or type_id == "flatten" else channels
        return Fix(
            f"add {what} on {ctx.port(index)} to match {matched}",
            FixAction.INSERT_BEFORE,
            ctx.node,
            params,
            type_id=type_id,
            port=ctx.port(index),
        )
    return None


def add_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    shapes = ctx.inputs
    if len(set(shapes)) > 1:
        ctx.fail(
            f"all inputs of Add must have the same shape. Received: {shapes_text(shapes)}. "
            "Make the branches agree: match channels with a 1×1 convolution, sizes with stride or padding",
            _projection_fix(ctx),
            code="add_shapes",
        )
    return (shapes[0],)


ADD = BlockSpec(
    type_id="add",
    display_name="Add",
    category="Structure",
    description="Element-wise sum of its inputs, as in a residual (skip) connection.",
    params=(),
    shape=add_shape,
    build=None,
    name_prefix="add",
    keywords=("sum", "residual", "skip", "plus"),
    inputs=(),
    variadic=True,
    min_inputs=2,
)


def concat_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    shapes = ctx.inputs
    if not same_rank(shapes):
        ctx.fail(
            f"Concat cannot join images and vectors. Received: {shapes_text(shapes)}. "
            "Flatten every input, or none",
            code="concat_rank",
        )
    if len({s[1:] for s in shapes}) > 1:
        ctx.fail(
            "all inputs of Concat must have the same height and width. "
            f"Received: {shapes_text(shapes)}. Change a branch's stride, padding or pooling "
            "so their sizes agree",
            code="concat_sizes",
        )
    return ((sum(s[0] for s in shapes), *shapes[0][1:]),)


CONCAT = BlockSpec(
    type_id="concat",
    display_name="Concat",
    category="Structure",
    description="Stacks its inputs along the channel axis, as Inception modules join their branches.",
    params=(),
    shape=concat_shape,
    build=None,
    name_prefix="concat",
    keywords=("cat", "merge", "join", "stack"),
    inputs=(),
    variadic=True,
    min_inputs=2,
)

SPECS = (INPUT, OUTPUT, FLATTEN, LINEAR, ADD, CONCAT)
