"""Python literals for generated code, from project values only.

Everything a project file or a person typed reaches generated code through ``literal`` (numbers,
booleans, None, pairs of them and a few plain words) or through ``engine.identifiers`` (names).
Any other value, such as a string with quotes, brackets or spaces, raises ``ExportError``: a
hostile value can never become code.
"""

from __future__ import annotations

import math
import re
from typing import Any

from engine.errors import DesignerError

_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")


class ExportError(DesignerError, ValueError):
    """A design that cannot be exported, or a value that must not reach generated code."""


def literal(value: Any, what: str = "value") -> str:
    """``value`` as Python source: int, finite float, bool, None, a plain word or a tuple of them."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(int(value))  # int() drops subclasses that could override __str__
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExportError(f"{what}: only finite numbers can be exported. Received: {value!r}")
        return repr(float(value))
    if isinstance(value, list | tuple):
        items = [literal(item, what) for item in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, str) and _WORD.match(value):
        return repr(str(value))
    shown = repr(value) if len(repr(value)) < 60 else repr(value)[:57] + "..."
    raise ExportError(
        f"{what}: only numbers, true/false and plain words can be written into code. "
        f"Received: {shown}. Fix the parameter in the design"
    )


def choice(value: Any, choices: tuple[Any, ...], what: str) -> str:
    """A value that must be one of a parameter's fixed choices, as a literal."""
    if value not in choices:
        raise ExportError(
            f"{what}: {value!r} is not one of {', '.join(map(repr, choices))}. Fix the parameter"
        )
    return literal(value, what)


def size(value: Any, what: str) -> str:
    """A size parameter (k or [kh, kw]) written as k when both axes agree."""
    if isinstance(value, list | tuple) and len(value) == 2 and value[0] == value[1]:
        value = value[0]
    if isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    return literal(value, what)


def shape_text(shape: Any) -> str:
    """A per-sample shape as the canvas writes it (6×28×28), from whole numbers only."""
    if shape is None:
        return "?"
    return "×".join(str(int(s)) for s in shape)
