"""Validation in evaluation mode: loss, accuracy, confusion matrix, misclassified samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from engine.data.pipeline import BatchLoader
from engine.training.distributed import DistContext, all_sum
from engine.training.events import Misclassified


@dataclass(frozen=True)
class Evaluation:
    loss: float
    accuracy: float
    confusion: np.ndarray
    per_class_accuracy: np.ndarray
    misclassified: tuple[Misclassified, ...]


def evaluate(
    model: nn.Module,
    loader: BatchLoader,
    loss_fn: object,
    classes: int,
    *,
    misclassified: int = 16,
    autocast: object = None,
    ctx: DistContext | None = None,
) -> Evaluation:
    """Run ``loader`` through ``model`` in eval mode (dropout off, BatchNorm running statistics),
    restoring the model's previous mode afterwards. Sums are combined over processes."""
    ctx = ctx or DistContext()
    device = loader.split.images.device
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    confusion = torch.zeros(classes * classes, dtype=torch.int64, device=device)
    wrong: list[Misclassified] = []
    offset = 0
    try:
        with torch.no_grad():
            for x, y in loader:
                if autocast is not None:
                    with autocast:  # type: ignore[attr-defined]
                        out = model(x)
                else:
                    out = model(x)
                out = out.float()
                loss_sum += loss_fn(out, y).double() * len(y)  # type: ignore[operator]
                pred = out.argmax(1)
                confusion += torch.bincount(y * classes + pred, minlength=classes * classes)
                if len(wrong) < misclassified:
                    bad = (pred != y).nonzero().flatten()[: misclassified - len(wrong)]
                    if len(bad):
                        probs = out[bad].softmax(1)
                        for i, p in zip(bad.tolist(), probs, strict=True):
                            index = offset + i
                            wrong.append(
                                Misclassified(
                                    index * ctx.world_size + ctx.rank,
                                    loader.split.images[index].cpu().numpy(),
                                    int(y[i]),
                                    int(pred[i]),
                                    float(p.max()),
                                )
                            )
                offset += len(y)
    finally:
        model.train(was_training)
    totals = all_sum(torch.cat([loss_sum.view(1).double(), confusion.double()]), ctx)
    matrix = totals[1:].round().long().view(classes, classes).cpu().numpy()
    count = int(matrix.sum())
    rows = matrix.sum(1)
    per_class = np.divide(np.diag(matrix), rows, out=np.full(classes, np.nan), where=rows > 0)
    return Evaluation(
        loss=float(totals[0]) / max(count, 1),
        accuracy=float(np.trace(matrix)) / max(count, 1),
        confusion=matrix,
        per_class_accuracy=per_class,
        misclassified=tuple(wrong),
    )
