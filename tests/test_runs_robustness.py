"""Run folders are data that may be damaged: reading them names what is wrong and never raises;
a run whose process died without recording its end is recorded by the caller; a run without a
validation split never calls its training accuracy a validation accuracy."""

from __future__ import annotations

import json
import queue
from pathlib import Path
from typing import Any

import pytest
from tiny_graphs import digits_mlp

from engine.training.control import TrainingControl
from engine.training.events import EpochEnd, Failed, Finished, RunStarted, Step
from engine.training.runner import TrainingHandle
from engine.training.runs import check_metrics, list_runs, read_metrics
from engine.training.trainer import train

GOOD = '{"settings": {"data": {"dataset": "digits"}}}'
EPOCH = '{"epoch": 1, "val_accuracy": 0.5, "val_loss": 1.0}\n'

# name -> (files, the status listed, a word of the problem named, epochs read)
DAMAGED: dict[str, tuple[dict[str, str | bytes], str, str, int]] = {
    "metrics line a list": ({"metrics.jsonl": "[1, 2]\n" + EPOCH}, "running", "list", 1),
    "metrics not utf-8": ({"metrics.jsonl": EPOCH.encode() + b"\xff\xfe\n"}, "running", "UTF-8", 1),
    "val accuracy a word": (
        {"metrics.jsonl": '{"epoch": 1, "val_accuracy": "high"}\n'},
        "running",
        "val_accuracy is 'high'",
        0,
    ),
    "epoch a word": ({"metrics.jsonl": '{"epoch": "one"}\n' + EPOCH}, "running", "epoch", 1),
    "metrics line not json": ({"metrics.jsonl": "{oops\n" + EPOCH}, "running", "JSON", 1),
    "metrics nested too deep": ({"metrics.jsonl": "[" * 100_000 + "\n"}, "running", "JSON", 0),
    "settings a list inside": ({"settings.json": '{"settings": []}'}, "running", "settings", 0),
    "settings data a word": (
        {"settings.json": '{"settings": {"data": "x"}}'},
        "running",
        "data",
        0,
    ),
    "settings not utf-8": ({"settings.json": b"\xff\xfe{"}, "running", "UTF-8", 0),
    "settings not json": ({"settings.json": "not json"}, "running", "settings.json", 0),
    "result a list": ({"result.json": "[1]"}, "unknown", "result.json", 0),
    "result status a dict": ({"result.json": '{"status": {"a": 1}}'}, "unknown", "status", 0),
    "result without status": ({"result.json": "{}"}, "unknown", "status", 0),
    "result not json": ({"result.json": "{"}, "unknown", "result.json", 0),
}


def make_run(root: Path, name: str, files: dict[str, str | bytes]) -> Path:
    run = root / name
    run.mkdir(parents=True)
    for file, content in {"settings.json": GOOD, **files}.items():
        data = content if isinstance(content, bytes) else content.encode()
        (run / file).write_bytes(data)
    return run


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_run_is_listed_with_what_is_wrong(tmp_path: Path, case: str) -> None:
    files, status, word, epochs = DAMAGED[case]
    make_run(tmp_path, "20250101-000000", files)
    make_run(
        tmp_path,
        "20250102-000000",
        {"metrics.jsonl": EPOCH, "result.json": '{"status": "completed"}'},
    )
    runs = list_runs(tmp_path)
    assert [r.name for r in runs] == ["20250101-000000", "20250102-000000"]
    damaged, good = runs
    assert damaged.status == status and damaged.epochs == epochs
    assert damaged.problems and word in " ".join(damaged.problems), damaged.problems
    assert good.status == "completed" and good.best_val_accuracy == 0.5 and not good.problems
    assert all(isinstance(r, dict) for r in damaged.metrics())


def test_metric_records_keep_zero_and_skip_only_a_truncated_last_line(tmp_path: Path) -> None:
    run = make_run(
        tmp_path,
        "r",
        {
            "metrics.jsonl": '{"epoch": 1, "val_accuracy": 0.0, "val_loss": 0.0}\n'
            '{"epoch": 2, "val_accuracy": 0.5, "val_loss": null}\n{"epoch": 3, "val_'
        },
    )
    records, problems = check_metrics(run)
    assert [r["epoch"] for r in records] == [1, 2] and records[0]["val_accuracy"] == 0.0
    assert problems == []  # a run writing its next line is not damage
    assert read_metrics(run) == records
    assert read_metrics(tmp_path / "missing") == []


def test_unreadable_folders_are_left_out_not_raised(tmp_path: Path) -> None:
    assert list_runs(tmp_path / "missing") == []
    (tmp_path / "file").write_text("x")
    assert list_runs(tmp_path / "file") == []
    (tmp_path / "loose.txt").write_text("not a run")
    (tmp_path / "no-settings").mkdir()
    assert list_runs(tmp_path) == []


