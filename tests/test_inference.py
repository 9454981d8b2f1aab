"""Shape and cost inference: every diagnostic the issue lists, in the user's words and numbers."""

from __future__ import annotations

from typing import Any

import pytest

from engine import Edge, Graph, Severity, apply_fix, infer
from engine.inference import clear_memo
from engine.shapes import dropped_by_stride, pool_output_size

Step = tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str]


def chain(shape: list[int], *steps: Step, output: bool = True) -> Graph:
    """Input(shape) → each step in turn (type, params[, name]) → Output."""
    g = Graph()
    previous = g.add_node("input", "input", {"shape": shape}).name
    for step in steps:
        name = step[2] if len(step) == 3 else None
        node = g.add_node(step[0], name, step[1]).name
        g.connect(previous, node)
        previous = node
    if output:
        g.add_node("output", "output")
        g.connect(previous, "output")
    return g


def only_error(g: Graph, node: str) -> str:
    result = infer(g)
    errors = result.errors
    assert [d.node for d in errors] == [node], [d.message for d in result.diagnostics]
    return errors[0].message


def test_output_size_below_one_names_kernel_input_and_padding() -> None:
    g = chain(
        [1, 12, 12],
        ("conv2d", {"kernel_size": 5}, "conv1"),  # 8×8
        ("maxpool2d", {"kernel_size": 2}, "pool1"),  # 4×4
        ("conv2d", {"kernel_size": 2}, "conv2"),  # 3×3
        ("conv2d", {"kernel_size": 5}, "conv3"),
        ("relu", {}, "relu"),
    )
    message = only_error(g, "conv3")
    assert message.startswith(
        "conv3 (conv2d): kernel 5 is larger than its 3×3 input (padding 0): "
        "the output would be -1×-1. Use a smaller kernel, add padding"
    )
    result = infer(g)
    assert result.nodes["relu"].outputs == {} and not result.nodes["relu"].error
    apply_fix(g, result.errors[0].fix)
    fixed = infer(g)
    assert fixed.ok and fixed.nodes["conv3"].output == (16, 3, 3)


def test_output_size_fix_works_for_even_kernels_on_one_pixel() -> None:
    g = chain([2, 1, 1], ("conv2d", {"kernel_size": 2}, "conv"))
    result = infer(g)
    assert "kernel 2 is larger than its 1×1 input" in result.errors[0].message
    apply_fix(g, result.errors[0].fix)
    assert infer(g).ok


def test_pooling_too_large_for_its_input() -> None:
    g = chain([3, 2, 2], ("maxpool2d", {"kernel_size": 3, "stride": 1, "padding": 0}, "pool"))
    assert "pool (maxpool2d): kernel 3 is larger than its 2×2 input (padding 0)" in only_error(
        g, "pool"
    )


def test_uneven_stride_warns_which_rows_and_columns_are_dropped() -> None:
    g = chain([3, 7, 8], ("conv2d", {"kernel_size": 3, "stride": 2}, "conv"))
    result = infer(g)
    assert result.ok
    (warning,) = result.warnings
    assert warning.node == "conv" and warning.severity is Severity.WARNING
    assert warning.message == (
        "conv (conv2d): stride 2 does not divide the 7×8 input evenly (kernel 3, padding 0): "
        "the last column is never used. Change the padding or the input size if it matters"
    )


def test_uneven_stride_names_rows_and_columns() -> None:
    g = chain([3, 10, 10], ("maxpool2d", {"kernel_size": 3, "stride": 3}, "pool"))
    (warning,) = infer(g).warnings
    assert "the last row and the last column are never used" in warning.message


def test_uneven_stride_counts_several_rows() -> None:
    g = chain([3, 13, 10], ("conv2d", {"kernel_size": 5, "stride": 3}, "conv"))
    (warning,) = infer(g).warnings
    assert "the last 2 rows and the last 2 columns are never used" in warning.message


