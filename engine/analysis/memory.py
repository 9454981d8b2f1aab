"""The memory planner: how many bytes a design needs to train and to run, and the largest batch
that fits a device (issue 20).

Counted per block and in total, for a batch size, an optimiser and a precision:

- weights and gradients: one value per parameter each (float32; bfloat16 under ``bf16``;
  float32 master weights and gradients under ``amp``);
- optimiser state: buffers per parameter (``OPTIMIZER_BUFFERS``) of the weights' dtype;
- activations: the tensors autograd keeps for the backward pass, by the measured table of
  ``engine.analysis.memory_rules``, each distinct storage once (a ReLU's output that the next
  convolution keeps as its input is counted once, for the ReLU) and given to the block that
  makes it; the input batch is not an activation;
- the transient: the input batch plus, during backward, the gradients of the largest block's
  inputs and outputs at once (an approximation of the peak above what is kept);
- inference (evaluation, no gradients): the weights plus the largest set of tensors alive at
  once along the topological order (a tensor lives from the block that makes it to its last
  reader).

Precision: ``fp32`` everything in float32; ``bf16`` the model and its input cast to bfloat16 (two
bytes per value, the optimiser state too); ``amp`` fp16 autocast with float32 master weights:
convolutions and Linear give half outputs and keep a half copy of a float32 input and of their
weight, Softmax/LogSoftmax give float32, other blocks follow their input's dtype, Add and
Concat the widest. Indices are int64; a dropout mask takes one byte on CUDA, the activation's
dtype on the CPU (``device="cpu"``). Not counted: BatchNorm's running statistics (buffers), the
CUDA context and the allocator's caching, which together often take 0.5-1 GiB of a card.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from engine.analysis.memory_rules import (
    EVAL_IDENTITY,
    FLOAT_OPS,
    HALF_OPS,
    INDEX,
    INPUT,
    MASK,
    OUTPUT,
    STAT,
    VIEWS,
    Saved,
    saved_for_backward,
)
from engine.bypass import has_bypassed, without_bypassed
from engine.catalog import CATALOG, Shape
from engine.errors import DesignerError
from engine.graph import Graph
from engine.inference import InferenceResult, infer

PRECISIONS = ("fp32", "bf16", "amp")
OPTIMIZER_NAMES = ("sgd", "adam", "adamw", "rmsprop")
DEVICES = ("cuda", "cpu")
MAX_BATCH_LIMIT = 2**40  # a batch beyond this is reported as this (a design of no activations)

Key = tuple[str, str]  # (node, port) of an output; (node, "#n") of a block's own tensor


class MemoryPlanError(DesignerError, ValueError):
    """A design or a setting the memory planner cannot plan for."""


def optimizer_buffers(optimizer: str, momentum: float = 0.9) -> int:
    """State tensors per parameter: SGD none (one with momentum), Adam/AdamW two (the moving
    averages of the gradient and its square), RMSprop one (two with momentum)."""
    if optimizer not in OPTIMIZER_NAMES:
        raise MemoryPlanError(
            f"memory planner: unknown optimiser. Received: optimizer={optimizer!r}. "
            f"Choose one of {', '.join(OPTIMIZER_NAMES)}"
        )
    with_momentum = 1 if momentum > 0 else 0
    return {"sgd": with_momentum, "adam": 2, "adamw": 2, "rmsprop": 1 + with_momentum}[optimizer]


@dataclass
class _Tensor:
    """A storage: its values per sample and in all, its bytes per value, who makes it."""

    per_sample: int
    fixed: int
    width: int
    owner: str

    def bytes(self, batch: int) -> int:
        return (self.per_sample * batch + self.fixed) * self.width


@dataclass(frozen=True)
class LayerMemory:
    """One block: its weights' bytes, the activation bytes it makes at the plan's batch, and
    those per sample and independent of the batch (to evaluate other batches)."""

    name: str
    type_id: str
    weights: int
    activations: int
    per_sample: int = 0
    fixed: int = 0


@dataclass(frozen=True)
class MemoryPlan:
    """The planner's answer for one batch, optimiser and precision (all sizes in bytes)."""

    batch: int
    optimizer: str
    precision: str
    weights: int
    gradients: int
    optimizer_state: int
    activations: int
    transient: int
    total_training: int
    total_inference: int
    layers: list[LayerMemory]
    device_memory: int | None = None
    max_batch: int | None = None
    # what a further sample adds, and what does not grow with the batch (training / inference)
    training_slope: int = field(default=0, repr=False)
    training_base: int = field(default=0, repr=False)
    inference_slope: int = field(default=0, repr=False)
    inference_base: int = field(default=0, repr=False)

    def training_at(self, batch: int) -> int:
        """The training estimate at another batch size."""
        return self.training_base + self.training_slope * batch

    def inference_at(self, batch: int) -> int:
        """The inference estimate at another batch size."""
        return self.inference_base + self.inference_slope * batch

    def fits(self, batch: int) -> bool:
        """Whether training at ``batch`` fits the device memory (False without one)."""
        return self.device_memory is not None and self.training_at(batch) <= self.device_memory

    def to_json(self) -> dict[str, Any]:
        """The JSON the command line prints: every size in bytes."""
        return {
            "batch": self.batch,
            "optimizer_name": self.optimizer,
            "precision": self.precision,
            "weights": self.weights,
            "gradients": self.gradients,
            "optimizer": self.optimizer_state,
            "activations": self.activations,
            "transient": self.transient,
            "total_training": self.total_training,
            "total_inference": self.total_inference,
            "device_memory": self.device_memory,
            "max_batch": self.max_batch,
            "layers": [
                {
                    "name": layer.name,
                    "type": layer.type_id,
                    "weights": layer.weights,
                    "activations": layer.activations,
                }
                for layer in self.layers
            ],
        }


