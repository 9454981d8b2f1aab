"""Safe Python identifiers from user-chosen names.

Node names reach generated code (module attributes, variables). Whatever a person or a file
writes, only characters of an identifier survive, so a name can never inject code.
"""

from __future__ import annotations

import itertools
import keyword
import re
from collections.abc import Collection, Sequence

_INVALID = re.compile(r"[^0-9A-Za-z_]")
_INDEX = re.compile(r"[0-9]+")  # ASCII digits only (str.isdigit takes "²")
_RESERVED = {"self", "forward", "torch", "nn", "F", "x", "input", "training"}


def safe_identifier(name: str, taken: set[str] | None = None) -> str:
    """``name`` turned into a valid, non-keyword identifier not in ``taken``."""
    text = _INVALID.sub("_", name).strip("_") or "node"
    if text[0].isdigit():
        text = f"n{text}"
    if keyword.iskeyword(text) or text in _RESERVED:
        text = f"{text}_"
    if taken is not None:
        text = _first_free(text, taken)
        taken.add(text)
    return text


def _first_free(text: str, taken: Collection[str]) -> str:
    """``text``, or the first of ``text_2``, ``text_3``... not in ``taken``.

    Bounded: the len(taken) + 1 candidates tried are all different, so one of them is free."""
    candidates = itertools.chain([text], (f"{text}_{n}" for n in range(2, len(taken) + 2)))
    return next(c for c in candidates if c not in taken)


def safe_module_path(name: str, reserved: Collection[str] = ()) -> str:
    """A dotted module path (``layer2.0.conv1``) whose parts are identifiers or indices.

    A part in ``reserved`` (attributes of the module class, such as ``train`` or ``graph``)
    gets a trailing underscore so the submodule cannot shadow them. An index keeps its digits as
    written (``blk.01`` stays ``blk.01``, a module of its own beside ``blk.1``).
    """
    parts = [p for p in name.split(".") if p] or ["node"]
    safe = [p if _INDEX.fullmatch(p) else safe_identifier(p) for p in parts]
    safe = [f"{p}_" if p in reserved else p for p in safe]
    if not safe[0].isidentifier():  # the model's own attribute must be a name
        safe[0] = f"n{safe[0]}"
    # an index leaf (features.0) stays: nn.Sequential names its layers so, and state-dict keys
    # only line up with torchvision's (features.0.weight) when it is kept
    return ".".join(safe)


def distinct_module_paths(names: Sequence[str], reserved: Collection[str] = ()) -> dict[str, str]:
    """{name: module path} for ``names`` (in that order): distinct paths, none inside another.

    A module cannot both be a layer and hold layers, so when one name's path is the group of
    another's (``layer1`` and ``layer1.0``), the group keeps its name and the layer is renamed
    (``layer1_2``), whatever their order. Names whose paths are free keep them; the others, in
    order, get the first free ``_2``, ``_3``... on their last part (an index ``0`` becomes
    the name ``n0``, then ``n0_2``...). Preset paths never clash, so their state-dict keys stay torchvision's.
    """
    wanted = {name: safe_module_path(name, reserved) for name in names}
    groups: set[str] = set()
    for path in wanted.values():
        parts = path.split(".")
        groups.update(".".join(parts[:depth]) for depth in range(1, len(parts)))
    paths: dict[str, str] = {}
    used: set[str] = set()
    for name, path in wanted.items():
        if path not in groups and path not in used:
            paths[name] = path
            used.add(path)
    occupied = groups | set(wanted.values())
    for name, path in wanted.items():
        if name in paths:
            continue
        parent, _, leaf = path.rpartition(".")
        stem = f"{parent}.{leaf}" if leaf.isidentifier() else f"{parent}.n{leaf}"
        paths[name] = _first_free(stem.lstrip("."), occupied)
        occupied.add(paths[name])
    return {name: paths[name] for name in names}


_NAME_OK = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*")

# Generous bounds on names, far past real models (torchvision's and timm's longest module names
# have under 80 characters and 7 parts): a longer or deeper name is a mistake or an attack, and
# generated code, torch's module nesting and the canvas would pay for it (a name of 10,000 parts
# ended an export in RecursionError).
MAX_NAME_LENGTH = 255
MAX_NAME_PARTS = 32

_EXAMPLES = {
    "node": ("conv1", "with dots between group levels (like layer2.0.conv1)"),
    "group": ("stage1", "with dots between nested groups (like layer2.0)"),
}


def shown_name(name: str, limit: int = 60) -> str:
    """``repr(name)``, cut short (with its length) when longer than ``limit`` characters."""
    text = repr(name)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 4]}...' ({len(name):,} characters)"


def name_problem(name: str, kind: str = "node") -> str | None:
    """Why ``name`` is not a good name for a ``kind`` ("node" or "group"), or None.

    Both are dotted identifiers of at most MAX_NAME_LENGTH characters and MAX_NAME_PARTS parts;
    the message names what was being named."""
    example, dotted = _EXAMPLES[kind]
    if not name:
        return f"a {kind} name cannot be empty. Type a name such as {example}"
    if len(name) > MAX_NAME_LENGTH:
        return (
            f"a {kind} name has at most {MAX_NAME_LENGTH} characters. Received: "
            f"name={shown_name(name)}. Choose a shorter name, such as {example}"
        )
    if name.count(".") >= MAX_NAME_PARTS:
        return (
            f"a {kind} name has at most {MAX_NAME_PARTS} dotted parts (groups nested "
            f"{MAX_NAME_PARTS - 1} deep). Received: name={shown_name(name)} with "
            f"{name.count('.') + 1} parts. Use fewer levels of groups"
        )
    if not _NAME_OK.fullmatch(name):
        return (
            f"a {kind} name is made of letters, digits and underscores, {dotted}. "
            f"Received: name={shown_name(name)}. Remove the other characters"
        )
    return None
