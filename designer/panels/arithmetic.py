"""The inspector's size arithmetic: moved to ``engine.arithmetic`` (the CLI's explain shows it too)."""

from engine.arithmetic import CONV_TYPES, POOL_TYPES, TRANSPOSE_TYPES, size_lines

__all__ = ["CONV_TYPES", "POOL_TYPES", "TRANSPOSE_TYPES", "size_lines"]
