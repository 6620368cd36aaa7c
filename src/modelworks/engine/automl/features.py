"""Propose how each column becomes model input, with a plain-language reason for every choice.

The proposal is a starting point the user can change in the Lab: it drops the target, identifiers,
constant and nearly empty columns and columns that leak the target; it turns long free text into
TF-IDF, dates into their parts, low-cardinality labels into one-hot columns and high-cardinality
ones into ordinal codes; numbers get their missing values filled with the median.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from modelworks.engine.automl.errors import ColumnNotFoundError, TrainingDataError
from modelworks.engine.automl.types import FeatureHandling, Task
from modelworks.engine.errors import did_you_mean

__all__ = [
    "LEAK_THRESHOLD",
    "column_kind",
    "infer_task",
    "looks_like_dates",
    "looks_like_id",
    "propose_features",
    "single_feature_score",
]

#: A column that alone scores at least this (AUC for classifiers, R² for regression) leaks the target.
LEAK_THRESHOLD = 0.99
#: Above this share of missing values a column is dropped.
MAX_NULL_SHARE = 0.95
#: Up to this many distinct labels a categorical column is one-hot encoded; above, ordinal codes.
MAX_ONEHOT_LEVELS = 15
#: Integer targets with up to this many distinct values are classes, not quantities.
MAX_CLASSES = 20
#: Rows looked at for the (cheap) leak check and the text/date sniffing.
SAMPLE_ROWS = 2_000

_ID_NAME = re.compile(r"(^|[_\s.-])(id|uuid|guid|key|identifier)$|^(id|uuid|guid)([_\s.-]|$)", re.IGNORECASE)
_CAMEL_ID = re.compile(r"[a-z](Id|ID|Key)$")
_DATE_LIKE = re.compile(
    r"^\s*\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?\s*$"
)


def infer_task(target: pd.Series) -> Task:
    """Guess the task from the target's values.

    Two distinct values → ``binary``; a few distinct labels that are not fractional numbers (strings,
    booleans, integers, up to 20 of them) → ``multiclass``; anything else → ``regression``.

    Raises:
        TrainingDataError: The target has no value at all.
    """
    values = target.dropna()
    if values.empty:
        raise TrainingDataError(
            f"The target column {target.name!r} is empty: every value is missing. "
            "Pick a column that holds the outcome to predict.",
            column=str(target.name),
        )
    distinct = values.nunique()
    if distinct <= 2:
        return "binary"
    if _is_number(values) and not pd.api.types.is_bool_dtype(values.dtype):
        integral = pd.api.types.is_integer_dtype(values.dtype) or bool(
            np.all(np.mod(values.to_numpy(dtype="float64"), 1.0) == 0.0)
        )
        return "multiclass" if integral and distinct <= MAX_CLASSES else "regression"
    return "multiclass"


def column_kind(series: pd.Series) -> str:
    """The storage family of a column: ``bool``, ``number``, ``datetime`` or ``string``."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if isinstance(dtype, pd.CategoricalDtype):
        return "string"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return "string"


def _is_number(series: pd.Series) -> bool:
    return column_kind(series) == "number"


def looks_like_id(series: pd.Series) -> str | None:
    """Why the column looks like an identifier (``None`` if it does not).

    An identifier has (nearly) one distinct value per row and either an id-like name (``id``,
    ``customer_id``, ``orderId``…), consecutive integers (a row number) or short codes without spaces.
    """
    values = series.dropna()
    if len(values) < 20:
        return None
    distinct_share = values.nunique() / len(values)
    name = str(series.name)
    kind = column_kind(series)
    if kind in ("bool", "datetime") or (kind == "number" and not _integral(values)):
        return None
    if (_ID_NAME.search(name) or _CAMEL_ID.search(name)) and distinct_share >= 0.9:
        return f"looks like an identifier: named {name!r} with {distinct_share:.0%} distinct values"
    if distinct_share < 0.98:
        return None
    if kind == "number":
        numbers = values.to_numpy(dtype="float64")
        span = float(numbers.max() - numbers.min()) + 1.0
        if span <= 1.1 * len(values):
            return f"looks like an identifier: {distinct_share:.0%} distinct, nearly consecutive integers"
        return None
    text = values.astype(str)
    if not text.str.contains(r"\s", regex=True).mean() > 0.5:
        return f"looks like an identifier: {distinct_share:.0%} distinct codes"
    return None


