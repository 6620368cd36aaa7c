"""Small server-side SVG charts of the monitoring pages (no JavaScript, nothing fetched).

* :func:`time_series`: one metric per window, with its threshold drawn as a dashed red line and the
  windows that crossed it marked; dates on the x axis.
* :func:`histogram_pair`: the reference and current distributions of one feature side by side.

Every label coming from data is XML-escaped; charts carry ``role="img"``, ``aria-label`` and
``<title>`` so screen readers describe them. Colours are the Lab charts' colour-blind-safe palette.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from modelworks.engine.automl.charts import PALETTE

__all__ = ["histogram_pair", "time_series"]

_ALERT = "#D55E00"
_GRID = "#d9dee3"
_TEXT = "#1f2933"
_MUTED = "#52606d"


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.2g}"
    return f"{value:.3g}"


def _open(width: int, height: int, title: str, summary: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mw-chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_esc(summary)}">',
        f"<title>{_esc(title)}</title>",
        f'<text x="8" y="16" font-size="13" font-weight="600" fill="{_TEXT}">{_esc(title)}</text>',
    ]


def time_series(
    points: Sequence[tuple[datetime, float | None, float | None, bool]],
    *,
    title: str,
    y_label: str = "",
    width: int = 640,
    height: int = 220,
) -> str:
    """A line of ``(window start, value, threshold, breached)`` points, oldest first.

    Returns:
        The SVG document; a short "no data" chart when no point has a value.
    """
    rows = [(when, _finite(v), _finite(t), bool(b)) for when, v, t, b in points]
    values = [v for _, v, _, _ in rows if v is not None] + [t for _, _, t, _ in rows if t is not None]
    if not values:
        parts = _open(width, 60, title, f"{title}: no data yet.")
        parts.append(f'<text x="8" y="40" font-size="12" fill="{_MUTED}">No data yet.</text></svg>')
        return "".join(parts)
    lo, hi = min(values), max(values)
    if lo == hi:
        lo, hi = lo - (abs(lo) or 1) * 0.1, hi + (abs(hi) or 1) * 0.1
    pad = (hi - lo) * 0.08
    lo, hi = (0.0 if lo >= 0 and lo - pad < 0 else lo - pad), hi + pad
    left, right, top, bottom = 56.0, width - 12.0, 28.0, height - 34.0

    def x_at(index: int) -> float:
        return (
            left + (right - left) * (index / max(len(rows) - 1, 1)) if len(rows) > 1 else (left + right) / 2
        )

    def y_at(value: float) -> float:
        return bottom - (bottom - top) * (value - lo) / (hi - lo)

    breached = sum(1 for r in rows if r[3])
    summary = (
        f"{title}: {len(rows)} windows from {rows[0][0]:%Y-%m-%d} to {rows[-1][0]:%Y-%m-%d}; "
        f"{breached} crossed the threshold."
    )
    parts = _open(width, height, title, summary)
    for i in range(5):
        value = lo + (hi - lo) * i / 4
        y = y_at(value)
        parts.append(f'<line x1="{_n(left)}" x2="{_n(right)}" y1="{_n(y)}" y2="{_n(y)}" stroke="{_GRID}"/>')
        parts.append(
            f'<text x="{_n(left - 6)}" y="{_n(y + 4)}" font-size="11" text-anchor="end" fill="{_MUTED}">{_esc(_label(value))}</text>'
        )
    if y_label:
        parts.append(
            f'<text x="12" y="{_n((top + bottom) / 2)}" font-size="11" fill="{_MUTED}" '
            f'transform="rotate(-90 12 {_n((top + bottom) / 2)})" text-anchor="middle">{_esc(y_label)}</text>'
        )
    step = max(1, math.ceil(len(rows) / 8))
    for index in range(0, len(rows), step):
        parts.append(
            f'<text x="{_n(x_at(index))}" y="{_n(bottom + 16)}" font-size="11" text-anchor="middle" '
            f'fill="{_MUTED}">{_esc(rows[index][0].strftime("%Y-%m-%d"))}</text>'
        )
    threshold_path = [(x_at(i), y_at(t)) for i, (_, _, t, _) in enumerate(rows) if t is not None]
    if threshold_path:
        if len(threshold_path) == 1:
            threshold_path = [(left, threshold_path[0][1]), (right, threshold_path[0][1])]
        coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in threshold_path)
        parts.append(
            f'<polyline class="mw-threshold" points="{coords}" fill="none" stroke="{_ALERT}" '
            f'stroke-width="1.5" stroke-dasharray="6 4"><title>threshold</title></polyline>'
        )
    segment: list[str] = []
    lines: list[list[str]] = []
    for index, (_, value, _, _) in enumerate(rows):
        if value is None:
            if segment:
                lines.append(segment)
            segment = []
            continue
        segment.append(f"{_n(x_at(index))},{_n(y_at(value))}")
    if segment:
        lines.append(segment)
    for line in lines:
        parts.append(
            f'<polyline class="mw-series-0" points="{" ".join(line)}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>'
        )
    for index, (when, value, threshold, crossed) in enumerate(rows):
        if value is None:
            continue
        colour = _ALERT if crossed else PALETTE[0]
        note = (
            f"{when:%Y-%m-%d}: {_label(value)}"
            + (f" (threshold {_label(threshold)})" if threshold is not None else "")
            + (" - crossed" if crossed else "")
        )
        parts.append(
            f'<circle cx="{_n(x_at(index))}" cy="{_n(y_at(value))}" r="{4 if crossed else 3}" fill="{colour}">'
            f"<title>{_esc(note)}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram_pair(histogram: dict[str, Any], *, title: str, width: int = 420, height: int = 200) -> str:
    """Reference against current shares per bin (numbers) or per category, as paired bars."""
    reference = [(_finite(v) or 0.0) for v in histogram.get("reference") or []]
    current = [(_finite(v) or 0.0) for v in histogram.get("current") or []]
    if histogram.get("categories") is not None:
        labels = [str(c) for c in histogram["categories"]]
    else:
        edges = [_finite(e) for e in histogram.get("edges") or []]
        labels = [
            f"{_label(a)}-{_label(b)}" if a is not None and b is not None else "?"
            for a, b in itertools.pairwise(edges)
        ]
    count = min(len(labels), len(reference), len(current))
    if count == 0:
        parts = _open(width, 60, title, f"{title}: no distribution recorded.")
        parts.append(
            f'<text x="8" y="40" font-size="12" fill="{_MUTED}">No distribution recorded.</text></svg>'
        )
        return "".join(parts)
    ref_total, cur_total = sum(reference[:count]) or 1.0, sum(current[:count]) or 1.0
    ref_share = [v / ref_total for v in reference[:count]]
    cur_share = [v / cur_total for v in current[:count]]
    top_value = max(ref_share + cur_share) or 1.0
    left, right, top, bottom = 12.0, width - 12.0, 40.0, height - 30.0
    slot = (right - left) / count
    bar = max(slot * 0.38, 1.0)
    parts = _open(width, height, title, f"{title}: reference and current shares over {count} bins.")
    parts.append(f'<rect x="{_n(right - 160)}" y="6" width="10" height="10" fill="{PALETTE[0]}"/>')
    parts.append(f'<text x="{_n(right - 146)}" y="15" font-size="11" fill="{_TEXT}">reference</text>')
    parts.append(f'<rect x="{_n(right - 80)}" y="6" width="10" height="10" fill="{PALETTE[1]}"/>')
    parts.append(f'<text x="{_n(right - 66)}" y="15" font-size="11" fill="{_TEXT}">current</text>')
    for index in range(count):
        x = left + slot * index + slot * 0.1
        for offset, share, colour, name in (
            (0.0, ref_share[index], PALETTE[0], "reference"),
            (bar, cur_share[index], PALETTE[1], "current"),
        ):
            h = (bottom - top) * share / top_value
            parts.append(
                f'<rect x="{_n(x + offset)}" y="{_n(bottom - h)}" width="{_n(bar)}" height="{_n(h)}" fill="{colour}">'
                f"<title>{_esc(labels[index])}: {name} {share * 100:.1f} %</title></rect>"
            )
        if count <= 12:
            text = labels[index] if len(labels[index]) <= 12 else labels[index][:11] + "…"
            parts.append(
                f'<text x="{_n(x + bar)}" y="{_n(bottom + 14)}" font-size="10" text-anchor="middle" fill="{_MUTED}">{_esc(text)}</text>'
            )
    parts.append(
        f'<line x1="{_n(left)}" x2="{_n(right)}" y1="{_n(bottom)}" y2="{_n(bottom)}" stroke="{_GRID}"/>'
    )
    parts.append("</svg>")
    return "".join(parts)