# ----- a process that dies without recording its end -------------------------------------------
class DeadProcess:
    """A training process that has already ended with ``exitcode``."""

    def __init__(self, exitcode: int) -> None:
        self.exitcode = exitcode

    def is_alive(self) -> bool:
        return False

    def kill(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        pass


def started(run_dir: Path) -> RunStarted:
    return RunStarted(
        str(run_dir), "cpu", "digits", ("0", "1"), (1, 8, 8), 10, 2, 5, 0, 4, 20, 8, 8, 1,
        0.01, 100, {}, (), (), (),
    )  # fmt: skip


def epoch_end(epoch: int, val: float | None) -> EpochEnd:
    return EpochEnd(
        epoch, 4 * epoch, 1.0, 0.4, 1.0 if val is not None else None, val, 0.01, 1.0, None, None
    )


def dead_handle(run_dir: Path, events: list[Any], exitcode: int = -9) -> TrainingHandle:
    q: queue.Queue[Any] = queue.Queue()
    for event in events:
        q.put(event)
    return TrainingHandle(DeadProcess(exitcode), q, control=TrainingControl())


def poll_all(handle: TrainingHandle) -> list[Any]:
    seen: list[Any] = []
    for _ in range(5):
        seen += handle.poll_events()
        if handle.finished:
            break
    return seen


def test_a_killed_process_gets_its_end_recorded_by_the_caller(tmp_path: Path) -> None:
    run = make_run(tmp_path, "20250101-000000", {"metrics.jsonl": EPOCH})
    handle = dead_handle(
        run, [started(run), epoch_end(1, 0.5), Step(6, 2, (1.0,), 0.01, 1.0, 0.3, 1.0, 2.0)]
    )
    failed = poll_all(handle)[-1]
    assert isinstance(failed, Failed) and failed.reason == "crash"
    assert "killed by SIGKILL" in failed.message and "exit code -9" in failed.message
    assert "checkpoint of epoch 1" in failed.message and failed.run_dir == str(run)
    result = json.loads((run / "result.json").read_text())
    assert result["status"] == "crashed" and result["epochs_done"] == 1 and result["step"] == 6
    assert result["best_val_accuracy"] == 0.5 and result["exit_code"] == -9
    assert list_runs(tmp_path)[0].status == "crashed"


def test_a_process_the_caller_killed_says_why_not_out_of_memory(tmp_path: Path) -> None:
    run = make_run(tmp_path, "20250101-000000", {})
    handle = dead_handle(run, [started(run)])
    handle.kill_reason = "the training process did not answer Stop within 15 s"
    failed = poll_all(handle)[-1]
    assert failed.reason == "killed" and "did not answer Stop within 15 s" in failed.message
    assert "memory" not in failed.message and "unexpectedly" not in failed.message
    assert json.loads((run / "result.json").read_text())["status"] == "killed"
    assert list_runs(tmp_path)[0].status == "killed"


class HungProcess(DeadProcess):
    """A training process that answers nothing until it is killed."""

    def __init__(self) -> None:
        super().__init__(-9)
        self.alive = True

    def is_alive(self) -> bool:
        return self.alive

    def kill(self) -> None:
        self.alive = False


def test_closing_the_window_records_the_end_of_a_hung_run(tmp_path: Path) -> None:
    run = make_run(tmp_path, "20250101-000000", {})
    events: queue.Queue[Any] = queue.Queue()
    events.put(started(run))
    handle = TrainingHandle(HungProcess(), events, TrainingControl())
    handle.shutdown(grace=0.01)
    result = json.loads((run / "result.json").read_text())
    assert result["status"] == "killed" and "did not stop within 0.01 s" in result["message"]


def test_a_result_the_process_wrote_is_kept(tmp_path: Path) -> None:
    run = make_run(tmp_path, "20250101-000000", {"result.json": '{"status": "failed"}'})
    poll_all(dead_handle(run, [started(run), Failed("loss became NaN", 3, "nan", "", str(run))]))
    assert json.loads((run / "result.json").read_text()) == {"status": "failed"}


def test_a_read_only_run_folder_is_named_not_raised(tmp_path: Path, lock_folder) -> None:
    run = make_run(tmp_path, "20250101-000000", {})
    lock_folder(run)
    failed = poll_all(dead_handle(run, [started(run)]))[-1]
    assert failed.kind == "failed" and "could not be recorded" in failed.details


# ----- no validation split ----------------------------------------------------------------------
def test_without_a_validation_split_the_best_accuracy_is_called_a_training_one(
    tmp_path: Path,
) -> None:
    settings = {"data": {"dataset": "digits", "limit": 200, "val_split": 0.0}, "epochs": 2}
    events = list(train(digits_mlp(), settings, run_root=tmp_path, snapshots=False))
    finished = events[-1]
    assert isinstance(finished, Finished), finished
    ends = [e for e in events if isinstance(e, EpochEnd)]
    assert finished.best_val_accuracy is None
    assert finished.extra["best_train_accuracy"] == max(e.train_accuracy for e in ends)
    result = json.loads((Path(finished.run_dir) / "result.json").read_text())
    assert result["best_val_accuracy"] is None
    assert result["best_train_accuracy"] == finished.extra["best_train_accuracy"]
    assert list_runs(tmp_path)[0].best_val_accuracy is None


def test_a_resumed_run_drops_the_result_of_its_earlier_session(tmp_path: Path) -> None:
    settings = {"data": {"dataset": "digits", "limit": 200}, "epochs": 1}
    first = list(train(digits_mlp(), settings, run_root=tmp_path, snapshots=False))[-1]
    run = Path(first.run_dir)
    assert json.loads((run / "result.json").read_text())["status"] == "completed"
    control = TrainingControl()
    control.stop()  # the second session stops before its first step: "stopped" replaces it
    resumed = train(
        digits_mlp(), {**settings, "epochs": 3}, resume=run, control=control, snapshots=False
    )
    assert isinstance(next(resumed), RunStarted)
    assert not (run / "result.json").exists()  # going again: a death now is not "completed"
    assert list(resumed)[-1].status == "stopped"
    assert json.loads((run / "result.json").read_text())["status"] == "stopped"
