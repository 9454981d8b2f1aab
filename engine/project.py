"""Project files: versioned JSON holding the graph, node positions, view and training settings.

A file is data only: it is parsed into plain Python data first (every field checked, errors name
the field), then built into a Graph. Nothing in it is executed or unpickled. Saving is atomic: a
temporary file in the same folder is written, flushed and renamed over the old one.

Format (version 3)::

    {"format": "cnn-designer-project", "version": 3,
     "graph": {"nodes": [{"name": "conv1", "type": "conv2d", "params": {...}, "group": ["stem"],
                          "bypassed": true}],
               "edges": [["input1", "out", "conv1", "in"]]},
     "notes": [{"id": "note1", "text": "...", "x": 0, "y": 0, "width": 220, "height": 110}],
     "layout": {"conv1": [x, y]}, "view": {"collapsed": ["layer1.0"]},
     "training": {...}, "metadata": {"title": "...", "preset": "lenet5"}}

Version 1 (the first release) kept positions inside each node ("x", "y") and wrote edges as
objects {"from": "node:port", "to": "node:port"}; it is migrated on load. Version 2 had no
bypassed blocks and no notes (both optional: "bypassed" is written only when true). ``view``, ``training``
and ``metadata`` are free-form objects, except ``view.collapsed``: the designer reads it, so it
must be a list of group names (strings) when present. README.md's section
"Project files" documents every field; keep the two in step (a test loads the README example).
Reading and checking a document, and migrating old versions, is ``engine.project_format``.
"""

from __future__ import annotations

import codecs
import errno
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.atomic_files import NotRegularFileError, write_atomic
from engine.errors import ProjectFileError
from engine.graph import Graph
from engine.notes import Notes
from engine.project_format import FORMAT, SUFFIX, VERSION, read_project
from engine.safe_files import PROJECT_MAX_BYTES, FileReadError, read_regular_file

__all__ = [
    "FORMAT",
    "SUFFIX",
    "VERSION",
    "Project",
    "ProjectSaveError",
    "load_project",
    "project_from_data",
    "project_from_text",
    "save_project",
]


@dataclass
class Project:
    """Everything a project file holds."""

    graph: Graph = field(default_factory=Graph)
    notes: Notes = field(default_factory=Notes)
    layout: dict[str, tuple[float, float]] = field(default_factory=dict)
    view: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        """The JSON document of this project."""
        layout = {  # a non-finite position would not load again: the block gets placed anew
            n: [round(x, 2), round(y, 2)]
            for n, (x, y) in self.layout.items()
            if n in self.graph and math.isfinite(x) and math.isfinite(y)
        }
        return {
            "format": FORMAT,
            "version": VERSION,
            "graph": self.graph.to_data(),
            "notes": self.notes.to_data(),
            "layout": layout,
            "view": self.view,
            "training": self.training,
            "metadata": self.metadata,
        }


class ProjectSaveError(ProjectFileError, OSError):
    """A project file that cannot be written (no permission, a folder, a full disk, ...).

    It is also an OSError, so code that treats a failed save as a file-system error (the
    autosave retries on OSError) keeps working.
    """


def save_project(project: Project, path: str | os.PathLike[str]) -> None:
    """Write ``project`` to ``path`` atomically (an interrupted save leaves the old file intact).

    A symbolic link is written through (its target is replaced, the link stays). Any failure
    raises ProjectSaveError naming the path, the reason and what to do.
    """
    import json  # here, not at the top: the designer opens without reading or writing files

    if not os.fspath(path):
        raise ProjectSaveError(
            "project file name: must not be empty. Received: path=''. Choose a file name, "
            f"such as my-net{SUFFIX}"
        )
    target = Path(path)
    data = project.to_data()
    text = json.dumps(data, indent=1, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (e.g. from a "\ud800" escape): keep it escaped
        text = json.dumps(data, indent=1, ensure_ascii=True)
    try:
        write_atomic(target, text)
    except OSError as error:
        raise ProjectSaveError(_save_problem(target, error)) from error


def _save_problem(target: Path, error: OSError) -> str:
    """The message for a failed save: the path, the reason and the fix."""
    reason = error.strerror or str(error) or type(error).__name__
    if isinstance(error, NotRegularFileError):
        fix = "Choose a file name that is free or names a regular file"
    elif isinstance(error, IsADirectoryError) or target.is_dir():
        fix = f"Choose a file name inside that folder, such as {target / ('my-net' + SUFFIX)}"
    elif isinstance(error, PermissionError) or error.errno in (errno.EROFS, errno.EPERM):
        fix = "Choose a folder you can write to"
    elif error.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "Free some disk space or choose another drive"
    else:
        fix = "Choose another folder or file name"
    return (
        f"{target}: the project cannot be saved ({reason}). Received: path={str(target)!r}. "
        f"{fix}{'; the previous file is unchanged' if target.is_file() else ''}"
    )


_OPEN_FIX = f"Open a {SUFFIX} file saved by CNN Designer"


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read a project file; ProjectFileError says what is wrong and where."""
    source = Path(path)
    try:  # a regular file of at most PROJECT_MAX_BYTES: never a FIFO's endless wait or /dev/zero
        raw = read_regular_file(source, PROJECT_MAX_BYTES, "project file", _OPEN_FIX)
    except FileReadError as error:
        raise ProjectFileError(
            f"{source}: {error.reason}. Received: path={str(source)!r}. {error.fix}"
        ) from error
    try:
        text = raw.decode("utf-8-sig")  # a leading BOM (Windows editors write one) is dropped
    except UnicodeDecodeError as error:
        at = error.start + (3 if raw.startswith(codecs.BOM_UTF8) else 0)
        raise ProjectFileError(
            f"{source}: not a CNN Designer project (not UTF-8 text at byte {at})"
        ) from error
    return project_from_text(text, str(source))


def project_from_text(text: str, origin: str = "project") -> Project:
    """Parse a project document given as text (a leading BOM is ignored)."""
    import json

    text = text.removeprefix("\ufeff")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        on_last_line = "\n" not in text[error.pos :].rstrip()  # the text stops mid-document
        ending = " (the file looks truncated)" if on_last_line else ""
        raise ProjectFileError(
            f"{origin}: not valid JSON at {where}: {error.msg}{ending}"
        ) from error
    except RecursionError as error:
        raise ProjectFileError(
            f"{origin}: not a readable project: lists or objects are nested too deeply (more "
            f"than about {sys.getrecursionlimit()} levels). The file is damaged or not a "
            "project; open a saved copy"
        ) from error
    except ValueError as error:  # Python refuses to read whole numbers this long
        raise ProjectFileError(
            f"{origin}: not a readable project: it holds a whole number with more than "
            f"{sys.get_int_max_str_digits()} digits. The file is damaged or not a project; "
            "correct that number or open a saved copy"
        ) from error
    return project_from_data(data, origin)


def project_from_data(data: Any, origin: str = "project") -> Project:
    """Build a project from parsed JSON data, migrating older versions."""
    return Project(**read_project(data, origin))
