"""Frozen blocks: the training settings' ``freeze`` list (groups or blocks), edited as one undo
step each and saved with the project; a new run does not train their parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from engine.graph import group_prefixes

KEY = "freeze"


def freeze_list(document: Any) -> list[str]:
    """The names (groups or blocks) the project's training settings freeze."""
    value = document.project.training.get(KEY)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list | tuple) else []


def frozen_names(document: Any) -> set[str]:
    """The blocks frozen under the project's training settings (unknown names ignored)."""
    names = freeze_list(document)
    if not names:
        return set()
    from engine.transfer import frozen_blocks

    return frozen_blocks(document.graph, names)


def _covers(graph: Any, entry: str, block: str) -> bool:
    return entry == block or entry in group_prefixes(graph.node(block).group)


def _store(document: Any, text: str, names: list[str]) -> None:
    from designer.commands import MISSING

    value: Any = list(dict.fromkeys(names)) or MISSING
    if value is MISSING and KEY not in document.project.training:
        return
    if value == document.project.training.get(KEY, MISSING):
        return
    document.edit(text, lambda: document.set_entry("training", KEY, value))


def freeze(document: Any, names: Iterable[str]) -> None:
    """Freeze the blocks or groups ``names`` (one undo step)."""
    names = list(names)
    current = freeze_list(document)
    _store(document, f"Freeze {', '.join(names)}", [*current, *names])


def unfreeze_blocks(document: Any, blocks: Iterable[str]) -> None:
    """Train ``blocks`` again (one undo step): entries naming them go; a frozen group that
    holds one is replaced by its other frozen members."""
    graph = document.graph
    blocks = [b for b in blocks if b in graph]
    current = freeze_list(document)
    kept: list[str] = []
    for entry in current:
        if not any(_covers(graph, entry, b) for b in blocks):
            kept.append(entry)
        elif entry not in blocks:  # a group: its other members stay frozen
            kept += [m for m in graph.group_members(entry) if m not in blocks]
    _store(document, f"Unfreeze {', '.join(blocks)}", kept)


def unfreeze_group(document: Any, group: str) -> None:
    """Train the blocks of ``group`` again (one undo step)."""
    unfreeze_blocks(document, document.graph.group_members(group))


def carry_rename(document: Any, old: str, new: str) -> None:
    """Inside the rename's edit (so one undo step takes both back): an entry naming block
    ``old`` names ``new``; one that is still a group's name after the rename stays too."""
    current = freeze_list(document)
    if old not in current:
        return
    keep_old = bool(document.graph.group_members(old))
    names: list[str] = []
    for entry in current:
        names += [new, old] if entry == old and keep_old else [new if entry == old else entry]
    document.set_entry("training", KEY, list(dict.fromkeys(names)))


def keep_frozen(document: Any, action: Callable[[], Any]) -> Any:
    """Run ``action`` (inside an edit) so that the blocks frozen before stay frozen: a block a
    regrouping took out of its frozen group is named in the list itself, and an entry that
    named blocks before and names none after goes (Ungroup of a frozen group)."""
    current = freeze_list(document)
    if not current:
        return action()
    from engine.transfer import frozen_blocks

    graph = document.graph
    before = frozen_blocks(graph, current)
    named = {entry for entry in current if frozen_blocks(graph, [entry])}
    value = action()
    graph = document.graph
    lost = [n for n in graph.names if n in before and n not in frozen_blocks(graph, current)]
    kept = [e for e in current if e not in named or frozen_blocks(graph, [e])]
    if lost or kept != current:
        document.set_entry("training", KEY, list(dict.fromkeys([*kept, *lost])))
    return value
