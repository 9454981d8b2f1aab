"""What Qt needs from the operating system before the window can open on a Linux desktop.

pip installs Qt itself, but Qt's X11 platform plugin links against system libraries that a
fresh desktop may lack (most often ``libxcb-cursor0``). Without them Qt prints a long plugin
dump and aborts; this check names the missing packages in one line instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

# The shared libraries Qt 6's xcb plugin loads (``ldd libqxcb.so``), with the Debian and
# Ubuntu package that provides each.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
}


def _loads(soname: str) -> bool:
    """Whether the dynamic loader finds ``soname`` (Qt would load it moments later anyway)."""
    import ctypes  # 10 ms: only where the check runs, not offscreen

    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(environ: Mapping[str, str], platform: str | None = None) -> bool:
    """Whether Qt will open its window through X11 (xcb): Linux (``sys.platform`` unless
    given), and either asked for xcb or left to choose outside a Wayland session."""
    if not (platform or sys.platform).startswith("linux"):
        return False
    requested = environ.get("QT_QPA_PLATFORM", "")
    if requested:
        return requested.split(";")[0].split(":")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def missing_packages(loads: Callable[[str], bool] | None = None) -> list[str]:
    """The packages whose libraries the xcb plugin needs and ``loads`` (the dynamic loader
    unless given) cannot find."""
    check = loads or _loads
    return [package for soname, package in XCB_LIBRARIES.items() if not check(soname)]


def missing_libraries_message(
    environ: Mapping[str, str] | None = None, loads: Callable[[str], bool] | None = None
) -> str | None:
    """One line naming the system packages to install, or None when nothing is missing."""
    if not uses_xcb(os.environ if environ is None else environ):
        return None
    missing = missing_packages(loads)
    if not missing:
        return None
    names = " ".join(missing)
    return (
        f"cnn-designer: the window cannot open: Qt needs system libraries that are missing "
        f"({names}). Install them (Debian/Ubuntu: sudo apt-get install {names}) and run again; "
        "the command-line tools (summary, train, export) work without them."
    )
