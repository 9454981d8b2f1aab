"""The trainer trains for real, reports events, writes its run folder, resumes and fails cleanly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import Graph
from engine.training import (
    EpochEnd,
    Failed,
    Finished,
    RunStarted,
    Snapshot,
    Step,
    TrainingControl,
    TrainingSettings,
)
from engine.training import trainer as trainer_module
from engine.training.runs import list_runs, load_checkpoint, read_metrics
from engine.training.trainer import train


def tiny_graph(classes: int = 10) -> Graph:
    """conv 8@3×3 → ReLU → max pool → FC on Digits' native 1×8×8."""
    g = Graph()
    g.add_node("input", "input", {"shape": [1, 8, 8]})
    g.add_node("conv2d", "conv1", {"out_channels": 8, "kernel_size": 3, "padding": 1})
    g.add_node("relu", "relu1")
    g.add_node("maxpool2d", "pool1", {"kernel_size": 2})
    g.add_node("flatten", "flatten")
    g.add_node("linear", "fc", {"out_features": classes})
    g.add_node("output", "output")
    for a, b in [
        ("input", "conv1"),
        ("conv1", "relu1"),
        ("relu1", "pool1"),
        ("pool1", "flatten"),
        ("flatten", "fc"),
        ("fc", "output"),
    ]:
        g.connect(a, b)
    return g


FAST = {"epochs": 3, "batch_size": 32, "lr": 0.01, "step_interval": 0.0, "snapshot_budget": 0.5}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list, Path]:
    root = tmp_path_factory.mktemp("runs")
    events = list(train(tiny_graph(), FAST, run_root=root))
    return events, root


def test_accuracy_climbs_well_above_chance(finished_run: tuple[list, Path]) -> None:
    events, _ = finished_run
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], Finished), events[-1]
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert epochs[-1].val_accuracy > 0.8  # chance is 0.1
    losses = [v for e in events if isinstance(e, Step) for v in e.losses]
    assert len(losses) == events[0].total_steps == 3 * 45
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:5])


def test_events_carry_what_the_dashboard_draws(finished_run: tuple[list, Path]) -> None:
    events, _ = finished_run
    started = events[0]
    assert started.conv_layers == ("conv1",) and started.relu_layers == ("relu1",)
    assert started.global_batch_size == 32 and started.train_size + started.val_size == 1797
    step = next(e for e in events if isinstance(e, Step))
    assert step.lr == 0.01 and step.images_per_second > 0 and 0 < step.progress <= 1
    snap = next(e for e in events if isinstance(e, Snapshot))
    assert snap.filters["conv1"].shape == (8, 1, 3, 3)
    assert set(snap.grad_norms) == {"conv1", "fc"} and all(v > 0 for v in snap.grad_norms.values())
    assert 0.0 <= snap.dead_relu["relu1"] <= 1.0
    counts, edges = snap.histograms["fc"]
    assert counts.sum() == 10 * 128 and len(edges) == len(counts) + 1
    assert snap.feature_maps.layer == "conv1" and snap.feature_maps.maps.shape == (8, 8, 8)
    end = next(e for e in events if isinstance(e, EpochEnd))
    assert end.confusion.shape == (10, 10) and end.confusion.sum() == started.val_size
    assert np.isclose(np.trace(end.confusion) / started.val_size, end.val_accuracy)
    assert end.per_class_accuracy.shape == (10,)
    for wrong in end.misclassified:
        assert (
            wrong.image.shape == (1, 8, 8)
            and wrong.image.dtype == np.uint8
            and wrong.true != wrong.predicted
        )
    import pickle

    assert all(pickle.loads(pickle.dumps(e)) is not None for e in events)  # plain data, picklable


def test_run_folder_metrics_and_checkpoints(finished_run: tuple[list, Path]) -> None:
    events, root = finished_run
    run = Path(events[-1].run_dir)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3
    for n, line in enumerate(lines, 1):
        record = json.loads(line)
        assert record["epoch"] == n
        for key in ("train_loss", "val_loss", "val_accuracy", "lr", "seconds"):
            assert isinstance(record[key], float), key
    settings = json.loads((run / "settings.json").read_text())
    assert TrainingSettings.from_dict(settings["settings"]).epochs == 3
    result = json.loads((run / "result.json").read_text())
    assert (
        result["status"] == "completed"
        and result["final_val_accuracy"] == events[-1].final_val_accuracy
    )
    state = load_checkpoint(run / "best.pt")
    assert state["epoch"] >= 1 and "conv1.weight" in state["model"]
    assert load_checkpoint(run)["epoch"] == 3  # a run folder means its last.pt
    [info] = list_runs(root)
    assert info.status == "completed" and info.epochs == 3 and info.dataset == "digits"
    assert [m["epoch"] for m in info.metrics()] == [1, 2, 3]


