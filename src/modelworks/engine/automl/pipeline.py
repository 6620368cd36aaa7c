"""Turn a list of :class:`FeatureHandling` and an algorithm into an sklearn ``Pipeline``.

The pipeline is ``Pipeline([("prepare", ColumnTransformer), ("model", estimator)])``. It takes a pandas
DataFrame with the ORIGINAL column names (extra columns, such as dropped ones or the target, are
ignored) and copes with what real tables hold: pandas' ``str``, ``category``, nullable ``boolean`` and
``Int64`` dtypes, ``pd.NA`` and ``NaN`` anywhere, datetimes as values or as ISO text, and categories
never seen in training (they get no one-hot column, or the code -1).

Each entry of the ColumnTransformer is named after the kind of its columns (``numeric``,
``categorical``, ``text``, ``date``, with ``_2``, ``_3``… when a kind needs several entries);
:func:`feature_origins` maps every transformed column back to its original column.

The small conversion functions below are part of saved models (pickled by reference), so loading a
model needs ``modelworks`` importable; scaling is only applied for linear models, whose coefficients
need comparable ranges (trees do not care).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import (  # type: ignore[import-untyped]
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)

from modelworks.engine.automl.algorithms import get_algorithm
from modelworks.engine.automl.errors import InvalidSpecError
from modelworks.engine.automl.types import FeatureHandling, Task

__all__ = [
    "CYCLIC_DATE_PARTS",
    "DATE_PARTS",
    "MISSING_LABEL",
    "as_labels",
    "as_numbers",
    "as_text",
    "build_pipeline",
    "cyclic_date_part_names",
    "cyclic_date_parts",
    "date_part_names",
    "date_parts",
    "feature_origins",
]

#: The parts a date column becomes, in order.
DATE_PARTS = ("year", "month", "day", "weekday", "hour", "days")
#: The parts a date column becomes for linear models, in order.
CYCLIC_DATE_PARTS = ("days", "month_sin", "month_cos", "weekday_sin", "weekday_cos", "hour_sin", "hour_cos")
#: The category that stands for a missing value.
MISSING_LABEL = "(missing)"
#: Words kept per text column.
TEXT_VOCABULARY = 500
#: High-cardinality categories one-hot encoded for linear models keep this many columns (the rest
#: share one "infrequent" column).
LINEAR_MAX_CATEGORIES = 30


def _frame(X: Any) -> pd.DataFrame:
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)


def as_numbers(X: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Every column as float64, ``NaN`` for missing, unreadable or infinite values (``pd.NA``, ``"n/a"``…)."""
    frame = _frame(X)
    if frame.shape[1] == 0:
        return np.empty((len(frame), 0))
    numbers = np.column_stack([_column_as_numbers(frame.iloc[:, i]) for i in range(frame.shape[1])])
    numbers = numbers.astype(np.float64)
    # ±inf (a division by zero upstream) is as unknown as a null, and most estimators reject it.
    numbers[np.isinf(numbers)] = np.nan
    return numbers


def _column_as_numbers(series: pd.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        return np.asarray(series.to_numpy(dtype=np.float64), dtype=np.float64)  # no parsing needed
    parsed = pd.to_numeric(series, errors="coerce").astype("float64")
    return np.asarray(parsed.to_numpy(na_value=np.nan), dtype=np.float64)


def _label(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return np.nan
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return np.nan
        # 3.0 and 3 are the same category whether or not the column held nulls.
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    return str(value)


def as_labels(X: Any) -> np.ndarray[Any, np.dtype[np.object_]]:
    """Every column as strings (an object array), ``NaN`` for missing values."""
    frame = _frame(X)
    out = np.empty(frame.shape, dtype=object)
    for i in range(frame.shape[1]):
        out[:, i] = [_label(v) for v in frame.iloc[:, i].astype(object).tolist()]
    return out


def as_text(X: Any) -> list[str]:
    """One text column as a list of strings, ``""`` for missing values."""
    series = X.iloc[:, 0] if isinstance(X, pd.DataFrame) else pd.Series(np.asarray(X, dtype=object).ravel())
    return [
        "" if (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))) else str(v) for v in series
    ]


