"""The rows a search works on: the training table prepared (rows without a target or time left out,
times parsed) and :func:`split_rows`, the holdout and validation folds (stratified K-fold, or
expanding windows over time) as a :class:`Split`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelworks.engine.automl.features import column_kind
from modelworks.engine.automl.types import TrainingSpec


@dataclass(frozen=True)
class Split:
    """Row positions of the prepared table: the training part, its folds and the holdout."""

    train: np.ndarray[Any, np.dtype[np.intp]]
    holdout: np.ndarray[Any, np.dtype[np.intp]]
    #: (fit, validate) positions, both inside ``train`` (positions in the whole table).
    folds: tuple[tuple[np.ndarray[Any, np.dtype[np.intp]], np.ndarray[Any, np.dtype[np.intp]]], ...]


def _prepare_rows(
    df: pd.DataFrame, spec: TrainingSpec
) -> tuple[pd.DataFrame, np.ndarray[Any, Any], pd.Series | None]:
    """The feature columns, the target and (time split) the parsed times, for rows that can be used."""
    keep = df[spec.target].notna()
    times: pd.Series | None = None
    time_column = spec.validation.time_column if spec.validation.kind == "time" else None
    if time_column is not None:
        times = _parse_times(df[time_column])
        keep &= times.notna()
    used = [f.column for f in spec.used_features]
    X = df.loc[keep, used].reset_index(drop=True)
    target = df.loc[keep, spec.target].reset_index(drop=True)
    if spec.task == "regression":
        y = pd.to_numeric(target, errors="coerce").astype("float64").to_numpy()
    elif column_kind(target) == "string":
        y = target.astype(str).to_numpy(dtype=object)
    else:
        y = target.to_numpy()
    if times is not None:
        times = times[keep].reset_index(drop=True)
    return X, y, times


def _parse_times(series: pd.Series) -> pd.Series:
    kind = column_kind(series)
    if kind == "datetime":
        return series
    if kind == "number":
        return pd.to_numeric(series, errors="coerce")
    return pd.to_datetime(
        series.astype(object).where(series.notna(), None), errors="coerce", format="ISO8601", utc=True
    )


def split_rows(y: np.ndarray[Any, Any], spec: TrainingSpec, times: pd.Series | None = None) -> Split:
    """Cut the rows into a training part (with its validation folds) and a holdout.

    Args:
        y: The target of every usable row.
        spec: Gives the task, the validation and the seed.
        times: For time-based validation: the time of each row.

    Returns:
        Positions into ``y``: see :class:`Split`.
    """
    from sklearn.model_selection import (  # type: ignore[import-untyped]
        KFold,
        StratifiedKFold,
        TimeSeriesSplit,
        train_test_split,
    )

    n = len(y)
    validation = spec.validation
    positions = np.arange(n)
    holdout_size = math.floor(n * validation.holdout_fraction)
    classify = spec.task != "regression"
    if validation.kind == "time":
        assert times is not None
        order = np.argsort(times.to_numpy(), kind="stable")
        train, holdout = order[: n - holdout_size], order[n - holdout_size :]
        splits = min(validation.folds, max(2, len(train) // 4))
        folds = tuple(
            (train[fit], train[check]) for fit, check in TimeSeriesSplit(n_splits=splits).split(train)
        )
        return Split(train=train, holdout=holdout, folds=folds)
    labels = np.asarray([str(v) for v in y]) if classify else None
    if holdout_size > 0:
        stratify = labels if labels is not None and _min_count(labels) >= 2 else None
        train, holdout = train_test_split(
            positions, test_size=holdout_size, random_state=spec.seed, shuffle=True, stratify=stratify
        )
        train, holdout = np.sort(train), np.sort(holdout)
    else:
        train, holdout = positions, positions[:0]
    if classify:
        assert labels is not None
        splits = max(2, min(validation.folds, _min_count(labels[train])))
        splitter: Any = StratifiedKFold(n_splits=splits, shuffle=True, random_state=spec.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pairs = list(splitter.split(train, labels[train]))
    else:
        splitter = KFold(n_splits=min(validation.folds, len(train)), shuffle=True, random_state=spec.seed)
        pairs = list(splitter.split(train))
    folds = tuple((train[fit], train[check]) for fit, check in pairs)
    return Split(train=train, holdout=holdout, folds=folds)


def _min_count(labels: np.ndarray[Any, Any]) -> int:
    _, counts = np.unique(labels, return_counts=True)
    return int(counts.min()) if len(counts) else 0
