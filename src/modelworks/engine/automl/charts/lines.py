""":func:`line_chart`: one or more series of points joined by lines (ROC, precision-recall, calibration,
partial dependence, metric history), each with its colour and dash pattern.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelworks.engine.automl.charts.frame import (
    _DASHES,
    _MUTED,
    PALETTE,
    Point,
    _axes,
    _Box,
    _check_size,
    _empty,
    _esc,
    _legend,
    _n,
    _number,
    _open,
    _tick_room,
)
from modelworks.engine.automl.charts.scales import _Scale, _scale, _short

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
