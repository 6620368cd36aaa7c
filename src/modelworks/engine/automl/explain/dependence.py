"""Partial dependence: :func:`partial_dependence`, the average prediction as one column varies over a
quantile grid (numbers, dates) or its most frequent values (categories).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from modelworks.engine.automl.explain.model import _check_positive, _model, _sample
from modelworks.engine.automl.explain.results import ExplainError, PartialDependence, _json_value
from modelworks.engine.errors import did_you_mean

# ---------------------------------------------------------------------------------------------------------
# Partial dependence


def partial_dependence(
    model: Any, X: pd.DataFrame, column: str, *, grid: int = 20, max_rows: int = 1000
) -> PartialDependence:
    """The average prediction over ``X`` when ``column`` is set to each value of a grid.

    Args:
        model: A fitted Lab pipeline.
        X: Rows with the original columns.
        column: An original column the model uses (not a text column).
        grid: Grid size: quantiles from the 5th to the 95th percentile for numbers and dates, the most
            frequent values for categories.
        max_rows: Rows averaged at most (a deterministic sample beyond).

    Returns:
        The :class:`PartialDependence`: for classifiers the probability of the positive class (binary) or
        of every class (multiclass).

    Raises:
        ExplainError: Unknown or unused column, text column, a column with no values.
    """
    parts = _model(model)
    frame = _sample(parts.check_frame(X, "The rows"), _check_positive(max_rows, "max_rows"), 0)
    grid = _check_positive(grid, "grid")
    if column not in parts.columns:
        raise ExplainError(
            f"Column {column!r} does not feed the model{did_you_mean(column, parts.columns)} "
            f"Columns it uses: {', '.join(parts.columns[:12])}.",
            column=column,
        )
    series = frame[column]
    kind = parts.kinds.get(column, "other")
    if kind == "text":
        raise ExplainError(
            f"Partial dependence is not available for the text column {column!r}; "
            "look at its permutation importance instead.",
            column=column,
        )
    if kind == "other":
        kind = (
            "date"
            if pd.api.types.is_datetime64_any_dtype(series)
            else (
                "numeric"
                if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
                else "categorical"
            )
        )
    values = _grid(series.dropna(), kind, grid, column)
    rows = len(frame)
    stacked = pd.concat([frame] * len(values), ignore_index=True)
    stacked[column] = pd.Series(np.repeat(np.asarray(values, dtype=object), rows)).astype(series.dtype)
    outputs = parts.scores(stacked).reshape(len(values), rows, -1).mean(axis=1)
    if parts.task == "regression":
        averages = {"prediction": outputs[:, 0].tolist()}
    elif parts.task == "binary":
        averages = {parts.classes[1]: outputs[:, 1].tolist()}
    else:
        averages = {c: outputs[:, i].tolist() for i, c in enumerate(parts.classes)}
    output = (
        "prediction"
        if parts.task == "regression"
        else (
            f"probability of {parts.classes[1]!r}" if parts.task == "binary" else "probability of each class"
        )
    )
    pd_kind: Literal["numeric", "categorical", "date"] = (
        "date" if kind == "date" else "numeric" if kind == "numeric" else "categorical"
    )
    return PartialDependence(column, pd_kind, [_json_value(v) for v in values], averages, output, rows)


def _grid(values: pd.Series[Any], kind: str, size: int, column: str) -> list[Any]:
    if values.empty:
        raise ExplainError(
            f"Column {column!r} has no values in these rows, so its effect cannot be shown.", column=column
        )
    if kind == "numeric":
        numbers = values.astype(np.float64)
        quantiles = np.unique(np.quantile(numbers, np.linspace(0.05, 0.95, size)))
        if pd.api.types.is_integer_dtype(values):
            quantiles = np.unique(np.round(quantiles))
        return [float(q) for q in quantiles]
    if kind == "date":
        stamps = pd.to_datetime(values)
        nanoseconds = stamps.to_numpy().astype("datetime64[ns]").astype(np.int64)
        points = np.unique(np.quantile(nanoseconds, np.linspace(0.05, 0.95, size)).round().astype(np.int64))
        tz = getattr(stamps.dtype, "tz", None)
        return [pd.Timestamp(int(p), tz="UTC").tz_convert(tz) if tz else pd.Timestamp(int(p)) for p in points]
    return values.value_counts().head(size).index.tolist()
