"""Why a Lab model predicts what it predicts, in terms of the user's own columns.

Every function takes a fitted Lab pipeline, ``Pipeline([("prepare", ColumnTransformer), ("model",
estimator)])``, and a pandas DataFrame with the ORIGINAL column names. Explanations are always given per
original column: a one-hot encoded ``city`` or a TF-IDF ``comment`` counts once, never per encoded
column.

* :func:`permutation_importance`: how much the score drops when a column's values are shuffled (any
  model; the raw column is shuffled, before the pipeline's preparation).
* :func:`shap_importance`: mean absolute SHAP value per column for tree models (random forest,
  LightGBM, XGBoost, via ``shap.TreeExplainer``) and exact linear contributions for linear models;
  other models get a result with ``available=False`` and the reason.
* :func:`partial_dependence`: the average prediction as one column varies (quantile grid for numbers
  and dates, the most frequent values for categories).
* :func:`explain_rows` / :func:`what_if`: the prediction of single rows with each column's
  contribution, sorted by size; ``method`` says how they were computed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import is_classifier  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]

from modelworks.engine.automl.errors import AutoMLError
from modelworks.engine.automl.evaluation import default_metric, json_safe, score_for_search
from modelworks.engine.automl.pipeline import feature_origins as lab_feature_origins
from modelworks.engine.automl.types import Task
from modelworks.engine.errors import did_you_mean

__all__ = [
    "ColumnImportance",
    "ColumnShap",
    "Contribution",
    "ExplainError",
    "PartialDependence",
    "RowExplanation",
    "ShapImportance",
    "explain_rows",
    "partial_dependence",
    "permutation_importance",
    "shap_importance",
    "what_if",
]

ExplainMethod = Literal["tree_shap", "linear_exact", "background_substitution"]
_KINDS = ("numeric", "categorical", "text", "date")
_MAX_BACKGROUND = 50


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


# ---------------------------------------------------------------------------------------------------------
# The model's parts


@dataclass(frozen=True)
class _Model:
    pipeline: Any
    prepare: Any  # the fitted ColumnTransformer
    estimator: Any
    task: Task
    classes: list[str]  # as strings; empty for regression
    raw_classes: list[Any]
    inputs: list[str]  # every column the ColumnTransformer was fitted on
    columns: list[str]  # the original columns that feed the model, in order
    origins: list[str]  # original column of each transformed feature
    kinds: dict[str, str]

    @property
    def name(self) -> str:
        return type(self.estimator).__name__

    def check_frame(self, frame: Any, what: str) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            raise ExplainError(f"{what} must be a table (a pandas DataFrame), got {type(frame).__name__}.")
        missing = [c for c in self.inputs if c not in frame.columns]
        if missing:
            raise ExplainError(
                f"{what} lacks the column {missing[0]!r} the model was trained on"
                f"{did_you_mean(missing[0], [str(c) for c in frame.columns])}",
                column=missing[0],
            )
        if len(frame) == 0:
            raise ExplainError(f"{what} has no rows.")
        return frame

    def scores(self, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
        """(n, k) outputs: class probabilities for classifiers, (n, 1) predictions for regression."""
        if self.task == "regression":
            return np.asarray(self.pipeline.predict(frame), dtype=np.float64).reshape(-1, 1)
        return np.asarray(self.pipeline.predict_proba(frame), dtype=np.float64)

    def transform(self, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
        matrix = self.prepare.transform(frame)
        if hasattr(matrix, "toarray"):
            matrix = matrix.toarray()
        return np.asarray(matrix, dtype=np.float64)

    def prediction_of(self, scores: np.ndarray[Any, Any]) -> tuple[Any, dict[str, float] | None]:
        if self.task == "regression":
            return float(scores[0]), None
        probabilities = {c: float(p) for c, p in zip(self.classes, scores, strict=True)}
        return self.classes[int(np.argmax(scores))], probabilities

    def sum_by_column(self, values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """(n, p, k) contributions of transformed features → (n, C, k) per original column."""
        membership = np.zeros((len(self.origins), len(self.columns)))
        index = {c: i for i, c in enumerate(self.columns)}
        for feature, origin in enumerate(self.origins):
            membership[feature, index[origin]] = 1.0
        summed: np.ndarray[Any, Any] = np.einsum("npk,pc->nck", values, membership)
        return summed


def _model(pipeline: Any) -> _Model:
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) < 2:
        raise ExplainError(
            "Explanations need a Lab model: a fitted pipeline of a 'prepare' step and a 'model' step, "
            f"got {type(pipeline).__name__}."
        )
    prepare, estimator = steps[0][1], steps[-1][1]
    if len(steps) != 2 or not hasattr(prepare, "transformers_") or not hasattr(prepare, "output_indices_"):
        raise ExplainError(
            "Explanations need a fitted Lab pipeline whose first step is a fitted ColumnTransformer and "
            "whose second and last step is the model; train the model in the Lab (or fit the pipeline) first."
        )
    inputs = [str(c) for c in getattr(prepare, "feature_names_in_", [])]
    if not inputs:
        raise ExplainError("The model's preparation step was fitted without column names; fit it on a table.")
    origins, kinds = _feature_origins(prepare, inputs)
    columns = list(dict.fromkeys(origins))
    if is_classifier(pipeline):
        raw_classes = list(getattr(pipeline, "classes_", []))
        task: Task = "binary" if len(raw_classes) == 2 else "multiclass"
    else:
        raw_classes, task = [], "regression"
    return _Model(
        pipeline,
        prepare,
        estimator,
        task,
        [str(c) for c in raw_classes],
        raw_classes,
        inputs,
        columns,
        origins,
        kinds,
    )


def _feature_origins(prepare: Any, inputs: list[str]) -> tuple[list[str], dict[str, str]]:
    """The original column of each output column of a fitted ColumnTransformer, and each column's kind.

    Lab pipelines are mapped by :func:`pipeline.feature_origins`, which follows their own steps; any
    other ColumnTransformer by the output names of each of its transformers.
    """
    total = max((s.stop for s in prepare.output_indices_.values()), default=0)
    entries = []
    kinds: dict[str, str] = {}
    for name, transformer, selection in prepare.transformers_:
        where = prepare.output_indices_.get(name, slice(0, 0))
        if where.stop == where.start or (isinstance(transformer, str) and transformer == "drop"):
            continue
        columns = _selected_columns(selection, inputs)
        kind = str(name).rsplit("_", 1)[0] if str(name) not in _KINDS else str(name)
        for column in columns:
            kinds[column] = kind if kind in _KINDS else kinds.get(column, "other")
        entries.append((str(name), transformer, columns, where))
    try:
        shared = [str(o) for o in lab_feature_origins(Pipeline([("prepare", prepare)]))]
    except Exception:  # not built by pipeline.build_prepare: map by output names below
        shared = []
    if len(shared) == total and all(shared):
        return shared, kinds
    origins: list[str | None] = [None] * total
    for name, transformer, columns, where in entries:
        origins[where] = _output_origins(name, transformer, columns, where.stop - where.start)
    if any(o is None for o in origins):
        raise ExplainError("Could not tell which column every prepared feature of the model comes from.")
    return [str(o) for o in origins], kinds


def _selected_columns(selection: Any, inputs: list[str]) -> list[str]:
    if isinstance(selection, str):
        return [selection]
    if isinstance(selection, slice):
        return inputs[selection]
    values = list(np.asarray(selection).reshape(-1))
    if values and isinstance(values[0], np.bool_ | bool):
        return [c for c, keep in zip(inputs, values, strict=True) if keep]
    if values and isinstance(values[0], np.integer | int):
        return [inputs[int(i)] for i in values]
    return [str(v) for v in values]


def _output_origins(name: str, transformer: Any, columns: list[str], width: int) -> list[str | None]:
    if len(columns) == 1:
        return [columns[0]] * width
    if isinstance(transformer, str) and transformer == "passthrough":
        return list(columns) if len(columns) == width else [None] * width
    try:
        names = [str(n) for n in transformer.get_feature_names_out(columns)]
    except (AttributeError, ValueError, TypeError):
        names = []
    matched = [_match_name(n, columns) for n in names] if len(names) == width else []
    if matched and all(m is not None for m in matched):
        return list(matched)
    if width == len(columns):
        return list(columns)
    raise ExplainError(
        f"Could not tell which of the columns {', '.join(columns[:5])} each feature of the model's "
        f"{name!r} step comes from; give that step a get_feature_names_out that keeps the column names.",
        step=name,
    )


def _match_name(feature: str, columns: list[str]) -> str | None:
    """``city_Paris`` → ``city``; ``missingindicator_age`` → ``age``; the longest column name wins."""
    best: str | None = None
    for column in columns:
        if feature == column:
            return column
        if feature.startswith(column + "_") or feature.endswith("_" + column):
            if best is None or len(column) > len(best):
                best = column
    return best


def _sample(frame: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    if len(frame) <= limit:
        return frame.reset_index(drop=True)
    rows = np.sort(np.random.default_rng(seed).choice(len(frame), size=limit, replace=False))
    return frame.iloc[rows].reset_index(drop=True)


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


def _check_positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ExplainError(f"{name} must be a whole number of at least 1, got {value!r}.")
    return value


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


# ---------------------------------------------------------------------------------------------------------
# Exact contributions (tree SHAP, linear)

_TREE_CLASSES = (
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
)


def _exact_method(parts: _Model) -> ExplainMethod | None:
    # Look at the base classes too: the Lab wraps XGBClassifier to keep the class labels.
    bases = [(c.__module__, c.__name__) for c in type(parts.estimator).__mro__]
    if any(
        m.startswith(("lightgbm", "xgboost")) or (m.startswith("sklearn.") and n in _TREE_CLASSES)
        for m, n in bases
    ):
        return "tree_shap"
    if any(m.startswith("sklearn.linear_model") for m, _ in bases) and hasattr(parts.estimator, "coef_"):
        return "linear_exact"
    return None


def _exact_contributions(
    parts: _Model, method: ExplainMethod, frame: pd.DataFrame, background: pd.DataFrame
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], str] | None:
    """(n, C, k) contributions per original column, (k,) base values, and what they add up to.

    k is 1 for regression and binary tasks (the positive class) and the number of classes otherwise.
    """
    matrix = parts.transform(frame)
    if method == "linear_exact":
        coef = np.atleast_2d(np.asarray(parts.estimator.coef_, dtype=np.float64))
        intercept = np.atleast_1d(np.asarray(parts.estimator.intercept_, dtype=np.float64))
        mean = parts.transform(background).mean(axis=0)
        values = (matrix - mean)[:, :, None] * coef.T[None, :, :]
        base = intercept + coef @ mean
        output = _output_label(parts, scale="log-odds" if parts.task != "regression" else "")
        return parts.sum_by_column(values), base, output
    try:
        with warnings.catch_warnings():
            # A slow import, only when a tree is explained; it warns about matplotlib deprecations.
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            import shap  # type: ignore[import-untyped]

        explainer = shap.TreeExplainer(parts.estimator)
        with warnings.catch_warnings():
            # shap warns on every LightGBM binary model that its output format once changed.
            warnings.simplefilter("ignore", UserWarning)
            raw = explainer.shap_values(matrix, check_additivity=False)
    except Exception:  # shap raises bare Exceptions for models it does not support
        return None
    values = np.stack(raw, axis=-1) if isinstance(raw, list) else np.asarray(raw, dtype=np.float64)
    if values.ndim == 2:
        values = values[:, :, None]
    base = np.atleast_1d(np.asarray(explainer.expected_value, dtype=np.float64))
    # sklearn's forests explain probabilities; boosted trees explain their raw (log-odds) margin.
    probability = not any(
        c.__module__.startswith(("lightgbm", "xgboost")) for c in type(parts.estimator).__mro__
    )
    if parts.task == "binary" and values.shape[2] == 2:
        values, base = values[:, :, 1:], base[1:]
    scale = "probability" if probability else "log-odds"
    output = _output_label(parts, scale="" if parts.task == "regression" else scale)
    return parts.sum_by_column(values), base, output


def _output_label(parts: _Model, *, scale: str) -> str:
    if parts.task == "regression":
        return "prediction"
    if parts.task == "binary":
        return f"{scale} of {parts.classes[1]!r}"
    return f"{scale} of each class" if scale == "probability" else "raw score (before softmax) of each class"


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
