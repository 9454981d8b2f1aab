"""MobileNet v1 (Howard et al., 2017) and v2 (Sandler et al., 2018).

v2 is named like torchvision's ``mobilenet_v2`` (``features.3.conv.1.0`` is block 3's depthwise
convolution); v1 has no torchvision reference and is named after the paper's Table 1.
"""

from __future__ import annotations

from engine import Graph
from presets.blocks import classes_option, conv, conv_bn_act, resolution_option
from presets.builder import GraphBuilder
from presets.registry import Preset, PresetOption

# ----- MobileNet v1 ------------------------------------------------------------------------
# Table 1: after a 3×3/2 convolution with 32 filters, 13 depthwise-separable blocks of
# (pointwise filters, depthwise stride). The table lists the last depthwise stride as 2 on a
# 7×7 input, a known typo: every implementation (and the 7×7 average pool after it) uses 1.
V1_BLOCKS = [
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    *[(512, 1)] * 5,
    (1024, 2),
    (1024, 1),
]


def build_mobilenet_v1(classes: int = 1000, width: float = 1.0, resolution: int = 224) -> Graph:
    """MobileNet v1 with width multiplier α = ``width`` and input ``resolution`` (ρ)."""
    b = GraphBuilder()
    x = b.input((3, resolution, resolution))
    channels = int(32 * width)
    x = conv_bn_act(b, "conv1", x, channels, 3, 2, 1)
    for index, (filters, stride) in enumerate(V1_BLOCKS, 1):
        with b.group(f"block{index}"):
            # depthwise 3×3 (one filter per channel), then pointwise 1×1 mixing the channels
            x = conv_bn_act(b, "depthwise", x, channels, 3, stride, 1, groups=channels)
            channels = int(filters * width)
            x = conv_bn_act(b, "pointwise", x, channels, 1)
    x = b.add("global_avgpool", "avgpool", x)  # the paper: a 7×7 average pool at 224
    b.output(b.add("linear", "fc", x, out_features=classes))
    return b.graph


MOBILENET_V1 = Preset(
    name="mobilenet_v1",
    display_name="MobileNet v1",
    authors="A. G. Howard, M. Zhu, B. Chen, D. Kalenichenko, W. Wang, T. Weyand, M. Andreetto, H. Adam",
    year=2017,
    paper="MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications",
    description=(
        "Depthwise separable convolutions split a 3×3 convolution into a per-channel 3×3 filter and "
        "a 1×1 convolution that mixes channels, 8-9× cheaper at a small loss of accuracy. Two "
        "multipliers, width α and resolution ρ, trade accuracy for latency and size."
    ),
    build=build_mobilenet_v1,
    input_shape=(3, 224, 224),
    options=(
        classes_option(),
        PresetOption("width", 1.0, (1.0, 0.75, 0.5, 0.25), "Width multiplier α: channels × α."),
        resolution_option(224, 32),
    ),
    deviations=(
        "The table's last depthwise stride 2 is taken as 1 (a typo: its input is already 7×7); a "
        "global average pool replaces the fixed 7×7 pool so every resolution works; channels are "
        "int(c·α). BatchNorm and ReLU follow every convolution as in the paper."
    ),
    family="MobileNet",
    reference="Howard et al. 2017, Table 6 (width) and Table 7 (resolution): parameters and mult-adds",
)


# ----- MobileNet v2 ------------------------------------------------------------------------
# Table 2 of the paper: t expansion factor, c output channels, n repeats, s stride of the first
V2_SETTING = [
    # t, c, n, s
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def make_divisible(value: float, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible``: round to a multiple of 8, never more than 10% down."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def cna(
    b: GraphBuilder, local: str, x: str, out: int, kernel: int, stride: int = 1, groups: int = 1
) -> str:
    """torchvision's Conv2dNormActivation: nodes ``local.0`` (conv), ``.1`` (BN), ``.2`` (ReLU6)."""
    return conv_bn_act(
        b,
        local,
        x,
        out,
        kernel,
        stride,
        (kernel - 1) // 2,
        groups=groups,
        activation="relu6",
        names=("0", "1", "2"),
    )


def inverted_residual(b: GraphBuilder, x: str, inp: int, out: int, stride: int, t: int) -> str:
    """Expand 1×1 (×t, ReLU6), depthwise 3×3 (ReLU6), project 1×1 (linear); Add when shapes allow."""
    hidden = round(inp * t)
    with b.group("conv"):
        index = 0
        y = x
        if t != 1:
            y = cna(b, "0", y, hidden, 1)
            index = 1
        y = cna(b, str(index), y, hidden, 3, stride, groups=hidden)
        y = conv(b, str(index + 1), y, out, 1, bias=False)  # linear bottleneck: no activation
        y = b.add("batchnorm", str(index + 2), y)
    if stride == 1 and inp == out:
        y = b.add("add", "add", x, y)
    return y


def build_mobilenet_v2(classes: int = 1000, width: float = 1.0, resolution: int = 224) -> Graph:
    """torchvision's MobileNetV2 with width multiplier ``width``."""
    b = GraphBuilder()
    x = b.input((3, resolution, resolution))
    channels = make_divisible(32 * width)
    last = make_divisible(1280 * max(1.0, width))
    index = 0
    with b.group("features"):
        x = cna(b, str(index), x, channels, 3, 2)
        for t, c, n, s in V2_SETTING:
            out = make_divisible(c * width)
            for repeat in range(n):
                index += 1
                with b.group(str(index)):
                    x = inverted_residual(b, x, channels, out, s if repeat == 0 else 1, t)
                channels = out
        x = cna(b, str(index + 1), x, last, 1)
    x = b.add("adaptive_avgpool2d", "avgpool", x, output_size=1)
    x = b.add("flatten", "flatten", x)
    with b.group("classifier"):
        x = b.add("dropout", "0", x, p=0.2)
        x = b.add("linear", "1", x, out_features=classes)
    b.output(x)
    return b.graph


MOBILENET_V2 = Preset(
    name="mobilenet_v2",
    display_name="MobileNet v2",
    authors="M. Sandler, A. Howard, M. Zhu, A. Zhmoginov, L.-C. Chen",
    year=2018,
    paper="MobileNetV2: Inverted Residuals and Linear Bottlenecks",
    description=(
        "Inverted residual blocks expand a thin bottleneck 6× with a 1×1 convolution, filter it "
        "depthwise, and project it back linearly (no ReLU, which would destroy information in few "
        "channels). The skip connections join the thin ends, so little memory is live at once."
    ),
    build=build_mobilenet_v2,
    input_shape=(3, 224, 224),
    options=(
        classes_option(),
        PresetOption(
            "width",
            1.0,
            (1.4, 1.3, 1.0, 0.75, 0.5, 0.35),
            "Width multiplier: channels × width, rounded to multiples of 8.",
        ),
        resolution_option(224, 32),
    ),
    deviations="torchvision's form: dropout 0.2 before the classifier; channels rounded to multiples of 8.",
    family="MobileNet",
    reference="torchvision mobilenet_v2",
)
