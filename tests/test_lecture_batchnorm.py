"""Issue 18 point 5: BatchNorm2d's statistics, momentum updates, training and eval outputs and
the algorithm's lines, against nn.BatchNorm2d."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.errors import ParameterError
from engine.lecture.batchnorm import batchnorm_eval, batchnorm_walkthrough

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _module(c: int, momentum, affine: bool, rng) -> torch.nn.BatchNorm2d:
    bn = torch.nn.BatchNorm2d(c, eps=1e-3, momentum=momentum, affine=affine).double()
    with torch.no_grad():
        if affine:
            bn.weight.copy_(torch.from_numpy(rng.normal(size=c)))
            bn.bias.copy_(torch.from_numpy(rng.normal(size=c)))
        bn.running_mean.copy_(torch.from_numpy(rng.normal(size=c)))
        bn.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2, size=c)))
    return bn


@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0, 0.0, None])
@pytest.mark.parametrize("affine", [True, False])
def test_steps_equal_the_module_batch_by_batch(momentum, affine: bool) -> None:
    rng = np.random.default_rng(5)
    c = 3
    bn = _module(c, momentum, affine, rng)
    start = (bn.running_mean.numpy().copy(), bn.running_var.numpy().copy())
    batches = [
        rng.normal(2, 3, size=shape)
        for shape in [(4, c, 3, 3), (2, c, 1, 1), (1, c, 2, 5), (8, c, 2, 2)]
    ]
    trace = batchnorm_walkthrough(
        batches,
        bn.weight.detach().numpy() if affine else None,
        bn.bias.detach().numpy() if affine else None,
        start[0],
        start[1],
        eps=1e-3,
        momentum=momentum,
        affine=affine,
    )
    for k, (batch, step) in enumerate(zip(batches, trace.steps, strict=True), start=1):
        bn.train()
        y = bn(torch.from_numpy(batch)).detach().numpy()
        np.testing.assert_allclose(np.asarray(step.y_train), y, **TOL)
        np.testing.assert_allclose(step.running_mean, bn.running_mean.numpy(), **TOL)
        np.testing.assert_allclose(step.running_var, bn.running_var.numpy(), **TOL)
        assert step.num_batches_tracked == int(bn.num_batches_tracked) == k
        np.testing.assert_allclose(step.mean, batch.mean(axis=(0, 2, 3)), **TOL)
        bn.eval()
        y_eval = bn(torch.from_numpy(batch)).detach().numpy()
        np.testing.assert_allclose(np.asarray(step.y_eval), y_eval, **TOL)
    assert trace.num_batches_tracked == len(batches)
    np.testing.assert_allclose(trace.running_var, bn.running_var.numpy(), **TOL)
    json.dumps(trace.to_dict())


def test_eval_output_equals_the_module_in_eval_mode() -> None:
    rng = np.random.default_rng(2)
    bn = _module(2, 0.1, True, rng).eval()
    x = rng.normal(size=(3, 2, 4, 4))
    y = batchnorm_eval(
        x,
        bn.weight.detach().numpy(),
        bn.bias.detach().numpy(),
        bn.running_mean.numpy(),
        bn.running_var.numpy(),
        eps=1e-3,
    )
    np.testing.assert_allclose(np.asarray(y), bn(torch.from_numpy(x)).detach().numpy(), **TOL)


def test_the_algorithm_lines_carry_the_numbers() -> None:
    x = np.array([1.0, 2.0, 3.0, 6.0]).reshape(4, 1, 1, 1)
    step = batchnorm_walkthrough([x]).steps[0]
    assert step.lines[0] == "channel 0: m = N·H·W = 4"
    assert step.lines[1] == "μ_B ← (1/m) Σ xᵢ = 3"
    assert step.lines[2] == "σ²_B ← (1/m) Σ (xᵢ − μ_B)² = 3.5"
    assert step.lines[5] == "running_mean ← (1 − 0.1)·0 + 0.1·3 = 0.3"
    assert "4/3·3.5" in step.lines[6] and step.lines[6].endswith("= 1.36667")
    assert step.var_unbiased == [pytest.approx(14 / 3)]


def test_a_batch_of_one_value_per_channel_is_a_message_not_an_exception() -> None:
    x = np.ones((1, 2, 1, 1))
    bn = torch.nn.BatchNorm2d(2).double()
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(torch.from_numpy(x))
    trace = batchnorm_walkthrough([x, np.random.default_rng(0).normal(size=(3, 2, 2, 2))])
    first = trace.steps[0]
    assert first.message is not None and "more than one value per channel" in first.message
    assert first.y_train is None and first.num_batches_tracked == 0
    assert first.running_mean == [0.0, 0.0] and first.running_var == [1.0, 1.0]
    assert trace.steps[1].num_batches_tracked == 1 and trace.num_batches_tracked == 1


def test_a_batch_of_two_shows_what_it_does_to_the_statistics() -> None:
    x = np.array([1.0, 5.0]).reshape(2, 1, 1, 1)
    step = batchnorm_walkthrough([x], eps=1e-12).steps[0]
    assert step.var == [4.0] and step.var_unbiased == [8.0]
    assert np.asarray(step.x_hat).reshape(-1) == pytest.approx([-1.0, 1.0])
    assert step.message is not None and "m = 2" in step.message
    same = batchnorm_walkthrough([np.full((2, 1, 1, 1), 3.0)]).steps[0]
    assert "variance 0" in (same.message or "") and np.asarray(same.y_train).max() == 0.0


def test_bad_batches_are_a_clear_error() -> None:
    with pytest.raises(ParameterError, match="non-empty \\(N, C, H, W\\)"):
        batchnorm_walkthrough([np.ones((3, 3))])
    with pytest.raises(ParameterError, match="same channels"):
        batchnorm_walkthrough([np.ones((2, 1, 2, 2)), np.ones((2, 3, 2, 2))])
    with pytest.raises(ParameterError, match="weight needs one value per channel"):
        batchnorm_walkthrough([np.ones((2, 2, 2, 2))], weight=[1.0])
