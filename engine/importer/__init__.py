"""Open an existing PyTorch model as a designer graph, traced with torch.fx.

- ``import_module(module, (3, 224, 224))``: any ``nn.Module`` instance;
- ``import_torchvision("resnet18")``: a torchvision architecture (no weights are downloaded);
- ``import_file("model.py", "Net", (1, 28, 28))``: a class from a Python file. Only that file
  is executed (as a module, so its ``if __name__ == "__main__":`` block does not run); nothing
  else is imported on its behalf except what the file itself imports.

Each returns an ``ImportResult``: the graph, the operations that have no block (``unmapped``, by
name and reason), and ``warnings`` for differences such as shared weights.
"""

from __future__ import annotations

import hashlib
import os
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.errors import FileReadError, UnknownNameError
from engine.importer.trace import ImportResult, ModelImportError, import_module
from engine.safe_files import MIB, read_regular_file

DEFAULT_IMAGE_SHAPE = (3, 224, 224)
SOURCE_MAX_BYTES = 16 * MIB  # a model's source file; the largest in torchvision is about 40 KB


def _build(factory: Any, what: str, meta: bool) -> Any:
    """Call ``factory()`` on the 'meta' device (no weights allocated) when possible."""
    import torch

    if meta:
        try:
            with torch.device("meta"):
                return factory()
        except (Exception, SystemExit):  # some __init__ code needs real tensors: build it normally
            pass
    try:
        return factory()
    except TypeError as error:
        raise ModelImportError(
            f"{what}: cannot be built without arguments ({error}). Import a class whose "
            "__init__ has defaults for every argument, or build it yourself and call "
            "engine.importer.import_module"
        ) from error
    except (Exception, SystemExit) as error:  # the user's own __init__ failed, or exit()ed
        raise ModelImportError(
            f"{what}: building it failed ({type(error).__name__}: {error}). Fix the class's "
            "__init__ so that it builds without arguments"
        ) from error


def import_torchvision(
    name: str,
    input_shape: Sequence[int] = DEFAULT_IMAGE_SHAPE,
    meta: bool = True,
    **options: Any,
) -> ImportResult:
    """A torchvision model (``torchvision.models.get_model(name, weights=None, **options)``)."""
    try:
        import torchvision
    except ImportError as error:
        raise ModelImportError(
            "importing torchvision models needs torchvision: pip install torchvision"
        ) from error
    known = torchvision.models.list_models()
    if name not in known:
        raise UnknownNameError("torchvision model", name, known)
    model = _build(lambda: torchvision.models.get_model(name, weights=None, **options), name, meta)
    return import_module(model, input_shape)


def load_file_module(path: str | os.PathLike[str]) -> Any:
    """Execute the Python file at ``path`` (and only it) as a fresh module and return it.

    The source is read once, from a regular file of at most ``SOURCE_MAX_BYTES`` (a named pipe
    or a device is refused instead of waited on or read without end), and that text is run.
    """
    source = Path(path).resolve()
    if source.suffix != ".py":
        raise ModelImportError(f"{source}: not a Python file (.py). Choose the model's source")
    try:
        code_text = read_regular_file(
            source, SOURCE_MAX_BYTES, "model source", "Give the model's .py file"
        )
    except FileReadError as error:
        raise ModelImportError(str(error)) from error
    digest = hashlib.sha1(str(source).encode()).hexdigest()[:12]
    module_name = f"cnn_designer_import_{digest}"
    module = types.ModuleType(module_name)
    module.__file__ = str(source)
    sys.modules[module_name] = module  # dataclasses and pickling look classes up here
    try:
        exec(compile(code_text, str(source), "exec"), module.__dict__)
    except (Exception, SystemExit) as error:  # SystemExit: a script that calls exit() at the top
        sys.modules.pop(module_name, None)
        raise ModelImportError(
            f"{source.name}: running it failed ({type(error).__name__}: {error})"
        ) from error
    return module


def import_file(
    path: str | os.PathLike[str],
    class_name: str,
    input_shape: Sequence[int] | Sequence[Sequence[int]],
    meta: bool = True,
) -> ImportResult:
    """The ``nn.Module`` class ``class_name`` defined in the Python file ``path``, traced."""
    from torch import nn

    module = load_file_module(path)
    factory = getattr(module, class_name, None)
    if factory is None:
        classes = [
            k for k, v in vars(module).items() if isinstance(v, type) and issubclass(v, nn.Module)
        ]
        raise UnknownNameError(f"model class in {Path(path).name}", class_name, classes)
    model = _build(factory, f"{Path(path).name}: {class_name}", meta)
    if not isinstance(model, nn.Module):
        raise ModelImportError(
            f"{class_name} in {Path(path).name} gives a {type(model).__name__}, not an "
            "nn.Module. Name the model class"
        )
    return import_module(model, input_shape)


__all__ = [
    "DEFAULT_IMAGE_SHAPE",
    "ImportResult",
    "ModelImportError",
    "import_file",
    "import_module",
    "import_torchvision",
    "load_file_module",
]
