"""The metric catalogue and the result type: :data:`METRICS` (label, task, direction of each metric),
:func:`default_metric`, :class:`Evaluation`, :func:`json_safe` and the evaluation errors. Light on
purpose: the web server reads the catalogue's labels without importing scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

import numpy as np

from modelworks.engine.automl.errors import AutoMLError, UnknownMetricError
from modelworks.engine.automl.types import Task
from modelworks.engine.errors import did_you_mean

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
