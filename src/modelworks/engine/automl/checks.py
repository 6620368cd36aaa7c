"""Warnings that save users: problems in the training data found before any model is fitted.

:func:`check_training_data` returns :class:`LabWarning` s, each saying what is wrong (``message``) and
what to do (``hint``). ``error`` severity blocks training: ``run_search`` refuses to start and raises a
:class:`TrainingDataError` carrying them. (The module is called ``checks`` rather than ``warnings``
so that it never shadows the standard library's ``warnings``.)
"""

from __future__ import annotations

import pandas as pd

from modelworks.engine.automl.features import (
    LEAK_THRESHOLD,
    column_kind,
    looks_like_dates,
    looks_like_id,
    single_feature_score,
)
from modelworks.engine.automl.types import LabWarning, Severity, TrainingSpec
from modelworks.engine.errors import did_you_mean

__all__ = ["MIN_ROWS", "RECOMMENDED_ROWS", "check_training_data", "time_like_columns"]

#: Fewer rows (with a target) than this cannot train anything meaningful.
MIN_ROWS = 10
#: Below this many rows results are fragile: warn.
RECOMMENDED_ROWS = 100
#: Classification targets with more classes than this are probably numbers or identifiers.
MAX_REASONABLE_CLASSES = 100


def _warning(code: str, severity: Severity, message: str, hint: str, column: str | None = None) -> LabWarning:
    return LabWarning(code=code, severity=severity, message=message, column=column, hint=hint)


def time_like_columns(df: pd.DataFrame) -> list[str]:
    """Columns that hold dates or timestamps (as datetime values or ISO text)."""
    found: list[str] = []
    for name in df.columns:
        series = df[name]
        kind = column_kind(series)
        if kind == "datetime" or (
            kind == "string"
            and not isinstance(series.dtype, pd.CategoricalDtype)
            and looks_like_dates(series.dropna().head(200))
        ):
            found.append(str(name))
    return found


def check_training_data(df: pd.DataFrame, spec: TrainingSpec) -> tuple[LabWarning, ...]:
    """Check ``df`` against ``spec`` before training.

    Args:
        df: The training table.
        spec: What to train.

    Returns:
        The findings, blocking errors first. Codes: ``column_not_found``, ``target_empty``,
        ``target_missing_values``, ``single_class``, ``not_binary``, ``target_not_numeric``,
        ``too_many_classes``, ``class_too_rare``, ``class_rarer_than_folds``, ``too_few_rows``,
        ``few_rows``, ``no_features``, ``more_columns_than_rows``, ``leaking_feature``,
        ``id_like_feature``, ``time_column_random_split``, ``time_column_missing_values``,
        ``time_column_unreadable``, ``small_holdout``.
    """
    found: list[LabWarning] = []
    columns = [str(c) for c in df.columns]
    validation = spec.validation

    missing = [
        (role, name)
        for role, name in [("target", spec.target), ("time column", validation.time_column)]
        + [("feature", f.column) for f in spec.used_features]
        if name is not None and name not in columns
    ]
    for role, name in missing:
        found.append(
            _warning(
                "column_not_found",
                "error",
                f"The {role} {name!r} is not a column of the table{did_you_mean(name, columns)}",
                "Pick a column of this dataset; columns may have been renamed in a newer version.",
                name,
            )
        )
    if spec.target not in columns:
        return tuple(found)

    y = df[spec.target]
    labelled = int(y.notna().sum())
    if labelled == 0:
        found.append(
            _warning(
                "target_empty",
                "error",
                f"The target {spec.target!r} is empty: every value is missing, so there is nothing to learn.",
                "Pick the column that holds the outcome, or load a version of the data where it is filled.",
                spec.target,
            )
        )
        return tuple(found)
    if labelled < len(df):
        found.append(
            _warning(
                "target_missing_values",
                "info",
                f"{len(df) - labelled} of {len(df)} rows have no value in the target {spec.target!r}; "
                "they are left out of training.",
                "If those rows are the ones you want predictions for, score them with the trained model.",
                spec.target,
            )
        )

    found.extend(_target_checks(y.dropna(), spec))
    found.extend(_size_checks(df, spec, labelled))
    found.extend(_feature_checks(df, spec))
    found.extend(_time_checks(df, spec))
    order = {"error": 0, "warning": 1, "info": 2}
    return tuple(sorted(found, key=lambda w: order[w.severity]))


