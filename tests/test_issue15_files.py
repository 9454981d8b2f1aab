"""Issue 15, items 18, 19, 20 (empty options), 25 (project-save temporaries) and 28: files read
and written the way a user or an attacker names them on the command line.

Every test runs ``cnn-designer`` as a subprocess (with a timeout: a read that blocks on a FIFO
would otherwise hang the suite) or kills a real saving process.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import Project, ProjectFileError, load_project, save_project
from engine.safe_files import PROJECT_MAX_BYTES
from presets import PRESETS

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and devices are POSIX")
TIMEOUT = 120  # a blocked read or an endless one fails the test instead of hanging the suite


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "designer", *map(str, args)]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd, env=env, check=False
    )


def refused(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    """Exit status 2, one message, no traceback, every expected text in it."""
    assert done.returncode == 2, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    for text in expected:
        assert text in done.stderr, done.stderr[-2000:]


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def invalid_project(path: Path) -> Path:
    """LeNet-5 with conv1's kernel larger than its 32×32 input: one error."""
    graph = PRESETS.get("lenet5").create()
    graph.set_params("conv1", {"kernel_size": 40})
    save_project(Project(graph), path)
    return path


# --- 18: reads without bounds ---------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("command", ["summary", "export", "train"])
def test_a_fifo_named_as_the_project_is_refused_at_once(tmp_path: Path, command: str) -> None:
    """summary/export/train of a FIFO waited for a writer forever."""
    pipe = fifo(tmp_path / "net.cnnd")
    extra = {"export": ["--format", "python", "-o", tmp_path / "net.py"], "summary": []}
    done = cli(command, pipe, *extra.get(command, ["--epochs", "1", "--data", "digits"]))
    refused(done, f"{pipe}: not a regular file: it is a named pipe (FIFO)", "Open a .cnnd file")


@posix_only
def test_open_screenshot_of_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    pipe = fifo(tmp_path / "net.cnnd")
    done = cli("open", pipe, "--screenshot", tmp_path / "shot.png")
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "named pipe (FIFO)" in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "shot.png").exists()


@posix_only
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_device_is_refused_not_read_until_memory_runs_out(device: str) -> None:
    """summary /dev/zero read until memory ran out and ended in a MemoryError traceback."""
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    refused(cli("summary", device), f"{device}: not a regular file: it is a character device")


def test_a_project_file_over_the_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "huge.cnnd"
    with open(big, "wb") as stream:  # sparse: no disk space, but its size is over the cap
        stream.truncate(PROJECT_MAX_BYTES + 1)
    done = cli("summary", big)
    refused(done, f"{big}: too large: 64.0 MiB, which is more than the 64.0 MiB")


def test_a_project_file_at_the_cap_is_still_read(tmp_path: Path) -> None:
    """The cap is generous: a project padded to just under it loads."""
    path = tmp_path / "padded.cnnd"
    save_project(Project(PRESETS.get("lenet5").create()), path)
    text = path.read_bytes()
    path.write_bytes(text + b" " * (PROJECT_MAX_BYTES - len(text)))
    assert len(load_project(path).graph) == len(PRESETS.get("lenet5").create())
    path.write_bytes(text + b" " * (PROJECT_MAX_BYTES - len(text) + 1))
    with pytest.raises(ProjectFileError, match="too large"):
        load_project(path)


def test_a_missing_project_and_a_folder_are_messages(tmp_path: Path) -> None:
    refused(cli("summary", tmp_path / "none.cnnd"), "none.cnnd: cannot be read (no such file")
    refused(cli("summary", tmp_path), f"{tmp_path}: not a regular file: it is a folder")


# --- 19: writes never replace FIFOs or devices ----------------------------------------------


def write_model(path: Path) -> Path:
    path.write_text(
        "from torch import nn\n\n\nclass Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 2)\n\n"
        "    def forward(self, x):\n        return self.fc(x)\n",
        encoding="utf-8",
    )
    return path


