"""How the canvas looks: colours and glyphs per block category or type, sizes, fonts and pens.

Colours and icons are view state and live here, keyed by category and ``type_id``; the engine
knows nothing about them. Fonts, pens and brushes are created once (after the QApplication
exists) and shared by every item, so painting allocates nothing per frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QIcon, QPainter, QPen, QPixmap

from engine import CATALOG
from engine.layout import DEFAULT_GROUP_SIZE, DEFAULT_NODE_SIZE

NODE_WIDTH, NODE_HEIGHT = DEFAULT_NODE_SIZE  # the layout's sizes: the same without Qt
GROUP_WIDTH, GROUP_HEIGHT = DEFAULT_GROUP_SIZE
PORT_RADIUS = 5.5
CORNER = 6.0
FRAME_MARGIN = 14.0  # room around the members of an expanded group
FRAME_HEADER = 18.0  # height of an expanded group's title tab
# Level of detail. No text is ever drawn smaller than MIN_TEXT_PX on the screen: a block shows
# its name, type, parameters and wire labels in the normal fonts while the body font (BODY_PX)
# reads at MIN_TEXT_PX or more (FULL_SCALE); below, its short name (NAME_PX) and type
# (KIND_PX) in larger fonts, the type while it reads; below DETAIL_SCALE, where even the
# short name would not read, boxes are patches of their colour without text or ports (a
# zoomed-out view of thousands of blocks paints several times faster).
MIN_TEXT_PX = 8.0
TITLE_PX, BODY_PX, SMALL_PX = 13, 11, 10
NAME_PX, KIND_PX = 24, 18
FULL_SCALE = MIN_TEXT_PX / BODY_PX  # about 0.73
DETAIL_SCALE = MIN_TEXT_PX / NAME_PX  # one third: the short names' readable limit

# category -> (colour, glyph); a type_id entry overrides its category's colour or glyph
CATEGORY_STYLE: dict[str, tuple[str, str]] = {
    "Input/Output": ("#3f8f3f", "IO"),
    "Convolution": ("#2f6db5", "C"),
    "Pooling": ("#168f8f", "P"),
    "Normalization": ("#7d55c7", "N"),
    "Regularization": ("#6f7780", "D"),
    "Activation": ("#c7801a", "σ"),
    "Structure": ("#b0457a", "S"),
    "Dense": ("#c24b3f", "FC"),
}
TYPE_STYLE: dict[str, tuple[str | None, str | None]] = {
    "input": ("#2e8b57", "In"),
    "output": ("#4a7d2a", "Out"),
    "add": (None, "+"),
    "concat": (None, "⧺"),
    "flatten": (None, "▭"),
    "conv_transpose2d": (None, "Cᵀ"),
    "upsample": (None, "↑"),
}
FALLBACK_COLOUR = "#808890"

ERROR_COLOUR = "#d93025"
WARNING_COLOUR = "#e8a317"
SELECTED_COLOUR = "#1a73e8"
BACKGROUND = "#f4f5f7"
NODE_FILL = "#ffffff"
ERROR_FILL = "#fde7e6"
WARNING_FILL = "#fff6de"
GROUP_FILL = "#eef2f8"
WIRE_COLOUR = "#5f6b7a"
LABEL_TEXT = "#27313d"
MUTED_TEXT = "#66707c"


def block_colour(type_id: str) -> QColor:
    """The accent colour of a block type (its category's unless the type overrides it)."""
    colour, _glyph = _style_of(type_id)
    return QColor(colour)


def block_glyph(type_id: str) -> str:
    """A one- or two-character symbol for a block type (palette icons)."""
    _colour, glyph = _style_of(type_id)
    return glyph


def _style_of(type_id: str) -> tuple[str, str]:
    category = CATALOG.get(type_id).category if type_id in CATALOG else ""
    colour, glyph = CATEGORY_STYLE.get(category, (FALLBACK_COLOUR, "?"))
    own_colour, own_glyph = TYPE_STYLE.get(type_id, (None, None))
    return own_colour or colour, own_glyph or glyph


@cache
def block_icon(type_id: str, size: int = 20) -> QIcon:
    """A rounded square in the block's colour with its glyph (for the palette)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(block_colour(type_id))
    painter.drawRoundedRect(QRectF(0, 0, size, size), 4, 4)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * 0.5))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, block_glyph(type_id))
    painter.end()
    return QIcon(pixmap)


@dataclass
class Look:
    """Shared fonts, metrics, pens and brushes of the canvas."""

    title: QFont
    body: QFont
    small: QFont
    name: QFont  # the short name when zoomed out
    name_small: QFont  # a long short name when zoomed out ("downsample.0")
    kind: QFont  # the type when zoomed out
    title_metrics: QFontMetricsF
    body_metrics: QFontMetricsF
    small_metrics: QFontMetricsF
    name_metrics: QFontMetricsF
    name_small_metrics: QFontMetricsF
    kind_metrics: QFontMetricsF
    border: QPen
    selected: QPen
    error: QPen
    warning: QPen
    wire: QPen
    wire_selected: QPen
    wire_pending: QPen
    frame: QPen
    text: QPen
    muted: QPen
    node_fill: QBrush
    error_fill: QBrush
    warning_fill: QBrush
    group_fill: QBrush
    label_fill: QBrush
    port_fill: QBrush
    port_free: QBrush
    port_hot: QBrush


def _pen(colour: str, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(QColor(colour), width, style)
    pen.setCosmetic(False)
    return pen


@cache
def look() -> Look:
    """The shared drawing resources (created on first use, once a QApplication exists)."""
    title = QFont()
    title.setPixelSize(TITLE_PX)
    title.setBold(True)
    body = QFont()
    body.setPixelSize(BODY_PX)
    small = QFont()
    small.setPixelSize(SMALL_PX)
    name = QFont()
    name.setPixelSize(NAME_PX)
    name.setBold(True)
    kind = QFont()
    kind.setPixelSize(KIND_PX)
    name_small = QFont(name)
    name_small.setPixelSize(KIND_PX)
    frame_colour = QColor("#8fa3bf")
    frame = QPen(frame_colour, 1.2, Qt.PenStyle.DashLine)
    label_fill = QColor(BACKGROUND)
    label_fill.setAlpha(230)
    return Look(
        title=title,
        body=body,
        small=small,
        name=name,
        name_small=name_small,
        kind=kind,
        title_metrics=QFontMetricsF(title),
        body_metrics=QFontMetricsF(body),
        small_metrics=QFontMetricsF(small),
        name_metrics=QFontMetricsF(name),
        name_small_metrics=QFontMetricsF(name_small),
        kind_metrics=QFontMetricsF(kind),
        border=_pen("#9aa4b1", 1.2),
        selected=_pen(SELECTED_COLOUR, 2.5),
        error=_pen(ERROR_COLOUR, 2.2),
        warning=_pen(WARNING_COLOUR, 2.2),
        wire=_pen(WIRE_COLOUR, 1.6),
        wire_selected=_pen(SELECTED_COLOUR, 2.6),
        wire_pending=_pen(SELECTED_COLOUR, 1.8, Qt.PenStyle.DashLine),
        frame=frame,
        text=_pen(LABEL_TEXT, 1),
        muted=_pen(MUTED_TEXT, 1),
        node_fill=QBrush(QColor(NODE_FILL)),
        error_fill=QBrush(QColor(ERROR_FILL)),
        warning_fill=QBrush(QColor(WARNING_FILL)),
        group_fill=QBrush(QColor(GROUP_FILL)),
        label_fill=QBrush(label_fill),
        port_fill=QBrush(QColor("#5f6b7a")),
        port_free=QBrush(QColor("#ffffff")),
        port_hot=QBrush(QColor(SELECTED_COLOUR)),
    )


def painter_scale(painter: QPainter) -> float:
    """How many screen pixels one scene unit takes in ``painter`` (the view's zoom)."""
    transform = painter.worldTransform()
    return max(abs(transform.m11()), abs(transform.m12()))


def detail_shown(painter: QPainter) -> bool:
    """Whether ``painter`` draws at a zoom where the short names and ports can be seen
    (DETAIL_SCALE); below, boxes are patches of colour."""
    return painter_scale(painter) >= DETAIL_SCALE


def readable(painter: QPainter, pixels: float) -> bool:
    """Whether a font of ``pixels`` (scene units) reads at MIN_TEXT_PX in ``painter``."""
    return pixels * painter_scale(painter) >= MIN_TEXT_PX - 1e-6


def short_name(name: str) -> str:
    """The last part of a dotted name, with the one before when it is an index
    ("layer1.0.conv1" → "conv1", "layer1.0.downsample.0" → "downsample.0", "layer2.0")."""
    parts = name.split(".")
    if len(parts) > 1 and parts[-1].isdigit():
        return ".".join(parts[-2:])
    return parts[-1]


def elided(text: str, metrics: QFontMetricsF, width: float) -> str:
    """``text`` shortened with … to fit ``width``."""
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
