"""Atomic file writes, for project files, run records and exports.

Each file is written in full to a temporary file beside its target, flushed to disk, then
renamed over the target, so a failure (a full disk, a read-only folder, a crash) leaves the
previous file as it was. A symbolic link is followed, as editors do: the file it points to is
replaced and the link stays. A replaced file keeps its mode; a new one gets the usual mode.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

# what a file is made of: its bytes, or a function that writes it to the path it is given
Content = bytes | memoryview | Callable[[str], None]


def _read_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


# read once, at import: reading it means setting it, which would race with other threads later
_UMASK = _read_umask()


def _file_mode(target: Path) -> int:
    """The mode of the file being replaced, or what a new file gets under the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def write_files_atomic(files: Sequence[tuple[Path, Content]]) -> None:
    """Write every file, then rename them all into place: none is replaced before all are
    complete and on disk, and temporary files are removed on any failure.

    Raises OSError (of the usual subclass, such as PermissionError) whose ``filename`` is the
    target that could not be written.
    """
    temps: list[tuple[Path, Path]] = []
    target = Path()
    try:
        for given, content in files:
            target = Path(os.path.realpath(given)) if given.is_symlink() else given
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
            )
            temps.append((target, Path(name)))
            with os.fdopen(handle, "wb") as stream:
                if not callable(content):
                    stream.write(content)
            if callable(content):
                content(name)
            with open(name, "rb+") as stream:
                os.fsync(stream.fileno())  # on disk before it replaces the previous file
            # last: mkstemp makes 0600 files, and the target's mode may forbid writing
            os.chmod(name, _file_mode(target))
        while temps:
            target, temp = temps[0]
            os.replace(temp, target)
            temps.pop(0)
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise OSError(error.errno, reason, str(target)) from error
    finally:
        for _, temp in temps:
            temp.unlink(missing_ok=True)


def write_atomic(target: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically; OSError when it cannot be written."""
    write_files_atomic([(target, text.encode("utf-8"))])
