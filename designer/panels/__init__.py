"""The dock panels around the canvas: palette, inspector, layer summary and problems list."""
