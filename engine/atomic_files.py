"""Atomic file writes, for project files, run records and exports.

Each file is written in full to a temporary file beside its target, flushed to disk, then
renamed over the target, so a failure (a full disk, a read-only folder, a crash) leaves the
previous file as it was. A symbolic link is followed, as editors do: the file it points to is
replaced and the link stays. A replaced file keeps its mode; a new one gets the usual mode.

Only regular files are replaced: a target that is a named pipe (FIFO), a device (``-o
/dev/null`` as root would replace the system's /dev/null), or a socket raises
``NotRegularFileError`` before anything is written.

Temporary files are named ``.<target name>.<pid>-<random>.tmp``. A writer killed mid-write
(SIGKILL, a power cut) leaves its temporary behind; the next write to the same target removes
such leftovers: those whose process is no longer alive, those older than a day, and those of
the older naming ``.<target name>.<random>.tmp`` (no pid) older than an hour. A temporary of a
live process (another program saving the same file) is left alone.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import time
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


STALE_AFTER_S = 24 * 3600  # a temporary this old is a leftover, whatever its process id says
STALE_UNNAMED_AFTER_S = 3600  # a temporary without a process id (older versions) this old


class NotRegularFileError(OSError):
    """The target exists and is not a regular file (a FIFO, a device, a socket): never replaced."""


def not_regular_target(target: Path) -> NotRegularFileError | None:
    """The error for a target (links followed) that must not be replaced, or None.

    A folder is left to the rename, which fails with IsADirectoryError as before."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return None  # missing (the usual case), or unreadable: the write itself reports it
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kind = next(
        (
            name
            for test, name in (
                (stat.S_ISFIFO, "a named pipe (FIFO)"),
                (stat.S_ISCHR, "a character device"),
                (stat.S_ISBLK, "a block device"),
                (stat.S_ISSOCK, "a socket"),
            )
            if test(mode)
        ),
        "a special file",
    )
    return NotRegularFileError(
        errno.EEXIST, f"it is {kind}, not a regular file, and is never replaced", str(target)
    )


def temp_prefix(target: Path) -> str:
    """The start of this process's temporary file names for ``target`` (mkstemp's prefix)."""
    return f".{target.name}.{os.getpid()}-"


def _temp_pattern(target: Path) -> re.Pattern[str]:
    # mkstemp's random part: 8 of a-z, 0-9 and _; the pid part is absent in older versions
    return re.compile(rf"\.{re.escape(target.name)}\.(?:(\d+)-)?[a-z0-9_]{{8}}\.tmp")


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process (or a number no process has): keep to age
    return True


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove the temporaries that killed writers left beside ``target`` (see the module's
    docstring); returns what was removed. Never raises: a leftover that cannot be removed stays."""
    pattern = _temp_pattern(target)
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        try:
            status = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(status.st_mode):
                continue
            age = now - status.st_mtime
            pid = match.group(1)
            if pid is None:
                stale = age > STALE_UNNAMED_AFTER_S
            else:
                stale = age > STALE_AFTER_S or not _process_alive(int(pid))
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except (OSError, ValueError):
            continue
    return removed


def write_files_atomic(files: Sequence[tuple[Path, Content]]) -> None:
    """Write every file, then rename them all into place: none is replaced before all are
    complete and on disk, and temporary files are removed on any failure.

    Raises OSError (of the usual subclass, such as PermissionError) whose ``filename`` is the
    target that could not be written; NotRegularFileError, before anything is written, when a
    target is a FIFO, a device or a socket.
    """
    temps: list[tuple[Path, Path]] = []
    targets = [Path(os.path.realpath(g)) if g.is_symlink() else g for g, _ in files]
    for target in targets:
        if (refusal := not_regular_target(target)) is not None:
            raise refusal
    target = Path()
    try:
        for target, (_, content) in zip(targets, files, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(target)  # first: a full disk may be full of them
            handle, name = tempfile.mkstemp(
                prefix=temp_prefix(target), suffix=".tmp", dir=target.parent
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
            if (
                refusal := not_regular_target(target)
            ) is not None:  # made while the files were written
                raise refusal
            os.replace(temp, target)
            temps.pop(0)
    except NotRegularFileError:
        raise
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise OSError(error.errno, reason, str(target)) from error
    finally:
        for _, temp in temps:
            temp.unlink(missing_ok=True)


def write_atomic(target: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically; OSError when it cannot be written."""
    write_files_atomic([(target, text.encode("utf-8"))])
