"""GoogLeNet, Inception v1 (Szegedy et al., 2014), named like torchvision's ``googlenet``.

torchvision's ``BasicConv2d`` (conv, BatchNorm, ReLU) is a group of three nodes, so
``inception4a.branch2.1.conv`` is the 3×3 convolution of module 4a's second branch.
"""

from __future__ import annotations

from engine import Graph
from presets.blocks import (
    aux_logits_option,
    batch_norm_option,
    classes_option,
    conv_bn_act,
    resolution_option,
)
from presets.builder import GraphBuilder
from presets.registry import Preset, PresetOption

# Table 1 of the paper: #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj; "M" a max pool
MODULES: list[tuple[str, tuple[int, ...]] | tuple[str, int]] = [
    ("inception3a", (64, 96, 128, 16, 32, 32)),
    ("inception3b", (128, 128, 192, 32, 96, 64)),
    ("maxpool3", 3),
    ("inception4a", (192, 96, 208, 16, 48, 64)),
    ("inception4b", (160, 112, 224, 24, 64, 64)),
    ("inception4c", (128, 128, 256, 24, 64, 64)),
    ("inception4d", (112, 144, 288, 32, 64, 64)),
    ("inception4e", (256, 160, 320, 32, 128, 128)),
    ("maxpool4", 2),  # torchvision: 2×2/2 (the paper: 3×3/2); same output size with ceil_mode
    ("inception5a", (256, 160, 320, 32, 128, 128)),
    ("inception5b", (384, 192, 384, 48, 128, 128)),
]
AUX_AFTER = {"inception4a": "aux1", "inception4d": "aux2"}


class _Units:
    """BasicConv2d with the preset's options applied."""

    def __init__(self, b: GraphBuilder, batch_norm: bool) -> None:
        self.b, self.batch_norm = b, batch_norm

    def conv(
        self, local: str, x: str, out: int, kernel: int, stride: int = 1, padding: int = 0
    ) -> str:
        return conv_bn_act(
            self.b, local, x, out, kernel, stride, padding, batch_norm=self.batch_norm, eps=1e-3
        )


def inception_module(u: _Units, x: str, widths: tuple[int, ...], kernel5: int) -> str:
    """Four parallel branches joined by a Concat (in the current group)."""
    b = u.b
    c1, c3r, c3, c5r, c5, proj = widths
    branch1 = u.conv("branch1", x, c1, 1)
    with b.group("branch2"):
        branch2 = u.conv("1", u.conv("0", x, c3r, 1), c3, 3, padding=1)
    with b.group("branch3"):
        # torchvision builds the '5×5' branch with a 3×3 kernel (pytorch/vision#906)
        branch3 = u.conv("1", u.conv("0", x, c5r, 1), c5, kernel5, padding=kernel5 // 2)
    with b.group("branch4"):
        pooled = b.add("maxpool2d", "0", x, kernel_size=3, stride=1, padding=1, ceil_mode=True)
        branch4 = u.conv("1", pooled, proj, 1)
    return b.add("concat", "concat", branch1, branch2, branch3, branch4)


def aux_classifier(u: _Units, x: str, classes: int) -> str:
    """torchvision's InceptionAux: 4×4 average pool, 1×1 conv 128, FC 1024, dropout 0.7, FC."""
    b = u.b
    x = b.add("adaptive_avgpool2d", "avgpool", x, output_size=4)  # paper: 5×5/3 (4×4 at 224)
    x = u.conv("conv", x, 128, 1)
    x = b.add("flatten", "flatten", x)
    x = b.add("relu", "relu", b.add("linear", "fc1", x, out_features=1024))
    x = b.add("dropout", "dropout", x, p=0.7)
    return b.add("linear", "fc2", x, out_features=classes)


def build_googlenet(
    classes: int = 1000,
    batch_norm: bool = True,
    aux_logits: bool = False,
    branch3_kernel: int = 3,
    resolution: int = 224,
) -> Graph:
    """GoogLeNet; aux heads (training only) become extra Output blocks ``aux1.output``, ``aux2.output``."""
    b = GraphBuilder()
    u = _Units(b, batch_norm)
    x = b.input((3, resolution, resolution))
    x = u.conv("conv1", x, 64, 7, 2, 3)
    x = b.add("maxpool2d", "maxpool1", x, kernel_size=3, stride=2, ceil_mode=True)
    if not batch_norm:  # the 2014 paper's LRN, which torchvision drops with BatchNorm
        x = b.add("local_response_norm", "lrn1", x, size=5, alpha=1e-4, beta=0.75, k=1.0)
    x = u.conv("conv2", x, 64, 1)
    x = u.conv("conv3", x, 192, 3, padding=1)
    if not batch_norm:
        x = b.add("local_response_norm", "lrn2", x, size=5, alpha=1e-4, beta=0.75, k=1.0)
    x = b.add("maxpool2d", "maxpool2", x, kernel_size=3, stride=2, ceil_mode=True)
    for name, spec in MODULES:
        if isinstance(spec, int):
            x = b.add("maxpool2d", name, x, kernel_size=spec, stride=2, ceil_mode=True)
            continue
        with b.group(name):
            x = inception_module(u, x, spec, branch3_kernel)
        if aux_logits and name in AUX_AFTER:
            with b.group(AUX_AFTER[name]):
                b.output(aux_classifier(u, x, classes))
    x = b.add("adaptive_avgpool2d", "avgpool", x, output_size=1)
    x = b.add("flatten", "flatten", x)
    x = b.add("dropout", "dropout", x, p=0.2)  # torchvision 0.2; the paper 0.4
    b.output(b.add("linear", "fc", x, out_features=classes))
    return b.graph


GOOGLENET = Preset(
    name="googlenet",
    display_name="GoogLeNet (Inception v1)",
    authors="C. Szegedy, W. Liu, Y. Jia, P. Sermanet, S. Reed, D. Anguelov, D. Erhan, V. Vanhoucke, A. Rabinovich",
    year=2014,
    paper="Going Deeper with Convolutions",
    description=(
        "Inception modules run 1×1, 3×3 and 5×5 convolutions and pooling side by side and concatenate "
        "them; 1×1 bottleneck convolutions first shrink the channels so the wide module stays cheap. "
        "22 layers with 12× fewer parameters than AlexNet won ImageNet 2014."
    ),
    build=build_googlenet,
    input_shape=(3, 224, 224),
    options=(
        classes_option(),
        batch_norm_option(
            True,
            "BatchNorm after every convolution as torchvision (off: the 2014 paper, with biases and LRN).",
        ),
        aux_logits_option(
            "Auxiliary classifiers after 4a and 4d, as extra outputs (used only in training; "
            "their cost is in the MAC total, the reference's evaluation MACs exclude them)."
        ),
        PresetOption(
            "branch3_kernel",
            3,
            (3, 5),
            "Kernel of the '5×5' branch: 3 as torchvision builds it, 5 as in the paper.",
        ),
        resolution_option(224, 32),
    ),
    deviations=(
        "Default is torchvision's: BatchNorm, a 3×3 kernel in the '5×5' branch, a 2×2 fourth max "
        "pool, dropout 0.2, 4×4 adaptive pooling in the auxiliary heads. batch_norm=False restores "
        "the paper's biases and LRN layers; branch3_kernel=5 the paper's 5×5 kernel."
    ),
    family="Inception",
    reference="torchvision googlenet (aux_logits=False: 6,624,904; True: 13,004,888)",
)