def test_files_that_are_not_checkpoints_are_named_without_unsafe_advice(tmp_path: Path) -> None:
    from engine.training.model import TrainingError

    pickled = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 2), pickled)  # a whole module: Python objects, not only tensors
    plain = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(2)}, plain)
    garbage = tmp_path / "notes.pt"
    garbage.write_text("not a checkpoint")
    expected = {
        pickled: f"checkpoint {pickled}: not a CNN Designer checkpoint (only tensors and plain",
        plain: f"checkpoint {plain}: not a CNN Designer checkpoint. Name a run folder",
        garbage: f"checkpoint {garbage}: not a CNN Designer checkpoint (not a file written by",
    }
    for path, start in expected.items():
        with pytest.raises(TrainingError) as caught:
            load_checkpoint(path)
        message = str(caught.value)
        assert message.startswith(start), message
        assert message.endswith("Name a run folder or its last.pt or best.pt")
        assert "weights_only" not in message


def test_resume_continues_the_run(finished_run: tuple[list, Path]) -> None:
    events, _ = finished_run
    run = Path(events[-1].run_dir)
    more = list(train(tiny_graph(), {**FAST, "epochs": 4}, resume=run))
    assert more[0].start_epoch == 3 and isinstance(more[-1], Finished)
    assert [e.epoch for e in more if isinstance(e, EpochEnd)] == [4]
    assert [m["epoch"] for m in read_metrics(run)] == [1, 2, 3, 4]
    assert load_checkpoint(run)["step"] == 4 * 45
    again = list(train(tiny_graph(), FAST, resume=run))
    assert isinstance(again[-1], Failed) and "already trained for 4 epochs" in again[-1].message


def test_nan_loss_stops_with_advice_and_keeps_last_good_checkpoint(tmp_path: Path) -> None:
    first = list(train(tiny_graph(), {**FAST, "epochs": 1}, run_root=tmp_path))
    run = Path(first[-1].run_dir)
    before = (run / "last.pt").read_bytes()
    events = list(
        train(tiny_graph(), {**FAST, "epochs": 3, "optimizer": "sgd", "lr": 1e6}, resume=run)
    )
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.reason == "nan"
    assert re.fullmatch(
        r"loss became (NaN|infinite) at step \d+ \(learning rate 1e\+06\): lower the learning rate or add BatchNorm",
        failed.message,
    )
    assert failed.step > 45
    assert (run / "last.pt").read_bytes() == before
    assert json.loads((run / "result.json").read_text())["status"] == "failed"


def test_exception_inside_the_model_becomes_a_failed_event(monkeypatch: pytest.MonkeyPatch) -> None:
    real = trainer_module.compile_graph

    def exploding(graph, result=None):
        module = real(graph, result)
        calls = {"n": 0}

        def boom(layer, _inputs):
            calls["n"] += layer.training  # training forwards only (not the snapshot's)
            if calls["n"] == 3:
                raise RuntimeError("boom in fc")

        module.fc.register_forward_pre_hook(boom)
        return module

    monkeypatch.setattr(trainer_module, "compile_graph", exploding)
    events = list(train(tiny_graph(), FAST))
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.reason == "error"
    assert failed.message == "training failed at step 3: RuntimeError: boom in fc"
    assert "boom in fc" in failed.details


def test_setup_problems_are_failed_events_with_a_fix() -> None:
    wrong_classes = list(train(tiny_graph(classes=5), FAST))[-1]
    assert isinstance(wrong_classes, Failed) and wrong_classes.reason == "setup"
    assert (
        "gives 5 scores per image but the data set has 10 classes: set out_features of 'fc' to 10"
        in wrong_classes.message
    )
    no_fit = list(
        train(
            tiny_graph(),
            {**FAST, "data": {"dataset": "shapes", "fit_input": False, "shapes_count": 60}},
        )
    )[-1]
    assert "expects 1×8×8 but shapes gives 3×32×32 images" in no_fit.message
    assert "convert the colour images to grayscale and resize the images to 8×8" in no_fit.message


