"""Classic CNN architectures, built from the engine's public API only.

``PRESETS.get("resnet18").create(classes=10)`` returns a new ``engine.Graph``.
"""

from presets.lenet import LENET5
from presets.registry import Preset, PresetOption, PresetRegistry

PRESETS = PresetRegistry()
for _preset in (LENET5,):
    PRESETS.register(_preset)

DEFAULT_PRESET = "lenet5"

__all__ = ["DEFAULT_PRESET", "PRESETS", "Preset", "PresetOption", "PresetRegistry"]
