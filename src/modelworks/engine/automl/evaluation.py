"""How good a model is: the metrics of a task and the curves the Lab draws, as plain JSON values.

:func:`evaluate` scores predictions against the truth once (holdout, cross-validation fold) and returns
an :class:`Evaluation`: ``metrics`` (name → float, only the metrics that could be computed),
``omitted`` (name → the plain-language reason a metric is missing, e.g. ROC AUC on a single class) and
``curves`` (confusion matrix, ROC, precision-recall and calibration curves for classifiers; residuals and
predicted-vs-actual samples for regression). Everything is JSON-serialisable: plain floats, lists,
strings; NaN becomes ``None``. Curves keep at most 200 points, samples at most 500, chosen
deterministically so that the same model gives the same charts.

:func:`score_for_search` computes one metric as a "higher is better" number (losses are negated), which is
what the hyper-parameter search maximises.

Class labels are compared as strings: ``classes`` gives the order of ``y_proba``'s columns, and for a
binary task the positive class is ``classes[1]``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

import numpy as np
import numpy.typing as npt

from modelworks.engine.automl.errors import AutoMLError, UnknownMetricError
from modelworks.engine.automl.types import Task
from modelworks.engine.errors import did_you_mean


class _LazyMetrics:
    """``sklearn.metrics``, imported on first use: the web server reads ``METRICS`` (labels only)
    and must not import scikit-learn and SciPy for that."""

    def __getattr__(self, name: str) -> Any:
        from sklearn import metrics  # type: ignore[import-untyped]

        return getattr(metrics, name)


skm: Any = _LazyMetrics()

__all__ = [
    "METRICS",
    "Evaluation",
    "EvaluationError",
    "MetricInfo",
    "MetricUnavailableError",
    "default_metric",
    "evaluate",
    "json_safe",
    "score_for_search",
]

MAX_CURVE_POINTS = 200
MAX_SAMPLE_POINTS = 500
CALIBRATION_BINS = 10
_TASKS: tuple[Task, ...] = get_args(Task)
_CLASSIFICATION: tuple[Task, ...] = ("binary", "multiclass")
_REGRESSION: tuple[Task, ...] = ("regression",)


class EvaluationError(AutoMLError):
    """Predictions and truth that cannot be compared (lengths differ, unknown classes, wrong shapes…)."""

    code = "evaluation_error"


class MetricUnavailableError(EvaluationError):
    """A known metric that cannot be computed on these values (ROC AUC with a single class…)."""

    code = "metric_unavailable"


@dataclass(frozen=True)
class MetricInfo:
    """What a metric is, for the metric picker and the leaderboard.

    Attributes:
        label: The name shown to users ("ROC AUC").
        tasks: The tasks it applies to.
        greater_is_better: ``False`` for losses and errors (log loss, RMSE…).
        description: One sentence a business user understands.
        scorer: The equivalent scikit-learn scorer name for binary/regression tasks.
        multiclass_scorer: The scikit-learn scorer name for multiclass tasks (``""`` if not applicable).
    """

    label: str
    tasks: tuple[Task, ...]
    greater_is_better: bool
    description: str
    scorer: str
    multiclass_scorer: str = ""

    def scorer_for(self, task: Task) -> str:
        """The scikit-learn scorer name of this metric for ``task``."""
        return self.multiclass_scorer if task == "multiclass" else self.scorer


METRICS: Mapping[str, MetricInfo] = {
    "roc_auc": MetricInfo(
        "ROC AUC",
        _CLASSIFICATION,
        True,
        "How well the model ranks positives above negatives: 1 is perfect, 0.5 is a coin toss "
        "(multiclass: the average over classes of one class against the rest).",
        "roc_auc",
        "roc_auc_ovr",
    ),
    "pr_auc": MetricInfo(
        "PR AUC",
        _CLASSIFICATION,
        True,
        "Average precision over all thresholds; more telling than ROC AUC when the positive class is rare "
        "(multiclass: the average over classes).",
        "average_precision",
        "average_precision",
    ),
    "log_loss": MetricInfo(
        "Log loss",
        _CLASSIFICATION,
        False,
        "How far the predicted probabilities are from what happened; lower is better and confident "
        "mistakes cost the most.",
        "neg_log_loss",
        "neg_log_loss",
    ),
    "accuracy": MetricInfo(
        "Accuracy",
        _CLASSIFICATION,
        True,
        "The share of rows whose predicted class is right; misleading when one class dominates.",
        "accuracy",
        "accuracy",
    ),
    "balanced_accuracy": MetricInfo(
        "Balanced accuracy",
        _CLASSIFICATION,
        True,
        "The average over classes of the share of that class predicted right; fair to rare classes.",
        "balanced_accuracy",
        "balanced_accuracy",
    ),
    "f1": MetricInfo(
        "F1",
        _CLASSIFICATION,
        True,
        "The balance of precision and recall for the positive class (multiclass: averaged over classes).",
        "f1",
        "f1_macro",
    ),
    "precision": MetricInfo(
        "Precision",
        _CLASSIFICATION,
        True,
        "Of the rows predicted positive, the share that really are (multiclass: averaged over classes).",
        "precision",
        "precision_macro",
    ),
    "recall": MetricInfo(
        "Recall",
        _CLASSIFICATION,
        True,
        "Of the rows that really are positive, the share the model finds (multiclass: averaged over "
        "classes).",
        "recall",
        "recall_macro",
    ),
    "rmse": MetricInfo(
        "RMSE",
        _REGRESSION,
        False,
        "Root mean squared error, in the target's unit; large mistakes weigh more.",
        "neg_root_mean_squared_error",
    ),
    "mae": MetricInfo(
        "MAE",
        _REGRESSION,
        False,
        "Mean absolute error: the typical size of a mistake, in the target's unit.",
        "neg_mean_absolute_error",
    ),
    "r2": MetricInfo(
        "R²",
        _REGRESSION,
        True,
        "The share of the target's variation the model explains: 1 is perfect, 0 is no better than "
        "always predicting the average.",
        "r2",
    ),
    "mape": MetricInfo(
        "MAPE",
        _REGRESSION,
        False,
        "Mean absolute percentage error (0.1 = 10 %); only reported when no actual value is near zero.",
        "neg_mean_absolute_percentage_error",
    ),
}

_DEFAULT_METRIC: Mapping[Task, str] = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


def default_metric(task: Task) -> str:
    """The metric the Lab optimises unless the user picks another one."""
    return _DEFAULT_METRIC[_check_task(task)]


@dataclass(frozen=True)
class Evaluation:
    """Metrics and curves of one set of predictions, as JSON values.

    Attributes:
        task: The task that was evaluated.
        metrics: Metric name → value, only for the metrics that could be computed.
        curves: ``confusion_matrix`` (``labels``, ``counts``), ``roc`` and ``pr`` (lists of
            ``{"name", "points": [[x, y], …], "auc"}`` per class: the positive class for binary, every
            class one-vs-rest for multiclass), ``calibration`` (binary: ``points``
            [[mean predicted, fraction positive]], ``counts``, ``bins``) for classifiers;
            ``residuals`` (``points`` [[predicted, actual - predicted]]) and ``predicted_vs_actual``
            (``points`` [[actual, predicted]]) with ``total`` and ``sampled`` for regression.
        omitted: Metric name → why it is not in ``metrics``.
        notes: Metric name → a caveat on its value (e.g. averaged over the classes present only).
        rows: How many rows were evaluated.
    """

    task: Task
    metrics: dict[str, float]
    curves: dict[str, Any] = field(default_factory=dict)
    omitted: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "metrics": {k: json_safe(v) for k, v in self.metrics.items()},
            "curves": json_safe(self.curves),
            "omitted": dict(self.omitted),
            "notes": dict(self.notes),
            "rows": self.rows,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        return cls(
            task=_check_task(data.get("task")),
            metrics={str(k): float(v) for k, v in (data.get("metrics") or {}).items() if v is not None},
            curves=dict(data.get("curves") or {}),
            omitted={str(k): str(v) for k, v in (data.get("omitted") or {}).items()},
            notes={str(k): str(v) for k, v in (data.get("notes") or {}).items()},
            rows=int(data.get("rows") or 0),
        )


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into Python values and NaN/±inf into ``None``."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


# ---------------------------------------------------------------------------------------------------------
# Public entry points


def evaluate(
    task: Task,
    y_true: Any,
    y_pred: Any,
    y_proba: npt.ArrayLike | None = None,
    classes: Sequence[Any] | None = None,
) -> Evaluation:
    """Score predictions against the truth and build the curves of the task.

    Args:
        task: ``binary``, ``multiclass`` or ``regression``.
        y_true: The actual values (labels for classifiers, numbers for regression).
        y_pred: The predicted labels or numbers. For classifiers it may be ``None`` when ``y_proba`` is
            given (the most probable class is taken).
        y_proba: Classifiers: probabilities, one column per class in the order of ``classes`` (for binary
            a single column with the probability of ``classes[1]`` is accepted). ``None``: the metrics
            that need probabilities are omitted.
        classes: Classifiers: every class label, in the order of ``y_proba``'s columns; binary tasks
            need exactly two and the positive class is ``classes[1]``.

    Returns:
        The :class:`Evaluation`.

    Raises:
        EvaluationError: Lengths differ, ``classes`` do not fit the task, a label is not in ``classes``,
            probabilities have the wrong shape, or regression values are not finite numbers.
    """
    task = _check_task(task)
    if task == "regression":
        truth, predicted = _regression_inputs(y_true, y_pred)
        return _evaluate_regression(truth, predicted)
    data = _ClassificationInputs.build(task, y_true, y_pred, y_proba, classes)
    return _evaluate_classification(data)


def score_for_search(
    metric: str,
    task: Task,
    y_true: Any,
    y_pred: Any,
    y_proba: npt.ArrayLike | None = None,
    classes: Sequence[Any] | None = None,
) -> float:
    """One metric as a number where higher is always better (losses and errors are negated).

    Args:
        metric: A key of :data:`METRICS` that fits ``task``.
        task, y_true, y_pred, y_proba, classes: As for :func:`evaluate`.

    Returns:
        The metric, negated when lower is better (``-rmse``, ``-log_loss``…).

    Raises:
        UnknownMetricError: ``metric`` is not known or does not fit ``task``.
        MetricUnavailableError: The metric cannot be computed on these values (the reason says why).
        EvaluationError: As for :func:`evaluate`.
    """
    task = _check_task(task)
    info = _metric_info(metric, task)
    if task == "regression":
        truth, predicted = _regression_inputs(y_true, y_pred)
        values, omitted, _ = _regression_metrics(truth, predicted, only=metric)
    else:
        data = _ClassificationInputs.build(task, y_true, y_pred, y_proba, classes)
        values, omitted, _ = _classification_metrics(data, only=metric)
    if metric not in values:
        raise MetricUnavailableError(
            f"{info.label} cannot be computed here: {omitted.get(metric, 'no value')}",
            metric=metric,
        )
    value = values[metric]
    return value if info.greater_is_better else -value


# ---------------------------------------------------------------------------------------------------------
# Input checks


def _check_task(task: Any) -> Task:
    if task not in _TASKS:
        options = ", ".join(repr(t) for t in _TASKS)
        raise EvaluationError(f"Task {task!r} is not one of {options}.", task=task)
    result: Task = task
    return result


def _metric_info(metric: str, task: Task) -> MetricInfo:
    info = METRICS.get(metric)
    if info is None:
        known = ", ".join(name for name, i in METRICS.items() if task in i.tasks)
        raise UnknownMetricError(
            f"Unknown metric {metric!r}{did_you_mean(metric, METRICS)} Metrics for a {task} task: {known}.",
            metric=metric,
        )
    if task not in info.tasks:
        known = ", ".join(name for name, i in METRICS.items() if task in i.tasks)
        raise UnknownMetricError(
            f"{info.label} ({metric!r}) does not apply to a {task} task; pick one of: {known}.",
            metric=metric,
            task=task,
        )
    return info


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


# ---------------------------------------------------------------------------------------------------------
# Regression


def _evaluate_regression(truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any]) -> Evaluation:
    values, omitted, _ = _regression_metrics(truth, predicted, only=None)
    sample = _sample_indices(len(truth), MAX_SAMPLE_POINTS)
    residuals = truth[sample] - predicted[sample]
    curves = {
        "residuals": {
            "points": _round(np.column_stack([predicted[sample], residuals])),
            "total": len(truth),
            "sampled": len(sample),
        },
        "predicted_vs_actual": {
            "points": _round(np.column_stack([truth[sample], predicted[sample]])),
            "total": len(truth),
            "sampled": len(sample),
        },
    }
    return Evaluation(
        task="regression", metrics=values, curves=json_safe(curves), omitted=omitted, rows=len(truth)
    )


def _regression_metrics(
    truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any], *, only: str | None
) -> tuple[dict[str, float], dict[str, str], dict[str, str]]:
    values: dict[str, float] = {}
    omitted: dict[str, str] = {}

    def wanted(name: str) -> bool:
        return only is None or only == name

    if wanted("rmse"):
        values["rmse"] = float(skm.root_mean_squared_error(truth, predicted))
    if wanted("mae"):
        values["mae"] = float(skm.mean_absolute_error(truth, predicted))
    if wanted("r2"):
        if len(truth) < 2:
            omitted["r2"] = "R² needs at least two rows."
        elif np.ptp(truth) == 0:
            omitted["r2"] = (
                f"R² is undefined when every actual value is the same ({truth[0]:g}); use MAE or RMSE."
            )
        else:
            values["r2"] = float(skm.r2_score(truth, predicted))
    if wanted("mape"):
        scale = float(np.max(np.abs(truth)))
        near_zero = np.abs(truth) <= max(1e-12, 1e-6 * scale)
        if near_zero.any():
            omitted["mape"] = (
                f"MAPE is not reported: {int(near_zero.sum())} of {len(truth)} actual values are zero or "
                "near zero, where a percentage error is meaningless; use MAE or RMSE instead."
            )
        else:
            values["mape"] = float(skm.mean_absolute_percentage_error(truth, predicted))
    return values, omitted, {}


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
