"""Issue 18 point 6: dropout's masks are torch's own, its test output is the identity, and the
lecture's rule (multiply by the keep probability at test) keeps the same expectation as torch's
inverted dropout."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from engine.errors import ParameterError
from engine.lecture.dropout import dropout_trace, expectation_check


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_masks_and_outputs_are_torchs_own(p: float, dtype) -> None:
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 4))
    trace = dropout_trace(x, p, passes=4, seed=123)
    layer = torch.nn.Dropout(p).train()
    torch.manual_seed(123)  # the same generator state: torch's own forward passes
    for k in range(4):
        y = layer(torch.from_numpy(x).to(dtype)).double().numpy()
        np.testing.assert_allclose(np.asarray(trace.train_outputs[k]), y, rtol=1e-6, atol=1e-6)
        mask = np.asarray(trace.masks[k])
        assert set(np.unique(mask)) <= {0.0, 1.0}
        np.testing.assert_array_equal(mask != 0, y != 0)
    layer.eval()
    np.testing.assert_array_equal(np.asarray(trace.eval_output), layer(torch.from_numpy(x)).numpy())
    json.dumps(trace.to_dict())


def test_the_caller_random_state_is_left_alone() -> None:
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    dropout_trace(np.ones((5, 5)), 0.5, seed=99)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_lecture_rule_is_inverted_dropout_times_the_keep_probability(p: float) -> None:
    x = np.random.default_rng(1).normal(size=(3, 6))
    trace = dropout_trace(x, p, passes=5, seed=4)
    q = 1 - p
    assert trace.keep == pytest.approx(q)
    for lecture, inverted in zip(trace.lecture_train_outputs, trace.train_outputs, strict=True):
        np.testing.assert_allclose(np.asarray(lecture), np.asarray(inverted) * q, rtol=1e-12)
    np.testing.assert_allclose(
        np.asarray(trace.lecture_eval_output), np.asarray(trace.eval_output) * q, rtol=1e-12
    )


@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
def test_the_expected_activation_is_the_same_at_train_and_test(p: float) -> None:
    x = np.random.default_rng(2).normal(size=(4, 8))
    check = expectation_check(x, p, passes=4000, seed=11)
    assert check.within_bound, check.lines
    # the bound is the binomial one, and it is tight enough to mean something
    assert check.bound == pytest.approx(5 * np.abs(x).max() * math.sqrt(p / (1 - p) / 4000))
    assert check.max_error_inverted < 0.2 * np.abs(x).max()
    # a wrong convention (inverted training, but scaled again at test) is far outside the bound
    trace = dropout_trace(x, p, passes=4000, seed=11)
    mean_train = np.mean(np.asarray(trace.train_outputs), axis=0)
    assert np.max(np.abs(mean_train - x * (1 - p))) > check.bound
    json.dumps(check.to_dict())


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_a_bad_probability_is_a_clear_error(p: float) -> None:
    with pytest.raises(ParameterError, match="p is the probability"):
        dropout_trace(np.ones(3), p)
    with pytest.raises(ParameterError, match="p < 1"):
        expectation_check(np.ones(3), 1.0)


def test_the_lecture_package_imports_without_torch_or_qt() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import engine.lecture.steps, engine.lecture.steps_scatter, engine.lecture.backprop\n"
        "import engine.lecture.batchnorm, engine.lecture.dropout\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