def _integral(values: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(values.dtype):
        return True
    numbers = values.to_numpy(dtype="float64")
    return bool(np.all(np.mod(numbers, 1.0) == 0.0))


def _looks_like_text(values: pd.Series) -> tuple[bool, float]:
    """Free text: long strings, several words, mostly distinct. Returns (is_text, mean length)."""
    text = values.astype(str)
    mean_length = float(text.str.len().mean())
    words = float(text.map(lambda value: len(value.split())).mean())
    distinct_share = text.nunique() / max(len(text), 1)
    return mean_length >= 25 and words >= 4 and distinct_share >= 0.3, mean_length


def looks_like_dates(values: pd.Series) -> bool:
    """Whether (nearly) every value is an ISO date or timestamp written as text."""
    text = values.astype(str).head(200)
    if text.empty or not text.str.match(_DATE_LIKE).mean() >= 0.95:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    return bool(parsed.notna().mean() >= 0.95)


@dataclass(frozen=True)
class _Proposal:
    handling: FeatureHandling
    leak_checkable: bool


def _propose_column(series: pd.Series, n_rows: int) -> _Proposal:
    name = str(series.name)
    values = series.dropna()
    null_share = 1.0 - len(values) / n_rows if n_rows else 1.0
    missing = f" ({null_share:.0%} missing)" if null_share > 0 else ""

    def drop(reason: str) -> _Proposal:
        return _Proposal(FeatureHandling(name, "drop", reason=reason), leak_checkable=False)

    if values.empty:
        return drop("empty: every value is missing")
    if null_share > MAX_NULL_SHARE:
        return drop(f"nearly empty: {null_share:.1%} of the values are missing")
    if values.nunique() <= 1:
        return drop(f"constant: every value is {values.iloc[0]!r}")
    id_reason = looks_like_id(series)
    if id_reason:
        return drop(id_reason)

    kind = column_kind(series)
    if kind == "datetime":
        return _Proposal(
            FeatureHandling(
                name,
                "date",
                impute="median",
                reason=f"date: split into year, month, day, weekday, hour and the date as a number{missing}",
            ),
            leak_checkable=False,
        )
    if kind == "bool":
        return _Proposal(
            FeatureHandling(
                name,
                "categorical",
                impute="constant",
                encode="onehot",
                reason=f"yes/no values: one column per value{missing}",
            ),
            leak_checkable=True,
        )
    if kind == "number":
        return _Proposal(
            FeatureHandling(
                name,
                "numeric",
                impute="median",
                scale=True,
                reason=f"number: missing values filled with the median{missing}"
                if missing
                else "number: used as is (scaled for linear models)",
            ),
            leak_checkable=True,
        )
    # Strings and categoricals.
    sample = values.head(SAMPLE_ROWS)
    if not isinstance(series.dtype, pd.CategoricalDtype):
        if looks_like_dates(sample):
            return _Proposal(
                FeatureHandling(
                    name,
                    "date",
                    impute="median",
                    reason=f"dates written as text: split into year, month, day, weekday, hour and the date as a number{missing}",
                ),
                leak_checkable=False,
            )
        is_text, mean_length = _looks_like_text(sample)
        if is_text:
            return _Proposal(
                FeatureHandling(
                    name,
                    "text",
                    impute="constant",
                    reason=f"free text (about {mean_length:.0f} characters per value): "
                    "turned into word weights (TF-IDF)",
                ),
                leak_checkable=False,
            )
    levels = values.nunique()
    if levels <= MAX_ONEHOT_LEVELS:
        return _Proposal(
            FeatureHandling(
                name,
                "categorical",
                impute="constant",
                encode="onehot",
                reason=f"category with {levels} values: one column per value{missing}",
            ),
            leak_checkable=True,
        )
    return _Proposal(
        FeatureHandling(
            name,
            "categorical",
            impute="constant",
            encode="ordinal",
            reason=f"category with {levels} values: too many for one column each, coded as numbers{missing}",
        ),
        leak_checkable=True,
    )


def single_feature_score(x: pd.Series, y: pd.Series, task: Task, *, seed: int = 0) -> float | None:
    """How well one column alone predicts the target, on held-out rows.

    A shallow decision tree is fitted on half of the rows and scored on the other half (and the other way
    round): ROC AUC for classifiers (one-vs-rest macro for several classes), R² for regression (for a
    number, the squared rank correlation when higher: it catches a copy of the target in other units).
    Returns ``None`` when there are too few rows to tell.
    """
    from sklearn.metrics import r2_score, roc_auc_score  # type: ignore[import-untyped]
    from sklearn.model_selection import KFold, StratifiedKFold  # type: ignore[import-untyped]
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # type: ignore[import-untyped]

    mask = y.notna().to_numpy()
    if mask.sum() < 20:
        return None
    x = x[mask]
    y = y[mask]
    if len(x) > SAMPLE_ROWS:
        chosen = np.random.default_rng(seed).choice(len(x), SAMPLE_ROWS, replace=False)
        x = x.iloc[np.sort(chosen)]
        y = y.iloc[np.sort(chosen)]
    if column_kind(x) == "number":
        # Trees only care about order: ranks keep it and survive huge values and infinities.
        # Missing values rank below everything (rank 0).
        ranks = pd.to_numeric(x, errors="coerce").astype("float64").rank(method="min")
        codes = ranks.fillna(0.0).to_numpy(dtype="float64")
    else:
        codes = pd.Series(pd.factorize(x.astype(str).where(x.notna(), "\0missing"))[0]).to_numpy(
            dtype="float64"
        )
    features = codes.reshape(-1, 1)
    target = y.to_numpy()
    if task == "regression":
        numbers = pd.to_numeric(y, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if np.isnan(numbers).any() or np.std(numbers) == 0:
            return None  # a target that is not all numbers: check_training_data reports it
        predictions = np.empty(len(numbers))
        for train, test in KFold(2, shuffle=True, random_state=seed).split(features):
            tree = DecisionTreeRegressor(max_depth=8, min_samples_leaf=2, random_state=seed)
            tree.fit(features[train], numbers[train])
            predictions[test] = tree.predict(features[test])
        score = float(r2_score(numbers, predictions))
        if column_kind(x) == "number":
            # A tree is a staircase: it cannot reach R² 0.99 on a smooth copy of the target on a few
            # hundred rows, while the rank correlation of a copy (in other units) is exactly 1.
            rank = pd.Series(codes).corr(pd.Series(numbers), method="spearman")
            if pd.notna(rank):
                score = max(score, float(rank) ** 2)
        return score
    labels = pd.Series(target).astype(str).to_numpy()
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2 or counts.min() < 2:
        return None
    probabilities = np.zeros((len(labels), len(classes)))
    for train, test in StratifiedKFold(2, shuffle=True, random_state=seed).split(features, labels):
        tree = DecisionTreeClassifier(max_depth=6, min_samples_leaf=3, random_state=seed)
        tree.fit(features[train], labels[train])
        columns = np.searchsorted(classes, tree.classes_)
        probabilities[np.ix_(test, columns)] = tree.predict_proba(features[test])
    if len(classes) == 2:
        return float(roc_auc_score(labels == classes[1], probabilities[:, 1]))
    return float(roc_auc_score(labels, probabilities, multi_class="ovr", average="macro", labels=classes))


def propose_features(
    df: pd.DataFrame, target: str, task: Task | None = None, *, time_column: str | None = None
) -> tuple[Task, tuple[FeatureHandling, ...]]:
    """Propose the task and a handling for every column of ``df`` (the target included, as ``drop``).

    Args:
        df: The training table.
        target: The column to predict.
        task: The task, or ``None`` to infer it from the target (see :func:`infer_task`).
        time_column: The column that orders rows in time, if any: kept as date parts and never
            flagged as an identifier or a leak.

    Returns:
        The task and one :class:`FeatureHandling` per column, in the table's column order.

    Raises:
        ColumnNotFoundError: ``target`` or ``time_column`` is not a column of ``df``.
        TrainingDataError: The target is empty.
    """
    columns = [str(c) for c in df.columns]
    for role, name in (("target", target), ("time column", time_column)):
        if name is not None and name not in columns:
            raise ColumnNotFoundError(
                f"The {role} {name!r} is not a column of the table{did_you_mean(name, columns)}",
                column=name,
            )
    y = df[target]
    resolved: Task = task if task is not None else infer_task(y)
    n_rows = len(df)
    proposals: list[FeatureHandling] = []
    for name in columns:
        if name == target:
            proposals.append(FeatureHandling(name, "drop", reason="the target: what the model predicts"))
            continue
        series = df[name]
        if name == time_column:
            proposals.append(
                FeatureHandling(
                    name,
                    "date",
                    impute="median",
                    reason="the time column: orders the rows; its parts (year, month, weekday…) are features",
                )
                if column_kind(series) in ("datetime", "string")
                else FeatureHandling(
                    name,
                    "numeric",
                    impute="median",
                    scale=True,
                    reason="the time column (a number): orders the rows and is used as is",
                )
            )
            continue
        proposal = _propose_column(series, n_rows)
        handling = proposal.handling
        if proposal.leak_checkable:
            score = single_feature_score(series, y, resolved)
            if score is not None and score >= LEAK_THRESHOLD:
                measure = "R²" if resolved == "regression" else "AUC"
                handling = FeatureHandling(
                    name,
                    "drop",
                    reason=f"leaks the target: alone it scores {measure} {score:.3f}; "
                    "it is probably known only after the outcome",
                )
        proposals.append(handling)
    return resolved, tuple(proposals)
