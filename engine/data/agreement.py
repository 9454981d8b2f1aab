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
    *,
    channels: int | None = None,
    resize: Sequence[int] | None = None,
) -> ShapeAgreement:
    """Compare the Input block's C×H×W with the data's image shape C×H×W.

    ``channels`` and ``resize`` are the data settings' transform (``data.channels``,
    ``data.resize``) applied to the data's images before they reach the network: when they are
    what makes the shapes disagree, the message names them and says how to change them.
    """
    want, have = tuple(int(s) for s in input_shape), tuple(int(s) for s in sample_shape)
    shaped = have
    if len(have) == 3:
        h, w = (int(resize[0]), int(resize[1])) if resize is not None else have[1:]
        shaped = (int(channels) if channels is not None else have[0], h, w)
    settings = _settings_text(have, shaped, channels, resize)
    if want == shaped:
        return ShapeAgreement(
            True,
            want,
            have,
            f"{dataset} images{settings} fit the Input block ({fmt_shape(want)})",
        )
    input_fix = Fix(
        label=f"Set the Input block to {fmt_shape(shaped)}",
        action=FixAction.SET_PARAMS,
        node=input_node,
        params={"shape": list(shaped)},
    )
    if len(want) != 3 or len(have) != 3:
        head = (
            f"Input block {input_node!r} expects {fmt_shape(want)} but {dataset} gives "
            f"{fmt_shape(have)} images"
        )
        return ShapeAgreement(
            False,
            want,
            have,
            f"{head}: an image network needs a C×H×W input. Set the Input block's shape to "
            f"{fmt_shape(have)}",
            data_fix_possible=False,
            input_fix=input_fix,
        )
    blamed = []  # the settings whose value gives the wrong shape
    if channels is not None and shaped[0] != want[0]:
        blamed.append(f"data.channels={channels}")
    if resize is not None and shaped[1:] != want[1:]:
        blamed.append(f"data.resize={shaped[1]}×{shaped[2]}")
    if blamed:
        verb = "turns" if len(blamed) == 1 else "turn"
        head = (
            f"Input block {input_node!r} expects {fmt_shape(want)} but {' and '.join(blamed)} "
            f"{verb} the {dataset} images ({fmt_shape(have)}) into {fmt_shape(shaped)}"
        )
    else:
        head = (
            f"Input block {input_node!r} expects {fmt_shape(want)} but {dataset} gives "
            f"{fmt_shape(have)} images{settings}"
        )
    channel_fix, channel_text = _channel_fix(have[0], want[0])
    possible = have[0] == want[0] or channel_fix is not None
    steps = []
    if shaped[0] != want[0] and possible:
        if channels is None:
            steps.append(channel_text)
        elif have[0] == want[0]:
            steps.append(f"clear data.channels (or set it to {want[0]})")
        else:
            steps.append(f"set data.channels to {want[0]}")
    size = (want[1], want[2]) if shaped[1:] != want[1:] else None
    if size:
        if resize is None:
            steps.append(f"resize the images to {size[0]}×{size[1]}")
        elif have[1:] == want[1:]:
            steps.append(f"clear data.resize (or set it to {size[0]}×{size[1]})")
        else:
            steps.append(f"set data.resize to {size[0]}×{size[1]}")
    if possible:
        remedy = f"{' and '.join(steps)}, or set the Input block's shape to {fmt_shape(shaped)}"
    else:
        remedy = (
            f"no conversion from {have[0]} to {want[0]} channels exists: set the Input block's "
            f"shape to {fmt_shape(shaped)}"
        )
    return ShapeAgreement(
        False,
        want,
        have,
        f"{head}: {remedy}",
        resize=size if possible else None,
        channels=want[0] if possible and shaped[0] != want[0] else None,
        data_fix_possible=possible,
        input_fix=input_fix,
    )


def _settings_text(
    have: tuple[int, ...],
    shaped: tuple[int, ...],
    channels: int | None,
    resize: Sequence[int] | None,
) -> str:
    """' (3×32×32 with data.channels=3)' when settings change the images' shape, else ''."""
    named = []
    if channels is not None and len(have) == 3 and channels != have[0]:
        named.append(f"data.channels={channels}")
    if resize is not None and len(have) == 3 and shaped[1:] != have[1:]:
        named.append(f"data.resize={shaped[1]}×{shaped[2]}")
    return f" ({fmt_shape(shaped)} with {' and '.join(named)})" if named else ""
