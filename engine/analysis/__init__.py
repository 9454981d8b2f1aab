"""Analyses of an inferred design for learning (issue 18): what the lecture makes visible.

``equivalents`` compares a convolution with its dense and locally connected equivalents;
``receptive_field`` gives every block's receptive field, jump and start. Qt-free, torch-free.
``saliency`` (Grad-CAM and the input gradient of a trained model) imports torch and is not
loaded with the package.
"""

from engine.analysis.equivalents import Counts, Equivalents, conv_equivalents, node_equivalents
from engine.analysis.receptive_field import Field, receptive_fields

__all__ = [
    "Counts",
    "Equivalents",
    "Field",
    "conv_equivalents",
    "node_equivalents",
    "receptive_fields",
]
