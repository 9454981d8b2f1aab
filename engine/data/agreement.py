"""Does the Input block's shape agree with the data set's images? If not, say so and offer fixes.

Two fixes are offered, both applicable: transform the data (resize to H×W, grayscale↔RGB), which
``DataSettings.with_fit`` writes into the settings, or change the Input block to the images'
shape, an engine ``Fix`` that ``engine.apply_fix`` performs on the graph. No torch needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.catalog import fmt_shape
from engine.diagnostics import Fix, FixAction


@dataclass(frozen=True)
class ShapeAgreement:
    """The verdict: ``ok``, a message for a person, and the two ways to repair a mismatch."""

    ok: bool
    input_shape: tuple[int, ...]
    sample_shape: tuple[int, ...]
    message: str
    resize: tuple[int, int] | None = None  # data fix: resize images to H×W
    channels: int | None = None  # data fix: convert images to this many channels
    data_fix_possible: bool = True
    input_fix: Fix | None = None  # graph fix: set the Input block to the images' shape


def _channel_fix(have: int, want: int) -> tuple[int | None, str]:
    if have == want:
        return None, ""
    if (have, want) == (3, 1):
        return 1, "convert the colour images to grayscale"
    if (have, want) == (1, 3):
        return 3, "repeat the grey channel as RGB"
    return None, ""


def check_input_shape(
    input_shape: Sequence[int],
    sample_shape: Sequence[int],
    dataset: str = "the data set",
    input_node: str = "input",
) -> ShapeAgreement:
    """Compare the Input block's C×H×W with the data's image shape C×H×W."""
    want, have = tuple(int(s) for s in input_shape), tuple(int(s) for s in sample_shape)
    if want == have:
        return ShapeAgreement(
            True, want, have, f"{dataset} images fit the Input block ({fmt_shape(want)})"
        )
    input_fix = Fix(
        label=f"Set the Input block to {fmt_shape(have)}",
        action=FixAction.SET_PARAMS,
        node=input_node,
        params={"shape": list(have)},
    )
    head = (
        f"Input block {input_node!r} expects {fmt_shape(want)} but {dataset} gives "
        f"{fmt_shape(have)} images"
    )
    if len(want) != 3:
        return ShapeAgreement(
            False,
            want,
            have,
            f"{head}: an image network needs a C×H×W input. Set the Input block's shape to "
            f"{fmt_shape(have)}",
            data_fix_possible=False,
            input_fix=input_fix,
        )
    channels, channel_text = _channel_fix(have[0], want[0])
    steps = []
    if channel_text:
        steps.append(channel_text)
    resize = (want[1], want[2]) if want[1:] != have[1:] else None
    if resize:
        steps.append(f"resize the images to {resize[0]}×{resize[1]}")
    possible = have[0] == want[0] or channels is not None
    if possible:
        remedy = f"{' and '.join(steps)}, or set the Input block's shape to {fmt_shape(have)}"
    else:
        remedy = (
            f"no conversion from {have[0]} to {want[0]} channels exists: set the Input block's "
            f"shape to {fmt_shape(have)}"
        )
    return ShapeAgreement(
        False,
        want,
        have,
        f"{head}: {remedy}",
        resize=resize if possible else None,
        channels=channels,
        data_fix_possible=possible,
        input_fix=input_fix,
    )
