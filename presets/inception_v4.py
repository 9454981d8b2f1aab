"""Inception v4 and Inception-ResNet-v2 (Szegedy et al., 2016), as timm builds them.

Node names follow timm's modules (``features.6.branch1.0.conv`` in Inception v4,
``repeat_1.3.conv2d`` in Inception-ResNet-v2). Every convolution unit is conv (no bias),
BatchNorm (eps 0.001) and ReLU, with no padding unless stated.
"""

from __future__ import annotations

from engine import Graph
from presets.blocks import Size, classes_option, conv, conv_bn_act, resolution_option
from presets.builder import GraphBuilder
from presets.registry import Preset

# (out_channels, kernel, stride, padding); a branch is a list of these, run in sequence
Unit = tuple[int, Size, int, Size]
# (kernel, stride, padding) of the factorised 1×n and n×1 convolutions
ROW7, COL7 = ((1, 7), 1, (0, 3)), ((7, 1), 1, (3, 0))
ROW3, COL3 = ((1, 3), 1, (0, 1)), ((3, 1), 1, (1, 0))


def unit(b: GraphBuilder, local: str, x: str, spec: Unit) -> str:
    """timm's ConvNormAct / BasicConv2d: conv, BatchNorm (eps 0.001), ReLU."""
    out, kernel, stride, padding = spec
    return conv_bn_act(b, local, x, out, kernel, stride, padding, eps=1e-3)


def branch(b: GraphBuilder, local: str, x: str, units: list[Unit]) -> str:
    """A sequential branch: one unit is group ``local``, several are ``local.0``, ``local.1``…"""
    if len(units) == 1:
        return unit(b, local, x, units[0])
    with b.group(local):
        for index, spec in enumerate(units):
            x = unit(b, str(index), x, spec)
    return x


