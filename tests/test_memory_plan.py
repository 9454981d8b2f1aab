"""The memory planner (issue 20 point 1): its activation bytes against what autograd really keeps,
per block type and for every preset; the largest batch; inference peak by hand; the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Graph, Project, save_project
from engine.analysis.memory import MemoryPlanError, max_batch_for, plan_memory
from engine.analysis.memory_measure import measure_saved_bytes
from engine.analysis.memory_rules import RULES
from engine.analysis.memory_sizes import CARDS, MemorySizeError, parse_memory_size
from presets import PRESETS

TOLERANCE = 0.10


def _small(preset_name: str, **options: object) -> Graph:
    """The preset at a small resolution that infers: its minimum, at least 32."""
    preset = PRESETS.get(preset_name)
    values = {**preset.defaults(), **options}
    resolution = max(preset.option("resolution").minimum_for(values), 32)
    return preset.create(**options, resolution=resolution)


def _agree(graph: Graph, precision: str = "fp32") -> None:
    measured = measure_saved_bytes(graph, batch=2, precision=precision)
    planned = plan_memory(graph, 2, precision=precision, device="cpu").activations
    assert measured > 0
    assert abs(planned - measured) <= TOLERANCE * measured, (planned, measured)


CASES = [(p.name, {}) for p in PRESETS] + [
    ("googlenet", {"aux_logits": True}),
    ("inception_v3", {"aux_logits": True}),
    ("vgg11", {"batch_norm": True}),
    ("alexnet", {"lrn": True}),
]


@pytest.mark.parametrize(("name", "options"), CASES, ids=[f"{n}{o or ''}" for n, o in CASES])
def test_planned_activations_match_saved_tensors(name: str, options: dict) -> None:
    _agree(_small(name, **options))


@pytest.mark.parametrize("name", ["resnet18", "small_vgg", "squeezenet1_1", "mobilenet_v2"])
def test_planned_amp_activations_match_autocast(name: str) -> None:
    """fp16 autocast (on the CPU): half outputs and half copies of inputs and weights."""
    _agree(_small(name), "amp")


@pytest.mark.parametrize("name", ["resnet8", "lenet5_digits"])
def test_planned_bf16_activations_match(name: str) -> None:
    _agree(_small(name), "bf16")


def _chain(block: str, params: dict, shape: list[int]) -> Graph:
    """input → conv (so gradients flow) → block → output."""
    g = Graph()
    g.add_node("input", "input", {"shape": shape})
    g.add_node("conv2d", "conv", {"out_channels": 4, "kernel_size": 3, "padding": 1})
    g.add_node(block, "block", params)
    g.add_node("output", "out")
    for a, b in [("input", "conv"), ("conv", "block"), ("block", "out")]:
        g.connect(a, b)
    return g


BLOCKS: dict[str, dict] = {
    "conv2d": {"out_channels": 3, "kernel_size": 3},
    "conv_transpose2d": {"out_channels": 3, "kernel_size": 3},
    "locally_connected2d": {"out_channels": 3, "kernel_size": 3},
    "maxpool2d": {"kernel_size": 2},
    "avgpool2d": {"kernel_size": 2},
    "lppool2d": {"kernel_size": 2},
    "adaptive_avgpool2d": {"output_size": 2},
    "adaptive_maxpool2d": {"output_size": 2},
    "local_response_norm": {"size": 3},
    "prelu": {"per_channel": True},
    "dropout2d": {"p": 0.5},
}


@pytest.mark.parametrize("block", sorted(set(RULES) - {"input", "output", "add", "concat"}))
def test_each_block_types_rule_matches_torch(block: str) -> None:
    """The table entry of every block type, exactly, behind a convolution it shares with."""
    params = BLOCKS.get(block, {})
    shape = [3, 8, 8]
    if block == "maxunpool2d":
        g = _chain("maxpool2d", {"kernel_size": 2, "return_indices": True}, shape)
        g.disconnect(g.in_edges("out")[0])
        g.add_node("maxunpool2d", "unpool", {"kernel_size": 2})
        g.connect("block", "unpool", "out", "in")
        g.connect("block", "unpool", "indices", "indices")
        g.connect("unpool", "out")
    elif block == "linear":
        g = Graph()
        g.add_node("input", "input", {"shape": shape})
        g.add_node("conv2d", "conv", {"out_channels": 2, "kernel_size": 3})
        g.add_node("flatten", "flat")
        g.add_node("linear", "block", {"out_features": 5})
        g.add_node("output", "out")
        for a, b in [("input", "conv"), ("conv", "flat"), ("flat", "block"), ("block", "out")]:
            g.connect(a, b)
    else:
        g = _chain(block, params, shape)
    measured = measure_saved_bytes(g, batch=2)
    assert plan_memory(g, 2, device="cpu").activations == measured


def test_shared_storage_counted_once() -> None:
    """conv → ReLU → conv: the ReLU's output is kept by the ReLU and by the second conv."""
    g = Graph()
    g.add_node("input", "input", {"shape": [3, 8, 8]})
    g.add_node("conv2d", "c1", {"out_channels": 4, "kernel_size": 3, "padding": 1})
    g.add_node("relu", "r1")
    g.add_node("conv2d", "c2", {"out_channels": 4, "kernel_size": 3, "padding": 1})
    g.add_node("output", "out")
    for a, b in [("input", "c1"), ("c1", "r1"), ("r1", "c2"), ("c2", "out")]:
        g.connect(a, b)
    plan = plan_memory(g, 2)
    relu_output = 2 * 4 * 8 * 8 * 4
    assert plan.activations == relu_output == measure_saved_bytes(g, 2)
    assert {layer.name: layer.activations for layer in plan.layers}["r1"] == relu_output


