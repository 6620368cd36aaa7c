"""Single-row explanations: :func:`explain_rows` (exact contributions where the model allows, background
substitution otherwise) and :func:`what_if` (a row with some values changed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from modelworks.engine.automl.explain.contributions import _exact_contributions, _exact_method
from modelworks.engine.automl.explain.model import _Model, _model, _sample
from modelworks.engine.automl.explain.results import Contribution, ExplainError, RowExplanation, _json_value
from modelworks.engine.errors import did_you_mean

_MAX_BACKGROUND = 50


# ---------------------------------------------------------------------------------------------------------
# Single rows


def explain_rows(model: Any, rows: pd.DataFrame, background: pd.DataFrame) -> list[RowExplanation]:
    """The prediction of each row and every column's contribution to it.

    Tree models are explained with SHAP (exact), linear models exactly (coefficient times distance from the
    background average); other models by replacing each column with values from the background rows
    and measuring how the prediction changes (an approximation). For multiclass models contributions
    explain the predicted class.

    Args:
        model: A fitted Lab pipeline.
        rows: The rows to explain (original columns).
        background: Typical rows (e.g. a sample of the training rows) that define "average".

    Returns:
        One :class:`RowExplanation` per row, in order.

    Raises:
        ExplainError: Not a Lab model, missing columns, empty tables.
    """
    parts = _model(model)
    frame = parts.check_frame(rows, "The rows to explain").reset_index(drop=True)
    reference = _sample(parts.check_frame(background, "The background rows"), 500, 0)
    scores = parts.scores(frame)
    method = _exact_method(parts)
    exact = _exact_contributions(parts, method, frame, reference) if method else None
    if exact is None or method is None:
        return _substitution(parts, frame, reference, scores)
    values, base, output = exact
    explanations = []
    for r in range(len(frame)):
        prediction, probabilities = parts.prediction_of(scores[r])
        k = int(np.argmax(scores[r])) if parts.task == "multiclass" else 0
        row_output = output if parts.task != "multiclass" else output.replace("each class", repr(prediction))
        explanations.append(
            RowExplanation(
                prediction,
                probabilities,
                _sorted_contributions(parts.columns, frame.iloc[r], values[r, :, k]),
                method,
                float(base[k]),
                row_output,
            )
        )
    return explanations


def _substitution(
    parts: _Model, frame: pd.DataFrame, background: pd.DataFrame, scores: np.ndarray[Any, Any]
) -> list[RowExplanation]:
    reference = _sample(background, _MAX_BACKGROUND, 0)
    size = len(reference)
    base_scores = parts.scores(reference).mean(axis=0)
    explanations = []
    for r in range(len(frame)):
        prediction, probabilities = parts.prediction_of(scores[r])
        k = 0 if parts.task == "regression" else int(np.argmax(scores[r]))
        if parts.task == "binary":
            k = 1
        copies = pd.concat([frame.iloc[[r]]] * (size * len(parts.columns)), ignore_index=True)
        for c, column in enumerate(parts.columns):
            block = slice(c * size, (c + 1) * size)
            copies.loc[copies.index[block], column] = reference[column].to_numpy()
        outputs = parts.scores(copies)[:, k].reshape(len(parts.columns), size).mean(axis=1)
        contributions = scores[r, k] - outputs
        label = "prediction" if parts.task == "regression" else f"probability of {parts.classes[k]!r}"
        explanations.append(
            RowExplanation(
                prediction,
                probabilities,
                _sorted_contributions(parts.columns, frame.iloc[r], contributions),
                "background_substitution",
                float(base_scores[k]),
                label,
            )
        )
    return explanations


def _sorted_contributions(
    columns: list[str], row: pd.Series[Any], values: np.ndarray[Any, Any]
) -> list[Contribution]:
    items = [Contribution(c, _json_value(row[c]), float(v)) for c, v in zip(columns, values, strict=True)]
    return sorted(items, key=lambda item: (-abs(item.contribution), item.column))


def what_if(model: Any, row: Mapping[str, Any], background: pd.DataFrame) -> RowExplanation:
    """Score one edited row (e.g. from the Lab's what-if form) and explain it.

    Args:
        model: A fitted Lab pipeline.
        row: Column → value for every column the model uses (``None`` for a missing value). Numbers may
            be given as text ("3.5"), dates as ISO text ("2024-05-01").
        background: Typical rows; also gives each column's type.

    Returns:
        The :class:`RowExplanation` of the row.

    Raises:
        ExplainError: An unknown or missing column, or a value of the wrong type (the message names the
            column and what it expects).
    """
    parts = _model(model)
    reference = parts.check_frame(background, "The background rows")
    if not isinstance(row, Mapping):
        raise ExplainError(f"The row must map column names to values, got {type(row).__name__}.")
    for name in row:
        if name not in parts.inputs:
            raise ExplainError(
                f"Column {name!r} is not an input of the model{did_you_mean(str(name), parts.inputs)} "
                f"Its inputs are: {', '.join(parts.columns[:12])}.",
                column=name,
            )
    missing = [c for c in parts.columns if c not in row]
    if missing:
        raise ExplainError(
            f"The row has no value for column {missing[0]!r}; give one (or null for a missing value).",
            column=missing[0],
        )
    # Columns the model drops need no value: any typical one will do.
    values = {
        c: _coerce(c, row.get(c), reference[c]) if c in row or c in parts.columns else reference[c].iloc[0]
        for c in parts.inputs
    }
    frame = pd.DataFrame({c: pd.Series([v]).astype(reference[c].dtype) for c, v in values.items()})
    return explain_rows(model, frame, reference)[0]


def _coerce(column: str, value: Any, example: pd.Series[Any]) -> Any:
    """``value`` converted to the type of ``example``'s column, or an error naming the column."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        if pd.api.types.is_integer_dtype(example) or pd.api.types.is_bool_dtype(example):
            raise ExplainError(
                f"Column {column!r} had no missing values in training and needs a value.", column=column
            )
        return None
    if pd.api.types.is_bool_dtype(example):
        text = str(value).strip().lower()
        if isinstance(value, bool) or text in ("true", "false", "1", "0", "yes", "no"):
            return value if isinstance(value, bool) else text in ("true", "1", "yes")
        raise ExplainError(f"Column {column!r} expects true or false, got {value!r}.", column=column)
    if pd.api.types.is_datetime64_any_dtype(example):
        try:
            stamp = pd.Timestamp(value)
        except (TypeError, ValueError) as exc:
            raise ExplainError(
                f"Column {column!r} expects a date such as 2024-05-01, got {value!r}.", column=column
            ) from exc
        tz = getattr(example.dtype, "tz", None)
        if tz is not None and stamp.tzinfo is None:
            stamp = stamp.tz_localize(tz)
        return stamp
    if pd.api.types.is_numeric_dtype(example):
        if isinstance(value, bool):
            raise ExplainError(f"Column {column!r} expects a number, got {value!r}.", column=column)
        try:
            number = float(str(value).strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError) as exc:
            raise ExplainError(f"Column {column!r} expects a number, got {value!r}.", column=column) from exc
        if not math.isfinite(number):
            raise ExplainError(f"Column {column!r} expects a finite number, got {value!r}.", column=column)
        if pd.api.types.is_integer_dtype(example):
            if not number.is_integer():
                raise ExplainError(f"Column {column!r} expects a whole number, got {value!r}.", column=column)
            return int(number)
        return number
    if isinstance(value, list | dict | tuple | set):
        raise ExplainError(f"Column {column!r} expects a single value, got {value!r}.", column=column)
    if isinstance(example.dtype, pd.CategoricalDtype) and value not in example.cat.categories:
        known = ", ".join(repr(c) for c in list(example.cat.categories)[:8])
        raise ExplainError(f"Column {column!r} expects one of {known}, got {value!r}.", column=column)
    return str(value) if not isinstance(value, str) else value
