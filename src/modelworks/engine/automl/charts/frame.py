"""What every chart shares: the Okabe-Ito :data:`PALETTE` and dash patterns, :class:`ChartError`, XML
escaping and number formatting, the ``<svg>`` opening with its text alternative, the empty-chart
message, axes with grid lines, and the legend.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelworks.engine.automl.charts.scales import _Scale
from modelworks.engine.automl.errors import AutoMLError

#: Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442")
_DASHES = ("", "6 3", "2 3", "8 3 2 3", "10 4", "4 2 1 2", "1 2", "12 3 3 3")
_TEXT = "#1f2933"
_MUTED = "#52606d"
_GRID = "#d9dee3"
_CHAR = 6.6  # average width of a 12 px character, for layout
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Point = tuple[Any, Any]


class ChartError(AutoMLError):
    """A chart asked for with inconsistent data (a matrix of the wrong shape, a size too small…)."""

    code = "chart_error"


def _esc(text: Any) -> str:
    """Text for an XML element or attribute: escaped, with characters XML 1.0 forbids removed."""
    return html.escape(_INVALID_XML.sub("", str(text)), quote=True)


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if math.isfinite(value) else "0"


def _number(value: Any) -> float | None:
    """A finite float, or ``None`` for gaps (None, NaN, ±inf, non-numbers, absurdly large values)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and abs(number) < 1e300 else None


def _truncate(text: str, width: float) -> str:
    room = max(1, int(width / _CHAR))
    return text if len(text) <= room else text[: max(room - 1, 1)] + "…"


def _check_size(width: int, height: int) -> None:
    if width < 160 or height < 120:
        raise ChartError(f"A chart needs at least 160 by 120 pixels to be readable, got {width} by {height}.")


# ---------------------------------------------------------------------------------------------------------
# The frame every chart shares


@dataclass(frozen=True)
class _Box:
    left: float
    top: float
    right: float
    bottom: float


def _open(kind: str, width: int, height: int, title: str, summary: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mw-chart mw-chart-{kind}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{_esc(title)}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" '
        f'font-size="12" fill="{_TEXT}">',
        f"<title>{_esc(title)}</title>",
        f"<desc>{_esc(summary)}</desc>",
        f'<rect class="mw-chart-background" x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text class="mw-chart-title" x="{width / 2:.1f}" y="18" text-anchor="middle" font-size="14" '
        f'font-weight="600">{_esc(_truncate(title, width - 16))}</text>',
    ]


def _empty(kind: str, width: int, height: int, title: str, message: str) -> str:
    parts = _open(kind, width, height, title, message)
    parts.append(
        f'<text class="mw-chart-empty" x="{width / 2:.1f}" y="{height / 2:.1f}" text-anchor="middle" '
        f'fill="{_MUTED}">{_esc(message)}</text></svg>'
    )
    return "".join(parts)


def _axes(box: _Box, x: _Scale, y: _Scale, x_label: str, y_label: str, height: int) -> list[str]:
    parts = ['<g class="mw-axis">']
    for tick, label in zip(y.ticks, y.labels, strict=True):
        py = y.at(tick, box.bottom, box.top)
        parts.append(
            f'<line class="mw-grid" x1="{_n(box.left)}" y1="{_n(py)}" x2="{_n(box.right)}" y2="{_n(py)}" '
            f'stroke="{_GRID}" stroke-width="1"/>'
            f'<text class="mw-tick" x="{_n(box.left - 6)}" y="{_n(py + 4)}" text-anchor="end" '
            f'fill="{_MUTED}">{_esc(label)}</text>'
        )
    for tick, label in zip(x.ticks, x.labels, strict=True):
        px = x.at(tick, box.left, box.right)
        parts.append(
            f'<line class="mw-grid" x1="{_n(px)}" y1="{_n(box.top)}" x2="{_n(px)}" y2="{_n(box.bottom)}" '
            f'stroke="{_GRID}" stroke-width="1"/>'
            f'<text class="mw-tick" x="{_n(px)}" y="{_n(box.bottom + 16)}" text-anchor="middle" '
            f'fill="{_MUTED}">{_esc(label)}</text>'
        )
    parts.append(
        f'<rect class="mw-plot-frame" x="{_n(box.left)}" y="{_n(box.top)}" width="{_n(box.right - box.left)}" '
        f'height="{_n(box.bottom - box.top)}" fill="none" stroke="{_MUTED}" stroke-width="1"/>'
    )
    if x_label:
        parts.append(
            f'<text class="mw-axis-label" x="{_n((box.left + box.right) / 2)}" y="{height - 8}" '
            f'text-anchor="middle">{_esc(_truncate(x_label, box.right - box.left))}</text>'
        )
    if y_label:
        middle = (box.top + box.bottom) / 2
        parts.append(
            f'<text class="mw-axis-label" x="14" y="{_n(middle)}" text-anchor="middle" '
            f'transform="rotate(-90 14 {_n(middle)})">{_esc(_truncate(y_label, box.bottom - box.top))}</text>'
        )
    parts.append("</g>")
    return parts


def _tick_room(scale: _Scale) -> float:
    return max((len(label) for label in scale.labels), default=1) * _CHAR + 10


def _legend(names: Sequence[str], width: int, top: float) -> tuple[list[str], float]:
    """Legend entries laid out in rows under the title; returns the elements and the height used."""
    parts = ['<g class="mw-legend">']
    x, y, row = 12.0, top, 18.0
    for index, name in enumerate(names):
        label = _truncate(name, width / 2)
        item = 30 + len(label) * _CHAR + 14
        if x + item > width - 8 and x > 12:
            x, y = 12.0, y + row
        colour, dash = PALETTE[index % len(PALETTE)], _DASHES[index % len(_DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<g class="mw-legend-item mw-series-{index}"><title>{_esc(name)}</title>'
            f'<line x1="{_n(x)}" y1="{_n(y - 4)}" x2="{_n(x + 24)}" y2="{_n(y - 4)}" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/>'
            f'<text class="mw-legend-text" x="{_n(x + 30)}" y="{_n(y)}">{_esc(label)}</text></g>'
        )
        x += item
    parts.append("</g>")
    return parts, y - top + row
