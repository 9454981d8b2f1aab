"""A fresh Linux desktop without Qt's X11 libraries gets one line naming the packages."""

from __future__ import annotations

import sys

import pytest

from designer import system_libraries
from designer.system_libraries import missing_libraries_message, uses_xcb


def test_uses_xcb_follows_the_platform_qt_will_choose() -> None:
    assert uses_xcb({}, platform="linux")
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}, platform="linux")
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb:nograb", "WAYLAND_DISPLAY": "w"}, platform="linux")
    assert not uses_xcb({"WAYLAND_DISPLAY": "wayland-0"}, platform="linux")
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, platform="linux")
    assert not uses_xcb({}, platform="darwin")
    assert not uses_xcb({}, platform="win32")


def test_the_message_names_exactly_the_missing_packages() -> None:
    absent = {"libxcb-cursor.so.0", "libxcb-keysyms.so.1"}
    message = missing_libraries_message({}, loads=lambda soname: soname not in absent)
    assert message is not None
    assert "\n" not in message
    assert "sudo apt-get install libxcb-cursor0 libxcb-keysyms1)" in message
    assert missing_libraries_message({}, loads=lambda soname: True) is None
    assert (
        missing_libraries_message({"QT_QPA_PLATFORM": "offscreen"}, loads=lambda s: False) is None
    )


def test_the_loader_check_is_real() -> None:
    assert system_libraries._loads("libc.so.6")
    assert not system_libraries._loads("libno-such-library-cnn-designer.so.7")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt uses xcb on Linux only")
def test_designer_refuses_to_start_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cnn-designer` (what `make run` calls) stops before Qt, with the packages to install."""
    from designer.cli import main

    monkeypatch.setattr(system_libraries, "_loads", lambda soname: soname != "libxcb-cursor.so.0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main([]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "(libxcb-cursor0)" in err and "sudo apt-get install libxcb-cursor0)" in err
