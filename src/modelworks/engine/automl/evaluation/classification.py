"""Classification metrics and curves: accuracy, F1, ROC AUC, log loss…, per-class scores, the confusion
matrix, ROC, precision-recall and calibration curves.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from modelworks.engine.automl.evaluation.inputs import _ClassificationInputs, _downsample, _round, skm
from modelworks.engine.automl.evaluation.metrics import (
    CALIBRATION_BINS,
    MAX_CURVE_POINTS,
    METRICS,
    Evaluation,
    json_safe,
)

# ---------------------------------------------------------------------------------------------------------
# Classification


def _evaluate_classification(data: _ClassificationInputs) -> Evaluation:
    values, omitted, notes = _classification_metrics(data, only=None)
    matrix = skm.confusion_matrix(data.truth, data.predicted, labels=data.classes)
    curves: dict[str, Any] = {
        "confusion_matrix": {"labels": list(data.classes), "counts": matrix.astype(int).tolist()}
    }
    if data.proba is not None:
        curves["roc"] = _per_class_curves(data, "roc")
        curves["pr"] = _per_class_curves(data, "pr")
        if data.task == "binary":
            curves["calibration"] = _calibration(data.truth == data.classes[1], data.proba[:, 1])
    return Evaluation(
        task=data.task,
        metrics=values,
        curves=json_safe(curves),
        omitted=omitted,
        notes=notes,
        rows=len(data.truth),
    )


def _classification_metrics(
    data: _ClassificationInputs, *, only: str | None
) -> tuple[dict[str, float], dict[str, str], dict[str, str]]:
    values: dict[str, float] = {}
    omitted: dict[str, str] = {}
    notes: dict[str, str] = {}

    def wanted(name: str) -> bool:
        return only is None or only == name

    binary = data.task == "binary"
    label_kwargs: dict[str, Any] = (
        {"pos_label": data.classes[1], "average": "binary"}
        if binary
        else {"labels": data.classes, "average": "macro"}
    )
    if wanted("accuracy"):
        values["accuracy"] = float(skm.accuracy_score(data.truth, data.predicted))
    if wanted("balanced_accuracy"):
        present = set(data.truth.tolist())
        # sklearn averages recall over the classes present in y_true only: say so in a note, not a warning.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            values["balanced_accuracy"] = float(skm.balanced_accuracy_score(data.truth, data.predicted))
        if len(present) < len(data.classes):
            notes["balanced_accuracy"] = (
                f"averaged over the {len(present)} of {len(data.classes)} classes present in these rows."
            )
    for name, function in (
        ("f1", skm.f1_score),
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
    ):
        if wanted(name):
            values[name] = float(function(data.truth, data.predicted, zero_division=0, **label_kwargs))
    probability_metrics = ("roc_auc", "pr_auc", "log_loss")
    if data.proba is None:
        for name in probability_metrics:
            if wanted(name):
                omitted[name] = "needs predicted probabilities, and the model gave only labels."
        return values, omitted, notes
    if wanted("log_loss"):
        with warnings.catch_warnings():
            # float32 probabilities (XGBoost) miss a sum of 1 by 1e-7, and sklearn warns about it.
            warnings.simplefilter("ignore", UserWarning)
            values["log_loss"] = float(skm.log_loss(data.truth, data.proba, labels=data.classes))
    for name in ("roc_auc", "pr_auc"):
        if not wanted(name):
            continue
        scores, skipped = _per_class_scores(data, name)
        if not scores:
            omitted[name] = _single_class_reason(data, name)
            continue
        values[name] = float(np.mean(scores))
        if skipped:
            notes[name] = (
                f"averaged over {len(scores)} of {len(data.classes)} classes; "
                f"{', '.join(skipped[:5])} never occur in these rows."
            )
    return values, omitted, notes


def _single_class_reason(data: _ClassificationInputs, name: str) -> str:
    label = METRICS[name].label
    present = sorted(set(data.truth.tolist()))
    if len(present) == 1:
        return (
            f"{label} needs rows of at least two classes, but every actual value is {present[0]!r}; "
            "evaluate on more rows (or a stratified split)."
        )
    return f"{label} needs every class to have both positive and negative rows."


def _binary_columns(
    data: _ClassificationInputs,
) -> list[tuple[str, np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
    """(class, is-that-class, probability) for the classes a one-vs-rest score is computed for."""
    assert data.proba is not None
    indices = [1] if data.task == "binary" else range(len(data.classes))
    return [(data.classes[i], data.truth == data.classes[i], data.proba[:, i]) for i in indices]


def _per_class_scores(data: _ClassificationInputs, name: str) -> tuple[list[float], list[str]]:
    scores: list[float] = []
    skipped: list[str] = []
    for label, positive, score in _binary_columns(data):
        if positive.all() or not positive.any():
            skipped.append(repr(label))
            continue
        if name == "roc_auc":
            scores.append(float(skm.roc_auc_score(positive, score)))
        else:
            scores.append(float(skm.average_precision_score(positive, score)))
    return scores, skipped


def _per_class_curves(data: _ClassificationInputs, kind: str) -> list[dict[str, Any]]:
    curves: list[dict[str, Any]] = []
    for label, positive, score in _binary_columns(data):
        if positive.all() or not positive.any():
            continue
        if kind == "roc":
            x, y, _ = skm.roc_curve(positive, score)
            area = skm.roc_auc_score(positive, score)
        else:
            precision, recall, _ = skm.precision_recall_curve(positive, score)
            # Recall on x, from 0 to 1, as the chart reads it.
            x, y = recall[::-1], precision[::-1]
            area = skm.average_precision_score(positive, score)
        points = _downsample(np.column_stack([x, y]), MAX_CURVE_POINTS)
        curves.append({"name": label, "points": _round(points), "auc": float(area)})
    return curves


def _calibration(positive: np.ndarray[Any, Any], probability: np.ndarray[Any, Any]) -> dict[str, Any]:
    """Ten equal-width bins of predicted probability: the mean prediction and the observed rate in each."""
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    index = np.clip(np.digitize(probability, edges[1:-1], right=False), 0, CALIBRATION_BINS - 1)
    points, counts, bins = [], [], []
    for b in range(CALIBRATION_BINS):
        mask = index == b
        count = int(mask.sum())
        if count == 0:
            continue
        points.append([round(float(probability[mask].mean()), 6), round(float(positive[mask].mean()), 6)])
        counts.append(count)
        bins.append([round(float(edges[b]), 6), round(float(edges[b + 1]), 6)])
    return {"points": points, "counts": counts, "bins": bins}
