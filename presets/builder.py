"""A small helper for writing preset builders against the engine's public API.

It makes the calls a user's edits make (``Graph.add_node`` and ``Graph.connect``), adding node
names under the current group: inside ``with b.group("layer1", "0"):`` a node ``conv1`` is
named ``layer1.0.conv1`` and belongs to the group path ("layer1", "0").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine import Graph

Ref = str | tuple[str, str]  # a node name, or (node, output port)


class GraphBuilder:
    """Adds named, wired blocks to a new graph."""

    def __init__(self) -> None:
        self.graph = Graph()
        self._group: tuple[str, ...] = ()

    @contextmanager
    def group(self, *path: str) -> Iterator[None]:
        """Nodes added inside belong to the nested group ``path`` (relative to the current one)."""
        saved = self._group
        self._group = (*saved, *path)
        try:
            yield
        finally:
            self._group = saved

    def qualified(self, local: str) -> str:
        """The full node name of ``local`` in the current group."""
        return ".".join((*self._group, local))

    def add(self, type_id: str, local: str, *sources: Ref, **params: Any) -> str:
        """Add a block named ``local`` (in the current group) fed by ``sources``; returns its name."""
        name = self.qualified(local)
        self.graph.add_node(type_id, name, params, self._group)
        for source in sources:
            src, port = (source, "out") if isinstance(source, str) else source
            self.graph.connect(src, name, port)
        return name

    def input(self, shape: tuple[int, ...] | list[int], name: str = "input") -> str:
        """The Input block."""
        return self.add("input", name, shape=list(shape))

    def output(self, source: Ref, name: str = "output") -> str:
        """An Output block after ``source``."""
        return self.add("output", name, source)


class Numbered:
    """Names blocks 0, 1, 2, ... in the builder's current group, as nn.Sequential numbers its
    layers (so state dict keys read ``features.3.weight`` like torchvision's)."""

    def __init__(self, builder: GraphBuilder) -> None:
        self.builder = builder
        self.index = 0

    def next_name(self) -> str:
        """The next free number, as a local node name."""
        name = str(self.index)
        self.index += 1
        return name

    def add(self, type_id: str, source: Ref, **params: Any) -> str:
        """Add a block under the next number; returns its full name."""
        return self.builder.add(type_id, self.next_name(), source, **params)
