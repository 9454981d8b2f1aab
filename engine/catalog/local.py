"""LocallyConnected2d: the lecture's MLNN-LC, a convolution's windows without weight sharing."""

from __future__ import annotations

from engine.catalog.common import check_output_size, warn_uneven_stride, window_label
from engine.catalog.spec import BlockSpec, RuleContext, Shape
from engine.params import Params, bool_param, int_param, pair, size_param
from engine.shapes import conv_output_size


def local_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    _, h, w = ctx.image_input("a locally connected layer")
    p = ctx.params
    kernel, stride, padding = pair(p["kernel_size"]), pair(p["stride"]), pair(p["padding"])
    out = tuple(
        conv_output_size(size, k, s, pd)
        for size, k, s, pd in zip((h, w), kernel, stride, padding, strict=True)
    )
    check_output_size(
        ctx,
        out,  # type: ignore[arg-type]
        (h, w),
        kernel,
        padding,
        (1, 1),
        lambda axis, k, pd: conv_output_size((h, w)[axis], k, stride[axis], pd),
    )
    warn_uneven_stride(ctx, (h, w), kernel, stride, padding)
    return ((p["out_channels"], out[0], out[1]),)


def _positions(p: Params, inputs: list[Shape]) -> int:
    _, h, w = inputs[0]
    kernel, stride, padding = pair(p["kernel_size"]), pair(p["stride"]), pair(p["padding"])
    oh, ow = (
        conv_output_size(size, k, s, pd)
        for size, k, s, pd in zip((h, w), kernel, stride, padding, strict=True)
    )
    return oh * ow


def local_weights(p: Params, inputs: list[Shape]) -> int:
    """Unshared weights and biases: one filter bank and one bias per output position."""
    kh, kw = pair(p["kernel_size"])
    positions, cout = _positions(p, inputs), p["out_channels"]
    weights = positions * cout * inputs[0][0] * kh * kw
    return weights + (positions * cout if p["bias"] else 0)


def local_macs(p: Params, inputs: list[Shape], outputs: tuple[Shape, ...]) -> int:
    kh, kw = pair(p["kernel_size"])
    cout, oh, ow = outputs[0]
    return cout * oh * ow * inputs[0][0] * kh * kw


def build_local(p: Params, inputs: list[Shape]):
    from engine.catalog.local_module import LocallyConnected2d

    cin, h, w = inputs[0]
    return LocallyConnected2d(
        cin,
        p["out_channels"],
        (h, w),
        pair(p["kernel_size"]),
        pair(p["stride"]),
        pair(p["padding"]),
        p["bias"],
    )


LOCALLY_CONNECTED2D = BlockSpec(
    type_id="locally_connected2d",
    display_name="LocallyConnected2d",
    category="Convolution",
    description=(
        "A convolution's windows without weight sharing: each output position has its own "
        "filters and bias (the lecture's MLNN-LC)."
    ),
    params=(
        int_param("out_channels", 16, "Number of filters at each position (output channels)."),
        size_param("kernel_size", 3, "Window size F: k or kh×kw."),
        size_param("stride", 1, "Step S between neighbouring windows: k or kh×kw."),
        size_param("padding", 0, "Zeros P added on each side: k or kh×kw.", 0),
        bool_param("bias", True, "Learn one bias per output channel and position."),
    ),
    shape=local_shape,
    build=build_local,
    name_prefix="local",
    keywords=("locally connected", "lc", "unshared", "mlnn"),
    param_count=local_weights,
    macs=local_macs,
    label=lambda p: window_label(p, p["out_channels"]),
)

SPECS = (LOCALLY_CONNECTED2D,)
