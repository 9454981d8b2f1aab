"""Issue 18 point 2: the step-through of convolution, pooling, transposed convolution and
unpooling, every output cell (as its step writes it) and the whole output against torch."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import ParameterError
from engine.lecture.steps import (
    avg_pool2d_steps,
    conv2d_steps,
    lp_pool2d_steps,
    max_pool2d_steps,
)
from engine.lecture.steps_scatter import conv_transpose2d_steps, max_unpool2d_steps
from engine.lecture.steps_types import (
    LECTURE_FEATURE,
    LECTURE_IMAGE,
    LECTURE_KERNEL,
    MAX_STEPS,
    StepThrough,
)

TOL = {"rtol": 1e-10, "atol": 1e-10}


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def _check_window_op(result: StepThrough, expected: torch.Tensor, channel: int) -> None:
    """The output equals torch's, and every step writes torch's value into its cell."""
    exp = expected.numpy()
    np.testing.assert_allclose(np.asarray(result.output), exp, **TOL)
    assert result.total_steps == exp.shape[1] * exp.shape[2]
    for step in result.steps:
        ch, r, c = step.output
        assert ch == channel
        assert step.written == pytest.approx(float(exp[ch, r, c]), rel=1e-10, abs=1e-10)
    json.dumps(result.to_dict())


def _check_transpose(result: StepThrough, expected: torch.Tensor, channel: int) -> None:
    exp = expected.numpy()
    np.testing.assert_allclose(np.asarray(result.output), exp, **TOL)
    last: dict[tuple[int, int], float] = {}
    for step in result.steps:
        assert step.added == pytest.approx([step.value * k for k in step.kernel])
        for (ch, r, c), value in zip(step.targets, step.written, strict=True):
            assert ch == channel
            last[(r, c)] = value
    top, left = result.pad
    for (r, c), value in last.items():
        rr, cc = r - top, c - left
        if 0 <= rr < exp.shape[1] and 0 <= cc < exp.shape[2]:
            assert value == pytest.approx(float(exp[channel, rr, cc]), rel=1e-10, abs=1e-10)
    json.dumps(result.to_dict())


def test_lecture_example_gives_the_lectures_convolved_feature() -> None:
    result = conv2d_steps(np.array(LECTURE_IMAGE), np.array(LECTURE_KERNEL))
    assert np.asarray(result.output)[0].tolist() == [list(row) for row in LECTURE_FEATURE]
    assert [s.written for s in result.steps] == [float(v) for row in LECTURE_FEATURE for v in row]
    first = result.steps[0]
    assert first.cells[:3] == [[0, 0, 0], [0, 0, 1], [0, 0, 2]]
    assert first.products == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    torch_out = F.conv2d(_t(LECTURE_IMAGE)[None, None], _t(LECTURE_KERNEL)[None, None])
    _check_window_op(result, torch_out[0], 0)


CONV_CASES = [
    # (C_in, H, W, C_out, kh, kw, stride, padding, dilation, groups, out_channel)
    (1, 5, 5, 1, 3, 3, 1, 0, 1, 1, 0),
    (1, 7, 6, 1, 3, 3, 2, 0, 1, 1, 0),
    (1, 5, 5, 1, 3, 3, 1, 1, 1, 1, 0),
    (2, 8, 7, 3, 3, 2, (2, 1), (1, 2), (2, 1), 1, 2),
    (3, 6, 6, 2, 1, 1, 1, 0, 1, 1, 1),
    (4, 6, 5, 4, 3, 3, 1, 1, 1, 2, 3),
    (4, 9, 9, 2, 2, 3, 3, 2, 2, 2, 0),
    (3, 5, 5, 3, 3, 3, 1, 1, 1, 3, 1),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_steps_equal_torch(case: tuple) -> None:
    c_in, h, w, c_out, kh, kw, stride, padding, dilation, groups, oc = case
    rng = np.random.default_rng(hash(case) % 2**32)
    x = rng.normal(size=(c_in, h, w))
    weight = rng.normal(size=(c_out, c_in // groups, kh, kw))
    bias = rng.normal(size=c_out)
    result = conv2d_steps(x, weight, bias, stride, padding, dilation, groups, out_channel=oc)
    expected = F.conv2d(_t(x)[None], _t(weight), _t(bias), stride, padding, dilation, groups)[0]
    _check_window_op(result, expected, oc)
    assert len(result.steps[0].cells) == (c_in // groups) * kh * kw  # the sum over channels


TRANSPOSE_CASES = [
    # (C_in, H, W, C_out/g, kh, kw, stride, padding, output_padding, dilation, groups, oc)
    (1, 3, 3, 1, 3, 3, 1, 0, 0, 1, 1, 0),
    (1, 3, 4, 1, 3, 3, 2, 0, 0, 1, 1, 0),
    (2, 3, 3, 2, 3, 3, 2, 1, 1, 1, 1, 1),
    (2, 4, 3, 3, 2, 3, (2, 3), (1, 0), (1, 2), (1, 2), 1, 2),
    (4, 3, 3, 1, 3, 3, 2, 1, 0, 2, 2, 1),
    (3, 2, 2, 2, 4, 4, 3, 2, 2, 1, 1, 0),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES)
def test_conv_transpose2d_steps_equal_torch(case: tuple) -> None:
    c_in, h, w, og, kh, kw, stride, padding, out_pad, dilation, groups, oc = case
    rng = np.random.default_rng(hash(case) % 2**32)
    x = rng.normal(size=(c_in, h, w))
    weight = rng.normal(size=(c_in, og, kh, kw))
    bias = rng.normal(size=og * groups)
    result = conv_transpose2d_steps(
        x, weight, bias, stride, padding, out_pad, dilation, groups, out_channel=oc
    )
    expected = F.conv_transpose2d(
        _t(x)[None], _t(weight), _t(bias), stride, padding, out_pad, groups, dilation
    )[0]
    _check_transpose(result, expected, oc)
    assert result.total_steps == (c_in // groups) * h * w


POOL_CASES = [
    # (H, W, kernel, stride, padding, dilation, ceil_mode)
    (4, 4, 2, None, 0, 1, False),
    (5, 5, 2, 2, 0, 1, True),
    (5, 6, 3, 2, 1, 1, False),
    (7, 7, 3, 2, 1, 1, True),
    (6, 7, (2, 3), (1, 2), (1, 1), (1, 1), True),
    (8, 8, 3, 1, 1, 2, False),
    (9, 8, 3, 2, 1, (2, 3), True),
    (6, 6, 3, 3, 0, 1, True),
]


@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool2d_steps_equal_torch(case: tuple) -> None:
    h, w, k, s, p, d, ceil = case
    x = np.random.default_rng(hash(case) % 2**32).normal(size=(2, h, w))
    result = max_pool2d_steps(x, k, s, p, d, ceil, channel=1)
    out, idx = F.max_pool2d(_t(x)[None], k, s, p, d, ceil, return_indices=True)
    _check_window_op(result, out[0], 1)
    assert result.extra["indices"] == idx[0].tolist()
    for step in result.steps:
        assert step.chosen is not None and step.values[step.chosen] == step.written


def test_max_pool_ties_pick_torchs_index() -> None:
    x = np.array([[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 1.0, 3.0]])
    result = max_pool2d_steps(x, 2, 2)
    _, idx = F.max_pool2d(_t(x)[None, None], 2, 2, return_indices=True)
    assert result.extra["indices"] == idx[0].tolist()


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("include_pad", [True, False])
@pytest.mark.parametrize("override", [None, 5])
def test_avg_pool2d_steps_equal_torch(case: tuple, include_pad: bool, override: int | None) -> None:
    h, w, k, s, p, _, ceil = case
    x = np.random.default_rng(hash(case) % 2**32).normal(size=(2, h, w))
    result = avg_pool2d_steps(x, k, s, p, ceil, include_pad, override, channel=0)
    expected = F.avg_pool2d(_t(x)[None], k, s, p, ceil, include_pad, override)[0]
    _check_window_op(result, expected, 0)
    for step in result.steps:
        assert step.written == pytest.approx(sum(step.values) / step.divisor)


@pytest.mark.parametrize("norm", [1, 2, 3, 1.5])
@pytest.mark.parametrize("case", [(4, 4, 2, None, False), (5, 7, 3, 2, True), (5, 5, 2, 2, True)])
def test_lp_pool2d_steps_equal_torch(norm: float, case: tuple) -> None:
    h, w, k, s, ceil = case
    x = np.random.default_rng(7).uniform(0.1, 2.0, size=(1, h, w))
    result = lp_pool2d_steps(x, norm, k, s, ceil)
    expected = F.lp_pool2d(_t(x)[None], norm, k, s, ceil)[0]
    _check_window_op(result, expected, 0)


UNPOOL_CASES = [
    # (H, W, kernel, stride, padding, give output_size)
    (4, 4, 2, None, 0, False),
    (5, 5, 2, 2, 0, True),
    (7, 6, 3, 2, 1, True),
    (6, 6, 3, 1, 1, False),
]


@pytest.mark.parametrize("case", UNPOOL_CASES)
def test_max_unpool2d_steps_equal_torch(case: tuple) -> None:
    h, w, k, s, p, give_size = case
    x = _t(np.random.default_rng(3).normal(size=(1, 2, h, w)))
    pooled, idx = F.max_pool2d(x, k, s, p, return_indices=True)
    size = [h, w] if give_size else None
    result = max_unpool2d_steps(pooled[0].numpy(), idx[0].numpy(), k, s, p, size, channel=1)
    expected = F.max_unpool2d(pooled, idx, k, s, p, output_size=size)[0]
    np.testing.assert_allclose(np.asarray(result.output), expected.numpy(), **TOL)
    for step in result.steps:
        (ch, r, c) = step.targets[0]
        assert expected[ch, r, c].item() == step.value
        assert idx[0, ch, step.source[1], step.source[2]].item() == r * expected.shape[2] + c
    json.dumps(result.to_dict())


def test_a_large_input_is_stepped_through_a_window_and_says_so() -> None:
    x = np.random.default_rng(0).normal(size=(1, 80, 80))
    kernel = np.ones((3, 3))
    expected = F.conv2d(_t(x)[None], _t(kernel)[None, None])[0]
    auto = conv2d_steps(x, kernel)
    assert len(auto.steps) == MAX_STEPS and auto.total_steps == 78 * 78
    assert auto.note is not None and "first 2500" in auto.note
    _check_window_op(auto, expected, 0)
    first = conv2d_steps(x, kernel, window=10)
    assert len(first.steps) == 10 and "first 10" in (first.note or "")
    crop = conv2d_steps(x, kernel, window=(5, 8, 70, 100))
    assert [s.output[1:] for s in crop.steps][:2] == [[5, 70], [5, 71]]
    assert len(crop.steps) == 3 * 8 and "rows 5..7" in (crop.note or "")
    _check_window_op(crop, expected, 0)
    assert conv2d_steps(np.ones((4, 4)), np.ones((3, 3)), window=(0, 9, 0, 9)).note is None


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: conv2d_steps(np.ones((2, 4, 4)), np.ones((1, 3, 3, 3))), "in_channels/groups"),
        (lambda: conv2d_steps(np.ones((3, 3)), np.ones((5, 5))), "does not fit"),
        (lambda: conv2d_steps(np.ones((3, 3)), np.ones((2, 2)), stride=0), "stride"),
        (lambda: conv2d_steps(np.ones((3, 3)), np.ones((2, 2)), window="all"), "window"),
        (lambda: max_pool2d_steps(np.ones((4, 4)), 2, padding=2), "at most half the kernel"),
        (lambda: avg_pool2d_steps(np.ones((4, 4)), 2, padding=2), "half the kernel"),
        (lambda: lp_pool2d_steps(np.ones((4, 4)), 0, 2), "norm_type"),
        (lambda: max_unpool2d_steps(np.ones((2, 2)), np.full((2, 2), 99), 2), "index=99"),
        (
            lambda: conv_transpose2d_steps(np.ones((2, 2)), np.ones((3, 3)), output_padding=1),
            "output_padding",
        ),
    ],
)
def test_bad_input_is_a_clear_parameter_error(call, fragment: str) -> None:
    with pytest.raises(ParameterError, match=fragment):
        call()


@st.composite
def _window_params(draw: st.DrawFn) -> dict:
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = tuple(draw(st.integers(0, ((k[a] - 1) * d[a] + 1) // 2)) for a in (0, 1))
    hw = tuple(draw(st.integers((k[a] - 1) * d[a] + 1, 8)) for a in (0, 1))
    return {
        "k": k,
        "d": d,
        "s": s,
        "p": p,
        "hw": hw,
        "ceil": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_window_params(), st.integers(1, 3), st.integers(1, 2))
def test_random_settings_match_torch(prm: dict, c_in: int, c_out: int) -> None:
    rng = np.random.default_rng(prm["seed"])
    k, d, s, p, (h, w), ceil = prm["k"], prm["d"], prm["s"], prm["p"], prm["hw"], prm["ceil"]
    x = rng.normal(size=(c_in, h, w))
    weight, bias = rng.normal(size=(c_out, c_in, *k)), rng.normal(size=c_out)
    expected = F.conv2d(_t(x)[None], _t(weight), _t(bias), s, p, d)[0]
    _check_window_op(
        conv2d_steps(x, weight, bias, s, p, d, out_channel=c_out - 1), expected, c_out - 1
    )
    pa = tuple(min(p[a], k[a] // 2) for a in (0, 1))
    out, idx = F.max_pool2d(_t(x)[None], k, s, pa, d, ceil, return_indices=True)
    mp = max_pool2d_steps(x, k, s, pa, d, ceil, channel=c_in - 1)
    _check_window_op(mp, out[0], c_in - 1)
    assert mp.extra["indices"] == idx[0].tolist()
    for include in (True, False):
        expected = F.avg_pool2d(_t(x)[None], k, s, pa, ceil, include)[0]
        _check_window_op(avg_pool2d_steps(x, k, s, pa, ceil, include), expected, 0)
    pos = np.abs(x) + 0.1
    _check_window_op(
        lp_pool2d_steps(pos, 2, k, s, ceil), F.lp_pool2d(_t(pos)[None], 2, k, s, ceil)[0], 0
    )
    # transposed convolution: output_padding below max(stride, dilation), padding cropped
    op = tuple(min(p[a], max(s[a], d[a]) - 1) for a in (0, 1))
    tw = rng.normal(size=(c_in, c_out, *k))
    full = [(h - 1) * s[a] + d[a] * (k[a] - 1) + 1 + op[a] - 2 * p[a] for a in (0, 1)]
    if min(full) >= 1:
        expected = F.conv_transpose2d(_t(x)[None], _t(tw), _t(bias), s, p, op, 1, d)[0]
        _check_transpose(
            conv_transpose2d_steps(x, tw, bias, s, p, op, d, out_channel=0), expected, 0
        )
