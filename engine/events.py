"""A minimal callback list: the engine notifies without knowing about Qt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """Callbacks to run when something happened; ``emit`` calls them in connection order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        """Call ``callback`` on every emit."""
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback``."""
        self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        """Run every connected callback with ``args``."""
        for callback in list(self._callbacks):
            callback(*args)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._callbacks)} callbacks)"


class GraphEvents:
    """What a Graph announces. Names are in the past tense: the change has happened."""

    def __init__(self) -> None:
        self.node_added = Event("node_added")  # (node)
        self.node_removed = Event("node_removed")  # (node, its index in the node order)
        self.edge_added = Event("edge_added")  # (edge)
        self.edge_removed = Event("edge_removed")  # (edge, its slot: where restore_edge puts it)
        self.params_changed = Event("params_changed")  # (name, {key: new}, {key: old})
        self.node_renamed = Event("node_renamed")  # (old name, new name)
        self.groups_changed = Event("groups_changed")  # ({name: new path}, {name: old path})
        self.bypass_changed = Event("bypass_changed")  # (name, new flag, old flag)
        self.changed = Event("changed")  # () after any edit