def _target_checks(y: pd.Series, spec: TrainingSpec) -> list[LabWarning]:
    found: list[LabWarning] = []
    target = spec.target
    if spec.task == "regression":
        numbers = pd.to_numeric(y, errors="coerce") if column_kind(y) != "bool" else y.astype(float)
        unreadable = int(numbers.isna().sum())
        if unreadable:
            example = y[numbers.isna()].iloc[0]
            found.append(
                _warning(
                    "target_not_numeric",
                    "error",
                    f"Regression predicts a number, but {unreadable} values of the target {target!r} are not "
                    f"numbers (for example {example!r}).",
                    "Choose binary or multiclass classification for labels, or clean the column with a recipe.",
                    target,
                )
            )
        elif numbers.nunique() <= 1:
            found.append(
                _warning(
                    "single_class",
                    "error",
                    f"The target {target!r} always has the same value ({numbers.iloc[0]!r}): "
                    "there is nothing to predict.",
                    "Pick another target, or a version of the data with varied outcomes.",
                    target,
                )
            )
        return found

    counts = y.astype(str).value_counts()
    if len(counts) < 2:
        found.append(
            _warning(
                "single_class",
                "error",
                f"The target {target!r} has a single class ({counts.index[0]!r}): a model needs examples of "
                "at least two outcomes to learn the difference.",
                "Add rows with the other outcome(s), or pick another target.",
                target,
            )
        )
        return found
    if spec.task == "binary" and len(counts) > 2:
        found.append(
            _warning(
                "not_binary",
                "error",
                f"Binary classification needs exactly two classes, but the target {target!r} has "
                f"{len(counts)} ({', '.join(repr(c) for c in counts.index[:5])}…).",
                "Choose multiclass classification, or group the classes into two with a recipe.",
                target,
            )
        )
    if len(counts) > MAX_REASONABLE_CLASSES:
        found.append(
            _warning(
                "too_many_classes",
                "warning",
                f"The target {target!r} has {len(counts)} distinct classes; with so many, each class has "
                "few examples and the model will be weak.",
                "If the target is a quantity, choose regression; otherwise group rare classes together.",
                target,
            )
        )
    folds = spec.validation.folds
    for label, count in counts.items():
        if count < 2:
            found.append(
                _warning(
                    "class_too_rare",
                    "error",
                    f"The class {label!r} of {target!r} has a single row: it cannot appear in both the "
                    "training and the validation rows.",
                    "Remove that row, merge the class with a similar one, or collect more examples of it.",
                    target,
                )
            )
        elif count < folds:
            found.append(
                _warning(
                    "class_rarer_than_folds",
                    "warning",
                    f"The class {label!r} of {target!r} has {count} rows, fewer than the {folds} validation "
                    f"folds; training will use {max(2, int(counts.min()))} folds instead.",
                    f"Use fewer folds (at most {count}), or collect more examples of {label!r}.",
                    target,
                )
            )
    return found


def _size_checks(df: pd.DataFrame, spec: TrainingSpec, labelled: int) -> list[LabWarning]:
    found: list[LabWarning] = []
    minimum = max(MIN_ROWS, 2 * spec.validation.folds)
    if labelled < minimum:
        found.append(
            _warning(
                "too_few_rows",
                "error",
                f"Only {labelled} rows have a target value; at least {minimum} are needed to train and "
                "validate a model.",
                "Load more rows, or use fewer validation folds.",
            )
        )
    elif labelled < RECOMMENDED_ROWS:
        found.append(
            _warning(
                "few_rows",
                "warning",
                f"Only {labelled} rows have a target value: the scores will vary a lot from one sample to "
                "another and the model may not generalise.",
                "Collect more rows if you can; meanwhile prefer simple models (linear) and read the scores "
                "with caution.",
            )
        )
    used = [f for f in spec.used_features if f.column in df.columns]
    if not used:
        found.append(
            _warning(
                "no_features",
                "error",
                "No column is left to learn from: every feature is dropped.",
                "Keep at least one column (set its handling to something other than 'drop').",
            )
        )
    elif len(used) > labelled:
        found.append(
            _warning(
                "more_columns_than_rows",
                "warning",
                f"There are more feature columns ({len(used)}) than rows with a target ({labelled}): the model "
                "can memorise the rows instead of learning a rule.",
                "Drop columns that cannot matter, or collect more rows; linear models with strong "
                "regularisation cope best.",
            )
        )
    holdout_rows = int(labelled * spec.validation.holdout_fraction)
    if 0 < spec.validation.holdout_fraction and holdout_rows < 20 and labelled >= minimum:
        found.append(
            _warning(
                "small_holdout",
                "info",
                f"The holdout keeps only {holdout_rows} rows aside: its scores will be imprecise.",
                "Read the cross-validated scores of the leaderboard first; they use every training row.",
            )
        )
    return found


