"""The prioritisation matrix: every use case with a feasibility score as a bubble, feasibility
(1 to 5) across, expected first-year value up, drawn as a server-side SVG (no JavaScript, nothing
fetched), in the style of ``modelworks.engine.automl.charts``.

* Feasibility 3 and above counts as feasible (the vertical split); the horizontal split is at the
  median first-year value of the use cases drawn, so the quadrants always divide the portfolio shown.
* Quadrants: high value and feasible: **Quick wins**; high value, hard: **Strategic bets**; low
  value, feasible: **Fill-ins**; low value, hard: **Deprioritise**.
* Bubble area grows with the estimated effort (people-days); colour (and a letter) gives the risk level.
* Every piece of text from users (titles, currency) is XML-escaped; each bubble links to its use case.
"""

from __future__ import annotations

import html
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from modelworks.engine.automl.charts import PALETTE

__all__ = ["QUADRANTS", "MatrixPoint", "prioritisation_matrix"]

QUADRANTS = {
    "quick_wins": ("Quick wins", "high value, feasible: do these first"),
    "strategic_bets": ("Strategic bets", "high value, hard: plan and invest"),
    "fill_ins": ("Fill-ins", "low value, feasible: when capacity allows"),
    "deprioritise": ("Deprioritise", "low value, hard: park or drop"),
}

_RISK_STYLE = {  # risk level → (colour, letter)
    "unassessed": ("#7b8794", "?"),
    "minimal": (PALETTE[2], "M"),
    "limited": (PALETTE[0], "L"),
    "high": (PALETTE[4], "H"),
    "prohibited": ("#000000", "P"),
}
_TEXT, _MUTED, _GRID = "#1f2933", "#52606d", "#d9dee3"
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class MatrixPoint:
    """One use case on the matrix."""

    title: str
    url: str
    feasibility: int
    value: Decimal
    effort_days: Decimal
    risk: str
    stage: str


