"""Classic CNN architectures, built from the engine's public API only.

``PRESETS.get("resnet18").create(classes=10)`` returns a new ``engine.Graph``.
"""

from presets.alexnet import ALEXNET
from presets.googlenet import GOOGLENET
from presets.inception import INCEPTION_V3
from presets.inception_v4 import INCEPTION_RESNET_V2, INCEPTION_V4
from presets.lenet import LENET5
from presets.mobilenet import MOBILENET_V1, MOBILENET_V2
from presets.registry import Preset, PresetOption, PresetRegistry
from presets.resnet import RESNETS
from presets.small import SMALL
from presets.squeezenet import SQUEEZENETS
from presets.vgg import VGGS

PRESETS = PresetRegistry()
for _preset in (
    LENET5,
    ALEXNET,
    *VGGS,
    GOOGLENET,
    INCEPTION_V3,
    INCEPTION_V4,
    INCEPTION_RESNET_V2,
    *RESNETS,
    *SQUEEZENETS,
    MOBILENET_V1,
    MOBILENET_V2,
    *SMALL,
):
    PRESETS.register(_preset)

DEFAULT_PRESET = "lenet5"

__all__ = ["DEFAULT_PRESET", "PRESETS", "Preset", "PresetOption", "PresetRegistry"]
