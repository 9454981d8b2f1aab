"""Safe Python identifiers from user-chosen names.

Node names reach generated code (module attributes, variables). Whatever a person or a file
writes, only characters of an identifier survive, so a name can never inject code.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection

_INVALID = re.compile(r"[^0-9A-Za-z_]")
_RESERVED = {"self", "forward", "torch", "nn", "F", "x", "input", "training"}


def safe_identifier(name: str, taken: set[str] | None = None) -> str:
    """``name`` turned into a valid, non-keyword identifier not in ``taken``."""
    text = _INVALID.sub("_", name).strip("_") or "node"
    if text[0].isdigit():
        text = f"n{text}"
    if keyword.iskeyword(text) or text in _RESERVED:
        text = f"{text}_"
    if taken is not None:
        base, counter = text, 2
        while text in taken:
            text = f"{base}_{counter}"
            counter += 1
        taken.add(text)
    return text


def safe_module_path(
    name: str, taken: set[str] | None = None, reserved: Collection[str] = ()
) -> str:
    """A dotted module path (``layer2.0.conv1``) whose parts are identifiers or indices.

    A part in ``reserved`` (attributes of the module class, such as ``train`` or ``graph``)
    gets a trailing underscore so the submodule cannot shadow them.
    """
    parts = [p for p in name.split(".") if p] or ["node"]
    safe = [p if p.isdigit() else safe_identifier(p) for p in parts]
    safe = [f"{p}_" if p in reserved else p for p in safe]
    if not safe[0].isidentifier():  # the model's own attribute must be a name
        safe[0] = f"n{safe[0]}"
    # an index leaf (features.0) stays: nn.Sequential names its layers so, and state-dict keys
    # only line up with torchvision's (features.0.weight) when it is kept
    path = ".".join(safe)
    if taken is not None:
        base, counter = path, 2
        while path in taken or any(
            t.startswith(path + ".") or path.startswith(t + ".") for t in taken
        ):
            path = f"{base}_{counter}"
            counter += 1
        taken.add(path)
    return path


_NAME_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


_EXAMPLES = {
    "node": ("conv1", "with dots between group levels (like layer2.0.conv1)"),
    "group": ("stage1", "with dots between nested groups (like layer2.0)"),
}


def name_problem(name: str, kind: str = "node") -> str | None:
    """Why ``name`` is not a good name for a ``kind`` ("node" or "group"), or None.

    Both are dotted identifiers; the message names what was being named."""
    example, dotted = _EXAMPLES[kind]
    if not name:
        return f"a {kind} name cannot be empty. Type a name such as {example}"
    if not _NAME_OK.match(name):
        return (
            f"a {kind} name is made of letters, digits and underscores, {dotted}. "
            f"Received: name={name!r}. Remove the other characters"
        )
    return None
