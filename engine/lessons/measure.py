"""What the experiments compare besides the curves, measured from a finished run (torch).

``measure_run(run_dir)`` rebuilds the run's model on the CPU from its last checkpoint (the
graph and settings it was trained with), runs one training batch forward and backward, and
writes ``lesson_measure.json`` in the run folder: the L2 norm of each layer's parameter
gradients, in evaluation order (what vanishes with the sigmoid), and the first convolution's
filters (what dropout changes). The comparison window reads that file, never torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MEASURE_FILE = "lesson_measure.json"
BATCH = 64  # images of the training split in the measured batch


def measure_run(run_dir: str | Path) -> dict[str, Any]:
    """Measure the run in ``run_dir`` and write ``lesson_measure.json`` there; returns it."""
    import torch
    from torch import nn

    from engine.training import runs
    from engine.training.trainer import Trainer

    folder = Path(run_dir)
    state = runs.load_checkpoint(folder / "last.pt")
    settings = dict(state["settings"])
    settings.update(device="cpu", mixed_precision=False)
    trainer = Trainer(state["graph"], settings, snapshots=False)
    trainer.setup()
    model = trainer.module
    model.load_state_dict(state["model"])
    model.train()
    split = trainer.train_split
    x = trainer.loader.normalize(split.images[:BATCH])
    y = split.labels[:BATCH]
    torch.manual_seed(0)  # the same dropout masks for every variant
    model.zero_grad(set_to_none=True)
    trainer.loss_fn(model(x).float(), y).backward()
    norms: dict[str, float] = {}
    filters: list[Any] | None = None
    filters_of = None
    for name, module in model.named_modules():
        grads = [p.grad for p in module.parameters(recurse=False) if p.grad is not None]
        if name and grads:
            norms[name] = float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])))
        if filters is None and isinstance(module, nn.Conv2d):
            filters = module.weight.detach()[:, 0].tolist()  # out × kh × kw, first input channel
            filters_of = name
    record = {"grad_norms": norms, "filters": filters, "filters_of": filters_of}
    runs.write_json(folder / MEASURE_FILE, record)
    return record


def read_measure(run_dir: str | Path) -> dict[str, Any] | None:
    """The run's ``lesson_measure.json`` (None when missing or unreadable)."""
    try:
        data = json.loads((Path(run_dir) / MEASURE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
