"""Which design a one-click experiment trains (issue 18 point 7, "the same network"): the design
open in the window when it suits the experiment, else LeNet-5 for Digits with the reason."""

from __future__ import annotations

from designer.document import preset_project
from engine import infer
from engine.graph import Graph
from engine.lessons.base import BASE_PRESET, MAX_PARAMS, BaseChoice
from engine.lessons.base import choose_base as choose
from engine.lessons.designs import padding_stride
from engine.lessons.experiments import EXPERIMENTS
from presets import PRESETS


def choose_base(key: str, graph: Graph, training: dict | None, name: str = "") -> BaseChoice:
    """As the Lessons menu calls it: LeNet-5 for Digits as the fallback."""
    preset = PRESETS.get(BASE_PRESET)
    return choose(key, graph, training, name, preset.create(), preset.display_name)


def test_the_open_design_is_trained_on_its_builtin_data_set() -> None:
    vgg = preset_project("small_vgg")
    for key in ("dropout", "activations", "batchnorm"):
        choice = choose_base(key, vgg.graph, vgg.training, "small_vgg")
        assert choice.own and choice.dataset == "shapes"
        assert choice.graph.to_data() == vgg.graph.to_data()
        assert choice.graph is not vgg.graph  # a copy: the window's design is never edited
        assert choice.note == "Trained on the open design small_vgg with shapes."
    lenet = preset_project("lenet5")
    for key in EXPERIMENTS:
        choice = choose_base(key, lenet.graph, lenet.training, "lenet5")
        assert choice.own and choice.dataset == "digits", choice.note


def test_a_design_that_cannot_take_the_experiment_falls_back_with_the_reason() -> None:
    fallback = PRESETS.get(BASE_PRESET).create().to_data()
    graph = padding_stride()
    assert choose_base("dropout", graph, None).own  # a tiny classifier of the Digits
    graph.set_params("classifier", {"out_features": 6})
    tiny = choose_base("dropout", graph, None)
    assert not tiny.own and tiny.graph.to_data() == fallback and tiny.dataset == "digits"
    assert tiny.note == (
        "Not on the open design: it does not end in 10 scores, one per digits class. "
        "Trained on LeNet-5 for Digits with digits instead."
    )
    vgg = preset_project("small_vgg")  # its locally connected variant is far too large
    lc = choose_base("lc_vs_conv", vgg.graph, vgg.training, "small_vgg")
    assert not lc.own and lc.graph.to_data() == fallback
    assert "locally connected variant has 38,635,142 parameters" in lc.note
    assert f"{MAX_PARAMS:,}" in lc.note
    empty = choose_base("batchnorm", Graph(), None)
    assert not empty.own and empty.note.startswith("Not on the open design: there is none.")


def test_a_design_without_what_the_experiment_changes_is_named() -> None:
    lenet = preset_project("lenet5")
    graph = lenet.graph.copy()
    for node in [n.name for n in graph if n.type_id == "tanh"]:
        (into,) = graph.in_edges(node)
        after = graph.out_edges(node)
        graph.remove_node(node)
        for edge in after:
            graph.connect(into.src, edge.dst, into.src_port, edge.dst_port)
    assert infer(graph).ok
    choice = choose_base("activations", graph, lenet.training, "mine")
    assert not choice.own
    assert "the design has no activation to swap" in choice.note
    assert choice.note.startswith("Not on the open design mine: activation variant")


def test_an_invalid_design_is_not_trained() -> None:
    lenet = preset_project("lenet5")
    graph = lenet.graph.copy()
    graph.set_params("conv1", {"kernel_size": 40})
    choice = choose_base("dropout", graph, lenet.training, "lenet5")
    assert not choice.own and "it does not validate (" in choice.note
