"""Element-wise activation functions (and Softmax over one axis)."""

from __future__ import annotations

from collections.abc import Callable

from engine.catalog.spec import BlockSpec, RuleContext, Shape
from engine.params import Params, ParamSpec, bool_param, choice_param, float_param, int_param

CATEGORY = "Activation"


def _same(ctx: RuleContext) -> tuple[Shape, ...]:
    return (ctx.input(),)


def _activation(
    type_id: str,
    torch_name: str,
    description: str,
    params: tuple[ParamSpec, ...] = (),
    kwargs: Callable[[Params], dict] = lambda p: {},
    label: Callable[[Params], str] = lambda p: "",
) -> BlockSpec:
    def build(p: Params, inputs: list[Shape]):
        from torch import nn

        return getattr(nn, torch_name)(**kwargs(p))

    return BlockSpec(
        type_id=type_id,
        display_name=torch_name,
        category=CATEGORY,
        description=description,
        params=params,
        shape=_same,
        build=build,
        name_prefix=type_id,
        label=label,
    )


def _softmax_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    rank = len(ctx.input()) + 1  # torch counts the batch axis
    dim = ctx.params["dim"]
    if not -rank <= dim < rank:
        ctx.fail(
            f"dim {dim} does not exist on a {rank}-axis tensor (batch included). "
            f"Received: dim={dim}. Use 1 for the classes or channels",
            code="dim",
        )
    return (ctx.input(),)


def _softmax(type_id: str, torch_name: str, description: str) -> BlockSpec:
    def build(p: Params, inputs: list[Shape]):
        from torch import nn

        return getattr(nn, torch_name)(dim=p["dim"])

    return BlockSpec(
        type_id=type_id,
        display_name=torch_name,
        category=CATEGORY,
        description=description,
        params=(
            int_param("dim", 1, "Axis to normalise, counting the batch as axis 0.", minimum=-4),
        ),
        shape=_softmax_shape,
        build=build,
        name_prefix=type_id,
        label=lambda p: f"dim={p['dim']}",
    )


def _build_prelu(p: Params, inputs: list[Shape]):
    from torch import nn

    count = inputs[0][0] if p["per_channel"] else 1
    return nn.PReLU(num_parameters=count, init=p["init"])


PRELU = BlockSpec(
    type_id="prelu",
    display_name="PReLU",
    category=CATEGORY,
    description="Leaky ReLU whose negative slope is learned (one shared, or one per channel).",
    params=(
        bool_param("per_channel", False, "Learn one slope per channel instead of one in all."),
        float_param("init", 0.25, "Initial slope."),
    ),
    shape=_same,
    build=_build_prelu,
    name_prefix="prelu",
    param_count=lambda p, ins: ins[0][0] if p["per_channel"] else 1,
)

SPECS = (
    _activation(
        "relu", "ReLU", "max(0, x): cheap, no vanishing gradient for x > 0; units can die."
    ),
    _activation(
        "leaky_relu",
        "LeakyReLU",
        "Like ReLU but with a small slope for x < 0, so units never die completely.",
        (
            float_param(
                "negative_slope",
                0.01,
                "Slope for negative inputs.",
                minimum=0.0,
                reason="A negative slope turns negative inputs positive, so the activation is no "
                "longer monotonic (a PReLU learns its slope, of either sign).",
            ),
        ),
        lambda p: {"negative_slope": p["negative_slope"]},
        lambda p: f"α={p['negative_slope']:g}",
    ),
    PRELU,
    _activation(
        "elu",
        "ELU",
        "Exponential linear unit: smooth, negative values saturate at -alpha.",
        (
            float_param(
                "alpha",
                1.0,
                "Saturation value for negative inputs.",
                minimum=0.0,
                reason="A negative alpha turns negative inputs positive, so they no longer "
                "saturate towards -alpha.",
            ),
        ),
        lambda p: {"alpha": p["alpha"]},
    ),
    _activation(
        "gelu",
        "GELU",
        "Gaussian error linear unit: x weighted by the probability that it is positive.",
        (
            choice_param(
                "approximate", "none", ("none", "tanh"), "Exact, or the tanh approximation."
            ),
        ),
        lambda p: {"approximate": p["approximate"]},
    ),
    _activation("silu", "SiLU", "x·sigmoid(x) (swish): smooth and non-monotonic."),
    _activation("relu6", "ReLU6", "ReLU capped at 6 (MobileNet), robust in low precision."),
    _activation(
        "hardswish", "Hardswish", "A cheap piecewise approximation of swish (MobileNet v3)."
    ),
    _activation(
        "sigmoid", "Sigmoid", "1/(1+e^-x): squashes to (0, 1); saturates, so gradients vanish."
    ),
    _activation("tanh", "Tanh", "Squashes to (-1, 1), zero-centred; saturates like the sigmoid."),
    _softmax("softmax", "Softmax", "Turns scores into probabilities that sum to 1 along dim."),
    _softmax(
        "log_softmax", "LogSoftmax", "The logarithm of softmax, numerically stable (for NLL loss)."
    ),
)
