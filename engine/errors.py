"""One error hierarchy for the engine.

Every message follows "<thing>: <rule>. Received: name=value. <how to fix>" so that the
person reading it knows what broke, with which value, and what to do next.
"""

from __future__ import annotations

from collections.abc import Iterable


class DesignerError(Exception):
    """Base class of every error the engine raises on purpose."""


class UnknownNameError(DesignerError, KeyError):
    """A block type, preset, node or parameter name that does not exist."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        import difflib  # on the first unknown name: kept off the designer's start-up

        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(known) if len(known) <= 40 else f"{len(known)} names"
        self.message = f"unknown {kind} {name!r}.{hint} Known: {listing}."
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return self.message


class DuplicateNameError(DesignerError, ValueError):
    """A registry or graph already holds this name."""


class GraphError(DesignerError, ValueError):
    """An edit that would break the graph's structure (bad port, cycle, duplicate name)."""


class ParameterError(DesignerError, ValueError):
    """A parameter value outside what its block accepts."""


class ShapeError(DesignerError, ValueError):
    """A shape rule cannot produce an output for the given inputs."""


class CompileError(DesignerError, RuntimeError):
    """The graph cannot be compiled (it has error diagnostics)."""


class ProjectFileError(DesignerError, ValueError):
    """A project file that cannot be read: corrupt, truncated, foreign or too new."""


class FileReadError(DesignerError, OSError):
    """A file that is not read: missing, unreadable, not a regular file (a FIFO, a device, a
    folder) or larger than the cap for its kind. ``engine.safe_files`` raises it.

    ``path``, ``reason`` and ``fix`` are kept apart so that callers can reword the message for
    their own kind of file; ``errno`` is the operating system's code when one was reported.
    """

    def __init__(self, path: str, reason: str, fix: str, what: str = "file") -> None:
        self.message = f"{what} {path}: {reason}. Received: path={path!r}. {fix}"
        super().__init__(self.message)
        self.filename = path
        self.strerror = reason
        self.path = path
        self.reason = reason
        self.fix = fix
        self.what = what

    def __str__(self) -> str:
        return self.message
