"""Inception v3 (Szegedy et al., 2015), named like torchvision's ``inception_v3``.

Every module name of torchvision is a group here (``Mixed_6b.branch7x7_2`` holds the nodes
``conv``, ``bn`` and ``relu``); torchvision's functional pools and concatenations are blocks.
"""

from __future__ import annotations

from functools import partial

from engine import Graph
from presets.blocks import Size, aux_logits_option, classes_option, conv_bn_act, resolution_option
from presets.builder import GraphBuilder
from presets.registry import Preset

# A branch is a list of (name, out_channels, kernel, stride, padding) convolutions; a split
# ("name", [conv_a, conv_b]) runs two convolutions on the same input and concatenates them.
Conv = tuple[str, int, Size, int, Size]


def _basic(b: GraphBuilder, x: str, spec: Conv) -> str:
    name, out, kernel, stride, padding = spec
    return conv_bn_act(b, name, x, out, kernel, stride, padding, eps=1e-3)


def _chain(b: GraphBuilder, x: str, convs: list[Conv]) -> str:
    for spec in convs:
        x = _basic(b, x, spec)
    return x


def _avg_pool_branch(b: GraphBuilder, x: str, out: int) -> str:
    pooled = b.add("avgpool2d", "avgpool", x, kernel_size=3, stride=1, padding=1)
    return _basic(b, pooled, ("branch_pool", out, 1, 1, 0))


def inception_a(b: GraphBuilder, x: str, pool_features: int) -> str:
    """35×35: 1×1, 5×5, double 3×3 and pooled branches."""
    return b.add(
        "concat",
        "concat",
        _basic(b, x, ("branch1x1", 64, 1, 1, 0)),
        _chain(b, x, [("branch5x5_1", 48, 1, 1, 0), ("branch5x5_2", 64, 5, 1, 2)]),
        _chain(
            b,
            x,
            [
                ("branch3x3dbl_1", 64, 1, 1, 0),
                ("branch3x3dbl_2", 96, 3, 1, 1),
                ("branch3x3dbl_3", 96, 3, 1, 1),
            ],
        ),
        _avg_pool_branch(b, x, pool_features),
    )


def inception_b(b: GraphBuilder, x: str) -> str:
    """Grid reduction 35 → 17."""
    return b.add(
        "concat",
        "concat",
        _basic(b, x, ("branch3x3", 384, 3, 2, 0)),
        _chain(
            b,
            x,
            [
                ("branch3x3dbl_1", 64, 1, 1, 0),
                ("branch3x3dbl_2", 96, 3, 1, 1),
                ("branch3x3dbl_3", 96, 3, 2, 0),
            ],
        ),
        b.add("maxpool2d", "maxpool", x, kernel_size=3, stride=2),
    )


def inception_c(b: GraphBuilder, x: str, c7: int) -> str:
    """17×17 with factorised 7×7 convolutions (1×7 then 7×1)."""
    row, col = ((1, 7), (0, 3)), ((7, 1), (3, 0))
    return b.add(
        "concat",
        "concat",
        _basic(b, x, ("branch1x1", 192, 1, 1, 0)),
        _chain(
            b,
            x,
            [
                ("branch7x7_1", c7, 1, 1, 0),
                ("branch7x7_2", c7, row[0], 1, row[1]),
                ("branch7x7_3", 192, col[0], 1, col[1]),
            ],
        ),
        _chain(
            b,
            x,
            [
                ("branch7x7dbl_1", c7, 1, 1, 0),
                ("branch7x7dbl_2", c7, col[0], 1, col[1]),
                ("branch7x7dbl_3", c7, row[0], 1, row[1]),
                ("branch7x7dbl_4", c7, col[0], 1, col[1]),
                ("branch7x7dbl_5", 192, row[0], 1, row[1]),
            ],
        ),
        _avg_pool_branch(b, x, 192),
    )


def inception_d(b: GraphBuilder, x: str) -> str:
    """Grid reduction 17 → 8."""
    return b.add(
        "concat",
        "concat",
        _chain(b, x, [("branch3x3_1", 192, 1, 1, 0), ("branch3x3_2", 320, 3, 2, 0)]),
        _chain(
            b,
            x,
            [
                ("branch7x7x3_1", 192, 1, 1, 0),
                ("branch7x7x3_2", 192, (1, 7), 1, (0, 3)),
                ("branch7x7x3_3", 192, (7, 1), 1, (3, 0)),
                ("branch7x7x3_4", 192, 3, 2, 0),
            ],
        ),
        b.add("maxpool2d", "maxpool", x, kernel_size=3, stride=2),
    )


