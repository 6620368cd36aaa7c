"""The light part of realised value: its errors, periods and limits (no Arrow, DuckDB or SQLGlot,
so the pages and the API load it at start; :mod:`.value_compute` does the computing)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

__all__ = [
    "LABEL_COLUMN",
    "MAX_MEASUREMENT",
    "PERIODS",
    "PeriodValue",
    "RealisedValueError",
    "ValueFormulaError",
    "period_bounds",
    "period_of",
]

LABEL_COLUMN = "label"
PERIODS = ("day", "week", "month")
# ValueMeasurement.value is Decimal(16, 2): 14 digits before the point.
MAX_MEASUREMENT = Decimal("99999999999999.99")


class RealisedValueError(Exception):
    """A realised-value definition cannot be computed; the message says what and how to fix it.

    Attributes:
        code: a stable word for the API (``formula_invalid``, ``empty_log``…).
        field: the definition's field at fault (``row_filter``, ``value_per_row``…) or ``""``.
        details: structured facts (``position`` of a formula error…).
    """

    code = "value_error"

    def __init__(self, message: str, *, code: str = "", field: str = "", **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.details = details

    def __str__(self) -> str:
        return self.message


class ValueFormulaError(RealisedValueError):
    """A row filter or value-per-row formula that cannot be read (position and hint in the message)."""

    code = "formula_invalid"


@dataclass(frozen=True)
class PeriodValue:
    """The realised value of one period.

    Attributes:
        period_start: first day of the period.
        period_end: last day of the period (inclusive).
        value: the sum of the matching rows' values, rounded to cents.
        rows: how many rows matched the filter.
        total_rows: how many rows the log holds for the period.
        labelled_rows: how many of them had a feedback label.
    """

    period_start: date
    period_end: date
    value: Decimal
    rows: int
    total_rows: int
    labelled_rows: int


def period_of(day: date, period: str) -> date:
    """The first day of the ``period`` (``day``, ``week`` from Monday, ``month``) holding ``day``."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise RealisedValueError(
        f"unknown period {period!r}; use one of {', '.join(PERIODS)}", code="invalid_period"
    )


def period_bounds(day: date, period: str) -> tuple[date, date]:
    """``(first day, last day)`` (both included) of the ``period`` holding ``day``."""
    start = period_of(day, period)
    if period == "day":
        return start, start
    if period == "week":
        return start, start + timedelta(days=6)
    return start, start.replace(day=calendar.monthrange(start.year, start.month)[1])
