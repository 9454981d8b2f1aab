"""Exports on a full disk, to unwritable paths, too large for memory, from files that are not
checkpoints: each ends in an ExportError naming the path or shape and the fix, never in a
traceback or a crash, and never destroys the previous export."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from engine import Graph, compile_graph
from engine.export import ExportError, export_model, read_state_dict

SUFFIX = {"python": ".py", "torchscript": ".ts", "onnx": ".onnx"}


def tiny_graph(shape: tuple[int, ...] = (1, 8, 8)) -> Graph:
    """input → conv → flatten → linear → output."""
    g = Graph()
    g.add_node("input", "input", {"shape": list(shape)})
    g.add_node("conv2d", "conv1", {"out_channels": 2})
    g.add_node("flatten", "flatten")
    g.add_node("linear", "fc", {"out_features": 3})
    g.add_node("output", "output")
    for a, b in [("input", "conv1"), ("conv1", "flatten"), ("flatten", "fc"), ("fc", "output")]:
        g.connect(a, b)
    return g


def huge_graph() -> Graph:
    """One input far too large for any memory (800 TB for a batch of 2), one ReLU."""
    g = Graph()
    g.add_node("input", "input", {"shape": [1, 10**7, 10**7]})
    g.add_node("relu", "act")
    g.add_node("output", "output")
    g.connect("input", "act")
    g.connect("act", "output")
    return g


def needs(format: str) -> None:
    if format == "onnx":
        pytest.importorskip("onnx", reason="onnx is not installed (pip install '.[onnx]')")


def fail_fsync_on_call(monkeypatch: pytest.MonkeyPatch, failing_call: int) -> None:
    """Make the ``failing_call``-th fsync of an export report a full disk."""
    calls = []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == failing_call:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)


# --- 1 and 2: atomic saves on a full disk --------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX resource limits")
@pytest.mark.parametrize("format", ["torchscript", "onnx", "python"])
def test_a_full_disk_keeps_the_previous_export_and_is_a_message(tmp_path, format):
    """Files over 100 kB cannot be written (RLIMIT_FSIZE, as on a full disk): torch's own file
    writer aborted the process in C++ for TorchScript, and partial files were left behind."""
    import resource
    import signal

    from presets import PRESETS

    needs(format)
    out = tmp_path / f"net{SUFFIX[format]}"
    out.write_bytes(b"the previous export")
    (tmp_path / "net.pt").write_bytes(b"previous weights")
    run = tmp_path / "run"
    run.mkdir()
    lenet5 = compile_graph(PRESETS.get("lenet5").create())  # about 250 kB in every format
    torch.save({"model_state": lenet5.state_dict()}, run / "last.pt")
    command = [sys.executable, "-m", "designer", "export", "--preset", "lenet5"]
    command += ["--format", format, "-o", str(out), "--weights", str(run)]

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=limit, check=False)
    assert done.returncode == 2, done.stderr[-2000:]  # not 134 (abort) nor 1 (traceback)
    assert "Traceback" not in done.stderr
    failed = out if format != "python" else out.with_suffix(".pt")
    assert f"export file {failed}: cannot be written (File too large)" in done.stderr
    assert out.read_bytes() == b"the previous export"
    assert (tmp_path / "net.pt").read_bytes() == b"previous weights"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["run", out.name, "net.pt"])


@pytest.mark.parametrize("format", ["torchscript", "onnx", "python"])
def test_a_failed_write_keeps_the_previous_file_and_removes_the_temporary(
    tmp_path, monkeypatch, format
):
    needs(format)
    out = tmp_path / f"model{SUFFIX[format]}"
    out.write_bytes(b"previous")
    fail_fsync_on_call(monkeypatch, 1)
    with pytest.raises(ExportError, match="No space left on device") as caught:
        export_model(tiny_graph(), format, out)
    assert str(out) in str(caught.value) and "Free some disk space" in str(caught.value)
    assert isinstance(caught.value.__cause__, OSError)
    assert out.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == [out.name]


def test_python_export_replaces_code_and_weights_only_when_both_are_complete(tmp_path, monkeypatch):
    graph = tiny_graph()
    out, weights_path = tmp_path / "model.py", tmp_path / "model.pt"
    out.write_text("previous code")
    weights_path.write_bytes(b"previous weights")
    fail_fsync_on_call(monkeypatch, 2)  # the weights are complete, the code fails
    with pytest.raises(ExportError, match=r"model\.py: cannot be written"):
        export_model(graph, "python", out, weights=compile_graph(graph).state_dict())
    assert out.read_text() == "previous code"
    assert weights_path.read_bytes() == b"previous weights"
    assert sorted(os.listdir(tmp_path)) == ["model.pt", "model.py"]


def test_an_export_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    graph = tiny_graph()
    out = tmp_path / "model.py"
    out.write_text("previous")
    out.with_suffix(".pt").write_bytes(b"previous")
    out.chmod(0o640)
    out.with_suffix(".pt").chmod(0o600)
    export_model(graph, "python", out, weights=compile_graph(graph).state_dict())
    assert out.stat().st_mode & 0o777 == 0o640
    assert out.with_suffix(".pt").stat().st_mode & 0o777 == 0o600
    assert "class DesignedNet" in out.read_text()
    assert list(read_state_dict(out.with_suffix(".pt"))) == list(compile_graph(graph).state_dict())


# --- 3: unwritable output paths ------------------------------------------------------------


@pytest.mark.parametrize("format", ["torchscript", "onnx", "python"])
def test_unwritable_output_paths_are_messages(tmp_path, monkeypatch, format):
    needs(format)
    suffix = SUFFIX[format]
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(ExportError, match=re.escape(f"{blocker} is a file, not a folder")):
        export_model(tiny_graph(), format, blocker / f"sub/model{suffix}")
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    with pytest.raises(ExportError, match=r"is a folder\. Give a file name inside it"):
        export_model(tiny_graph(), format, folder)
    if format != "python":  # export_model refuses a python path without .py before this
        with pytest.raises(ExportError, match="names no file"):
            export_model(tiny_graph(), format, "")

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # a read-only folder
    with pytest.raises(ExportError, match="Export to a folder you can write to"):
        export_model(tiny_graph(), format, tmp_path / f"model{suffix}")
    assert sorted(os.listdir(tmp_path)) == sorted(["a_file", folder.name])


@pytest.mark.parametrize("format", ["python", "torchscript"])
def test_a_read_only_folder_is_a_message(tmp_path, lock_folder, format):
    folder = lock_folder(tmp_path)
    target = folder / f"model.{'py' if format == 'python' else 'ts'}"
    with pytest.raises(ExportError) as caught:
        export_model(tiny_graph(), format, target)
    message = str(caught.value)
    assert re.search(r"\((Permission denied|Operation not permitted)\)", message), message
    assert message.endswith("Export to a folder you can write to")
    assert os.listdir(folder) == []


# --- 4: example runs too large for memory --------------------------------------------------


def test_onnx_export_of_a_design_too_large_for_memory_names_the_input_shape(tmp_path):
    needs("onnx")
    with pytest.raises(ExportError, match="smaller input size") as caught:
        export_model(huge_graph(), "onnx", tmp_path / "model.onnx")
    assert "input shape 1×10000000×10000000" in str(caught.value)
    assert isinstance(caught.value.__cause__, RuntimeError)  # torch's error stays chained
    assert os.listdir(tmp_path) == []


def test_traced_torchscript_too_large_for_memory_names_the_input_shape(tmp_path, monkeypatch):
    def no_script(module: object) -> None:
        raise RuntimeError("a layer TorchScript cannot compile")

    monkeypatch.setattr(torch.jit, "script", no_script)  # the trace fallback runs the design
    with pytest.raises(ExportError, match=r"input shape 1×10000000×10000000\. Export with a"):
        export_model(huge_graph(), "torchscript", tmp_path / "model.ts")

    def trace_out_of_memory(module: object, inputs: object) -> None:  # inputs fit, a layer not
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 5")

    monkeypatch.setattr(torch.jit, "trace", trace_out_of_memory)
    with pytest.raises(ExportError, match=r"input shape 1×8×8\. Export with a smaller"):
        export_model(tiny_graph(), "torchscript", tmp_path / "model.ts")

    def trace_bug(module: object, inputs: object) -> None:
        raise RuntimeError("some other failure")

    monkeypatch.setattr(torch.jit, "trace", trace_bug)  # other failures keep their own message
    with pytest.raises(ExportError, match=r"neither script nor trace.*some other failure"):
        export_model(tiny_graph(), "torchscript", tmp_path / "model.ts")
    assert os.listdir(tmp_path) == []


# --- 5: files that are not checkpoints -----------------------------------------------------


def _not_checkpoints(folder: Path) -> list[Path]:
    torch.save(torch.nn.Linear(2, 2), folder / "module.pt")  # a pickled module, not a state dict
    (folder / "notes.pt").write_text("hello world\n")
    (folder / "empty.pt").write_bytes(b"")
    (folder / "cut.pt").write_bytes((folder / "module.pt").read_bytes()[:300])
    return [folder / n for n in ("module.pt", "notes.pt", "empty.pt", "cut.pt")]


def test_a_file_that_is_not_a_checkpoint_is_named_without_torchs_unsafe_advice(tmp_path):
    for path in _not_checkpoints(tmp_path):
        with pytest.raises(ExportError) as caught:
            read_state_dict(path)
        message = str(caught.value)
        assert f"weights file {path}: not a CNN Designer checkpoint" in message
        assert "last.pt or best.pt" in message
        assert "weights_only" not in message and "trust" not in message
    empty_run = tmp_path / "run"
    empty_run.mkdir()
    with pytest.raises(
        ExportError, match=re.escape(f"training run folder {empty_run}: holds no best.pt")
    ):
        read_state_dict(empty_run)
