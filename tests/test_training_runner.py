"""The process runner: training in a spawned process, controlled and observed through a handle;
its failures, even a killed process, arrive as events while the caller carries on."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from tiny_graphs import digits_cnn

from engine.training import SettingsError
from engine.training.runner import TrainingHandle, start_training


def wait_for(handle: TrainingHandle, kind: str, limit: float = 60.0) -> list:
    """Poll until an event of ``kind`` arrives; returns every event seen."""
    seen: list = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        seen += handle.poll_events(timeout=0.1)
        if any(e.kind == kind for e in seen):
            return seen
        if handle.finished:
            break
    raise AssertionError(f"no {kind} event; got {[e.kind for e in seen]}")


def test_pause_resume_stop_across_processes(tmp_path: Path) -> None:
    settings = {"epochs": 200, "batch_size": 16, "step_interval": 0.0}
    handle = start_training(digits_cnn(filters=4).to_data(), settings, tmp_path)
    try:
        seen = wait_for(handle, "step")
        assert seen[0].kind == "run_started" and seen[0].run_dir.startswith(str(tmp_path))
        handle.pause()
        seen = wait_for(handle, "paused", 20)
        paused_at = next(e for e in seen if e.kind == "paused").step
        time.sleep(0.5)
        quiet = handle.poll_events()
        assert [e.kind for e in quiet if e.kind == "step"] == []  # no training while paused
        handle.resume()
        seen = wait_for(handle, "step", 20)
        assert any(e.kind == "resumed" for e in quiet + seen)
        assert max(e.step for e in seen if e.kind == "step") > paused_at
        handle.pause_after_epoch()  # between two epochs: the pause follows an epoch's end
        seen = wait_for(handle, "paused", 20)
        kinds = [e.kind for e in seen]
        assert kinds[-2:] == ["epoch_end", "paused"] and seen[-1].step == seen[-2].step
        handle.resume()
        handle.stop()
        seen = wait_for(handle, "finished", 30)
        finished = seen[-1]
        assert finished.status == "stopped" and handle.finished
        assert handle.join(15) and handle.process.exitcode == 0
        assert (Path(finished.run_dir) / "result.json").is_file()
    finally:
        handle.kill()


def test_failures_arrive_as_events_and_the_caller_survives(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="batch_size"):  # bad settings fail at once, here
        start_training(digits_cnn(filters=4).to_data(), {"batch_size": 0})
    broken = start_training(digits_cnn(filters=4, classes=3).to_data(), {"epochs": 1}, tmp_path)
    killed = start_training(digits_cnn(filters=4).to_data(), {"epochs": 500, "step_interval": 0.0})
    try:
        failed = wait_for(broken, "failed")[-1]
        assert failed.reason == "setup" and "set out_features of 'fc' to 10" in failed.message
        wait_for(killed, "step")
        killed.kill()  # as the system's out-of-memory killer would
        events = wait_for(killed, "failed", 20)
        assert events[-1].reason == "crash" and "ended unexpectedly" in events[-1].message
        assert not killed.is_alive()
    finally:
        broken.kill()
        killed.kill()


def test_a_process_killed_halfway_through_an_event_does_not_block_the_caller() -> None:
    """The OOM killer can end the child while it writes an event: what reaches the pipe is a
    header promising 1,000 bytes and then 10. Reading that blocks for ever (this side holds the
    pipe's other end), so it must never happen on the caller's thread."""
    import multiprocessing as mp
    import struct
    import time
    from types import SimpleNamespace

    from engine.training.control import TrainingControl
    from engine.training.events import Failed
    from engine.training.runner import TrainingHandle

    events = mp.get_context("spawn").Queue()
    os.write(events._writer.fileno(), struct.pack("!i", 1000) + b"x" * 10)
    dead = SimpleNamespace(is_alive=lambda: False, exitcode=-9)
    handle = TrainingHandle(dead, events, TrainingControl())
    started = time.monotonic()
    found = handle.poll_events(timeout=0.2)
    assert time.monotonic() - started < 5
    assert [type(e) for e in found] == [Failed]
    assert "ended unexpectedly (killed by SIGKILL, exit code -9)" in found[0].message