@posix_only
def test_export_and_import_refuse_to_replace_a_fifo(tmp_path: Path) -> None:
    """Both replaced the FIFO with a regular file and reported success."""
    pipe = fifo(tmp_path / "out.py")
    refused(
        cli("export", "--preset", "lenet5", "--format", "python", "-o", pipe),
        f"export file {pipe}: cannot be written (it is a named pipe (FIFO), not a regular file",
        "Export to a file name that is free or names a regular file",
    )
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    project_pipe = fifo(tmp_path / "out.cnnd")
    model = write_model(tmp_path / "model.py")
    done = cli("import", "--file", model, "--class", "Net", "--input", "4", "-o", project_pipe)
    refused(done, f"{project_pipe}: the project cannot be saved (it is a named pipe (FIFO)")
    assert stat.S_ISFIFO(os.lstat(project_pipe).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py", "out.cnnd", "out.py"]


@posix_only
def test_a_link_to_a_fifo_is_refused_and_a_link_to_a_file_is_written_through(
    tmp_path: Path,
) -> None:
    pipe = fifo(tmp_path / "pipe")
    link = tmp_path / "link.py"
    link.symlink_to(pipe)
    refused(cli("export", "--preset", "lenet5", "--format", "python", "-o", link), "named pipe")
    assert stat.S_ISFIFO(os.stat(link).st_mode)
    real = tmp_path / "real.py"
    real.write_text("old", encoding="utf-8")
    good = tmp_path / "good.py"
    good.symlink_to(real)
    done = cli("export", "--preset", "lenet5", "--format", "python", "-o", good)
    assert done.returncode == 0, done.stderr[-2000:]
    assert good.is_symlink() and "class LeNet5" in real.read_text(encoding="utf-8")


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() != 0, reason="mknod of a device needs root"
)
@pytest.mark.parametrize("command", ["export", "import"])
def test_a_character_device_is_never_replaced(tmp_path: Path, command: str) -> None:
    """A device with /dev/null's numbers stands for /dev/null itself (as root, ``-o /dev/null``
    replaced the system's /dev/null)."""
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.stat("/dev/null").st_rdev)
    except OSError as error:  # a container without the capability
        pytest.skip(f"mknod not allowed here: {error}")
    if command == "export":
        done = cli("export", "--preset", "lenet5", "--format", "torchscript", "-o", device)
        refused(done, f"export file {device}: cannot be written (it is a character device")
    else:
        model = write_model(tmp_path / "model.py")
        done = cli("import", "--file", model, "--class", "Net", "--input", "4", "-o", device)
        refused(done, f"{device}: the project cannot be saved (it is a character device")
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert os.lstat(device).st_rdev == os.stat("/dev/null").st_rdev


# --- 20 (first half): empty options -----------------------------------------------------------


def test_import_with_an_empty_file_is_a_message(tmp_path: Path) -> None:
    """It fell through to the torchvision branch with a name of None (TypeError in difflib)."""
    done = cli("import", "--file", "", "--class", "Net", "-o", tmp_path / "out.cnnd")
    refused(done, "--file: must not be empty. Received: --file=''. Give MODEL.py")
    assert not (tmp_path / "out.cnnd").exists()


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["import", "--torchvision", "", "-o", "OUT"], "--torchvision"),
        (["import", "--file", "M", "--class", "", "-o", "OUT"], "--class"),
        (["import", "--torchvision", "alexnet", "-o", ""], "--output"),
        (["import", "--torchvision", "alexnet", "--input", "", "-o", "OUT"], "--input"),
        (["summary", ""], "FILE"),
        (["summary", "--preset", ""], "--preset"),
        (["summary", "--preset", "lenet5", "--option", ""], "--option"),
        (["export", "--preset", "lenet5", "--format", "python", "-o", ""], "--output"),
        (
            ["export", "--preset", "lenet5", "--format", "python", "-o", "OUT", "--weights", ""],
            "--weights",
        ),
        (
            ["export", "--preset", "lenet5", "--format", "python", "-o", "OUT", "--class-name", ""],
            "--class-name",
        ),
        (["train", "--preset", "lenet5", "--data-dir", ""], "--data-dir"),
        (["open", "", "--screenshot", "OUT"], "FILE"),
    ],
)
def test_every_option_given_empty_is_refused_by_name(
    tmp_path: Path, args: list[str], flag: str
) -> None:
    model = write_model(tmp_path / "model.py")
    given = [{"OUT": str(tmp_path / "out"), "M": str(model)}.get(a, a) for a in args]
    refused(cli(*given), f"cnn-designer: error: {flag}: must not be empty")
    assert not (tmp_path / "out").exists()


# --- 25 (first half): temporaries of killed saves ----------------------------------------------

SLOW_SAVER = """
import sys, time
from pathlib import Path
from engine.atomic_files import write_files_atomic

def slow(path):  # a writer that takes its time (as the ONNX exporter does for a big model)
    with open(path, "wb") as stream:
        stream.write(b"x" * 4_500_000)
    print("writing", flush=True)
    time.sleep(600)

write_files_atomic([(Path(sys.argv[1]), slow)])
"""


