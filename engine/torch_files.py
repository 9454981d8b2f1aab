"""Reading PyTorch ``.pt`` files (checkpoints, state dicts) that a person names, safely.

``load_torch_file`` is the one place the program reads such a file; every caller (resuming a
run, exporting with weights, the designer's predictions) goes through it:

- only a regular file is opened (``engine.safe_files``: a FIFO would block the read for ever, a
  device never ends);
- the file must be a zip archive as ``torch.save`` writes it (PyTorch 1.6 and later). Before
  torch reads anything, the archive's declared sizes are checked against the file: torch stores
  every record uncompressed, so a compressed record (which could inflate a small file to
  gigabytes in memory: a "zip bomb"), a record that declares other sizes than it holds, or
  records that add up to more than the file are refused;
- a TorchScript archive (from ``torch.jit.save`` or a TorchScript export) is named as such;
- ``torch.load(weights_only=True)`` reads tensors and plain data only, never running code from
  the file. Its warnings are silenced and its error texts are never passed on: they advise
  ``weights_only=False``, which would run whatever the file holds.

A refusal is a ``TorchFileError`` whose ``reason`` says in plain words what is wrong, for the
caller to put in its own message with its own fix.
"""

from __future__ import annotations

import errno
import os
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import IO, Any

from engine.errors import DesignerError, FileReadError
from engine.safe_files import open_regular_file

__all__ = ["TorchFileError", "archive_problem", "load_torch_file"]


class TorchFileError(DesignerError, ValueError):
    """A ``.pt`` file that is not read; ``reason`` is what is wrong (no fix: callers add theirs).
    ``content`` is False when the file could not be opened at all (missing, no permission, not
    a regular file), True when what it holds was refused."""

    def __init__(self, path: str, reason: str, content: bool = True) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.content = content


def _open_regular(path: str) -> IO[bytes]:
    """``path`` opened for reading when it is a regular file (never blocking on a FIFO, never
    opening a device: see ``engine.safe_files``); TorchFileError otherwise."""
    try:
        return open_regular_file(path, what="weights file")
    except FileReadError as error:
        reason = "not found" if error.errno == errno.ENOENT else error.reason
        raise TorchFileError(path, reason, content=False) from None


def _is_torchscript(names: list[str]) -> bool:
    """Whether the archive's records are TorchScript's (its code and constants)."""
    parts = [name.split("/") for name in names]
    return any(len(p) >= 2 and (p[1] == "constants.pkl" or p[1] == "code") for p in parts)


def archive_problem(archive: zipfile.ZipFile, file_size: int) -> str | None:
    """What is wrong with the records ``archive`` declares, for a file of ``file_size`` bytes
    (None when they are as torch.save writes them). Reads no record."""
    infos = archive.infolist()
    if not infos:
        return "an empty archive, not a file written by torch.save"
    if _is_torchscript([info.filename for info in infos]):
        return (
            "a TorchScript file, written by a TorchScript export or torch.jit.save: it holds "
            "a whole program, not weights, and is not read as weights"
        )
    total = 0
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            return (
                f"its record {info.filename!r} is compressed, to expand to {info.file_size:,} "
                "bytes, which torch.save never does: it is not read, as it could fill the memory"
            )
        if info.file_size != info.compress_size:
            return (
                f"its record {info.filename!r} declares {info.file_size:,} bytes but stores "
                f"{info.compress_size:,}: the file is damaged or was made to mislead"
            )
        if info.header_offset + info.compress_size > file_size:
            return (
                f"its record {info.filename!r} declares {info.compress_size:,} bytes past the "
                f"end of the {file_size:,}-byte file: the file is cut short or damaged"
            )
        total += info.file_size
    if total > file_size:
        return (
            f"its records declare {total:,} bytes in a {file_size:,}-byte file: the file is "
            "damaged or was made to mislead"
        )
    return None


def _load_failure(error: BaseException) -> str:
    """Why ``torch.load(weights_only=True)`` refused a file, in plain words (torch's own
    text is never quoted: it advises an unsafe load)."""
    if isinstance(error, pickle.UnpicklingError):
        return (
            "only tensors and plain data are read from it, for safety, and it holds other "
            "objects, which are never loaded"
        )
    if isinstance(error, EOFError):
        return "the file is cut short"
    if isinstance(error, MemoryError):
        return "it does not fit in memory"
    return "the file is damaged or not written by torch.save"


def load_torch_file(path: str | os.PathLike[str]) -> Any:
    """The contents of a ``.pt`` file written by ``torch.save``: tensors and plain data only,
    on the CPU. Raises TorchFileError saying why not (see the module's docstring)."""
    import torch

    name = os.fspath(Path(path))
    with _open_regular(name) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size == 0:
            raise TorchFileError(name, "the file is empty")
        try:
            with zipfile.ZipFile(stream) as archive:
                problem = archive_problem(archive, size)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
            raise TorchFileError(
                name,
                "not a file written by torch.save (PyTorch 1.6 or later writes a zip archive; "
                "this is not one, or it is damaged)",
            ) from error
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise TorchFileError(name, f"cannot be read ({reason})", content=False) from error
        if problem is not None:
            raise TorchFileError(name, problem)
        stream.seek(0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's warnings advise an unsafe load too
                return torch.load(stream, map_location="cpu", weights_only=True)
        except Exception as error:
            raise TorchFileError(name, _load_failure(error)) from None