def test_inference_peak_by_hand() -> None:
    """input 1×8×8 → conv 4 → ReLU: at the ReLU both 4×8×8 tensors live (the input is freed)."""
    g = _chain("relu", {}, [1, 8, 8])
    plan = plan_memory(g, 2)
    weights = (4 * 9 + 4) * 4
    assert plan.weights == weights
    assert plan.total_inference == weights + 2 * (4 * 64 * 4) * 2


@pytest.mark.parametrize(
    ("optimizer", "momentum", "buffers"),
    [("sgd", 0.0, 0), ("sgd", 0.9, 1), ("adam", 0.9, 2), ("adamw", 0.0, 2), ("rmsprop", 0.0, 1)],
)
def test_optimizer_state(optimizer: str, momentum: float, buffers: int) -> None:
    plan = plan_memory(_small("resnet8"), 4, optimizer, momentum=momentum)
    assert plan.optimizer_state == buffers * plan.weights
    half = plan_memory(_small("resnet8"), 4, optimizer, "bf16", momentum=momentum)
    assert half.weights * 2 == plan.weights and half.optimizer_state * 2 == plan.optimizer_state


@pytest.mark.parametrize("memory", ["24GB", "t4", "3 GiB"])
@pytest.mark.parametrize("name", ["resnet18", "vgg11", "mobilenet_v2"])
def test_max_batch_is_the_largest_that_fits(name: str, memory: str) -> None:
    size = parse_memory_size(memory)
    graph = PRESETS.get(name).create()
    plan = plan_memory(graph, 8, "sgd", device_memory=size)
    best = plan.max_batch
    assert best is not None and best >= 1
    # planned afresh at that batch and one above, not just the linear formula
    assert plan_memory(graph, best, "sgd").total_training <= size
    assert plan_memory(graph, best + 1, "sgd").total_training > size
    assert plan.fits(best) and not plan.fits(best + 1)


def test_max_batch_zero_when_nothing_fits() -> None:
    plan = plan_memory(PRESETS.get("vgg16").create(), 1, device_memory=10**6)
    assert plan.max_batch == 0
    assert max_batch_for(plan, 10**12) > 0


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("24GB", 24 * 10**9),
        ("24 GiB", 24 * 2**30),
        ("16000MB", 16 * 10**9),
        ("8g", 8 * 2**30),
        ("RTX3090", CARDS["rtx3090"]),
        ("a100-40", 40 * 2**30),
        ("1.5GiB", 3 * 2**29),
    ],
)
def test_memory_sizes(text: str, size: int) -> None:
    assert parse_memory_size(text) == size


@pytest.mark.parametrize("text", ["24XB", "", "-3GB", "0", "lots", "gtx9999", "9" * 200])
def test_bad_memory_sizes(text: str) -> None:
    with pytest.raises(MemorySizeError, match="cannot read this as a memory size"):
        parse_memory_size(text)


def test_invalid_design_refused() -> None:
    g = _chain("linear", {"out_features": 3}, [3, 8, 8])  # Linear on an image: an error
    with pytest.raises(MemoryPlanError, match="error"):
        plan_memory(g, 2)
    with pytest.raises(MemoryPlanError, match="batch"):
        plan_memory(_small("resnet8"), 0)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "designer", "memory", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_json_contract() -> None:
    done = _cli(
        "--preset",
        "resnet18",
        "--option",
        "classes=10",
        "--batch",
        "16",
        "--json",
        "--device-memory",
        "24GB",
        "--optimizer",
        "sgd",
        "--precision",
        "amp",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    for key in (
        "batch",
        "weights",
        "gradients",
        "optimizer",
        "activations",
        "total_training",
        "total_inference",
        "max_batch",
        "layers",
    ):
        assert key in data
    graph = PRESETS.get("resnet18").create(classes=10)
    plan = plan_memory(graph, 16, "sgd", "amp", device_memory=24 * 10**9)
    assert data["batch"] == 16 and data["max_batch"] == plan.max_batch
    assert data["total_training"] == plan.total_training
    assert sum(layer["activations"] for layer in data["layers"]) == data["activations"]
    assert {"name", "activations"} <= set(data["layers"][1])


def test_cli_text_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "net.cnnd"
    save_project(Project(_small("small_vgg")), path)
    done = _cli(str(path), "--batch", "32", "--device-memory", "t4")
    assert done.returncode == 0, done.stderr
    assert "total to train" in done.stdout and "MiB" in done.stdout
    assert "largest batch that fits 16.0 GiB" in done.stdout


def test_cli_bad_memory_size_is_one_message() -> None:
    done = _cli("--preset", "lenet5", "--batch", "2", "--device-memory", "24XB")
    assert done.returncode == 2
    assert "--device-memory" in done.stderr and "24XB" in done.stderr
    assert "rtx3090" in done.stderr and "Traceback" not in done.stderr


def test_cli_invalid_design_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.cnnd"
    save_project(Project(_chain("linear", {"out_features": 3}, [3, 8, 8])), path)
    done = _cli(str(path), "--batch", "2")
    assert done.returncode == 1 and "cannot be planned" in done.stderr
    assert "Traceback" not in done.stderr
