"""Bypassed blocks on the canvas, and label updates limited to what an edit changed.

A bypassed block is drawn faded, its last line saying that it passes its input through. Its
flag lives in the engine (``Graph.set_bypassed``); toggling it is one undo step.

``update_changed_texts`` brings the labels up to date after an incremental inference
(``InferenceResult.changed``): only the blocks whose result, messages or settings changed, the
wires leaving them, and the groups and frames holding them, instead of every item of a
5,000-block design.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from designer.canvas.content import group_content, node_content
from designer.canvas.items import NodeItem
from engine import DesignerError, Diagnostic, InferenceResult, Node, fmt_shape, group_prefixes
from engine.inference import NodeResult

if TYPE_CHECKING:
    from designer.canvas.scene import CanvasScene
    from designer.document import Document

BYPASSED_OPACITY = 0.4
BYPASSED_DETAIL = "bypassed: passes its input through"


def show_node(
    item: NodeItem, node: Node, result: NodeResult | None, diagnostics: list[Diagnostic]
) -> int:
    """Show ``node``'s texts on ``item``, faded when it is bypassed; 1 when anything changed."""
    content = node_content(node, result, diagnostics)
    if node.bypassed:
        content = replace(content, detail=BYPASSED_DETAIL, kind=f"{content.kind} (bypassed)")
    changed = item.set_content(content)
    opacity = BYPASSED_OPACITY if node.bypassed else 1.0
    if item.opacity() != opacity:
        item.setOpacity(opacity)
        changed = True
    return int(changed)


def changed_since_shown(result: InferenceResult, shown: InferenceResult | None) -> Any:
    """The nodes whose labels may differ from those of ``shown``, or None when every label must
    be checked (a full inference, or a result not derived from the one shown)."""
    if result.changed is None or result.base is None or shown is None:
        return None
    return result.changed if result.base() is shown else None


def update_changed_texts(scene: CanvasScene, result: InferenceResult, names: Iterable[str]) -> int:
    """Update the labels that depend on ``names``; returns how many items changed."""
    graph = scene.document.graph
    names = {n for n in names if n in graph}
    by_node: dict[str, list[Diagnostic]] = {}
    for diagnostic in result.diagnostics:
        if diagnostic.node in names:
            by_node.setdefault(diagnostic.node, []).append(diagnostic)
    changed = 0
    groups: set[str] = set()
    frames: set[str] = set()
    for name in names:
        node = graph.node(name)
        item = scene.nodes.get(name)
        if item is not None:
            changed += show_node(item, node, result.nodes.get(name), by_node.get(name, []))
        frames.update(group_prefixes(node.group))
        unit = scene.units.get(name)
        if unit is not None and unit[0] == "group":
            groups.add(unit[1])
        for edge in graph.out_edges(name):
            wire = scene.edges.get(edge)
            if wire is not None:
                changed += wire.set_label(fmt_shape(result.edge_shape(edge)))
            target = scene.units.get(edge.dst)
            if target is not None and target[0] == "group":
                groups.add(target[1])  # its boundary shapes read this node's output
    for group in groups:
        box = scene.groups.get(group)
        if box is None:
            continue
        inputs, outputs = scene._boundary.get(group, ([], []))
        diagnostics = [d for d in result.diagnostics if d.node in set(box.members)]
        content = group_content(group, box.members, result, inputs, outputs, diagnostics)
        changed += box.set_content(content)
    for group in frames:
        frame = scene.frames.get(group)
        if frame is not None:
            total = result.groups.get(group)
            params = "?" if total is None or total.params is None else f"{total.params:,}"
            frame.set_title(f"{group} · {params} params")
    return changed


def toggle_bypass(document: Document) -> str | None:
    """Bypass the selected blocks, or restore them when all are bypassed (one undo step);
    returns the refusal to show, or None."""
    names = list(document.selection)
    if not names:
        return "Select the blocks to bypass first"
    try:
        document.toggle_bypass(names)
    except DesignerError as error:
        return f"Cannot bypass: {error}"
    return None
