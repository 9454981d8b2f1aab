"""Project files: hostile or odd input gives one ProjectFileError naming the field, the value and
the fix; saving follows symlinks and turns file-system failures into clear errors."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine import Graph, Project, ProjectFileError, load_project, save_project
from engine.atomic_files import write_atomic
from engine.project import ProjectSaveError, project_from_data, project_from_text

BIG = "1" + "0" * 400  # a whole number far beyond what a float holds


def graph_data() -> dict[str, Any]:
    return {
        "nodes": [{"name": "input", "type": "input"}, {"name": "act", "type": "relu"}],
        "edges": [["input", "out", "act", "in"]],
    }


def document(**fields: Any) -> dict[str, Any]:
    return {"format": "cnn-designer-project", "version": 2, "graph": graph_data(), **fields}


def version_1(nodes: list[Any], edges: list[Any]) -> dict[str, Any]:
    return {
        "format": "cnn-designer-project",
        "version": 1,
        "graph": {"nodes": nodes, "edges": edges},
    }


def refused(text: str) -> str:
    """The message of the ProjectFileError that loading ``text`` raises."""
    with pytest.raises(ProjectFileError) as info:
        project_from_text(text, "net.cnnd")
    message = str(info.value)
    assert message.startswith("net.cnnd: ")
    return message


# ----- 1. crashes with an exception other than ProjectFileError ---------------------------------
def test_huge_whole_number_as_a_layout_coordinate() -> None:
    text = json.dumps(document(layout={"input": [0, 0]})).replace("[0, 0]", f"[{BIG}, 0]")
    message = refused(text)
    assert "layout.input[0] must be a finite number" in message
    assert "Received: layout.input[0]=<a whole number of about 401 digits>" in message


def test_huge_whole_number_as_a_version_1_position() -> None:
    node = {"name": "input", "type": "input", "x": 0, "y": 5}
    text = json.dumps(version_1([node], [])).replace('"x": 0', f'"x": {BIG}')
    assert "graph.nodes[0].x must be a finite number" in refused(text)


def test_deeply_nested_metadata() -> None:
    text = json.dumps(document())[:-1] + ', "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert "nested too deeply" in refused(text)


def test_version_with_thousands_of_digits() -> None:
    text = json.dumps(document()).replace('"version": 2', '"version": ' + "9" * 5000)
    assert "a whole number with more than" in refused(text)


# ----- 2. bad values that used to load ----------------------------------------------------------
def test_version_true_is_refused() -> None:
    message = refused(json.dumps(document(version=True)))
    assert "version must be a positive whole number. Received: version=true." in message


@pytest.mark.parametrize(
    ("written", "shown"),
    [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("true", "true")],
)
def test_non_finite_or_non_number_coordinates_are_refused(written: str, shown: str) -> None:
    text = json.dumps(document(layout={"act": [0, 1]})).replace("[0, 1]", f"[3, {written}]")
    assert (
        f"layout.act[1] must be a finite number (a position on the canvas). Received: layout.act[1]={shown}."
        in refused(text)
    )


def test_a_non_finite_position_is_not_saved(tmp_path: Path) -> None:
    g = Graph()
    g.add_node("input", "input")
    path = tmp_path / "net.cnnd"
    save_project(Project(g, layout={"input": (float("inf"), 0.0)}), path)
    assert "Infinity" not in path.read_text(encoding="utf-8")
    assert load_project(path).layout == {}  # the block is placed anew


# ----- 3. byte-order mark -------------------------------------------------------------------------
def test_a_file_starting_with_a_bom_loads(tmp_path: Path) -> None:
    path = tmp_path / "windows.cnnd"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(document()).encode("utf-8"))
    assert load_project(path).graph.names == ["input", "act"]
    assert len(project_from_text("\ufeff" + json.dumps(document())).graph) == 2
    path.write_bytes(b"\xef\xbb\xbf{\xff")
    with pytest.raises(ProjectFileError, match="not UTF-8 text at byte 4"):
        load_project(path)


# ----- 4. messages naming the field, the value and the fix ----------------------------------------
def test_type_errors_use_json_words_and_show_the_value() -> None:
    assert "graph must be an object ({...}). Received: graph=null." in refused(
        json.dumps(document(graph=None))
    )
    long = json.dumps(document(metadata="x" * 10_000))
    message = refused(long)
    assert "metadata must be an object ({...}). Received: metadata=" in message
    assert len(message) < 200  # a long value is shortened


def test_version_1_wire_without_port() -> None:
    nodes = [{"name": "input", "type": "input"}, {"name": "act", "type": "relu"}]
    message = refused(json.dumps(version_1(nodes, [{"from": "input", "to": "act:in"}])))
    assert 'graph.edges[0].from must be written "node:port"' in message
    assert 'Received: graph.edges[0].from="input".' in message


def test_version_1_wire_with_wrong_shape_gets_version_1_wording() -> None:
    message = refused(json.dumps(version_1([{"name": "input", "type": "input"}], [{"from": 5}])))
    assert 'graph.edges[0] must be {"from": "node:port", "to": "node:port"}' in message
    assert 'Received: graph.edges[0]={"from": 5}.' in message
    assert "source port" not in message


def test_version_1_wire_errors_show_the_wire_as_written() -> None:
    nodes = [{"name": "input", "type": "input"}]
    message = refused(json.dumps(version_1(nodes, [{"from": "input:out", "to": "ghost:in"}])))
    assert 'graph.edges[0] refers to a node "ghost" that does not exist' in message
    assert 'Received: graph.edges[0]={"from": "input:out", "to": "ghost:in"}.' in message


def test_version_1_position_errors_name_the_node_field() -> None:
    node = {"name": "input", "type": "input", "x": "0", "y": 0}
    message = refused(json.dumps(version_1([node], [])))
    assert (
        'graph.nodes[0].x must be a finite number (a position on the canvas). Received: graph.nodes[0].x="0".'
        in message
    )
    assert "layout" not in message
    half = {"name": "input", "type": "input", "x": 1}
    assert "graph.nodes[0].y is missing" in refused(json.dumps(version_1([half], [])))


# ----- 5. view.collapsed, the one view field the designer relies on -------------------------------
@pytest.mark.parametrize("collapsed", [5, "stem", [1], None, {"stem": True}])
def test_view_collapsed_must_be_a_list_of_names(collapsed: Any) -> None:
    message = refused(json.dumps(document(view={"collapsed": collapsed})))
    assert (
        "view.collapsed must be a list of group names (strings). Received: view.collapsed="
        in message
    )


def test_other_view_fields_stay_free_form() -> None:
    view = {"collapsed": ["stem"], "zoom": 1.5, "anything": [None]}
    assert project_from_data(document(view=view)).view == view


# ----- 6. saving ------------------------------------------------------------------------------------
def small_project() -> Project:
    g = Graph()
    g.add_node("input", "input")
    return Project(g, metadata={"title": "new"})


def test_save_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "projects" / "real.cnnd"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.cnnd"
    link.symlink_to(real)
    save_project(small_project(), link)
    assert link.is_symlink() and link.resolve() == real
    assert load_project(real).metadata == {"title": "new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.cnnd", "projects"]
    assert [p.name for p in real.parent.iterdir()] == ["real.cnnd"]  # no temporary file left


def test_write_atomic_writes_through_a_symlink_for_its_other_callers(tmp_path: Path) -> None:
    # engine/training/runs.py (run files) and engine/catalog_doc.py (README) use it too
    real = tmp_path / "real.json"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "settings.json"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"


@pytest.fixture
def locked_folder(tmp_path: Path, lock_folder: Callable[[Path], Path]) -> Path:
    """A folder with one project file that cannot be changed."""
    folder = tmp_path / "locked"
    folder.mkdir()
    save_project(Project(Graph()), folder / "net.cnnd")
    return lock_folder(folder)


def test_save_into_an_unwritable_folder(locked_folder: Path) -> None:
    path = locked_folder / "net.cnnd"
    before = path.read_bytes()
    with pytest.raises(ProjectSaveError) as info:
        save_project(small_project(), path)
    message = str(info.value)
    reason = "Operation not permitted" if os.geteuid() == 0 else "Permission denied"
    assert message.startswith(f"{path}: the project cannot be saved ({reason}).")
    assert f"Received: path={str(path)!r}. Choose a folder you can write to" in message
    assert isinstance(info.value, OSError)  # designer/recovery.py retries on OSError
    assert path.read_bytes() == before
    assert [p.name for p in locked_folder.iterdir()] == ["net.cnnd"]


def test_permission_denied_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ProjectFileError, match=r"\(Permission denied\).*Choose a folder you can"):
        save_project(small_project(), tmp_path / "net.cnnd")
    assert list(tmp_path.iterdir()) == []


def test_save_onto_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "nets"
    folder.mkdir()
    (folder / "keep.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ProjectSaveError) as info:
        save_project(small_project(), folder)
    assert f"{folder}: the project cannot be saved (Is a directory)." in str(info.value)
    assert "Choose a file name inside that folder" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nets"]  # no temporary file left
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]


def test_save_to_an_empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProjectSaveError, match=r"must not be empty\. Received: path=''\. Choose"):
        save_project(small_project(), "")
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_still_raises_os_errors_for_its_other_callers(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path, "text")


def test_lone_surrogate_in_metadata_saves_and_loads(tmp_path: Path) -> None:
    project = project_from_text(json.dumps(document(metadata={"title": "a\ud800b"})))
    path = tmp_path / "net.cnnd"
    save_project(project, path)
    assert load_project(path).metadata == {"title": "a\ud800b"}