def test_no_warning_when_windows_are_narrower_than_the_stride() -> None:
    """ResNet's 1×1 /2 downsampling skips every other row by design, the last one included."""
    g = chain([64, 56, 56], ("conv2d", {"kernel_size": 1, "stride": 2}))
    assert infer(g).diagnostics == []


@pytest.mark.parametrize("size", [56, 32, 224])
def test_no_warning_when_only_padding_is_dropped(size: int) -> None:
    """ResNet's 3×3 /2 p1 convolutions and 3×3 /2 p1 max pool on even sizes drop only zeros."""
    g = chain(
        [3, size, size],
        ("conv2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
        ("maxpool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
    )
    assert infer(g).diagnostics == []
    assert dropped_by_stride(size, 3, 2, 1) == 0
    assert dropped_by_stride(size + 1, 2, 2, 0) == 1


def test_ceil_mode_matches_googlenet() -> None:
    """GoogLeNet pools 3×3 /2 with ceil_mode: 112 → 56 → 28 → 14 → 7 (floor would give 55)."""
    steps = [("maxpool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True})] * 4
    g = chain([64, 112, 112], *steps)
    result = infer(g)
    assert result.ok and result.diagnostics == []
    assert [result.nodes[n].output for n in g.names[1:5]] == [
        (64, 56, 56),
        (64, 28, 28),
        (64, 14, 14),
        (64, 7, 7),
    ]
    assert pool_output_size(112, 3, 2) == 55
    # the last window must start inside the input: 5 with k2 s2 p1 ceil gives 3, not 4
    assert pool_output_size(5, 2, 2, padding=1, ceil_mode=True) == 3


def _join(type_id: str, a: list[int], b: list[int]) -> Graph:
    g = Graph()
    g.add_node("input", "a", {"shape": a})
    g.add_node("input", "b", {"shape": b})
    g.add_node(type_id, "join")
    g.connect("a", "join")
    g.connect("b", "join")
    g.add_node("output", "out")
    g.connect("join", "out")
    return g


def test_add_of_different_shapes_offers_a_projection() -> None:
    g = _join("add", [64, 56, 56], [128, 28, 28])
    message = only_error(g, "join")
    assert message.startswith(
        "join (add): all inputs of Add must have the same shape. Received: 64×56×56, 128×28×28."
    )
    fix = infer(g).errors[0].fix
    assert fix is not None and "1×1 convolution" in fix.label and "stride 2" in fix.label
    apply_fix(g, fix)
    result = infer(g)
    assert result.ok and result.nodes["join"].output == (128, 28, 28)


def test_concat_of_different_spatial_sizes() -> None:
    g = _join("concat", [64, 28, 28], [32, 14, 14])
    assert "all inputs of Concat must have the same height and width. Received: 64×28×28, " in (
        only_error(g, "join")
    )
    ok = _join("concat", [64, 28, 28], [32, 28, 28])
    assert infer(ok).nodes["join"].output == (96, 28, 28)


def test_concat_of_image_and_vector() -> None:
    assert "cannot join images and vectors" in only_error(_join("concat", [4, 2, 2], [4]), "join")


def test_linear_fed_an_image_suggests_flatten_with_the_flat_size() -> None:
    g = chain([16, 5, 5], ("linear", {"out_features": 120}, "fc1"))
    message = only_error(g, "fc1")
    assert "receives 16×5×5" in message
    assert "Insert a Flatten before it (it gives 400 features)" in message
    apply_fix(g, infer(g).errors[0].fix)
    result = infer(g)
    assert result.ok and result.nodes["fc1"].params == 400 * 120 + 120


def test_groups_not_dividing_the_channels() -> None:
    g = chain([6, 8, 8], ("conv2d", {"out_channels": 8, "groups": 4}, "conv"))
    message = only_error(g, "conv")
    assert "groups 4 must divide both the 6 input channels and the 8 output channels" in message
    assert "Received: groups=4, in_channels=6, out_channels=8. Use groups=2" in message
    apply_fix(g, infer(g).errors[0].fix)
    assert infer(g).ok


def test_cycle_is_reported_once_and_every_member_is_unknown() -> None:
    g = chain([3, 8, 8], ("relu", {}, "a"), ("relu", {}, "b"))
    g.add_node("add", "c")
    g.connect("b", "c")
    g.add_edge_unchecked(Edge("c", "out", "a", "in"))  # a file may hold one; connect refuses
    g.disconnect(Edge("input", "out", "a", "in"))
    result = infer(g)
    cycle = [d for d in result.errors if d.code == "cycle"]
    assert [d.node for d in cycle] == ["a"]  # once per cycle (issue 15), on its first member
    assert "is part of a cycle (a → b → c → a)" in cycle[0].message
    assert all(result.nodes[n].error for n in "abc")
    assert all(not result.nodes[n].known for n in "abc")


def test_unconnected_input_port() -> None:
    g = chain([3, 8, 8], ("relu", {}, "relu"))
    g.add_node("conv2d", "conv")
    g.add_node("output", "out2")
    g.connect("conv", "out2")
    result = infer(g)
    (error,) = result.errors
    assert error.message == (
        "conv (conv2d): input port 'in' is not connected: wire the output of a previous block to it"
    )
    assert result.nodes["out2"].outputs == {} and result.for_node("out2") == []


def test_add_with_one_input() -> None:
    g = chain([3, 8, 8], ("add", {}, "add"))
    assert "add (add): needs at least 2 inputs but has 1" in only_error(g, "add")


def test_unreachable_node() -> None:
    g = chain([3, 8, 8], ("relu", {}, "relu"))
    g.add_node("maxpool2d", "a")
    g.add_node("relu", "b")
    g.connect("a", "b")
    result = infer(g)
    # a is unwired (its own error); b is only unknown downstream of it
    assert [d.node for d in result.errors] == ["a"]
    lonely = chain([3, 8, 8], ("relu", {}, "relu"))
    lonely.add_node("input", "other", {"shape": [3, 8, 8]})
    lonely.add_node("add", "add")
    lonely.add_node("relu", "island")
    lonely.add_node("relu", "island2")
    lonely.connect("island", "island2")
    lonely.connect("other", "add")
    messages = [d.message for d in infer(lonely).errors]
    assert any(m.startswith("island (relu): input port 'in' is not connected") for m in messages)
    assert not any(m.startswith("island2") for m in messages)


def test_node_fed_only_by_a_cycle_is_unreachable() -> None:
    g = chain([3, 8, 8], ("relu", {}, "relu"))
    g.add_node("relu", "a")
    g.add_node("relu", "b")
    g.add_edge_unchecked(Edge("a", "out", "b", "in"))
    g.add_edge_unchecked(Edge("b", "out", "a", "in"))
    g.add_node("relu", "tail")
    g.connect("b", "tail")
    result = infer(g)
    assert {d.node for d in result.errors} == {"a"}  # the cycle, once; tail is only unknown
    assert not result.nodes["tail"].known


def test_no_output_and_no_input() -> None:
    g = chain([3, 8, 8], ("relu", {}, "relu"), output=False)
    result = infer(g)
    (error,) = result.errors
    assert error.node is None
    assert error.message == (
        "the network has no Output block: add one after relu to mark what the network returns"
    )
    empty = infer(Graph())
    assert [d.code for d in empty.errors] == ["no_input"]


def _unpool_graph(source_port: str, via_relu: bool = False) -> Graph:
    g = chain([3, 8, 8], ("maxpool2d", {"kernel_size": 2, "return_indices": True}, "pool"))
    g.add_node("relu", "relu")
    g.connect("pool", "relu")
    g.add_node("maxunpool2d", "unpool")
    g.connect("relu", "unpool", "out", "in")
    if via_relu:
        g.connect("relu", "unpool", "out", "indices")
    else:
        g.connect("pool", "unpool", source_port, "indices")
    g.add_node("output", "out2")
    g.connect("unpool", "out2")
    return g


def test_maxunpool_fed_by_maxpool_indices() -> None:
    result = infer(_unpool_graph("indices"))
    assert result.ok and result.nodes["unpool"].output == (3, 8, 8)


@pytest.mark.parametrize(
    ("port", "via_relu", "culprit"), [("out", False, "pool (maxpool2d)"), ("", True, "relu (relu)")]
)
def test_maxunpool_not_fed_by_maxpool_indices(port: str, via_relu: bool, culprit: str) -> None:
    message = only_error(_unpool_graph(port, via_relu), "unpool")
    assert message.startswith(
        "unpool (maxunpool2d): its 'indices' input must come from the 'indices' output of a "
        f"MaxPool2d, but comes from {culprit}. Turn on return_indices"
    )


def test_maxunpool_indices_unconnected() -> None:
    g = chain([3, 8, 8], ("maxunpool2d", {}, "unpool"))
    assert "input port 'indices' is not connected" in only_error(g, "unpool")


INVALID = [
    ("conv2d", "out_channels", 0, "out_channels must be at least 1. Received: out_channels=0."),
    ("conv2d", "out_channels", -3, "Received: out_channels=-3. Use a value at least 1"),
    ("conv2d", "kernel_size", 0, "kernel_size must be at least 1. Received: kernel_size=0."),
    ("conv2d", "kernel_size", [3, -1], "Received: kernel_size=[3, -1]. Write it as k or kh×kw"),
    ("conv2d", "stride", 0, "stride must be at least 1. Received: stride=0."),
    ("maxpool2d", "stride", 0, "stride must be at least 1. Received: stride=0."),
    ("conv2d", "padding", -1, "padding must be at least 0. Received: padding=-1."),
    ("conv2d", "padding", "valid", "Received: padding='valid'."),
    ("conv2d", "groups", 0, "groups must be at least 1. Received: groups=0."),
    ("conv2d", "kernel_size", "3", "kernel_size must be one whole number or a list of two."),
    ("maxpool2d", "kernel_size", [2], "must be one whole number or a list of two. Received: kern"),
    ("conv2d", "stride", [2], "Received: stride=[2]. Write it as k or kh×kw, each at least 1."),
    ("conv2d", "bias", 1, "bias must be true or false. Received: bias=1. Use true or false"),
    ("scale", "factor", float("inf"), "Received: factor=inf. Use a finite number (default 1.0)."),
    ("batchnorm", "eps", 0.0, "eps must be greater than 0. Received: eps=0.0."),
    ("dropout", "p", 1.0, "p must be in [0, 1). Received: p=1.0. Use a value in [0, 1)"),
    ("dropout2d", "p", -0.1, "p must be in [0, 1). Received: p=-0.1."),
    ("dropout", "p", float("nan"), "p must be a finite number. Received: p=nan."),
    ("linear", "out_features", None, "out_features is required and missing."),
    ("conv2d", "kernel_size", None, "kernel_size is required and missing."),
    ("upsample", "mode", "cubic", "mode is not one of the allowed choices. Received: mode='cubic'"),
    ("batchnorm", "momentum", 1.5, "momentum must be in [0, 1]. Received: momentum=1.5."),
    ("avgpool2d", "kernel_size", [2, 2, 2], "kernel_size must be one whole number or a list of"),
]


@pytest.mark.parametrize(("type_id", "param", "value", "expected"), INVALID)
def test_invalid_parameter_values(type_id: str, param: str, value: Any, expected: str) -> None:
    shape = [4] if type_id == "linear" else [4, 8, 8]
    g = chain(shape, (type_id, {}, "block"), ("relu", {}, "after"))
    g.set_params("block", {param: value})
    result = infer(g)
    (error,) = result.errors
    assert error.node == "block" and error.code == "param"
    assert error.message.startswith(f"block ({type_id}): ")
    assert expected in error.message
    assert not result.nodes["block"].known and not result.nodes["after"].known
    assert result.for_node("after") == []
    if error.fix is not None:
        apply_fix(g, error.fix)
        assert infer(g).ok


@pytest.mark.parametrize(
    ("step", "shape", "expected"),
    [
        (("conv2d", {"padding": 2**62}), [1, 4, 4], "an output of about 10^39 values per sample"),
        (("upsample", {"scale_factor": 1e300}), [1, 4, 4], "an output of about 10^601 values"),
        (("adaptive_avgpool2d", {"output_size": 2**40}), [1, 4, 4], "about 10^24 values"),
        (("linear", {"out_features": 2**62}), [4], "would have about 10^19 parameters"),
    ],
)
def test_sizes_past_what_torch_counts_are_errors(
    step: Step, shape: list[int], expected: str
) -> None:
    g = chain(shape, (*step, "block"))
    message = only_error(g, "block")
    assert expected in message
    assert message.endswith(
        "more than torch can count (2^63 - 1, about 10^18). Lower the sizes that make it this large"
    )


def test_sizes_just_within_what_torch_counts_are_fine() -> None:
    g = chain([1, 1, 1], ("adaptive_avgpool2d", {"output_size": [2**31, 2**31]}, "block"))
    result = infer(g)
    assert result.ok and result.nodes["block"].output == (1, 2**31, 2**31)


def test_invalid_input_shape() -> None:
    g = chain([3, 0, 8], ("relu", {}))
    assert "shape must hold positive whole numbers only" in only_error(g, "input")


def test_errors_never_raise_even_on_nonsense_values() -> None:
    for value in ("abc", [], {}, [1.5, 2], True, 10**30):
        g = chain([3, 8, 8], ("conv2d", {}, "conv"), ("linear", {}, "fc"))
        g.set_params("conv", {"kernel_size": value})
        result = infer(g)
        assert not result.ok
        assert result.nodes["fc"].output is None


def test_downstream_of_an_error_is_unknown_without_more_diagnostics() -> None:
    g = chain(
        [3, 4, 4],
        ("conv2d", {"kernel_size": 7}, "conv"),
        ("relu", {}, "relu"),
        ("flatten", {}, "flat"),
        ("linear", {}, "fc"),
    )
    result = infer(g)
    assert [d.node for d in result.diagnostics] == ["conv"]
    for name in ("relu", "flat", "fc", "output"):
        node = result.nodes[name]
        assert node.output is None and node.params is None and node.macs is None
    assert result.total_params == 0


def test_group_totals_nest_and_go_unknown() -> None:
    g = Graph()
    g.add_node("input", "input", {"shape": [3, 8, 8]})
    g.add_node("conv2d", "layer1.0.conv1", {"out_channels": 4}, group=("layer1", "0"))
    g.add_node("batchnorm", "layer1.0.bn1", group=("layer1", "0"))
    g.add_node("conv2d", "layer1.1.conv1", {"out_channels": 4}, group=("layer1", "1"))
    g.add_node("output", "output")
    for a, b in [
        ("input", "layer1.0.conv1"),
        ("layer1.0.conv1", "layer1.0.bn1"),
        ("layer1.0.bn1", "layer1.1.conv1"),
        ("layer1.1.conv1", "output"),
    ]:
        g.connect(a, b)
    result = infer(g)
    conv1 = 4 * 3 * 9 + 4
    conv2 = 4 * 4 * 9 + 4
    assert result.groups["layer1.0"].params == conv1 + 8
    assert result.groups["layer1.1"].params == conv2
    assert result.groups["layer1"].params == conv1 + 8 + conv2
    assert result.groups["layer1"].members == 3
    assert result.groups["layer1"].macs == 4 * 6 * 6 * 27 + 4 * 4 * 4 * 36
    assert result.total_params == conv1 + 8 + conv2
    g.set_params("layer1.1.conv1", {"kernel_size": 9})
    broken = infer(g)
    assert broken.groups["layer1"].params is None and broken.groups["layer1.1"].macs is None
    assert broken.groups["layer1.0"].params == conv1 + 8


def test_edge_shape_and_order() -> None:
    g = chain([3, 8, 8], ("conv2d", {"out_channels": 5}, "conv"))
    result = infer(g)
    (edge,) = g.out_edges("conv")
    assert result.edge_shape(edge) == (5, 6, 6)
    assert result.order == ["input", "conv", "output"]


def test_maxpool_indices_feed_only_a_maxunpool() -> None:
    g = chain([3, 8, 8], ("maxpool2d", {"kernel_size": 2, "return_indices": True}, "pool"))
    g.add_node("relu", "relu")
    g.connect("pool", "relu", "indices")
    message = only_error(g, "relu")
    assert message.startswith(
        "relu (relu): its 'in' input receives the 'indices' output of pool (maxpool2d): "
        "integer positions, not values"
    )


def test_maxunpool_must_restore_its_pools_input_size() -> None:
    g = chain([3, 7, 7], ("maxpool2d", {"kernel_size": 2, "return_indices": True}, "pool"))
    g.add_node("maxunpool2d", "unpool")
    g.connect("pool", "unpool", "out", "in")
    g.connect("pool", "unpool", "indices", "indices")
    message = only_error(g, "unpool")
    assert "gives 6×6 but the MaxPool2d pool it undoes pooled a 7×7 input" in message


# ----- remembered rule results ---------------------------------------------------------------
def test_remembered_results_follow_parameter_and_input_changes() -> None:
    """Identical layers share one remembered result; an edit is never answered from memory."""
    clear_memo()
    conv = {"out_channels": 8, "kernel_size": 3, "padding": 1}
    g = chain([3, 16, 16], ("conv2d", conv, "a"), ("conv2d", conv, "b"))
    first = infer(g)
    assert first.nodes["a"].output == (8, 16, 16) and first.nodes["b"].output == (8, 16, 16)
    g.set_params("a", {"kernel_size": 5, "padding": 0})
    changed = infer(g)
    assert changed.nodes["a"].output == (8, 12, 12)
    assert changed.nodes["b"].output == (8, 12, 12)  # same parameters, new input shape
    assert changed.nodes["a"].params == 8 * 3 * 5 * 5 + 8
    g.set_params("a", {"kernel_size": 3, "padding": 1})
    again = infer(g)
    assert again.nodes["b"].output == (8, 16, 16) and again.nodes["b"].params == 8 * 8 * 9 + 8


def test_warnings_and_errors_are_reported_every_time_not_remembered() -> None:
    g = chain([3, 7, 8], ("conv2d", {"kernel_size": 3, "stride": 2}, "conv"))
    assert [w.node for w in infer(g).warnings] == ["conv"]
    assert [w.node for w in infer(g).warnings] == ["conv"]
    bad = chain([3, 2, 2], ("conv2d", {"kernel_size": 5}, "conv"))
    assert [e.node for e in infer(bad).errors] == ["conv"]
    assert [e.node for e in infer(bad).errors] == ["conv"]


def test_unhashable_parameter_values_are_checked_not_remembered() -> None:
    g = chain([3, 8, 8], ("conv2d", {"kernel_size": {"bad": 1}}, "conv"))
    assert [e.node for e in infer(g).errors] == ["conv"]


def test_remembered_results_tell_apart_equal_values_of_other_types() -> None:
    """8 and 8.0 compare equal, but only the int is a valid channel count: never from memory."""
    clear_memo()
    conv = {"out_channels": 8, "kernel_size": 3}
    g = chain([3, 8, 8], ("conv2d", conv, "a"), ("conv2d", conv, "b"))
    assert infer(g).ok
    g.set_params("b", {"out_channels": 8.0})
    assert [e.node for e in infer(g).errors] == ["b"]
    g.set_params("b", {"out_channels": 8, "kernel_size": (3, 3)})
    result = infer(g)
    assert result.ok and result.nodes["b"].output == (8, 4, 4)