def _to_datetimes(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    text = series.astype(object).where(series.notna(), None)
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    return parsed


def _moments(series: pd.Series) -> tuple[Any, pd.Series]:
    values = _to_datetimes(series)
    if values.dt.tz is not None:
        values = values.dt.tz_convert(None)
    days = (values - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return values.dt, days


def _floats(part: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.asarray(pd.Series(part).astype("float64").to_numpy(na_value=np.nan), dtype=np.float64)


def _stack(
    blocks: list[np.ndarray[Any, np.dtype[np.float64]]], rows: int
) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.column_stack(blocks).astype(np.float64) if blocks else np.empty((rows, 0))


def date_parts(X: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Each date column as year, month, day, weekday (0 = Monday), hour and days since 1970 (for trees).

    ``NaN`` when the date is missing or unreadable.
    """
    frame = _frame(X)
    blocks: list[np.ndarray[Any, np.dtype[np.float64]]] = []
    for i in range(frame.shape[1]):
        moments, days = _moments(frame.iloc[:, i])
        for part in (moments.year, moments.month, moments.day, moments.day_of_week, moments.hour, days):
            blocks.append(_floats(part))
    return _stack(blocks, len(frame))


def cyclic_date_parts(X: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Each date column as days since 1970 and the sine and cosine of month, weekday and hour (for linear models).

    A linear model given the month as a number learns "later in the year is higher" from a single
    year of history and then falls off a cliff in January; on a circle December is next to January.
    The days since 1970 carry the trend.
    """
    frame = _frame(X)
    blocks: list[np.ndarray[Any, np.dtype[np.float64]]] = []
    for i in range(frame.shape[1]):
        moments, days = _moments(frame.iloc[:, i])
        blocks.append(_floats(days))
        for part, period in ((moments.month - 1, 12.0), (moments.day_of_week, 7.0), (moments.hour, 24.0)):
            angle = 2.0 * np.pi * _floats(part) / period
            blocks.extend([np.sin(angle), np.cos(angle)])
    return _stack(blocks, len(frame))


def date_part_names(transformer: Any, input_features: Sequence[str]) -> np.ndarray[Any, np.dtype[np.object_]]:
    """The output names of :func:`date_parts`: ``<column>__year``…"""
    return np.asarray([f"{c}__{p}" for c in input_features for p in DATE_PARTS], dtype=object)


def cyclic_date_part_names(
    transformer: Any, input_features: Sequence[str]
) -> np.ndarray[Any, np.dtype[np.object_]]:
    """The output names of :func:`cyclic_date_parts`: ``<column>__days``, ``<column>__month_sin``…"""
    return np.asarray([f"{c}__{p}" for c in input_features for p in CYCLIC_DATE_PARTS], dtype=object)


def _numeric_steps(impute: str, scale: bool, linear: bool) -> list[tuple[str, Any]]:
    steps: list[tuple[str, Any]] = [
        ("as_numbers", FunctionTransformer(as_numbers, feature_names_out="one-to-one"))
    ]
    if impute == "none" and linear:
        impute = "median"  # linear models cannot take NaN
    if impute != "none":
        strategy = "constant" if impute == "constant" else impute
        steps.append(("impute", SimpleImputer(strategy=strategy, fill_value=0.0, keep_empty_features=True)))
    if scale and linear:
        steps.append(("scale", StandardScaler()))
    return steps


def _categorical_steps(impute: str, encode: str, linear: bool) -> list[tuple[str, Any]]:
    steps: list[tuple[str, Any]] = [
        ("as_labels", FunctionTransformer(as_labels, feature_names_out="one-to-one"))
    ]
    if impute == "most_frequent":
        steps.append(("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True)))
    steps.append(
        ("missing", SimpleImputer(strategy="constant", fill_value=MISSING_LABEL, keep_empty_features=True))
    )
    if encode == "onehot":
        steps.append(
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64))
        )
    elif linear:
        # Ordinal codes mean nothing to a linear model: one-hot the most frequent values instead.
        steps.append(
            (
                "encode",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    max_categories=LINEAR_MAX_CATEGORIES,
                    sparse_output=False,
                    dtype=np.float64,
                ),
            )
        )
    else:
        steps.append(
            (
                "encode",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float64),
            )
        )
    return steps


def _date_steps(impute: str, scale: bool, linear: bool) -> list[tuple[str, Any]]:
    parts = (
        FunctionTransformer(cyclic_date_parts, feature_names_out=cyclic_date_part_names)
        if linear
        else FunctionTransformer(date_parts, feature_names_out=date_part_names)
    )
    steps: list[tuple[str, Any]] = [("parts", parts)]
    if impute != "none" or linear:
        strategy = "median" if impute in ("none", "constant") else impute
        steps.append(("impute", SimpleImputer(strategy=strategy, keep_empty_features=True)))
    if linear:
        steps.append(("scale", StandardScaler()))
    return steps


def _text_steps() -> list[tuple[str, Any]]:
    return [
        ("as_text", FunctionTransformer(as_text)),
        (
            "tfidf",
            TfidfVectorizer(
                max_features=TEXT_VOCABULARY,
                sublinear_tf=True,
                strip_accents="unicode",
                dtype=np.float64,
            ),
        ),
    ]


def build_prepare(features: Iterable[FeatureHandling], *, linear: bool) -> ColumnTransformer:
    """The ``prepare`` step alone: a ColumnTransformer over the features that are used."""
    groups: dict[tuple[str, str, str, bool], list[str]] = {}
    text_columns: list[str] = []
    for feature in features:
        if not feature.used:
            continue
        if feature.kind == "text":
            text_columns.append(feature.column)
            continue
        key = (feature.kind, feature.impute, feature.encode, feature.scale)
        groups.setdefault(key, []).append(feature.column)
    if not groups and not text_columns:
        raise InvalidSpecError(
            "No column is left to learn from: every feature is dropped. "
            "Keep at least one column (set its handling to something other than 'drop').",
            field="features",
        )
    entries: list[tuple[str, Any, Any]] = []
    seen: dict[str, int] = {}

    def entry_name(kind: str) -> str:
        seen[kind] = seen.get(kind, 0) + 1
        return kind if seen[kind] == 1 else f"{kind}_{seen[kind]}"

    for (kind, impute, encode, scale), columns in groups.items():
        if kind == "numeric":
            steps = _numeric_steps(impute, scale, linear)
        elif kind == "categorical":
            steps = _categorical_steps(impute, encode if encode != "none" else "onehot", linear)
        else:
            steps = _date_steps(impute, scale, linear)
        entries.append((entry_name(kind), Pipeline(steps), list(columns)))
    for column in text_columns:
        # TF-IDF reads one column at a time: a scalar selection hands it a 1-D Series.
        entries.append((entry_name("text"), Pipeline(_text_steps()), column))
    return ColumnTransformer(entries, remainder="drop", sparse_threshold=0.3, verbose_feature_names_out=False)


def build_pipeline(
    features: Iterable[FeatureHandling],
    algorithm: str,
    params: dict[str, Any],
    task: Task,
    *,
    seed: int = 0,
    n_jobs: int | None = None,
) -> Pipeline:
    """Build the (unfitted) pipeline that prepares the columns and fits ``algorithm``.

    Args:
        features: The handling of each column; ``drop`` ones are left out.
        algorithm: A key of ``ALGORITHMS``.
        params: Hyper-parameters of the estimator (missing ones take the algorithm's defaults).
        task: The task, which picks the classifier or the regressor.
        seed: The random seed of the estimator.
        n_jobs: Threads for the estimator (``None``: the number of usable cores, at most 4).

    Returns:
        ``Pipeline([("prepare", ColumnTransformer), ("model", estimator)])``, unfitted.

    Raises:
        UnknownAlgorithmError: ``algorithm`` is unknown or does not fit ``task``.
        InvalidSpecError: Every feature is dropped.
    """
    info = get_algorithm(algorithm, task)
    prepare = build_prepare(features, linear=info.linear)
    estimator = info.make(task, params, seed, n_jobs)
    return Pipeline([("prepare", prepare), ("model", estimator)])


def feature_origins(pipeline: Pipeline) -> list[str]:
    """The original column of each column the fitted ``prepare`` step outputs, in output order.

    Explanations computed on the transformed matrix (SHAP values, coefficients) sum back to the user's
    columns with it.
    """
    prepare: ColumnTransformer = pipeline.named_steps["prepare"]
    origins: list[str] = [""] * _output_width(prepare)
    for name, transformer, columns in prepare.transformers_:
        if transformer == "drop" or name not in prepare.output_indices_:
            continue
        out = prepare.output_indices_[name]
        width = out.stop - out.start
        if width == 0:
            continue
        if isinstance(columns, str):
            origins[out] = [columns] * width
            continue
        column_list = [str(c) for c in columns]
        # Name the inputs c0, c1… and follow them through the steps: output names then start with
        # the placeholder whatever the column names hold (underscores, spaces…). The first step saw
        # the DataFrame's names, so it is replayed by hand (it is one of ours).
        placeholders = [f"c{i}" for i in range(len(column_list))]
        first = transformer.steps[0][1]
        names: Any = (
            placeholders
            if first.feature_names_out == "one-to-one"
            else first.feature_names_out(first, placeholders)
        )
        for _, step in transformer.steps[1:]:
            names = step.get_feature_names_out(names)
        origins[out] = [column_list[int(str(n).split("_", 1)[0][1:])] for n in names]
    return origins


def _output_width(prepare: ColumnTransformer) -> int:
    return max((s.stop for s in prepare.output_indices_.values()), default=0)
