"""The strict registry of block types: duplicates raise, unknown names suggest the closest."""

from __future__ import annotations

from collections.abc import Iterator

from engine.catalog.spec import BlockSpec
from engine.errors import DuplicateNameError, UnknownNameError


class BlockRegistry:
    """All block types by ``type_id`` (old ids of renamed types resolve too)."""

    def __init__(self) -> None:
        self._specs: dict[str, BlockSpec] = {}
        self._aliases: dict[str, str] = {}

    def register(self, spec: BlockSpec) -> BlockSpec:
        """Add a spec; a type_id or old id already taken raises DuplicateNameError."""
        for name in (spec.type_id, *spec.old_ids):
            if name in self._specs or name in self._aliases:
                raise DuplicateNameError(f"block type {name!r} is registered twice")
        self._specs[spec.type_id] = spec
        for old in spec.old_ids:
            self._aliases[old] = spec.type_id
        return spec

    def get(self, type_id: str) -> BlockSpec:
        """The spec of ``type_id``; raise UnknownNameError naming the closest types."""
        spec = self._specs.get(type_id) or self._specs.get(self._aliases.get(type_id, ""))
        if spec is None:
            raise UnknownNameError("block type", type_id, self._specs)
        return spec

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._specs or type_id in self._aliases

    def __iter__(self) -> Iterator[BlockSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def categories(self) -> dict[str, list[BlockSpec]]:
        """Specs grouped by category, in registration order."""
        grouped: dict[str, list[BlockSpec]] = {}
        for spec in self._specs.values():
            grouped.setdefault(spec.category, []).append(spec)
        return grouped