def _widths(precision: str, device: str) -> dict[str, int]:
    """Bytes per value of each kind of tensor."""
    act = 2 if precision in ("bf16", "amp") else 4
    return {
        "act": act,
        "weight": 2 if precision == "bf16" else 4,
        INDEX: 8,
        STAT: 2 if precision == "bf16" else 4,
        MASK: 1 if device == "cuda" else act,
    }


class _Walk:
    """One pass over an inferred, bypass-free design collecting its storages."""

    def __init__(self, graph: Graph, result: InferenceResult, precision: str, device: str):
        self.graph, self.result, self.precision = graph, result, precision
        self.width = _widths(precision, device)
        self.alias: dict[Key, Key] = {}
        self.made: dict[Key, _Tensor] = {}  # every output storage
        self.saved: dict[Key, _Tensor] = {}  # those kept for backward
        self.grad: dict[Key, bool] = {}
        self.ports: dict[str, tuple[str, ...]] = {}
        self.transient = 0  # per sample: the largest block's inputs plus outputs
        self.inputs = 0  # per sample: the input batch

    def key(self, node: str, port: str) -> Key:
        key = (node, port)
        while key in self.alias:
            key = self.alias[key]
        return key

    def in_keys(self, name: str) -> dict[str, Key]:
        return {e.dst_port: self.key(e.src, e.src_port) for e in self.graph.in_edges(name)}

    def run(self) -> None:
        for name in self.result.order:
            self.visit(name)

    def visit(self, name: str) -> None:
        node = self.graph.node(name)
        spec = CATALOG.get(node.type_id)
        params = spec.with_defaults(node.params)
        found = self.result.nodes[name]
        ins = [s for s in found.inputs if s is not None]
        ports = spec.outputs(params) if node.type_id != "output" else ()
        outs: list[Shape] = [s for p in ports if (s := found.outputs.get(p)) is not None]
        self.ports[name] = tuple(ports)
        sources = self.in_keys(name)
        keys = list(sources.values())
        needs_grad = bool(found.params) or any(self.grad.get(k, False) for k in keys)
        widths = [self.made[k].width for k in keys if k in self.made] or [self.width["act"]]
        out_width = self.output_width(node.type_id, widths)
        for port, shape in zip(ports, outs, strict=False):
            key = (name, port)
            if node.type_id in VIEWS:
                self.alias[key] = keys[0]
                continue
            width = self.width[INDEX] if port == "indices" else out_width
            self.made[key] = _Tensor(math.prod(shape), 0, width, name)
            self.grad[key] = needs_grad and port != "indices"
            if node.type_id == "input":
                self.inputs += self.made[key].bytes(1)
        moved = sum(self.made[k].bytes(1) for k in keys if k in self.made)
        moved += sum(self.made[(name, p)].bytes(1) for p in ports if (name, p) in self.made)
        self.transient = max(self.transient, moved)
        if needs_grad:
            self.keep(name, node.type_id, params, ins, outs, sources, found.params or 0)

    def output_width(self, type_id: str, in_widths: list[int]) -> int:
        if self.precision != "amp":
            return self.width["act"]
        if type_id in HALF_OPS:
            return 2
        if type_id in FLOAT_OPS or type_id == "input":
            return 4
        return max(in_widths)

    def keep(
        self,
        name: str,
        type_id: str,
        params: dict[str, Any],
        ins: list[Any],
        outs: list[Any],
        sources: dict[str, Key],
        count: int,
    ) -> None:
        """Record what the block keeps for backward."""
        spec = CATALOG.get(type_id)
        rule = saved_for_backward(type_id, params, ins, outs)
        if rule is None:  # a type the table lacks: count its inputs and outputs
            rule = [Saved(INPUT, index=i) for i in range(len(ins))] + [Saved(OUTPUT)]
        ports = spec.input_ports(len(sources))
        for number, item in enumerate(rule):
            if item.what == INPUT:
                port = ports[item.index] if item.index < len(ports) else f"in{item.index}"
                key = sources.get(port)
                if key is None or key not in self.made:
                    continue
                tensor = self.made[key]
                if self.precision == "amp" and type_id in HALF_OPS and tensor.width == 4:
                    key, tensor = (name, "#half_in"), _Tensor(tensor.per_sample, 0, 2, name)
                self.saved.setdefault(key, tensor)
            elif item.what == OUTPUT and (name, item.port) in self.made:
                key = self.key(name, item.port)
                self.saved.setdefault(key, self.made[key])
            else:
                width = self.width[item.kind] if item.kind != "act" else self.width["act"]
                if item.kind == "act" and outs and (name, "out") in self.made:
                    width = self.made[(name, "out")].width
                elements = item.elements
                tensor = _Tensor(elements if item.per_sample else 0, 0, width, name)
                if not item.per_sample:
                    tensor.fixed = elements
                extra_key = (name, item.port) if item.what == OUTPUT else (name, f"#{number}")
                self.saved.setdefault(extra_key, tensor)
                self.made.setdefault(extra_key, tensor)
        if self.precision == "amp" and type_id in HALF_OPS:  # the half copy of the weight
            bias = outs[0][0] if params.get("bias") and outs else 0
            self.saved[(name, "#half_w")] = _Tensor(0, count - bias, 2, name)

    def inference_peak(self) -> int:
        """Per sample: the most bytes alive at once in evaluation (no gradients): a tensor lives
        from the block that makes it to its last reader; the design's outputs to the end."""
        order = self.result.order
        alias: dict[Key, Key] = {}

        def resolve(key: Key) -> Key:
            key = self.key(*key)
            while key in alias:
                key = alias[key]
            return key

        last: dict[Key, int] = {}
        for step, name in enumerate(order):
            sources = [resolve(k) for k in self.in_keys(name).values()]
            type_id = self.graph.node(name).type_id
            if type_id in EVAL_IDENTITY and sources:
                alias[(name, "out")] = sources[0]
            for key in sources:
                last[key] = len(order) if type_id == "output" else step
        peak = live = 0
        ending: dict[int, int] = {}
        for step, name in enumerate(order):
            for port in self.ports.get(name, ()):
                key = (name, port)
                if key in alias or key in self.alias or key not in self.made:
                    continue
                size = self.made[key].bytes(1)
                live += size
                end = last.get(key, step)
                ending[end] = ending.get(end, 0) + size
            peak = max(peak, live)
            live -= ending.pop(step, 0)
        return peak


