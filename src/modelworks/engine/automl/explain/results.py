"""What the explanations return: the result dataclasses (importances, SHAP summaries, partial
dependence, row explanations), :class:`ExplainError` and the JSON conversion of their values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from modelworks.engine.automl.errors import AutoMLError
from modelworks.engine.automl.evaluation import json_safe

ExplainMethod = Literal["tree_shap", "linear_exact", "background_substitution"]


class ExplainError(AutoMLError):
    """An explanation that cannot be computed: not a Lab pipeline, a missing column, a bad value…"""

    code = "explain_error"


class ColumnImportance(NamedTuple):
    """Permutation importance of one original column: the mean score drop and its spread."""

    column: str
    importance: float
    std: float


class ColumnShap(NamedTuple):
    """Mean absolute contribution of one original column."""

    column: str
    mean_abs: float


class Contribution(NamedTuple):
    """One column of one row: its value and how much it moved the prediction."""

    column: str
    value: Any
    contribution: float


@dataclass(frozen=True)
class ShapImportance:
    """Global importance from contributions, or why it is not available for this model.

    Attributes:
        available: ``False`` for models SHAP cannot explain exactly (``reason`` says why).
        method: ``tree_shap`` or ``linear_exact`` (``None`` when not available).
        importances: Mean absolute contribution per original column, largest first.
        output: What the contributions add up to ("log-odds of 'yes'", "probability of 'yes'",
            "prediction"…).
        reason: Why it is not available.
        rows: How many rows were explained.
    """

    available: bool
    method: ExplainMethod | None
    importances: list[ColumnShap]
    output: str = ""
    reason: str | None = None
    rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "method": self.method,
            "importances": [[c, json_safe(v)] for c, v in self.importances],
            "output": self.output,
            "reason": self.reason,
            "rows": self.rows,
        }


@dataclass(frozen=True)
class PartialDependence:
    """The average prediction as one column takes each value of a grid (other columns as they are).

    Attributes:
        column: The column that varies.
        kind: ``numeric`` (quantile grid), ``categorical`` (most frequent values) or ``date``.
        values: The grid, as JSON values (dates as ISO strings).
        averages: Series name → the average prediction at each grid value: ``prediction`` for
            regression, the positive class for binary tasks, every class for multiclass.
        output: What is averaged ("probability of 'yes'", "prediction").
        rows: How many rows were averaged.
    """

    column: str
    kind: Literal["numeric", "categorical", "date"]
    values: list[Any]
    averages: dict[str, list[float]]
    output: str
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "values": json_safe(self.values),
            "averages": json_safe(self.averages),
            "output": self.output,
            "rows": self.rows,
        }


@dataclass(frozen=True)
class RowExplanation:
    """The prediction of one row and each column's part in it.

    Attributes:
        prediction: The predicted class (as a string) or number.
        probabilities: Class → probability for classifiers, ``None`` for regression.
        contributions: ``(column, value, contribution)`` for every column the model uses, largest
            absolute contribution first.
        method: ``tree_shap`` and ``linear_exact`` add up exactly: ``base_value + sum(contributions)`` is
            the model's output in ``output`` units; ``background_substitution`` is an approximation (the
            change when the column takes typical values from the background rows).
        base_value: The output for an average row (``None`` when not defined by the method).
        output: What the contributions move ("log-odds of 'yes'", "probability of 'yes'", "prediction").
    """

    prediction: Any
    probabilities: dict[str, float] | None
    contributions: list[Contribution]
    method: ExplainMethod
    base_value: float | None
    output: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "prediction": json_safe(self.prediction),
            "probabilities": json_safe(self.probabilities),
            "contributions": [[c, _json_value(v), json_safe(x)] for c, v, x in self.contributions],
            "method": self.method,
            "base_value": json_safe(self.base_value),
            "output": self.output,
        }


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)
