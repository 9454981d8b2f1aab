"""Presets against torchvision itself: same state dict, same outputs, same shapes at every layer.

torchvision's module names are the presets' node names, so torchvision's weights load into the
compiled preset with ``strict=True`` and both give the same scores. Forward hooks on
torchvision's modules give the shapes torch computes; they must equal the shapes the designer
predicts for the node of the same name (and every node's recorded shape its prediction).
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from engine import compile_graph, infer, run_and_record_shapes
from presets import PRESETS

torch = pytest.importorskip("torch")
models = pytest.importorskip("torchvision.models")

# (preset, options, torchvision builder, its kwargs, input size for the test)
CASES = [
    ("alexnet", {}, "alexnet", {}, 63),
    ("vgg11", {}, "vgg11", {}, 32),
    ("vgg11", {"batch_norm": True}, "vgg11_bn", {}, 32),
    ("resnet18", {}, "resnet18", {}, 64),
    ("resnet50", {}, "resnet50", {}, 64),
    ("squeezenet1_0", {}, "squeezenet1_0", {}, 64),
    ("squeezenet1_1", {}, "squeezenet1_1", {}, 64),
    ("mobilenet_v2", {}, "mobilenet_v2", {}, 64),
    ("googlenet", {}, "googlenet", {"aux_logits": False, "init_weights": True}, 64),
    (
        "googlenet",
        {"aux_logits": True},
        "googlenet",
        {"aux_logits": True, "init_weights": True},
        64,
    ),
    ("inception_v3", {}, "inception_v3", {"aux_logits": False, "init_weights": False}, 75),
    (
        "inception_v3",
        {"aux_logits": True},
        "inception_v3",
        {"aux_logits": True, "init_weights": False},
        299,
    ),
]


def _main_output_index(module: Any, head: str) -> int | None:
    """Position of ``head``'s value among the compiled module's outputs (None: a single one)."""
    output = next(n for n in module.graph.nodes if n.op == "output")
    values = output.args[0]
    if not isinstance(values, tuple):
        return None
    return [v.meta["designer_node"] for v in values].index(head)


def _torch_shapes(model: Any, batch: Any) -> dict[str, tuple[int, ...]]:
    """Output shape of every leaf module of ``model`` called exactly once, by module name."""
    shapes: dict[str, tuple[int, ...]] = {}
    calls: dict[str, int] = {}
    handles = []
    for name, module in model.named_modules():
        if name and not list(module.children()):

            def hook(_m: Any, _i: Any, out: Any, name: str = name) -> None:
                calls[name] = calls.get(name, 0) + 1
                shapes[name] = tuple(out.shape[1:])

            handles.append(module.register_forward_hook(hook))
    with torch.no_grad():
        model(batch)
    for handle in handles:
        handle.remove()
    return {name: shape for name, shape in shapes.items() if calls[name] == 1}


@pytest.mark.parametrize(
    ("name", "options", "builder", "kwargs", "size"),
    CASES,
    ids=[f"{c[0]}{'-' + '-'.join(c[1]) if c[1] else ''}" for c in CASES],
)
def test_torchvision_weights_load_and_give_the_same_scores(
    name: str, options: dict, builder: str, kwargs: dict, size: int
) -> None:
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        reference = getattr(models, builder)(weights=None, num_classes=1000, **kwargs).eval()
    graph = PRESETS.get(name).create(**options, resolution=size)
    result = infer(graph)
    assert result.ok, [d.message for d in result.errors]
    module = compile_graph(graph, result).eval()
    module.load_state_dict(reference.state_dict(), strict=True)
    assert result.total_params == sum(p.numel() for p in reference.parameters())

    batch = torch.randn(1, 3, size, size)  # eval mode: one sample keeps the big nets quick
    with torch.no_grad():
        expected = reference(batch)
        outputs = module(batch)
    index = _main_output_index(module, "fc")
    got = outputs if index is None else outputs[index]
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-5)

    # layer by layer: torch's shapes equal the designer's predictions
    with torch.no_grad():
        recorded = run_and_record_shapes(module, batch)
    for node, node_result in result.nodes.items():
        for port, predicted in node_result.outputs.items():
            assert recorded[(node, port)] == predicted, node
    torch_shapes = _torch_shapes(reference, batch)
    matched = [n for n in torch_shapes if n in result.nodes]
    assert len(matched) >= 0.6 * len(torch_shapes), sorted(set(torch_shapes) - set(matched))[:10]
    for node in matched:
        assert result.nodes[node].output == torch_shapes[node], node
