"""The canvas scene's collapsed groups and the frames drawn around open groups.

``sync_groups`` and ``sync_frames`` bring those items in line with the graph after a structural
change; ``place_group`` and ``update_frames`` follow the blocks when they move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF

from designer.canvas.items import FrameItem, GroupItem
from engine import group_prefixes
from engine.layout import Unit, enclosing_groups

if TYPE_CHECKING:
    from designer.canvas.scene import CanvasScene


def sync_groups(scene: CanvasScene, units: dict[str, Unit]) -> None:
    """Add, remove and place the collapsed groups' items to match ``units``."""
    shown = {unit[1] for unit in units.values() if unit[0] == "group"}
    for group, item in list(scene.groups.items()):
        if group not in shown:
            scene.removeItem(item)
            del scene.groups[group]
    for group in sorted(shown):
        item = scene.groups.get(group)
        if item is None:
            item = scene.groups[group] = GroupItem(group, [])
            scene.addItem(item)
        item.members = list(scene.members[group])
        item.across = scene.across
        place_group(scene, item)


def place_group(scene: CanvasScene, item: GroupItem) -> None:
    """Put a collapsed group's item at the top left of its members' positions."""
    points = [scene.document.position(m) for m in item.members]
    known = [p for p in points if p is not None] or [(0.0, 0.0)]
    item.move_to(QPointF(min(p[0] for p in known), min(p[1] for p in known)))


def sync_frames(scene: CanvasScene, units: dict[str, Unit]) -> None:
    """Add and remove the frames of the open groups, and measure how deep they nest."""
    collapsed = scene.document.collapsed
    open_groups = [
        g
        for g in scene.members
        if not any(prefix in collapsed for prefix in group_prefixes(tuple(g.split("."))))
    ]
    keep = set(open_groups)
    for group, item in list(scene.frames.items()):
        if group not in keep:
            scene.removeItem(item)
            del scene.frames[group]
    for group in open_groups:
        if group not in scene.frames:
            item = scene.frames[group] = FrameItem(group, group.count("."))
            scene.addItem(item)
    # how deep the open groups inside each frame nest: from each frame up to its
    # enclosing ones (comparing every frame with every other took minutes for 5,600)
    scene._nesting = dict.fromkeys(scene.frames, 0)
    for group in scene.frames:
        depth = group.count(".")
        for outer in enclosing_groups(group):
            if outer in scene._nesting:
                inner = depth - outer.count(".")
                scene._nesting[outer] = max(scene._nesting[outer], inner)
    update_frames(scene, None)


def update_frames(scene: CanvasScene, groups: set[str] | None) -> None:
    """Fit the frames of ``groups`` (every frame when None) around their members."""
    targets = scene.frames if groups is None else {g for g in groups if g in scene.frames}
    for group in targets:
        frame = scene.frames[group]
        rect = QRectF()
        for unit in {scene.units[m] for m in scene.members[group]}:
            box = scene.nodes.get(unit[1]) if unit[0] == "node" else scene.groups.get(unit[1])
            if box is not None:
                rect = rect.united(box.scene_rect())
        frame.set_bounds(rect, scene._nesting.get(group, 0))
