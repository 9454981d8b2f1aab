"""Issue 18 point 4: gradients through convolution and pooling by the lecture's rules (numpy),
each grid against torch autograd."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import ParameterError
from engine.lecture.backprop import (
    avg_pool2d_backward,
    conv2d_backward,
    convolve_full,
    max_pool2d_backward,
)

TOL = {"rtol": 1e-10, "atol": 1e-10}


def _t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _torch_conv_grads(x, w, b, g, stride, padding, dilation, groups):
    xt, wt, bt = _t(x, True), _t(w, True), _t(b, True)
    out = F.conv2d(xt[None], wt, bt, stride, padding, dilation, groups)[0]
    out.backward(_t(g))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy(), out.shape


CONV_CASES = [
    # (C_in, H, W, C_out, kh, kw, stride, padding, dilation, groups)
    (1, 5, 5, 1, 3, 3, 1, 0, 1, 1),
    (1, 6, 6, 1, 3, 3, 2, 0, 1, 1),
    (1, 7, 6, 1, 3, 3, 2, 1, 1, 1),
    (2, 8, 7, 3, 3, 2, (2, 1), (1, 2), (2, 1), 1),
    (3, 9, 9, 2, 2, 3, 3, 2, 2, 1),
    (4, 6, 5, 4, 3, 3, 1, 1, 1, 2),
    (3, 7, 8, 3, 3, 3, 2, 1, 2, 3),
    (2, 4, 4, 2, 1, 1, 1, 0, 1, 1),
]


def _conv_case(case: tuple, seed: int) -> None:
    c_in, h, w, c_out, kh, kw, stride, padding, dilation, groups = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(c_in, h, w))
    weight = rng.normal(size=(c_out, c_in // groups, kh, kw))
    bias = rng.normal(size=c_out)
    with torch.no_grad():
        shape = F.conv2d(_t(x)[None], _t(weight), None, stride, padding, dilation, groups)[0].shape
    g = rng.normal(size=tuple(shape))
    gx, gw, gb, _ = _torch_conv_grads(x, weight, bias, g, stride, padding, dilation, groups)
    result = conv2d_backward(x, weight, g, stride, padding, dilation, groups)
    np.testing.assert_allclose(np.asarray(result.grad_input), gx, **TOL)
    np.testing.assert_allclose(np.asarray(result.grad_weight), gw, **TOL)
    np.testing.assert_allclose(np.asarray(result.grad_bias), gb, **TOL)
    json.dumps(result.to_dict())


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_gradients_equal_autograd(case: tuple) -> None:
    _conv_case(case, hash(case) % 2**32)


def test_input_gradient_is_the_full_convolution_with_the_rotated_kernel() -> None:
    """Stride 1, no padding: the input gradient is exactly convolve_full(upstream, kernel),
    i.e. the upstream gradient padded by k-1 correlated with the kernel rotated by 180°."""
    rng = np.random.default_rng(1)
    x, w, g = rng.normal(size=(5, 5)), rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    result = conv2d_backward(x, w, g)
    np.testing.assert_allclose(np.asarray(result.grad_input)[0], convolve_full(g, w), **TOL)
    assert np.asarray(result.details["rotated_kernel"]).tolist() == w[::-1, ::-1].tolist()
    # an asymmetric kernel shows that the rotation matters: without it the result is wrong
    unrotated = np.pad(g, 2)
    wrong = np.array(
        [[np.sum(unrotated[i : i + 3, j : j + 3] * w) for j in range(5)] for i in range(5)]
    )
    assert not np.allclose(wrong, result.grad_input[0])
    gx, *_ = _torch_conv_grads(x[None], w[None, None], np.zeros(1), g[None], 1, 0, 1, 1)
    np.testing.assert_allclose(np.asarray(result.grad_input), gx, **TOL)


def test_stride_dilates_the_upstream_gradient() -> None:
    g = np.arange(4.0).reshape(1, 2, 2) + 1
    result = conv2d_backward(np.ones((1, 5, 5)), np.ones((1, 1, 3, 3)), g, stride=2)
    assert result.details["dilated_upstream"] == [[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [3.0, 0.0, 4.0]]


POOL_CASES = [
    # (H, W, kernel, stride, padding, dilation, ceil_mode)
    (4, 4, 2, None, 0, 1, False),
    (5, 5, 2, 2, 0, 1, True),
    (5, 6, 3, 2, 1, 1, False),
    (7, 7, 3, 2, 1, 1, True),
    (6, 7, (2, 3), (1, 2), (1, 1), 1, True),
    (8, 8, 3, 1, 1, 2, False),
    (6, 6, 3, 1, 1, 1, False),
]


@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool_gradient_goes_to_the_maximum_only(case: tuple) -> None:
    h, w, k, s, p, d, ceil = case
    rng = np.random.default_rng(hash(case) % 2**32)
    x = rng.normal(size=(2, h, w))
    xt = _t(x, True)
    out = F.max_pool2d(xt[None], k, s, p, d, ceil)[0]
    g = rng.normal(size=tuple(out.shape))
    out.backward(_t(g))
    result = max_pool2d_backward(x, g, k, s, p, d, ceil)
    np.testing.assert_allclose(np.asarray(result.grad_input), xt.grad.numpy(), **TOL)
    nonzero = np.count_nonzero(result.grad_input)
    assert nonzero <= out.numel()  # only the maxima receive anything


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("include_pad", [True, False])
@pytest.mark.parametrize("override", [None, 3])
def test_avg_pool_gradient_is_spread_evenly(case: tuple, include_pad: bool, override) -> None:
    h, w, k, s, p, _, ceil = case
    rng = np.random.default_rng(hash(case) % 2**32)
    x = rng.normal(size=(2, h, w))
    xt = _t(x, True)
    out = F.avg_pool2d(xt[None], k, s, p, ceil, include_pad, override)[0]
    g = rng.normal(size=tuple(out.shape))
    out.backward(_t(g))
    result = avg_pool2d_backward(x, g, k, s, p, ceil, include_pad, override)
    np.testing.assert_allclose(np.asarray(result.grad_input), xt.grad.numpy(), **TOL)
    json.dumps(result.to_dict())


def test_a_wrong_upstream_shape_is_a_clear_error() -> None:
    with pytest.raises(ParameterError, match="upstream gradient must have the layer's output"):
        conv2d_backward(np.ones((5, 5)), np.ones((3, 3)), np.ones((2, 2)))
    with pytest.raises(ParameterError, match="Received: upstream shape"):
        max_pool2d_backward(np.ones((4, 4)), np.ones((3, 3)), 2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 2),
    st.integers(1, 2),
    st.integers(0, 2),
    st.integers(0, 2),
    st.integers(0, 4),
    st.integers(0, 4),
    st.integers(0, 2**16),
)
def test_random_conv_settings_match_autograd(
    c_in, c_out, kh, kw, sh, sw, dh, dw, ph, pw, eh, ew, seed
) -> None:
    h, w = (kh - 1) * dh + 1 + eh, (kw - 1) * dw + 1 + ew
    _conv_case((c_in, h, w, c_out, kh, kw, (sh, sw), (ph, pw), (dh, dw), 1), seed)