def _esc(text: object) -> str:
    return html.escape(_INVALID_XML.sub("", str(text)), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _money(value: float, currency: str) -> str:
    magnitude = abs(value)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= scale:
            return f"{value / scale:.3g}{suffix} {currency}".strip()
    return f"{value:.0f} {currency}".strip()


def _truncate(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(room - 1, 1)] + "…"


def quadrant_of(point: MatrixPoint, value_split: Decimal) -> str:
    """The quadrant key of ``point`` given the value split."""
    high = point.value >= value_split
    feasible = point.feasibility >= 3
    if high:
        return "quick_wins" if feasible else "strategic_bets"
    return "fill_ins" if feasible else "deprioritise"


def prioritisation_matrix(
    points: Sequence[MatrixPoint], *, currency: str = "EUR", width: int = 720, height: int = 440
) -> tuple[str, Decimal | None]:
    """The matrix as an SVG document, and the value at which it splits high from low value.

    Args:
        points: the use cases to draw (each needs a feasibility score).
        currency: the currency of the value axis (use cases in other currencies are drawn as they are).
        width, height: size in pixels.

    Returns:
        ``(svg, value_split)``; ``value_split`` is None when there is nothing to draw.
    """
    title = "Prioritisation matrix: expected value by feasibility"
    left, top, right, bottom = 84.0, 34.0, width - 16.0, height - 48.0
    if not points:
        summary = "No use case has a feasibility score yet, so none can be placed on the matrix."
        return (
            _open(width, height, title, summary)
            + f'<text class="mw-chart-empty" x="{width / 2}" y="{height / 2}" text-anchor="middle" '
            f'fill="{_MUTED}">{_esc(summary)}</text></svg>',
            None,
        )
    values = [float(p.value) for p in points]
    split = Decimal(str(statistics.median(values))).quantize(Decimal("0.01"))
    top_value = max(max(values), 1.0) * 1.1

    def x_at(feasibility: float) -> float:
        return left + (feasibility - 0.5) / 5 * (right - left)

    def y_at(value: float) -> float:
        return bottom - (value / top_value) * (bottom - top)

    counts = {key: 0 for key in QUADRANTS}
    for point in points:
        counts[quadrant_of(point, split)] += 1
    summary = (
        f"{len(points)} use cases. "
        + "; ".join(f"{QUADRANTS[k][0]}: {counts[k]}" for k in QUADRANTS)
        + f". High value means at least {_money(float(split), currency)} in the first year (the median)."
    )
    parts = [_open(width, height, title, summary)]
    mid_x, mid_y = x_at(2.5), y_at(float(split))
    # Quadrant backgrounds and labels.
    shade = {
        "quick_wins": "#e3f4ec",
        "strategic_bets": "#e6f0fa",
        "fill_ins": "#fbf3e0",
        "deprioritise": "#f3f4f6",
    }
    boxes = {
        "strategic_bets": (left, top, mid_x, mid_y),
        "quick_wins": (mid_x, top, right, mid_y),
        "deprioritise": (left, mid_y, mid_x, bottom),
        "fill_ins": (mid_x, mid_y, right, bottom),
    }
    for key, (x1, y1, x2, y2) in boxes.items():
        label, hint = QUADRANTS[key]
        parts.append(
            f'<g class="mw-quadrant mw-quadrant-{key}"><title>{_esc(label)}: {_esc(hint)}</title>'
            f'<rect x="{_n(x1)}" y="{_n(y1)}" width="{_n(max(x2 - x1, 0))}" height="{_n(max(y2 - y1, 0))}" '
            f'fill="{shade[key]}"/>'
        )
        if y2 - y1 > 16:
            parts.append(
                f'<text class="mw-quadrant-label" x="{_n(x1 + 6)}" y="{_n(y1 + 15)}" font-weight="600" '
                f'fill="{_MUTED}">{_esc(label)}</text>'
            )
        parts.append("</g>")
    # Axes: feasibility ticks 1..5, value ticks at quarters of the range.
    parts.append('<g class="mw-axis">')
    for tick in range(1, 6):
        px = x_at(tick)
        parts.append(
            f'<line class="mw-grid" x1="{_n(px)}" y1="{_n(top)}" x2="{_n(px)}" y2="{_n(bottom)}" stroke="{_GRID}"/>'
            f'<text class="mw-tick" x="{_n(px)}" y="{_n(bottom + 16)}" text-anchor="middle" fill="{_MUTED}">{tick}</text>'
        )
    for step in range(5):
        value = top_value * step / 4.4
        py = y_at(value)
        parts.append(
            f'<line class="mw-grid" x1="{_n(left)}" y1="{_n(py)}" x2="{_n(right)}" y2="{_n(py)}" stroke="{_GRID}"/>'
            f'<text class="mw-tick" x="{_n(left - 6)}" y="{_n(py + 4)}" text-anchor="end" fill="{_MUTED}">'
            f"{_esc(_money(value, currency))}</text>"
        )
    parts.append(
        f'<line class="mw-split" x1="{_n(mid_x)}" y1="{_n(top)}" x2="{_n(mid_x)}" y2="{_n(bottom)}" '
        f'stroke="{_MUTED}" stroke-dasharray="4 4"/>'
        f'<line class="mw-split" x1="{_n(left)}" y1="{_n(mid_y)}" x2="{_n(right)}" y2="{_n(mid_y)}" '
        f'stroke="{_MUTED}" stroke-dasharray="4 4"/>'
        f'<rect class="mw-plot-frame" x="{_n(left)}" y="{_n(top)}" width="{_n(right - left)}" '
        f'height="{_n(bottom - top)}" fill="none" stroke="{_MUTED}"/>'
        f'<text class="mw-axis-label" x="{_n((left + right) / 2)}" y="{height - 10}" text-anchor="middle">'
        "Feasibility (1 = very hard, 5 = easy)</text>"
        f'<text class="mw-axis-label" x="14" y="{_n((top + bottom) / 2)}" text-anchor="middle" '
        f'transform="rotate(-90 14 {_n((top + bottom) / 2)})">Expected first-year value ({_esc(currency)})</text>'
        "</g>"
    )
    # Bubbles: the biggest first, so small ones stay on top and clickable.
    efforts = [float(p.effort_days) for p in points]
    most = max(max(efforts), 1.0)
    jitter: dict[tuple[int, int], int] = {}
    parts.append('<g class="mw-bubbles">')
    for point in sorted(points, key=lambda p: -float(p.effort_days)):
        radius = 6 + 14 * math.sqrt(max(float(point.effort_days), 0.0) / most)
        cx, cy = x_at(point.feasibility), y_at(float(point.value))
        # Use cases on the same spot are spread sideways so each stays visible.
        spot = (point.feasibility, round(cy / 12))
        seen = jitter.get(spot, 0)
        jitter[spot] = seen + 1
        cx += (seen % 2 * 2 - 1) * ((seen + 1) // 2) * 10 if seen else 0
        colour, letter = _RISK_STYLE.get(point.risk, _RISK_STYLE["unassessed"])
        tooltip = (
            f"{point.title}: {_money(float(point.value), currency)} first-year value, feasibility "
            f"{point.feasibility}, {point.effort_days} people-days, risk {point.risk}, stage {point.stage}"
        )
        parts.append(
            f'<a class="mw-bubble mw-risk-{_esc(point.risk)}" href="{_esc(point.url)}">'
            f"<title>{_esc(tooltip)}</title>"
            f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(radius)}" fill="{colour}" fill-opacity="0.6" '
            f'stroke="{colour}" stroke-width="1.5"/>'
            f'<text x="{_n(cx)}" y="{_n(cy + 4)}" text-anchor="middle" font-size="11" font-weight="700" '
            f'fill="#ffffff">{letter}</text>'
            f'<text class="mw-bubble-label" x="{_n(cx + radius + 3)}" y="{_n(cy + 4)}" font-size="11">'
            f"{_esc(_truncate(point.title, 22))}</text></a>"
        )
    parts.append("</g></svg>")
    return "".join(parts), split


def _open(width: int, height: int, title: str, summary: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mw-chart mw-chart-matrix" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_esc(title)}" '
        f'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12" fill="{_TEXT}">'
        f"<title>{_esc(title)}</title><desc>{_esc(summary)}</desc>"
        f'<rect class="mw-chart-background" x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>'
        f'<text class="mw-chart-title" x="{width / 2}" y="18" text-anchor="middle" font-size="14" '
        f'font-weight="600">{_esc(title)}</text>'
    )
