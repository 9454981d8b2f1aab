"""Issue 19, bad input to ``cnn-designer sweep`` when the runs folder already holds a study and
a run: a malformed --param, an unknown key, an empty range, an unreachable --storage, specs
other than the stored study's and another design than the study's are each one message naming
it and the fix, and not one byte of the runs folder changes (the CLI as a subprocess)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--data", "digits", "--epochs", "1", "--limit", "64", "--device", "cpu"]
KERNEL = ["--param", "conv1.kernel_size=choice:40", "--sampler", "grid"]


def sweep(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "designer", "sweep", "--preset", "lenet5_digits", *TINY]
    return subprocess.run(
        [*command, "--out", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` with a digest of its bytes."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        found[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return found


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder with a stored study (one trial, failed at once: a kernel larger than the
    image, so nothing trains) and a made-up run folder."""
    out = tmp_path_factory.mktemp("runs")
    result = sweep(out, *KERNEL, "--trials", "1")
    assert "no trial has completed yet" in result.stderr  # said, exit status 2
    assert "trial 0 fail" in result.stdout and (out / "sweep.db").is_file()
    run = out / "20250101-000000"
    run.mkdir()
    (run / "settings.json").write_text('{"settings": {"epochs": 1}}')
    return out


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--param", "lr"], "--param 'lr': write it as KEY=SPEC"),
        (["--param", "lr=log:1e-1..1e-4"], "the range is empty (LOW must be less than HIGH)"),
        (["--param", "lr=int:8..8"], "the range is empty"),
        (["--param", "lrr=log:1e-4..1e-1"], "unknown sweep key 'lrr'. Did you mean 'lr'"),
        (["--param", "conv9.out_channels=int:4..8"], "conv9"),
        (
            ["--param", "lr=log:1e-4..1e-1", "--storage", "sqlite:////no/such/dir/s.db"],
            "--storage sqlite:////no/such/dir/s.db: cannot open the study's database",
        ),
        (
            ["--param", "lr=log:1e-4..1e-1", "--storage", "postgresql://nobody@127.0.0.1:1/x"],
            "--storage postgresql://nobody@127.0.0.1:1/x: cannot open the study's database",
        ),
        (["--param", "conv1.kernel_size=choice:3"], "Give the same ones to continue it"),
        (
            ["--option", "classes=5", *KERNEL],
            "it was started on another design (design ",
        ),
    ],
)
def test_bad_input_changes_nothing_in_a_runs_folder_with_a_study(
    study: Path, extra: list[str], expected: str
) -> None:
    before = snapshot(study)
    result = sweep(study, *extra, "--trials", "1")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert snapshot(study) == before
