"""The export and import subcommands, run in-process as a person would type them."""

from __future__ import annotations

import textwrap

import pytest

from designer.cli import main
from engine import infer, load_project


def test_export_then_import_round_trip_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "lenet5.py"
    assert main(["export", "--preset", "lenet5", "--format", "python", "-o", str(out)]) == 0
    assert "class LeNet5(nn.Module)" in out.read_text()
    project = tmp_path / "lenet.cnnd"
    args = ["import", "--file", str(out), "--class", "LeNet5", "--input", "1x32x32", "-o"]
    assert main([*args, str(project)]) == 0
    assert infer(load_project(project).graph).total_params == 61_706
    assert "61,706 parameters" in capsys.readouterr().out


def test_import_lists_unmapped_operations_and_exits_1(tmp_path, capsys):
    source = tmp_path / "odd.py"
    source.write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn

            class Odd(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 2)

                def forward(self, x):
                    return self.fc(torch.clamp(x, 0, 1))
            """
        )
    )
    project = tmp_path / "odd.cnnd"
    code = main(
        ["import", "--file", str(source), "--class", "Odd", "--input", "4", "-o", str(project)]
    )
    assert code == 1 and project.exists()
    assert "not mapped: clamp (clamp)" in capsys.readouterr().out


def test_export_errors_are_messages_not_tracebacks(tmp_path, capsys):
    code = main(
        ["export", "--preset", "lenet5", "--format", "python", "-o", str(tmp_path / "x.txt")]
    )
    assert code == 2
    assert "must end in .py" in capsys.readouterr().err
    code = main(["import", "--file", str(tmp_path / "none.py"), "--class", "A", "-o", "a.cnnd"])
    assert code == 2
    assert "no such file" in capsys.readouterr().err


def test_import_torchvision_on_the_command_line(tmp_path):
    pytest.importorskip("torchvision", reason="torchvision is not installed (optional)")
    project = tmp_path / "squeeze.cnnd"
    assert main(["import", "--torchvision", "squeezenet1_1", "-o", str(project)]) == 0
    assert infer(load_project(project).graph).total_params == 1_235_496


def test_export_to_an_unwritable_path_or_from_a_non_checkpoint_is_a_message(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    args = ["export", "--preset", "lenet5", "--format", "torchscript", "-o"]
    assert main([*args, str(blocker / "net.ts")]) == 2
    assert f"{blocker} is a file, not a folder" in capsys.readouterr().err
    assert main([*args, ""]) == 2
    assert "--output: must not be empty. Received: --output=''" in capsys.readouterr().err
    assert main(["export", "--preset", "lenet5", "--format", "python", "-o", "."]) == 2
    assert (
        "names no file. Received: '.'. Give a file name such as model.py" in capsys.readouterr().err
    )
    (tmp_path / "notes.pt").write_text("not weights")
    assert main([*args, str(tmp_path / "net.ts"), "--weights", str(tmp_path / "notes.pt")]) == 2
    err = capsys.readouterr().err
    assert "notes.pt: not a CNN Designer checkpoint" in err and "last.pt or best.pt" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "notes.pt"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("model", "Class name 'model': the exported file already uses the name 'model'"),
        ("1Net", "Class name '1Net': a class name cannot start with a digit. Use a name such as"),
        ("print", "'print' is a Python built-in name, which the class would hide"),
    ],
)
def test_export_refuses_a_class_name_that_would_break_the_file(tmp_path, capsys, name, expected):
    out = tmp_path / "net.py"
    args = ["export", "--preset", "lenet5", "--format", "python", "--class-name", name, "-o"]
    assert main([*args, str(out)]) == 2
    assert expected in capsys.readouterr().err
    assert not out.exists()
