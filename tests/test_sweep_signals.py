"""A signal ends a sweep or a repeat wherever it lands: the commands run in this process, with the
signal sent to itself at the moments that used to lose it (inside Optuna's write of a trial's
end, which left the trial RUNNING; inside a finalizer, where Python printed "Exception ignored"
and the trial trained on until the window killed it)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from designer.cli import main
from engine.experiments import sweep as sweeps
from engine.training.runs import list_runs

TINY = ["--data", "digits", "--limit", "64", "--device", "cpu", "--sampler", "random"]


def states(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT state FROM trials ORDER BY number")]


def sweep_with(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    when: Callable[..., bool],
    send: Callable[[], None],
    epochs: int = 3,
) -> int:
    """Run a sweep of two trials in this process; ``send`` is called once, inside the storage's
    ``method``, the first time ``when(*args)`` holds, before Optuna's write."""
    opened = sweeps.open_storage

    def open_storage(url: str) -> Any:
        storage = opened(url)
        original, sent = getattr(storage, method), []

        def write(*args: Any, **kwargs: Any) -> Any:
            if not sent and when(*args, **kwargs):
                sent.append(True)
                send()
            return original(*args, **kwargs)

        setattr(storage, method, write)
        return storage

    monkeypatch.setattr(sweeps, "open_storage", open_storage)
    argv = ["sweep", "--preset", "lenet5_digits", *TINY, "--epochs", str(epochs)]
    argv += ["--param", "lr=log:1e-3..1e-1", "--trials", "2", "--out", str(tmp_path)]
    previous = signal.getsignal(signal.SIGTERM)
    try:
        return main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def sigterm() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def test_a_signal_while_optuna_records_a_trials_end_leaves_no_trial_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def trial_end(_trial_id: int, state: Any, *_rest: Any, **_kw: Any) -> bool:
        return state.name == "COMPLETE"

    code = sweep_with(tmp_path, monkeypatch, "set_trial_state_values", trial_end, sigterm, 1)
    err = capsys.readouterr().err
    assert code == 128 + signal.SIGTERM, err
    assert "sweep stopped by SIGTERM" in err and "Traceback" not in err
    # the trial that was being recorded is complete; the second one never started
    assert states(tmp_path / "sweep.db") == ["COMPLETE"]
    assert [r.status for r in list_runs(tmp_path)] == ["completed"]


def test_a_signal_during_training_stops_the_trial_after_its_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = sweep_with(
        tmp_path, monkeypatch, "set_trial_intermediate_value", lambda *_a: True, sigterm
    )
    assert code == 128 + signal.SIGTERM, capsys.readouterr().err
    assert states(tmp_path / "sweep.db") == ["FAIL"]
    [run] = list_runs(tmp_path)
    assert run.status == "stopped" and run.epochs == 1  # reported after epoch 1, then stopped
    result = json.loads((run.path / "result.json").read_text())
    trial = json.loads((run.path / "trial.json").read_text())
    assert result["stopped_by"] == "SIGTERM" and trial["state"] == "FAIL"
    assert trial["message"].startswith("stopped by SIGTERM") == result["message"].startswith(
        "stopped by SIGTERM"
    )


def test_a_signal_inside_a_finalizer_is_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Thing:
        pass

    def from_a_finalizer() -> None:
        # the handler runs inside the finalizer: an exception there is printed and dropped
        thing = Thing()
        weakref.finalize(thing, sigterm)
        del thing

    code = sweep_with(
        tmp_path, monkeypatch, "set_trial_intermediate_value", lambda *_a: True, from_a_finalizer
    )
    err = capsys.readouterr().err
    assert "Exception ignored" not in err
    assert code == 128 + signal.SIGTERM, err
    assert states(tmp_path / "sweep.db") == ["FAIL"]
    assert [r.status for r in list_runs(tmp_path)] == ["stopped"]


def test_a_signal_ends_a_repeat_after_the_batch_with_the_run_recording_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.training import run_record

    recorded, sent = run_record.record_epoch, []

    def record_epoch(*args: Any, **kwargs: Any) -> None:
        recorded(*args, **kwargs)
        if not sent:  # inside the first run's first epoch end, as a finalizer might be
            sent.append(True)
            sigterm()

    monkeypatch.setattr(run_record, "record_epoch", record_epoch)
    argv = ["repeat", "--preset", "lenet5_digits", "--data", "digits", "--limit", "64"]
    argv += ["--device", "cpu", "--epochs", "3", "--seeds", "3", "--out", str(tmp_path)]
    previous = signal.getsignal(signal.SIGTERM)
    try:
        code = main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)
    err = capsys.readouterr().err
    assert code == 128 + signal.SIGTERM, err
    assert "repeat stopped by SIGTERM" in err and "Traceback" not in err
    [run] = list_runs(tmp_path)  # the next seeds never started
    assert run.status == "stopped" and run.epochs == 1
    assert json.loads((run.path / "result.json").read_text())["stopped_by"] == "SIGTERM"
    assert not (tmp_path / "repeat.json").exists()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the dropped one
def test_a_sigterm_inside_a_finalizer_still_ends_a_training_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.training.trainer import Trainer

    asked, sent = Trainer._stop_requested, []

    def stop_requested(self: Trainer) -> bool:
        if not sent and self.step >= 3:  # during the batches, from a finalizer
            sent.append(True)
            thing = type("Thing", (), {})()
            weakref.finalize(thing, sigterm)
            del thing
        return asked(self)

    monkeypatch.setattr(Trainer, "_stop_requested", stop_requested)
    argv = ["train", "--preset", "lenet5_digits", "--data", "digits", "--limit", "256"]
    argv += ["--device", "cpu", "--epochs", "50", "--out", str(tmp_path)]
    previous = signal.getsignal(signal.SIGTERM)
    try:
        code = main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert code == 128 + signal.SIGTERM, capsys.readouterr().err
    [run] = list_runs(tmp_path)
    assert run.status == "stopped" and run.epochs < 50
    assert json.loads((run.path / "result.json").read_text())["stopped_by"] == "SIGTERM"
