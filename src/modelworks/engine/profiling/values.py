"""Conversions between statistics as DuckDB returns them and numbers on one axis (for histograms)."""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["as_int", "as_number", "from_epoch_us"]


def as_number(value: Any) -> float | None:
    """A statistic as a float (dates and timestamps as microseconds since 1970), or None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        # Stored timestamps are UTC wall-clock time: never let the server's time zone shift them.
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.timestamp() * 1_000_000
    if isinstance(value, dt.date):
        return float((value - dt.date(1970, 1, 1)).days * 86_400_000_000)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def as_int(value: Any) -> int | None:
    """A statistic as an int, or None."""
    return int(value) if value is not None else None


def from_epoch_us(logical: str) -> Any:
    """A converter from microseconds since 1970 back to a datetime (or a date for date columns)."""
    epoch = dt.datetime(1970, 1, 1)

    def convert(micros: float) -> Any:
        moment = epoch + dt.timedelta(microseconds=micros)
        return moment.date() if logical == "date" and moment.time() == dt.time(0) else moment

    return convert
