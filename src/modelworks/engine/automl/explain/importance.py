"""Global importance of the original columns: :func:`permutation_importance` (any model) and
:func:`shap_importance` (mean absolute exact contribution, tree and linear models).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modelworks.engine.automl.evaluation import default_metric, score_for_search
from modelworks.engine.automl.explain.contributions import _exact_contributions, _exact_method
from modelworks.engine.automl.explain.model import _check_positive, _model, _sample
from modelworks.engine.automl.explain.results import (
    ColumnImportance,
    ColumnShap,
    ExplainError,
    ShapImportance,
)
from modelworks.engine.automl.types import Task

# ---------------------------------------------------------------------------------------------------------
# Global importance


def permutation_importance(
    model: Any,
    X: pd.DataFrame,
    y: Any,
    task: Task | None = None,
    *,
    metric: str | None = None,
    repeats: int = 5,
    seed: int = 0,
    max_rows: int = 5000,
) -> list[ColumnImportance]:
    """How much the score drops when each original column is shuffled.

    The raw column is shuffled before the pipeline prepares it, so a one-hot encoded column is shuffled
    as one. A column the model ignores scores about 0; a negative value means shuffling helped (noise).

    Args:
        model: A fitted Lab pipeline.
        X: Rows with the original columns (typically the holdout).
        y: The actual target of those rows.
        task: The model's task; ``None`` reads it from the model.
        metric: A key of ``evaluation.METRICS`` for the task (default: the task's default metric).
        repeats: Shuffles per column; the result is their mean and standard deviation.
        seed: Same seed, same shuffles.
        max_rows: Rows used at most (a deterministic sample beyond).

    Returns:
        ``(column, mean drop, std)`` per column the model uses, largest drop first. Drops are in units
        of the metric, higher-is-better (a log loss going from 0.2 to 0.5 is a drop of 0.3).

    Raises:
        ExplainError: Not a Lab model, missing columns, ``y`` of another length, bad arguments.
        UnknownMetricError: ``metric`` does not fit the task.
    """
    parts = _model(model)
    frame = parts.check_frame(X, "The rows to score")
    if task is not None and task != parts.task:
        raise ExplainError(f"The model is a {parts.task} model, not a {task} one.", task=task)
    metric = metric or default_metric(parts.task)
    repeats = _check_positive(repeats, "repeats")
    max_rows = _check_positive(max_rows, "max_rows")
    truth = np.asarray(y).reshape(-1)
    if len(truth) != len(frame):
        raise ExplainError(
            f"The target has {len(truth)} values but there are {len(frame)} rows; they must match.",
        )
    if len(frame) > max_rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(frame), size=max_rows, replace=False))
        frame, truth = frame.iloc[keep], truth[keep]
    frame = frame.reset_index(drop=True)

    def score(outputs: np.ndarray[Any, Any], actual: np.ndarray[Any, Any]) -> float:
        if parts.task == "regression":
            return score_for_search(metric, "regression", actual, outputs[:, 0])
        return score_for_search(metric, parts.task, actual, None, outputs, parts.classes)

    baseline = score(parts.scores(frame), truth)
    rng = np.random.default_rng(seed)
    size = len(frame)
    results: list[ColumnImportance] = []
    for column in parts.columns:
        original = frame[column].to_numpy()
        shuffled = pd.concat([frame] * repeats, ignore_index=True)
        # One prediction call per column: the repeats are stacked blocks of the table.
        shuffled[column] = np.concatenate([original[rng.permutation(size)] for _ in range(repeats)])
        shuffled[column] = shuffled[column].astype(frame[column].dtype)
        outputs = parts.scores(shuffled)
        drops = [baseline - score(outputs[r * size : (r + 1) * size], truth) for r in range(repeats)]
        results.append(ColumnImportance(column, float(np.mean(drops)), float(np.std(drops))))
    return sorted(results, key=lambda r: (-r.importance, r.column))


def shap_importance(model: Any, X: pd.DataFrame, *, max_rows: int = 2000) -> ShapImportance:
    """Mean absolute contribution of each original column (SHAP for trees, exact for linear models).

    Args:
        model: A fitted Lab pipeline.
        X: Rows with the original columns (the training rows or the holdout).
        max_rows: Rows explained at most (a deterministic sample beyond).

    Returns:
        The importances, or ``available=False`` with the reason for other models. For multiclass
        models the absolute contributions to every class are added.

    Raises:
        ExplainError: Not a Lab model, or missing columns.
    """
    parts = _model(model)
    frame = _sample(parts.check_frame(X, "The rows to explain"), _check_positive(max_rows, "max_rows"), 0)
    method = _exact_method(parts)
    if method is None:
        return ShapImportance(
            available=False,
            method=None,
            importances=[],
            reason=f"SHAP importance is not available for {parts.name}: only tree models (random forest, "
            "LightGBM, XGBoost) and linear models are explained exactly; use permutation importance.",
        )
    contributions = _exact_contributions(parts, method, frame, background=frame)
    if contributions is None:
        return ShapImportance(
            available=False,
            method=None,
            importances=[],
            reason=f"SHAP could not explain this {parts.name}; use permutation importance.",
        )
    values, _, output = contributions
    per_column = np.abs(values).sum(axis=2).mean(axis=0)
    importances = [ColumnShap(c, float(v)) for c, v in zip(parts.columns, per_column, strict=True)]
    importances.sort(key=lambda item: (-item.mean_abs, item.column))
    return ShapImportance(True, method, importances, output=output, rows=len(frame))
