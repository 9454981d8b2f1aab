"""ResNet-18/34/50/101/152 (He et al., 2015), named like torchvision's ``resnet*``.

torchvision's module names become node names (``conv1``, ``layer2.0.conv1``,
``layer2.0.downsample.0``, ``fc``) so that the compiled module's state dict is torchvision's.
"""

from __future__ import annotations

from functools import partial

from engine import Graph
from presets.blocks import classes_option, conv, resolution_option
from presets.builder import GraphBuilder
from presets.registry import Preset

# depth: (block, blocks per stage); the stages have 64, 128, 256, 512 planes
CONFIGS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
EXPANSION = {"basic": 1, "bottleneck": 4}


def residual_block(
    b: GraphBuilder,
    x: str,
    kind: str,
    in_channels: int,
    planes: int,
    stride: int,
) -> str:
    """One BasicBlock or Bottleneck in the current group; returns its output node."""
    identity = x
    out_channels = planes * EXPANSION[kind]
    if kind == "basic":
        y = conv(b, "conv1", x, planes, 3, stride, 1, bias=False)
        y = b.add("relu", "relu1", b.add("batchnorm", "bn1", y))
        y = conv(b, "conv2", y, planes, 3, 1, 1, bias=False)
        y = b.add("batchnorm", "bn2", y)
    else:
        y = conv(b, "conv1", x, planes, 1, bias=False)
        y = b.add("relu", "relu1", b.add("batchnorm", "bn1", y))
        # ResNet v1.5 as torchvision: the stride sits on the 3×3 convolution (the paper: on conv1)
        y = conv(b, "conv2", y, planes, 3, stride, 1, bias=False)
        y = b.add("relu", "relu2", b.add("batchnorm", "bn2", y))
        y = conv(b, "conv3", y, out_channels, 1, bias=False)
        y = b.add("batchnorm", "bn3", y)
    if stride != 1 or in_channels != out_channels:
        # projection shortcut (the paper's option B)
        with b.group("downsample"):
            identity = conv(b, "0", x, out_channels, 1, stride, bias=False)
            identity = b.add("batchnorm", "1", identity)
    return b.add("relu", "relu", b.add("add", "add", y, identity))


def build_resnet(depth: int, classes: int = 1000, resolution: int = 224) -> Graph:
    """torchvision's ResNet of ``depth`` layers."""
    kind, counts = CONFIGS[depth]
    b = GraphBuilder()
    x = b.input((3, resolution, resolution))
    x = conv(b, "conv1", x, 64, 7, 2, 3, bias=False)
    x = b.add("relu", "relu", b.add("batchnorm", "bn1", x))
    x = b.add("maxpool2d", "maxpool", x, kernel_size=3, stride=2, padding=1)
    channels = 64
    for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), counts, strict=True), 1):
        for index in range(count):
            stride = 2 if stage > 1 and index == 0 else 1
            with b.group(f"layer{stage}", str(index)):
                x = residual_block(b, x, kind, channels, planes, stride)
            channels = planes * EXPANSION[kind]
    x = b.add("adaptive_avgpool2d", "avgpool", x, output_size=1)
    x = b.add("flatten", "flatten", x)
    b.output(b.add("linear", "fc", x, out_features=classes))
    return b.graph


WHY = (
    "Skip connections let each block learn a residual F(x) added to its input, so gradients flow "
    "through identity paths and networks of 100+ layers train better than shallower ones. "
    "The bottleneck block (1×1 reduce, 3×3, 1×1 expand) keeps the deep variants affordable."
)


def _preset(depth: int) -> Preset:
    kind = CONFIGS[depth][0]
    return Preset(
        name=f"resnet{depth}",
        display_name=f"ResNet-{depth}",
        authors="K. He, X. Zhang, S. Ren, J. Sun",
        year=2015,
        paper="Deep Residual Learning for Image Recognition",
        description=WHY,
        build=partial(build_resnet, depth),
        input_shape=(3, 224, 224),
        options=(
            classes_option(),
            resolution_option(224, 32),
        ),
        deviations=(
            "torchvision's form: projection shortcuts (option B) where shapes change"
            + (
                ", and the bottleneck's stride on its 3×3 convolution (ResNet v1.5)."
                if kind == "bottleneck"
                else "."
            )
        ),
        family="ResNet",
        reference=f"torchvision resnet{depth}",
    )


RESNETS = tuple(_preset(depth) for depth in CONFIGS)