def _check(batch: int, optimizer: str, precision: str, device: str) -> None:
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise MemoryPlanError(
            f"memory planner: the batch size must be a whole number of at least 1. Received: "
            f"batch={batch!r}. Use e.g. 32"
        )
    if precision not in PRECISIONS:
        raise MemoryPlanError(
            f"memory planner: unknown precision. Received: precision={precision!r}. Choose one "
            f"of {', '.join(PRECISIONS)}"
        )
    if device not in DEVICES:
        raise MemoryPlanError(
            f"memory planner: unknown device kind. Received: device={device!r}. Choose one of "
            f"{', '.join(DEVICES)}"
        )
    optimizer_buffers(optimizer)


def max_batch_for(plan: MemoryPlan, memory: int) -> int:
    """The largest batch whose training estimate fits ``memory`` bytes (0: not even one).

    The estimate is linear in the batch: solved, then checked at the answer and one above."""
    if plan.training_at(1) > memory:
        return 0
    if plan.training_slope <= 0:
        return MAX_BATCH_LIMIT
    batch = min((memory - plan.training_base) // plan.training_slope, MAX_BATCH_LIMIT)
    for _ in range(3):  # integer arithmetic: at most a step off either way
        if plan.training_at(batch) > memory:
            batch -= 1
        elif batch < MAX_BATCH_LIMIT and plan.training_at(batch + 1) <= memory:
            batch += 1
    return max(batch, 0)


def plan_memory(
    graph: Graph,
    batch: int,
    optimizer: str = "adam",
    precision: str = "fp32",
    *,
    momentum: float = 0.9,
    device: str = "cuda",
    device_memory: int | None = None,
    result: InferenceResult | None = None,
) -> MemoryPlan:
    """The memory plan of ``graph`` (which must infer without errors) at ``batch``.

    ``device_memory`` (bytes) adds ``max_batch``; ``device`` "cpu" counts dropout masks as the
    CPU keeps them (the activation's dtype rather than one byte)."""
    _check(batch, optimizer, precision, device)
    result = result or infer(graph)
    if not result.ok:
        first = " ".join(result.errors[0].message.split())
        raise MemoryPlanError(
            f"memory planner: the design has {len(result.errors)} error(s), so its memory "
            f"cannot be planned; fix them first (the first: {first})"
        )
    if has_bypassed(graph):  # a bypassed block is identity, as in the compiled model
        graph = without_bypassed(graph)
        result = infer(graph)
    walk = _Walk(graph, result, precision, device)
    walk.run()
    widths = walk.width
    owned: dict[str, tuple[int, int]] = {}
    for key, tensor in walk.saved.items():
        if graph.node(tensor.owner).type_id == "input" and key[1] == "out":
            continue  # the input batch is not an activation
        per, fixed = owned.get(tensor.owner, (0, 0))
        owned[tensor.owner] = (
            per + tensor.per_sample * tensor.width,
            fixed + tensor.fixed * tensor.width,
        )
    layers = []
    for name in result.order:
        per, fixed = owned.get(name, (0, 0))
        count = result.nodes[name].params or 0
        layers.append(
            LayerMemory(
                name=name,
                type_id=graph.node(name).type_id,
                weights=count * widths["weight"],
                activations=per * batch + fixed,
                per_sample=per,
                fixed=fixed,
            )
        )
    count = sum(result.nodes[n].params or 0 for n in result.order)
    weights = count * widths["weight"]
    state = optimizer_buffers(optimizer, momentum) * weights
    act_slope = sum(layer.per_sample for layer in layers)
    act_base = sum(layer.fixed for layer in layers)
    transient_slope = walk.inputs + walk.transient
    training_base = 2 * weights + state + act_base
    training_slope = act_slope + transient_slope
    plan = MemoryPlan(
        batch=batch,
        optimizer=optimizer,
        precision=precision,
        weights=weights,
        gradients=weights,
        optimizer_state=state,
        activations=act_slope * batch + act_base,
        transient=transient_slope * batch,
        total_training=training_base + training_slope * batch,
        total_inference=weights + walk.inference_peak() * batch,
        layers=layers,
        device_memory=device_memory,
        training_slope=training_slope,
        training_base=training_base,
        inference_slope=walk.inference_peak(),
        inference_base=weights,
    )
    if device_memory is None:
        return plan
    from dataclasses import replace

    return replace(plan, max_batch=max_batch_for(plan, device_memory))
