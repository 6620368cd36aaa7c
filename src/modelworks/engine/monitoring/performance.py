"""Model performance over time: calendar windows and the Lab's metrics in each of them.

:func:`windows` cuts a period into calendar days, ISO weeks (Monday first) or months, aligned to the
calendar so that two runs of a monitor compare the same windows. :func:`windowed_performance` scores
labelled predictions per window with :func:`modelworks.engine.automl.evaluation.evaluate`, so the
monitoring pages show exactly the metrics of the Lab.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from modelworks.engine.automl.errors import AutoMLError
from modelworks.engine.automl.evaluation import evaluate, json_safe
from modelworks.engine.automl.types import Task
from modelworks.engine.monitoring.errors import DriftInputError, WindowError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_WINDOWS", "WindowMetrics", "WindowSize", "windowed_performance", "windows"]

WindowSize = Literal["day", "week", "month"]
_SIZES: tuple[WindowSize, ...] = get_args(WindowSize)
#: More windows than this is a mistake (a day window over decades): refused with a message.
MAX_WINDOWS = 10_000


def windows(start: datetime, end: datetime, size: WindowSize) -> list[tuple[datetime, datetime]]:
    """The calendar windows ``[window_start, window_end)`` that overlap ``[start, end)``.

    The first window starts at the beginning of the day, week (Monday) or month holding ``start``, so
    windows are the same whatever ``start`` is; the last one is the one holding the instant just before
    ``end``. Times keep their time zone (or stay naive).

    Args:
        start: The beginning of the period.
        end: The end of the period (excluded).
        size: ``day``, ``week`` or ``month``.

    Returns:
        The windows in time order; empty when ``start == end``.

    Raises:
        WindowError: Unknown size, ``end`` before ``start``, a naive time mixed with an aware one, or
            more than :data:`MAX_WINDOWS` windows.
    """
    if size not in _SIZES:
        raise WindowError(f"Unknown window size {size!r}; choose 'day', 'week' or 'month'.", size=size)
    if (start.tzinfo is None) != (end.tzinfo is None):
        raise WindowError(
            "The start and end of the period must both have a time zone or both have none "
            f"(start {start.isoformat()}, end {end.isoformat()}).",
        )
    if end < start:
        raise WindowError(
            f"The period ends ({end.isoformat()}) before it starts ({start.isoformat()}); swap the two dates.",
        )
    result: list[tuple[datetime, datetime]] = []
    if end == start:
        return result
    current = _window_start(start, size)
    while current < end:
        following = _next_start(current, size)
        result.append((current, following))
        if len(result) > MAX_WINDOWS:
            raise WindowError(
                f"The period {start.isoformat()} to {end.isoformat()} holds more than {MAX_WINDOWS:,} "
                f"{size} windows; choose a larger window or a shorter period.",
            )
        current = following
    return result


def _window_start(moment: datetime, size: WindowSize) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if size == "week":
        return day - timedelta(days=day.weekday())
    if size == "month":
        return day.replace(day=1)
    return day


def _next_start(moment: datetime, size: WindowSize) -> datetime:
    if size == "day":
        return moment + timedelta(days=1)
    if size == "week":
        return moment + timedelta(days=7)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=1)


@dataclass(frozen=True)
class WindowMetrics:
    """The performance of a model in one time window.

    Attributes:
        start: The window's start (included).
        end: The window's end (excluded).
        rows: Labelled rows in the window.
        metrics: Metric name → value (the Lab's metrics for the task); empty when ``rows`` is 0.
        omitted: Metric name → why it could not be computed in this window (e.g. a single class).
        message: Why there are no metrics at all (no labelled row, predictions that cannot be scored).
    """

    start: datetime
    end: datetime
    rows: int
    metrics: dict[str, float] = field(default_factory=dict)
    omitted: dict[str, str] = field(default_factory=dict)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "rows": self.rows,
            "metrics": json_safe(self.metrics),
            "omitted": dict(self.omitted),
            "message": self.message,
        }


def windowed_performance(
    frame: pd.DataFrame,
    task: Task,
    classes: Sequence[Any] | None,
    *,
    window: WindowSize,
    start: datetime | None = None,
    end: datetime | None = None,
    proba_columns: Sequence[str] | None = None,
) -> list[WindowMetrics]:
    """The Lab's metrics of labelled predictions, window by window.

    Args:
        frame: Columns ``y_true`` (rows without a label are left out), ``y_pred``, ``ts`` (timestamps),
            and for classifiers optionally one probability column per class.
        task: ``binary``, ``multiclass`` or ``regression``.
        classes: Classifiers: the class labels in probability order (binary: the positive class last).
        window: ``day``, ``week`` or ``month``.
        start: The period's start; default: the earliest ``ts``.
        end: The period's end (excluded); default: just after the latest ``ts``.
        proba_columns: The probability columns in the order of ``classes``; default ``proba_<class>``
            for each class when all exist (else metrics that need probabilities are omitted).

    Returns:
        One :class:`WindowMetrics` per window of the period, empty windows included (``rows=0`` and a
        message), so a chart shows the gaps.

    Raises:
        DriftInputError: A required column is missing or ``ts`` is not a timestamp.
        WindowError: See :func:`windows`.
    """
    for column in ("y_true", "y_pred", "ts"):
        if column not in frame.columns:
            raise DriftInputError(
                f"The labelled predictions have no {column!r} column; give y_true, y_pred and ts.",
                column=column,
            )
    labelled = frame[frame["y_true"].notna()]
    stamps = _timestamps(labelled["ts"])
    if start is None or end is None:
        if not len(stamps):
            return []
        first, last = stamps.min().to_pydatetime(), stamps.max().to_pydatetime()
        start = first if start is None else start
        end = last + timedelta(microseconds=1) if end is None else end
    periods = windows(start, end, window)
    probabilities = _probability_columns(labelled, classes, proba_columns)
    positions = (
        stamps.to_numpy(dtype="datetime64[ns]") if len(stamps) else np.empty(0, dtype="datetime64[ns]")
    )
    order = np.argsort(positions, kind="stable")
    sorted_stamps = positions[order]
    results = []
    for window_start, window_end in periods:
        low = np.searchsorted(sorted_stamps, _as_utc64(window_start, stamps), "left")
        high = np.searchsorted(sorted_stamps, _as_utc64(window_end, stamps), "left")
        rows = labelled.iloc[order[low:high]]
        results.append(_window_metrics(window_start, window_end, rows, task, classes, probabilities))
    return results


def _timestamps(values: pd.Series) -> pd.Series:
    import pandas as pd

    try:
        stamps = pd.to_datetime(values)
    except (ValueError, TypeError) as exc:
        raise DriftInputError(f"Column 'ts' must hold timestamps ({exc}).", column="ts") from exc
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC")
    return stamps


def _as_utc64(moment: datetime, stamps: pd.Series) -> np.datetime64:
    import pandas as pd

    value = pd.Timestamp(moment)
    aware_stamps = getattr(stamps.dt, "tz", None) is not None if len(stamps) else value.tzinfo is not None
    if (value.tzinfo is not None) != aware_stamps:
        raise WindowError(
            "The window times and the 'ts' column must both have a time zone or both have none "
            f"(window {moment.isoformat()}).",
        )
    if value.tzinfo is not None:
        value = value.tz_convert("UTC").tz_localize(None)
    return np.datetime64(int(value.value), "ns")


def _probability_columns(
    frame: pd.DataFrame, classes: Sequence[Any] | None, proba_columns: Sequence[str] | None
) -> list[str] | None:
    if proba_columns is not None:
        missing = [name for name in proba_columns if name not in frame.columns]
        if missing:
            raise DriftInputError(f"Probability columns {missing} are not in the labelled predictions.")
        return list(proba_columns)
    if not classes:
        return None
    names = [f"proba_{label}" for label in classes]
    return names if all(name in frame.columns for name in names) else None


def _window_metrics(
    start: datetime,
    end: datetime,
    rows: pd.DataFrame,
    task: Task,
    classes: Sequence[Any] | None,
    probabilities: list[str] | None,
) -> WindowMetrics:
    if rows.empty:
        return WindowMetrics(start, end, 0, message="No labelled prediction in this window.")
    y_proba = rows[probabilities].to_numpy(dtype=float) if probabilities else None
    y_pred = rows["y_pred"].to_numpy()
    y_true = rows["y_true"].to_numpy()
    if task != "regression":
        y_true, y_pred = y_true.astype(str), y_pred.astype(str)
    try:
        evaluation = evaluate(task, y_true, y_pred, y_proba, [str(c) for c in classes] if classes else None)
    except AutoMLError as exc:
        return WindowMetrics(start, end, len(rows), message=f"The predictions could not be scored: {exc}")
    metrics = {
        name: float(value) for name, value in evaluation.metrics.items() if json_safe(value) is not None
    }
    return WindowMetrics(start, end, len(rows), metrics, dict(evaluation.omitted))
