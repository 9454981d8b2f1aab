"""Pre-flight checks (issue 20, point 2): the quick checks refuse a class mismatch before any
process starts, with the command line's fix; the deeper checks catch designs that cannot learn."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Project, apply_fix, save_project
from engine.fixes import insert_before
from engine.preflight import check_design, errors
from engine.training.settings import TrainingSettings
from presets import PRESETS

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "designer", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd or ROOT,
    )


def settings(dataset: str, **extra: object) -> TrainingSettings:
    return TrainingSettings.from_dict({"data": {"dataset": dataset}, **extra})


def save(tmp_path: Path, graph, dataset: str, name: str = "design.cnnd") -> Path:
    project = Project(graph=graph)
    project.training = {"data": {"dataset": dataset}}
    path = tmp_path / name
    save_project(project, path)
    return path


def test_presets_carry_the_data_set_they_are_meant_for() -> None:
    assert PRESETS.get("lenet5_digits").dataset == "digits"
    assert PRESETS.get("lenet5").dataset == "digits"
    assert PRESETS.get("small_vgg").dataset == "shapes"
    assert PRESETS.get("resnet20").dataset == "shapes"
    assert PRESETS.get("resnet18").dataset == "imagefolder"
    for preset in PRESETS:  # a preset on the data set it is meant for passes the quick checks
        if preset.dataset != "imagefolder":
            found = check_design(preset.create(), settings(preset.dataset), preset=preset)
            assert not errors(found), (preset.name, found)


def test_class_mismatch_found_with_fixes_that_repair_it() -> None:
    graph = PRESETS.get("small_vgg").create()
    found = errors(check_design(graph, settings("digits"), preset=PRESETS.get("small_vgg")))
    assert [f.check for f in found] == ["classes"]
    finding = found[0]
    assert "6 scores" in finding.message and "10 classes" in finding.message
    by_cli = {fix.cli: fix for fix in finding.fixes}
    assert set(by_cli) == {"--option classes=10", "--data shapes"}
    fixed = graph.copy()
    apply_fix(fixed, by_cli["--option classes=10"].graph_fix)
    assert not errors(check_design(fixed, settings("digits")))
    switched = settings(by_cli["--data shapes"].data["dataset"])
    assert not errors(check_design(graph, switched, preset=PRESETS.get("small_vgg")))


def test_input_shape_mismatch_without_conversion_offers_both_fixes() -> None:
    graph = PRESETS.get("lenet5_digits").create()
    s = TrainingSettings.from_dict({"data": {"dataset": "digits", "fit_input": False}})
    (finding,) = errors(check_design(graph, s))
    assert finding.check == "input" and "8×8" in finding.message
    data_fix, input_fix = finding.fixes
    assert data_fix.data == {"resize": [32, 32]}
    fixed = graph.copy()
    apply_fix(fixed, input_fix.graph_fix)
    assert not [f for f in errors(check_design(fixed, s)) if f.check == "input"]


def test_train_cli_refuses_the_class_mismatch_before_anything_starts(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    done = cli("train", "--preset", "small_vgg", "--data", "digits", "--out", str(runs))
    assert done.returncode == 1
    assert "--option classes=10" in done.stderr and "10 classes" in done.stderr
    assert "Traceback" not in done.stderr and "in the designer" not in done.stderr
    assert not runs.exists()  # no run folder: nothing was started


def test_train_cli_names_the_file_fix_for_a_project_file(tmp_path: Path) -> None:
    path = save(tmp_path, PRESETS.get("small_vgg").create(), "digits")
    done = cli("train", str(path), "--epochs", "1", cwd=tmp_path)
    assert done.returncode == 1
    assert "set out_features of 'fc' to 10" in done.stderr
    assert "--option" not in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.glob("*.runs"))


def test_check_cli_passes_a_good_design_and_a_preset_starts_from_its_data_set() -> None:
    done = cli("check", "--preset", "lenet5_digits", "--data", "digits")
    assert done.returncode == 0, done.stderr
    assert "ready to train (digits)" in done.stdout
    done = cli("check", "--preset", "small_vgg")  # no --data: the set it is meant for
    assert done.returncode == 0 and "ready to train (shapes)" in done.stdout
    done = cli("check", "--preset", "small_vgg", "--data", "digits", "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["ok"] is False
    (error,) = [f for f in report["findings"] if f["severity"] == "error"]
    assert error["fixes"][0]["cli"] == "--option classes=10"
    assert error["fixes"][0]["graph"] == {"node": "fc", "params": {"out_features": 10}}


def deep(*args: str) -> tuple[int, dict[str, dict]]:
    done = cli("check", *args, "--data", "digits", "--deep", "--json", "--limit", "64")
    assert "Traceback" not in done.stderr, done.stderr
    findings: dict[str, dict] = {}
    for finding in json.loads(done.stdout)["findings"]:
        findings.setdefault(finding["check"], finding)
    return done.returncode, findings


def test_deep_checks_pass_a_healthy_design() -> None:
    status, found = deep("--preset", "lenet5_digits")
    assert status == 0
    assert {"initial_loss", "gradients", "overfit", "lr", "lr_range"} <= set(found)
    assert all(f["severity"] == "info" for f in found.values()), found
    assert "near ln 10" in found["initial_loss"]["message"]
    assert found["lr_range"]["fixes"][0]["cli"].startswith("--lr ")


@pytest.mark.parametrize("seed", ["0", "1"])
def test_deep_checks_catch_a_relu_before_the_loss(tmp_path: Path, seed: str) -> None:
    graph = PRESETS.get("lenet5_digits").create()
    insert_before(graph, "output", "in", "relu")
    path = save(tmp_path, graph, "digits")
    status, found = deep(str(path), "--seed", seed)
    assert status == 1
    assert found["ending"]["severity"] == "warning"  # the quick check names the block
    assert found["initial_loss"]["severity"] == "error"
    assert "exactly 0" in found["initial_loss"]["message"]
    assert found["overfit"]["severity"] == "error"
    assert "cannot learn" in found["overfit"]["message"]


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_deep_checks_catch_a_learning_rate_of_10(optimizer: str) -> None:
    status, found = deep("--preset", "lenet5_digits", "--lr", "10", "--optimizer", optimizer)
    assert status == 1
    lr = found["lr"]
    assert lr["severity"] == "error" and "lr=10" in lr["message"]
    assert lr["fixes"][0]["cli"] == "--lr 1"
    assert found["overfit"]["severity"] == "info"  # the design is fine: the rate is not
