"""Normalisation and regularisation blocks: BatchNorm, LocalResponseNorm, Dropout."""

from __future__ import annotations

from engine.catalog.spec import BlockSpec, RuleContext, Shape, fmt_shape
from engine.params import Params, bool_param, float_param, int_param


def batchnorm_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    shape = ctx.input()
    if len(shape) not in (1, 3):
        ctx.fail(f"BatchNorm needs a vector or a C×H×W input. Received: {fmt_shape(shape)}")
    return (shape,)


def build_batchnorm(p: Params, inputs: list[Shape]):
    from torch import nn

    cls = nn.BatchNorm2d if len(inputs[0]) == 3 else nn.BatchNorm1d
    return cls(inputs[0][0], eps=p["eps"], momentum=p["momentum"], affine=p["affine"])


BATCHNORM = BlockSpec(
    type_id="batchnorm",
    display_name="BatchNorm",
    category="Normalization",
    description="Normalises each channel over the batch, then scales and shifts it (2d for images, 1d for vectors).",
    params=(
        float_param(
            "eps",
            1e-5,
            "Added to the variance for numerical stability.",
            minimum=0.0,
            exclusive_minimum=True,
            reason="With eps 0, a channel whose values are all equal divides zero by zero "
            "(torch itself refuses eps 0 while training).",
        ),
        float_param(
            "momentum",
            0.1,
            "Weight of the newest batch in the running statistics.",
            minimum=0.0,
            maximum=1.0,
            reason="The running statistics move this fraction of the way to each batch's: past "
            "1 they overshoot it, below 0 they move away from it.",
        ),
        bool_param("affine", True, "Learn a scale γ and shift β per channel."),
    ),
    shape=batchnorm_shape,
    build=build_batchnorm,
    name_prefix="bn",
    keywords=("bn", "batch norm", "batchnorm2d", "normalization"),
    param_count=lambda p, ins: 2 * ins[0][0] if p["affine"] else 0,
)


_LRN_DIVISOR = (
    "Below 0 the divisor k + α·Σx² can reach zero or less, giving infinite or NaN values."
)


def lrn_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    ctx.image_input("local response normalisation")
    return (ctx.input(),)


def build_lrn(p: Params, inputs: list[Shape]):
    from torch import nn

    return nn.LocalResponseNorm(p["size"], alpha=p["alpha"], beta=p["beta"], k=p["k"])


LOCAL_RESPONSE_NORM = BlockSpec(
    type_id="local_response_norm",
    display_name="LocalResponseNorm",
    category="Normalization",
    description="AlexNet's normalisation across neighbouring channels (lateral inhibition).",
    params=(
        int_param("size", 5, "Number of neighbouring channels."),
        float_param("alpha", 1e-4, "Scale α.", minimum=0.0, reason=_LRN_DIVISOR),
        float_param(
            "beta",
            0.75,
            "Exponent β.",
            minimum=0.0,
            reason="A negative β multiplies by the neighbours' energy instead of dividing by it, "
            "the opposite of the lateral inhibition it models.",
        ),
        float_param("k", 1.0, "Additive constant k.", minimum=0.0, reason=_LRN_DIVISOR),
    ),
    shape=lrn_shape,
    build=build_lrn,
    name_prefix="lrn",
    keywords=("lrn", "norm"),
    label=lambda p: f"n={p['size']}",
)

_P = float_param(
    "p",
    0.5,
    "Probability of zeroing a unit during training.",
    minimum=0.0,
    maximum=1.0,
    exclusive_maximum=True,
    reason="At p = 1 every value would be zeroed while training.",
)


def build_dropout(p: Params, inputs: list[Shape]):
    from torch import nn

    return nn.Dropout(p["p"])


def dropout2d_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    ctx.image_input("Dropout2d (it drops whole feature maps)")
    return (ctx.input(),)


def build_dropout2d(p: Params, inputs: list[Shape]):
    from torch import nn

    return nn.Dropout2d(p["p"])


DROPOUT = BlockSpec(
    type_id="dropout",
    display_name="Dropout",
    category="Regularization",
    description="Zeroes each unit with probability p while training (and rescales the rest); off at evaluation.",
    params=(_P,),
    shape=lambda ctx: (ctx.input(),),
    build=build_dropout,
    name_prefix="dropout",
    keywords=("drop", "regularization"),
    label=lambda p: f"p={p['p']:g}",
)

DROPOUT2D = BlockSpec(
    type_id="dropout2d",
    display_name="Dropout2d",
    category="Regularization",
    description="Zeroes whole feature maps with probability p while training; off at evaluation.",
    params=(_P,),
    shape=dropout2d_shape,
    build=build_dropout2d,
    name_prefix="dropout",
    keywords=("drop", "spatial dropout", "regularization"),
    label=lambda p: f"p={p['p']:g}",
)

SPECS = (BATCHNORM, LOCAL_RESPONSE_NORM, DROPOUT, DROPOUT2D)
