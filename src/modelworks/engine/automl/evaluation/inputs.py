"""What the computations share: ``sklearn.metrics`` loaded on first use (``skm``), the checks that turn
the truth and predictions into aligned arrays, and deterministic down-sampling and rounding of curves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from modelworks.engine.automl.evaluation.metrics import EvaluationError
from modelworks.engine.automl.types import Task


class _LazyMetrics:
    """``sklearn.metrics``, imported on first use: the web server reads ``METRICS`` (labels only)
    and must not import scikit-learn and SciPy for that."""

    def __getattr__(self, name: str) -> Any:
        from sklearn import metrics  # type: ignore[import-untyped]

        return getattr(metrics, name)


skm: Any = _LazyMetrics()


def _as_1d(values: Any, what: str) -> np.ndarray[Any, Any]:
    array = np.asarray(values)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise EvaluationError(f"{what} must be one value per row, got an array of shape {array.shape}.")
    return array


def _same_length(truth: np.ndarray[Any, Any], other: np.ndarray[Any, Any], what: str) -> None:
    if len(truth) != len(other):
        raise EvaluationError(
            f"The actual values have {len(truth)} rows but {what} has {len(other)}; "
            "they must come from the same rows.",
            rows=len(truth),
            other_rows=len(other),
        )


def _regression_inputs(y_true: Any, y_pred: Any) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    if y_pred is None:
        raise EvaluationError("A regression evaluation needs the predicted values (y_pred is missing).")
    truth_raw = _as_1d(y_true, "The actual values")
    pred_raw = _as_1d(y_pred, "The predictions")
    _same_length(truth_raw, pred_raw, "the predictions")
    if len(truth_raw) == 0:
        raise EvaluationError("There are no rows to evaluate.")
    arrays = []
    for raw, what in ((truth_raw, "actual values"), (pred_raw, "predictions")):
        try:
            array = raw.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise EvaluationError(
                f"The {what} of a regression must be numbers; found {raw[0]!r}-like values.",
            ) from exc
        bad = np.flatnonzero(~np.isfinite(array))
        if len(bad):
            raise EvaluationError(
                f"The {what} contain {len(bad)} missing or infinite values (first at row {int(bad[0])}); "
                "drop those rows before evaluating.",
                rows=bad[:10].tolist(),
            )
        arrays.append(array)
    return arrays[0], arrays[1]


@dataclass(frozen=True)
class _ClassificationInputs:
    task: Task
    classes: list[str]
    truth: np.ndarray[Any, Any]  # labels as str
    predicted: np.ndarray[Any, Any]  # labels as str
    proba: np.ndarray[Any, Any] | None  # (n, k) float

    @classmethod
    def build(
        cls,
        task: Task,
        y_true: Any,
        y_pred: Any,
        y_proba: npt.ArrayLike | None,
        classes: Sequence[Any] | None,
    ) -> _ClassificationInputs:
        if classes is None or len(classes) == 0:
            raise EvaluationError(
                "A classification evaluation needs the class labels, in the order of the probability columns."
            )
        labels = [str(c) for c in classes]
        if len(set(labels)) != len(labels):
            raise EvaluationError(f"The class labels must be distinct, got {labels}.")
        if task == "binary" and len(labels) != 2:
            raise EvaluationError(
                f"A binary task has exactly two classes, got {len(labels)} ({', '.join(labels[:5])}); "
                "use the multiclass task instead.",
                classes=labels[:20],
            )
        if task == "multiclass" and len(labels) < 2:
            raise EvaluationError("A multiclass task needs at least two classes.", classes=labels)
        truth = _as_1d(y_true, "The actual values").astype(str)
        if len(truth) == 0:
            raise EvaluationError("There are no rows to evaluate.")
        proba = None
        if y_proba is not None:
            proba = np.asarray(y_proba, dtype=np.float64)
            if task == "binary" and proba.ndim == 1:
                proba = np.column_stack([1.0 - proba, proba])
            if proba.ndim != 2 or proba.shape[1] != len(labels):
                raise EvaluationError(
                    f"The probabilities must have one column per class ({len(labels)}), "
                    f"got an array of shape {proba.shape}.",
                )
            _same_length(truth, proba, "the probabilities")
            if not np.all(np.isfinite(proba)):
                raise EvaluationError("The probabilities contain missing or infinite values.")
        if y_pred is None:
            if proba is None:
                raise EvaluationError("Give the predicted labels, the probabilities, or both.")
            predicted = np.asarray(labels, dtype=object)[np.argmax(proba, axis=1)].astype(str)
        else:
            predicted = _as_1d(y_pred, "The predictions").astype(str)
            _same_length(truth, predicted, "the predictions")
        known = set(labels)
        for values, what in ((truth, "actual values"), (predicted, "predictions")):
            unknown = sorted(set(values.tolist()) - known)
            if unknown:
                raise EvaluationError(
                    f"The {what} contain {unknown[0]!r}, which is not one of the classes "
                    f"({', '.join(labels[:10])}); pass every class label in `classes`.",
                    label=unknown[0],
                )
        return cls(task, labels, truth, predicted, proba)


# ---------------------------------------------------------------------------------------------------------
# Helpers


def _downsample(points: np.ndarray[Any, Any], limit: int) -> np.ndarray[Any, Any]:
    """At most ``limit`` points, evenly spaced along the curve, first and last kept."""
    if len(points) <= limit:
        return points
    index = np.unique(np.linspace(0, len(points) - 1, limit).round().astype(int))
    kept: np.ndarray[Any, Any] = points[index]
    return kept


def _sample_indices(total: int, limit: int) -> np.ndarray[Any, Any]:
    """The same ``limit`` rows every time for the same ``total`` (sorted, so the sample keeps row order)."""
    if total <= limit:
        return np.arange(total)
    return np.sort(np.random.default_rng(0).choice(total, size=limit, replace=False))


def _round(points: np.ndarray[Any, Any]) -> list[list[float]]:
    """Points as lists of floats with 6 significant digits: plenty for a chart, small as JSON."""
    result: list[list[float]] = []
    for row in points.tolist():
        result.append([float(f"{v:.6g}") for v in row])
    return result
