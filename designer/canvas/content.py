"""What blocks, groups and wires say: texts computed from the graph and the inference result.

Plain functions without Qt items, so the scene can compare the new texts with the shown ones
and repaint only what changed.
"""

from __future__ import annotations

from designer.canvas.items import Content
from engine import CATALOG, Diagnostic, Edge, InferenceResult, Node, Severity, fmt_shape
from engine.inference import NodeResult


def count_text(params: int | None) -> str:
    """Parameter count as the canvas writes it."""
    if params is None:
        return "? params"
    if params == 0:
        return "no parameters"
    return f"{params:,} params"


def severity_of(diagnostics: list[Diagnostic]) -> str:
    """ "error", "warning" or "" for the worst of ``diagnostics``."""
    if any(d.severity is Severity.ERROR for d in diagnostics):
        return "error"
    return "warning" if diagnostics else ""


def node_ports(node: Node, in_ports: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Input and output ports to draw: ``in_ports`` are those wired now (Add, Concat show one
    free port beyond them)."""
    if node.type_id not in CATALOG:
        return tuple(in_ports), ("out",)
    spec = CATALOG.get(node.type_id)
    try:
        outputs = tuple(spec.outputs(spec.with_defaults(node.params)))
    except Exception:  # a bad parameter value must not hide the node's ports
        outputs = tuple(spec.outputs(spec.defaults()))
    if not spec.variadic:
        return tuple(spec.inputs), outputs
    taken = sorted(set(in_ports), key=lambda p: int(p[2:]) if p[2:].isdigit() else 0)
    free = next(p for p in (f"in{i}" for i in range(len(taken) + 1)) if p not in taken)
    ports = sorted([*taken, free], key=lambda p: int(p[2:]) if p[2:].isdigit() else 0)
    return tuple(ports), outputs


def node_content(node: Node, result: NodeResult | None, diagnostics: list[Diagnostic]) -> Content:
    """Name, type and key parameters, parameter count, severity and tooltip of one block."""
    if node.type_id not in CATALOG:
        subtitle, description, kind = node.type_id, "unknown block type", node.type_id
    else:
        spec = CATALOG.get(node.type_id)
        try:
            label = spec.label(spec.with_defaults(node.params))
        except Exception:  # a bad value the inspector has not fixed yet
            label = ""
        subtitle = f"{spec.display_name} · {label}" if label else spec.display_name
        description, kind = spec.description, spec.display_name
    if node.type_id == "output":
        shape = result.inputs[0] if result is not None and result.inputs else None
        detail = f"returns {fmt_shape(shape)}"
    else:
        detail = count_text(None if result is None else result.params)
    tooltip = "\n".join(d.message for d in diagnostics) or f"{node.name}: {description}"
    severity = severity_of(diagnostics)
    if not severity and result is not None and result.error:
        # a member of a cycle: the cycle is reported once, on its first block (see Problems)
        severity = "error"
        tooltip = f"{node.name}: part of a cycle or another error reported in Problems"
    return Content(node.name, subtitle, detail, severity, tooltip, kind)


def shapes_text(shapes: list[str]) -> str:
    """Distinct shapes joined by commas ("?" when there are none)."""
    return ", ".join(dict.fromkeys(shapes)) or "?"


def group_content(
    group: str,
    members: list[str],
    result: InferenceResult,
    inputs: list[Edge],
    outputs: list[Edge],
    diagnostics: list[Diagnostic],
) -> Content:
    """A collapsed group: its name, size and parameter total, and its in → out shapes."""
    total = result.groups.get(group)
    params = count_text(total.params if total is not None else None)
    shapes_in = shapes_text([fmt_shape(result.edge_shape(e)) for e in inputs])
    shapes_out = shapes_text([fmt_shape(result.edge_shape(e)) for e in outputs])
    messages = [d.message for d in diagnostics]
    hint = "double-click to expand"
    tooltip = "\n".join([*messages[:8], hint]) if messages else f"group {group}: {hint}"
    return Content(
        group,
        f"{len(members)} blocks · {params}",
        f"{shapes_in} → {shapes_out}",
        severity_of(diagnostics),
        tooltip,
        f"{len(members)} blocks",
    )
