"""Group paths of a ``Graph``'s nodes: their dotted names and the check every path passes."""

from __future__ import annotations

from collections.abc import Iterator

from engine.errors import GraphError
from engine.identifiers import MAX_NAME_LENGTH, MAX_NAME_PARTS, shown_name

GroupPath = tuple[str, ...]


def group_name(path: GroupPath) -> str:
    """The dotted name of a group path: ("layer2", "0") is "layer2.0"."""
    return ".".join(path)


def group_prefixes(path: GroupPath) -> Iterator[str]:
    """Every enclosing group's name, outermost first: "layer2", "layer2.0"."""
    for depth in range(1, len(path) + 1):
        yield group_name(path[:depth])


def check_group(path: GroupPath) -> None:
    """Group path segments are identifiers or indices ("layer2", "0"), never dotted; a path is
    bounded as names are (MAX_NAME_PARTS levels, MAX_NAME_LENGTH characters)."""
    text = ".".join(map(str, path))
    if len(path) > MAX_NAME_PARTS or len(text) > MAX_NAME_LENGTH:
        raise GraphError(
            f"groups nest at most {MAX_NAME_PARTS} deep, with a dotted name of at most "
            f"{MAX_NAME_LENGTH} characters. Received: group={shown_name(text)} with "
            f"{len(path):,} levels. Use fewer or shorter levels of groups"
        )
    for part in path:
        if (
            not isinstance(part, str)
            or not part.isascii()
            or not (part.isidentifier() or part.isdigit())
        ):
            raise GraphError(
                "a group name is one level of letters, digits and underscores (like layer2 or 0). "
                f"Received: group={'.'.join(map(str, path))!r} with part {part!r}. "
                "Remove the other characters"
            )
