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

Layout: ``frame`` (palette, escaping, the ``<svg>`` frame, axes, legend) and ``scales`` shared by one
module per chart: ``lines``, ``bars``, ``heatmaps``, ``scatter_plots``.
"""

from __future__ import annotations

from modelworks.engine.automl.charts.bars import bar_chart
from modelworks.engine.automl.charts.frame import PALETTE, ChartError
from modelworks.engine.automl.charts.frame import Point as Point
from modelworks.engine.automl.charts.heatmaps import heatmap
from modelworks.engine.automl.charts.lines import line_chart
from modelworks.engine.automl.charts.scatter_plots import scatter

__all__ = [
    "PALETTE",
    "ChartError",
    "bar_chart",
    "heatmap",
    "line_chart",
    "scatter",
]
