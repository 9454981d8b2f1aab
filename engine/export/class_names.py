"""The class name of an exported model: written as the user typed it, or refused with a reason.

The exported code must use the name as typed, so anything the exporter would otherwise rename (it
keeps ASCII letters, digits and underscores, drops leading and trailing underscores, and adds
``_`` to keywords) is refused, as are names the exported file uses itself.
"""

from __future__ import annotations

import builtins
import keyword

from engine.identifiers import safe_identifier

DEFAULT_CLASS = "DesignedNet"
# Names the exported .py file defines or uses at its top level and in main(): a class of that
# name would hide them (``class Path`` breaks loading the weights, ``model = model()`` fails).
FILE_NAMES = frozenset(
    {"torch", "nn", "Path", "INPUT_SHAPES", "main", "model", "weights", "output"}
)


def class_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be the exported class's name, with a name to use instead; or None."""
    if not name:
        return f"Type a class name for the exported model, e.g. {DEFAULT_CLASS!r}."
    why = _class_name_reason(name)
    if why is None:
        return None
    return f"Class name {name!r}: {why}. Use a name such as {_suggestion(name)!r}."


def _class_name_reason(name: str) -> str | None:
    if name[:1].isdigit():
        return "a class name cannot start with a digit"
    if not name.isidentifier():
        bad = sorted({ch for ch in name if not (ch.isalnum() or ch == "_")})
        return (
            f"a class name is letters, digits and underscores only (not {' '.join(map(repr, bad))})"
        )
    if keyword.iskeyword(name):
        return f"{name!r} is a Python keyword"
    if name in FILE_NAMES:
        return f"the exported file already uses the name {name!r}"
    if name in vars(builtins):
        return f"{name!r} is a Python built-in name, which the class would hide"
    if not name.isascii():
        return "the exported code uses ASCII class names only (letters a-z, A-Z, digits, _)"
    if safe_identifier(name) != name:
        return f"the exporter would write it as {safe_identifier(name)!r}"
    return None


def _suggestion(name: str) -> str:
    """A usable class name close to ``name`` (``1Net`` → ``N1Net``, ``My Net`` → ``My_Net``)."""
    base = safe_identifier(name).strip("_") or DEFAULT_CLASS
    base = base[0].upper() + base[1:]
    for candidate in (base, f"{base}Net"):
        if _class_name_reason(candidate) is None:
            return candidate
    return DEFAULT_CLASS
