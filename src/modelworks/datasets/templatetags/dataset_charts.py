"""Charts of a column profile as inline SVG, drawn on the server: no JavaScript, no chart library,
nothing fetched from elsewhere. Each chart has a text alternative (``aria-label`` and ``<title>``s).

Usage: ``{% load dataset_charts %}{% histogram column %}`` and ``{% top_values column %}`` with a
column of the engine's profile (``profile.data["columns"][i]``).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

WIDTH, HEIGHT, AXIS = 320, 110, 18
BAR = "#4f6bed"
MUTED = "#667085"


def _short(value: Any) -> str:
    if value is None:
        return "\u2013"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "…"


def _n(value: float) -> str:
    """A coordinate as text (format_html escapes its arguments, so numbers are formatted first)."""
    return f"{value:.2f}"


@register.simple_tag
def histogram(column: dict[str, Any]) -> SafeString:
    """Bars of the column's histogram, with the range under them."""
    bins = column.get("histogram") or []
    if not bins:
        return mark_safe("")
    top = max(b["count"] for b in bins) or 1
    width = WIDTH / len(bins)
    bars = []
    for index, b in enumerate(bins):
        height = (HEIGHT - AXIS - 4) * b["count"] / top
        x = index * width
        y = HEIGHT - AXIS - height
        bars.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" rx="1.5" fill="{}"><title>{} to {}: {} rows</title></rect>',
                _n(x + 0.5),
                _n(y),
                _n(max(width - 1.5, 1)),
                _n(max(height, 0.5 if b["count"] else 0)),
                BAR,
                _short(b["start"]),
                _short(b["end"]),
                f"{b['count']:,}",
            )
        )
    label = f"Histogram of {column['name']}: {len(bins)} bins from {_short(bins[0]['start'])} to {_short(bins[-1]['end'])}"
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="100%" height="{}" role="img" aria-label="{}" preserveAspectRatio="none">'
        '{}<line x1="0" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>'
        '<text x="0" y="{}" font-size="11" fill="{}">{}</text>'
        '<text x="{}" y="{}" font-size="11" fill="{}" text-anchor="end">{}</text></svg>',
        WIDTH,
        HEIGHT,
        HEIGHT,
        label,
        mark_safe("".join(bars)),  # noqa: S308 - each bar built with format_html
        HEIGHT - AXIS,
        WIDTH,
        HEIGHT - AXIS,
        MUTED,
        HEIGHT - 4,
        MUTED,
        _short(bins[0]["start"]),
        WIDTH,
        HEIGHT - 4,
        MUTED,
        _short(bins[-1]["end"]),
    )


@register.simple_tag
def top_values(column: dict[str, Any]) -> SafeString:
    """Horizontal bars of the most frequent values, each labelled with its value and count."""
    values = column.get("top_values") or []
    if not values:
        return mark_safe("")
    total = max(column.get("count") or 0, 1)
    row, label_width = 20, 120
    height = row * len(values)
    top = max(v["count"] for v in values) or 1
    rows = []
    for index, item in enumerate(values):
        y = index * row
        width = (WIDTH - label_width - 70) * item["count"] / top
        share = 100 * item["count"] / total
        rows.append(
            format_html(
                "<g><title>{}: {} rows ({} %)</title>"
                '<text x="{}" y="{}" font-size="11" fill="currentColor" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" rx="1.5" fill="{}"/>'
                '<text x="{}" y="{}" font-size="11" fill="{}">{}</text></g>',
                _short(item["value"]),
                f"{item['count']:,}",
                f"{share:.1f}",
                label_width - 6,
                y + 14,
                _short(item["value"]),
                label_width,
                y + 4,
                _n(max(width, 1)),
                row - 8,
                BAR,
                _n(label_width + width + 4),
                y + 14,
                MUTED,
                f"{item['count']:,}",
            )
        )
    label = f"Most frequent values of {column['name']}: " + ", ".join(
        f"{_short(v['value'])} ({v['count']:,})" for v in values[:5]
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="100%" height="{}" role="img" aria-label="{}">{}</svg>',
        WIDTH,
        height,
        height,
        label,
        mark_safe("".join(rows)),  # noqa: S308 - each row built with format_html
    )


@register.filter
def percent(value: Any) -> str:
    """0.1234 → '12.3 %'."""
    try:
        return f"{100 * float(value):.1f} %"
    except (TypeError, ValueError):
        return "\u2013"


@register.filter
def short(value: Any) -> str:
    """A statistic shortened for a table cell."""
    return escape(_short(value))
