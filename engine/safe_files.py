"""Reading files a person names without hanging or running out of memory.

``open_regular_file`` and ``read_regular_file`` refuse anything that is not a regular file (a
named pipe (FIFO) would make a plain ``open`` wait for a writer forever; ``/dev/zero`` or
``/dev/urandom`` never end) and a file larger than a cap given by the caller. The file is first
checked with ``os.stat``, so a device is never opened; then it is opened with ``O_NONBLOCK`` (a
FIFO swapped in between the two steps does not block the open) and checked again with
``fstat`` on the open descriptor, which is what is read. Reads stop one byte past the cap, so a
file that grows while it is read is refused too.

Every refusal is a ``FileReadError`` (a DesignerError and an OSError) whose message names the
path, the reason and the fix; ``reason`` and ``fix`` are also attributes, for callers that
reword it. Caps used by the program: ``PROJECT_MAX_BYTES`` for project files (64 MiB: the
largest preset saves to about 2 MiB, a 100,000-block chain to about 20 MiB).
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from engine.errors import FileReadError

__all__ = [
    "MIB",
    "PROJECT_MAX_BYTES",
    "FileReadError",
    "open_regular_file",
    "read_regular_file",
    "regular_file_problem",
]

MIB = 1024 * 1024
PROJECT_MAX_BYTES = 64 * MIB

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_DEFAULT_FIX = "Give the path of a regular file"


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def regular_file_problem(mode: int) -> str | None:
    """Why a file of this ``st_mode`` is not read (or written over), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return f"not a regular file: it is {_kind(mode)}"


def _size_text(size: int) -> str:
    return f"{size / MIB:,.1f} MiB" if size >= MIB else f"{size:,} bytes"


def _too_large(path: str, size: int | None, max_bytes: int, what: str) -> FileReadError:
    found = f"{_size_text(size)}, which is " if size is not None else ""
    return FileReadError(
        path,
        f"too large: {found}more than the {_size_text(max_bytes)} a {what} may be",
        "Check that this is the right file",
        what,
    )


def _os_failure(path: str, error: OSError, what: str, fix: str) -> FileReadError:
    reason = error.strerror or str(error) or type(error).__name__
    if isinstance(error, FileNotFoundError):
        reason = "cannot be read (no such file or folder)"
    elif isinstance(error, PermissionError):
        reason, fix = "cannot be read (permission denied)", "Check that the file can be read"
    else:
        reason = f"cannot be read ({reason})"
    failure = FileReadError(path, reason, fix, what)
    failure.errno = error.errno
    return failure


def open_regular_file(
    path: str | os.PathLike[str],
    max_bytes: int | None = None,
    what: str = "file",
    fix: str = _DEFAULT_FIX,
) -> BinaryIO:
    """``path`` opened for binary reading, when it is a regular file (a symbolic link to one is
    followed) of at most ``max_bytes`` bytes; FileReadError otherwise. Never blocks on a FIFO
    and never opens a device. ``what`` names the kind of file in messages ("project file");
    ``fix`` is said when the path is missing or not a regular file."""
    name = os.fspath(path)
    try:
        problem = regular_file_problem(os.stat(name).st_mode)
        if problem is not None:
            raise FileReadError(name, problem, fix, what)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        descriptor = os.open(name, flags | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    except FileReadError:
        raise
    except OSError as error:
        raise _os_failure(name, error, what, fix) from error
    try:
        status = os.fstat(descriptor)
        problem = regular_file_problem(status.st_mode)  # replaced between stat and open
        if problem is not None:
            raise FileReadError(name, problem, fix, what)
        if max_bytes is not None and status.st_size > max_bytes:
            raise _too_large(name, status.st_size, max_bytes, what)
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular_file(
    path: str | os.PathLike[str],
    max_bytes: int,
    what: str = "file",
    fix: str = _DEFAULT_FIX,
) -> bytes:
    """The bytes of ``path`` (see ``open_regular_file``): at most ``max_bytes``, even when the
    file grows while it is read or reports no size (files under /proc)."""
    name = os.fspath(path)
    with open_regular_file(name, max_bytes, what, fix) as stream:
        try:
            data = stream.read(max_bytes + 1)
        except OSError as error:
            raise _os_failure(name, error, what, fix) from error
    if len(data) > max_bytes:
        raise _too_large(name, None, max_bytes, what)
    return data