def test_pause_resume_and_stop_within_one_batch() -> None:
    control = TrainingControl()
    seen = []
    for event in train(tiny_graph(), {**FAST, "epochs": 2}, control=control):
        seen.append(event)
        if isinstance(event, Step) and event.step == 3:
            control.pause()
        if event.kind == "paused":
            control.resume()
        if event.kind == "resumed":
            control.stop()
    kinds = [e.kind for e in seen]
    assert kinds[-3:] == ["paused", "resumed", "finished"]
    assert seen[kinds.index("paused")].step == 3  # paused before the next batch
    assert seen[-1].status == "stopped" and seen[-1].steps == 3 and "epoch_end" not in kinds


def test_a_pause_after_the_epoch_splits_no_epoch_and_is_taken_once() -> None:
    control = TrainingControl()
    control.pause_after_epoch()
    seen = []
    for event in train(tiny_graph(), {**FAST, "epochs": 3}, control=control):
        seen.append(event)
        if event.kind == "paused":
            control.resume()
    kinds = [e.kind for e in seen]
    first_end = kinds.index("epoch_end")
    assert kinds[first_end + 1 : first_end + 3] == ["paused", "resumed"]  # before any step
    assert seen[first_end + 1].step == seen[first_end].step  # the epoch's last step
    assert kinds.count("paused") == 1 and kinds.count("epoch_end") == 3
    assert seen[-1].status == "completed"
    control.pause_after_epoch()  # asked during the last epoch: the run just ends
    ends = [e.kind for e in train(tiny_graph(), {**FAST, "epochs": 1}, control=control)]
    assert "paused" not in ends and ends[-1] == "finished"


def test_snapshots_wait_while_no_page_shows_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unseen: the first and the last step only (IDLE_INTERVAL made endless); a page coming into
    view gets one at the next step."""
    monkeypatch.setattr("engine.training.snapshots.IDLE_INTERVAL", 1e9)
    control = TrainingControl()
    control.set_view(snapshots_shown=False)
    events = list(train(tiny_graph(), {**FAST, "epochs": 2}, control=control))
    last = max(e.step for e in events if isinstance(e, Step))
    assert [e.step for e in events if isinstance(e, Snapshot)] == [1, last]
    control = TrainingControl()
    control.set_view(snapshots_shown=False)
    taken = []
    for event in train(tiny_graph(), {**FAST, "epochs": 1}, control=control):
        if isinstance(event, Step) and event.step == 5:
            control.set_view(snapshots_shown=True)
        if isinstance(event, Snapshot):
            taken.append(event.step)
    assert taken[:2] == [1, 6]


def test_mse_loss_of_the_lecture_trains() -> None:
    events = list(train(tiny_graph(), {**FAST, "epochs": 2, "loss": "mse", "lr": 0.005}))
    assert isinstance(events[-1], Finished) and events[-1].final_val_accuracy > 0.5


def test_settings_round_trip_and_messages() -> None:
    settings = TrainingSettings.from_dict(
        {"optimizer": "sgd", "nesterov": True, "data": {"resize": [16, 16]}}
    )
    assert TrainingSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings
    from engine.training import SettingsError

    with pytest.raises(
        SettingsError, match=r"unknown setting 'lerning_rate'|unknown setting 'lr_'"
    ):
        TrainingSettings.from_dict({"lr_": 1})
    with pytest.raises(
        SettingsError, match=r"lr: value out of range. Received: lr=0.0. Use a positive"
    ):
        TrainingSettings.from_dict({"lr": 0})
    with pytest.raises(
        SettingsError, match=r"training.batch_size must be int. Received: batch_size='64'"
    ):
        TrainingSettings.from_dict({"batch_size": "64"})
    with pytest.raises(SettingsError, match="Nesterov needs optimizer sgd"):
        TrainingSettings.from_dict({"optimizer": "adam", "nesterov": True})


@pytest.mark.parametrize("schedule", ["step", "cosine", "onecycle"])
def test_schedules_match_torch(schedule: str) -> None:
    from engine.training import lr_at

    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    total, per_epoch = 50, 5
    sched = {
        "step": lambda: torch.optim.lr_scheduler.StepLR(opt, step_size=2 * per_epoch, gamma=0.5),
        "cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total),
        "onecycle": lambda: torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=0.1, total_steps=total, cycle_momentum=False
        ),
    }[schedule]()
    for step in range(total):
        ours = lr_at(schedule, 0.1, step, total, per_epoch, step_epochs=2, gamma=0.5)
        assert ours == pytest.approx(opt.param_groups[0]["lr"], rel=1e-6, abs=1e-9), step
        opt.step()
        sched.step()
