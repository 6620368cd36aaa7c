"""The Lab's SVG charts: well-formed XML, escaped labels, accessible, readable ticks, honest geometry."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from modelworks.engine.automl.charts import PALETTE, ChartError, bar_chart, heatmap, line_chart, scatter

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = 'a <script>alert("x")</script> & b\x00'


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it
    assert root.tag == f"{SVG}svg"
    return root


def _all(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    found = root.iter(f"{SVG}{tag}")
    return [e for e in found if cls is None or cls in (e.get("class") or "").split()]


def _texts(root: ET.Element, cls: str) -> list[str]:
    return ["".join(e.itertext()) for e in _all(root, "text", cls)]


ALL_CHARTS: dict[str, Callable[[str], str]] = {
    "line": lambda label: line_chart([(label, [(0, 0), (1, 1)]), ("other", [(0, 1)])], label, label, label),
    "bar": lambda label: bar_chart([(label, 1.0, 0.1), ("b", -0.5, None)], label, x_label=label),
    "heatmap": lambda label: heatmap(
        [label, "b"], [label, "b"], [[3, 1], [0, 5]], label, x_label=label, y_label=label
    ),
    "scatter": lambda label: scatter([(1, 2), (2, 3)], label, label, label, diagonal=True),
}


@pytest.mark.parametrize("kind", list(ALL_CHARTS))
def test_every_label_is_escaped_and_the_chart_is_accessible(kind: str) -> None:
    svg = ALL_CHARTS[kind](HOSTILE)
    assert "<script" not in svg and "\x00" not in svg
    assert "&lt;script&gt;" in svg and "&amp; b" in svg
    root = _parse(svg)
    clean = HOSTILE.replace("\x00", "")
    assert root.get("role") == "img" and root.get("aria-label") == clean
    assert "".join(root.find(f"{SVG}title").itertext()) == clean
    assert root.find(f"{SVG}desc") is not None
    # Self-contained: no script, no link to anything, no inline style attribute, no id to clash on a page.
    for element in root.iter():
        assert not element.tag.endswith("script") and not element.tag.endswith("foreignObject")
        assert "style" not in element.attrib and "id" not in element.attrib
        assert not any(name.endswith("href") for name in element.attrib)
    assert "mw-chart" in root.get("class", "")


@pytest.mark.parametrize("kind", list(ALL_CHARTS))
def test_default_size_is_600_by_360_and_sizes_are_parameters(kind: str) -> None:
    root = _parse(ALL_CHARTS[kind]("x"))
    if kind != "bar":  # bars grow with their number by default
        assert root.get("viewBox") == "0 0 600 360"
    sized = {
        "line": lambda: line_chart([("s", [(0, 1), (1, 2)])], "x", "y", "t", width=800, height=500),
        "bar": lambda: bar_chart([("a", 1.0, None)], "t", width=800, height=500),
        "heatmap": lambda: heatmap(["a"], ["b"], [[1]], "t", width=800, height=500),
        "scatter": lambda: scatter([(0, 1)], "x", "y", "t", width=800, height=500),
    }[kind]()
    assert _parse(sized).get("viewBox") == "0 0 800 500"
    assert _parse(sized).get("width") == "800"


def test_line_gaps_split_the_line_and_lone_points_get_a_dot() -> None:
    points = [(0, 0.0), (1, 0.5), (2, None), (3, float("nan")), (4, 0.8), (5, 0.9), (6, math.inf), (7, 1.0)]
    root = _parse(line_chart([("history", points)], "trial", "score", "Score by trial"))
    paths = _all(root, "path", "mw-line")
    assert [p.get("d").count("L") for p in paths] == [1, 1]  # (0,1) and (4,5); point 7 stands alone
    dots = _all(root, "circle", "mw-point")
    assert len(dots) == 5  # few points: every valid one gets a dot with a tooltip
    assert "".join(dots[-1].itertext()) == "history: 7, 1"


def test_many_points_draw_a_line_without_dots_and_a_lone_point_still_shows() -> None:
    long = [(i, math.sin(i / 10)) for i in range(300)]
    root = _parse(line_chart([("a", long), ("b", [(150, 0.2)])], "x", "y", "t"))
    first, second = _all(root, "g", "mw-series")
    assert _all(first, "circle") == [] and len(_all(first, "path", "mw-line")) == 1
    assert len(_all(second, "circle", "mw-point")) == 1
    assert _texts(root, "mw-legend-text") == ["a", "b"]


def test_a_single_point_and_no_data() -> None:
    root = _parse(line_chart([("only", [(3, 4)])], "x", "y", "One point"))
    (dot,) = _all(root, "circle", "mw-point")
    assert float(dot.get("cx")) > 0 and float(dot.get("cy")) > 0
    ticks = _texts(root, "mw-tick")
    assert len(set(ticks)) == len(ticks) >= 4  # a flat range is widened around the value
    for chart in (
        line_chart([("empty", [(None, None)])], "x", "y", "Nothing"),
        line_chart([], "x", "y", "Nothing"),
        bar_chart([], "Nothing"),
        scatter([(float("nan"), 1)], "x", "y", "Nothing"),
        heatmap([], [], [], "Nothing"),
    ):
        assert _texts(_parse(chart), "mw-chart-empty") == ["Nothing: no data to show."]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 0.5, 1.0], ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]),
        ([0, 3e9], ["0", "1G", "2G", "3G"]),
        ([0, 2.5e9], ["0", "0.5G", "1.0G", "1.5G", "2.0G", "2.5G"]),
        ([0, 9000], ["0", "2k", "4k", "6k", "8k", "10k"]),
        ([0, 2600], ["0", "1000", "2000", "3000"]),
        ([0, 2.5e10], ["0", "5G", "10G", "15G", "20G", "25G"]),
        ([0, 4e-6], ["0", "1e-6", "2e-6", "3e-6", "4e-6"]),
        ([1.00001, 1.00005], ["1.00001", "1.00002", "1.00003", "1.00004", "1.00005"]),
        ([-50, 50], ["-60", "-40", "-20", "0", "20", "40", "60"]),
        ([0, 4e20], ["0", "1e20", "2e20", "3e20", "4e20"]),
    ],
)
def test_tick_labels_stay_short_and_distinct(values: list[float], expected: list[str]) -> None:
    root = _parse(line_chart([("s", [(i, v) for i, v in enumerate(values)])], "x", "y", "t"))
    ticks = _texts(root, "mw-tick")
    y_ticks = ticks[: len(expected)]
    assert y_ticks == expected
    assert all(len(t) <= 8 for t in ticks)


def test_bar_chart_draws_negative_values_left_of_zero_with_error_bars() -> None:
    items = [("signal", 5.0, 0.5), ("noise", -0.4, 0.1), ("broken", float("nan"), None), ("zero", 0.0, None)]
    root = _parse(bar_chart(items, "Permutation importance", x_label="drop in RMSE"))
    (zero_line,) = _all(root, "line", "mw-zero")
    zero = float(zero_line.get("x1"))
    bars = _all(root, "rect", "mw-bar")
    assert len(bars) == 3
    positive, negative, _ = bars
    assert float(positive.get("x")) == pytest.approx(zero) and float(positive.get("width")) > 100
    assert "mw-bar-negative" in negative.get("class")
    assert float(negative.get("x")) + float(negative.get("width")) == pytest.approx(zero, abs=0.05)
    assert positive.get("fill") == PALETTE[0] and negative.get("fill") != PALETTE[0]
    assert len(_all(root, "path", "mw-error")) == 2
    assert _texts(root, "mw-bar-label") == ["signal", "noise", "broken", "zero"]
    assert _texts(root, "mw-bar-value") == ["5", "-0.4", "n/a", "0"]
    tooltips = ["".join(g.find(f"{SVG}title").itertext()) for g in _all(root, "g", "mw-bar-row")]
    assert tooltips[0] == "signal: 5 ± 0.5"


def test_bar_chart_grows_with_its_bars_and_truncates_long_labels() -> None:
    items = [(f"a column with a really long name number {i}" * 2, float(i), None) for i in range(30)]
    root = _parse(bar_chart(items, "Importance"))
    assert int(root.get("height")) >= 30 * 20
    labels = _texts(root, "mw-bar-label")
    assert all(label.endswith("…") and len(label) < 50 for label in labels)
    full = ["".join(g.find(f"{SVG}title").itertext()) for g in _all(root, "g", "mw-bar-row")]
    assert full[3].startswith(items[3][0])


def test_heatmap_shows_every_count_and_shades_by_size() -> None:
    counts = [[50, 3, 0], [7, 40, 1], [0, 2, 1234]]
    root = _parse(heatmap(["cat", "dog", "bird"], ["cat", "dog", "bird"], counts, "Confusion matrix"))
    assert _texts(root, "mw-cell-text") == ["50", "3", "0", "7", "40", "1", "0", "2", "1,234"]
    cells = [g.find(f"{SVG}rect").get("fill") for g in _all(root, "g", "mw-cell")]
    assert cells[0] != cells[2] and cells[8] == "#08306b" and cells[2] == "#f7fbff"
    tooltip = "".join(_all(root, "g", "mw-cell")[1].find(f"{SVG}title").itertext())
    assert tooltip == "Actual cat, Predicted dog: 3 (5.7% of cat)"


@pytest.mark.parametrize(
    ("rows", "cols", "counts", "match"),
    [
        (["a", "b"], ["a", "b"], [[1, 2]], "must be 2 rows of 2 values"),
        (["a"], ["a", "b"], [[1]], "must be 1 rows of 2 values"),
    ],
)
def test_heatmap_refuses_a_matrix_of_the_wrong_shape(
    rows: list[str], cols: list[str], counts: list[list[int]], match: str
) -> None:
    with pytest.raises(ChartError, match=match):
        heatmap(rows, cols, counts, "t")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: line_chart([("s", [(0, 1)])], "x", "y", "t", width=100), "at least 160 by 120 pixels"),
        (lambda: scatter([(0, 1)], "x", "y", "t", height=50), "got 600 by 50"),
    ],
)
def test_too_small_charts_are_refused(call: Callable[[], str], match: str) -> None:
    with pytest.raises(ChartError, match=match):
        call()


def test_scatter_with_diagonal_shares_one_scale_and_drops_missing_points() -> None:
    points = [(x, x * 1.1 + 3) for x in range(100)] + [(None, 1), (2, float("nan"))]
    root = _parse(scatter(points, "Actual", "Predicted", "Predicted vs actual", diagonal=True))
    assert len(_all(root, "circle", "mw-point")) == 100
    (diagonal,) = _all(root, "line", "mw-reference")
    frame = _all(root, "rect", "mw-plot-frame")[0]
    left, top = float(frame.get("x")), float(frame.get("y"))
    assert float(diagonal.get("x1")) == pytest.approx(left) and float(diagonal.get("y2")) == pytest.approx(
        top
    )
    ticks = _texts(root, "mw-tick")
    half = len(ticks) // 2
    assert ticks[:half] == ticks[half:]  # same ticks on both axes
    assert "100 points" in "".join(root.find(f"{SVG}desc").itertext())


def test_residuals_scatter_has_a_zero_line() -> None:
    root = _parse(scatter([(1, 2), (2, -1), (3, 0.5)], "Predicted", "Residual", "Residuals", zero_line=True))
    (zero,) = _all(root, "line", "mw-reference")
    assert zero.get("y1") == zero.get("y2")


def test_series_differ_by_dash_as_well_as_colour() -> None:
    series = [(f"class {i}", [(0, i), (1, i + 1)]) for i in range(3)]
    root = _parse(line_chart(series, "x", "y", "t"))
    lines = _all(root, "path", "mw-line")
    assert len({p.get("stroke") for p in lines}) == 3
    assert len({p.get("stroke-dasharray") for p in lines}) == 3
    assert re.fullmatch(r"#[0-9A-F]{6}", lines[0].get("stroke"))
