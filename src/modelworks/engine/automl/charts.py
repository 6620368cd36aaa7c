"""Small SVG charts drawn on the server for the Lab pages: no JavaScript, no library, nothing fetched.

Each function returns a complete ``<svg>`` document as a string, safe to embed in a page: every piece
of text that comes from data (titles, labels, series names) is XML-escaped, and there are no ids that
could clash when several charts share a page. Charts carry a text alternative (``role="img"``,
``aria-label``, ``<title>`` and ``<desc>``), use the Okabe-Ito colour-blind-safe palette (and dash
patterns, so series differ without colour), and put CSS classes (``mw-chart``, ``mw-series-0``,
``mw-bar``…) on every element: a stylesheet can restyle them, while presentation attributes keep
them readable on their own.

* :func:`line_chart`: ROC, precision-recall, calibration, partial dependence, metric history.
* :func:`bar_chart`: horizontal bars (importances; negative values and error bars allowed).
* :func:`heatmap`: a confusion matrix with the count in each cell.
* :func:`scatter`: residuals or predicted against actual, with an optional reference line.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelworks.engine.automl.errors import AutoMLError

__all__ = ["PALETTE", "ChartError", "bar_chart", "heatmap", "line_chart", "scatter"]

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
# Scales and ticks


@dataclass(frozen=True)
class _Scale:
    lo: float
    hi: float
    ticks: tuple[float, ...]
    labels: tuple[str, ...]

    def at(self, value: float, start: float, end: float) -> float:
        return start + (value - self.lo) / (self.hi - self.lo) * (end - start)


def _scale(values: Sequence[float], fixed: tuple[float, float] | None = None, count: int = 5) -> _Scale:
    """A "nice" scale covering ``values`` (or exactly ``fixed``), with round ticks and short labels."""
    if fixed is not None:
        lo, hi = float(fixed[0]), float(fixed[1])
    elif values:
        lo, hi = min(values), max(values)
    else:
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    if fixed is None:
        lo, hi = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    for i in range(first, first + count * 3 + 2):
        tick = i * step
        if tick > hi + step * 1e-9:
            break
        ticks.append(0.0 if abs(tick) < step * 1e-9 else tick)
    return _Scale(lo, hi, tuple(ticks), tuple(_tick_labels(ticks, step)))


_SUFFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def _tick_labels(ticks: Sequence[float], step: float) -> list[str]:
    """Short labels: ``0.25``, ``1.5k``, ``20M``, ``2.5e-6``; enough digits to tell ticks apart."""
    magnitude = max((abs(t) for t in ticks), default=0.0)
    if magnitude >= 1e15 or 0 < magnitude < 1e-3:
        exponent = math.floor(math.log10(magnitude))
        digits = max(0, math.ceil(round(-math.log10(step / 10**exponent), 9)))
        return [_scientific(t, digits) for t in ticks]
    # Plain numbers up to 9999; beyond, thousands, millions… (a suffix never shows "0.5k" for 500).
    scale, suffix = next(((s, x) for s, x in _SUFFIXES if magnitude >= max(s, 1e4)), (1.0, ""))
    decimals = max(0, math.ceil(round(-math.log10(step / scale), 9)))
    return [("0" if t == 0 else f"{t / scale:.{decimals}f}{suffix}") for t in ticks]


def _scientific(value: float, digits: int) -> str:
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _short(value: float) -> str:
    """A single value for a tooltip or a bar end: 4 significant digits, SI suffix when large."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e15 or magnitude < 1e-3:
        return _scientific(value, 2)
    for scale, suffix in _SUFFIXES:
        if magnitude >= 10 * scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.4g}"


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


# ---------------------------------------------------------------------------------------------------------
# Line chart


