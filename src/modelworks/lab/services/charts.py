"""The SVG charts of a training's results page, drawn on the server from the session's JSON."""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString, mark_safe

from modelworks.engine.automl import charts
from modelworks.engine.automl.evaluation import METRICS
from modelworks.lab.models import TrainingSession

__all__ = ["dependence_charts", "evaluation_charts", "importance_charts"]


def _safe(svg: str) -> SafeString:
    # charts.py escapes every label and value it draws; the SVG is made here, never from user HTML.
    return mark_safe(svg)  # noqa: S308


def _chart(title: str, draw: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return {"title": title, "svg": _safe(draw(*args, **kwargs)), "error": ""}
    except Exception as exc:  # a chart that cannot be drawn says why instead of breaking the page
        return {"title": title, "svg": "", "error": f"This chart could not be drawn: {exc}"}


def _points(raw: Any) -> list[tuple[Any, Any]]:
    return [(p[0], p[1]) for p in raw or [] if isinstance(p, list | tuple) and len(p) >= 2]


def evaluation_charts(session: TrainingSession) -> list[dict[str, Any]]:
    """ROC, precision-recall, calibration and confusion matrix (classifiers); residuals and predicted
    against actual (regression), from the holdout evaluation."""
    holdout = session.holdout or {}
    curves = holdout.get("curves") or {}
    found: list[dict[str, Any]] = []
    if session.spec.get("task") == "regression":
        if curves.get("predicted_vs_actual"):
            found.append(
                _chart(
                    "Predicted against actual",
                    charts.scatter,
                    _points(curves["predicted_vs_actual"].get("points")),
                    "Actual",
                    "Predicted",
                    "Predicted against actual (holdout rows)",
                    True,
                )
            )
        if curves.get("residuals"):
            found.append(
                _chart(
                    "Residuals",
                    charts.scatter,
                    _points(curves["residuals"].get("points")),
                    "Predicted",
                    "Actual - predicted",
                    "Residuals (holdout rows)",
                    zero_line=True,
                )
            )
        return found
    for key, title, x_label, y_label, diagonal in (
        ("roc", "ROC curve", "False positive rate", "True positive rate", True),
        ("pr", "Precision-recall curve", "Recall", "Precision", False),
    ):
        series = [
            (
                f"{s.get('name', '')} (AUC {s['auc']:.3f})"
                if s.get("auc") is not None
                else str(s.get("name", "")),
                _points(s.get("points")),
            )
            for s in curves.get(key) or []
        ]
        if series:
            found.append(
                _chart(
                    title,
                    charts.line_chart,
                    series,
                    x_label,
                    y_label,
                    title,
                    x_range=(0, 1),
                    y_range=(0, 1),
                    diagonal=diagonal,
                )
            )
    calibration = curves.get("calibration")
    if calibration and calibration.get("points"):
        found.append(
            _chart(
                "Calibration",
                charts.line_chart,
                [("Model", _points(calibration["points"]))],
                "Mean predicted probability",
                "Share actually positive",
                "Calibration: are the probabilities right?",
                x_range=(0, 1),
                y_range=(0, 1),
                diagonal=True,
            )
        )
    matrix = curves.get("confusion_matrix")
    if matrix and matrix.get("labels"):
        labels = [str(x) for x in matrix["labels"]]
        found.append(
            _chart(
                "Confusion matrix",
                charts.heatmap,
                labels,
                labels,
                matrix["counts"],
                "Confusion matrix (holdout rows)",
            )
        )
    return found


def importance_charts(session: TrainingSession) -> list[dict[str, Any]]:
    """Permutation importance and SHAP importance as horizontal bars (top 20 columns)."""
    explanations = session.explanations or {}
    found: list[dict[str, Any]] = []
    permutation = explanations.get("permutation") or []
    if permutation:
        metric = METRICS.get(str(session.spec.get("metric", "")))
        found.append(
            _chart(
                "Permutation importance",
                charts.bar_chart,
                [(r["column"], r.get("importance"), r.get("std")) for r in permutation[:20]],
                "Permutation importance",
                x_label=f"Drop in {metric.label if metric else 'score'} when the column is shuffled",
            )
        )
    shap = explanations.get("shap") or {}
    if shap.get("available") and shap.get("importances"):
        found.append(
            _chart(
                "SHAP importance",
                charts.bar_chart,
                [(c, v, None) for c, v in shap["importances"][:20]],
                "SHAP importance",
                x_label=f"Mean absolute contribution ({shap.get('output', '')})",
            )
        )
    return found


def dependence_charts(session: TrainingSession) -> list[dict[str, Any]]:
    """One partial dependence chart per explained column (numbers and dates as lines, categories as bars)."""
    found: list[dict[str, Any]] = []
    for item in (session.explanations or {}).get("partial_dependence") or []:
        column, values, averages = (
            item.get("column", ""),
            item.get("values") or [],
            item.get("averages") or {},
        )
        title = f"Effect of {column}"
        if item.get("kind") == "numeric":
            series = [(name, list(zip(values, ys, strict=False))) for name, ys in averages.items()]
            found.append(
                _chart(title, charts.line_chart, series, column, item.get("output", "prediction"), title)
            )
        else:
            name, ys = next(iter(averages.items()), ("", []))
            bars = [(str(v), y, None) for v, y in zip(values, ys, strict=False)]
            found.append(
                _chart(title, charts.bar_chart, bars, title, x_label=f"Average {item.get('output') or name}")
            )
    return found
