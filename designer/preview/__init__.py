"""Live preview (issue 20, point 3): with View ▸ Live preview on, one sample of the training
settings' data set runs through the design as it is edited, on a worker thread (torch loads
then, never at start-up), and each block on the canvas shows a thumbnail of its output with
the mean and spread of its activations; dead and saturated blocks are marked.

``install_preview(window)`` adds the action (off by default).
"""

from __future__ import annotations

from typing import Any


def install_preview(window: Any) -> Any:
    """Give ``window`` View ▸ Live preview; returns the ``LivePreview`` (``window.preview``)."""
    from designer.preview.controller import LivePreview

    window.preview = LivePreview(window)
    return window.preview
