"""The network's real numbers at one block, for the lecture views (Qt-free; imports torch).

A :class:`Probe` is the design compiled into a torch module with the weights of the newest run
of the project that has a checkpoint fitting the design (best.pt, else last.pt), or its initial
weights when there is none (``note`` says which), and the data set of the project's training
settings, prepared the way training prepares it (split, conversion, normalisation) on the CPU.
``block_io`` runs samples through the network and returns what reaches one block, what leaves
it, its module and, with ``grad=True``, the gradient of the loss at the block's output.
Loading takes seconds (torch, the data set): the views call it from a worker thread.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine import DesignerError
from engine.graph import Graph

NO_RUN = "no trained run: initial weights"


@dataclass
class BlockIO:
    """Samples through the network, seen at one block."""

    x: np.ndarray  # (N, *input shape) what reaches the block
    y: np.ndarray  # (N, *output shape) what leaves it
    module: Any  # the block's torch module (trained or initial weights)
    images: np.ndarray  # (N, C, H, W) uint8: the samples as fed, before normalisation
    labels: list[int]
    grad: np.ndarray | None = None  # (N, *output shape): d loss / d output, when asked


def _run_roots(window: Any) -> list[Path]:
    """The runs folders of the design open in ``window`` (newest folder first)."""
    roots = getattr(window, "run_roots", None)
    if roots is not None:
        try:
            return list(roots.all())
        except (AttributeError, OSError):
            return []
    training = getattr(window, "training", None)
    if training is not None:
        return [Path(training.default_run_root())]
    return []


def newest_checkpoint(roots: list[Path]) -> Path | None:
    """The checkpoint of the newest run (of the first folder that has one), or None."""
    from designer.training.predictor import checkpoint_of
    from engine.training.runs import list_runs

    for root in roots:
        for run in reversed(list_runs(root)):
            try:
                return checkpoint_of(run.path)
            except FileNotFoundError:
                continue
    return None


class Probe:
    """The design as a torch module with trained or initial weights, and its data."""

    def __init__(self, graph: Graph, training: dict[str, Any], roots: list[Path]) -> None:
        import torch

        from engine.training import runs
        from engine.training.trainer import Trainer

        settings = dict(training or {})
        data = dict(settings.get("data") or {})
        data["download"] = False  # the views never download: a missing data set is a message
        settings.update(data=data, device="cpu", mixed_precision=False, tensorboard=False)
        self.note = NO_RUN
        checkpoint = newest_checkpoint(roots)
        state = None
        if checkpoint is not None:
            try:
                state = runs.load_checkpoint(checkpoint)
            except DesignerError as error:
                self.note = f"{error}: initial weights"
        self.trainer = Trainer(graph, settings, snapshots=False)
        self.trainer.setup()
        module = self.trainer.module
        if state is not None and checkpoint is not None:
            try:
                module.load_state_dict(state["model"])
                epoch = int(state.get("epoch", 0))
                self.note = f"trained weights of run {checkpoint.parent.name}, epoch {epoch}"
            except RuntimeError:
                self.note = (
                    f"the newest run ({checkpoint.parent.name}) was trained on another version "
                    f"of the design (its weights do not fit): {NO_RUN.split(': ')[1]}"
                )
        module.eval()
        self.classes = tuple(self.trainer.classes)
        self._torch = torch
        self.lock = threading.Lock()

    def _submodule(self, node: str) -> Any:
        for fx_node in self.trainer.module.graph.nodes:
            if fx_node.op == "call_module" and fx_node.meta.get("designer_node") == node:
                return self.trainer.module.get_submodule(fx_node.target)
        raise DesignerError(
            f"{node}: this block has no torch module in the compiled network (bypassed, or "
            "written inline). Received: node={node}. Choose a layer block."
        )

    def block_io(self, node: str, count: int = 1, start: int = 0, grad: bool = False) -> BlockIO:
        """``count`` validation samples from ``start`` through the network, seen at ``node``."""
        trainer = self.trainer
        block = self._submodule(node)
        split = trainer.val_split if trainer.val_split is not None else trainer.train_split
        size = len(split)
        index = [(start + i) % size for i in range(max(1, count))]
        images = split.images[index]
        labels = split.labels[index]
        x_in = trainer.loader.normalize(images)
        seen: dict[str, Any] = {}

        def hook(_module: Any, inputs: tuple[Any, ...], output: Any) -> Any:
            first = output[0] if isinstance(output, tuple) else output  # max pool's indices
            seen["x"] = inputs[0].detach()
            seen["y"] = first
            if grad and first.requires_grad:
                first.retain_grad()
            # the next blocks get a copy: an in-place block after this one (ReLU(inplace))
            # then cannot change the tensor whose gradient is read
            copy = first.clone()
            return (copy, *output[1:]) if isinstance(output, tuple) else copy

        handle = block.register_forward_hook(hook)
        with self.lock:
            return self._run(block, handle, images, labels, x_in, seen, grad)

    def _run(
        self,
        block: Any,
        handle: Any,
        images: Any,
        labels: Any,
        x_in: Any,
        seen: dict[str, Any],
        grad: bool,
    ) -> BlockIO:
        torch, trainer = self._torch, self.trainer
        try:
            with torch.set_grad_enabled(grad):
                scores = trainer.module(x_in)
                if grad:
                    loss = trainer.loss_fn(scores.float(), labels.long())
                    loss.backward()
        finally:
            handle.remove()
            trainer.module.zero_grad(set_to_none=True)
        y = seen["y"]
        g = y.grad.detach().double().numpy() if grad and y.grad is not None else None
        return BlockIO(
            seen["x"].double().numpy(),
            y.detach().double().numpy(),
            block,
            images.cpu().numpy(),
            [int(v) for v in labels.tolist()],
            g,
        )


@dataclass(frozen=True)
class ProbeRequest:
    """What a probe is built from, taken on the UI thread (the worker never reads the live
    document, which the person may be editing)."""

    graph_data: dict[str, Any]
    training: dict[str, Any]
    roots: tuple[Path, ...]

    @classmethod
    def of(cls, window: Any) -> ProbeRequest:
        document = window.document
        training = json.loads(json.dumps(document.project.training or {}, default=str))
        return cls(document.graph.to_data(), training, tuple(_run_roots(window)))

    def key(self) -> str:
        checkpoint = newest_checkpoint(list(self.roots))
        stamp: object = None
        if checkpoint is not None:
            try:
                stamp = (str(checkpoint), checkpoint.stat().st_mtime_ns)
            except OSError:
                stamp = str(checkpoint)
        return json.dumps([self.graph_data, self.training, stamp], sort_keys=True, default=str)


_CACHE: dict[str, Probe] = {}  # one probe: the last design, settings and checkpoint asked for
_CACHE_LOCK = threading.Lock()


def probe_for(request: ProbeRequest) -> Probe:
    """The probe of ``request``: the cached one while the design, its training settings and its
    newest checkpoint are unchanged (built on first use: seconds; call from a worker)."""
    from engine.training.model import graph_from_data

    key = request.key()
    with _CACHE_LOCK:
        if key not in _CACHE:
            probe = Probe(
                graph_from_data(request.graph_data), request.training, list(request.roots)
            )
            _CACHE.clear()
            _CACHE[key] = probe
        return _CACHE[key]