def line_chart(
    series: Sequence[tuple[str, Sequence[Point]]],
    x_label: str,
    y_label: str,
    title: str,
    *,
    width: int = 600,
    height: int = 360,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    diagonal: bool = False,
) -> str:
    """Lines through ``(x, y)`` points, one per series, with a legend when there are several.

    A point whose x or y is ``None``, NaN or infinite breaks its line (a gap); an isolated point is
    drawn as a dot, and every point gets a dot when a series has few of them.

    Args:
        series: ``(name, [(x, y), …])`` pairs.
        x_label, y_label, title: Axis titles and chart title (plain text; escaped here).
        width, height: Size in pixels.
        x_range, y_range: Fixed axis ranges (e.g. ``(0, 1)`` for ROC curves); default: fit the data.
        diagonal: Draw the dashed ``y = x`` reference (ROC, calibration).

    Returns:
        The SVG document.
    """
    _check_size(width, height)
    cleaned = [(str(name), [(_number(x), _number(y)) for x, y in points]) for name, points in series]
    xs = [x for _, pts in cleaned for x, y in pts if x is not None and y is not None]
    ys = [y for _, pts in cleaned for x, y in pts if x is not None and y is not None]
    if not xs:
        return _empty("line", width, height, title, f"{title}: no data to show.")
    x_scale, y_scale = _scale(xs, x_range), _scale(ys, y_range)
    legend, legend_height = _legend([n for n, _ in cleaned], width, 40) if len(cleaned) > 1 else ([], 0.0)
    box = _Box(28 + _tick_room(y_scale), 30 + legend_height + 8, width - 16, height - 44)
    summary = f"{title}. " + "; ".join(_series_summary(n, p) for n, p in cleaned)
    parts = _open("line", width, height, title, summary)
    parts += legend
    parts += _axes(box, x_scale, y_scale, x_label, y_label, height)
    if diagonal:
        lo, hi = max(x_scale.lo, y_scale.lo), min(x_scale.hi, y_scale.hi)
        if lo < hi:
            parts.append(
                f'<line class="mw-reference" x1="{_n(x_scale.at(lo, box.left, box.right))}" '
                f'y1="{_n(y_scale.at(lo, box.bottom, box.top))}" x2="{_n(x_scale.at(hi, box.left, box.right))}" '
                f'y2="{_n(y_scale.at(hi, box.bottom, box.top))}" stroke="{_MUTED}" stroke-width="1" '
                f'stroke-dasharray="4 4"/>'
            )
    for index, (name, points) in enumerate(cleaned):
        parts += _line(index, name, points, box, x_scale, y_scale)
    parts.append("</svg>")
    return "".join(parts)


def _series_summary(name: str, points: Sequence[tuple[float | None, float | None]]) -> str:
    valid = [(x, y) for x, y in points if x is not None and y is not None]
    if not valid:
        return f"{name}: no values"
    ys = [y for _, y in valid]
    return f"{name}: {len(valid)} points, y from {_short(min(ys))} to {_short(max(ys))}"


def _line(
    index: int,
    name: str,
    points: Sequence[tuple[float | None, float | None]],
    box: _Box,
    x_scale: _Scale,
    y_scale: _Scale,
) -> list[str]:
    colour, dash = PALETTE[index % len(PALETTE)], _DASHES[index % len(_DASHES)]
    segments: list[list[tuple[float, float, float, float]]] = [[]]
    for x, y in points:
        if x is None or y is None:
            if segments[-1]:
                segments.append([])
            continue
        px = min(max(x_scale.at(x, box.left, box.right), box.left), box.right)
        py = min(max(y_scale.at(y, box.bottom, box.top), box.top), box.bottom)
        segments[-1].append((px, py, x, y))
    segments = [s for s in segments if s]
    parts = [f'<g class="mw-series mw-series-{index}"><title>{_esc(name)}</title>']
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    for segment in segments:
        if len(segment) > 1:
            path = " ".join(
                f"{'M' if i == 0 else 'L'}{_n(px)} {_n(py)}" for i, (px, py, _, _) in enumerate(segment)
            )
            parts.append(
                f'<path class="mw-line" d="{path}" fill="none" stroke="{colour}" stroke-width="2" '
                f'stroke-linejoin="round"{dash_attr}/>'
            )
    dots = sum(len(s) for s in segments) <= 40
    for segment in segments:
        if dots or len(segment) == 1:
            for px, py, x, y in segment:
                parts.append(
                    f'<circle class="mw-point" cx="{_n(px)}" cy="{_n(py)}" r="3.5" fill="{colour}">'
                    f"<title>{_esc(name)}: {_esc(_short(x))}, {_esc(_short(y))}</title></circle>"
                )
    parts.append("</g>")
    return parts


