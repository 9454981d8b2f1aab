"""Test set-up: Qt runs offscreen, hypothesis profiles, and a temporary settings location."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

settings.register_profile("default", deadline=None, print_blob=True)
settings.load_profile("default")


@pytest.fixture(autouse=True)
def _dispose_documents() -> Iterator[None]:
    """Clear the undo stacks of the test's documents before the garbage collector may take
    their windows apart (see Document.dispose)."""
    yield
    import sys

    if "designer.document" in sys.modules:
        sys.modules["designer.document"].dispose_all()
    if "designer.app" in sys.modules:  # a dialog's background job must not outlive its test
        sys.modules["designer.app"].wait_for_background_work()


@pytest.fixture
def dialogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Settings in ``tmp_path``, and the message boxes recorded (designer_helpers'
    ``DialogRecorder``, answering Discard); returns the recorder."""
    from designer_helpers import DialogRecorder, isolate_user_dirs

    isolate_user_dirs(tmp_path, monkeypatch)
    return DialogRecorder().install(monkeypatch)


@pytest.fixture
def clean_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings in ``tmp_path``, dialogs answered, and every window ``open_window`` (in
    designer_helpers) opened closed without a prompt when the test ends."""
    from designer_helpers import OPENED, DialogRecorder, close_clean, isolate_user_dirs

    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    yield
    while OPENED:
        close_clean(OPENED.pop())


@pytest.fixture(scope="session", autouse=True)
def _clear_clipboard_at_exit() -> Iterator[None]:
    """Qt's offscreen platform segfaults at exit while the clipboard holds data (copy/paste
    tests put blocks there): clear it when the session ends."""
    yield
    from designer.app import clear_clipboard

    clear_clipboard()


@pytest.fixture
def lock_folder() -> Iterator[Callable[[Path], Path]]:
    """``lock_folder(folder)`` makes ``folder`` unwritable until the test ends: read-only for a
    user, immutable for root (chattr +i, since root writes through permissions); the test is
    skipped where neither is possible."""
    import shutil
    import subprocess
    import sys

    unlock: list[Callable[[], object]] = []

    def lock(folder: Path) -> Path:
        if sys.platform == "win32":
            pytest.skip("folder permissions work differently on Windows")
        if os.geteuid() != 0:
            folder.chmod(0o500)
            unlock.append(lambda: folder.chmod(0o700))
            return folder
        if not shutil.which("chattr"):
            pytest.skip("root writes anywhere, and chattr is not installed")
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
            pytest.skip("this file system does not support chattr +i")
        unlock.append(lambda: subprocess.run(["chattr", "-i", str(folder)], check=True))
        return folder

    yield lock
    for undo in unlock:
        undo()