def pool_branch(b: GraphBuilder, local: str, x: str, out: int) -> str:
    """3×3 average pool (padding not counted) then a 1×1 unit: group ``local.0``, ``local.1``."""
    with b.group(local):
        x = b.add("avgpool2d", "0", x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        return unit(b, "1", x, (out, 1, 1, 0))


def max_pool(b: GraphBuilder, local: str, x: str) -> str:
    return b.add("maxpool2d", local, x, kernel_size=3, stride=2)


def concat(b: GraphBuilder, *sources: str, local: str = "concat") -> str:
    return b.add("concat", local, *sources)


# ----- Inception v4 ------------------------------------------------------------------------
def v4_module(b: GraphBuilder, kind: str, x: str) -> str:
    """One of timm's Inception v4 modules, in the current group."""
    if kind == "mixed3a":
        return concat(b, max_pool(b, "maxpool", x), unit(b, "conv", x, (96, 3, 2, 0)))
    if kind == "mixed4a":
        return concat(
            b,
            branch(b, "branch0", x, [(64, 1, 1, 0), (96, 3, 1, 0)]),
            branch(b, "branch1", x, [(64, 1, 1, 0), (64, *ROW7), (64, *COL7), (96, 3, 1, 0)]),
        )
    if kind == "mixed5a":
        return concat(b, unit(b, "conv", x, (192, 3, 2, 0)), max_pool(b, "maxpool", x))
    if kind == "a":
        return concat(
            b,
            branch(b, "branch0", x, [(96, 1, 1, 0)]),
            branch(b, "branch1", x, [(64, 1, 1, 0), (96, 3, 1, 1)]),
            branch(b, "branch2", x, [(64, 1, 1, 0), (96, 3, 1, 1), (96, 3, 1, 1)]),
            pool_branch(b, "branch3", x, 96),
        )
    if kind == "reduction_a":
        return concat(
            b,
            branch(b, "branch0", x, [(384, 3, 2, 0)]),
            branch(b, "branch1", x, [(192, 1, 1, 0), (224, 3, 1, 1), (256, 3, 2, 0)]),
            max_pool(b, "branch2", x),
        )
    if kind == "b":
        return concat(
            b,
            branch(b, "branch0", x, [(384, 1, 1, 0)]),
            branch(b, "branch1", x, [(192, 1, 1, 0), (224, *ROW7), (256, *COL7)]),
            branch(
                b,
                "branch2",
                x,
                [(192, 1, 1, 0), (192, *COL7), (224, *ROW7), (224, *COL7), (256, *ROW7)],
            ),
            pool_branch(b, "branch3", x, 128),
        )
    if kind == "reduction_b":
        return concat(
            b,
            branch(b, "branch0", x, [(192, 1, 1, 0), (192, 3, 2, 0)]),
            branch(b, "branch1", x, [(256, 1, 1, 0), (256, *ROW7), (320, *COL7), (320, 3, 2, 0)]),
            max_pool(b, "branch2", x),
        )
    # "c": the 8×8 module with split 1×3 / 3×1 branches
    x1 = unit(b, "branch1_0", x, (384, 1, 1, 0))
    x2 = branch(b, "branch2_0", x, [(384, 1, 1, 0)])
    x2 = unit(b, "branch2_2", unit(b, "branch2_1", x2, (448, *COL3)), (512, *ROW3))
    return concat(
        b,
        unit(b, "branch0", x, (256, 1, 1, 0)),
        concat(
            b,
            unit(b, "branch1_1a", x1, (256, *ROW3)),
            unit(b, "branch1_1b", x1, (256, *COL3)),
            local="concat1",
        ),
        concat(
            b,
            unit(b, "branch2_3a", x2, (256, *ROW3)),
            unit(b, "branch2_3b", x2, (256, *COL3)),
            local="concat2",
        ),
        pool_branch(b, "branch3", x, 256),
    )


# timm's ``features`` sequence after the three stem convolutions
V4_FEATURES = [
    "mixed3a",
    "mixed4a",
    "mixed5a",
    *["a"] * 4,
    "reduction_a",
    *["b"] * 7,
    "reduction_b",
    *["c"] * 3,
]


def build_inception_v4(classes: int = 1000, resolution: int = 299) -> Graph:
    """timm's ``inception_v4``."""
    b = GraphBuilder()
    x = b.input((3, resolution, resolution))
    with b.group("features"):
        x = unit(b, "0", x, (32, 3, 2, 0))
        x = unit(b, "1", x, (32, 3, 1, 0))
        x = unit(b, "2", x, (64, 3, 1, 1))
        for index, kind in enumerate(V4_FEATURES, 3):
            with b.group(str(index)):
                x = v4_module(b, kind, x)
    x = b.add("global_avgpool", "global_pool", x)
    b.output(b.add("linear", "last_linear", x, out_features=classes))
    return b.graph


# ----- Inception-ResNet-v2 ----------------------------------------------------------------
def residual(
    b: GraphBuilder, x: str, branches: list[str], channels: int, scale: float, relu: bool
) -> str:
    """Concat the branches, 1×1 conv (with bias) back to ``channels``, ``x + scale·branch``, ReLU."""
    y = conv(b, "conv2d", concat(b, *branches), channels, 1, bias=True)
    if scale != 1.0:  # timm computes out * 1.0 for the last block: an exact no-op, left out
        y = b.add("scale", "scale", y, factor=scale)
    y = b.add("add", "add", y, x)
    return b.add("relu", "relu", y) if relu else y


def block35(b: GraphBuilder, x: str, scale: float = 0.17) -> str:
    return residual(
        b,
        x,
        [
            branch(b, "branch0", x, [(32, 1, 1, 0)]),
            branch(b, "branch1", x, [(32, 1, 1, 0), (32, 3, 1, 1)]),
            branch(b, "branch2", x, [(32, 1, 1, 0), (48, 3, 1, 1), (64, 3, 1, 1)]),
        ],
        320,
        scale,
        True,
    )


def block17(b: GraphBuilder, x: str, scale: float = 0.10) -> str:
    return residual(
        b,
        x,
        [
            branch(b, "branch0", x, [(192, 1, 1, 0)]),
            branch(b, "branch1", x, [(128, 1, 1, 0), (160, *ROW7), (192, *COL7)]),
        ],
        1088,
        scale,
        True,
    )


def block8(b: GraphBuilder, x: str, scale: float = 0.20, relu: bool = True) -> str:
    return residual(
        b,
        x,
        [
            branch(b, "branch0", x, [(192, 1, 1, 0)]),
            branch(b, "branch1", x, [(192, 1, 1, 0), (224, *ROW3), (256, *COL3)]),
        ],
        2080,
        scale,
        relu,
    )


def build_inception_resnet_v2(classes: int = 1000, resolution: int = 299) -> Graph:
    """timm's ``inception_resnet_v2``."""
    b = GraphBuilder()
    x = b.input((3, resolution, resolution))
    x = unit(b, "conv2d_1a", x, (32, 3, 2, 0))
    x = unit(b, "conv2d_2a", x, (32, 3, 1, 0))
    x = unit(b, "conv2d_2b", x, (64, 3, 1, 1))
    x = max_pool(b, "maxpool_3a", x)
    x = unit(b, "conv2d_3b", x, (80, 1, 1, 0))
    x = unit(b, "conv2d_4a", x, (192, 3, 1, 0))
    x = max_pool(b, "maxpool_5a", x)
    with b.group("mixed_5b"):
        x = concat(
            b,
            branch(b, "branch0", x, [(96, 1, 1, 0)]),
            branch(b, "branch1", x, [(48, 1, 1, 0), (64, 5, 1, 2)]),
            branch(b, "branch2", x, [(64, 1, 1, 0), (96, 3, 1, 1), (96, 3, 1, 1)]),
            pool_branch(b, "branch3", x, 64),
        )
    for index in range(10):  # 35×35, scale 0.17
        with b.group("repeat", str(index)):
            x = block35(b, x)
    with b.group("mixed_6a"):
        x = concat(
            b,
            branch(b, "branch0", x, [(384, 3, 2, 0)]),
            branch(b, "branch1", x, [(256, 1, 1, 0), (256, 3, 1, 1), (384, 3, 2, 0)]),
            max_pool(b, "branch2", x),
        )
    for index in range(20):  # 17×17, scale 0.10
        with b.group("repeat_1", str(index)):
            x = block17(b, x)
    with b.group("mixed_7a"):
        x = concat(
            b,
            branch(b, "branch0", x, [(256, 1, 1, 0), (384, 3, 2, 0)]),
            branch(b, "branch1", x, [(256, 1, 1, 0), (288, 3, 2, 0)]),
            branch(b, "branch2", x, [(256, 1, 1, 0), (288, 3, 1, 1), (320, 3, 2, 0)]),
            max_pool(b, "branch3", x),
        )
    for index in range(9):  # 8×8, scale 0.20
        with b.group("repeat_2", str(index)):
            x = block8(b, x)
    with b.group("block8"):
        x = block8(b, x, scale=1.0, relu=False)
    x = unit(b, "conv2d_7b", x, (1536, 1, 1, 0))
    x = b.add("global_avgpool", "global_pool", x)
    b.output(b.add("linear", "classif", x, out_features=classes))
    return b.graph


INCEPTION_V4 = Preset(
    name="inception_v4",
    display_name="Inception v4",
    authors="C. Szegedy, S. Ioffe, V. Vanhoucke, A. Alemi",
    year=2016,
    paper="Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning",
    description=(
        "A cleaned-up, uniform Inception: a deeper stem and repeated Inception-A, B and C modules "
        "with dedicated reduction blocks, all factorised convolutions with 1×1 bottlenecks. It "
        "matched Inception-ResNet's accuracy without residual connections."
    ),
    build=build_inception_v4,
    input_shape=(3, 299, 299),
    options=(classes_option(), resolution_option(299, 75)),
    deviations="timm's form: BatchNorm (eps 0.001) after every convolution, no dropout before the classifier.",
    family="Inception",
    reference="timm inception_v4",
)

INCEPTION_RESNET_V2 = Preset(
    name="inception_resnet_v2",
    display_name="Inception-ResNet-v2",
    authors="C. Szegedy, S. Ioffe, V. Vanhoucke, A. Alemi",
    year=2016,
    paper="Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning",
    description=(
        "Inception modules inside residual blocks: each block's branches are concatenated, "
        "projected by a 1×1 convolution and added to the shortcut. Scaling the residual by "
        "0.1-0.2 before the Add kept these very wide networks stable in training."
    ),
    build=build_inception_resnet_v2,
    input_shape=(3, 299, 299),
    options=(classes_option(), resolution_option(299, 75)),
    deviations=(
        "timm's form: BatchNorm (eps 0.001) in every convolution unit, the residual scales 0.17, "
        "0.10 and 0.20 as Scale blocks, and a last block8 without scale or ReLU."
    ),
    family="Inception",
    reference="timm inception_resnet_v2",
)
