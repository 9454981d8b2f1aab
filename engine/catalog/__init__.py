"""The block catalog: every block type a graph can hold, one declarative spec each.

``CATALOG.get("conv2d")`` returns a ``BlockSpec``; iterate ``CATALOG`` for all of them. To add a
block type, write its spec in the module of its category and list it in that module's SPECS.
"""

from engine.catalog import activation, conv, local, norm, pool, reshape, scale, structure
from engine.catalog.registry import BlockRegistry
from engine.catalog.spec import BlockSpec, RuleContext, Shape, ShapeRuleError, fmt_shape

CATALOG = BlockRegistry()
for _module in (structure, conv, local, pool, norm, activation, scale, reshape):
    for _spec in _module.SPECS:
        CATALOG.register(_spec)

CATEGORY_ORDER = (
    "Input/Output",
    "Convolution",
    "Pooling",
    "Normalization",
    "Regularization",
    "Activation",
    "Structure",
    "Dense",
)

__all__ = [
    "CATALOG",
    "CATEGORY_ORDER",
    "BlockRegistry",
    "BlockSpec",
    "RuleContext",
    "Shape",
    "ShapeRuleError",
    "fmt_shape",
]
