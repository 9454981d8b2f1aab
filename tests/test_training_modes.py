"""model.train() while training, model.eval() while validating: dropout off and BatchNorm's
running statistics at evaluation, proved on the outputs."""

from __future__ import annotations

import itertools

import torch

from engine import Graph
from engine.training.trainer import Trainer


def regularised_graph() -> Graph:
    g = Graph()
    g.add_node("input", "input", {"shape": [1, 8, 8]})
    g.add_node("conv2d", "conv1", {"out_channels": 4, "kernel_size": 3, "padding": 1})
    g.add_node("batchnorm", "bn1")
    g.add_node("relu", "relu1")
    g.add_node("flatten", "flatten")
    g.add_node("dropout", "drop", {"p": 0.9})
    g.add_node("linear", "fc", {"out_features": 10})
    g.add_node("output", "output")
    chain = ["input", "conv1", "bn1", "relu1", "flatten", "drop", "fc", "output"]
    for a, b in itertools.pairwise(chain):
        g.connect(a, b)
    return g


def make_trainer() -> Trainer:
    trainer = Trainer(regularised_graph(), {"epochs": 1, "batch_size": 64, "data": {"limit": 300}})
    trainer.setup()
    return trainer


def test_modes_during_training_and_validation() -> None:
    trainer = make_trainer()
    modes: list[tuple[str, bool]] = []
    for name in ("bn1", "drop"):
        module = trainer.module.get_submodule(name)
        module.register_forward_hook(lambda m, _i, _o, name=name: modes.append((name, m.training)))
    x, y = next(iter(trainer.loader))
    trainer.train_step(x, y, lr=0.01)
    assert modes == [("bn1", True), ("drop", True)]
    modes.clear()
    trainer.validate()
    assert modes and all(not training for _, training in modes)
    assert trainer.module.training  # restored for the next epoch


def test_dropout_is_off_at_evaluation() -> None:
    trainer = make_trainer()
    first, second = trainer.validate(), trainer.validate()
    assert first.loss == second.loss and (first.confusion == second.confusion).all()
    x, _ = next(iter(trainer.val_loader))
    with torch.no_grad():
        trainer.module.eval()
        evaluated = trainer.module(x)
    # evaluation equals the network with the dropout block taken out
    drop = trainer.module.get_submodule("drop")
    trainer.module.eval()
    with torch.no_grad():
        features = trainer.module.get_submodule("flatten")(
            trainer.module.get_submodule("relu1")(
                trainer.module.get_submodule("bn1")(trainer.module.get_submodule("conv1")(x))
            )
        )
        direct = trainer.module.get_submodule("fc")(features)
    assert isinstance(drop, torch.nn.Dropout)
    assert torch.allclose(evaluated, direct, atol=1e-6)
    trainer.module.train()
    with torch.no_grad():
        a, b = trainer.module(x), trainer.module(x)
    assert not torch.allclose(a, b)  # while training, p=0.9 dropout changes every pass


def test_batchnorm_uses_running_statistics_at_evaluation() -> None:
    trainer = make_trainer()
    bn = trainer.module.get_submodule("bn1")
    x, y = next(iter(trainer.loader))
    before = bn.running_mean.clone()
    trainer.train_step(x, y, lr=0.01)
    assert not torch.equal(before, bn.running_mean)  # training updates the running statistics
    bn.running_mean.fill_(3.0)
    bn.running_var.fill_(4.0)
    captured: dict[str, torch.Tensor] = {}
    bn.register_forward_hook(lambda _m, i, o: captured.update(inp=i[0], out=o))
    frozen_mean = bn.running_mean.clone()
    trainer.validate()
    assert torch.equal(bn.running_mean, frozen_mean)  # evaluation leaves them alone
    expected = (captured["inp"] - 3.0) / torch.sqrt(torch.tensor(4.0) + bn.eps)
    expected = expected * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)
    assert torch.allclose(captured["out"], expected, atol=1e-5)
