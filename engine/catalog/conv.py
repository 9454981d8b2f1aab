"""Convolution blocks: Conv2d and ConvTranspose2d."""

from __future__ import annotations

from engine.catalog.common import axis_text, check_output_size, warn_uneven_stride, window_label
from engine.catalog.spec import BlockSpec, RuleContext, Shape
from engine.diagnostics import Fix, FixAction
from engine.params import (
    ParamKind,
    Params,
    ParamSpec,
    bool_param,
    int_param,
    pair,
    size_param,
)
from engine.shapes import conv_output_size, conv_transpose_output_size

CATEGORY = "Convolution"

_COMMON = (
    int_param("out_channels", 16, "Number of filters, i.e. output channels (feature maps)."),
    size_param("kernel_size", 3, "Filter size F: k or kh×kw (the receptive field of each unit)."),
    size_param("stride", 1, "Step S between neighbouring windows: k or kh×kw."),
)
_DILATION = size_param("dilation", 1, "Spacing between kernel taps (atrous convolution).")
_GROUPS = int_param(
    "groups", 1, "Split channels into groups; groups = input channels makes it depthwise."
)
_BIAS = bool_param("bias", True, "Learn one bias per output channel.")


def _check_groups(ctx: RuleContext, channels: int) -> int:
    groups = ctx.params["groups"]
    out = ctx.params["out_channels"]
    if channels % groups or out % groups:
        divisors = [g for g in range(1, channels + 1) if channels % g == 0 and out % g == 0]
        best = max(g for g in divisors if g <= groups)
        ctx.fail(
            f"groups {groups} must divide both the {channels} input channels and the {out} "
            f"output channels. Received: groups={groups}, in_channels={channels}, "
            f"out_channels={out}. Use groups={best} (possible: {', '.join(map(str, divisors))})",
            Fix(f"set groups {best}", FixAction.SET_PARAMS, ctx.node, {"groups": best}),
            code="groups",
        )
    return groups


def conv2d_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    channels, h, w = ctx.image_input("a convolution")
    p = ctx.params
    _check_groups(ctx, channels)
    kernel, stride, dilation = pair(p["kernel_size"]), pair(p["stride"]), pair(p["dilation"])
    if p["padding"] == "same":
        if stride != (1, 1):
            ctx.fail(
                f"padding 'same' only works with stride 1. Received: stride={axis_text(stride)}. "
                "Use stride 1, or write the padding as a number",
                Fix("set stride 1", FixAction.SET_PARAMS, ctx.node, {"stride": 1}),
                code="same_stride",
            )
        return ((p["out_channels"], h, w),)
    padding = pair(p["padding"])
    out = tuple(
        conv_output_size(size, k, s, pd, d)
        for size, k, s, pd, d in zip((h, w), kernel, stride, padding, dilation, strict=True)
    )
    check_output_size(
        ctx,
        out,  # type: ignore[arg-type]
        (h, w),
        kernel,
        padding,
        dilation,
        lambda axis, k, pd: conv_output_size((h, w)[axis], k, stride[axis], pd, dilation[axis]),
    )
    warn_uneven_stride(ctx, (h, w), kernel, stride, padding, dilation)
    return ((p["out_channels"], out[0], out[1]),)


