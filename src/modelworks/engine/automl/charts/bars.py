""":func:`bar_chart`: horizontal bars (importances), with negative values and error bars."""

from __future__ import annotations

from collections.abc import Sequence

from modelworks.engine.automl.charts.frame import (
    _CHAR,
    _MUTED,
    _TEXT,
    PALETTE,
    _axes,
    _Box,
    _check_size,
    _empty,
    _esc,
    _n,
    _number,
    _open,
    _truncate,
)
from modelworks.engine.automl.charts.scales import _Scale, _scale, _short

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
