"""Pooling and resampling blocks: max, average, L2 (LP), unpooling, adaptive, upsample."""

from __future__ import annotations

from dataclasses import replace

from engine.catalog.common import axis_text, check_output_size, warn_uneven_stride, window_label
from engine.catalog.spec import BlockSpec, RuleContext, Shape
from engine.diagnostics import Fix, FixAction
from engine.params import (
    ParamKind,
    Params,
    ParamSpec,
    bool_param,
    choice_param,
    float_param,
    pair,
    size_param,
)
from engine.shapes import pool_output_size, unpool_output_size, upsample_output_size

CATEGORY = "Pooling"

_KERNEL = size_param("kernel_size", 2, "Window size F: k or kh×kw.")
_STRIDE = ParamSpec(
    "stride",
    ParamKind.OPTIONAL_SIZE2,
    None,
    "Step S between windows; empty means the kernel size (non-overlapping windows).",
    minimum=1,
)
_PADDING = size_param("padding", 0, "Padding P on each side (at most half the kernel).", 0)
_CEIL = bool_param("ceil_mode", False, "Round the output size up, keeping a partial last window.")


def _stride(p: Params) -> tuple[int, int]:
    return pair(p["stride"] if p["stride"] is not None else p["kernel_size"])


def _pool_shape(ctx: RuleContext, what: str, dilated: bool, padded: bool = True) -> Shape:
    channels, h, w = ctx.image_input(what)
    p = ctx.params
    kernel, stride = pair(p["kernel_size"]), _stride(p)
    padding = pair(p["padding"]) if padded else (0, 0)
    dilation = pair(p["dilation"]) if dilated else (1, 1)
    # PyTorch checks the kernel itself, not the dilated window: padding <= kernel_size // 2
    limit = (min(padding[0], kernel[0] // 2), min(padding[1], kernel[1] // 2))
    if limit != padding:
        ctx.fail(
            f"padding must be at most half the kernel. Received: padding={axis_text(padding)}, "
            f"kernel_size={axis_text(kernel)}. Use padding {axis_text(limit)} or a larger kernel",
            Fix(
                f"set padding {axis_text(limit)}",
                FixAction.SET_PARAMS,
                ctx.node,
                {"padding": limit[0] if limit[0] == limit[1] else list(limit)},
            ),
            code="padding",
        )
    ceil = p.get("ceil_mode", False)
    out = tuple(
        pool_output_size(size, k, s, pd, d, ceil)
        for size, k, s, pd, d in zip((h, w), kernel, stride, padding, dilation, strict=True)
    )

    def axis_output(axis: int, k: int, pd: int) -> int:
        step = stride[axis] if p["stride"] is not None else k  # no stride: the kernel's
        return pool_output_size((h, w)[axis], k, step, pd, dilation[axis], ceil)

    check_output_size(
        ctx,
        out,  # type: ignore[arg-type]
        (h, w),
        kernel,
        padding,
        dilation,
        axis_output,
        can_pad=padded,
        max_padding=lambda k: k // 2,  # torch: at most half the kernel
        default_kernel=2,
    )
    if not ceil:
        warn_uneven_stride(ctx, (h, w), kernel, stride, padding, dilation)
    return (channels, out[0], out[1])


def maxpool_outputs(p: Params) -> tuple[str, ...]:
    return ("out", "indices") if p.get("return_indices") else ("out",)


def maxpool_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    shape = _pool_shape(ctx, "max pooling", dilated=True)
    return (shape, shape) if ctx.params["return_indices"] else (shape,)


def build_maxpool(p: Params, inputs: list[Shape]):
    from torch import nn

    return nn.MaxPool2d(
        pair(p["kernel_size"]),
        _stride(p),
        pair(p["padding"]),
        pair(p["dilation"]),
        return_indices=p["return_indices"],
        ceil_mode=p["ceil_mode"],
    )


MAXPOOL2D = BlockSpec(
    type_id="maxpool2d",
    display_name="MaxPool2d",
    category=CATEGORY,
    description="Max pooling: keeps the largest value of each window (only it gets gradient).",
    params=(
        _KERNEL,
        _STRIDE,
        _PADDING,
        size_param("dilation", 1, "Spacing between window taps."),
        _CEIL,
        bool_param(
            "return_indices", False, "Also output where each maximum was (for MaxUnpool2d)."
        ),
    ),
    shape=maxpool_shape,
    build=build_maxpool,
    name_prefix="maxpool",
    keywords=("pool", "max pool", "subsample", "downsample"),
    outputs=maxpool_outputs,
    label=window_label,
)


def build_avgpool(p: Params, inputs: list[Shape]):
    from torch import nn

    return nn.AvgPool2d(
        pair(p["kernel_size"]),
        _stride(p),
        pair(p["padding"]),
        ceil_mode=p["ceil_mode"],
        count_include_pad=p["count_include_pad"],
    )


AVGPOOL2D = BlockSpec(
    type_id="avgpool2d",
    display_name="AvgPool2d",
    category=CATEGORY,
    description="Average pooling: the mean of each window (gradient spreads evenly over it).",
    params=(
        _KERNEL,
        _STRIDE,
        _PADDING,
        _CEIL,
        bool_param("count_include_pad", True, "Count padded zeros in the average."),
    ),
    shape=lambda ctx: (_pool_shape(ctx, "average pooling", dilated=False),),
    build=build_avgpool,
    name_prefix="avgpool",
    keywords=("pool", "average pool", "mean", "subsample", "downsample"),
    label=window_label,
)


def build_lppool(p: Params, inputs: list[Shape]):
    from torch import nn

    return nn.LPPool2d(p["norm_type"], pair(p["kernel_size"]), _stride(p), ceil_mode=p["ceil_mode"])


LPPOOL2D = BlockSpec(
    type_id="lppool2d",
    display_name="LPPool2d",
    category=CATEGORY,
    description="Power-average (L2 by default) pooling: the p-norm of each window.",
    params=(
        float_param(
            "norm_type",
            2.0,
            "The p of the p-norm (2 is L2 pooling).",
            minimum=1.0,
            reason="Below 1 the power x^p has an infinite slope at 0, so the zeros a ReLU gives "
            "make the gradients NaN (and torch refuses 0 itself).",
        ),
        _KERNEL,
        _STRIDE,
        _CEIL,
    ),
    shape=lambda ctx: (_pool_shape(ctx, "LP pooling", dilated=False, padded=False),),
    build=build_lppool,
    name_prefix="lppool",
    keywords=("pool", "power", "subsample"),
    label=lambda p: f"L{p['norm_type']:g} " + window_label(p),
)


def maxunpool_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    channels, h, w = ctx.image_input("unpooling")
    if ctx.inputs[1] != ctx.inputs[0]:
        ctx.fail(
            f"the indices ({'×'.join(map(str, ctx.inputs[1]))}) must have the shape of the pooled "
            f"input ({channels}×{h}×{w}). Connect the indices of the MaxPool2d whose output "
            "feeds this block",
            code="indices_shape",
        )
    p = ctx.params
    kernel, stride, padding = pair(p["kernel_size"]), _stride(p), pair(p["padding"])
    out = tuple(
        unpool_output_size(size, k, s, pd)
        for size, k, s, pd in zip((h, w), kernel, stride, padding, strict=True)
    )
    if out[0] <= 0 or out[1] <= 0:
        ctx.fail(
            f"padding {axis_text(padding)} leaves no output: lower the padding", code="output_size"
        )
    return ((channels, out[0], out[1]),)


def build_maxunpool(p: Params, inputs: list[Shape]):
    from torch import nn

    return nn.MaxUnpool2d(pair(p["kernel_size"]), _stride(p), pair(p["padding"]))


MAXUNPOOL2D = BlockSpec(
    type_id="maxunpool2d",
    display_name="MaxUnpool2d",
    category=CATEGORY,
    description="Unpooling: puts each value back where its MaxPool2d found the maximum.",
    params=(
        replace(_KERNEL, reason="Use the kernel of the MaxPool2d whose indices it receives."),
        _STRIDE,
        replace(
            _PADDING,
            reason="Below 0 it would undo a padding no MaxPool2d has: use the pooling layer's.",
        ),
    ),
    shape=maxunpool_shape,
    build=build_maxunpool,
    name_prefix="unpool",
    keywords=("pool", "unpool", "unpooling"),
    inputs=("in", "indices"),
    label=window_label,
)


def _adaptive_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    channels, _, _ = ctx.image_input("adaptive pooling")
    oh, ow = pair(ctx.params["output_size"])
    return ((channels, oh, ow),)


def _adaptive(type_id: str, display: str, kind: str, torch_name: str) -> BlockSpec:
    def build(p: Params, inputs: list[Shape]):
        from torch import nn

        return getattr(nn, torch_name)(pair(p["output_size"]))

    return BlockSpec(
        type_id=type_id,
        display_name=display,
        category=CATEGORY,
        description=f"Adaptive {kind} pooling to a fixed output size, whatever the input size.",
        params=(
            size_param(
                "output_size",
                1,
                "Output height×width.",
                reason="A size of 0 gives an empty output.",
            ),
        ),
        shape=_adaptive_shape,
        build=build,
        name_prefix=type_id.removesuffix("2d").replace("adaptive_", "adaptive"),
        keywords=("pool", "adaptive", f"{kind} pool"),
        label=lambda p: f"→ {axis_text(pair(p['output_size']))}",
    )


ADAPTIVE_AVGPOOL2D = _adaptive(
    "adaptive_avgpool2d", "AdaptiveAvgPool2d", "average", "AdaptiveAvgPool2d"
)
ADAPTIVE_MAXPOOL2D = _adaptive(
    "adaptive_maxpool2d", "AdaptiveMaxPool2d", "max", "AdaptiveMaxPool2d"
)


def build_global_avgpool(p: Params, inputs: list[Shape]):
    from torch import nn

    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())


def global_avgpool_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    channels, _, _ = ctx.image_input("global average pooling")
    return ((channels,),)


GLOBAL_AVGPOOL = BlockSpec(
    type_id="global_avgpool",
    display_name="GlobalAvgPool",
    category=CATEGORY,
    description="Averages each feature map to one number: C×H×W becomes a vector of C.",
    params=(),
    shape=global_avgpool_shape,
    build=build_global_avgpool,
    name_prefix="gap",
    keywords=("pool", "gap", "global average"),
)


def upsample_shape(ctx: RuleContext) -> tuple[Shape, ...]:
    channels, h, w = ctx.image_input("upsampling")
    scale = ctx.params["scale_factor"]
    oh, ow = upsample_output_size(h, scale), upsample_output_size(w, scale)
    if oh <= 0 or ow <= 0:
        ctx.fail(
            f"scale_factor {scale:g} shrinks the {h}×{w} input to nothing. Use a larger scale_factor",
            code="output_size",
        )
    return ((channels, oh, ow),)


def build_upsample(p: Params, inputs: list[Shape]):
    from torch import nn

    align = False if p["mode"] == "bilinear" else None
    return nn.Upsample(scale_factor=p["scale_factor"], mode=p["mode"], align_corners=align)


UPSAMPLE = BlockSpec(
    type_id="upsample",
    display_name="Upsample",
    category=CATEGORY,
    description="Enlarges feature maps by a scale factor, by nearest neighbour or bilinear interpolation.",
    params=(
        float_param(
            "scale_factor",
            2.0,
            "How much larger the output is.",
            minimum=0.01,
            reason="To shrink more than 100 times, pool or use a strided convolution.",
        ),
        choice_param("mode", "nearest", ("nearest", "bilinear"), "Interpolation."),
    ),
    shape=upsample_shape,
    build=build_upsample,
    name_prefix="upsample",
    keywords=("pool", "resize", "interpolate", "upscale"),
    label=lambda p: f"×{p['scale_factor']:g} {p['mode']}",
)

SPECS = (
    MAXPOOL2D,
    AVGPOOL2D,
    LPPOOL2D,
    MAXUNPOOL2D,
    ADAPTIVE_AVGPOOL2D,
    ADAPTIVE_MAXPOOL2D,
    GLOBAL_AVGPOOL,
    UPSAMPLE,
)