# ---------------------------------------------------------------------------------------------------------
# Horizontal bars


def bar_chart(
    items: Sequence[tuple[str, float | None, float | None]],
    title: str,
    *,
    x_label: str = "",
    width: int = 600,
    height: int | None = None,
) -> str:
    """Horizontal bars, one per ``(label, value, error)``, in the order given.

    Negative values extend left of the zero line (and have their own colour and class); ``error`` draws
    a ±error whisker. A value of ``None`` or NaN is shown as "n/a" without a bar.

    Args:
        items: ``(label, value, error or None)`` triples.
        title: The chart title.
        x_label: The title of the value axis.
        width: Width in pixels.
        height: Height in pixels; ``None`` grows with the number of bars (26 pixels each, 200 at least).

    Returns:
        The SVG document.
    """
    rows = [(str(label), _number(value), _number(error)) for label, value, error in items]
    height = height if height is not None else max(200, 80 + 26 * len(rows))
    _check_size(width, height)
    if not rows:
        return _empty("bar", width, height, title, f"{title}: no data to show.")
    extents = [0.0]
    for _, value, error in rows:
        if value is not None:
            spread = abs(error) if error is not None else 0.0
            extents += [value - spread, value + spread]
    scale = _scale(extents)
    label_room = min(width * 0.4, max(len(label) for label, _, _ in rows) * _CHAR + 12)
    box = _Box(label_room + 8, 34, width - 56, height - 44)
    band = (box.bottom - box.top) / len(rows)
    bar = max(min(band * 0.7, 28), 1.0)
    summary = f"{title}. " + "; ".join(
        f"{label}: {'n/a' if value is None else _short(value)}" for label, value, _ in rows[:20]
    )
    parts = _open("bar", width, height, title, summary)
    parts += _axes(box, scale, _Scale(0, 1, (), ()), x_label, "", height)
    zero = scale.at(0.0, box.left, box.right)
    parts.append(
        f'<line class="mw-zero" x1="{_n(zero)}" y1="{_n(box.top)}" x2="{_n(zero)}" y2="{_n(box.bottom)}" '
        f'stroke="{_TEXT}" stroke-width="1"/>'
    )
    for index, (label, value, error) in enumerate(rows):
        middle = box.top + band * (index + 0.5)
        tooltip = f"{label}: {'n/a' if value is None else _short(value)}"
        if value is not None and error is not None:
            tooltip += f" ± {_short(abs(error))}"
        parts.append(f'<g class="mw-bar-row"><title>{_esc(tooltip)}</title>')
        parts.append(
            f'<text class="mw-bar-label" x="{_n(box.left - 8)}" y="{_n(middle + 4)}" text-anchor="end">'
            f"{_esc(_truncate(label, label_room - 4))}</text>"
        )
        if value is None:
            parts.append(
                f'<text class="mw-bar-value" x="{_n(zero + 4)}" y="{_n(middle + 4)}" fill="{_MUTED}">n/a</text></g>'
            )
            continue
        end = scale.at(value, box.left, box.right)
        negative = value < 0
        colour = PALETTE[4] if negative else PALETTE[0]
        parts.append(
            f'<rect class="mw-bar{" mw-bar-negative" if negative else ""}" x="{_n(min(zero, end))}" '
            f'y="{_n(middle - bar / 2)}" width="{_n(max(abs(end - zero), 0.5))}" height="{_n(bar)}" '
            f'fill="{colour}"/>'
        )
        tip = end
        if error is not None and error != 0:
            lo = scale.at(value - abs(error), box.left, box.right)
            hi = scale.at(value + abs(error), box.left, box.right)
            cap = min(bar / 2, 6)
            parts.append(
                f'<path class="mw-error" d="M{_n(lo)} {_n(middle)} L{_n(hi)} {_n(middle)} '
                f"M{_n(lo)} {_n(middle - cap)} L{_n(lo)} {_n(middle + cap)} "
                f'M{_n(hi)} {_n(middle - cap)} L{_n(hi)} {_n(middle + cap)}" stroke="{_TEXT}" '
                f'stroke-width="1.2" fill="none"/>'
            )
            tip = hi if not negative else lo
        anchor = "end" if negative else "start"
        text_x = tip - 4 if negative else tip + 4
        parts.append(
            f'<text class="mw-bar-value" x="{_n(text_x)}" y="{_n(middle + 4)}" text-anchor="{anchor}" '
            f'fill="{_MUTED}">{_esc(_short(value))}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------------------
# Heatmap


def heatmap(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    counts: Sequence[Sequence[float]],
    title: str,
    *,
    x_label: str = "Predicted",
    y_label: str = "Actual",
    width: int = 600,
    height: int = 360,
) -> str:
    """A grid of counts (a confusion matrix: rows are actual classes, columns predicted ones).

    Cells are shaded by their count relative to the largest one (a single-hue scale that stays
    readable in grey) and show the count itself; a tooltip gives the share of the row.

    Args:
        row_labels, col_labels: Labels of the rows and columns.
        counts: One list per row, one number per column.
        title: The chart title.
        x_label, y_label: Titles of the column and row axes.
        width, height: Size in pixels.

    Returns:
        The SVG document.

    Raises:
        ChartError: ``counts`` does not have one row per row label and one value per column label.
    """
    _check_size(width, height)
    rows, cols = [str(r) for r in row_labels], [str(c) for c in col_labels]
    if len(counts) != len(rows) or any(len(row) != len(cols) for row in counts):
        raise ChartError(
            f"The heatmap has {len(rows)} row labels and {len(cols)} column labels, so the counts must be "
            f"{len(rows)} rows of {len(cols)} values.",
        )
    if not rows or not cols:
        return _empty("heatmap", width, height, title, f"{title}: no data to show.")
    values = [[_number(v) for v in row] for row in counts]
    top = max((v for row in values for v in row if v is not None), default=0.0) or 1.0
    label_room = min(width * 0.3, max(len(r) for r in rows) * _CHAR + 12)
    box_left, box_top = 28 + label_room, 34.0
    cell = min((width - box_left - 12) / len(cols), (height - box_top - 44) / len(rows))
    font = max(8.0, min(14.0, cell / 3))
    summary = f"{title}. " + "; ".join(
        f"{y_label} {r}: " + ", ".join(f"{c} {_cell_text(v)}" for c, v in zip(cols, row, strict=True))
        for r, row in zip(rows[:12], values[:12], strict=True)
    )
    parts = _open("heatmap", width, height, title, summary)
    for i, (label, row) in enumerate(zip(rows, values, strict=True)):
        y = box_top + i * cell
        row_total = sum(v for v in row if v is not None)
        parts.append(
            f'<text class="mw-heatmap-label" x="{_n(box_left - 6)}" y="{_n(y + cell / 2 + 4)}" '
            f'text-anchor="end">{_esc(_truncate(label, label_room - 4))}</text>'
        )
        for j, value in enumerate(row):
            x = box_left + j * cell
            share = 0.0 if value is None else max(value, 0.0) / top
            fill, ink = _blue(share), ("#ffffff" if share > 0.55 else _TEXT)
            percent = (
                "" if value is None or not row_total else f" ({100 * value / row_total:.1f}% of {label})"
            )
            parts.append(
                f'<g class="mw-cell"><title>{_esc(f"{y_label} {label}, {x_label} {cols[j]}: {_cell_text(value)}{percent}")}</title>'
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(cell - 1)}" height="{_n(cell - 1)}" fill="{fill}"/>'
                f'<text class="mw-cell-text" x="{_n(x + cell / 2)}" y="{_n(y + cell / 2 + font / 3)}" '
                f'text-anchor="middle" font-size="{_n(font)}" fill="{ink}">{_esc(_cell_text(value))}</text></g>'
            )
    bottom = box_top + cell * len(rows)
    for j, label in enumerate(cols):
        parts.append(
            f'<text class="mw-heatmap-label" x="{_n(box_left + (j + 0.5) * cell)}" y="{_n(bottom + 14)}" '
            f'text-anchor="middle">{_esc(_truncate(label, cell - 2))}</text>'
        )
    parts.append(
        f'<text class="mw-axis-label" x="{_n(box_left + cell * len(cols) / 2)}" y="{_n(min(bottom + 32, height - 6))}" '
        f'text-anchor="middle">{_esc(x_label)}</text>'
    )
    middle = box_top + cell * len(rows) / 2
    parts.append(
        f'<text class="mw-axis-label" x="14" y="{_n(middle)}" text-anchor="middle" '
        f'transform="rotate(-90 14 {_n(middle)})">{_esc(y_label)}</text></svg>'
    )
    return "".join(parts)


