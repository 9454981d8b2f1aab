"""The node-graph canvas: ``CanvasView`` shows a Document's graph and edits it with the mouse."""

from designer.canvas.scene import CanvasScene
from designer.canvas.view import CanvasView

__all__ = ["CanvasScene", "CanvasView"]