def _weights(p: Params, inputs: list[Shape], transposed: bool = False) -> int:
    kh, kw = pair(p["kernel_size"])
    cin, cout, groups = inputs[0][0], p["out_channels"], p["groups"]
    per_filter = (cin // groups) * kh * kw
    return cout * per_filter + (cout if p["bias"] else 0)


def conv2d_macs(p: Params, inputs: list[Shape], outputs: tuple[Shape, ...]) -> int:
    kh, kw = pair(p["kernel_size"])
    cout, oh, ow = outputs[0]
    return cout * oh * ow * (inputs[0][0] // p["groups"]) * kh * kw


def _conv_args(p: Params, inputs: list[Shape]) -> dict:
    return {
        "in_channels": inputs[0][0],
        "out_channels": p["out_channels"],
        "kernel_size": pair(p["kernel_size"]),
        "stride": pair(p["stride"]),
        "dilation": pair(p["dilation"]),
        "groups": p["groups"],
        "bias": p["bias"],
    }


def build_conv2d(p: Params, inputs: list[Shape]):
    from torch import nn

    padding = p["padding"] if p["padding"] == "same" else pair(p["padding"])
    return nn.Conv2d(padding=padding, **_conv_args(p, inputs))


CONV2D = BlockSpec(
    type_id="conv2d",
    display_name="Conv2d",
    category=CATEGORY,
    description="2-D convolution: each filter slides over the input and shares its weights.",
    params=(
        *_COMMON,
        ParamSpec(
            "padding",
            ParamKind.PADDING,
            0,
            "Zeros P added on each side: k, kh×kw, or 'same' to keep the size (stride 1).",
            minimum=0,
        ),
        _DILATION,
        _GROUPS,
        _BIAS,
    ),
    shape=conv2d_shape,
    build=build_conv2d,
    name_prefix="conv",
    keywords=("convolution", "conv"),
    param_count=_weights,
    macs=conv2d_macs,
    label=lambda p: window_label(p, p["out_channels"]),
)


def conv_transpose2d_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    channels, h, w = ctx.image_input("a transposed convolution")
    p = ctx.params
    _check_groups(ctx, channels)
    kernel, stride, dilation = pair(p["kernel_size"]), pair(p["stride"]), pair(p["dilation"])
    padding, extra = pair(p["padding"]), pair(p["output_padding"])
    for axis in range(2):
        if extra[axis] >= max(stride[axis], dilation[axis]):
            ctx.fail(
                "output_padding must be smaller than the stride or the dilation. Received: "
                f"output_padding={axis_text(extra)}, stride={axis_text(stride)}, "
                f"dilation={axis_text(dilation)}. Lower output_padding or raise the stride",
                Fix("set output_padding 0", FixAction.SET_PARAMS, ctx.node, {"output_padding": 0}),
                code="output_padding",
            )
    out = tuple(
        conv_transpose_output_size(size, k, s, pd, op, d)
        for size, k, s, pd, op, d in zip(
            (h, w), kernel, stride, padding, extra, dilation, strict=True
        )
    )
    if out[0] <= 0 or out[1] <= 0:
        ctx.fail(
            f"padding {axis_text(padding)} removes more than the transposed convolution adds to its "
            f"{h}×{w} input, so the output would be {out[0]}×{out[1]}: lower the padding",
            Fix("set padding 0", FixAction.SET_PARAMS, ctx.node, {"padding": 0}),
            code="output_size",
        )
    return ((p["out_channels"], out[0], out[1]),)


def conv_transpose2d_macs(p: Params, inputs: list[Shape], outputs: tuple[Shape, ...]) -> int:
    kh, kw = pair(p["kernel_size"])
    cin, h, w = inputs[0]
    return cin * h * w * (p["out_channels"] // p["groups"]) * kh * kw


def _transpose_weights(p: Params, inputs: list[Shape]) -> int:
    kh, kw = pair(p["kernel_size"])
    cin, cout, groups = inputs[0][0], p["out_channels"], p["groups"]
    return cin * (cout // groups) * kh * kw + (cout if p["bias"] else 0)


def build_conv_transpose2d(p: Params, inputs: list[Shape]):
    from torch import nn

    return nn.ConvTranspose2d(
        padding=pair(p["padding"]),
        output_padding=pair(p["output_padding"]),
        **_conv_args(p, inputs),
    )


CONV_TRANSPOSE2D = BlockSpec(
    type_id="conv_transpose2d",
    display_name="ConvTranspose2d",
    category=CATEGORY,
    description="Transposed convolution (deconvolution): learns to upsample a feature map.",
    params=(
        *_COMMON,
        size_param("padding", 0, "Rows and columns P removed from each side of the output.", 0),
        size_param("output_padding", 0, "Extra rows/columns added on one side of the output.", 0),
        _DILATION,
        _GROUPS,
        _BIAS,
    ),
    shape=conv_transpose2d_shape,
    build=build_conv_transpose2d,
    name_prefix="deconv",
    keywords=("deconv", "deconvolution", "transposed", "upconv", "transpose"),
    param_count=_transpose_weights,
    macs=conv_transpose2d_macs,
    label=lambda p: window_label(p, p["out_channels"]),
)

SPECS = (CONV2D, CONV_TRANSPOSE2D)
