"""The experiments' variants of a design (engine.lessons.variants): each a valid new graph made
from the base (which stays unchanged), checked by inference and in the compiled torch model."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engine import GraphError, compile_graph, infer
from engine.analysis.equivalents import node_equivalents
from engine.lessons import variants
from presets import PRESETS


def _lenet(**options: object):
    return PRESETS.get("lenet5_digits").create(**options)


def _modules(graph, cls: type) -> list[nn.Module]:
    return [m for m in compile_graph(graph).modules() if isinstance(m, cls)]


@pytest.mark.parametrize("p", [0.0, 0.5])
def test_dropout_inserted_before_the_classifier_at_p(p: float) -> None:
    base = _lenet()
    before = base.to_data()
    graph = variants.with_dropout(base, p)
    assert base.to_data() == before
    assert infer(graph).ok
    (drop,) = _modules(graph, nn.Dropout)
    assert drop.p == p
    (name,) = graph.names_of_type("dropout")
    assert [e.dst for e in graph.out_edges(name)] == ["fc3"]


def test_dropout_sets_every_existing_dropout() -> None:
    base = PRESETS.get("small_vgg").create()
    graph = variants.with_dropout(base, 0.0)
    assert [m.p for m in _modules(graph, nn.Dropout)] == [0.0]
    assert len(graph.names) == len(base.names)


def test_dropout_refuses_p_of_one() -> None:
    with pytest.raises(GraphError, match=r"Received: p=1\.0"):
        variants.with_dropout(_lenet(), 1.0)


@pytest.mark.parametrize(
    ("type_id", "cls"), [("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh), ("relu", nn.ReLU)]
)
def test_activation_swapped_everywhere(type_id: str, cls: type) -> None:
    base = _lenet()
    graph = variants.with_activation(base, type_id)
    assert infer(graph).ok
    assert len(_modules(graph, cls)) == 4
    others = {nn.Sigmoid, nn.Tanh, nn.ReLU} - {cls}
    assert not any(_modules(graph, other) for other in others)
    assert set(graph.edges) == set(base.edges)  # same names, same wires


def test_activation_refuses_a_non_activation() -> None:
    with pytest.raises(GraphError, match="type='conv2d'"):
        variants.with_activation(_lenet(), "conv2d")


def test_batchnorm_on_and_off() -> None:
    base = _lenet()
    on = variants.with_batchnorm(base)
    assert infer(on).ok and len(_modules(on, nn.BatchNorm2d)) == 2
    for conv in on.names_of_type("conv2d"):
        assert [on.node(e.dst).type_id for e in on.out_edges(conv)] == ["batchnorm"]
    assert variants.with_batchnorm(on).to_data() == on.to_data()  # already normalised
    off = variants.without_batchnorm(on)
    assert infer(off).ok and not _modules(off, nn.BatchNorm2d)
    x = torch.randn(2, 1, 32, 32)
    torch.manual_seed(0)
    a = compile_graph(off).eval()(x)
    torch.manual_seed(0)
    b = compile_graph(base).eval()(x)
    torch.testing.assert_close(a, b)  # the same network as the base again


def test_local_variant_has_the_lc_rows_parameters() -> None:
    base = _lenet()
    result = infer(base)
    expected = {n: node_equivalents(base, result, n) for n in base.names_of_type("conv2d")}
    graph = variants.with_local(base)
    after = infer(graph)
    assert after.ok and not graph.names_of_type("conv2d")
    for name, rows in expected.items():
        assert graph.node(name).type_id == "locally_connected2d"
        assert after.nodes[name].params == rows.locally_connected.params
        assert after.nodes[name].output == result.nodes[name].output
    model = compile_graph(graph)
    assert sum(p.numel() for p in model.parameters()) == after.total_params


def test_local_variant_refuses_dilation() -> None:
    base = _lenet()
    base.set_params("conv1", {"dilation": 2})
    with pytest.raises(GraphError, match=r"conv1 \(conv2d\).*dilation=2"):
        variants.with_local(base)


def test_every_experiment_gives_valid_variants_of_the_base() -> None:
    from engine.lessons.experiments import EXPERIMENTS, experiment_graphs

    base = _lenet()
    for key, experiment in EXPERIMENTS.items():
        made = experiment_graphs(key, base)
        assert [label for label, _ in made] == [label for label, _ in experiment.variants]
        assert all(infer(graph).ok for _, graph in made), key
        assert len({str(graph.to_data()) for _, graph in made}) == len(made), key
