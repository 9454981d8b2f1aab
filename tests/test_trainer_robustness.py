"""The trainer keeps a run folder a true record: a refused resume leaves it as it was, a resume
that would change the graph or the data is refused naming what differs, a failed checkpoint
leaves one line per epoch, and every step named agrees with the record. Problems (a file in the
way of the run folder, a network without weights, BatchNorm on a batch of one) are named with
their fix. Under torchrun every process stops together, with one message, and none hangs."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from engine import Graph, Project, save_project
from engine.training import runs
from engine.training import trainer as trainer_module
from engine.training.control import TrainingControl
from engine.training.events import EpochEnd, Failed, Finished, RunStarted, Step
from engine.training.runs import list_runs, read_metrics
from engine.training.trainer import train

# 200 digits: 160 train (5 batches of 32), 40 validation
QUICK: dict[str, Any] = {
    "data": {"dataset": "digits", "limit": 200},
    "epochs": 1,
    "batch_size": 32,
    "lr": 0.01,
    "device": "cpu",
    "step_interval": 0.0,
}
STEPS = 5  # per epoch with QUICK


def chain(*layers: tuple[str, dict[str, Any]], shape: tuple[int, ...] = (1, 8, 8)) -> Graph:
    g = Graph()
    g.add_node("input", "input", {"shape": list(shape)})
    names = ["input"]
    for n, (kind, params) in enumerate(layers):
        names.append(g.add_node(kind, f"{kind}{n}", params).name)
    g.add_node("output", "output")
    for a, b in itertools.pairwise([*names, "output"]):
        g.connect(a, b)
    return g


def mlp(hidden: int = 16) -> Graph:
    return chain(
        ("flatten", {}),
        ("linear", {"out_features": hidden}),
        ("relu", {}),
        ("linear", {"out_features": 10}),
    )


def folder_state(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run.iterdir())}


def one_epoch_run(root: Path) -> Path:
    finished = list(train(mlp(), QUICK, run_root=root, snapshots=False))[-1]
    assert isinstance(finished, Finished), finished
    return Path(finished.run_dir)


# ---- resuming -----------------------------------------------------------------------------
def test_a_refused_resume_leaves_the_finished_run_as_it_was(tmp_path: Path) -> None:
    run = one_epoch_run(tmp_path)
    before = folder_state(run)
    events = list(train(mlp(), QUICK, resume=run, snapshots=False))
    [failed] = events  # refused in set-up: no RunStarted
    assert isinstance(failed, Failed) and failed.reason == "setup"
    assert "already trained for 1 epochs. Set epochs above 1" in failed.message
    assert failed.run_dir is None
    assert folder_state(run) == before  # result.json still says "completed"
    assert json.loads((run / "result.json").read_text())["status"] == "completed"


def test_a_resume_into_a_read_only_run_folder_is_refused_and_changes_nothing(
    tmp_path: Path, lock_folder: Any
) -> None:
    run = one_epoch_run(tmp_path)
    before = folder_state(run)
    lock_folder(run)
    [failed] = list(train(mlp(), {**QUICK, "epochs": 2}, resume=run, snapshots=False))
    assert isinstance(failed, Failed) and failed.reason == "setup", failed
    assert failed.message.startswith(f"run folder {run}: cannot write settings.json (")
    assert failed.message.endswith(
        "Make the folder writable or free some disk space, or resume a copy of the run folder"
    )
    assert failed.run_dir is None and folder_state(run) == before


@pytest.mark.parametrize(
    ("graph", "changes", "named"),
    [
        (
            mlp(),
            {"data": {"dataset": "shapes", "limit": 200}},
            "data.dataset is 'shapes', the run's is 'digits'",
        ),
        (
            mlp(),
            {"data": {"dataset": "digits", "limit": 300}},
            "data.limit is 300, the run's is 200",
        ),
        (
            mlp(),
            {"data": {"dataset": "digits", "limit": 200, "val_split": 0.3}},
            "data.val_split is 0.3, the run's is 0.2",
        ),
        (mlp(), {"seed": 5}, "seed is 5, the run's is 0"),
        (mlp(), {"loss": "mse"}, "loss is 'mse', the run's is 'cross_entropy'"),
        (mlp(hidden=32), {}, "linear1.out_features is 32, the run's is 16"),
        (
            chain(
                ("flatten", {}),
                ("linear", {"out_features": 16}),
                ("relu", {}),
                ("linear", {"out_features": 10}),
                ("dropout", {}),
            ),
            {},
            "block 'dropout4' is new",
        ),
    ],
)
def test_a_resume_with_another_graph_or_data_is_refused_naming_what_differs(
    tmp_path: Path, graph: Graph, changes: dict[str, Any], named: str
) -> None:
    run = one_epoch_run(tmp_path)
    before = folder_state(run)
    settings = {**QUICK, "epochs": 2, **changes}
    [failed] = list(train(graph, settings, resume=run, snapshots=False))
    assert isinstance(failed, Failed) and failed.reason == "setup", failed
    assert failed.message.startswith(f"cannot resume {run}: ")
    assert named in failed.message
    assert "Start a new run to train this (leave out --resume)" in failed.message
    assert folder_state(run) == before  # settings.json, graph.json, best.pt: untouched


def test_a_resume_may_change_the_learning_rate_and_keeps_each_sessions_settings(
    tmp_path: Path,
) -> None:
    run = one_epoch_run(tmp_path)
    events = list(train(mlp(), {**QUICK, "epochs": 2, "lr": 0.005}, resume=run, snapshots=False))
    assert isinstance(events[-1], Finished) and events[-1].status == "completed"
    started = events[0]
    assert isinstance(started, RunStarted) and started.start_epoch == 1
    assert "resumed at epoch 1 with changed settings: lr 0.01 → 0.005" in started.notes
    record = json.loads((run / "settings.json").read_text())
    assert record["settings"]["lr"] == 0.005
    sessions = [(s["start_epoch"], s["settings"]["lr"]) for s in record["sessions"]]
    assert sessions == [(0, 0.01), (1, 0.005)]
    assert [m["epoch"] for m in read_metrics(run)] == [1, 2]


# ---- a failed checkpoint and the steps named ------------------------------------------------
def test_a_failed_checkpoint_keeps_one_line_per_epoch_and_names_the_step_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runs.save_checkpoint

    def disk_full(path: Path, state: dict[str, Any]) -> None:
        if state["epoch"] == 2:
            raise OSError(28, "No space left on device")
        real(path, state)

    monkeypatch.setattr(runs, "save_checkpoint", disk_full)
    events = list(train(mlp(), {**QUICK, "epochs": 3}, run_root=tmp_path, snapshots=False))
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.reason == "error", failed
    run = Path(failed.run_dir)
    assert failed.message.startswith(
        f"run folder {run}: cannot write last.pt at the end of epoch 2 (step {2 * STEPS}): "
        f"No space left on device. The run stopped; last.pt keeps epoch 1 (step {STEPS})"
    ), failed.message
    assert f"--resume {run}" in failed.message
    assert failed.step == 2 * STEPS  # the steps that ran, not one more
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == [1]
    result = json.loads((run / "result.json").read_text())
    assert result["step"] == 2 * STEPS and result["epochs_done"] == 1
    assert result["checkpoint"] == {"epoch": 1, "step": STEPS}
    assert [m["epoch"] for m in read_metrics(run)] == [1]  # epoch 2's line taken back
    monkeypatch.setattr(runs, "save_checkpoint", real)
    resumed = list(train(mlp(), {**QUICK, "epochs": 3}, resume=run, snapshots=False))
    assert isinstance(resumed[-1], Finished), resumed[-1]
    assert [m["epoch"] for m in read_metrics(run)] == [1, 2, 3]
    [info] = list_runs(tmp_path)
    assert info.epochs == 3 and info.status == "completed"


def test_a_resume_drops_metric_lines_past_its_checkpoint(tmp_path: Path) -> None:
    """A run killed between an epoch's metrics line and its checkpoint (or recorded by an
    older version) has lines the checkpoint does not hold: they go, and the run says so."""
    run = one_epoch_run(tmp_path)
    line = json.dumps({**read_metrics(run)[0], "epoch": 2}) + "\n"
    with open(run / "metrics.jsonl", "a", encoding="utf-8") as stream:
        stream.write(line)
    events = list(train(mlp(), {**QUICK, "epochs": 2}, resume=run, snapshots=False))
    assert isinstance(events[-1], Finished)
    assert any("past the checkpoint (epoch 1) removed" in note for note in events[0].notes)
    assert [m["epoch"] for m in read_metrics(run)] == [1, 2]
    assert list_runs(tmp_path)[0].epochs == 2


def test_a_failure_inside_a_step_names_that_step_in_the_event_and_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = trainer_module.compile_graph

    def exploding(graph: Graph, result: Any = None) -> Any:
        module = real(graph, result)
        calls = {"n": 0}

        def boom(layer: Any, _inputs: Any) -> None:
            calls["n"] += layer.training
            if calls["n"] == 3:
                raise RuntimeError("boom")

        module.linear3.register_forward_pre_hook(boom)
        return module

    monkeypatch.setattr(trainer_module, "compile_graph", exploding)
    failed = list(train(mlp(), QUICK, run_root=tmp_path, snapshots=False))[-1]
    assert isinstance(failed, Failed)
    assert failed.message == "training failed at step 3: RuntimeError: boom"
    assert failed.step == 3
    result = json.loads((Path(failed.run_dir) / "result.json").read_text())
    assert result["step"] == 3 and result["checkpoint"] is None


def test_a_stop_during_an_epoch_says_which_step_the_checkpoint_holds(tmp_path: Path) -> None:
    control = TrainingControl()
    events = []
    for event in train(mlp(), {**QUICK, "epochs": 2}, run_root=tmp_path, control=control):
        events.append(event)
        if isinstance(event, Step) and event.step >= STEPS + 2:
            control.stop()
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.status == "stopped"
    stopped_at = finished.steps
    assert stopped_at > STEPS
    result = json.loads((Path(finished.run_dir) / "result.json").read_text())
    assert result["steps"] == stopped_at
    assert result["checkpoint"] == {"epoch": 1, "step": STEPS}
    assert result["note"].startswith(
        f"stopped at step {stopped_at}, during epoch 2: last.pt holds epoch 1 (step {STEPS}), "
        "where --resume continues"
    )
    assert runs.load_checkpoint(finished.run_dir)["step"] == STEPS


# ---- problems named with their fix ----------------------------------------------------------
def test_a_file_in_the_way_of_the_run_folder_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("")
    for root, expected in [
        (blocker, f"{blocker} is a file, not a folder, so the run folder cannot be made in it. "),
        (
            blocker / "sub",
            f"{blocker / 'sub'}: {blocker} is a file, not a folder, so the run folder cannot "
            "be made there. ",
        ),
    ]:
        [failed] = list(train(mlp(), QUICK, run_root=root, snapshots=False))
        assert isinstance(failed, Failed) and failed.reason == "setup"
        assert failed.message.startswith(expected), failed.message
        assert "Choose another folder for the runs (--out DIR)" in failed.message
    assert blocker.read_text() == ""


@pytest.mark.parametrize("layers", [[("flatten", {})], [("flatten", {}), ("dropout", {"p": 0.5})]])
def test_a_network_without_weights_is_refused_with_the_fix(
    tmp_path: Path, layers: list[tuple[str, dict[str, Any]]]
) -> None:
    graph = chain(*layers, shape=(1, 1, 10))
    [failed] = list(train(graph, QUICK, run_root=tmp_path, snapshots=False))
    assert isinstance(failed, Failed) and failed.reason == "setup"
    assert failed.message.startswith("the network has no weights to train")
    assert "Add a layer with weights, such as Linear or Conv2d" in failed.message
    assert list(tmp_path.iterdir()) == []  # refused before a run folder was made


def bn_net() -> Graph:
    return chain(
        ("conv2d", {"out_channels": 4, "kernel_size": 3}),
        ("flatten", {}),
        ("linear", {"out_features": 10}),
        ("batchnorm", {}),
    )


def test_batchnorm_skips_a_last_batch_of_one_sample_and_says_so() -> None:
    # 160 training samples in batches of 53: 3 full batches and 1 sample over
    events = list(train(bn_net(), {**QUICK, "batch_size": 53, "epochs": 2}, snapshots=False))
    assert isinstance(events[-1], Finished), events[-1]
    started = events[0]
    assert started.steps_per_epoch == 3 and events[-1].steps == 6
    assert any(
        "leave a last batch of 1 sample, on which BatchNorm (batchnorm3) cannot train" in note
        for note in started.notes
    )
    [failed] = list(train(bn_net(), {**QUICK, "batch_size": 1}, snapshots=False))
    assert isinstance(failed, Failed) and failed.reason == "setup"
    assert "cannot train on batches of 1 sample: set batch_size to 2 or more" in failed.message


def test_batchnorm_over_feature_maps_keeps_every_batch() -> None:
    """BatchNorm2d on 6×6 maps trains on a batch of one sample: nothing is skipped."""
    net = chain(
        ("conv2d", {"out_channels": 4, "kernel_size": 3}),
        ("batchnorm", {}),
        ("flatten", {}),
        ("linear", {"out_features": 10}),
    )
    events = list(train(net, {**QUICK, "batch_size": 53}, snapshots=False))
    assert isinstance(events[-1], Finished), events[-1]
    assert events[0].steps_per_epoch == 4 and events[-1].steps == 4
    assert not any("last batch" in note for note in events[0].notes)


# ---- torchrun: every process stops together, and none hangs --------------------------------
LAUNCHER = """
import os, sys
mode, rank = sys.argv[1], int(os.environ["RANK"])
import engine.training.trainer as trainer
from engine.training import runs
if mode == "checkpoint" and rank == 0:  # rank 0 cannot write epoch 2's checkpoint
    real = runs.save_checkpoint
    def disk_full(path, state):
        if state["epoch"] == 2:
            raise OSError(28, "No space left on device")
        real(path, state)
    runs.save_checkpoint = disk_full