def inception_e(b: GraphBuilder, x: str) -> str:
    """8×8 with expanded filter banks: 1×3 and 3×1 side by side."""
    a = _basic(b, x, ("branch3x3_1", 384, 1, 1, 0))
    split = b.add(
        "concat",
        "concat3x3",
        _basic(b, a, ("branch3x3_2a", 384, (1, 3), 1, (0, 1))),
        _basic(b, a, ("branch3x3_2b", 384, (3, 1), 1, (1, 0))),
    )
    d = _chain(b, x, [("branch3x3dbl_1", 448, 1, 1, 0), ("branch3x3dbl_2", 384, 3, 1, 1)])
    split_dbl = b.add(
        "concat",
        "concat3x3dbl",
        _basic(b, d, ("branch3x3dbl_3a", 384, (1, 3), 1, (0, 1))),
        _basic(b, d, ("branch3x3dbl_3b", 384, (3, 1), 1, (1, 0))),
    )
    return b.add(
        "concat",
        "concat",
        _basic(b, x, ("branch1x1", 320, 1, 1, 0)),
        split,
        split_dbl,
        _avg_pool_branch(b, x, 192),
    )


def aux_classifier(b: GraphBuilder, x: str, classes: int) -> str:
    """torchvision's InceptionAux on the 17×17 grid."""
    x = b.add("avgpool2d", "avgpool", x, kernel_size=5, stride=3)
    x = _chain(b, x, [("conv0", 128, 1, 1, 0), ("conv1", 768, 5, 1, 0)])
    x = b.add("adaptive_avgpool2d", "global_pool", x, output_size=1)
    x = b.add("flatten", "flatten", x)
    return b.add("linear", "fc", x, out_features=classes)


# the module sequence after the stem: (name, builder)
MIXED = [
    ("Mixed_5b", partial(inception_a, pool_features=32)),
    ("Mixed_5c", partial(inception_a, pool_features=64)),
    ("Mixed_5d", partial(inception_a, pool_features=64)),
    ("Mixed_6a", inception_b),
    ("Mixed_6b", partial(inception_c, c7=128)),
    ("Mixed_6c", partial(inception_c, c7=160)),
    ("Mixed_6d", partial(inception_c, c7=160)),
    ("Mixed_6e", partial(inception_c, c7=192)),
    ("Mixed_7a", inception_d),
    ("Mixed_7b", inception_e),
    ("Mixed_7c", inception_e),
]


def build_inception_v3(
    classes: int = 1000, aux_logits: bool = False, resolution: int = 299
) -> Graph:
    """Inception v3; the auxiliary head (training only) is an extra Output ``AuxLogits.output``."""
    b = GraphBuilder()
    x = b.input((3, resolution, resolution))
    x = _chain(
        b,
        x,
        [
            ("Conv2d_1a_3x3", 32, 3, 2, 0),
            ("Conv2d_2a_3x3", 32, 3, 1, 0),
            ("Conv2d_2b_3x3", 64, 3, 1, 1),
        ],
    )
    x = b.add("maxpool2d", "maxpool1", x, kernel_size=3, stride=2)
    x = _chain(b, x, [("Conv2d_3b_1x1", 80, 1, 1, 0), ("Conv2d_4a_3x3", 192, 3, 1, 0)])
    x = b.add("maxpool2d", "maxpool2", x, kernel_size=3, stride=2)
    for name, module in MIXED:
        with b.group(name):
            x = module(b, x)
        if aux_logits and name == "Mixed_6e":
            with b.group("AuxLogits"):
                b.output(aux_classifier(b, x, classes))
    x = b.add("adaptive_avgpool2d", "avgpool", x, output_size=1)
    x = b.add("dropout", "dropout", x, p=0.5)
    x = b.add("flatten", "flatten", x)
    b.output(b.add("linear", "fc", x, out_features=classes))
    return b.graph


INCEPTION_V3 = Preset(
    name="inception_v3",
    display_name="Inception v3",
    authors="C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna",
    year=2015,
    paper="Rethinking the Inception Architecture for Computer Vision",
    description=(
        "Refines Inception by factorising convolutions: a 5×5 becomes two 3×3, a 7×7 becomes 1×7 "
        "then 7×1, and grid reductions run pooling and strided convolutions in parallel. With "
        "BatchNorm and label smoothing it reached 21% top-1 error at 5.7 GMACs."
    ),
    build=build_inception_v3,
    input_shape=(3, 299, 299),
    options=(
        classes_option(),
        aux_logits_option(
            "The auxiliary classifier after Mixed_6e, as an extra output (training only; its cost "
            "is in the MAC total, the reference's evaluation MACs exclude it)."
        ),
        # the aux head's 5×5 pool (stride 3) and 5×5 conv need Mixed_6e's 17×17 grid: 299×299
        resolution_option(299, 75, (("aux_logits", True, 299),)),
    ),
    deviations="torchvision's form: BatchNorm (eps 0.001) after every convolution, dropout 0.5 before the classifier.",
    family="Inception",
    reference="torchvision inception_v3 (aux_logits=False: 23,834,568; True: 27,161,264)",
)
