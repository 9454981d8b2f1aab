"""Drag-and-drop payloads shared by the palette (drag source) and the canvas (drop target)."""

MIME_BLOCK = "application/x-cnn-designer-block"  # payload: the block's type_id, UTF-8
