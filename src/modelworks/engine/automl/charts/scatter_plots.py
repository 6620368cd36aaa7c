""":func:`scatter`: points against two numeric axes (residuals, predicted against actual), with an
optional reference line.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelworks.engine.automl.charts.frame import (
    _MUTED,
    PALETTE,
    Point,
    _axes,
    _Box,
    _check_size,
    _empty,
    _n,
    _number,
    _open,
    _tick_room,
)
from modelworks.engine.automl.charts.scales import _scale, _short

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
