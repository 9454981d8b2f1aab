"""Diagnostics: what is wrong with a graph, where, and how to repair it.

A diagnostic may carry a ``Fix``: plain data describing an edit that repairs it, which
``engine.fixes.apply_fix`` performs (the designer wraps it in one undo step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a diagnostic is: errors stop compilation, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


class FixAction(StrEnum):
    """The kinds of repair a quick fix can make."""

    SET_PARAMS = "set_params"  # set params on node
    INSERT_BEFORE = "insert_before"  # insert a block of type_id on the wire into node's port
    SET_BYPASSED = "set_bypassed"  # set node's bypass flag to params["bypassed"]


@dataclass(frozen=True)
class Fix:
    """A repair a person can apply with one click."""

    label: str
    action: FixAction
    node: str
    params: dict[str, Any] = field(default_factory=dict)
    type_id: str | None = None
    port: str | None = None


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a graph. ``node`` is None for problems of the whole graph."""

    node: str | None
    severity: Severity
    message: str
    code: str
    fix: Fix | None = None

    def __str__(self) -> str:
        return f"{self.severity.value}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The form ``summary --json`` prints."""
        return {"node": self.node, "severity": self.severity.value, "message": self.message}
