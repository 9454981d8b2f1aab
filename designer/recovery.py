"""Autosave and crash recovery.

While a window runs it holds a lock file and, every minute when there are unsaved changes,
writes the project to its own ``autosave-<pid>-<token>-<n>.cnnd`` in the recovery folder of the
user's data directory (QStandardPaths.AppDataLocation). The random token makes the name unique
to the session even when a process id comes round again (containers and sandboxes such as
Flatpak start every session with the same small pid). A clean exit or a save removes that file.
On the next start, an autosave whose lock no process holds any more is left from a crash: it is
offered back, and once restored it is written to the new session's autosave before the old file
is removed, so a second crash cannot lose it.

An autosave records the file the design was being edited as (``ORIGINAL_KEY`` in its
metadata, None for an untitled design), so that recovered work gets its name back: the offer
names the user's file, not the autosave, and Save writes to that file.

When the recovery folder cannot be used (a file in its way, a read-only home), the window still
opens: ``Autosaver`` raises ``AutosaveError``, whose message names the folder, the reason
and the fix, and the window shows it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer

from designer.document import Document
from engine import Project, save_project

AUTOSAVE_INTERVAL_MS = 60_000
# the metadata entry of an autosave that names the file being edited (removed on recovery)
ORIGINAL_KEY = "autosave_of"
_MAX_PATH_CHARS = 4096
_serial = itertools.count(1)  # several windows in one process get their own files
# the autosaves this process has locked (its windows' own, and crashed ones being recovered): a
# lock file naming this process's pid is this process's only when its lock is held here
_held: dict[Path, QLockFile] = {}


def _ours(path: Path) -> bool:
    lock = _held.get(path)
    return lock is not None and lock.isLocked()


class AutosaveError(OSError):
    """The recovery folder cannot be used; the message says which folder, why and the fix."""


def _location() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".cnn-designer") / "recovery"


def recovery_dir() -> Path:
    """Where autosaves live (created on demand); OSError when it cannot be created."""
    folder = _location()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _unavailable(folder: Path, reason: str) -> AutosaveError:
    return AutosaveError(
        f"Autosave is off: CNN Designer cannot keep autosaves in {folder} ({reason}). "
        "Make that a folder you can write to, then restart CNN Designer; "
        "until then, save your work often."
    )


def _reason(folder: Path, error: OSError) -> str:
    """Why ``folder`` could not be created, naming the path in the way where there is one."""
    if isinstance(error, FileExistsError | NotADirectoryError):
        for path in (folder, *folder.parents):
            if path.exists() and not path.is_dir():
                return f"{path} is a file, not a folder"
    if isinstance(error, PermissionError):
        return "permission denied"
    return error.strerror or str(error) or type(error).__name__


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _lock_for(autosave: Path) -> QLockFile:
    lock = QLockFile(str(autosave.with_suffix(".lock")))
    lock.setStaleLockTime(0)  # only a dead owner makes a lock stale, never its age
    return lock


def _stale(lock: QLockFile, lock_path: Path, remove: bool) -> bool:
    """Whether a lock that QLockFile cannot take is stale all the same; remove it if asked.

    QLockFile judges a lock by the pid written in it, so it takes a lock left by a crashed
    process that had this process's pid (containers, sandboxes) for a live one, and it never
    judges a lock file that a crash left empty. The operating system's lock on the file (which
    QLockFile also takes, and which a process loses when it dies, whatever its pid) decides
    those. Removal happens under that lock, and only if the name still holds the file that was
    judged, so two sessions cannot both claim one autosave.
    """
    pid = lock.getLockInfo()[0]
    if pid not in (0, os.getpid()) or _ours(lock_path.with_suffix(".cnnd")):
        return False  # QLockFile's verdict stands; or the lock is this process's own
    try:
        import fcntl
    except ImportError:  # Windows: one pid namespace, so a pid equal to ours is a dead process
        if remove:
            _remove(lock_path)
        return True
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while a live session holds it
        held, named = os.fstat(fd), os.stat(lock_path)
        if (held.st_dev, held.st_ino) != (named.st_dev, named.st_ino):
            return False  # replaced meanwhile: another session has just claimed it
        if remove:
            os.unlink(lock_path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # releases the lock taken here


def claim(path: Path) -> QLockFile | None:
    """Take the lock of a crashed session's autosave ``path`` (None if a live session holds
    it); the caller releases it with ``discard`` or hands it to ``Autosaver.adopt``."""
    lock = _lock_for(path)
    lock_path = path.with_suffix(".lock")
    if not lock.tryLock(0):
        if lock.error() != QLockFile.LockError.LockFailedError:
            return None
        if not _stale(lock, lock_path, remove=True) or not lock.tryLock(0):
            return None
    if not path.exists():  # recovered or discarded by another session meanwhile
        lock.unlock()
        return None
    _held[path] = lock
    return lock


def release(path: Path, lock: QLockFile) -> None:
    """Give back a claimed autosave, keeping the file (it is offered again next time)."""
    _held.pop(path, None)
    lock.unlock()


def orphaned_autosaves() -> list[Path]:
    """Autosaves of sessions that ended without a clean exit, newest first.

    Only looks: never creates the recovery folder, and an unusable folder has none.
    """
    found = []
    try:
        candidates = list(_location().glob("autosave-*.cnnd"))
        leftover_locks = [
            path
            for path in _location().glob("autosave-*.lock")
            if not path.with_suffix(".cnnd").exists()
        ]
    except OSError:
        return []
    for path in leftover_locks:  # a session that crashed before its first autosave
        lock = _lock_for(path)
        if lock.tryLock(0):
            lock.unlock()  # removes the lock file
    for path in candidates:
        if _ours(path):
            continue
        lock = _lock_for(path)
        if lock.tryLock(0):  # nobody holds it: its session crashed
            lock.unlock()
        elif lock.error() != QLockFile.LockError.LockFailedError or not _stale(
            lock, path.with_suffix(".lock"), remove=False
        ):
            continue
        try:
            found.append((path.stat().st_mtime, path))
        except OSError:
            continue  # taken by another session meanwhile
    return [path for _, path in sorted(found, reverse=True)]


def discard(path: Path, lock: QLockFile | None = None) -> None:
    """Remove an autosave and its lock (held as ``lock`` when the caller claimed it)."""
    _remove(path)  # in an unwritable folder it stays, to be offered again: nothing is lost
    _held.pop(path, None)
    if lock is not None:
        lock.unlock()  # removes the lock file
        return
    _remove(path.with_suffix(".lock"))


def autosaved_project(document: Document) -> Project:
    """What an autosave holds: the project, and the file it is edited as (ORIGINAL_KEY)."""
    project = document.project
    original = str(Path(document.path).absolute()) if document.path is not None else None
    return dataclasses.replace(project, metadata={**project.metadata, ORIGINAL_KEY: original})


def take_original(project: Project) -> Path | None:
    """Remove ORIGINAL_KEY from a recovered project; the file it names, if it names one.

    Anything but a plain absolute path (an edited or damaged autosave) counts as untitled."""
    value: Any = project.metadata.pop(ORIGINAL_KEY, None)
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_PATH_CHARS or "\0" in value:
        return None
    path = Path(value)
    return path if path.is_absolute() else None


class Autosaver(QObject):
    """Writes the document to its recovery file every minute while it has unsaved changes.

    Raises AutosaveError when the recovery folder cannot be used.
    """

    def __init__(self, document: Document, interval_ms: int = AUTOSAVE_INTERVAL_MS) -> None:
        folder = _location()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _unavailable(folder, _reason(folder, error)) from error
        path, lock = Autosaver._claim_new(folder)
        super().__init__(document)
        self.path, self.lock = path, lock
        self.document = document
        self._adopted: list[tuple[Path, QLockFile]] = []
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        document.file_changed.connect(self._on_file_changed)

    @staticmethod
    def _claim_new(folder: Path) -> tuple[Path, QLockFile]:
        """A name no other session uses, with its lock taken."""
        for _ in range(20):
            token = os.urandom(4).hex()
            path = folder / f"autosave-{os.getpid()}-{token}-{next(_serial)}.cnnd"
            lock = _lock_for(path)
            if lock.tryLock(0):
                if not path.exists():  # never take over a crashed session's file
                    _held[path] = lock
                    return path, lock
                lock.unlock()
            elif lock.error() != QLockFile.LockError.LockFailedError:
                raise _unavailable(folder, "cannot create files there")
        raise _unavailable(folder, "no free autosave name")

    def adopt(self, path: Path, lock: QLockFile) -> None:
        """Take charge of a recovered autosave (claimed as ``lock``): it is removed once this
        session's own autosave holds the work, or the work is saved, or the window closes."""
        self._adopted.append((path, lock))

    def _release_adopted(self) -> None:
        while self._adopted:
            discard(*self._adopted.pop())

    def autosave(self) -> bool:
        """Write the recovery file now if there are unsaved changes; True when written."""
        if not self.document.modified:
            return False
        try:
            save_project(autosaved_project(self.document), self.path)  # atomic: never half
        except OSError:
            return False  # a full disk must not interrupt the user; the next minute retries
        self._release_adopted()
        return True

    def _on_file_changed(self) -> None:
        if not self.document.modified:  # saved: nothing to recover
            _remove(self.path)
            self._release_adopted()

    def finish(self) -> None:
        """A clean exit: stop, remove the recovery file and release the lock."""
        self.timer.stop()
        _remove(self.path)
        self._release_adopted()
        _held.pop(self.path, None)
        self.lock.unlock()  # removes the lock file
