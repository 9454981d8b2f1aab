"""A design diff as JSON (and back) and as text for a person.

JSON: ``{"added": [names], "removed": [names], "changed": [{"node", "params": {key: [old,
new]}, "bypassed": [old, new]?}], "rewired": [{"change": "added"|"removed", "wire": [src,
src_port, dst, dst_port]}], "renamed": [[old, new]], "retyped": [{"node", "type": [old, new],
"params": {key: [old, new]}, "bypassed": [old, new]?}], "regrouped": [{"node", "group": [old,
new]}], "added_blocks": [{"name", "type", "params", "group", "bypassed"}], "totals": {"params":
[a, b], "macs": [a, b]}}``. Removed blocks and removed wires carry A's names, the rest B's; a
group is its dotted name ("" for none). ``added_blocks`` holds what ``apply_diff`` needs to build
the added blocks, so the JSON replays as well as the object does.
"""

from __future__ import annotations

from typing import Any

from engine.diff import DesignDiff, NodeChange, Retyped, Wire
from engine.errors import DesignerError
from engine.graph import GroupPath, Node


def _pairs(params: dict[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    return {key: [old, new] for key, (old, new) in params.items()}


def _group(path: GroupPath) -> str:
    return ".".join(path)


def diff_to_json(diff: DesignDiff) -> dict[str, Any]:
    """The diff as plain JSON data (see the module's docstring)."""
    changed: list[dict[str, Any]] = []
    for change in diff.changed:
        item: dict[str, Any] = {"node": change.node, "params": _pairs(change.params)}
        if change.bypassed is not None:
            item["bypassed"] = list(change.bypassed)
        changed.append(item)
    retyped: list[dict[str, Any]] = []
    for entry in diff.retyped:
        item = {
            "node": entry.node,
            "type": [entry.old_type, entry.new_type],
            "params": _pairs(entry.params),
        }
        if entry.bypassed is not None:
            item["bypassed"] = list(entry.bypassed)
        retyped.append(item)
    rewired = [{"change": "removed", "wire": list(w)} for w in diff.wires_removed]
    rewired += [{"change": "added", "wire": list(w)} for w in diff.wires_added]
    return {
        "added": [node.name for node in diff.added],
        "removed": list(diff.removed),
        "changed": changed,
        "rewired": rewired,
        "renamed": [[old, new] for old, new in diff.renamed],
        "retyped": retyped,
        "regrouped": [
            {"node": name, "group": [_group(old), _group(new)]} for name, old, new in diff.regrouped
        ],
        "added_blocks": [
            {
                "name": node.name,
                "type": node.type_id,
                "params": node.params,
                "group": _group(node.group),
                "bypassed": bool(getattr(node, "bypassed", False)),
            }
            for node in diff.added
        ],
        "totals": {"params": list(diff.params), "macs": list(diff.macs)},
    }


def _path(text: str) -> GroupPath:
    return tuple(text.split(".")) if text else ()


def _flags(item: dict[str, Any]) -> tuple[bool, bool] | None:
    flags = item.get("bypassed")
    return None if flags is None else (bool(flags[0]), bool(flags[1]))


def _wire(values: list[Any]) -> Wire:
    src, src_port, dst, dst_port = (str(v) for v in values)
    return (src, src_port, dst, dst_port)


def diff_from_json(data: dict[str, Any]) -> DesignDiff:
    """A diff read back from ``diff_to_json``'s data; DesignerError when it is not one."""
    try:
        added = []
        for block in data["added_blocks"]:
            node = Node(block["name"], block["type"], dict(block["params"]), _path(block["group"]))
            if block.get("bypassed"):
                setattr(node, "bypassed", True)  # noqa: B010 (older Node classes lack it)
            added.append(node)
        return DesignDiff(
            added=added,
            removed=[str(n) for n in data["removed"]],
            renamed=[(str(old), str(new)) for old, new in data["renamed"]],
            retyped=[
                Retyped(
                    item["node"],
                    item["type"][0],
                    item["type"][1],
                    {k: (v[0], v[1]) for k, v in item["params"].items()},
                    _flags(item),
                )
                for item in data["retyped"]
            ],
            changed=[
                NodeChange(
                    item["node"], {k: (v[0], v[1]) for k, v in item["params"].items()}, _flags(item)
                )
                for item in data["changed"]
            ],
            regrouped=[
                (item["node"], _path(item["group"][0]), _path(item["group"][1]))
                for item in data["regrouped"]
            ],
            wires_added=[_wire(i["wire"]) for i in data["rewired"] if i["change"] == "added"],
            wires_removed=[_wire(i["wire"]) for i in data["rewired"] if i["change"] == "removed"],
            params=(int(data["totals"]["params"][0]), int(data["totals"]["params"][1])),
            macs=(int(data["totals"]["macs"][0]), int(data["totals"]["macs"][1])),
        )
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise DesignerError(
            f"design diff: not the JSON `cnn-designer diff --json` writes. Received: a document "
            f"that fails at {error!r}. Give the command's own output, unchanged"
        ) from error


def _value(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _settings(params: dict[str, tuple[Any, Any]], bypassed: tuple[bool, bool] | None) -> str:
    parts = [f"{k} {_value(old)} → {_value(new)}" for k, (old, new) in params.items()]
    if bypassed is not None:
        parts.append("bypassed" if bypassed[1] else "no longer bypassed")
    return ", ".join(parts)


def _total(label: str, pair: tuple[int, int]) -> str:
    old, new = pair
    return f"{label} {old:,} → {new:,} ({new - old:+,})"


def diff_text(diff: DesignDiff) -> str:
    """The diff for a person: one section per kind of change, then the totals."""
    lines: list[str] = []

    def section(title: str, rows: list[str]) -> None:
        if rows:
            lines.append(f"{title} ({len(rows)}):")
            lines.extend(f"  {row}" for row in rows)

    section("Added blocks", [f"+ {n.name} ({n.type_id})" for n in diff.added])
    section("Removed blocks", [f"- {name}" for name in diff.removed])
    section("Renamed blocks", [f"{old} → {new}" for old, new in diff.renamed])
    section(
        "Retyped blocks",
        [
            f"{r.node}: {r.old_type} → {r.new_type}"
            + (f" ({changes})" if (changes := _retyped_settings(r)) else "")
            for r in diff.retyped
        ],
    )
    section(
        "Changed blocks", [f"{c.node}: {_settings(c.params, c.bypassed)}" for c in diff.changed]
    )
    section(
        "Regrouped blocks",
        [
            f"{n}: {_group(old) or '(no group)'} → {_group(new) or '(no group)'}"
            for n, old, new in diff.regrouped
        ],
    )
    fresh = {n.name for n in diff.added}
    gone = set(diff.removed)
    rows = [
        f"- {_wire_text(w)}" for w in diff.wires_removed if w[0] not in gone and w[2] not in gone
    ]
    rows += [
        f"+ {_wire_text(w)}" for w in diff.wires_added if w[0] not in fresh and w[2] not in fresh
    ]
    section("Rewired (wires between blocks on both sides)", rows)
    implied = len(diff.wires_removed) + len(diff.wires_added) - len(rows)
    if implied:
        lines.append(f"  ({implied} wire{'s' if implied != 1 else ''} of added or removed blocks)")
    if diff.empty:
        lines.append("The designs are the same: no block or wire differs.")
    lines.append(f"Totals: {_total('parameters', diff.params)}; {_total('MACs', diff.macs)}")
    return "\n".join(lines)


def _retyped_settings(entry: Retyped) -> str:
    shown = {k: v for k, v in entry.params.items() if v[0] != v[1]}
    return _settings(shown, entry.bypassed)


def _wire_text(wire: Wire) -> str:
    src, src_port, dst, dst_port = wire
    return f"{src}.{src_port} → {dst}.{dst_port}"