if mode == "step" and rank == 1:  # rank 1 fails inside step 3, rank 0 waits in its all-reduce
    real_compile = trainer.compile_graph
    def exploding(graph, result=None):
        module = real_compile(graph, result)
        calls = {"n": 0}
        def boom(layer, _inputs):
            calls["n"] += layer.training
            if calls["n"] == 3:
                raise RuntimeError("boom on rank 1")
        module.linear3.register_forward_pre_hook(boom)
        return module
    trainer.compile_graph = exploding
if mode == "stop" and rank == 1:  # a stop asked of rank 1 only
    from engine.training.control import TrainingControl
    TrainingControl.stop_requested = property(lambda self: True)
from designer.cli import main
sys.exit(main(sys.argv[2:]))
"""


def tiny_project(path: Path) -> Path:
    g = chain(
        ("conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
        ("relu", {}),
        ("flatten", {}),
        ("linear", {"out_features": 10}),
    )
    save_project(Project(graph=g, training={"lr": 0.01, "batch_size": 16}), path)
    return path


def torchrun(tmp_path: Path, mode: str, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    script = tmp_path / "launch.py"
    script.write_text(textwrap.dedent(LAUNCHER))
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(script),
        mode,
        "train",
        *args,
        "--device",
        "cpu",
        "--limit",
        "200",
    ]
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(root)}
    began = time.monotonic()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path
    )
    return done, time.monotonic() - began


def errors(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("cnn-designer: error:")]


def test_torchrun_a_run_folder_rank_0_cannot_make_stops_every_process(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    done, _ = torchrun(tmp_path, "none", "--preset", "lenet5_digits", "--out", "afile")
    assert done.returncode != 0
    assert errors(done) == [
        "cnn-designer: error: afile is a file, not a folder, so the run folder cannot be made "
        "in it. Choose another folder for the runs (--out DIR), or move the file away"
    ], done.stderr[-3000:]


def test_torchrun_a_checkpoint_rank_0_cannot_write_stops_every_process(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "net.cnnd")
    out = tmp_path / "runs"
    done, _ = torchrun(tmp_path, "checkpoint", str(project), "--epochs", "3", "--out", str(out))
    assert done.returncode != 0
    [message] = errors(done)
    assert "cannot write last.pt at the end of epoch 2" in message, done.stderr[-3000:]
    [run] = list(out.iterdir())
    assert [m["epoch"] for m in read_metrics(run)] == [1]
    assert json.loads((run / "result.json").read_text())["status"] == "failed"


def test_torchrun_a_failure_inside_a_step_of_one_process_stops_the_other(
    tmp_path: Path,
) -> None:
    project = tiny_project(tmp_path / "net.cnnd")
    out = tmp_path / "runs"
    done, seconds = torchrun(tmp_path, "step", str(project), "--epochs", "2", "--out", str(out))
    assert done.returncode != 0
    assert errors(done) == [
        "cnn-designer: error: process 1: training failed at step 3: RuntimeError: boom on rank 1"
    ], done.stderr[-3000:]
    assert seconds < 40  # not the gloo timeout
    [run] = list(out.iterdir())
    assert json.loads((run / "result.json").read_text())["status"] == "failed"


def test_torchrun_a_stop_asked_of_one_process_is_taken_by_all(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "net.cnnd")
    out = tmp_path / "runs"
    done, _ = torchrun(tmp_path, "stop", str(project), "--epochs", "3", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    [run] = list(out.iterdir())
    result = json.loads((run / "result.json").read_text())
    # 5 steps per epoch and process: the stop is agreed at the first report, epoch 1's last step
    assert result["status"] == "stopped" and result["steps"] == 5 and result["epochs_done"] == 1
    assert result["replicas_max_abs_diff"] == 0.0
