"""What a user writes about a run: its display name, a note and a star, kept in the run
folder's ``run_meta.json`` (written atomically), and the run's trash: a deleted run folder is
moved into ``<runs root>/.trash/`` and can be moved back.

    meta, problems = read_meta(run_dir)          # never raises; damage named in problems
    write_meta(run_dir, replace(meta, note="lr too high"))   # RunMetaError saying why not
    trashed = trash_run(run_dir)                 # <root>/.trash/<name>
    restore_run(trashed, run_dir)

The folder's name (its start time) never changes: a rename only sets the name shown. The trash
folder has no settings.json, so ``list_runs`` never lists it. Qt-free and torch-free.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.atomic_files import write_atomic
from engine.errors import DesignerError, FileReadError
from engine.safe_files import read_regular_file

META_FILE = "run_meta.json"
TRASH = ".trash"
MAX_TITLE = 200  # characters of a run's name
MAX_NOTE = 10_000  # characters of a note
MAX_META_BYTES = 1 << 20  # a run_meta.json larger than this is not read


class RunMetaError(DesignerError, OSError):
    """A run's name, note or star that cannot be stored, or a run that cannot be moved to or
    back from the trash."""


@dataclass(frozen=True)
class RunMeta:
    """A run's name as shown (None: its folder's name), note and star."""

    title: str | None = None
    note: str = ""
    starred: bool = False

    def to_data(self) -> dict[str, Any]:
        return {"title": self.title, "note": self.note, "starred": self.starred}


def read_meta(run_dir: str | os.PathLike[str]) -> tuple[RunMeta, list[str]]:
    """The run's meta (defaults where the file is missing) and what is wrong with the file;
    never raises. A field of the wrong type is left at its default and named."""
    path = Path(run_dir) / META_FILE
    problems: list[str] = []
    try:  # a FIFO or a device is refused, never waited on
        raw = read_regular_file(path, MAX_META_BYTES, "run meta file", "Delete run_meta.json")
        data = json.loads(raw.decode("utf-8"))
    except FileReadError as error:
        if error.errno == errno.ENOENT:
            return RunMeta(), []
        return RunMeta(), [f"{META_FILE}: {error.reason}"]
    except (UnicodeDecodeError, ValueError, RecursionError):
        return RunMeta(), [f"{META_FILE}: not valid JSON"]
    if not isinstance(data, dict):
        return RunMeta(), [f"{META_FILE}: a JSON {type(data).__name__}, not an object"]
    title = data.get("title")
    if title is not None and not isinstance(title, str):
        problems.append(f"{META_FILE}: title is {title!r}, not text")
        title = None
    note = data.get("note", "")
    if not isinstance(note, str):
        problems.append(f"{META_FILE}: note is {note!r}, not text")
        note = ""
    starred = data.get("starred", False)
    if not isinstance(starred, bool):
        problems.append(f"{META_FILE}: starred is {starred!r}, not true or false")
        starred = False
    return RunMeta(title.strip() or None if title else None, note, starred), problems


def check_meta(meta: RunMeta) -> None:
    """Refuse a name or note that cannot be stored (RunMetaError naming it and the fix)."""
    if meta.title is not None and len(meta.title) > MAX_TITLE:
        raise RunMetaError(
            f"run name: longer than {MAX_TITLE} characters. Received: "
            f"length={len(meta.title)}. Use a shorter name and put the rest in the note"
        )
    if meta.title is not None and any(ch in meta.title for ch in "\n\r\t\0"):
        raise RunMetaError(
            f"run name: one line of text. Received: name={meta.title!r}. "
            "Remove the line breaks and tabs"
        )
    if len(meta.note) > MAX_NOTE:
        raise RunMetaError(
            f"run note: longer than {MAX_NOTE} characters. Received: length={len(meta.note)}. "
            "Shorten the note"
        )
    if "\0" in meta.note:
        raise RunMetaError("run note: holds a NUL character. Remove it")


def write_meta(run_dir: str | os.PathLike[str], meta: RunMeta) -> None:
    """Store ``meta`` in the run folder atomically; RunMetaError naming the folder, the reason
    and the fix when it cannot be written (the previous file is then unchanged)."""
    check_meta(meta)
    folder = Path(run_dir)
    if not folder.is_dir():
        raise RunMetaError(
            f"run {folder.name}: the run folder is gone. Received: folder={folder}. "
            "Refresh the run list"
        )
    text = json.dumps(meta.to_data(), indent=1, ensure_ascii=False) + "\n"
    try:
        write_atomic(folder / META_FILE, text)
    except OSError as error:
        raise RunMetaError(
            f"run {folder.name}: {META_FILE} cannot be written "
            f"({error.strerror or error}). Received: folder={folder}. "
            "Make the run folder writable"
        ) from error


def trash_folder(run_dir: str | os.PathLike[str]) -> Path:
    """The trash of the runs folder ``run_dir`` is in."""
    return Path(run_dir).parent / TRASH


def trash_run(run_dir: str | os.PathLike[str]) -> Path:
    """Move the run folder into its runs folder's trash (``.trash/<name>``, or ``<name>-N``
    when a run of that name is there already); returns where it went. RunMetaError naming
    the folder and the fix when it cannot be moved (nothing is changed then)."""
    source = Path(run_dir)
    if not source.is_dir():
        raise RunMetaError(
            f"run {source.name}: the run folder is gone. Received: folder={source}. "
            "Refresh the run list"
        )
    trash = trash_folder(source)
    try:
        trash.mkdir(exist_ok=True)
    except OSError as error:
        raise _move_error(source, trash, error) from error
    for n in range(1000):
        target = trash / (source.name if n == 0 else f"{source.name}-{n}")
        if target.exists():
            continue
        try:
            os.rename(source, target)
        except OSError as error:
            raise _move_error(source, target, error) from error
        return target
    raise RunMetaError(
        f"run {source.name}: the trash holds too many runs of this name. Received: "
        f"trash={trash}. Empty the trash folder"
    )


def restore_run(trashed: str | os.PathLike[str], original: str | os.PathLike[str]) -> Path:
    """Move a trashed run folder back to ``original``; RunMetaError when it is gone from the
    trash or a folder of that name exists again (nothing is changed then)."""
    source, target = Path(trashed), Path(original)
    if not source.is_dir():
        raise RunMetaError(
            f"run {target.name}: no longer in the trash. Received: folder={source}. "
            "It was removed from the trash; it cannot be restored"
        )
    if target.exists():
        raise RunMetaError(
            f"run {target.name}: a folder of that name exists again. Received: "
            f"folder={target}. Move that folder away, then undo again"
        )
    try:
        os.rename(source, target)
    except OSError as error:
        raise _move_error(source, target, error) from error
    return target


def _move_error(source: Path, target: Path, error: OSError) -> RunMetaError:
    return RunMetaError(
        f"run {source.name}: cannot be moved ({error.strerror or error}). Received: "
        f"from={source}, to={target}. Make the runs folder writable"
    )
