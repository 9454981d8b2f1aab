"""`import --file` reads only a regular .py file: a FIFO or an oversized file is a message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.importer import ModelImportError, load_file_module

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "designer", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
def test_import_of_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "model.py"
    os.mkfifo(fifo)
    done = cli("import", "--file", str(fifo), "--class", "Net", "-o", str(tmp_path / "o.cnnd"))
    assert done.returncode != 0
    assert "named pipe" in done.stderr and "Give the model's .py file" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o.cnnd").exists()


def test_a_missing_source_says_so(tmp_path: Path) -> None:
    with pytest.raises(ModelImportError, match=r"no such file"):
        load_file_module(tmp_path / "absent.py")


def test_the_source_runs_once_as_its_own_module(tmp_path: Path) -> None:
    """The text read is the text run, with __file__ set and __main__ blocks skipped."""
    source = tmp_path / "net.py"
    source.write_text(
        "import dataclasses\n"
        "@dataclasses.dataclass\n"
        "class Config:\n    width: int = 3\n"
        "HERE = __file__\n"
        "if __name__ == '__main__':\n    raise SystemExit('must not run')\n"
    )
    module = load_file_module(source)
    assert module.Config().width == 3
    assert str(source.resolve()) == module.HERE
