"""The memory plan as text for a person: a per-layer table and the totals in readable units."""

from __future__ import annotations

from engine.analysis.memory import MemoryPlan
from engine.analysis.memory_sizes import format_bytes

_PRECISION = {
    "fp32": "float32",
    "bf16": "bfloat16",
    "amp": "fp16 mixed (float32 weights)",
}


def plan_text(plan: MemoryPlan) -> str:
    """The table of layers with activations or weights, then the totals."""
    rows = [layer for layer in plan.layers if layer.activations or layer.weights]
    width = max([len("layer"), *(len(layer.name) for layer in rows)])
    lines = [f"{'layer':<{width}}  {'type':<20} {'weights':>12} {'activations':>12}"]
    for layer in rows:
        lines.append(
            f"{layer.name:<{width}}  {layer.type_id:<20} {format_bytes(layer.weights):>12} "
            f"{format_bytes(layer.activations):>12}"
        )
    lines.append("")
    lines.append(
        f"batch {plan.batch}, optimiser {plan.optimizer}, precision "
        f"{_PRECISION.get(plan.precision, plan.precision)}"
    )
    for label, value in (
        ("weights", plan.weights),
        ("gradients", plan.gradients),
        ("optimiser state", plan.optimizer_state),
        ("activations kept for backward", plan.activations),
        ("transient (input batch, gradients in flight)", plan.transient),
        ("total to train", plan.total_training),
        ("total to run (inference)", plan.total_inference),
    ):
        lines.append(f"  {label + ':':<46}{format_bytes(value):>12}")
    if plan.device_memory is not None:
        device = format_bytes(plan.device_memory)
        if plan.max_batch:
            verdict = "fits" if plan.fits(plan.batch) else "does NOT fit"
            lines.append(
                f"  largest batch that fits {device}: {plan.max_batch:,} (batch {plan.batch} "
                f"{verdict}; the CUDA context and allocator cache need some of it too)"
            )
        else:
            lines.append(
                f"  not even a batch of 1 fits {device}: use a smaller design, --precision amp "
                "or bf16, or an optimiser with less state (sgd)"
            )
    return "\n".join(lines)