def start_saver(target: Path) -> subprocess.Popen[str]:
    """A process stopped in the middle of writing ``target``'s temporary file."""
    saver = subprocess.Popen(
        [sys.executable, "-c", SLOW_SAVER, str(target)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert saver.stdout is not None and saver.stdout.readline() == "writing\n"
    return saver


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@posix_only
def test_temporaries_of_killed_saves_are_removed_by_the_next_save(tmp_path: Path) -> None:
    project = tmp_path / "net.cnnd"
    save_project(Project(PRESETS.get("lenet5").create()), project)
    first = start_saver(project)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=TIMEOUT)
    (left,) = temps(tmp_path)
    assert left.startswith(f".net.cnnd.{first.pid}-"), left
    assert (tmp_path / left).stat().st_size == 4_500_000
    second = start_saver(project)  # its save starts by removing the first one's leftover
    second.send_signal(signal.SIGKILL)
    second.wait(timeout=TIMEOUT)
    (left,) = temps(tmp_path)
    assert left.startswith(f".net.cnnd.{second.pid}-"), left
    unrelated = tmp_path / ".other.cnnd.abcdefgh.tmp"  # another target's: not ours to remove
    unrelated.write_bytes(b"x")
    model = write_model(tmp_path / "model.py")
    done = cli("import", "--file", model, "--class", "Net", "--input", "4", "-o", project)
    assert done.returncode == 0, done.stderr[-2000:]
    assert temps(tmp_path) == [unrelated.name]
    assert load_project(project).metadata["title"] == "model.py:Net"


@posix_only
def test_a_live_writers_temporary_is_left_alone(tmp_path: Path) -> None:
    """Two processes saving the same file: the second never deletes the first's temporary."""
    project = tmp_path / "net.cnnd"
    saver = start_saver(project)
    try:
        (live,) = temps(tmp_path)
        save_project(Project(PRESETS.get("lenet5").create()), project)
        assert temps(tmp_path) == [live]
        assert (tmp_path / live).stat().st_size == 4_500_000
    finally:
        saver.kill()
        saver.wait(timeout=TIMEOUT)
    save_project(Project(PRESETS.get("lenet5").create()), project)
    assert temps(tmp_path) == []


def test_older_temporaries_without_a_process_id_are_removed_once_old(tmp_path: Path) -> None:
    """Saves before this fix named temporaries ``.NAME.XXXXXXXX.tmp`` (no process id): those
    older than an hour are leftovers; a fresh one may still be written, and stays."""
    project = tmp_path / "net.cnnd"
    old, fresh = tmp_path / ".net.cnnd.k2x_9qaz.tmp", tmp_path / ".net.cnnd.p0o9i8u7.tmp"
    for path in (old, fresh):
        path.write_bytes(b"{" * 1000)
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    save_project(Project(PRESETS.get("lenet5").create()), project)
    assert temps(tmp_path) == [fresh.name]


# --- 28: an invalid design's refusal ----------------------------------------------------------


def test_export_of_an_invalid_design_says_first_which_file_and_what_to_do(
    tmp_path: Path,
) -> None:
    bad = invalid_project(tmp_path / "bad net.cnnd")
    done = cli("export", bad, "--format", "python", "-o", tmp_path / "net.py")
    refused(done)
    lines = done.stderr.strip().splitlines()
    assert lines[0] == (
        f"cnn-designer: error: {bad}: the design has 1 error, so it cannot be exported; fix it "
        f"in the designer (cnn-designer open '{bad}') or in the file:"
    )
    assert len(lines) == 2 and lines[1].startswith("  conv1 (conv2d): "), lines
    assert not (tmp_path / "net.py").exists()


def test_summary_of_an_invalid_design_names_the_file_on_stderr(tmp_path: Path) -> None:
    bad = invalid_project(tmp_path / "bad.cnnd")
    done = cli("summary", bad)
    assert done.returncode == 1 and "conv1 (conv2d)" in done.stdout
    assert done.stderr.strip() == (
        f"cnn-designer: {bad}: the design has 1 error (the table above lists them); fix them in "
        "the designer or in the file"
    )


def test_train_of_an_invalid_design_says_which_file_and_lists_the_problem(
    tmp_path: Path,
) -> None:
    """train reported a misleading class-count message instead of the design's error."""
    bad = invalid_project(tmp_path / "bad.cnnd")
    done = cli("train", bad, "--epochs", "1", "--data", "digits", "--out", tmp_path / "runs")
    refused(done)
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith(
        f"cnn-designer: error: {bad}: the design has 1 error, so it cannot be trained; fix it"
    ), lines
    assert len(lines) == 2 and lines[1].startswith("  conv1 (conv2d): "), lines


@posix_only
def test_a_screenshot_never_writes_into_a_fifo(tmp_path: Path) -> None:
    """Qt's image writer opened the FIFO and waited for a reader forever."""
    pipe = fifo(tmp_path / "shot.png")
    done = cli("open", "--preset", "lenet5", "--screenshot", pipe)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert f"cannot write the screenshot to {pipe} (it is a named pipe (FIFO)" in done.stderr
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    good = tmp_path / "shot2.png"
    assert cli("open", "--preset", "lenet5", "--screenshot", good).returncode == 0
    assert good.read_bytes().startswith(b"\x89PNG")
