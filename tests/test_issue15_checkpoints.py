"""Issue 15 item 23: a "zip bomb" checkpoint, a small ``.pt`` whose storage record inflates to
1.5 GiB of zeros, is refused before torch reads it, by ``train --resume`` and ``export
--weights`` run as a user runs them; the process never grows by the bomb's size.

torch.save writes every record uncompressed (ZIP_STORED); torch's reader would inflate a
deflated one in full before noticing that its size is wrong.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
BOMB_BYTES = 3 * 512 * 1024 * 1024  # 1.5 GiB of zeros
CHUNK = 16 * 1024 * 1024


def deflated_zeros(size: int) -> tuple[bytes, int]:
    """Raw deflate data of ``size`` zero bytes and their CRC-32, made without holding them:
    one chunk compressed with a full flush repeats byte for byte."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(CHUNK)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert again == block
    count, rest = divmod(size, CHUNK)
    assert rest == 0
    tail = compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    return block * count + tail, crc


def write_zip(path: Path, records: list[tuple[str, bytes, int, int, int]]) -> None:
    """A zip archive from (name, data as stored, method, crc, expanded size) records."""
    body, central = io.BytesIO(), io.BytesIO()
    for name, data, method, crc, size in records:
        encoded = name.encode()
        offset = body.tell()
        body.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(encoded),
                0,
            )
            + encoded
            + data
        )
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    directory = central.getvalue()
    end = struct.pack(
        "<IHHHHIIH",
        0x06054B50,
        0,
        0,
        len(records),
        len(records),
        len(directory),
        body.tell(),
        0,
    )
    path.write_bytes(body.getvalue() + directory + end)


def bomb_from(state: dict, path: Path) -> Path:
    """``state`` saved by torch, with its largest storage record swapped for the bomb."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    archive = zipfile.ZipFile(buffer)
    storages = [i for i in archive.infolist() if "/data/" in i.filename]
    largest = max(storages, key=lambda i: i.file_size)
    bomb, crc = deflated_zeros(BOMB_BYTES)
    records = []
    for info in archive.infolist():
        if info is largest:
            records.append((info.filename, bomb, zipfile.ZIP_DEFLATED, crc, BOMB_BYTES))
        else:
            data = archive.read(info)
            records.append((info.filename, data, zipfile.ZIP_STORED, zlib.crc32(data), len(data)))
    write_zip(path, records)
    assert path.stat().st_size < 4 * 1024 * 1024
    with zipfile.ZipFile(path) as written:  # what it declares: 1.5 GiB in a few MB
        assert written.getinfo(largest.filename).file_size == BOMB_BYTES
    return path


def lenet_state() -> dict:
    from engine.compiler import compile_graph
    from presets import PRESETS

    return compile_graph(PRESETS.get("lenet5_digits").create()).state_dict()


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    model = lenet_state()
    checkpoint = {
        "format": "cnn-designer-checkpoint",
        "version": 1,
        "model": model,
        "optimizer": {},
        "epoch": 1,
        "step": 10,
        "best_val_accuracy": 0.5,
        "settings": {},
        "graph": {},
    }
    return {
        "checkpoint": bomb_from(checkpoint, folder / "last.pt"),
        "weights": bomb_from(model, folder / "weights.pt"),
    }


# The child reports its own peak memory: VmHWM belongs to the program it runs after exec, while
# the rusage a parent reads (or ru_maxrss in the child) keeps the size of the process it was
# forked from, which is the whole test session's.
PEAK_REPORTER = """
import atexit, runpy, sys

def report():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    sys.stderr.write(f"\\nPEAK_KB {peak}\\n")

atexit.register(report)
sys.argv = ["cnn-designer", *sys.argv[1:]]
runpy.run_module("designer", run_name="__main__")
"""


def run_measured(args: list[str], cwd: Path) -> tuple[int, str, float, float]:
    """``cnn-designer ARGS``: exit status, output, seconds and peak memory in GiB."""
    out = cwd / "output.txt"
    with open(out, "w") as stream:
        started = time.monotonic()
        process = subprocess.run(
            [sys.executable, "-c", PEAK_REPORTER, *args],
            stdout=stream,
            stderr=stream,
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=600,
        )
    seconds = time.monotonic() - started
    text = out.read_text()
    peak_kb = int(text.rsplit("PEAK_KB ", 1)[1].split()[0])
    return process.returncode, text.rsplit("\nPEAK_KB", 1)[0], seconds, peak_kb / 1024 / 1024


@pytest.mark.parametrize("command", ["resume", "weights"])
def test_a_zip_bomb_checkpoint_is_refused_before_it_is_read(
    bombs: dict[str, Path], tmp_path: Path, command: str
) -> None:
    if command == "resume":
        args = ["train", "--preset", "lenet5_digits", "--data", "digits", "--epochs", "3"]
        args += ["--resume", str(bombs["checkpoint"]), "--out", str(tmp_path / "runs")]
        expected_status, what = 1, f"checkpoint {bombs['checkpoint']}: not a CNN Designer"
    else:
        args = ["export", "--preset", "lenet5_digits", "--format", "python", "-o", "net.py"]
        args += ["--weights", str(bombs["weights"])]
        expected_status, what = 2, f"weights file {bombs['weights']}: not a CNN Designer"
    status, output, seconds, peak_gib = run_measured(args, tmp_path)
    assert status == expected_status, output
    assert what in output and "is compressed, to expand to 1,610,612,736 bytes" in output, output
    assert "Traceback" not in output and "weights_only" not in output
    assert peak_gib < 1.2, f"the process reached {peak_gib:.2f} GiB"
    assert seconds < 120
    assert not (tmp_path / "runs").exists() and not (tmp_path / "net.py").exists()
