""":func:`heatmap`: a grid of cells shaded by value with the count in each cell (a confusion matrix)."""

from __future__ import annotations

from collections.abc import Sequence

from modelworks.engine.automl.charts.frame import (
    _CHAR,
    _TEXT,
    ChartError,
    _check_size,
    _empty,
    _esc,
    _n,
    _number,
    _open,
    _truncate,
)
from modelworks.engine.automl.charts.scales import _short

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