def _cell_text(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{int(value):,}" if float(value).is_integer() else _short(value)


def _blue(share: float) -> str:
    """From near-white (#f7fbff) to dark blue (#08306b) as ``share`` goes from 0 to 1."""
    low, high = (0xF7, 0xFB, 0xFF), (0x08, 0x30, 0x6B)
    share = min(max(share, 0.0), 1.0)
    return "#" + "".join(f"{round(a + (b - a) * share):02x}" for a, b in zip(low, high, strict=True))


# ---------------------------------------------------------------------------------------------------------
# Scatter


def scatter(
    points: Sequence[Point],
    x_label: str,
    y_label: str,
    title: str,
    diagonal: bool = False,
    *,
    zero_line: bool = False,
    width: int = 600,
    height: int = 360,
) -> str:
    """Semi-transparent dots at ``(x, y)``; points with a missing coordinate are left out.

    Args:
        points: ``(x, y)`` pairs.
        x_label, y_label, title: Axis titles and chart title.
        diagonal: Draw ``y = x`` with both axes on the same range (predicted against actual).
        zero_line: Draw ``y = 0`` (residuals).
        width, height: Size in pixels.

    Returns:
        The SVG document.
    """
    _check_size(width, height)
    valid = [
        (x, y) for x, y in ((_number(a), _number(b)) for a, b in points) if x is not None and y is not None
    ]
    if not valid:
        return _empty("scatter", width, height, title, f"{title}: no data to show.")
    xs, ys = [x for x, _ in valid], [y for _, y in valid]
    if diagonal:
        both = _scale(xs + ys)
        x_scale = y_scale = both
    else:
        x_scale, y_scale = _scale(xs), _scale(ys + ([0.0] if zero_line else []))
    box = _Box(28 + _tick_room(y_scale), 34, width - 16, height - 44)
    summary = (
        f"{title}. {len(valid)} points; {x_label} from {_short(min(xs))} to {_short(max(xs))}, "
        f"{y_label} from {_short(min(ys))} to {_short(max(ys))}."
    )
    parts = _open("scatter", width, height, title, summary)
    parts += _axes(box, x_scale, y_scale, x_label, y_label, height)
    if diagonal:
        parts.append(
            f'<line class="mw-reference" x1="{_n(box.left)}" y1="{_n(box.bottom)}" x2="{_n(box.right)}" '
            f'y2="{_n(box.top)}" stroke="{_MUTED}" stroke-width="1" stroke-dasharray="4 4"/>'
        )
    if zero_line:
        zero = y_scale.at(0.0, box.bottom, box.top)
        parts.append(
            f'<line class="mw-reference" x1="{_n(box.left)}" y1="{_n(zero)}" x2="{_n(box.right)}" '
            f'y2="{_n(zero)}" stroke="{_MUTED}" stroke-width="1" stroke-dasharray="4 4"/>'
        )
    parts.append(f'<g class="mw-series mw-series-0" fill="{PALETTE[0]}" fill-opacity="0.55">')
    for x, y in valid:
        parts.append(
            f'<circle class="mw-point" cx="{_n(x_scale.at(x, box.left, box.right))}" '
            f'cy="{_n(y_scale.at(y, box.bottom, box.top))}" r="2.5"/>'
        )
    parts.append("</g></svg>")
    return "".join(parts)
