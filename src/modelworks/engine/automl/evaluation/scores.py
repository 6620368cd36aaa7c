"""The public entry points: :func:`evaluate` (every metric and curve of one set of predictions) and
:func:`score_for_search` (one metric as a "higher is better" number for the hyper-parameter search).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy.typing as npt

from modelworks.engine.automl.evaluation.classification import (
    _classification_metrics,
    _evaluate_classification,
)
from modelworks.engine.automl.evaluation.inputs import _ClassificationInputs, _regression_inputs
from modelworks.engine.automl.evaluation.metrics import (
    Evaluation,
    MetricUnavailableError,
    _check_task,
    _metric_info,
)
from modelworks.engine.automl.evaluation.regression import _evaluate_regression, _regression_metrics
from modelworks.engine.automl.types import Task

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
