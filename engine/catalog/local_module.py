"""The torch module of the LocallyConnected2d block (torch has none): built on ``F.unfold``.

The exported Python code embeds this class's source as it is, so it needs only torch and must
stay self-contained (no imports from the engine).
"""

from __future__ import annotations

import torch
from torch import nn


def _pair(value: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    return int(value[0]), int(value[-1])


class LocallyConnected2d(nn.Module):
    """A convolution without weight sharing: every output position has its own filters and bias.

    ``weight`` is (out_h·out_w, out_channels, in_channels·kh·kw), one filter bank per output
    position in row-major order; ``bias`` is (out_channels, out_h, out_w).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        input_size: int | tuple[int, int],
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        input_size, kernel_size = _pair(input_size), _pair(kernel_size)
        stride, padding = _pair(stride), _pair(padding)
        if min(in_channels, out_channels, *kernel_size, *stride) < 1 or min(padding) < 0:
            raise ValueError(
                "LocallyConnected2d needs positive channels, kernel_size and stride and a "
                f"padding of at least 0. Received: in_channels={in_channels}, "
                f"out_channels={out_channels}, kernel_size={kernel_size}, stride={stride}, "
                f"padding={padding}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.output_size = tuple(
            (size + 2 * p - k) // s + 1
            for size, k, s, p in zip(input_size, kernel_size, stride, padding, strict=True)
        )
        if min(self.output_size) < 1:
            raise ValueError(
                f"LocallyConnected2d: kernel_size {kernel_size} does not fit the {input_size} "
                f"input with padding {padding}. Use a smaller kernel or more padding"
            )
        positions = self.output_size[0] * self.output_size[1]
        fan_in = in_channels * kernel_size[0] * kernel_size[1]
        bound = 1.0 / fan_in**0.5  # the same uniform range as nn.Conv2d's default
        self.weight = nn.Parameter(
            torch.empty(positions, out_channels, fan_in).uniform_(-bound, bound)
        )
        self.bias = (
            nn.Parameter(torch.empty(out_channels, *self.output_size).uniform_(-bound, bound))
            if bias
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        columns = nn.functional.unfold(
            x, self.kernel_size, padding=self.padding, stride=self.stride
        )
        out = torch.einsum("ncl,loc->nol", columns, self.weight)
        # contiguous: einsum may hand back a channels-last layout, and torch 2.14's BatchNorm
        # (eval, CPU) then sends gradients to the wrong pixels (found by the receptive-field test)
        out = out.reshape(x.shape[0], self.out_channels, *self.output_size).contiguous()
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, output_size={self.output_size}, "
            f"bias={self.bias is not None}"
        )
