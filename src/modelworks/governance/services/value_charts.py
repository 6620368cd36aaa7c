"""Server-side SVG charts of realised value (no JavaScript, nothing fetched).

* :func:`value_chart`: realised value per period as bars, the estimate as a dashed line.
* :func:`cumulative_chart`: realised and estimated value added up over time, as two lines.

Every text from data is XML-escaped; each chart has ``role="img"``, an ``aria-label`` summing it up
and a ``<title>``. Colours are the colour-blind-safe palette of the other charts.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from modelworks.engine.automl.charts import PALETTE

__all__ = ["cumulative_chart", "value_chart"]

_W, _H = 720, 280
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 16, 34, 44
_GRID, _TEXT, _MUTED = "#d9dee3", "#1f2933", "#52606d"
_REAL, _EST = PALETTE[0], PALETTE[1]


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _money(value: float) -> str:
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:.3g}B"
    if size >= 1e6:
        return f"{value / 1e6:.3g}M"
    if size >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:,.0f}" if size >= 100 or value == int(value) else f"{value:.2f}"


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step / 2:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _period_label(day: date, period: str) -> str:
    if period == "month":
        return day.strftime("%b %Y")
    return day.isoformat()


def _frame(
    title: str, summary: str, ticks: list[float], y: object, legend: list[tuple[str, str, bool]]
) -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mw-chart value-chart" viewBox="0 0 {_W} {_H}" '
        f'width="100%" role="img" aria-label="{_esc(summary)}">',
        f"<title>{_esc(title)}</title>",
    ]
    for tick in ticks:
        ty = y(tick)  # type: ignore[operator]
        parts.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{_n(ty)}" y2="{_n(ty)}" stroke="{_GRID}"/>')
        parts.append(
            f'<text x="{_LEFT - 6}" y="{_n(ty + 4)}" text-anchor="end" font-size="11" fill="{_MUTED}">{_esc(_money(tick))}</text>'
        )
    x = _LEFT
    for name, colour, dashed in legend:
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        parts.append(
            f'<line x1="{x}" x2="{x + 22}" y1="16" y2="16" stroke="{colour}" stroke-width="3"{dash}/>'
        )
        parts.append(f'<text x="{x + 28}" y="20" font-size="12" fill="{_TEXT}">{_esc(name)}</text>')
        x += 40 + 7 * len(name)
    return parts


def _x_labels(starts: Sequence[date], period: str, centre: object) -> list[str]:
    every = max(1, math.ceil(len(starts) / 10))
    parts = []
    for i, day in enumerate(starts):
        if i % every:
            continue
        parts.append(
            f'<text x="{_n(centre(i))}" y="{_H - _BOTTOM + 16}" text-anchor="middle" font-size="11" '  # type: ignore[operator]
            f'fill="{_MUTED}">{_esc(_period_label(day, period))}</text>'
        )
    return parts


def _empty(title: str, message: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mw-chart value-chart" viewBox="0 0 {_W} 80" width="100%" '
        f'role="img" aria-label="{_esc(message)}"><title>{_esc(title)}</title>'
        f'<text x="{_W // 2}" y="44" text-anchor="middle" font-size="13" fill="{_MUTED}">{_esc(message)}</text></svg>'
    )


def value_chart(
    starts: Sequence[date],
    realised: Sequence[Decimal | float],
    estimated: Sequence[Decimal | float] | None,
    *,
    period: str,
    unit: str,
    title: str,
) -> str:
    """Realised value per period as bars, with the estimate per period as a dashed line (if given)."""
    if not starts:
        return _empty(title, "No measurement yet.")
    real = [float(v) for v in realised]
    est = [float(v) for v in estimated] if estimated is not None else None
    values = real + (est or [])
    ticks = _ticks(min(0.0, *values), max(0.0, *values))
    low, high = ticks[0], ticks[-1]
    plot_h = _H - _TOP - _BOTTOM
    slot = (_W - _LEFT - _RIGHT) / len(starts)

    def y(v: float) -> float:
        return _TOP + plot_h * (1 - (v - low) / (high - low))

    def centre(i: int) -> float:
        return _LEFT + slot * (i + 0.5)

    legend = [(f"Realised ({unit})", _REAL, False)]
    if est is not None:
        legend.append((f"Estimated ({unit})", _EST, True))
    total = sum(real)
    summary = f"{title}: {len(starts)} {period}(s), realised {total:,.2f} {unit} in total"
    if est is not None:
        summary += f" against an estimate of {sum(est):,.2f} {unit}"
    parts = _frame(title, summary, ticks, y, legend)
    bar = max(2.0, slot * 0.6)
    for i, (day, value) in enumerate(zip(starts, real, strict=True)):
        top, bottom = sorted((y(value), y(0)))
        parts.append(
            f'<rect x="{_n(centre(i) - bar / 2)}" y="{_n(top)}" width="{_n(bar)}" height="{_n(max(bottom - top, 0.5))}" '
            f'fill="{_REAL}"><title>{_esc(_period_label(day, period))}: {value:,.2f} {_esc(unit)}</title></rect>'
        )
    if est is not None:
        points = " ".join(f"{_n(centre(i))},{_n(y(v))}" for i, v in enumerate(est))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{_EST}" stroke-width="2.5" stroke-dasharray="6 4"/>'
        )
    parts += _x_labels(starts, period, centre)
    parts.append("</svg>")
    return "".join(parts)


def cumulative_chart(
    starts: Sequence[date],
    realised: Sequence[Decimal | float],
    estimated: Sequence[Decimal | float],
    *,
    period: str,
    unit: str,
    title: str,
) -> str:
    """Cumulative realised and estimated value over time, as two lines."""
    if not starts:
        return _empty(title, "No measurement yet.")
    real = [float(v) for v in realised]
    est = [float(v) for v in estimated]
    ticks = _ticks(min(0.0, *real, *est), max(0.0, *real, *est))
    low, high = ticks[0], ticks[-1]
    plot_h = _H - _TOP - _BOTTOM
    slot = (_W - _LEFT - _RIGHT) / len(starts)

    def y(v: float) -> float:
        return _TOP + plot_h * (1 - (v - low) / (high - low))

    def centre(i: int) -> float:
        return _LEFT + slot * (i + 0.5)

    summary = (
        f"{title}: after {len(starts)} {period}(s), {real[-1]:,.2f} {unit} realised against "
        f"{est[-1]:,.2f} {unit} estimated"
    )
    parts = _frame(
        title,
        summary,
        ticks,
        y,
        [("Realised, cumulative", _REAL, False), ("Estimated, cumulative", _EST, True)],
    )
    for values, colour, dash in ((est, _EST, ' stroke-dasharray="6 4"'), (real, _REAL, "")):
        points = " ".join(f"{_n(centre(i))},{_n(y(v))}" for i, v in enumerate(values))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>')
    for i, (day, value) in enumerate(zip(starts, real, strict=True)):
        parts.append(
            f'<circle cx="{_n(centre(i))}" cy="{_n(y(value))}" r="3.5" fill="{_REAL}">'
            f"<title>{_esc(_period_label(day, period))}: {value:,.2f} {_esc(unit)} so far</title></circle>"
        )
    parts += _x_labels(starts, period, centre)
    parts.append("</svg>")
    return "".join(parts)