def _feature_checks(df: pd.DataFrame, spec: TrainingSpec) -> list[LabWarning]:
    found: list[LabWarning] = []
    y = df[spec.target]
    for feature in spec.used_features:
        if feature.column not in df.columns or feature.column == spec.validation.time_column:
            continue
        series = df[feature.column]
        if feature.kind in ("numeric", "categorical"):
            id_reason = looks_like_id(series)
            if id_reason:
                found.append(
                    _warning(
                        "id_like_feature",
                        "warning",
                        f"The column {feature.column!r} {id_reason}. An identifier says nothing about the "
                        "outcome; a model may memorise it and fail on new rows.",
                        f"Drop {feature.column!r} from the features.",
                        feature.column,
                    )
                )
                continue
            if spec.task == "regression" and column_kind(y) not in ("number", "bool"):
                continue
            score = single_feature_score(series, y, spec.task, seed=spec.seed)
            if score is not None and score >= LEAK_THRESHOLD:
                measure = "R²" if spec.task == "regression" else "AUC"
                found.append(
                    _warning(
                        "leaking_feature",
                        "warning",
                        f"The column {feature.column!r} alone predicts the target almost perfectly "
                        f"({measure} {score:.3f}). It is probably filled in after the outcome is known "
                        "(a leak): the model will look excellent here and fail in real use.",
                        f"Drop {feature.column!r} unless you are sure it is known at prediction time.",
                        feature.column,
                    )
                )
    return found


def _time_checks(df: pd.DataFrame, spec: TrainingSpec) -> list[LabWarning]:
    found: list[LabWarning] = []
    validation = spec.validation
    if validation.kind == "kfold":
        candidates = [c for c in time_like_columns(df) if c != spec.target]
        if candidates:
            found.append(
                _warning(
                    "time_column_random_split",
                    "warning",
                    f"The table has a time column ({candidates[0]!r}) but validation mixes rows at random: "
                    "the model is scored on past rows after learning from future ones, so the scores are "
                    "too optimistic if you will predict the future.",
                    f"Choose time-based validation with {candidates[0]!r} as the time column.",
                    candidates[0],
                )
            )
        return found
    name = validation.time_column
    if name is None or name not in df.columns:
        return found
    series = df[name]
    kind = column_kind(series)
    if kind == "number":
        parsed_ok = pd.to_numeric(series, errors="coerce").notna()
    elif kind == "datetime":
        parsed_ok = series.notna()
    else:
        parsed_ok = pd.to_datetime(
            series.astype(object).where(series.notna(), None), errors="coerce", format="ISO8601", utc=True
        ).notna()
    present = series.notna()
    unreadable = int((present & ~parsed_ok).sum())
    if unreadable:
        example = series[present & ~parsed_ok].iloc[0]
        found.append(
            _warning(
                "time_column_unreadable",
                "error",
                f"{unreadable} values of the time column {name!r} are not dates or numbers "
                f"(for example {example!r}), so rows cannot be put in time order.",
                "Pick a column of dates (ISO text like 2024-03-01 works), or convert it with a recipe.",
                name,
            )
        )
    missing = int((~present).sum())
    if missing:
        found.append(
            _warning(
                "time_column_missing_values",
                "warning",
                f"{missing} rows have no value in the time column {name!r}; they cannot be placed in time "
                "and are left out of training.",
                "Fill the missing times with a recipe if those rows matter.",
                name,
            )
        )
    return found
