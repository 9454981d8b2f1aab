"""Pure shape arithmetic against torch on one axis (dilation, ceil_mode, transposed, upsample)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.shapes import (
    conv_output_size,
    conv_transpose_output_size,
    dropped_by_stride,
    pool_output_size,
    same_padding,
    upsample_output_size,
)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [
        (32, 5, 1, 0, 28),
        (224, 7, 2, 3, 112),
        (227, 11, 4, 0, 55),
        (3, 5, 1, 0, -1),
        (7, 3, 2, 0, 3),
    ],
)
def test_lecture_formula(size: int, kernel: int, stride: int, padding: int, expected: int) -> None:
    assert conv_output_size(size, kernel, stride, padding) == expected  # (W - F + 2P)/S + 1


@settings(max_examples=60)
@given(
    size=st.integers(1, 20),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 4),
    data=st.data(),
    dilation=st.integers(1, 3),
    ceil_mode=st.booleans(),
)
def test_pool_size_matches_torch(
    size: int, kernel: int, stride: int, data: st.DataObject, dilation: int, ceil_mode: bool
) -> None:
    padding = data.draw(st.integers(0, kernel // 2))
    predicted = pool_output_size(size, kernel, stride, padding, dilation, ceil_mode)
    x = torch.zeros(1, 1, 1, size)
    try:
        out = F.max_pool2d(x, (1, kernel), (1, stride), (0, padding), (1, dilation), ceil_mode)
    except RuntimeError:
        assert predicted <= 0
        return
    assert out.shape[-1] == predicted


@settings(max_examples=40)
@given(
    size=st.integers(1, 10),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    extra=st.integers(0, 2),
    dilation=st.integers(1, 2),
)
def test_transposed_size_matches_torch(
    size: int, kernel: int, stride: int, padding: int, extra: int, dilation: int
) -> None:
    predicted = conv_transpose_output_size(size, kernel, stride, padding, extra, dilation)
    weight = torch.zeros(1, 1, 1, kernel)
    try:
        out = F.conv_transpose2d(
            torch.zeros(1, 1, 1, size),
            weight,
            None,
            (1, stride),
            (0, padding),
            (0, extra),
            1,
            (1, dilation),
        )
    except RuntimeError:
        assert predicted <= 0 or extra >= max(stride, dilation)
        return
    assert out.shape[-1] == predicted


def test_upsample_floors_and_same_padding() -> None:
    assert (
        upsample_output_size(5, 1.5)
        == 7
        == F.interpolate(torch.zeros(1, 1, 5), scale_factor=1.5).shape[-1]
    )
    assert same_padding(4, 1) == (1, 2) and same_padding(3, 2) == (2, 2)


def test_dropped_rows_count_only_real_input() -> None:
    assert dropped_by_stride(7, 3, 2) == 0
    assert dropped_by_stride(8, 3, 2) == 1
    assert dropped_by_stride(56, 3, 2, 1) == 0  # only the padding row is dropped
    assert dropped_by_stride(12, 3, 5) == 4
