"""A training process whose window dies (killed, crashed) stops its run, records the stop and
exits: before, it trained on, then waited for ever on a queue nobody read (found after a
designer window was killed under Xvfb: an 800 MB process left sleeping)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[1]

PARENT = """
import sys, time
sys.path.insert(0, {tests!r})
from tiny_graphs import digits_cnn
from engine.training.runner import start_training

handle = start_training(
    digits_cnn().to_data(),
    {{"data": {{"dataset": "digits", "limit": 300}}, "epochs": 10000, "batch_size": 16}},
    run_root={root!r},
)
began = time.monotonic()
while time.monotonic() - began < 120:  # bounded: the first steps come within seconds
    if any(event.kind == "step" for event in handle.poll_events(timeout=0.5)):
        break
print(handle.process.pid, handle.run_dir, flush=True)
time.sleep(600)  # killed by the test long before
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has ended (its parent, init, reaps it)
        return stat.read().split(") ")[-1][0] != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to see the process end")
def test_a_run_whose_window_is_killed_records_a_stop_and_its_process_ends(tmp_path: Path) -> None:
    code = PARENT.format(tests=str(ROOT / "tests"), root=str(tmp_path / "runs"))
    parent = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    child = None
    try:
        line = parent.stdout.readline().split()
        assert len(line) == 2, line
        child, run_dir = int(line[0]), Path(line[1])
        parent.send_signal(signal.SIGKILL)  # no chance to stop its child
        parent.wait(timeout=30)
        began = time.monotonic()
        while _alive(child) and time.monotonic() - began < 60:
            time.sleep(0.2)
        assert not _alive(child), "the orphaned training process is still there"
        result = json.loads((run_dir / "result.json").read_text())
        assert result["status"] == "stopped"
        assert result["stopped_by"] == "the process that started the run ended"
    finally:
        if parent.poll() is None:
            parent.kill()
        if child is not None and _alive(child):  # what the test found must not outlive it
            os.kill(child, signal.SIGKILL)
